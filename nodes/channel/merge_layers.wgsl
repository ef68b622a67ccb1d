// MergeLayers: see merge_layers.py. Parameters at P[o..o+1]: operation index, mix.
// Merge's formulas (merge.wgsl's may not be in the same shader): fa, fb are A's and B's
// values, a, b the alphas of the main planes.
fn merge_layers_channel(op: u32, fa: vec4<f32>, fb: vec4<f32>, a: f32, b: f32) -> vec4<f32> {
    switch op {
        case 0u: { return fa + fb * (1.0 - a); }
        case 1u: { return fa * (1.0 - b) + fb; }
        case 2u: { return fa + fb; }
        case 3u: { return fa - fb; }
        case 4u: { return fa * fb; }
        case 5u: { return fa + fb - fa * fb; }
        case 6u: { return max(fa, fb); }
        case 7u: { return min(fa, fb); }
        case 8u: { return abs(fa - fb); }
        case 9u: { return fa * b; }
        case 10u: { return fa * (1.0 - b); }
        case 11u: { return fa * b + fb * (1.0 - a); }
        case 12u: { return fa * (1.0 - b) + fb * (1.0 - a); }
        case 13u: { return fb * a; }
        default: { return fb * (1.0 - a); }
    }
}

fn merge_layers_point(b: vec4<f32>, a: vec4<f32>, b_main: vec4<f32>, a_main: vec4<f32>, o: u32) -> vec4<f32> {
    let merged = merge_layers_channel(u32(P[o + 0u]), a, b, a_main.a, b_main.a);
    return b + (merged - b) * P[o + 1u];
}
