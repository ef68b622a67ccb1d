"""ColorMatrix, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.color.color_matrix import ColorMatrix
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.spec import Context, Format
from tests.conftest import compile_wgsl, random_image

RTOL, ATOL = 1e-5, 1e-6  # a float32 3×3 product (inverse: of a well-conditioned matrix)
ROWS = {
    "row0": (1.2, -0.15, 0.05, 0.02),
    "row1": (-0.1, 0.9, 0.3, -0.03),
    "row2": (0.05, 0.1, 1.1, 0.01),
}


def reference_color_matrix(pixels, rows, invert=False, mix=1.0):
    """``M @ rgb + offset`` (or the solution of ``M @ x + offset = rgb``), blended by ``mix``."""
    matrix = np.array([rows[k][:3] for k in ("row0", "row1", "row2")])
    offset = np.array([rows[k][3] for k in ("row0", "row1", "row2")])
    rgb = pixels[..., :3].reshape(-1, 3).T
    if invert:
        result = np.linalg.solve(matrix, rgb - offset[:, None])
    else:
        result = matrix @ rgb + offset[:, None]
    out = pixels.copy()
    out[..., :3] += (result.T.reshape(pixels.shape[:2] + (3,)) - pixels[..., :3]) * mix
    return out


def render(backend, array_source, pixels, **params):
    g = mb.Graph()
    node = g.add("ColorMatrix", inputs={"Source": array_source(g, pixels)}, **params)
    return g.render(node, frame=1, backend=backend)


@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize("mix", [1.0, 0.6])
def test_color_matrix(backend, array_source, invert, mix):
    pixels = random_image(17, 23, seed=1)
    out = render(backend, array_source, pixels, **ROWS, invert=invert, mix=mix)
    expected = reference_color_matrix(pixels.astype(np.float64), ROWS, invert, mix)
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)
    assert out.data_window == (0, 0, 23, 17)


def test_color_matrix_invert_undoes_forward(backend, array_source):
    pixels = random_image(13, 11, seed=2)
    g = mb.Graph()
    forward = g.add("ColorMatrix", inputs={"Source": array_source(g, pixels)}, **ROWS)
    node = g.add("ColorMatrix", inputs={"Source": forward}, **ROWS, invert=True)
    out = g.render(node, frame=1, backend=backend)
    np.testing.assert_allclose(out.pixels, pixels, rtol=RTOL, atol=ATOL)


SINGULAR = {
    "row0": (1.0, 2.0, 3.0, 0.0),
    "row1": (2.0, 4.0, 6.0, 0.1),
    "row2": (0.0, 0.0, 1.0, 0.0),
}


def test_singular_matrix_refused_at_pack():
    values = {**ColorMatrix.defaults(), **SINGULAR, "invert": True}
    ctx = Context(frame=1, script_format=Format(64, 64))
    with pytest.raises(ValueError, match=r"^invert: .*row0, row1, row2 is singular"):
        ColorMatrix.pack(values, ctx)
    values["invert"] = False  # only the inverse needs a regular matrix
    assert len(ColorMatrix.pack(values, ctx)) == 13


def test_singular_matrix_render_error_names_node(array_source):
    g = mb.Graph()
    node = g.add(
        "ColorMatrix",
        inputs={"Source": array_source(g, random_image(5, 7))},
        **SINGULAR,
        invert=True,
    )
    with pytest.raises(mb.RenderError, match=r"^ColorMatrix1: invert: .*singular"):
        g.render(node, frame=1, backend="cpu")


def test_color_matrix_wgsl_compiles():
    source = wgsl_source(ColorMatrix.__module__)
    compile_wgsl(source, "OUT[0] = color_matrix_point(vec4<f32>(0.5, 0.25, 0.125, 0.75), 0u);")
