"""ColorBars, through the engine on every backend, against the layout written out from
its fractions of the width and height in numpy, with the patch values typed in from EG 1
(75% bars, -I and +Q of amplitude 0.2 through the FCC YIQ matrix, PLUGE at ±4%)."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.source.color_bars import ColorBars
from mattebox.nodes.spec import Context, Format, Window
from tests.conftest import compile_wgsl

TOLERANCE = 1e-5
GREY, YELLOW, CYAN, GREEN = (0.75,) * 3, (0.75, 0.75, 0), (0, 0.75, 0.75), (0, 0.75, 0)
MAGENTA, RED, BLUE, BLACK, WHITE = (0.75, 0, 0.75), (0.75, 0, 0), (0, 0, 0.75), (0,) * 3, (1,) * 3
MINUS_I = (0.0, 0.2 * 0.2721, 0.2 * 1.1070)
PLUS_Q = (0.2 * 0.6210, 0.0, 0.2 * 1.7046)
BARS = [GREY, YELLOW, CYAN, GREEN, MAGENTA, RED, BLUE]
REVERSED = [BLUE, BLACK, MAGENTA, BLACK, CYAN, BLACK, GREY]
# The bottom row as (right edge in sevenths of the width, code value).
BOTTOM = [
    (5 / 4, MINUS_I),
    (10 / 4, WHITE),
    (15 / 4, PLUS_Q),
    (5, BLACK),
    (5 + 1 / 3, (-0.04,) * 3),
    (5 + 2 / 3, BLACK),
    (6, (0.04,) * 3),
    (7, BLACK),
]


def reference_bars(box, kind, linear, width, height):
    """Pixels of ``box``: each pixel's patch from where its left/top edge falls as a
    fraction of the format, black outside ``[0, width) x [0, height)``."""
    x0, y0, x1, y1 = box
    out = np.zeros((y1 - y0, x1 - x0, 4))
    for y in range(max(y0, 0), min(y1, height)):
        for x in range(max(x0, 0), min(x1, width)):
            across, down = 7 * x / width, y / height  # in bars; in heights
            bar = int(across)
            if kind == "full_field" or down < 2 / 3:
                code = BARS[bar]
            elif down < 3 / 4:
                code = REVERSED[bar]
            else:
                code = next(c for edge, c in BOTTOM if across < edge - 1e-12)
            code = np.float64(code)
            rgb = np.sign(code) * np.abs(code) ** 2.4 if linear else code
            out[y - y0, x - x0] = (*rgb, 1.0)
    return out


def render(backend, script_format=(37, 23), region=None, proxy=1, **params):
    g = mb.Graph()
    g.settings.format = mb.Format(*script_format)
    node = g.add("ColorBars", **params)
    return g.render(node, frame=1, backend=backend, region=region, proxy=proxy)


@pytest.mark.parametrize("linear", [False, True])
def test_smpte_bars_at_84_by_12_one_pixel_per_unit(backend, linear):
    out = render(backend, script_format=(84, 12), linear=linear)
    assert out.data_window == (0, 0, 84, 12)
    np.testing.assert_allclose(
        out.pixels, reference_bars((0, 0, 84, 12), "smpte", linear, 84, 12), atol=TOLERANCE
    )
    codes = render(backend, script_format=(84, 12), linear=False).pixels
    assert codes[0, 0].tolist() == [0.75, 0.75, 0.75, 1.0]  # grey bar
    assert codes[8, 12].tolist() == [0.0, 0.0, 0.0, 1.0]  # black under the yellow bar
    assert codes[11, 60].tolist() == pytest.approx([-0.04, -0.04, -0.04, 1.0])  # PLUGE
    assert codes[11, 20].tolist() == [1.0, 1.0, 1.0, 1.0]  # 100% white


@pytest.mark.parametrize("kind", ["smpte", "full_field"])
@pytest.mark.parametrize("size", [(37, 23), (101, 45), (13, 7)])
def test_bars_at_odd_sizes_in_a_region_off_the_origin(backend, kind, size):
    region = (-4, 3, size[0] + 5, size[1] + 2)
    out = render(backend, width=size[0], height=size[1], type=kind, region=region)
    assert (out.format.width, out.format.height) == size
    expected = reference_bars(region, kind, True, *size)
    np.testing.assert_allclose(out.crop(region), expected, rtol=0, atol=TOLERANCE)


def test_bars_proxy_render_halves_the_format(backend):
    out = render(backend, script_format=(169, 47), proxy=2)
    assert out.proxy == 2
    assert (out.format.width, out.format.height) == (85, 24)
    assert out.data_window == (0, 0, 85, 24)
    expected = reference_bars((0, 0, 85, 24), "smpte", True, 85, 24)
    np.testing.assert_allclose(out.pixels, expected, rtol=0, atol=TOLERANCE)


def test_generate_and_pack():
    ctx = Context(frame=1, script_format=Format(29, 17))
    values = ColorBars.defaults()
    box = Window(-1, -2, 31, 19)
    pixels = ColorBars.generate(values, box, ctx)
    assert pixels.dtype == np.float32 and pixels.shape == (21, 32, 4)
    expected = reference_bars(box.as_tuple(), "smpte", True, 29, 17)
    np.testing.assert_allclose(pixels, expected, rtol=0, atol=TOLERANCE)
    packed = ColorBars.pack(values | {"linear": False, "type": "full_field"}, ctx)
    assert packed[:3] == [0.0, 29.0, 17.0] and len(packed) == 3 + 13 * 3
    assert packed[3:6] == [0.75, 0.75, 0.75] and packed[3 + 27 : 3 + 30] == pytest.approx(MINUS_I)


def test_color_bars_wgsl_compiles():
    compile_wgsl(wgsl_source(ColorBars.__module__), "OUT[0] = color_bars_source(1, 2, 0u);")
