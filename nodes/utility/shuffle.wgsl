// Shuffle: see shuffle.py. Parameters at P[o..o+3]: source index (r g b a 0 1) for the
// red, green, blue and alpha outputs.
fn shuffle_pick(c: vec4<f32>, k: f32) -> f32 {
    if (k < 3.5) {
        return c[u32(k)];
    }
    return select(0.0, 1.0, k > 4.5);
}

fn shuffle_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    return vec4<f32>(
        shuffle_pick(c, P[o + 0u]),
        shuffle_pick(c, P[o + 1u]),
        shuffle_pick(c, P[o + 2u]),
        shuffle_pick(c, P[o + 3u]),
    );
}
