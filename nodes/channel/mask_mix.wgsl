// MaskMix: see mask_mix.py. Parameters at P[o..o+8]: select(4) mix mask_component
// invert_mask use_mask.
fn mask_mix_point(original: vec4<f32>, processed: vec4<f32>, mask: vec4<f32>, o: u32) -> vec4<f32> {
    var m = P[o + 4u];
    if (P[o + 7u] > 0.5) {
        var v = mask[u32(P[o + 5u])];
        if (P[o + 6u] > 0.5) { v = 1.0 - v; }
        m = m * v;
    }
    let sel = vec4<f32>(P[o + 0u], P[o + 1u], P[o + 2u], P[o + 3u]);
    return original + (processed - original) * m * sel;
}
