// The viewer's display step on the device (engine/backends/gpu/display.py composes it
// with an OCIO program): one invocation per screen pixel box-averages its factor x factor
// block of the linear image, applies the exposure, the OCIO display/view (and look) to the
// stored values with alpha kept, the viewer gamma and the channel solo, and packs the
// result as 8-bit RGBA (alpha 255) into one u32, R in the lowest byte: the bytes of a
// QImage in Format_RGBA8888. It does what engine/viewer.py's reduce and display_image do
// on the CPU, step for step.
//
// Bindings: 0 P (f32): exposure gain, 1 / gamma (1: no gamma), channel mode
//           1 M (i32): box x0 y0 width height (the image pixels shown), the input's
//             window x0 y0 width height, factor, output width, output height
//           2 OUT (u32): packed pixels, row-major, output width per row
//           3 SRC (vec4<f32>): the linear image, row-major over its window
//           4 the OCIO program's tables, where it has any
// Channel modes: 0 rgb, 1 r, 2 g, 3 b, 4 alpha (untransformed), 5 Rec.709 luminance.

//! section display
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read> M: array<i32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<u32>;
@group(0) @binding(3) var<storage, read> SRC: array<vec4<f32>>;

fn mb_fetch(x: i32, y: i32) -> vec4<f32> {
    let w = vec4<i32>(M[4], M[5], M[6], M[7]);
    if (x < w.x || y < w.y || x >= w.x + w.z || y >= w.y + w.w) {
        return vec4<f32>(0.0);
    }
    return SRC[u32((y - w.y) * w.z + (x - w.x))];
}

// One code value as the CPU's np.clip(nan_to_num(v) * 255 + 0.5, 0, 255).astype(uint8).
fn mb_code(v: f32) -> u32 {
    let finite = select(v, 0.0, v != v);
    return u32(clamp(finite * 255.0 + 0.5, 0.0, 255.0));
}

fn mb_pack(rgb: vec3<f32>) -> u32 {
    return mb_code(rgb.x) | (mb_code(rgb.y) << 8u) | (mb_code(rgb.z) << 16u) | (255u << 24u);
}

@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let out_w = M[9];
    let out_h = M[10];
    if (i32(gid.x) >= out_w || i32(gid.y) >= out_h) {
        return;
    }
    let factor = M[8];
    let box = vec4<i32>(M[0], M[1], M[2], M[3]);
    // the block: factor x factor pixels, fewer at the box's right and bottom edges
    let x0 = box.x + i32(gid.x) * factor;
    let y0 = box.y + i32(gid.y) * factor;
    let x1 = min(x0 + factor, box.x + box.z);
    let y1 = min(y0 + factor, box.y + box.w);
    var sum = vec4<f32>(0.0);
    for (var y = y0; y < y1; y++) {
        for (var x = x0; x < x1; x++) {
            sum += mb_fetch(x, y);
        }
    }
    let c = sum / f32((x1 - x0) * (y1 - y0));
    let mode = i32(P[2]);
    var shown: vec3<f32>;
    if (mode == 4) {
        shown = vec3<f32>(c.a);
    } else {
        let exposed = vec4<f32>(c.rgb * P[0], c.a);
        shown = ${ocio}(exposed).xyz;
        if (P[1] != 1.0) {
            let base = max(shown, vec3<f32>(0.0));
            shown = select(pow(base, vec3<f32>(P[1])), vec3<f32>(0.0), base <= vec3<f32>(0.0));
        }
        if (mode == 1) {
            shown = vec3<f32>(shown.x);
        } else if (mode == 2) {
            shown = vec3<f32>(shown.y);
        } else if (mode == 3) {
            shown = vec3<f32>(shown.z);
        } else if (mode == 5) {
            shown = vec3<f32>(dot(shown, vec3<f32>(0.2126, 0.7152, 0.0722)));
        }
    }
    OUT[u32(i32(gid.y) * out_w + i32(gid.x))] = mb_pack(shown);
}
//! end

//! section identity
// No display transform (alpha shown as grey needs none).
fn ${name}(c: vec4<f32>) -> vec4<f32> {
    return c;
}
//! end
