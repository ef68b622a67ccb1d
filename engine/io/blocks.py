"""Shared-memory blocks that decoded pixels live in, from the decoder to the engine.

A decoder process writes an image's planes into a block of shared memory; the engine
gets numpy arrays that *are* that block (no copy out of it). When the engine lets go of
every array of a block (the cache drops the decoded plate, a render ends), the block
goes back to its decoder's pool and the next read decodes into it, so the pages are
neither allocated nor faulted in again: the first write to new shared memory costs a
page fault per 4 KiB (about 250 ms for a 4K float image on these machines), a block
reused from the pool nothing.

Both sides map a block with ``MAP_POPULATE`` (the page tables filled in one system
call, about 8 ms for a 4K float image, instead of a fault per page). Linux only: where
shared memory is not a file under ``/dev/shm``, :func:`shm_path` returns None and the
caller copies instead.
"""

from __future__ import annotations

import collections
import math
import mmap
import os
import weakref
from dataclasses import dataclass, field
from multiprocessing import shared_memory

import numpy as np

_SHM_FOLDER = "/dev/shm"

#: Bytes of free blocks a decoder's pool keeps for the reads to come; blocks freed beyond
#: it are removed (largest first). A 4K float plate and some room, per decoder (the two
#: decoders usually read a comp's plate and background): free blocks stay mapped in the
#: engine's process, so they count in its resident memory.
POOL_BYTES = 256 * 2**20


def shm_path(name: str) -> str | None:
    """The file of shared-memory block ``name``, or None where there is no such file."""
    path = os.path.join(_SHM_FOLDER, name.lstrip("/"))
    return path if os.path.exists(path) else None


def map_block(name: str, size: int) -> mmap.mmap:
    """A writable mapping of ``size`` bytes of block ``name``, its pages mapped at once."""
    path = shm_path(name)
    if path is None:
        raise FileNotFoundError(name)
    fd = os.open(path, os.O_RDWR)
    try:
        flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
        return mmap.mmap(fd, size, flags=flags)
    finally:
        os.close(fd)


def unlink_block(name: str) -> None:
    """Remove block ``name`` (its memory goes when the last mapping of it does)."""
    try:
        block = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return
    block.close()
    block.unlink()


def carve(flat: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Consecutive C-contiguous arrays of ``shapes``, views of the flat array ``flat``."""
    planes, offset = [], 0
    for shape in shapes:
        size = math.prod(shape)
        planes.append(flat[offset : offset + size].reshape(shape))
        offset += size
    return planes


@dataclass(eq=False)
class Block:
    """One block of the pool: its name, size in bytes and this process's mapping."""

    name: str
    size: int
    mapping: mmap.mmap = field(repr=False)
    removed: bool = False  # unlinked while leased: unmapped when given back


class BlockPool:
    """The blocks of one decoder, seen from the engine's process: free ones offered to
    the decoder for its next read, leased ones viewed by the engine's arrays.

    Not thread-safe except :meth:`_give_back`, which the garbage collector may call from
    any thread (a deque's append is atomic); the decoder's lock serialises the rest.
    """

    def __init__(self, keep_bytes: int = POOL_BYTES) -> None:
        self.keep_bytes = keep_bytes
        self._free: list[Block] = []
        self._returned: collections.deque[Block] = collections.deque()
        self._leased: set[Block] = set()
        self._dropped: list[str] = []  # removed since the decoder last heard of it

    def offers(self) -> list[tuple[str, int]]:
        """The free blocks as ``(name, size)``, for the decoder to pick one of."""
        self._drain()
        return [(block.name, block.size) for block in self._free]

    def dropped(self) -> list[str]:
        """The names removed since the last call (the decoder closes its mappings)."""
        names, self._dropped = self._dropped, []
        return names

    def lease(self, name: str, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
        """Arrays of ``shapes`` viewing block ``name`` (a free block of the pool, or a new
        one the decoder made, adopted now). The block comes back to the pool when the
        last of them is freed."""
        block = next((b for b in self._free if b.name == name), None)
        if block is None:
            path = shm_path(name)
            size = os.stat(path).st_size if path else 0
            block = Block(name, size, map_block(name, size))
        else:
            self._free.remove(block)
        self._leased.add(block)
        count = sum(math.prod(shape) for shape in shapes)
        flat = np.frombuffer(block.mapping, np.float32, count)
        # flat's base is a new memoryview of the mapping, which every view keeps alive
        weakref.finalize(flat.base, self._give_back, block).atexit = False
        return carve(flat, shapes)

    def _give_back(self, block: Block) -> None:
        self._returned.append(block)

    def _drain(self) -> None:
        """Blocks given back become free; beyond ``keep_bytes`` the largest go."""
        while self._returned:
            block = self._returned.popleft()
            self._leased.discard(block)
            if block.removed:
                block.mapping.close()
            else:
                self._free.append(block)
        self._free.sort(key=lambda b: b.size)
        while self._free and sum(b.size for b in self._free) > self.keep_bytes:
            self._remove(self._free.pop())

    def _remove(self, block: Block) -> None:
        block.mapping.close()
        unlink_block(block.name)
        self._dropped.append(block.name)

    @property
    def free_bytes(self) -> int:
        """Bytes of free blocks (after taking back what was given back)."""
        self._drain()
        return sum(b.size for b in self._free)

    def close(self) -> None:
        """Remove every block: free ones now; leased ones are unlinked now and unmapped
        when the engine lets go of them (their pixels stay valid until then). The pool
        can be used again afterwards (by a new decoder process)."""
        self._drain()
        for block in self._free:
            self._remove(block)
        for block in self._leased:
            block.removed = True
            unlink_block(block.name)
        self._free, self._leased, self._dropped = [], set(), []


def pick(offers: list[tuple[str, int]], nbytes: int) -> str | None:
    """The offered block to decode ``nbytes`` into: the smallest large enough, unless it
    is more than twice as large (a small read should not hold a plate-sized block)."""
    fits = [(size, name) for name, size in offers if size >= nbytes]
    if not fits:
        return None
    size, name = min(fits)
    return name if size <= 2 * nbytes else None
