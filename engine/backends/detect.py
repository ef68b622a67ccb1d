"""Which backends exist here, and which one a render uses.

Order of preference: a real GPU, then the CPU (numba), then a software GPU adapter such as
lavapipe (correct, but slower than numba). ``--backend`` and ``MATTEBOX_BACKEND`` force one.
"""

from __future__ import annotations

import os
import threading

BACKEND_NAMES = ("cpu",)
_lock = threading.Lock()
_instances: dict[str, object] = {}
_failed: dict[str, str] = {}


def available(name: str) -> bool:
    """Whether backend ``name`` can run here."""
    return name == "cpu"


def why_unavailable(name: str) -> str:
    """A one-line reason a backend cannot run ('' when it can)."""
    return "" if available(name) else f"backend {name!r} is not available"


def choose(requested: str = "auto") -> str:
    """The backend a render uses for ``requested`` (auto|gpu|cpu); env MATTEBOX_BACKEND."""
    requested = (requested or "auto").lower()
    if requested == "auto":
        requested = os.environ.get("MATTEBOX_BACKEND", "auto").lower() or "auto"
    if requested == "auto":
        return "cpu"
    if requested not in ("cpu", "gpu"):
        raise ValueError(f"unknown backend {requested!r} (auto, gpu, cpu)")
    if not available(requested):
        raise ValueError(why_unavailable(requested))
    return requested


def get(requested: str = "auto"):
    """The backend object for ``requested``."""
    name = choose(requested)
    with _lock:
        if name not in _instances:
            from mattebox.engine.backends.cpu.backend import CpuBackend

            _instances[name] = CpuBackend()
        return _instances[name]


def report() -> str:
    """What ``mattebox backends`` prints: every backend, why it can or cannot run, the choice."""
    lines = []
    for name in BACKEND_NAMES:
        state = "available" if available(name) else why_unavailable(name)
        lines.append(f"{name:<5} {state}")
    lines.append(f"choice: {choose('auto')}")
    return "\n".join(lines)


def mark_failed(name: str, error: BaseException) -> None:
    """Remember that a backend failed at run time (auto then avoids it)."""
    _failed[name] = f"{type(error).__name__}: {error}"
