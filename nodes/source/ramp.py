"""Ramp: a linear gradient between two colours along a line (Nuke's Ramp)."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.source.constant import (
    FormatSource,
    format_params,
    pixel_centres,
    source_format,
)
from mattebox.nodes.spec import RGBA, Vec2, Window, register


@register
class Ramp(FormatSource):
    """A linear ramp from ``color0`` at ``p0`` to ``color1`` at ``p1``.

    The pixel ``(x, y)`` is ``color0 + (color1 - color0) * t``, where ``t`` is the position
    of its centre ``(x + 0.5, y + 0.5)`` projected onto the line from ``p0`` to ``p1``
    (0 at ``p0``, 1 at ``p1``), clamped to ``[0, 1]``: before ``p0`` the ramp is
    ``color0``, past ``p1`` it is ``color1``, and lines perpendicular to ``p0 → p1`` have one
    colour. Points are in pixels of the format, origin top-left, y down. When ``p0`` equals
    ``p1`` there is no direction and every pixel is ``color1``. The data window is the whole
    format (``width`` × ``height``, 0 meaning the script format's size); outside it the
    image is transparent black.
    """

    type_name = "Ramp"
    params = (
        Vec2("p0", (0.0, 0.0), "Where the ramp is color0 (pixels, origin top-left).", spatial=True),
        Vec2(
            "p1", (1920.0, 0.0), "Where the ramp is color1 (pixels, origin top-left).", spatial=True
        ),
        RGBA(
            "color0",
            (0.0, 0.0, 0.0, 1.0),
            "Colour at p0 and before it (premultiplied RGBA).",
            soft_min=0.0,
            soft_max=1.0,
        ),
        RGBA(
            "color1",
            (1.0, 1.0, 1.0, 1.0),
            "Colour at p1 and beyond it (premultiplied RGBA).",
            soft_min=0.0,
            soft_max=1.0,
        ),
        *format_params("ramp"),
    )

    @classmethod
    def pixels_inside(cls, values, inside: Window, fmt) -> np.ndarray:
        """The ramp."""
        ys, xs = pixel_centres(inside)
        (ax, ay), (bx, by) = values["p0"], values["p1"]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        if length2 > 0.0:
            t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length2, 0.0, 1.0)
        else:
            t = np.ones((inside.height, inside.width))
        color0 = np.array(values["color0"], np.float64)
        color1 = np.array(values["color1"], np.float64)
        pixels = color0 + (color1 - color0) * t[..., None]
        return pixels.astype(np.float32)

    @classmethod
    def pack(cls, values, ctx) -> list[float]:
        """p0 (2), p1 (2), color0 (4), color1 (4), width, height: what ``ramp_source`` reads."""
        fmt = source_format(values, ctx)
        return [
            *values["p0"],
            *values["p1"],
            *values["color0"],
            *values["color1"],
            float(fmt.width),
            float(fmt.height),
        ]
