// Keyer: see keyer.py. Parameters at P[o..o+9]: operation index, a b c d, 1/(b-a),
// 1/(d-c), output component (0 R, 1 G, 2 B, 3 A), premultiply.
fn keyer_measure(op: u32, c: vec3<f32>) -> f32 {
    switch op {
        case 0u: { return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b; }
        case 1u: { return c.r; }
        case 2u: { return c.g; }
        case 3u: { return c.b; }
        case 4u: { return max(max(c.r, c.g), c.b) - min(min(c.r, c.g), c.b); }
        case 5u: { return max(max(c.r, c.g), c.b); }
        default: { return min(min(c.r, c.g), c.b); }
    }
}

fn keyer_range(v: f32, a: f32, b: f32, c: f32, d: f32, inv_rise: f32, inv_fall: f32) -> f32 {
    if (v < b) {
        if (v > a) { return (v - a) * inv_rise; }
        return 0.0;
    }
    if (v <= c) { return 1.0; }
    if (v < d) { return (d - v) * inv_fall; }
    return 0.0;
}

fn keyer_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    let v = keyer_measure(u32(P[o + 0u]), c.rgb);
    let key = keyer_range(v, P[o + 1u], P[o + 2u], P[o + 3u], P[o + 4u], P[o + 5u], P[o + 6u]);
    var rgb = c.rgb;
    if (P[o + 8u] > 0.5) { rgb = rgb * key; }
    let out = u32(P[o + 7u]);
    if (out == 0u) { return vec4<f32>(key, rgb.g, rgb.b, c.a); }
    if (out == 1u) { return vec4<f32>(rgb.r, key, rgb.b, c.a); }
    if (out == 2u) { return vec4<f32>(rgb.r, rgb.g, key, c.a); }
    return vec4<f32>(rgb, key);
}
