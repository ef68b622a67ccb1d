"""Rectangle, through the engine on every backend, against the formula in float64 numpy:
``color`` times, per axis, ``clamp(1 - distance outside the box / softness, 0, 1)`` at each
pixel centre (1 inside, a hard inclusive edge for softness 0)."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.source.rectangle import Rectangle
from mattebox.nodes.spec import Context, Format, Window
from tests.conftest import compile_wgsl

TOLERANCE = 1e-5


def axis(centres, a, b, softness):
    lo, hi = min(a, b), max(a, b)
    outside = np.where(centres < lo, lo - centres, np.where(centres > hi, centres - hi, 0.0))
    if softness == 0.0:
        return (outside == 0.0).astype(np.float64)
    return np.clip(1.0 - outside / softness, 0.0, 1.0)


def reference_rectangle(box, rect, softness, color, width, height):
    """Pixels of ``box`` from the formula, black outside ``[0, width) x [0, height)``."""
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1]
    k = axis(xs + 0.5, rect[0], rect[2], softness) * axis(ys + 0.5, rect[1], rect[3], softness)
    shape = np.float64(color) * k[..., None]
    inside = ((xs >= 0) & (xs < width) & (ys >= 0) & (ys < height))[..., None]
    return np.where(inside, shape, 0.0)


def render(backend, script_format=(37, 23), region=None, proxy=1, **params):
    g = mb.Graph()
    g.settings.format = mb.Format(*script_format)
    node = g.add("Rectangle", **params)
    return g.render(node, frame=1, backend=backend, region=region, proxy=proxy)


def random_params(seed, softness=None):
    rng = np.random.default_rng(seed)
    corners = rng.uniform(-3.0, 32.0, 4)
    return {
        "box": tuple(float(v) for v in corners),
        "softness": float(rng.uniform(0.5, 9.0)) if softness is None else softness,
        "color": tuple(float(v) for v in rng.uniform(-0.2, 1.5, 4)),
    }


def test_rectangle_whole_box_keeps_the_columns_and_rows_crop_would(backend):
    color = (0.25, 0.5, 0.75, 1.0)
    out = render(backend, box=(3, 4, 20, 9), color=color)
    assert (out.format.width, out.format.height) == (37, 23)
    assert out.data_window == (0, 0, 37, 23)
    expected = np.zeros((23, 37, 4), np.float32)
    expected[4:9, 3:20] = color
    np.testing.assert_array_equal(out.pixels, expected)


@pytest.mark.parametrize(("seed", "softness"), [(1, None), (2, None), (3, 0.0), (4, 0.3)])
def test_rectangle_random_boxes_in_a_region_off_the_origin(backend, seed, softness):
    params = random_params(seed, softness)
    region = (-4, 5, 31, 27)
    out = render(backend, width=29, height=25, region=region, **params)
    assert (out.format.width, out.format.height) == (29, 25)
    expected = reference_rectangle(region, *params.values(), 29, 25)
    np.testing.assert_allclose(out.crop(region), expected, rtol=0, atol=TOLERANCE)


def test_rectangle_swapped_corners_are_the_same_box(backend):
    one = render(backend, box=(3.2, 4.7, 20.4, 9.9), softness=2.5)
    other = render(backend, box=(20.4, 9.9, 3.2, 4.7), softness=2.5)
    np.testing.assert_array_equal(one.pixels, other.pixels)


def test_rectangle_proxy_render_halves_the_format_box_and_softness(backend):
    params = random_params(7)
    out = render(backend, script_format=(45, 31), proxy=2, **params)
    assert out.proxy == 2
    assert (out.format.width, out.format.height) == (23, 16)
    assert out.data_window == (0, 0, 23, 16)
    box = tuple(v / 2 for v in params["box"])
    expected = reference_rectangle(
        (0, 0, 23, 16), box, params["softness"] / 2, params["color"], 23, 16
    )
    np.testing.assert_allclose(out.pixels, expected, rtol=0, atol=TOLERANCE)


def test_generate_and_pack():
    ctx = Context(frame=1, script_format=Format(9, 5))
    values = Rectangle.defaults() | {"box": (1.5, 0.25, 6.0, 3.5), "softness": 2.0}
    box = Window(-1, -2, 11, 6)
    pixels = Rectangle.generate(values, box, ctx)
    assert pixels.dtype == np.float32 and pixels.shape == (8, 12, 4)
    expected = reference_rectangle(box.as_tuple(), values["box"], 2.0, (1.0,) * 4, 9, 5)
    np.testing.assert_allclose(pixels, expected, rtol=0, atol=TOLERANCE)
    assert Rectangle.pack(values, ctx) == [1.5, 0.25, 6.0, 3.5, 2.0, 1.0, 1.0, 1.0, 1.0, 9.0, 5.0]


def test_rectangle_wgsl_compiles():
    compile_wgsl(wgsl_source(Rectangle.__module__), "OUT[0] = rectangle_source(1, 2, 0u);")
