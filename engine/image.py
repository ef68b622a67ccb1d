"""The result of a render: pixels of a data window, and the format they belong to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mattebox.nodes.spec import Format, Window


@dataclass
class Image:
    """Rendered pixels.

    Attributes
    ----------
    pixels : numpy.ndarray
        float32, shape (height, width, 4), RGBA premultiplied, covering :attr:`data_window`.
    data_window : tuple of int
        ``(x0, y0, x1, y1)``, x1 and y1 exclusive, like OpenImageIO's ROI; origin top-left.
    format : Format
        The display window (width, height, pixel aspect).
    proxy : int
        The proxy level N it was rendered at: 1 is full resolution; at N > 1 the format,
        the data window and the pixels are at 1/N scale (proxy pixels).
    """

    pixels: np.ndarray
    data_window: tuple[int, int, int, int]
    format: Format
    proxy: int = 1

    @property
    def window(self) -> Window:
        return Window(*self.data_window)

    def crop(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """Pixels of ``box`` (image coordinates), black where outside the data window."""
        want = Window(*box)
        out = np.zeros((want.height, want.width, 4), np.float32)
        have = self.window.intersect(want)
        if not have.empty:
            src = self.pixels[
                have.y0 - self.window.y0 : have.y1 - self.window.y0,
                have.x0 - self.window.x0 : have.x1 - self.window.x0,
            ]
            out[have.y0 - want.y0 : have.y1 - want.y0, have.x0 - want.x0 : have.x1 - want.x0] = src
        return out

    def __repr__(self) -> str:
        proxy = f" proxy 1/{self.proxy}" if self.proxy != 1 else ""
        return f"<Image {self.window} of {self.format.width}x{self.format.height}{proxy}>"


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
