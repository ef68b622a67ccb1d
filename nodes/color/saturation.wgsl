// Saturation: see saturation.py. Parameters at P[o..o+5]: luma weights(3) use_maximum saturation mix.
fn saturation_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    var luma = dot(c.rgb, vec3<f32>(P[o + 0u], P[o + 1u], P[o + 2u]));
    if (P[o + 3u] > 0.5) {
        luma = max(max(c.r, c.g), c.b);
    }
    let grey = vec3<f32>(luma);
    let saturated = grey + (c.rgb - grey) * P[o + 4u];
    return vec4<f32>(mix(c.rgb, saturated, P[o + 5u]), c.a);
}
