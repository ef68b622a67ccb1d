// ShufflePlane: see shuffle_plane.py. Parameters at P[o..o+12]: (source, component,
// constant) for output components 0, 1, 2 and 3; source -1 means the constant.
fn shuffle_plane_component(s0: vec4<f32>, s1: vec4<f32>, s2: vec4<f32>, s3: vec4<f32>, o: u32) -> f32 {
    let source = P[o + 0u];
    let k = u32(P[o + 1u]);
    if (source == 0.0) { return s0[k]; }
    if (source == 1.0) { return s1[k]; }
    if (source == 2.0) { return s2[k]; }
    if (source == 3.0) { return s3[k]; }
    return P[o + 2u];
}

fn shuffle_plane_point(s0: vec4<f32>, s1: vec4<f32>, s2: vec4<f32>, s3: vec4<f32>, o: u32) -> vec4<f32> {
    return vec4<f32>(
        shuffle_plane_component(s0, s1, s2, s3, o + 0u),
        shuffle_plane_component(s0, s1, s2, s3, o + 3u),
        shuffle_plane_component(s0, s1, s2, s3, o + 6u),
        shuffle_plane_component(s0, s1, s2, s3, o + 9u),
    );
}
