"""Median: per-channel median of a square window."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.filter.window import WindowFilter
from mattebox.nodes.kernel import kernel, prange
from mattebox.nodes.spec import Int, Window, register

MAX_SIZE = 15  # the GPU ranks a window of (2 * 15 + 1)² = 961 values per pixel by counting


@kernel
def select_nth(values, n, k):
    """Reorder ``values[:n]`` so that ``values[k]`` is its ``k``-th smallest (Hoare's
    selection); returns that value."""
    lo, hi = 0, n - 1
    while lo < hi:
        pivot = values[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while values[i] < pivot:
                i += 1
            while values[j] > pivot:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return values[k]


@kernel(parallel=True)
def median_kernel(src, sx0, sy0, dst, dx0, dy0, size):
    """Per-channel median of the ``(2 * size + 1)²`` window around each output pixel, pixels
    outside ``src`` counting as 0: the window is gathered and its middle value selected,
    O(size²) per pixel (average), rows in parallel."""
    h, w = src.shape[0], src.shape[1]
    height, width = dst.shape[0], dst.shape[1]
    side = 2 * size + 1
    n = side * side
    k = n // 2
    for row in prange(height):
        window = np.empty(n, np.float32)
        y = dy0 + row - sy0
        for col in range(width):
            x = dx0 + col - sx0
            for c in range(4):
                at = 0
                for j in range(y - size, y + size + 1):
                    for i in range(x - size, x + size + 1):
                        if j < 0 or j >= h or i < 0 or i >= w:
                            window[at] = 0.0
                        else:
                            window[at] = src[j, i, c]
                        at += 1
                dst[row, col, c] = select_nth(window, n, k)


@register
class Median(WindowFilter):
    """Per-channel median of the ``(2 * size + 1)²`` square around each pixel.

    Pixels outside the input's data window count as transparent black (0). The output's
    data window is the input's: a pixel outside it has fewer than half of its window's
    pixels inside, so the zeros are the median there. ``size`` 0 passes the input through.
    The CPU selects the middle value of the gathered window (O(size²) per pixel); the GPU
    ranks each value by counting (O(size⁴)), hence ``size`` at most 15.
    """

    type_name = "Median"
    grows_window = False  # outside the input, most of the window is 0: the median is 0
    params = (
        Int(
            "size",
            0,
            "Window radius in pixels: the median of a (2 size + 1) square.",
            min=0,
            max=MAX_SIZE,
            soft_max=5,
            spatial=True,
        ),
    )
    cpu_kernel = median_kernel

    @classmethod
    def pass_through(cls, values):
        return "Source" if values["size"] == 0 else None

    @classmethod
    def radius(cls, values) -> int:
        return values["size"]

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """``(size,)``: the window's radius."""
        return (values["size"],)
