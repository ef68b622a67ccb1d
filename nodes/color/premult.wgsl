// Premult: see premult.py. No parameters.
fn premult_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    return vec4<f32>(c.rgb * c.a, c.a);
}
