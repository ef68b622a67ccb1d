// ColorBars: see color_bars.py. Parameters at P[o..o+42]:
// smpte (0/1) width height, then 13 patches' RGB (palette index i at P[o + 3 + 3i]).
fn color_bars_patch(u: i32, row: i32, smpte: bool) -> i32 {
    let bar = u / 12;
    if (!smpte || row < 8) {
        return bar;  // the top bars are palette entries 0..6 in order
    }
    if (row == 8) {
        var middle = array<i32, 7>(6, 7, 4, 7, 2, 7, 0);
        return middle[bar];
    }
    if (u < 60) {
        var bottom = array<i32, 4>(9, 8, 10, 7);
        return bottom[u / 15];
    }
    if (u < 72) {
        var pluge = array<i32, 3>(11, 7, 12);
        return pluge[(u - 60) / 4];
    }
    return 7;
}

fn color_bars_source(x: i32, y: i32, o: u32) -> vec4<f32> {
    let width = i32(P[o + 1u]);
    let height = i32(P[o + 2u]);
    if (x < 0 || y < 0 || x >= width || y >= height) {
        return vec4<f32>(0.0);
    }
    let i = u32(color_bars_patch(x * 84 / width, y * 12 / height, P[o] > 0.5));
    let at = o + 3u + 3u * i;
    return vec4<f32>(P[at], P[at + 1u], P[at + 2u], 1.0);
}
