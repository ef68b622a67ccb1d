// Noise: see noise.py. Parameters at P[o..o+19]: translate(2) size z octaves lacunarity
// gain seed type color0(4) color1(4) width height.

// The PCG-style lattice hash; u32 arithmetic wraps at 2^32 as the CPU kernel's masks do.
fn noise_hash(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// A corner's contribution at offset f from it: value (kind 1) or gradient noise.
fn noise_corner(h: u32, f: vec3<f32>, kind: u32) -> f32 {
    if (kind == 1u) {
        return f32(h >> 8u) * (2.0 / 16777215.0) - 1.0;
    }
    let g = h % 12u;
    let pair = g >> 2u;
    let a = select(f.x, f.y, pair == 2u);
    let b = select(f.z, f.y, pair == 0u);
    return select(a, -a, (g & 1u) != 0u) + select(b, -b, (g & 2u) != 0u);
}

fn noise_fade(t: vec3<f32>) -> vec3<f32> {
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0);
}

// One octave of 3D noise at q with the octave's seed.
fn noise_octave(q: vec3<f32>, seed: u32, kind: u32) -> f32 {
    let cell = floor(q);
    let f = q - cell;
    let i = bitcast<vec3<u32>>(vec3<i32>(cell));
    let w = noise_fade(f);
    let s = noise_hash(seed);
    let hz0 = noise_hash(s + i.z);
    let hz1 = noise_hash(s + i.z + 1u);
    let h00 = noise_hash(hz0 + i.y);
    let h01 = noise_hash(hz0 + i.y + 1u);
    let h10 = noise_hash(hz1 + i.y);
    let h11 = noise_hash(hz1 + i.y + 1u);
    let e = vec3<f32>(1.0, 0.0, 0.0);
    let a = mix(
        noise_corner(noise_hash(h00 + i.x), f, kind),
        noise_corner(noise_hash(h00 + i.x + 1u), f - e, kind),
        w.x,
    );
    let b = mix(
        noise_corner(noise_hash(h01 + i.x), f - vec3<f32>(0.0, 1.0, 0.0), kind),
        noise_corner(noise_hash(h01 + i.x + 1u), f - vec3<f32>(1.0, 1.0, 0.0), kind),
        w.x,
    );
    let c = mix(
        noise_corner(noise_hash(h10 + i.x), f - vec3<f32>(0.0, 0.0, 1.0), kind),
        noise_corner(noise_hash(h10 + i.x + 1u), f - vec3<f32>(1.0, 0.0, 1.0), kind),
        w.x,
    );
    let d = mix(
        noise_corner(noise_hash(h11 + i.x), f - vec3<f32>(0.0, 1.0, 1.0), kind),
        noise_corner(noise_hash(h11 + i.x + 1u), f - vec3<f32>(1.0, 1.0, 1.0), kind),
        w.x,
    );
    return mix(mix(a, b, w.y), mix(c, d, w.y), w.z);
}

fn noise_source(x: i32, y: i32, o: u32) -> vec4<f32> {
    if (x < 0 || y < 0 || f32(x) >= P[o + 17u] || f32(y) >= P[o + 18u]) {
        return vec4<f32>(0.0);
    }
    let size = P[o + 2u];
    let p = vec3<f32>(
        (f32(x) + 0.5 - P[o + 0u]) / size,
        (f32(y) + 0.5 - P[o + 1u]) / size,
        P[o + 3u],
    );
    let octaves = u32(P[o + 4u]);
    let lacunarity = P[o + 5u];
    let gain = P[o + 6u];
    let seed = u32(P[o + 7u]);
    let kind = u32(P[o + 8u]);
    var total = 0.0;
    var norm = 0.0;
    var freq = 1.0;
    var amplitude = 1.0;
    for (var k = 0u; k < octaves; k = k + 1u) {
        total = total + amplitude * noise_octave(p * freq, seed + k, kind);
        norm = norm + amplitude;
        amplitude = amplitude * gain;
        freq = freq * lacunarity;
    }
    let n = clamp(0.5 + 0.5 * total / norm, 0.0, 1.0);
    let c0 = vec4<f32>(P[o + 9u], P[o + 10u], P[o + 11u], P[o + 12u]);
    let c1 = vec4<f32>(P[o + 13u], P[o + 14u], P[o + 15u], P[o + 16u]);
    return c0 + (c1 - c0) * n;
}
