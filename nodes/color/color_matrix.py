"""ColorMatrix: a 3×3 matrix (plus an offset column) on RGB (Nuke's ColorMatrix)."""

from __future__ import annotations

from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import RGBA, Bool, Float, Kind, NodeSpec, ParamError, register

IDENTITY_ROWS = ((1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0))
SINGULAR = 1e-12  # |det| at or below this times the largest entry cubed: no inverse


@kernel
def color_matrix_point(r, g, b, a, p):
    """p: the 3×4 affine matrix row by row (m0 m1 m2 offset) then mix."""
    mix = p[12]
    mr = p[0] * r + p[1] * g + p[2] * b + p[3]
    mg = p[4] * r + p[5] * g + p[6] * b + p[7]
    mb = p[8] * r + p[9] * g + p[10] * b + p[11]
    return r + (mr - r) * mix, g + (mg - g) * mix, b + (mb - b) * mix, a


def _inverse_affine(rows: list[list[float]]) -> list[list[float]]:
    """Inverse of ``x -> M x + t`` (rows ``[m0, m1, m2, t]``): ``x -> M⁻¹ x - M⁻¹ t``."""
    (a, b, c, t0), (d, e, f, t1), (g, h, i, t2) = rows
    cof = [
        [e * i - f * h, c * h - b * i, b * f - c * e],
        [f * g - d * i, a * i - c * g, c * d - a * f],
        [d * h - e * g, b * g - a * h, a * e - b * d],
    ]
    det = a * cof[0][0] + b * cof[1][0] + c * cof[2][0]
    scale = max(abs(v) for row in rows for v in row[:3])
    if scale == 0.0 or abs(det) <= SINGULAR * scale**3:
        raise ParamError(
            f"invert: the matrix in row0, row1, row2 is singular (determinant {det:g}), "
            "so it has no inverse; turn invert off or change the rows"
        )
    inv = [[v / det for v in row] for row in cof]
    offset = [-(inv[k][0] * t0 + inv[k][1] * t1 + inv[k][2] * t2) for k in range(3)]
    return [[*inv[k], offset[k]] for k in range(3)]


@register
class ColorMatrix(NodeSpec):
    """Multiplies RGB by a 3×3 matrix and adds an offset; alpha passes through.

    Each row gives one output channel: ``out.r = row0[0]*r + row0[1]*g + row0[2]*b + row0[3]``
    (the fourth component of a row is that channel's offset), likewise ``row1`` for green
    and ``row2`` for blue. With ``invert`` the inverse transform is applied (refused with an
    error when the matrix is singular). ``mix`` blends with the input. The matrix part
    commutes with premultiplication; a non-zero offset adds colour to transparent pixels.
    """

    type_name = "ColorMatrix"
    family = "color"
    kind = Kind.POINT
    params = (
        RGBA(
            "row0", IDENTITY_ROWS[0], "Red out = row0 · (r, g, b) + row0's fourth value (offset)."
        ),
        RGBA(
            "row1", IDENTITY_ROWS[1], "Green out = row1 · (r, g, b) + row1's fourth value (offset)."
        ),
        RGBA(
            "row2", IDENTITY_ROWS[2], "Blue out = row2 · (r, g, b) + row2's fourth value (offset)."
        ),
        Bool(
            "invert",
            False,
            "Apply the inverse of the matrix and offset (undo a previous ColorMatrix).",
        ),
        Float("mix", 1.0, "Blend between the input (0) and the result (1).", min=0, max=1),
    )
    cpu_point = color_matrix_point

    @classmethod
    def pack(cls, values, ctx):
        rows = [list(values[name]) for name in ("row0", "row1", "row2")]
        if values["invert"]:
            rows = _inverse_affine(rows)
        return [v for row in rows for v in row] + [values["mix"]]

    @classmethod
    def pass_through(cls, values):
        rows = tuple(tuple(values[name]) for name in ("row0", "row1", "row2"))
        return "Source" if values["mix"] == 0.0 or rows == IDENTITY_ROWS else None
