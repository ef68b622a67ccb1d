// ColorDifferenceKeyer: see color_difference_keyer.py. Parameters at P[o..o+9]: screen
// component (1 G, 2 B), red weight, blue weight, luminance match, despill, use clean
// plate, screen colour R G B.
fn color_difference_keyer_difference(c: vec3<f32>, channel: f32, wr: f32, wb: f32) -> f32 {
    if (channel == 1.0) { return c.g - (wr * c.r + wb * c.b); }
    return c.b - (wr * c.r + wb * c.g);
}

fn color_difference_keyer_point(s: vec4<f32>, clean: vec4<f32>, o: u32) -> vec4<f32> {
    let channel = P[o + 0u];
    let wr = P[o + 1u];
    let wb = P[o + 2u];
    var screen_rgb = clean.rgb;
    if (P[o + 5u] < 0.5) { screen_rgb = vec3<f32>(P[o + 6u], P[o + 7u], P[o + 8u]); }
    let pixel = color_difference_keyer_difference(s.rgb, channel, wr, wb);
    let screen = color_difference_keyer_difference(screen_rgb, channel, wr, wb);
    var key = 1.0;
    if (screen > 0.0) { key = 1.0 - pixel / screen; }
    let weights = vec3<f32>(0.2126, 0.7152, 0.0722);  // Rec. 709 luminance
    let luma_difference = dot(weights, s.rgb) - dot(weights, screen_rgb);
    let alpha = clamp(key + P[o + 3u] * luma_difference, 0.0, 1.0);
    var rgb = s.rgb;
    if (P[o + 4u] > 0.5) {
        if (channel == 1.0) {
            rgb.g = min(rgb.g, wr * rgb.r + wb * rgb.b);
        } else {
            rgb.b = min(rgb.b, wr * rgb.r + wb * rgb.g);
        }
    }
    return vec4<f32>(rgb * alpha, alpha);
}
