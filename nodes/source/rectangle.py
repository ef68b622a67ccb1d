"""Rectangle: a box of colour with soft edges on transparent black (Nuke's Rectangle)."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.source.constant import (
    FormatSource,
    format_params,
    pixel_centres,
    source_format,
)
from mattebox.nodes.spec import RGBA, Float, Window, register


def edge_coverage(centres: np.ndarray, a: float, b: float, softness: float) -> np.ndarray:
    """Coverage along one axis: 1 from ``min(a, b)`` to ``max(a, b)``, falling linearly to 0
    over ``softness`` pixels outside them (a hard edge, inclusive, for ``softness`` 0)."""
    outside = np.maximum(np.maximum(min(a, b) - centres, centres - max(a, b)), 0.0)
    if softness <= 0.0:
        return (outside == 0.0).astype(np.float64)
    return np.clip(1.0 - outside / softness, 0.0, 1.0)


@register
class Rectangle(FormatSource):
    """A rectangle of ``color`` on transparent black.

    ``box`` is ``(x0, y0, x1, y1)`` in pixels of the format (origin top-left, y down; not
    rounded, so edges may fall inside pixels; swapped corners give the same box). A pixel
    whose centre ``(x + 0.5, y + 0.5)`` lies inside the box, edges included, is ``color``:
    for a box of whole numbers that is columns ``x0 .. x1 - 1`` and rows ``y0 .. y1 - 1``,
    as Crop keeps. Outside, each axis falls off linearly over ``softness`` pixels,
    ``max(0, 1 - distance / softness)`` with ``distance`` from the centre to the box's
    edges on that axis, and the pixel is ``color`` times the product of the two axes (so
    corners round off as the product of two ramps). The data window is the whole format
    (``width`` × ``height``, 0 meaning the script format's size); outside it the image is
    transparent black.
    """

    type_name = "Rectangle"
    params = (
        RGBA(
            "box",
            (480.0, 270.0, 1440.0, 810.0),
            "The rectangle: x0, y0, x1, y1 in pixels (origin top-left).",
            spatial=True,
        ),
        Float(
            "softness",
            0.0,
            "Width in pixels of the linear falloff outside the edges (0: hard edges).",
            min=0.0,
            soft_max=256.0,
            spatial=True,
        ),
        RGBA(
            "color",
            1.0,
            "Colour inside the rectangle (premultiplied RGBA).",
            soft_min=0.0,
            soft_max=1.0,
        ),
        *format_params("image"),
    )

    @classmethod
    def pixels_inside(cls, values, inside: Window, fmt) -> np.ndarray:
        """The rectangle on transparent black."""
        ys, xs = pixel_centres(inside)
        x0, y0, x1, y1 = values["box"]
        softness = values["softness"]
        k = edge_coverage(xs, x0, x1, softness) * edge_coverage(ys, y0, y1, softness)
        pixels = np.array(values["color"], np.float64) * k[..., None]
        return pixels.astype(np.float32)

    @classmethod
    def pack(cls, values, ctx) -> list[float]:
        """box (4), softness, color (4), width, height: what ``rectangle_source`` reads."""
        fmt = source_format(values, ctx)
        return [
            *values["box"],
            values["softness"],
            *values["color"],
            float(fmt.width),
            float(fmt.height),
        ]
