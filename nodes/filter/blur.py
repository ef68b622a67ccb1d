"""Blur: separable Gaussian blur (Nuke's Blur with the gaussian filter)."""

from __future__ import annotations

import math

import numpy as np

from mattebox.nodes.filter.window import WindowFilter
from mattebox.nodes.kernel import kernel, prange
from mattebox.nodes.kernel_rows import weighted_runs
from mattebox.nodes.spec import Float, Window, register

TINY_SIZE = 1e-6  # below this the blur is the identity and the node passes its input through


def blur_radius(size: float) -> int:
    """The kernel's reach in pixels for a blur ``size``: ``ceil(size)``, 0 for no blur."""
    return 0 if size < TINY_SIZE else math.ceil(size)


def gaussian_weights(size: float) -> np.ndarray:
    """Normalised Gaussian taps for offsets ``-r..r`` (``r = ceil(size)``, ``sigma = size/3``).

    Returns a float32 array of ``2r + 1`` weights summing to 1 (``[1.0]`` for no blur).
    """
    radius = blur_radius(size)
    if radius == 0:
        return np.ones(1, np.float32)
    sigma = size / 3.0
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-(offsets**2) / (2.0 * sigma * sigma))
    return (weights / weights.sum()).astype(np.float32)


BLOCK_ROWS = 16  # output rows per parallel task: their vertical sums share src rows in cache
CHUNK = 1024  # floats per run of a pass: the run's partial sums stay in L1 between taps


@kernel(parallel=True)
def blur_kernel(src, sx0, sy0, dst, dx0, dy0, weights):
    """Separable Gaussian in blocks of output rows (no full-size temporary).

    For each output row, the vertically blurred row over ``[dx0 - r, dx0 + W + r)`` goes to
    a row buffer, which is then blurred horizontally into ``dst``. Outside ``src`` is black.
    A block's vertical sums are made a column chunk at a time for all its rows, so the src
    rows they share are read from cache; both passes add taps in order ``-r..r``.
    """
    h, w = src.shape[0], src.shape[1]
    height, width = dst.shape[0], dst.shape[1]
    taps = weights.shape[0]
    radius = (taps - 1) // 2
    span = width + 2 * radius
    left = dx0 - radius  # image x of the row buffer's first pixel
    lo = min(max(sx0 - left, 0), span)  # the buffer's columns that lie over src
    hi = max(min(sx0 + w - left, span), lo)
    shift = 4 * (left - sx0)  # flat offset from a buffer column to its src column
    flat = src.reshape(h * w * 4)
    out = dst.reshape(height, 4 * width)
    for block in prange((height + BLOCK_ROWS - 1) // BLOCK_ROWS):
        b0 = block * BLOCK_ROWS
        b1 = min(b0 + BLOCK_ROWS, height)
        lines = np.empty((b1 - b0, 4 * span), np.float32)
        lines[:, : 4 * lo] = 0.0
        lines[:, 4 * hi :] = 0.0
        for c0 in range(4 * lo, 4 * hi, CHUNK):
            c1 = min(c0 + CHUNK, 4 * hi)
            for row in range(b0, b1):
                y = dy0 + row - radius - sy0  # src row of the first tap
                first = max(0, -y)
                last = min(taps, h - y)
                if first < last:
                    start = (y + first) * 4 * w + c0 + shift
                    weighted_runs(lines[row - b0, c0:c1], flat, start, 4 * w, weights[first:last])
                else:
                    lines[row - b0, c0:c1] = 0.0
        for row in range(b0, b1):
            for c0 in range(0, 4 * width, CHUNK):
                c1 = min(c0 + CHUNK, 4 * width)
                weighted_runs(out[row, c0:c1], lines[row - b0], c0, 4, weights)


@register
class Blur(WindowFilter):
    """Gaussian blur of all four channels.

    ``size`` is the radius in pixels: the Gaussian has ``sigma = size / 3`` and is cut at
    ``r = ceil(size)`` pixels, its ``2r + 1`` weights normalised to sum 1. The blur is
    separable (horizontal, then vertical) and treats everything outside the input's data
    window as transparent black, so the output's data window is the input's grown by ``r``
    on every side. ``size`` 0 passes the input through unchanged.
    """

    type_name = "Blur"
    params = (
        Float(
            "size",
            0.0,
            "Blur radius in pixels (sigma = size / 3).",
            min=0.0,
            soft_max=100.0,
            spatial=True,
        ),
    )
    cpu_kernel = blur_kernel
    separable = True

    @classmethod
    def pass_through(cls, values):
        return "Source" if blur_radius(values["size"]) == 0 else None

    @classmethod
    def radius(cls, values) -> int:
        return blur_radius(values["size"])

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """``(weights,)``: the float32 Gaussian taps from :func:`gaussian_weights`."""
        return (gaussian_weights(values["size"]),)
