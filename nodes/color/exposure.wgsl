// Exposure: see exposure.py. Parameters at P[o..o+3]: the multiplier 2**stops for R, G, B.
fn exposure_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    return vec4<f32>(c.rgb * vec3<f32>(P[o + 0u], P[o + 1u], P[o + 2u]), c.a);
}
