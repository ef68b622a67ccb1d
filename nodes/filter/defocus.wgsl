// Defocus: see defocus.py. The disc summed directly, O(size²) per output pixel: per row
// dy of the disc the run |dx| <= spans[dy] of full weight (only its part over SRC: pixels
// outside it are transparent black), times the common weight, then the ramp pixels.
// Parameters at P[o..]: R, n, inner, spans[0..2R], then n ramp pixels as (dx, dy, weight)
// with dx, dy >= 0, each standing for the pixels (±dx, ±dy) of that weight.
// Global the GPU backend declares: SRC (array<vec4<f32>>, read: the input tile).

struct DefocusTile {
    src_x0: i32, src_y0: i32, src_w: i32, src_h: i32,  // input tile: image origin, size
}

fn defocus_src_pixel(t: DefocusTile, x: i32, y: i32) -> vec4<f32> {
    let sx = x - t.src_x0;
    let sy = y - t.src_y0;
    if (sx < 0 || sy < 0 || sx >= t.src_w || sy >= t.src_h) {
        return vec4<f32>(0.0);
    }
    return SRC[u32(sy * t.src_w + sx)];
}

fn defocus_pixel(t: DefocusTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    let radius = i32(P[o]);
    let count = i32(P[o + 1u]);
    let inner = P[o + 2u];
    let sx = x - t.src_x0;  // the output pixel in SRC's columns and rows
    let sy = y - t.src_y0;
    var sum = vec4<f32>(0.0);
    for (var dy = -radius; dy <= radius; dy = dy + 1) {
        let row = sy + dy;
        if (row < 0 || row >= t.src_h) {
            continue;
        }
        let half = i32(P[o + 3u + u32(dy + radius)]);
        let first = max(sx - half, 0);
        let last = min(sx + half, t.src_w - 1);
        for (var col = first; col <= last; col = col + 1) {
            sum = sum + SRC[u32(row * t.src_w + col)];
        }
    }
    var acc = inner * sum;
    let rim = o + 3u + u32(2 * radius + 1);
    for (var k = 0; k < count; k = k + 1) {
        let at = rim + 3u * u32(k);
        let dx = i32(P[at]);
        let dy = i32(P[at + 1u]);
        var ring = defocus_src_pixel(t, x + dx, y + dy);
        if (dx > 0) {
            ring = ring + defocus_src_pixel(t, x - dx, y + dy);
        }
        if (dy > 0) {
            ring = ring + defocus_src_pixel(t, x + dx, y - dy);
            if (dx > 0) {
                ring = ring + defocus_src_pixel(t, x - dx, y - dy);
            }
        }
        acc = acc + P[at + 2u] * ring;
    }
    return acc;
}
