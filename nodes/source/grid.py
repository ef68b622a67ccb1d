"""Grid: lines of colour every ``size`` pixels across and down, on transparent black (Nuke's
Grid), for checking transforms and lens distortion."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.source.constant import (
    FormatSource,
    format_params,
    source_format,
)
from mattebox.nodes.spec import RGBA, Float, Window, register


def on_lines(starts: np.ndarray, size: float, thickness: float) -> np.ndarray:
    """Whether each pixel ``[s, s + 1)`` overlaps a line ``[k * size, k * size + thickness)``."""
    if thickness <= 0.0:
        return np.zeros(starts.shape, bool)
    r = starts - size * np.floor(starts / size)  # from the line at or before the pixel
    return (r < thickness) | (size - r < 1.0)  # that line reaches it, or the next starts in it


@register
class Grid(FormatSource):
    """Lines of ``color`` every ``size`` pixels across and down, on transparent black.

    The lines start at multiples of ``size`` from the format's top-left corner and are
    ``thickness`` pixels wide: vertical line ``k`` covers ``k * size <= x < k * size +
    thickness``, horizontal lines likewise in y. A pixel is ``color`` where its square
    overlaps a line of either direction, and transparent black elsewhere (no
    antialiasing); so with whole numbers the columns ``k * size .. k * size + thickness - 1``
    are lit, and a line thinner than a pixel (a proxy render's) still lights one pixel.
    ``thickness`` 0 draws nothing. The data window is the whole format (``width`` ×
    ``height``, 0 meaning the script format's size); outside it the image is transparent
    black.
    """

    type_name = "Grid"
    params = (
        Float(
            "size",
            64.0,
            "Distance between lines in pixels (the cell size).",
            min=1.0,
            soft_max=512.0,
            spatial=True,
        ),
        Float(
            "thickness",
            1.0,
            "Width of each line in pixels (0: no lines).",
            min=0.0,
            soft_max=16.0,
            spatial=True,
        ),
        RGBA(
            "color",
            1.0,
            "Colour of the lines (premultiplied RGBA).",
            soft_min=0.0,
            soft_max=1.0,
        ),
        *format_params("grid"),
    )

    @classmethod
    def pixels_inside(cls, values, inside: Window, fmt) -> np.ndarray:
        """The lines on transparent black."""
        size, thickness = values["size"], values["thickness"]
        columns = on_lines(np.arange(inside.x0, inside.x1, dtype=np.float64), size, thickness)
        rows = on_lines(np.arange(inside.y0, inside.y1, dtype=np.float64), size, thickness)
        lit = (rows[:, None] | columns[None, :])[..., None]
        color = np.array(values["color"], np.float32)
        return np.where(lit, color, np.float32(0.0))

    @classmethod
    def pack(cls, values, ctx) -> list[float]:
        """size, thickness, color (4), width, height: what ``grid_source`` reads."""
        fmt = source_format(values, ctx)
        return [
            values["size"],
            values["thickness"],
            *values["color"],
            float(fmt.width),
            float(fmt.height),
        ]
