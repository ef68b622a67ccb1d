"""Saturation, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.color.saturation import Saturation
from mattebox.nodes.kernel import wgsl_source
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 1e-5, 1e-6  # plain float32 arithmetic against float64
LUMA = {
    "rec709": (0.2126, 0.7152, 0.0722),
    "ccir601": (0.299, 0.587, 0.114),
    "average": (1 / 3, 1 / 3, 1 / 3),
}


def reference_saturation(pixels, saturation, luminance_math="rec709", mix=1.0):
    """``luma + (c - luma) * saturation`` on RGB, blended by ``mix``; alpha unchanged."""
    rgb = pixels[..., :3]
    if luminance_math == "maximum":
        luma = rgb.max(axis=-1, keepdims=True)
    else:
        luma = (rgb @ np.array(LUMA[luminance_math]))[..., None]
    out = pixels.copy()
    out[..., :3] = rgb + (luma + (rgb - luma) * saturation - rgb) * mix
    return out


def render(backend, array_source, pixels, **params):
    g = mb.Graph()
    node = g.add("Saturation", inputs={"Source": array_source(g, pixels)}, **params)
    return g.render(node, frame=1, backend=backend)


@pytest.mark.parametrize("luminance_math", ["rec709", "ccir601", "average", "maximum"])
@pytest.mark.parametrize("saturation", [0.0, 1.7, 3.5, -0.5])
def test_saturation(backend, array_source, luminance_math, saturation):
    pixels = random_image(17, 23, seed=1)
    out = render(
        backend, array_source, pixels, saturation=saturation, luminance_math=luminance_math
    )
    expected = reference_saturation(pixels.astype(np.float64), saturation, luminance_math)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)
    assert out.data_window == (0, 0, 23, 17)


@pytest.mark.parametrize("luminance_math", ["ccir601", "maximum"])
def test_saturation_mix(backend, array_source, luminance_math):
    pixels = random_image(19, 13, seed=2)
    out = render(
        backend, array_source, pixels, saturation=2.5, luminance_math=luminance_math, mix=0.35
    )
    expected = reference_saturation(pixels.astype(np.float64), 2.5, luminance_math, mix=0.35)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("params", [{"saturation": 1.0}, {"saturation": 3.0, "mix": 0.0}])
def test_saturation_identity(backend, array_source, params):
    pixels = random_image(11, 7, seed=3)
    out = render(backend, array_source, pixels, **params)
    np.testing.assert_allclose(out.pixels, pixels, rtol=RTOL, atol=ATOL)


def test_saturation_wgsl_compiles():
    source = wgsl_source(Saturation.__module__)
    compile_wgsl(source, "OUT[0] = saturation_point(vec4<f32>(0.5, 0.25, 0.125, 0.75), 0u);")
