"""Blur: separable Gaussian blur (Nuke's Blur with the gaussian filter)."""

from __future__ import annotations

import math

import numpy as np

from mattebox.nodes.kernel import kernel, prange
from mattebox.nodes.spec import EMPTY, Float, ImageInfo, Kind, NodeSpec, Window, register

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


@kernel(parallel=True)
def blur_kernel(src, sx0, sy0, dst, dx0, dy0, weights):
    """Separable Gaussian, one output row at a time (no full-size temporary).

    For each output row, the vertically blurred row over ``[dx0 - r, dx0 + W + r)`` goes to
    a row buffer, which is then blurred horizontally into ``dst``. Outside ``src`` is black.
    """
    h, w = src.shape[0], src.shape[1]
    height, width = dst.shape[0], dst.shape[1]
    radius = (weights.shape[0] - 1) // 2
    span = width + 2 * radius
    left = dx0 - radius  # image x of the row buffer's first pixel
    lo = min(max(sx0 - left, 0), span)  # the buffer's columns that lie over src
    hi = max(min(sx0 + w - left, span), lo)
    shift = 4 * (left - sx0)  # flat offset from a buffer column to its src column
    for row in prange(height):
        # Both passes are multiply-adds over contiguous runs of floats (SIMD-friendly).
        line = np.zeros(4 * span, np.float32)
        y = dy0 + row
        for k in range(-radius, radius + 1):
            sy = y + k - sy0
            if sy < 0 or sy >= h:
                continue
            wk = weights[k + radius]
            src_row = src[sy].ravel()
            for j in range(4 * lo, 4 * hi):
                line[j] += wk * src_row[j + shift]
        out = np.zeros(4 * width, np.float32)
        for k in range(2 * radius + 1):
            wk = weights[k]
            for j in range(4 * width):
                out[j] += wk * line[j + 4 * k]
        for x in range(width):
            for c in range(4):
                dst[row, x, c] = out[4 * x + c]


@register
class Blur(NodeSpec):
    """Gaussian blur of all four channels.

    ``size`` is the radius in pixels: the Gaussian has ``sigma = size / 3`` and is cut at
    ``r = ceil(size)`` pixels, its ``2r + 1`` weights normalised to sum 1. The blur is
    separable (horizontal, then vertical) and treats everything outside the input's data
    window as transparent black, so the output's data window is the input's grown by ``r``
    on every side. ``size`` 0 passes the input through unchanged.
    """

    type_name = "Blur"
    family = "filter"
    kind = Kind.AREA
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

    @classmethod
    def pass_through(cls, values):
        return "Source" if blur_radius(values["size"]) == 0 else None

    @classmethod
    def halo(cls, values, ctx=None) -> tuple[int, int]:
        """Pixels of input needed beyond an output region, per axis: ``(r, r)``."""
        radius = blur_radius(values["size"])
        return radius, radius

    @classmethod
    def data_window(cls, values, inputs, ctx):
        info = inputs[0] if inputs else None
        if info is None:
            return ImageInfo(ctx.script_format, EMPTY)
        return ImageInfo(info.format, info.data_window.grow(blur_radius(values["size"])))

    @classmethod
    def input_region(cls, values, region, index, ctx):
        return region.grow(blur_radius(values["size"]))

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """``(weights,)``: the float32 Gaussian taps from :func:`gaussian_weights`."""
        return (gaussian_weights(values["size"]),)
