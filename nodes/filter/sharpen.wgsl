// Sharpen: see sharpen.py. Blur's two passes (blur.wgsl, included as Sharpen derives from
// Blur), then out = in + amount * (in - blurred) in the second pass.
// Parameters at P[o..]: the 2r + 1 Gaussian weights, then amount at P[o + 2r + 1].

fn sharpen_vertical(t: BlurTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    return blur_vertical(t, x, y, o);
}

fn sharpen_tmp_index(t: BlurTile, x: i32, y: i32) -> u32 {
    return blur_tmp_index(t, x, y);
}

fn sharpen_horizontal(t: BlurTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    let amount = P[o + u32(2 * t.radius + 1)];
    let value = blur_src_pixel(t, x, y);
    return value + amount * (value - blur_horizontal(t, x, y, o));
}
