// VectorBlur (and VectorBlurPlane): see vector_blur.py. Per output pixel, the mean of
// `samples` bilinear samples of SRC at p + (offset + (k + 0.5) / samples) * m, m the
// motion at p (components u, v of the second input, 0 outside it) times the u and v
// scales, shortened to max_length pixels; SRC reads 0 outside its window.
// Parameters at P[o]: u_component v_component u_scale v_scale samples offset max_length.
// Globals the GPU backend declares: SRC (array<vec4<f32>>, read: the plane to blur) and,
// for the second input, mb_fetch_SRC1(x, y) (the motion plane in image coordinates).

struct VectorBlurTile {
    src_x0: i32, src_y0: i32, src_w: i32, src_h: i32,  // input tile: image origin, size
}

fn vector_blur_src(t: VectorBlurTile, i: i32, j: i32) -> vec4<f32> {
    if (i < 0 || j < 0 || i >= t.src_w || j >= t.src_h) {
        return vec4<f32>(0.0);
    }
    return SRC[u32(j * t.src_w + i)];
}

// SRC at the index-space position f (pixel (i, j) at f == (i, j)), bilinear.
fn vector_blur_bilinear(t: VectorBlurTile, f: vec2<f32>) -> vec4<f32> {
    let base = floor(f);
    let a = f - base;
    let i = i32(base.x);
    let j = i32(base.y);
    let top = mix(vector_blur_src(t, i, j), vector_blur_src(t, i + 1, j), a.x);
    let bottom = mix(vector_blur_src(t, i, j + 1), vector_blur_src(t, i + 1, j + 1), a.x);
    return mix(top, bottom, a.y);
}

fn vector_blur_component(c: vec4<f32>, k: i32) -> f32 {
    return select(select(select(c.x, c.y, k == 1), c.z, k == 2), c.w, k == 3);
}

fn vector_blur_pixel(t: VectorBlurTile, x: i32, y: i32, o: u32) -> vec4<f32> {
    let scale = vec2<f32>(P[o + 2u], P[o + 3u]);
    let samples = i32(P[o + 4u]);
    let offset = P[o + 5u];
    let max_length = P[o + 6u];
    let motion = mb_fetch_SRC1(x, y);
    var m = scale * vec2<f32>(
        vector_blur_component(motion, i32(P[o])),
        vector_blur_component(motion, i32(P[o + 1u])),
    );
    let length_m = length(m);
    if (length_m > max_length) {
        m = m * (max_length / length_m);
    }
    let weight = 1.0 / f32(samples);
    let p = vec2<f32>(f32(x - t.src_x0), f32(y - t.src_y0));
    var total = vec4<f32>(0.0);
    for (var k = 0; k < samples; k = k + 1) {
        let s = offset + (f32(k) + 0.5) * weight;
        total = total + vector_blur_bilinear(t, p + s * m);
    }
    return total * weight;
}
