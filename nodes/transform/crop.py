"""Crop: keep a box of the image, optionally making it the new format (Nuke's Crop)."""

from __future__ import annotations

from typing import Any

from mattebox.nodes import limits
from mattebox.nodes.kernel import kernel, prange
from mattebox.nodes.spec import (
    EMPTY,
    RGBA,
    Bool,
    Format,
    ImageInfo,
    Kind,
    NodeSpec,
    Window,
    is_animated,
    register,
)

UNBOUNDED = Window(-(2**30), -(2**30), 2**30, 2**30)
#: The hard limit of a box coordinate, in pixels: past it nothing lies (and a kernel's
#: 32-bit coordinates could not hold the box's edges).
BOX_LIMIT = 2**30


@kernel(parallel=True)
def crop_kernel(src, sx0, sy0, dst, dx0, dy0, shift_x, shift_y, bx0, by0, bx1, by1):
    """Copy: output pixel (x, y) is input pixel (x + shift_x, y + shift_y) when that lies in
    the box ``[bx0, bx1) × [by0, by1)`` (input coordinates) and in ``src``; else black."""
    h, w = src.shape[0], src.shape[1]
    height, width = dst.shape[0], dst.shape[1]
    for row in prange(height):
        y = dy0 + row + shift_y
        row_inside = by0 <= y < by1 and sy0 <= y < sy0 + h
        for col in range(width):
            x = dx0 + col + shift_x
            if row_inside and bx0 <= x < bx1 and sx0 <= x < sx0 + w:
                for c in range(4):
                    dst[row, col, c] = src[y - sy0, x - sx0, c]
            else:
                for c in range(4):
                    dst[row, col, c] = 0.0


def crop_box(values: dict, source: ImageInfo | None) -> Window:
    """The box in input pixels: ``box`` rounded, or the input's format for (0, 0, 0, 0).

    With the default box and no ``source`` (an unknown input), an unbounded box: the
    format's corner is (0, 0) whatever its size, and the engine asks only for pixels of
    the data window, which :meth:`Crop.data_window` has already clipped to the format.
    """
    box = tuple(round(v) for v in values["box"])
    if box == (0, 0, 0, 0):
        return source.format.window if source is not None else UNBOUNDED
    x0, y0, x1, y1 = box
    return Window(x0, y0, max(x0, x1), max(y0, y1))


def _input(ctx) -> ImageInfo | None:
    """The input's description when the engine gives it (``ctx.extras["inputs"]``)."""
    infos = ctx.extras.get("inputs") if ctx is not None else None
    return infos[0] if infos else None


def _shift(values: dict, box: Window) -> tuple[int, int]:
    """Output-to-input offset: the box's corner with ``reformat`` (the format's is 0, 0)."""
    if not values["reformat"] or box == UNBOUNDED:
        return 0, 0
    return box.x0, box.y0


def _box_v1_to_v2(box: Any) -> Any:
    if (
        isinstance(box, (list, tuple))
        and len(box) == 4
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)
    ):
        x, y, width, height = box
        return [x, y, x + width, y + height]
    return box  # not a box of numbers: left for validation to report


@register
class Crop(NodeSpec):
    """Keeps the pixels inside ``box``; everything outside becomes transparent black.

    ``box`` is ``(x0, y0, x1, y1)`` in pixels (rounded; x1 and y1 exclusive, origin
    top-left, y down); the default (0, 0, 0, 0) means the input's format. The data window
    becomes the input's intersected with the box. With ``reformat`` the box becomes the
    format: the output format is the box's size and the image moves so the box's corner is
    at (0, 0). Version 1 stored ``box`` as (x, y, width, height); old scripts are upgraded.
    """

    type_name = "Crop"
    version = 2
    family = "transform"
    kind = Kind.RESAMPLE
    params = (
        RGBA(
            "box",
            0.0,
            "Box to keep: x0, y0, x1, y1 in pixels; all 0 means the format.",
            spatial=True,
            min=-BOX_LIMIT,
            max=BOX_LIMIT,
        ),
        Bool("reformat", False, "Make the box the output format, its corner at (0, 0)."),
    )
    cpu_kernel = crop_kernel

    @classmethod
    def upgrade(cls, values, from_version):
        """Version 1 -> 2: ``box`` from (x, y, width, height) to (x0, y0, x1, y1)."""
        values = dict(values)
        if from_version < 2 and "box" in values:
            box = values["box"]
            if is_animated(box):
                keys = [
                    [key[0], _box_v1_to_v2(key[1])]
                    if isinstance(key, (list, tuple)) and len(key) == 2
                    else key
                    for key in box.get("keys", [])
                ]
                values["box"] = {**box, "keys": keys}
            else:
                values["box"] = _box_v1_to_v2(box)
        return values

    @classmethod
    def data_window(cls, values, inputs, ctx):
        source = inputs[0] if inputs else None
        if source is None:
            return ImageInfo(ctx.script_format, EMPTY)
        box = crop_box(values, source)
        window = source.data_window.intersect(box)
        if values["reformat"]:
            if max(box.width, box.height) > limits.MAX_IMAGE_SIZE:
                raise ValueError(
                    f"box: a {box.width}x{box.height} box cannot be the format (reformat); "
                    f"the largest is {limits.MAX_IMAGE_SIZE} pixels a side"
                )
            fmt = Format(max(1, box.width), max(1, box.height), source.format.pixel_aspect)
            window = EMPTY if window.empty else _moved(window, -box.x0, -box.y0)
            return ImageInfo(fmt, window)
        return ImageInfo(source.format, EMPTY if window.empty else window)

    @classmethod
    def input_region(cls, values, region, index, ctx):
        box = crop_box(values, _input(ctx))
        dx, dy = _shift(values, box)
        needed = _moved(region, dx, dy).intersect(box)
        return EMPTY if needed.empty else needed

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """``(shift_x, shift_y, x0, y0, x1, y1)``: output-to-input offset and the box."""
        box = crop_box(values, _input(ctx))
        return (*_shift(values, box), box.x0, box.y0, box.x1, box.y1)


def _moved(window: Window, dx: int, dy: int) -> Window:
    return Window(window.x0 + dx, window.y0 + dy, window.x1 + dx, window.y1 + dy)
