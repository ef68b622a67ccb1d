// ChromaKeyer: see chroma_keyer.py. Parameters at P[o..o+8]: screen hue, 1/screen
// saturation, hue tolerance, 1/hue band, saturation tolerance, 1/saturation band,
// dominant channel (0 R, 1 G, 2 B), despill.
fn chroma_keyer_hue(c: vec3<f32>, top: f32, chroma: f32) -> f32 {
    var h: f32;
    if (top == c.r) {
        h = (c.g - c.b) / chroma;
        if (h < 0.0) { h = h + 6.0; }
    } else if (top == c.g) {
        h = (c.b - c.r) / chroma + 2.0;
    } else {
        h = (c.r - c.g) / chroma + 4.0;
    }
    return h * 60.0;
}

fn chroma_keyer_band(d: f32, tolerance: f32, inv_width: f32) -> f32 {
    if (d <= tolerance) { return 0.0; }
    if (inv_width == 0.0) { return 1.0; }
    return min((d - tolerance) * inv_width, 1.0);
}

fn chroma_keyer_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    let top = max(max(c.r, c.g), c.b);
    let chroma = top - min(min(c.r, c.g), c.b);
    var hue_distance = 180.0;
    if (chroma > 0.0) {
        hue_distance = abs(chroma_keyer_hue(c.rgb, top, chroma) - P[o + 0u]);
        if (hue_distance > 180.0) { hue_distance = 360.0 - hue_distance; }
    }
    var saturation = 0.0;
    if (top > 0.0) { saturation = chroma / top; }
    let saturation_distance = 1.0 - saturation * P[o + 1u];
    let t = max(
        chroma_keyer_band(hue_distance, P[o + 2u], P[o + 3u]),
        chroma_keyer_band(saturation_distance, P[o + 4u], P[o + 5u]),
    );
    let alpha = t * t * (3.0 - 2.0 * t);
    let amount = P[o + 7u];
    var rgb = c.rgb;
    let dominant = P[o + 6u];
    if (dominant == 0.0) {
        rgb.r = rgb.r - amount * max(rgb.r - (rgb.g + rgb.b) * 0.5, 0.0);
    } else if (dominant == 1.0) {
        rgb.g = rgb.g - amount * max(rgb.g - (rgb.r + rgb.b) * 0.5, 0.0);
    } else {
        rgb.b = rgb.b - amount * max(rgb.b - (rgb.r + rgb.g) * 0.5, 0.0);
    }
    return vec4<f32>(rgb * alpha, alpha);
}
