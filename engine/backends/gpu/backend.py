"""The GPU backend: plans run as wgpu compute passes, tile by tile, on one device.

Handles are :class:`GpuImage` (a storage buffer holding one window of RGBA f32 pixels,
row-major). A pool slot is one storage buffer; slots are recycled from tile to tile (the
queue runs tiles in order, so a slot can be reused by the next tile as soon as this one's
commands are recorded). A tile's passes are recorded into one command encoder and
submitted together (:meth:`GpuBackend.flush`, which ``engine/render.py`` calls at the end
of each tile); intermediates stay on the device and only what the executor asks for is
copied back. Transfers go through persistent mapped buffers filled and emptied by several
threads in row chunks (:mod:`transfer`; wgpu's ``queue.write_buffer`` and ``read_buffer``
are several times slower, ``../shared/FACTS.md``). Because a tile is submitted before the
next one's inputs are copied in, uploads of tile N+1 overlap the computation of tile N.
Plates, generated sources and the stored inputs of edited nodes stay on the device between
renders (:mod:`resident`), so a re-render after a parameter change uploads nothing.

Pass kinds: ``fused`` point chains become one generated shader calling each node's
``<module>_point``; ``area`` and ``resample`` nodes run their ``<module>_pixel`` (or, for
separable filters, ``<module>_vertical`` then ``<module>_horizontal`` through a scratch
buffer); ``color`` runs the node's OCIO processor translated to WGSL
(:mod:`ocio_shader`), or on the CPU where that is impossible; generated sources run
``<module>_source`` (:meth:`GpuBackend.source`). See ``docs/gpu.md``.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import wgpu

from mattebox.engine import color
from mattebox.engine.backends.base import Backend, node_inputs
from mattebox.engine.backends.gpu import shaders, transfer
from mattebox.engine.backends.gpu.device import AdapterInfo, GpuDevice, open_device
from mattebox.engine.backends.gpu.resident import DeviceCache
from mattebox.engine.backends.gpu.shaders import READ, WRITE, ShaderCompileError
from mattebox.engine.passes import (
    BYTES_PER_PIXEL,
    NodeEval,
    Pass,
    RenderError,
    node_context,
    ocio_processor,
)
from mattebox.nodes.spec import Context, Window
from mattebox.nodes.spec import get as get_spec

BUDGET_FRACTION = 0.6  # of device memory, for everything a render keeps on the device
CACHE_FRACTION = 0.25  # of that budget, for images kept between renders (resident.py)
SOFTWARE_CACHE = 512 << 20  # the same on a software adapter, whose memory is the RAM's
IN_FLIGHT = 2  # tiles alive at once (one computing, the next being uploaded)
ALIGN = 256  # buffer sizes are rounded up to this many bytes
STORAGE = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC | wgpu.BufferUsage.COPY_DST
EMPTY_WINDOW = Window(0, 0, 0, 0)


@dataclass(frozen=True)
class GpuImage:
    """A backend handle: ``buffer`` holds ``width`` × ``height`` RGBA f32 pixels."""

    buffer: Any
    width: int
    height: int

    @property
    def nbytes(self) -> int:
        return self.width * self.height * BYTES_PER_PIXEL


class GpuBackend(Backend):
    """Runs plans on one wgpu device (see the module docstring).

    Attributes
    ----------
    gpu : GpuDevice
        The device, its limits and memory.
    pipelines : shaders.PipelineCache
        Compiled passes by key.
    counters : collections.Counter
        ``dispatches``, ``submits`` (tiles handed to the queue), ``command_buffers``
        (submitted: a tile's passes, each transfer chunk), ``uploads``, ``downloads``,
        ``cpu_passes``, ``resident_hits`` and the byte counts since the backend was made
        (tests and benchmarks read them).
    resident : DeviceCache
        Images kept on the device between renders (``MATTEBOX_GPU_CACHE_MEMORY``).
    staging, readbacks : transfer.StagingRing, transfer.ReadbackPool
        The persistent upload and read-back buffers.
    lock : threading.RLock
        Held by ``engine/render.py`` for a whole plan: one render at a time per device.
    """

    name = "gpu"
    crop_inputs = True  # read and cached inputs come up one tile's part at a time
    displays = True  # the viewer's display step runs here (display.py)

    def __init__(self, info: AdapterInfo | None = None, gpu: GpuDevice | None = None):
        self.gpu = gpu or open_device(info)
        self.device = self.gpu.device
        self.pipelines = shaders.PipelineCache(self.device)
        self.counters: Counter = Counter()
        self.lock = threading.RLock()
        self._encoder = None
        self._keep: list = []  # objects the pending command buffers use
        # finished command buffers not yet submitted, each with the read-back chunks to
        # map once it is (a download is cut into chunks that are mapped one by one)
        self._segments: list[tuple[Any, list]] = []
        self._chunks: list = []  # read-back chunks recorded in the open encoder
        self._free_slots: list = []
        self.staging = transfer.StagingRing(self.device)
        self.readbacks = transfer.ReadbackPool(self.device)
        self.resident = DeviceCache(self.cache_budget)
        self._scratch = None
        self._ocio: dict[str, tuple[Any, str]] = {}
        self.display_unsupported: dict[tuple, str] = {}  # display programs that failed
        self._cpu = None
        self._zero = self._create(ALIGN)

    # -- budget ----------------------------------------------------------------------

    @property
    def adapter(self) -> AdapterInfo:
        return self.gpu.info

    def memory_budget(self) -> int:
        """Bytes a render may keep on the device: 60% of its memory, or
        ``MATTEBOX_GPU_MEMORY`` (MiB) when that is lower."""
        budget = int(self.gpu.memory * BUDGET_FRACTION)
        mib = os.environ.get("MATTEBOX_GPU_MEMORY")
        if mib:
            budget = min(budget, max(1, int(float(mib) * 2**20)))
        return budget

    def cache_budget(self) -> int:
        """Bytes of images kept on the device between renders: ``MATTEBOX_GPU_CACHE_MEMORY``
        (MiB; 0 turns the cache off), else a quarter of :meth:`memory_budget` (512 MiB at
        most on a software adapter, whose "device memory" is the RAM the RAM cache uses)."""
        mib = os.environ.get("MATTEBOX_GPU_CACHE_MEMORY")
        if mib:
            return max(0, int(float(mib) * 2**20))
        budget = int(self.memory_budget() * CACHE_FRACTION)
        return min(budget, SOFTWARE_CACHE) if self.gpu.info.software else budget

    def plan_options(self) -> dict:
        """What the planner needs to fit tiles to this device (``engine/render.py``)."""
        budget = self.memory_budget()
        return {
            "budget": max(1, budget // IN_FLIGHT),
            "max_buffer": min(self.gpu.max_binding, max(1, budget // IN_FLIGHT)),
            "max_binding": self.gpu.max_binding,
            "device_inputs": True,
            "store_all": False,
            "placement": self.placement,
            "backend": self.name,
        }

    def placement(self, kind: str, ev: NodeEval, ctx: Context) -> str:
        """``"cpu (why)"`` for a pass this device cannot run (an OCIO op it cannot
        translate), else ``""``."""
        if kind != "color":
            return ""
        try:
            _, reason = self._ocio_program(ocio_processor(ev, ctx))
        except RenderError:
            return ""  # the render reports it
        return f"cpu ({reason})" if reason else ""

    # -- the Backend protocol ----------------------------------------------------------

    def alloc(self, nbytes: int):
        """A pool slot: a storage buffer of at least ``nbytes`` (recycled when possible)."""
        size = _aligned(nbytes)
        fitting = [b for b in self._free_slots if size <= b.size <= 2 * size]
        if fitting:
            buffer = min(fitting, key=lambda b: b.size)
            self._free_slots.remove(buffer)
            return buffer
        return self._create(size)

    def release(self, slot) -> None:
        """Give a slot back after its tile's commands are recorded (it is reused next).
        Idle slots are kept up to one tile's budget, so the next frame allocates nothing."""
        self._free_slots.append(slot)
        total = sum(b.size for b in self._free_slots)
        while self._free_slots and total > self.memory_budget() // IN_FLIGHT:
            total -= self._free_slots.pop(0).size

    def view(self, slot, window: Window) -> GpuImage:
        return GpuImage(slot, window.width, window.height)

    def upload(self, pixels: np.ndarray) -> GpuImage:
        """A new device buffer holding host pixels (H×W×4 float32, any strides).

        The pixels go through the persistent staging ring in row chunks, each filled by
        several threads and copied by the GPU while the next is filled; the copies are
        submitted at once, ahead of the tile's passes (:class:`transfer.StagingRing`).
        """
        pixels = np.asarray(pixels)
        if pixels.dtype != np.float32:
            pixels = pixels.astype(np.float32)
        height, width = pixels.shape[:2]
        nbytes = height * width * BYTES_PER_PIXEL
        buffer = self._create(nbytes)
        if nbytes:
            self.counters["command_buffers"] += self.staging.upload(pixels, buffer)
        self.counters["uploads"] += 1
        self.counters["upload_bytes"] += nbytes
        return GpuImage(buffer, width, height)

    def download(self, handle: GpuImage, window: Window) -> np.ndarray:
        return self.download_later(handle, window)()

    def read_back_rows(self, source, row_bytes: int, height: int, download) -> None:
        """Record copies of ``height`` rows of ``row_bytes`` from the device buffer
        ``source`` into read-back buffers, one command buffer per row chunk, each chunk
        registered with ``download`` (its ``add(y0, y1, buffer)``). Holds no lock itself:
        the caller does, as for every recording."""
        rows = max(1, self.readbacks.chunk // max(1, row_bytes))
        for y0 in range(0, height, rows):
            y1 = min(height, y0 + rows)
            nbytes = (y1 - y0) * row_bytes
            buffer = self.readbacks.take(nbytes)
            self._record().copy_buffer_to_buffer(source, y0 * row_bytes, buffer, 0, nbytes)
            self._chunks.append((download, download.add(y0, y1, buffer)))
            self._cut()

    def download_later(
        self, handle: GpuImage, window: Window, copy: bool = True
    ) -> Callable[[], np.ndarray]:
        """Record copies of ``handle`` to read-back buffers, a command buffer per row
        chunk (so the first chunks can be copied out while later ones are in flight);
        calling the result waits for them (the pixels are always a copy of their own)."""
        shape = (window.height, window.width)
        if window.pixels == 0:
            return lambda: np.zeros((*shape, 4), np.float32)
        download = transfer.Download(self.readbacks, shape)
        self.read_back_rows(handle.buffer, window.width * BYTES_PER_PIXEL, window.height, download)
        self.counters["downloads"] += 1
        self.counters["download_bytes"] += window.pixels * BYTES_PER_PIXEL

        def result() -> np.ndarray:
            if any(chunk[3] is None for chunk in download.chunks):
                self.flush()
            return download.result()

        return result

    def resident_image(self, key: str, region: Window) -> tuple[GpuImage, Window] | None:
        """An image kept on the device under ``key`` covering ``region``, and its window."""
        found = self.resident.find(key, region)
        if found is not None:
            self.counters["resident_hits"] += 1
        return found

    def keep(self, key: str, window: Window, handle: GpuImage, copy: bool) -> None:
        """Keep ``handle`` on the device under ``key`` for later renders; ``copy`` when
        its buffer is a pool slot that later passes overwrite (the copy is recorded here,
        in order, and costs the device's bandwidth, not the bus)."""
        if window.empty or handle.nbytes > self.resident.budget:
            return
        if copy:
            own = GpuImage(self._create(handle.nbytes), handle.width, handle.height)
            self._record().copy_buffer_to_buffer(handle.buffer, 0, own.buffer, 0, own.nbytes)
            handle = own
        self.resident.put(key, window, handle)

    def forget_kept(self) -> None:
        """Drop every image kept between renders (Clear Cache)."""
        self.resident.clear()

    def flush(self) -> None:
        """Submit what is recorded, a command buffer at a time; read-back chunks start
        mapping as soon as theirs is submitted."""
        self._cut()
        if self._segments:
            self.counters["submits"] += 1
        for commands, chunks in self._segments:
            self.device.queue.submit([commands])
            self.counters["command_buffers"] += 1
            for download, chunk in chunks:
                download.map(chunk)
        self._segments = []
        self._keep = []

    def wait(self) -> None:
        """Submit what is recorded and block until the queue has run it (profiling);
        a read-back of a small buffer waits for the work submitted before it."""
        self.flush()
        self.device.queue.read_buffer(self._zero, 0, 4)

    def discard(self) -> None:
        """Forget what was recorded and not submitted (a render that stopped half-way)."""
        self._encoder = None
        self._keep = []
        for _, chunks in self._segments:
            for _, chunk in chunks:
                self.readbacks.give(chunk[2])
        for _, chunk in self._chunks:
            self.readbacks.give(chunk[2])
        self._segments = []
        self._chunks = []

    def run(self, step: Pass, inputs: list, output: GpuImage, ctx: Context) -> None:
        """Record ``step`` into the pending command encoder."""
        runner = getattr(self, f"_run_{step.kind}", None)
        if runner is None:
            raise RuntimeError(f"the GPU backend cannot run {step.kind!r} passes")
        runner(step, inputs, output, ctx)

    # -- pass kinds --------------------------------------------------------------------

    def _run_fused(self, step: Pass, inputs: list, output: GpuImage, ctx: Context) -> None:
        shape = tuple(
            (ev.spec.type_name, _program_name(ev), wires)
            for ev, wires in zip(step.nodes, step.wiring)
        )
        key = ("fused", len(inputs), shape)
        program = self.pipelines.get(key, lambda: _fused_program(step, len(inputs)))
        meta = [*_xywh(step.region)]
        for _, window in inputs:
            meta += _xywh(window)
        params: list[float] = []
        for ev in step.nodes:
            meta += [*ev.info.data_window.as_tuple(), len(params)]
            params += ev.params
        buffers = [(h.buffer, h.nbytes) for h, _ in inputs]
        self._dispatch(program, "main", params, meta, output, buffers, step.region)

    def _run_area(self, step: Pass, inputs: list, output: GpuImage, ctx: Context) -> None:
        ev = step.node
        spec = ev.spec
        nothing = (GpuImage(self._zero, 0, 0), EMPTY_WINDOW)
        wired = [found or nothing for found in node_inputs(step, inputs)] or [nothing]
        src, window = wired[0]
        extra = wired[1:]  # further inputs (a VectorBlur's motion plane): SRC1, SRC2...
        args = spec.kernel_args(ev.values, node_context(ev, ctx), window, step.region)
        source = shaders.node_wgsl(spec)
        name = shaders.stem(spec)
        region = step.region
        if spec.separable:
            self._run_separable(step, src, window, args, output)
            return
        if not shaders.has_function(source, f"{name}_pixel"):
            raise ShaderCompileError(
                f"{spec.type_name}: its WGSL has no {name}_pixel (a separable node "
                f"declares separable = True and gives {name}_vertical/{name}_horizontal)"
            )
        key = ("kernel", spec.type_name) + ((len(extra),) if extra else ())
        program = self.pipelines.get(key, lambda: _kernel_program(spec, len(extra)))
        src_window = ev.inputs[0].info.data_window if ev.inputs and ev.inputs[0] else None
        params, origin, src_origin = spec.gpu_kernel_params(
            ev.values, args, ev.info.data_window, src_window or ev.info.data_window
        )
        meta = [*_xywh(region), *_xywh(window), *_xywh(region), 0, *origin, *src_origin]
        if extra:  # their windows from M[20] on (window 5, 6...), after three unused ints
            meta += [0, 0, 0] + [v for _, at in extra for v in _xywh(at)]
        buffers = [(image.buffer, image.nbytes) for image, _ in [(src, window), *extra]]
        self._dispatch(program, "main", params, meta, output, buffers, region)

    _run_resample = _run_area

    def _run_separable(self, step: Pass, src: GpuImage, window: Window, args, output) -> None:
        spec = step.node.spec
        region = step.region
        radius = int(max(spec.halo(step.node.values)))
        program = self.pipelines.get(
            ("separable", spec.type_name), lambda: _separable_program(spec)
        )
        params = [float(v) for v in np.concatenate([np.ravel(a) for a in args])]
        span = region.width + 2 * radius
        rows = max(1, min(region.height, self.gpu.max_binding // (span * BYTES_PER_PIXEL)))
        scratch = self._scratch_buffer(span * rows * BYTES_PER_PIXEL)
        for y0 in range(region.y0, region.y1, rows):
            chunk = Window(region.x0, y0, region.x1, min(region.y1, y0 + rows))
            meta = [*_xywh(region), *_xywh(window), *_xywh(chunk), radius, 0, 0, 0, 0]
            buffers = [(src.buffer, src.nbytes), (scratch, span * chunk.height * BYTES_PER_PIXEL)]
            first = Window(chunk.x0, chunk.y0, chunk.x1 + 2 * radius, chunk.y1)
            self._dispatch(program, "first", params, meta, output, buffers, first)
            self._dispatch(program, "second", params, meta, output, buffers, chunk)

    def source(self, step: Pass, ctx: Context) -> GpuImage | None:
        """A generated source computed on the device by its ``<module>_source``, in a
        buffer of its own; None when the node has no WGSL source (the executor then
        uploads ``generate()``)."""
        spec = step.node.spec
        if not shaders.has_function(shaders.node_wgsl(spec), f"{shaders.stem(spec)}_source"):
            return None
        program = self.pipelines.get(("source", spec.type_name), lambda: _source_program(spec))
        region = step.region
        output = GpuImage(
            self._create(region.pixels * BYTES_PER_PIXEL), region.width, region.height
        )
        self._dispatch(program, "main", list(step.node.params), _xywh(region), output, [], region)
        return output

    def _run_color(self, step: Pass, inputs: list, output: GpuImage, ctx: Context) -> None:
        ev = step.node
        processor = ocio_processor(ev, ctx)
        program, _ = self._ocio_program(processor)
        if program is None:
            self._run_on_cpu(step, inputs, output, ctx)
            return
        src, window = inputs[0] if inputs else (GpuImage(self._zero, 0, 0), EMPTY_WINDOW)
        # Where alpha is 0, apply_cpu converts the colour only if the processor keeps
        # black black (engine/color.py); the shader does the same from this flag.
        keeps_black = color._keeps_black(color.cpu(processor))
        meta = [*_xywh(step.region), *_xywh(window)]
        buffers = [(src.buffer, src.nbytes)]
        data = program.extras.get("data")
        if data is not None:
            buffers.append((data, data.size))
        params = [float(keeps_black), 0.0]
        self._dispatch(program, "main", params, meta, output, buffers, step.region)

    def apply_processor(self, processor, pixels: np.ndarray) -> np.ndarray:
        """An OCIO processor applied to pixels as stored, alpha kept (the viewer's display
        transform; ``color.apply_cpu(..., unpremultiply=False)`` on the CPU).

        Raises RuntimeError where the processor cannot run on the GPU (the viewer then
        uses the CPU).
        """
        pixels = np.ascontiguousarray(pixels, np.float32)
        height, width = pixels.shape[:2]
        out = np.empty_like(pixels)
        if pixels.size == 0:
            return out
        with self.lock:
            program, reason = self._ocio_program(processor)
            if program is None:
                raise RuntimeError(f"this OCIO processor does not run on the GPU: {reason}")
            data = program.extras.get("data")
            rows = max(1, min(height, self.gpu.max_binding // (width * BYTES_PER_PIXEL)))
            for y in range(0, height, rows):
                block = pixels[y : y + rows]
                window = Window(0, 0, width, block.shape[0])
                src = self.upload(block)
                dst = GpuImage(self._create(src.nbytes), width, block.shape[0])
                buffers = [(src.buffer, src.nbytes)] + (
                    [(data, data.size)] if data is not None else []
                )
                meta = [*_xywh(window), *_xywh(window)]
                self._dispatch(program, "main", [1.0, 1.0], meta, dst, buffers, window)
                out[y : y + rows] = self.download(dst, window)
        return out

    # -- the viewer's display step (display.py) -----------------------------------------

    def hold(self, key: str, window: Window, handle: GpuImage, copy: bool) -> GpuImage:
        """A render's result left on the device for the viewer: ``handle`` itself, or
        (``copy``: a pool slot the next render overwrites) a device copy of it, recorded
        in order. It is also kept under ``key`` (the node's hash) where the device cache
        has room, so that changing only the display (exposure, view) renders nothing."""
        if copy:
            own = GpuImage(self._create(handle.nbytes), handle.width, handle.height)
            self._record().copy_buffer_to_buffer(handle.buffer, 0, own.buffer, 0, own.nbytes)
            handle = own
        if not window.empty and handle.nbytes <= self.resident.budget:
            self.resident.put(key, window, handle)
        return handle

    def display(
        self,
        handle: GpuImage,
        window: Window,
        box: Window,
        factor: int,
        processor,
        exposure: float,
        gamma: float,
        channel: str,
        out: np.ndarray,
    ) -> np.ndarray:
        """The viewer's display step on the device: ``box`` of the linear image
        ``handle`` (covering ``window``) box-averaged by ``factor``, exposed, through
        ``processor`` (None for alpha as grey), gamma, channel solo, packed to 8 bits and
        downloaded into ``out`` (uint8 H x W x 4, alpha 255), which it returns.

        Raises :class:`~mattebox.engine.backends.base.DisplayUnsupported` where the
        processor has no WGSL form.
        """
        from mattebox.engine.backends.gpu import display

        with self.lock:
            packed = display.record(
                self, handle, window, box, factor, processor, exposure, gamma, channel
            )
            download = display.download_into(self, packed, out)
            self.flush()
            self.counters["displays"] += 1
            self.counters["display_bytes"] += packed.nbytes
            return download.result()

    def pixel(self, handle: GpuImage, x: int, y: int) -> np.ndarray:
        """The four floats of pixel ``(x, y)`` of ``handle`` (coordinates in its buffer,
        origin its window's corner), read back alone (the viewer's probe)."""
        with self.lock:
            buffer = self.readbacks.take(BYTES_PER_PIXEL)
            offset = (y * handle.width + x) * BYTES_PER_PIXEL
            self._record().copy_buffer_to_buffer(handle.buffer, offset, buffer, 0, BYTES_PER_PIXEL)
            self.flush()
            buffer.map_sync(wgpu.MapMode.READ, 0, BYTES_PER_PIXEL)
            values = np.frombuffer(buffer.read_mapped(0, BYTES_PER_PIXEL), np.float32).copy()
            buffer.unmap()
            self.readbacks.give(buffer)
            self.counters["pixel_reads"] += 1
            return values

    def _ocio_program(self, processor) -> tuple[Any, str]:
        """The compiled program of an OCIO processor, or ``(None, why not)``."""
        key = processor.getCacheID()
        found = self._ocio.get(key)
        if found is None:
            from mattebox.engine.backends.gpu import ocio_shader

            try:
                ocio = ocio_shader.build_ocio_program(processor, prefix="ocio")
                found = (self.pipelines.get(("ocio", key), lambda: self._ocio_build(ocio)), "")
            except (ocio_shader.OcioTranslationError, ShaderCompileError) as error:
                found = (None, str(error).splitlines()[0])
            self._ocio[key] = found
        return found

    def _ocio_build(self, ocio) -> tuple:
        source = "\n".join(
            [
                shaders.library("common"),
                shaders.library("input", index=0, binding=3, window=1, name="SRC"),
                ocio.source,
                ocio.binding_declarations(0, 4),
                shaders.library(
                    "ocio", function=ocio.premult_function_name, straight=ocio.function_name
                ),
            ]
        )
        bindings = [READ, READ, WRITE, READ]
        extras = {}
        if ocio.data_buffer is not None:
            bindings.append(READ)
            extras["data"] = self.device.create_buffer_with_data(
                data=_padded(ocio.data), usage=wgpu.BufferUsage.STORAGE
            )
        return source, ("main",), bindings, extras

    def _run_on_cpu(self, step: Pass, inputs: list, output: GpuImage, ctx: Context) -> None:
        """A pass this device cannot run: its inputs come back, the CPU computes it, the
        result goes up again (the plan marks such passes ``on cpu``)."""
        if self._cpu is None:
            from mattebox.engine.backends.cpu.backend import CpuBackend

            self._cpu = CpuBackend()
        host = [(self.download(handle, window), window) for handle, window in inputs]
        pixels = np.zeros((step.region.height, step.region.width, 4), np.float32)
        self._cpu.run(step, host, pixels, ctx)
        self._write(output, pixels)
        self.counters["cpu_passes"] += 1

    # -- recording ---------------------------------------------------------------------

    def _record(self):
        if self._encoder is None:
            self._encoder = self.device.create_command_encoder(label="mattebox tile")
        return self._encoder

    def _cut(self) -> None:
        """End the open command buffer (it is submitted at the next flush)."""
        if self._encoder is not None:
            self._segments.append((self._encoder.finish(), self._chunks))
            self._encoder = None
            self._chunks = []

    def _dispatch(
        self, program, entry: str, params, meta, output: GpuImage, buffers, grid: Window
    ) -> None:
        """One compute dispatch over ``grid``'s size: P, M, OUT, then ``buffers``."""
        p = self.device.create_buffer_with_data(
            data=_padded(np.asarray(params or [0.0], np.float32)), usage=wgpu.BufferUsage.STORAGE
        )
        m = self.device.create_buffer_with_data(
            data=_padded(np.asarray(meta, np.int32)), usage=wgpu.BufferUsage.STORAGE
        )
        resources = [(p, p.size), (m, m.size), (output.buffer, output.nbytes), *buffers]
        entries = []
        for index, (buffer, size) in enumerate(resources[: len(program.bindings)]):
            if size <= 0:
                buffer, size = self._zero, self._zero.size
            entries.append(
                {
                    "binding": index,
                    "resource": {"buffer": buffer, "offset": 0, "size": _aligned(size, 4)},
                }
            )
        group = self.device.create_bind_group(layout=program.layout, entries=entries)
        compute = self._record().begin_compute_pass()
        compute.set_pipeline(program.pipelines[entry])
        compute.set_bind_group(0, group)
        wx, wy = shaders.WORKGROUP
        compute.dispatch_workgroups(-(-grid.width // wx), -(-grid.height // wy), 1)
        compute.end()
        self._keep += [p, m, group]
        self.counters["dispatches"] += 1

    def _write(self, output: GpuImage, pixels: np.ndarray) -> None:
        """Copy host pixels into a device image (through a buffer mapped at creation)."""
        staged = self.upload(pixels)
        nbytes = min(staged.nbytes, output.nbytes)
        if nbytes:
            self._record().copy_buffer_to_buffer(staged.buffer, 0, output.buffer, 0, nbytes)
        self._keep.append(staged.buffer)

    # -- buffers -----------------------------------------------------------------------

    def _create(self, size: int):
        return self.device.create_buffer(size=_aligned(size), usage=STORAGE)

    def _scratch_buffer(self, nbytes: int):
        if self._scratch is None or self._scratch.size < nbytes:
            self._scratch = self._create(nbytes)
        return self._scratch


# --------------------------------------------------------------------------- programs


def _fused_program(step: Pass, n_buffers: int) -> tuple:
    """WGSL of a fused point chain: each node's ``<module>_point`` in ``step.nodes`` order,
    wired as ``step.wiring`` says, each masked to its own data window."""
    parts = [shaders.library("common")]
    for b in range(n_buffers):
        parts.append(shaders.library("input", index=b, binding=3 + b, window=1 + b, name=f"B{b}"))
    included: set = set()
    body = [f"    let b{b} = mb_fetch_B{b}(x, y);" for b in range(n_buffers)]
    for index, (ev, wires) in enumerate(zip(step.nodes, step.wiring)):
        spec = ev.spec
        program = spec.point_program(ev.values)
        function = program.name if program else f"{shaders.stem(spec)}_point"
        source = shaders.node_wgsl(spec)
        if spec not in included:
            if program is None and not shaders.has_function(source, function):
                raise ShaderCompileError(f"{spec.type_name}: its WGSL has no fn {function}")
            for used in (*(get_spec(name) for name in spec.wgsl_uses), spec):
                if used not in included:  # each file once, what it calls before it
                    included.add(used)
                    parts.append(shaders.node_wgsl(used))
        if program is not None and program.name not in included:
            included.add(program.name)
            parts.append(program.wgsl)
        wires = program.wired(wires) if program else wires
        args = [{"buf": f"b{at}", "node": f"n{at}"}.get(kind, "zero") for kind, at in wires]
        if program is not None:  # a generated function takes the pixel's position
            args += ["f32(x)", "f32(y)"]
        call = f"{function}({', '.join(args + [f'mb_node_params({index}u)'])})"
        body += [
            f"    var n{index} = zero;",
            f"    if (mb_node_on({index}u, x, y)) {{ n{index} = {call}; }}",
        ]
    nodes_at = 4 * (1 + n_buffers)
    parts.append(
        shaders.library(
            "fused", nodes=nodes_at, body="\n".join(body), result=f"n{len(step.nodes) - 1}"
        )
    )
    bindings = [READ, READ, WRITE] + [READ] * n_buffers
    return "\n".join(parts), ("main",), bindings, {}


def _program_name(ev) -> str | None:
    """The generated point function a record runs, where its node has one."""
    program = ev.spec.point_program(ev.values)
    return program.name if program else None


def _kernel_program(spec, extra: int = 0) -> tuple:
    """WGSL of an area or resample kernel: the node's ``<module>_pixel`` reading SRC
    through its tile, and ``extra`` further inputs as ``mb_fetch_SRC1(x, y)``... in
    image coordinates (their windows in M from window 5 on)."""
    source = shaders.node_wgsl(spec)
    function = f"{shaders.stem(spec)}_pixel"
    parts = [
        shaders.library("common"),
        shaders.library("input", index=0, binding=3, window=1, name="SRC"),
        *(
            shaders.library("input", index=k, binding=3 + k, window=4 + k, name=f"SRC{k}")
            for k in range(1, extra + 1)
        ),
        source,
        shaders.library("kernel", function=function, **shaders.tile_constructor(source, function)),
    ]
    return "\n".join(parts), ("main",), [READ, READ, WRITE, READ] + [READ] * extra, {}


def _separable_program(spec) -> tuple:
    source = shaders.node_wgsl(spec)
    name = shaders.stem(spec)
    tile = shaders.tile_constructor(source, f"{name}_vertical")
    parts = [
        shaders.library("common"),
        shaders.library("input", index=0, binding=3, window=1, name="SRC"),
        source,
        shaders.library(
            "separable",
            first=f"{name}_vertical",
            second=f"{name}_horizontal",
            tmp_index=f"{name}_tmp_index",
            **tile,
        ),
    ]
    return "\n".join(parts), ("first", "second"), [READ, READ, WRITE, READ, WRITE], {}


def _source_program(spec) -> tuple:
    parts = [
        shaders.library("common"),
        shaders.node_wgsl(spec),
        shaders.library("source", function=f"{shaders.stem(spec)}_source"),
    ]
    return "\n".join(parts), ("main",), [READ, READ, WRITE], {}


# --------------------------------------------------------------------------- helpers


def _xywh(window: Window) -> list[int]:
    return [window.x0, window.y0, window.width, window.height]


def _aligned(nbytes: int, to: int = ALIGN) -> int:
    return max(to, -(-int(nbytes) // to) * to)


def _padded(array: np.ndarray) -> np.ndarray:
    """At least 16 bytes, a multiple of 4 (storage bindings cannot be empty)."""
    array = np.ascontiguousarray(array).ravel()
    if array.nbytes >= 16:
        return array
    return np.concatenate([array, np.zeros(4, array.dtype)])
