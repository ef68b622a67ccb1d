"""Proxy renders: the graph at 1/N scale equals the full render box-filtered by N."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render
from mattebox.engine.image import downscale
from mattebox.nodes.spec import Window
from tests.conftest import random_image

WIDTH, HEIGHT = 64, 48


def smooth_image(seed: int) -> np.ndarray:
    """Random RGBA varying slowly: 8×6 random values upsampled ×8 with linear
    interpolation. On such an image a 2×2 box filter barely changes what a blur or an
    integer translate does, so filtering commutes with them up to a small error."""
    coarse = random_image(HEIGHT // 8 + 1, WIDTH // 8 + 1, seed=seed, lo=0.0, hi=1.2)
    ys = np.linspace(0, coarse.shape[0] - 1, HEIGHT)
    xs = np.linspace(0, coarse.shape[1] - 1, WIDTH)
    rows = np.stack(
        [
            np.interp(ys, np.arange(coarse.shape[0]), coarse[:, j, c])
            for j in range(coarse.shape[1])
            for c in range(4)
        ],
        -1,
    )
    rows = rows.reshape(HEIGHT, coarse.shape[1], 4)
    out = np.stack(
        [
            np.interp(xs, np.arange(coarse.shape[1]), rows[i, :, c])
            for i in range(HEIGHT)
            for c in range(4)
        ],
        -1,
    )
    return out.reshape(HEIGHT, 4, WIDTH).transpose(0, 2, 1).astype(np.float32)


def _graph() -> mb.Graph:
    g = mb.Graph()
    g.settings.format = mb.Format(WIDTH, HEIGHT)
    return g


def _box(image: mb.Image, box, proxy: int) -> np.ndarray:
    """The full render's pixels of ``box`` box-filtered by ``proxy`` (the reference)."""
    return downscale(image.crop(box), Window(*box), proxy)[0]


def test_comp_at_proxy_2_matches_the_full_render_box_filtered(array_source, backend):
    g = _graph()
    read = array_source(g, smooth_image(seed=3))
    grade = g.add("Grade", inputs={"Source": read}, gain=[1.3, 1.1, 0.9, 1.0], black_clamp=False)
    blur = g.add("Blur", inputs={"Source": grade}, size=6)
    move = g.add("Transform", inputs={"Source": blur}, translate=[8, 4])
    back = g.add("Constant", color=[0.2, 0.3, 0.4, 1.0])
    merge = g.add("Merge", inputs={"B": back, "A": move}, operation="over")

    full = g.render(merge, backend=backend)
    proxy = g.render(merge, backend=backend, proxy=2)
    assert (full.proxy, proxy.proxy) == (1, 2)
    assert (proxy.format.width, proxy.format.height) == (WIDTH // 2, HEIGHT // 2)
    # Blur(6) at proxy 2 is Blur(3) of the box-filtered image; on a smooth image (and its
    # hard edge against black, blurred) the two orders differ by at most a few hundredths:
    # measured 0.031 at worst here (near the blurred edge), 0.05 leaves some margin.
    got = proxy.crop((0, 0, WIDTH // 2, HEIGHT // 2))
    want = _box(full, (0, 0, WIDTH, HEIGHT), 2)
    np.testing.assert_allclose(got, want, atol=0.05)


def test_point_ops_at_proxy_2_equal_the_box_filtered_full_render(array_source, backend):
    # Grade with gain and multiply only (no gamma, offset or clamps) and Saturation are
    # linear per pixel, so they commute with a box average exactly, up to float32
    # rounding; the partial blocks at the data window's edges too, where the average
    # takes in black from outside (an offset would not commute there: black stays black).
    g = _graph()
    pixels = random_image(HEIGHT - 1, WIDTH - 3, seed=7)  # odd sizes: partial edge blocks
    read = array_source(g, pixels, window=(1, 0, WIDTH - 2, HEIGHT - 1), size=(WIDTH, HEIGHT))
    grade = g.add(
        "Grade",
        inputs={"Source": read},
        gain=[1.3, 1.1, 0.9, 1.0],
        multiply=[0.9, 1.2, 1.0, 1.0],
        black_clamp=False,
    )
    sat = g.add("Saturation", inputs={"Source": grade}, saturation=1.7)
    full = g.render(sat, backend=backend)
    proxy = g.render(sat, backend=backend, proxy=2)
    assert proxy.data_window == (0, 0, WIDTH // 2 - 1, HEIGHT // 2)  # floor x0/y0, ceil x1/y1
    want, window = downscale(full.pixels, full.window, 2)
    assert window.as_tuple() == proxy.data_window
    np.testing.assert_allclose(proxy.pixels, want, atol=1e-5)


def test_proxy_1_is_the_full_render_bit_for_bit(array_source, backend):
    g = _graph()
    read = array_source(g, smooth_image(seed=5))
    blur = g.add("Blur", inputs={"Source": read}, size=2.5)
    move = g.add("Transform", inputs={"Source": blur}, translate=[3.5, 1.0])
    plain = g.render(move, backend=backend)
    render.session().cache.clear()
    again = g.render(move, backend=backend, proxy=1)
    assert again.proxy == 1 and again.data_window == plain.data_window
    assert np.array_equal(again.pixels, plain.pixels)
    assert render.evaluate(g, move, 1).hash == render.evaluate(g, move, 1, proxy=1).hash


def test_spatial_parameters_are_scaled_by_the_evaluator(array_source):
    g = _graph()
    read = array_source(g, smooth_image(seed=1))
    blur = g.add("Blur", inputs={"Source": read}, size=6)
    move = g.add("Transform", inputs={"Source": blur}, translate=[8, 4], center=[32, 24], rotate=10)
    crop = g.add("Crop", inputs={"Source": move}, box=[4, 2, 40, 30])
    board = g.add("Checkerboard", size=16, width=100)
    at2 = {n: render.evaluate(g, g[n], 1, proxy=2) for n in (blur.name, crop.name, board.name)}
    assert at2[blur.name].values["size"] == 3.0
    moved = at2[crop.name].inputs[0]
    assert moved.values["translate"] == (4.0, 2.0)
    assert moved.values["center"] == (16.0, 12.0)
    assert moved.values["rotate"] == 10  # not in pixels: unchanged
    assert at2[crop.name].values["box"] == (2.0, 1.0, 20.0, 15.0)
    board2 = at2[board.name]
    assert (board2.values["size"], board2.values["width"], board2.values["height"]) == (8, 50, 0)
    assert (board2.info.format.width, board2.info.format.height) == (50, HEIGHT // 2)
    # the node's own values are untouched
    assert g[blur.name]["size"] == 6


def test_hash_differs_between_proxy_levels(array_source):
    g = _graph()
    read = array_source(g, smooth_image(seed=2))
    grade = g.add("Grade", inputs={"Source": read}, gain=1.2)
    hashes = {p: render.evaluate(g, grade, 1, proxy=p).hash for p in (1, 2, 4)}
    assert len(set(hashes.values())) == 3
    sources = {p: render.evaluate(g, read, 1, proxy=p).hash for p in (1, 2)}
    assert sources[1] != sources[2]


def test_read_pixels_are_cached_per_proxy_level(array_source):
    g = _graph()
    pixels = smooth_image(seed=4)
    read = array_source(g, pixels)
    full = g.render(read, backend="cpu")
    half = g.render(read, backend="cpu", proxy=2)
    quarter = g.render(read, backend="cpu", proxy=4)
    np.testing.assert_array_equal(full.pixels, pixels)
    np.testing.assert_allclose(half.pixels, downscale(pixels, full.window, 2)[0], atol=1e-6)
    np.testing.assert_allclose(quarter.pixels, downscale(pixels, full.window, 4)[0], atol=1e-6)
    assert (half.format.width, quarter.format.height) == (WIDTH // 2, HEIGHT // 4)


@pytest.mark.parametrize("proxy", [0, -2, 1.5, True])
def test_bad_proxy_levels_are_refused(proxy):
    g = _graph()
    node = g.add("Constant")
    with pytest.raises(ValueError, match="proxy"):
        g.render(node, backend="cpu", proxy=proxy)
