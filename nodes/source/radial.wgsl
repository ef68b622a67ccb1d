// Radial: see radial.py. Parameters at P[o..o+10]:
// center(2) radius softness color(4) width height.
fn radial_source(x: i32, y: i32, o: u32) -> vec4<f32> {
    if (x < 0 || y < 0 || f32(x) >= P[o + 8u] || f32(y) >= P[o + 9u]) {
        return vec4<f32>(0.0);
    }
    let color = vec4<f32>(P[o + 4u], P[o + 5u], P[o + 6u], P[o + 7u]);
    let radius = P[o + 2u];
    let inner = radius * (1.0 - P[o + 3u]);
    let d = distance(vec2<f32>(f32(x) + 0.5, f32(y) + 0.5), vec2<f32>(P[o + 0u], P[o + 1u]));
    if (radius <= inner) {
        return select(vec4<f32>(0.0), color, d < radius);
    }
    let s = clamp((radius - d) / (radius - inner), 0.0, 1.0);
    return color * (s * s * (3.0 - 2.0 * s));
}
