// MergeLayers: see merge_layers.py. Parameters at P[o..o+1]: operation index, mix.
// Merge's formulas: merge_operation of merge.wgsl (wgsl_uses puts it in the shader),
// with A's and B's values of this layer and the alphas of their main layers.
fn merge_layers_point(b: vec4<f32>, a: vec4<f32>, b_main: vec4<f32>, a_main: vec4<f32>, o: u32) -> vec4<f32> {
    let merged = merge_operation(u32(P[o + 0u]), a, b, a_main.a, b_main.a);
    return b + (merged - b) * P[o + 1u];
}
