// Gamma: see gamma.py. Parameters at P[o..o+3]: 1/value for R, G, B.
fn gamma_channel(v: f32, inv_gamma: f32) -> f32 {
    if (v > 0.0 && inv_gamma != 1.0) {
        return pow(v, inv_gamma);
    }
    return v;
}

fn gamma_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    let r = gamma_channel(c.r, P[o + 0u]);
    let g = gamma_channel(c.g, P[o + 1u]);
    let b = gamma_channel(c.b, P[o + 2u]);
    return vec4<f32>(r, g, b, c.a);
}
