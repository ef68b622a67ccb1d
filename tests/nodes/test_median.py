"""Median, through the engine on every backend, against scipy's median_filter with zeros
outside the data window (mode constant, cval 0), computed over a padded canvas so that
the reference also shows the output's data window is the input's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import median_filter

import mattebox as mb
from mattebox.engine.image import Image
from mattebox.nodes.filter.median import Median
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.spec import Format
from tests.conftest import compile_wgsl, random_image

WINDOW = (5, 3, 24, 16)  # 19 x 13 pixels, away from the origin


def reference(pixels, size):
    """scipy's per-channel median on a canvas ``2 * size`` larger on every side, so the
    pixels around the input show what the node leaves outside its data window."""
    pad = 2 * size
    padded = np.pad(pixels.astype(np.float64), ((pad, pad), (pad, pad), (0, 0)))
    side = 2 * size + 1
    return median_filter(padded, size=(side, side, 1), mode="constant", cval=0.0), pad


def render(backend, array_source, pixels, window, region=None, **params):
    g = mb.Graph()
    node = g.add("Median", inputs={"Source": array_source(g, pixels, window=window)}, **params)
    return g.render(node, frame=1, backend=backend, region=region)


@pytest.mark.parametrize("size", [1, 2, 3])
def test_median_matches_scipy(backend, array_source, size):
    pixels = random_image(13, 19, seed=3, lo=-0.8)
    out = render(backend, array_source, pixels, WINDOW, size=size)
    expected, pad = reference(pixels, size)
    assert out.data_window == WINDOW
    # Outside the data window the median is 0, as the unchanged data window says.
    inner = expected[pad:-pad, pad:-pad]
    assert not np.any(expected[:pad]) and not np.any(expected[:, :pad])
    assert not np.any(expected[-pad:]) and not np.any(expected[:, -pad:])
    np.testing.assert_allclose(out.pixels, inner, rtol=0, atol=1e-7)


def test_median_size_zero_passes_through(backend, array_source):
    pixels = random_image(13, 19, seed=4)
    out = render(backend, array_source, pixels, WINDOW, size=0)
    assert out.data_window == WINDOW
    np.testing.assert_array_equal(out.pixels, pixels)


def test_median_tiled(backend, array_source, monkeypatch):
    """Small memory budgets split the render into tiles with halos: same pixels."""
    pixels = random_image(36, 27, seed=6, lo=-0.5)
    window = (-4, 7, 23, 43)
    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", "0.02")
    monkeypatch.setenv("MATTEBOX_GPU_MEMORY", "0.02")
    out = render(backend, array_source, pixels, window, size=2)
    expected, pad = reference(pixels, 2)
    assert out.data_window == window
    np.testing.assert_allclose(out.pixels, expected[pad:-pad, pad:-pad], rtol=0, atol=1e-7)


def test_median_region_of_interest(backend, array_source):
    pixels = random_image(13, 19, seed=5)
    region = (0, 8, 14, 20)  # crosses the left and bottom edges of the data window
    out = render(backend, array_source, pixels, WINDOW, region=region, size=2)
    expected, pad = reference(pixels, 2)
    x0, y0, x1, y1 = WINDOW
    full = Image(
        expected.astype(np.float32), (x0 - pad, y0 - pad, x1 + pad, y1 + pad), Format(64, 48)
    )
    np.testing.assert_allclose(out.crop(region), full.crop(region), rtol=0, atol=1e-7)


def test_median_kernel_writes_every_pixel_of_a_larger_destination():
    pixels = random_image(5, 7, seed=7, lo=-0.5)
    dst = np.full((20, 21, 4), np.nan, np.float32)
    Median.cpu_kernel(pixels, 3, 4, dst, -4, -3, 2)
    expected, pad = reference(pixels, 2)
    full = Image(expected.astype(np.float32), (3 - pad, 4 - pad, 10 + pad, 9 + pad), Format(20, 20))
    np.testing.assert_allclose(dst, full.crop((-4, -3, 17, 17)), rtol=0, atol=1e-7)


def test_median_wgsl_compiles():
    main = "let t = MedianTile(0, 0, 4, 4);\nOUT[0] = median_pixel(t, 1, 2, 0u);"
    compile_wgsl(wgsl_source(Median.__module__), main, reads=["SRC"])
