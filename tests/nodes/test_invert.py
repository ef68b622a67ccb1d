"""Invert, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.color.invert import Invert
from mattebox.nodes.kernel import wgsl_source
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 1e-5, 1e-6  # plain float32 arithmetic against float64
CHANNELS = {"rgb": [0, 1, 2], "rgba": [0, 1, 2, 3], "alpha": [3]}


def reference_invert(pixels, channels="rgb", mix=1.0):
    """``1 - c`` on the chosen channels, blended by ``mix``; the others unchanged."""
    out = pixels.copy()
    chosen = CHANNELS[channels]
    out[..., chosen] = pixels[..., chosen] + (1.0 - 2.0 * pixels[..., chosen]) * mix
    return out


@pytest.mark.parametrize("channels", ["rgb", "rgba", "alpha"])
@pytest.mark.parametrize("mix", [1.0, 0.3])
def test_invert(backend, array_source, channels, mix):
    pixels = random_image(17, 23, seed=1)
    g = mb.Graph()
    node = g.add("Invert", inputs={"Source": array_source(g, pixels)}, channels=channels, mix=mix)
    out = g.render(node, frame=1, backend=backend)
    expected = reference_invert(pixels.astype(np.float64), channels, mix)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)
    assert out.data_window == (0, 0, 23, 17)


def test_invert_wgsl_compiles():
    compile_wgsl(
        wgsl_source(Invert.__module__),
        "OUT[0] = invert_point(vec4<f32>(0.5, 0.25, 0.125, 0.75), 0u);",
    )
