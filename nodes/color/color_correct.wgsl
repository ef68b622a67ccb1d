// ColorCorrect: see color_correct.py. Parameters at P[o..o+63]: four blocks of 15 for
// shadows, midtones, highlights and master, each saturation(3) exponent(3) scale(3)
// gain(3) offset(3); then 1/shadows_end, highlights_start, 1/(1 - highlights_start).
fn color_correct_luma(v: vec3<f32>) -> f32 {
    return dot(v, vec3<f32>(0.2126, 0.7152, 0.0722));
}

fn color_correct_smoothstep(x: f32) -> f32 {
    let t = clamp(x, 0.0, 1.0);
    return t * t * (3.0 - 2.0 * t);
}

fn color_correct_vec(o: u32) -> vec3<f32> {
    return vec3<f32>(P[o], P[o + 1u], P[o + 2u]);
}

// One range (block at P[o]): saturation, contrast and gamma as scale * v ** exponent
// where v > 0, gain, offset.
fn color_correct_range(c: vec3<f32>, o: u32) -> vec3<f32> {
    let luma = vec3<f32>(color_correct_luma(c));
    let v = luma + (c - luma) * color_correct_vec(o);
    let powered = color_correct_vec(o + 6u) * pow(max(v, vec3<f32>(1e-30)), color_correct_vec(o + 3u));
    let toned = select(v, powered, v > vec3<f32>(0.0));
    return toned * color_correct_vec(o + 9u) + color_correct_vec(o + 12u);
}

fn color_correct_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    let luma = color_correct_luma(c.rgb);
    let ws = 1.0 - color_correct_smoothstep(luma * P[o + 60u]);
    let wh = color_correct_smoothstep((luma - P[o + 61u]) * P[o + 62u]);
    let wm = clamp(1.0 - ws - wh, 0.0, 1.0);
    let tones = ws * color_correct_range(c.rgb, o) + wm * color_correct_range(c.rgb, o + 15u)
        + wh * color_correct_range(c.rgb, o + 30u);
    return vec4<f32>(color_correct_range(tones, o + 45u), c.a);
}
