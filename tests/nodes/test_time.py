"""TimeOffset, FrameHold and FrameRange, through the engine on every backend: rendered at
a frame, each equals its input at the frame it names, pixel for pixel, whether that input
is a Read of a ``####`` sequence or animated nodes upstream of it."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render as engine_render
from mattebox.engine.passes import RenderError
from tests.conftest import random_image, write_exr

FRAMES = range(1, 6)
HEIGHT, WIDTH = 9, 13


@pytest.fixture
def sequence(tmp_path):
    """``(pattern, {frame: pixels})``: a 5-frame EXR sequence of random pixels."""
    plates = {f: random_image(HEIGHT, WIDTH, seed=10 + f) for f in FRAMES}
    for frame, pixels in plates.items():
        write_exr(tmp_path / f"plate.{frame:04d}.exr", pixels)
    return str(tmp_path / "plate.####.exr"), plates


def graph_with_read(pattern):
    g = mb.Graph()
    g.settings.format = mb.Format(WIDTH, HEIGHT)
    g.settings.frame_range = (1, 5)
    return g, g.add("Read", file=pattern, colorspace="Raw")


@pytest.mark.parametrize(
    ("type_name", "params", "shown"),
    [
        ("TimeOffset", {"offset": 2}, {3: 1, 4: 2, 5: 3}),
        ("TimeOffset", {"offset": -1}, {1: 2, 2: 3, 4: 5}),
        ("FrameHold", {"frame": 3}, {1: 3, 3: 3, 5: 3}),
        ("FrameRange", {"first": 2, "last": 4}, {1: 2, 2: 2, 3: 3, 4: 4, 5: 4}),
    ],
    ids=["offset+2", "offset-1", "hold", "range"],
)
def test_a_time_node_shows_the_frame_it_names(backend, sequence, type_name, params, shown):
    pattern, plates = sequence
    g, read = graph_with_read(pattern)
    node = g.add(type_name, inputs={"Source": read}, **params)
    for frame, source_frame in shown.items():
        out = g.render(node, frame=frame, backend=backend)
        assert out.data_window == (0, 0, WIDTH, HEIGHT)
        np.testing.assert_array_equal(out.pixels, plates[source_frame], err_msg=f"frame {frame}")


def test_the_result_is_the_inputs_record_at_that_frame(sequence):
    """By reference: the same hash as the input at the other frame, so caches share it."""
    pattern, _ = sequence
    g, read = graph_with_read(pattern)
    hold = g.add("FrameHold", inputs={"Source": read}, frame=2)
    offset = g.add("TimeOffset", inputs={"Source": read}, offset=1)
    at_2 = engine_render.evaluate(g, read, 2).hash
    assert engine_render.evaluate(g, hold, 5).hash == at_2
    assert engine_render.evaluate(g, hold, 1).hash == at_2
    assert engine_render.evaluate(g, offset, 3).hash == at_2
    assert engine_render.evaluate(g, offset, 4).hash != at_2


def graded(pixels, gain):
    """Grade with only ``gain`` (black clamp on, as by default), in float64."""
    out = pixels.astype(np.float64)
    out[..., :3] = np.maximum(out[..., :3] * gain, 0.0)
    return out


# gain 1 at frame 1 rising to 2 at frame 5: 1 + (f - 1) / 4
ANIMATED_GAIN = {"keys": [[1, [1.0, 1.0, 1.0, 1.0]], [5, [2.0, 2.0, 2.0, 1.0]]]}


def test_an_animated_grade_above_a_frame_hold_is_graded_as_at_the_held_frame(backend, array_source):
    g = mb.Graph()
    pixels = random_image(HEIGHT, WIDTH, seed=3)
    grade = g.add("Grade", inputs={"Source": array_source(g, pixels)}, gain=ANIMATED_GAIN)
    hold = g.add("FrameHold", inputs={"Source": grade}, frame=3)
    at_3 = g.render(grade, frame=3, backend=backend).pixels
    np.testing.assert_allclose(at_3, graded(pixels, 1.5), rtol=1e-6, atol=1e-7)
    for frame in (1, 4, 5):
        np.testing.assert_array_equal(g.render(hold, frame=frame, backend=backend).pixels, at_3)


def test_a_chain_of_time_offsets_around_an_animated_grade(backend, sequence):
    """TimeOffset(+1) -> Grade -> TimeOffset(+2): at frame f the plate of f - 3 graded
    with the gain of frame f - 2."""
    pattern, plates = sequence
    g, read = graph_with_read(pattern)
    early = g.add("TimeOffset", inputs={"Source": read}, offset=1)
    grade = g.add("Grade", inputs={"Source": early}, gain=ANIMATED_GAIN)
    late = g.add("TimeOffset", inputs={"Source": grade}, offset=2)
    for frame in (4, 5, 8):
        out = g.render(late, frame=frame, backend=backend)
        gain = min(1.0 + (frame - 2 - 1) / 4, 2.0)  # held after the last key
        expected = graded(plates[frame - 3], gain)
        np.testing.assert_allclose(out.pixels, expected, rtol=1e-6, atol=1e-7)


def test_execute_writes_the_right_frames(backend, sequence, tmp_path):
    import OpenImageIO as oiio

    pattern, plates = sequence
    g, read = graph_with_read(pattern)
    offset = g.add("TimeOffset", inputs={"Source": read}, offset=-2)
    ranged = g.add("FrameRange", inputs={"Source": offset}, first=1, last=2)
    write = g.add(
        "Write",
        inputs={"Source": ranged},
        file=str(tmp_path / "out.####.exr"),
        datatype="float",
        colorspace="Raw",
    )
    g.execute([write], frames=range(1, 6), backend=backend)
    # FrameRange holds 1..2, of the input advanced by 2: plates 3, 4, 4, 4, 4
    for frame, source_frame in zip(FRAMES, (3, 4, 4, 4, 4)):
        written = oiio.ImageBuf(str(tmp_path / f"out.{frame:04d}.exr"))
        pixels = written.get_pixels(oiio.FLOAT)
        np.testing.assert_array_equal(pixels, plates[source_frame], err_msg=f"frame {frame}")


def test_a_proxy_render_holds_the_proxy_of_the_frame(sequence):
    pattern, _ = sequence
    g, read = graph_with_read(pattern)
    hold = g.add("FrameHold", inputs={"Source": read}, frame=4)
    held = g.render(hold, frame=1, backend="cpu", proxy=2)
    direct = g.render(read, frame=4, backend="cpu", proxy=2)
    assert held.proxy == 2
    assert held.data_window == direct.data_window
    np.testing.assert_array_equal(held.pixels, direct.pixels)


def test_a_disabled_time_node_passes_the_same_frame(sequence):
    pattern, plates = sequence
    g, read = graph_with_read(pattern)
    hold = g.add("FrameHold", inputs={"Source": read}, frame=4, disable=True)
    np.testing.assert_array_equal(g.render(hold, frame=2, backend="cpu").pixels, plates[2])


def test_a_frame_range_ending_before_it_starts_is_an_error(sequence):
    pattern, _ = sequence
    g, read = graph_with_read(pattern)
    node = g.add("FrameRange", inputs={"Source": read}, first=4, last=2)
    with pytest.raises(RenderError, match="before the first frame"):
        g.render(node, frame=3, backend="cpu")


def test_nothing_connected_is_black(sequence):
    g = mb.Graph()
    node = g.add("TimeOffset", offset=3)
    assert engine_render.evaluate(g, node, 1).info.data_window.empty


def test_a_cycle_through_a_time_node_is_an_error_not_a_recursion(sequence):
    """Each frame has its own memo, but the nodes being visited are shared: a loop that
    would step back one frame at a time for ever is found at once (the graph refuses
    cycles; a link set behind its back, as a broken script might, stands in)."""
    g = mb.Graph()
    offset = g.add("TimeOffset", offset=1)
    grade = g.add("Grade", inputs={"Source": offset})
    offset.inputs["Source"] = grade.name
    with pytest.raises(RenderError, match="cycle"):
        engine_render.evaluate(g, grade, 10)
