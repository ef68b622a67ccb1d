"""Tests for mattebox.engine.io: sequences, round trips, windows, regions, atomic writes,
damaged files and decoder crash isolation.

References are computed here with numpy from the formats' definitions (float16 rounding,
n-bit quantisation, unassociated alpha), on random data, never from the code under test.
"""

import os
import signal
import threading

import numpy as np
import OpenImageIO as oiio
import pytest

from mattebox.engine import io as mio

W, H = 37, 23  # odd sizes on purpose: not multiples of tiles, chunks or 3


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def random_premultiplied(rng, height=H, width=W, colour_range=(-0.2, 1.5)):
    """Random RGBA with alpha in [0, 1] (some exact 0 and 1) and colour = unpremult * a."""
    alpha = rng.random((height, width, 1), dtype=np.float32)
    alpha.flat[::11] = 0.0
    alpha.flat[::13] = 1.0
    low, high = colour_range
    colour = (rng.random((height, width, 3), dtype=np.float32) * (high - low) + low) * alpha
    return np.concatenate([colour, alpha], axis=2).astype(np.float32)


def write_raw(path, pixels, channels, datatype, attributes=None, window=None, size=None):
    """Write a file with OpenImageIO directly (to test reading files we did not write)."""
    height, width, count = pixels.shape
    spec = oiio.ImageSpec(width, height, count, datatype)
    spec.channelnames = tuple(channels)
    if window is not None:
        spec.x, spec.y = window[0], window[1]
    if size is not None:
        spec.full_x, spec.full_y, spec.full_width, spec.full_height = 0, 0, size[0], size[1]
    for key, value in (attributes or {}).items():
        spec.attribute(key, value)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec), out.geterror()
    assert out.write_image(np.ascontiguousarray(pixels)), out.geterror()
    out.close()


def quantisation_check(result, reference, levels, step_tolerance=0.5):
    """Result is within ``step_tolerance`` steps of reference and lies on the n-level grid."""
    reference = np.clip(reference, 0.0, 1.0)
    assert np.abs(result - reference).max() <= step_tolerance / levels + 1e-6
    on_grid = np.abs(result * levels - np.round(result * levels))
    assert on_grid.max() < 0.1  # DPX 10/12-bit read back bit-replicated to 16 bits (<0.07)


def hidden_files(folder):
    return [name for name in os.listdir(folder) if name.startswith(".")]


@pytest.fixture(params=["worker", "in-process"])
def read_mode(request, monkeypatch):
    """Run a test through the decoder process and in this process."""
    monkeypatch.setattr(mio, "IN_PROCESS", request.param == "in-process")
    return request.param


# --------------------------------------------------------------------------- sequences


@pytest.mark.parametrize(
    ("pattern", "frame", "expected"),
    [
        ("plate.####.exr", 1, "plate.0001.exr"),
        ("plate.#.exr", 1, "plate.1.exr"),
        ("plate.#.exr", 1234, "plate.1234.exr"),
        ("plate.##.exr", 12345, "plate.12345.exr"),
        ("plate.%04d.exr", 12, "plate.0012.exr"),
        ("plate.%d.exr", 7, "plate.7.exr"),
        ("plate.####.exr", -5, "plate.-0005.exr"),
        ("plate.%03d.exr", -7, "plate.-007.exr"),
        ("plate.#.exr", -3, "plate.-3.exr"),
        ("shots/###/plate.####.exr", 42, "shots/042/plate.0042.exr"),
        ("plate.exr", 9, "plate.exr"),
        ("plate.%s.exr", 9, "plate.%s.exr"),
    ],
)
def test_expand_frame(pattern, frame, expected):
    assert mio.expand_frame(pattern, frame) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("a.####.exr", True), ("a.#.exr", True), ("a.%04d.exr", True), ("a.%d.exr", True),
     ("a.exr", False), ("a.%s.exr", False), ("a.%4d.exr", False)],
)  # fmt: skip
def test_is_sequence(pattern, expected):
    assert mio.is_sequence(pattern) is expected


# --------------------------------------------------------------------------- round trips

FLOAT_CASES = [
    ("exr", "half", "zip", False),
    ("exr", "half", "piz", True),
    ("exr", "half", "none", False),
    ("exr", "half", "zips", True),
    ("exr", "half", "rle", False),
    ("exr", "float", "zip", True),
    ("exr", "float", "piz", False),
    ("exr", "float", "none", True),
    ("tif", "float", "zip", False),
    ("tif", "float", "none", True),
    ("tif", "half", "lzw", False),
]


@pytest.mark.parametrize(("ext", "datatype", "compression", "tiled"), FLOAT_CASES)
def test_float_round_trip(tmp_path, rng, read_mode, ext, datatype, compression, tiled):
    pixels = random_premultiplied(rng) * 40.0  # wide range: exponents matter for half
    path = tmp_path / f"img.{ext}"
    mio.write_image(path, pixels, (0, 0, W, H), (W, H), datatype=datatype,
                    compression=compression, tiled=tiled, tile_size=16)  # fmt: skip
    result, window, info = mio.read_image(path)
    assert window == (0, 0, W, H)
    assert result.dtype == np.float32 and result.flags.c_contiguous
    assert (info.width, info.height, info.datatype, info.tiled) == (W, H, datatype, tiled)
    if datatype == "half":
        expected = pixels.astype(np.float16).astype(np.float32)
        np.testing.assert_allclose(result, expected, rtol=1e-3, atol=0)
        np.testing.assert_array_equal(result, expected)  # OIIO rounds like numpy
    else:
        np.testing.assert_array_equal(result, pixels)


@pytest.mark.parametrize(
    ("ext", "datatype", "levels"),
    [("tif", "uint8", 255), ("tif", "uint16", 65535), ("png", "uint8", 255),
     ("png", "uint16", 65535)],
)  # fmt: skip
def test_integer_round_trip_premultiplied_alpha(tmp_path, rng, read_mode, ext, datatype, levels):
    """TIFF stores premultiplied (associated) alpha; PNG stores unassociated alpha."""
    pixels = random_premultiplied(rng, colour_range=(-0.1, 1.3))
    path = tmp_path / f"img.{ext}"
    mio.write_image(path, pixels, (0, 0, W, H), (W, H), datatype=datatype)
    result, _, info = mio.read_image(path)
    assert info.datatype == datatype
    alpha = result[..., 3:]
    quantisation_check(alpha, pixels[..., 3:], levels)
    if ext == "tif":
        quantisation_check(result[..., :3], pixels[..., :3], levels)
        return
    # PNG: the file holds clamp(colour / alpha) quantised; we read it premultiplied by the
    # quantised alpha, in float (OpenImageIO's own premultiply rounds to the grid again).
    a = pixels[..., 3:].astype(np.float64)
    unpremultiplied = np.where(a > 0, np.clip(pixels[..., :3] / np.where(a > 0, a, 1), 0, 1), 0)
    error = np.abs(result[..., :3] - unpremultiplied * alpha)
    assert np.all(error <= (0.5 / levels + 1e-6) * alpha + 1e-6)
    assert np.all(result[..., :3][(pixels[..., 3] == 0)] == 0)


def test_png_premultiplied_image_round_trips_within_quantisation(tmp_path, rng):
    """A valid premultiplied image (colour <= alpha) survives PNG within one 8-bit step."""
    pixels = random_premultiplied(rng, colour_range=(0.0, 1.0))
    mio.write_image(tmp_path / "a.png", pixels, (0, 0, W, H), (W, H), datatype="uint8")
    result, _, _ = mio.read_image(tmp_path / "a.png")
    assert np.abs(result - pixels).max() <= 1.0 / 255 + 1e-6


@pytest.mark.parametrize(
    ("datatype", "levels", "steps"),
    [("uint8", 255, 0.5), ("uint16", 65535, 0.5), ("uint10", 1023, 1.0), ("uint12", 4095, 1.0)],
)
def test_dpx_round_trip(tmp_path, rng, read_mode, datatype, levels, steps):
    """DPX stores RGB; 10/12-bit values are truncated by OIIO, so allow one full step."""
    pixels = random_premultiplied(rng, colour_range=(-0.1, 1.2))
    path = tmp_path / "img.dpx"
    mio.write_image(path, pixels, (0, 0, W, H), (W, H), datatype=datatype)
    result, _, info = mio.read_image(path)
    assert info.datatype == datatype and info.channels == ("R", "G", "B")
    quantisation_check(result[..., :3], pixels[..., :3], levels, steps)
    assert np.all(result[..., 3] == 1.0)


def test_jpeg_drops_alpha_and_keeps_premultiplied_colour(tmp_path, rng):
    pixels = random_premultiplied(rng, colour_range=(0.0, 1.0))
    path = tmp_path / "img.jpg"
    mio.write_image(path, pixels, (0, 0, W, H), (W, H), datatype="uint8",
                    compression="jpeg:100", metadata={"jpeg:subsampling": "4:4:4"})  # fmt: skip
    result, _, info = mio.read_image(path)
    assert info.channels == ("R", "G", "B") and np.all(result[..., 3] == 1.0)
    error = np.abs(result[..., :3] - np.round(pixels[..., :3] * 255) / 255) * 255
    assert error.max() <= 4 and error.mean() < 1.0  # lossy even at quality 100 on noise


def test_lossy_exr_compressions_stay_close(tmp_path, rng):
    """dwaa/b44 are lossy: check they write and read back near the input."""
    pixels = random_premultiplied(rng, colour_range=(0.0, 1.0))
    for compression in ("dwaa:45", "b44", "pxr24", "zip:9"):
        path = tmp_path / f"{compression.replace(':', '_')}.exr"
        mio.write_image(path, pixels, (0, 0, W, H), (W, H), compression=compression)
        result, _, info = mio.read_image(path)
        assert info.metadata.get("compression") == compression.split(":")[0]
        assert np.abs(result - pixels).mean() < 0.05


# --------------------------------------------------------------------------- windows


@pytest.mark.parametrize("tiled", [False, True])
def test_exr_data_window_outside_display_window(tmp_path, rng, read_mode, tiled):
    size = (20, 10)
    window = (-5, -7, 32, 16)  # negative offsets, larger than the display window
    pixels = random_premultiplied(rng, window[3] - window[1], window[2] - window[0])
    path = tmp_path / "overscan.exr"
    mio.write_image(path, pixels, window, size, datatype="float", tiled=tiled, tile_size=16,
                    pixel_aspect=2.0)  # fmt: skip
    result, read_window, info = mio.read_image(path)
    assert read_window == window and info.data_window == window
    assert (info.width, info.height, info.pixel_aspect) == (20, 10, 2.0)
    np.testing.assert_array_equal(result, pixels)
    assert mio.probe(path) == info


def test_exr_data_window_inside_display_window(tmp_path, rng, read_mode):
    window = (3, 2, 15, 9)
    pixels = random_premultiplied(rng, 7, 12)
    mio.write_image(tmp_path / "crop.exr", pixels, window, (W, H), datatype="float")
    result, read_window, info = mio.read_image(tmp_path / "crop.exr")
    assert read_window == window and (info.width, info.height) == (W, H)
    np.testing.assert_array_equal(result, pixels)


@pytest.mark.parametrize("ext", ["png", "tif", "dpx"])
def test_formats_without_data_window_store_the_display_window(tmp_path, rng, ext):
    window = (-4, 5, 30, 40)  # sticks out left and bottom
    pixels = random_premultiplied(rng, 35, 34, colour_range=(0.0, 1.0))
    datatype = "uint16"
    mio.write_image(tmp_path / f"a.{ext}", pixels, window, (W, H), datatype=datatype)
    result, read_window, _ = mio.read_image(tmp_path / f"a.{ext}")
    assert read_window == (0, 0, W, H)
    expected = np.zeros((H, W, 4), np.float32)
    expected[5:H, 0:30] = pixels[0 : H - 5, 4:34]
    if ext == "dpx":
        expected[..., 3] = 1.0  # RGB only
    assert np.abs(result - expected).max() <= 2.0 / 65535  # PNG: unassociated rounding


@pytest.mark.parametrize("tiled", [True, False])
def test_region_read(tmp_path, rng, read_mode, tiled):
    window = (-5, -7, 45, 33)
    pixels = random_premultiplied(rng, 40, 50)
    path = tmp_path / "tiles.exr"
    mio.write_image(path, pixels, window, (W, H), datatype="float", tiled=tiled, tile_size=16)
    for region in [(3, 2, 29, 20), (-5, -7, 45, 33), (-100, 10, 7, 200), (17, 16, 18, 17)]:
        result, read_window, _ = mio.read_image(path, region)
        x0, y0 = max(region[0], window[0]), max(region[1], window[1])
        x1, y1 = min(region[2], window[2]), min(region[3], window[3])
        assert read_window == (x0, y0, x1, y1)
        expected = pixels[y0 - window[1] : y1 - window[1], x0 - window[0] : x1 - window[0]]
        np.testing.assert_array_equal(result, expected)
    result, read_window, _ = mio.read_image(path, (100, 100, 120, 120))
    assert result.shape == (0, 0, 4) and read_window[2] == read_window[0]


def test_region_read_of_tiled_file_reads_only_needed_tiles(tmp_path, rng, monkeypatch):
    """The tiled path asks OIIO for the tiles covering the region, not the whole image."""
    monkeypatch.setattr(mio, "IN_PROCESS", True)
    pixels = random_premultiplied(rng, 64, 96)
    path = tmp_path / "big.exr"
    mio.write_image(path, pixels, (0, 0, 96, 64), (96, 64), tiled=True, tile_size=16)
    asked = []
    original = oiio.ImageInput.read_tiles

    def spy(self, *args):
        asked.append(args[2:6])
        return original(self, *args)

    monkeypatch.setattr(oiio.ImageInput, "read_tiles", spy)
    result, _, _ = mio.read_image(path, (20, 18, 40, 30))
    assert asked == [(16, 48, 16, 32)]
    np.testing.assert_array_equal(result, pixels[18:30, 20:40].astype(np.float16))


# --------------------------------------------------------------------------- channels


def test_channel_mapping(tmp_path, rng, read_mode):
    grey = rng.random((H, W, 1), dtype=np.float32)
    write_raw(tmp_path / "grey.exr", grey, ["Y"], "float")
    result, _, info = mio.read_image(tmp_path / "grey.exr")
    assert info.channels == ("Y",)
    np.testing.assert_array_equal(result[..., :3], np.repeat(grey, 3, axis=2))
    assert np.all(result[..., 3] == 1.0)

    rgb = rng.random((H, W, 3), dtype=np.float32)
    write_raw(tmp_path / "rgb.exr", rgb, ["R", "G", "B"], "float")
    result, _, _ = mio.read_image(tmp_path / "rgb.exr")
    np.testing.assert_array_equal(result[..., :3], rgb)
    assert np.all(result[..., 3] == 1.0)

    extra = rng.random((H, W, 6), dtype=np.float32)
    names = ["Z", "mask", "B", "A", "G", "R"]  # the file sorts them; we map by name
    write_raw(tmp_path / "extra.exr", extra, names, "float")
    result, _, info = mio.read_image(tmp_path / "extra.exr")
    assert sorted(info.channels) == sorted(names)
    expected = np.stack([extra[..., names.index(c)] for c in "RGBA"], axis=2)
    np.testing.assert_array_equal(result, expected)

    layered = rng.random((H, W, 4), dtype=np.float32)
    names = ["diffuse.A", "diffuse.B", "diffuse.G", "diffuse.R"]
    write_raw(tmp_path / "layer.exr", layered, names, "float")
    result, _, info = mio.read_image(tmp_path / "layer.exr")
    expected = np.stack([layered[..., names.index(f"diffuse.{c}")] for c in "RGBA"], axis=2)
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("ext", ["tif", "png"])
def test_unassociated_alpha_files_come_back_premultiplied(tmp_path, rng, read_mode, ext):
    """Files from other programs that store unassociated alpha read premultiplied."""
    unassociated = rng.random((H, W, 4), dtype=np.float32)
    write_raw(tmp_path / f"u.{ext}", unassociated, "RGBA", "uint16",
              {"oiio:UnassociatedAlpha": 1})  # fmt: skip
    result, _, _ = mio.read_image(tmp_path / f"u.{ext}")
    stored = np.round(unassociated * 65535) / 65535
    np.testing.assert_allclose(result[..., 3], stored[..., 3], atol=1e-6)
    np.testing.assert_allclose(result[..., :3], stored[..., :3] * stored[..., 3:], atol=2e-6)


def test_dpx_10bit_rgba_reader_bug_is_refused(tmp_path, rng, read_mode):
    """OIIO 3.2 decodes 10-bit RGBA DPX wrongly when width*4 % 3 == 1 (FACTS.md)."""
    pixels = rng.random((H, W, 4), dtype=np.float32)
    write_raw(tmp_path / "bug.dpx", pixels, "RGBA", "uint16", {"oiio:BitsPerSample": 10})
    with pytest.raises(mio.ImageIOError, match=r"bug\.dpx.*10-bit RGBA DPX"):
        mio.read_image(tmp_path / "bug.dpx")
    assert mio.probe(tmp_path / "bug.dpx").datatype == "uint10"  # probing is fine


def test_metadata_round_trip(tmp_path, rng, read_mode):
    pixels = random_premultiplied(rng)
    metadata = {"Copyright": "Mattebox tests", "mattebox:frame": 12, "mattebox:gain": 1.5}
    mio.write_image(tmp_path / "m.exr", pixels, (0, 0, W, H), (W, H), metadata=metadata)
    info = mio.probe(tmp_path / "m.exr")
    for key, value in metadata.items():
        assert info.metadata[key] == value
    assert info.file_format == "openexr" and info.metadata["compression"] == "zip"


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("a.png", {"datatype": "half"}, r"a\.png: png cannot store half"),
        ("a.jpg", {"datatype": "uint16"}, r"a\.jpg: jpeg cannot store uint16"),
        ("a.exr", {"datatype": "uint8"}, r"a\.exr: openexr cannot store uint8"),
        ("a.dpx", {"datatype": "half"}, r"a\.dpx: dpx cannot store half"),
        ("a.exr", {"compression": "lzw"}, r"a\.exr: openexr has no compression 'lzw'"),
        ("a.exr", {"compression": "zip:99"}, r"level must be 1\.\.9"),
        ("a.png", {"datatype": "uint8", "tiled": True}, r"png files cannot be tiled"),
        ("a.tif", {"datatype": "uint8", "tiled": True, "tile_size": 20}, r"multiple of 16"),
        ("a.bmp", {}, r"a\.bmp: cannot write files of type \.bmp"),
        ("a.exr", {"metadata": {"x": [1, "a"]}}, r"metadata 'x'"),
    ],
)
def test_write_refuses_bad_arguments_and_leaves_files_alone(tmp_path, rng, name, kwargs,
                                                            message):  # fmt: skip
    target = tmp_path / name
    target.write_bytes(b"precious")
    with pytest.raises(mio.ImageIOError, match=message) as caught:
        mio.write_image(target, random_premultiplied(rng), (0, 0, W, H), (W, H), **kwargs)
    assert "\n" not in str(caught.value)
    assert target.read_bytes() == b"precious"
    assert hidden_files(tmp_path) == []


def test_write_onto_a_folder_fails_cleanly(tmp_path, rng):
    (tmp_path / "out.exr").mkdir()
    with pytest.raises(mio.ImageIOError, match=r"out\.exr: cannot replace the file"):
        mio.write_image(tmp_path / "out.exr", random_premultiplied(rng), (0, 0, W, H), (W, H))
    assert hidden_files(tmp_path) == [] and (tmp_path / "out.exr").is_dir()


def test_write_is_atomic(tmp_path, rng, monkeypatch):
    """The image goes to a hidden sibling with the same extension, then is renamed."""
    target = tmp_path / "plate.0001.exr"
    target.write_bytes(b"old")
    renames = []

    def failing_replace(src, dst):
        renames.append((src, dst))
        assert os.path.isfile(src) and mio.probe(src).width == W  # complete before rename
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(mio.ImageIOError, match="No space left on device"):
        mio.write_image(target, random_premultiplied(rng), (0, 0, W, H), (W, H))
    [(src, dst)] = renames
    assert os.path.dirname(src) == str(tmp_path) and dst == str(target)
    assert os.path.basename(src).startswith(".") and src.endswith(".exr")
    assert target.read_bytes() == b"old" and hidden_files(tmp_path) == []

    monkeypatch.undo()
    pixels = random_premultiplied(rng)
    mio.write_image(target, pixels, (0, 0, W, H), (W, H), datatype="float")
    np.testing.assert_array_equal(mio.read_image(target)[0], pixels)
    assert sorted(os.listdir(tmp_path)) == ["plate.0001.exr"]


def test_write_creates_missing_folders(tmp_path, rng):
    path = tmp_path / "renders" / "shot010" / "beauty.0001.exr"
    pixels = random_premultiplied(rng)
    mio.write_image(path, pixels, (0, 0, W, H), (W, H), datatype="float")
    np.testing.assert_array_equal(mio.read_image(path)[0], pixels)


def test_write_checks_pixel_shape(tmp_path, rng):
    with pytest.raises(mio.ImageIOError, match=r"shape \(23, 37, 4\).*\(23, 36, 4\)"):
        mio.write_image(tmp_path / "a.exr", random_premultiplied(rng), (0, 0, 36, 23), (W, H))


# --------------------------------------------------------------------------- damaged files


def test_missing_and_unreadable_files(tmp_path, read_mode):
    with pytest.raises(mio.ImageIOError, match=r"nothere\.exr: file not found"):
        mio.read_image(tmp_path / "nothere.exr")
    with pytest.raises(mio.ImageIOError, match=r"is a folder"):
        mio.probe(tmp_path)
    garbage = tmp_path / "garbage.exr"
    garbage.write_bytes(np.random.default_rng(3).bytes(4000))
    with pytest.raises(mio.ImageIOError, match=r"garbage\.exr: ") as caught:
        mio.read_image(garbage)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("tiled", [False, True])
def test_truncated_exr_is_a_clean_error(tmp_path, rng, read_mode, tiled):
    good = tmp_path / "good.exr"
    mio.write_image(good, random_premultiplied(rng, 64, 64), (0, 0, 64, 64), (64, 64),
                    tiled=tiled, tile_size=16)  # fmt: skip
    data = good.read_bytes()
    for fraction in (0.5, 0.9, 0.02):
        cut = tmp_path / f"cut{fraction}.exr"
        cut.write_bytes(data[: int(len(data) * fraction)])
        with pytest.raises(mio.ImageIOError) as caught:
            mio.read_image(cut)
        message = str(caught.value)
        assert message.startswith(str(cut)) and "\n" not in message
    assert mio.read_image(good)[0].shape == (64, 64, 4)


def test_probe_remembers_an_unchanged_file_and_sees_a_rewritten_one(tmp_path, rng, monkeypatch):
    """The viewer evaluates its graph at every slider step: an unchanged file's header is
    read once; a file written again (other size, inode or times) is read again."""
    monkeypatch.setattr(mio, "IN_PROCESS", False)
    path = tmp_path / "plate.exr"
    mio.write_image(path, random_premultiplied(rng, 8, 12), (0, 0, 12, 8), (12, 8))
    asked = []
    request = mio._worker.request
    monkeypatch.setattr(mio._worker, "request", lambda msg, p: asked.append(msg) or request(msg, p))
    first = mio.probe(path)
    assert (first.width, first.height) == (12, 8)
    first.metadata["changed by a caller"] = 1  # a caller's copy: the next one is clean
    again = mio.probe(str(path))
    assert "changed by a caller" not in again.metadata and len(asked) == 1
    assert again.layers == first.layers and again.data_window == first.data_window
    mio.write_image(path, random_premultiplied(rng, 20, 30), (0, 0, 30, 20), (30, 20))
    again = mio.probe(path)
    assert (again.width, again.height) == (30, 20) and len(asked) == 2
    path.unlink()
    with pytest.raises(mio.ImageIOError, match="file not found"):
        mio.probe(path)


# --------------------------------------------------------------------------- the worker


@pytest.fixture
def hooked_worker(monkeypatch):
    """A fresh decoder process with the crash test hook enabled; a plain one afterwards."""
    monkeypatch.setattr(mio, "IN_PROCESS", False)
    monkeypatch.setenv("MATTEBOX_IO_TEST_HOOKS", "1")
    mio.shutdown_worker()
    yield
    mio.shutdown_worker()


@pytest.mark.parametrize("signum", [signal.SIGSEGV, signal.SIGFPE])
def test_decoder_crash_becomes_an_error_and_the_next_read_works(tmp_path, rng, hooked_worker,
                                                                signum):  # fmt: skip
    pixels = random_premultiplied(rng)
    path = tmp_path / "a.exr"
    mio.write_image(path, pixels, (0, 0, W, H), (W, H), datatype="float")
    np.testing.assert_array_equal(mio.read_image(path)[0], pixels)
    first = mio._worker.pid
    assert first is not None and first != os.getpid()
    with pytest.raises(mio.ImageIOError) as caught:
        mio._crash_worker(str(path), signum)
    assert str(caught.value) == (
        f"{path}: decoder crashed (signal {int(signum)}, {signum.name}) reading {path}"
    )
    np.testing.assert_array_equal(mio.read_image(path)[0], pixels)
    assert mio._worker.pid not in (None, first)


def test_worker_killed_while_idle_is_restarted(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(mio, "IN_PROCESS", False)
    pixels = random_premultiplied(rng)
    mio.write_image(tmp_path / "a.exr", pixels, (0, 0, W, H), (W, H), datatype="float")
    mio.read_image(tmp_path / "a.exr")
    pid = mio._worker.pid
    os.kill(pid, signal.SIGKILL)
    mio._worker._process.join(5)
    np.testing.assert_array_equal(mio.read_image(tmp_path / "a.exr")[0], pixels)
    assert mio._worker.pid != pid


def test_crash_hook_is_off_by_default(tmp_path, monkeypatch):
    monkeypatch.setattr(mio, "IN_PROCESS", False)
    monkeypatch.delenv("MATTEBOX_IO_TEST_HOOKS", raising=False)
    mio.shutdown_worker()
    with pytest.raises(mio.ImageIOError, match="unknown request 'crash'"):
        mio._crash_worker(str(tmp_path / "x.exr"))
    assert mio._worker.pid is not None  # still alive


def _pool_block_names(worker) -> set[str]:
    pool = worker._pool
    pool.offers()  # take back what was given back
    return {block.name for block in [*pool._free, *pool._leased]}


def test_pixels_are_the_shared_memory_and_blocks_are_reused(tmp_path, rng, monkeypatch):
    """The engine's array is the block the decoder wrote (no copy); freed, the block is
    the next read's; a shut-down worker leaves no block behind, even one still viewed."""
    monkeypatch.setattr(mio, "IN_PROCESS", False)
    pixels = random_premultiplied(rng)
    mio.write_image(tmp_path / "a.exr", pixels, (0, 0, W, H), (W, H), datatype="float")
    mio.shutdown_worker()
    first, _, _ = mio.read_image(tmp_path / "a.exr")
    np.testing.assert_array_equal(first, pixels)
    (block,) = mio._worker._pool._leased
    assert np.shares_memory(first, np.frombuffer(block.mapping, np.uint8))
    assert os.path.exists(f"/dev/shm/{block.name}")
    second, _, _ = mio.read_image(tmp_path / "a.exr")  # the first block is still in use
    assert not np.shares_memory(first, second)
    names = _pool_block_names(mio._worker)
    assert len(names) == 2
    del first, second  # both blocks come back to the pool
    third, _, _ = mio.read_image(tmp_path / "a.exr")
    np.testing.assert_array_equal(third, pixels)
    assert _pool_block_names(mio._worker) == names  # reused: no new block
    mio.shutdown_worker()
    assert not any(os.path.exists(f"/dev/shm/{name}") for name in names)
    np.testing.assert_array_equal(third, pixels)  # still readable after the unlink
    del third
    assert mio._worker._pool.offers() == []


def test_pool_keeps_a_bounded_number_of_free_bytes(tmp_path, rng, monkeypatch):
    """Blocks freed beyond the pool's budget are removed, largest first, and the
    decoder is told to drop its mapping of them."""
    monkeypatch.setattr(mio, "IN_PROCESS", False)
    small, big = random_premultiplied(rng), random_premultiplied(rng, 2 * H, 2 * W)
    mio.write_image(tmp_path / "s.exr", small, (0, 0, W, H), (W, H), datatype="float")
    mio.write_image(tmp_path / "b.exr", big, (0, 0, 2 * W, 2 * H), (2 * W, 2 * H),
                    datatype="float")  # fmt: skip
    mio.shutdown_worker()
    pool = mio._worker._pool
    monkeypatch.setattr(pool, "keep_bytes", small.nbytes + 8192)  # room for the small one
    a, _, _ = mio.read_image(tmp_path / "s.exr")
    b, _, _ = mio.read_image(tmp_path / "b.exr")
    np.testing.assert_array_equal(b, big)
    big_name = next(blk.name for blk in pool._leased if blk.size >= big.nbytes)
    del a, b
    assert [size for _, size in pool.offers()] == [small.nbytes]
    assert not os.path.exists(f"/dev/shm/{big_name}")
    assert pool.dropped() == [big_name]
    mio.shutdown_worker()


def test_concurrent_reads(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(mio, "IN_PROCESS", False)
    images = {}
    for index in range(4):
        pixels = random_premultiplied(rng)
        path = tmp_path / f"img{index}.exr"
        mio.write_image(path, pixels, (0, 0, W, H), (W, H), datatype="float")
        images[path] = pixels
    failures = []

    def reader():
        try:
            for _ in range(5):
                for path, pixels in images.items():
                    np.testing.assert_array_equal(mio.read_image(path, (2, 3, 30, 20))[0],
                                                  pixels[3:20, 2:30])  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            failures.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_forked_child_starts_its_own_worker(tmp_path, rng, monkeypatch):
    """A process forked after the worker started must not share the parent's pipe."""
    monkeypatch.setattr(mio, "IN_PROCESS", False)
    pixels = random_premultiplied(rng)
    mio.write_image(tmp_path / "a.exr", pixels, (0, 0, W, H), (W, H), datatype="float")
    mio.read_image(tmp_path / "a.exr")
    parent_worker = mio._worker.pid
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            same = np.array_equal(mio.read_image(tmp_path / "a.exr")[0], pixels)
            code = 0 if same and mio._worker.pid not in (None, parent_worker) else 2
            mio.shutdown_worker()
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    np.testing.assert_array_equal(mio.read_image(tmp_path / "a.exr")[0], pixels)
    assert mio._worker.pid == parent_worker


def test_in_process_switch_starts_no_worker(tmp_path, rng, monkeypatch):
    mio.shutdown_worker()
    monkeypatch.setattr(mio, "IN_PROCESS", False)
    monkeypatch.setenv("MATTEBOX_IO_INPROCESS", "1")
    pixels = random_premultiplied(rng)
    mio.write_image(tmp_path / "a.exr", pixels, (0, 0, W, H), (W, H), datatype="float")
    np.testing.assert_array_equal(mio.read_image(tmp_path / "a.exr")[0], pixels)
    assert mio.probe(tmp_path / "a.exr").width == W
    assert mio._worker.pid is None
