// Blur: see blur.py. Two passes mirroring blur_kernel's row buffer:
//   blur_vertical   SRC -> TMP  (TMP row y covers image x in [dst_x0 - r, dst_x0 + dst_w + r))
//   blur_horizontal TMP -> the output pixel
// Globals the GPU backend declares: P (array<f32>, the 2r+1 weights at P[o..]),
// SRC (array<vec4<f32>>, read: the input tile) and TMP (array<vec4<f32>>, read_write).
// Pixels outside SRC are transparent black.

struct BlurTile {
    src_x0: i32, src_y0: i32, src_w: i32, src_h: i32,  // input tile: image origin, size
    dst_x0: i32, dst_y0: i32, dst_w: i32, dst_h: i32,  // output tile: image origin, size
    radius: i32,                                        // r: weights at P[o .. o + 2r]
}

fn blur_src_pixel(t: BlurTile, x: i32, y: i32) -> vec4<f32> {
    let sx = x - t.src_x0;
    let sy = y - t.src_y0;
    if (sx < 0 || sy < 0 || sx >= t.src_w || sy >= t.src_h) {
        return vec4<f32>(0.0);
    }
    return SRC[u32(sy * t.src_w + sx)];
}

// Vertically blurred value at image pixel (x, y); the backend stores it in TMP at
// row (y - dst_y0), column (x - dst_x0 + r) of a buffer (dst_w + 2r) wide.
fn blur_vertical(t: BlurTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    var acc = vec4<f32>(0.0);
    for (var k = -t.radius; k <= t.radius; k = k + 1) {
        acc = acc + P[o + u32(k + t.radius)] * blur_src_pixel(t, x, y + k);
    }
    return acc;
}

fn blur_tmp_index(t: BlurTile, x: i32, y: i32) -> u32 {
    let span = t.dst_w + 2 * t.radius;
    return u32((y - t.dst_y0) * span + (x - t.dst_x0 + t.radius));
}

// Output pixel at image (x, y), inside the output tile, from the vertical pass in TMP.
fn blur_horizontal(t: BlurTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    var acc = vec4<f32>(0.0);
    for (var k = -t.radius; k <= t.radius; k = k + 1) {
        acc = acc + P[o + u32(k + t.radius)] * TMP[blur_tmp_index(t, x + k, y)];
    }
    return acc;
}
