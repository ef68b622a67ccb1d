"""The viewer's flipbook: display-ready frames in RAM, keyed by what determines them.

A frame the viewer has shown (or rendered ahead while playing) is kept after the display
transform, as the 8-bit pixels it draws, so that playing it again costs no render. The
key of a frame (:func:`frame_key`) is the hash of the shown node's record at that frame
(which covers its parameters at the frame, its inputs' hashes and the files it reads),
the hash of the wipe's B side, the script settings the display transform depends on
(colour config, working space, format), the viewer's display settings, the proxy level,
the reduction to screen resolution, the part of the image on screen and the layer shown.
An edit that changes the comp at some frames changes their keys there and only there:
the other frames stay in the cache. Two frames with the same key (a held frame, a still)
share one entry.

:class:`FrameCache` is a least-recently-used map within a byte budget; it holds any
value with a size given by the caller, so the editor decides what a frame is.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from mattebox.engine import color, render
from mattebox.engine.graph import Graph
from mattebox.engine.plan import Evaluator, RenderError
from mattebox.nodes.channels import MAIN

__all__ = ["FrameCache", "default_budget", "frame_key", "node_hash"]

#: The default budget when nothing is set: 2 GiB, or a quarter of the RAM when less.
DEFAULT_BUDGET = 2 * 2**30


def default_budget() -> int:
    """2 GiB, or a quarter of the machine's memory where that is less (in bytes)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return DEFAULT_BUDGET
    return min(DEFAULT_BUDGET, total // 4) if total > 0 else DEFAULT_BUDGET


def node_hash(graph: Graph, node: str, frame: float, proxy: int = 1, layer: str = MAIN) -> str:
    """The hash of ``node``'s record at ``frame`` (of image layer ``layer`` where the node
    has it, else of ``rgba``), at proxy level ``proxy``. Nothing is computed; file
    sources are probed. A node that cannot be evaluated gives ``"error: <message>"``
    (the same error at another frame shares the key)."""
    try:
        ctx = render.context_for(graph, frame, proxy)
        evaluator = Evaluator(graph, ctx, render.file_source_info)
        record = evaluator.eval(graph[node])
        if layer != MAIN and layer in dict(record.info.layers):
            record = evaluator.eval(graph[node], layer)
        return record.hash
    except RenderError as error:
        return f"error: {error}"


def frame_key(
    graph: Graph,
    node: str,
    frame: float,
    *,
    display: Hashable,
    proxy: int = 1,
    reduction: int = 1,
    visible: tuple[int, int, int, int] | None = None,
    layer: str = MAIN,
    wipe_node: str | None = None,
) -> tuple:
    """The flipbook key of ``node`` as the viewer shows it at ``frame``.

    Parameters
    ----------
    graph : Graph
        The script (a snapshot when called off the UI thread).
    node : str
        The node shown (the wipe's A side).
    frame : float
    display : hashable
        The viewer's display settings (display, view, look, exposure, gamma, channel).
    proxy, reduction : int
        The engine's proxy level and the reduction to screen resolution.
    visible : tuple of int, or None
        The part of the image on screen, in image pixels (None: all of it).
    layer : str
        The image layer shown.
    wipe_node : str or None
        The B side of a wipe.

    Returns
    -------
    tuple
        Hashable; equal for two frames exactly when the viewer would draw the same pixels.
    """
    settings = graph.settings
    try:
        config = color.resolve_config_uri(settings.ocio_config)
    except color.ColorError as error:
        config = f"error: {error}"
    shown = node_hash(graph, node, frame, proxy, layer)
    wipe = node_hash(graph, wipe_node, frame, proxy, layer) if wipe_node else None
    return (
        shown,
        wipe,
        config,
        settings.working_space,
        settings.format,
        display,
        proxy,
        reduction,
        visible,
        layer,
    )


class FrameCache:
    """Least-recently-used frames within ``budget`` bytes (thread-safe).

    Each entry is stored with its size in bytes, given by the caller; storing beyond the
    budget evicts the least recently used entries (a lookup with :meth:`get` counts as a
    use; :meth:`contains` does not). The entry just stored is never evicted for it: one
    larger than the whole budget is kept alone, so that a player can always show the
    frame it was waiting for (a budget of 0 keeps only the newest frame).
    """

    def __init__(self, budget: int | None = None):
        self._budget = default_budget() if budget is None else int(budget)
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.evicted = 0  # entries dropped for the budget (for tests and the profile)

    @property
    def budget(self) -> int:
        return self._budget

    @budget.setter
    def budget(self, value: int) -> None:
        with self._lock:
            self._budget = max(0, int(value))
            self._evict()

    @property
    def bytes(self) -> int:
        """The bytes the stored entries take."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Any | None:
        """The entry stored under ``key`` (now the most recently used), or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0]

    def contains(self, key: Hashable) -> bool:
        """Whether ``key`` is stored (its place in the LRU order is kept)."""
        with self._lock:
            return key in self._entries

    def put(self, key: Hashable, value: Any, nbytes: int) -> None:
        """Store ``value`` (``nbytes`` large) under ``key``, evicting the least recently
        used entries beyond the budget (never this one)."""
        nbytes = max(0, int(nbytes))
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, nbytes)
            self._bytes += nbytes
            self._evict()

    def _evict(self) -> None:
        while self._bytes > self._budget and len(self._entries) > 1:
            _, (_, size) = self._entries.popitem(last=False)
            self._bytes -= size
            self.evicted += 1

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
