"""Host <-> device copies of images through persistent mapped buffers.

On the H200 the bus moves a 4K RGBA f32 image in 2.8 ms (47 GB/s); what costs 15-25 ms
is one CPU thread copying into or out of mapped memory (``../shared/FACTS.md``). So:

* :class:`StagingRing` keeps a few upload buffers (``MAP_WRITE``) of :data:`CHUNK` bytes
  for the device's whole life. An image goes up in row chunks: while the GPU copies one
  chunk to its storage buffer, the host fills the next one, and each chunk is filled by
  several threads copying row bands (numpy releases the GIL while it copies). A buffer is
  mapped again as soon as its copy is submitted, so it is ready when its turn comes back.
* :class:`ReadbackPool` keeps read-back buffers (``MAP_READ``) of :data:`CHUNK` bytes; a
  download copies row chunks into them and the host copies each chunk out in row bands,
  on threads, as soon as it is mapped.

Decoded plates come from the decoder processes in shared memory (a malformed file may kill
its decoder, so decoding stays out of this process, whose mapped memory a decoder cannot
write): their one copy is the threaded one into the mapped range. A tile's part of a plate
goes straight from the strided plate into the mapped range, not through a contiguous copy.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import wgpu

CHUNK = 32 << 20  # bytes per staging / read-back buffer
RING = 4  # upload buffers: one being copied by the GPU while the host fills the next
IDLE_READBACKS = 8  # read-back buffers kept between downloads, at least
IDLE_BYTES = 512 << 20  # ... or as many as were in use at once, up to this many bytes
MIN_BAND = 1 << 20  # bytes a copying thread gets at least (smaller copies stay on one)
PIXEL = 16  # bytes of an RGBA f32 pixel

_pool: ThreadPoolExecutor | None = None


def copy_threads() -> int:
    """Threads copying into and out of mapped memory: ``MATTEBOX_COPY_THREADS``, else the
    CPU count up to 8 (the memory bus is saturated by then)."""
    value = os.environ.get("MATTEBOX_COPY_THREADS")
    if value:
        return max(1, int(value))
    return max(1, min(8, os.cpu_count() or 1))


def _threads() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=copy_threads(), thread_name_prefix="mb-copy")
    return _pool


def copy_rows(dst: np.ndarray, src: np.ndarray) -> None:
    """``np.copyto(dst, src)`` in bands of rows (axis 0) on several threads."""
    rows = dst.shape[0]
    bands = min(copy_threads(), rows, max(1, dst.nbytes // MIN_BAND))
    if bands <= 1:
        np.copyto(dst, src)
        return
    edges = [rows * k // bands for k in range(bands + 1)]
    jobs = [
        _threads().submit(np.copyto, dst[a:b], src[a:b])
        for a, b in itertools.pairwise(edges)
        if b > a
    ]
    for job in jobs:
        job.result()


def rows_per_chunk(width: int, chunk: int = CHUNK) -> int:
    """Whole rows of ``width`` RGBA f32 pixels in one chunk (at least one)."""
    return max(1, chunk // max(1, width * PIXEL))


def _writable(buffer, nbytes: int) -> memoryview:
    """The mapped range of an upload buffer, writable (wgpu-py's accessor for it)."""
    return buffer._experimental_get_mapped_range(0, nbytes)


class StagingRing:
    """Upload buffers reused for the device's whole life (see the module docstring).

    Attributes
    ----------
    created : int
        Buffers made so far (tests check that uploads reuse them).
    """

    def __init__(self, device, chunk: int = CHUNK, size: int = RING):
        self.device = device
        self.chunk = chunk
        self.size = size
        self.created = 0
        # (buffer, promise of its mapping or None when mapped), oldest first
        self._ring: deque = deque()

    def _take(self, nbytes: int):
        """A buffer of at least ``nbytes``, mapped for writing (the oldest, once the ring
        is full: its previous copy has long been submitted)."""
        if len(self._ring) < self.size:
            return self._create(nbytes)
        buffer, promise = self._ring.popleft()
        if promise is not None:
            promise.sync_wait()  # the GPU has copied what it held
        if buffer.size < nbytes:  # a row wider than a chunk
            buffer.unmap()
            return self._create(nbytes)
        return buffer

    def _create(self, nbytes: int):
        self.created += 1
        return self.device.create_buffer(
            size=max(self.chunk, _aligned(nbytes)),
            usage=wgpu.BufferUsage.MAP_WRITE | wgpu.BufferUsage.COPY_SRC,
            mapped_at_creation=True,
        )

    def upload(self, pixels: np.ndarray, dest) -> int:
        """Copy H×W×4 float32 ``pixels`` (any strides) to the start of the storage buffer
        ``dest``; returns the number of command buffers submitted (one per chunk).

        Each chunk is submitted at once: ``dest`` is a new buffer, so nothing recorded and
        not yet submitted can depend on it.
        """
        height, width = pixels.shape[:2]
        rows = rows_per_chunk(width, self.chunk)
        row_bytes = width * PIXEL
        submits = 0
        for y0 in range(0, height, rows):
            y1 = min(height, y0 + rows)
            nbytes = (y1 - y0) * row_bytes
            buffer = self._take(nbytes)
            try:
                view = _writable(buffer, nbytes)
                target = np.frombuffer(view, np.float32).reshape(y1 - y0, width, 4)
                copy_rows(target, pixels[y0:y1])
                del target, view  # the range is invalid once unmapped
            except AttributeError:  # a wgpu without the writable range: one thread
                buffer.write_mapped(np.ascontiguousarray(pixels[y0:y1], np.float32), 0)
            buffer.unmap()
            encoder = self.device.create_command_encoder(label="mattebox upload")
            encoder.copy_buffer_to_buffer(buffer, 0, dest, y0 * row_bytes, nbytes)
            self.device.queue.submit([encoder.finish()])
            submits += 1
            self._ring.append((buffer, buffer.map_async(wgpu.MapMode.WRITE)))
        return submits


class ReadbackPool:
    """Read-back buffers of :data:`CHUNK` bytes reused across downloads. Idle buffers are
    kept up to :data:`IDLE_READBACKS`, or as many as were out at once (two tiles' downloads
    in flight), up to :data:`IDLE_BYTES`.

    Attributes
    ----------
    created : int
        Buffers made so far.
    """

    def __init__(self, device, chunk: int = CHUNK, idle: int = IDLE_READBACKS):
        self.device = device
        self.chunk = chunk
        self.idle = idle
        self.created = 0
        self._free: list = []
        self._out = 0  # taken and not given back
        self._peak = 0

    def take(self, nbytes: int):
        """An unmapped read-back buffer of at least ``nbytes``."""
        self._out += 1
        self._peak = max(self._peak, self._out)
        fitting = [b for b in self._free if b.size >= nbytes]
        if fitting:
            buffer = min(fitting, key=lambda b: b.size)
            self._free.remove(buffer)
            return buffer
        self.created += 1
        return self.device.create_buffer(
            size=max(self.chunk, _aligned(nbytes)),
            usage=wgpu.BufferUsage.MAP_READ | wgpu.BufferUsage.COPY_DST,
        )

    def give(self, buffer) -> None:
        """An unmapped buffer no longer needed."""
        self._out = max(0, self._out - 1)
        self._free.append(buffer)
        keep = max(self.idle, min(self._peak, IDLE_BYTES // max(1, self.chunk)))
        del self._free[: max(0, len(self._free) - keep)]


class Download:
    """Row chunks of one image on their way to host memory; :meth:`result` waits for each
    chunk and copies it out (on threads) while later chunks may still be in flight."""

    def __init__(self, pool: ReadbackPool, shape: tuple[int, int]):
        self.pool = pool
        self.shape = shape
        self.chunks: list = []  # [y0, y1, buffer, promise]

    def add(self, y0: int, y1: int, buffer) -> list:
        """A chunk: rows ``y0:y1`` copied into ``buffer`` (the copy recorded by the caller)."""
        chunk = [y0, y1, buffer, None]
        self.chunks.append(chunk)
        return chunk

    def map(self, chunk: list) -> None:
        """Start mapping a chunk once the copy into it is submitted."""
        nbytes = (chunk[1] - chunk[0]) * self.shape[1] * PIXEL
        chunk[3] = chunk[2].map_async(wgpu.MapMode.READ, 0, nbytes)

    @property
    def started(self) -> bool:
        return all(chunk[3] is not None for chunk in self.chunks)

    def result(self) -> np.ndarray:
        height, width = self.shape
        out = np.empty((height, width, 4), np.float32)
        for y0, y1, buffer, promise in self.chunks:
            promise.sync_wait()
            nbytes = (y1 - y0) * width * PIXEL
            view = buffer.read_mapped(0, nbytes, copy=False)
            copy_rows(out[y0:y1], np.frombuffer(view, np.float32).reshape(y1 - y0, width, 4))
            del view
            buffer.unmap()
            self.pool.give(buffer)
        self.chunks = []
        return out


def _aligned(nbytes: int, to: int = 256) -> int:
    return max(to, -(-int(nbytes) // to) * to)
