// Roto: see roto.py. The same geometry block as the CPU kernel at P[o..]: a header of 8
// (shapes, output component, premultiply, format width, height, 3 unused), 12 per shape
// (reach box x0 y0 x1 y1, first vertex (an index into the block), vertices, opacity,
// invert, blend, linear falloff, feathered, 0), then 3 per polyline vertex (x, y, feather).
// Global the GPU backend declares: SRC (array<vec4<f32>>, read: the Source's tile).

struct RotoTile {
    src_x0: i32, src_y0: i32, src_w: i32, src_h: i32,  // Source tile: image origin, size
}

fn roto_src_pixel(t: RotoTile, x: i32, y: i32) -> vec4<f32> {
    let sx = x - t.src_x0;
    let sy = y - t.src_y0;
    if (sx < 0 || sy < 0 || sx >= t.src_w || sy >= t.src_h) {
        return vec4<f32>(0.0);
    }
    return SRC[u32(sy * t.src_w + sx)];
}

// The integral of clamp(1 - s, 0, 1) for s from 0 to u.
fn roto_ramp_integral(u: f32) -> f32 {
    if (u <= 0.0) {
        return u;
    }
    if (u >= 1.0) {
        return 0.5;
    }
    return u - 0.5 * u * u;
}

// The mean of clamp(1 - u, 0, 1) as u runs linearly from u0 to u1.
fn roto_ramp_mean(u0: f32, u1: f32) -> f32 {
    if (abs(u1 - u0) < 1e-3) {
        return clamp(1.0 - 0.5 * (u0 + u1), 0.0, 1.0);
    }
    return (roto_ramp_integral(u1) - roto_ramp_integral(u0)) / (u1 - u0);
}

// The signed area the edge from vertex a to b sweeps over the pixel to its right.
fn roto_edge_area(a: u32, b: u32, px: f32, py: f32) -> f32 {
    let ax = P[a];
    let ay = P[a + 1u];
    let bx = P[b];
    let by = P[b + 1u];
    let y0 = max(min(ay, by), py);
    let y1 = min(max(ay, by), py + 1.0);
    if (y1 <= y0 || min(ax, bx) >= px + 1.0) {
        return 0.0;
    }
    let sign = select(-1.0, 1.0, by > ay);
    if (max(ax, bx) <= px) {
        return sign * (y1 - y0);
    }
    let slope = (bx - ax) / (by - ay);
    let u0 = ax + (y0 - ay) * slope - px;
    let u1 = ax + (y1 - ay) * slope - px;
    return sign * (y1 - y0) * roto_ramp_mean(u0, u1);
}

// Distance from c to the edge from vertex a to b, and the feather at its nearest point.
fn roto_edge_feather(a: u32, b: u32, c: vec2<f32>) -> vec2<f32> {
    let p = vec2<f32>(P[a], P[a + 1u]);
    let fa = P[a + 2u];
    let e = vec2<f32>(P[b], P[b + 1u]) - p;
    let length2 = dot(e, e);
    var u = 0.0;
    if (length2 > 0.0) {
        u = clamp(dot(c - p, e) / length2, 0.0, 1.0);
    }
    let d = c - (p + u * e);
    return vec2<f32>(sqrt(dot(d, d)), fa + (P[b + 2u] - fa) * u);
}

fn roto_falloff(w: f32, linear: f32) -> f32 {
    if (linear > 0.5) {
        return w;
    }
    return w * w * (3.0 - 2.0 * w);
}

// The value of the shape whose record is at P[s] over the pixel at (px, py).
fn roto_shape_value(s: u32, base: u32, px: f32, py: f32) -> f32 {
    let start = base + u32(P[s + 4u]);
    let count = u32(P[s + 5u]);
    let feathered = P[s + 10u] > 0.5;
    let c = vec2<f32>(px + 0.5, py + 0.5);
    var area = 0.0;
    var out_d = 1.0;
    var in_d = 1.0;
    for (var k = 0u; k < count; k++) {
        let a = start + 3u * k;
        let b = start + 3u * ((k + 1u) % count);
        let reach = max(abs(P[a + 2u]), abs(P[b + 2u]));
        if (min(P[a + 1u], P[b + 1u]) - reach >= py + 1.0 || max(P[a + 1u], P[b + 1u]) + reach <= py) {
            continue;  // the CPU kernel leaves these edges out too
        }
        area += roto_edge_area(a, b, px, py);
        if (feathered && min(P[a], P[b]) - reach < c.x && max(P[a], P[b]) + reach > c.x) {
            let df = roto_edge_feather(a, b, c);
            if (df.y > 0.0) {
                out_d = min(out_d, df.x / df.y);
            } else if (df.y < 0.0) {
                in_d = min(in_d, -df.x / df.y);
            }
        }
    }
    let cover = min(abs(area), 1.0);
    let linear = P[s + 9u];
    var w_out = 0.0;
    if (out_d < 1.0) {
        w_out = roto_falloff(1.0 - out_d, linear);
    }
    var w_in = 1.0;
    if (in_d < 1.0) {
        w_in = roto_falloff(in_d, linear);
    }
    return cover * w_in + (1.0 - cover) * w_out;
}

fn roto_blend(acc: f32, v: f32, mode: f32) -> f32 {
    if (mode < 0.5) {
        return v + acc * (1.0 - v);
    }
    if (mode < 1.5) {
        return min(1.0, acc + v);
    }
    return max(0.0, acc - v);
}

fn roto_pixel(t: RotoTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    let shapes = u32(P[o]);
    let component = u32(P[o + 1u]);
    let premultiply = P[o + 2u] > 0.5;
    let px = f32(x);
    let py = f32(y);
    var acc = 0.0;
    for (var n = 0u; n < shapes; n++) {
        let s = o + 8u + 12u * n;
        var v = 0.0;
        if (P[s] < px + 1.0 && P[s + 2u] > px && P[s + 1u] < py + 1.0 && P[s + 3u] > py) {
            v = roto_shape_value(s, o, px, py);
        }
        if (P[s + 7u] > 0.5) {  // inverted: within the format only
            let inside = px >= 0.0 && py >= 0.0 && px < P[o + 3u] && py < P[o + 4u];
            v = select(0.0, 1.0 - v, inside);
        }
        acc = roto_blend(acc, v * P[s + 6u], P[s + 8u]);
    }
    var out = roto_src_pixel(t, x, y);
    for (var c = 0u; c < 4u; c++) {
        if (c == component) {
            out[c] = acc;
        } else if (premultiply && c < 3u) {
            out[c] = out[c] * acc;
        }
    }
    return out;
}
