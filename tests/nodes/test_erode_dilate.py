"""ErodeDilate, through the engine on every backend, against scipy's grey morphology on
zero-padded data (outside the data window is black, the output window grows by r)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import grey_dilation, grey_erosion

import mattebox as mb
from mattebox.engine.backends.cpu import compiler
from mattebox.engine.image import Image
from mattebox.nodes.filter import erode_dilate
from mattebox.nodes.filter.erode_dilate import ErodeDilate
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.spec import Format
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 0.0, 0.0  # a min or max picks one input value: exact
WINDOW = (5, 3, 26, 18)  # 21 x 15 pixels, away from the origin


def footprint(radius, shape):
    """The window as a boolean (2r+1)² array, from the documented formula."""
    d = np.arange(-radius, radius + 1)
    if shape == "box":
        return np.ones((2 * radius + 1, 2 * radius + 1), bool)
    return d[:, None] ** 2 + d[None, :] ** 2 <= radius**2


def reference(pixels, window, size, shape):
    """Per-channel grey erosion/dilation of the zero-padded input; returns (pixels, window)."""
    radius = round(abs(size))
    padded = np.pad(pixels, ((2 * radius, 2 * radius), (2 * radius, 2 * radius), (0, 0)))
    operation = grey_dilation if size > 0 else grey_erosion
    fp = footprint(radius, shape)
    out = np.stack(
        [operation(padded[..., c], footprint=fp, mode="constant", cval=0.0) for c in range(4)],
        axis=-1,
    )[radius:-radius, radius:-radius]
    x0, y0, x1, y1 = window
    return out, (x0 - radius, y0 - radius, x1 + radius, y1 + radius)


def render(backend, array_source, pixels, window, region=None, **params):
    g = mb.Graph()
    source = array_source(g, pixels, window=window)
    node = g.add("ErodeDilate", inputs={"Source": source}, **params)
    return g.render(node, frame=1, backend=backend, region=region)


@pytest.mark.parametrize("shape", ["box", "disc"])
@pytest.mark.parametrize("size", [1.0, -2.4, 3.0, -5.0])
def test_erode_dilate_matches_scipy(backend, array_source, size, shape):
    # lo below 0: some values are negative, so dilate and erode both change the border.
    pixels = random_image(15, 21, seed=3, lo=-0.8)
    out = render(backend, array_source, pixels, WINDOW, size=size, shape=shape)
    expected, window = reference(pixels, WINDOW, size, shape)
    assert out.data_window == window
    np.testing.assert_array_equal(out.pixels, expected)


def test_erode_dilate_size_zero_passes_through(backend, array_source):
    pixels = random_image(15, 21, seed=4)
    out = render(backend, array_source, pixels, WINDOW, size=0.4)
    assert out.data_window == WINDOW
    np.testing.assert_array_equal(out.pixels, pixels)


@pytest.mark.parametrize("shape", ["box", "disc"])
def test_erode_dilate_tiled(backend, array_source, monkeypatch, shape):
    """Small memory budgets split the render into tiles with halos: same pixels."""
    pixels = random_image(40, 33, seed=6, lo=-0.5)
    window = (-4, 7, 29, 47)
    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", "0.02")
    monkeypatch.setenv("MATTEBOX_GPU_MEMORY", "0.02")
    out = render(backend, array_source, pixels, window, size=-3.0, shape=shape)
    expected, grown = reference(pixels, window, -3.0, shape)
    assert out.data_window == grown
    np.testing.assert_array_equal(out.pixels, expected)


def test_erode_dilate_region_of_interest(backend, array_source):
    pixels = random_image(15, 21, seed=5, lo=-0.5)
    region = (0, 8, 14, 20)  # crosses the left and bottom edges of the grown window
    out = render(backend, array_source, pixels, WINDOW, region=region, size=4.0, shape="disc")
    expected, window = reference(pixels, WINDOW, 4.0, "disc")
    full = Image(expected.astype(np.float32), window, Format(64, 48))
    np.testing.assert_array_equal(out.crop(region), full.crop(region))


def test_erode_dilate_kernel_writes_every_pixel_of_a_larger_destination():
    pixels = random_image(5, 7, seed=7, lo=-0.5)
    for shape in ("box", "disc"):
        args = ErodeDilate.kernel_args({"size": 2.0, "shape": shape}, None, None, None)
        dst = np.full((20, 21, 4), np.nan, np.float32)
        ErodeDilate.cpu_kernel(pixels, 3, 4, dst, -4, -3, *args)
        expected, window = reference(pixels, (3, 4, 10, 9), 2.0, shape)
        full = Image(expected.astype(np.float32), window, Format(20, 20))
        np.testing.assert_array_equal(dst, full.crop((-4, -3, 17, 17)))


def test_erode_dilate_wgsl_compiles():
    main = "let t = ErodeDilateTile(0, 0, 4, 4);\nOUT[0] = erode_dilate_pixel(t, 1, 2, 0u);"
    compile_wgsl(wgsl_source(ErodeDilate.__module__), main, reads=["SRC"])


@pytest.mark.parametrize("size", [7.0, -40.0])
def test_compiled_box_kernel_across_chunks_and_blocks(size):
    """The compiled box works in blocks of rows and chunks of columns: a source wider than
    a chunk and taller than a block, a destination that starts left of and above the
    source and reaches past it, and a window taller than the source."""
    pixels = random_image(37, 300, seed=8, lo=-0.5)
    sx0, sy0, dx0, dy0 = 5, 3, -20, -9
    dst = np.full((60, 340, 4), np.nan, np.float32)
    kernel = compiler.compiled(erode_dilate.erode_dilate_kernel)
    radius, dilate, disc = ErodeDilate.kernel_args({"size": size, "shape": "box"}, *[None] * 3)
    kernel(pixels, sx0, sy0, dst, dx0, dy0, radius, dilate, disc)
    expected, window = reference(pixels, (sx0, sy0, sx0 + 300, sy0 + 37), size, "box")
    full = Image(expected.astype(np.float32), window, Format(400, 100))
    np.testing.assert_array_equal(dst, full.crop((dx0, dy0, dx0 + 340, dy0 + 60)))
