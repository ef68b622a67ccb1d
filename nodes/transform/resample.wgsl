// Resampling shared by Transform, Reformat and CornerPin: see resample.py (same filters,
// widening, normalisation, black outside the input and past a projective map's horizon).
// Globals the GPU backend declares: P (array<f32>: the inverse map's first two rows at
// P[o..o+6], the filter index at P[o+6], its last row at P[o+7..o+10], which is 0 0 1
// for an affine map) and SRC (array<vec4<f32>>, read: the input tile, row-major).

struct ResampleTile {
    src_x0: i32, src_y0: i32, src_w: i32, src_h: i32,  // input tile: image origin, size
    dst_x0: i32, dst_y0: i32, dst_w: i32, dst_h: i32,  // output tile: image origin, size
}

const RESAMPLE_PI: f32 = 3.14159265358979;
const RESAMPLE_MAX_WIDEN: f32 = 8.0;  // resample.py's MAX_WIDEN

// 0 nearest (box), 1 linear (tent), 2 cubic (Keys, a = -0.5), 3 lanczos3.
fn resample_weight(filter_id: i32, x: f32) -> f32 {
    let ax = abs(x);
    if (filter_id == 1) {
        return max(0.0, 1.0 - ax);
    }
    if (filter_id == 2) {
        let a = -0.5;
        if (ax <= 1.0) {
            return ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1.0;
        }
        if (ax < 2.0) {
            return ((a * ax - 5.0 * a) * ax + 8.0 * a) * ax - 4.0 * a;
        }
        return 0.0;
    }
    if (filter_id == 3) {
        if (ax < 1e-6) {
            return 1.0;
        }
        if (ax >= 3.0) {
            return 0.0;
        }
        let px = RESAMPLE_PI * ax;
        return 3.0 * resample_sinpi(ax) * resample_sinpi(ax / 3.0) / (px * px);
    }
    return select(0.0, 1.0, ax <= 0.5);
}

// sin(pi * x) without the GPU's sin(): reduced to r = x - n in [-0.5, 0.5] and summed as a
// Taylor polynomial (error below 1e-7). Hardware f32 sin() is approximate on some GPUs (an
// H100's put lanczos3 results 1.7e-5 away from the CPU's).
fn resample_sinpi(x: f32) -> f32 {
    let n = floor(x + 0.5);
    let r = x - n;
    let t = r * r;
    let p = 3.14159265 + t * (-5.16771278 + t * (2.55016404 + t * (-0.59926453
        + t * (0.08214589 + t * -0.00737043))));
    return select(r * p, -r * p, (i32(n) & 1) == 1);
}

fn resample_radius(filter_id: i32) -> f32 {
    if (filter_id == 1) { return 1.0; }
    if (filter_id == 2) { return 2.0; }
    if (filter_id == 3) { return 3.0; }
    return 0.5;
}

// Widening along an input axis whose inverse-map row is (a, b); nearest never widens.
fn resample_widening(filter_id: i32, a: f32, b: f32) -> f32 {
    if (filter_id == 0) { return 1.0; }
    return max(1.0, sqrt(a * a + b * b));
}

// The same for a projective map's Jacobian row at one pixel, at most RESAMPLE_MAX_WIDEN.
fn resample_local_widening(filter_id: i32, a: f32, b: f32) -> f32 {
    let widen = resample_widening(filter_id, a, b);
    return select(RESAMPLE_MAX_WIDEN, widen, widen < RESAMPLE_MAX_WIDEN);
}

fn resample_src(t: ResampleTile, i: i32, j: i32) -> vec4<f32> {
    if (i < 0 || j < 0 || i >= t.src_w || j >= t.src_h) {
        return vec4<f32>(0.0);
    }
    return SRC[u32(j * t.src_w + i)];
}

// Sum of the weights of the taps around f (pixel-index space) along one axis.
fn resample_total(filter_id: i32, f: f32, widen: f32) -> f32 {
    let reach = resample_radius(filter_id) * widen;
    var total = 0.0;
    for (var i = i32(floor(f - reach)) + 1; i <= i32(ceil(f + reach)) - 1; i = i + 1) {
        total = total + resample_weight(filter_id, (f32(i) - f) / widen);
    }
    return total;
}

// The output pixel at (x, y). The position is computed in the coordinates of (x, y) and
// P (pixel i at i), and the input tile's integer origin (src_x0, src_y0) is taken off the
// tap indices only: every tile then computes the same f32 position for a pixel, so tiled
// and untiled renders agree, and the GPU backend may move both origins (keeping f32
// positions small) by re-expressing the map in P.
fn resample_pixel(t: ResampleTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    let filter_id = i32(P[o + 6u]);
    let ox = f32(x) + 0.5;
    let oy = f32(y) + 0.5;
    let q = P[o + 7u] * ox + P[o + 8u] * oy + P[o + 9u];  // exactly 1 for an affine map
    if (!(q > 0.0)) {
        return vec4<f32>(0.0);  // past the horizon
    }
    let u = (P[o + 0u] * ox + P[o + 1u] * oy + P[o + 2u]) / q;
    let v = (P[o + 3u] * ox + P[o + 4u] * oy + P[o + 5u]) / q;
    let fx = u - 0.5;
    let fy = v - 0.5;
    if (filter_id == 0) {
        let i = i32(floor(fx + 0.5)) - t.src_x0;
        let j = i32(floor(fy + 0.5)) - t.src_y0;
        return resample_src(t, i, j);
    }
    let radius = resample_radius(filter_id);
    let lo = vec2<f32>(f32(t.src_x0), f32(t.src_y0));
    let hi = lo + vec2<f32>(f32(t.src_w), f32(t.src_h));
    var widen_x = resample_widening(filter_id, P[o + 0u], P[o + 1u]);
    var widen_y = resample_widening(filter_id, P[o + 3u], P[o + 4u]);
    if (P[o + 7u] != 0.0 || P[o + 8u] != 0.0) {
        // Projective: beyond the widest reach first (u may be huge), then the Jacobian.
        let far = radius * RESAMPLE_MAX_WIDEN;
        if (fx <= lo.x - far - 1.0 || fx >= hi.x + far || fy <= lo.y - far - 1.0
            || fy >= hi.y + far) {
            return vec4<f32>(0.0);
        }
        widen_x = resample_local_widening(
            filter_id, (P[o + 0u] - u * P[o + 7u]) / q, (P[o + 1u] - u * P[o + 8u]) / q);
        widen_y = resample_local_widening(
            filter_id, (P[o + 3u] - v * P[o + 7u]) / q, (P[o + 4u] - v * P[o + 8u]) / q);
    }
    let reach_x = radius * widen_x;
    let reach_y = radius * widen_y;
    if (fx <= lo.x - reach_x - 1.0 || fx >= hi.x + reach_x
        || fy <= lo.y - reach_y - 1.0 || fy >= hi.y + reach_y) {
        return vec4<f32>(0.0);
    }
    let norm = resample_total(filter_id, fx, widen_x) * resample_total(filter_id, fy, widen_y);
    if (norm == 0.0) {
        return vec4<f32>(0.0);
    }
    let i0 = max(i32(floor(fx - reach_x)) + 1, t.src_x0);
    let i1 = min(i32(ceil(fx + reach_x)) - 1, t.src_x0 + t.src_w - 1);
    let j0 = max(i32(floor(fy - reach_y)) + 1, t.src_y0);
    let j1 = min(i32(ceil(fy + reach_y)) - 1, t.src_y0 + t.src_h - 1);
    var acc = vec4<f32>(0.0);
    for (var j = j0; j <= j1; j = j + 1) {
        let wy = resample_weight(filter_id, (f32(j) - fy) / widen_y);
        var row = vec4<f32>(0.0);
        for (var i = i0; i <= i1; i = i + 1) {
            let wx = resample_weight(filter_id, (f32(i) - fx) / widen_x);
            row = row + wx * resample_src(t, i - t.src_x0, j - t.src_y0);
        }
        acc = acc + wy * row;
    }
    return acc / norm;
}
