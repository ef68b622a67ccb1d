"""Radial, through the engine on every backend, against the formula in float64 numpy:
``color * k``, ``k`` 1 inside ``radius * (1 - softness)``, a smoothstep to 0 at
``radius``, from the distance of each pixel centre to ``center``."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.source.radial import Radial
from mattebox.nodes.spec import Context, Format, Window
from tests.conftest import compile_wgsl

TOLERANCE = 1e-5


def reference_radial(box, center, radius, softness, color, width, height):
    """Pixels of ``box`` from the formula, black outside ``[0, width) x [0, height)``."""
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1]
    d = np.hypot(xs + 0.5 - center[0], ys + 0.5 - center[1])
    inner = radius * (1.0 - softness)
    if softness == 0.0:
        k = (d < radius).astype(np.float64)
    else:
        s = np.clip((radius - d) / (radius - inner), 0.0, 1.0)
        k = 3 * s**2 - 2 * s**3
    disc = np.float64(color) * k[..., None]
    inside = ((xs >= 0) & (xs < width) & (ys >= 0) & (ys < height))[..., None]
    return np.where(inside, disc, 0.0)


def render(backend, script_format=(37, 23), region=None, proxy=1, **params):
    g = mb.Graph()
    g.settings.format = mb.Format(*script_format)
    node = g.add("Radial", **params)
    return g.render(node, frame=1, backend=backend, region=region, proxy=proxy)


def random_params(seed, softness=None):
    rng = np.random.default_rng(seed)
    return {
        "center": tuple(float(v) for v in rng.uniform(0.0, 30.0, 2)),
        "radius": float(rng.uniform(6.0, 20.0)),
        "softness": float(rng.uniform(0.05, 1.0)) if softness is None else softness,
        "color": tuple(float(v) for v in rng.uniform(-0.2, 1.5, 4)),
    }


def test_radial_defaults_fill_the_script_format(backend):
    out = render(backend, script_format=(150, 70), center=(70.25, 30.5), radius=40.0)
    assert (out.format.width, out.format.height) == (150, 70)
    assert out.data_window == (0, 0, 150, 70)
    expected = reference_radial((0, 0, 150, 70), (70.25, 30.5), 40.0, 0.5, (1,) * 4, 150, 70)
    np.testing.assert_allclose(out.pixels, expected, rtol=0, atol=TOLERANCE)
    assert out.pixels[30, 70].tolist() == [1.0] * 4 and out.pixels[0, 0].tolist() == [0.0] * 4


@pytest.mark.parametrize(("seed", "softness"), [(1, None), (2, None), (3, 0.0), (4, 1.0)])
def test_radial_random_discs_in_a_region_off_the_origin(backend, seed, softness):
    params = random_params(seed, softness)
    region = (-4, 5, 31, 27)
    out = render(backend, width=29, height=25, region=region, **params)
    assert (out.format.width, out.format.height) == (29, 25)
    expected = reference_radial(region, *params.values(), 29, 25)
    np.testing.assert_allclose(out.crop(region), expected, rtol=0, atol=TOLERANCE)


def test_radial_of_radius_0_is_black(backend):
    out = render(backend, center=(10.5, 10.5), radius=0.0, softness=0.0)
    np.testing.assert_array_equal(out.pixels, np.zeros((23, 37, 4), np.float32))


def test_radial_proxy_render_halves_the_format_centre_and_radius(backend):
    params = random_params(7)
    out = render(backend, script_format=(45, 31), proxy=2, **params)
    assert out.proxy == 2
    assert (out.format.width, out.format.height) == (23, 16)
    assert out.data_window == (0, 0, 23, 16)
    center = tuple(v / 2 for v in params["center"])
    expected = reference_radial(
        (0, 0, 23, 16), center, params["radius"] / 2, params["softness"], params["color"], 23, 16
    )
    np.testing.assert_allclose(out.pixels, expected, rtol=0, atol=TOLERANCE)


def test_generate_and_pack():
    ctx = Context(frame=1, script_format=Format(9, 5))
    values = Radial.defaults() | random_params(11)
    box = Window(-1, -2, 11, 6)
    pixels = Radial.generate(values, box, ctx)
    assert pixels.dtype == np.float32 and pixels.shape == (8, 12, 4)
    expected = reference_radial(
        box.as_tuple(),
        values["center"],
        values["radius"],
        values["softness"],
        values["color"],
        9,
        5,
    )
    np.testing.assert_allclose(pixels, expected, rtol=0, atol=TOLERANCE)
    assert Radial.pack(values, ctx) == [
        *values["center"],
        values["radius"],
        values["softness"],
        *values["color"],
        9.0,
        5.0,
    ]


def test_radial_wgsl_compiles():
    compile_wgsl(wgsl_source(Radial.__module__), "OUT[0] = radial_source(1, 2, 0u);")
