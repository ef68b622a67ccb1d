"""HueShift, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.color.hue_shift import HueShift
from mattebox.nodes.kernel import wgsl_source
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 1e-5, 2e-6  # a float32 3×3 product against float64
WINDOW = (5, 11, 28, 30)  # 23×19, off the origin
LUMA = np.array([0.2126, 0.7152, 0.0722])


def reference_hue_shift(pixels, hue_rotation=0.0, saturation=1.0, preserve_luminance=False):
    """Rodrigues' rotation of each colour about (1, 1, 1), saturation around Rec. 709 luma,
    then the input's luma added back when asked; float64, alpha unchanged."""
    out = pixels.astype(np.float64)
    rgb = out[..., :3]
    axis = np.ones(3) / np.sqrt(3.0)
    angle = np.radians(hue_rotation)
    along = (rgb @ axis)[..., None] * axis
    rotated = (
        rgb * np.cos(angle) + np.cross(axis, rgb) * np.sin(angle) + along * (1 - np.cos(angle))
    )
    luma = (rotated @ LUMA)[..., None]
    shifted = luma + (rotated - luma) * saturation
    if preserve_luminance:
        shifted += (rgb @ LUMA - shifted @ LUMA)[..., None]
    out[..., :3] = shifted
    return out


def render(backend, array_source, pixels, **params):
    g = mb.Graph()
    node = g.add("HueShift", inputs={"Source": array_source(g, pixels, window=WINDOW)}, **params)
    return g.render(node, frame=1, backend=backend)


CASES = {
    "rotation": {"hue_rotation": 37.0},
    "negative rotation and saturation": {"hue_rotation": -145.0, "saturation": 1.6},
    "desaturate only": {"saturation": 0.3},
    "preserve luminance": {"hue_rotation": 200.0, "saturation": 0.8, "preserve_luminance": True},
}


@pytest.mark.parametrize("case", CASES)
def test_hue_shift(backend, array_source, case):
    pixels = random_image(19, 23, seed=18, lo=-0.3, hi=1.8)
    out = render(backend, array_source, pixels, **CASES[case])
    assert out.data_window == WINDOW
    expected = reference_hue_shift(pixels, **CASES[case])
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_a_third_of_a_turn_turns_red_into_green_and_keeps_greys(backend, array_source):
    pixels = np.array([[[1, 0, 0, 1], [0, 1, 0, 1], [0.4, 0.4, 0.4, 0.5]]], np.float32)
    out = render(backend, array_source, pixels, hue_rotation=120.0)
    expected = [[0, 1, 0, 1], [0, 0, 1, 1], [0.4, 0.4, 0.4, 0.5]]
    np.testing.assert_allclose(out.pixels[0], expected, atol=2e-6)


def test_preserve_luminance_keeps_the_input_luma(backend, array_source):
    pixels = random_image(19, 23, seed=19)
    out = render(backend, array_source, pixels, hue_rotation=75.0, preserve_luminance=True)
    np.testing.assert_allclose(out.pixels[..., :3] @ LUMA, pixels[..., :3] @ LUMA, atol=2e-6)


def test_no_rotation_and_saturation_1_pass_the_input_through(backend, array_source):
    values = HueShift.defaults()
    assert HueShift.pass_through(values) == "Source"
    assert HueShift.pass_through({**values, "hue_rotation": -360.0}) == "Source"
    assert HueShift.pass_through({**values, "hue_rotation": 10.0}) is None
    pixels = random_image(19, 23, seed=20)
    out = render(backend, array_source, pixels, preserve_luminance=True)
    np.testing.assert_array_equal(out.pixels, pixels)


def test_hue_shift_on_rgb_through_a_mask(backend, array_source):
    pixels = random_image(19, 23, seed=21, lo=-0.3, hi=1.8)
    mask = random_image(19, 23, seed=22, lo=0.0, hi=1.0)
    params = {"hue_rotation": 95.0, "saturation": 1.3}
    g = mb.Graph()
    node = g.add(
        "HueShift",
        inputs={
            "Source": array_source(g, pixels, window=WINDOW),
            "Mask": array_source(g, mask, window=WINDOW),
        },
        channels="rgb",
        mix=0.65,
        **params,
    )
    out = g.render(node, frame=1, backend=backend)
    source = pixels.astype(np.float64)
    weight = 0.65 * mask[..., 3:4].astype(np.float64)
    expected = source + (reference_hue_shift(pixels, **params) - source) * weight
    assert out.data_window == WINDOW
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_hue_shift_wgsl_compiles():
    source = wgsl_source(HueShift.__module__)
    compile_wgsl(source, "OUT[0] = hue_shift_point(vec4<f32>(0.5, -0.25, 0.125, 0.75), 0u);")
