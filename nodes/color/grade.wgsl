// Grade: see grade.py. Parameters at P[o..o+12]: A(3) B(3) 1/gamma(3) black_clamp white_clamp mix.
fn grade_channel(v: f32, a_gain: f32, b_offset: f32, inv_gamma: f32, black_clamp: f32, white_clamp: f32) -> f32 {
    var out = a_gain * v + b_offset;
    if (out > 0.0 && inv_gamma != 1.0) {
        out = pow(out, inv_gamma);
    }
    if (black_clamp > 0.5 && out < 0.0) { out = 0.0; }
    if (white_clamp > 0.5 && out > 1.0) { out = 1.0; }
    return out;
}

fn grade_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    let gr = grade_channel(c.r, P[o + 0u], P[o + 3u], P[o + 6u], P[o + 9u], P[o + 10u]);
    let gg = grade_channel(c.g, P[o + 1u], P[o + 4u], P[o + 7u], P[o + 9u], P[o + 10u]);
    let gb = grade_channel(c.b, P[o + 2u], P[o + 5u], P[o + 8u], P[o + 9u], P[o + 10u]);
    return vec4<f32>(mix(c.rgb, vec3<f32>(gr, gg, gb), P[o + 11u]), c.a);
}
