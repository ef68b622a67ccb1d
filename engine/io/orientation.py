"""Turning stored pixels the right way up: the ``Orientation`` a file declares.

OpenImageIO reports a file's intended display orientation as the ``Orientation``
attribute, numbered as EXIF and TIFF number it (1: rows top to bottom, columns left to
right, as stored; 2-8: mirrored and/or rotated), and hands the pixels back as stored.
Mattebox's images are always the right way up (origin top-left, y down), so a read turns
the stored planes and windows by the file's orientation (``docs/io-and-colour.md``).

numpy only: this runs in the decoder worker.
"""

from __future__ import annotations

import numpy as np

from mattebox.engine.io.info import Window

#: Orientations that swap width and height (the EXIF ones with a transpose).
TRANSPOSED = frozenset({5, 6, 7, 8})


def valid(orientation: int) -> int:
    """The orientation to apply: 2..8 as given, anything else 1 (as stored)."""
    return orientation if orientation in range(2, 9) else 1


def display_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """``(width, height)`` of a stored display window once turned."""
    return (size[1], size[0]) if orientation in TRANSPOSED else size


def turn(plane: np.ndarray, orientation: int) -> np.ndarray:
    """A view of a stored ``(rows, columns, ...)`` plane the right way up."""
    steps = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],  # mirrored left-right
        3: lambda a: a[::-1, ::-1],  # turned 180 degrees
        4: lambda a: a[::-1],  # mirrored top-bottom (rows stored bottom first)
        5: lambda a: a.swapaxes(0, 1),  # transposed
        6: lambda a: a[::-1].swapaxes(0, 1),  # turned 90 degrees clockwise
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),  # transverse
        8: lambda a: a[:, ::-1].swapaxes(0, 1),  # turned 90 degrees anticlockwise
    }
    return steps[orientation](plane)


def turn_window(window: Window, size: tuple[int, int], orientation: int) -> Window:
    """A stored window ``(x0, y0, x1, y1)`` inside a stored display window of ``size``,
    as it lies once turned (the same map as :func:`turn`, on its corner pixels)."""
    x0, y0, x1, y1 = window
    if x1 <= x0 or y1 <= y0:
        return (0, 0, 0, 0)
    corners = [_turn_pixel(x, y, size, orientation) for x, y in ((x0, y0), (x1 - 1, y1 - 1))]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return (min(xs), min(ys), max(xs) + 1, max(ys) + 1)


def _turn_pixel(x: int, y: int, size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Where stored pixel ``(x, y)`` lands (column, row) once turned."""
    width, height = size
    return {
        1: (x, y),
        2: (width - 1 - x, y),
        3: (width - 1 - x, height - 1 - y),
        4: (x, height - 1 - y),
        5: (y, x),
        6: (height - 1 - y, x),
        7: (height - 1 - y, width - 1 - x),
        8: (y, width - 1 - x),
    }[orientation]
