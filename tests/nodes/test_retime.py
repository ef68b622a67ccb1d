"""Retime through the engine on every backend, against a 5-frame EXR sequence of random
pixels with a depth layer and a data window that moves from frame to frame: a whole input
frame is that frame's pixels (its record, by reference); a fractional one, with
``frame_blend``, the two neighbouring frames mixed by the fraction in float64 on every
layer over the union of their windows, else the nearest frame."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest

import mattebox as mb
from mattebox.engine import render as engine_render
from tests.conftest import placed, random_image

FRAMES = range(1, 6)
WIDTH, HEIGHT = 19, 13  # the format
W, H = 13, 9  # each frame's data window, at (frame - 1, 1 + frame % 2)
CHANNELS = ("R", "G", "B", "A", "depth.Z")
TOL = {"rtol": 1e-6, "atol": 1e-6}


def window(frame):
    x0, y0 = frame - 1, 1 + frame % 2
    return (x0, y0, x0 + W, y0 + H)


@pytest.fixture
def sequence(tmp_path):
    """``(pattern, {frame: H×W×5 float32 pixels})``: R G B A and depth.Z per frame."""
    plates = {}
    for frame in FRAMES:
        pixels = np.concatenate(
            [
                random_image(H, W, seed=20 + frame),
                np.random.default_rng(frame).uniform(1, 50, (H, W, 1)).astype(np.float32),
            ],
            axis=-1,
        )
        spec = oiio.ImageSpec(W, H, len(CHANNELS), oiio.FLOAT)
        spec.channelnames = CHANNELS
        spec.x, spec.y = window(frame)[:2]
        spec.full_x, spec.full_y, spec.full_width, spec.full_height = 0, 0, WIDTH, HEIGHT
        spec.attribute("compression", "none")
        path = str(tmp_path / f"plate.{frame:04d}.exr")
        out = oiio.ImageOutput.create(path)
        assert out.open(path, spec), oiio.geterror()
        assert out.write_image(pixels)
        out.close()
        plates[frame] = pixels
    return str(tmp_path / "plate.####.exr"), plates


def retime(pattern, **params):
    g = mb.Graph()
    g.settings.format = mb.Format(WIDTH, HEIGHT)
    g.settings.frame_range = (1, 5)
    read = g.add("Read", file=pattern, colorspace="Raw")
    return g, read, g.add("Retime", inputs={"Source": read}, **params)


def expected(plates, mixed):
    """The weighted sum of frames ``mixed`` (``{frame: weight}``) in float64 over the union
    of their windows (R G B A depth.Z), and that window."""
    boxes = [window(f) for f in mixed]
    union = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    total = 0.0
    for frame, weight in mixed.items():
        rgba = placed(plates[frame][..., :4], window(frame), union)
        depth = placed(plates[frame][..., 4:], window(frame), union)[..., :1]
        total = total + weight * np.concatenate([rgba, depth], axis=-1)
    return total, union


# params -> {output frame: {input frame: weight}}
CASES = {
    "speed2": ({"speed": 2.0}, {1: {1: 1}, 2: {3: 1}, 3: {5: 1}}),
    "half": ({"speed": 0.5}, {2: {1: 0.5, 2: 0.5}, 3: {2: 1}}),
    "quarter-blend": (
        {"speed": 0.75, "input_start": 2, "output_start": 3},  # 2 + (f - 3) * 0.75
        {4: {2: 0.25, 3: 0.75}, 5: {3: 0.5, 4: 0.5}, 6: {4: 0.75, 5: 0.25}},
    ),
    "quarter-nearest": (
        {"speed": 0.75, "input_start": 2, "output_start": 3, "frame_blend": False},
        {4: {3: 1}, 5: {4: 1}, 6: {4: 1}},  # 2.75, 3.5 (halves round up), 4.25
    ),
    "backwards": ({"speed": -1.5, "input_start": 5}, {1: {5: 1}, 2: {3: 0.5, 4: 0.5}}),
}


@pytest.mark.parametrize("case", CASES)
def test_retime_shows_the_input_frames_mixed(backend, sequence, case):
    pattern, plates = sequence
    params, shown = CASES[case]
    g, _, node = retime(pattern, **params)
    for frame, mixed in shown.items():
        out = g.render(node, frame=frame, backend=backend)
        reference, union = expected(plates, mixed)
        assert out.data_window == union, f"frame {frame}"
        got = np.concatenate([out.pixels, out.channel("depth.Z")[..., None]], axis=-1)
        if len(mixed) == 1:  # a whole frame: its pixels exactly
            np.testing.assert_array_equal(got, reference, err_msg=f"frame {frame}")
        else:
            np.testing.assert_allclose(got, reference, **TOL, err_msg=f"frame {frame}")


def test_a_whole_frame_is_the_inputs_record_and_a_blend_is_keyed_by_its_frames(sequence):
    pattern, _ = sequence
    g, read, node = retime(pattern, speed=0.5)
    at = {f: engine_render.evaluate(g, read, f).hash for f in FRAMES}
    assert engine_render.evaluate(g, node, 3).hash == at[2]  # 1 + 2 * 0.5: by reference
    assert engine_render.evaluate(g, node, 5).hash == at[3]
    half = engine_render.evaluate(g, node, 2)  # frames 1 and 2, half each
    assert half.spec.type_name == "Dissolve" and half.values["which"] == 0.5
    assert [i.hash for i in half.inputs] == [at[1], at[2]]
    assert engine_render.evaluate(g, node, 4).hash not in {half.hash, *at.values()}
    node["speed"] = 0.25  # frame 5: 2.0; frame 2: 1.25, the same frames weighted otherwise
    assert engine_render.evaluate(g, node, 5).hash == at[2]
    assert engine_render.evaluate(g, node, 2).hash != half.hash


def test_a_blend_of_a_still_is_the_still(array_source):
    g = mb.Graph()
    still = array_source(g, random_image(H, W, seed=4))
    node = g.add("Retime", inputs={"Source": still}, speed=0.3)
    assert engine_render.evaluate(g, node, 2).hash == engine_render.evaluate(g, still, 1).hash


def test_nothing_connected_is_black():
    g = mb.Graph()
    node = g.add("Retime", speed=0.5)
    assert engine_render.evaluate(g, node, 2).info.data_window.empty


def test_execute_writes_the_retimed_frames(backend, sequence, tmp_path):
    pattern, plates = sequence
    g, _, node = retime(pattern, speed=0.5, input_start=3)  # 3, 3.5, 4, 4.5
    write = g.add(
        "Write",
        inputs={"Source": node},
        file=str(tmp_path / "out.####.exr"),
        datatype="float",
        colorspace="Raw",
    )
    g.execute([write], frames=range(1, 5), backend=backend)
    for frame, mixed in zip(range(1, 5), ({3: 1}, {3: 0.5, 4: 0.5}, {4: 1}, {4: 0.5, 5: 0.5})):
        written = oiio.ImageBuf(str(tmp_path / f"out.{frame:04d}.exr"))
        reference, union = expected(plates, mixed)
        roi = written.roi
        assert (roi.xbegin, roi.ybegin, roi.xend, roi.yend) == union, f"frame {frame}"
        pixels = written.get_pixels(oiio.FLOAT)
        np.testing.assert_allclose(pixels, reference[..., :4], **TOL, err_msg=f"frame {frame}")
