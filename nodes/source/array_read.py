"""ArrayRead: pixels from a numpy array, a torch tensor or a per-frame callable, given in
Python (``graph.add("ArrayRead", array=pixels)``); the array is viewed, not copied."""

from __future__ import annotations

from typing import Any

import numpy as np

from mattebox.nodes import arrays, limits
from mattebox.nodes.proxy import downscale, scale_format, scale_window
from mattebox.nodes.source.constant import blank, paste
from mattebox.nodes.spec import (
    Array,
    Float,
    Format,
    ImageInfo,
    Int,
    Kind,
    NodeSpec,
    Window,
    register,
)


def _size_param(name: str, axis: str) -> Any:
    return Int(
        name,
        0,
        f"Format {name} in pixels; 0 uses the array's {axis} (x or y added).",
        min=0,
        max=limits.MAX_IMAGE_SIZE,
        soft_max=8192,
        animatable=False,
    )


def _offset_param(name: str, edge: str) -> Any:
    return Int(
        name,
        0,
        f"Where the array's {edge} edge lands in the format, in pixels: its data window "
        "starts there.",
        min=-limits.MAX_IMAGE_SIZE,
        max=limits.MAX_IMAGE_SIZE,
        animatable=False,
    )


@register
class ArrayRead(NodeSpec):
    """Pixels handed over from Python: ``array`` is a numpy array, anything with
    ``__dlpack__`` or ``__array__`` (a torch tensor on the CPU), or a callable that takes
    the frame number and returns one. It is set from Python only and held in memory:
    a script cannot store it (saving one where it is set is refused).

    The array is H×W×C (or H×W), row 0 at the top, float: float32 is read in place,
    without a copy (a torch tensor through DLPack shares its memory too); float16 and
    float64 are converted on each render; integer arrays are refused (scale them first).
    Channels map as a Read maps a file's: 1 grey, 2 grey and alpha, 3 RGB (alpha 1), 4
    RGBA. Values are taken as they are: premultiplied, in the working space.

    The data window is the array's size at ``x``, ``y``; the format is ``width`` ×
    ``height`` (0: the array's extent from the origin). The cache follows the array you
    assign: assigning again (even the same object) counts as new contents, and so does
    raising ``version``; a callable's result is taken once per frame and render. After
    changing an array in place, raise ``version`` (or assign it again).
    """

    type_name = "ArrayRead"
    family = "source"
    kind = Kind.SOURCE
    inputs = ()
    params = (
        Array(
            "array",
            "The pixels: an H×W×C array (numpy, torch...) or a callable frame -> array; "
            "set from Python, never saved.",
        ),
        Int(
            "version",
            0,
            "Raise it after changing the array in place: the caches recompute.",
            min=0,
            animatable=False,
        ),
        _size_param("width", "width"),
        _size_param("height", "height"),
        Float(
            "pixel_aspect",
            1.0,
            "Pixel aspect ratio of the format.",
            min=0.01,
            max=100.0,
            animatable=False,
        ),
        _offset_param("x", "left"),
        _offset_param("y", "top"),
    )

    @classmethod
    def values_at(cls, values, frame: float) -> dict:
        """The values at ``frame``, ``array`` as that frame's pixels (an
        :class:`~mattebox.nodes.arrays.Frame`: the callable called once here)."""
        out = super().values_at(values, frame)
        if out["array"] is not None:
            try:
                out["array"] = out["array"].at(frame)
            except arrays.ArrayError as error:
                raise arrays.ArrayError(f"array: {error}") from None
        return out

    @classmethod
    def source_info(cls, values, ctx) -> ImageInfo:
        """Format and data window at full size, scaled for a proxy render."""
        fmt, window = _geometry(values)
        return ImageInfo(scale_format(fmt, ctx.proxy), scale_window(window, ctx.proxy))

    @classmethod
    def generate(cls, values, region: Window, ctx) -> np.ndarray:
        """Pixels of ``region``: the array itself where that is the whole data window (or
        whole rows of it) of an RGBA float32 array, else the part within the data window
        (box-filtered in a proxy render), transparent black around it."""
        pixels = values["array"].pixels
        _, window = _geometry(values)
        proxy = ctx.proxy
        if proxy == 1 and pixels.shape[2] == 4 and _whole_rows(region, window, pixels):
            if region == window:
                return pixels  # the array itself
            return pixels[region.y0 - window.y0 : region.y1 - window.y0]  # its rows
        inside = region.intersect(scale_window(window, proxy))
        if inside.empty:
            return blank(region)
        full = Window(inside.x0 * proxy, inside.y0 * proxy, inside.x1 * proxy, inside.y1 * proxy)
        full = full.intersect(window)
        part = arrays.rgba(
            pixels[
                full.y0 - window.y0 : full.y1 - window.y0,
                full.x0 - window.x0 : full.x1 - window.x0,
            ]
        )
        if proxy == 1 and full == region:  # (a new array when the channels were expanded)
            return np.ascontiguousarray(part)
        scaled, at = downscale(part, full, proxy)
        return paste(blank(region), region, at, scaled)


def _geometry(values) -> tuple[Format, Window]:
    """The full-size format and data window of the array in ``values``."""
    frame = values["array"]
    if frame is None:
        raise ValueError("array: nothing given (set it from Python: node['array'] = pixels)")
    height, width = frame.pixels.shape[:2]
    window = Window(values["x"], values["y"], values["x"] + width, values["y"] + height)
    fmt = Format(
        values["width"] or max(window.x1, 1),
        values["height"] or max(window.y1, 1),
        values["pixel_aspect"],
    )
    return fmt, window


def _whole_rows(region: Window, window: Window, pixels: np.ndarray) -> bool:
    """Whether ``region`` is whole rows of ``window`` and ``pixels`` has C-contiguous rows,
    so that the rows are a view the kernels can read as they are."""
    return (
        region.x0 == window.x0
        and region.x1 == window.x1
        and window.y0 <= region.y0 < region.y1 <= window.y1
        and pixels.flags.c_contiguous
    )
