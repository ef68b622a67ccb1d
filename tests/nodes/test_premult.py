"""Premult, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import mattebox as mb
import numpy as np
import pytest
from mattebox.nodes.color.premult import Premult
from mattebox.nodes.kernel import wgsl_source

from tests.conftest import random_image

RTOL, ATOL = 1e-5, 1e-6  # one float32 multiplication against float64


def reference_premult(pixels):
    """RGB times alpha; alpha unchanged."""
    out = pixels.copy()
    out[..., :3] *= pixels[..., 3:4]
    return out


def test_premult(backend, array_source):
    pixels = random_image(17, 23, seed=1, premultiplied=False)
    pixels[2, 3, 3] = 0.0  # a transparent pixel with colour: becomes black
    g = mb.Graph()
    node = g.add("Premult", inputs={"Source": array_source(g, pixels)})
    out = g.render(node, frame=1, backend=backend)
    np.testing.assert_allclose(
        out.pixels, reference_premult(pixels.astype(np.float64)), rtol=RTOL, atol=ATOL
    )
    assert out.data_window == (0, 0, 23, 17)


def test_unpremult_then_premult_round_trips(backend, array_source):
    pixels = random_image(13, 11, seed=2)
    g = mb.Graph()
    unpremult = g.add("Unpremult", inputs={"Source": array_source(g, pixels)})
    node = g.add("Premult", inputs={"Source": unpremult})
    out = g.render(node, frame=1, backend=backend)
    np.testing.assert_allclose(out.pixels, pixels, rtol=RTOL, atol=ATOL)


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


def test_premult_wgsl_compiles():
    compile_wgsl(
        wgsl_source(Premult.__module__), "premult_point(vec4<f32>(0.5, 0.25, 0.125, 0.75), 0u)"
    )
