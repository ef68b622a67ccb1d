"""Checkerboard: alternating squares of two colours (Nuke's CheckerBoard), for checking
transforms and filters."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.source.constant import (
    FormatSource,
    format_params,
    source_format,
)
from mattebox.nodes.spec import RGBA, Int, Window, register


@register
class Checkerboard(FormatSource):
    """Squares of ``size`` pixels alternating between ``color0`` and ``color1``.

    The square at the top-left corner (pixels ``0..size-1`` on both axes) is ``color0``;
    pixel ``(x, y)`` is ``color0`` where ``x // size + y // size`` is even and ``color1``
    where it is odd. The data window is the whole format (``width`` × ``height``, 0 meaning
    the script format's size); outside it the image is transparent black.
    """

    type_name = "Checkerboard"
    params = (
        Int("size", 64, "Side of each square in pixels.", min=1, soft_max=512, spatial=True),
        RGBA(
            "color0",
            (0.1, 0.1, 0.1, 1.0),
            "Colour of the top-left square and its diagonal.",
            soft_min=0.0,
            soft_max=1.0,
        ),
        RGBA(
            "color1",
            (0.5, 0.5, 0.5, 1.0),
            "Colour of the other squares.",
            soft_min=0.0,
            soft_max=1.0,
        ),
        *format_params("board"),
    )

    @classmethod
    def pixels_inside(cls, values, inside: Window, fmt) -> np.ndarray:
        """The squares."""
        size = values["size"]
        columns = np.arange(inside.x0, inside.x1) // size
        rows = np.arange(inside.y0, inside.y1) // size
        odd = ((rows[:, None] + columns[None, :]) % 2 == 1)[..., None]
        colors = np.array([values["color0"], values["color1"]], np.float32)
        return np.where(odd, colors[1], colors[0])

    @classmethod
    def pack(cls, values, ctx) -> list[float]:
        """size, color0 (4), color1 (4), width, height: what ``checkerboard_source`` reads."""
        fmt = source_format(values, ctx)
        return [
            float(values["size"]),
            *values["color0"],
            *values["color1"],
            float(fmt.width),
            float(fmt.height),
        ]
