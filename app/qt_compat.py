"""A guard against a reference-counting bug of PySide6 6.12.0 on Python 3.11.

Measured here (PySide6-Essentials 6.12.0, CPython 3.11.7): every call of a C++ method
returning ``void`` (``QObject.setObjectName``, ``QGraphicsItem.setPos``, ``QWidget.update``,
``QUndoStack.push``...) returns ``None`` without a new reference, and some methods do the
same with ``True``/``False``. Python 3.12 made these objects immortal, which hides the bug
there; on 3.11 their counts fall with every call until the interpreter aborts with
"Fatal Python error: none_dealloc" (or "bool_dealloc"), at the latest when it exits.
PySide6 6.11.3 does not have the bug.

:func:`guard_singletons` detects the bug by calling a ``void`` method and, only where it
is present, gives ``None``, ``True`` and ``False`` a reference count no editing session
can use up, which is what Python 3.12 does for them. The better fix is a PySide6 without
the bug (``PySide6-Essentials!=6.12.0`` on Python < 3.12).
"""

from __future__ import annotations

import ctypes
import sys

_RESERVE = 1 << 40
_guarded = False


def void_calls_lose_none() -> bool:
    """Whether this PySide6 loses a reference to ``None`` per ``void`` call."""
    from PySide6 import QtCore

    probe = QtCore.QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        probe.setObjectName("probe")
    return before - sys.getrefcount(None) >= 64


def guard_singletons() -> bool:
    """Apply the guard if this Python and PySide6 need it; returns whether it did."""
    global _guarded
    if _guarded or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _guarded
    if not void_calls_lose_none():
        return False
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _RESERVE
    _guarded = True
    return True
