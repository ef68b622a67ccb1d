"""EdgeDetect, through the engine on every backend, against scipy's Sobel filters on
zero-padded data: ``hypot(sobel(axis=1), sobel(axis=0))`` per colour channel, alpha the
input's, the data window grown by 1."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import sobel

import mattebox as mb
from mattebox.engine.image import Image
from mattebox.nodes.filter.edge_detect import EdgeDetect
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.spec import Format
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 1e-5, 1e-5  # f32 sums of 8 values <= 1.5 and a square root
WINDOW = (5, 3, 26, 18)  # 21 x 15 pixels, away from the origin


def reference(pixels, window):
    """Float64 Sobel magnitude of the input padded by 2 zeros, cut to the grown window."""
    padded = np.pad(pixels.astype(np.float64), ((2, 2), (2, 2), (0, 0)))
    out = np.empty_like(padded)
    for c in range(3):
        gx = sobel(padded[..., c], axis=1, mode="constant", cval=0.0)
        gy = sobel(padded[..., c], axis=0, mode="constant", cval=0.0)
        out[..., c] = np.hypot(gx, gy)
    out[..., 3] = padded[..., 3]
    x0, y0, x1, y1 = window
    return out[1:-1, 1:-1], (x0 - 1, y0 - 1, x1 + 1, y1 + 1)


def render(backend, array_source, pixels, window, region=None):
    g = mb.Graph()
    node = g.add("EdgeDetect", inputs={"Source": array_source(g, pixels, window=window)})
    return g.render(node, frame=1, backend=backend, region=region)


def test_edge_detect_matches_scipy(backend, array_source):
    pixels = random_image(15, 21, seed=3)
    out = render(backend, array_source, pixels, WINDOW)
    expected, window = reference(pixels, WINDOW)
    assert out.data_window == window
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_edge_detect_tiled(backend, array_source, monkeypatch):
    """Small memory budgets split the render into tiles with halos: same pixels."""
    pixels = random_image(41, 33, seed=6)
    window = (-4, 7, 29, 48)
    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", "0.02")
    monkeypatch.setenv("MATTEBOX_GPU_MEMORY", "0.02")
    out = render(backend, array_source, pixels, window)
    expected, grown = reference(pixels, window)
    assert out.data_window == grown
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_edge_detect_region_of_interest(backend, array_source):
    pixels = random_image(15, 21, seed=5)
    region = (0, 8, 14, 20)  # crosses the left and bottom edges of the grown window
    out = render(backend, array_source, pixels, WINDOW, region=region)
    expected, window = reference(pixels, WINDOW)
    full = Image(expected.astype(np.float32), window, Format(64, 48))
    np.testing.assert_allclose(out.crop(region), full.crop(region), rtol=RTOL, atol=ATOL)


def test_edge_detect_kernel_writes_every_pixel_of_a_larger_destination():
    pixels = random_image(5, 7, seed=7)
    dst = np.full((20, 21, 4), np.nan, np.float32)
    EdgeDetect.cpu_kernel(pixels, 3, 4, dst, -4, -3)
    expected, window = reference(pixels, (3, 4, 10, 9))
    full = Image(expected.astype(np.float32), window, Format(20, 20))
    np.testing.assert_allclose(dst, full.crop((-4, -3, 17, 17)), rtol=RTOL, atol=ATOL)


def test_edge_detect_wgsl_compiles():
    main = "let t = EdgeDetectTile(0, 0, 4, 4);\nOUT[0] = edge_detect_pixel(t, 1, 2, 0u);"
    compile_wgsl(wgsl_source(EdgeDetect.__module__), main, reads=["SRC"])
