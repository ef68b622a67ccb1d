"""Read through the engine on every backend, against OpenImageIO's own read of the file
(and OpenColorIO's CPU processor where the file's colour space is converted)."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import PyOpenColorIO as OCIO
import pytest

import mattebox as mb
from tests.conftest import random_image, write_exr
from tests.nodes.test_ocio_colorspace import ocio_reference, studio_config


def oiio_pixels(path) -> np.ndarray:
    """The file's pixels as OpenImageIO reads them: float, all channels, data window."""
    buf = oiio.ImageBuf(str(path))
    pixels = buf.get_pixels(oiio.FLOAT)
    assert not buf.has_error, buf.geterror()
    return pixels


def test_a_float_exr_arrives_as_openimageio_reads_it(backend, tmp_path):
    pixels = random_image(12, 19, seed=60, lo=-0.5, hi=20.0)
    path = tmp_path / "plate.exr"
    write_exr(path, pixels, window=(-4, 3, 15, 15), size=(16, 12))
    g = mb.Graph()
    read = g.add("Read", file=str(path), colorspace="Raw")
    out = g.render(read, frame=1, backend=backend)
    np.testing.assert_array_equal(out.pixels, oiio_pixels(path))
    assert out.data_window == (-4, 3, 15, 15)
    assert out.format == mb.Format(16, 12)


def test_an_exr_in_another_space_is_converted_to_the_working_space(backend, tmp_path):
    pixels = random_image(8, 10, seed=61, lo=0.01, hi=3.0)
    path = tmp_path / "aces.exr"
    write_exr(path, pixels)
    g = mb.Graph()
    read = g.add("Read", file=str(path), colorspace="ACES2065-1")
    out = g.render(read, frame=1, backend=backend)
    expected = ocio_reference(
        studio_config().getProcessor("ACES2065-1", "ACEScg"), oiio_pixels(path)
    )
    np.testing.assert_allclose(out.pixels, expected, rtol=1e-4, atol=1e-5)


def test_an_8_bit_png_is_srgb_by_default_and_premultiplied(backend, tmp_path):
    rng = np.random.default_rng(62)
    stored = rng.integers(0, 256, (9, 14, 4), dtype=np.uint8)
    stored[0, :4, 3] = 0  # transparent pixels keep no colour once premultiplied
    path = tmp_path / "paint.png"
    spec = oiio.ImageSpec(14, 9, 4, oiio.UINT8)
    spec.attribute("oiio:UnassociatedAlpha", 1)  # the values go into the file as they are
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec)
    assert out.write_image(stored)
    out.close()
    g = mb.Graph()
    read = g.add("Read", file=str(path))
    image = g.render(read, frame=1, backend=backend)
    # PNG stores unassociated alpha: convert the colour as stored, then premultiply.
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    values = oiio.ImageBuf(str(path), 0, 0, config).get_pixels(oiio.FLOAT)
    np.testing.assert_allclose(values, stored / 255.0, rtol=0, atol=1e-7)
    rgb = np.ascontiguousarray(values[..., :3])
    studio_config().getProcessor("sRGB - Texture", "ACEScg").getDefaultCPUProcessor().applyRGB(rgb)
    expected = np.concatenate([rgb * values[..., 3:], values[..., 3:]], axis=-1)
    np.testing.assert_allclose(image.pixels, expected, rtol=1e-4, atol=2e-5)
    assert np.all(image.pixels[0, :4] == 0.0)


def test_a_sequence_follows_the_frame_and_its_offset(backend, tmp_path):
    frames = {f: random_image(5, 6, seed=70 + f) for f in (1, 2, 3)}
    for f, pixels in frames.items():
        write_exr(tmp_path / f"plate.{f:04d}.exr", pixels)
    g = mb.Graph()
    read = g.add("Read", file=str(tmp_path / "plate.####.exr"), colorspace="Raw")
    for f in (1, 3):
        np.testing.assert_array_equal(g.render(read, frame=f, backend=backend).pixels, frames[f])
    read["frame_offset"] = 1
    np.testing.assert_array_equal(g.render(read, frame=2, backend=backend).pixels, frames[3])


def test_missing_frames_are_an_error_or_black(backend, tmp_path):
    write_exr(tmp_path / "plate.0001.exr", random_image(5, 6, seed=75))
    g = mb.Graph()
    read = g.add("Read", file=str(tmp_path / "plate.####.exr"), colorspace="Raw")
    with pytest.raises(mb.RenderError, match="Read1.*plate.0004.exr"):
        g.render(read, frame=4, backend=backend)
    read["missing_frames"] = "black"
    out = g.render(read, frame=4, backend=backend)
    assert not np.any(out.pixels)


def test_an_unknown_colour_space_names_the_read(tmp_path):
    path = tmp_path / "plate.exr"
    write_exr(path, random_image(4, 4, seed=76))
    g = mb.Graph()
    read = g.add("Read", file=str(path), colorspace="ACEScgg")
    with pytest.raises(mb.RenderError, match="Read1.*ACEScgg"):
        g.render(read, frame=1, backend="cpu")


def test_ocio_is_what_converts_not_a_copy_of_it():
    """The reference above really is OCIO's: sRGB 0.5 is 0.214 linear, in ACEScg primaries."""
    rgb = np.array([0.5, 0.5, 0.5], np.float32)
    studio_config().getProcessor("sRGB - Texture", "ACEScg").getDefaultCPUProcessor().applyRGB(rgb)
    np.testing.assert_allclose(rgb, 0.21404114, rtol=1e-4)
    assert OCIO.GetVersion()
