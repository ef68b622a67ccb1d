"""The types reading and writing share: what a file holds, windows, and the error."""

from __future__ import annotations

from dataclasses import dataclass, field

Window = tuple[int, int, int, int]


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
        pixel coordinates (origin top-left, y down).
    channels : tuple of str
        Channel names in the file.
    datatype : str
        Storage type: ``"half"``, ``"float"``, ``"uint8"``, ``"uint16"``, ``"uint10"``...
    tiled : bool
        Whether the file is stored in tiles.
    file_format : str
        OpenImageIO's format name: ``"openexr"``, ``"png"``, ``"tiff"``...
    metadata : dict
        The file's other attributes (strings, numbers, tuples of numbers).
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


def _intersect(a: Window, b: Window | None) -> Window:
    """Intersection of two windows; an empty result keeps x1 >= x0 and y1 >= y0."""
    if b is None:
        return a
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = max(x0, min(a[2], b[2])), max(y0, min(a[3], b[3]))
    return (x0, y0, x1, y1)
