// Crop: see crop.py. A copy: output pixel (x, y) is input pixel (x + shift_x, y + shift_y)
// when that lies inside the box and the input tile, else transparent black.
// Parameters at P[o..o+6]: shift_x shift_y box_x0 box_y0 box_x1 box_y1 (whole numbers).
// Global the GPU backend declares: SRC (array<vec4<f32>>, read: the input tile).

struct CropTile {
    src_x0: i32, src_y0: i32, src_w: i32, src_h: i32,  // input tile: image origin, size
}

fn crop_pixel(t: CropTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    let ix = x + i32(P[o + 0u]);
    let iy = y + i32(P[o + 1u]);
    let in_box = ix >= i32(P[o + 2u]) && iy >= i32(P[o + 3u])
        && ix < i32(P[o + 4u]) && iy < i32(P[o + 5u]);
    let sx = ix - t.src_x0;
    let sy = iy - t.src_y0;
    if (!in_box || sx < 0 || sy < 0 || sx >= t.src_w || sy >= t.src_h) {
        return vec4<f32>(0.0);
    }
    return SRC[u32(sy * t.src_w + sx)];
}
