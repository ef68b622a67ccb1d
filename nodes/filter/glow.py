"""Glow: the input's highlights blurred with Blur's Gaussian and added back."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.filter.blur import Blur, blur_kernel, gaussian_weights
from mattebox.nodes.kernel import ZERO, kernel, prange
from mattebox.nodes.spec import Float, Window, register


@kernel(parallel=True)
def glow_kernel(src, sx0, sy0, dst, dx0, dy0, weights, threshold, gain):
    """``dst = in + gain * blur(max(in - threshold, 0))`` on R, G, B; alpha is the input's.

    The highlights (alpha 0) go to a temporary the size of ``src``, Blur's kernel blurs
    them into ``dst``, then each row (in parallel) adds the input, 0 outside ``src``.
    Separable, O(size) per pixel like the blur.
    """
    h, w = src.shape[0], src.shape[1]
    height, width = dst.shape[0], dst.shape[1]
    bright = np.empty((h, w, 4), np.float32)
    for row in prange(h):
        for col in range(w):
            for c in range(3):
                bright[row, col, c] = max(src[row, col, c] - threshold, ZERO)
            bright[row, col, 3] = ZERO
    blur_kernel(bright, sx0, sy0, dst, dx0, dy0, weights)
    for row in prange(height):
        sy = dy0 + row - sy0
        for col in range(width):
            sx = dx0 + col - sx0
            inside = sy >= 0 and sy < h and sx >= 0 and sx < w
            for c in range(3):
                value = src[sy, sx, c] if inside else ZERO
                dst[row, col, c] = value + gain * dst[row, col, c]
            dst[row, col, 3] = src[sy, sx, 3] if inside else ZERO


@register
class Glow(Blur):
    """Glow: the parts of R, G and B above ``threshold``, blurred and added back,
    ``out = in + gain * blur(max(in - threshold, 0))``; alpha is the input's, as Nuke's
    Glow leaves alpha alone by default (a glow adds light, it covers nothing).

    ``blur`` is :class:`Blur`'s Gaussian of the same ``size`` (sigma = size / 3, cut at
    ``r = ceil(size)``, weights from :func:`gaussian_weights`), with everything outside
    the input's data window transparent black; the output's data window is the input's
    grown by ``r``, where the glow spills onto pixels of alpha 0. ``threshold`` is at
    least 0, so black adds nothing. ``size`` 0 adds the highlights unblurred; ``gain`` 0
    passes the input through. Separable like Blur, O(size) per pixel on both backends:
    on the GPU the threshold is taken in Blur's vertical pass and the input added in the
    horizontal one, two passes as for Blur.
    """

    type_name = "Glow"
    family = "filter"
    params = (
        Float(
            "threshold",
            0.8,
            "Only what R, G or B has above this value glows (the highlights).",
            min=0.0,
            soft_max=2.0,
        ),
        Float(
            "size",
            10.0,
            "Radius in pixels of the glow's blur (sigma = size / 3), as Blur's.",
            min=0.0,
            soft_max=100.0,
            spatial=True,
        ),
        Float("gain", 1.0, "Brightness of the glow added to the input.", min=0.0, soft_max=4.0),
    )
    cpu_kernel = glow_kernel

    @classmethod
    def pass_through(cls, values):
        return "Source" if values["gain"] == 0.0 else None

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """``(weights, threshold, gain)``: Blur's float32 Gaussian taps, then the float32
        threshold and gain."""
        return (
            gaussian_weights(values["size"]),
            np.float32(values["threshold"]),
            np.float32(values["gain"]),
        )
