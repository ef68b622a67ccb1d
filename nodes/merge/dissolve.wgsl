// Dissolve: see dissolve.py. Parameters at P[o]: which.
fn dissolve_point(in0: vec4<f32>, in1: vec4<f32>, o: u32) -> vec4<f32> {
    return mix(in0, in1, P[o + 0u]);
}
