"""Checkerboard, through the engine on every backend, against ``(x // size + y // size) % 2``
in numpy: exact pixels; the format comes from the parameters or the script's settings."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.source.checkerboard import Checkerboard
from mattebox.nodes.spec import Context, Format, Window
from tests.conftest import compile_wgsl

GREY_1, GREY_5 = (0.1, 0.1, 0.1, 1.0), (0.5, 0.5, 0.5, 1.0)


def reference_board(box, size, color0, color1, width, height):
    """Pixels of ``box``: color0 where x // size + y // size is even, color1 where odd,
    black outside ``[0, width) x [0, height)``."""
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1]
    odd = ((xs // size + ys // size) % 2 == 1)[..., None]
    board = np.where(odd, np.float32(color1), np.float32(color0))
    inside = ((xs >= 0) & (xs < width) & (ys >= 0) & (ys < height))[..., None]
    return np.where(inside, board, np.float32(0.0))


def render(backend, script_format=(37, 23), region=None, **params):
    g = mb.Graph()
    g.settings.format = mb.Format(*script_format)
    node = g.add("Checkerboard", **params)
    return g.render(node, frame=1, backend=backend, region=region)


def test_checkerboard_defaults_fill_the_script_format(backend):
    out = render(backend, script_format=(150, 70))
    assert (out.format.width, out.format.height) == (150, 70)
    assert out.data_window == (0, 0, 150, 70)
    np.testing.assert_array_equal(
        out.pixels, reference_board((0, 0, 150, 70), 64, GREY_1, GREY_5, 150, 70)
    )


@pytest.mark.parametrize("size", [1, 3, 7])
def test_checkerboard_squares(backend, size):
    rng = np.random.default_rng(size)
    color0, color1 = (tuple(float(v) for v in rng.uniform(-0.2, 1.5, 4)) for _ in range(2))
    out = render(backend, size=size, color0=color0, color1=color1)
    expected = reference_board((0, 0, 37, 23), size, color0, color1, 37, 23)
    np.testing.assert_array_equal(out.pixels, expected)


def test_checkerboard_own_size_and_a_region_beyond_it(backend):
    region = (-4, 5, 31, 17)
    out = render(backend, width=29, height=13, size=4, region=region)
    assert (out.format.width, out.format.height) == (29, 13)
    expected = reference_board(region, 4, GREY_1, GREY_5, 29, 13)
    np.testing.assert_array_equal(out.crop(region), expected)


def test_generate_and_pack():
    ctx = Context(frame=1, script_format=Format(9, 5))
    values = Checkerboard.defaults() | {"size": 2}
    box = Window(-1, -2, 11, 6)
    pixels = Checkerboard.generate(values, box, ctx)
    assert pixels.dtype == np.float32
    np.testing.assert_array_equal(pixels, reference_board(box.as_tuple(), 2, GREY_1, GREY_5, 9, 5))
    assert Checkerboard.pack(values, ctx) == [2.0, *GREY_1, *GREY_5, 9.0, 5.0]


def test_checkerboard_wgsl_compiles():
    compile_wgsl(wgsl_source(Checkerboard.__module__), "OUT[0] = checkerboard_source(1, 2, 0u);")
