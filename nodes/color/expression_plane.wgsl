// The Expression node's functions on the GPU, one per e_<name> of
// nodes/expression_math.py, with the same formulas (see that file). The formulas
// themselves are generated per node (nodes/expressions.py: wgsl_source).
fn mb_expr_abs(v: f32) -> f32 { return abs(v); }
fn mb_expr_min(u: f32, v: f32) -> f32 { return select(v, u, u < v); }
fn mb_expr_max(u: f32, v: f32) -> f32 { return select(v, u, u > v); }
fn mb_expr_clamp(v: f32, lo: f32, hi: f32) -> f32 { return mb_expr_min(mb_expr_max(v, lo), hi); }
fn mb_expr_floor(v: f32) -> f32 { return floor(v); }
fn mb_expr_ceil(v: f32) -> f32 { return ceil(v); }
fn mb_expr_fract(v: f32) -> f32 { return v - floor(v); }
fn mb_expr_nan() -> f32 { return bitcast<f32>(0x7fc00000u); }
fn mb_expr_inf() -> f32 { return bitcast<f32>(0x7f800000u); }
fn mb_expr_sqrt(v: f32) -> f32 { return select(sqrt(v), mb_expr_nan(), v < 0.0); }
fn mb_expr_log(v: f32) -> f32 {
    if (v < 0.0) { return mb_expr_nan(); }
    if (v == 0.0) { return -mb_expr_inf(); }
    return log(v);
}
fn mb_expr_exp(v: f32) -> f32 { return exp(v); }
fn mb_expr_sin(v: f32) -> f32 { return sin(v); }
fn mb_expr_cos(v: f32) -> f32 { return cos(v); }
fn mb_expr_tan(v: f32) -> f32 { return tan(v); }
fn mb_expr_atan2(u: f32, v: f32) -> f32 { return atan2(u, v); }
fn mb_expr_mix(u: f32, v: f32, t: f32) -> f32 { return u + (v - u) * t; }
fn mb_expr_step(edge: f32, v: f32) -> f32 { return select(0.0, 1.0, v >= edge); }
fn mb_expr_smoothstep(e0: f32, e1: f32, v: f32) -> f32 {
    if (e0 == e1) { return mb_expr_step(e0, v); }
    let t = mb_expr_clamp((v - e0) / (e1 - e0), 0.0, 1.0);
    return t * t * (3.0 - 2.0 * t);
}
// C's powf: a negative base with a whole exponent gives the signed power, else NaN.
fn mb_expr_pow(u: f32, v: f32) -> f32 {
    if (v == 0.0) { return 1.0; }
    if (u > 0.0) { return pow(u, v); }
    if (u == 0.0) { return select(0.0, mb_expr_inf(), v < 0.0); }
    if (v != floor(v)) { return mb_expr_nan(); }
    let m = pow(-u, v);
    return select(m, -m, abs(v - 2.0 * floor(v * 0.5)) == 1.0);
}
