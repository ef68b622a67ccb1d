"""Clamp, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.color.clamp import Clamp
from mattebox.nodes.kernel import wgsl_source
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 1e-5, 1e-6  # plain float32 arithmetic against float64


def reference_clamp(pixels, minimum=(0, 0, 0, 0), maximum=(1, 1, 1, 1), mix=1.0):
    """``min(max(c, minimum), maximum)`` on all four channels, blended by ``mix``."""
    clamped = np.minimum(np.maximum(pixels, np.array(minimum)), np.array(maximum))
    return pixels + (clamped - pixels) * mix


def render(backend, array_source, pixels, **params):
    g = mb.Graph()
    node = g.add("Clamp", inputs={"Source": array_source(g, pixels)}, **params)
    return g.render(node, frame=1, backend=backend)


def test_clamp_defaults(backend, array_source):
    pixels = random_image(17, 23, seed=1)
    pixels[0, 0] = (-0.5, 1.7, 0.5, 0.5)  # certainly outside [0, 1] somewhere
    out = render(backend, array_source, pixels)
    np.testing.assert_allclose(
        out.pixels, reference_clamp(pixels.astype(np.float64)), rtol=RTOL, atol=ATOL
    )
    assert out.data_window == (0, 0, 23, 17)


@pytest.mark.parametrize("mix", [1.0, 0.4])
def test_clamp_per_channel(backend, array_source, mix):
    pixels = random_image(17, 23, seed=2)
    # Blue's minimum is above its maximum: the maximum wins. Alpha is clamped too.
    minimum, maximum = (0.1, -0.05, 0.7, 0.3), (0.6, 0.9, 0.4, 0.8)
    out = render(backend, array_source, pixels, minimum=minimum, maximum=maximum, mix=mix)
    expected = reference_clamp(pixels.astype(np.float64), minimum, maximum, mix)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_clamp_mix_zero_is_identity(backend, array_source):
    pixels = random_image(9, 13, seed=3)
    out = render(backend, array_source, pixels, minimum=0.2, maximum=0.3, mix=0.0)
    np.testing.assert_allclose(out.pixels, pixels, rtol=RTOL, atol=ATOL)


def test_clamp_wgsl_compiles():
    compile_wgsl(
        wgsl_source(Clamp.__module__),
        "OUT[0] = clamp_point(vec4<f32>(0.5, 0.25, 0.125, 0.75), 0u);",
    )
