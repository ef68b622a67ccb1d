"""Results keyed by node hash and region, within a byte budget, least recently used first.

A node's hash covers its type, version, parameter values at the frame and its inputs'
hashes (see :mod:`mattebox.engine.plan`), so an edit invalidates exactly that node and what
is downstream; pass-through nodes share their input's hash, and so its cache entries.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict

import numpy as np

from mattebox.nodes.spec import Window


def default_budget() -> int:
    """``MATTEBOX_CACHE_MEMORY`` (MiB), else 2 GiB."""
    mib = os.environ.get("MATTEBOX_CACHE_MEMORY")
    return int(float(mib) * 2**20) if mib else 2 * 2**30


class Cache:
    """An LRU map ``(hash) -> [(window, pixels), ...]``; a lookup succeeds when a stored
    window contains the asked region."""

    def __init__(self, budget: int | None = None):
        self.budget = default_budget() if budget is None else budget
        self._entries: OrderedDict[tuple[str, Window], np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._also: list[weakref.WeakMethod] = []

    def also_clear(self, method) -> None:
        """Clear another cache with this one (a device's images kept between renders:
        Clear Cache frees them too); ``method`` is a bound method, held weakly."""
        if not any(ref() == method for ref in self._also):
            self._also.append(weakref.WeakMethod(method))

    @property
    def bytes(self) -> int:
        return self._bytes

    def find(self, key: str, region: Window) -> tuple[np.ndarray, Window] | None:
        """The stored pixels of ``key`` covering ``region`` and their window, or None."""
        with self._lock:
            for (stored_key, window), pixels in reversed(self._entries.items()):
                if stored_key == key and window.contains(region):
                    self._entries.move_to_end((stored_key, window))
                    self.hits += 1
                    return pixels, window
            self.misses += 1
            return None

    def contains(self, key: str, region: Window) -> bool:
        with self._lock:
            return any(k == key and w.contains(region) for k, w in self._entries)

    def put(self, key: str, window: Window, pixels: np.ndarray) -> None:
        """Store a result (kept read-only); evicts the least recently used beyond budget."""
        if pixels.nbytes > self.budget:
            return
        pixels.flags.writeable = False
        with self._lock:
            old = self._entries.pop((key, window), None)
            if old is not None:
                self._bytes -= old.nbytes
            self._entries[(key, window)] = pixels
            self._bytes += pixels.nbytes
            while self._bytes > self.budget and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.nbytes

    def forget(self, key: str) -> None:
        """Drop every stored result of ``key``."""
        with self._lock:
            for entry in [e for e in self._entries if e[0] == key]:
                self._bytes -= self._entries.pop(entry).nbytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
        for ref in self._also:
            method = ref()
            if method is not None:
                method()
