"""Images kept on the device between renders, by the same keys as the RAM cache.

A node's hash covers its type, parameters at the frame and its inputs' hashes
(:mod:`mattebox.engine.plan`), so a key found here holds exactly the pixels a render would
upload or recompute: a decoded plate, a generated source, or the stored input of a node
being edited. A re-render after a parameter change then finds its plates and the edited
node's inputs on the device and uploads nothing. Entries are device buffers that nothing
writes again; the least recently used go first once the budget is exceeded (dropping the
last reference lets wgpu free a buffer once the queue no longer uses it).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from mattebox.nodes.spec import Window


class DeviceCache:
    """An LRU map ``(key, window) -> handle`` of device images within a byte budget.

    ``budget`` is a callable giving the budget in bytes at the time of each store (the
    backend reads ``MATTEBOX_GPU_CACHE_MEMORY`` there). ``hits``, ``misses``, ``stored``
    and ``evicted`` count what happened since the cache was made.
    """

    def __init__(self, budget: Callable[[], int]):
        self._budget = budget
        self._entries: OrderedDict[tuple[str, Window], Any] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self.stored = 0
        self.evicted = 0

    @property
    def budget(self) -> int:
        return self._budget()

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, key: str, region: Window) -> tuple[Any, Window] | None:
        """The handle of ``key`` whose window contains ``region``, and that window."""
        for (stored_key, window), handle in reversed(self._entries.items()):
            if stored_key == key and window.contains(region):
                self._entries.move_to_end((stored_key, window))
                self.hits += 1
                return handle, window
        self.misses += 1
        return None

    def holds(self, key: str, region: Window) -> bool:
        return any(k == key and w.contains(region) for k, w in self._entries)

    def put(self, key: str, window: Window, handle: Any) -> bool:
        """Keep ``handle`` (whose ``nbytes`` it occupies); False when it cannot fit."""
        budget = self.budget
        if handle.nbytes > budget or window.empty:
            return False
        old = self._entries.pop((key, window), None)
        if old is not None:
            self._bytes -= old.nbytes
        self._entries[(key, window)] = handle
        self._bytes += handle.nbytes
        self.stored += 1
        self.trim(budget)
        return True

    def trim(self, budget: int | None = None) -> None:
        """Evict the least recently used entries until the cache fits ``budget``."""
        budget = self.budget if budget is None else budget
        while self._bytes > budget and self._entries:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.nbytes
            self.evicted += 1

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
