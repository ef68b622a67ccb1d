// DifferenceKeyer: see difference_keyer.py. Parameters at P[o..o+3]: offset, gain, premultiply.
fn difference_keyer_point(a: vec4<f32>, b: vec4<f32>, o: u32) -> vec4<f32> {
    let d = abs(a.rgb - b.rgb);
    let key = clamp((max(max(d.r, d.g), d.b) - P[o + 0u]) * P[o + 1u], 0.0, 1.0);
    if (P[o + 2u] > 0.5) { return vec4<f32>(a.rgb * key, key); }
    return vec4<f32>(a.rgb, key);
}
