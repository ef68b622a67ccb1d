// Log2Lin: see log2lin.py. Parameters at P[o..o+5]: four coefficients, then 1 for lin2log.
// log2lin: (exp(P0 * v + P1) - P2) * P3; lin2log: ln(v * P0 + P1) * P2 + P3.
fn log2lin_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    let p0 = vec3<f32>(P[o + 0u]);
    let p1 = vec3<f32>(P[o + 1u]);
    let p2 = vec3<f32>(P[o + 2u]);
    let p3 = vec3<f32>(P[o + 3u]);
    if (P[o + 4u] > 0.5) {
        let x = clamp(c.rgb * p0 + p1, vec3<f32>(1.17549435e-38), vec3<f32>(3.40282347e38));
        return vec4<f32>(log(x) * p2 + p3, c.a);
    }
    return vec4<f32>((exp(c.rgb * p0 + p1) - p2) * p3, c.a);
}
