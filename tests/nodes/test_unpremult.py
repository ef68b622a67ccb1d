"""Unpremult, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np

import mattebox as mb
from mattebox.nodes.color.unpremult import Unpremult
from mattebox.nodes.kernel import wgsl_source
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 1e-5, 1e-6  # one float32 division against float64 (alpha >= 0.05 or exactly 0)


def reference_unpremult(pixels):
    """RGB divided by alpha where alpha is not 0, unchanged where it is; alpha unchanged."""
    out = pixels.copy()
    alpha = pixels[..., 3:4]
    out[..., :3] = np.where(
        alpha != 0.0, pixels[..., :3] / np.where(alpha != 0.0, alpha, 1.0), pixels[..., :3]
    )
    return out


def test_unpremult(backend, array_source):
    pixels = random_image(17, 23, seed=1)
    pixels[4, 5] = (0.3, -0.1, 0.7, 0.0)  # alpha 0 with colour (additive): passes through
    pixels[6, 1] = (0.0, 0.0, 0.0, 0.0)
    g = mb.Graph()
    node = g.add("Unpremult", inputs={"Source": array_source(g, pixels)})
    out = g.render(node, frame=1, backend=backend)
    np.testing.assert_allclose(
        out.pixels, reference_unpremult(pixels.astype(np.float64)), rtol=RTOL, atol=ATOL
    )
    np.testing.assert_array_equal(out.pixels[4, 5], pixels[4, 5])
    assert out.data_window == (0, 0, 23, 17)


def test_unpremult_wgsl_compiles():
    compile_wgsl(
        wgsl_source(Unpremult.__module__),
        "OUT[0] = unpremult_point(vec4<f32>(0.5, 0.25, 0.125, 0.75), 0u);",
    )
