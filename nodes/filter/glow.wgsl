// Glow: see glow.py. Blur's two passes (blur.wgsl, included as Glow derives from Blur):
// the vertical pass blurs the highlights max(rgb - threshold, 0) (alpha 0), the
// horizontal pass finishes the blur and adds gain times it to the input's R, G, B,
// keeping the input's alpha.
// Parameters at P[o..]: the 2r + 1 Gaussian weights, then threshold at P[o + 2r + 1] and
// gain at P[o + 2r + 2].

fn glow_vertical(t: BlurTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    let threshold = vec3<f32>(P[o + u32(2 * t.radius + 1)]);
    var acc = vec3<f32>(0.0);
    for (var k = -t.radius; k <= t.radius; k = k + 1) {
        let bright = max(blur_src_pixel(t, x, y + k).rgb - threshold, vec3<f32>(0.0));
        acc = acc + P[o + u32(k + t.radius)] * bright;
    }
    return vec4<f32>(acc, 0.0);
}

fn glow_tmp_index(t: BlurTile, x: i32, y: i32) -> u32 {
    return blur_tmp_index(t, x, y);
}

fn glow_horizontal(t: BlurTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    let gain = P[o + u32(2 * t.radius + 2)];
    let value = blur_src_pixel(t, x, y);
    return vec4<f32>(value.rgb + gain * blur_horizontal(t, x, y, o).rgb, value.a);
}
