"""Limits checked before work starts (issue 12, item 1): hard parameter limits, absurd
sizes refused up front, and the plan refusing what cannot fit the memory limit, each as
one line naming the node or key, within seconds."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import plan as planner
from mattebox.engine import render, script
from mattebox.nodes import limits
from mattebox.nodes.spec import ParamError, registry
from tests.conftest import random_image, require_gpu


def _one_line(error: BaseException, *parts: str) -> None:
    text = str(error)
    assert "\n" not in text
    for part in parts:
        assert part in text, text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"width": 1_000_000}, "Constant1.width: 1000000 is above the maximum 65536"),
        ({"height": 2**40}, "Constant1.height: 1099511627776 is beyond the limit of ±2147483647"),
        ({"width": float("inf")}, "Constant1.width: expected a finite number"),
        ({"color": 1e300}, "Constant1.color: 1e+300 is beyond the limit of ±3.40282e+38"),
        ({"color": [0.5, float("nan"), 0.5, 1]}, "Constant1.color: expected a finite number"),
    ],
)
def test_absurd_parameter_values_are_refused_naming_node_and_key(params, message):
    g = mb.Graph()
    with pytest.raises(mb.GraphError) as caught:
        g.add("Constant", **params)
    _one_line(caught.value, message)
    assert "Constant1" not in g  # nothing half-made is left


def test_every_int_parameter_fits_32_bits_and_every_float_float32():
    """The type limits hold for every parameter of every node, whatever its declaration
    says (a declared max above them would be a declaration bug)."""
    for name, spec in registry().items():
        for param in spec.params:
            if param.type not in ("int", "float"):
                continue
            limit = limits.MAX_INT if param.type == "int" else limits.MAX_FLOAT
            assert param.max is None or param.max <= limit, (name, param.name)
            big = limit * 2 if param.type == "float" else limit + 1
            with pytest.raises(ParamError, match=param.name):
                param.coerce(big)


def test_widths_and_heights_of_every_format_parameter_have_the_image_limit():
    sized = [
        (name, p)
        for name, spec in registry().items()
        for p in spec.params
        if p.name in ("width", "height") and p.type == "int"
    ]
    assert len(sized) >= 10
    for name, param in sized:
        assert param.max == limits.MAX_IMAGE_SIZE, name


def test_a_blur_of_a_million_needs_a_halo_past_the_limit_and_says_so(array_source):
    g = mb.Graph()
    blur = g.add("Blur", inputs={"Source": array_source(g, random_image(8, 8))}, size=1e6)
    start = time.perf_counter()
    with pytest.raises(mb.RenderError) as caught:
        g.render(blur, backend="cpu")
    assert time.perf_counter() - start < 10
    limit = planner.halo_limit(planner.memory_limit())
    _one_line(caught.value, "Blur1: size 1000000 needs a", f"the limit is {limit} pixels")


def test_the_halo_limit_follows_the_memory_limit(monkeypatch, array_source, backend):
    """With 1 MiB a pixel's input may be 256 pixels square (65536 pixels of 16 bytes):
    a halo of 127. Blur's halo is its size, rounded up (its radius): 127 renders, the
    right pixels as without a limit, and 128 is refused."""
    monkeypatch.setenv("MATTEBOX_MEMORY_LIMIT", "1")
    assert planner.halo_limit(planner.memory_limit()) == 127
    g = mb.Graph()
    pixels = random_image(6, 5, seed=7)
    blur = g.add("Blur", inputs={"Source": array_source(g, pixels)}, size=127)
    out = g.render(blur, backend=backend, region=(0, 0, 5, 6)).pixels
    monkeypatch.delenv("MATTEBOX_MEMORY_LIMIT")
    free = render.render(g, blur, backend="cpu", region=(0, 0, 5, 6), use_cache=False).pixels
    np.testing.assert_allclose(out, free, rtol=1e-5, atol=1e-6)
    monkeypatch.setenv("MATTEBOX_MEMORY_LIMIT", "1")
    blur["size"] = 128
    with pytest.raises(mb.RenderError) as caught:
        g.render(blur, backend=backend, region=(0, 0, 5, 6))
    _one_line(caught.value, "Blur1: size 128 needs a 128-pixel halo; the limit is 127 pixels")


def test_a_result_past_the_memory_limit_is_refused_naming_the_node(monkeypatch):
    """A 65536 x 65536 Constant (legal: the image limit per side) is 64 GiB of RGBA
    float: refused in the plan, naming the Constant even when rendered through a Grade,
    before anything is allocated. A region of it that fits renders."""
    monkeypatch.setenv("MATTEBOX_MEMORY_LIMIT", "64")
    g = mb.Graph()
    color = [0.2, 0.4, 0.6, 1.0]
    big = g.add("Constant", width=65536, height=65536, color=color)
    graded = g.add("Grade", inputs={"Source": big}, gain=2.0)
    start = time.perf_counter()
    with pytest.raises(mb.RenderError) as caught:
        render.plan(g, graded)
    _one_line(caught.value, "Constant1: its image of 65536x65536 pixels needs 64.0 GiB")
    _one_line(caught.value, "the limit is 64.0 MiB (MATTEBOX_MEMORY_LIMIT)")
    with pytest.raises(mb.RenderError, match="Constant1"):
        g.render(graded, backend="cpu")
    assert time.perf_counter() - start < 10
    part = g.render(big, backend="cpu", region=(100, 100, 104, 103)).pixels
    np.testing.assert_array_equal(part, np.broadcast_to(np.float32(color), (3, 4, 4)))


def test_a_tile_that_cannot_fit_the_limit_is_refused(monkeypatch, array_source):
    """A Transform scaling by 1/1000 needs the whole of its input for every output row:
    a graded 300 x 300 input (a 1.4 MiB buffer) cannot fit a 1 MiB limit however finely
    the output is cut."""
    monkeypatch.setenv("MATTEBOX_MEMORY_LIMIT", "1")
    g = mb.Graph()
    src = array_source(g, random_image(300, 300, seed=2))
    graded = g.add("Grade", inputs={"Source": src}, gain=1.5)
    small = g.add("Transform", inputs={"Source": graded}, scale=[0.001, 0.001])
    with pytest.raises(mb.RenderError) as caught:
        g.render(small, backend="cpu", region=(0, 0, 64, 64))
    _one_line(caught.value, "needs", "the limit is 1.0 MiB (MATTEBOX_MEMORY_LIMIT)")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"format": {"width": 2**20, "height": 2**20}},
            "settings.format.width: 1048576 is outside 1 .. 65536",
        ),
        (
            {"format": {"width": 1920, "height": 0}},
            "settings.format.height: 0 is outside 1 .. 65536",
        ),
        ({"frame_range": [1, 2**31]}, "settings.frame_range: 2147483648 is outside"),
        ({"fps": 1e9}, "settings.fps: 1000000000.0 is outside (0, 1000]"),
        ({"format": {"width": 8, "height": 8, "pixel_aspect": 0}}, "settings.format.pixel_aspect"),
    ],
)
def test_absurd_script_settings_are_refused(settings, message):
    text = json.dumps({"mattebox": {"format": 2}, "settings": settings, "nodes": {}})
    with pytest.raises(mb.ScriptError) as caught:
        script.loads(text, "big.mbx")
    _one_line(caught.value, "big.mbx: ", message)


def test_a_frame_range_to_a_trillion_is_iterated_not_built(tmp_path):
    """``1-1000000000000`` counts and indexes at once; rendering it writes frame after
    frame (a cancel after the second stops it), and a Write without a frame number is
    refused at once, though the list holds a trillion frames."""
    g = mb.Graph()
    g.settings.frame_range = (1, limits.MAX_INT)
    start = time.perf_counter()
    frames = render.frames_from("1-1000000000000", g)
    assert len(frames) == 10**12
    assert list(frames[:3]) == [1, 2, 3] and frames[-1] == 10**12
    assert len(render.frames_from(None, g)) == limits.MAX_INT
    assert render.frames_from("3,1-2,7-9x2", g) == [3, 1, 2, 7, 9]
    c = g.add("Constant", width=4, height=2, color=[0.5, 0.25, 0.125, 1.0])
    write = g.add("Write", inputs={"Source": c}, file=str(tmp_path / "out.####.exr"))
    asked = []

    def cancel():
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(render.Cancelled):
        render.execute(g, [write], frames=frames, backend="cpu", cancel=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.0001.exr", "out.0002.exr"]
    write["file"] = str(tmp_path / "single.exr")
    with pytest.raises(mb.RenderError, match="Write1: file .* so 1000000000000 frames"):
        render.execute(g, [write], frames=frames, backend="cpu")
    assert time.perf_counter() - start < 30


def _layered_exr(path, width=64, height=48, seed=9):
    """A float EXR of an RGBA main layer and five more (diffuse, specular, N, motion,
    depth): six planes when every layer is rendered. Returns the channels by name."""
    import OpenImageIO as oiio

    names = ["R", "G", "B", "A", "diffuse.R", "diffuse.G", "diffuse.B", "specular.R"]
    names += ["specular.G", "specular.B", "N.X", "N.Y", "N.Z", "motion.u", "motion.v", "depth.Z"]
    rng = np.random.default_rng(seed)
    data = rng.uniform(0.05, 1.0, (height, width, len(names))).astype(np.float32)
    spec = oiio.ImageSpec(width, height, len(names), oiio.FLOAT)
    spec.channelnames = tuple(names)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec), oiio.geterror()
    assert out.write_image(data)
    out.close()
    return {name: data[..., i] for i, name in enumerate(names)}


def test_every_layer_a_render_holds_counts_against_the_memory_limit(tmp_path, monkeypatch):
    """A 64 x 48 plane is 48 KiB; six layers are 288 KiB. Under a 200 KiB limit each
    layer's own plan fits, but all six side by side do not: refused before the file is
    decoded, naming the node; the main layer alone, or with one more, renders."""
    channels = _layered_exr(tmp_path / "beauty.exr")
    monkeypatch.setenv("MATTEBOX_MEMORY_LIMIT", str(200 / 1024))
    g = mb.Graph()
    g.settings.format = mb.Format(64, 48)
    read = g.add("Read", file=str(tmp_path / "beauty.exr"), colorspace="Raw")
    grade = g.add("Grade", inputs={"Source": read}, gain=2.0)
    decoded = []
    real = render.io.read_layers
    monkeypatch.setattr(
        render.io, "read_layers", lambda *a, **k: decoded.append(a) or real(*a, **k)
    )
    with pytest.raises(mb.RenderError) as caught:
        render.render(g, grade, backend="cpu", use_cache=False)
    _one_line(caught.value, "Grade1: its 6 layers of 64x48 pixels need 288.0 KiB")
    _one_line(caught.value, "the limit is 200.0 KiB (MATTEBOX_MEMORY_LIMIT)")
    assert decoded == []  # refused before any decode
    image = render.render(g, grade, backend="cpu", use_cache=False, layers=["depth"])
    rgb = np.stack([channels[c] for c in "RGB"], axis=-1) * 2.0
    np.testing.assert_allclose(image.pixels[..., :3], rgb, rtol=1e-6)
    np.testing.assert_allclose(image.layer("depth")[..., 0], channels["depth.Z"], rtol=1e-6)
    monkeypatch.setenv("MATTEBOX_MEMORY_LIMIT", str(300 / 1024))  # now all six fit
    image = render.render(g, grade, backend="cpu", use_cache=False)
    assert len(image.layers) == 6
    np.testing.assert_allclose(image.layer("N")[..., :3], np.stack(
        [channels[f"N.{c}"] for c in "XYZ"], axis=-1), rtol=1e-6)  # fmt: skip


def test_a_write_of_every_layer_is_refused_naming_the_write(tmp_path, monkeypatch):
    _layered_exr(tmp_path / "beauty.exr")
    monkeypatch.setenv("MATTEBOX_MEMORY_LIMIT", str(200 / 1024))
    g = mb.Graph()
    g.settings.format = mb.Format(64, 48)
    read = g.add("Read", file=str(tmp_path / "beauty.exr"), colorspace="Raw")
    out = g.add("Write", inputs={"Source": read}, file=str(tmp_path / "out.exr"), channels="all")
    with pytest.raises(mb.RenderError) as caught:
        g.execute([out], frames=[1], backend="cpu")
    _one_line(caught.value, "Write1: its 6 layers of 64x48 pixels need 288.0 KiB")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beauty.exr"]


@pytest.fixture
def tiny_binding(monkeypatch):
    """The GPU backend (lavapipe here) with a largest binding of 16 KiB: 8 rows of a
    128-pixel-wide image."""
    from mattebox.engine.backends import detect

    require_gpu()
    gpu = detect.get("gpu")
    monkeypatch.setattr(type(gpu.gpu), "max_binding", property(lambda self: 16 * 2**10))
    return gpu


def test_tiles_are_cut_to_the_gpus_largest_binding(tiny_binding, array_source):
    g = mb.Graph()
    pixels = random_image(40, 128, seed=5)
    src = array_source(g, pixels)
    graded = g.add("Grade", inputs={"Source": src}, gain=1.5, offset=0.01)
    plan = render.plan(g, graded, backend="gpu", use_cache=False)
    assert len(plan.tiles) >= 5  # below the 16-row floor of tiles cut for the budget
    assert all(tile.region.height <= 8 for tile in plan.tiles)
    image = render.render(g, graded, backend="gpu", use_cache=False)
    expected = pixels.astype(np.float64)
    expected[..., :3] = np.maximum(expected[..., :3] * 1.5 + 0.01, 0.0)
    np.testing.assert_allclose(image.pixels, expected, rtol=1e-5, atol=1e-6)


def test_a_tile_past_the_gpus_largest_binding_is_refused_before_gpu_work(
    tiny_binding, array_source, monkeypatch
):
    """A Blur of size 20 needs more than 40 input rows for any output row (80 KiB at 128
    pixels wide); a Constant 2048 pixels wide is 32 KiB a row: neither fits 16 KiB
    however finely cut, so the plan refuses them, naming the node, and nothing runs."""
    g = mb.Graph()
    src = array_source(g, random_image(64, 128, seed=6))
    blur = g.add("Blur", inputs={"Source": src}, size=20.0)
    wide = g.add("Constant", width=2048, height=4, color=[0.1, 0.2, 0.3, 1.0])
    ran = []
    monkeypatch.setattr(render, "run_plan", lambda *a, **k: ran.append(a))
    tiny_binding.counters.clear()
    for node, name, shape in (
        (blur, "Blur1", "128x41 pixels"),
        (wide, "Constant1", "2048x1 pixels"),
    ):
        with pytest.raises(mb.RenderError) as caught:
            render.render(g, node, backend="gpu", use_cache=False)
        _one_line(caught.value, f"{name}: a tile of ", shape, "the GPU binds at most 16.0 KiB")
        _one_line(caught.value, "max_storage_buffer_binding_size", "--backend cpu")
    assert ran == [] and not any(tiny_binding.counters.values())
    monkeypatch.undo()
    cpu = render.render(g, wide, backend="cpu", use_cache=False)  # the CPU has no binding
    np.testing.assert_array_equal(cpu.pixels, np.broadcast_to(np.float32([0.1, 0.2, 0.3, 1]), (4, 2048, 4)))  # fmt: skip
