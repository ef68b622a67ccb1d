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
import multiprocessing
import multiprocessing.spawn
import os
import signal
import threading
import time
from multiprocessing import shared_memory

import numpy as np

from mattebox.engine.io import blocks, chatter, threads
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
#: line naming the Read (the same text OpenImageIO reports). Writes use the same switch.
VERBOSE_ENV = chatter.VERBOSE_ENV


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
            elif kind == "threads" and test_hooks:
                conn.send(("ok", threads.in_effect()))
            elif kind == "hang" and test_hooks:
                time.sleep(request[2])
                conn.send(("ok",))
            else:
                conn.send(("error", f"unknown request {kind!r}"))
        except ImageIOError as exc:
            conn.send(("error", str(exc)))
        except Exception as exc:  # noqa: BLE001 - any decoder failure is that file's error
            conn.send(("error", str(_error(request[1], f"{type(exc).__name__}: {exc}"))))


#: The decoder's mappings of the blocks it decoded into (an mmap, or the SharedMemory of a
#: block it made), by name, the most recent last: a block offered again is written
#: without mapping (and faulting) it again.
_attachments: dict[str, object] = {}
_ATTACHMENTS_KEPT = 8


def _attachment(name: str, size: int):
    """A writable buffer of block ``name`` (mapped once, kept for the next reads)."""
    mapped = _attachments.pop(name, None)
    if mapped is None:
        mapped = blocks.map_block(name, size)
    _attachments[name] = mapped
    return getattr(mapped, "buf", mapped)  # a SharedMemory this process made, or an mmap


def _forget_attachments(names) -> None:
    """Close the mappings of blocks the parent removed, and the oldest beyond a few."""
    for name in names:
        buffer = _attachments.pop(name, None)
        if buffer is not None:
            buffer.close()
    while len(_attachments) > _ATTACHMENTS_KEPT:
        _attachments.pop(next(iter(_attachments))).close()


def _worker_read(
    conn,
    path: str,
    layers: tuple[str, ...] | None,
    region: Window | None,
    offers: list[tuple[str, int]] = (),
    forget: list[str] = (),
    thread_count: int = 0,
    proxy: int = 1,
) -> None:
    """Decode into one of the parent's free blocks (``offers``: name and size) when one
    fits, else into a new block the parent takes over; the planes lie one after the
    other in it. Send the block's name and each plane's layer and shape."""
    _forget_attachments(forget)
    if thread_count:
        threads.apply(thread_count)
    created: list[shared_memory.SharedMemory] = []
    used: list[str] = []

    def alloc(shapes: list[tuple[int, int, int]]) -> list[np.ndarray]:
        nbytes = sum(math.prod(shape) for shape in shapes) * 4
        if nbytes == 0:
            return [np.zeros(shape, np.float32) for shape in shapes]
        name = blocks.pick(list(offers), nbytes)
        if name is not None:
            buffer = _attachment(name, dict(offers)[name])
        else:
            block = shared_memory.SharedMemory(create=True, size=nbytes)
            created.append(block)
            name, buffer = block.name, block.buf
        used.append(name)
        return blocks.carve(np.frombuffer(buffer, np.float32, nbytes // 4), shapes)

    try:
        planes, windows, info = _decode_layers(path, layers, region, alloc, proxy)
        shapes = [(name, plane.shape) for name, plane in planes.items()]
        del planes  # release the views so that a new block can be closed
    except BaseException:
        for block in created:
            block.unlink()
            with contextlib.suppress(BufferError):  # views held by the traceback's frames
                block.close()
        raise
    for block in created:  # kept mapped for the reads that reuse it
        _attachments[block.name] = block
    conn.send(("ok", used[0] if used else None, shapes, windows, info))


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
        # The blocks of shared memory the worker decodes into, reused from read to read
        # once the engine lets go of them (blocks.py)
        self._pool = blocks.BlockPool()

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
        self, path: str, layers: tuple[str, ...] | None, region: Window | None, proxy: int = 1
    ) -> tuple[dict[str, np.ndarray], dict[str, Window], ImageInfo]:
        """Decode layers of ``path`` in the worker. The planes are views of the block of
        shared memory it decoded into (no copy); the block returns to the pool when they
        are all freed."""
        with self._lock:
            message = (
                "read",
                path,
                layers,
                region,
                self._pool.offers(),
                self._pool.dropped(),
                threads.io_threads(),
                proxy,
            )
            _, name, shapes, windows, info = self._exchange(message, path)
            names = [layer for layer, _ in shapes]
            plane_shapes = [shape for _, shape in shapes]
            if name is None:
                planes = [np.zeros(shape, np.float32) for shape in plane_shapes]
            elif blocks.shm_path(name) is not None:
                planes = self._pool.lease(name, plane_shapes)
            else:  # shared memory that is not a file: copied, and removed
                count = sum(math.prod(shape) for shape in plane_shapes)
                planes = blocks.carve(_take_block(name, count), plane_shapes)
            return dict(zip(names, planes)), windows, info

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
            self._pool.close()

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's worker (it is not ours to talk to)."""
        self._lock = threading.Lock()
        self._process = self._conn = None
        self._pool = blocks.BlockPool()  # the parent's blocks are not ours to remove

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
    """A copy of the worker's block as a flat array of ``count`` float32, the block removed
    (where shared memory is not a file that the pool can map)."""
    block = shared_memory.SharedMemory(name=name)
    try:
        return np.ndarray((count,), np.float32, buffer=block.buf).copy()
    finally:
        block.close()
        block.unlink()
