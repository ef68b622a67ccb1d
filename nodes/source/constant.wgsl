// Constant: see constant.py. Parameters at P[o..o+6]: color(4) width height.
fn constant_source(x: i32, y: i32, o: u32) -> vec4<f32> {
    if (x < 0 || y < 0 || f32(x) >= P[o + 4u] || f32(y) >= P[o + 5u]) {
        return vec4<f32>(0.0);
    }
    return vec4<f32>(P[o + 0u], P[o + 1u], P[o + 2u], P[o + 3u]);
}
