"""Image files in and out, through OpenImageIO only.

Pixels in memory are float32 planes, one per *layer* (``rgba``: RGBA, alpha
premultiplied; ``diffuse``, ``depth``...: up to 4 channels as stored), each of its data
window (ARCHITECTURE.md, "Image model"). This package maps files to and from that model:

- ``sequences``: :func:`expand_frame` turns ``plate.####.exr`` or ``plate.%04d.exr`` into
  a frame's file name;
- ``layers``: how a file's channels (and a multi-part EXR's parts) become layers;
- ``decode``: decoding and probing with OpenImageIO;
- ``worker``: :func:`probe`, :func:`read_image` and :func:`read_layers` decode in a
  worker process, because a malformed file can kill the process that decodes it
  (SIGSEGV/SIGFPE inside OpenImageIO); a crashed decoder becomes an :class:`ImageIOError`;
- ``blocks``: the shared memory pixels are decoded into; the engine's arrays are that
  memory (no copy), which returns to a pool for the next read when they are freed;
- ``threads``: how many threads OpenImageIO decodes and encodes with
  (:func:`set_io_threads`, ``MATTEBOX_IO_THREADS``);
- ``write``: :func:`write_image` writes atomically (a hidden temporary file in the same
  folder, then a rename), with layers in one part or one part per layer (OpenEXR);
- ``streamed``: :class:`StreamedWrite` writes an OpenEXR band of rows by band through
  one open file, as atomically (for images larger than memory).

The package imports only the standard library, numpy and OpenImageIO, so that the worker
process starts quickly. See ``docs/io-and-colour.md``.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import stat
import threading
from collections.abc import Iterable
from multiprocessing import shared_memory as shared_memory  # tests watch its SharedMemory

import numpy as np

from mattebox.engine.io import chatter
from mattebox.engine.io.decode import _decode_layers, _probe_file
from mattebox.engine.io.info import MAIN_LAYER, ImageInfo, ImageIOError, Window, _error
from mattebox.engine.io.sequences import expand_frame, is_sequence
from mattebox.engine.io.streamed import StreamedWrite, can_stream
from mattebox.engine.io.threads import apply as _apply_threads
from mattebox.engine.io.threads import io_threads, set_io_threads
from mattebox.engine.io.worker import _crash_worker as _crash_worker  # a test hook
from mattebox.engine.io.worker import (
    _free_worker,
    _worker,
    decode_timeout,
    set_decode_timeout,
    shutdown_worker,
)
from mattebox.engine.io.write import node_compression, write_image

__all__ = [
    "IN_PROCESS",
    "ImageIOError",
    "ImageInfo",
    "StreamedWrite",
    "can_stream",
    "decode_timeout",
    "expand_frame",
    "io_threads",
    "is_sequence",
    "node_compression",
    "probe",
    "read_image",
    "read_layers",
    "set_decode_timeout",
    "set_io_threads",
    "shutdown_worker",
    "write_image",
]

#: Decode in this process instead of the worker (for tests and debugging). The
#: environment variable ``MATTEBOX_IO_INPROCESS=1`` does the same.
IN_PROCESS = False


def _in_process() -> bool:
    """Whether to decode here; read at each call, so setting ``io.IN_PROCESS`` works."""
    return IN_PROCESS or os.environ.get("MATTEBOX_IO_INPROCESS") == "1"


#: What a path that is not a regular file is, by the test of :mod:`stat` that finds it.
_NOT_FILES = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_readable(path: str) -> os.stat_result:
    """Raise a plain ImageIOError for a missing or unreadable path, and for anything that
    is not a regular file (a folder, FIFO, device or socket: a decoder would wait on a
    pipe or read a device forever), before any decoder sees it; returns the file's stat."""
    if "\0" in path:
        raise _error(path.replace("\0", "\\0"), "contains a NUL character")
    try:
        found = os.stat(path)
    except FileNotFoundError:
        raise _error(path, "file not found") from None
    except OSError as error:
        raise _error(path, error.strerror or str(error)) from None
    mode = found.st_mode
    if not stat.S_ISREG(mode):
        what = next((name for test, name in _NOT_FILES if test(mode)), "not a regular file")
        raise _error(path, f"is {what}, not an image file")
    if not os.access(path, os.R_OK):
        raise _error(path, "permission denied")
    return found


#: Headers already read, by path and the file's identity (device, inode, size, change
#: and modification times): the viewer evaluates its graph at every slider step, and
#: asking the decoder process for an unchanged file's header each time cost a round trip.
_PROBED: collections.OrderedDict[tuple, ImageInfo] = collections.OrderedDict()
_PROBED_MAX = 512
_probed_lock = threading.Lock()


def probe(path: str) -> ImageInfo:
    """Describe an image file without reading its pixels.

    Parameters
    ----------
    path : str
        A file name (expand sequence patterns first with :func:`expand_frame`).

    Returns
    -------
    ImageInfo

    Raises
    ------
    ImageIOError
        When the file is missing, unreadable, damaged, or crashes the decoder.
    """
    path = os.fspath(path)
    found = _check_readable(path)
    key = _file_identity(path, found)
    with _probed_lock:
        info = _PROBED.get(key) if key else None
        if info is not None:
            _PROBED.move_to_end(key)
            return _fresh(info)
    if _in_process():  # (no timeout here: only the decoder process can be killed)
        with chatter.captured():
            info = _probe_file(path)
    else:
        info = _worker.request(("probe", path), path)[1]
    if key:
        with _probed_lock:
            _PROBED[key] = _fresh(info)
            while len(_PROBED) > _PROBED_MAX:
                _PROBED.popitem(last=False)
    return info


def _fresh(info: ImageInfo) -> ImageInfo:
    """A copy whose dicts a caller may change without changing the remembered one."""
    return dataclasses.replace(
        info, metadata=dict(info.metadata), layer_windows=dict(info.layer_windows)
    )


def _file_identity(path: str, found: os.stat_result | None) -> tuple | None:
    """What changes when a regular file is replaced or rewritten, from its stat; None
    for anything else (nothing is remembered of it)."""
    if found is None or not stat.S_ISREG(found.st_mode):
        return None
    return (path, found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def read_layers(
    path: str,
    layers: Iterable[str] | None,
    region: Window | None = None,
    proxy: int = 1,
) -> tuple[dict[str, np.ndarray], dict[str, Window], ImageInfo]:
    """Read some layers of an image, each as one RGBA-shaped float32 plane.

    Parameters
    ----------
    path : str
        A file name (expand sequence patterns first with :func:`expand_frame`).
    layers : iterable of str, or None
        Layer names as :attr:`ImageInfo.layers` lists them (``"rgba"``, ``"diffuse"``,
        ``"depth"``...); None reads them all. Only their channels are decoded: one read
        per part of the file, of the smallest channel range covering them.
    region : tuple of int, optional
        ``(x0, y0, x1, y1)`` in display-window coordinates; only the part of each layer's
        window inside it is read.
    proxy : int
        Read at 1/``proxy`` scale, decoding less where the file allows it: a tiled file's
        MIP level of that size as it is, else each band of rows box-filtered as it is
        decoded (``N`` × ``N`` blocks aligned to the display window's corner, outside the
        data window black), so that only the small image leaves the decoder. Windows
        are then in proxy pixels (``region`` stays in full-size pixels).

    Returns
    -------
    planes : dict of str to ndarray
        Layer name -> float32 ``(y1 - y0, x1 - x0, 4)``, C-contiguous: the layer's
        channels in components ``0..n-1`` in the order ``ImageInfo.layers`` gives, the
        other components 0. ``planes["rgba"]`` is what :func:`read_image` returns (alpha
        premultiplied); other layers are as stored, never premultiplied.
    windows : dict of str to tuple of int
        Layer name -> the window its plane covers: the layer's window (parts of a
        multi-part file may differ) intersected with ``region``.
    info : ImageInfo

    Raises
    ------
    ImageIOError
        When a layer is not in the file (the message lists those it has), or the file is
        missing, unreadable, damaged, or crashes the decoder.

    Examples
    --------
    >>> planes, windows, info = read_layers("beauty.exr", ["rgba", "depth"])  # doctest: +SKIP
    >>> depth = planes["depth"][..., 0]  # doctest: +SKIP
    """
    if isinstance(layers, str):
        layers = (layers,)
    return _read(path, None if layers is None else tuple(dict.fromkeys(layers)), region, proxy)


def _read(path, layers: tuple[str, ...] | None, region, proxy=1) -> tuple[dict, dict, ImageInfo]:
    """read_layers' work, in the worker or here (read_image calls this, not the public
    name, so that replacing one of them in a test leaves the other alone)."""
    if isinstance(proxy, bool) or not isinstance(proxy, int) or proxy < 1:
        raise ValueError(f"proxy must be a whole number >= 1, got {proxy!r}")
    path = os.fspath(path)
    _check_readable(path)
    if region is not None:
        region = tuple(int(v) for v in region)
    if _in_process():  # (no timeout here: only the decoder process can be killed)
        _apply_threads(io_threads())
        with chatter.captured():
            return _decode_layers(path, layers, region, _new_planes, proxy)
    return _free_worker().read(path, layers, region, proxy)


def _new_planes(shapes: list[tuple[int, int, int]]) -> list[np.ndarray]:
    """One new float32 array per shape (decoding in this process)."""
    return [np.empty(shape, np.float32) for shape in shapes]


def read_image(
    path: str, region: Window | None = None, proxy: int = 1
) -> tuple[np.ndarray, Window, ImageInfo]:
    """Read an image's pixels as premultiplied RGBA float32.

    Parameters
    ----------
    path : str
        A file name (expand sequence patterns first with :func:`expand_frame`).
    region : tuple of int, optional
        ``(x0, y0, x1, y1)`` in display-window coordinates; only the part of the data
        window inside it is read (tiled files read only the tiles it touches).
    proxy : int
        Read at 1/``proxy`` scale (see :func:`read_layers`); the window is then in proxy
        pixels.

    Returns
    -------
    pixels : ndarray
        float32, shape ``(y1 - y0, x1 - x0, 4)``, C-contiguous, alpha premultiplied.
        Channels map by name (R, G, B, A; Y is grey); a missing alpha is 1.
    window : tuple of int
        The window the pixels cover: the main layer's window intersected with ``region``.
    info : ImageInfo

    Raises
    ------
    ImageIOError
        When the file is missing, unreadable, damaged, or crashes the decoder.
    """
    planes, windows, info = _read(path, (MAIN_LAYER,), region, proxy)
    return planes[MAIN_LAYER], windows[MAIN_LAYER], info
