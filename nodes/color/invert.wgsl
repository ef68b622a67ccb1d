// Invert: see invert.py. Parameters at P[o..o+3]: weight of the inverted value for r g b a.
fn invert_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    let w = vec4<f32>(P[o + 0u], P[o + 1u], P[o + 2u], P[o + 3u]);
    return c + (vec4<f32>(1.0) - c - c) * w;
}
