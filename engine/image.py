"""The result of a render: pixels of a data window, and the format they belong to.

An :class:`Image` is also an array for numpy and for DLPack consumers (torch, jax,
cupy on the host): ``np.asarray(image)``, ``np.from_dlpack(image)`` and
``torch.from_dlpack(image)`` view its main layer's pixels without copying them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mattebox.nodes.proxy import downscale, scale_format, scale_window
from mattebox.nodes.spec import Format, Window

__all__ = ["DeviceImage", "Image", "downscale", "scale_format", "scale_window"]


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

    As an array it is its main layer, :attr:`pixels` (float32 H×W×4, RGBA): numpy's
    ``__array__`` and the DLPack protocol (``__dlpack__``, ``__dlpack_device__``) hand out
    that memory itself, so ``np.asarray(image)`` or ``torch.from_dlpack(image)`` share it
    with the image (writing through one changes the other) and copy nothing.

    Examples
    --------
    >>> np.shares_memory(np.asarray(image), image.pixels)           # doctest: +SKIP
    True
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

    def pixel(self, x: int, y: int) -> np.ndarray:
        """The main layer's RGBA floats at ``(x, y)`` relative to the data window's corner."""
        return np.array(self.pixels[y, x], np.float32)

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

    # -- the array protocols: the main layer's memory, shared ----------------------------

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """:attr:`pixels` itself for numpy (``np.asarray(image)``); a converted or copied
        array only where ``dtype`` or ``copy=True`` ask for one (``copy=False`` with
        another dtype raises, as numpy 2's protocol says)."""
        pixels = self.pixels
        if dtype is not None and np.dtype(dtype) != pixels.dtype:
            if copy is False:
                raise ValueError(
                    f"an Image is float32: it cannot be viewed as {np.dtype(dtype)} without a copy"
                )
            return pixels.astype(dtype)
        return pixels.copy() if copy else pixels

    def __dlpack__(self, **kwargs):
        """A DLPack capsule of :attr:`pixels` (host memory, shared): numpy's own export,
        with the consumer's ``stream``, ``max_version``, ``dl_device`` and ``copy``."""
        return self.pixels.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        """``(1, 0)``: the CPU (DLPack's ``kDLCPU``); the GPU backend downloads images."""
        return self.pixels.__dlpack_device__()

    def __repr__(self) -> str:
        proxy = f" proxy 1/{self.proxy}" if self.proxy != 1 else ""
        return f"<Image {self.window} of {self.format.width}x{self.format.height}{proxy}>"


class DeviceImage(Image):
    """An :class:`Image` whose main layer stays on a device until something reads it.

    The viewer's GPU path (``engine/viewer.py``) displays a render without bringing its
    float pixels to the host; this stands for that render. :attr:`pixels` downloads them
    the first time it is read (then they are an ordinary array); :meth:`pixel` reads one
    pixel alone from the device while they have not been downloaded (the probe).

    ``fetch()`` gives the pixels of :attr:`data_window`; ``sample(x, y)`` the four floats
    at data-window-relative ``(x, y)``.
    """

    def __init__(self, fetch, sample, data_window, format: Format, proxy: int = 1):
        self._fetch = fetch
        self._sample = sample
        self._pixels: np.ndarray | None = None
        super().__init__(None, data_window, format, proxy, {})

    @property
    def pixels(self) -> np.ndarray:
        if self._pixels is None:
            self._pixels = self._fetch()
        return self._pixels

    @pixels.setter
    def pixels(self, value) -> None:
        self._pixels = value

    @property
    def on_device(self) -> bool:
        """True while the pixels have not been brought to the host."""
        return self._pixels is None

    def pixel(self, x: int, y: int) -> np.ndarray:
        """The RGBA floats at data-window-relative ``(x, y)``: read from the device alone
        while :attr:`pixels` has not been downloaded."""
        if self._pixels is None:
            return self._sample(x, y)
        return np.array(self._pixels[y, x], np.float32)

    def __repr__(self) -> str:
        where = " on the device" if self._pixels is None else ""
        return super().__repr__()[:-1] + where + ">"
