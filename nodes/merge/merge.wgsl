// Merge: see merge.py. Parameters at P[o..o+1]: operation index, mix.
// fa, fb: A's and B's values (vec4, alpha included); a, b: their alphas.
fn merge_operation(op: u32, fa: vec4<f32>, fb: vec4<f32>, a: f32, b: f32) -> vec4<f32> {
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

fn merge_point(b: vec4<f32>, a: vec4<f32>, o: u32) -> vec4<f32> {
    let merged = merge_operation(u32(P[o + 0u]), a, b, a.a, b.a);
    return mix(b, merged, P[o + 1u]);
}
