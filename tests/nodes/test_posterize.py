"""Posterize, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.color.posterize import Posterize
from mattebox.nodes.kernel import wgsl_source
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 1e-5, 1e-6  # the step's float32 multiplication against float64
WINDOW = (3, 9, 26, 28)  # 23×19, off the origin


def reference_posterize(pixels, levels):
    """``floor(in * levels + 0.5) / levels`` on RGB in float64; alpha unchanged."""
    out = pixels.astype(np.float64)
    out[..., :3] = np.floor(out[..., :3] * levels + 0.5) / levels
    return out


def away_from_the_steps(pixels, levels):
    """Whether no RGB value lies within float32 rounding of a halfway point, where the
    float32 kernel and the float64 reference could round to different steps."""
    scaled = pixels[..., :3].astype(np.float64) * levels + 0.5
    return np.abs(scaled - np.round(scaled)).min() > 1e-4


def render(backend, array_source, pixels, **params):
    g = mb.Graph()
    node = g.add("Posterize", inputs={"Source": array_source(g, pixels, window=WINDOW)}, **params)
    return g.render(node, frame=1, backend=backend)


@pytest.mark.parametrize("levels", [8.0, 5.5, 1.0, 37.3])
def test_posterize(backend, array_source, levels):
    pixels = random_image(19, 23, seed=12, lo=-0.4, hi=2.0)
    assert away_from_the_steps(pixels, levels)
    out = render(backend, array_source, pixels, levels=levels)
    assert out.data_window == WINDOW
    expected = reference_posterize(pixels, levels)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)
    assert len(np.unique(expected[..., :3])) < 2.4 * levels + 2  # steps only, over -0.4..2


def test_posterize_rounds_to_the_nearest_step(backend, array_source):
    values = np.array([0.0, 0.06, 0.07, 0.5, 0.93, 1.0, -0.07, -0.06], np.float32)
    pixels = np.ones((1, values.size, 4), np.float32)
    pixels[0, :, 0] = pixels[0, :, 1] = pixels[0, :, 2] = values
    out = render(backend, array_source, pixels, levels=8.0)
    expected = [0.0, 0.0, 0.125, 0.5, 0.875, 1.0, -0.125, 0.0]
    np.testing.assert_allclose(out.pixels[0, :, 0], expected, atol=1e-7)
    np.testing.assert_array_equal(out.pixels[..., 3], 1.0)


def test_posterize_on_rgb_through_a_mask(backend, array_source):
    pixels = random_image(19, 23, seed=13, lo=-0.3, hi=1.8)
    mask = random_image(19, 23, seed=14, lo=0.0, hi=1.0)
    assert away_from_the_steps(pixels, 6.0)
    g = mb.Graph()
    node = g.add(
        "Posterize",
        inputs={
            "Source": array_source(g, pixels, window=WINDOW),
            "Mask": array_source(g, mask, window=WINDOW),
        },
        levels=6.0,
        channels="rgb",
        mix=0.8,
    )
    out = g.render(node, frame=1, backend=backend)
    source = pixels.astype(np.float64)
    weight = 0.8 * mask[..., 3:4].astype(np.float64)
    expected = source + (reference_posterize(pixels, 6.0) - source) * weight
    assert out.data_window == WINDOW
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_posterize_wgsl_compiles():
    source = wgsl_source(Posterize.__module__)
    compile_wgsl(source, "OUT[0] = posterize_point(vec4<f32>(0.5, -0.25, 0.125, 0.75), 0u);")
