"""DifferenceKeyer, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.keyer.difference_keyer import DifferenceKeyer
from tests.conftest import compile_wgsl, placed, random_image

RTOL, ATOL = 2e-5, 2e-6
WINDOW_A = (-5, 7, 18, 26)  # 23×19, off the origin
WINDOW_B = (-2, 3, 21, 20)  # 23×17, overlapping A's window in part
BOTH = (-5, 3, 21, 26)  # the union of the two


def reference_difference_keyer(plate, clean, values):
    """``clamp((max |A - B| - offset) * gain, 0, 1)`` into alpha in float64 over A's window,
    B transparent black outside its own; colour A's, times the key with ``premultiply``."""
    v = DifferenceKeyer.defaults() | values
    a = plate.astype(np.float64)
    b = placed(clean, WINDOW_B, BOTH)[WINDOW_A[1] - BOTH[1] :, WINDOW_A[0] - BOTH[0] :]
    b = b[: a.shape[0], : a.shape[1]]
    diff = np.abs(a[..., :3] - b[..., :3]).max(axis=-1)
    key = np.clip((diff - v["offset"]) * v["gain"], 0.0, 1.0)
    if v["premultiply"]:
        a[..., :3] *= key[..., None]
    a[..., 3] = key
    return a


def plates(seed):
    """A plate and a clean plate that equals it in part of the overlap and differs from it
    by exactly the offsets the cases use in another part."""
    plate = random_image(19, 23, seed=seed, lo=-0.2, hi=1.3)
    clean = random_image(17, 23, seed=seed + 1, lo=-0.2, hi=1.3)
    # A's rows 0..12, columns 3..22 lie over B's rows 4..16, columns 0..19.
    clean[4:8, 0:10] = plate[0:4, 3:13]
    clean[8:10, 0:10, :3] = plate[4:6, 3:13, :3] + np.float32(0.125)
    return plate, clean


def render(backend, array_source, plate, clean, mask=None, **params):
    g = mb.Graph()
    inputs = {
        "A": array_source(g, plate, window=WINDOW_A),
        "B": array_source(g, clean, window=WINDOW_B),
    }
    if mask is not None:
        inputs["Mask"] = array_source(g, mask, window=WINDOW_A)
    node = g.add("DifferenceKeyer", inputs=inputs, **params)
    return g.render(node, frame=1, backend=backend)


CASES = {
    "defaults": {},
    "offset and gain": {"offset": 0.125, "gain": 3.5},
    "premultiplied": {"offset": 0.05, "gain": 2.0, "premultiply": True},
    "negative offset": {"offset": -0.1, "gain": 0.7},
}


@pytest.mark.parametrize("case", CASES)
def test_difference_keyer(backend, array_source, case):
    plate, clean = plates(seed=21)
    out = render(backend, array_source, plate, clean, **CASES[case])
    assert out.data_window == WINDOW_A
    expected = reference_difference_keyer(plate, clean, CASES[case])
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_equal_plates_key_to_zero_and_the_window_is_a_s(backend, array_source):
    plate = random_image(19, 23, seed=22)
    g = mb.Graph()
    a = array_source(g, plate, window=WINDOW_A)
    b = array_source(g, plate, window=WINDOW_A)
    node = g.add("DifferenceKeyer", inputs={"A": a, "B": b}, gain=100.0)
    out = g.render(node, frame=1, backend=backend)
    assert out.data_window == WINDOW_A
    np.testing.assert_array_equal(out.pixels[..., :3], plate[..., :3])
    np.testing.assert_array_equal(out.pixels[..., 3], 0.0)


def test_difference_keyer_through_a_mask(backend, array_source):
    plate, clean = plates(seed=23)
    mask = random_image(19, 23, seed=25, lo=0.0, hi=1.0)
    values = {"offset": 0.02, "gain": 4.0, "premultiply": True}
    out = render(backend, array_source, plate, clean, mask=mask, mix=0.8, **values)
    source = plate.astype(np.float64)
    weight = 0.8 * mask[..., 3:4].astype(np.float64)
    expected = source + (reference_difference_keyer(plate, clean, values) - source) * weight
    assert out.data_window == WINDOW_A
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_difference_keyer_wgsl_compiles():
    source = wgsl_source(DifferenceKeyer.__module__)
    main = "OUT[0] = difference_keyer_point(vec4<f32>(0.5, 0.25, 0.125, 0.75), vec4<f32>(0.1), 0u);"
    compile_wgsl(source, main)
