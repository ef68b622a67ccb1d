// Checkerboard: see checkerboard.py. Parameters at P[o..o+11]:
// size color0(4) color1(4) width height.
fn checkerboard_source(x: i32, y: i32, o: u32) -> vec4<f32> {
    if (x < 0 || y < 0 || f32(x) >= P[o + 9u] || f32(y) >= P[o + 10u]) {
        return vec4<f32>(0.0);
    }
    let size = i32(P[o + 0u]);
    if ((x / size + y / size) % 2 == 0) {
        return vec4<f32>(P[o + 1u], P[o + 2u], P[o + 3u], P[o + 4u]);
    }
    return vec4<f32>(P[o + 5u], P[o + 6u], P[o + 7u], P[o + 8u]);
}
