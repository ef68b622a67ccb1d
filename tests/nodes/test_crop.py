"""Crop, through the engine on every backend: data windows, pixels (a crop is a copy, so
they must be equal to the input's bit for bit), the reformat option, and the upgrade of
version-1 scripts, whose ``box`` was (x, y, width, height)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import script
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.transform.crop import Crop
from tests.conftest import compile_wgsl, random_image

WINDOW = (5, 3, 34, 22)  # 29 x 19 pixels, away from the origin
FIXTURES = Path(__file__).parent.parent / "engine" / "fixtures"


def render(backend, array_source, pixels, size=None, region=None, script_format=None, **params):
    g = mb.Graph()
    if script_format:
        g.settings.format = mb.Format(*script_format)
    source = array_source(g, pixels, window=WINDOW, size=size)
    node = g.add("Crop", inputs={"Source": source}, **params)
    return g.render(node, frame=1, backend=backend, region=region)


def input_pixels(pixels, box):
    """``pixels`` (over WINDOW) inside ``box``, black elsewhere in it."""
    image = mb.Image(pixels, WINDOW, mb.Format(64, 48))
    return image.crop(box)


def test_crop_keeps_the_box(backend, array_source):
    pixels = random_image(19, 29, seed=31)
    out = render(backend, array_source, pixels, box=(10, 0, 30, 15))
    assert out.data_window == (10, 3, 30, 15)  # the input's window within the box
    assert (out.format.width, out.format.height) == (34, 22)  # the input's format
    np.testing.assert_array_equal(out.pixels, input_pixels(pixels, out.data_window))


def test_crop_box_is_rounded(backend, array_source):
    pixels = random_image(19, 29, seed=32)
    out = render(backend, array_source, pixels, box=(9.6, 4.2, 20.4, 30.0))
    assert out.data_window == (10, 4, 20, 22)


@pytest.mark.parametrize("script_format", [(1920, 1080), (12, 9)])
def test_default_box_is_the_input_format(backend, array_source, script_format):
    pixels = random_image(19, 29, seed=33)
    # input format 30 x 20: the data window (5, 3, 34, 22) overhangs it right and below
    out = render(backend, array_source, pixels, size=(30, 20), script_format=script_format)
    assert out.data_window == (5, 3, 30, 20)
    np.testing.assert_array_equal(out.pixels, input_pixels(pixels, (5, 3, 30, 20)))


def test_reformat_makes_the_box_the_format(backend, array_source):
    pixels = random_image(19, 29, seed=34)
    out = render(backend, array_source, pixels, box=(10, 5, 25, 30), reformat=True)
    assert (out.format.width, out.format.height) == (15, 25)
    assert out.data_window == (0, 0, 15, 17)  # (10, 5, 25, 22) moved by (-10, -5)
    np.testing.assert_array_equal(out.pixels, input_pixels(pixels, (10, 5, 25, 22)))


def test_reformat_with_the_default_box(backend, array_source):
    pixels = random_image(19, 29, seed=35)
    out = render(backend, array_source, pixels, size=(30, 20), reformat=True)
    assert (out.format.width, out.format.height) == (30, 20)
    assert out.data_window == (5, 3, 30, 20)
    np.testing.assert_array_equal(out.pixels, input_pixels(pixels, (5, 3, 30, 20)))


@pytest.mark.parametrize("reformat", [False, True])
def test_regions_of_a_crop(backend, array_source, reformat):
    pixels = random_image(19, 29, seed=36)
    box = (8, 6, 31, 20)
    whole = render(backend, array_source, pixels, box=box, reformat=reformat)
    x0, y0, x1, y1 = whole.data_window
    for region in [(x0 - 2, y0 + 3, x0 + 7, y1 + 4), (x0 + 5, y0 - 1, x1 - 3, y0 + 6)]:
        part = render(backend, array_source, pixels, box=box, reformat=reformat, region=region)
        np.testing.assert_array_equal(part.crop(region), whole.crop(region))


def test_box_outside_the_image_gives_nothing(backend, array_source):
    pixels = random_image(19, 29, seed=37)
    out = render(backend, array_source, pixels, box=(40, 0, 60, 10))
    assert out.pixels.size == 0


def test_version_1_script_is_upgraded_and_renders(backend):
    g = script.load(FIXTURES / "crop_v1.mbx")
    crop = g["Crop1"]
    assert crop.version == Crop.version == 2
    assert list(crop["box"]) == [10, 20, 110, 70]  # (x, y, w, h) -> (x0, y0, x1, y1)
    out = g.render(crop, frame=1, backend=backend)
    assert out.data_window == (10, 20, 110, 70)
    ys, xs = np.mgrid[20:70, 10:110]
    odd = ((xs // 8 + ys // 8) % 2 == 1)[..., None]  # the fixture's Checkerboard, size 8
    expected = np.where(odd, np.float32(0.5), np.float32(0.1))
    expected = np.broadcast_to(expected, (50, 100, 4)).copy()
    expected[..., 3] = 1.0
    np.testing.assert_array_equal(out.pixels, expected)


def test_upgrade_converts_animated_boxes():
    values = {"box": {"keys": [[1, [0, 0, 10, 10]], [5, [2, 3, 4, 5]]], "interpolation": "linear"}}
    upgraded = Crop.upgrade(values, 1)
    assert upgraded["box"]["keys"] == [[1, [0, 0, 10, 10]], [5, [2, 3, 6, 8]]]
    assert upgraded["box"]["interpolation"] == "linear"
    assert Crop.upgrade({"reformat": True}, 1) == {"reformat": True}
    assert Crop.upgrade({"box": [1, 2, 3, 4]}, 2) == {"box": [1, 2, 3, 4]}


def test_crop_wgsl_compiles():
    main = "OUT[0] = crop_pixel(CropTile(0, 0, 4, 4), 1, 2, 0u);"
    compile_wgsl(wgsl_source(Crop.__module__), main, reads=["SRC"])


def test_a_box_out_to_the_coordinate_limit_renders_and_past_it_is_refused(backend, array_source):
    """Box edges at ±2^30 pixels (where nothing lies) keep the rest of the input; 1e30, which a
    kernel's coordinates cannot hold (found by the fuzzer), is refused naming the key,
    and so is a box too large to become the format."""
    pixels = random_image(19, 29, seed=32)
    limit = 2**30
    out = render(backend, array_source, pixels, box=(7.5, -limit, limit, limit))
    assert out.data_window == (8, 3, 34, 22)  # 7.5 rounds to 8; the rest is the input's
    np.testing.assert_array_equal(out.pixels, pixels[:, 3:])
    with pytest.raises(mb.GraphError, match=r"Crop1\.box: 1e\+30 is above the maximum"):
        render(backend, array_source, pixels, box=(3.5, -1.0, 1e30, 1e30))
    with pytest.raises(mb.RenderError) as caught:
        render(backend, array_source, pixels, box=(0, 0, 70000, 10), reformat=True)
    assert str(caught.value) == (
        "Crop1: box: a 70000x10 box cannot be the format (reformat); the largest is 65536 "
        "pixels a side"
    )
