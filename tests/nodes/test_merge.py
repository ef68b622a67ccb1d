"""Merge, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.merge.merge import Merge
from tests.conftest import compile_wgsl, placed, random_image

RTOL, ATOL = 1e-5, 1e-6  # plain float32 arithmetic against float64

# Nuke's premultiplied formulas; A, B: the inputs' values (alpha included), a, b: alphas.
FORMULAS = {
    "over": lambda A, B, a, b: A + B * (1 - a),
    "under": lambda A, B, a, b: A * (1 - b) + B,
    "plus": lambda A, B, a, b: A + B,
    "minus": lambda A, B, a, b: A - B,
    "multiply": lambda A, B, a, b: A * B,
    "screen": lambda A, B, a, b: A + B - A * B,
    "max": lambda A, B, a, b: np.maximum(A, B),
    "min": lambda A, B, a, b: np.minimum(A, B),
    "difference": lambda A, B, a, b: np.abs(A - B),
    "in": lambda A, B, a, b: A * b,
    "out": lambda A, B, a, b: A * (1 - b),
    "atop": lambda A, B, a, b: A * b + B * (1 - a),
    "xor": lambda A, B, a, b: A * (1 - b) + B * (1 - a),
    "mask": lambda A, B, a, b: B * a,
    "stencil": lambda A, B, a, b: B * (1 - a),
}


def reference_merge(b_pixels, a_pixels, operation="over", mix=1.0):
    """The formula on all four channels, then blended with B by ``mix``."""
    a, b = a_pixels[..., 3:4], b_pixels[..., 3:4]
    merged = FORMULAS[operation](a_pixels, b_pixels, a, b)
    return b_pixels + (merged - b_pixels) * mix


def render(backend, array_source, b_pixels, a_pixels, b_window=None, a_window=None, **params):
    g = mb.Graph()
    b_node = array_source(g, b_pixels, window=b_window)
    a_node = array_source(g, a_pixels, window=a_window)
    node = g.add("Merge", inputs={"B": b_node, "A": a_node}, **params)
    return g.render(node, frame=1, backend=backend)


def test_operations_cover_the_enum():
    assert tuple(FORMULAS) == Merge.param("operation").choices


@pytest.mark.parametrize("operation", list(FORMULAS))
def test_merge(backend, array_source, operation):
    b_pixels, a_pixels = random_image(17, 23, seed=1), random_image(17, 23, seed=2)
    out = render(backend, array_source, b_pixels, a_pixels, operation=operation)
    expected = reference_merge(b_pixels.astype(np.float64), a_pixels.astype(np.float64), operation)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)
    assert out.data_window == (0, 0, 23, 17)


@pytest.mark.parametrize("operation", ["over", "minus", "xor", "stencil"])
def test_merge_mix(backend, array_source, operation):
    b_pixels, a_pixels = random_image(13, 19, seed=3), random_image(13, 19, seed=4)
    out = render(backend, array_source, b_pixels, a_pixels, operation=operation, mix=0.45)
    expected = reference_merge(
        b_pixels.astype(np.float64), a_pixels.astype(np.float64), operation, 0.45
    )
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "operation", ["over", "under", "minus", "in", "out", "mask", "stencil", "screen"]
)
@pytest.mark.parametrize("mix", [1.0, 0.7])
def test_merge_different_windows(backend, array_source, operation, mix):
    """The output covers the union; outside its window an input is transparent black."""
    b_window, a_window = (0, 0, 23, 17), (9, 6, 9 + 19, 6 + 15)
    union = (0, 0, 28, 21)  # includes corners outside both inputs
    b_pixels, a_pixels = random_image(17, 23, seed=5), random_image(15, 19, seed=6)
    out = render(
        backend, array_source, b_pixels, a_pixels, b_window, a_window, operation=operation, mix=mix
    )
    assert out.data_window == union
    expected = reference_merge(
        placed(b_pixels, b_window, union), placed(a_pixels, a_window, union), operation, mix
    )
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_merge_mix_zero_is_b(backend, array_source):
    b_pixels, a_pixels = random_image(11, 7, seed=7), random_image(11, 7, seed=8)
    out = render(backend, array_source, b_pixels, a_pixels, operation="plus", mix=0.0)
    np.testing.assert_allclose(out.pixels, b_pixels, rtol=RTOL, atol=ATOL)


def test_merge_wgsl_compiles():
    b, a = "vec4<f32>(0.5, 0.25, 0.125, 0.75)", "vec4<f32>(0.1, 0.2, 0.3, 0.4)"
    compile_wgsl(wgsl_source(Merge.__module__), f"OUT[0] = merge_point({b}, {a}, 0u);")
