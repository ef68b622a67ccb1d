"""Constant: a frame of one colour (Nuke's Constant)."""

from __future__ import annotations

import numpy as np

from mattebox.nodes import limits
from mattebox.nodes.spec import RGBA, Format, ImageInfo, Int, Kind, NodeSpec, Window, register


def source_format(values: dict, ctx) -> Format:
    """A source's format: ``width`` × ``height``, where 0 takes the script format's size.

    Both 0 gives the script format itself (its pixel aspect included).
    """
    script = ctx.script_format
    if values["width"] == 0 and values["height"] == 0:
        return script
    return Format(values["width"] or script.width, values["height"] or script.height)


def format_params(what: str) -> tuple:
    """The ``width`` and ``height`` parameters shared by the generated sources."""
    return (
        Int(
            "width",
            0,
            f"Width of the {what} in pixels; 0 uses the script format's.",
            min=0,
            max=limits.MAX_IMAGE_SIZE,
            soft_max=8192,
            spatial=True,
        ),
        Int(
            "height",
            0,
            f"Height of the {what} in pixels; 0 uses the script format's.",
            min=0,
            max=limits.MAX_IMAGE_SIZE,
            soft_max=8192,
            spatial=True,
        ),
    )


def blank(region: Window) -> np.ndarray:
    """Transparent black float32 pixels for ``region``."""
    return np.zeros((region.height, region.width, 4), np.float32)


def paste(out: np.ndarray, region: Window, inside: Window, pixels) -> np.ndarray:
    """Write ``pixels`` (broadcastable to ``inside``) into ``out``, which covers ``region``."""
    if not inside.empty:
        out[
            inside.y0 - region.y0 : inside.y1 - region.y0,
            inside.x0 - region.x0 : inside.x1 - region.x0,
        ] = pixels
    return out


class FormatSource(NodeSpec):
    """Base of the generated sources: no inputs, a format from ``width``/``height``, and
    a data window covering the whole format."""

    family = "source"
    kind = Kind.SOURCE
    inputs = ()

    @classmethod
    def source_info(cls, values, ctx) -> ImageInfo:
        """Format from the parameters; the data window is the whole format."""
        fmt = source_format(values, ctx)
        return ImageInfo(fmt, fmt.window)

    @classmethod
    def generate(cls, values, region: Window, ctx) -> np.ndarray:
        """Pixels of ``region``: :meth:`pixels_inside` within the format, black outside."""
        fmt = source_format(values, ctx)
        inside = region.intersect(fmt.window)
        return paste(blank(region), region, inside, cls.pixels_inside(values, inside, fmt))

    @classmethod
    def pixels_inside(cls, values, inside: Window, fmt: Format):
        """The pixels of ``inside`` (within the format): an array that broadcasts to
        ``inside``'s H×W×4."""
        raise NotImplementedError


def pixel_centres(inside: Window) -> tuple[np.ndarray, np.ndarray]:
    """Float64 pixel-centre coordinates of ``inside``: an (H, 1) column of y, a (1, W) row of x."""
    xs = np.arange(inside.x0, inside.x1, dtype=np.float64)[None, :] + 0.5
    ys = np.arange(inside.y0, inside.y1, dtype=np.float64)[:, None] + 0.5
    return ys, xs


@register
class Constant(FormatSource):
    """A frame filled with one colour: every pixel of the format is ``color``.

    The data window is the whole format (``width`` × ``height``, 0 meaning the script
    format's size); outside it the image is transparent black. ``color`` is premultiplied
    RGBA like every image, and defaults to opaque black.
    """

    type_name = "Constant"
    params = (
        RGBA(
            "color",
            (0.0, 0.0, 0.0, 1.0),
            "Colour of every pixel (premultiplied RGBA).",
            soft_min=0.0,
            soft_max=1.0,
        ),
        *format_params("frame"),
    )

    @classmethod
    def pixels_inside(cls, values, inside: Window, fmt: Format):
        """``color`` everywhere."""
        return np.array(values["color"], np.float32)

    @classmethod
    def pack(cls, values, ctx) -> list[float]:
        """``color`` (4), width, height: what ``constant_source`` reads from ``P``."""
        fmt = source_format(values, ctx)
        return [*values["color"], float(fmt.width), float(fmt.height)]
