// ColorMatrix: see color_matrix.py. Parameters at P[o..o+12]: 3×4 affine matrix row by row
// (m0 m1 m2 offset), then mix.
fn color_matrix_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    let x = vec4<f32>(c.rgb, 1.0);
    let red = dot(vec4<f32>(P[o + 0u], P[o + 1u], P[o + 2u], P[o + 3u]), x);
    let green = dot(vec4<f32>(P[o + 4u], P[o + 5u], P[o + 6u], P[o + 7u]), x);
    let blue = dot(vec4<f32>(P[o + 8u], P[o + 9u], P[o + 10u], P[o + 11u]), x);
    return vec4<f32>(mix(c.rgb, vec3<f32>(red, green, blue), P[o + 12u]), c.a);
}
