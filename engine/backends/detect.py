"""Which backends exist here, and which one a render uses.

Order of preference: a real GPU, then the CPU (numba), then a software GPU adapter such as
lavapipe (correct, but slower than numba). ``--backend`` and ``MATTEBOX_BACKEND`` force one;
``MATTEBOX_GPU_ADAPTER`` (a part of an adapter's name) picks among several GPUs.

``available("gpu")`` is true wherever wgpu finds any adapter, lavapipe included, so the GPU
code is tested on machines without a GPU; ``choose("auto")`` takes the GPU only when it is
a real one. This module never imports wgpu: adapters are listed through
``engine/backends/gpu/device.py``, once per process.
"""

from __future__ import annotations

import os
import threading

BACKEND_NAMES = ("cpu", "gpu")
_lock = threading.RLock()
_instances: dict[str, object] = {}
_failed: dict[str, str] = {}
_adapters: list | None = None


def adapters() -> list:
    """Every wgpu adapter here (``device.AdapterInfo``), best first; [] without wgpu."""
    global _adapters
    with _lock:
        if _adapters is None:
            try:
                from mattebox.engine.backends.gpu import device
            except ImportError:  # wgpu not installed
                _adapters = []
            else:
                _adapters = sorted(device.list_adapters(), key=lambda a: a.rank())
        return list(_adapters)


def gpu_adapter():
    """The adapter the GPU backend uses: ``MATTEBOX_GPU_ADAPTER``'s match, else the best."""
    found = adapters()
    wanted = os.environ.get("MATTEBOX_GPU_ADAPTER", "").strip().lower()
    if wanted:
        found = [a for a in found if wanted in a.name.lower()] or found
    return found[0] if found else None


def available(name: str) -> bool:
    """Whether backend ``name`` can run here (the GPU: any adapter, software included)."""
    if name == "cpu":
        return True
    if name == "gpu":
        return gpu_adapter() is not None
    return False


def why_unavailable(name: str) -> str:
    """A one-line reason a backend cannot run ('' when it can)."""
    if available(name):
        return ""
    if name == "gpu":
        return "no GPU adapter: wgpu found none (install a GPU driver, or mesa-vulkan-drivers)"
    return f"backend {name!r} is not available"


def _real_gpu() -> bool:
    adapter = gpu_adapter()
    return adapter is not None and not adapter.software


def choose(requested: str = "auto") -> str:
    """The backend a render uses for ``requested`` (auto|gpu|cpu); env MATTEBOX_BACKEND.

    ``auto`` takes a real GPU when there is one, else the CPU: a software adapter is slower
    than numba, so it runs only when asked for by name.
    """
    requested = (requested or "auto").lower()
    if requested == "auto":
        requested = os.environ.get("MATTEBOX_BACKEND", "auto").lower() or "auto"
    if requested == "auto":
        return "gpu" if _real_gpu() else "cpu"
    if requested not in BACKEND_NAMES:
        raise ValueError(f"unknown backend {requested!r} (auto, gpu, cpu)")
    if not available(requested):
        raise ValueError(why_unavailable(requested))
    return requested


def get(requested: str = "auto"):
    """The backend object for ``requested`` (one per process; the GPU's holds the device).

    Raises whatever creating the GPU device raises (the renderer then falls back).
    """
    name = choose(requested)
    with _lock:
        if name not in _instances:
            if name == "gpu":
                from mattebox.engine.backends.gpu.backend import GpuBackend

                _instances[name] = GpuBackend(gpu_adapter())
            else:
                from mattebox.engine.backends.cpu.backend import CpuBackend

                _instances[name] = CpuBackend()
        return _instances[name]


def ranking() -> list[tuple[str, str]]:
    """``(backend, description)`` in order of preference: real GPUs, numba, software GPUs."""
    found = adapters()
    real = [("gpu", a.describe()) for a in found if not a.software]
    software = [("gpu", a.describe()) for a in found if a.software]
    return real + [("cpu", "numba on this CPU")] + software


def report() -> str:
    """What ``mattebox backends`` prints: the adapters and backends ranked, and the choice."""
    lines = ["backends, best first:"]
    used = gpu_adapter()
    for rank, (name, text) in enumerate(ranking(), 1):
        mark = ""
        if name == "gpu" and used is not None and text == used.describe():
            mark = "  <- the GPU backend's adapter"
        lines.append(f"  {rank}. {name:<4} {text}{mark}")
    if not available("gpu"):
        lines.append(f"  gpu: {why_unavailable('gpu')}")
    for name, why in _failed.items():
        lines.append(f"  {name} failed during a render this session: {why}")
    try:
        choice = choose("auto")
    except ValueError as error:
        choice = f"none ({error})"
    forced = os.environ.get("MATTEBOX_BACKEND")
    lines.append(f"choice: {choice}" + (f" (MATTEBOX_BACKEND={forced})" if forced else ""))
    return "\n".join(lines)


def mark_failed(name: str, error: BaseException) -> None:
    """Remember that a backend failed at run time; its device is dropped, so the next
    render asks for a new one (a lost device does not come back)."""
    text = f"{type(error).__name__}: {error}".splitlines()[0]
    with _lock:
        _failed[name] = text
        if name != "cpu":
            _instances.pop(name, None)
