"""Transform: translate, rotate and scale about a centre (Nuke's Transform)."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.spec import Float, Vec2, register
from mattebox.nodes.transform import resample
from mattebox.nodes.transform.resample import AffineResample


@register
class Transform(AffineResample):
    """Moves, rotates and scales the image, resampling it with ``filter``.

    The map from input to output pixels is
    ``translate(translate) · translate(center) · rotate(rotate) · scale(scale) ·
    translate(-center)``: scale, then rotate about ``center``, then move. Rotation is
    counter-clockwise on screen. ``center`` is in pixels of the image (origin top-left,
    y down); its default (0, 0) is the top-left corner, so set it (e.g. to the format's
    centre) to spin an image about its middle. The format stays the input's; the data
    window follows the image. Minifying scales widen the filter (antialiased); an identity
    transform passes the input through unchanged.
    """

    type_name = "Transform"
    params = (
        Vec2("translate", (0.0, 0.0), "Move, in pixels (x right, y down).", spatial=True),
        Float(
            "rotate",
            0.0,
            "Rotation in degrees, counter-clockwise on screen.",
            soft_min=-180.0,
            soft_max=180.0,
        ),
        Vec2("scale", (1.0, 1.0), "Scale along x and y about the centre (negative flips)."),
        Vec2("center", (0.0, 0.0), "Pivot of rotation and scale, in image pixels.", spatial=True),
        resample.filter_param(),
    )

    @classmethod
    def pass_through(cls, values):
        identity = (
            tuple(values["translate"]) == (0.0, 0.0)
            and values["rotate"] == 0.0
            and tuple(values["scale"]) == (1.0, 1.0)
        )
        return "Source" if identity else None

    @classmethod
    def forward_matrix(cls, values, ctx, source) -> np.ndarray:
        tx, ty = values["translate"]
        cx, cy = values["center"]
        sx, sy = values["scale"]
        return (
            resample.translate(tx, ty)
            @ resample.translate(cx, cy)
            @ resample.rotate(values["rotate"])
            @ resample.scale(sx, sy)
            @ resample.translate(-cx, -cy)
        )
