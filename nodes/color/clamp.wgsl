// Clamp: see clamp.py. Parameters at P[o..o+8]: minimum(4) maximum(4) mix.
// min(max()) rather than clamp(): WGSL's clamp may return the median when low > high.
fn clamp_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    let lo = vec4<f32>(P[o + 0u], P[o + 1u], P[o + 2u], P[o + 3u]);
    let hi = vec4<f32>(P[o + 4u], P[o + 5u], P[o + 6u], P[o + 7u]);
    return mix(c, min(max(c, lo), hi), P[o + 8u]);
}
