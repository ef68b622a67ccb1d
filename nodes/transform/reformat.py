"""Reformat: resize the image to a new format (Nuke's Reformat, "to format")."""

from __future__ import annotations

import math

import numpy as np

from mattebox.nodes import limits
from mattebox.nodes.spec import Enum, Format, Int, register
from mattebox.nodes.transform import resample
from mattebox.nodes.transform.resample import AffineResample

RESIZE_TYPES = ("width", "height", "fit", "fill", "distort", "none")


def target_format(values: dict, ctx) -> Format:
    """The new format: ``width`` × ``height``, where 0 takes the script format's size."""
    script = ctx.script_format
    if values["width"] == 0 and values["height"] == 0:
        return script
    return Format(values["width"] or script.width, values["height"] or script.height)


def resize_scales(resize: str, source: Format, target: Format) -> tuple[float, float]:
    """The x and y scale factors of a resize type from ``source`` to ``target``."""
    sx = target.width / source.width
    sy = target.height / source.height
    uniform = {"width": sx, "height": sy, "fit": min(sx, sy), "fill": max(sx, sy), "none": 1.0}
    if resize == "distort":
        return sx, sy
    return uniform[resize], uniform[resize]


def _centring(size_in: int, size_out: int, s: float) -> float:
    offset = size_out / 2.0 - s * size_in / 2.0
    return float(math.floor(offset + 0.5)) if s == 1.0 else offset


@register
class Reformat(AffineResample):
    """Resizes the image to a new format, scaling it as ``resize`` says, centred.

    ``resize`` (Nuke's resize types): ``width`` scales uniformly so the input format's
    width fills the new width; ``height`` the same with heights; ``fit`` scales uniformly
    so the whole input fits inside; ``fill`` so it covers the new format; ``distort``
    scales x and y separately to match exactly; ``none`` keeps the pixel size. The input
    format's centre lands on the new format's centre (moved by whole pixels along an axis
    that is not scaled, so it stays sharp). The output's format is the new one, with the
    script format's pixel aspect when both sizes are 0 and square pixels otherwise; its
    data window is the input's data window resized, not clipped to the format. Pixel
    aspect is not compensated.
    """

    type_name = "Reformat"
    params = (
        Int(
            "width",
            0,
            "New format width in pixels; 0 uses the script format's.",
            min=0,
            max=limits.MAX_IMAGE_SIZE,
            soft_max=8192,
            spatial=True,
        ),
        Int(
            "height",
            0,
            "New format height in pixels; 0 uses the script format's.",
            min=0,
            max=limits.MAX_IMAGE_SIZE,
            soft_max=8192,
            spatial=True,
        ),
        Enum("resize", RESIZE_TYPES, "width", "How the image is scaled into the new format."),
        resample.filter_param(),
    )

    @classmethod
    def output_format(cls, values, ctx, source) -> Format:
        return target_format(values, ctx)

    @classmethod
    def forward_matrix(cls, values, ctx, source) -> np.ndarray:
        before = source.format
        after = target_format(values, ctx)
        sx, sy = resize_scales(values["resize"], before, after)
        tx = _centring(before.width, after.width, sx)
        ty = _centring(before.height, after.height, sy)
        return resample.translate(tx, ty) @ resample.scale(sx, sy)
