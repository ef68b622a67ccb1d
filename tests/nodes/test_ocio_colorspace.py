"""OCIOColorSpace through the engine on every backend, against OpenColorIO's own CPU
processor applied to the unpremultiplied colour (premultiplied again afterwards)."""

from __future__ import annotations

import numpy as np
import PyOpenColorIO as OCIO
import pytest

import mattebox as mb
from mattebox.engine import color
from tests.conftest import random_image

ATOL = 1e-4  # the GPU runs OCIO's shader translated to WGSL (tests/engine/test_gpu_ocio.py)


def ocio_reference(processor: OCIO.Processor, pixels: np.ndarray) -> np.ndarray:
    """OCIO's CPU processor in one call on unpremultiplied colour; alpha kept."""
    alpha = pixels[..., 3:4].astype(np.float32)
    rgb = np.ascontiguousarray(pixels[..., :3] / alpha, np.float32)
    processor.getDefaultCPUProcessor().applyRGB(rgb)
    return np.concatenate([rgb * alpha, alpha], axis=-1)


def studio_config() -> OCIO.Config:
    return OCIO.Config.CreateFromFile(color.resolve_config_uri(None))


@pytest.mark.parametrize(
    "src, dst",
    [
        ("ACEScg", "ACES2065-1"),
        ("ACEScg", "sRGB - Texture"),
        ("ACEScct", "Linear Rec.709 (sRGB)"),
        ("scene_linear", "ACEScc"),
    ],
)
def test_ocio_colorspace_matches_ocio(backend, array_source, src, dst):
    pixels = random_image(13, 21, seed=11, lo=0.01, hi=1.2)
    g = mb.Graph()
    node = g.add(
        "OCIOColorSpace",
        inputs={"Source": array_source(g, pixels)},
        in_colorspace=src,
        out_colorspace=dst,
    )
    out = g.render(node, frame=1, backend=backend)
    expected = ocio_reference(studio_config().getProcessor(src, dst), pixels)
    np.testing.assert_allclose(out.pixels, expected, rtol=1e-4, atol=ATOL)
    assert not np.allclose(out.pixels, pixels, atol=1e-3)  # the transform did something


def test_ocio_colorspace_round_trip_restores_the_pixels(backend, array_source):
    pixels = random_image(9, 11, seed=12, lo=0.01, hi=1.0)
    g = mb.Graph()
    there = g.add(
        "OCIOColorSpace",
        inputs={"Source": array_source(g, pixels)},
        in_colorspace="ACEScg",
        out_colorspace="ACEScct",
    )
    back = g.add(
        "OCIOColorSpace", inputs={"Source": there}, in_colorspace="ACEScct", out_colorspace="ACEScg"
    )
    out = g.render(back, frame=1, backend=backend)
    np.testing.assert_allclose(out.pixels, pixels, rtol=1e-4, atol=1e-4)


def test_an_unknown_colour_space_names_the_node(array_source):
    g = mb.Graph()
    node = g.add(
        "OCIOColorSpace",
        inputs={"Source": array_source(g, random_image(4, 4, seed=13))},
        in_colorspace="ACEScg",
        out_colorspace="ACEScgg",
    )
    with pytest.raises(mb.RenderError, match="OCIOColorSpace1.*ACEScgg"):
        g.render(node, frame=1, backend="cpu")
