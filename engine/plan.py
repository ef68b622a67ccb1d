"""Planning: from a requested node, frame and region to an immutable list of passes.

1. Walk the graph backwards from the requested node, resolving pass-through nodes (Dot,
   Switch, mix 0...) to their input, evaluating parameters at the frame and computing
   each node's hash.
2. Forward: every node's format and data window from its inputs'.
3. Backward: regions of interest from the request, through each node's ``input_region``,
   clipped to the data windows. Nodes whose region is empty, or whose result is in the
   cache, need nothing upstream: the walk stops there.
4. Fuse chains and trees of point ops (multi-input Merge too) into one pass.
5. Split the request into tiles (bands of rows) so that each tile's buffers fit the
   memory budget; area ops get their halos from step 3 run per tile.
6. Give each pass's output a buffer slot from a pool by liveness: a chain ping-pongs
   between two slots whatever its length.

``print(plan)`` shows tiles, passes and buffers.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from mattebox.engine.evaluate import Evaluator
from mattebox.engine.passes import (
    BYTES_PER_PIXEL,
    NodeEval,
    Pass,
    RenderError,
    node_context,
    ocio_processor,
)
from mattebox.nodes.spec import EMPTY, Context, Kind, Window

__all__ = [
    "BYTES_PER_PIXEL",
    "Buffer",
    "Evaluator",
    "NodeEval",
    "Pass",
    "Plan",
    "PlanOptions",
    "RenderError",
    "TilePlan",
    "build",
    "node_context",
    "ocio_processor",
]


# --------------------------------------------------------------------------- plan data


@dataclass(frozen=True)
class Buffer:
    """A buffer id's slot and the window it holds for one tile."""

    id: int
    slot: int  # -1: owned elsewhere (cache or source), not a pool slot
    window: Window


@dataclass(frozen=True)
class TilePlan:
    """The passes that compute one tile of the requested region."""

    region: Window
    passes: tuple[Pass, ...]
    buffers: dict[int, Buffer]
    slot_bytes: tuple[int, ...]  # capacity of each pool slot

    @property
    def output(self) -> int:
        return self.passes[-1].output

    def peak_bytes(self) -> int:
        return sum(self.slot_bytes)


@dataclass(frozen=True)
class Plan:
    """What to compute for one request: tiles, passes and buffers. Immutable, printable."""

    root: NodeEval
    frame: float
    region: Window
    tiles: tuple[TilePlan, ...]
    budget: int
    backend: str = ""  # the backend the tiles were sized for ("" = the CPU's defaults)

    @property
    def passes(self) -> tuple[Pass, ...]:
        return self.tiles[0].passes if self.tiles else ()

    def __str__(self) -> str:
        where = f" on {self.backend}" if self.backend else ""
        lines = [
            (
                f"Plan {self.root.name} @ frame {self.frame:g}{where}: region {self.region}, "
                f"{len(self.tiles)} tile(s), budget {self.budget / 2**20:.0f} MiB"
            )
        ]
        for index, tile in enumerate(self.tiles):
            slots = ", ".join(f"s{i}={b / 2**20:.1f}MiB" for i, b in enumerate(tile.slot_bytes))
            lines.append(f" tile {index} {tile.region}: pool [{slots or 'none'}]")
            for step in tile.passes:
                lines.append(f"   {step.describe()}")
            if index >= 3 and len(self.tiles) > 5:
                lines.append(f" ... {len(self.tiles) - index - 1} more tiles")
                break
        return "\n".join(lines)


# --------------------------------------------------------------------------- planning


@dataclass
class PlanOptions:
    """Knobs of the planner."""

    budget: int = 0  # bytes for pool buffers per tile; 0: default_budget()
    fuse: bool = True
    boundaries: frozenset[str] = frozenset()  # nodes whose inputs are materialised
    cached: Any = None  # callable(hash, region) -> bool: is this result cached?
    store_all: bool = False  # store every pass's output in the cache
    min_tile_rows: int = 16
    # A backend with its own memory (the GPU) sets these: the largest buffer it can bind
    # (0: no limit), whether read and cached inputs are copied to it per tile (they then
    # count against the budget and the limit), a callable(kind, node, ctx) -> "" or where
    # it runs a pass it cannot run itself ("cpu (why)"), and its name for print(plan).
    max_buffer: int = 0
    # The largest buffer the device can bind at all (its max_storage_buffer_binding_size;
    # 0: no limit): tiles are cut finer than ``min_tile_rows`` to fit it, and a render
    # whose tile cannot fit it even one row high is refused before any GPU work.
    max_binding: int = 0
    device_inputs: bool = False
    placement: Any = None
    backend: str = ""
    # A render written out tile by tile (an image larger than memory): its result is
    # never held whole (only the halo and the tiles are checked against the memory
    # limit), every buffer of a tile counts against the budget (reads and generated
    # sources too), and bands are whole multiples of ``row_multiple`` rows (the tile
    # height of the file written) but the last.
    streamed: bool = False
    row_multiple: int = 1


def default_budget() -> int:
    """Bytes of intermediate buffers per tile: ``MATTEBOX_CPU_MEMORY`` (MiB) or 2 GiB."""
    mib = os.environ.get("MATTEBOX_CPU_MEMORY")
    return int(float(mib) * 2**20) if mib else 2 * 2**30


# --------------------------------------------------------------------------- limits


def memory_limit() -> int:
    """Bytes a render may hold at once (its result, one tile's buffers, one pixel's
    halo): ``MATTEBOX_MEMORY_LIMIT`` (MiB), else half the machine's memory. Unlike the
    tile budget, which only decides how finely a render is cut, a render that cannot fit
    this is refused before any work starts."""
    mib = os.environ.get("MATTEBOX_MEMORY_LIMIT")
    if mib:
        try:
            value = float(mib)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise RenderError("MATTEBOX_MEMORY_LIMIT", f"expected a size in MiB, got {mib!r}")
        return int(value * 2**20)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def halo_limit(limit: int) -> int:
    """The largest halo a node may ask for: one output pixel's input, ``2 * halo + 1``
    pixels square, must fit ``limit`` bytes."""
    side = math.isqrt(max(limit, 0) // BYTES_PER_PIXEL)
    return max(0, (side - 1) // 2)


def _size(nbytes: float) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes / 2**10:.1f} KiB"


def _why_halo(ev: NodeEval) -> str:
    """``size 1000000 `` (the node's largest spatial value) for a halo message."""
    best = None
    for param in ev.spec.params:
        value = ev.values.get(param.name)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if param.spatial and number and (best is None or abs(value) > abs(best[1])):
            best = (param.name, value)
    if best is None:
        return ""
    value = best[1]
    shown = int(value) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"
    return f"{best[0]} {shown} "


def check_limits(
    root: NodeEval, region: Window, ctx: Context, limit: int, whole: bool = True
) -> None:
    """Refuse, before any work, a request that cannot fit ``limit`` bytes: an area node
    whose halo is past :func:`halo_limit`, or (when the result is held ``whole``, not
    written out tile by tile) a result larger than the limit (named by the first node,
    producers first, whose image is that large). One line naming the node:
    ``Blur1: size 1e+06 needs a 1000000-pixel halo; the limit is 14188 pixels``."""
    order = _post_order(root, _inputs)
    max_halo = halo_limit(limit)
    for ev in order:
        if ev.kind is not Kind.AREA:
            continue
        halo = max(ev.spec.halo(ev.values, node_context(ev, ctx)))
        if halo > max_halo:
            raise RenderError(
                ev.name,
                f"{_why_halo(ev)}needs a {halo}-pixel halo; the limit is {max_halo} pixels "
                f"(one pixel's input within the {_size(limit)} memory limit, "
                "MATTEBOX_MEMORY_LIMIT)",
            )
    need = region.pixels * BYTES_PER_PIXEL
    if need <= limit or not whole:
        return
    culprit = next((ev for ev in order if ev.info.data_window.pixels >= region.pixels), root)
    window = culprit.info.data_window if culprit is not root else region
    raise RenderError(
        culprit.name,
        f"its image of {window.width}x{window.height} pixels needs {_size(need)}; the limit "
        f"is {_size(limit)} (MATTEBOX_MEMORY_LIMIT)",
    )


def check_layers(name: str, window: Window, planes: int, limit: int | None = None) -> None:
    """Refuse, before any work, a result of ``planes`` layers (the main one and the
    others a render holds side by side, one ``window``-sized RGBA float plane each) that
    does not fit ``limit`` bytes (default :func:`memory_limit`), naming the node ``name``
    (each plane's own plan checks only that plane)."""
    limit = memory_limit() if limit is None else limit
    need = window.pixels * BYTES_PER_PIXEL * planes
    if planes > 1 and need > limit:
        raise RenderError(
            name,
            f"its {planes} layers of {window.width}x{window.height} pixels need "
            f"{_size(need)}; the limit is {_size(limit)} (MATTEBOX_MEMORY_LIMIT): render "
            "fewer layers (channels) or a smaller image",
        )


def build(
    root: NodeEval, frame: float, region: Window, ctx: Context, options: PlanOptions | None = None
) -> Plan:
    """Plan the computation of ``region`` of ``root`` (already evaluated)."""
    options = options or PlanOptions()
    budget = options.budget or default_budget()
    region = region.intersect(root.info.data_window)
    limit = memory_limit()
    check_limits(root, region, ctx, limit, whole=not options.streamed)
    tiles = []
    bands = 1
    fewest_rows = max(options.min_tile_rows, options.row_multiple)
    while True:
        cut = _bands(region, bands, options.row_multiple)
        tiles = [_plan_tile(root, band, ctx, options) for band in cut]
        peak = max((_tile_bytes(t, options) for t in tiles), default=0)
        biggest = max((_largest_buffer(t, options) for t in tiles), default=0)
        rows = math.ceil(region.height / bands) if bands else 0
        fits = peak <= budget and (not options.max_buffer or biggest <= options.max_buffer)
        bound = max((_largest_binding(t) for t in tiles), default=0)
        binds = not options.max_binding or bound <= options.max_binding
        if (fits and binds) or rows <= (fewest_rows if binds else max(1, options.row_multiple)):
            break
        over = max(
            peak / budget,
            biggest / options.max_buffer if options.max_buffer else 0,
            bound / options.max_binding if options.max_binding else 0,
        )
        bands = min(region.height, bands * 2 if over > 2 else bands + 1)
        bands = max(bands, math.ceil(bands * over))
    if not binds:
        _refuse_binding(tiles, options)
    if peak > limit:  # cut as finely as tiles go, a tile still cannot fit
        tile = max(tiles, key=lambda t: _tile_bytes(t, options))
        step = max(tile.passes, key=lambda p: tile.buffers[p.output].window.pixels)
        raise RenderError(
            step.node.name,
            f"a tile of {tile.region.height} rows needs {_size(peak)} of buffers; the limit "
            f"is {_size(limit)} (MATTEBOX_MEMORY_LIMIT)",
        )
    return Plan(root, frame, region, tuple(tiles), budget, options.backend)


def _largest_binding(tile: TilePlan) -> int:
    """Bytes of the largest buffer a tile binds on a device: any of them, pool slots and
    the buffers of reads, sources and cached results alike."""
    windows = (buffer.window.pixels for buffer in tile.buffers.values())
    return max(max(windows, default=0) * BYTES_PER_PIXEL, *tile.slot_bytes, 0)


def _refuse_binding(tiles: list[TilePlan], options: PlanOptions) -> None:
    """One line for a tile whose largest buffer the device cannot bind even when cut as
    finely as tiles go: it names the node that needs the buffer (an area or resample
    pass needing that much input, else the pass producing it)."""
    tile = max(tiles, key=_largest_binding)
    sizes = {s.output: tile.buffers[s.output].window for s in tile.passes}
    buffer = max(sizes, key=lambda b: sizes[b].pixels)
    window = sizes[buffer]
    consumers = [s for s in tile.passes if buffer in s.inputs and s.kind in ("area", "resample")]
    step = (consumers or [s for s in tile.passes if s.output == buffer])[0]
    raise RenderError(
        step.node.name,
        f"a tile of {tile.region.height} row(s) needs a buffer of {window.width}x"
        f"{window.height} pixels ({_size(window.pixels * BYTES_PER_PIXEL)}); the GPU binds "
        f"at most {_size(options.max_binding)} (max_storage_buffer_binding_size): render "
        "it on the CPU (--backend cpu) or make it smaller",
    )


def _device_inputs(tile: TilePlan, options: PlanOptions) -> list[Window]:
    """Windows of the buffers of a tile outside its pool that count against the budget:
    read and cached ones copied to a device of its own; in a streamed render, every one
    (generated sources too), since nothing else holds the frame."""
    kinds = ("read", "cached", "source") if options.streamed else ("read", "cached")
    if not (options.device_inputs or options.streamed):
        return []
    return [tile.buffers[s.output].window for s in tile.passes if s.kind in kinds]


def _tile_bytes(tile: TilePlan, options: PlanOptions) -> int:
    """Bytes a tile holds at once: its pool, plus its inputs on a device of its own."""
    owned = sum(w.pixels for w in _device_inputs(tile, options))
    return tile.peak_bytes() + owned * BYTES_PER_PIXEL


def _largest_buffer(tile: TilePlan, options: PlanOptions) -> int:
    sizes = list(tile.slot_bytes)
    sizes += [w.pixels * BYTES_PER_PIXEL for w in _device_inputs(tile, options)]
    return max(sizes, default=0)


def _bands(region: Window, count: int, multiple: int = 1) -> list[Window]:
    """``region`` cut into about ``count`` bands of rows, each a whole multiple of
    ``multiple`` rows but the last."""
    if region.empty or count <= 1:
        return [region]
    rows = math.ceil(math.ceil(region.height / count) / multiple) * multiple
    return [
        Window(region.x0, y, region.x1, min(region.y1, y + rows))
        for y in range(region.y0, region.y1, rows)
    ]


def _plan_tile(root: NodeEval, region: Window, ctx: Context, options: PlanOptions) -> TilePlan:
    rois = _regions(root, region, ctx, options)
    live = _live(root, rois, options)
    groups = _group(root, live, rois, options)
    passes, buffers, slots = _schedule(root, live, rois, groups, options, ctx)
    return TilePlan(region, tuple(passes), buffers, tuple(slots))


def _regions(root: NodeEval, region: Window, ctx: Context, options: PlanOptions) -> dict:
    """Region of interest of every needed node (by id), propagated backwards."""
    rois: dict[int, Window] = {id(root): region}
    order = _post_order(root, _inputs)
    for ev in reversed(order):  # consumers before producers
        roi = rois.get(id(ev), EMPTY).intersect(ev.info.data_window)
        rois[id(ev)] = roi
        if roi.empty or _is_cached(ev, roi, options):
            continue
        for index, upstream in enumerate(ev.inputs):
            if upstream is None:
                continue
            need = ev.spec.input_region(ev.values, roi, index, node_context(ev, ctx))
            need = need.intersect(upstream.info.data_window)
            rois[id(upstream)] = rois.get(id(upstream), EMPTY).union(need)
    return rois


def _is_cached(ev: NodeEval, roi: Window, options: PlanOptions) -> bool:
    return bool(options.cached and options.cached(ev.hash, roi))


def _post_order(root: NodeEval, follow) -> list[NodeEval]:
    """Nodes reached from ``root`` through ``follow(ev)`` (the inputs to walk into),
    producers before consumers."""
    order: list[NodeEval] = []
    seen: set[int] = {id(root)}
    # an explicit stack, not recursion: a chain of any length plans (each entry is a node
    # and the inputs still to visit, in the order a recursive walk would take them)
    stack = [(root, iter(follow(root)))]
    while stack:
        ev, pending = stack[-1]
        for upstream in pending:
            if id(upstream) not in seen:
                seen.add(id(upstream))
                stack.append((upstream, iter(follow(upstream))))
                break
        else:
            stack.pop()
            order.append(ev)
    return order


def _live(root: NodeEval, rois: dict, options: PlanOptions) -> list[NodeEval]:
    """Nodes that must run (non-empty region, not below a cached result), producers first."""

    def needed_inputs(ev: NodeEval) -> list[NodeEval]:
        roi = rois.get(id(ev), EMPTY)
        if roi.empty or _is_cached(ev, roi, options):
            return []
        return [i for i in ev.inputs if i is not None and not rois.get(id(i), EMPTY).empty]

    return _post_order(root, needed_inputs)


def _group(root: NodeEval, live: list[NodeEval], rois: dict, options: PlanOptions) -> dict:
    """Fusion groups keyed by the id of their output node; members leaves-first."""
    consumers: dict[int, int] = {}
    for ev in live:
        if _is_cached(ev, rois[id(ev)], options):
            continue
        for upstream in ev.inputs:
            if upstream is not None and not rois.get(id(upstream), EMPTY).empty:
                consumers[id(upstream)] = consumers.get(id(upstream), 0) + 1

    # Nodes being edited, and what is downstream of them, are "dirty": fusing only within
    # the dirty side or only within the clean side keeps clean results cacheable, so a
    # slider drag recomputes the edited node and what follows, nothing else.
    dirty: set[int] = set()
    for ev in live:
        if ev.name in options.boundaries or any(
            i is not None and id(i) in dirty for i in ev.inputs
        ):
            dirty.add(id(ev))

    def fusable(up: NodeEval, down: NodeEval) -> bool:
        return (
            options.fuse
            and up.kind is Kind.POINT
            and down.kind is Kind.POINT
            and consumers.get(id(up)) == 1
            and up is not root
            # the engine's records of one edited node (a masked Grade: the Grade and its
            # MaskMix) still fuse: only the node's inputs are materialised
            and (down.name not in options.boundaries or up.name == down.name)
            and (id(up) in dirty) == (id(down) in dirty)
            and not _is_cached(up, rois[id(up)], options)
        )

    groups: dict[int, list[NodeEval]] = {}
    absorbed: set[int] = set()

    def fused_into(node: NodeEval) -> list[NodeEval]:
        """The inputs of ``node`` that fuse into it (marked as absorbed)."""
        found = []
        for upstream in node.inputs:
            if upstream is not None and fusable(upstream, node) and id(upstream) not in absorbed:
                absorbed.add(id(upstream))
                found.append(upstream)
        return found

    def collect(node: NodeEval) -> list[NodeEval]:
        """``node`` and the point ops fused into it, leaves first (a walk with a stack
        of its own, so a fused chain of any length does not recurse)."""
        members: list[NodeEval] = []
        stack = [(node, iter(fused_into(node)))]
        while stack:
            current, pending = stack[-1]
            upstream = next(pending, None)
            if upstream is None:
                stack.pop()
                members.append(current)
            else:
                stack.append((upstream, iter(fused_into(upstream))))
        return members

    for ev in reversed(live):  # outputs first, so each group starts at its output node
        if id(ev) not in absorbed:
            groups[id(ev)] = collect(ev)
    return groups


_PASS_KIND = {
    Kind.POINT: "fused",
    Kind.AREA: "area",
    Kind.RESAMPLE: "resample",
    Kind.COLOR_PROCESSOR: "color",
    Kind.SINK: "fused",
}


def _schedule(
    root: NodeEval, live: list, rois: dict, groups: dict, options: PlanOptions, ctx: Context
):
    """Passes in execution order with buffers assigned from a pool by liveness."""
    passes: list[Pass] = []
    buffer_of: dict[int, int] = {}  # node id -> buffer id
    windows: dict[int, Window] = {}
    owned: set[int] = set()  # buffers not from the pool (cached, read)
    feeds_boundary = {id(i) for b in _boundary_nodes(root, options) for i in b.inputs if i}
    order = [ev for ev in live if id(ev) in groups]

    for ev in order:
        members = groups[id(ev)]
        roi = rois[id(ev)]
        buffer = len(windows)
        windows[buffer] = roi
        if roi.empty:
            kind = "empty"
        elif _is_cached(ev, roi, options):
            kind = "cached"
        elif ev.kind is Kind.SOURCE:
            kind = "read" if ev.spec.file_source else "source"
        else:
            kind = _PASS_KIND[ev.kind]
        if kind in ("cached", "read", "source", "empty"):
            owned.add(buffer)  # produced outside the pool (cache, file, generator)
        inputs: list[int] = []
        wiring = []
        member_index = {id(m): i for i, m in enumerate(members)}
        for member in members:
            wires = []
            for upstream in (
                member.inputs if kind not in ("cached", "read", "source", "empty") else []
            ):
                if upstream is None or rois.get(id(upstream), EMPTY).empty:
                    wires.append(("none", -1))
                elif id(upstream) in member_index:
                    wires.append(("node", member_index[id(upstream)]))
                else:
                    source_buffer = buffer_of[id(upstream)]
                    if source_buffer not in inputs:
                        inputs.append(source_buffer)
                    wires.append(("buf", inputs.index(source_buffer)))
            wiring.append(tuple(wires))
        store = kind not in ("cached", "empty") and (options.store_all or id(ev) in feeds_boundary)
        device = options.placement(kind, ev, ctx) if options.placement else ""
        passes.append(
            Pass(
                kind,
                tuple(members),
                tuple(inputs),
                buffer,
                roi,
                tuple(wiring) if kind in ("fused", "area", "resample") else (),
                store,
                device,
            )
        )
        buffer_of[id(ev)] = buffer

    buffers, slots = _assign_slots(passes, windows, owned)
    return passes, buffers, slots


def _inputs(ev: NodeEval) -> list[NodeEval]:
    return [i for i in ev.inputs if i is not None]


def _boundary_nodes(root: NodeEval, options: PlanOptions) -> list[NodeEval]:
    """The nodes being edited (whose inputs are materialised) upstream of ``root``."""
    return [ev for ev in _post_order(root, _inputs) if ev.name in options.boundaries]


def _assign_slots(passes: list[Pass], windows: dict[int, Window], owned: set[int]):
    """Greedy interval colouring: reuse a freed slot, grow it if needed."""
    last_use: dict[int, int] = {}
    for index, step in enumerate(passes):
        for buffer in step.inputs:
            last_use[buffer] = index
    final = passes[-1].output if passes else -1
    slot_bytes: list[int] = []
    free: list[int] = []
    slot_of: dict[int, int] = {}
    for index, step in enumerate(passes):
        buffer = step.output
        if buffer not in owned:
            need = windows[buffer].pixels * BYTES_PER_PIXEL
            if free:
                slot = max(free, key=lambda s: (slot_bytes[s] >= need, -abs(slot_bytes[s] - need)))
                free.remove(slot)
                slot_bytes[slot] = max(slot_bytes[slot], need)
            else:
                slot = len(slot_bytes)
                slot_bytes.append(need)
            slot_of[buffer] = slot
        for used in set(step.inputs):
            if last_use.get(used) == index and used in slot_of and used != final:
                free.append(slot_of[used])
    buffers = {b: Buffer(b, slot_of.get(b, -1), w) for b, w in windows.items()}
    return buffers, slot_bytes
