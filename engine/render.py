"""Rendering: a node to pixels, or Write nodes over a frame range.

The command line, the Python API, the distributed path and the editor's viewer all call
this module. It evaluates the graph at a frame, plans (:mod:`mattebox.engine.plan`), reads
file sources, and drives a backend through the plan's passes with pooled buffers.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mattebox.engine import color, io
from mattebox.engine.backends import detect
from mattebox.engine.cache import Cache
from mattebox.engine.evaluate import Evaluator
from mattebox.engine.graph import Graph, Node
from mattebox.engine.image import Image, downscale, scale_format, scale_window
from mattebox.engine.plan import NodeEval, Plan, PlanOptions, RenderError, build, check_layers
from mattebox.engine.stats import RenderStats
from mattebox.nodes import channels as chans
from mattebox.nodes.spec import EMPTY, Context, Format, ImageInfo, Window

MAIN = chans.MAIN

__all__ = ["RenderError", "Session", "execute", "frames_from", "plan", "render", "session"]


class Cancelled(Exception):
    """A render stopped because its cancel check said so."""


@dataclass
class Session:
    """The one place holding process-wide engine state: the cache and the backends."""

    cache: Cache = field(default_factory=Cache)
    executed: Counter = field(default_factory=Counter)  # node name -> passes run
    warned: set = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def warn_once(self, message: str) -> None:
        if message not in self.warned:
            self.warned.add(message)
            warnings.warn(message, RuntimeWarning, stacklevel=3)


_session = Session()
_prefetch: dict[int, ThreadPoolExecutor] = {}  # by process id: a forked child makes its own


def _reader() -> ThreadPoolExecutor:
    """Threads that decode a tile's Reads ahead of their passes (two, as the decoders)."""
    pid = os.getpid()
    if pid not in _prefetch:
        _prefetch.clear()
        _prefetch[pid] = ThreadPoolExecutor(2, thread_name_prefix="mattebox-read")
    return _prefetch[pid]


def session() -> Session:
    """The process's engine session (cache, backends, counters)."""
    return _session


# --------------------------------------------------------------------------- context


def context_for(graph: Graph, frame: float, proxy: int = 1) -> Context:
    """What nodes may consult at ``frame``: format, colour settings, script folder; with
    ``proxy`` N > 1, a proxy render's context (the script format at 1/N scale)."""
    proxy = _check_proxy(proxy)
    settings = graph.settings
    config_uri = color.resolve_config_uri(settings.ocio_config)
    try:
        working = color.working_space(color.get_config(config_uri), settings.working_space)
    except color.ColorError as error:
        raise RenderError("settings.ocio", str(error)) from None
    script_dir = os.path.dirname(os.path.abspath(graph.path)) if graph.path else os.getcwd()
    return Context(
        frame=frame,
        script_format=scale_format(settings.format, proxy),
        working_space=working,
        ocio_config=config_uri,
        script_dir=script_dir,
        proxy=proxy,
    )


def _check_proxy(proxy) -> int:
    if isinstance(proxy, bool) or not isinstance(proxy, int) or proxy < 1:
        raise ValueError(f"proxy must be a whole number >= 1, got {proxy!r}")
    return proxy


def default_frame(graph: Graph) -> int:
    return graph.settings.frame_range[0]


# --------------------------------------------------------------------------- file sources


def file_path(node: Node, values: dict, ctx: Context) -> str:
    """The file a Read or Write node uses at the context's frame (absolute)."""
    pattern = values["file"]
    if not pattern:
        raise RenderError(node.name, "file: no file given")
    frame = round(ctx.frame) + int(values.get("frame_offset", 0))
    path = os.path.expanduser(os.path.expandvars(io.expand_frame(pattern, frame)))
    return path if os.path.isabs(path) else os.path.join(ctx.script_dir, path)


def file_source_info(node: Node, values: dict, ctx: Context):
    """A Read node's ``(ImageInfo, identity, layer windows)`` at the context's frame, from
    the file's header: its format, data window and layers; identity changes when the file
    does (path, size, mtime, colour space); the data window of each layer by name."""
    path = file_path(node, values, ctx)
    try:
        stat = os.stat(path)
    except OSError:
        if values.get("missing_frames") == "black":
            return ImageInfo(ctx.script_format, EMPTY), ("missing", path), {}
        raise RenderError(node.name, f"cannot read {path}: no such file") from None
    try:
        info = io.probe(path)
    except io.ImageIOError as error:
        raise RenderError(node.name, str(error)) from None
    fmt = scale_format(Format(info.width, info.height, info.pixel_aspect), ctx.proxy)
    identity = (path, stat.st_size, stat.st_mtime_ns, values["colorspace"])
    window = scale_window(Window(*info.data_window), ctx.proxy)
    windows = {
        layer: scale_window(Window(*box), ctx.proxy) for layer, box in info.layer_windows.items()
    }
    return ImageInfo(fmt, window, info.layers), identity, windows


def _read_pixels(ev: NodeEval, ctx: Context, cache: Cache) -> tuple[np.ndarray, Window]:
    """The whole decoded, colour-converted image of a Read (cached by its hash).

    In a proxy render (``ctx.proxy`` N > 1) the decoded image is box-filtered to 1/N
    scale (:func:`~mattebox.engine.image.downscale`) and cached apart from the full
    resolution one: the hash of a proxy render includes N. The full-resolution decode
    is taken from the cache when a full render left it there, and is not kept otherwise.
    Where the file's conversion to the working space is linear, the decoder makes the
    proxy itself (a MIP level, or each band filtered as it is decoded), so only 1/N² of
    the pixels leave it (:func:`_filtered_in_decoder`).
    """
    window = ev.info.data_window
    found = cache.find(ev.hash, window)
    if found is not None:
        return found
    # a Read's entries are whole decodes, so any entry of the full-resolution hash will do
    full = cache.find(ev.extras["full_hash"], EMPTY) if ctx.proxy != 1 else None
    if full is not None:
        pixels, read_window = full
    elif ev.extras["layer"] != MAIN:
        return _read_layers([ev], ctx, cache)[0]
    else:
        path = ev.extras["identity"][0]
        proxy = ctx.proxy if ctx.proxy != 1 and _filtered_in_decoder(ev, path, ctx) else 1
        try:
            pixels, read_window, info = io.read_image(path, proxy=proxy)
            pixels = _to_working(ev, pixels, path, info.datatype, ctx)
        except io.ImageIOError as error:
            raise RenderError(ev.name, str(error)) from None
        read_window = Window(*read_window)
        if proxy != 1:  # already at proxy scale
            cache.put(ev.hash, read_window, pixels)
            return pixels, read_window
    pixels, read_window = downscale(pixels, read_window, ctx.proxy)
    cache.put(ev.hash, read_window, pixels)
    return pixels, read_window


def _read_layers(evs: list[NodeEval], ctx: Context, cache: Cache) -> list:
    """Decode the layers of one Read that ``evs`` ask for, in one read of the file; each
    is cached under its record's hash. Colour layers (the main one, and layers of
    channels R, G, B, A) are converted to the working space; data layers (depth,
    normals, motion...) are not."""
    ev = evs[0]
    path = ev.extras["identity"][0]
    names = [e.extras["layer"] for e in evs]
    try:
        planes, windows, info = io.read_layers(path, names)
    except io.ImageIOError as error:
        raise RenderError(ev.name, str(error)) from None
    results = []
    for layer_ev, name in zip(evs, names):
        pixels, window = planes[name], Window(*windows[name])
        channels = dict(info.layers)[name]
        if name != MAIN and len(channels) < 4:
            pixels[..., 3] = 1.0  # the opaque alpha slot of a layer of 1-3 channels
        if chans.is_colour_layer(channels):
            pixels = _to_working(layer_ev, pixels, path, info.datatype, ctx)
        pixels, window = downscale(pixels, window, ctx.proxy)
        cache.put(layer_ev.hash, window, pixels)
        results.append((pixels, window))
    return results


def _filtered_in_decoder(ev: NodeEval, path: str, ctx: Context) -> bool:
    """Whether a proxy of this Read may be filtered in the decoder, before the conversion
    to the working space: where that conversion is linear (none, or a matrix such as
    ACEScg to ACES2065-1), averaging before or after it gives the same pixels. A file in a
    non-linear encoding (an sRGB JPEG or PNG) is decoded whole, converted, then filtered."""
    try:
        datatype = io.probe(path).datatype
        config = color.get_config(ctx.ocio_config)
        space = ev.values["colorspace"]
        if space == "default":
            space = color.default_file_colorspace(config, path, datatype)
        processor = color.colorspace_processor(ctx.ocio_config, space, ctx.working_space)
    except (io.ImageIOError, color.ColorError):
        return False  # the whole read reports the problem
    return color.matrix_rows(processor) is not None


def _to_working(ev: NodeEval, pixels: np.ndarray, path: str, datatype: str, ctx: Context):
    try:
        config = color.get_config(ctx.ocio_config)
        space = ev.values["colorspace"]
        if space == "default":
            space = color.default_file_colorspace(config, path, datatype)
        processor = color.cpu_processor(ctx.ocio_config, space, ctx.working_space)
    except color.ColorError as error:
        raise RenderError(ev.name, f"colorspace: {error}") from None
    return _through(processor, pixels)


def _through(processor, pixels: np.ndarray) -> np.ndarray:
    """``pixels`` through a CPU processor; the same array when it changes nothing (a Read
    or Write in the working space), not the copy ``apply_cpu`` makes."""
    return pixels if processor.isNoOp() else color.apply_cpu(processor, pixels)


# --------------------------------------------------------------------------- planning


def evaluate(
    graph: Graph, node: Node, frame: float, ctx: Context | None = None, proxy: int = 1
) -> NodeEval:
    """``node`` at ``frame``, with parameters evaluated, pass-throughs resolved and hashes
    (at 1/``proxy`` scale; a given ``ctx`` carries its own proxy level)."""
    ctx = ctx or context_for(graph, frame, proxy)
    return Evaluator(graph, ctx, file_source_info).eval(node)


def layers_of(
    graph: Graph, node: Node | str, frame: float | None = None
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The layers of ``node``'s output at ``frame``: ``(layer, channel names)`` pairs, the
    main ``rgba`` first (for menus: nothing is computed; file sources are probed)."""
    node = graph[node] if isinstance(node, str) else node
    frame = default_frame(graph) if frame is None else frame
    return evaluate(graph, node, frame).info.layers


def plan(
    graph: Graph,
    node: Node | str,
    frame: float | None = None,
    region: tuple[int, int, int, int] | None = None,
    budget: int = 0,
    use_cache: bool = True,
    backend: str | None = None,
    proxy: int = 1,
) -> Plan:
    """The plan that :func:`render` would run (print it to see passes, tiles, buffers).

    With ``backend`` (auto|gpu|cpu) the tiles are sized for that backend's memory and the
    passes it hands to the CPU are marked ``on cpu``; by default, the CPU's plan.
    """
    node = graph[node] if isinstance(node, str) else node
    frame = default_frame(graph) if frame is None else frame
    ctx = context_for(graph, frame, proxy)
    root = evaluate(graph, node, frame, ctx)
    target = backend_for(backend) if backend else None
    return _build(graph, root, frame, region, ctx, budget, use_cache, target)


def _build(graph, root, frame, region, ctx, budget, use_cache, backend=None) -> Plan:
    cache = _session.cache
    # A backend with memory of its own (the GPU) sizes tiles to it (budget, largest
    # binding, inputs copied per tile), keeps intermediates there instead of copying each
    # back for the cache (store_all), and names the passes it hands to the CPU.
    fit = dict(backend.plan_options()) if backend is not None else {}
    options = PlanOptions(
        budget=budget or fit.pop("budget", 0),
        boundaries=frozenset(graph.hot_nodes) if use_cache else frozenset(),
        cached=cache.contains if use_cache else None,
        # interactive: keep every materialised result (LRU-bounded)
        store_all=use_cache and fit.pop("store_all", True),
        **{k: v for k, v in fit.items() if k not in ("budget", "store_all")},
    )
    want = Window(*region) if region else root.info.data_window
    return build(root, frame, want, ctx, options)


# --------------------------------------------------------------------------- executing


def run_plan(
    plan_: Plan,
    backend,
    ctx: Context,
    cancel: Callable[[], bool] | None = None,
    stats: RenderStats | None = None,
    resident: bool = False,
) -> np.ndarray:
    """Execute a plan on a backend; returns the pixels of ``plan.region``.

    A tile's pixels are collected only after the next tile has been handed to the
    backend, so a backend that computes asynchronously (the GPU) computes one tile while
    the next one's inputs are copied in. With ``stats``, each pass is timed (and waited
    for on a device) and recorded there (:mod:`mattebox.engine.stats`). With
    ``resident``, inputs a device kept from earlier renders are used as they are, and
    what it uploads or stores is kept (``Backend.resident_image``/``keep``).
    """
    region = plan_.region
    if len(plan_.tiles) == 1:
        return _run_tile(plan_.tiles[0], backend, ctx, cancel, True, stats, resident)()
    out = np.empty((region.height, region.width, 4), np.float32)

    def paste(tile, finish) -> None:
        t = tile.region
        out[t.y0 - region.y0 : t.y1 - region.y0, t.x0 - region.x0 : t.x1 - region.x0] = finish()

    pending = None
    for tile in plan_.tiles:
        finish = _run_tile(tile, backend, ctx, cancel, False, stats, resident)
        if pending is not None:
            paste(*pending)
        pending = (tile, finish)
    paste(*pending)
    return out


def _run_tile(
    tile,
    backend,
    ctx: Context,
    cancel,
    own: bool,
    stats: RenderStats | None = None,
    resident: bool = False,
    read: Callable[[Any], Any] | None = None,
    on_device: bool = False,
) -> Callable[[], np.ndarray]:
    """Hand a tile's passes to the backend; returns a callable giving its pixels.
    ``read(step)`` gives a read pass's pixels (an object whose ``result()`` is
    ``(pixels, window)``); by default the whole file, cached, decoded ahead. With
    ``resident``, see :func:`run_plan`. With ``on_device`` the callable gives the
    result left on the backend instead, as ``(handle, window)`` (``Backend.hold``)."""
    cache = _session.cache
    held = {  # inputs the device kept from an earlier render: nothing to decode or upload
        step.output: found
        for step in tile.passes
        if resident
        and step.kind in ("read", "cached", "source")
        and (found := backend.resident_image(step.node.hash, step.region)) is not None
    }
    stores = []
    slots: dict[int, Any] = {}  # allocated on first use
    handles: dict[int, tuple[Any, Window]] = {}
    last_use = {b: i for i, step in enumerate(tile.passes) for b in step.inputs}
    last = tile.passes[-1]
    reads = {  # every Read of the tile decodes at once, on two decoders, ahead of its pass
        step.output: read(step)
        if read is not None
        else _prefetching(step.node) or _reader().submit(_timed_read, step.node, ctx, cache, stats)
        for step in tile.passes
        if step.kind == "read" and step.output not in held
    }
    for index, step in enumerate(tile.passes):
        if cancel is not None and cancel():
            raise Cancelled()
        started = time.perf_counter()
        if step.output in held:
            handles[step.output] = held.pop(step.output)
        else:
            made = _run_pass(step, tile, backend, ctx, cache, slots, handles, reads)
            handles[step.output] = made
            if resident and step.kind in ("cached", "read", "source"):
                backend.keep(step.node.hash, made[1], made[0], False)
        if step.store and step.kind not in ("cached", "read", "source"):
            output, region = handles[step.output]
            stores.append((step, backend.download_later(output, region, copy=True)))
            if resident:
                backend.keep(step.node.hash, region, output, True)
        if stats is not None and step.kind != "empty":
            backend.wait()  # a device's pass has run when its time is taken
            stats.record_pass(step, time.perf_counter() - started)
        for buffer in step.inputs:  # let go of inputs nothing later reads
            if last_use[buffer] == index and buffer != last.output:
                handles.pop(buffer, None)
    handle, window = handles[last.output]
    if on_device:  # a pool slot is copied on the device: the next render reuses it
        slot = last.kind not in ("cached", "read", "source")
        handle = backend.hold(last.node.hash, window, handle, slot)
    else:
        result = backend.download_later(handle, window, copy=False)
    # a device: the next tile's passes come after these, so it may reuse this tile's
    # slots, and this tile computes while the next one is prepared
    for slot in slots.values():
        backend.release(slot)
    backend.flush()

    def finish() -> np.ndarray:
        for step, stored in stores:
            cache.put(step.node.hash, step.region, stored())
        if on_device:
            return handle, window
        pixels = result()
        if last.kind in ("cached", "read", "source") or not own:
            pixels = np.array(pixels[: window.height, : window.width])
        if window != tile.region:  # a cached or read result larger than asked
            pixels = _crop(pixels, window, tile.region)
        return pixels

    return finish


def _timed_read(ev: NodeEval, ctx: Context, cache: Cache, stats: RenderStats | None):
    """:func:`_read_pixels` on a decoder thread, its time recorded in ``stats``."""
    started = time.perf_counter()
    result = _read_pixels(ev, ctx, cache)
    if stats is not None:
        stats.record_decode(ev, time.perf_counter() - started)
    return result


def _run_pass(step, tile, backend, ctx, cache: Cache, slots: dict, handles: dict, reads: dict):
    """Run one pass; returns its output as (handle, window). ``reads`` holds the futures
    of the tile's decodes by output buffer."""
    ev = step.node
    if step.kind in ("cached", "read"):
        if step.kind == "cached":
            pixels, window = cache.find(ev.hash, step.region)
        else:
            pixels, window = reads.pop(step.output).result()
        if backend.crop_inputs and window != step.region:
            # a device gets only this tile's part, not the whole plate for every tile
            pixels, window = _part(pixels, window, step.region), step.region
        return backend.upload(pixels), window
    if step.kind == "source":
        made = backend.source(step, ctx)
        if made is not None:  # generated on the device itself
            _session.executed[ev.name] += 1
            return made, step.region
        try:
            pixels = ev.spec.generate(ev.values, step.region, ctx)
        except (ValueError, ArithmeticError) as error:
            raise RenderError(ev.name, str(error)) from None
        _session.executed[ev.name] += 1
        return backend.upload(pixels), step.region
    slot = tile.buffers[step.output].slot
    if slot not in slots:
        slots[slot] = backend.alloc(tile.slot_bytes[slot])
    output = backend.view(slots[slot], step.region)
    try:
        backend.run(step, [handles[b] for b in step.inputs], output, ctx)
    except RenderError:
        raise
    except (ValueError, ZeroDivisionError, ArithmeticError) as error:
        raise RenderError(ev.name, str(error)) from None
    for node in step.nodes:
        _session.executed[node.name] += 1
    return output, step.region


def _part(pixels: np.ndarray, window: Window, want: Window) -> np.ndarray:
    """``pixels`` (covering ``window``) cut to ``want``, black where they do not reach."""
    if window.contains(want):
        return pixels[
            want.y0 - window.y0 : want.y1 - window.y0, want.x0 - window.x0 : want.x1 - window.x0
        ]
    return _crop(pixels, window, want)


def _crop(pixels: np.ndarray, window: Window, want: Window) -> np.ndarray:
    out = np.zeros((want.height, want.width, 4), np.float32)
    have = window.intersect(want)
    if not have.empty:
        out[have.y0 - want.y0 : have.y1 - want.y0, have.x0 - want.x0 : have.x1 - want.x0] = pixels[
            have.y0 - window.y0 : have.y1 - window.y0, have.x0 - window.x0 : have.x1 - window.x0
        ]
    return out


def render(
    graph: Graph,
    node: Node,
    frame: float | None = None,
    backend: str = "auto",
    region: tuple[int, int, int, int] | None = None,
    cancel=None,
    use_cache: bool = True,
    proxy: int = 1,
    layers: Iterable[str] | str | None = None,
    stats: RenderStats | None = None,
    evaluator: Evaluator | None = None,
) -> Image:
    """Render ``node`` at ``frame`` to an :class:`Image` of its data window (or ``region``).

    ``layers`` picks the layers computed besides the main one: None or ``"all"`` every
    layer of the node's output, ``()`` the main layer alone, or a list of layer names
    (the image then has those; :meth:`Image.layer` gives them). Only what the chosen
    layers need is computed and read.

    With ``proxy`` N > 1 the whole graph is evaluated at 1/N scale (a proxy render, as in
    Nuke's proxy mode): file sources box-filtered by N, generated sources made at the
    scaled format, every parameter in pixels divided by N. The image then has
    ``proxy == N`` and its format, data window and ``region`` are in proxy pixels.

    With ``stats`` (a :class:`~mattebox.engine.stats.RenderStats`), each node's time and
    whether it came from the cache are recorded there (``docs/python.md``).

    ``evaluator``, an :class:`Evaluator` of the graph at ``frame`` (and ``proxy``) already
    used, has its records reused instead of evaluating the graph again.

    Raises :class:`RenderError` naming the failing node.
    """
    started = time.perf_counter()
    frame = default_frame(graph) if frame is None else frame
    ctx = evaluator.ctx if evaluator is not None else context_for(graph, frame, proxy)
    evaluator = evaluator or Evaluator(graph, ctx, file_source_info)
    root = evaluator.eval(node)
    target = backend_for(backend)
    extra = _chosen_layers(root, layers, node)
    planes = {name: evaluator.eval(node, name) for name, _ in extra}
    window = root.info.data_window  # one data window for all layers (as Nuke's bbox)
    want = window.intersect(Window(*region)) if region else window
    check_layers(node.name, want, 1 + len(planes))  # held side by side: all counted
    if planes:  # every layer of a file in one read, before any plane's plan reads one
        _read_ahead([root, *planes.values()], ctx)
    pixels = _render_plane(graph, root, frame, want, ctx, use_cache, target, cancel, stats)
    image_layers = {
        name: (
            channels,
            _render_plane(graph, planes[name], frame, want, ctx, use_cache, target, cancel, stats),
        )
        for name, channels in extra
    }
    if stats is not None:
        cache = _session.cache
        stats.node, stats.frame, stats.backend, stats.proxy = node.name, frame, target.name, proxy
        stats.cache_bytes, stats.cache_budget = cache.bytes, cache.budget
        stats.seconds += time.perf_counter() - started
    return Image(pixels, want.as_tuple(), root.info.format, ctx.proxy, image_layers)


class GpuFailed(RuntimeError):
    """The GPU failed during :func:`render_on_device` (already warned about and marked
    failed): render on the CPU instead."""


def gpu_failed(backend, error: Exception) -> None:
    """A GPU failed outside a render (the viewer's display step) or in
    :func:`render_on_device`: warn once, mark it failed, raise :class:`GpuFailed` (the
    error itself where the fallback is off: ``MATTEBOX_GPU_FALLBACK=0``)."""
    if not _fallback_allowed():
        raise error
    _gpu_warning(error)
    detect.mark_failed(backend.name, error)
    raise GpuFailed(str(error)) from error


@dataclass
class DeviceResult:
    """A render's main layer left on a backend (:func:`render_on_device`).

    ``handle`` covers ``window`` (proxy pixels; it may be larger than ``region``, the part
    asked for, when a read or kept image was larger); ``backend`` holds it.
    """

    handle: Any
    window: Window
    region: Window
    format: Any
    proxy: int
    backend: Any


def render_on_device(
    graph: Graph,
    node: Node,
    frame: float | None = None,
    backend: str = "auto",
    region: tuple[int, int, int, int] | None = None,
    cancel=None,
    proxy: int = 1,
    stats: RenderStats | None = None,
) -> DeviceResult | None:
    """Render ``node``'s main layer as :func:`render` does, but leave the result on the
    backend (the viewer's path to the screen on a GPU: ``engine/viewer.py``).

    Returns None where that is not how to render it: a backend that does not display
    results (the CPU), an empty region, or a plan of several tiles (larger than one of
    the device's bindings). A result the device kept from an earlier render of the same
    node (only the display changed) is returned as it is.

    Raises :class:`RenderError` naming the failing node, :class:`Cancelled`, and
    :class:`GpuFailed` when the GPU fails (warned once and marked failed, as
    :func:`render` does; the caller renders on the CPU).
    """
    started = time.perf_counter()
    target = backend_for(backend)
    if not target.displays:
        return None
    frame = default_frame(graph) if frame is None else frame
    ctx = context_for(graph, frame, proxy)
    root = Evaluator(graph, ctx, file_source_info).eval(node)
    window = root.info.data_window
    want = window.intersect(Window(*region)) if region else window
    if want.empty:
        return None

    def result(handle, held: Window) -> DeviceResult:
        return DeviceResult(handle, held, want, root.info.format, ctx.proxy, target)

    if stats is None:
        with target.lock:
            found = target.resident_image(root.hash, want)
        if found is not None:
            return result(*found)
    plan_ = _build(graph, root, frame, want.as_tuple(), ctx, 0, True, target)
    if plan_.region.empty or len(plan_.tiles) != 1:
        return None
    try:
        with target.lock:
            tile = plan_.tiles[0]
            handle, held = _run_tile(tile, target, ctx, cancel, True, stats, True, on_device=True)()
    except (RenderError, Cancelled):
        target.discard()
        raise
    except Exception as error:  # noqa: BLE001 - a device lost or out of memory: the CPU
        target.discard()
        gpu_failed(target, error)
    if stats is not None:
        hits = {s.node.hash for s in plan_.tiles[0].passes if s.kind == "cached"}
        stats.finish([root], hits)
        cache = _session.cache
        stats.node, stats.frame, stats.backend, stats.proxy = node.name, frame, target.name, proxy
        stats.cache_bytes, stats.cache_budget = cache.bytes, cache.budget
        stats.seconds += time.perf_counter() - started
    return result(handle, held)


def _chosen_layers(root: NodeEval, layers, node: Node) -> list[tuple[str, tuple[str, ...]]]:
    """The layers other than the main one that a render asks for, in the image's order."""
    present = [(name, channels) for name, channels in root.info.layers if name != MAIN]
    if layers is None or layers == "all":
        return present
    wanted = [layers] if isinstance(layers, str) else list(layers)
    names = [name for name, _ in root.info.layers]
    for name in wanted:
        if name not in names:
            raise RenderError(node.name, f"has no layer {name!r} (it has {', '.join(names)})")
    return [(name, channels) for name, channels in present if name in wanted]


def _render_plane(
    graph, ev: NodeEval, frame, want: Window, ctx, use_cache, target, cancel, stats=None
):
    """Pixels of ``want`` of one layer's record (black where it has none)."""
    plan_ = _build(graph, ev, frame, want.as_tuple(), ctx, 0, use_cache, target)
    if plan_.region.empty:
        return np.zeros((want.height, want.width, 4), np.float32)
    pixels = _run_with_fallback(plan_, target, ctx, cancel, stats, use_cache)
    if stats is not None:
        hits = {s.node.hash for tile in plan_.tiles for s in tile.passes if s.kind == "cached"}
        stats.finish([ev], hits)
    if use_cache and plan_.passes and plan_.passes[-1].kind not in ("cached", "read"):
        _session.cache.put(ev.hash, plan_.region, pixels.copy())
    if plan_.region != want:
        pixels = _crop(pixels, plan_.region, want)
    return pixels


def _read_ahead(records: list[NodeEval], ctx: Context) -> None:
    """Decode, in one read per file, the layers of Reads that ``records`` use and the
    cache does not hold (each plane's plan would otherwise read its layer alone, and a
    compressed EXR costs nearly as much to decode for one layer as for all of them).
    A file's main layer joins its read only when other layers of it are read too."""
    cache = _session.cache
    by_file: dict[Any, list[NodeEval]] = {}
    seen: set[int] = set()
    stack = list(records)
    while stack:
        ev = stack.pop()
        if id(ev) in seen:
            continue
        seen.add(id(ev))
        stack += [i for i in ev.inputs if i is not None]
        identity = ev.extras.get("identity") if ev.spec.file_source else None
        if identity is None or identity[0] == "missing":  # not a Read, or a black layer
            continue
        if cache.find(ev.hash, ev.info.data_window) is None:
            by_file.setdefault(identity, []).append(ev)
    for group in by_file.values():
        unique = list({e.hash: e for e in group}.values())
        if any(e.extras["layer"] != MAIN for e in unique):
            _read_layers(unique, ctx, cache)


_in_flight: dict[str, Future] = {}  # Read record hash -> its decode started by prefetch_reads
_in_flight_lock = threading.Lock()


def _prefetching(ev: NodeEval) -> Future | None:
    """The decode :func:`prefetch_reads` started for ``ev``, if it is still running."""
    with _in_flight_lock:
        return _in_flight.get(ev.hash)


def prefetch_reads(graph: Graph, node: Node | str, frame: float, proxy: int = 1) -> list[Future]:
    """Start decoding the files that rendering ``node`` at ``frame`` will read and the
    cache lacks, on the decoder processes, without waiting: the decoded images go into
    the cache, and a render that needs one while it is still decoding waits for that
    decode instead of starting another. Playback calls it for the frames after the one
    it renders. A node that cannot be evaluated there prefetches nothing (its render
    will say why). Returns the decodes' futures."""
    try:
        node = graph[node] if isinstance(node, str) else node
        ctx = context_for(graph, frame, proxy)
        records = [evaluate(graph, node, frame, ctx)]
    except (RenderError, KeyError, ValueError):  # ValueError: GraphError, no such node
        return []
    cache = _session.cache
    futures = []
    seen: set[int] = set()
    while records:
        ev = records.pop()
        if id(ev) in seen:
            continue
        seen.add(id(ev))
        records += [i for i in ev.inputs if i is not None]
        identity = ev.extras.get("identity") if ev.spec.file_source else None
        if identity is None or identity[0] == "missing" or ev.extras.get("layer") != MAIN:
            continue
        if ev.info.data_window.empty or cache.contains(ev.hash, ev.info.data_window):
            continue
        with _in_flight_lock:
            future = _in_flight.get(ev.hash)
            if future is None:
                future = _reader().submit(_read_pixels, ev, ctx, cache)
                _in_flight[ev.hash] = future
                future.add_done_callback(lambda _, key=ev.hash: _landed(key))
        futures.append(future)
    return futures


def _landed(key: str) -> None:
    with _in_flight_lock:
        _in_flight.pop(key, None)


def _fallback_allowed() -> bool:
    """Whether a failing GPU hands the render to the CPU (``MATTEBOX_GPU_FALLBACK=0``
    turns that off: the test suite does, so a GPU test cannot pass on CPU pixels)."""
    return os.environ.get("MATTEBOX_GPU_FALLBACK", "1") != "0"


def backend_for(name: str):
    """The backend object for ``name`` (auto|gpu|cpu). When the GPU's device cannot be
    created: the CPU, with a warning. A backend that does not exist here, asked for by
    name, is the caller's error (ValueError)."""
    try:
        backend = detect.get(name)
    except ValueError:
        raise
    except Exception as error:
        if not _fallback_allowed():
            raise
        _gpu_warning(error)
        detect.mark_failed("gpu", error)
        return detect.get("cpu")
    _session.cache.also_clear(backend.forget_kept)  # Clear Cache frees the device's too
    return backend


def _gpu_warning(error: BaseException) -> None:
    first = (str(error).strip().splitlines() or [""])[0]
    _session.warn_once(f"GPU failed ({type(error).__name__}: {first}); rendering on the CPU")


def _run_with_fallback(
    plan_: Plan, backend, ctx: Context, cancel, stats=None, resident: bool = False
) -> np.ndarray:
    """Run on ``backend``; if a GPU fails (device lost, out of memory, a kernel that does
    not compile), warn once (one line) and render the same plan on the CPU."""
    try:
        with backend.lock:  # one render at a time records into the device's command stream
            return run_plan(plan_, backend, ctx, cancel, stats, resident)
    except (RenderError, Cancelled):
        backend.discard()
        raise
    except Exception as error:  # a device lost or out of memory: finish on the CPU
        backend.discard()
        if backend.name == "cpu" or not _fallback_allowed():
            raise
        _gpu_warning(error)
        detect.mark_failed(backend.name, error)
        return run_plan(plan_, detect.get("cpu"), ctx, cancel, stats)


# --------------------------------------------------------------------------- writing


#: The forms a frame list takes, for messages.
FRAME_FORMS = "5, 1-10, 1-100x2 (every 2nd), -5--1, or a comma list such as 1,3,7-9"


class FrameListError(ValueError):
    """A frame list that does not parse: ``text`` as given and ``problem``, one line
    ending with the accepted forms (the command line names its ``-f`` option with it)."""

    def __init__(self, text: str, problem: str):
        super().__init__(f"frames {text!r}: {problem}")
        self.text, self.problem = text, problem


def frame_ranges(text: str | None, graph: Graph) -> list[range]:
    """The frames ``text`` names, as ranges in the order written (None or empty: the
    script's frame range). Forms: ``5``, ``1-10``, ``1-100x2`` (every 2nd), negative
    frames (``-5--1``) and comma lists of those (``1,3,7-9``).

    Raises
    ------
    FrameListError
        A ValueError of one line naming what is wrong and the accepted forms
        (``frames 'abc': 'abc' is not a frame number; use 5, 1-10, ...``).
    """
    if text is None or not str(text).strip():
        first, last = graph.settings.frame_range
        return [range(first, last + 1)]
    return [_frame_range(str(text), part.strip()) for part in str(text).split(",")]


def _frame_range(text: str, part: str) -> range:
    """One comma-separated part of a frame list as a range."""

    def fail(problem: str) -> FrameListError:
        where = "" if part in ("", text.strip()) else f"{part!r}: "
        return FrameListError(text, f"{where}{problem}; use {FRAME_FORMS}")

    def number(token: str, what: str) -> int:
        try:
            return int(token)
        except ValueError:
            raise fail(f"{token!r} is not a {what}" if token else f"a {what} is missing")

    if not part:
        raise fail("an empty entry between commas")
    span, has_step, step_text = part.partition("x")
    step = number(step_text, "step (a whole number)") if has_step else 1
    split = span.find("-", 1)  # a leading "-" is a negative frame's sign
    if split < 0:
        first = last = number(span, "frame number")
    else:
        first = number(span[:split], "frame number")
        last = number(span[split + 1 :], "frame number")
    if step < 1:
        raise fail(f"the step must be 1 or more, not {step}")
    if last < first:
        raise fail(f"the last frame {last} is before the first {first}")
    return range(first, last + 1, step)


class FrameList(Sequence):
    """Frame numbers as the ranges a frame list names, in order: iterated, counted and
    indexed without ever being materialised, so ``1-1000000000000`` costs nothing until
    its frames are rendered, one after the other."""

    def __init__(self, spans: Iterable[range]):
        self.spans = tuple(spans)

    def __len__(self) -> int:
        return sum(len(span) for span in self.spans)

    def __iter__(self):
        for span in self.spans:
            yield from span

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        if index < 0:
            index += len(self)
        for span in self.spans:
            if 0 <= index < len(span):
                return span[index]
            index -= len(span)
        raise IndexError("frame index out of range")

    def distinct_at_least(self, count: int) -> bool:
        """Whether the list names at least ``count`` different frames (looking at no more
        than ``count`` of them per range)."""
        seen: set[int] = set()
        for span in self.spans:
            seen.update(span[:count])
            if len(seen) >= count:
                return True
        return False

    def __eq__(self, other) -> bool:
        if not isinstance(other, (FrameList, list, tuple, range)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None

    def __repr__(self) -> str:
        return f"FrameList({list(self.spans)!r})"


def frames_from(text: str | None, graph: Graph) -> FrameList:
    """Parse ``1-10``, ``5``, ``1-10x2``, ``1,3,7-9`` (None: the script's frame range);
    see :func:`frame_ranges`. The frames come as a :class:`FrameList` (a sequence that is
    never materialised)."""
    return FrameList(frame_ranges(text, graph))


def check_file_patterns(writes: Iterable[Node], frames: Iterable[int]) -> None:
    """Refuse a Write whose file name has no frame number (``####``, ``%04d``) when more
    than one frame is to be written: every frame would overwrite the same file."""
    if not isinstance(frames, FrameList):
        frames = FrameList([frames if isinstance(frames, range) else tuple(frames)])
    if not frames.distinct_at_least(2):
        return
    for write in writes:
        name = write["file"]
        if isinstance(name, str) and name and not io.is_sequence(name):
            raise RenderError(
                write.name,
                f"file {name!r} has no frame number (#### or %04d), so {len(frames)} "
                "frames would overwrite one file: add #### to the name or render one frame",
            )


def write_frame(
    graph: Graph,
    write: Node,
    frame: int,
    backend: str = "auto",
    cancel: Callable[[], bool] | None = None,
) -> str:
    """Render one Write node at one frame and write its file; returns the path. A frame
    written band by band (larger than the memory budget) asks ``cancel`` between passes."""
    ctx = context_for(graph, frame)
    values = write.values_at(frame)
    path = file_path(write, values, ctx)
    layers = _written_layers(values["channels"])
    from mattebox.engine import stream  # (it builds on this module)

    evaluator = Evaluator(graph, ctx, file_source_info)  # one evaluation for either path
    streamed = stream.write_if_too_large(graph, write, evaluator, values, path, backend, cancel)
    if streamed is not None:  # a frame larger than the memory budget, written band by band
        return streamed
    image = render(
        graph, write, frame, backend, use_cache=False, layers=layers, evaluator=evaluator
    )
    processor = _write_processor(write, values, path, ctx)
    try:
        pixels = _through(processor, image.pixels)
        extra = [
            (name, names, _through(processor, plane) if chans.is_colour_layer(names) else plane)
            for name, (names, plane) in image.planes.items()
        ]
    except color.ColorError as error:
        raise RenderError(write.name, f"colorspace: {error}") from None
    fmt = image.format
    try:
        io.write_image(
            path,
            pixels,
            image.data_window,
            (fmt.width, fmt.height),
            pixel_aspect=fmt.pixel_aspect,
            datatype=values["datatype"],
            compression=io.node_compression(path, values["compression"]),
            tiled=values["tiled"],
            layers=extra or None,
            multipart=values["multipart"],
        )
    except io.ImageIOError as error:
        raise RenderError(write.name, str(error)) from None
    return path


def _write_processor(write: Node, values: dict, path: str, ctx: Context):
    """The CPU processor from the working space to a Write's file colour space."""
    try:
        config = color.get_config(ctx.ocio_config)
        space = values["colorspace"]
        if space == "default":
            space = color.default_file_colorspace(config, path, values["datatype"])
        return color.cpu_processor(ctx.ocio_config, ctx.working_space, space)
    except color.ColorError as error:
        raise RenderError(write.name, f"colorspace: {error}") from None


def _written_layers(channels) -> str | tuple[str, ...]:
    """The layers a Write's ``channels`` asks for besides the main one (for render())."""
    if channels in ("rgba", "rgb", "alpha"):
        return ()
    if channels == "all":
        return "all"
    items = (channels,) if isinstance(channels, str) else tuple(channels)
    return tuple(item for item in items if item not in ("rgba", "rgb", "alpha"))


def writes_to_render(writes: Iterable[Node]) -> list[Node]:
    """The Write nodes of ``writes`` that render: disabled ones left out (as in Nuke);
    RenderError when none is left, for a node that is not a Write or one without a file."""
    writes = list(writes)
    if not writes:
        raise RenderError("script", "no Write node to render")
    enabled = [w for w in writes if w.type != "Write" or not w["disable"]]
    if not enabled:
        names = ", ".join(w.name for w in writes)
        raise RenderError("script", f"no Write node to render ({names}: disabled)")
    for write in enabled:
        if write.type != "Write":
            raise RenderError(write.name, "is not a Write node")
        if not write["file"]:
            raise RenderError(write.name, "file: no file given")
    return enabled


def execute(
    graph: Graph,
    writes: Iterable[Node],
    frames=None,
    backend: str = "auto",
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[str]:
    """Render Write nodes over ``frames`` (a list, a range text, or None for the script's
    range). ``progress(done, total, path)`` is called after each file. Returns the paths."""
    writes = writes_to_render(writes)
    if frames is None or isinstance(frames, str):
        frames = frames_from(frames, graph)
    elif not isinstance(frames, (FrameList, range)):
        frames = list(frames)  # (a FrameList or a range is iterated, never materialised)
    check_file_patterns(writes, frames)
    total = len(frames) * len(writes)
    written: list[str] = []
    for frame in frames:
        for write in writes:
            if cancel is not None and cancel():
                raise Cancelled()
            written.append(write_frame(graph, write, frame, backend, cancel))
            if progress is not None:
                progress(len(written), total, written[-1])
        _forget_sequence_frames(graph, frame)
    return written


def _forget_sequence_frames(graph: Graph, frame: int) -> None:
    """Drop the cached decodes of Reads of image sequences at ``frame``: rendering a range,
    no later frame reads them again, and kept they would fill the cache's whole budget.
    Reads of a single image stay cached for the next frame."""
    for node in graph.nodes.values():
        if node.type != "Read" or node.is_placeholder:
            continue
        if not io.is_sequence(str(node.values_at(frame)["file"])):
            continue
        try:
            _session.cache.forget(evaluate(graph, node, frame).hash)
        except RenderError:
            pass  # a Read that failed has nothing cached
