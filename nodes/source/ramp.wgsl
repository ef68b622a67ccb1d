// Ramp: see ramp.py. Parameters at P[o..o+14]:
// p0(2) p1(2) color0(4) color1(4) width height.
fn ramp_source(x: i32, y: i32, o: u32) -> vec4<f32> {
    if (x < 0 || y < 0 || f32(x) >= P[o + 12u] || f32(y) >= P[o + 13u]) {
        return vec4<f32>(0.0);
    }
    let p0 = vec2<f32>(P[o + 0u], P[o + 1u]);
    let d = vec2<f32>(P[o + 2u], P[o + 3u]) - p0;
    let color0 = vec4<f32>(P[o + 4u], P[o + 5u], P[o + 6u], P[o + 7u]);
    let color1 = vec4<f32>(P[o + 8u], P[o + 9u], P[o + 10u], P[o + 11u]);
    let length2 = dot(d, d);
    var t = 1.0;
    if (length2 > 0.0) {
        let centre = vec2<f32>(f32(x) + 0.5, f32(y) + 0.5);
        t = clamp(dot(centre - p0, d) / length2, 0.0, 1.0);
    }
    return color0 + (color1 - color0) * t;
}
