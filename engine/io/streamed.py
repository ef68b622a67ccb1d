"""Writing an image band of rows by band: the output half of rendering images larger than
memory (``docs/architecture.md``, "Images larger than memory").

One OpenImageIO ``ImageOutput`` stays open while the renderer hands it the rows of its
tiles in order; each band goes out in chunks of at most :data:`CHUNK_BYTES` (tiled files
through ``write_tiles``, a whole row of tiles at a time; scanline files through
``write_scanlines``), so neither the file's own conversion to half nor the caller's
colour conversion ever holds more than a chunk. The file is as atomic as
:func:`~mattebox.engine.io.write.write_image`'s: it grows in a hidden temporary beside the
target and is renamed over it once every row is in; any failure, or rows missing at the
end, removes the temporary and leaves the target as it was.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Self

import numpy as np
import OpenImageIO as oiio

from mattebox.engine import tempfiles
from mattebox.engine.io import chatter
from mattebox.engine.io.info import MAIN_CHANNELS, Window, _error
from mattebox.engine.io.write import (
    _FORMATS,
    _base_spec,
    _check_write_args,
    _hold,
    _metadata_value,
    _output_format,
    _set_storage,
    _temporary_path,
)

#: Formats written band by band: those that store a data window (OpenEXR), so a band
#: of the data window is a band of the file.
STREAMED_FORMATS = frozenset({"openexr"})

#: Bytes of float32 rows handed to OpenImageIO (and to ``convert``) at once.
CHUNK_BYTES = 64 * 2**20


def can_stream(path: str) -> bool:
    """Whether :class:`StreamedWrite` writes files of ``path``'s type."""
    try:
        return _output_format(os.fspath(path)) in STREAMED_FORMATS
    except Exception:  # noqa: BLE001 - an unknown type: write_image says why
        oiio.geterror()  # taken, so OpenImageIO does not print it at exit
        return False


class StreamedWrite:
    """An OpenEXR file written band of rows by band, in order, then renamed into place.

    Parameters are those of :func:`~mattebox.engine.io.write.write_image` (for the main
    RGBA layer), without the pixels: they come through :meth:`write`. Use it as a context
    manager: leaving the block normally commits the file (:meth:`commit`), an exception
    removes it (:meth:`abort`).

    Examples
    --------
    >>> with StreamedWrite("big.exr", (0, 0, 32768, 32768), (32768, 32768),
    ...                    tiled=True) as out:  # doctest: +SKIP
    ...     for y0, band in bands:
    ...         out.write(y0, band)
    """

    def __init__(
        self,
        path: str,
        data_window: Window,
        size: tuple[int, int],
        *,
        pixel_aspect: float = 1.0,
        datatype: str = "half",
        compression: str | None = None,
        tiled: bool = False,
        tile_size: int = 64,
        metadata: dict | None = None,
    ):
        self.path = path = os.fspath(path)
        file_format = _output_format(path)
        if file_format not in STREAMED_FORMATS:
            raise _error(path, f"{file_format} files are not written band by band (use .exr)")
        fmt = _FORMATS[file_format]
        _check_write_args(path, fmt, file_format, datatype, compression, tiled, int(tile_size))
        self.window = tuple(int(v) for v in data_window)
        x0, y0, x1, y1 = self.window
        size = (int(size[0]), int(size[1]))
        if size[0] <= 0 or size[1] <= 0:
            raise _error(path, f"display window size {size} must be positive")
        if x1 <= x0 or y1 <= y0:
            raise _error(path, f"data window {self.window} is empty: nothing to stream")
        spec = _base_spec(fmt, self.window, size, datatype, MAIN_CHANNELS)
        _set_storage(spec, file_format, fmt, datatype, compression, tiled, int(tile_size))
        spec.attribute("PixelAspectRatio", float(pixel_aspect))
        for key, value in (metadata or {}).items():
            spec.attribute(key, _metadata_value(path, key, value))
        #: Rows a band must be a multiple of (but the last): a tiled file's tile height.
        self.row_multiple = int(tile_size) if tiled else 1
        self._tiled = bool(tiled)
        self._next = y0
        folder = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise _error(path, f"cannot create folder {folder}: {exc.strerror or exc}") from None
        tempfiles.remove_stale(folder, tempfiles.IMAGE_TEMPORARY)
        self._temporary = _temporary_path(path)
        with chatter.captured():  # what libraries print stays off the terminal
            self._out = oiio.ImageOutput.create(self._temporary)
            opened = self._out is not None and self._out.open(self._temporary, spec)
        if self._out is None:
            raise _error(path, oiio.geterror() or "no writer for this file type")
        if not opened:
            message = self._out.geterror()
            self.abort()
            raise _error(path, message or "cannot open for writing")

    @property
    def rows_written(self) -> int:
        """Rows of the data window written so far."""
        return self._next - self.window[1]

    def write(
        self,
        y0: int,
        pixels: np.ndarray,
        convert: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        """Write rows ``y0 .. y0 + len(pixels)`` of the data window, its whole width
        (float32 ``(rows, width, 4)``, premultiplied), right after the rows written last.
        ``convert`` (the Write's colour conversion) is applied to each chunk on its way.
        A tiled file takes bands of whole rows of tiles (:attr:`row_multiple`), but at the
        bottom of the data window."""
        x0, _, x1, y1 = self.window
        rows = pixels.shape[0]
        if self._out is None:
            raise _error(self.path, "the file was already finished or abandoned")
        problem = None
        if y0 != self._next:
            problem = f"rows must come in order: expected row {self._next}, got {y0}"
        elif pixels.shape[1:] != (x1 - x0, 4) or y0 + rows > y1:
            problem = f"band of shape {pixels.shape} at row {y0} does not fit {self.window}"
        elif rows % self.row_multiple and y0 + rows != y1:
            problem = f"a band of {rows} rows is not whole rows of {self.row_multiple}-pixel tiles"
        if problem:
            self.abort()
            raise _error(self.path, problem)
        step = max(self.row_multiple, CHUNK_BYTES // max(1, pixels[0].nbytes))
        step -= step % self.row_multiple
        for top in range(0, rows, step):
            chunk = pixels[top : top + step]
            if convert is not None:
                chunk = convert(chunk)
            chunk = np.ascontiguousarray(chunk, np.float32)
            first, last = y0 + top, y0 + top + chunk.shape[0]
            with chatter.captured():
                if self._tiled:
                    ok = self._out.write_tiles(x0, x1, first, last, 0, 1, chunk)
                else:
                    ok = self._out.write_scanlines(first, last, 0, chunk)
            if not ok:
                message = self._out.geterror()
                self.abort()
                raise _error(self.path, message or f"writing rows {first}..{last} failed")
        self._next = y0 + rows

    def commit(self) -> None:
        """Close the file and rename it over the target; refused (and removed) unless
        every row of the data window was written."""
        if self._out is None:
            raise _error(self.path, "the file was already finished or abandoned")
        _, y0, _, y1 = self.window
        if self._next != y1:
            self.abort()
            raise _error(self.path, f"only rows {y0}..{self._next} of {y0}..{y1} were written")
        closing, self._out = self._out, None
        try:
            with chatter.captured():
                closed = closing.close()
            if not closed:
                raise _error(self.path, closing.geterror() or "write failed")
            old = _hold(self.path)
            try:
                os.replace(self._temporary, self.path)
            except OSError as exc:
                raise _error(self.path, f"cannot replace the file: {exc.strerror or exc}") from None
            finally:
                if old is not None:  # the replaced file's pages are freed off this thread
                    threading.Thread(target=os.close, args=(old,), daemon=True).start()
        finally:
            if os.path.lexists(self._temporary):
                os.remove(self._temporary)

    def abort(self) -> None:
        """Close the file without finishing it and remove the temporary (the target is
        left as it was). Safe to call more than once."""
        closing, self._out = self._out, None
        try:
            if closing is not None:
                with chatter.captured():
                    closing.close()
                closing.geterror()  # taken, else the writer prints it when it is freed
        finally:
            if os.path.lexists(self._temporary):
                os.remove(self._temporary)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()
