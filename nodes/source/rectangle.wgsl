// Rectangle: see rectangle.py. Parameters at P[o..o+11]:
// box(4: x0 y0 x1 y1) softness color(4) width height.
fn rectangle_source(x: i32, y: i32, o: u32) -> vec4<f32> {
    if (x < 0 || y < 0 || f32(x) >= P[o + 9u] || f32(y) >= P[o + 10u]) {
        return vec4<f32>(0.0);
    }
    let a = vec2<f32>(P[o + 0u], P[o + 1u]);
    let b = vec2<f32>(P[o + 2u], P[o + 3u]);
    let centre = vec2<f32>(f32(x) + 0.5, f32(y) + 0.5);
    // Distance outside the box on each axis (0 inside, edges included).
    let outside = max(max(min(a, b) - centre, centre - max(a, b)), vec2<f32>(0.0));
    let softness = P[o + 4u];
    var k = vec2<f32>(0.0);
    if (softness > 0.0) {
        k = clamp(1.0 - outside / softness, vec2<f32>(0.0), vec2<f32>(1.0));
    } else {
        k = select(vec2<f32>(0.0), vec2<f32>(1.0), outside == vec2<f32>(0.0));
    }
    return vec4<f32>(P[o + 5u], P[o + 6u], P[o + 7u], P[o + 8u]) * (k.x * k.y);
}
