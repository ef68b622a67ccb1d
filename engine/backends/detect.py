"""Which backends exist here, and which one a render uses.

Order of preference: a real GPU, then the CPU (numba), then a software GPU adapter such as
lavapipe (correct, but slower than numba). ``--backend`` and ``MATTEBOX_BACKEND`` force one;
``MATTEBOX_GPU`` (``--gpu``) picks the adapter among several: its index as ``mattebox
backends`` lists it (wgpu's enumeration order) or a part of its name. A process uses that
one adapter and no other; ``--dask local-gpus`` starts one worker per GPU, each with its
own ``MATTEBOX_GPU`` (:func:`worker_gpus`).

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


#: The variable that pins a process to one adapter (``MATTEBOX_GPU_ADAPTER``, a part of a
#: name, is its older spelling and still read).
GPU_ENV = "MATTEBOX_GPU"


def parse_gpu_choice(text: str | None) -> list[int | str]:
    """The adapters ``text`` names: ``"1"`` -> ``[1]`` (an index), ``"H100"`` ->
    ``["h100"]`` (a part of a name, case ignored), ``"0, 2"`` -> ``[0, 2]``; None or
    blank -> ``[]`` (no choice)."""
    items: list[int | str] = []
    for part in (text or "").split(","):
        part = part.strip()
        if part:
            items.append(int(part) if part.isdigit() else part.lower())
    return items


def gpu_choice() -> str:
    """The adapter choice of this process: ``$MATTEBOX_GPU``, else the older
    ``$MATTEBOX_GPU_ADAPTER``, else ''."""
    return (os.environ.get(GPU_ENV) or os.environ.get("MATTEBOX_GPU_ADAPTER") or "").strip()


def select_adapters(text: str, found: list | None = None, label: str = "--gpu ") -> list:
    """The adapters ``text`` names (see :func:`parse_gpu_choice`), best first for a name,
    in the order given otherwise; ValueError (starting with ``label``) naming what matches
    nothing and listing the adapters there are."""
    found = adapters() if found is None else found
    chosen: list = []
    for item in parse_gpu_choice(text):
        if isinstance(item, int):
            matches = [a for a in found if a.index == item]
        else:
            matches = [a for a in found if item in a.name.lower()]
        if not matches:
            what = f"adapter {item}" if isinstance(item, int) else f"adapter named like {item!r}"
            raise ValueError(f"{label}{text}: no {what} here ({_adapter_list(found)})")
        chosen += [a for a in matches if a not in chosen]
    return chosen


def _adapter_list(found: list) -> str:
    if not found:
        return "wgpu found no adapter"
    listed = ", ".join(f"{a.index}: {a.name} ({a.api})" for a in sorted(found, key=_index))
    return f"adapters {listed}; mattebox backends lists them"


def _index(adapter) -> int:
    return adapter.index


def gpu_adapter():
    """The adapter the GPU backend uses: the one ``$MATTEBOX_GPU`` names (for a name, the
    best that matches), else the best; None where wgpu finds none. ValueError when the
    choice names no adapter here or more than one index."""
    found = adapters()
    text = gpu_choice()
    if not text:
        return found[0] if found else None
    items = parse_gpu_choice(text)
    if len(items) > 1:
        raise ValueError(f"{GPU_ENV}={text}: a process uses one GPU adapter; name one")
    return select_adapters(text, found, label=f"{GPU_ENV}=")[0]


def worker_gpus(text: str | None = None) -> list:
    """The adapters ``--dask local-gpus`` starts a worker for: those ``text`` names
    (software ones included, when named), else every real GPU through the best graphics
    API found (one GPU is listed once per API: Vulkan and OpenGL), in index order."""
    found = adapters()
    if text and text.strip():
        return select_adapters(text, found)
    real = [a for a in found if not a.software]
    if not real:
        return []
    best = min(a.rank()[1] for a in real)
    return sorted((a for a in real if a.rank()[1] == best), key=_index)


def available(name: str) -> bool:
    """Whether backend ``name`` can run here (the GPU: any adapter, software included)."""
    if name == "cpu":
        return True
    if name == "gpu":
        try:
            return gpu_adapter() is not None
        except ValueError:  # $MATTEBOX_GPU names no adapter here
            return False
    return False


def why_unavailable(name: str) -> str:
    """A one-line reason a backend cannot run ('' when it can)."""
    if available(name):
        return ""
    if name == "gpu":
        try:
            gpu_adapter()
        except ValueError as error:
            return str(error)
        return "no GPU adapter: wgpu found none (install a GPU driver, or mesa-vulkan-drivers)"
    return f"backend {name!r} is not available"


def _real_gpu() -> bool:
    adapter = gpu_adapter()  # ValueError: $MATTEBOX_GPU names no adapter (never the CPU silently)
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
    real = [("gpu", f"adapter {a.index}: {a.describe()}") for a in found if not a.software]
    software = [("gpu", f"adapter {a.index}: {a.describe()}") for a in found if a.software]
    return real + [("cpu", "numba on this CPU")] + software


def report() -> str:
    """What ``mattebox backends`` prints: the adapters and backends ranked, and the choice."""
    lines = ["backends, best first:"]
    try:
        used = gpu_adapter()
    except ValueError:
        used = None
    for rank, (name, text) in enumerate(ranking(), 1):
        mark = ""
        if name == "gpu" and used is not None and text.startswith(f"adapter {used.index}: "):
            mark = "  <- the GPU backend's adapter"
        lines.append(f"  {rank}. {name:<4} {text}{mark}")
    if not available("gpu"):
        lines.append(f"  gpu: {why_unavailable('gpu')}")
    lines.append(f"pick an adapter: {GPU_ENV}=INDEX or --gpu INDEX (or a part of its name)")
    lines.append(f"--dask local-gpus: {_workers_text()}")
    for name, why in _failed.items():
        lines.append(f"  {name} failed during a render this session: {why}")
    try:
        choice = choose("auto")
    except ValueError:  # the gpu line above says why
        choice = "none"
    forced = [
        f"{key}={os.environ[key]}" for key in ("MATTEBOX_BACKEND", GPU_ENV) if os.environ.get(key)
    ]
    lines.append(f"choice: {choice}" + (f" ({', '.join(forced)})" if forced else ""))
    return "\n".join(lines)


def _workers_text() -> str:
    try:
        gpus = worker_gpus()
    except ValueError as error:
        return str(error)
    if not gpus:
        return "no GPU here: CPU workers only (--cpu-workers N)"
    indexes = ", ".join(str(a.index) for a in gpus)
    return f"{len(gpus)} GPU worker(s), adapter(s) {indexes}"


def mark_failed(name: str, error: BaseException) -> None:
    """Remember that a backend failed at run time; its device is dropped, so the next
    render asks for a new one (a lost device does not come back)."""
    text = f"{type(error).__name__}: {error}".splitlines()[0]
    with _lock:
        _failed[name] = text
        if name != "cpu":
            _instances.pop(name, None)
