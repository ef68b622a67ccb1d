// PremultBy: see premult_by.py. Parameters at P[o..o+5]: divide select(4).
fn premult_by_point(c: vec4<f32>, main_plane: vec4<f32>, o: u32) -> vec4<f32> {
    let alpha = main_plane.a;
    let selected = vec4<f32>(P[o + 1u], P[o + 2u], P[o + 3u], P[o + 4u]) > vec4<f32>(0.5);
    var done = c * alpha;
    if (P[o + 0u] > 0.5) {
        if (alpha == 0.0) {
            return c;
        }
        done = c / alpha;
    }
    return select(c, done, selected);
}
