"""Reads in bands straight into shared memory, and the I/O thread setting.

The reference is OpenImageIO's own read of the same file (``ImageBuf.get_pixels``): the
files hold premultiplied RGBA, so the engine's pixels must equal it bit for bit, for
every compression, scanline or tiled, with data windows inside and beyond the display
window, and for regions that start and end inside a chunk.
"""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest

from mattebox.engine import io as mio
from mattebox.engine.io import decode, threads

W, H = 45, 70  # several chunks of every compression, not a multiple of any


def random_premultiplied(rng, height=H, width=W):
    alpha = rng.random((height, width, 1), dtype=np.float32)
    colour = (rng.random((height, width, 3), dtype=np.float32) * 1.7 - 0.2) * alpha
    return np.concatenate([colour, alpha], axis=2)


def write_file(path, pixels, datatype, attributes, window=(0, 0), size=None, tile=0):
    """Write ``pixels`` with OpenImageIO itself (files we did not write)."""
    height, width = pixels.shape[:2]
    spec = oiio.ImageSpec(width, height, 4, datatype)
    spec.x, spec.y = window
    size = size or (width, height)
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = 0, 0, size[0], size[1]
    if tile:
        spec.tile_width = spec.tile_height = tile
    for key, value in attributes.items():
        spec.attribute(key, value)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec), out.geterror()
    assert out.write_image(pixels), out.geterror()
    out.close()


def oiio_read(path):
    """OpenImageIO's read of the whole data window, as float32 RGBA."""
    buf = oiio.ImageBuf(str(path))
    pixels = buf.get_pixels(oiio.FLOAT)
    assert not buf.has_error, buf.geterror()
    return pixels


@pytest.fixture(params=["worker", "in-process"])
def mode(request, monkeypatch):
    monkeypatch.setattr(mio, "IN_PROCESS", request.param == "in-process")
    return request.param


@pytest.fixture
def small_bands(monkeypatch):
    """Bands of a few rows in this process, so that a small image is read in many."""
    monkeypatch.setattr(mio, "IN_PROCESS", True)
    monkeypatch.setattr(decode, "BAND_BYTES", W * 16 * 5)  # 5 rows of float RGBA


EXR_CASES = [
    ("none", "float", 0),
    ("rle", "float", 0),
    ("zips", "half", 0),
    ("zip", "half", 0),
    ("piz", "half", 0),
    ("pxr24", "float", 0),
    ("b44", "half", 0),
    ("dwaa", "half", 0),
    ("dwab", "half", 0),
    ("zip", "half", 16),
    ("none", "float", 32),
]
WINDOWS = [((0, 0), None), ((7, 11), (60, 90)), ((-5, -9), (30, 40))]


@pytest.mark.parametrize(("compression", "datatype", "tile"), EXR_CASES)
@pytest.mark.parametrize(("origin", "size"), WINDOWS)
def test_exr_read_in_bands_equals_openimageio(tmp_path, small_bands, compression, datatype,
                                              tile, origin, size):  # fmt: skip
    path = tmp_path / "plate.exr"
    pixels = random_premultiplied(np.random.default_rng(len(compression) * 7 + tile))
    write_file(path, pixels, datatype, {"compression": compression}, origin, size, tile)
    expected = oiio_read(path)
    got, window, _ = mio.read_image(path)
    assert window == (*origin, origin[0] + W, origin[1] + H)
    np.testing.assert_array_equal(got, expected)
    # a region starting and ending inside chunks: the same pixels
    x0, y0 = origin[0] + 3, origin[1] + 21
    region, window, _ = mio.read_image(path, (x0, y0, x0 + 30, y0 + 29))
    assert window == (x0, y0, x0 + 30, y0 + 29)
    np.testing.assert_array_equal(region, expected[21:50, 3:33])


@pytest.mark.parametrize(("compression", "datatype", "tile"), [EXR_CASES[4], EXR_CASES[9]])
def test_reads_through_the_decoder_equal_openimageio(tmp_path, mode, compression, datatype,
                                                     tile):  # fmt: skip
    path = tmp_path / "plate.exr"
    pixels = random_premultiplied(np.random.default_rng(3), 300, 200)
    write_file(path, pixels, datatype, {"compression": compression}, tile=tile)
    np.testing.assert_array_equal(mio.read_image(path)[0], oiio_read(path))


def test_tiff_strips_read_in_bands_equal_openimageio(tmp_path, small_bands):
    path = tmp_path / "plate.tif"
    pixels = random_premultiplied(np.random.default_rng(5))
    write_file(path, pixels, "float", {"tiff:RowsPerStrip": 8, "compression": "zip"})
    expected = oiio_read(path)
    np.testing.assert_array_equal(mio.read_image(path)[0], expected)
    np.testing.assert_array_equal(mio.read_image(path, (2, 13, 40, 61))[0], expected[13:61, 2:40])


@pytest.mark.parametrize(("compression", "chunk"), [("zip", 16), ("piz", 32), ("none", 1)])
def test_bands_start_and_end_on_chunk_edges(tmp_path, small_bands, monkeypatch, compression,
                                            chunk):  # fmt: skip
    """No chunk is decoded twice: every band but the region's ends lies on chunk edges."""
    path = tmp_path / "plate.exr"
    write_file(path, random_premultiplied(np.random.default_rng(1), 200, W), "half",
               {"compression": compression}, window=(0, 4))  # fmt: skip
    calls = []
    original = decode._read_block

    def spy(inp, part, spec, box, chans, level=0):
        calls.append((box[1], box[3]))
        return original(inp, part, spec, box, chans, level)

    monkeypatch.setattr(decode, "_read_block", spy)
    mio.read_image(path, (0, 9, W, 190))
    tops = [top for top, _ in calls]
    assert tops[0] == 9 and calls[-1][1] == 190
    assert all(bottom == top for (_, bottom), top in zip(calls, tops[1:]))  # no gap or overlap
    assert all((top - 4) % chunk == 0 for top in tops[1:])
    assert len(calls) > 1


def test_io_threads_setting(monkeypatch, tmp_path):
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    assert mio.io_threads() == threads.available_cpus()
    path = tmp_path / "a.exr"
    mio.write_image(path, random_premultiplied(np.random.default_rng(2)), (0, 0, W, H), (W, H))
    monkeypatch.setattr(mio, "IN_PROCESS", True)
    try:
        mio.set_io_threads(3)
        assert mio.io_threads() == 3
        mio.read_image(path)
        assert threads.in_effect() == (3, 3)
        monkeypatch.setenv(threads.THREADS_ENV, "1")  # the environment wins
        mio.write_image(path, random_premultiplied(np.random.default_rng(3)), (0, 0, W, H),
                        (W, H))  # fmt: skip
        assert threads.in_effect() == (1, 1)
    finally:
        mio.set_io_threads(0)
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="I/O threads"):
            mio.set_io_threads(bad)
    monkeypatch.setenv(threads.THREADS_ENV, "many")
    with pytest.raises(mio.ImageIOError, match="MATTEBOX_IO_THREADS"):
        mio.io_threads()


def test_decoder_process_takes_the_thread_count(monkeypatch, tmp_path):
    monkeypatch.setattr(mio, "IN_PROCESS", False)
    monkeypatch.setenv("MATTEBOX_IO_TEST_HOOKS", "1")
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    path = tmp_path / "a.exr"
    mio.write_image(path, random_premultiplied(np.random.default_rng(4)), (0, 0, W, H), (W, H))
    mio.shutdown_worker()
    try:
        for count in (1, 3):
            mio.set_io_threads(count)
            mio.read_image(path)
            assert mio._worker.request(("threads", str(path)), str(path))[1] == (count, count)
    finally:
        mio.set_io_threads(0)
        mio.shutdown_worker()
