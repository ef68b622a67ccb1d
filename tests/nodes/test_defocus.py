"""Defocus, through the engine on every backend, against scipy's correlate with the disc
built here from the documented formula in float64 (weight clamp(size + 0.5 - distance, 0,
1), normalised) on a zero-padded canvas, so "outside the data window is black" and the
grown data window come for free."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.ndimage import correlate

import mattebox as mb
from mattebox.engine.backends.cpu import compiler
from mattebox.engine.image import Image
from mattebox.nodes.filter import defocus
from mattebox.nodes.filter.defocus import Defocus
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.spec import Format
from tests.conftest import compile_wgsl, random_image

# float32 input, float64 sums in the CPU kernel, float32 sums of up to ~300 products on
# the GPU: ~1e-6 absolute on values up to 1.5.
RTOL, ATOL = 1e-5, 3e-6
WINDOW = (5, 3, 24, 16)  # 19 x 13 pixels, away from the origin


def disc(size):
    """The documented disc in float64, and its reach (the largest integer below size+0.5)."""
    reach = math.ceil(size + 0.5) - 1
    offsets = np.arange(-reach, reach + 1, dtype=np.float64)
    dy, dx = np.meshgrid(offsets, offsets, indexing="ij")
    weights = np.clip(size + 0.5 - np.sqrt(dx * dx + dy * dy), 0.0, 1.0)
    return weights / weights.sum(), reach


def reference(pixels, window, size):
    """Float64 defocus of ``pixels`` (covering ``window``); returns (pixels, window)."""
    weights, reach = disc(size)
    padded = np.pad(pixels.astype(np.float64), ((reach, reach), (reach, reach), (0, 0)))
    out = correlate(padded, weights[:, :, None], mode="constant", cval=0.0)
    x0, y0, x1, y1 = window
    return out, (x0 - reach, y0 - reach, x1 + reach, y1 + reach)


def render(backend, array_source, pixels, window, region=None, **params):
    g = mb.Graph()
    node = g.add("Defocus", inputs={"Source": array_source(g, pixels, window=window)}, **params)
    return g.render(node, frame=1, backend=backend, region=region)


@pytest.mark.parametrize("size", [1.0, 2.7, 6.2])
def test_defocus_matches_scipy(backend, array_source, size):
    pixels = random_image(13, 19, seed=3)
    out = render(backend, array_source, pixels, WINDOW, size=size)
    expected, window = reference(pixels, WINDOW, size)
    assert out.data_window == window
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_defocus_size_zero_passes_through(backend, array_source):
    pixels = random_image(13, 19, seed=4)
    out = render(backend, array_source, pixels, WINDOW, size=0.0)
    assert out.data_window == WINDOW
    np.testing.assert_array_equal(out.pixels, pixels)


def test_defocus_tiled(backend, array_source, monkeypatch):
    """Small memory budgets split the render into tiles with halos: same pixels."""
    pixels = random_image(36, 27, seed=6, lo=-0.5)
    window = (-4, 7, 23, 43)
    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", "0.02")
    monkeypatch.setenv("MATTEBOX_GPU_MEMORY", "0.02")
    out = render(backend, array_source, pixels, window, size=2.7)
    expected, grown = reference(pixels, window, 2.7)
    assert out.data_window == grown
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_defocus_through_a_mask(backend, array_source):
    """out = in + (defocused - in) * mix * mask, the mask's alpha (0 outside its window)."""
    pixels = random_image(13, 19, seed=8)
    mask = random_image(13, 19, seed=9, lo=0.0, hi=1.0)
    g = mb.Graph()
    node = g.add(
        "Defocus",
        inputs={
            "Source": array_source(g, pixels, window=WINDOW),
            "Mask": array_source(g, mask, window=WINDOW),
        },
        size=2.7,
        mix=0.6,
    )
    out = g.render(node, frame=1, backend=backend)
    expected, window = reference(pixels, WINDOW, 2.7)
    reach = WINDOW[0] - window[0]
    source = np.pad(pixels.astype(np.float64), ((reach, reach), (reach, reach), (0, 0)))
    weight = 0.6 * np.pad(
        mask[..., 3:4].astype(np.float64), ((reach, reach), (reach, reach), (0, 0))
    )
    assert out.data_window == window
    expected = source + (expected - source) * weight
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("size", [0.7, 1.5, 3.2])
def test_disc_spans_are_the_documented_disc(size):
    """The runs and ramp pixels the kernels read add up to the formula's disc."""
    spans, inner, rim = defocus.disc_spans(size)
    weights, reach = disc(size)
    rebuilt = np.zeros_like(weights)
    for k, half in enumerate(spans):
        if half >= 0:
            rebuilt[k, reach - half : reach + half + 1] = inner
    for dx, dy, weight in rim:  # a quarter: each stands for (±dx, ±dy)
        assert dx >= 0 and dy >= 0
        for x, y in {(dx, dy), (-dx, dy), (dx, -dy), (-dx, -dy)}:
            assert rebuilt[int(y) + reach, int(x) + reach] == 0.0
            rebuilt[int(y) + reach, int(x) + reach] = weight
    np.testing.assert_allclose(rebuilt, weights, rtol=1e-12, atol=0)


def test_compiled_defocus_kernel_across_blocks_and_chunks():
    """The compiled kernel works in blocks of rows and chunks of columns: a source wider
    than a chunk and taller than a block, a destination that starts left of and above the
    source and reaches past it (black there), and a disc taller than the source."""
    pixels = random_image(21, 300, seed=7)
    pixels.flags.writeable = False  # as the engine passes it: the same compiled signature
    sx0, sy0, dx0, dy0 = 5, 3, -20, -9
    size = 12.3
    dst = np.full((45, 340, 4), np.nan, np.float32)
    kernel = compiler.compiled(defocus.defocus_kernel)
    kernel(pixels, sx0, sy0, dst, dx0, dy0, *defocus.disc_spans(size))
    expected, window = reference(pixels, (sx0, sy0, sx0 + 300, sy0 + 21), size)
    full = Image(expected.astype(np.float32), window, Format(400, 100))
    np.testing.assert_allclose(
        dst, full.crop((dx0, dy0, dx0 + 340, dy0 + 45)), rtol=RTOL, atol=ATOL
    )


def test_defocus_wgsl_compiles():
    main = "let t = DefocusTile(0, 0, 4, 4);\nOUT[0] = defocus_pixel(t, 1, 2, 0u);"
    compile_wgsl(wgsl_source(Defocus.__module__), main, reads=["SRC"])
