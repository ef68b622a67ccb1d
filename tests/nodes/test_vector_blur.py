"""VectorBlur, through the engine on every backend, against a float64 reference of its
formula: the mean of bilinear samples (scipy's map_coordinates, order 1, on a zero-padded
canvas) at ``p + (offset + (k + 0.5) / samples) * m`` along each pixel's own vector from
a smooth random motion layer, shortened to ``max_length``. The images are multi-layer
EXRs written with OpenImageIO (beauty, a diffuse AOV and motion)."""

from __future__ import annotations

import math

import numpy as np
import OpenImageIO as oiio
import pytest
from scipy.ndimage import map_coordinates

import mattebox as mb
from mattebox.engine import render
from mattebox.nodes.spec import Window
from tests.conftest import random_image

WINDOW = (3, -2, 22, 11)  # 19 x 13 pixels, off the origin
CHANNELS = ("R", "G", "B", "A", "diffuse.R", "diffuse.G", "diffuse.B", "motion.u", "motion.v")


def smooth_vectors(height, width, seed, amplitude):
    """Random but smooth (u, v) in pixels: two low-frequency waves per component."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    out = []
    for _ in range(2):
        wave = sum(
            np.sin(rng.uniform(-0.4, 0.4) * x + rng.uniform(-0.4, 0.4) * y + rng.uniform(0, 6))
            for _ in range(2)
        )
        out.append((amplitude / 2 * wave).astype(np.float32))
    return out


def shot(tmp_path, height, width, window, seed=0, amplitude=4.0):
    """A Read of a float EXR with the main layer, ``diffuse`` and ``motion``; the
    channels written, by name."""
    beauty = random_image(height, width, seed=seed, lo=-0.3)
    diffuse = random_image(height, width, seed=seed + 1)[..., :3]
    u, v = smooth_vectors(height, width, seed + 2, amplitude)
    data = np.concatenate([beauty, diffuse, u[..., None], v[..., None]], axis=-1)
    spec = oiio.ImageSpec(width, height, len(CHANNELS), oiio.FLOAT)
    spec.channelnames = CHANNELS
    spec.x, spec.y = window[:2]
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = 0, 0, 40, 30
    spec.attribute("compression", "none")
    path = str(tmp_path / "shot.exr")
    out = oiio.ImageOutput.create(path)
    assert out.open(path, spec), oiio.geterror()
    assert out.write_image(data)
    out.close()
    g = mb.Graph()
    read = g.add("Read", file=path, colorspace="Raw")
    return g, read, dict(zip(CHANNELS, np.moveaxis(data, -1, 0)))


def reference(plane, u, v, scale=1.0, samples=16, offset=-0.5, max_length=64.0):
    """The documented formula in float64, each channel of ``plane`` (H x W x C)."""
    pad = math.ceil(max_length) + 2
    canvas = np.pad(plane.astype(np.float64), ((pad, pad), (pad, pad), (0, 0)))
    mu, mv = u.astype(np.float64) * scale, v.astype(np.float64) * scale
    length = np.hypot(mu, mv)
    shorten = np.where(length > max_length, max_length / np.maximum(length, 1e-30), 1.0)
    mu, mv = mu * shorten, mv * shorten
    ys, xs = np.mgrid[0 : plane.shape[0], 0 : plane.shape[1]] + pad
    out = np.zeros(plane.shape, np.float64)
    for k in range(samples):
        t = offset + (k + 0.5) / samples
        at = [ys + t * mv, xs + t * mu]
        for c in range(plane.shape[2]):
            out[..., c] += map_coordinates(canvas[..., c], at, order=1, mode="constant")
    return out / samples


def layer(channels, names):
    return np.stack([channels[n] for n in names], axis=-1)


BEAUTY = ("R", "G", "B", "A")
DIFFUSE = ("diffuse.R", "diffuse.G", "diffuse.B")


def test_vector_blur_blurs_every_selected_layer_along_the_motion(backend, tmp_path):
    """channels all: the main layer and diffuse by the formula (some vectors longer than
    max_length), the motion layer itself untouched; the data window kept."""
    g, read, ch = shot(tmp_path, 13, 19, WINDOW)
    values = {"scale": 1.6, "samples": 7, "offset": -0.3, "max_length": 5.5}
    node = g.add("VectorBlur", inputs={"Source": read}, channels="all", **values)
    image = g.render(node, backend=backend, layers=["diffuse", "motion"])
    u, v = ch["motion.u"], ch["motion.v"]
    assert (np.hypot(u, v) * 1.6 > 5.5).any() and (np.hypot(u, v) * 1.6 > 1.0).mean() > 0.5
    assert image.data_window == WINDOW
    for names in (BEAUTY, DIFFUSE):
        expected = reference(layer(ch, names), u, v, **values)
        got = image.pixels if names == BEAUTY else image.layer("diffuse")
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-6)
    np.testing.assert_array_equal(image.layer("motion"), layer(ch, ("motion.u", "motion.v")))


@pytest.mark.parametrize("offset, v_up", [(0.0, False), (-1.0, True)])
def test_vector_blur_named_channels_offsets_and_v_up(backend, tmp_path, offset, v_up):
    """uv as two channels (here swapped: u from motion.v), offset 0 (from the pixel
    forwards) and -1 (up to it), v up (negated); the default channels leave diffuse as
    it was."""
    g, read, ch = shot(tmp_path, 13, 19, WINDOW, seed=3)
    values = {"samples": 5, "offset": offset, "max_length": 8.0}
    node = g.add(
        "VectorBlur", inputs={"Source": read}, uv="motion.v, motion.u", v_up=v_up, **values
    )
    image = g.render(node, backend=backend, layers=["diffuse"])
    v = -ch["motion.u"] if v_up else ch["motion.u"]
    expected = reference(layer(ch, BEAUTY), ch["motion.v"], v, **values)
    np.testing.assert_allclose(image.pixels, expected, rtol=1e-5, atol=2e-6)
    np.testing.assert_array_equal(image.layer("diffuse"), layer(ch, DIFFUSE))


def test_vector_blur_tiled(backend, tmp_path, monkeypatch):
    """Small memory budgets split the render into bands whose halos reach max_length:
    the same pixels as the formula."""
    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", "0.01")
    monkeypatch.setenv("MATTEBOX_GPU_MEMORY", "0.01")
    window = (-4, 7, 23, 43)
    g, read, ch = shot(tmp_path, 36, 27, window, seed=6, amplitude=6.0)
    values = {"scale": 0.9, "samples": 6, "offset": -0.2, "max_length": 4.5}
    node = g.add("VectorBlur", inputs={"Source": read}, **values)
    assert len(render.plan(g, node, backend=backend, use_cache=False).tiles) > 1
    image = g.render(node, backend=backend, layers=())
    expected = reference(layer(ch, BEAUTY), ch["motion.u"], ch["motion.v"], **values)
    assert image.data_window == window
    np.testing.assert_allclose(image.pixels, expected, rtol=1e-5, atol=2e-6)


def test_vector_blur_tiles_read_the_halo_of_the_layer_and_the_motion_under_the_tile(
    tmp_path, monkeypatch
):
    """The planner gives the kernel its plane around the tile by the halo (max_length
    4.5 reached 0.8 of the way at offset -0.2: ceil(3.6) + 1 = 5 pixels) and the motion
    plane under the tile, as a second input."""
    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", "0.01")
    window = Window(-4, 7, 23, 43)
    g, read, _ = shot(tmp_path, 36, 27, window.as_tuple(), seed=6)
    node = g.add("VectorBlur", inputs={"Source": read}, offset=-0.2, max_length=4.5)
    plan = render.plan(g, node, backend="cpu", use_cache=False)
    assert len(plan.tiles) > 1
    for tile in plan.tiles:
        (area,) = [p for p in tile.passes if p.kind == "area"]
        colour, motion = (tile.buffers[area.inputs[at]].window for _, at in area.wiring[-1])
        assert colour == area.region.grow(5).intersect(window)
        assert motion == area.region


def test_vector_blur_through_a_mask(backend, tmp_path, array_source):
    """out = in + (blurred - in) * mix * mask, the Mask's alpha 0 outside its window."""
    g, read, ch = shot(tmp_path, 13, 19, WINDOW, seed=8)
    matte = random_image(9, 12, seed=9)
    mask = array_source(g, matte, window=(6, 0, 18, 9))
    values = {"samples": 4, "max_length": 6.0}
    node = g.add(
        "VectorBlur", inputs={"Source": read, "Mask": mask}, mix=0.7, channels="rgb", **values
    )
    image = g.render(node, backend=backend, layers=())
    source = layer(ch, BEAUTY).astype(np.float64)
    blurred = reference(source, ch["motion.u"], ch["motion.v"], **values)
    alpha = np.zeros(source.shape[:2])
    alpha[2:11, 3:15] = matte[..., 3]  # the mask's window inside the image's
    expected = source + (blurred - source) * 0.7 * alpha[..., None]
    expected[..., 3] = source[..., 3]  # rgb: alpha is the input's
    np.testing.assert_allclose(image.pixels, expected, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize(
    "uv, message",
    [
        ("motion", r"'motion' is not a layer of the input \(it has rgba\)"),
        ("R motion.u", r"'motion.u' is not a channel of the input"),
        ("R G B", r"expected a layer or two channel names"),
    ],
)
def test_vector_blur_without_its_motion_layer_is_an_error(array_source, uv, message):
    g = mb.Graph()
    read = array_source(g, random_image(13, 19, seed=1), window=WINDOW)
    node = g.add("VectorBlur", name="VectorBlur1", inputs={"Source": read}, uv=uv)
    with pytest.raises(mb.RenderError, match=rf"^VectorBlur1: uv: {message}"):
        g.render(node, backend="cpu")


def test_vector_blur_u_and_v_of_two_layers_is_an_error(tmp_path):
    g, read, _ = shot(tmp_path, 13, 19, WINDOW)
    node = g.add("VectorBlur", inputs={"Source": read}, uv="motion.u diffuse.G")
    with pytest.raises(mb.RenderError, match=r": uv: u and v must be channels of one layer"):
        g.render(node, backend="cpu")


def test_vector_blur_scale_zero_passes_through(tmp_path):
    g, read, ch = shot(tmp_path, 13, 19, WINDOW)
    node = g.add("VectorBlur", inputs={"Source": read}, scale=0.0)
    image = g.render(node, backend="cpu", layers=())
    np.testing.assert_array_equal(image.pixels, layer(ch, BEAUTY))
