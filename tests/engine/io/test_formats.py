"""Reading conventions per format: the right way up, premultiplied by the file's alpha
convention, grey expanded, against OpenImageIO's own read of small generated files
(one per format and alpha convention) and against the values written, from numpy.

The references: OpenImageIO's plain read (``ImageBuf``; it premultiplies unassociated
alpha itself, in the file's integer type, so within one code of ours), the codes the
test wrote (premultiplied here in float64), hand-written Targa and PFM files (whose
layout the test spells out byte by byte), and ``ImageBufAlgo.reorient`` for the EXIF
orientations. OpenImageIO has no PSD writer: PSD is covered by the public corpus check
(``docs/io-and-colour.md``, "Formats").
"""

from __future__ import annotations

import struct

import numpy as np
import OpenImageIO as oiio
import pytest

from mattebox.engine import io as mio

W, H = 7, 5  # odd, and not square: a turned image shows it


@pytest.fixture(params=["worker", "in-process"])
def read_mode(request, monkeypatch):
    """Run a test through the decoder process and in this process."""
    monkeypatch.setattr(mio, "IN_PROCESS", request.param == "in-process")
    return request.param


def _codes(seed, channels, top=255, dtype=np.uint8):
    """Random integer codes, alpha (the last of 2 or 4 channels) with some 0 and top."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, top + 1, (H, W, channels)).astype(dtype)
    if channels in (2, 4):
        codes[0, :3, -1] = 0  # transparent pixels with colour stored under them
        codes[1, :3, -1] = top
    return codes


def _write(path, codes, unassociated=False, attributes=None):
    """Write integer codes with OpenImageIO as they are (no alpha conversion)."""
    height, width, channels = codes.shape
    spec = oiio.ImageSpec(width, height, channels, oiio.TypeDesc(codes.dtype.name))
    if channels in (2, 4):
        spec.alpha_channel = channels - 1
    if unassociated:
        spec.attribute("oiio:UnassociatedAlpha", 1)
    for key, value in (attributes or {}).items():
        spec.attribute(key, value)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec), out.geterror()
    assert out.write_image(np.ascontiguousarray(codes)), out.geterror()
    out.close()


def _oiio_read(path) -> np.ndarray:
    """OpenImageIO's own read, float32 (H, W, C)."""
    buf = oiio.ImageBuf(str(path))
    pixels = buf.get_pixels(oiio.FLOAT)
    assert pixels is not None, buf.geterror()
    return pixels


def _expanded(values: np.ndarray) -> np.ndarray:
    """docs/io-and-colour.md: one channel is grey (R = G = B, A = 1), two are grey and
    alpha, three are RGB (A = 1)."""
    height, width, channels = values.shape
    out = np.ones((height, width, 4), np.float64)
    grey = channels in (1, 2)
    out[..., :3] = values[..., :1] if grey else values[..., :3]
    if channels in (2, 4):
        out[..., 3] = values[..., -1]
    return out


def _premultiplied(rgba: np.ndarray) -> np.ndarray:
    out = rgba.copy()
    out[..., :3] *= out[..., 3:4]
    return out


@pytest.mark.parametrize(
    ("name", "channels", "dtype", "unassociated", "premultiplied"),
    [
        ("rgba.png", 4, np.uint8, True, True),  # PNG alpha is always unassociated
        ("rgba16.png", 4, np.uint16, True, True),
        ("grey.png", 1, np.uint8, False, False),
        ("grey_alpha.png", 2, np.uint8, True, True),
        ("unassociated.tif", 4, np.uint8, True, True),  # ExtraSamples = 2
        ("associated.tif", 4, np.uint16, False, False),  # ExtraSamples = 1
        ("grey_alpha.tif", 2, np.uint16, True, True),
        ("rgba.dpx", 4, np.uint16, False, False),  # DPX stores associated alpha
        ("rgb.ppm", 3, np.uint8, False, False),
        ("grey.pgm", 1, np.uint8, False, False),
        ("rgba.tga", 4, np.uint8, True, True),  # OIIO writes TGA 2.0, alpha type 3
    ],
)
def test_integer_formats_by_their_alpha_convention(
    tmp_path, read_mode, name, channels, dtype, unassociated, premultiplied
):
    top = np.iinfo(dtype).max
    codes = _codes(len(name), channels, top, dtype)
    path = tmp_path / name
    _write(path, codes, unassociated)
    pixels, window, info = mio.read_image(path)
    assert window == (0, 0, W, H) and (info.width, info.height) == (W, H)
    stored = _expanded(codes.astype(np.float64) / top)
    expected = _premultiplied(stored) if premultiplied else stored
    np.testing.assert_allclose(pixels, expected, rtol=2e-7, atol=1e-7)
    if premultiplied:  # colour stored where alpha is 0 is gone, as in OpenImageIO's read
        assert np.all(pixels[0, :3, :3] == 0) and np.any(codes[0, :3, :-1] > 0)
    theirs = _expanded(_oiio_read(path).astype(np.float64))
    step = 1.0 / top  # OpenImageIO premultiplies in the file's integer type
    np.testing.assert_allclose(pixels, theirs, rtol=0, atol=step * 1.01 if premultiplied else 0)


@pytest.mark.parametrize(("ext", "datatype"), [("exr", "half"), ("exr", "float"), ("tif", "float")])
def test_float_files_read_as_openimageio_reads_them(tmp_path, read_mode, ext, datatype):
    rng = np.random.default_rng(5)
    values = rng.uniform(-0.5, 4.0, (H, W, 4)).astype(np.float32)
    values[..., 3] = rng.uniform(0, 1, (H, W))
    path = tmp_path / f"rgba.{ext}"
    spec = oiio.ImageSpec(W, H, 4, datatype)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec)
    out.write_image(values)
    out.close()
    pixels, _, _ = mio.read_image(path)
    np.testing.assert_array_equal(pixels, _oiio_read(path))  # associated: as stored


def test_jpeg_reads_as_openimageio_reads_it(tmp_path, read_mode):
    path = tmp_path / "rgb.jpg"
    _write(path, _codes(9, 3))
    pixels, _, _ = mio.read_image(path)
    np.testing.assert_array_equal(pixels, _expanded(_oiio_read(path)).astype(np.float32))


def _tga(path, codes, alpha_type=None):
    """A 32-bit uncompressed Targa, rows stored bottom first (TGA 1.0); with
    ``alpha_type``, a TGA 2.0 extension area and footer carrying it."""
    height, width, _ = codes.shape
    header = struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, width, height, 32, 8)
    body = codes[::-1][..., [2, 1, 0, 3]].tobytes()  # BGRA, bottom row first
    data = header + body
    if alpha_type is not None:
        extension = bytearray(495)
        extension[0:2] = struct.pack("<H", 495)
        extension[494] = alpha_type
        footer = struct.pack("<II", len(data), 0) + b"TRUEVISION-XFILE.\0"
        data += bytes(extension) + footer
    path.write_bytes(data)


@pytest.mark.parametrize(
    ("alpha_type", "premultiplied"),
    [(None, True), (0, True), (1, True), (2, True), (3, True), (4, False)],
)  # TGA 1.0; 2.0's alpha types: 0-2 "no / undefined" (OpenImageIO premultiplies them
#    all the same), 3 "useful alpha", 4 "pre-multiplied"
def test_targa_alpha_follows_the_files_alpha_type(tmp_path, read_mode, alpha_type, premultiplied):
    codes = _codes(11, 4)
    path = tmp_path / "hand.tga"
    _tga(path, codes, alpha_type)
    pixels, window, _ = mio.read_image(path)
    assert window == (0, 0, W, H)
    stored = codes.astype(np.float64) / 255
    expected = _premultiplied(stored) if premultiplied else stored  # and the right way up
    np.testing.assert_allclose(pixels, expected, rtol=2e-7, atol=1e-7)
    theirs = _oiio_read(path).astype(np.float64)
    np.testing.assert_allclose(pixels, theirs, rtol=0, atol=1.01 / 255 if premultiplied else 0)


def _pfm(path, values):
    """A PFM file: header, then little-endian float rows, the bottom row first."""
    height, width, channels = values.shape
    kind = b"PF" if channels == 3 else b"Pf"
    header = kind + b"\n%d %d\n-1.0\n" % (width, height)
    path.write_bytes(header + values[::-1].astype("<f4").tobytes())


@pytest.mark.parametrize("channels", [3, 1])
def test_pfm_arrives_the_right_way_up(tmp_path, read_mode, channels):
    rng = np.random.default_rng(channels)
    values = rng.uniform(-2.0, 8.0, (H, W, channels)).astype(np.float32)
    path = tmp_path / "image.pfm"
    _pfm(path, values)
    pixels, window, info = mio.read_image(path)
    assert window == (0, 0, W, H) and info.file_format == "pnm"
    np.testing.assert_array_equal(pixels, _expanded(values).astype(np.float32))
    # OpenImageIO's plain read (opened without a configuration) hands them over as stored
    np.testing.assert_array_equal(_expanded(_oiio_read(path))[::-1], pixels)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_metadata_turns_the_image_the_right_way_up(tmp_path, read_mode, orientation):
    rng = np.random.default_rng(orientation)
    values = rng.uniform(0, 1, (H, W, 4)).astype(np.float32)
    path = tmp_path / "turned.tif"
    spec = oiio.ImageSpec(W, H, 4, "float")
    spec.attribute("Orientation", orientation)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec)
    out.write_image(values)
    out.close()
    upright = oiio.ImageBufAlgo.reorient(oiio.ImageBuf(str(path)))
    reference = upright.get_pixels(oiio.FLOAT)
    info = mio.probe(path)
    assert (info.width, info.height) == (upright.spec().width, upright.spec().height)
    assert (info.width, info.height) == ((H, W) if orientation >= 5 else (W, H))
    pixels, window, _ = mio.read_image(path)
    assert window == info.data_window == (0, 0, info.width, info.height)
    np.testing.assert_array_equal(pixels, reference)
    region = (1, 2, 4, 5)  # a region read is the same pixels
    part, part_window, _ = mio.read_image(path, region=region)
    assert part_window == region
    np.testing.assert_array_equal(part, reference[2:5, 1:4])
