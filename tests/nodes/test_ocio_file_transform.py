"""OCIOFileTransform through the engine on every backend, against OpenColorIO's own
FileTransform on the unpremultiplied colour, and a 1D LUT against numpy's interpolation."""

from __future__ import annotations

import numpy as np
import PyOpenColorIO as OCIO
import pytest

import mattebox as mb
from tests.conftest import random_image
from tests.nodes.test_ocio_colorspace import ATOL, ocio_reference, studio_config


def write_cube_3d(path, size, seed):
    """A random, smooth-ish 3D LUT: identity plus a random cross-talk, as .cube (red fastest)."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(0.0, 1.0, size)
    b, g, r = np.meshgrid(grid, grid, grid, indexing="ij")
    rgb = np.stack([r, g, b], axis=-1).reshape(-1, 3)
    table = rgb @ (np.eye(3) + rng.uniform(-0.2, 0.2, (3, 3))).T + rng.uniform(
        -0.02, 0.02, rgb.shape
    )
    lines = [f"LUT_3D_SIZE {size}"] + [f"{x:.6f} {y:.6f} {z:.6f}" for x, y, z in table]
    path.write_text("\n".join(lines) + "\n")


def write_cube_1d(path, values):
    """A 1D .cube LUT, the same curve on the three channels, over the domain [0, 1]."""
    lines = [f"LUT_1D_SIZE {len(values)}"] + [f"{v:.6f} {v:.6f} {v:.6f}" for v in values]
    path.write_text("\n".join(lines) + "\n")


def file_processor(path, direction, interpolation):
    transform = OCIO.FileTransform(
        src=str(path),
        interpolation=OCIO.Interpolation.__members__[f"INTERP_{interpolation.upper()}"],
        direction=OCIO.TRANSFORM_DIR_INVERSE
        if direction == "inverse"
        else OCIO.TRANSFORM_DIR_FORWARD,
    )
    return studio_config().getProcessor(transform)


@pytest.mark.parametrize("interpolation", ["linear", "tetrahedral"])
def test_a_3d_lut_matches_ocio(backend, array_source, tmp_path, interpolation):
    lut = tmp_path / "look.cube"
    write_cube_3d(lut, 9, seed=31)
    pixels = random_image(11, 15, seed=32, lo=0.02, hi=0.95)
    g = mb.Graph()
    node = g.add(
        "OCIOFileTransform",
        inputs={"Source": array_source(g, pixels)},
        file=str(lut),
        interpolation=interpolation,
    )
    out = g.render(node, frame=1, backend=backend)
    expected = ocio_reference(file_processor(lut, "forward", interpolation), pixels)
    np.testing.assert_allclose(out.pixels, expected, rtol=1e-4, atol=ATOL)


def test_a_1d_lut_is_linear_interpolation_and_inverts(backend, array_source, tmp_path):
    lut = tmp_path / "curve.cube"
    entries = np.linspace(0.0, 1.0, 17) ** 1.7  # monotonic, so the inverse exists
    write_cube_1d(lut, entries)
    pixels = random_image(9, 13, seed=33, lo=0.02, hi=0.98)
    g = mb.Graph()
    source = array_source(g, pixels)
    forward = g.add("OCIOFileTransform", inputs={"Source": source}, file=str(lut))
    out = g.render(forward, frame=1, backend=backend)
    alpha = pixels[..., 3:4].astype(np.float64)
    curve = np.interp(pixels[..., :3] / alpha, np.linspace(0.0, 1.0, 17), entries)
    np.testing.assert_allclose(out.pixels[..., :3], curve * alpha, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(out.pixels[..., 3], pixels[..., 3])
    back = g.add(
        "OCIOFileTransform", inputs={"Source": forward}, file=str(lut), direction="inverse"
    )
    expected = ocio_reference(file_processor(lut, "inverse", "linear"), out.pixels)
    np.testing.assert_allclose(
        g.render(back, frame=1, backend=backend).pixels, expected, rtol=1e-4, atol=ATOL
    )


def test_a_missing_lut_names_the_node(array_source, tmp_path):
    g = mb.Graph()
    node = g.add(
        "OCIOFileTransform",
        inputs={"Source": array_source(g, random_image(4, 4, seed=34))},
        file=str(tmp_path / "nope.cube"),
    )
    with pytest.raises(mb.RenderError, match="OCIOFileTransform1.*nope.cube"):
        g.render(node, frame=1, backend="cpu")
