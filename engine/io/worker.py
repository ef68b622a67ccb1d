"""The decoder worker processes and the shared memory their pixels come back through.

OpenImageIO can kill the process that decodes a malformed file (SIGSEGV, SIGFPE), so
files are decoded in persistent worker processes started with multiprocessing ``spawn``;
a dead worker becomes an :class:`ImageIOError` of the file it was reading and the next
request starts a fresh one. The worker imports only the standard library, numpy,
OpenImageIO and this package, so that it starts quickly.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import mmap
import multiprocessing
import multiprocessing.spawn
import os
import signal
import threading
import time
from multiprocessing import shared_memory

import numpy as np

from mattebox.engine.io.decode import _decode_layers, _probe_file
from mattebox.engine.io.info import ImageInfo, ImageIOError, Window, _error

#: Environment variable that enables the worker's test hooks (see ``_crash_worker``).
_TEST_HOOKS_ENV = "MATTEBOX_IO_TEST_HOOKS"

#: Seconds a decoder may take to answer one request (probe or read) before it is
#: killed and the request fails: ``MATTEBOX_DECODE_TIMEOUT``, else the value given to
#: :func:`set_decode_timeout` (the editor's "io/decode_timeout" setting), else this.
DEFAULT_DECODE_TIMEOUT = 120.0
DECODE_TIMEOUT_ENV = "MATTEBOX_DECODE_TIMEOUT"
_decode_timeout = [DEFAULT_DECODE_TIMEOUT]


def set_decode_timeout(seconds: float) -> None:
    """Set the decoder timeout in seconds (``MATTEBOX_DECODE_TIMEOUT`` still wins)."""
    seconds = float(seconds)
    if not (seconds > 0 and seconds < float("inf")):
        raise ValueError(f"decode timeout: expected a positive number of seconds, got {seconds!r}")
    _decode_timeout[0] = seconds


def decode_timeout() -> float:
    """The decoder timeout in seconds (see :data:`DEFAULT_DECODE_TIMEOUT`)."""
    text = os.environ.get(DECODE_TIMEOUT_ENV)
    if text:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if value > 0 and value < float("inf"):
            return value
        raise ImageIOError(
            f"{DECODE_TIMEOUT_ENV}: expected a positive number of seconds, got {text!r}"
        )
    return _decode_timeout[0]


#: Set to 1 to let the decoder's libraries (libpng, libtiff, OpenImageIO) print to
#: stderr; by default what they print is dropped, the error reaching the user as one
#: line naming the Read (the same text OpenImageIO reports).
VERBOSE_ENV = "MATTEBOX_IO_VERBOSE"


def _silence_stderr() -> None:
    """Point the worker's stderr (file descriptor 2, where C libraries write) at
    /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
    finally:
        os.close(devnull)


def _worker_main(conn, test_hooks: bool) -> None:
    """The decoder process: answer ("probe", path) and ("read", path, layers, region, ...)
    requests."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the parent
    if os.environ.get(VERBOSE_ENV) != "1":
        _silence_stderr()
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
            elif kind == "hang" and test_hooks:
                time.sleep(request[2])
                conn.send(("ok",))
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


def _carve(flat: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Consecutive C-contiguous arrays of ``shapes``, views of the flat array ``flat``."""
    planes, offset = [], 0
    for shape in shapes:
        size = math.prod(shape)
        planes.append(flat[offset : offset + size].reshape(shape))
        offset += size
    return planes


def _worker_read(
    conn,
    path: str,
    layers: tuple[str, ...] | None,
    region: Window | None,
    arena: str | None = None,
    arena_size: int = 0,
) -> None:
    """Decode into the parent's arena when it is large enough, else into a new block the
    parent takes over (and unlinks); the planes lie one after the other in it. Send the
    block's name and each plane's layer and shape."""
    blocks: list[shared_memory.SharedMemory] = []

    def alloc(shapes: list[tuple[int, int, int]]) -> list[np.ndarray]:
        nbytes = sum(math.prod(shape) for shape in shapes) * 4
        if nbytes == 0:
            return [np.zeros(shape, np.float32) for shape in shapes]
        if arena is not None and nbytes <= arena_size:
            buffer = _attach_arena(arena).buf
        else:
            block = shared_memory.SharedMemory(create=True, size=nbytes)
            blocks.append(block)
            buffer = block.buf
        return _carve(np.ndarray((nbytes // 4,), np.float32, buffer=buffer), shapes)

    try:
        planes, windows, info = _decode_layers(path, layers, region, alloc)
        shapes = [(name, plane.shape) for name, plane in planes.items()]
        del planes  # release the views so the block can be closed
    except BaseException:
        for block in blocks:
            block.close()
            block.unlink()
        raise
    used = sum(math.prod(shape) for _, shape in shapes)
    name = blocks[0].name if blocks else (arena if used else None)
    conn.send(("ok", name, shapes, windows, info))
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

    def read(
        self, path: str, layers: tuple[str, ...] | None, region: Window | None
    ) -> tuple[dict[str, np.ndarray], dict[str, Window], ImageInfo]:
        """Decode layers of ``path`` in the worker; the planes come back through the arena."""
        with self._lock:
            arena = self._arena
            message = (
                "read",
                path,
                layers,
                region,
                arena.name if arena else None,
                arena.size if arena else 0,
            )
            _, name, shapes, windows, info = self._exchange(message, path)
            names = [layer for layer, _ in shapes]
            plane_shapes = [shape for _, shape in shapes]
            count = sum(math.prod(shape) for shape in plane_shapes)
            if name is None:
                planes = [np.zeros(shape, np.float32) for shape in plane_shapes]
            elif arena is not None and name == arena.name:
                # copied while the lock keeps the arena ours
                flat = np.ndarray((count,), np.float32, buffer=arena.buf)
                planes = [np.empty(shape, np.float32) for shape in plane_shapes]
                for plane, shared in zip(planes, _carve(flat, plane_shapes)):
                    np.copyto(plane, shared)
            else:
                planes = _carve(_take_block(name, count), plane_shapes)
                if len(plane_shapes) == 1:
                    # the arena grows for the reads that repeat (a plate's RGBA, frame
                    # after frame); a read of many layers keeps the block it came in
                    # (mapped, not copied: a copy out of an arena of a 26-channel 4K file
                    # and the arena's own first touch cost seconds of page faults here)
                    self._replace_arena(count * 4)
            return dict(zip(names, planes)), windows, info

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
        timeout = decode_timeout()
        try:
            self._conn.send(message)
            if not self._conn.poll(timeout):  # a decoder stuck on a file: stop it
                self._discard(kill=True)
                raise ImageIOError(
                    f"{path}: the decoder gave no answer in {timeout:g} s and was stopped "
                    f"(the limit is {DECODE_TIMEOUT_ENV} or the decode timeout setting)"
                )
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


def _crash_worker(path: str, signum: int = signal.SIGSEGV) -> None:
    """Test hook: make the worker kill itself with ``signum`` as if decoding ``path``.

    Works only when the worker was started with ``MATTEBOX_IO_TEST_HOOKS=1`` set.
    """
    _worker.request(("crash", path, int(signum)), path)


def _take_block(name: str, count: int) -> np.ndarray:
    """The worker's shared-memory block as a flat array of ``count`` float32 of ours, its
    name removed.

    Where shared memory is a file (Linux ``/dev/shm``) the array maps it, with no copy: the
    memory is returned to the system when the array and the planes viewing it are freed.
    Elsewhere it is copied.
    """
    block = shared_memory.SharedMemory(name=name)
    try:
        path = os.path.join("/dev/shm", name.lstrip("/"))
        if os.path.exists(path):
            fd = os.open(path, os.O_RDWR)
            try:
                mapped = mmap.mmap(fd, count * 4)
            finally:
                os.close(fd)
            return np.frombuffer(mapped, np.float32)
        return np.ndarray((count,), np.float32, buffer=block.buf).copy()
    finally:
        block.close()
        block.unlink()
