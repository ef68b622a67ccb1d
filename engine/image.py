"""The result of a render: pixels of a data window, and the format they belong to."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    planes : dict
        The layers other than the main one: layer name -> ``(channel names, plane)``, the
        plane an H×W×4 float32 array over the same data window whose first components
        are the layer's channels. Read them with :meth:`layer` and :meth:`channel`.

    Examples
    --------
    >>> image = graph.render(read)                                # doctest: +SKIP
    >>> image.channels                                            # doctest: +SKIP
    ('R', 'G', 'B', 'A', 'diffuse.R', 'diffuse.G', 'diffuse.B', 'depth.Z')
    >>> image.layer("diffuse").shape, image.channel("depth.Z").shape  # doctest: +SKIP
    ((1080, 1920, 3), (1080, 1920))
    """

    pixels: np.ndarray
    data_window: tuple[int, int, int, int]
    format: Format
    proxy: int = 1
    planes: dict = field(default_factory=dict)

    @property
    def window(self) -> Window:
        return Window(*self.data_window)

    @property
    def layers(self) -> tuple[str, ...]:
        """Layer names, the main ``rgba`` first."""
        return ("rgba", *self.planes)

    @property
    def channels(self) -> tuple[str, ...]:
        """Every channel name, layer by layer: ``("R", "G", "B", "A", "diffuse.R", ...)``."""
        return ("R", "G", "B", "A", *(c for names, _ in self.planes.values() for c in names))

    def layer(self, name: str) -> np.ndarray:
        """The pixels of layer ``name`` as float32 H×W×C, its channels in the order
        :attr:`channels` lists them (``rgba``: :attr:`pixels`)."""
        if name == "rgba":
            return self.pixels
        if name not in self.planes:
            raise KeyError(f"no layer {name!r} (the image has {', '.join(self.layers)})")
        names, plane = self.planes[name]
        return plane[..., : len(names)]

    def channel(self, name: str) -> np.ndarray:
        """The pixels of one channel (``"A"``, ``"depth.Z"``) as float32 H×W."""
        main = ("R", "G", "B", "A")
        if name in main:
            return self.pixels[..., main.index(name)]
        for names, plane in self.planes.values():
            if name in names:
                return plane[..., names.index(name)]
        raise KeyError(f"no channel {name!r} (the image has {', '.join(self.channels)})")

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
