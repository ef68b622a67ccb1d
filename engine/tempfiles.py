"""The hidden temporary files of atomic writes: their names, creation, and stale ones.

Scripts and images are written to a hidden file beside their target, then renamed over it
(``docs/scripts.md``, ``docs/io-and-colour.md``), so a target is complete or untouched.
A process killed between the two steps leaves the hidden file behind; the next write into
the same folder removes those of our naming that are older than :data:`STALE_AFTER_S`
(a day: old enough that no running write still owns them).

Standard library only: the image decoder's worker process imports this package.
"""

from __future__ import annotations

import os
import re
import secrets
import string
import time
from collections.abc import Callable

#: Age in seconds after which a hidden temporary file of ours is removed on the next write.
STALE_AFTER_S = 24 * 3600

#: A script's temporary file: ``.comp.mbx.k3j9x0q_.tmp`` (also ``comp.mbx.autosave2``'s).
#: Eight characters of ``tempfile``'s alphabet, the naming of earlier releases.
SCRIPT_TEMPORARY = re.compile(r"^\.(?P<target>.+\.mbx(?:\.autosave\d+)?)\.[a-z0-9_]{8}\.tmp$")

#: An image's temporary file: ``.plate.0001.tmp-1a2b3c4d5e6f.exr`` (the extension kept, so
#: OpenImageIO picks the format by it).
IMAGE_TEMPORARY = re.compile(r"^\.(?P<stem>.+)\.tmp-[0-9a-f]{12}(?P<ext>\.[A-Za-z0-9]+)?$")

_ALPHABET = string.ascii_lowercase + string.digits + "_"


def script_temporary_name(target: str) -> str:
    """A fresh hidden name for a temporary copy of the script file named ``target``."""
    token = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f".{target}.{token}.tmp"


def image_temporary_name(target: str) -> str:
    """A fresh hidden name for a temporary copy of the image file named ``target``,
    with the same extension."""
    stem, ext = os.path.splitext(target)
    return f".{stem}.tmp-{secrets.token_hex(6)}{ext}"


def create(folder: str | os.PathLike, make_name: Callable[[], str]) -> tuple[int, str]:
    """Create a new file in ``folder`` under a name from ``make_name`` (retried while the
    name is taken); returns ``(descriptor, path)`` open for writing.

    The file is created with mode 0666 less the process's umask, as ``open()`` creates
    files, so the renamed result gets the permissions any new file gets (``tempfile``
    would give 0600).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        path = os.path.join(os.fspath(folder), make_name())
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: no free temporary file name")


def remove_stale(
    folder: str | os.PathLike,
    pattern: re.Pattern,
    max_age_s: float = STALE_AFTER_S,
    now: float | None = None,
) -> list[str]:
    """Remove the regular files in ``folder`` whose names match ``pattern`` and that were
    last modified more than ``max_age_s`` seconds ago; returns their paths.

    Only hidden names are looked at, and nothing is followed through a link. A file that
    cannot be examined or removed (another user's, a race with another process) is left.
    """
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(".") or not pattern.match(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if now - entry.stat(follow_symlinks=False).st_mtime <= max_age_s:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.path)
    return removed
