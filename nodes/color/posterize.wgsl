// Posterize: see posterize.py. Parameters at P[o..o+2]: levels 1/levels.
fn posterize_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    let stepped = floor(c.rgb * P[o + 0u] + vec3<f32>(0.5)) * P[o + 1u];
    return vec4<f32>(stepped, c.a);
}
