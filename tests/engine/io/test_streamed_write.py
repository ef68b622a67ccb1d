"""StreamedWrite: an OpenEXR written band by band reads back as the bands given (float
exactly, half as float16 rounds), tiled or scanline, and is atomic: a failure or missing
rows leave neither the target changed nor a temporary behind."""

from __future__ import annotations

import os

import numpy as np
import OpenImageIO as oiio
import pytest

from mattebox.engine import io as mio
from mattebox.engine.io import streamed

WINDOW = (-3, 5, 67, 102)  # 70 x 97, off the origin; 97 rows: not whole 16-row tiles


@pytest.fixture
def pixels():
    rng = np.random.default_rng(7)
    out = rng.uniform(-0.2, 1.6, (97, 70, 4)).astype(np.float32)
    out[..., 3] = rng.uniform(0.05, 1.0, (97, 70))
    return out


def bands(pixels, rows):
    for top in range(0, pixels.shape[0], rows):
        yield WINDOW[1] + top, pixels[top : top + rows]


def hidden(folder):
    return [name for name in os.listdir(folder) if name.startswith(".")]


@pytest.mark.parametrize("tiled", [True, False])
@pytest.mark.parametrize("datatype", ["float", "half"])
def test_bands_read_back(tmp_path, pixels, tiled, datatype):
    path = tmp_path / "out.exr"
    with mio.StreamedWrite(
        path, WINDOW, (64, 100), datatype=datatype, tiled=tiled, tile_size=16,
        compression="zip", pixel_aspect=2.0,
    ) as out:  # fmt: skip
        for y0, band in bands(pixels, 32):
            out.write(y0, band)
    spec = oiio.ImageInput.open(str(path)).spec()
    assert (spec.x, spec.y, spec.width, spec.height) == (-3, 5, 70, 97)
    assert (spec.full_width, spec.full_height) == (64, 100)
    assert spec.tile_width == (16 if tiled else 0)
    assert spec.get_string_attribute("compression") == "zip"
    assert spec.get_float_attribute("PixelAspectRatio") == 2.0
    result, window, _ = mio.read_image(path)
    assert window == WINDOW
    expected = pixels if datatype == "float" else pixels.astype(np.float16).astype(np.float32)
    np.testing.assert_array_equal(result, expected)
    assert hidden(tmp_path) == []


def test_convert_is_applied_per_chunk(tmp_path, pixels, monkeypatch):
    """A band larger than a chunk goes out in chunks of whole tile rows, each through
    ``convert`` (never a copy of the whole band)."""
    monkeypatch.setattr(streamed, "CHUNK_BYTES", 70 * 16 * 20)  # 20 rows: 16-row chunks
    seen = []

    def convert(chunk):
        seen.append(chunk.shape[0])
        return chunk * 2.0

    path = tmp_path / "out.exr"
    with mio.StreamedWrite(path, WINDOW, (64, 100), datatype="float", tiled=True,
                           tile_size=16) as out:  # fmt: skip
        out.write(WINDOW[1], pixels[:64], convert)
        out.write(WINDOW[1] + 64, pixels[64:], convert)
    assert seen == [16, 16, 16, 16, 16, 16, 1]
    np.testing.assert_array_equal(mio.read_image(path)[0], pixels * 2.0)


def test_missing_rows_leave_nothing(tmp_path, pixels):
    target = tmp_path / "out.exr"
    target.write_bytes(b"old")
    writer = mio.StreamedWrite(target, WINDOW, (64, 100), tiled=True, tile_size=16)
    with pytest.raises(mio.ImageIOError, match=r"only rows 5\.\.37 of 5\.\.102"), writer:
        writer.write(WINDOW[1], pixels[:32])
    assert target.read_bytes() == b"old" and hidden(tmp_path) == []


def test_failure_mid_way_leaves_nothing(tmp_path, pixels):
    target = tmp_path / "out.exr"
    writer = mio.StreamedWrite(target, WINDOW, (64, 100))
    with pytest.raises(RuntimeError, match="render failed"), writer:
        writer.write(WINDOW[1], pixels[:40])
        raise RuntimeError("render failed")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "where, rows, message",
    [
        (37, 32, "rows must come in order: expected row 5, got 37"),
        (5, 20, "not whole rows of 16-pixel tiles"),
    ],
)
def test_bands_out_of_order_or_shape_are_refused(tmp_path, pixels, where, rows, message):
    target = tmp_path / "out.exr"
    out = mio.StreamedWrite(target, WINDOW, (64, 100), tiled=True, tile_size=16)
    with pytest.raises(mio.ImageIOError, match=message):
        out.write(where, pixels[:rows])
    assert os.listdir(tmp_path) == []


def test_only_exr_streams(tmp_path):
    assert mio.can_stream("a.exr") and not mio.can_stream("a.png")
    assert not mio.can_stream("a.xyz")
    with pytest.raises(mio.ImageIOError, match="not written band by band"):
        mio.StreamedWrite(tmp_path / "a.tif", WINDOW, (64, 100))
    assert os.listdir(tmp_path) == []
