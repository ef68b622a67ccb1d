"""ColorCorrect, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.color.color_correct import ColorCorrect
from mattebox.nodes.kernel import wgsl_source
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 2e-5, 2e-6
WINDOW = (7, 4, 30, 23)  # 23×19, off the origin
LUMA = np.array([0.2126, 0.7152, 0.0722])
TONAL_RANGES = ("master", "shadows", "midtones", "highlights")


def smoothstep(edge0, edge1, x):
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def correct(rgb, values, tonal_range):
    """One range's correction in float64, step by step as the docs state them."""

    def param(what):
        default = 0.0 if what == "offset" else 1.0
        value = values.get(f"{tonal_range}_{what}", default)
        return np.broadcast_to(np.asarray(value, np.float64), (4,))[:3]

    luma = (rgb @ LUMA)[..., None]
    v = luma + (rgb - luma) * param("saturation")
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(v > 0, (np.maximum(v, 0) / 0.18) ** param("contrast") * 0.18, v)
        v = np.where(v > 0, np.maximum(v, 0) ** (1.0 / param("gamma")), v)
    return v * param("gain") + param("offset")


def reference_color_correct(pixels, values):
    """Nuke's ColorCorrect from its formulas: weighted ranges, then master; alpha kept."""
    out = pixels.astype(np.float64)
    rgb = out[..., :3]
    luma = (rgb @ LUMA)[..., None]
    ws = 1.0 - smoothstep(0.0, values.get("shadows_end", 0.09), luma)
    wh = smoothstep(values.get("highlights_start", 0.5), 1.0, luma)
    wm = np.clip(1.0 - ws - wh, 0.0, 1.0)
    tones = (
        ws * correct(rgb, values, "shadows")
        + wm * correct(rgb, values, "midtones")
        + wh * correct(rgb, values, "highlights")
    )
    out[..., :3] = correct(tones, values, "master")
    return out


def random_values(seed):
    """Random corrections for every range (alpha components arbitrary: unused)."""
    rng = np.random.default_rng(seed)
    values = {}
    for tonal_range in TONAL_RANGES:
        values[f"{tonal_range}_saturation"] = list(rng.uniform(0.0, 2.0, 4))
        values[f"{tonal_range}_contrast"] = list(rng.uniform(0.6, 1.6, 4))
        values[f"{tonal_range}_gamma"] = list(rng.uniform(0.5, 2.0, 4))
        values[f"{tonal_range}_gain"] = list(rng.uniform(0.6, 1.5, 4))
        values[f"{tonal_range}_offset"] = list(rng.uniform(-0.05, 0.05, 4))
    return values


def render(backend, array_source, pixels, mask=None, **params):
    g = mb.Graph()
    inputs = {"Source": array_source(g, pixels, window=WINDOW)}
    if mask is not None:
        inputs["Mask"] = array_source(g, mask, window=WINDOW)
    node = g.add("ColorCorrect", inputs=inputs, **params)
    return g.render(node, frame=1, backend=backend)


CASES = {
    "random 1": random_values(1),
    "random 2": {**random_values(2), "shadows_end": 0.2, "highlights_start": 0.35},
    "random 3, overlapping ranges": {
        **random_values(3),
        "shadows_end": 0.6,
        "highlights_start": 0.3,
    },
    "gain and saturation only": {
        "master_saturation": 1.3,
        "shadows_gain": [1.4, 1.0, 0.7, 1.0],
        "midtones_saturation": [0.5, 1.5, 1.0, 1.0],
        "highlights_offset": [0.02, -0.03, 0.01, 0.0],
        "master_gain": 0.9,
    },
    "master contrast": {"master_contrast": 1.4},
    "shadows gamma": {"shadows_gamma": [2.2, 0.45, 1.3, 1.0], "shadows_end": 0.3},
}


@pytest.mark.parametrize("case", CASES)
def test_color_correct(backend, array_source, case):
    pixels = random_image(19, 23, seed=31, lo=-0.3, hi=2.0)
    out = render(backend, array_source, pixels, **CASES[case])
    assert out.data_window == WINDOW
    expected = reference_color_correct(pixels, CASES[case])
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_the_ranges_weigh_dark_middle_and_bright_pixels(backend, array_source):
    """Each range's gain reaches only its own greys: 0.02 (shadows), 0.3 (midtones) and 0.9
    (highlights, weight smoothstep(0.5, 1, 0.9) = 0.896)."""
    greys = np.array([[[0.02] * 3 + [1.0], [0.3] * 3 + [1.0], [0.9] * 3 + [1.0]]], np.float32)
    gains = {"shadows_gain": 2.0, "midtones_gain": 3.0, "highlights_gain": 5.0}
    g = mb.Graph()
    node = g.add("ColorCorrect", inputs={"Source": array_source(g, greys)}, **gains)
    out = g.render(node, frame=1, backend=backend).pixels[0, :, 0]
    ws = 1.0 - smoothstep(0.0, 0.09, 0.02)
    wh = smoothstep(0.5, 1.0, 0.9)
    expected = [0.02 * (2.0 * ws + 3.0 * (1.0 - ws)), 0.3 * 3.0, 0.9 * (5.0 * wh + 3.0 * (1 - wh))]
    np.testing.assert_allclose(out, expected, rtol=RTOL)


def test_defaults_pass_the_input_through(backend, array_source):
    values = ColorCorrect.defaults()
    assert ColorCorrect.pass_through(values) == "Source"
    assert ColorCorrect.pass_through({**values, "master_gamma": (1.0, 1.0, 1.0, 2.0)})
    assert ColorCorrect.pass_through({**values, "midtones_offset": (0.0, 0.1, 0.0, 0.0)}) is None
    overlapping = {**values, "shadows_end": 0.6, "highlights_start": 0.4}
    assert ColorCorrect.pass_through(overlapping) is None
    pixels = random_image(19, 23, seed=34)
    out = render(backend, array_source, pixels, shadows_end=0.2, highlights_start=0.7)
    np.testing.assert_array_equal(out.pixels, pixels)


def test_the_cpu_uses_the_variant_without_pow_only_where_contrast_and_gamma_are_1():
    values = ColorCorrect.defaults()
    assert ColorCorrect.cpu_point_for(values).__name__ == "color_correct_point_linear"
    values["shadows_contrast"] = (1.0, 1.0, 1.0, 3.0)  # alpha's value is not used
    assert ColorCorrect.cpu_point_for(values).__name__ == "color_correct_point_linear"
    for name in ("highlights_contrast", "master_gamma"):
        changed = {**values, name: (1.0, 1.0, 1.2, 1.0)}
        assert ColorCorrect.cpu_point_for(changed).__name__ == "color_correct_point"


def test_color_correct_wgsl_compiles():
    source = wgsl_source(ColorCorrect.__module__)
    compile_wgsl(source, "OUT[0] = color_correct_point(vec4<f32>(0.5, -0.25, 0.125, 0.75), 0u);")


@pytest.mark.parametrize("contrast, gamma", [(1e6, 1.0), (1e6, 0.0001), (0.0, 0.0001)])
def test_absurd_contrast_and_gamma_give_an_image_not_an_overflow(
    backend, array_source, contrast, gamma
):
    """0.18 ** ((1 - contrast) / gamma) overflows a float: the scale is held at float32's
    largest number (found by the fuzzer: an OverflowError reached the command line)."""
    pixels = random_image(4, 5, seed=31, lo=0.05, hi=0.9)
    g = mb.Graph()
    node = g.add(
        "ColorCorrect",
        inputs={"Source": array_source(g, pixels)},
        shadows_contrast=contrast,
        shadows_gamma=gamma,
    )
    out = g.render(node, frame=1, backend=backend)
    assert out.pixels.shape == pixels.shape
    np.testing.assert_array_equal(out.pixels[..., 3], pixels[..., 3])
