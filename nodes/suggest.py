"""Suggestions for mistyped names ("did you mean"): the known names closest to them.

One rule for every name a user types (node types, parameters, colour spaces, displays,
Write nodes on the command line), so that messages read alike:
``unknown node type 'Grde' (did you mean 'Grade'?)``.

Imports only the standard library (``nodes`` never imports ``engine`` or Qt).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: How alike (difflib's ratio, 0..1, case ignored) a name must be to be suggested.
CUTOFF = 0.6

#: Up to this many choices are listed whole when none is close.
LISTED = 8


def close_names(name: str, choices: Iterable[str], count: int = 3) -> list[str]:
    """The ``count`` names of ``choices`` closest to ``name``, best first.

    Names are compared by their letters and digits, case ignored (``"rec709"`` is
    ``"Rec.709"``). A name matching so comes first; then names that contain ``name`` (as
    ``"sRGB Encoded Rec.709 (sRGB)"`` contains ``"rec709"``), then names whose difflib
    ratio with it is at least :data:`CUTOFF`, each group by that ratio. Empty when
    nothing is close.

    Examples
    --------
    >>> close_names("Grde", ["Grade", "Gamma", "Blur"])
    ['Grade']
    >>> close_names("rec.1886", ["Rec.1886 Rec.709 - Display", "ACEScg"])
    ['Rec.1886 Rec.709 - Display']
    """
    wanted = _letters(name)
    if not wanted:
        return []
    scored = []
    for choice in dict.fromkeys(choices):
        lowered = _letters(choice)
        ratio = difflib.SequenceMatcher(None, wanted, lowered).ratio()
        if lowered == wanted:
            rank = 0
        elif len(wanted) >= 2 and wanted in lowered:
            rank = 1
        elif ratio >= CUTOFF:
            rank = 2
        else:
            continue
        scored.append((rank, -ratio, choice))
    scored.sort()
    return [choice for _, _, choice in scored[:count]]


def _letters(name: object) -> str:
    """``name``'s letters and digits, lower case."""
    return "".join(c for c in str(name).lower() if c.isalnum())


def did_you_mean(name: str, choices: Iterable[str], what: str = "names") -> str:
    """A message's tail: `` (did you mean 'A' or 'B'?)`` from :func:`close_names`; when
    nothing is close, the choices themselves if there are at most :data:`LISTED` of
    them (`` (one of 'a', 'b')``), else `` (none of the N WHAT is close)``; empty when
    there are no choices at all."""
    choices = list(dict.fromkeys(choices))
    if not choices:
        return ""
    close = close_names(name, choices)
    if close:
        return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
    if len(choices) <= LISTED:
        return " (one of " + ", ".join(repr(c) for c in choices) + ")"
    return f" (none of the {len(choices)} {what} is close)"
