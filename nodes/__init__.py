"""Node types: declarations, CPU kernels (plain Python compiled by the CPU backend) and WGSL.

Each node type lives in ``nodes/<family>/<name>.py`` with its ``.wgsl`` beside it.
"""

from __future__ import annotations

import importlib
import pkgutil

FAMILIES = (
    "io",
    "source",
    "color",
    "merge",
    "filter",
    "transform",
    "ocio",
    "channel",
    "utility",
    "keyer",
    "time",
)
_loaded = False


def load_builtin_nodes() -> None:
    """Import every built-in node module once, which registers its node types."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for family in FAMILIES:
        package = importlib.import_module(f"{__name__}.{family}")
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{package.__name__}.{module.name}")
