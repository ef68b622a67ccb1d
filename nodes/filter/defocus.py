"""Defocus: convolution with a flat, anti-aliased disc (a lens's out-of-focus bokeh)."""

from __future__ import annotations

import functools
import math

import numpy as np

from mattebox.nodes.filter.window import WindowFilter
from mattebox.nodes.kernel import kernel, prange
from mattebox.nodes.spec import Float, Window, register


def defocus_radius(size: float) -> int:
    """The disc's reach ``R``: the largest whole offset with a weight above 0, the largest
    integer below ``size + 0.5`` (0 for ``size <= 0.5``, where the disc is one pixel)."""
    return max(0, math.ceil(size + 0.5) - 1)


def disc_weights(size: float) -> np.ndarray:
    """The normalised disc as a float64 ``(2R + 1, 2R + 1)`` array, rows ``dy = -R..R``.

    The weight of offset ``(dx, dy)`` is ``clamp(size + 0.5 - sqrt(dx² + dy²), 0, 1)``: 1
    inside radius ``size - 0.5``, a linear ramp one pixel wide centred on the rim, 0 from
    ``size + 0.5`` on; then divided by the sum of all weights.
    """
    radius = defocus_radius(size)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    distance = np.hypot(offsets[:, None], offsets[None, :])
    weights = np.clip(size + 0.5 - distance, 0.0, 1.0)
    return weights / weights.sum()


@functools.lru_cache(maxsize=16)
def disc_spans(size: float) -> tuple[np.ndarray, float, np.ndarray]:
    """:func:`disc_weights` as the kernels read it: ``(spans, inner, rim)``.

    ``spans[R + dy]`` is the half-width ``a`` of the run ``|dx| <= a`` of row ``dy`` whose
    weight is 1 before normalising (-1 where the row has none), ``inner`` their common
    normalised weight, and ``rim`` a float64 ``(n, 3)`` array of ``(dx, dy, weight)`` for
    the pixels of the ramp with ``dx, dy >= 0``, sorted by ``dy``: the disc is symmetric,
    so each stands for the (up to) four pixels ``(±dx, ±dy)``. Cached: do not modify.
    """
    weights = disc_weights(size)
    radius = defocus_radius(size)
    inner = float(weights.max())
    full = weights >= inner
    spans = (full.sum(axis=1) - 1) // 2
    quarter = weights[radius:, radius:]
    dy, dx = np.nonzero((quarter > 0) & (quarter < inner))  # row-major: sorted by dy
    rim = np.stack([dx, dy, quarter[dy, dx]], axis=1).astype(np.float64)
    spans, rim = spans.astype(np.int64), np.ascontiguousarray(rim)
    spans.flags.writeable = rim.flags.writeable = False
    return spans, inner, rim


BLOCK_ROWS = 16  # output rows per parallel task: they share their rows' prefix sums
CHUNK = 512  # floats of an output row summed at a time: the accumulator stays in L1


@kernel
def add_difference(acc, upper, lower):
    """``acc[j] += upper[j] - lower[j]``: a run's sums from two prefix sums."""
    for j in range(acc.shape[0]):
        acc[j] += upper[j] - lower[j]


@kernel
def add_weighted2(acc, weight, a, b):
    """``acc[j] += weight * (a[j] + b[j])``."""
    for j in range(acc.shape[0]):
        acc[j] += weight * (a[j] + b[j])


@kernel
def add_weighted4(acc, weight, a, b, c, d):
    """``acc[j] += weight * ((a[j] + b[j]) + (c[j] + d[j]))``."""
    for j in range(acc.shape[0]):
        acc[j] += weight * ((a[j] + b[j]) + (c[j] + d[j]))


@kernel
def padded_rows(src, sx0, sy0, left, top, lines):
    """``lines[r, 4 * i + c]``: channel ``c`` of image pixel ``(left + i, top + r)`` of
    ``src``, 0 outside it."""
    h, w = src.shape[0], src.shape[1]
    span = lines.shape[1] // 4
    lo = min(max(sx0 - left, 0), span)  # the columns that lie over src
    hi = max(min(sx0 + w - left, span), lo)
    flat = src.reshape(h * w * 4)
    lines[:, :] = 0.0
    for r in range(lines.shape[0]):
        sy = top + r - sy0
        if sy >= 0 and sy < h and lo < hi:
            at = 4 * (sy * w + lo + left - sx0)
            lines[r, 4 * lo : 4 * hi] = flat[at : at + 4 * (hi - lo)]


@kernel
def prefix_rows(lines, prefix):
    """``prefix[r, 4 * i + c]``: the sum of channel ``c`` of ``lines[r]``'s first ``i``
    pixels, in float64 (differences of sums thousands of pixels long stay exact enough)."""
    for r in range(lines.shape[0]):
        prefix[r, 0:4] = 0.0
        for j in range(lines.shape[1]):
            prefix[r, j + 4] = prefix[r, j] + lines[r, j]


@kernel
def disc_sums(sums, lines, prefix, mid, c0, spans, inner, rim):
    """``sums[j]``: the disc around float ``c0 + j`` of row buffer ``mid``, whose pixel
    ``i`` is at buffer column ``i + R``. The runs of rows ``±dy`` come from prefix sums,
    the ramp pixels four (or two) of the same weight at a time."""
    n = sums.shape[0]
    radius = (spans.shape[0] - 1) // 2
    sums[:] = 0.0
    for dy in range(radius + 1):
        half = spans[radius + dy]
        if half >= 0:
            up = c0 + 4 * (radius + half + 1)
            lo = c0 + 4 * (radius - half)
            add_difference(sums, prefix[mid + dy, up : up + n], prefix[mid + dy, lo : lo + n])
            if dy > 0:
                add_difference(sums, prefix[mid - dy, up : up + n], prefix[mid - dy, lo : lo + n])
    for j in range(n):
        sums[j] *= inner
    for t in range(rim.shape[0]):
        dx, dy, weight = int(rim[t, 0]), int(rim[t, 1]), rim[t, 2]
        right = c0 + 4 * (radius + dx)
        left = c0 + 4 * (radius - dx)
        if dx == 0:
            add_weighted2(
                sums, weight, lines[mid + dy, right : right + n], lines[mid - dy, right : right + n]
            )
        elif dy == 0:
            add_weighted2(sums, weight, lines[mid, right : right + n], lines[mid, left : left + n])
        else:
            add_weighted4(
                sums,
                weight,
                lines[mid + dy, right : right + n],
                lines[mid + dy, left : left + n],
                lines[mid - dy, right : right + n],
                lines[mid - dy, left : left + n],
            )


@kernel(parallel=True)
def defocus_kernel(src, sx0, sy0, dst, dx0, dy0, spans, inner, rim):
    """The disc of :func:`disc_spans` over ``src`` (black outside it), O(size) per pixel.

    Blocks of output rows in parallel. A block copies the input rows its disc reaches into
    zero-padded row buffers and makes their float64 prefix sums; then, a chunk of columns
    at a time for all its rows, each output value adds per disc row the run of full weight
    as a difference of two prefix sums (``2R + 1`` runs) and the ramp pixels (about
    ``2π size``), in float64.
    """
    height, width = dst.shape[0], dst.shape[1]
    radius = (spans.shape[0] - 1) // 2
    span = width + 2 * radius  # pixels of a row buffer, image x from dx0 - radius
    out = dst.reshape(height, 4 * width)
    for block in prange((height + BLOCK_ROWS - 1) // BLOCK_ROWS):
        b0 = block * BLOCK_ROWS
        b1 = min(b0 + BLOCK_ROWS, height)
        lines = np.empty((b1 - b0 + 2 * radius, 4 * span), np.float32)
        padded_rows(src, sx0, sy0, dx0 - radius, dy0 + b0 - radius, lines)
        prefix = np.empty((lines.shape[0], 4 * (span + 1)), np.float64)
        prefix_rows(lines, prefix)
        acc = np.empty(CHUNK, np.float64)
        for c0 in range(0, 4 * width, CHUNK):
            n = min(CHUNK, 4 * width - c0)
            for row in range(b0, b1):
                disc_sums(acc[:n], lines, prefix, row - b0 + radius, c0, spans, inner, rim)
                for j in range(n):
                    out[row, c0 + j] = np.float32(acc[j])


@register
class Defocus(WindowFilter):
    """Lens defocus: each pixel becomes the average of a flat disc of radius ``size``
    around it, all four channels (bright points spread into discs, a lens's bokeh).

    The disc's weight at offset ``(dx, dy)`` is ``clamp(size + 0.5 - sqrt(dx² + dy²),
    0, 1)``, normalised to sum 1: full weight inside radius ``size - 0.5`` and a linear
    ramp one pixel wide centred on the rim, which anti-aliases its edge (a pixel's weight
    is close to the part of it the disc covers). Everything outside the input's data
    window is transparent black, so the output's data window is the input's grown by the
    disc's reach ``R``, the largest integer below ``size + 0.5`` (at most ``ceil(size)``).
    ``size`` up to 0.5 is a one-pixel disc and passes the input through unchanged.

    Cost: the CPU sums each disc row's run of full weight from per-row prefix sums (in
    float64) and adds the ramp pixels one by one, so ``2R + 1`` runs and about
    ``2π size`` ramp pixels per output pixel: O(size). A 3840×2160 Checkerboard through
    Defocus, rendered warm on the CPU through the Python API on the project's shared
    2-core machine (±30%), takes 0.29–0.35 s at size 5, 0.72–0.99 s at size 25 and
    1.3–2.2 s at size 50 (making the input is 0.2 s of it; Blur of size 15, 0.26 s). The
    GPU sums the disc directly, O(size²) per pixel.
    """

    type_name = "Defocus"
    params = (
        Float(
            "size",
            0.0,
            "Radius in pixels of the disc every pixel spreads into (the bokeh's size).",
            min=0.0,
            soft_max=50.0,
            spatial=True,
        ),
    )
    cpu_kernel = defocus_kernel

    @classmethod
    def pass_through(cls, values):
        return "Source" if defocus_radius(values["size"]) == 0 else None

    @classmethod
    def radius(cls, values) -> int:
        return defocus_radius(values["size"])

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """``(spans, inner, rim)`` from :func:`disc_spans`."""
        return disc_spans(float(values["size"]))

    @classmethod
    def gpu_kernel_params(cls, values, args, out_window: Window, src_window: Window):
        """``[R, n, inner, spans[0..2R], rim (dx, dy, weight) × n]``, image coordinates."""
        spans, inner, rim = args
        radius = (len(spans) - 1) // 2
        block = [float(radius), float(len(rim)), inner, *map(float, spans), *rim.ravel()]
        return block, (0, 0), (0, 0)
