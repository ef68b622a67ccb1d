// CornerPin: see corner_pin.py. A projective resample: compose with resample.wgsl; the
// parameter block at P[o..o+10] is the inverse map's first two rows (6), the filter
// index, then its last row (3).
fn corner_pin_pixel(t: ResampleTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    return resample_pixel(t, x, y, o);
}
