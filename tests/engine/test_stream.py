"""Frames larger than the memory budget are written band by band (engine/stream.py).

At a small scale (512 x 384) with a budget of a few hundred KiB, a Write whose frame
does not fit takes the streamed path: its pixels must equal the in-memory render's
exactly (CPU), each Read must decode only the regions its tiles need (counted), the file
must be complete and tiled as asked, and a failure half-way must leave no file. The
in-memory render is itself held to numpy/scipy references by each node's tests; here a
Grade alone is checked against its formula too, so the comparison cannot pass on two
wrong renders.
"""

from __future__ import annotations

import gc
import os
import weakref

import numpy as np
import OpenImageIO as oiio
import PyOpenColorIO as ocio
import pytest

import mattebox as mb
from mattebox.engine import io, render, stream
from mattebox.nodes.spec import Window
from tests.conftest import random_image

W, H = 512, 384
TINY = "0.75"  # MiB: far less than the 3 MiB frame, so bands of the fewest rows (64)
ROOMY = "4096"


@pytest.fixture
def plate(tmp_path):
    """A random tiled float EXR of W x H (32-pixel tiles) and its pixels."""
    pixels = random_image(H, W, seed=3)
    path = tmp_path / "plate.exr"
    io.write_image(path, pixels, (0, 0, W, H), (W, H), datatype="float", tiled=True,
                   tile_size=32)  # fmt: skip
    return path, pixels


def comp(source_type: str, out, plate_path=None, tiled=True) -> tuple[mb.Graph, object]:
    """source -> Grade -> Blur 25 -> Transform -> Write (float, so nothing rounds)."""
    graph = mb.Graph()
    graph.settings.format = mb.Format(W, H)
    if source_type == "Read":
        source = graph.add("Read", file=str(plate_path), colorspace="Raw")
    else:
        source = graph.add("Noise")
    grade = graph.add("Grade", inputs={"Source": source}, gain=1.3, gamma=0.8, offset=0.01)
    blur = graph.add("Blur", inputs={"Source": grade}, size=25)
    move = graph.add(
        "Transform",
        inputs={"Source": blur},
        translate=(13.25, -7.5),
        scale=(1.05, 0.97),
        center=(256, 192),
    )
    write = graph.add(
        "Write", inputs={"Source": move}, file=str(out), datatype="float", tiled=tiled
    )
    return graph, write


@pytest.fixture
def streams(monkeypatch):
    """Records each StreamedWrite made (so a test knows which path wrote the file)."""
    made = []
    original = io.StreamedWrite

    def spy(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(io, "StreamedWrite", spy)
    return made


@pytest.fixture
def region_reads(monkeypatch):
    """The regions of ``plate.exr`` decoded, as ``(x0, y0, x1, y1)``; None for all of it."""
    regions = []
    layers, whole = io.read_layers, io.read_image

    def record(path, region):
        if os.path.basename(path) == "plate.exr":
            regions.append(None if region is None else tuple(region))

    def read_layers(path, names, region=None, **kw):
        record(path, region)
        return layers(path, names, region, **kw)

    def read_image(path, region=None, **kw):
        record(path, region)
        return whole(path, region, **kw)

    monkeypatch.setattr(io, "read_layers", read_layers)
    monkeypatch.setattr(io, "read_image", read_image)
    return regions


def render_file(graph, write, budget, monkeypatch, backend="cpu"):
    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", budget)
    render.session().cache.clear()
    [path] = render.execute(graph, [write], "1", backend=backend)
    pixels, window, _ = io.read_image(path)
    spec = oiio.ImageInput.open(path).spec()
    return pixels, window, spec


def hidden(folder):
    return [name for name in os.listdir(folder) if name.startswith(".")]


def test_read_chain_streamed_equals_in_memory(tmp_path, plate, monkeypatch, streams, region_reads):
    graph, write = comp("Read", tmp_path / "out.exr", plate[0])
    ctx = render.context_for(graph, 1)
    root = render.evaluate(graph, write, 1, ctx)
    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", TINY)
    plan_ = stream.plan_streamed(root, 1, ctx, render.backend_for("cpu"))
    rows = root.info.data_window.height  # the blurred, moved window: in 64-row bands
    assert len(plan_.tiles) == -(-rows // stream.ROWS) >= 6
    wanted = [s.region.as_tuple() for t in plan_.tiles for s in t.passes if s.kind == "read"]

    streamed, window, spec = render_file(graph, write, TINY, monkeypatch)
    assert len(streams) == 1 and streams[0].rows_written == window[3] - window[1]
    # only each tile's region of the plate was decoded: no whole read, and no more than
    # the bands and their halos (the blur's 25 px and the filter's reach) need
    decoded = [r for r in region_reads if r is not None and r[1] < r[3]]
    assert None not in region_reads and sorted(decoded) == sorted(wanted)
    # a band's 64 rows (66 in the plate: the Transform's y scale is 0.97) and the halo
    # on each side: the blur's 25 px, the cubic filter's 2 px and rounding
    assert all(r[0] == 0 and r[2] == W and r[3] - r[1] <= 66 + 2 * 28 for r in decoded)
    assert H < sum(r[3] - r[1] for r in decoded) < 2 * H
    assert spec.tile_width == spec.tile_height == stream.ROWS

    region_reads.clear()
    in_memory, window2, spec2 = render_file(graph, write, ROOMY, monkeypatch)
    assert len(streams) == 1 and region_reads == [None]  # one whole read, in memory
    assert window == window2 == root.info.data_window.as_tuple()
    assert spec2.tile_width == 64  # the in-memory writer's tiles: the same file layout
    np.testing.assert_array_equal(streamed, in_memory)
    assert np.abs(streamed).max() > 0.1  # real pixels, not an empty frame


@pytest.mark.parametrize("tiled", [True, False])
def test_generator_chain_streamed_equals_in_memory(tmp_path, monkeypatch, streams, tiled):
    graph, write = comp("Noise", tmp_path / "out.exr", tiled=tiled)
    streamed, window, spec = render_file(graph, write, TINY, monkeypatch)
    assert len(streams) == 1
    assert spec.tile_width == (stream.ROWS if tiled else 0)
    assert (spec.x, spec.y, spec.x + spec.width, spec.y + spec.height) == window
    in_memory, window2, _ = render_file(graph, write, ROOMY, monkeypatch)
    assert len(streams) == 1 and window == window2
    np.testing.assert_array_equal(streamed, in_memory)
    assert streamed.std() > 0.01
    assert hidden(tmp_path) == []


def test_streamed_grade_matches_its_formula(tmp_path, plate, monkeypatch, streams):
    """Read -> Grade -> Write (half, the Write's defaults) streamed, against the formula
    in float64 (black clamp on, as Grade's default) and OpenColorIO's conversion to the
    file's colour space."""
    path, pixels = plate
    graph = mb.Graph()
    graph.settings.format = mb.Format(W, H)
    read = graph.add("Read", file=str(path), colorspace="Raw")
    grade = graph.add("Grade", inputs={"Source": read}, gain=(1.5, 0.5, 2.0, 1.0),
                      offset=(0.1, 0.0, -0.05, 0.0))  # fmt: skip
    write = graph.add("Write", inputs={"Source": grade}, file=str(tmp_path / "g.exr"))
    result, window, _ = render_file(graph, write, "0.2", monkeypatch)
    assert len(streams) == 1 and window == (0, 0, W, H)
    expected = pixels.astype(np.float64)
    expected[..., :3] = np.maximum(expected[..., :3] * [1.5, 0.5, 2.0] + [0.1, 0.0, -0.05], 0)
    # the Write's default for a half EXR is ACES2065-1: OCIO's own CPU processor from
    # the working space (ACEScg), applied to colour unpremultiplied
    config = ocio.Config.CreateFromFile(render.context_for(graph, 1).ocio_config)
    convert = config.getProcessor("ACEScg", "ACES2065-1").getDefaultCPUProcessor()
    alpha = expected[..., 3:4]
    colour = np.ascontiguousarray(expected[..., :3] / alpha, np.float32)
    convert.applyRGB(colour)
    expected[..., :3] = colour * alpha
    half = expected.astype(np.float16).astype(np.float64)
    np.testing.assert_allclose(result, half, rtol=2e-3, atol=1e-3)


def test_failure_half_way_leaves_no_file(tmp_path, plate, monkeypatch, streams):
    out = tmp_path / "out" / "comp.exr"
    out.parent.mkdir()
    out.write_bytes(b"old")
    graph, write = comp("Read", out, plate[0])
    calls = []
    original = io.read_layers

    def failing(path, names, region=None):
        calls.append(region)
        if len(calls) == 3:
            raise io.ImageIOError(f"{path}: damaged tile")
        return original(path, names, region)

    monkeypatch.setattr(io, "read_layers", failing)
    with pytest.raises(render.RenderError, match="^Read1: .*damaged tile$"):
        render_file(graph, write, TINY, monkeypatch)
    assert len(streams) == 1 and 0 < streams[0].rows_written < H
    assert out.read_bytes() == b"old" and os.listdir(out.parent) == ["comp.exr"]


def test_a_frame_that_fits_is_written_in_memory(tmp_path, monkeypatch, streams):
    graph, write = comp("Noise", tmp_path / "out.exr")
    render_file(graph, write, ROOMY, monkeypatch)
    assert streams == []


def test_what_cannot_stream_is_written_in_memory(tmp_path, monkeypatch, streams):
    """A TIFF (no data window) or a multi-part EXR keeps the in-memory writer."""
    graph, write = comp("Noise", tmp_path / "out.tif")
    render_file(graph, write, TINY, monkeypatch)
    graph, write = comp("Noise", tmp_path / "out.exr")
    write["multipart"] = True
    render_file(graph, write, TINY, monkeypatch)
    assert streams == []


def test_streamed_on_each_backend(tmp_path, monkeypatch, streams, backend):
    """The streamed path runs the plan's tiles on the render's backend."""
    graph, write = comp("Noise", tmp_path / "out.exr")
    streamed, window, _ = render_file(graph, write, TINY, monkeypatch, backend)
    in_memory, window2, _ = render_file(graph, write, ROOMY, monkeypatch, backend)
    assert len(streams) == 1 and window == window2
    np.testing.assert_allclose(streamed, in_memory, rtol=0, atol=1e-5)
    assert streamed.std() > 0.01


def test_cancel_between_tiles_leaves_no_file(tmp_path, monkeypatch, streams):
    """execute's cancel is asked before each pass of a streamed frame, not only between
    frames: a 4-minute 32k frame stops at once, and nothing is left behind."""
    graph, write = comp("Noise", tmp_path / "out.exr")
    asked = []

    def cancel():
        asked.append(streams[0].rows_written if streams else -1)
        return len(asked) > 10  # a few tiles in (4 passes per tile)

    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", TINY)
    with pytest.raises(render.Cancelled):
        render.execute(graph, [write], "1", backend="cpu", cancel=cancel)
    assert len(streams) == 1 and 0 < streams[0].rows_written < H
    assert os.listdir(tmp_path) == []


def test_a_region_is_read_a_few_chunks_at_a_time(tmp_path, plate, monkeypatch):
    """A band's read is chunks of rows decoded a few ahead: no more than IN_FLIGHT
    decoded chunks are alive at once (at 32k, holding every chunk of a band until its
    end cost 1.5 GiB), and they make up exactly the region."""
    monkeypatch.setattr(stream, "CHUNK_BYTES", W * 16 * 64)  # 64-row chunks
    graph = mb.Graph()
    read = graph.add("Read", file=str(plate[0]), colorspace="Raw")
    ev = render.evaluate(graph, read, 1)
    ctx = render.context_for(graph, 1)
    alive, most, rows = [], [0], []
    original = stream._read_chunk

    def chunk(*args):
        gc.collect()
        most[0] = max(most[0], sum(ref() is not None for ref in alive))
        pixels = original(*args)
        alive.append(weakref.ref(pixels))
        rows.append((args[3].y0, args[3].y1))
        return pixels

    monkeypatch.setattr(stream, "_read_chunk", chunk)
    pixels, window = stream.read_region(ev, Window(0, 10, W, 380), ctx)
    assert window == Window(0, 10, W, 380)
    assert sorted(rows) == [(10, 64)] + [(y, y + 64) for y in range(64, 320, 64)] + [(320, 380)]
    assert 0 < most[0] <= stream.IN_FLIGHT
    np.testing.assert_array_equal(pixels, plate[1][10:380])


def test_a_huge_data_window_is_refused_before_any_work(tmp_path, monkeypatch, streams):
    """Memory no longer bounds a streamed frame, so its size is: wider or taller than
    the largest image (65536) is a mistake such as a Transform scaled by 5000, refused
    in one line naming the node, before a file is opened."""
    graph = mb.Graph()
    graph.settings.format = mb.Format(W, H)
    noise = graph.add("Noise")
    scaled = graph.add("Transform", inputs={"Source": noise}, scale=(5000.0, 1.0))
    write = graph.add("Write", inputs={"Source": scaled}, file=str(tmp_path / "out.exr"))
    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", ROOMY)
    with pytest.raises(
        render.RenderError, match=r"^Transform1: its image of \d+x384 pixels is larger than 65536"
    ):
        render.execute(graph, [write], "1", backend="cpu")
    assert streams == [] and os.listdir(tmp_path) == []
