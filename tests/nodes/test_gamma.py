"""Gamma, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.color.gamma import Gamma
from mattebox.nodes.kernel import wgsl_source
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 1e-5, 1e-6  # a float32 pow against float64
WINDOW = (6, -4, 29, 15)  # 23×19, off the origin


def reference_gamma(pixels, value):
    """``in ** (1/value)`` where ``in > 0`` on RGB in float64; the rest unchanged."""
    out = pixels.astype(np.float64)
    rgb = out[..., :3]
    powered = np.power(np.maximum(rgb, 1e-300), 1.0 / np.asarray(value[:3], np.float64))
    out[..., :3] = np.where(rgb > 0, powered, rgb)
    return out


def render(backend, array_source, pixels, **params):
    g = mb.Graph()
    node = g.add("Gamma", inputs={"Source": array_source(g, pixels, window=WINDOW)}, **params)
    return g.render(node, frame=1, backend=backend)


@pytest.mark.parametrize(
    "value", [[2.2, 2.2, 2.2, 1.0], [0.45, 1.0, 3.7, 0.2], [1.0, 0.3, 1.0, 1.0]]
)
def test_gamma(backend, array_source, value):
    pixels = random_image(19, 23, seed=8, lo=-0.4, hi=2.0)
    assert (pixels[..., :3] < 0).any() and (pixels[..., :3] > 1).any()
    out = render(backend, array_source, pixels, value=value)
    assert out.data_window == WINDOW
    np.testing.assert_allclose(out.pixels, reference_gamma(pixels, value), rtol=RTOL, atol=ATOL)


def test_gamma_of_1_passes_the_input_through(backend, array_source):
    pixels = random_image(19, 23, seed=9)
    assert Gamma.pass_through(Gamma.defaults()) == "Source"
    assert Gamma.pass_through({"value": (1.0, 1.0, 1.0, 2.0)}) == "Source"
    np.testing.assert_array_equal(render(backend, array_source, pixels).pixels, pixels)


def test_gamma_on_rgb_through_a_mask(backend, array_source):
    pixels = random_image(19, 23, seed=10, lo=-0.3, hi=1.8)
    mask = random_image(19, 23, seed=11, lo=0.0, hi=1.0)
    value = [1.8, 0.6, 2.4, 0.5]
    g = mb.Graph()
    node = g.add(
        "Gamma",
        inputs={
            "Source": array_source(g, pixels, window=WINDOW),
            "Mask": array_source(g, mask, window=WINDOW),
        },
        value=value,
        channels="rgb",
        mix=0.75,
    )
    out = g.render(node, frame=1, backend=backend)
    source = pixels.astype(np.float64)
    weight = 0.75 * mask[..., 3:4].astype(np.float64)
    expected = source + (reference_gamma(pixels, value) - source) * weight
    assert out.data_window == WINDOW
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_gamma_wgsl_compiles():
    source = wgsl_source(Gamma.__module__)
    compile_wgsl(source, "OUT[0] = gamma_point(vec4<f32>(0.5, -0.25, 0.125, 0.75), 0u);")
