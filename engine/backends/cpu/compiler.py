"""Compiling node kernels with numba, and generating fused point-op kernels.

Node modules hold plain Python; :func:`prepare_module` compiles the functions they mark
with ``@kernel`` (``prange`` becomes numba's). A chain of point ops becomes one kernel whose
source is generated, written to the kernel cache folder and imported, so numba's on-disk
cache (``cache=True``) keeps it between sessions: the second time a comp is opened its
kernels load in milliseconds instead of compiling for seconds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import itertools
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import numba

_lock = threading.RLock()
_prepared: set[str] = set()
# module -> the modules its imported kernel helpers come from (nodes/kernel_math.py...):
# their source enters a fused kernel's name, since numba's cache sees only the file it
# compiles and would keep a fused kernel built with a helper since edited
_helper_modules: dict[str, set[str]] = {}
_fused: dict[tuple, object] = {}
JIT_OPTIONS = {"nogil": True, "cache": True, "error_model": "numpy"}


def cache_dir() -> Path:
    """Folder of generated kernels: ``$MATTEBOX_CACHE_DIR`` or ``~/.cache/mattebox``."""
    root = os.environ.get("MATTEBOX_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mattebox"
    )
    path = Path(root) / "kernels"
    path.mkdir(parents=True, exist_ok=True)
    return path


def prepare_module(module: ModuleType) -> None:
    """Compile (lazily, on first call) every ``@kernel`` function of a node module; helpers
    it imports from another module (:mod:`mattebox.nodes.kernel_math`) are compiled there."""
    with _lock:
        if module.__name__ in _prepared:
            return
        if hasattr(module, "prange"):
            module.prange = numba.prange
        for name, value in list(vars(module).items()):
            # a helper imported after its module was prepared is already a dispatcher
            function = getattr(value, "py_func", value)
            marks = getattr(function, "__mattebox_kernel__", None)
            if marks is None or not inspect.isfunction(function):
                continue
            if function.__module__ != module.__name__:  # a kernel helper from elsewhere
                home = sys.modules[function.__module__]
                prepare_module(home)
                _helper_modules.setdefault(module.__name__, set()).add(home.__name__)
                setattr(module, name, getattr(home, function.__name__))
                continue
            options = dict(JIT_OPTIONS, parallel=marks["parallel"])
            if not marks["parallel"]:
                # Point functions and their helpers are inlined into the fused kernel before
                # LLVM sees it: a call left in the pixel loop stops it from vectorising.
                options["inline"] = "always"
            jitted = numba.njit(**options)(value)
            setattr(module, name, jitted)
        _prepared.add(module.__name__)


def compiled(func):
    """The compiled version of a ``@kernel`` function declared in a node module."""
    module = sys.modules[func.__module__]
    prepare_module(module)
    return getattr(module, func.__name__)


def with_helper_modules(modules: list[str]) -> set[str]:
    """``modules`` and, transitively, the modules their imported kernel helpers come
    from (known once :func:`prepare_module` has run on them)."""
    found, todo = set(modules), list(modules)
    while todo:
        for home in _helper_modules.get(todo.pop(), ()):
            if home not in found:
                found.add(home)
                todo.append(home)
    return found


def _module_digest(modules: list[str]) -> str:
    digest = hashlib.sha1()
    for name in sorted(with_helper_modules(modules)):
        digest.update(Path(sys.modules[name].__file__).read_bytes())
    return digest.hexdigest()[:12]


def fused_kernel(shape: tuple) -> object:
    """The compiled kernel for a fused group.

    ``shape`` is ``(n_buffers, ((module, function, wiring, n_params, xy), ...),
    covers)``, wiring as in :class:`mattebox.engine.plan.Pass`, ``xy`` true for a
    function that takes the pixel's x and y before its parameters; ``covers`` has one flag per buffer
    then per node, true where that buffer or node's data window holds the whole region, so
    the kernel reads it without bounds checks (the common case, and one that vectorises).
    The kernel's arguments are ``(out, ox, oy, j0, j1, b0..bN-1, origins, params, offsets,
    windows)``; it computes rows ``j0 <= j < j1`` of ``out`` and releases the GIL, so bands
    of rows run on threads (:func:`run_in_bands`). It is not a numba ``prange`` loop:
    numba's parallel lowering left the pixel loop of some chains scalar (a Grade with
    gamma then a matrix: 4.5 times the CPU time of the same loop compiled serially).
    """
    with _lock:
        if shape in _fused:
            return _fused[shape]
        n_buffers, members, covers = shape
        for module_name, *_ in members:
            prepare_module(sys.modules[module_name])
        source = _fused_source(n_buffers, members, covers)
        digest = hashlib.sha1(source.encode()).hexdigest()[:16]
        digest += _module_digest([m for m, *_ in members] + [__name__])
        path = cache_dir() / f"fused_{digest}.py"
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(source)
            os.replace(tmp, path)
        spec = importlib.util.spec_from_file_location(f"mattebox_fused_{digest}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _fused[shape] = module.kernel
        return module.kernel


def generated_module(name: str, source: str) -> ModuleType:
    """A module of generated kernel source (an Expression node's formulas), written to
    the kernel cache folder and imported once as ``mattebox_generated_<name>``, so that
    numba's on-disk cache keeps what it compiles between sessions like fused kernels."""
    module_name = f"mattebox_generated_{name}"
    with _lock:
        module = sys.modules.get(module_name)
        if module is not None:
            return module
        path = cache_dir() / f"{module_name}.py"
        if not path.exists() or path.read_text() != source:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(source)
            os.replace(tmp, path)
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module


_pool: tuple[tuple[int, int], ThreadPoolExecutor] | None = None


def run_in_bands(kernel, height: int, *args) -> None:
    """Run ``kernel(j0, j1)`` over bands of ``height`` rows on numba's number of threads."""
    global _pool
    threads = numba.get_num_threads()
    bands = min(height, threads * 4)
    if bands <= 1 or threads == 1:
        kernel(0, height)
        return
    with _lock:
        # a new pool for a new thread count, and in a forked child (the parent's threads
        # do not exist there)
        if _pool is None or _pool[0] != (threads, os.getpid()):
            executor = ThreadPoolExecutor(threads, thread_name_prefix="mattebox-cpu")
            _pool = ((threads, os.getpid()), executor)
        pool = _pool[1]
    edges = [height * k // bands for k in range(bands + 1)]
    jobs = [pool.submit(kernel, a, b) for a, b in itertools.pairwise(edges) if b > a]
    for job in jobs:
        job.result()


def _fused_source(n_buffers: int, members: tuple, covers: tuple) -> str:
    """The kernel's source: a loop over rows ``j0 <= j < j1`` and one over pixels.

    Written so that LLVM vectorises the pixel loop over whole rows: each node's parameters
    are unpacked into a tuple before the loops (values, so they cannot alias the output and
    branches on them are loop-invariant), and covering buffers and the output are read and
    written as flat rows.
    """
    buffers = ", ".join(f"b{i}" for i in range(n_buffers))
    lines = [
        "# Generated by mattebox.engine.backends.cpu.compiler: one fused point-op kernel.",
        "import numba",
        "import numpy as np",
    ]
    for index, (module_name, function, *_) in enumerate(members):
        lines.append(f"from {module_name} import {function} as f{index}")
    lines += [
        "",
        "@numba.njit(nogil=True, cache=True, error_model='numpy')",
        f"def kernel(out, ox, oy, j0, j1, {buffers + ', ' if buffers else ''}origins, params, offsets, windows):",
        "    h = out.shape[0]",
        "    w = out.shape[1]",
        "    zero = np.float32(0.0)",
    ]
    for index, (*_, n_params, _) in enumerate(members):
        items = "".join(f"params[o{index} + {k}], " for k in range(max(n_params, 1)))
        lines.append(f"    o{index} = offsets[{index}]")
        lines.append(f"    p{index} = ({items})")
    for b in range(n_buffers):
        lines.append(f"    ox{b} = origins[{b}, 0]")
        lines.append(f"    oy{b} = origins[{b}, 1]")
    lines += ["    for j in range(j0, j1):", "        y = oy + j", "        row = out[j].ravel()"]
    for b in range(n_buffers):
        if covers[b]:
            # sliced here so the pixel loop indexes from 0 (no negative-index checks)
            lines.append(f"        src{b} = b{b}[y - oy{b}].ravel()[4 * (ox - ox{b}) :]")
    lines += ["        for i in range(w):", "            x = ox + i"]
    body = []
    for b in range(n_buffers):
        if covers[b]:
            body += [
                f"r_b{b} = src{b}[4 * i]; g_b{b} = src{b}[4 * i + 1]",
                f"bl_b{b} = src{b}[4 * i + 2]; a_b{b} = src{b}[4 * i + 3]",
            ]
            continue
        body += [
            f"yy = y - origins[{b}, 1]",
            f"xx = x - origins[{b}, 0]",
            f"if yy >= 0 and yy < b{b}.shape[0] and xx >= 0 and xx < b{b}.shape[1]:",
            f"    r_b{b} = b{b}[yy, xx, 0]; g_b{b} = b{b}[yy, xx, 1]",
            f"    bl_b{b} = b{b}[yy, xx, 2]; a_b{b} = b{b}[yy, xx, 3]",
            "else:",
            f"    r_b{b} = zero; g_b{b} = zero; bl_b{b} = zero; a_b{b} = zero",
        ]
    for index, (_, _, wiring, _, xy) in enumerate(members):
        args = []
        for source, at in wiring:
            if source == "buf":
                args += [f"r_b{at}", f"g_b{at}", f"bl_b{at}", f"a_b{at}"]
            elif source == "node":
                args += [f"r_n{at}", f"g_n{at}", f"bl_n{at}", f"a_n{at}"]
            else:
                args += ["zero"] * 4
        if xy:
            args += ["np.float32(x)", "np.float32(y)"]
        n = f"n{index}"
        call = f"r_{n}, g_{n}, bl_{n}, a_{n} = f{index}({', '.join(args + [f'p{index}'])})"
        if covers[n_buffers + index]:
            body.append(call)
            continue
        body += [
            (
                f"if x >= windows[{index}, 0] and x < windows[{index}, 2] and "
                f"y >= windows[{index}, 1] and y < windows[{index}, 3]:"
            ),
            f"    {call}",
            "else:",
            f"    r_{n} = zero; g_{n} = zero; bl_{n} = zero; a_{n} = zero",
        ]
    last = f"n{len(members) - 1}"
    body += [
        f"row[4 * i] = r_{last}",
        f"row[4 * i + 1] = g_{last}",
        f"row[4 * i + 2] = bl_{last}",
        f"row[4 * i + 3] = a_{last}",
    ]
    lines += ["            " + line for line in body]
    return "\n".join(lines) + "\n"
