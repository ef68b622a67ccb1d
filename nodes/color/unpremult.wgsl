// Unpremult: see unpremult.py. No parameters.
fn unpremult_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    if (c.a == 0.0) {
        return c;
    }
    return vec4<f32>(c.rgb / c.a, c.a);
}
