"""The interface every backend implements; the executor in ``engine/render.py`` drives it.

Buffers are backend handles: numpy arrays on the CPU, device buffers on the GPU. The
executor allocates pool slots, views windows of them, uploads sources, runs passes and
downloads the result; intermediates never leave the backend between passes.

Every member the executor may use is declared here with the CPU's behaviour as its
default, so the contract reads in one place and the executor never probes a backend with
``hasattr``. A backend with memory of its own (the GPU) overrides the optional members:
:meth:`plan_options` (budget, largest buffer, ... for the planner), :attr:`crop_inputs`
(give it only each tile's part of read and cached images), :meth:`source` (a generated
source made on the device), :meth:`download_later` (pixels once computed),
:meth:`release` and :meth:`flush` at the end of a tile, :meth:`discard` after a render
that stopped half-way, :meth:`resident_image`, :meth:`keep` and :meth:`forget_kept` (images
kept on the device between renders), :meth:`wait` (a profiled render waits for each pass), :attr:`lock` (held for a whole plan) and :meth:`apply_processor`
(the viewer's display transform). A backend whose :attr:`displays` is true runs the
viewer's whole display step itself on a result it holds (:meth:`hold`, :meth:`display`,
:meth:`pixel`; ``docs/gpu.md``, "The viewer on the GPU").
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np

from mattebox.engine import color
from mattebox.engine.passes import Pass
from mattebox.nodes.spec import Context, Window


class DisplayUnsupported(RuntimeError):
    """A display step this backend cannot run (an OCIO processor with no shader form):
    the viewer displays the downloaded pixels on the CPU instead."""


class Backend:
    """A place to run passes: the CPU through numba, a GPU through wgpu."""

    name: str = ""
    #: Whether read and cached inputs are handed over one tile's part at a time.
    crop_inputs: bool = False
    #: Held by the executor for a whole plan (one render at a time per device).
    lock: Any = contextlib.nullcontext()
    #: Whether the viewer leaves results on the backend and displays them there
    #: (:meth:`hold`, :meth:`display`, :meth:`pixel`); the CPU displays host pixels.
    displays: bool = False

    # -- required ------------------------------------------------------------------------

    def alloc(self, nbytes: int) -> Any:
        """A pool slot of at least ``nbytes``."""
        raise NotImplementedError

    def view(self, slot: Any, window: Window) -> Any:
        """A handle to ``window``-sized pixels at the start of ``slot``."""
        raise NotImplementedError

    def upload(self, pixels: np.ndarray) -> Any:
        """A handle holding host pixels (H×W×4 float32)."""
        raise NotImplementedError

    def download(self, handle: Any, window: Window) -> np.ndarray:
        """Host pixels of a handle (H×W×4 float32)."""
        raise NotImplementedError

    def run(self, step: Pass, inputs: list[tuple[Any, Window]], output: Any, ctx: Context) -> None:
        """Compute ``step.region`` of ``step`` into ``output`` from its input buffers."""
        raise NotImplementedError

    # -- optional, with the CPU's behaviour ------------------------------------------------

    def plan_options(self) -> dict:
        """Planner options that fit tiles to this backend (``PlanOptions`` fields)."""
        return {}

    def source(self, step: Pass, ctx: Context) -> Any | None:
        """A generated source computed by the backend itself, or None (the executor then
        uploads the node's ``generate()``)."""
        return None

    def download_later(
        self, handle: Any, window: Window, copy: bool = True
    ) -> Callable[[], np.ndarray]:
        """A callable giving a handle's host pixels; ``copy`` when the handle's memory
        is reused afterwards (a pool slot) and the pixels must outlive it."""
        pixels = self.download(handle, window)
        pixels = pixels.copy() if copy else pixels
        return lambda: pixels

    def release(self, slot: Any) -> None:
        """A tile's pool slot is no longer needed (its commands are recorded)."""

    def flush(self) -> None:
        """Start what was recorded for a tile (a device computes it while the next tile
        is prepared)."""

    def discard(self) -> None:
        """Forget what was recorded for a render that stopped half-way."""

    def wait(self) -> None:
        """Run what was recorded and return when it has finished (a profiled render
        times each pass; the CPU has computed it already)."""

    def resident_image(self, key: str, region: Window) -> tuple[Any, Window] | None:
        """A handle the backend kept from an earlier render under ``key`` (a node's hash)
        whose window contains ``region``, with that window; None: upload or compute it.
        A device keeps plates and edited nodes' inputs (``docs/gpu.md``); the CPU has
        the RAM cache and keeps nothing here."""
        return None

    def keep(self, key: str, window: Window, handle: Any, copy: bool) -> None:
        """Keep a read, cached or generated input (``copy`` False: its buffer is never
        written again) or a stored result (``copy`` True: a pool slot) for later renders."""

    def forget_kept(self) -> None:
        """Drop everything :meth:`keep` holds (the RAM cache's ``clear`` calls this too)."""

    def hold(self, key: str, window: Window, handle: Any, copy: bool) -> Any:
        """A render's final result, left with the backend for :meth:`display` (``copy``:
        its memory is a pool slot that later renders reuse)."""
        return handle.copy() if copy else handle

    def display(
        self,
        handle: Any,
        window: Window,
        box: Window,
        factor: int,
        processor,
        exposure: float,
        gamma: float,
        channel: str,
        out: np.ndarray,
    ) -> np.ndarray:
        """The viewer's display step on a held result, into ``out`` (uint8 H×W×4);
        only a backend whose :attr:`displays` is true has one."""
        raise NotImplementedError(f"the {self.name} backend does not display results")

    def pixel(self, handle: Any, x: int, y: int) -> np.ndarray:
        """The four floats of pixel ``(x, y)`` of a held result (the viewer's probe)."""
        return np.array(handle[y, x], np.float32)

    def apply_processor(self, processor, pixels: np.ndarray) -> np.ndarray:
        """An OCIO processor applied to premultiplied pixels as stored, alpha kept (the
        viewer's display transform)."""
        return color.apply_cpu(color.cpu(processor), pixels, unpremultiply=False)


def node_inputs(step: Pass, inputs: list) -> list:
    """An area or resample pass's ``inputs`` per input of its node, in the node's order:
    the ``(handle, window)`` it reads, or None where it reads nothing (unconnected, or
    none of it needed). The first is the kernel's ``src``; an area kernel gets the others
    as extra buffers (a VectorBlur's motion plane). Passes planned without wiring give
    ``inputs`` as they are."""
    if not step.wiring:
        return list(inputs)
    return [inputs[at] if kind == "buf" else None for kind, at in step.wiring[-1]]
