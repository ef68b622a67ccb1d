"""Log2Lin, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.color.log2lin import Log2Lin
from mattebox.nodes.kernel import wgsl_source
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 1e-5, 2e-6  # float32 exp/log against float64
WINDOW = (-7, -3, 16, 16)  # 23×19, off the origin
SMALLEST = 1.17549435e-38  # lin2log's floor for the logarithm's argument


def cineon(black=95.0, white=685.0, gamma=0.6):
    """white, gamma and Nuke's offset (the linear value of code 0 before rescaling)."""
    return white, gamma, 10.0 ** ((black - white) * 0.002 / gamma)


def reference_log2lin(pixels, operation="log2lin", **settings):
    """Nuke's Log2Lin from the formula in float64 on RGB; alpha unchanged."""
    white, gamma, offset = cineon(**settings)
    out = pixels.astype(np.float64)
    rgb = out[..., :3]
    if operation == "log2lin":
        code = rgb * 1023.0
        out[..., :3] = (10.0 ** ((code - white) * 0.002 / gamma) - offset) / (1.0 - offset)
    else:
        argument = np.maximum(rgb * (1.0 - offset) + offset, SMALLEST)
        out[..., :3] = (white + np.log10(argument) * gamma / 0.002) / 1023.0
    return out


def far_from_the_floor(pixels, **settings):
    """Whether no lin2log argument is near 0, where float32 rounding of ``lin`` moves
    the logarithm by more than the tolerance."""
    offset = cineon(**settings)[2]
    argument = pixels[..., :3].astype(np.float64) * (1.0 - offset) + offset
    return np.abs(argument).min() > 1e-4


def render(backend, array_source, pixels, **params):
    g = mb.Graph()
    node = g.add("Log2Lin", inputs={"Source": array_source(g, pixels, window=WINDOW)}, **params)
    return g.render(node, frame=1, backend=backend)


SETTINGS = [{}, {"black": 64.0, "white": 700.0, "gamma": 0.75}, {"black": 0.0, "gamma": 1.7}]


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("operation", ["log2lin", "lin2log"])
def test_log2lin(backend, array_source, operation, settings):
    pixels = random_image(19, 23, seed=15, lo=-0.3, hi=1.5)
    assert (pixels[..., :3] < -0.02).any()  # some lin2log arguments below 0: the floor
    if operation == "lin2log":
        assert far_from_the_floor(pixels, **settings)
    out = render(backend, array_source, pixels, operation=operation, **settings)
    assert out.data_window == WINDOW
    expected = reference_log2lin(pixels, operation, **settings)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_black_and_white_codes_become_0_and_1(backend, array_source):
    pixels = np.ones((1, 2, 4), np.float32)
    pixels[0, 0, :3], pixels[0, 1, :3] = 95.0 / 1023.0, 685.0 / 1023.0
    out = render(backend, array_source, pixels)
    np.testing.assert_allclose(out.pixels[0, :, :3], [[0.0] * 3, [1.0] * 3], atol=2e-6)
    back = render(backend, array_source, out.pixels, operation="lin2log")
    np.testing.assert_allclose(back.pixels, pixels, rtol=1e-5, atol=1e-5)


def test_log2lin_on_rgb_through_a_mask(backend, array_source):
    pixels = random_image(19, 23, seed=16, lo=0.0, hi=1.2)
    mask = random_image(19, 23, seed=17, lo=0.0, hi=1.0)
    g = mb.Graph()
    node = g.add(
        "Log2Lin",
        inputs={
            "Source": array_source(g, pixels, window=WINDOW),
            "Mask": array_source(g, mask, window=WINDOW),
        },
        operation="lin2log",
        channels="rgb",
        mix=0.9,
    )
    out = g.render(node, frame=1, backend=backend)
    source = pixels.astype(np.float64)
    weight = 0.9 * mask[..., 3:4].astype(np.float64)
    expected = source + (reference_log2lin(pixels, "lin2log") - source) * weight
    assert out.data_window == WINDOW
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_the_cpu_uses_the_variant_for_the_operation():
    values = Log2Lin.defaults()
    assert Log2Lin.cpu_point_for(values).__name__ == "log2lin_point_decode"
    values["operation"] = "lin2log"
    assert Log2Lin.cpu_point_for(values).__name__ == "log2lin_point_encode"


def test_log2lin_wgsl_compiles():
    source = wgsl_source(Log2Lin.__module__)
    compile_wgsl(source, "OUT[0] = log2lin_point(vec4<f32>(0.5, -0.25, 0.125, 0.75), 0u);")
