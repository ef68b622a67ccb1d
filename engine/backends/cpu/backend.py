"""The CPU backend: numba kernels, parallel over rows, releasing the GIL."""

from __future__ import annotations

import sys

import numpy as np

from mattebox.engine import color
from mattebox.engine.backends.base import Backend, node_inputs
from mattebox.engine.backends.cpu import compiler
from mattebox.engine.passes import Pass, node_context, ocio_processor
from mattebox.nodes.spec import Context, Window


class CpuBackend(Backend):
    """Runs plans on the CPU with numba (``parallel=True``, ``nogil=True``, ``cache=True``)."""

    name = "cpu"

    def alloc(self, nbytes: int) -> np.ndarray:
        return np.empty(max(nbytes // 4, 4), np.float32)

    def view(self, slot: np.ndarray, window: Window) -> np.ndarray:
        size = window.pixels * 4
        return slot[:size].reshape(window.height, window.width, 4)

    def upload(self, pixels: np.ndarray) -> np.ndarray:
        return pixels

    def download(self, handle: np.ndarray, window: Window) -> np.ndarray:
        return handle

    def run(self, step: Pass, inputs: list, output: np.ndarray, ctx: Context) -> None:
        runner = getattr(self, f"_run_{step.kind}")
        runner(step, inputs, output, ctx)

    # -- pass kinds ---------------------------------------------------------------------

    def _run_fused(self, step: Pass, inputs: list, output: np.ndarray, ctx: Context) -> None:
        members = []
        for ev, wiring in zip(step.nodes, step.wiring):
            program = ev.spec.point_program(ev.values)
            if program is not None:  # generated from the values: it takes x and y too
                module = compiler.generated_module(program.name, program.python)
                wiring = program.wired(wiring)
                members.append((module.__name__, program.name, wiring, len(ev.params), True))
                continue
            f = ev.spec.cpu_point_for(ev.values)
            module_name = sys.modules[f.__module__].__name__
            members.append((module_name, f.__name__, wiring, len(ev.params), False))
        members = tuple(members)
        region = step.region
        covers = tuple(w.contains(region) for _, w in inputs) + tuple(
            ev.info.data_window.contains(region) for ev in step.nodes
        )
        kernel = compiler.fused_kernel((len(inputs), members, covers))
        arrays = [np.ascontiguousarray(a) for a, _ in inputs]
        origins = np.array([[w.x0, w.y0] for _, w in inputs] or [[0, 0]], np.int64)
        params = np.array([v for ev in step.nodes for v in ev.params] or [0.0], np.float32)
        offsets = np.cumsum([0] + [len(ev.params) for ev in step.nodes]).astype(np.int64)
        windows = np.array([ev.info.data_window.as_tuple() for ev in step.nodes], np.int64)
        x0, y0 = step.region.x0, step.region.y0
        compiler.run_in_bands(
            lambda j0, j1: kernel(
                output, x0, y0, j0, j1, *arrays, origins, params, offsets, windows
            ),
            output.shape[0],
        )

    def _run_area(self, step: Pass, inputs: list, output: np.ndarray, ctx: Context) -> None:
        ev = step.node
        kernel = compiler.compiled(ev.spec.cpu_kernel)
        nothing = (np.zeros((1, 1, 4), np.float32), Window(0, 0, 1, 1))
        wired = [found or nothing for found in node_inputs(step, inputs)] or [nothing]
        src, window = wired[0]
        extra = []  # further inputs (a VectorBlur's motion plane): buffer, x0, y0 each
        for array, at in wired[1:]:
            extra += [np.ascontiguousarray(array), at.x0, at.y0]
        args = ev.spec.kernel_args(ev.values, node_context(ev, ctx), window, step.region)
        kernel(
            np.ascontiguousarray(src),
            window.x0,
            window.y0,
            output,
            step.region.x0,
            step.region.y0,
            *extra,
            *args,
        )

    _run_resample = _run_area

    def source(self, step: Pass, ctx: Context) -> None:
        """None: the executor runs the node's ``generate()``, with the ``@kernel`` functions
        of its module compiled first, so a generator may call a numba kernel (Noise)."""
        compiler.prepare_module(sys.modules[step.node.spec.__module__])

    def _run_source(self, step: Pass, inputs: list, output: np.ndarray, ctx: Context) -> None:
        ev = step.node
        output[...] = ev.spec.generate(ev.values, step.region, ctx)

    def _run_color(self, step: Pass, inputs: list, output: np.ndarray, ctx: Context) -> None:
        ev = step.node
        output[...] = 0.0
        if not inputs:
            return
        src, window = inputs[0]
        have = window.intersect(step.region)
        if have.empty:
            return
        region = step.region
        block = src[
            have.y0 - window.y0 : have.y1 - window.y0, have.x0 - window.x0 : have.x1 - window.x0
        ]
        processor = color.cpu(ocio_processor(ev, ctx))
        output[
            have.y0 - region.y0 : have.y1 - region.y0, have.x0 - region.x0 : have.x1 - region.x0
        ] = color.apply_cpu(processor, np.ascontiguousarray(block))
