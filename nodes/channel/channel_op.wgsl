// ChannelOp: see channel_op.py. Parameters at P[o..o+4]: operation index (union intersect
// plus minus multiply min max difference stencil from copy), a_component, b_component,
// out_component.
fn channel_op_operation(op: u32, a: f32, b: f32) -> f32 {
    switch op {
        case 0u: { return a + b - a * b; }
        case 1u: { return a * b; }
        case 2u: { return a + b; }
        case 3u: { return a - b; }
        case 4u: { return a * b; }
        case 5u: { return min(a, b); }
        case 6u: { return max(a, b); }
        case 7u: { return abs(a - b); }
        case 8u: { return b * (1.0 - a); }
        case 9u: { return b - a; }
        default: { return a; }
    }
}

fn channel_op_point(base: vec4<f32>, a: vec4<f32>, b: vec4<f32>, o: u32) -> vec4<f32> {
    let v = channel_op_operation(u32(P[o + 0u]), a[u32(P[o + 1u])], b[u32(P[o + 2u])]);
    var result = base;
    result[u32(P[o + 3u])] = v;
    return result;
}
