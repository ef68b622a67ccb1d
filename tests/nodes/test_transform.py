"""Transform, through the engine on every backend, against a numpy resampler written here
from the formulas (independently of nodes/transform/resample.py).

The reference inverts the forward matrix with numpy, maps every output pixel centre back,
and filters separably along the input axes: nearest takes the pixel containing the
position; linear (tent, radius 1), Keys cubic (a = -0.5, radius 2) and lanczos3 (radius 3)
are widened by ``max(1, |row of the inverse|)`` per axis when the transform minifies,
normalised over their taps, with black outside the input.

The CPU kernel has two paths: axis-aligned maps (scale and move, as Reformat makes) take a
separable one, any other map the per-pixel 2-D one; the two are also compared directly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine.backends.cpu import compiler
from mattebox.engine.image import Image
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.spec import Format, Window
from mattebox.nodes.transform import resample
from mattebox.nodes.transform.transform import Transform
from tests.conftest import FILTER_KERNELS, compile_wgsl, random_image

# Float64 sums stored as float32 on the CPU; a GPU backend samples at float32 positions
# (error ~1e-6 px at these coordinates, times gradients of a few units per pixel).
RTOL, ATOL = 1e-5, 1e-5
WINDOW = (5, 3, 34, 22)  # 29 x 19 pixels, away from the origin
FILTERS = ("nearest", "linear", "cubic", "lanczos3")


def forward_matrix(translate=(0, 0), rotate=0.0, scale=(1, 1), center=(0, 0)):
    """Input -> output: scale and rotate about ``center``, then translate (3x3)."""
    t = math.radians(rotate)
    # Counter-clockwise on screen with y down: the x axis turns towards -y (up).
    linear = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]]) @ np.diag(scale)
    offset = np.add(center, translate) - linear @ np.asarray(center, float)
    return np.array([[*linear[0], offset[0]], [*linear[1], offset[1]], [0.0, 0.0, 1.0]])


def _taps(position, widen, name):
    """Tap indices (N, T) and normalised weights for positions in pixel-index space."""
    radius, weight = FILTER_KERNELS[name]
    reach = math.ceil(radius * widen) + 1
    index = np.floor(position)[:, None] + np.arange(-reach, reach + 1)
    weights = weight((index - position[:, None]) / widen)
    return index.astype(int), weights / weights.sum(axis=1, keepdims=True)


def reference_resample(pixels, window, forward, name, out_window):
    """Float64 pixels of ``out_window`` of the input (``pixels`` over ``window``) resampled."""
    inverse = np.linalg.inv(forward)
    x0, y0, x1, y1 = out_window
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    # input positions relative to the input array's corner; pixel i spans [i, i + 1)
    u = (inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2] - window[0]).ravel()
    v = (inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2] - window[1]).ravel()
    src = pixels.astype(np.float64)
    h, w = src.shape[:2]
    if name == "nearest":
        i, j = np.floor(u).astype(int), np.floor(v).astype(int)
        inside = (i >= 0) & (i < w) & (j >= 0) & (j < h)
        out = np.where(inside[:, None], src[j.clip(0, h - 1), i.clip(0, w - 1)], 0.0)
    else:
        widen_x = max(1.0, math.hypot(inverse[0, 0], inverse[0, 1]))
        widen_y = max(1.0, math.hypot(inverse[1, 0], inverse[1, 1]))
        ix, wx = _taps(u - 0.5, widen_x, name)
        iy, wy = _taps(v - 0.5, widen_y, name)
        inside = ((iy >= 0) & (iy < h))[:, :, None] & ((ix >= 0) & (ix < w))[:, None, :]
        gathered = src[iy.clip(0, h - 1)[:, :, None], ix.clip(0, w - 1)[:, None, :]]
        gathered *= inside[..., None]
        out = np.einsum("nj,ni,njic->nc", wy, wx, gathered)
    return out.reshape(y1 - y0, x1 - x0, 4)


def nearest_ties(forward, out_window, eps=1e-4):
    """(H, W, 1) mask of output pixels whose input position is within ``eps`` of a pixel
    edge along either axis."""
    inverse = np.linalg.inv(forward)
    x0, y0, x1, y1 = out_window
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    u = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    v = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    near = (np.abs(u - np.round(u)) < eps) | (np.abs(v - np.round(v)) < eps)
    return near[..., None]


def grown(window, n):
    return (window[0] - n, window[1] - n, window[2] + n, window[3] + n)


def render(backend, pixels, array_source, region=None, window=WINDOW, **params):
    g = mb.Graph()
    source = array_source(g, pixels, window=window)
    node = g.add("Transform", inputs={"Source": source}, **params)
    return g.render(node, frame=1, backend=backend, region=region)


def check_against_reference(out, pixels, forward, name, tight):
    """Pixels match; nothing non-zero lies outside the data window; with ``tight``, every
    edge row and column of the data window holds a non-zero pixel."""
    around = grown(out.data_window, 6)
    expected = reference_resample(pixels, WINDOW, forward, name, around)
    full = Image(expected.astype(np.float32), around, Format(64, 48))
    actual, wanted = out.pixels, full.crop(out.data_window)
    if name == "nearest":
        # A sample that lies on a pixel edge (here 7 - 4e-15 in float64) picks either
        # neighbour depending on rounding; a GPU computes positions in float32. Both
        # neighbours are right there, so such pixels are not compared.
        ties = nearest_ties(forward, out.data_window)
        actual, wanted = np.where(ties, 0.0, actual), np.where(ties, 0.0, wanted)
    np.testing.assert_allclose(actual, wanted, rtol=RTOL, atol=ATOL)
    outside = expected.copy()
    outside[6:-6, 6:-6] = 0.0
    assert np.abs(outside).max() < 1e-9, "the data window cuts off non-zero pixels"
    if tight:
        core = expected[6:-6, 6:-6]
        for edge in (core[0], core[-1], core[:, 0], core[:, -1]):
            assert np.abs(edge).max() > 0.0, "the data window has an all-black edge"


CASES = {
    "translate": ({"translate": (2.3, -1.6)}, True),
    "rotate_scale": (
        {"rotate": 30.0, "scale": (1.3, 0.8), "center": (19.5, 12.5), "translate": (1.0, 2.0)},
        False,
    ),
    "minify": ({"scale": (0.4, 0.55), "center": (5.0, 3.0)}, True),
    "magnify": ({"scale": (2.3, 1.6), "center": (12.0, 9.0), "translate": (0.3, -0.45)}, True),
    "rotate_minify": ({"rotate": -50.0, "scale": (0.5, 0.7), "center": (20.0, 10.0)}, False),
}


@pytest.mark.parametrize("filter_name", FILTERS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_transform_matches_reference(backend, array_source, case, filter_name):
    params, tight = CASES[case]
    pixels = random_image(19, 29, seed=11)
    out = render(backend, pixels, array_source, filter=filter_name, **params)
    check_against_reference(out, pixels, forward_matrix(**params), filter_name, tight)


@pytest.mark.parametrize("filter_name", ["nearest", "cubic"])
def test_transform_regions_need_only_what_input_region_asks(backend, array_source, filter_name):
    params = {"rotate": 20.0, "scale": (0.6, 1.4), "center": (15.0, 11.0), "translate": (0.5, 0.25)}
    pixels = random_image(19, 29, seed=12)
    whole = render(backend, pixels, array_source, filter=filter_name, **params)
    x0, y0, x1, y1 = whole.data_window
    xm, ym = (x0 + x1) // 2, (y0 + y1) // 2
    for region in [(x0, y0, xm, ym), (xm, ym, x1, y1), (xm - 3, y0 + 2, xm + 4, y1 - 1)]:
        part = render(backend, pixels, array_source, region=region, filter=filter_name, **params)
        np.testing.assert_allclose(part.crop(region), whole.crop(region), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("filter_name", FILTERS)
def test_whole_pixel_translate_is_a_shift(backend, array_source, filter_name):
    pixels = random_image(19, 29, seed=13)
    out = render(backend, pixels, array_source, translate=(3.0, -2.0), filter=filter_name)
    assert out.data_window == (8, 1, 37, 20)
    np.testing.assert_allclose(out.pixels, pixels, rtol=0, atol=1e-6)


def test_rotate_90_nearest_is_rot90_counter_clockwise(backend, array_source):
    pixels = random_image(19, 29, seed=14)
    out = render(backend, pixels, array_source, rotate=90.0, center=(0.0, 0.0), filter="nearest")
    # (x, y) -> (y, -x): the input's rows become columns, read from the right edge up.
    assert out.data_window == (3, -34, 22, -5)
    np.testing.assert_array_equal(out.pixels, np.rot90(pixels))


def test_rotation_is_counter_clockwise_on_screen(backend, array_source):
    pixels = np.zeros((21, 21, 4), np.float32)
    pixels[10, 18] = 1.0  # right of the centre pixel (10, 10)
    out = render(
        backend,
        pixels,
        array_source,
        window=(0, 0, 21, 21),
        rotate=90.0,
        center=(10.5, 10.5),
        filter="nearest",
    )
    lit = np.argwhere(out.crop((0, 0, 21, 21))[..., 3] > 0.5)
    assert lit.tolist() == [[2, 10]]  # now above the centre: y = 2, x = 10


def test_negative_scale_flips(backend, array_source):
    pixels = random_image(19, 29, seed=15)
    out = render(
        backend, pixels, array_source, scale=(-1.0, 1.0), center=(19.5, 0.0), filter="linear"
    )
    assert out.data_window == WINDOW  # the flip about the middle of x 5..34 keeps the window
    np.testing.assert_allclose(out.pixels, pixels[:, ::-1], rtol=0, atol=1e-6)


def test_identity_passes_through(backend, array_source):
    pixels = random_image(19, 29, seed=16)
    out = render(backend, pixels, array_source, center=(7.0, 3.0), filter="lanczos3")
    assert out.data_window == WINDOW
    np.testing.assert_array_equal(out.pixels, pixels)
    assert Transform.pass_through(Transform.defaults()) == "Source"


def test_zero_scale_gives_nothing(backend, array_source):
    pixels = random_image(19, 29, seed=17)
    out = render(backend, pixels, array_source, scale=(0.0, 1.0))
    assert out.pixels.size == 0


# Axis-aligned maps take the separable path: (scale, translate) per case.
SEPARABLE_CASES = {
    "half": ((0.5, 0.5), (0.0, 0.0)),
    "0.37": ((0.37, 0.37), (0.2, -0.3)),
    "subpixel_move": ((1.0, 1.0), (0.3, -0.45)),
    "2.3": ((2.3, 2.3), (-0.7, 0.1)),
    "flip_and_stretch": ((-0.8, 1.9), (3.1, 0.25)),
    "squash": ((0.05, 1.0), (0.0, 0.5)),
}


@pytest.mark.parametrize("filter_name", FILTERS)
@pytest.mark.parametrize("case", sorted(SEPARABLE_CASES))
def test_separable_path_matches_the_affine_path(case, filter_name):
    """Both compiled paths on the same arguments: the whole output grown by 6 (black
    around it), once from the whole input and once from a src window that cuts the input
    on every side (taps beyond it read black but still count in the normalisation)."""
    scale, move = SEPARABLE_CASES[case]
    forward = resample.translate(*move) @ resample.scale(*scale)
    m = resample.inverse_map(forward)
    filter_id = FILTERS.index(filter_name)
    pixels = random_image(37, 53, seed=18)
    window = Window(5, 3, 58, 40)
    region = grown(resample.transformed_window(forward, window, filter_id).as_tuple(), 6)
    separable = compiler.compiled(resample.separable_resample)
    affine = compiler.compiled(resample.affine_resample)
    cut = np.ascontiguousarray(pixels[4:30, 7:40])  # the backend passes C-contiguous arrays
    for src, (sx0, sy0) in [(pixels, (5, 3)), (cut, (12, 7))]:
        shape = (region[3] - region[1], region[2] - region[0], 4)
        fast, slow = np.full(shape, np.nan, np.float32), np.full(shape, np.nan, np.float32)
        separable(src, sx0, sy0, fast, region[0], region[1], m, filter_id)
        affine(src, sx0, sy0, slow, region[0], region[1], m, filter_id)
        if filter_name == "nearest":
            np.testing.assert_array_equal(fast, slow)  # the same positions, the same picks
        else:
            np.testing.assert_allclose(fast, slow, rtol=1e-6, atol=1e-6)
        assert np.abs(slow).max() > 0.1  # something was resampled


def test_transform_wgsl_compiles():
    source = wgsl_source(resample.__name__) + wgsl_source(Transform.__module__)
    main = "OUT[0] = transform_pixel(ResampleTile(0, 0, 4, 4, 0, 0, 4, 4), 1, 2, 0u);"
    compile_wgsl(source, main, reads=["SRC"])
