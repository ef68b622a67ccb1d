"""Glow, through the engine on every backend, against a float64 reference: the highlights
max(rgb - threshold, 0) of a zero-padded copy of the input, blurred with Blur's Gaussian
taps built here from the documented formula (sigma = size/3, r = ceil(size), normalised)
through scipy's correlate1d along y then x, times gain, added to the input's R, G, B;
alpha the input's."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.ndimage import correlate1d

import mattebox as mb
from mattebox.nodes.filter.glow import Glow
from mattebox.nodes.kernel import wgsl_source
from tests.conftest import compile_wgsl, random_image

# float32 sums of up to 31 products against float64: ~1e-6 absolute on values up to 1.5.
RTOL, ATOL = 1e-5, 3e-6
WINDOW = (5, 3, 24, 16)  # 19 x 13 pixels, away from the origin


def reference(pixels, window, threshold, size, gain):
    """Float64 glow of ``pixels`` (covering ``window``); returns (pixels, window)."""
    radius = math.ceil(size)
    padded = np.pad(pixels.astype(np.float64), ((radius, radius), (radius, radius), (0, 0)))
    bright = np.maximum(padded[..., :3] - threshold, 0.0)
    if radius:
        sigma = size / 3.0
        offsets = np.arange(-radius, radius + 1, dtype=np.float64)
        weights = np.exp(-(offsets**2) / (2.0 * sigma**2))
        weights /= weights.sum()
        bright = correlate1d(bright, weights, axis=0, mode="constant", cval=0.0)
        bright = correlate1d(bright, weights, axis=1, mode="constant", cval=0.0)
    out = padded.copy()
    out[..., :3] += gain * bright
    x0, y0, x1, y1 = window
    return out, (x0 - radius, y0 - radius, x1 + radius, y1 + radius)


def render(backend, array_source, pixels, window, **params):
    g = mb.Graph()
    node = g.add("Glow", inputs={"Source": array_source(g, pixels, window=window)}, **params)
    return g.render(node, frame=1, backend=backend)


@pytest.mark.parametrize(
    ("threshold", "size", "gain"), [(0.5, 3.0, 1.0), (0.2, 6.5, 2.5), (0.6, 0.0, 0.7)]
)
def test_glow_matches_scipy(backend, array_source, threshold, size, gain):
    pixels = random_image(13, 19, seed=3)
    out = render(backend, array_source, pixels, WINDOW, threshold=threshold, size=size, gain=gain)
    expected, window = reference(pixels, WINDOW, threshold, size, gain)
    assert out.data_window == window
    pad = math.ceil(size)
    source = np.pad(pixels.astype(np.float64), ((pad, pad), (pad, pad), (0, 0)))
    assert np.abs(expected - source).max() > 0.05  # the glow adds something to compare
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_glow_gain_zero_passes_through(backend, array_source):
    pixels = random_image(13, 19, seed=4)
    out = render(backend, array_source, pixels, WINDOW, size=4.0, gain=0.0)
    assert out.data_window == WINDOW
    np.testing.assert_array_equal(out.pixels, pixels)


def test_glow_tiled(backend, array_source, monkeypatch):
    """Small memory budgets split the render into tiles with halos: same pixels."""
    pixels = random_image(36, 27, seed=6, lo=-0.5)
    window = (-4, 7, 23, 43)
    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", "0.02")
    monkeypatch.setenv("MATTEBOX_GPU_MEMORY", "0.02")
    out = render(backend, array_source, pixels, window, threshold=0.3, size=3.0, gain=1.5)
    expected, grown = reference(pixels, window, 0.3, 3.0, 1.5)
    assert out.data_window == grown
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_glow_through_a_mask(backend, array_source):
    """out = in + (glow - in) * mix * mask, the mask's alpha (0 outside its window)."""
    pixels = random_image(13, 19, seed=8)
    mask = random_image(13, 19, seed=9, lo=0.0, hi=1.0)
    g = mb.Graph()
    node = g.add(
        "Glow",
        inputs={
            "Source": array_source(g, pixels, window=WINDOW),
            "Mask": array_source(g, mask, window=WINDOW),
        },
        threshold=0.5,
        size=3.0,
        mix=0.6,
    )
    out = g.render(node, frame=1, backend=backend)
    expected, window = reference(pixels, WINDOW, 0.5, 3.0, 1.0)
    pad = ((3, 3), (3, 3), (0, 0))
    source = np.pad(pixels.astype(np.float64), pad)
    weight = 0.6 * np.pad(mask[..., 3:4].astype(np.float64), pad)
    assert out.data_window == window
    expected = source + (expected - source) * weight
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_glow_wgsl_compiles():
    main = (
        "let t = BlurTile(0, 0, 4, 4, 0, 0, 4, 4, 1);\n"
        "TMP[0] = glow_vertical(t, 0, 0, 0u);\n"
        "OUT[0] = glow_horizontal(t, 1, 0, 0u);"
    )
    source = wgsl_source("mattebox.nodes.filter.blur") + wgsl_source(Glow.__module__)
    compile_wgsl(source, main, reads=["SRC"], writes=["TMP", "OUT"])
