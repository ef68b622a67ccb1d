"""The types reading and writing share: what a file holds, windows, and the error."""

from __future__ import annotations

from dataclasses import dataclass, field

Window = tuple[int, int, int, int]

#: The main layer's name and channels: every image has it (ARCHITECTURE.md, "Image model").
MAIN_LAYER = "rgba"
MAIN_CHANNELS = ("R", "G", "B", "A")


class ImageIOError(Exception):
    """A file could not be read or written; ``str(e)`` is one line naming the file."""


def _error(path: str, problem: object) -> ImageIOError:
    """Build an ImageIOError whose message is one line: ``path: problem``."""
    lines = [ln.strip() for ln in str(problem).splitlines() if ln.strip()]
    unique = list(dict.fromkeys(lines)) or ["unknown error"]
    return ImageIOError(f"{path}: {'; '.join(unique)}")


@dataclass(frozen=True)
class ImageInfo:
    """What a file holds, without its pixels.

    Attributes
    ----------
    width, height : int
        Display window (format) size.
    pixel_aspect : float
        Pixel aspect ratio.
    data_window : tuple of int
        ``(x0, y0, x1, y1)`` of the stored pixels, x1/y1 exclusive, in display-window
        pixel coordinates (origin top-left, y down): the main layer's (all parts' together
        in a multi-part file without a main part).
    channels : tuple of str
        Channel names of the file's main part, as OpenImageIO lists them (a multi-part
        file's other parts are in ``layers``).
    datatype : str
        Storage type: ``"half"``, ``"float"``, ``"uint8"``, ``"uint16"``, ``"uint10"``...
    tiled : bool
        Whether the file is stored in tiles.
    file_format : str
        OpenImageIO's format name: ``"openexr"``, ``"png"``, ``"tiff"``...
    metadata : dict
        The file's other attributes (strings, numbers, tuples of numbers).
    layers : tuple of (str, tuple of str)
        ``(layer, channel names)`` pairs: ``("rgba", ("R", "G", "B", "A"))`` first, then the
        file's other layers in file order, such as ``("diffuse", ("diffuse.R",
        "diffuse.G", "diffuse.B"))``; at most 4 channels each (``docs/io-and-colour.md``,
        "Layers", gives the naming rules).
    layer_windows : dict
        Layer name -> ``(x0, y0, x1, y1)`` of its stored pixels, in the coordinates of
        ``data_window`` (the parts of a multi-part file may differ).
    """

    width: int
    height: int
    pixel_aspect: float
    data_window: Window
    channels: tuple[str, ...]
    datatype: str
    tiled: bool
    file_format: str
    metadata: dict = field(default_factory=dict, compare=False, repr=False)
    layers: tuple[tuple[str, tuple[str, ...]], ...] = ((MAIN_LAYER, MAIN_CHANNELS),)
    layer_windows: dict[str, Window] = field(default_factory=dict, hash=False)


def _intersect(a: Window, b: Window | None) -> Window:
    """Intersection of two windows; an empty result keeps x1 >= x0 and y1 >= y0."""
    if b is None:
        return a
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = max(x0, min(a[2], b[2])), max(y0, min(a[3], b[3]))
    return (x0, y0, x1, y1)
