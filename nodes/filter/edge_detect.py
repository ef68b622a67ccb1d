"""EdgeDetect: Sobel gradient magnitude of R, G and B."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.filter.window import WindowFilter
from mattebox.nodes.kernel import kernel, prange
from mattebox.nodes.spec import Window, register


@kernel
def fetch(src, sx0, sy0, x, y, c):
    """Channel ``c`` of image pixel ``(x, y)`` of ``src``; 0 outside it."""
    sx = x - sx0
    sy = y - sy0
    if sx < 0 or sy < 0 or sx >= src.shape[1] or sy >= src.shape[0]:
        return np.float32(0.0)
    return src[sy, sx, c]


@kernel(parallel=True)
def edge_detect_kernel(src, sx0, sy0, dst, dx0, dy0):
    """``sqrt(gx² + gy²)`` per colour channel from the 3×3 Sobel kernels (``gx`` is
    ``[1 2 1]`` down the right column minus the left one, ``gy`` bottom row minus top
    row); alpha is the input's. Pixels outside ``src`` are 0; rows in parallel."""
    height, width = dst.shape[0], dst.shape[1]
    for row in prange(height):
        y = dy0 + row
        for col in range(width):
            x = dx0 + col
            for c in range(3):
                tl = fetch(src, sx0, sy0, x - 1, y - 1, c)
                tc = fetch(src, sx0, sy0, x, y - 1, c)
                tr = fetch(src, sx0, sy0, x + 1, y - 1, c)
                ml = fetch(src, sx0, sy0, x - 1, y, c)
                mr = fetch(src, sx0, sy0, x + 1, y, c)
                bl = fetch(src, sx0, sy0, x - 1, y + 1, c)
                bc = fetch(src, sx0, sy0, x, y + 1, c)
                br = fetch(src, sx0, sy0, x + 1, y + 1, c)
                gx = (tr + np.float32(2.0) * mr + br) - (tl + np.float32(2.0) * ml + bl)
                gy = (bl + np.float32(2.0) * bc + br) - (tl + np.float32(2.0) * tc + tr)
                dst[row, col, c] = np.sqrt(gx * gx + gy * gy)
            dst[row, col, 3] = fetch(src, sx0, sy0, x, y, 3)


@register
class EdgeDetect(WindowFilter):
    """Sobel edge detection: the gradient magnitude of R, G and B; alpha passes through.

    Per colour channel ``out = sqrt(gx² + gy²)`` with the standard 3×3 Sobel kernels
    (``gx = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` and its transpose for ``gy``). Outside
    the input's data window pixels count as transparent black, so the edges of the data
    window are edges, and the output's data window is the input's grown by 1 pixel
    (alpha is 0 in that border).
    """

    type_name = "EdgeDetect"
    params = ()
    cpu_kernel = edge_detect_kernel

    @classmethod
    def radius(cls, values) -> int:
        """The fixed 3×3 Sobel window."""
        return 1

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """``()``: the Sobel kernels are fixed."""
        return ()
