// EdgeDetect: see edge_detect.py. Sobel gradient magnitude of R, G and B (alpha is the
// input's), 0 outside SRC. No parameters.
// Global the GPU backend declares: SRC (array<vec4<f32>>, read: the input tile).

struct EdgeDetectTile {
    src_x0: i32, src_y0: i32, src_w: i32, src_h: i32,  // input tile: image origin, size
}

fn edge_detect_src_pixel(t: EdgeDetectTile, x: i32, y: i32) -> vec4<f32> {
    let sx = x - t.src_x0;
    let sy = y - t.src_y0;
    if (sx < 0 || sy < 0 || sx >= t.src_w || sy >= t.src_h) {
        return vec4<f32>(0.0);
    }
    return SRC[u32(sy * t.src_w + sx)];
}

fn edge_detect_pixel(t: EdgeDetectTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    let tl = edge_detect_src_pixel(t, x - 1, y - 1);
    let tc = edge_detect_src_pixel(t, x, y - 1);
    let tr = edge_detect_src_pixel(t, x + 1, y - 1);
    let ml = edge_detect_src_pixel(t, x - 1, y);
    let mr = edge_detect_src_pixel(t, x + 1, y);
    let bl = edge_detect_src_pixel(t, x - 1, y + 1);
    let bc = edge_detect_src_pixel(t, x, y + 1);
    let br = edge_detect_src_pixel(t, x + 1, y + 1);
    let gx = (tr + 2.0 * mr + br) - (tl + 2.0 * ml + bl);
    let gy = (bl + 2.0 * bc + br) - (tl + 2.0 * tc + tr);
    let magnitude = sqrt(gx * gx + gy * gy);
    return vec4<f32>(magnitude.xyz, edge_detect_src_pixel(t, x, y).a);
}
