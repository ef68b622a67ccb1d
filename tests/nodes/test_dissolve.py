"""Dissolve, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.merge.dissolve import Dissolve
from tests.conftest import compile_wgsl, placed, random_image

RTOL, ATOL = 1e-5, 1e-6  # plain float32 arithmetic against float64


def reference_dissolve(in0, in1, which):
    """``In0 + (In1 - In0) * which`` on all four channels."""
    return in0 + (in1 - in0) * which


@pytest.mark.parametrize("which", [0.0, 0.3, 0.85, 1.0])
def test_dissolve(backend, array_source, which):
    in0, in1 = random_image(17, 23, seed=1), random_image(17, 23, seed=2)
    g = mb.Graph()
    node = g.add(
        "Dissolve", inputs={"In0": array_source(g, in0), "In1": array_source(g, in1)}, which=which
    )
    out = g.render(node, frame=1, backend=backend)
    expected = reference_dissolve(in0.astype(np.float64), in1.astype(np.float64), which)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)
    assert out.data_window == (0, 0, 23, 17)


@pytest.mark.parametrize("which", [0.3, 1.0])
def test_dissolve_different_windows(backend, array_source, which):
    """Outside its window an input is transparent black; at 0.3 the output covers the union.

    At 1 the node passes In1 through (its own, smaller window), so the pixels are compared
    over the union box with black outside the output's window.
    """
    w0, w1, union = (2, 3, 2 + 23, 3 + 17), (-4, 8, -4 + 13, 8 + 19), (-4, 3, 25, 27)
    in0, in1 = random_image(17, 23, seed=3), random_image(19, 13, seed=4)
    g = mb.Graph()
    inputs = {"In0": array_source(g, in0, window=w0), "In1": array_source(g, in1, window=w1)}
    node = g.add("Dissolve", inputs=inputs, which=which)
    out = g.render(node, frame=1, backend=backend)
    expected = reference_dissolve(placed(in0, w0, union), placed(in1, w1, union), which)
    np.testing.assert_allclose(out.crop(union), expected, rtol=RTOL, atol=ATOL)
    if which == 0.3:
        assert out.data_window == union


def test_dissolve_wgsl_compiles():
    in0, in1 = "vec4<f32>(0.5, 0.25, 0.125, 0.75)", "vec4<f32>(0.1, 0.2, 0.3, 0.4)"
    compile_wgsl(wgsl_source(Dissolve.__module__), f"OUT[0] = dissolve_point({in0}, {in1}, 0u);")
