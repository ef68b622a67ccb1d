"""Reformat, through the engine on every backend, against a numpy reference built from 1D
weight matrices (a separable restatement of the filters, unlike test_transform's 2D
sampler), and against OpenImageIO's ImageBufAlgo.resize for a 2x downscale."""

from __future__ import annotations

import math

import numpy as np
import OpenImageIO as oiio
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.transform import resample
from mattebox.nodes.transform.reformat import Reformat
from tests.conftest import FILTER_KERNELS, compile_wgsl, random_image

# Float64 sums stored as float32; a GPU backend samples at float32 positions.
RTOL, ATOL = 1e-5, 1e-5
SIZE = (29, 19)  # the input's format and data window


def weight_matrix(n_in, outputs, scale, offset, name):
    """(len(outputs), n_in) weights: output pixel o samples input position
    ``(o + 0.5 - offset) / scale``; taps beyond the input count in the normalisation but
    read black."""
    position = (np.asarray(outputs) + 0.5 - offset) / scale - 0.5  # pixel-index space
    if name == "nearest":
        index = np.floor(position + 0.5).astype(int)
        return (index[:, None] == np.arange(n_in)[None, :]).astype(np.float64)
    radius, kernel = FILTER_KERNELS[name]
    widen = max(1.0, 1.0 / abs(scale))
    reach = math.ceil(radius * widen) + 1
    # every tap of every position within reach of the input (further ones read black)
    taps = np.arange(-2 * reach, n_in + 2 * reach)
    weights = kernel((taps[None, :] - position[:, None]) / widen)
    total = weights.sum(axis=1, keepdims=True)  # 0 only far outside: those read black
    weights = np.divide(weights, total, out=np.zeros_like(weights), where=total != 0)
    return weights[:, (taps >= 0) & (taps < n_in)]


def expected_mapping(resize, size_in, size_out):
    """Scale and offset per axis, restating Nuke's resize types, centred."""
    sx, sy = size_out[0] / size_in[0], size_out[1] / size_in[1]
    scales = {
        "width": (sx, sx),
        "height": (sy, sy),
        "fit": (min(sx, sy),) * 2,
        "fill": (max(sx, sy),) * 2,
        "distort": (sx, sy),
        "none": (1.0, 1.0),
    }[resize]
    offsets = []
    for s, n_in, n_out in zip(scales, size_in, size_out):
        offset = n_out / 2 - s * n_in / 2
        offsets.append(math.floor(offset + 0.5) if s == 1.0 else offset)
    return scales, offsets


def reference_reformat(pixels, resize, size_out, name, window):
    (sx, sy), (tx, ty) = expected_mapping(resize, SIZE, size_out)
    wx = weight_matrix(pixels.shape[1], range(window[0], window[2]), sx, tx, name)
    wy = weight_matrix(pixels.shape[0], range(window[1], window[3]), sy, ty, name)
    return np.einsum("yj,xi,jic->yxc", wy, wx, pixels.astype(np.float64))


def render(backend, array_source, pixels, script_format=SIZE, **params):
    g = mb.Graph()
    g.settings.format = mb.Format(*script_format)
    source = array_source(g, pixels, size=SIZE)
    node = g.add("Reformat", inputs={"Source": source}, **params)
    return g.render(node, frame=1, backend=backend)


def grown(window, n):
    return (window[0] - n, window[1] - n, window[2] + n, window[3] + n)


CASES = [
    ("width", (58, 38)),  # 2x up
    ("width", (14, 30)),  # down, centred vertically
    ("height", (40, 12)),
    ("fit", (20, 20)),
    ("fill", (20, 20)),
    ("distort", (13, 31)),
    ("none", (40, 30)),  # offset 5.5 -> 6 whole pixels
]


@pytest.mark.parametrize("filter_name", ["nearest", "linear", "cubic", "lanczos3"])
@pytest.mark.parametrize(("resize", "size"), CASES)
def test_reformat_matches_reference(backend, array_source, resize, size, filter_name):
    pixels = random_image(SIZE[1], SIZE[0], seed=21)
    out = render(
        backend,
        array_source,
        pixels,
        width=size[0],
        height=size[1],
        resize=resize,
        filter=filter_name,
    )
    assert (out.format.width, out.format.height) == size
    around = grown(out.data_window, 5)
    expected = reference_reformat(pixels, resize, size, filter_name, around)
    np.testing.assert_allclose(out.pixels, expected[5:-5, 5:-5], rtol=RTOL, atol=ATOL)
    outside = expected.copy()
    outside[5:-5, 5:-5] = 0.0
    assert np.abs(outside).max() < 1e-9, "the data window cuts off non-zero pixels"


@pytest.mark.parametrize(
    ("script_format", "params"), [((58, 38), {}), ((100, 60), {"width": 58, "height": 38})]
)
def test_reformat_scales_by_the_input_format_not_the_script_format(
    backend, array_source, script_format, params
):
    pixels = random_image(SIZE[1], SIZE[0], seed=22)
    out = render(
        backend, array_source, pixels, script_format=script_format, filter="cubic", **params
    )
    assert (out.format.width, out.format.height) == (58, 38)  # width/height 0: the script's
    expected = reference_reformat(pixels, "width", (58, 38), "cubic", out.data_window)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    ("filter_name", "oiio_filter"), [("lanczos3", "lanczos3"), ("cubic", "catmull-rom")]
)
def test_half_size_matches_oiio_resize_away_from_the_edges(
    backend, array_source, filter_name, oiio_filter
):
    """OIIO's resize widens the filter by the same 2x and normalises the same way, so away
    from the edges it agrees to float32 rounding (measured 7e-7). Within the filter's
    reach of the edge (3 output pixels for lanczos3, 2 for cubic) OIIO treats the missing
    taps differently (an edge-clamped or renormalised result, 1.0 for a constant image),
    where a compositor's data window reads black: those pixels are not compared."""
    w, h = 2 * SIZE[0], 2 * SIZE[1]
    pixels = random_image(h, w, seed=24)
    g = mb.Graph()
    g.settings.format = mb.Format(w, h)
    source = array_source(g, pixels, size=(w, h))
    node = g.add(
        "Reformat",
        inputs={"Source": source},
        width=SIZE[0],
        height=SIZE[1],
        resize="distort",
        filter=filter_name,
    )
    out = g.render(node, frame=1, backend=backend)
    edge = int(resample.FILTER_RADIUS[resample.FILTERS.index(filter_name)])
    # the data window reaches past the format by the filter's reach (3 pixels for lanczos3)
    assert out.data_window == (-edge, -edge, SIZE[0] + edge, SIZE[1] + edge)
    buf = oiio.ImageBuf(oiio.ImageSpec(w, h, 4, oiio.FLOAT))
    buf.set_pixels(oiio.ROI(), pixels)
    roi = oiio.ROI(0, SIZE[0], 0, SIZE[1], 0, 1, 0, 4)
    theirs = oiio.ImageBufAlgo.resize(buf, filtername=oiio_filter, roi=roi).get_pixels(oiio.FLOAT)
    ours = out.crop((0, 0, *SIZE))
    np.testing.assert_allclose(
        ours[edge:-edge, edge:-edge], theirs[edge:-edge, edge:-edge], rtol=1e-5, atol=1e-5
    )


def test_reformat_wgsl_compiles():
    source = wgsl_source(resample.__name__) + wgsl_source(Reformat.__module__)
    main = "OUT[0] = reformat_pixel(ResampleTile(0, 0, 4, 4, 0, 0, 4, 4), 1, 2, 0u);"
    compile_wgsl(source, main, reads=["SRC"])
