"""Blur, through the engine on every backend, against scipy's correlate1d on zero-padded data.

The reference builds the Gaussian taps from the documented formula in float64 (sigma =
size/3, r = ceil(size), normalised) and correlates a zero-padded copy of the input along
y then x, so "outside the data window is black" and the grown data window come for free.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.ndimage import correlate1d

import mattebox as mb
from mattebox.engine.backends.cpu import compiler
from mattebox.engine.image import Image
from mattebox.nodes.filter import blur
from mattebox.nodes.filter.blur import Blur
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.spec import Format
from tests.conftest import compile_wgsl, random_image

# float32 sums of up to 31 products of values <= 1.5 against float64: ~1e-6 absolute.
RTOL, ATOL = 1e-5, 3e-6
WINDOW = (5, 3, 34, 22)  # 29 x 19 pixels, away from the origin


def reference_blur(pixels, window, size):
    """Float64 Gaussian blur of ``pixels`` (covering ``window``); returns (pixels, window)."""
    radius = math.ceil(size)
    sigma = size / 3.0
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-(offsets**2) / (2.0 * sigma**2))
    weights /= weights.sum()
    padded = np.pad(pixels.astype(np.float64), ((radius, radius), (radius, radius), (0, 0)))
    out = correlate1d(padded, weights, axis=0, mode="constant", cval=0.0)
    out = correlate1d(out, weights, axis=1, mode="constant", cval=0.0)
    x0, y0, x1, y1 = window
    return out, (x0 - radius, y0 - radius, x1 + radius, y1 + radius)


def render(backend, array_source, pixels, window, region=None, **params):
    g = mb.Graph()
    node = g.add("Blur", inputs={"Source": array_source(g, pixels, window=window)}, **params)
    return g.render(node, frame=1, backend=backend, region=region)


@pytest.mark.parametrize("size", [0.5, 1.0, 3.0, 7.5, 15.0])
def test_blur_matches_scipy(backend, array_source, size):
    pixels = random_image(19, 29, seed=3)
    out = render(backend, array_source, pixels, WINDOW, size=size)
    expected, window = reference_blur(pixels, WINDOW, size)
    assert out.data_window == window
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_blur_size_zero_passes_through(backend, array_source):
    pixels = random_image(19, 29, seed=4)
    out = render(backend, array_source, pixels, WINDOW, size=0.0)
    assert out.data_window == WINDOW
    np.testing.assert_array_equal(out.pixels, pixels)


def test_blur_region_of_interest(backend, array_source):
    pixels = random_image(19, 29, seed=5)
    region = (0, 10, 20, 27)  # crosses the left and bottom edges of the grown window
    out = render(backend, array_source, pixels, WINDOW, region=region, size=4.0)
    expected, window = reference_blur(pixels, WINDOW, 4.0)
    full = Image(expected.astype(np.float32), window, Format(64, 48))
    np.testing.assert_allclose(out.crop(region), full.crop(region), rtol=RTOL, atol=ATOL)


def test_blur_kernel_writes_every_pixel_of_a_larger_destination():
    pixels = random_image(5, 7, seed=7)
    weights = Blur.kernel_args({"size": 1.5}, None, None, None)[0]
    dst = np.full((20, 21, 4), np.nan, np.float32)  # far beyond the blurred pixels
    Blur.cpu_kernel(pixels, 3, 4, dst, -4, -3, weights)
    expected, window = reference_blur(pixels, (3, 4, 10, 9), 1.5)
    full = Image(expected.astype(np.float32), window, Format(20, 20))
    np.testing.assert_allclose(dst, full.crop((-4, -3, 17, 17)), rtol=RTOL, atol=ATOL)


def gaussian_matrix(outputs, inputs, size):
    """Float64 (len(outputs), len(inputs)) matrix of the documented Gaussian taps: output
    pixel ``o`` takes ``g(i - o)`` from input pixel ``i`` within ``r = ceil(size)``."""
    radius = math.ceil(size)
    sigma = size / 3.0
    offset = np.asarray(inputs)[None, :] - np.asarray(outputs)[:, None]
    taps = np.exp(-(np.arange(-radius, radius + 1) ** 2) / (2.0 * sigma**2))
    weights = np.exp(-(offset.astype(np.float64) ** 2) / (2.0 * sigma**2)) / taps.sum()
    return np.where(np.abs(offset) <= radius, weights, 0.0)


@pytest.mark.parametrize("size", [3.0, 7.5, 40.0])
def test_compiled_blur_kernel_matches_a_float64_matrix_reference(size):
    """The compiled kernel works in blocks of rows and chunks of columns: a source wider
    than a chunk and taller than a block, a destination that starts left of and above the
    source and reaches past it (black there), and more taps than the source has rows."""
    pixels = random_image(37, 300, seed=8)
    sx0, sy0, dx0, dy0 = 5, 3, -20, -9
    dst = np.full((60, 340, 4), np.nan, np.float32)
    kernel = compiler.compiled(blur.blur_kernel)
    kernel(pixels, sx0, sy0, dst, dx0, dy0, blur.gaussian_weights(size))
    wy = gaussian_matrix(np.arange(dy0, dy0 + 60), np.arange(sy0, sy0 + 37), size)
    wx = gaussian_matrix(np.arange(dx0, dx0 + 340), np.arange(sx0, sx0 + 300), size)
    expected = np.einsum("yj,xi,jic->yxc", wy, wx, pixels.astype(np.float64))
    np.testing.assert_allclose(dst, expected, rtol=RTOL, atol=ATOL)


def test_blur_wgsl_compiles():
    main = (
        "let t = BlurTile(0, 0, 4, 4, 0, 0, 4, 4, 1);\n"
        "TMP[0] = blur_vertical(t, 0, 0, 0u);\n"
        "OUT[0] = blur_horizontal(t, 1, 0, 0u);"
    )
    compile_wgsl(wgsl_source(Blur.__module__), main, reads=["SRC"], writes=["TMP", "OUT"])
