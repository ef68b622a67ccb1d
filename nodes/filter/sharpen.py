"""Sharpen: unsharp mask with Blur's Gaussian."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.filter.blur import Blur, blur_kernel, blur_radius, gaussian_weights
from mattebox.nodes.kernel import kernel, prange
from mattebox.nodes.spec import Float, Window, register


@kernel(parallel=True)
def sharpen_kernel(src, sx0, sy0, dst, dx0, dy0, weights, amount):
    """``dst = in + amount * (in - blur(in))``: Blur's kernel into ``dst``, then each row
    (in parallel) combined with the input, which is 0 outside ``src``. Separable, O(size)
    per pixel like the blur."""
    blur_kernel(src, sx0, sy0, dst, dx0, dy0, weights)
    h, w = src.shape[0], src.shape[1]
    height, width = dst.shape[0], dst.shape[1]
    for row in prange(height):
        sy = dy0 + row - sy0
        for col in range(width):
            sx = dx0 + col - sx0
            inside = sy >= 0 and sy < h and sx >= 0 and sx < w
            for c in range(4):
                value = src[sy, sx, c] if inside else np.float32(0.0)
                dst[row, col, c] = value + amount * (value - dst[row, col, c])


@register
class Sharpen(Blur):
    """Unsharp mask: ``out = in + amount * (in - blur(in))`` on all four channels.

    ``blur`` is :class:`Blur`'s Gaussian of the same ``size`` (sigma = size / 3, cut at
    ``r = ceil(size)``, its weights from :func:`gaussian_weights`), with everything outside
    the input's data window transparent black; so the output's data window is the input's
    grown by ``r``, where the result is ``-amount * blur``. Sharpen derives from Blur: it
    shares its region hooks and, on the GPU, the two passes of ``blur.wgsl``. ``size`` 0
    or ``amount`` 0 passes the input through unchanged.
    """

    type_name = "Sharpen"
    family = "filter"
    params = (
        Float(
            "amount",
            0.5,
            "Strength: how much of the difference from the blurred image is added.",
            soft_min=0.0,
            soft_max=5.0,
        ),
        Float(
            "size",
            3.0,
            "Radius in pixels of the blur that is subtracted (sigma = size / 3), as Blur's.",
            min=0.0,
            soft_max=100.0,
            spatial=True,
        ),
    )
    cpu_kernel = sharpen_kernel

    @classmethod
    def pass_through(cls, values):
        if blur_radius(values["size"]) == 0 or values["amount"] == 0.0:
            return "Source"
        return None

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """``(weights, amount)``: Blur's float32 Gaussian taps, then the float32 amount."""
        return gaussian_weights(values["size"]), np.float32(values["amount"])
