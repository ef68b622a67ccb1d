// Median: see median.py. Per output pixel and channel, the value of rank n / 2 among the
// n = (2 size + 1)² values of the window (0 outside SRC), found by counting for each
// candidate how many values are below it and how many are not above it.
// Parameters at P[o]: size (a whole number).
// Global the GPU backend declares: SRC (array<vec4<f32>>, read: the input tile).

struct MedianTile {
    src_x0: i32, src_y0: i32, src_w: i32, src_h: i32,  // input tile: image origin, size
}

fn median_src_pixel(t: MedianTile, x: i32, y: i32) -> vec4<f32> {
    let sx = x - t.src_x0;
    let sy = y - t.src_y0;
    if (sx < 0 || sy < 0 || sx >= t.src_w || sy >= t.src_h) {
        return vec4<f32>(0.0);
    }
    return SRC[u32(sy * t.src_w + sx)];
}

fn median_pixel(t: MedianTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    let size = i32(P[o]);
    let side = 2 * size + 1;
    let k = f32((side * side) / 2);
    var result = vec4<f32>(0.0);
    var found = vec4<bool>(false);
    for (var cj = -size; cj <= size; cj = cj + 1) {
        for (var ci = -size; ci <= size; ci = ci + 1) {
            let c = median_src_pixel(t, x + ci, y + cj);
            var below = vec4<f32>(0.0);
            var not_above = vec4<f32>(0.0);
            for (var j = -size; j <= size; j = j + 1) {
                for (var i = -size; i <= size; i = i + 1) {
                    let v = median_src_pixel(t, x + i, y + j);
                    below = below + select(vec4<f32>(0.0), vec4<f32>(1.0), v < c);
                    not_above = not_above + select(vec4<f32>(0.0), vec4<f32>(1.0), v <= c);
                }
            }
            // c is the rank-k value where below <= k < not_above.
            let hit = (below <= vec4<f32>(k)) & (not_above > vec4<f32>(k)) & !found;
            result = select(result, c, hit);
            found = found | hit;
            if (all(found)) {
                return result;
            }
        }
    }
    return result;
}
