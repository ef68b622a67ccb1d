"""Proxy scale (a render at 1/N, as Nuke's proxy mode): windows, formats and pixels.

Shared by the engine (file sources, :mod:`mattebox.engine.image` re-exports these) and by
sources that scale their own pixels (ArrayRead).
"""

from __future__ import annotations

import numpy as np

from mattebox.nodes.spec import Format, Window


def scale_window(window: Window, proxy: int) -> Window:
    """``window`` in proxy pixels at 1/``proxy`` scale: every proxy pixel that a pixel of
    ``window`` falls in (x0, y0 rounded down, x1, y1 rounded up)."""
    if proxy == 1 or window.empty:
        return window
    return Window(
        window.x0 // proxy, window.y0 // proxy, -(-window.x1 // proxy), -(-window.y1 // proxy)
    )


def scale_format(fmt: Format, proxy: int) -> Format:
    """``fmt`` at 1/``proxy`` scale, sizes rounded up (a 1921-wide plate at proxy 2 is 961)."""
    if proxy == 1:
        return fmt
    return Format(-(-fmt.width // proxy), -(-fmt.height // proxy), fmt.pixel_aspect)


def downscale(pixels: np.ndarray, window: Window, proxy: int) -> tuple[np.ndarray, Window]:
    """Box-filter ``pixels`` (covering ``window``) to 1/``proxy`` scale.

    Proxy pixel (i, j) is the average of the ``proxy`` × ``proxy`` block of pixels
    ``[i*proxy, (i+1)*proxy)`` × ``[j*proxy, (j+1)*proxy)``, the blocks aligned to the
    image origin, not to the data window; pixels outside ``window`` count as transparent
    black, as they are. Returns the pixels and their window, :func:`scale_window` of
    ``window``.
    """
    if proxy == 1:
        return pixels, window
    out_window = scale_window(window, proxy)
    if out_window.empty:
        return np.zeros((0, 0, 4), np.float32), out_window
    grid = Window(
        out_window.x0 * proxy, out_window.y0 * proxy, out_window.x1 * proxy, out_window.y1 * proxy
    )
    padded = np.zeros((grid.height, grid.width, 4), np.float32)
    padded[window.y0 - grid.y0 : window.y1 - grid.y0, window.x0 - grid.x0 : window.x1 - grid.x0] = (
        pixels
    )
    blocks = padded.reshape(out_window.height, proxy, out_window.width, proxy, 4)
    return blocks.mean(axis=(1, 3), dtype=np.float64).astype(np.float32), out_window
