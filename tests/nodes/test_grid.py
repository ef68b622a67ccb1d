"""Grid, through the engine on every backend, against numpy: a pixel ``[x, x + 1)`` is lit
where it overlaps one of the intervals ``[k * size, k * size + thickness)`` (listed k by k)
across or down, ``color`` there and transparent black elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.source.grid import Grid
from mattebox.nodes.spec import Context, Format, Window
from tests.conftest import compile_wgsl

TOLERANCE = 1e-5


def lit(starts, size, thickness):
    """Whether each pixel starting at ``starts`` overlaps a line (lines enumerated)."""
    out = np.zeros(starts.shape, bool)
    if thickness <= 0:
        return out
    for k in range(int(starts.min() // size) - 1, int(starts.max() // size) + 2):
        a, b = k * size, k * size + thickness
        out |= (starts < b) & (starts + 1 > a)
    return out


def reference_grid(box, size, thickness, color, width, height):
    """Pixels of ``box``, black outside ``[0, width) x [0, height)``."""
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1]
    on = lit(xs.astype(float), size, thickness) | lit(ys.astype(float), size, thickness)
    inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    return np.where((on & inside)[..., None], np.float64(color), 0.0)


def render(backend, script_format=(37, 23), region=None, proxy=1, **params):
    g = mb.Graph()
    g.settings.format = mb.Format(*script_format)
    node = g.add("Grid", **params)
    return g.render(node, frame=1, backend=backend, region=region, proxy=proxy)


def random_params(seed):
    rng = np.random.default_rng(seed)
    return {
        "size": float(rng.uniform(3.0, 11.0)),
        "thickness": float(rng.uniform(0.2, 2.5)),
        "color": tuple(float(v) for v in rng.uniform(-0.2, 1.5, 4)),
    }


def test_grid_whole_numbers_light_those_columns_and_rows(backend):
    out = render(backend, size=8, thickness=2, color=(0.2, 0.4, 0.6, 0.8))
    assert (out.format.width, out.format.height) == (37, 23)
    assert out.data_window == (0, 0, 37, 23)
    on = (np.arange(37) % 8 < 2)[None, :] | (np.arange(23) % 8 < 2)[:, None]
    expected = np.where(on[..., None], np.float32((0.2, 0.4, 0.6, 0.8)), np.float32(0))
    np.testing.assert_array_equal(out.pixels, expected)


def test_grid_defaults(backend):
    out = render(backend, script_format=(150, 70))
    expected = reference_grid((0, 0, 150, 70), 64.0, 1.0, (1.0,) * 4, 150, 70)
    np.testing.assert_array_equal(out.pixels, expected.astype(np.float32))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_grid_random_sizes_in_a_region_off_the_origin(backend, seed):
    params = random_params(seed)
    region = (-4, 5, 31, 27)
    out = render(backend, width=29, height=25, region=region, **params)
    assert (out.format.width, out.format.height) == (29, 25)
    expected = reference_grid(region, *params.values(), 29, 25)
    np.testing.assert_allclose(out.crop(region), expected, rtol=0, atol=TOLERANCE)


def test_grid_of_thickness_0_is_black(backend):
    out = render(backend, size=4.5, thickness=0.0)
    np.testing.assert_array_equal(out.pixels, np.zeros((23, 37, 4), np.float32))


def test_grid_proxy_render_halves_the_format_size_and_thickness(backend):
    out = render(backend, script_format=(45, 31), proxy=2, size=10.0, thickness=1.0)
    assert out.proxy == 2
    assert (out.format.width, out.format.height) == (23, 16)
    assert out.data_window == (0, 0, 23, 16)
    expected = reference_grid((0, 0, 23, 16), 5.0, 0.5, (1.0,) * 4, 23, 16)
    np.testing.assert_allclose(out.pixels, expected, rtol=0, atol=TOLERANCE)
    assert out.pixels[1, 5].tolist() == [1.0] * 4  # half-pixel lines still light a pixel


def test_generate_and_pack():
    ctx = Context(frame=1, script_format=Format(9, 5))
    values = Grid.defaults() | random_params(11)
    box = Window(-1, -2, 11, 6)
    pixels = Grid.generate(values, box, ctx)
    assert pixels.dtype == np.float32 and pixels.shape == (8, 12, 4)
    expected = reference_grid(
        box.as_tuple(), values["size"], values["thickness"], values["color"], 9, 5
    )
    np.testing.assert_allclose(pixels, expected, rtol=0, atol=TOLERANCE)
    assert Grid.pack(values, ctx) == [
        values["size"],
        values["thickness"],
        *values["color"],
        9.0,
        5.0,
    ]


def test_grid_wgsl_compiles():
    compile_wgsl(wgsl_source(Grid.__module__), "OUT[0] = grid_source(1, 2, 0u);")
