"""Frame numbers in file names: ``plate.####.exr`` and ``plate.%04d.exr``."""

from __future__ import annotations

import re

_FRAME_TOKEN = re.compile(r"#+|%(?:0(\d+))?d")


def expand_frame(pattern: str, frame: int) -> str:
    """Put a frame number into a sequence pattern.

    A run of N ``#`` is the frame zero-padded to N digits (``####`` -> ``0001``,
    ``#`` -> ``1``); printf's ``%04d`` and ``%d`` mean the same. A negative frame keeps
    its ``-`` before the padded digits (``####``, -5 -> ``-0005``). A pattern without
    these tokens comes back unchanged. Every token in the pattern is replaced.

    Examples
    --------
    >>> expand_frame("plate.####.exr", 12)
    'plate.0012.exr'
    >>> expand_frame("plate.%03d.exr", -7)
    'plate.-007.exr'
    """
    frame = int(frame)

    def repl(match: re.Match) -> str:
        token = match.group(0)
        if token.startswith("#"):
            width = len(token)
        else:
            width = int(match.group(1) or 1)
        digits = f"{abs(frame):0{width}d}"
        return f"-{digits}" if frame < 0 else digits

    return _FRAME_TOKEN.sub(repl, pattern)


def is_sequence(pattern: str) -> bool:
    """Whether ``pattern`` holds a frame token (``#``, ``%d`` or ``%0Nd``)."""
    return _FRAME_TOKEN.search(pattern) is not None
