// ErodeDilate: see erode_dilate.py. A direct window per output pixel (box and disc alike):
// the per-channel minimum (erode) or maximum (dilate) of the input pixels within radius r,
// counting 0 for every pixel outside SRC.
// Parameters at P[o..o+3]: radius, dilate (0/1), disc (0/1) (whole numbers).
// Global the GPU backend declares: SRC (array<vec4<f32>>, read: the input tile).

struct ErodeDilateTile {
    src_x0: i32, src_y0: i32, src_w: i32, src_h: i32,  // input tile: image origin, size
}

// The largest w >= 0 with w*w + dy*dy <= radius*radius, in integers (as the CPU's).
fn erode_dilate_half_width(radius: i32, dy: i32) -> i32 {
    let rest = radius * radius - dy * dy;
    var w = i32(sqrt(f32(rest)));
    while ((w + 1) * (w + 1) <= rest) {
        w = w + 1;
    }
    while (w > 0 && w * w > rest) {
        w = w - 1;
    }
    return w;
}

fn erode_dilate_pixel(t: ErodeDilateTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    let radius = i32(P[o]);
    let dilate = P[o + 1u] > 0.5;
    let disc = P[o + 2u] > 0.5;
    var acc = vec4<f32>(0.0);
    var first = true;
    var padded = false;
    for (var dy = -radius; dy <= radius; dy = dy + 1) {
        var half = radius;
        if (disc) {
            half = erode_dilate_half_width(radius, dy);
        }
        let sy = y + dy - t.src_y0;
        let c0 = max(x - half - t.src_x0, 0);
        let c1 = min(x + half - t.src_x0 + 1, t.src_w);
        if (sy < 0 || sy >= t.src_h || c0 >= c1) {
            padded = true;
            continue;
        }
        if (c0 > x - half - t.src_x0 || c1 < x + half - t.src_x0 + 1) {
            padded = true;
        }
        for (var sx = c0; sx < c1; sx = sx + 1) {
            let v = SRC[u32(sy * t.src_w + sx)];
            if (first) {
                acc = v;
                first = false;
            } else if (dilate) {
                acc = max(acc, v);
            } else {
                acc = min(acc, v);
            }
        }
    }
    if (padded) {
        if (dilate) {
            acc = max(acc, vec4<f32>(0.0));
        } else {
            acc = min(acc, vec4<f32>(0.0));
        }
    }
    return acc;
}
