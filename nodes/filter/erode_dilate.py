"""ErodeDilate: per-channel minimum (erode) or maximum (dilate) over a box or a disc."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.kernel import kernel, prange
from mattebox.nodes.spec import EMPTY, Enum, Float, ImageInfo, Kind, NodeSpec, Window, register

SHAPES = ("box", "disc")


def erode_dilate_radius(size: float) -> int:
    """The window's radius in pixels for a ``size``: ``round(|size|)`` (0: no change)."""
    return round(abs(size))


@kernel
def disc_half_width(radius, dy):
    """The largest ``w >= 0`` with ``w*w + dy*dy <= radius*radius`` (``|dy| <= radius``),
    in integers so that both backends pick the same pixels."""
    rest = radius * radius - dy * dy
    w = int(np.sqrt(np.float64(rest)))
    while (w + 1) * (w + 1) <= rest:
        w += 1
    while w > 0 and w * w > rest:
        w -= 1
    return w


@kernel
def extreme_of(a, b, dilate):
    """``max(a, b)`` when dilating, else ``min(a, b)``."""
    if dilate:
        return max(a, b)
    return min(a, b)


@kernel
def vertical_line(line, flat, w, h, sx0, sy0, left, y, radius, dilate):
    """``line[4 * i + c]``: the extreme of channel ``c`` over image rows ``y - r .. y + r``
    of image column ``left + i``, counting 0 for every pixel outside ``src``."""
    span = line.shape[0] // 4
    r0 = max(y - radius - sy0, 0)
    r1 = min(y + radius - sy0 + 1, h)
    padded = r0 > y - radius - sy0 or r1 < y + radius - sy0 + 1
    for i in range(span):
        sx = left + i - sx0
        for c in range(4):
            line[4 * i + c] = 0.0
        if sx < 0 or sx >= w or r0 >= r1:
            continue
        for c in range(4):
            acc = flat[(r0 * w + sx) * 4 + c]
            for sy in range(r0 + 1, r1):
                acc = extreme_of(acc, flat[(sy * w + sx) * 4 + c], dilate)
            if padded:
                acc = extreme_of(acc, np.float32(0.0), dilate)
            line[4 * i + c] = acc


@kernel
def disc_pixel(out, flat, w, h, sx0, sy0, x, y, radius, dilate):
    """``out[c]``: the extreme of channel ``c`` over the pixels ``dx*dx + dy*dy <= r*r``
    around image pixel ``(x, y)``, counting 0 for every pixel outside ``src``."""
    padded = False
    for c in range(4):
        out[c] = 0.0
    first = True
    for dy in range(-radius, radius + 1):
        half = disc_half_width(radius, dy)
        sy = y + dy - sy0
        c0 = max(x - half - sx0, 0)
        c1 = min(x + half - sx0 + 1, w)
        if sy < 0 or sy >= h or c0 >= c1:
            padded = True
            continue
        if c0 > x - half - sx0 or c1 < x + half - sx0 + 1:
            padded = True
        for sx in range(c0, c1):
            at = (sy * w + sx) * 4
            for c in range(4):
                if first:
                    out[c] = flat[at + c]
                else:
                    out[c] = extreme_of(out[c], flat[at + c], dilate)
            first = False
    if padded:
        for c in range(4):
            out[c] = extreme_of(out[c], np.float32(0.0), dilate)


@kernel(parallel=True)
def erode_dilate_kernel(src, sx0, sy0, dst, dx0, dy0, radius, dilate, disc):
    """Erode (``dilate`` 0) or dilate (1) with a box (``disc`` 0) or disc (1) of ``radius``.

    The box is separable: for each output row (in parallel), the extreme over the window's
    rows of every column of ``[dx0 - r, dx0 + W + r)`` goes to a row buffer, then the
    extreme over ``2r + 1`` buffer columns to ``dst``: O(r) per pixel (two runs of ``2r + 1``
    comparisons). The disc is a direct 2D window: O(r²) per pixel. Pixels outside ``src``
    count as 0.
    """
    h, w = src.shape[0], src.shape[1]
    height, width = dst.shape[0], dst.shape[1]
    flat = src.reshape(h * w * 4)
    span = width + 2 * radius
    for row in prange(height):
        y = dy0 + row
        if disc:
            out = np.empty(4, np.float32)
            for col in range(width):
                disc_pixel(out, flat, w, h, sx0, sy0, dx0 + col, y, radius, dilate)
                for c in range(4):
                    dst[row, col, c] = out[c]
            continue
        line = np.empty(4 * span, np.float32)
        vertical_line(line, flat, w, h, sx0, sy0, dx0 - radius, y, radius, dilate)
        for col in range(width):
            for c in range(4):
                acc = line[4 * col + c]
                for k in range(1, 2 * radius + 1):
                    acc = extreme_of(acc, line[4 * (col + k) + c], dilate)
                dst[row, col, c] = acc


@register
class ErodeDilate(NodeSpec):
    """Erode (negative ``size``) or dilate (positive ``size``) each channel.

    Each output pixel is the per-channel minimum (erode) or maximum (dilate) of the input
    pixels within ``r = round(|size|)`` pixels: the ``(2r + 1)²`` square for ``box``, the
    pixels with ``dx² + dy² <= r²`` for ``disc``. Outside the input's data window pixels
    count as transparent black (0), so the output's data window is the input's grown by
    ``r`` on every side, for erode too: a pixel just outside the input's window sees
    input pixels in its window, and eroding values below 0 (or dilating any value above
    0) makes it non-zero there. ``size`` with ``r`` 0 passes the input through unchanged.
    The CPU box is separable and O(r) per pixel, the disc O(r²).
    """

    type_name = "ErodeDilate"
    family = "filter"
    kind = Kind.AREA
    params = (
        Float(
            "size",
            0.0,
            "Radius in pixels, rounded: negative erodes (minimum), positive dilates (maximum).",
            soft_min=-50.0,
            soft_max=50.0,
            spatial=True,
        ),
        Enum("shape", SHAPES, "box", "The window: a square (box) or a round window (disc)."),
    )
    cpu_kernel = erode_dilate_kernel

    @classmethod
    def pass_through(cls, values):
        return "Source" if erode_dilate_radius(values["size"]) == 0 else None

    @classmethod
    def halo(cls, values, ctx=None) -> tuple[int, int]:
        """Pixels of input needed beyond an output region, per axis: ``(r, r)``."""
        radius = erode_dilate_radius(values["size"])
        return radius, radius

    @classmethod
    def data_window(cls, values, inputs, ctx):
        info = inputs[0] if inputs else None
        if info is None:
            return ImageInfo(ctx.script_format, EMPTY)
        radius = erode_dilate_radius(values["size"])
        return ImageInfo(info.format, info.data_window.grow(radius))

    @classmethod
    def input_region(cls, values, region, index, ctx):
        return region.grow(erode_dilate_radius(values["size"]))

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """``(radius, dilate, disc)``: the radius and two 0/1 flags."""
        radius = erode_dilate_radius(values["size"])
        return radius, int(values["size"] > 0), int(values["shape"] == "disc")
