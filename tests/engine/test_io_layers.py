"""Tests for layers in mattebox.engine.io: listing, read_layers, writing layers, round trips.

Files are written here with OpenImageIO directly (never with the code under test) from
random data, and pixels are checked against OpenImageIO's own reading of each channel.
"""

import os
import pickle
import signal

import numpy as np
import OpenImageIO as oiio
import pytest

from mattebox.engine import io as mio
from mattebox.engine.io.layers import Part, layer_layout

W, H = 37, 23  # odd sizes on purpose: not multiples of tiles or chunks

# A renderer's single-part EXR: the channels as written (OpenEXR stores them sorted).
RENDER_CHANNELS = (
    "R", "G", "B", "A",
    "diffuse.B", "diffuse.G", "diffuse.R",
    "specular.R", "specular.G", "specular.B",
    "depth.Z", "N.X", "N.Y", "N.Z", "motion.u", "motion.v",
)  # fmt: skip
RENDER_LAYERS = (
    ("rgba", ("R", "G", "B", "A")),
    ("N", ("N.X", "N.Y", "N.Z")),
    ("depth", ("depth.Z",)),
    ("diffuse", ("diffuse.R", "diffuse.G", "diffuse.B")),
    ("motion", ("motion.u", "motion.v")),
    ("specular", ("specular.R", "specular.G", "specular.B")),
)


@pytest.fixture
def rng():
    return np.random.default_rng(4321)


@pytest.fixture(params=["worker", "in-process"])
def read_mode(request, monkeypatch):
    """Run a test through the decoder process and in this process."""
    monkeypatch.setattr(mio, "IN_PROCESS", request.param == "in-process")
    return request.param


def random_pixels(rng, count, height=H, width=W):
    """Random values in [-0.5, 2) (never all zero), float32 (height, width, count)."""
    return (rng.random((height, width, count), dtype=np.float32) * 2.5 - 0.5).astype(np.float32)


def write_parts(path, parts, datatype="float", size=(W, H), tiled=False, attributes=None):
    """Write a file with OpenImageIO: ``parts`` is a list of (part name or None, channel
    names, pixels, (x, y) of the data window); several parts make a multi-part EXR."""
    specs = []
    for name, channels, pixels, origin in parts:
        height, width, count = pixels.shape
        spec = oiio.ImageSpec(width, height, count, datatype)
        spec.channelnames = tuple(channels)
        spec.x, spec.y = origin
        spec.full_x, spec.full_y, spec.full_width, spec.full_height = 0, 0, size[0], size[1]
        if name is not None:
            spec.attribute("oiio:subimagename", name)
        if tiled:
            spec.tile_width = spec.tile_height = 16
        for key, value in (attributes or {}).items():
            spec.attribute(key, value)
        specs.append(spec)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), specs if len(specs) > 1 else specs[0]), out.geterror()
    for index, (spec, part) in enumerate(zip(specs, parts)):
        if index:
            assert out.open(str(path), spec, "AppendSubimage"), out.geterror()
        assert out.write_image(np.ascontiguousarray(part[2])), out.geterror()
    assert out.close(), out.geterror()


def oiio_parts(path):
    """Every part of ``path`` as OpenImageIO reads it: a list of (part name, {channel:
    float32 (H, W) values}, (x0, y0, x1, y1))."""
    parts = []
    inp = oiio.ImageInput.open(str(path))
    count = 1
    while inp.seek_subimage(count, 0):
        count += 1
    inp.close()
    for index in range(count):
        buf = oiio.ImageBuf(str(path), index, 0)
        spec = buf.spec()
        values = np.asarray(buf.get_pixels(oiio.FLOAT)).reshape(spec.height, spec.width, -1)
        channels = {name: values[..., i] for i, name in enumerate(spec.channelnames)}
        window = (spec.x, spec.y, spec.x + spec.width, spec.y + spec.height)
        parts.append((spec.get_string_attribute("oiio:subimagename", ""), channels, window))
    return parts


def write_render(path, rng, **kwargs):
    """A renderer-style single-part EXR; returns {channel: values} as written."""
    pixels = random_pixels(rng, len(RENDER_CHANNELS))
    write_parts(path, [(None, RENDER_CHANNELS, pixels, (0, 0))], **kwargs)
    return {name: pixels[..., i] for i, name in enumerate(RENDER_CHANNELS)}


# Multi-part: named parts with prefix-less channels, a prefixed one, windows that differ.
MULTI_PARTS = (
    ("rgba", ("R", "G", "B", "A"), (0, 0, W, H)),
    ("diffuse", ("R", "G", "B"), (3, 2, W - 4, H - 1)),
    ("spec", ("specular.R", "specular.G", "specular.B"), (-5, -3, W + 2, H)),
    ("depth", ("Z",), (0, 4, W, H - 6)),
    ("N", ("X", "Y", "Z"), (1, 1, 9, 8)),
)
# Where each layer channel of MULTI_PARTS lives: (part, channel as stored).
MULTI_SOURCES = {
    "R": ("rgba", "R"), "G": ("rgba", "G"), "B": ("rgba", "B"), "A": ("rgba", "A"),
    "diffuse.R": ("diffuse", "R"), "diffuse.G": ("diffuse", "G"),
    "diffuse.B": ("diffuse", "B"), "specular.R": ("spec", "specular.R"),
    "specular.G": ("spec", "specular.G"), "specular.B": ("spec", "specular.B"),
    "depth.Z": ("depth", "Z"), "N.X": ("N", "X"), "N.Y": ("N", "Y"), "N.Z": ("N", "Z"),
}  # fmt: skip
MULTI_LAYERS = (
    ("rgba", ("R", "G", "B", "A")),
    ("diffuse", ("diffuse.R", "diffuse.G", "diffuse.B")),
    ("specular", ("specular.R", "specular.G", "specular.B")),
    ("depth", ("depth.Z",)),
    ("N", ("N.X", "N.Y", "N.Z")),
)


def write_multi(path, rng, **kwargs):
    """The MULTI_PARTS file; returns {part name: (channels, pixels, window)}."""
    parts, written = [], {}
    for name, channels, window in MULTI_PARTS:
        pixels = random_pixels(rng, len(channels), window[3] - window[1], window[2] - window[0])
        parts.append((name, channels, pixels, window[:2]))
        written[name] = (channels, pixels, window)
    write_parts(path, parts, **kwargs)
    return written


def multi_reference(path):
    """{layer channel name: (values, window)} of a MULTI_PARTS file, read by OIIO."""
    by_part = {name: (channels, window) for name, channels, window in oiio_parts(path)}
    reference = {}
    for channel, (part, stored) in MULTI_SOURCES.items():
        channels, window = by_part[part]
        reference[channel] = (channels[stored], window)
    return reference


def check_planes(planes, windows, info, reference, region=None):
    """Each plane holds its layer's channels as OIIO read them; unused components are 0."""
    for layer, channels in info.layers:
        if layer not in planes:
            continue
        plane = planes[layer]
        assert plane.dtype == np.float32 and plane.flags.c_contiguous
        for component, channel in enumerate(channels):
            values, window = reference[channel]
            x0, y0, x1, y1 = mio.info._intersect(window, region)
            assert windows[layer] == (x0, y0, x1, y1)
            expected = values[y0 - window[1] : y1 - window[1], x0 - window[0] : x1 - window[0]]
            np.testing.assert_array_equal(plane[..., component], expected, err_msg=channel)
        assert not plane[..., len(channels) :].any(), layer


# --------------------------------------------------------------------------- listing


def test_single_part_layers_are_listed_in_file_order(tmp_path, rng, read_mode):
    path = tmp_path / "render.exr"
    write_render(path, rng)
    info = mio.probe(path)
    assert info.layers == RENDER_LAYERS
    assert info.layer_windows == {layer: (0, 0, W, H) for layer, _ in RENDER_LAYERS}
    assert info.data_window == (0, 0, W, H)


def test_nested_and_prefix_less_channels(tmp_path, rng, read_mode):
    channels = ("R", "G", "B", "A", "Z", "mask", "ViewLayer.Combined.R",
                "ViewLayer.Combined.G", "ViewLayer.Combined.B", "ViewLayer.Depth.Z")  # fmt: skip
    path = tmp_path / "blender.exr"
    write_parts(path, [(None, channels, random_pixels(rng, len(channels)), (0, 0))])
    assert mio.probe(path).layers == (
        ("rgba", ("R", "G", "B", "A")),
        ("depth", ("depth.Z",)),
        ("other", ("other.mask",)),
        ("ViewLayer.Combined", tuple(f"ViewLayer.Combined.{c}" for c in "RGB")),
        ("ViewLayer.Depth", ("ViewLayer.Depth.Z",)),
    )


def test_grey_file_layers(tmp_path, rng, read_mode):
    """A grey Y feeds rgba; Z and other prefix-less channels become depth and other."""
    path = tmp_path / "grey.exr"
    pixels = random_pixels(rng, 3)
    write_parts(path, [(None, ("Y", "Z", "id"), pixels, (0, 0))])
    planes, _, info = mio.read_layers(path, None)
    assert info.layers == (
        ("rgba", ("R", "G", "B", "A")),
        ("depth", ("depth.Z",)),
        ("other", ("other.id",)),
    )
    grey = oiio_parts(path)[0][1]
    for component in range(3):
        np.testing.assert_array_equal(planes["rgba"][..., component], grey["Y"])
    assert np.all(planes["rgba"][..., 3] == 1.0)
    np.testing.assert_array_equal(planes["depth"][..., 0], grey["Z"])
    np.testing.assert_array_equal(planes["other"][..., 0], grey["id"])


def test_more_than_four_channels_are_split(tmp_path, rng, read_mode):
    channels = tuple(f"aov.c{i}" for i in range(1, 10))
    path = tmp_path / "wide.exr"
    write_parts(path, [(None, ("R", "G", "B", *channels), random_pixels(rng, 12), (0, 0))])
    planes, windows, info = mio.read_layers(path, None)
    assert info.layers == (
        ("rgba", ("R", "G", "B", "A")),
        ("aov", channels[0:4]),
        ("aov#2", channels[4:8]),
        ("aov#3", channels[8:9]),
    )
    reference = {name: (values, (0, 0, W, H)) for name, values in oiio_parts(path)[0][1].items()}
    reference["A"] = (np.ones((H, W), np.float32), (0, 0, W, H))
    check_planes(planes, windows, info, reference)


def test_multi_part_layers_and_windows(tmp_path, rng, read_mode):
    path = tmp_path / "multi.exr"
    write_multi(path, rng)
    info = mio.probe(path)
    assert info.layers == MULTI_LAYERS
    assert info.layer_windows == {
        "rgba": (0, 0, W, H),
        "diffuse": (3, 2, W - 4, H - 1),
        "specular": (-5, -3, W + 2, H),
        "depth": (0, 4, W, H - 6),
        "N": (1, 1, 9, 8),
    }
    assert info.data_window == (0, 0, W, H)  # the main part's
    assert info.channels == ("R", "G", "B", "A")


def test_multi_part_without_a_main_part(tmp_path, rng, read_mode):
    """No part is rgba/beauty/unnamed or has R, G, B: data_window is all parts' union and
    rgba comes from the first part, as read_image always read it."""
    path = tmp_path / "aovs.exr"
    normals = random_pixels(rng, 3, 10, 12)
    depth = random_pixels(rng, 1, 5, 6)
    write_parts(path, [("N", ("X", "Y", "Z"), normals, (2, 3)),
                       ("depth", ("Z",), depth, (20, 1))])  # fmt: skip
    planes, windows, info = mio.read_layers(path, None)
    assert info.layers == (
        ("rgba", ("R", "G", "B", "A")),
        ("N", ("N.X", "N.Y", "N.Z")),
        ("depth", ("depth.Z",)),
    )
    assert info.data_window == (2, 1, 26, 13)
    assert windows == {"rgba": (2, 3, 14, 13), "N": (2, 3, 14, 13), "depth": (20, 1, 26, 6)}
    for component in range(3):  # the part's Y is grey, by read_image's rules
        np.testing.assert_array_equal(planes["rgba"][..., component], normals[..., 1])
    np.testing.assert_array_equal(planes["depth"][..., 0], depth[..., 0])


def test_first_part_with_rgb_is_the_main_part(tmp_path, rng, read_mode):
    """Without a part named rgba/beauty/nothing, the first part with R, G or B feeds rgba;
    its name still names its own layer."""
    path = tmp_path / "passes.exr"
    depth = random_pixels(rng, 1)
    diffuse = random_pixels(rng, 3)
    write_parts(path, [("depth", ("Z",), depth, (0, 0)),
                       ("diffuse", ("R", "G", "B"), diffuse, (0, 0))])  # fmt: skip
    planes, _, info = mio.read_layers(path, None)
    assert [layer for layer, _ in info.layers] == ["rgba", "depth", "diffuse"]
    np.testing.assert_array_equal(planes["rgba"][..., :3], diffuse)
    assert np.all(planes["rgba"][..., 3] == 1.0)
    np.testing.assert_array_equal(planes["diffuse"][..., :3], diffuse)
    np.testing.assert_array_equal(mio.read_image(path)[0], planes["rgba"])


def test_tiff_extra_channels(tmp_path, rng, read_mode):
    path = tmp_path / "extra.tif"
    pixels = random_pixels(rng, 6)
    write_parts(path, [(None, ("R", "G", "B", "A", "E1", "E2"), pixels, (0, 0))])
    names = oiio_parts(path)[0][1]
    extras = [name for name in names if name not in ("R", "G", "B", "A")]
    assert len(extras) == 2
    planes, windows, info = mio.read_layers(path, None)
    assert info.layers == (
        ("rgba", ("R", "G", "B", "A")),
        ("other", tuple(f"other.{name}" for name in extras)),
    )
    reference = {name: (values, (0, 0, W, H)) for name, values in names.items()}
    reference.update({f"other.{name}": reference[name] for name in extras})
    check_planes({"other": planes["other"]}, windows, info, reference)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        # canonical order within a layer, whatever order the file lists
        ([Part("", ("diffuse.B", "diffuse.G", "diffuse.R", "motion.v", "motion.U"))],
         [("diffuse", ("diffuse.R", "diffuse.G", "diffuse.B")),
          ("motion", ("motion.U", "motion.v"))]),
        ([Part("", ("P.W", "P.Z", "P.Y", "P.X", "c.q", "c.a"))],
         [("P", ("P.X", "P.Y", "P.Z", "P.W")), ("c", ("c.q", "c.a"))]),
        # a layer lives in the first part naming it; a repeated channel name is left out
        ([Part("rgba", ("R", "G", "B", "Z", "depth.Z")), Part("depth", ("Z",))],
         [("depth", ("depth.Z",))]),
        # a non-main part named beauty names its layer; a deep part holds none
        ([Part("rgba", ("R", "G", "B")), Part("beauty", ("R", "G", "B")),
          Part("deep", ("Z",), deep=True)],
         [("beauty", ("beauty.R", "beauty.G", "beauty.B"))]),
    ],
)  # fmt: skip
def test_layer_naming_rules(parts, expected):
    layout = layer_layout(parts)
    assert list(layout.layers) == [("rgba", ("R", "G", "B", "A"))] + expected


def test_info_pickles_and_hashes(tmp_path, rng):
    path = tmp_path / "multi.exr"
    write_multi(path, rng)
    info = mio.probe(path)
    assert pickle.loads(pickle.dumps(info)) == info
    hash(info)


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize("tiled", [False, True])
def test_read_layers_matches_oiio(tmp_path, rng, read_mode, tiled):
    path = tmp_path / "render.exr"
    write_render(path, rng, tiled=tiled)
    reference = {name: (values, (0, 0, W, H)) for name, values in oiio_parts(path)[0][1].items()}
    planes, windows, info = mio.read_layers(path, None)
    assert list(planes) == [layer for layer, _ in RENDER_LAYERS]
    check_planes(planes, windows, info, reference)
    np.testing.assert_array_equal(planes["rgba"], mio.read_image(path)[0])


@pytest.mark.parametrize("tiled", [False, True])
def test_read_layers_multi_part_matches_oiio(tmp_path, rng, read_mode, tiled):
    path = tmp_path / "multi.exr"
    write_multi(path, rng, tiled=tiled)
    planes, windows, info = mio.read_layers(path, ["N", "specular", "rgba", "diffuse", "depth"])
    assert list(planes) == ["N", "specular", "rgba", "diffuse", "depth"]
    check_planes(planes, windows, info, multi_reference(path))


@pytest.mark.parametrize("region", [(2, 3, 30, 20), (-10, -10, 5, 6), (30, 0, 60, 9)])
def test_region_reads(tmp_path, rng, read_mode, region):
    path = tmp_path / "multi.exr"
    write_multi(path, rng, tiled=True)
    planes, windows, info = mio.read_layers(path, None, region=region)
    check_planes(planes, windows, info, multi_reference(path), region)
    render = tmp_path / "render.exr"
    write_render(render, rng)
    reference = {n: (v, (0, 0, W, H)) for n, v in oiio_parts(render)[0][1].items()}
    planes, windows, info = mio.read_layers(render, ["motion", "rgba"], region=region)
    check_planes(planes, windows, info, reference, region)


def test_rgba_plane_is_read_image(tmp_path, rng, read_mode):
    """Unassociated alpha is premultiplied in rgba only; extra layers come as stored."""
    path = tmp_path / "straight.tif"
    pixels = rng.random((H, W, 5), dtype=np.float32)
    write_parts(path, [(None, ("R", "G", "B", "A", "E"), pixels, (0, 0))], datatype="uint16",
                attributes={"oiio:UnassociatedAlpha": 1})  # fmt: skip
    planes, _, _ = mio.read_layers(path, None)
    np.testing.assert_array_equal(planes["rgba"], mio.read_image(path)[0])
    spec = oiio.ImageSpec()
    spec.attribute("oiio:UnassociatedAlpha", 1)
    buf = oiio.ImageBuf(str(path), 0, 0, spec)  # as stored: not premultiplied by OIIO
    names = buf.spec().channelnames
    stored = np.asarray(buf.get_pixels(oiio.FLOAT)).reshape(H, W, -1)
    np.testing.assert_array_equal(planes["rgba"][..., 3], stored[..., 3])
    np.testing.assert_allclose(planes["rgba"][..., :3], stored[..., :3] * stored[..., 3:4],
                               rtol=1e-6)  # fmt: skip
    assert names[4] != "A"
    np.testing.assert_array_equal(planes["other"][..., 0], stored[..., 4])


@pytest.fixture
def read_calls(monkeypatch):
    """Decode in this process and record each read's (subimage, first channel, end)."""
    monkeypatch.setattr(mio, "IN_PROCESS", True)
    calls = []
    scanlines, tiles = oiio.ImageInput.read_scanlines, oiio.ImageInput.read_tiles

    def spy_scanlines(self, subimage, miplevel, ybegin, yend, z, chbegin, chend, *rest):
        calls.append((subimage, chbegin, chend))
        return scanlines(self, subimage, miplevel, ybegin, yend, z, chbegin, chend, *rest)

    def spy_tiles(self, subimage, miplevel, *args):
        calls.append((subimage, args[6], args[7]))
        return tiles(self, subimage, miplevel, *args)

    monkeypatch.setattr(oiio.ImageInput, "read_scanlines", spy_scanlines)
    monkeypatch.setattr(oiio.ImageInput, "read_tiles", spy_tiles)
    return calls


@pytest.mark.parametrize("tiled", [False, True])
def test_only_requested_channels_are_decoded(tmp_path, rng, read_calls, tiled):
    path = tmp_path / "render.exr"
    write_render(path, rng, tiled=tiled)
    order = list(oiio_parts(path)[0][1])  # OIIO's channel order
    mio.read_layers(path, ["depth"])
    assert read_calls == [(0, order.index("depth.Z"), order.index("depth.Z") + 1)]
    read_calls.clear()
    mio.read_layers(path, ["motion", "N"])
    wanted = [order.index(c) for c in ("motion.u", "motion.v", "N.X", "N.Y", "N.Z")]
    assert read_calls == [(0, min(wanted), max(wanted) + 1)]  # one read for both
    read_calls.clear()
    mio.read_image(path)
    assert read_calls == [(0, 0, 4)]


def test_multi_part_reads_each_part_once(tmp_path, rng, read_calls):
    path = tmp_path / "multi.exr"
    write_multi(path, rng)
    mio.read_layers(path, ["depth", "specular"])
    assert sorted(read_calls) == [(2, 0, 3), (3, 0, 1)]
    read_calls.clear()
    mio.read_image(path)
    assert read_calls == [(0, 0, 4)]


def test_repeated_reads_through_the_arena(tmp_path, rng, monkeypatch):
    """Several planes come back through the worker's arena: the same values each time."""
    monkeypatch.setattr(mio, "IN_PROCESS", False)
    path = tmp_path / "render.exr"
    write_render(path, rng)
    mio.shutdown_worker()
    first, _, _ = mio.read_layers(path, None)  # a block of its own, then an arena
    second, _, _ = mio.read_layers(path, None)  # through the arena
    smaller, _, _ = mio.read_layers(path, ["depth", "rgba"], region=(0, 0, 9, 9))
    for layer in first:
        np.testing.assert_array_equal(first[layer], second[layer])
    np.testing.assert_array_equal(smaller["depth"], first["depth"][:9, :9])
    np.testing.assert_array_equal(smaller["rgba"], first["rgba"][:9, :9])


def test_empty_region(tmp_path, rng, read_mode):
    path = tmp_path / "multi.exr"
    write_multi(path, rng)
    planes, windows, _ = mio.read_layers(path, ["N", "rgba"], region=(20, 20, 30, 30))
    assert planes["N"].shape[0] * planes["N"].shape[1] == 0
    assert planes["rgba"].shape == (3, 10, 4) and windows["rgba"] == (20, 20, 30, 23)


# --------------------------------------------------------------------------- errors


def test_unknown_layer(tmp_path, rng, read_mode):
    path = tmp_path / "render.exr"
    write_render(path, rng)
    with pytest.raises(mio.ImageIOError) as caught:
        mio.read_layers(path, ["rgba", "albedo"])
    assert str(caught.value) == (
        f"{path}: no layer 'albedo' (the file has rgba, N, depth, diffuse, motion, specular)"
    )


def test_truncated_layered_file_is_a_clean_error(tmp_path, rng, read_mode):
    path = tmp_path / "multi.exr"
    write_multi(path, rng)
    data = path.read_bytes()
    cut = tmp_path / "cut.exr"
    cut.write_bytes(data[: int(len(data) * 0.8)])
    with pytest.raises(mio.ImageIOError) as caught:
        mio.read_layers(cut, None)
    assert str(caught.value).startswith(str(cut)) and "\n" not in str(caught.value)


def test_decoder_crash_during_layers_is_an_error(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(mio, "IN_PROCESS", False)
    monkeypatch.setenv("MATTEBOX_IO_TEST_HOOKS", "1")
    mio.shutdown_worker()
    try:
        path = tmp_path / "render.exr"
        write_render(path, rng)
        before, _, _ = mio.read_layers(path, ["diffuse"])
        with pytest.raises(mio.ImageIOError, match="decoder crashed"):
            mio._crash_worker(str(path), signal.SIGSEGV)
        after, _, _ = mio.read_layers(path, ["diffuse"])
        np.testing.assert_array_equal(before["diffuse"], after["diffuse"])
    finally:
        mio.shutdown_worker()


def test_layers_into_a_png_are_refused(tmp_path, rng):
    pixels = rng.random((H, W, 4), dtype=np.float32)
    layers = [("diffuse", ("diffuse.R", "diffuse.G", "diffuse.B"), pixels),
              ("depth", ("depth.Z",), pixels)]  # fmt: skip
    path = tmp_path / "out.png"
    with pytest.raises(mio.ImageIOError) as caught:
        mio.write_image(path, pixels, (0, 0, W, H), (W, H), datatype="uint8", layers=layers)
    assert str(caught.value) == (
        f"{path}: only OpenEXR holds layers; write diffuse, depth to an .exr"
    )
    with pytest.raises(mio.ImageIOError, match="only OpenEXR"):
        mio.write_image(tmp_path / "out.tif", pixels, (0, 0, W, H), (W, H), multipart=True)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("layers", "problem"),
    [
        ([("rgba", ("X",), None)], "the main layer is written from pixels"),
        ([("", ("X",), None)], "expected a non-empty string"),
        ([("d", ("d.Z",), None), ("d", ("e.Z",), None)], "given twice"),
        ([("d", ("A",), None)], "'A' is empty or taken"),
        ([("d", ("d.1", "d.2", "d.3", "d.4", "d.5"), None)], "5 channels"),
        ([("d", ("d.Z",), np.zeros((H, W, 3), np.float32))], "shape (23, 37, 3)"),
        ([("d", ("d.Z",))], "(name, channel names, plane)"),
    ],
)
def test_bad_layers_are_refused(tmp_path, rng, layers, problem):
    pixels = rng.random((H, W, 4), dtype=np.float32)
    layers = [tuple(pixels if v is None else v for v in entry) for entry in layers]
    with pytest.raises(mio.ImageIOError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        mio.write_image(tmp_path / "out.exr", pixels, (0, 0, W, H), (W, H), layers=layers)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- round trips


def as_stored(values, datatype):
    """What a file of ``datatype`` holds for float32 ``values``."""
    return values.astype(np.float16).astype(np.float32) if datatype == "half" else values


def layer_arguments(planes, info):
    """read_layers' result as write_image's ``layers`` argument."""
    return [(layer, channels, planes[layer]) for layer, channels in info.layers[1:]]


@pytest.mark.parametrize("datatype", ["float", "half"])
@pytest.mark.parametrize("tiled", [False, True])
def test_round_trip_single_part(tmp_path, rng, read_mode, datatype, tiled):
    source = tmp_path / "render.exr"
    write_render(source, rng)
    planes, windows, info = mio.read_layers(source, None)
    target = tmp_path / "copy.exr"
    mio.write_image(target, planes["rgba"], windows["rgba"], (W, H), datatype=datatype,
                    tiled=tiled, tile_size=16, layers=layer_arguments(planes, info))  # fmt: skip
    [(_, written, window)] = oiio_parts(target)
    [(_, original, _)] = oiio_parts(source)
    assert window == (0, 0, W, H)
    assert sorted(written) == sorted(original)
    for name, values in original.items():
        np.testing.assert_array_equal(written[name], as_stored(values, datatype), err_msg=name)
    assert mio.probe(target).layers == RENDER_LAYERS


@pytest.mark.parametrize("datatype", ["float", "half"])
def test_round_trip_multi_part(tmp_path, rng, read_mode, datatype):
    """A multi-part file read and written back: one part per layer, each named after
    it, channel names prefixed, every part on the main layer's data window."""
    source = tmp_path / "render.exr"
    values = write_render(source, rng)
    planes, windows, info = mio.read_layers(source, None)
    target = tmp_path / "parts.exr"
    mio.write_image(target, planes["rgba"], windows["rgba"], (W, H), datatype=datatype,
                    layers=layer_arguments(planes, info), multipart=True)  # fmt: skip
    parts = oiio_parts(target)
    assert [(name, tuple(channels)) for name, channels, _ in parts] == list(RENDER_LAYERS)
    for _, channels, window in parts:
        assert window == (0, 0, W, H)
        for name, written in channels.items():
            np.testing.assert_array_equal(written, as_stored(values[name], datatype), name)
    assert mio.probe(target).layers == RENDER_LAYERS


def test_multi_part_file_round_trip(tmp_path, rng, read_mode):
    """Named parts with prefix-less channels come back as prefixed channels, bit for bit,
    on the written data window (the main layer's)."""
    source = tmp_path / "multi.exr"
    write_multi(source, rng)
    reference = multi_reference(source)
    planes, windows, info = mio.read_layers(source, None, region=(0, 0, W, H))
    # every plane on the main layer's window (write_image takes one data window)
    padded = {}
    for layer, plane in planes.items():
        full = np.zeros((H, W, 4), np.float32)
        x0, y0, x1, y1 = windows[layer]
        full[y0:y1, x0:x1] = plane
        padded[layer] = full
    target = tmp_path / "copy.exr"
    mio.write_image(target, padded["rgba"], (0, 0, W, H), (W, H), datatype="float",
                    layers=layer_arguments(padded, info), multipart=True)  # fmt: skip
    assert mio.probe(target).layers == MULTI_LAYERS
    written = {name: values for _, channels, _ in oiio_parts(target)
               for name, values in channels.items()}  # fmt: skip
    for name, (values, window) in reference.items():
        x0, y0, x1, y1 = mio.info._intersect(window, (0, 0, W, H))
        part = values[y0 - window[1] : y1 - window[1], x0 - window[0] : x1 - window[0]]
        np.testing.assert_array_equal(written[name][y0:y1, x0:x1], part, err_msg=name)
        outside = np.ones((H, W), bool)
        outside[y0:y1, x0:x1] = False
        assert not written[name][outside].any(), name


def test_split_layers_share_a_part(tmp_path, rng):
    """A layer split in fours (wide, wide#2) is written to one part and read back split."""
    pixels = rng.random((H, W, 4), dtype=np.float32)
    first, second = rng.random((H, W, 4), dtype=np.float32), rng.random((H, W, 4), np.float32)
    names = tuple(f"wide.c{i}" for i in range(1, 7))
    layers = [("wide", names[:4], first), ("wide#2", names[4:], second)]
    path = tmp_path / "wide.exr"
    mio.write_image(path, pixels, (0, 0, W, H), (W, H), datatype="float", layers=layers,
                    multipart=True)  # fmt: skip
    assert [(name, tuple(c)) for name, c, _ in oiio_parts(path)] == [
        ("rgba", ("R", "G", "B", "A")),
        ("wide", names),
    ]
    planes, _, info = mio.read_layers(path, None)
    assert info.layers[1:] == (("wide", names[:4]), ("wide#2", names[4:]))
    np.testing.assert_array_equal(planes["wide"], first)
    np.testing.assert_array_equal(planes["wide#2"][..., :2], second[..., :2])
    assert not planes["wide#2"][..., 2:].any()
