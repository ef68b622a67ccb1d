"""Sharpen, through the engine on every backend, against ``in + amount * (in - blur)``
with the blur from scipy's correlate1d on zero-padded data and the Gaussian taps built
from the documented formula in float64 (sigma = size/3, r = ceil(size), normalised)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.ndimage import correlate1d

import mattebox as mb
from mattebox.engine.image import Image
from mattebox.nodes.filter.sharpen import Sharpen
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.spec import Format
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 1e-5, 1e-5  # f32 blur sums (as Blur's test) scaled by amount <= 2
WINDOW = (5, 3, 26, 18)  # 21 x 15 pixels, away from the origin


def reference(pixels, window, size, amount):
    """Float64 unsharp mask of ``pixels``; returns (pixels, grown window)."""
    radius = math.ceil(size)
    sigma = size / 3.0
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-(offsets**2) / (2.0 * sigma**2))
    weights /= weights.sum()
    padded = np.pad(pixels.astype(np.float64), ((radius, radius), (radius, radius), (0, 0)))
    blurred = correlate1d(padded, weights, axis=0, mode="constant", cval=0.0)
    blurred = correlate1d(blurred, weights, axis=1, mode="constant", cval=0.0)
    x0, y0, x1, y1 = window
    grown = (x0 - radius, y0 - radius, x1 + radius, y1 + radius)
    return padded + amount * (padded - blurred), grown


def render(backend, array_source, pixels, window, region=None, **params):
    g = mb.Graph()
    node = g.add("Sharpen", inputs={"Source": array_source(g, pixels, window=window)}, **params)
    return g.render(node, frame=1, backend=backend, region=region)


@pytest.mark.parametrize(("size", "amount"), [(1.0, 0.5), (2.5, 1.7), (5.0, -0.3)])
def test_sharpen_matches_scipy(backend, array_source, size, amount):
    pixels = random_image(15, 21, seed=3)
    out = render(backend, array_source, pixels, WINDOW, size=size, amount=amount)
    expected, window = reference(pixels, WINDOW, size, amount)
    assert out.data_window == window
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(("size", "amount"), [(0.0, 0.5), (3.0, 0.0)])
def test_sharpen_passes_through(backend, array_source, size, amount):
    pixels = random_image(15, 21, seed=4)
    out = render(backend, array_source, pixels, WINDOW, size=size, amount=amount)
    assert out.data_window == WINDOW
    np.testing.assert_array_equal(out.pixels, pixels)


def test_sharpen_tiled(backend, array_source, monkeypatch):
    """Small memory budgets split the render into tiles with halos: same pixels."""
    pixels = random_image(41, 33, seed=6)
    window = (-4, 7, 29, 48)
    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", "0.02")
    monkeypatch.setenv("MATTEBOX_GPU_MEMORY", "0.02")
    out = render(backend, array_source, pixels, window, size=3.5, amount=0.8)
    expected, grown = reference(pixels, window, 3.5, 0.8)
    assert out.data_window == grown
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_sharpen_region_of_interest(backend, array_source):
    pixels = random_image(15, 21, seed=5)
    region = (0, 8, 14, 20)  # crosses the left and bottom edges of the grown window
    out = render(backend, array_source, pixels, WINDOW, region=region, size=4.0, amount=1.2)
    expected, window = reference(pixels, WINDOW, 4.0, 1.2)
    full = Image(expected.astype(np.float32), window, Format(64, 48))
    np.testing.assert_allclose(out.crop(region), full.crop(region), rtol=RTOL, atol=ATOL)


def test_sharpen_kernel_writes_every_pixel_of_a_larger_destination():
    pixels = random_image(5, 7, seed=7)
    args = Sharpen.kernel_args({"size": 1.5, "amount": 0.9}, None, None, None)
    dst = np.full((20, 21, 4), np.nan, np.float32)
    Sharpen.cpu_kernel(pixels, 3, 4, dst, -4, -3, *args)
    expected, window = reference(pixels, (3, 4, 10, 9), 1.5, 0.9)
    full = Image(expected.astype(np.float32), window, Format(20, 20))
    np.testing.assert_allclose(dst, full.crop((-4, -3, 17, 17)), rtol=RTOL, atol=ATOL)


def test_sharpen_wgsl_compiles():
    source = wgsl_source("mattebox.nodes.filter.blur") + wgsl_source(Sharpen.__module__)
    main = (
        "let t = BlurTile(0, 0, 4, 4, 0, 0, 4, 4, 1);\n"
        "TMP[0] = sharpen_vertical(t, 0, 0, 0u);\n"
        "OUT[sharpen_tmp_index(t, 0, 0)] = sharpen_horizontal(t, 1, 0, 0u);"
    )
    compile_wgsl(source, main, reads=["SRC"], writes=["TMP", "OUT"])
