"""Constant, through the engine on every backend: every pixel of the format is the colour,
exactly; the format comes from the parameters or the script's settings."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.source.constant import Constant
from mattebox.nodes.spec import Context, Format, Window
from tests.conftest import compile_wgsl


def render(backend, script_format=(37, 23), region=None, **params):
    g = mb.Graph()
    g.settings.format = mb.Format(*script_format)
    node = g.add("Constant", **params)
    return g.render(node, frame=1, backend=backend, region=region)


def test_constant_fills_the_script_format(backend):
    color = (0.25, -0.5, 1.75, 0.625)
    out = render(backend, color=color)
    assert (out.format.width, out.format.height) == (37, 23)
    assert out.data_window == (0, 0, 37, 23)
    np.testing.assert_array_equal(out.pixels, np.broadcast_to(np.float32(color), (23, 37, 4)))


def test_constant_default_is_opaque_black(backend):
    out = render(backend, script_format=(5, 3))
    np.testing.assert_array_equal(out.pixels, np.broadcast_to(np.float32((0, 0, 0, 1)), (3, 5, 4)))


@pytest.mark.parametrize(
    ("size", "expected"), [((11, 7), (11, 7)), ((11, 0), (11, 23)), ((0, 7), (37, 7))]
)
def test_constant_size_parameters(backend, size, expected):
    out = render(backend, width=size[0], height=size[1], color=0.5)
    assert (out.format.width, out.format.height) == expected
    assert out.data_window == (0, 0, *expected)
    np.testing.assert_array_equal(
        out.pixels, np.full((expected[1], expected[0], 4), 0.5, np.float32)
    )


def test_constant_region_beyond_the_format_is_black(backend):
    out = render(backend, width=11, height=7, color=(0.1, 0.2, 0.3, 0.4), region=(-3, 4, 20, 12))
    expected = np.zeros((8, 23, 4), np.float32)
    expected[0:3, 3:14] = (0.1, 0.2, 0.3, 0.4)  # rows 4..6, columns 0..10 of the format
    np.testing.assert_array_equal(out.crop((-3, 4, 20, 12)), expected)


def test_generate_is_black_outside_the_format():
    ctx = Context(frame=1, script_format=Format(6, 4))
    values = Constant.defaults() | {"color": (1.0, 2.0, 3.0, 4.0)}
    pixels = Constant.generate(values, Window(-2, -1, 8, 5), ctx)
    assert pixels.dtype == np.float32 and pixels.shape == (6, 10, 4)
    expected = np.zeros((6, 10, 4), np.float32)
    expected[1:5, 2:8] = (1.0, 2.0, 3.0, 4.0)
    np.testing.assert_array_equal(pixels, expected)
    assert Constant.pack(values, ctx) == [1.0, 2.0, 3.0, 4.0, 6.0, 4.0]


def test_constant_wgsl_compiles():
    compile_wgsl(wgsl_source(Constant.__module__), "OUT[0] = constant_source(1, 2, 0u);")
