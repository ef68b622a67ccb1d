"""Keyer, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.keyer.keyer import OPERATIONS, Keyer
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 2e-5, 2e-6  # a float32 ramp (times 1/(b-a)) against a float64 division
WINDOW = (-5, 7, 18, 26)  # 23×19, off the origin
RAMPS = (0.125, 0.375, 0.625, 0.875)  # exact in float32, so pixels can sit on them
COMPONENT = {"alpha": 3, "red": 0, "green": 1, "blue": 2}


def measure(rgb, operation):
    """The value the key is pulled from, in float64."""
    if operation == "luminance":
        return rgb @ np.array([0.2126, 0.7152, 0.0722])
    if operation in ("red", "green", "blue"):
        return rgb[..., ("red", "green", "blue").index(operation)]
    if operation == "saturation":
        return rgb.max(axis=-1) - rgb.min(axis=-1)
    return rgb.max(axis=-1) if operation == "max" else rgb.min(axis=-1)


def key_of(v, a, b, c, d):
    """0 up to a, ramp to 1 at b (a step where a == b), 1 to c, ramp to 0 at d, 0 from d."""
    key = np.zeros_like(v)
    rise = (v > a) & (v < b)
    key[rise] = (v[rise] - a) / (b - a)
    key[(v >= b) & (v <= c)] = 1.0
    fall = (v > c) & (v < d)
    key[fall] = (d - v[fall]) / (d - c)
    return key


def reference_keyer(pixels, values):
    """The key from the formula in float64, written to ``output``, colour premultiplied."""
    v = Keyer.defaults() | values
    out = pixels.astype(np.float64)
    key = key_of(measure(out[..., :3], v["operation"]), *np.asarray(v["range"], np.float64))
    if v["premultiply"]:
        out[..., :3] *= key[..., None]
    out[..., COMPONENT[v["output"]]] = key
    return out


def plate(seed):
    """Random premultiplied RGBA with grey pixels exactly on and around the range's corners
    (rows 0 and 1) and a row whose channels are those values in turn (row 2)."""
    pixels = random_image(19, 23, seed=seed, lo=-0.3, hi=1.4)
    a, b, c, d = RAMPS
    on = np.array([a, b, c, d, 0.0, 0.25, 0.5, 0.75, 1.0, -0.2, 1.3, 0.375], np.float32)
    near = np.nextafter(on, np.float32(2.0))
    pixels[0, : on.size, :3] = on[:, None]
    pixels[1, : on.size, :3] = near[:, None]
    pixels[2, : on.size, :3] = np.stack([on, np.roll(on, 1), np.roll(on, 2)], axis=-1)
    return pixels


def render(backend, array_source, pixels, mask=None, **params):
    g = mb.Graph()
    inputs = {"Source": array_source(g, pixels, window=WINDOW)}
    if mask is not None:
        inputs["Mask"] = array_source(g, mask, window=WINDOW)
    node = g.add("Keyer", inputs=inputs, **params)
    return g.render(node, frame=1, backend=backend)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_keyer_operations(backend, array_source, operation):
    pixels = plate(seed=11)
    values = {"operation": operation, "range": RAMPS}
    out = render(backend, array_source, pixels, **values)
    assert out.data_window == WINDOW
    expected = reference_keyer(pixels, values)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


CASES = {
    "default range": {},
    "steps on both sides": {"operation": "red", "range": [0.375, 0.375, 0.625, 0.625]},
    "one value": {"operation": "max", "range": [0.25, 0.25, 0.25, 0.25]},
    "step up, ramp down": {"operation": "green", "range": [0.125, 0.125, 0.5, 1.0]},
    "ramp up, step down": {"operation": "min", "range": [0.0, 0.75, 1.0, 1.0]},
    "into red": {"operation": "blue", "range": RAMPS, "output": "red"},
    "premultiplied": {"operation": "luminance", "range": [0.1, 0.3, 0.8, 1.2], "premultiply": True},
    "into green": {"operation": "saturation", "range": [0.0, 0.2, 0.5, 0.9], "output": "green"},
    "into blue, premultiplied": {
        "operation": "red",
        "range": RAMPS,
        "output": "blue",
        "premultiply": True,
    },
}


@pytest.mark.parametrize("case", CASES)
def test_keyer_ranges_and_outputs(backend, array_source, case):
    pixels = plate(seed=12)
    out = render(backend, array_source, pixels, **CASES[case])
    assert out.data_window == WINDOW
    expected = reference_keyer(pixels, CASES[case])
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_keyer_through_a_mask(backend, array_source):
    pixels = plate(seed=13)
    mask = random_image(19, 23, seed=14, lo=0.0, hi=1.0)
    values = {"operation": "green", "range": RAMPS, "premultiply": True}
    out = render(backend, array_source, pixels, mask=mask, mix=0.7, **values)
    source = pixels.astype(np.float64)
    weight = 0.7 * mask[..., 3:4].astype(np.float64)
    expected = source + (reference_keyer(pixels, values) - source) * weight
    assert out.data_window == WINDOW
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("bad", [[0.5, 0.4, 0.6, 0.7], [0.1, 0.6, 0.5, 0.7], [0, 0.2, 0.9, 0.8]])
def test_a_range_out_of_order_is_an_error_naming_the_node(array_source, bad):
    g = mb.Graph()
    source = array_source(g, random_image(4, 5, seed=15))
    node = g.add("Keyer", inputs={"Source": source}, range=bad)
    with pytest.raises(mb.RenderError, match=r"^Keyer1: range: expected a <= b <= c <= d"):
        g.render(node, frame=1, backend="cpu")


def test_keyer_wgsl_compiles():
    source = wgsl_source(Keyer.__module__)
    compile_wgsl(source, "OUT[0] = keyer_point(vec4<f32>(0.5, 0.25, 0.125, 0.75), 0u);")
