// HueShift: see hue_shift.py. Parameters at P[o..o+9]: a 3×3 matrix, row-major.
fn hue_shift_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    let r = dot(c.rgb, vec3<f32>(P[o + 0u], P[o + 1u], P[o + 2u]));
    let g = dot(c.rgb, vec3<f32>(P[o + 3u], P[o + 4u], P[o + 5u]));
    let b = dot(c.rgb, vec3<f32>(P[o + 6u], P[o + 7u], P[o + 8u]));
    return vec4<f32>(r, g, b, c.a);
}
