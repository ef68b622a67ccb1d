"""What node kernels import: a marker for compiled functions, ``prange``, float32 constants.

Kernels are plain Python. The CPU backend compiles every function marked with
:func:`kernel` (and swaps ``prange`` for numba's parallel range) the first time a node
module is used; with ``MATTEBOX_JIT=0`` they run as Python, which is slow but debuggable.
This module imports nothing from numba, so ``nodes`` stays free of backend code.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

import numpy as np

prange = range  # replaced by numba.prange in modules the CPU backend compiles

# float32 constants for kernels: numba types a literal 1.0 as float64, and one float64
# value turns the rest of a fused chain into float64 arithmetic (half as many lanes per
# vector instruction). ``ONE - a`` stays float32 where ``1.0 - a`` does not.
ZERO = np.float32(0.0)
ONE = np.float32(1.0)


def kernel(func: Callable | None = None, *, parallel: bool = False):
    """Mark a module-level function for compilation by the CPU backend.

    ``parallel=True`` for functions with a ``prange`` loop (area and resample kernels);
    point functions and their helpers are compiled inline into fused kernels.
    """

    def mark(f: Callable) -> Callable:
        f.__mattebox_kernel__ = {"parallel": parallel}
        return f

    return mark(func) if func is not None else mark


def wgsl_source(module_name: str) -> str:
    """The WGSL file beside a node module (``grade.py`` -> ``grade.wgsl``)."""
    package, _, stem = module_name.rpartition(".")
    return resources.files(package).joinpath(f"{stem}.wgsl").read_text(encoding="utf-8")
