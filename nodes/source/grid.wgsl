// Grid: see grid.py. Parameters at P[o..o+8]: size thickness color(4) width height.
fn grid_on_line(start: f32, size: f32, thickness: f32) -> bool {
    let r = start - size * floor(start / size);
    return thickness > 0.0 && (r < thickness || size - r < 1.0);
}

fn grid_source(x: i32, y: i32, o: u32) -> vec4<f32> {
    if (x < 0 || y < 0 || f32(x) >= P[o + 6u] || f32(y) >= P[o + 7u]) {
        return vec4<f32>(0.0);
    }
    let size = P[o + 0u];
    let thickness = P[o + 1u];
    if (grid_on_line(f32(x), size, thickness) || grid_on_line(f32(y), size, thickness)) {
        return vec4<f32>(P[o + 2u], P[o + 3u], P[o + 4u], P[o + 5u]);
    }
    return vec4<f32>(0.0);
}
