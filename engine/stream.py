"""Writing frames larger than memory: the streamed path of a Write.

A Write whose frame does not fit the memory budget (``MATTEBOX_CPU_MEMORY``, what
:func:`~mattebox.engine.plan.default_budget` gives) is rendered as the plan's tiles, one
after the other, each written to the file as soon as it is computed
(:class:`~mattebox.engine.io.StreamedWrite`), so the frame is never held whole:

- the planner counts every buffer of a tile against the budget (reads and generated
  sources too) and cuts bands in whole rows of the file's tiles
  (``PlanOptions.streamed``, ``row_multiple``);
- each Read decodes only its tile's region (tiled EXRs read only the tiles it touches),
  in chunks of rows on both decoder processes at once, converted to the working space
  chunk by chunk; nothing is cached;
- the Write's colour conversion runs chunk by chunk on the way to the file.

A frame that fits keeps the in-memory path (:func:`mattebox.engine.render.write_frame`),
unchanged. ``docs/architecture.md`` ("Images larger than memory") has the decisions.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import numpy as np

from mattebox.engine import color, io, plan, render
from mattebox.engine.backends import detect
from mattebox.engine.evaluate import Evaluator
from mattebox.engine.graph import Graph, Node
from mattebox.engine.passes import BYTES_PER_PIXEL, NodeEval, Pass, RenderError
from mattebox.engine.plan import Plan, PlanOptions, build, default_budget
from mattebox.nodes import channels as chans
from mattebox.nodes.limits import MAX_IMAGE_SIZE
from mattebox.nodes.spec import Context, Window

__all__ = ["check_size", "frame_bytes", "plan_streamed", "read_region", "write_if_too_large"]

#: Bytes of float32 pixels one decoder request reads while a Read's region is decoded
#: (rows at a time; both decoders work at once).
CHUNK_BYTES = 64 * 2**20

#: Chunks of a Read's region decoding or decoded at once (two decoders, and one ahead).
IN_FLIGHT = 3

#: Rows a band of a streamed frame is a whole multiple of (but the last): the tile
#: size of tiled files, and a multiple of every OpenEXR scanline block height.
ROWS = 64


def frame_bytes(root: NodeEval, region: Window) -> int:
    """Bytes an in-memory render of ``region`` of ``root`` holds whole: the result and
    the decoded image of every file it reads (each file once)."""
    reads: dict[str, int] = {}
    stack, seen = [root], set()
    while stack:
        ev = stack.pop()
        if id(ev) in seen:
            continue
        seen.add(id(ev))
        stack += [i for i in ev.inputs if i is not None]
        if ev.spec.file_source:
            reads[ev.hash] = ev.info.data_window.pixels
    return (region.pixels + sum(reads.values())) * BYTES_PER_PIXEL


def write_if_too_large(
    graph: Graph,
    write: Node,
    evaluator: Evaluator,
    values: dict,
    path: str,
    backend: str,
    cancel: Callable[[], bool] | None = None,
) -> str | None:
    """Write ``write``'s frame (that of ``evaluator``) band by band when it does not fit
    the memory budget and the file can be streamed (OpenEXR, the main layer alone, one
    part); returns the path written, or None when the in-memory path should write it.
    ``cancel()`` is asked before each pass (``render.Cancelled``: no file is left)."""
    if values["multipart"] or not io.can_stream(path):
        return None
    ctx = evaluator.ctx
    frame = ctx.frame
    root = evaluator.eval(write)
    region = root.info.data_window
    layers = render._written_layers(values["channels"])
    if region.empty or render._chosen_layers(root, layers, write):
        return None
    if frame_bytes(root, region) <= default_budget():
        return None
    check_size(root, region)
    target = render.backend_for(backend)
    plan_ = plan_streamed(root, frame, ctx, target)
    processor = render._write_processor(write, values, path, ctx)
    convert = None if processor.isNoOp() else (lambda px: color.apply_cpu(processor, px))
    fmt = root.info.format
    try:
        writer = io.StreamedWrite(
            path,
            region.as_tuple(),
            (fmt.width, fmt.height),
            pixel_aspect=fmt.pixel_aspect,
            datatype=values["datatype"],
            compression=io.node_compression(path, values["compression"]),
            tiled=values["tiled"],
            tile_size=ROWS,
        )
    except io.ImageIOError as error:
        raise RenderError(write.name, str(error)) from None
    try:
        with writer:
            for pixels, band in _tiles(plan_, target, ctx, cancel):
                writer.write(band.y0, pixels, convert)
    except io.ImageIOError as error:
        raise RenderError(write.name, str(error)) from None
    return path


def check_size(root: NodeEval, region: Window) -> None:
    """Refuse, before any work, a streamed frame wider or taller than
    :data:`~mattebox.nodes.limits.MAX_IMAGE_SIZE` (the largest format or generated
    image): memory no longer bounds it, and such a data window is a mistake (a Transform
    scaled by 1e4), not a plate; the error names the first node, producers first, whose
    data window is that large."""
    if max(region.width, region.height) <= MAX_IMAGE_SIZE:
        return

    def too_large(ev: NodeEval) -> bool:
        return max(ev.info.data_window.width, ev.info.data_window.height) > MAX_IMAGE_SIZE

    producers_first = plan._post_order(root, plan._inputs)
    culprit = next((ev for ev in producers_first if too_large(ev)), root)
    window = culprit.info.data_window
    raise RenderError(
        culprit.name,
        f"its image of {window.width}x{window.height} pixels is larger than "
        f"{MAX_IMAGE_SIZE} on a side, the largest image Mattebox writes",
    )


def plan_streamed(root: NodeEval, frame: float, ctx: Context, backend) -> Plan:
    """The plan of a streamed frame: bands of whole :data:`ROWS`, every buffer counted
    against the budget (a device's, but never more than the host's), nothing cached, the
    result never held whole."""
    fit = dict(backend.plan_options())
    fit.pop("store_all", None)
    # a device's tiles must fit its memory and, on their way to the file, the host's
    budget = min(fit.pop("budget", 0) or default_budget(), default_budget())
    options = PlanOptions(budget=budget, streamed=True, row_multiple=ROWS, **fit)
    return build(root, frame, root.info.data_window, ctx, options)


def _tiles(plan_: Plan, backend, ctx: Context, cancel=None):
    """``(pixels, band)`` of each tile of ``plan_`` in order, computed on ``backend`` (a
    GPU that fails hands the tile and the rest to the CPU, as a render does)."""
    for tile in plan_.tiles:
        try:
            with backend.lock:
                pixels = render._run_tile(tile, backend, ctx, cancel, own=True, read=_reader(ctx))()
        except (RenderError, render.Cancelled):
            backend.discard()
            raise
        except Exception as error:  # a device lost or out of memory: go on on the CPU
            backend.discard()
            if backend.name == "cpu" or not render._fallback_allowed():
                raise
            render._gpu_warning(error)
            detect.mark_failed(backend.name, error)
            backend = detect.get("cpu")
            pixels = render._run_tile(tile, backend, ctx, cancel, own=True, read=_reader(ctx))()
        yield pixels, tile.region


def _reader(ctx: Context):
    """What a streamed tile's read passes use: the region of the pass, decoded when the
    pass runs (see :class:`RegionRead`)."""
    return lambda step: RegionRead(step, ctx)


class RegionRead:
    """The region of one read pass, decoded when asked for (``result()``), as the
    executor asks for a read's pixels."""

    def __init__(self, step: Pass, ctx: Context):
        self.step, self.ctx = step, ctx

    def result(self) -> tuple[np.ndarray, Window]:
        """The pass's pixels and the window they cover (decoded now)."""
        return read_region(self.step.node, self.step.region, self.ctx)


def read_region(ev: NodeEval, region: Window, ctx: Context) -> tuple[np.ndarray, Window]:
    """``region`` (inside the data window) of a Read's layer, decoded in chunks of rows
    on the decoder processes, two at once (and one ahead), each converted to the working
    space as it arrives and copied into the region's array; nothing is cached. A chunk
    starts at a multiple of its height, so a tiled file's tiles are decoded once, not
    once per chunk they straddle."""
    path = ev.extras["identity"][0]
    layer = ev.extras["layer"]
    out = np.empty((region.height, region.width, 4), np.float32)
    rows = max(ROWS, CHUNK_BYTES // max(1, region.width * BYTES_PER_PIXEL) // ROWS * ROWS)
    chunks = [
        Window(region.x0, max(y, region.y0), region.x1, min(y + rows, region.y1))
        for y in range(region.y0 // rows * rows, region.y1, rows)
    ]
    pending: collections.deque = collections.deque()  # a few chunks ahead, no more:
    try:  # each decoded chunk is memory until it is copied into ``out``
        for index, chunk in enumerate(chunks):
            while len(pending) < IN_FLIGHT and index + len(pending) < len(chunks):
                ahead = chunks[index + len(pending)]
                job = render._reader().submit(_read_chunk, ev, path, layer, ahead, ctx)
                pending.append(job)
            pixels = pending.popleft().result()
            out[chunk.y0 - region.y0 : chunk.y1 - region.y0] = pixels
            del pixels
    finally:
        for job in pending:
            job.cancel()
    return out, region


def _read_chunk(ev: NodeEval, path: str, layer: str, chunk: Window, ctx: Context) -> np.ndarray:
    """One chunk of a Read's region, decoded and converted as a whole read would be."""
    try:
        planes, windows, info = io.read_layers(path, [layer], chunk.as_tuple())
    except io.ImageIOError as error:
        raise RenderError(ev.name, str(error)) from None
    pixels = planes[layer]
    if Window(*windows[layer]) != chunk:  # the plan asked for pixels of the data window
        raise RenderError(ev.name, f"{path} changed while it was read")
    channels = dict(info.layers)[layer]
    if layer != chans.MAIN and len(channels) < 4:
        pixels[..., 3] = 1.0  # the opaque alpha slot of a layer of 1-3 channels
    if layer == chans.MAIN or chans.is_colour_layer(channels):
        pixels = render._to_working(ev, pixels, path, info.datatype, ctx)
    return pixels
