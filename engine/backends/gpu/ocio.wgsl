// WGSL pieces of OCIO programs (engine/backends/gpu/ocio_shader.py).
// Each section is a string.Template: ${prefix} is the program's name prefix, so that
// several OCIO programs can share one shader module.

//! section sampling
// OCIO's LUT textures live in ${prefix}_data (array<f32>). These functions do what GL's
// texture() does with CLAMP_TO_EDGE and NEAREST or LINEAR filtering, but with exact f32
// weights (hardware filtering rounds them to 8 bits). A texel is 1 (red) or 3 (RGB) floats;
// the result is (r, 0, 0, 1) or (r, g, b, 1), like a GL_RED or GL_RGB texture.
fn ${prefix}_texel(base: i32, index: i32, channels: i32) -> vec4<f32> {
    let i = base + index * channels;
    if (channels == 1) {
        return vec4<f32>(${prefix}_data[i], 0.0, 0.0, 1.0);
    }
    return vec4<f32>(${prefix}_data[i], ${prefix}_data[i + 1], ${prefix}_data[i + 2], 1.0);
}

fn ${prefix}_tex1d(base: i32, width: i32, channels: i32, linear: bool, u: f32) -> vec4<f32> {
    if (!linear) {
        let i = clamp(i32(floor(u * f32(width))), 0, width - 1);
        return ${prefix}_texel(base, i, channels);
    }
    let x = u * f32(width) - 0.5;
    let x0 = floor(x);
    let i0 = clamp(i32(x0), 0, width - 1);
    let i1 = clamp(i32(x0) + 1, 0, width - 1);
    let lo = ${prefix}_texel(base, i0, channels);
    let hi = ${prefix}_texel(base, i1, channels);
    return mix(lo, hi, x - x0);
}

fn ${prefix}_tex2d(
    base: i32, width: i32, height: i32, channels: i32, linear: bool, uv: vec2<f32>
) -> vec4<f32> {
    let size = vec2<i32>(width, height);
    if (!linear) {
        let p = clamp(vec2<i32>(floor(uv * vec2<f32>(size))), vec2<i32>(0), size - 1);
        return ${prefix}_texel(base, p.y * width + p.x, channels);
    }
    let p = uv * vec2<f32>(size) - 0.5;
    let p0 = floor(p);
    let t = p - p0;
    let lo = clamp(vec2<i32>(p0), vec2<i32>(0), size - 1);
    let hi = clamp(vec2<i32>(p0) + 1, vec2<i32>(0), size - 1);
    let row0 = mix(
        ${prefix}_texel(base, lo.y * width + lo.x, channels),
        ${prefix}_texel(base, lo.y * width + hi.x, channels),
        t.x,
    );
    let row1 = mix(
        ${prefix}_texel(base, hi.y * width + lo.x, channels),
        ${prefix}_texel(base, hi.y * width + hi.x, channels),
        t.x,
    );
    return mix(row0, row1, t.y);
}

// A 3D texture of edge E stores texel (x, y, z) at ((z * E + y) * E + x) * 3, x fastest,
// as OCIO uploads it with glTexImage3D.
fn ${prefix}_texel3d(base: i32, edge: i32, p: vec3<i32>) -> vec3<f32> {
    return ${prefix}_texel(base, (p.z * edge + p.y) * edge + p.x, 3).xyz;
}

fn ${prefix}_tex3d(base: i32, edge: i32, linear: bool, uvw: vec3<f32>) -> vec4<f32> {
    let last = vec3<i32>(edge - 1);
    if (!linear) {
        let p = clamp(vec3<i32>(floor(uvw * f32(edge))), vec3<i32>(0), last);
        return vec4<f32>(${prefix}_texel3d(base, edge, p), 1.0);
    }
    let p = uvw * f32(edge) - 0.5;
    let p0 = floor(p);
    let t = p - p0;
    let lo = clamp(vec3<i32>(p0), vec3<i32>(0), last);
    let hi = clamp(vec3<i32>(p0) + 1, vec3<i32>(0), last);
    let c00 = mix(
        ${prefix}_texel3d(base, edge, vec3<i32>(lo.x, lo.y, lo.z)),
        ${prefix}_texel3d(base, edge, vec3<i32>(hi.x, lo.y, lo.z)),
        t.x,
    );
    let c10 = mix(
        ${prefix}_texel3d(base, edge, vec3<i32>(lo.x, hi.y, lo.z)),
        ${prefix}_texel3d(base, edge, vec3<i32>(hi.x, hi.y, lo.z)),
        t.x,
    );
    let c01 = mix(
        ${prefix}_texel3d(base, edge, vec3<i32>(lo.x, lo.y, hi.z)),
        ${prefix}_texel3d(base, edge, vec3<i32>(hi.x, lo.y, hi.z)),
        t.x,
    );
    let c11 = mix(
        ${prefix}_texel3d(base, edge, vec3<i32>(lo.x, hi.y, hi.z)),
        ${prefix}_texel3d(base, edge, vec3<i32>(hi.x, hi.y, hi.z)),
        t.x,
    );
    return vec4<f32>(mix(mix(c00, c10, t.y), mix(c01, c11, t.y), t.z), 1.0);
}
//! end

//! section premult
// The point op on premultiplied pixels, as engine/color.py's apply_cpu does it: colour is
// applied to unpremultiplied colour where alpha > 0 and premultiplied again; where
// alpha <= 0 the stored colour is converted as it is if the processor keeps black black
// (additive light stays, converted), else left unchanged. Alpha passes through.
const ${prefix}_KEEPS_BLACK: bool = ${keeps_black};

fn ${prefix}_apply_premult(c: vec4<f32>) -> vec4<f32> {
    let a = c.w;
    if (a <= 0.0 && !${prefix}_KEEPS_BLACK) {
        return c;
    }
    let straight = select(c.xyz, c.xyz / a, a > 0.0);
    let o = ${prefix}_apply(vec4<f32>(straight, a));
    return vec4<f32>(select(o.xyz, o.xyz * a, a > 0.0), a);
}
//! end

//! section runner
// Entry point of run_ocio_program: one invocation per pixel, in place.
@group(0) @binding(0) var<storage, read_write> mb_pixels: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= arrayLength(&mb_pixels)) {
        return;
    }
    mb_pixels[i] = ${prefix}_apply_premult(mb_pixels[i]);
}
//! end
