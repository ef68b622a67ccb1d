// The shared WGSL library of the GPU backend (engine/backends/gpu/shaders.py composes it
// with the nodes' own .wgsl files). Each section is a string.Template.
//
// Every pass binds, in group 0:
//   0  P    array<f32>        the nodes' parameter blocks (a node reads P[o + k])
//   1  M    array<i32>        the pass's windows and offsets (layout per pass kind, below)
//   2  OUT  array<vec4<f32>>  the output tile, row-major, M[0..3] = x0 y0 width height
//   3+      inputs (array<vec4<f32>>, read), then scratch or tables
// Images are RGBA f32 pixels of a window, row-major with the window's width as stride;
// outside a buffer's window pixels are transparent black.

//! section common
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read> M: array<i32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<vec4<f32>>;

// Window k of the pass (M[4k..4k+3]) as x0 y0 width height.
fn mb_window(k: u32) -> vec4<i32> {
    return vec4<i32>(M[4u * k], M[4u * k + 1u], M[4u * k + 2u], M[4u * k + 3u]);
}

fn mb_inside(x: i32, y: i32, w: vec4<i32>) -> bool {
    return x >= w.x && y >= w.y && x < w.x + w.z && y < w.y + w.w;
}

fn mb_store(x: i32, y: i32, c: vec4<f32>) {
    let out = mb_window(0u);
    OUT[u32((y - out.y) * out.z + (x - out.x))] = c;
}
//! end

//! section input
// Input ${index} (binding ${binding}, window M[${window}..]).
@group(0) @binding(${binding}) var<storage, read> ${name}: array<vec4<f32>>;

fn mb_fetch_${name}(x: i32, y: i32) -> vec4<f32> {
    let w = mb_window(${window}u);
    if (!mb_inside(x, y, w)) {
        return vec4<f32>(0.0);
    }
    return ${name}[u32((y - w.y) * w.z + (x - w.x))];
}
//! end

//! section fused
// Fused point ops: M = out window, one window per input buffer, then per node its data
// window (x0 y0 x1 y1) and parameter offset, from M[${nodes}] on, 5 ints each. A node
// outside its own data window gives transparent black, as the CPU kernel does.
fn mb_node_on(n: u32, x: i32, y: i32) -> bool {
    let k = ${nodes}u + 5u * n;
    return x >= M[k] && y >= M[k + 1u] && x < M[k + 2u] && y < M[k + 3u];
}

fn mb_node_params(n: u32) -> u32 {
    return u32(M[${nodes}u + 5u * n + 4u]);
}

@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let out = mb_window(0u);
    if (i32(gid.x) >= out.z || i32(gid.y) >= out.w) {
        return;
    }
    let x = out.x + i32(gid.x);
    let y = out.y + i32(gid.y);
    let zero = vec4<f32>(0.0);
${body}
    mb_store(x, y, ${result});
}
//! end

//! section kernel
// An area or resample kernel: M = out window, input window, the tile given to the node
// (x0 y0 width height: the output rows this dispatch covers), the radius (M[12]), then
// the origins of the node's output and input coordinates (M[13..14], M[15..16]; zero
// unless the backend moved them to keep f32 positions small), then, for a node with more
// inputs (SRC1, SRC2... read by mb_fetch_SRC1(x, y) in image coordinates), their windows
// as windows 5, 6... (M[20..]).
fn mb_tile() -> ${tile_type} {
    let src = mb_window(1u);
    let dst = mb_window(2u);
    let org = vec2<i32>(M[13], M[14]);
    let src_org = vec2<i32>(M[15], M[16]);
    return ${tile_type}(${tile_fields});
}

@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let dst = mb_window(2u);
    if (i32(gid.x) >= dst.z || i32(gid.y) >= dst.w) {
        return;
    }
    let x = dst.x + i32(gid.x);
    let y = dst.y + i32(gid.y);
    let org = vec2<i32>(M[13], M[14]);
    mb_store(x, y, ${function}(mb_tile(), x - org.x, y - org.y, 0u));
}
//! end

//! section separable
// A separable area kernel in two dispatches through TMP (the node's first pass writes
// TMP, the second reads it); M as for a kernel.
@group(0) @binding(4) var<storage, read_write> TMP: array<vec4<f32>>;

fn mb_tile() -> ${tile_type} {
    let src = mb_window(1u);
    let dst = mb_window(2u);
    let org = vec2<i32>(0, 0);
    let src_org = vec2<i32>(0, 0);
    return ${tile_type}(${tile_fields});
}

@compute @workgroup_size(${wx}, ${wy})
fn first(@builtin(global_invocation_id) gid: vec3<u32>) {
    let dst = mb_window(2u);
    let radius = M[12];
    if (i32(gid.x) >= dst.z + 2 * radius || i32(gid.y) >= dst.w) {
        return;
    }
    let t = mb_tile();
    let x = dst.x - radius + i32(gid.x);
    let y = dst.y + i32(gid.y);
    TMP[${tmp_index}(t, x, y)] = ${first}(t, x, y, 0u);
}

@compute @workgroup_size(${wx}, ${wy})
fn second(@builtin(global_invocation_id) gid: vec3<u32>) {
    let dst = mb_window(2u);
    if (i32(gid.x) >= dst.z || i32(gid.y) >= dst.w) {
        return;
    }
    let x = dst.x + i32(gid.x);
    let y = dst.y + i32(gid.y);
    mb_store(x, y, ${second}(mb_tile(), x, y, 0u));
}
//! end

//! section source
// A generated source: M = out window; the node's parameters at P[0..].
@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let out = mb_window(0u);
    if (i32(gid.x) >= out.z || i32(gid.y) >= out.w) {
        return;
    }
    let x = out.x + i32(gid.x);
    let y = out.y + i32(gid.y);
    mb_store(x, y, ${function}(x, y, 0u));
}
//! end

//! section ocio
// An OCIO processor on premultiplied pixels, as engine/color.py's apply_cpu does it:
// outside the input's window black; where alpha <= 0 the stored colour is converted when
// the processor keeps black black (P[0] > 0.5), else left as it is. With P[1] > 0.5 the
// stored values are converted as they are and alpha is kept (apply_cpu's
// unpremultiply=False: the viewer's display transform of the image over black).
@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let out = mb_window(0u);
    if (i32(gid.x) >= out.z || i32(gid.y) >= out.w) {
        return;
    }
    let x = out.x + i32(gid.x);
    let y = out.y + i32(gid.y);
    if (!mb_inside(x, y, mb_window(1u))) {
        mb_store(x, y, vec4<f32>(0.0));
        return;
    }
    let c = mb_fetch_SRC(x, y);
    if (P[1] > 0.5) {
        mb_store(x, y, vec4<f32>(${straight}(c).xyz, c.a));
        return;
    }
    if (c.a <= 0.0 && P[0] < 0.5) {
        mb_store(x, y, c);
        return;
    }
    mb_store(x, y, ${function}(c));
}
//! end
