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
    """

    pixels: np.ndarray
    data_window: tuple[int, int, int, int]
    format: Format

    @property
    def window(self) -> Window:
        return Window(*self.data_window)

    def crop(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """Pixels of ``box`` (image coordinates), black where outside the data window."""
        want = Window(*box)
        out = np.zeros((want.height, want.width, 4), np.float32)
        have = self.window.intersect(want)
        if not have.empty:
            src = self.pixels[have.y0 - self.window.y0 : have.y1 - self.window.y0,
                              have.x0 - self.window.x0 : have.x1 - self.window.x0]
            out[have.y0 - want.y0 : have.y1 - want.y0, have.x0 - want.x0 : have.x1 - want.x0] = src
        return out

    def __repr__(self) -> str:
        return f"<Image {self.window} of {self.format.width}x{self.format.height}>"
