"""Image files in and out, through OpenImageIO only.

Pixels in memory are RGBA float32, alpha premultiplied, of an image's *data window*
(ARCHITECTURE.md, "Image model"). This module maps files to and from that model:

- sequences: :func:`expand_frame` turns ``plate.####.exr`` or ``plate.%04d.exr`` into a
  frame's file name;
- reading: :func:`probe` and :func:`read_image` decode in a worker process, because a
  malformed file can kill the process that decodes it (SIGSEGV/SIGFPE inside OpenImageIO);
  pixels come back through shared memory and a crashed decoder becomes an
  :class:`ImageIOError`;
- writing: :func:`write_image` writes atomically (a hidden temporary file in the same
  folder, then a rename).

This module imports only the standard library, numpy and OpenImageIO, so that the worker
process starts quickly. See ``docs/io-and-colour.md``.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import mmap
import multiprocessing
import multiprocessing.spawn
import os
import re
import secrets
import signal
import threading
from dataclasses import dataclass, field
from multiprocessing import shared_memory

import numpy as np
import OpenImageIO as oiio

__all__ = [
    "IN_PROCESS",
    "ImageIOError",
    "ImageInfo",
    "expand_frame",
    "is_sequence",
    "probe",
    "read_image",
    "shutdown_worker",
    "write_image",
]

#: Decode in this process instead of the worker (for tests and debugging). The
#: environment variable ``MATTEBOX_IO_INPROCESS=1`` does the same.
IN_PROCESS = False

#: Environment variable that enables the worker's test hooks (see ``_crash_worker``).
_TEST_HOOKS_ENV = "MATTEBOX_IO_TEST_HOOKS"

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


# --------------------------------------------------------------------------- sequences

_FRAME_TOKEN = re.compile(r"#+|%(?:0(\d+))?d")


def expand_frame(pattern: str, frame: int) -> str:
    """Put a frame number into a sequence pattern.

    A run of N ``#`` is the frame zero-padded to N digits (``####`` -> ``0001``,
    ``#`` -> ``1``); printf's ``%04d`` and ``%d`` mean the same. A negative frame keeps
    its ``-`` before the padded digits (``####``, -5 -> ``-0005``). A pattern without
    these tokens comes back unchanged. Every token in the pattern is replaced.

    Examples
    --------
    >>> expand_frame("plate.####.exr", 12)
    'plate.0012.exr'
    >>> expand_frame("plate.%03d.exr", -7)
    'plate.-007.exr'
    """
    frame = int(frame)

    def repl(match: re.Match) -> str:
        token = match.group(0)
        if token.startswith("#"):
            width = len(token)
        else:
            width = int(match.group(1) or 1)
        digits = f"{abs(frame):0{width}d}"
        return f"-{digits}" if frame < 0 else digits

    return _FRAME_TOKEN.sub(repl, pattern)


def is_sequence(pattern: str) -> bool:
    """Whether ``pattern`` holds a frame token (``#``, ``%d`` or ``%0Nd``)."""
    return _FRAME_TOKEN.search(pattern) is not None


# --------------------------------------------------------------------------- decoding
# Everything from here to the worker section runs inside the worker process.


def _open_input(path: str) -> oiio.ImageInput:
    """Open ``path`` for reading, keeping unassociated alpha as stored (we premultiply)."""
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    inp = oiio.ImageInput.open(path, config)
    if inp is None:
        raise _error(path, oiio.geterror() or "cannot open")
    return inp


def _datatype_name(spec: oiio.ImageSpec) -> str:
    """Storage type as a short string, with the real bit depth of integer files."""
    name = str(spec.format)
    bits = spec.get_int_attribute("oiio:BitsPerSample", 0)
    if name.startswith("uint") and bits and bits != spec.format.size() * 8:
        return f"uint{bits}"
    return name


def _simple_value(value: object) -> object | None:
    """A metadata value as a plain Python value, or None when it is not simple."""
    if isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (tuple, list)) and all(isinstance(v, (int, float)) for v in value):
        return tuple(value)
    return None


def _info_from_spec(spec: oiio.ImageSpec, file_format: str) -> ImageInfo:
    """Build an ImageInfo from an opened file's spec."""
    x0, y0 = spec.x - spec.full_x, spec.y - spec.full_y
    metadata = {}
    for attrib in spec.extra_attribs:
        if attrib.name == "oiio:UnassociatedAlpha":
            continue
        value = _simple_value(attrib.value)
        if value is not None:
            metadata[attrib.name] = value
    return ImageInfo(
        width=spec.full_width,
        height=spec.full_height,
        pixel_aspect=float(spec.get_float_attribute("PixelAspectRatio", 1.0) or 1.0),
        data_window=(x0, y0, x0 + spec.width, y0 + spec.height),
        channels=tuple(spec.channelnames),
        datatype=_datatype_name(spec),
        tiled=spec.tile_width > 0,
        file_format=file_format,
        metadata=metadata,
    )


def _find_channel(names: list[str], *wanted: str) -> int | None:
    """Index of the first channel whose lowercase name is in ``wanted``."""
    for candidate in wanted:
        if candidate in names:
            return names.index(candidate)
    return None


def _channel_map(channels: tuple[str, ...]) -> tuple[tuple[int | None, ...], int | None]:
    """Indices of the channels feeding R, G, B (None: zero) and A (None: opaque).

    Names first (R, G, B, A, any case; Y for grey), then the first layer that has them
    (``diffuse.R``...), then position (1 channel: grey; 2: grey + alpha; 3+: RGB(A)).
    """
    prefixes = [""] + list(dict.fromkeys(c.rsplit(".", 1)[0] + "." for c in channels if "." in c))
    for prefix in prefixes:
        names = [c.lower()[len(prefix) :] if c.startswith(prefix) else "" for c in channels]
        rgb = tuple(
            _find_channel(names, n, long)
            for n, long in (("r", "red"), ("g", "green"), ("b", "blue"))
        )
        alpha = _find_channel(names, "a", "alpha")
        if any(i is not None for i in rgb):
            return rgb, alpha
        grey = _find_channel(names, "y", "l", "luminance")
        if grey is not None:
            return (grey, grey, grey), alpha
    count = len(channels)
    if count <= 2:
        return (0, 0, 0), (1 if count == 2 else None)
    return (0, 1, 2), (3 if count >= 4 else None)


def _check_known_reader_bugs(path: str, spec: oiio.ImageSpec, file_format: str) -> None:
    """Refuse files that OpenImageIO 3.2 is known to decode wrongly (FACTS.md)."""
    bits = spec.get_int_attribute("oiio:BitsPerSample", 0)
    if file_format == "dpx" and bits == 10 and spec.nchannels == 4 and (spec.width * 4) % 3 == 1:
        raise _error(
            path,
            f"10-bit RGBA DPX of width {spec.width} is decoded wrongly by OpenImageIO "
            f"{oiio.__version__} (width*4 mod 3 == 1 corrupts each row's last pixel); "
            "convert it to RGB or 16-bit first",
        )


def _intersect(a: Window, b: Window | None) -> Window:
    """Intersection of two windows; an empty result keeps x1 >= x0 and y1 >= y0."""
    if b is None:
        return a
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = max(x0, min(a[2], b[2])), max(y0, min(a[3], b[3]))
    return (x0, y0, x1, y1)


def _read_block(inp: oiio.ImageInput, spec: oiio.ImageSpec, box: Window, chans: range):
    """Read file-coordinate box ``box`` of channels ``chans`` as float32 (rows, cols, n)."""
    x0, y0, x1, y1 = box
    if spec.tile_width > 0:
        # read_tiles needs tile-aligned starts and ends (or the data window's end).
        tw, th = spec.tile_width, spec.tile_height
        ax0 = spec.x + (x0 - spec.x) // tw * tw
        ay0 = spec.y + (y0 - spec.y) // th * th
        ax1 = min(spec.x + spec.width, spec.x + -(-(x1 - spec.x) // tw) * tw)
        ay1 = min(spec.y + spec.height, spec.y + -(-(y1 - spec.y) // th) * th)
        data = inp.read_tiles(
            0, 0, ax0, ax1, ay0, ay1, spec.z, spec.z + 1, chans.start, chans.stop, "float"
        )
        offset = (x0 - ax0, y0 - ay0)
    else:
        data = inp.read_scanlines(0, 0, y0, y1, spec.z, chans.start, chans.stop, "float")
        offset = (x0 - spec.x, 0)
    if data is None:
        raise ImageIOError(inp.geterror() or "the pixels could not be read")
    data = np.asarray(data, dtype=np.float32).reshape(data.shape[0], data.shape[1], -1)
    return data[offset[1] : offset[1] + (y1 - y0), offset[0] : offset[0] + (x1 - x0)]


def _decode(path: str, region: Window | None, alloc) -> tuple[np.ndarray, Window, ImageInfo]:
    """Read ``path`` (data window ∩ region) into an RGBA float32 array from ``alloc``."""
    inp = _open_input(path)
    try:
        spec = inp.spec()
        file_format = inp.format_name()
        if spec.deep:
            raise _error(path, "deep images are not supported")
        info = _info_from_spec(spec, file_format)
        _check_known_reader_bugs(path, spec, file_format)
        window = _intersect(info.data_window, region)
        height, width = window[3] - window[1], window[2] - window[0]
        out = alloc((height, width, 4))
        if height == 0 or width == 0:
            return out, window, info
        rgb, alpha = _channel_map(info.channels)
        used = [i for i in (*rgb, alpha) if i is not None]
        chans = range(min(used), max(used) + 1)
        box = (
            window[0] + spec.full_x,
            window[1] + spec.full_y,
            window[2] + spec.full_x,
            window[3] + spec.full_y,
        )
        try:
            data = _read_block(inp, spec, box, chans)
        except ImageIOError as exc:
            raise _error(path, exc) from None
        if (*rgb, alpha) == (chans.start, chans.start + 1, chans.start + 2, chans.start + 3):
            out[...] = data  # RGBA in order: one contiguous copy
        else:
            for out_channel, index in enumerate((*rgb, alpha)):
                if index is None:
                    out[..., out_channel] = 1.0 if out_channel == 3 else 0.0
                else:
                    out[..., out_channel] = data[..., index - chans.start]
        if alpha is not None and spec.get_int_attribute("oiio:UnassociatedAlpha", 0):
            out[..., :3] *= out[..., 3:4]  # the file stores unassociated alpha
        return out, window, info
    finally:
        inp.close()


def _probe_file(path: str) -> ImageInfo:
    """Open ``path`` and describe it, without decoding pixels."""
    inp = _open_input(path)
    try:
        return _info_from_spec(inp.spec(), inp.format_name())
    finally:
        inp.close()


# --------------------------------------------------------------------------- worker


def _worker_main(conn, test_hooks: bool) -> None:
    """The decoder process: answer ("probe", path) and ("read", path, region) requests."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the parent
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        kind = request[0]
        if kind == "stop":
            return
        try:
            if kind == "probe":
                conn.send(("ok", _probe_file(request[1])))
            elif kind == "read":
                _worker_read(conn, *request[1:])
            elif kind == "crash" and test_hooks:
                os.kill(os.getpid(), request[2])
            else:
                conn.send(("error", f"unknown request {kind!r}"))
        except ImageIOError as exc:
            conn.send(("error", str(exc)))
        except Exception as exc:  # noqa: BLE001 - any decoder failure is that file's error
            conn.send(("error", str(_error(request[1], f"{type(exc).__name__}: {exc}"))))


_arena: list[shared_memory.SharedMemory] = []  # the worker's mapping of the parent's arena


def _attach_arena(name: str) -> shared_memory.SharedMemory:
    """The parent's arena, attached once per arena (a new name: the parent replaced it)."""
    if not _arena or _arena[0].name != name:
        for old in _arena:
            old.close()
        _arena[:] = [shared_memory.SharedMemory(name=name)]
    return _arena[0]


def _worker_read(
    conn, path: str, region: Window | None, arena: str | None = None, arena_size: int = 0
) -> None:
    """Decode into the parent's arena when it is large enough, else into a new block the
    parent takes over (and unlinks); send the block's name."""
    blocks: list[shared_memory.SharedMemory] = []

    def alloc(shape: tuple[int, int, int]) -> np.ndarray:
        nbytes = math.prod(shape) * 4
        if nbytes == 0:
            return np.zeros(shape, np.float32)
        if arena is not None and nbytes <= arena_size:
            return np.ndarray(shape, np.float32, buffer=_attach_arena(arena).buf)
        block = shared_memory.SharedMemory(create=True, size=nbytes)
        blocks.append(block)
        return np.ndarray(shape, np.float32, buffer=block.buf)

    try:
        pixels, window, info = _decode(path, region, alloc)
        shape = pixels.shape
        del pixels  # release the view so the block can be closed
    except BaseException:
        for block in blocks:
            block.close()
            block.unlink()
        raise
    name = blocks[0].name if blocks else (arena if math.prod(shape) else None)
    conn.send(("ok", name, shape, window, info))
    for block in blocks:
        block.close()


def _describe_exit(exitcode: int | None) -> str:
    """``signal 11, SIGSEGV`` or ``exit code 3`` for a dead worker's exit code."""
    if exitcode is None:
        return "no exit code"
    if exitcode < 0:
        try:
            return f"signal {-exitcode}, {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"


@contextlib.contextmanager
def _without_main_module():
    """Start spawn children from this thread without re-running the parent's ``__main__``.

    multiprocessing's spawn re-imports the parent's main script in the child. For the
    decoder that is slow (the editor's imports, Qt) and breaks plain scripts without an
    ``if __name__ == "__main__"`` guard; the worker needs nothing from ``__main__``.
    Only processes started by the calling thread are affected.
    """
    original = multiprocessing.spawn.get_preparation_data
    caller = threading.get_ident()

    def preparation_data(*args, **kwargs):
        data = original(*args, **kwargs)
        if threading.get_ident() == caller:
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    multiprocessing.spawn.get_preparation_data = preparation_data
    try:
        yield
    finally:
        multiprocessing.spawn.get_preparation_data = original


class _Worker:
    """One persistent decoder process, started lazily, restarted when it dies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process = None
        self._conn = None
        # Shared memory the worker decodes into, reused from read to read: the first
        # write to new shared memory costs a page fault per 4 KiB (about 250 ms for a 4K
        # float image), a copy out of memory already mapped about 30 ms.
        self._arena: shared_memory.SharedMemory | None = None

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent_conn, child_conn = context.Pipe()
        hooks = os.environ.get(_TEST_HOOKS_ENV) == "1"
        process = context.Process(
            target=_worker_main, args=(child_conn, hooks), name="mattebox-io", daemon=True
        )
        with _without_main_module():
            process.start()
        child_conn.close()
        self._process, self._conn = process, parent_conn

    def _discard(self, kill: bool) -> int | None:
        """Forget the current process (killing it if asked) and return its exit code."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        if kill and process.is_alive():
            process.kill()
        process.join(5)
        return process.exitcode

    def request(self, message: tuple, path: str) -> tuple:
        """Send one request and return its reply; a dead worker becomes ImageIOError."""
        with self._lock:
            return self._exchange(message, path)

    def read(self, path: str, region: Window | None) -> tuple[np.ndarray, Window, ImageInfo]:
        """Decode ``path`` in the worker; the pixels come back through the arena."""
        with self._lock:
            arena = self._arena
            message = (
                "read",
                path,
                region,
                arena.name if arena else None,
                arena.size if arena else 0,
            )
            _, name, shape, window, info = self._exchange(message, path)
            if name is None:
                return np.zeros(shape, np.float32), window, info
            if arena is not None and name == arena.name:
                pixels = np.empty(shape, np.float32)  # copied while the lock keeps the arena ours
                np.copyto(pixels, np.ndarray(shape, np.float32, buffer=arena.buf))
                return pixels, window, info
            pixels = _take_block(name, shape)
            self._replace_arena(math.prod(shape) * 4)
            return pixels, window, info

    def _replace_arena(self, nbytes: int) -> None:
        """A bigger arena for the next read (the old one is removed)."""
        self._drop_arena()
        try:
            self._arena = shared_memory.SharedMemory(create=True, size=nbytes)
            # touched now, so that the page faults of new shared memory (about 250 ms for
            # a 4K float image) fall on this read and not on the next
            np.ndarray((nbytes,), np.uint8, buffer=self._arena.buf)[::4096] = 0
        except OSError:  # no room in /dev/shm: blocks per read, as before
            self._arena = None

    def _drop_arena(self) -> None:
        if self._arena is not None:
            self._arena.close()
            self._arena.unlink()
            self._arena = None

    def _exchange(self, message: tuple, path: str) -> tuple:
        """One request and its reply (the lock held); a dead worker becomes ImageIOError."""
        if self._process is not None and not self._process.is_alive():
            self._discard(kill=False)
        if self._process is None:
            try:
                self._start()
            except Exception as exc:  # noqa: BLE001 - e.g. inside a daemonic process
                raise _error(
                    path,
                    f"cannot start the decoder process ({type(exc).__name__}: {exc}); "
                    "set MATTEBOX_IO_INPROCESS=1 to decode in this process",
                ) from None
        try:
            self._conn.send(message)
            reply = self._conn.recv()
        except (EOFError, OSError):
            code = self._discard(kill=True)
            raise ImageIOError(
                f"{path}: decoder crashed ({_describe_exit(code)}) reading {path}"
            ) from None
        except BaseException:
            self._discard(kill=True)  # e.g. KeyboardInterrupt: the pipe is out of step
            raise
        if reply[0] == "error":
            raise ImageIOError(reply[1])
        return reply

    def shutdown(self) -> None:
        """Stop the process if it runs."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(("stop",))
                except OSError:
                    pass
            process = self._process
            if process is not None:
                process.join(2)
            self._discard(kill=True)
            self._drop_arena()

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's worker (it is not ours to talk to)."""
        self._lock = threading.Lock()
        self._process = self._conn = None
        self._arena = None  # the parent's: not ours to remove

    @property
    def pid(self) -> int | None:
        """Process id of the running worker, if any (for tests)."""
        return self._process.pid if self._process is not None else None


_worker = _Worker()
# A second decoder, started on first need, lets two images decode at once (a comp's plate
# and background): decoding an EXR is mostly one thread's work.
_workers = (_worker, _Worker())
for _each in _workers:
    os.register_at_fork(after_in_child=_each.forget_after_fork)


def _free_worker() -> _Worker:
    """The first decoder not busy (the first one when all are)."""
    return next((w for w in _workers if not w._lock.locked()), _worker)


def shutdown_worker() -> None:
    """Stop the decoder processes; the next read starts one again. Runs at exit."""
    for worker in _workers:
        worker.shutdown()


atexit.register(shutdown_worker)


def _in_process() -> bool:
    return IN_PROCESS or os.environ.get("MATTEBOX_IO_INPROCESS") == "1"


def _crash_worker(path: str, signum: int = signal.SIGSEGV) -> None:
    """Test hook: make the worker kill itself with ``signum`` as if decoding ``path``.

    Works only when the worker was started with ``MATTEBOX_IO_TEST_HOOKS=1`` set.
    """
    _worker.request(("crash", path, int(signum)), path)


# --------------------------------------------------------------------------- reading


def _check_readable(path: str) -> None:
    """Raise a plain ImageIOError for a missing, unreadable or non-file path."""
    if not os.path.exists(path):
        raise _error(path, "file not found")
    if os.path.isdir(path):
        raise _error(path, "is a folder, not an image file")
    if not os.access(path, os.R_OK):
        raise _error(path, "permission denied")


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
    _check_readable(path)
    if _in_process():
        return _probe_file(path)
    return _worker.request(("probe", path), path)[1]


def read_image(path: str, region: Window | None = None) -> tuple[np.ndarray, Window, ImageInfo]:
    """Read an image's pixels as premultiplied RGBA float32.

    Parameters
    ----------
    path : str
        A file name (expand sequence patterns first with :func:`expand_frame`).
    region : tuple of int, optional
        ``(x0, y0, x1, y1)`` in display-window coordinates; only the part of the data
        window inside it is read (tiled files read only the tiles it touches).

    Returns
    -------
    pixels : ndarray
        float32, shape ``(y1 - y0, x1 - x0, 4)``, C-contiguous, alpha premultiplied.
        Channels map by name (R, G, B, A; Y is grey); a missing alpha is 1.
    window : tuple of int
        The window the pixels cover: the data window intersected with ``region``.
    info : ImageInfo

    Raises
    ------
    ImageIOError
        When the file is missing, unreadable, damaged, or crashes the decoder.
    """
    path = os.fspath(path)
    _check_readable(path)
    if region is not None:
        region = tuple(int(v) for v in region)
    if _in_process():
        pixels, window, info = _decode(path, region, lambda shape: np.empty(shape, np.float32))
        return np.ascontiguousarray(pixels), window, info
    return _free_worker().read(path, region)


def _take_block(name: str, shape: tuple[int, int, int]) -> np.ndarray:
    """The worker's shared-memory block as an array of ours, its name removed.

    Where shared memory is a file (Linux ``/dev/shm``) the array maps it, with no copy: the
    memory is returned to the system when the array is freed. Elsewhere it is copied.
    """
    block = shared_memory.SharedMemory(name=name)
    try:
        path = os.path.join("/dev/shm", name.lstrip("/"))
        if os.path.exists(path):
            fd = os.open(path, os.O_RDWR)
            try:
                mapped = mmap.mmap(fd, math.prod(shape) * 4)
            finally:
                os.close(fd)
            return np.frombuffer(mapped, np.float32).reshape(shape)
        return np.ndarray(shape, np.float32, buffer=block.buf).copy()
    finally:
        block.close()
        block.unlink()


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class _Format:
    """What Mattebox writes in one file format."""

    datatypes: frozenset[str]
    compressions: dict[str, tuple[int, int] | None]  # name -> allowed ":N" range, or None
    default_compression: str | None
    channels: int  # 4: RGBA, 3: RGB (alpha dropped)
    tiles: bool
    data_window: bool  # stores a data window apart from the display window
    unassociated: bool  # stores unassociated alpha (we unpremultiply before writing)


_EXR_COMPRESSIONS: dict[str, tuple[int, int] | None] = {
    "none": None,
    "rle": None,
    "zips": (1, 9),
    "zip": (1, 9),
    "piz": None,
    "pxr24": None,
    "b44": None,
    "b44a": None,
    "dwaa": (1, 1000),
    "dwab": (1, 1000),
    "htj2k256": None,
    "htj2k32": None,
}

_FORMATS = {
    "openexr": _Format(
        frozenset({"half", "float"}), _EXR_COMPRESSIONS, "zip", 4, True, True, False
    ),
    "tiff": _Format(
        frozenset({"uint8", "uint16", "half", "float"}),
        {"none": None, "lzw": None, "zip": (1, 9), "packbits": None},
        "zip",
        4,
        True,
        False,
        False,
    ),
    "png": _Format(frozenset({"uint8", "uint16"}), {"zip": (0, 9)}, None, 4, False, False, True),
    "jpeg": _Format(frozenset({"uint8"}), {"jpeg": (1, 100)}, None, 3, False, False, False),
    "dpx": _Format(
        frozenset({"uint8", "uint10", "uint12", "uint16", "float"}),
        {"none": None},
        None,
        3,
        False,
        False,
        False,
    ),
}

_EXTENSIONS = {"openexr": "exr", "tiff": "tif", "png": "png", "jpeg": "jpg", "dpx": "dpx"}


def _output_format(path: str) -> str:
    """OpenImageIO's format name for ``path``'s extension, if Mattebox writes it."""
    out = oiio.ImageOutput.create(path)
    name = out.format_name() if out is not None else None
    if name not in _FORMATS:
        ext = os.path.splitext(path)[1] or "(none)"
        known = ", ".join(sorted(_EXTENSIONS.values()))
        raise _error(path, f"cannot write files of type {ext} (Mattebox writes {known})")
    return name


def _check_compression(path: str, fmt: _Format, file_format: str, compression: str) -> None:
    """Refuse a compression name (or level) the format does not have."""
    name, _, level = compression.partition(":")
    allowed = fmt.compressions
    if name not in allowed or (level and (allowed[name] is None or not level.isdigit())):
        choices = ", ".join(n + (":N" if r else "") for n, r in allowed.items())
        raise _error(path, f"{file_format} has no compression {compression!r} (use {choices})")
    low, high = allowed[name] or (0, 0)
    if level and not low <= int(level) <= high:
        raise _error(path, f"{compression!r}: level must be {low}..{high}")


def _check_write_args(path, fmt, file_format, datatype, compression, tiled, tile_size) -> None:
    """Refuse combinations the format cannot store, with one clear line."""
    if datatype not in fmt.datatypes:
        raise _error(
            path,
            f"{file_format} cannot store {datatype} pixels "
            f"(use {', '.join(sorted(fmt.datatypes))})",
        )
    if compression is not None:
        _check_compression(path, fmt, file_format, compression)
    if tiled:
        if not fmt.tiles:
            raise _error(path, f"{file_format} files cannot be tiled (only EXR and TIFF)")
        if tile_size <= 0 or (file_format == "tiff" and tile_size % 16):
            rule = "a multiple of 16" if file_format == "tiff" else "positive"
            raise _error(path, f"tile size {tile_size} must be {rule}")


def _checked_pixels(path: str, pixels: np.ndarray, data_window: Window) -> np.ndarray:
    """``pixels`` as float32 (H, W, 4), checked against the data window's size."""
    pixels = np.asarray(pixels)
    x0, y0, x1, y1 = data_window
    expected = (max(0, y1 - y0), max(0, x1 - x0), 4)
    if pixels.shape != expected:
        raise _error(path, f"pixels have shape {pixels.shape}, data window needs {expected}")
    return np.asarray(pixels, dtype=np.float32)


def _on_display_window(pixels: np.ndarray, data_window: Window, size: tuple[int, int]):
    """Paste data-window pixels onto a black display window (for formats without one)."""
    width, height = size
    canvas = np.zeros((height, width, 4), np.float32)
    x0, y0, x1, y1 = _intersect(data_window, (0, 0, width, height))
    if x1 > x0 and y1 > y0:
        dx, dy = data_window[0], data_window[1]
        canvas[y0:y1, x0:x1] = pixels[y0 - dy : y1 - dy, x0 - dx : x1 - dx]
    return canvas


def _unpremultiply(pixels: np.ndarray) -> np.ndarray:
    """Divide colour by alpha where alpha > 0; colour is 0 where alpha is 0 or less."""
    alpha = pixels[..., 3:4]
    out = pixels.copy()
    np.divide(pixels[..., :3], alpha, out=out[..., :3], where=alpha > 0)
    out[..., :3] = np.where(alpha > 0, out[..., :3], 0.0)
    return out


def _metadata_value(path: str, key: str, value: object) -> object:
    """Refuse metadata values OpenImageIO cannot type on its own."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _error(path, f"metadata {key!r}: expected a string or a number, got {value!r}")
    return value


def _base_spec(fmt: _Format, window: Window, size: tuple[int, int], datatype: str):
    """An ImageSpec with the channels, type and data/display windows of a write."""
    x0, y0, x1, y1 = window
    stored = "uint16" if datatype in ("uint10", "uint12") else datatype
    spec = oiio.ImageSpec(x1 - x0, y1 - y0, fmt.channels, stored)
    spec.channelnames = ("R", "G", "B", "A")[: fmt.channels]
    if fmt.channels == 4:
        spec.alpha_channel = 3
    spec.x, spec.y = x0, y0
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = 0, 0, size[0], size[1]
    if datatype in ("uint10", "uint12"):
        spec.attribute("oiio:BitsPerSample", int(datatype[4:]))
    if fmt.unassociated:
        spec.attribute("oiio:UnassociatedAlpha", 1)  # we unpremultiplied already
    return spec


def _set_storage(spec, file_format: str, fmt: _Format, datatype: str, compression, tiled,
                 tile_size: int) -> None:  # fmt: skip
    """Compression, tiling and half-TIFF attributes of a write."""
    if file_format == "tiff" and datatype == "half":
        spec.attribute("tiff:half", 1)  # else OIIO stores float
    compression = compression or fmt.default_compression
    if compression and file_format == "png":
        level = compression.partition(":")[2]
        if level:
            spec.attribute("png:compressionLevel", int(level))
    elif compression:
        spec.attribute("compression", compression)
    if tiled:
        spec.tile_width = spec.tile_height = tile_size
        spec.tile_depth = 1


def _temporary_path(path: str) -> str:
    """A hidden sibling of ``path`` with the same extension (OIIO picks the format by it)."""
    folder, name = os.path.split(path)
    stem, ext = os.path.splitext(name)
    return os.path.join(folder, f".{stem}.tmp-{secrets.token_hex(6)}{ext}")


def write_image(
    path: str,
    pixels: np.ndarray,
    data_window: Window,
    size: tuple[int, int],
    *,
    pixel_aspect: float = 1.0,
    datatype: str = "half",
    compression: str | None = None,
    tiled: bool = False,
    tile_size: int = 64,
    metadata: dict | None = None,
) -> None:
    """Write premultiplied RGBA float32 pixels to an image file, atomically.

    Parameters
    ----------
    path : str
        Target file; its extension picks the format (exr, tif, png, jpg, dpx). Missing
        parent folders are created.
    pixels : ndarray
        float32 ``(y1 - y0, x1 - x0, 4)``, alpha premultiplied, of ``data_window``.
    data_window : tuple of int
        ``(x0, y0, x1, y1)`` of the pixels in display-window coordinates.
    size : tuple of int
        ``(width, height)`` of the display window.
    pixel_aspect : float
        Pixel aspect ratio stored in the file.
    datatype : str
        ``"half"`` or ``"float"`` (EXR, TIFF; DPX float), ``"uint8"``, ``"uint16"``
        (TIFF, PNG, DPX; JPEG uint8 only), ``"uint10"``/``"uint12"`` (DPX).
    compression : str, optional
        EXR: none, rle, zips, zip, piz, pxr24, b44, b44a, dwaa, dwab, htj2k256, htj2k32
        (zip/zips ``:1-9``, dwaa/dwab ``:level``; default zip). TIFF: none, lzw, zip,
        packbits (default zip). PNG: ``zip:0-9``. JPEG: ``jpeg:1-100`` (quality). DPX: none.
    tiled, tile_size : bool, int
        Tiled storage (EXR, TIFF; TIFF tiles are multiples of 16), else scanlines.
    metadata : dict, optional
        Extra attributes (string or number values), such as ``{"Copyright": "..."}``.

    Notes
    -----
    EXR stores the data window as given, inside or beyond the display window. Other
    formats store the display window, black outside the data window. JPEG and DPX store
    RGB (alpha dropped); PNG stores unassociated alpha (colour divided by alpha, clamped
    to 0..1 by quantisation). The file appears complete or not at all: the image is
    written to a hidden temporary file beside ``path``, then renamed over it.

    Raises
    ------
    ImageIOError
        On bad arguments or any failure; ``path`` is then left as it was.
    """
    path = os.fspath(path)
    file_format = _output_format(path)
    fmt = _FORMATS[file_format]
    _check_write_args(path, fmt, file_format, datatype, compression, tiled, int(tile_size))
    data_window = tuple(int(v) for v in data_window)
    size = (int(size[0]), int(size[1]))
    pixels = _checked_pixels(path, pixels, data_window)
    if size[0] <= 0 or size[1] <= 0:
        raise _error(path, f"display window size {size} must be positive")
    if not fmt.data_window:
        pixels, data_window = _on_display_window(pixels, data_window, size), (0, 0) + size
    elif pixels.size == 0:  # OpenEXR needs at least one pixel in the data window
        pixels, data_window = np.zeros((1, 1, 4), np.float32), (0, 0, 1, 1)
    if fmt.unassociated:
        pixels = _unpremultiply(pixels)
    pixels = np.ascontiguousarray(pixels[..., : fmt.channels])
    spec = _base_spec(fmt, data_window, size, datatype)
    _set_storage(spec, file_format, fmt, datatype, compression, tiled, int(tile_size))
    spec.attribute("PixelAspectRatio", float(pixel_aspect))
    for key, value in (metadata or {}).items():
        spec.attribute(key, _metadata_value(path, key, value))
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise _error(path, f"cannot create folder {folder}: {exc.strerror or exc}") from None
    _write_atomically(path, spec, pixels)


def _hold(path: str) -> int | None:
    """A descriptor keeping the file at ``path`` alive, if there is one: replacing a file
    frees its pages when its last reference goes (tens of ms for a large image)."""
    try:
        return os.open(path, os.O_RDONLY)
    except OSError:
        return None


def _write_atomically(path: str, spec: oiio.ImageSpec, pixels: np.ndarray) -> None:
    """Write to a hidden temporary file, then rename it over ``path``."""
    temporary = _temporary_path(path)
    try:
        out = oiio.ImageOutput.create(temporary)
        if out is None:
            raise _error(path, oiio.geterror() or "no writer for this file type")
        if not out.open(temporary, spec):
            raise _error(path, out.geterror() or "cannot open for writing")
        ok = out.write_image(pixels)
        message = out.geterror()
        ok = out.close() and ok
        if not ok:
            raise _error(path, message or out.geterror() or "write failed")
        old = _hold(path)
        try:
            os.replace(temporary, path)
        except OSError as exc:
            raise _error(path, f"cannot replace the file: {exc.strerror or exc}") from None
        finally:
            if old is not None:  # the replaced file's pages are freed off this thread
                threading.Thread(target=os.close, args=(old,), daemon=True).start()
    finally:
        if os.path.lexists(temporary):
            os.remove(temporary)
