"""Exposure, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.color.exposure import Exposure
from mattebox.nodes.kernel import wgsl_source
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 1e-5, 1e-6  # one float32 multiplication against float64
WINDOW = (-5, 7, 18, 26)  # 23×19, off the origin


def reference_exposure(pixels, stops):
    """``in * 2**stops`` on RGB in float64; alpha unchanged."""
    out = pixels.astype(np.float64)
    out[..., :3] *= 2.0 ** np.asarray(stops[:3], np.float64)
    return out


def render(backend, array_source, pixels, **params):
    g = mb.Graph()
    node = g.add("Exposure", inputs={"Source": array_source(g, pixels, window=WINDOW)}, **params)
    return g.render(node, frame=1, backend=backend)


@pytest.mark.parametrize(
    "stops", [[1.0, 1.0, 1.0, 0.0], [-2.5, 0.3, 1.75, 3.0], [0.0, -0.6, 0.0, 0.0]]
)
def test_exposure(backend, array_source, stops):
    pixels = random_image(19, 23, seed=4, lo=-0.4, hi=2.0)
    out = render(backend, array_source, pixels, stops=stops)
    assert out.data_window == WINDOW
    np.testing.assert_allclose(out.pixels, reference_exposure(pixels, stops), rtol=RTOL, atol=ATOL)


def test_zero_stops_pass_the_input_through(backend, array_source):
    pixels = random_image(19, 23, seed=5)
    assert Exposure.pass_through(Exposure.defaults()) == "Source"
    assert Exposure.pass_through({"stops": (0.0, 0.0, 0.0, 2.0)}) == "Source"
    np.testing.assert_array_equal(render(backend, array_source, pixels).pixels, pixels)


def test_exposure_on_rgb_through_a_mask(backend, array_source):
    pixels = random_image(19, 23, seed=6, lo=-0.3, hi=1.8)
    mask = random_image(19, 23, seed=7, lo=0.0, hi=1.0)
    stops = [0.8, -1.3, 2.1, 1.0]
    g = mb.Graph()
    node = g.add(
        "Exposure",
        inputs={
            "Source": array_source(g, pixels, window=WINDOW),
            "Mask": array_source(g, mask, window=WINDOW),
        },
        stops=stops,
        channels="rgb",
        mix=0.6,
    )
    out = g.render(node, frame=1, backend=backend)
    source = pixels.astype(np.float64)
    weight = 0.6 * mask[..., 3:4].astype(np.float64)
    expected = source + (reference_exposure(pixels, stops) - source) * weight
    assert out.data_window == WINDOW
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_exposure_wgsl_compiles():
    source = wgsl_source(Exposure.__module__)
    compile_wgsl(source, "OUT[0] = exposure_point(vec4<f32>(0.5, 0.25, 0.125, 0.75), 0u);")
