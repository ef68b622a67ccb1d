"""ChromaKeyer, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.keyer.chroma_keyer import ChromaKeyer
from tests.conftest import compile_wgsl, random_image

# float32 hue (degrees) and saturation against float64: the alpha's slope is at most
# 1.5 / (180 softness) per degree, so a few 1e-5 degrees move it by ~1e-6.
RTOL, ATOL = 2e-5, 2e-5
WINDOW = (-5, 7, 18, 26)  # 23×19, off the origin


def hue_saturation(rgb):
    """HSV hue in degrees (NaN for grey) and saturation (0 where max <= 0), float64."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    top = rgb.max(axis=-1)
    chroma = top - rgb.min(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        hue = np.where(
            top == r,
            ((g - b) / chroma) % 6.0,
            np.where(top == g, (b - r) / chroma + 2.0, (r - g) / chroma + 4.0),
        )
        saturation = np.where(top > 0, chroma / top, 0.0)
    return np.where(chroma > 0, hue * 60.0, np.nan), saturation


def reference_chroma_keyer(pixels, values):
    """The documented formulas in float64: distances, linear bands, smoothstep, despill."""
    v = ChromaKeyer.defaults() | values
    screen = np.asarray(v["screen_color"][:3], np.float64)
    screen_hue, screen_saturation = hue_saturation(screen)
    rgb = pixels[..., :3].astype(np.float64)
    hue, saturation = hue_saturation(rgb)
    dh = np.abs(hue - screen_hue)
    dh = np.where(np.isnan(dh), 180.0, np.minimum(dh, 360.0 - dh))
    ds = 1.0 - saturation / screen_saturation

    def band(d, tolerance, width):
        if width == 0:
            return (d > tolerance).astype(np.float64)
        return np.clip((d - tolerance) / width, 0.0, 1.0)

    t = np.maximum(
        band(dh, v["hue_tolerance"], 180.0 * v["softness"]),
        band(ds, v["saturation_tolerance"], v["softness"]),
    )
    alpha = t * t * (3.0 - 2.0 * t)
    k = int(np.argmax(screen))
    others = [c for c in range(3) if c != k]
    mean = rgb[..., others].mean(axis=-1)
    rgb[..., k] -= v["despill"] * np.maximum(rgb[..., k] - mean, 0.0)
    return np.concatenate([rgb * alpha[..., None], alpha[..., None]], axis=-1)


def render(backend, array_source, pixels, mask=None, **params):
    g = mb.Graph()
    inputs = {"Source": array_source(g, pixels, window=WINDOW)}
    if mask is not None:
        inputs["Mask"] = array_source(g, mask, window=WINDOW)
    node = g.add("ChromaKeyer", inputs=inputs, **params)
    return g.render(node, frame=1, backend=backend)


def plate(seed, screen=(0.1, 0.6, 0.15)):
    """A random plate (alpha 1) with a third of it shades and noise of ``screen``."""
    rng = np.random.default_rng(seed)
    pixels = random_image(19, 23, seed=seed, lo=-0.1, hi=1.2, premultiplied=False)
    pixels[..., 3] = 1.0
    shade = rng.uniform(0.3, 1.4, (6, 23, 1))
    noise = rng.normal(0.0, 0.08, (6, 23, 3))
    pixels[:6, :, :3] = np.asarray(screen) * shade + noise
    return pixels


CASES = {
    "defaults": {},
    "tight, soft": {"hue_tolerance": 10.0, "saturation_tolerance": 0.2, "softness": 0.4},
    "wide, half despill": {"hue_tolerance": 60.0, "softness": 0.05, "despill": 0.5},
    "blue screen": {
        "screen_color": [0.1, 0.2, 0.7, 1.0],
        "hue_tolerance": 40.0,
        "saturation_tolerance": 0.3,
        "softness": 0.3,
    },
    "red screen, no despill": {"screen_color": [0.8, 0.3, 0.1, 1.0], "despill": 0.0},
}


@pytest.mark.parametrize("case", CASES)
def test_chroma_keyer(backend, array_source, case):
    screen = (ChromaKeyer.defaults() | CASES[case])["screen_color"][:3]
    pixels = plate(seed=31, screen=screen)
    out = render(backend, array_source, pixels, **CASES[case])
    assert out.data_window == WINDOW
    expected = reference_chroma_keyer(pixels, CASES[case])
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_screen_far_and_softness_band(backend, array_source):
    """The screen colour and its shades key to 0, far colours to 1, and a pixel whose hue
    lies halfway into the band to smoothstep(0.5) = 0.5; greens lose their spill."""
    values = {"hue_tolerance": 20.0, "saturation_tolerance": 0.25, "softness": 0.25}
    pixels = np.zeros((19, 23, 4), np.float32)
    pixels[..., 3] = 1.0
    # the screen's hue is 60 (2 + 0.05 / 0.5) = 126 degrees; t_h = 0.5 halfway into the
    # band of 0.25 * 180 = 45 degrees beyond the tolerance
    hue_in_band = 126.0 - (20.0 + 0.5 * 45.0)
    rows = {
        0: (0.1, 0.6, 0.15),  # the screen: alpha 0
        1: (0.05, 0.3, 0.075),  # a shade of it: alpha 0
        2: (0.9, 0.2, 0.1),  # red: alpha 1
        3: (0.5, 0.5, 0.5),  # grey: alpha 1
        4: (0.1, 0.1, 0.8),  # blue: alpha 1
    }
    for row, colour in rows.items():
        pixels[row, :, :3] = colour
    # max G = 0.6, min B = 0.1 (the screen's saturation); hue = 60 (2 + (B - R) / 0.5)
    pixels[5, :, :3] = (0.1 - 0.5 * (hue_in_band / 60.0 - 2.0), 0.6, 0.1)
    out = render(backend, array_source, pixels, **values)
    alpha = out.pixels[..., 3]
    np.testing.assert_array_equal(alpha[0:2], 0.0)
    np.testing.assert_allclose(alpha[2:5], 1.0, atol=1e-6)
    np.testing.assert_allclose(alpha[5], 0.5, atol=1e-4)
    expected = reference_chroma_keyer(pixels, values)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_softness_zero_is_a_step(backend, array_source):
    values = {"hue_tolerance": 30.0, "saturation_tolerance": 0.5, "softness": 0.0}
    pixels = plate(seed=32)
    out = render(backend, array_source, pixels, **values)
    expected = reference_chroma_keyer(pixels, values)
    assert set(np.unique(out.pixels[..., 3])) <= {0.0, 1.0}
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_chroma_keyer_through_a_mask(backend, array_source):
    pixels = plate(seed=33)
    mask = random_image(19, 23, seed=34, lo=0.0, hi=1.0)
    values = {"hue_tolerance": 25.0, "softness": 0.3, "despill": 0.75}
    out = render(backend, array_source, pixels, mask=mask, mix=0.6, **values)
    source = pixels.astype(np.float64)
    weight = 0.6 * mask[..., 3:4].astype(np.float64)
    expected = source + (reference_chroma_keyer(pixels, values) - source) * weight
    assert out.data_window == WINDOW
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("grey", [[0.5, 0.5, 0.5, 1.0], [0.0, 0.0, 0.0, 1.0]])
def test_a_grey_screen_is_an_error_naming_the_node(array_source, grey):
    g = mb.Graph()
    source = array_source(g, random_image(4, 5, seed=35))
    node = g.add("ChromaKeyer", inputs={"Source": source}, screen_color=grey)
    with pytest.raises(mb.RenderError, match=r"^ChromaKeyer1: screen_color: .* no hue"):
        g.render(node, frame=1, backend="cpu")


def test_chroma_keyer_wgsl_compiles():
    source = wgsl_source(ChromaKeyer.__module__)
    main = "OUT[0] = chroma_keyer_point(vec4<f32>(0.1, 0.6, 0.15, 1.0), 0u);"
    compile_wgsl(source, main)
