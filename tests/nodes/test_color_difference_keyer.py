"""ColorDifferenceKeyer, through the engine on every backend, against a float64 numpy
reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.keyer.color_difference_keyer import ColorDifferenceKeyer
from tests.conftest import compile_wgsl, placed, random_image

# float32 differences and one division by a screen difference of 0.15 or more
RTOL, ATOL = 2e-5, 1e-5
WINDOW = (-5, 7, 18, 26)  # 23×19, off the origin
WINDOW_CLEAN = (-2, 3, 21, 20)  # 23×17, overlapping the source's window in part
BOTH = (-5, 3, 21, 26)  # the union of the two
GREEN = (0.1, 0.6, 0.15)
BLUE = (0.1, 0.2, 0.7)
LUMA = np.array([0.2126, 0.7152, 0.0722])


def difference(rgb, screen, red_weight, blue_weight):
    """S - (wr A + wb B'), float64."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    if screen == "green":
        return g - (red_weight * r + blue_weight * b)
    return b - (red_weight * r + blue_weight * g)


def reference_color_difference_keyer(pixels, clean, values):
    """The documented formula in float64; ``clean`` is the clean plate over the source's
    window (black outside its own) or None for ``screen_color``."""
    v = ColorDifferenceKeyer.defaults() | values
    rgb = pixels[..., :3].astype(np.float64)
    if v["use_clean_plate"]:
        screen_rgb = clean[..., :3] if clean is not None else np.zeros_like(rgb)
    else:
        screen_rgb = np.broadcast_to(np.asarray(v["screen_color"][:3], np.float64), rgb.shape)
    weights = v["screen"], v["red_weight"], v["blue_weight"]
    pixel = difference(rgb, *weights)
    screen = difference(screen_rgb, *weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        key = np.where(screen > 0, 1.0 - pixel / screen, 1.0)
    luma_difference = rgb @ LUMA - screen_rgb @ LUMA
    alpha = np.clip(key + v["luminance_match"] * luma_difference, 0.0, 1.0)
    if v["despill"]:
        c, other = (1, 2) if v["screen"] == "green" else (2, 1)
        limit = v["red_weight"] * rgb[..., 0] + v["blue_weight"] * rgb[..., other]
        rgb[..., c] = np.minimum(rgb[..., c], limit)
    return np.concatenate([rgb * alpha[..., None], alpha[..., None]], axis=-1)


def screen_plate(seed, height, width, screen, noise=0.03):
    """Shades of ``screen`` (0.7 to 1.2) with a little noise, alpha 1."""
    rng = np.random.default_rng(seed)
    pixels = np.ones((height, width, 4), np.float32)
    shade = rng.uniform(0.7, 1.2, (height, width, 1))
    pixels[..., :3] = np.asarray(screen) * shade + rng.normal(0.0, noise, (height, width, 3))
    return pixels


def plates(seed, screen=GREEN):
    """A source (random foreground below, screen shades on its top eight rows) and a
    clean plate of the screen."""
    pixels = random_image(19, 23, seed=seed, lo=-0.1, hi=1.2, premultiplied=False)
    pixels[..., 3] = 1.0
    pixels[:8] = screen_plate(seed + 1, 8, 23, screen, noise=0.06)
    clean = screen_plate(seed + 2, 17, 23, screen)
    return pixels, clean


def clean_over_source(clean):
    """The clean plate over the source's window, black outside its own."""
    canvas = placed(clean, WINDOW_CLEAN, BOTH)
    x0, y0 = WINDOW[0] - BOTH[0], WINDOW[1] - BOTH[1]
    return canvas[y0 : y0 + 19, x0 : x0 + 23]


def render(backend, array_source, pixels, clean=None, mask=None, **params):
    g = mb.Graph()
    inputs = {"Source": array_source(g, pixels, window=WINDOW)}
    if clean is not None:
        inputs["CleanPlate"] = array_source(g, clean, window=WINDOW_CLEAN)
    if mask is not None:
        inputs["Mask"] = array_source(g, mask, window=WINDOW)
    node = g.add("ColorDifferenceKeyer", inputs=inputs, **params)
    return g.render(node, frame=1, backend=backend)


CASES = {
    "defaults": {},
    "weights, luminance match": {"red_weight": 0.3, "blue_weight": 0.8, "luminance_match": 0.6},
    "no despill": {"despill": False, "luminance_match": 0.25},
    "blue screen": {"screen": "blue", "screen_color": [*BLUE, 1.0], "red_weight": 0.7},
    "clean plate": {"use_clean_plate": True},
    "clean plate, blue, luminance match": {
        "screen": "blue",
        "use_clean_plate": True,
        "blue_weight": 0.35,
        "luminance_match": 1.0,
    },
}


@pytest.mark.parametrize("case", CASES)
def test_color_difference_keyer(backend, array_source, case):
    values = CASES[case]
    screen = BLUE if values.get("screen") == "blue" else GREEN
    pixels, clean = plates(seed=41, screen=screen)
    out = render(backend, array_source, pixels, clean=clean, **values)
    assert out.data_window == WINDOW
    expected = reference_color_difference_keyer(pixels, clean_over_source(clean), values)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_screen_far_and_between(backend, array_source):
    """The screen colour keys to 0, red and grey to 1, and half the screen's difference
    (the screen at half brightness) to 0.5; despill leaves G at most 0.5 R + 0.5 B."""
    pixels = np.ones((19, 23, 4), np.float32)
    rows = {0: GREEN, 1: (0.9, 0.2, 0.1), 2: (0.5, 0.5, 0.5), 3: tuple(0.5 * c for c in GREEN)}
    for row, colour in rows.items():
        pixels[row, :, :3] = colour
    out = render(backend, array_source, pixels)
    alpha = out.pixels[..., 3]
    np.testing.assert_allclose(alpha[0], 0.0, atol=1e-6)
    np.testing.assert_array_equal(alpha[1:3], 1.0)
    np.testing.assert_allclose(alpha[3], 0.5, atol=1e-6)
    np.testing.assert_allclose(out.pixels[3, :, 1], 0.5 * 0.5 * (0.05 + 0.075), rtol=1e-6)
    expected = reference_color_difference_keyer(pixels, None, {})
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_an_unconnected_clean_plate_keys_everything_to_one(backend, array_source):
    pixels, _ = plates(seed=42)
    out = render(backend, array_source, pixels, use_clean_plate=True, despill=False)
    np.testing.assert_array_equal(out.pixels[..., 3], 1.0)
    np.testing.assert_allclose(out.pixels[..., :3], pixels[..., :3], rtol=RTOL, atol=ATOL)


def test_color_difference_keyer_through_a_mask(backend, array_source):
    pixels, clean = plates(seed=43)
    mask = random_image(19, 23, seed=44, lo=0.0, hi=1.0)
    values = {"use_clean_plate": True, "luminance_match": 0.4, "red_weight": 0.6}
    out = render(backend, array_source, pixels, clean=clean, mask=mask, mix=0.8, **values)
    source = pixels.astype(np.float64)
    weight = 0.8 * mask[..., 3:4].astype(np.float64)
    keyed = reference_color_difference_keyer(pixels, clean_over_source(clean), values)
    expected = source + (keyed - source) * weight
    assert out.data_window == WINDOW
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "values",
    [{"screen_color": [0.5, 0.5, 0.5, 1.0]}, {"screen": "blue"}],
    ids=["grey", "green colour for a blue screen"],
)
def test_a_screen_colour_that_is_no_screen_is_an_error_naming_the_node(array_source, values):
    g = mb.Graph()
    source = array_source(g, random_image(4, 5, seed=45))
    node = g.add("ColorDifferenceKeyer", inputs={"Source": source}, **values)
    with pytest.raises(mb.RenderError, match=r"^ColorDifferenceKeyer1: screen_color: .* not a"):
        g.render(node, frame=1, backend="cpu")


def test_color_difference_keyer_wgsl_compiles():
    source = wgsl_source(ColorDifferenceKeyer.__module__)
    main = (
        "OUT[0] = color_difference_keyer_point(vec4<f32>(0.1, 0.6, 0.15, 1.0), "
        "vec4<f32>(0.1, 0.5, 0.2, 1.0), 0u);"
    )
    compile_wgsl(source, main)
