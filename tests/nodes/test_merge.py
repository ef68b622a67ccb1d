"""Merge, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import mattebox as mb
import numpy as np
import pytest
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.merge.merge import Merge

from tests.conftest import random_image

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


def placed(pixels, window, canvas):
    """``pixels`` at ``window`` inside the box ``canvas``, transparent black elsewhere."""
    out = np.zeros((canvas[3] - canvas[1], canvas[2] - canvas[0], 4), np.float64)
    x0, y0 = window[0] - canvas[0], window[1] - canvas[1]
    out[y0 : y0 + pixels.shape[0], x0 : x0 + pixels.shape[1]] = pixels
    return out


def test_operations_cover_the_enum():
    assert tuple(FORMULAS) == Merge.param("operation").choices


@pytest.mark.parametrize("operation", list(FORMULAS))
def test_merge(backend, array_source, operation):
    b_pixels, a_pixels = random_image(17, 23, seed=1), random_image(17, 23, seed=2)
    g = mb.Graph()
    b_node, a_node = array_source(g, b_pixels), array_source(g, a_pixels)
    node = g.add("Merge", inputs={"B": b_node, "A": a_node}, operation=operation)
    out = g.render(node, frame=1, backend=backend)
    expected = reference_merge(b_pixels.astype(np.float64), a_pixels.astype(np.float64), operation)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)
    assert out.data_window == (0, 0, 23, 17)


@pytest.mark.parametrize("operation", ["over", "minus", "xor", "stencil"])
def test_merge_mix(backend, array_source, operation):
    b_pixels, a_pixels = random_image(13, 19, seed=3), random_image(13, 19, seed=4)
    g = mb.Graph()
    b_node, a_node = array_source(g, b_pixels), array_source(g, a_pixels)
    node = g.add("Merge", inputs={"B": b_node, "A": a_node}, operation=operation, mix=0.45)
    out = g.render(node, frame=1, backend=backend)
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
    g = mb.Graph()
    b_node = array_source(g, b_pixels, window=b_window)
    a_node = array_source(g, a_pixels, window=a_window)
    node = g.add("Merge", inputs={"B": b_node, "A": a_node}, operation=operation, mix=mix)
    out = g.render(node, frame=1, backend=backend)
    assert out.data_window == union
    expected = reference_merge(
        placed(b_pixels, b_window, union), placed(a_pixels, a_window, union), operation, mix
    )
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_merge_mix_zero_is_b(backend, array_source):
    b_pixels, a_pixels = random_image(11, 7, seed=7), random_image(11, 7, seed=8)
    g = mb.Graph()
    b_node, a_node = array_source(g, b_pixels), array_source(g, a_pixels)
    node = g.add("Merge", inputs={"B": b_node, "A": a_node}, operation="plus", mix=0.0)
    out = g.render(node, frame=1, backend=backend)
    np.testing.assert_allclose(out.pixels, b_pixels, rtol=RTOL, atol=ATOL)


def compile_wgsl(source, call):
    """Compile ``source`` with the GPU backend's parameter block in front and ``call`` in a
    compute entry point; wgpu raises on any WGSL error."""
    wgpu = pytest.importorskip("wgpu")
    try:
        adapter = wgpu.gpu.request_adapter_sync()
    except RuntimeError as error:  # "No suitable graphics adapter found"
        pytest.skip(f"no wgpu adapter: {error}")
    if adapter is None:
        pytest.skip("no wgpu adapter")
    code = (
        "@group(0) @binding(0) var<storage, read> P: array<f32>;\n"
        "@group(0) @binding(1) var<storage, read_write> OUT: array<vec4<f32>>;\n"
        f"{source}\n"
        f"@compute @workgroup_size(1) fn main() {{ OUT[0] = {call}; }}\n"
    )
    wgpu.utils.get_default_device().create_shader_module(code=code)


def test_merge_wgsl_compiles():
    b, a = "vec4<f32>(0.5, 0.25, 0.125, 0.75)", "vec4<f32>(0.1, 0.2, 0.3, 0.4)"
    compile_wgsl(wgsl_source(Merge.__module__), f"merge_point({b}, {a}, 0u)")
