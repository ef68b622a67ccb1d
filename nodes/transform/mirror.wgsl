// Mirror: see mirror.py. An affine resample: compose with resample.wgsl; the
// parameter block at P[o..o+7] is the inverse map m (6) and the filter index (nearest).
fn mirror_pixel(t: ResampleTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    return resample_pixel(t, x, y, o);
}
