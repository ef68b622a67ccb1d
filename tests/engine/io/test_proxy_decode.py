"""Proxy reads decode less: a MIP level read as it is, or each band box-filtered inside
the decoder, so that only the small image reaches the engine.

References are OpenImageIO's own: its read of the MIP level, its box resize
(``ImageBufAlgo.resize`` with the box filter, which at a whole factor is the mean of
N × N blocks), and for data windows off the block grid numpy's block mean of
OpenImageIO's full read (the formula: blocks aligned to the display window's corner,
black outside the data window).
"""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest

from mattebox.engine import io as mio
from mattebox.engine.io import decode

W, H = 48, 72  # divisible by 2, 3 and 4


def random_premultiplied(rng, height=H, width=W):
    alpha = rng.random((height, width, 1), dtype=np.float32)
    colour = (rng.random((height, width, 3), dtype=np.float32) * 1.7 - 0.2) * alpha
    return np.concatenate([colour, alpha], axis=2)


def write_exr(path, pixels, origin=(0, 0), size=None, tile=0, compression="zip"):
    height, width = pixels.shape[:2]
    spec = oiio.ImageSpec(width, height, 4, "float")
    spec.x, spec.y = origin
    size = size or (width, height)
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = 0, 0, size[0], size[1]
    spec.attribute("compression", compression)
    if tile:
        spec.tile_width = spec.tile_height = tile
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec), out.geterror()
    assert out.write_image(pixels), out.geterror()
    out.close()


def make_texture(source, path):
    """A tiled, MIP-mapped EXR made by OpenImageIO (what ``maketx`` writes)."""
    config = oiio.ImageSpec()
    config.attribute("maketx:filtername", "box")
    config.attribute("tile_width", 16)
    config.attribute("tile_height", 16)
    assert oiio.ImageBufAlgo.make_texture(oiio.MakeTxTexture, str(source), str(path), config)


def block_mean(pixels, window, proxy):
    """The proxy reference by its formula, in float64: blocks aligned to (0, 0)."""
    x0, y0, x1, y1 = window
    out = (x0 // proxy, y0 // proxy, -(-x1 // proxy), -(-y1 // proxy))
    grid = np.zeros(((out[3] - out[1]) * proxy, (out[2] - out[0]) * proxy, pixels.shape[2]))
    grid[y0 - out[1] * proxy : y1 - out[1] * proxy, x0 - out[0] * proxy : x1 - out[0] * proxy] = (
        pixels
    )
    shape = (out[3] - out[1], proxy, out[2] - out[0], proxy, pixels.shape[2])
    return grid.reshape(shape).mean(axis=(1, 3)), out


@pytest.fixture(params=["worker", "in-process"])
def mode(request, monkeypatch):
    monkeypatch.setattr(mio, "IN_PROCESS", request.param == "in-process")
    return request.param


@pytest.fixture
def read_calls(monkeypatch):
    """The MIP level and rows of every block the decoder reads (in this process)."""
    monkeypatch.setattr(mio, "IN_PROCESS", True)
    calls = []
    original = decode._read_block

    def spy(inp, part, spec, box, chans, level=0):
        calls.append((level, box))
        return original(inp, part, spec, box, chans, level)

    monkeypatch.setattr(decode, "_read_block", spy)
    return calls


@pytest.mark.parametrize("proxy", [2, 4])
def test_mip_level_is_read_as_it_is(tmp_path, read_calls, proxy):
    source, path = tmp_path / "plate.exr", tmp_path / "plate.tx.exr"
    write_exr(source, random_premultiplied(np.random.default_rng(proxy)))
    make_texture(source, path)
    level = proxy.bit_length() - 1
    expected = oiio.ImageBuf(str(path), 0, level).get_pixels(oiio.FLOAT)
    pixels, window, info = mio.read_image(path, proxy=proxy)
    np.testing.assert_array_equal(pixels, expected)
    assert window == (0, 0, W // proxy, H // proxy) and (info.width, info.height) == (W, H)
    assert read_calls and all(lvl == level for lvl, _ in read_calls)  # level 0 never read


def test_mip_level_through_the_decoder(tmp_path, mode):
    source, path = tmp_path / "plate.exr", tmp_path / "plate.tx.exr"
    write_exr(source, random_premultiplied(np.random.default_rng(9)))
    make_texture(source, path)
    expected = oiio.ImageBuf(str(path), 0, 2).get_pixels(oiio.FLOAT)
    np.testing.assert_array_equal(mio.read_image(path, proxy=4)[0], expected)


@pytest.mark.parametrize("proxy", [2, 3, 4])
@pytest.mark.parametrize("tile", [0, 16])
def test_band_filter_equals_openimageio_box_resize(tmp_path, mode, proxy, tile):
    """A file without MIP levels (scanline or tiled) is box-filtered band by band."""
    path = tmp_path / "plate.exr"
    write_exr(path, random_premultiplied(np.random.default_rng(proxy + tile)), tile=tile)
    full = oiio.ImageBuf(str(path))
    roi = oiio.ROI(0, W // proxy, 0, H // proxy, 0, 1, 0, 4)
    expected = oiio.ImageBufAlgo.resize(full, filtername="box", roi=roi).get_pixels(oiio.FLOAT)
    pixels, window, _ = mio.read_image(path, proxy=proxy)
    assert window == (0, 0, W // proxy, H // proxy)
    np.testing.assert_allclose(pixels, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("origin", "size", "region"),
    [
        ((5, 7), (60, 90), None),  # data window inside the display window, off the grid
        ((-3, -6), (40, 50), None),  # and beyond it
        ((0, 0), None, (5, 9, 30, 50)),  # a region off the grid: grown to whole blocks
    ],
)
@pytest.mark.parametrize("proxy", [2, 3])
def test_band_filter_of_windows_off_the_block_grid(tmp_path, read_calls, monkeypatch, origin,
                                                   size, region, proxy):  # fmt: skip
    monkeypatch.setattr(decode, "BAND_BYTES", W * 16 * 7)  # many bands of a few rows
    path = tmp_path / "plate.exr"
    pixels = random_premultiplied(np.random.default_rng(1))
    write_exr(path, pixels, origin, size, compression="none")
    full = oiio.ImageBuf(str(path)).get_pixels(oiio.FLOAT)
    window = (origin[0], origin[1], origin[0] + W, origin[1] + H)
    expected, expected_window = block_mean(full, window, proxy)
    pixels, got_window, _ = mio.read_image(path, region, proxy=proxy)
    if region is not None:  # the proxy pixels the region touches
        x0, y0, x1, y1 = region
        rx0, ry0, rx1, ry1 = x0 // proxy, y0 // proxy, -(-x1 // proxy), -(-y1 // proxy)
        expected = expected[ry0 - expected_window[1] : ry1, rx0 - expected_window[0] : rx1]
        expected_window = (rx0, ry0, rx1, ry1)
    assert got_window == expected_window
    np.testing.assert_allclose(pixels, expected, rtol=1e-6, atol=1e-6)
    assert len(read_calls) > 2


def test_unassociated_alpha_is_premultiplied_before_filtering(tmp_path, mode):
    """A PNG's colour is multiplied by its alpha at full size, then averaged."""
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 65536, (H, W, 4), dtype=np.uint16)
    path = tmp_path / "plate.png"
    out = oiio.ImageOutput.create(str(path))
    spec = oiio.ImageSpec(W, H, 4, "uint16")
    spec.attribute("oiio:UnassociatedAlpha", 1)
    assert out.open(str(path), spec) and out.write_image(codes)
    out.close()
    straight = codes.astype(np.float64) / 65535.0
    premultiplied = np.concatenate([straight[..., :3] * straight[..., 3:], straight[..., 3:]], 2)
    expected, _ = block_mean(premultiplied, (0, 0, W, H), 4)
    np.testing.assert_allclose(mio.read_image(path, proxy=4)[0], expected, rtol=1e-6, atol=1e-6)


def test_layers_at_proxy_scale(tmp_path, mode):
    path = tmp_path / "render.exr"
    rng = np.random.default_rng(6)
    channels = ("R", "G", "B", "A", "depth.Z")
    pixels = np.concatenate([random_premultiplied(rng), rng.random((H, W, 1), np.float32)], 2)
    spec = oiio.ImageSpec(W, H, 5, "float")
    spec.channelnames = channels
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_image(pixels)
    out.close()
    planes, windows, _ = mio.read_layers(path, ["rgba", "depth"], proxy=2)
    expected, _ = block_mean(pixels, (0, 0, W, H), 2)
    np.testing.assert_allclose(planes["rgba"], expected[..., :4], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(planes["depth"][..., 0], expected[..., 4], rtol=1e-6, atol=1e-6)
    assert windows == {"rgba": (0, 0, W // 2, H // 2), "depth": (0, 0, W // 2, H // 2)}


@pytest.mark.parametrize("proxy", [0, -1, 1.5, True])
def test_bad_proxy_is_refused(tmp_path, proxy):
    with pytest.raises(ValueError, match="proxy"):
        mio.read_image(tmp_path / "missing.exr", proxy=proxy)
