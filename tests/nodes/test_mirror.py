"""Mirror, through the engine on every backend, against ``np.flip`` of the input: exact
copies, data windows mirrored about the format's centre."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render as engine_render
from tests.conftest import random_image

SIZE = (40, 30)  # the format: width, height
WINDOW = (-3, 5, 26, 36)  # 29 x 31 pixels, out of the format on the left and the bottom


def render(backend, array_source, pixels, region=None, **params):
    g = mb.Graph()
    source = array_source(g, pixels, window=WINDOW, size=SIZE)
    node = g.add("Mirror", inputs={"Source": source}, **params)
    return g.render(node, frame=1, backend=backend, region=region)


def mirrored_window(flip, flop):
    x0, y0, x1, y1 = WINDOW
    width, height = SIZE
    if flop:
        x0, x1 = width - x1, width - x0
    if flip:
        y0, y1 = height - y1, height - y0
    return (x0, y0, x1, y1)


@pytest.mark.parametrize(
    ("flip", "flop"), [(True, False), (False, True), (True, True)], ids=["flip", "flop", "both"]
)
def test_mirror_copies_pixels_exactly(backend, array_source, flip, flop):
    pixels = random_image(31, 29, seed=3)
    out = render(backend, array_source, pixels, flip=flip, flop=flop)
    axes = tuple(axis for axis, on in ((0, flip), (1, flop)) if on)
    assert out.data_window == mirrored_window(flip, flop)
    assert (out.format.width, out.format.height) == SIZE
    np.testing.assert_array_equal(out.pixels, np.flip(pixels, axis=axes))


def test_a_region_is_the_same_part_of_the_mirrored_image(backend, array_source):
    pixels = random_image(31, 29, seed=4)
    whole = render(backend, array_source, pixels, flip=True, flop=True)
    region = (16, 1, 35, 14)
    part = render(backend, array_source, pixels, region=region, flip=True, flop=True)
    x0, y0 = whole.data_window[:2]
    expected = whole.pixels[region[1] - y0 : region[3] - y0, region[0] - x0 : region[2] - x0]
    np.testing.assert_array_equal(part.pixels, expected)


def test_neither_box_passes_the_input_through(array_source):
    g = mb.Graph()
    pixels = random_image(31, 29, seed=5)
    source = array_source(g, pixels, window=WINDOW, size=SIZE)
    node = g.add("Mirror", inputs={"Source": source})
    assert engine_render.evaluate(g, node, 1).hash == engine_render.evaluate(g, source, 1).hash
