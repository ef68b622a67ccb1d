"""CornerPin, through the engine on every backend, against a float64 numpy reference written
here (independently of nodes/transform/resample.py).

The reference solves the homography as the 8×8 linear system of the four point pairs
(``h22 = 1``) with ``np.linalg.solve``, maps each output pixel centre back through its
inverse, leaves black the pixels whose input point lies on the far side of the horizon
from the ``from`` quad (``w`` of the other sign), and filters separably with the tent
(``linear``) widened per pixel by ``max(1, |row of the Jacobian|)``, at most 8, the
Jacobian taken by central differences of the map; weights normalised over their taps,
black outside the input.
"""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render
from mattebox.engine.image import Image
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.spec import Format
from mattebox.nodes.transform import resample
from mattebox.nodes.transform.corner_pin import CornerPin
from tests.conftest import FILTER_KERNELS, compile_wgsl, random_image

RTOL, ATOL = 1e-5, 2e-5  # float32 positions on the GPU, float64 Jacobians on the CPU
WINDOW = (4, 3, 23, 16)  # 19 x 13 pixels, away from the origin
SIZE = (26, 20)  # the format
# The corners of the input's window, bottom-left, bottom-right, top-right, top-left (y down).
BOX = ((4.0, 16.0), (23.0, 16.0), (23.0, 3.0), (4.0, 3.0))
MAX_WIDEN = 8.0


def pin_values(origin, to, **more):
    values = {f"from{k + 1}": origin[k] for k in range(4)}
    return values | {f"to{k + 1}": to[k] for k in range(4)} | more


def solve_homography(origin, to):
    """The 3×3 H with H (x, y, 1) ~ (X, Y, 1) for the four pairs: the 8×8 system."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(origin, to):
        rows.append([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y])
        rows.append([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y])
        rhs += [u, v]
    h = np.linalg.solve(np.array(rows), np.array(rhs))
    return np.append(h, 1.0).reshape(3, 3)


def reference_pin(pixels, window, forward, front_sign, out_window):
    """Float64 pixels of ``out_window``: ``pixels`` (over ``window``) pinned through
    ``forward`` with the widened tent; ``front_sign`` is the sign of ``w`` on the input's
    visible side."""
    inverse = np.linalg.inv(forward)
    x0, y0, x1, y1 = out_window
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5

    def back(px, py):
        p = inverse @ np.stack([px.ravel(), py.ravel(), np.ones(px.size)])
        return p[0] / p[2], p[1] / p[2]

    u, v = back(xs, ys)
    front = np.sign(forward[2] @ np.stack([u, v, np.ones(u.size)])) == front_sign
    d = 1e-4
    ux1, vx1 = back(xs + d, ys)
    ux0, vx0 = back(xs - d, ys)
    uy1, vy1 = back(xs, ys + d)
    uy0, vy0 = back(xs, ys - d)
    widen_x = np.clip(np.hypot(ux1 - ux0, uy1 - uy0) / (2 * d), 1.0, MAX_WIDEN)
    widen_y = np.clip(np.hypot(vx1 - vx0, vy1 - vy0) / (2 * d), 1.0, MAX_WIDEN)
    radius, weight = FILTER_KERNELS["linear"]
    src = pixels.astype(np.float64)
    h, w = src.shape[:2]
    out = np.zeros((u.size, 4))
    for n in np.flatnonzero(front & (np.abs(u) < 1e6) & (np.abs(v) < 1e6)):
        fx, fy = u[n] - 0.5 - window[0], v[n] - 0.5 - window[1]
        ix = np.arange(np.floor(fx - radius * widen_x[n]), np.ceil(fx + radius * widen_x[n]) + 1)
        iy = np.arange(np.floor(fy - radius * widen_y[n]), np.ceil(fy + radius * widen_y[n]) + 1)
        wx, wy = weight((ix - fx) / widen_x[n]), weight((iy - fy) / widen_y[n])
        wx, wy = wx / wx.sum(), wy / wy.sum()
        keep_x, keep_y = (ix >= 0) & (ix < w), (iy >= 0) & (iy < h)
        patch = src[iy[keep_y].astype(int)][:, ix[keep_x].astype(int)]
        out[n] = np.einsum("j,i,jic->c", wy[keep_y], wx[keep_x], patch)
    return out.reshape(y1 - y0, x1 - x0, 4)


def render_pin(backend, array_source, pixels, region=None, **values):
    g = mb.Graph()
    source = array_source(g, pixels, window=WINDOW, size=SIZE)
    node = g.add("CornerPin", inputs={"Source": source}, **values)
    return render.render(g, node, backend=backend, region=region, use_cache=False)


def check_against_reference(out, pixels, origin, to, invert=False):
    """Pixels match the reference; nothing non-zero lies outside the data window."""
    forward = solve_homography(to, origin) if invert else solve_homography(origin, to)
    quad = to if invert else origin  # the visible side holds the source quad's centre
    sign = np.sign(forward[2] @ np.append(np.mean(quad, axis=0), 1.0))
    x0, y0, x1, y1 = out.data_window
    around = (x0 - 6, y0 - 6, x1 + 6, y1 + 6)
    expected = reference_pin(pixels, WINDOW, forward, sign, around)
    wanted = Image(expected.astype(np.float32), around, Format(*SIZE)).crop(out.data_window)
    np.testing.assert_allclose(out.pixels, wanted, rtol=RTOL, atol=ATOL)
    outside = expected.copy()
    outside[6:-6, 6:-6] = 0.0
    assert np.abs(outside).max() < 1e-9, "the data window cuts off non-zero pixels"
    assert np.abs(expected).max() > 0.1


# A perspective pin (the top recedes: widening up to 2 there, magnified at the bottom),
# and the image pinned small and far away (widening 1.6 to 23: the cap of 8 applies).
CASES = {
    "perspective": ((1.0, 18.0), (27.0, 15.0), (20.0, 4.0), (6.0, 2.0)),
    "far": ((9.5, 11.5), (12.5, 11.0), (12.0, 9.0), (10.0, 9.2)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_corner_pin_matches_reference(backend, array_source, case):
    pixels = random_image(13, 19, seed=21)
    to = CASES[case]
    out = render_pin(backend, array_source, pixels, **pin_values(BOX, to, filter="linear"))
    check_against_reference(out, pixels, BOX, to)


def test_invert_maps_to_onto_from(backend, array_source):
    """``invert``: the map from ``to`` to ``from``; the input's box as ``to`` un-pins a
    quad inside it back to the full box."""
    pixels = random_image(13, 19, seed=22)
    quad = ((6.0, 14.0), (20.0, 15.5), (18.0, 5.0), (7.5, 4.0))
    values = pin_values(quad, BOX, invert=True, filter="linear")
    out = render_pin(backend, array_source, pixels, **values)
    check_against_reference(out, pixels, quad, BOX, invert=True)


def test_horizon_is_black_and_the_window_is_clipped(backend, array_source):
    """A quad folded over (two corners dragged across each other) puts part of the input
    past the horizon: pixels that would show it are black, the rest match, and the window
    stops at the format grown by its size on every side."""
    pixels = random_image(13, 19, seed=23)
    to = ((1.35, -0.15), (27.6, 11.6), (7.6, -0.4), (9.85, 9.1))
    out = render_pin(backend, array_source, pixels, **pin_values(BOX, to, filter="nearest"))
    x0, y0, x1, y1 = out.data_window
    assert (x0, y0, x1, y1) == (-SIZE[0], -SIZE[1], 2 * SIZE[0], 2 * SIZE[1])
    forward = solve_homography(BOX, to)
    sign = np.sign(forward[2] @ np.append(np.mean(BOX, axis=0), 1.0))
    inverse = np.linalg.inv(forward)
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    p = inverse @ np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    u, v = p[0] / p[2], p[1] / p[2]
    front = np.sign(forward[2] @ np.stack([u, v, np.ones(u.size)])) == sign
    i, j = np.floor(u).astype(np.int64) - WINDOW[0], np.floor(v).astype(np.int64) - WINDOW[1]
    inside = front & (i >= 0) & (i < 19) & (j >= 0) & (j < 13)
    expected = np.zeros((u.size, 4))
    expected[inside] = pixels[j[inside], i[inside]]
    # a sample on a pixel edge may pick either neighbour (float32 positions on the GPU)
    ties = (np.abs(u - np.round(u)) < 1e-4) | (np.abs(v - np.round(v)) < 1e-4)
    actual = out.pixels.reshape(-1, 4)
    np.testing.assert_array_equal(actual[~ties], expected[~ties].astype(np.float32))
    # pixels whose line of sight meets the input behind the horizon show nothing of it
    behind = ~front & (u > 4.1) & (u < 22.9) & (v > 3.1) & (v < 15.9)
    assert np.count_nonzero(behind) > 100 and np.abs(actual[~front]).max() == 0.0


def test_identity_pin_is_the_input(backend, array_source):
    """``to`` on the input format's corners with ``from_format``: the input, exactly."""
    pixels = random_image(13, 19, seed=24)
    w, h = SIZE
    to = ((0.0, h), (w, h), (w, 0.0), (0.0, 0.0))
    values = {f"to{k + 1}": to[k] for k in range(4)}
    out = render_pin(backend, array_source, pixels, from_format=True, filter="cubic", **values)
    assert out.data_window == WINDOW
    np.testing.assert_array_equal(out.pixels, pixels)
    assert CornerPin.pass_through(CornerPin.defaults()) == "Source"


def test_translation_pin_equals_transform(backend, array_source):
    pixels = random_image(13, 19, seed=25)
    move = (2.3, -1.6)
    to = tuple((x + move[0], y + move[1]) for x, y in BOX)
    pinned = render_pin(backend, array_source, pixels, **pin_values(BOX, to, filter="cubic"))
    g = mb.Graph()
    source = array_source(g, pixels, window=WINDOW, size=SIZE)
    node = g.add("Transform", inputs={"Source": source}, translate=move, filter="cubic")
    moved = render.render(g, node, backend=backend, use_cache=False)
    assert pinned.data_window == moved.data_window
    np.testing.assert_allclose(pinned.pixels, moved.pixels, rtol=1e-5, atol=1e-5)


def test_tiles_and_regions_give_the_same_pixels(backend, array_source, monkeypatch):
    pixels = random_image(13, 19, seed=26)
    values = pin_values(BOX, CASES["perspective"], filter="cubic")
    g = mb.Graph()
    source = array_source(g, pixels, window=WINDOW, size=SIZE)
    node = g.add("CornerPin", inputs={"Source": source}, **values)
    whole = render.render(g, node, backend=backend, use_cache=False)
    budget = "MATTEBOX_GPU_MEMORY" if backend == "gpu" else "MATTEBOX_CPU_MEMORY"
    monkeypatch.setenv(budget, "0.01")  # MiB: a few rows a tile
    assert len(render.plan(g, node, backend=backend, use_cache=False).tiles) >= 3
    tiled = render.render(g, node, backend=backend, use_cache=False)
    assert tiled.data_window == whole.data_window
    np.testing.assert_array_equal(tiled.pixels, whole.pixels)
    x0, y0, x1, y1 = whole.data_window
    region = ((x0 + x1) // 2 - 3, y0 + 2, x1 - 1, (y0 + y1) // 2 + 4)
    part = render.render(g, node, backend=backend, region=region, use_cache=False)
    np.testing.assert_allclose(part.crop(region), whole.crop(region), rtol=1e-6, atol=1e-6)


def test_three_corners_on_a_line_is_an_error(array_source):
    g = mb.Graph()
    source = array_source(g, random_image(13, 19, seed=27), window=WINDOW, size=SIZE)
    to = ((0.0, 10.0), (5.0, 10.0), (12.0, 10.0), (3.0, 0.0))
    node = g.add("CornerPin", inputs={"Source": source}, **pin_values(BOX, to))
    with pytest.raises(mb.RenderError, match=r"^CornerPin1: to1, to2 and to3 lie on one line"):
        g.render(node, backend="cpu")


def test_corner_pin_wgsl_compiles_and_shares_the_cap():
    source = wgsl_source(resample.__name__) + wgsl_source(CornerPin.__module__)
    main = "OUT[0] = corner_pin_pixel(ResampleTile(0, 0, 4, 4, 0, 0, 4, 4), 1, 2, 0u);"
    compile_wgsl(source, main, reads=["SRC"])
    assert resample.MAX_WIDEN == MAX_WIDEN
    assert f"RESAMPLE_MAX_WIDEN: f32 = {MAX_WIDEN};" in wgsl_source(resample.__name__)
