"""Per-node render figures: how long each node took in a render and whether its result
came from the cache (the editor's profiling view and ``graph.render(..., stats=...)``).

The executor (:mod:`mattebox.engine.render`) times each *pass* of a plan, not each node:
point ops are fused into one kernel, and a kernel's time cannot be split by measurement.
The rule, written in ``docs/editor.md`` ("Profiling"):

- a pass of one node (a source, an area or resample op, an OCIO node, a read, a cache
  hit) gives its whole time to that node;
- a fused pass of N nodes gives each of them an equal 1/N share, and each node records
  the others it was fused with and the fused passes' whole time (``fused_seconds``), so
  the figures add up to the render's time and the table can say "fused with 2";
- a node's records of several passes (layers, tiles, an engine-made mask pass) add up;
- a node none of whose passes computed anything (its result was found in the cache, or
  a result downstream of it was) is ``cached``; nodes that were not needed at all (a
  region outside the image) are absent.

A Read's pass is the time the render waited for its decode and then took its pixels;
decodes start ahead of their passes on two decoder threads, and the decode's own time is
``decode_seconds`` (it overlaps other work, so it is not part of the sum).
On a device backend (the GPU) each pass is waited for before the next starts, so its
time is the device's; a profiled GPU frame is therefore somewhat slower than an
unprofiled one, whose passes overlap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from mattebox.engine.passes import NodeEval, Pass

__all__ = ["NodeStats", "RenderStats"]


@dataclass
class NodeStats:
    """One node's figures in one render.

    Attributes
    ----------
    name, type : str
        The node and its type.
    seconds : float
        The time attributed to the node (its passes, fused passes shared equally).
    cached : bool
        Nothing was computed for it: its result, or one downstream of it, came from the
        cache.
    passes : int
        Passes it took part in (including cache hits).
    fused_with : tuple of str
        Other nodes that shared a fused pass with it, in the pass's order.
    pass_seconds : float
        The whole time of the passes it took part in (equal to ``seconds`` unless fused).
    fused_seconds : float
        Of ``pass_seconds``, the whole time of the fused passes (shared with others).
    decode_seconds : float
        A Read's decode time on its decoder thread (overlapping other work).
    computed : int
        Of ``passes``, those that computed something (the others were cache hits).
    """

    name: str
    type: str
    seconds: float = 0.0
    cached: bool = False
    passes: int = 0
    fused_with: tuple[str, ...] = ()
    pass_seconds: float = 0.0
    fused_seconds: float = 0.0
    decode_seconds: float = 0.0
    computed: int = 0  # passes that computed something (not cache hits)

    @property
    def note(self) -> str:
        """A short explanation for tables: fused, decoded ahead, from a cache upstream."""
        parts = []
        if self.fused_with:
            parts.append(
                f"fused with {', '.join(self.fused_with)} "
                f"({self.fused_seconds * 1000:.1f} ms of fused kernels, shared equally)"
            )
        if self.decode_seconds:
            parts.append(f"decoded ahead in {self.decode_seconds * 1000:.1f} ms")
        if self.cached and not self.passes:
            parts.append("not run: a result downstream was cached")
        return "; ".join(parts)


@dataclass
class RenderStats:
    """The figures of one render, filled in by ``render.render(..., stats=...)``.

    Pass an empty one in; a render adds to it (several renders add up, as the layers of
    one render do). ``nodes`` maps node names to :class:`NodeStats`; ``seconds`` is the
    wall time of the render calls, from evaluation to pixels; ``str()`` gives a table.

    Example
    -------
    >>> stats = mb.RenderStats()
    >>> image = graph.render(grade, frame=1, stats=stats)
    >>> print(stats)  # doctest: +SKIP
    """

    node: str = ""
    frame: float | None = None
    backend: str = ""
    proxy: int = 1
    seconds: float = 0.0
    nodes: dict[str, NodeStats] = field(default_factory=dict)
    cache_bytes: int = 0
    cache_budget: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    # -- recording (the executor) ----------------------------------------------------------

    def _entry(self, ev: NodeEval) -> NodeStats:
        entry = self.nodes.get(ev.name)
        if entry is None:
            entry = self.nodes[ev.name] = NodeStats(ev.name, ev.node.type)
        return entry

    def record_pass(self, step: Pass, seconds: float) -> None:
        """Add one executed pass's time to its nodes (see the module docstring)."""
        names = list(dict.fromkeys(ev.name for ev in step.nodes))
        records = {ev.name: ev for ev in step.nodes}
        share = seconds / len(names)
        with self._lock:
            for name in names:
                entry = self._entry(records[name])
                entry.seconds += share
                entry.pass_seconds += seconds
                if len(names) > 1:
                    entry.fused_seconds += seconds
                entry.passes += 1
                others = [n for n in names if n != name and n not in entry.fused_with]
                entry.fused_with += tuple(others)
                if step.kind != "cached":
                    entry.computed += 1

    def record_decode(self, ev: NodeEval, seconds: float) -> None:
        """A Read's decode time on its decoder thread."""
        with self._lock:
            self._entry(ev).decode_seconds += seconds

    def finish(self, roots: list[NodeEval], cached_hashes: set[str]) -> None:
        """After a render: mark nodes that computed nothing as cached, including those
        upstream of a cache hit (``cached_hashes``) that the plan never reached."""
        seen: set[tuple[int, bool]] = set()
        stack = [(root, False) for root in roots]
        while stack:
            ev, below_hit = stack.pop()
            if (id(ev), below_hit) in seen:
                continue
            seen.add((id(ev), below_hit))
            if below_hit and ev.name not in self.nodes and ev.node.spec is not None:
                self.nodes[ev.name] = NodeStats(ev.name, ev.node.type)
            below = below_hit or ev.hash in cached_hashes
            stack += [(i, below) for i in ev.inputs if i is not None]
        for entry in self.nodes.values():
            entry.cached = entry.computed == 0

    # -- reading ---------------------------------------------------------------------------

    @property
    def total(self) -> float:
        """The sum of the nodes' times (at most :attr:`seconds`)."""
        return sum(entry.seconds for entry in self.nodes.values())

    def share(self, name: str) -> float:
        """Node ``name``'s part of the render's wall time (0..1)."""
        if self.seconds <= 0 or name not in self.nodes:
            return 0.0
        return self.nodes[name].seconds / self.seconds

    def by_time(self) -> list[NodeStats]:
        """The nodes, slowest first."""
        return sorted(self.nodes.values(), key=lambda e: (-e.seconds, e.name))

    def __str__(self) -> str:
        head = (
            f"{self.node} @ frame {self.frame:g} on {self.backend}"
            if self.frame is not None
            else self.node
        )
        cache = f"{self.cache_bytes / 2**20:.1f} of {self.cache_budget / 2**20:.0f} MiB"
        lines = [
            f"{head}: {self.seconds * 1000:.1f} ms, nodes {self.total * 1000:.1f} ms; cache {cache}",
            f"{'node':<24} {'type':<18} {'ms':>9} {'share':>6}  cached  note",
        ]
        for entry in self.by_time():
            lines.append(
                f"{entry.name:<24} {entry.type:<18} {entry.seconds * 1000:>9.2f} "
                f"{self.share(entry.name) * 100:>5.1f}%  {'yes' if entry.cached else 'no':<6}  "
                f"{entry.note}"
            )
        return "\n".join(lines)
