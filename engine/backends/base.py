"""The interface every backend implements; the executor in ``engine/render.py`` drives it.

Buffers are backend handles: numpy arrays on the CPU, device buffers on the GPU. The
executor allocates pool slots, views windows of them, uploads sources, runs passes and
downloads the result; intermediates never leave the backend between passes.

A backend with memory of its own (the GPU) may also have, and the executor then uses:
``plan_options()`` (budget, largest buffer, ... for the planner), ``crop_inputs`` (give it
only each tile's part of read and cached images), ``source(step, ctx)`` (a generated
source made on the device, or None), ``download_later(handle, window)`` (a callable
giving the pixels once computed), ``release(slot)`` and ``flush()`` at the end of a tile,
``discard()`` after a render that stopped half-way, and ``lock`` (held for a whole plan).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from mattebox.engine.plan import Pass
from mattebox.nodes.spec import Context, Window


class Backend(Protocol):
    """A place to run passes: the CPU through numba, a GPU through wgpu."""

    name: str

    def alloc(self, nbytes: int) -> Any:
        """A pool slot of at least ``nbytes``."""

    def view(self, slot: Any, window: Window) -> Any:
        """A handle to ``window``-sized pixels at the start of ``slot``."""

    def upload(self, pixels: np.ndarray) -> Any:
        """A handle holding host pixels (H×W×4 float32)."""

    def download(self, handle: Any, window: Window) -> np.ndarray:
        """Host pixels of a handle (H×W×4 float32)."""

    def run(self, step: Pass, inputs: list[tuple[Any, Window]], output: Any, ctx: Context) -> None:
        """Compute ``step.region`` of ``step`` into ``output`` from its input buffers."""
