"""Write through the engine on every backend, checked by reading the files back with
OpenImageIO directly (and OpenColorIO's CPU processor where colour is converted)."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest

import mattebox as mb
from tests.conftest import random_image
from tests.nodes.test_ocio_colorspace import studio_config
from tests.nodes.test_read import oiio_pixels


def _written(g, write, backend, frames=(1,)):
    return g.execute([write], frames=list(frames), backend=backend)


def test_a_float_exr_holds_the_pixels_and_the_windows(backend, array_source, tmp_path):
    pixels = random_image(10, 14, seed=80, lo=-2.0, hi=50.0)
    g = mb.Graph()
    source = array_source(g, pixels, window=(-3, 2, 11, 12), size=(12, 9))
    path = tmp_path / "out.exr"
    write = g.add(
        "Write", inputs={"Source": source}, file=str(path), colorspace="Raw", datatype="float"
    )
    assert _written(g, write, backend) == [str(path)]
    np.testing.assert_array_equal(oiio_pixels(path), pixels)
    spec = oiio.ImageInput.open(str(path)).spec()
    assert (spec.x, spec.y, spec.width, spec.height) == (-3, 2, 14, 10)
    assert (spec.full_width, spec.full_height) == (12, 9)
    assert spec.format == oiio.FLOAT and spec.get_string_attribute("compression") == "zip"


@pytest.mark.parametrize("compression", ["none", "piz", "dwaa"])
def test_a_half_exr_rounds_like_numpy(backend, array_source, tmp_path, compression):
    pixels = random_image(8, 16, seed=81, lo=-1.0, hi=8.0)
    g = mb.Graph()
    path = tmp_path / f"half_{compression}.exr"
    write = g.add(
        "Write",
        inputs={"Source": array_source(g, pixels)},
        file=str(path),
        colorspace="Raw",
        compression=compression,
    )
    _written(g, write, backend)
    expected = pixels.astype(np.float16).astype(np.float32)
    if compression == "dwaa":  # lossy on colour; alpha (and the file's type) kept
        np.testing.assert_allclose(oiio_pixels(path), expected, rtol=0.05, atol=0.05)
    else:
        np.testing.assert_array_equal(oiio_pixels(path), expected)
    assert oiio.ImageInput.open(str(path)).spec().format == oiio.HALF


def test_an_8_bit_png_is_srgb_unassociated_and_quantised(backend, array_source, tmp_path):
    pixels = random_image(9, 12, seed=82, lo=0.0, hi=1.0)
    g = mb.Graph()
    path = tmp_path / "out.png"
    write = g.add(
        "Write", inputs={"Source": array_source(g, pixels)}, file=str(path), datatype="uint8"
    )
    _written(g, write, backend)
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)  # the values as stored
    stored = oiio.ImageBuf(str(path), 0, 0, config).get_pixels(oiio.FLOAT)
    alpha = pixels[..., 3:4]
    rgb = np.ascontiguousarray(pixels[..., :3] / alpha, np.float32)
    studio_config().getProcessor("ACEScg", "sRGB - Texture").getDefaultCPUProcessor().applyRGB(rgb)
    expected = np.clip(np.concatenate([rgb, alpha], axis=-1), 0.0, 1.0)
    np.testing.assert_allclose(stored, expected, rtol=0, atol=1.0 / 255 + 1e-4)  # one code value
    np.testing.assert_allclose(stored, np.round(stored * 255) / 255, atol=1e-6)


def test_a_sequence_writes_one_file_per_frame(backend, array_source, tmp_path):
    pixels = random_image(6, 7, seed=83)
    g = mb.Graph()
    gain = {"keys": [[1, 1.0], [3, 3.0]], "interpolation": "linear"}
    grade = g.add(
        "Grade", inputs={"Source": array_source(g, pixels)}, multiply=gain, black_clamp=False
    )
    write = g.add(
        "Write",
        inputs={"Source": grade},
        file=str(tmp_path / "seq" / "comp.####.exr"),
        colorspace="Raw",
        datatype="float",
    )
    paths = _written(g, write, backend, frames=(1, 2, 3))
    assert paths == [str(tmp_path / "seq" / f"comp.{f:04d}.exr") for f in (1, 2, 3)]
    for f, path in zip((1, 2, 3), paths):
        expected = pixels.astype(np.float64) * np.array([f, f, f, 1.0])  # Grade: rgb
        np.testing.assert_allclose(oiio_pixels(path), expected, rtol=1e-6, atol=1e-6)


def test_a_write_shows_its_input_in_the_viewer(backend, array_source, tmp_path):
    pixels = random_image(5, 5, seed=84)
    g = mb.Graph()
    write = g.add("Write", inputs={"Source": array_source(g, pixels)}, file=str(tmp_path / "x.exr"))
    np.testing.assert_array_equal(g.render(write, frame=1, backend=backend).pixels, pixels)
    assert not (tmp_path / "x.exr").exists()  # showing it writes nothing


def test_a_format_that_cannot_hold_the_type_is_refused_before_writing(array_source, tmp_path):
    g = mb.Graph()
    path = tmp_path / "out.jpg"
    write = g.add(
        "Write",
        inputs={"Source": array_source(g, random_image(4, 4, seed=85))},
        file=str(path),
        datatype="float",
    )
    with pytest.raises(mb.RenderError, match="Write1"):
        _written(g, write, "cpu")
    assert list(tmp_path.glob("out*")) == []


@pytest.mark.parametrize(
    ("ext", "datatype"), [("jpg", "uint8"), ("dpx", "uint16"), ("png", "uint8")]
)
def test_the_default_compression_is_ignored_where_the_format_has_no_choice(
    array_source, tmp_path, ext, datatype
):
    """``compression`` is for EXR and TIFF: a JPEG or DPX written with the defaults works."""
    pixels = random_image(6, 8, seed=86, lo=0.0, hi=1.0)
    g = mb.Graph()
    path = tmp_path / f"out.{ext}"
    write = g.add(
        "Write", inputs={"Source": array_source(g, pixels)}, file=str(path), datatype=datatype
    )
    assert _written(g, write, "cpu") == [str(path)]
    assert oiio_pixels(path).shape[:2] == (6, 8)
