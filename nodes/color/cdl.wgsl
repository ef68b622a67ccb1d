// CDL: see cdl.py. Parameters at P[o..o+11]: slope(3) offset(3) power(3) saturation inverse
// clamp. For the inverse they hold 1/slope, -offset, 1/power, 1/saturation.
fn cdl_clamp(v: vec3<f32>, clamp_on: f32) -> vec3<f32> {
    if (clamp_on > 0.5) {
        return min(max(v, vec3<f32>(0.0)), vec3<f32>(1.0));
    }
    return v;
}

fn cdl_power(v: vec3<f32>, power: vec3<f32>, clamp_on: f32) -> vec3<f32> {
    let x = cdl_clamp(v, clamp_on);
    // pow() is undefined for negative bases: pass those through (the no-clamp style).
    return select(pow(max(x, vec3<f32>(0.0)), power), x, x < vec3<f32>(0.0));
}

fn cdl_saturate(v: vec3<f32>, sat: f32) -> vec3<f32> {
    let luma = dot(v, vec3<f32>(0.2126, 0.7152, 0.0722));
    return vec3<f32>(luma) + sat * (v - vec3<f32>(luma));
}

fn cdl_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    let slope = vec3<f32>(P[o + 0u], P[o + 1u], P[o + 2u]);
    let offset = vec3<f32>(P[o + 3u], P[o + 4u], P[o + 5u]);
    let power = vec3<f32>(P[o + 6u], P[o + 7u], P[o + 8u]);
    let sat = P[o + 9u];
    let clamp_on = P[o + 11u];
    if (P[o + 10u] > 0.5) {
        let s = cdl_saturate(cdl_clamp(c.rgb, clamp_on), sat);
        let v = cdl_power(s, power, clamp_on);
        return vec4<f32>(cdl_clamp((v + offset) * slope, clamp_on), c.a);
    }
    let v = cdl_power(c.rgb * slope + offset, power, clamp_on);
    return vec4<f32>(cdl_clamp(cdl_saturate(v, sat), clamp_on), c.a);
}
