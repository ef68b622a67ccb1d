"""Ramp, through the engine on every backend, against the projection formula in float64
numpy: ``color0 + (color1 - color0) * clamp(dot(c - p0, p1 - p0) / |p1 - p0|², 0, 1)`` at
each pixel centre ``c``; the format comes from the parameters or the script's settings."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.source.ramp import Ramp
from mattebox.nodes.spec import Context, Format, Window
from tests.conftest import compile_wgsl

TOLERANCE = 1e-5


def reference_ramp(box, p0, p1, color0, color1, width, height):
    """Pixels of ``box`` from the formula, black outside ``[0, width) x [0, height)``."""
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1]
    cx, cy = xs + 0.5, ys + 0.5
    d = np.subtract(p1, p0, dtype=np.float64)
    length2 = d @ d
    if length2 == 0.0:
        t = np.ones(cx.shape)
    else:
        t = np.clip(((cx - p0[0]) * d[0] + (cy - p0[1]) * d[1]) / length2, 0.0, 1.0)
    c0, c1 = np.float64(color0), np.float64(color1)
    ramp = c0 + (c1 - c0) * t[..., None]
    inside = ((xs >= 0) & (xs < width) & (ys >= 0) & (ys < height))[..., None]
    return np.where(inside, ramp, 0.0)


def render(backend, script_format=(37, 23), region=None, proxy=1, **params):
    g = mb.Graph()
    g.settings.format = mb.Format(*script_format)
    node = g.add("Ramp", **params)
    return g.render(node, frame=1, backend=backend, region=region, proxy=proxy)


def random_params(seed):
    rng = np.random.default_rng(seed)
    p0, p1 = (tuple(float(v) for v in rng.uniform(-10.0, 45.0, 2)) for _ in range(2))
    color0, color1 = (tuple(float(v) for v in rng.uniform(-0.2, 1.5, 4)) for _ in range(2))
    return {"p0": p0, "p1": p1, "color0": color0, "color1": color1}


def test_ramp_defaults_fill_the_script_format(backend):
    out = render(backend, script_format=(150, 70))
    assert (out.format.width, out.format.height) == (150, 70)
    assert out.data_window == (0, 0, 150, 70)
    expected = reference_ramp(
        (0, 0, 150, 70), (0, 0), (1920, 0), (0, 0, 0, 1), (1, 1, 1, 1), 150, 70
    )
    np.testing.assert_allclose(out.pixels, expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ramp_random_points_and_colours_in_a_region_off_the_origin(backend, seed):
    params = random_params(seed)
    region = (-4, 5, 31, 27)
    out = render(backend, width=29, height=25, region=region, **params)
    assert (out.format.width, out.format.height) == (29, 25)
    expected = reference_ramp(region, *params.values(), 29, 25)
    np.testing.assert_allclose(out.crop(region), expected, rtol=0, atol=TOLERANCE)


def test_ramp_with_p0_equal_to_p1_is_color1(backend):
    color1 = (0.3, 0.6, 0.9, 0.75)
    out = render(backend, p0=(7.5, 3.25), p1=(7.5, 3.25), color1=color1)
    np.testing.assert_array_equal(out.pixels, np.broadcast_to(np.float32(color1), (23, 37, 4)))


def test_ramp_proxy_render_halves_the_format_and_the_points(backend):
    params = random_params(7)
    out = render(backend, script_format=(45, 31), proxy=2, **params)
    assert out.proxy == 2
    assert (out.format.width, out.format.height) == (23, 16)
    assert out.data_window == (0, 0, 23, 16)
    halved = [tuple(v / 2 for v in params["p0"]), tuple(v / 2 for v in params["p1"])]
    expected = reference_ramp((0, 0, 23, 16), *halved, params["color0"], params["color1"], 23, 16)
    np.testing.assert_allclose(out.pixels, expected, rtol=0, atol=TOLERANCE)


def test_generate_and_pack():
    ctx = Context(frame=1, script_format=Format(9, 5))
    values = Ramp.defaults() | random_params(11)
    box = Window(-1, -2, 11, 6)
    pixels = Ramp.generate(values, box, ctx)
    assert pixels.dtype == np.float32 and pixels.shape == (8, 12, 4)
    expected = reference_ramp(
        box.as_tuple(), values["p0"], values["p1"], values["color0"], values["color1"], 9, 5
    )
    np.testing.assert_allclose(pixels, expected, rtol=0, atol=TOLERANCE)
    assert Ramp.pack(values, ctx) == [
        *values["p0"],
        *values["p1"],
        *values["color0"],
        *values["color1"],
        9.0,
        5.0,
    ]


def test_ramp_wgsl_compiles():
    compile_wgsl(wgsl_source(Ramp.__module__), "OUT[0] = ramp_source(1, 2, 0u);")
