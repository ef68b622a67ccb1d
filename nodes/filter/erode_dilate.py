"""ErodeDilate: per-channel minimum (erode) or maximum (dilate) over a box or a disc."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.filter.window import WindowFilter
from mattebox.nodes.kernel import kernel, prange
from mattebox.nodes.spec import Enum, Float, Window, register

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


BLOCK_ROWS = 16  # at least this many output rows per parallel task of the box
CHUNK = 256  # pixels of a row buffer whose vertical runs are made together


@kernel
def running_extremes(forward, backward, values, taps, dilate):
    """van Herk/Gil-Werman: cut ``values`` (rows of floats) into blocks of ``taps`` rows;
    ``forward[p]`` is the extreme from the start of p's block to p, ``backward[p]`` from p
    to the end of its block. The extreme over rows ``q .. q + taps - 1`` is then
    ``extreme(backward[q], forward[q + taps - 1])``: three comparisons a value, whatever
    ``taps`` is."""
    n = values.shape[0]
    for p in range(n):
        if p % taps == 0:
            forward[p, :] = values[p, :]
        else:
            for j in range(values.shape[1]):
                forward[p, j] = extreme_of(forward[p - 1, j], values[p, j], dilate)
    for p in range(n - 1, -1, -1):
        if p % taps == taps - 1 or p == n - 1:
            backward[p, :] = values[p, :]
        else:
            for j in range(values.shape[1]):
                backward[p, j] = extreme_of(backward[p + 1, j], values[p, j], dilate)


@kernel
def sliding_extreme(out, forward, backward, taps, dilate):
    """``out[q]``: the extreme of rows ``q .. q + taps - 1`` from :func:`running_extremes`."""
    for q in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[q, j] = extreme_of(backward[q, j], forward[q + taps - 1, j], dilate)


@kernel
def gather_columns(values, src, sx0, sy0, x0, y0):
    """``values[p, 4 * i + c]``: channel ``c`` of image pixel ``(x0 + i, y0 + p)``, 0
    outside ``src``."""
    h, w = src.shape[0], src.shape[1]
    n = values.shape[1] // 4
    for p in range(values.shape[0]):
        sy = y0 + p - sy0
        for i in range(n):
            sx = x0 + i - sx0
            inside = sy >= 0 and sy < h and sx >= 0 and sx < w
            for c in range(4):
                values[p, 4 * i + c] = src[sy, sx, c] if inside else np.float32(0.0)


@kernel
def box_rows(dst, src, sx0, sy0, dx0, dy0, b0, b1, radius, dilate):
    """Rows ``b0 .. b1`` of the box: the vertical extremes of every column of
    ``[dx0 - r, dx0 + W + r)`` into row buffers (a chunk of columns at a time), then the
    horizontal extremes of each row buffer into ``dst``; both by :func:`running_extremes`."""
    width = dst.shape[1]
    taps = 2 * radius + 1
    span = width + 2 * radius
    rows = b1 - b0
    lines = np.empty((rows, 4 * span), np.float32)
    reach = rows + 2 * radius
    chunk = min(CHUNK, span)
    values = np.empty((reach, 4 * chunk), np.float32)
    forward = np.empty((reach, 4 * chunk), np.float32)
    backward = np.empty((reach, 4 * chunk), np.float32)
    for c0 in range(0, span, chunk):
        n = 4 * (min(c0 + chunk, span) - c0)
        gather_columns(values[:, :n], src, sx0, sy0, dx0 - radius + c0, dy0 + b0 - radius)
        running_extremes(forward[:, :n], backward[:, :n], values[:, :n], taps, dilate)
        sliding_extreme(
            lines[:, 4 * c0 : 4 * c0 + n], forward[:, :n], backward[:, :n], taps, dilate
        )
    ahead = np.empty((span, 4), np.float32)
    behind = np.empty((span, 4), np.float32)
    for q in range(rows):
        line = lines[q].reshape(span, 4)
        running_extremes(ahead, behind, line, taps, dilate)
        sliding_extreme(dst[b0 + q], ahead, behind, taps, dilate)


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

    The box is separable and O(1) per pixel whatever the radius (van Herk/Gil-Werman,
    :func:`box_rows`), in parallel over blocks of at least ``max(16, 2r)`` output rows (so
    the ``2r`` extra rows a block reads cost at most as much again). The disc is a direct
    2D window, O(r²) per pixel, rows in parallel. Pixels outside ``src`` count as 0.
    """
    h, w = src.shape[0], src.shape[1]
    height, width = dst.shape[0], dst.shape[1]
    if disc:
        flat = src.reshape(h * w * 4)
        for row in prange(height):
            out = np.empty(4, np.float32)
            for col in range(width):
                disc_pixel(out, flat, w, h, sx0, sy0, dx0 + col, dy0 + row, radius, dilate)
                for c in range(4):
                    dst[row, col, c] = out[c]
        return
    block_rows = max(BLOCK_ROWS, 2 * radius)
    for block in prange((height + block_rows - 1) // block_rows):
        b0 = block * block_rows
        box_rows(dst, src, sx0, sy0, dx0, dy0, b0, min(b0 + block_rows, height), radius, dilate)


@register
class ErodeDilate(WindowFilter):
    """Erode (negative ``size``) or dilate (positive ``size``) each channel.

    Each output pixel is the per-channel minimum (erode) or maximum (dilate) of the input
    pixels within ``r = round(|size|)`` pixels: the ``(2r + 1)²`` square for ``box``, the
    pixels with ``dx² + dy² <= r²`` for ``disc``. Outside the input's data window pixels
    count as transparent black (0), so the output's data window is the input's grown by
    ``r`` on every side, for erode too: a pixel just outside the input's window sees
    input pixels in its window, and eroding values below 0 (or dilating any value above
    0) makes it non-zero there. ``size`` with ``r`` 0 passes the input through unchanged.
    On the CPU the box is O(1) per pixel in ``r`` (separable, van Herk/Gil-Werman), the
    disc O(r²); on the GPU both are a direct window, O(r²).
    """

    type_name = "ErodeDilate"
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
    def radius(cls, values) -> int:
        return erode_dilate_radius(values["size"])

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """``(radius, dilate, disc)``: the radius and two 0/1 flags."""
        radius = erode_dilate_radius(values["size"])
        return radius, int(values["size"] > 0), int(values["shape"] == "disc")
