"""A proxy render of a Read decodes less: the decoder makes the small image where the
file's conversion to the working space is linear; a non-linear one is still converted
at full size, then filtered. References: OpenImageIO's MIP level and box resize."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest

import mattebox as mb
from mattebox.engine import io as mio
from mattebox.engine import render
from mattebox.nodes.spec import Window

W, H = 64, 48


@pytest.fixture
def proxies_asked(monkeypatch):
    """The proxy level of every read_image the renderer makes."""
    asked = []
    original = mio.read_image

    def spy(path, region=None, proxy=1):
        asked.append(proxy)
        return original(path, region, proxy=proxy)

    monkeypatch.setattr(render.io, "read_image", spy)
    return asked


def _plate(path, rng, tiled=False):
    alpha = rng.random((H, W, 1), dtype=np.float32)
    pixels = np.concatenate([rng.random((H, W, 3), dtype=np.float32) * alpha, alpha], 2)
    mio.write_image(path, pixels, (0, 0, W, H), (W, H), datatype="float", tiled=tiled,
                    tile_size=16)  # fmt: skip
    return pixels


def _graph(path, colorspace):
    g = mb.Graph()
    g.settings.format = mb.Format(W, H)
    read = g.add("Read", file=str(path), colorspace=colorspace)
    return g, read


@pytest.mark.parametrize("proxy", [2, 4])
def test_linear_read_is_filtered_by_the_decoder(tmp_path, proxies_asked, proxy):
    path = tmp_path / "plate.exr"
    _plate(path, np.random.default_rng(proxy))
    g, read = _graph(path, "ACEScg")  # the working space: no conversion
    image = g.render(read, backend="cpu", proxy=proxy)
    roi = oiio.ROI(0, W // proxy, 0, H // proxy, 0, 1, 0, 4)
    expected = oiio.ImageBufAlgo.resize(oiio.ImageBuf(str(path)), filtername="box", roi=roi)
    np.testing.assert_allclose(image.pixels, expected.get_pixels(oiio.FLOAT), atol=1e-6)
    assert proxies_asked == [proxy]


def test_mip_mapped_plate_at_proxy_4_is_its_level_2(tmp_path, proxies_asked):
    source, path = tmp_path / "plate.exr", tmp_path / "plate.tx.exr"
    _plate(source, np.random.default_rng(7))
    config = oiio.ImageSpec()
    config.attribute("tile_width", 16)
    config.attribute("tile_height", 16)
    assert oiio.ImageBufAlgo.make_texture(oiio.MakeTxTexture, str(source), str(path), config)
    g, read = _graph(path, "ACEScg")
    image = g.render(read, backend="cpu", proxy=4)
    level = oiio.ImageBuf(str(path), 0, 2).get_pixels(oiio.FLOAT)
    np.testing.assert_array_equal(image.pixels, level)
    assert image.window == Window(0, 0, W // 4, H // 4) and proxies_asked == [4]


def test_non_linear_read_is_converted_before_it_is_filtered(tmp_path, proxies_asked):
    """An sRGB-encoded file: averaging the encoded values would darken edges, so the
    decoder returns the whole image and the proxy is made in the working space."""
    path = tmp_path / "plate.exr"
    _plate(path, np.random.default_rng(3))
    g, read = _graph(path, "sRGB Encoded Rec.709 (sRGB)")
    image = g.render(read, backend="cpu", proxy=2)
    assert proxies_asked == [1]  # decoded whole
    full = g.render(read, backend="cpu")
    expected = full.pixels.astype(np.float64).reshape(H // 2, 2, W // 2, 2, 4).mean(axis=(1, 3))
    np.testing.assert_allclose(image.pixels, expected, atol=1e-6)
