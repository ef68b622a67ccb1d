"""Radial: a disc of colour with a soft edge on transparent black (Nuke's Radial)."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.source.constant import (
    FormatSource,
    format_params,
    pixel_centres,
    source_format,
)
from mattebox.nodes.spec import RGBA, Float, Vec2, Window, register


def disc_coverage(distance: np.ndarray, radius: float, softness: float) -> np.ndarray:
    """1 up to ``radius * (1 - softness)``, a smoothstep down to 0 at ``radius``, 0 beyond."""
    inner = radius * (1.0 - softness)
    if radius <= inner:  # no soft band: a hard edge
        return (distance < radius).astype(np.float64)
    s = np.clip((radius - distance) / (radius - inner), 0.0, 1.0)
    return s * s * (3.0 - 2.0 * s)


@register
class Radial(FormatSource):
    """A disc of ``color`` around ``center`` on transparent black.

    With ``d`` the distance from ``center`` to the pixel centre ``(x + 0.5, y + 0.5)`` and
    ``inner = radius * (1 - softness)``, the pixel is ``color * k``: ``k`` is 1 where
    ``d <= inner``, 0 where ``d >= radius``, and between them the smoothstep
    ``s² (3 - 2s)`` of ``s = (radius - d) / (radius - inner)``, so the edge falls off with no
    kink at either end. ``softness`` 0 gives a hard edge (1 where ``d < radius``); 1 falls
    off from the centre itself. ``center`` is in pixels of the format, origin top-left,
    y down. The data window is the whole format (``width`` × ``height``, 0 meaning the
    script format's size); outside it the image is transparent black.
    """

    type_name = "Radial"
    params = (
        Vec2(
            "center", (960.0, 540.0), "Centre of the disc (pixels, origin top-left).", spatial=True
        ),
        Float(
            "radius",
            256.0,
            "Radius of the disc in pixels, where it reaches 0.",
            min=0.0,
            soft_max=2048.0,
            spatial=True,
        ),
        Float(
            "softness",
            0.5,
            "Fraction of the radius over which the edge falls off (0 hard, 1 from the centre).",
            min=0.0,
            max=1.0,
        ),
        RGBA(
            "color",
            1.0,
            "Colour inside the disc (premultiplied RGBA).",
            soft_min=0.0,
            soft_max=1.0,
        ),
        *format_params("image"),
    )

    @classmethod
    def pixels_inside(cls, values, inside: Window, fmt) -> np.ndarray:
        """The disc on transparent black."""
        ys, xs = pixel_centres(inside)
        cx, cy = values["center"]
        distance = np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2)
        k = disc_coverage(distance, values["radius"], values["softness"])
        pixels = np.array(values["color"], np.float64) * k[..., None]
        return pixels.astype(np.float32)

    @classmethod
    def pack(cls, values, ctx) -> list[float]:
        """center (2), radius, softness, color (4), width, height: what ``radial_source``
        reads."""
        fmt = source_format(values, ctx)
        return [
            *values["center"],
            values["radius"],
            values["softness"],
            *values["color"],
            float(fmt.width),
            float(fmt.height),
        ]
