"""Autosave and crash recovery.

While a script has unsaved changes, it is written every ``interval`` seconds (60 by
default; ``MATTEBOX_AUTOSAVE_SECONDS`` or the ``autosave/interval`` setting change it,
0 turns it off) into rolling backups beside it: ``comp.mbx.autosave1`` .. ``autosave3``,
the oldest replaced first (never the newest), each written atomically, so a failed
autosave leaves the backups as they were. An untitled script autosaves into the
user's state folder. Saving or quitting cleanly removes the backups, so a backup newer than
its script on the next start means Mattebox did not quit cleanly: the editor offers to
recover it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from PySide6 import QtCore

from mattebox.engine import script

SLOTS = 3
DEFAULT_INTERVAL_S = 60.0
_UNTITLED = re.compile(r"untitled-(\d+)\.mbx\.autosave\d$")


def interval_from(settings: QtCore.QSettings | None) -> float:
    """Seconds between autosaves: $MATTEBOX_AUTOSAVE_SECONDS, else the setting, else 60."""
    env = os.environ.get("MATTEBOX_AUTOSAVE_SECONDS")
    if env:
        return float(env)
    if settings is not None and settings.contains("autosave/interval"):
        return float(settings.value("autosave/interval"))
    return DEFAULT_INTERVAL_S


def state_folder() -> Path:
    """Where untitled scripts autosave (``$MATTEBOX_STATE_DIR`` or the user's state folder)."""
    env = os.environ.get("MATTEBOX_STATE_DIR")
    if env:
        return Path(env)
    base = QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.StandardLocation.GenericStateLocation
    ) or str(Path.home() / ".local/state")
    return Path(base) / "mattebox" / "autosave"


def backups(script_path: str | os.PathLike) -> list[Path]:
    """The autosave files of a script that exist, newest first."""
    base = Path(script_path)
    found = [base.with_name(f"{base.name}.autosave{i}") for i in range(1, SLOTS + 1)]
    found = [p for p in found if p.exists()]
    return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)


def _readable(path: Path) -> bool:
    """Whether ``path`` holds a whole JSON document (a backup worth offering)."""
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def recoverable(script_path: str | os.PathLike) -> Path | None:
    """The newest readable autosave of ``script_path`` if it is newer than the script
    itself (a damaged backup, such as one truncated by a full disk, is passed over)."""
    try:
        saved = Path(script_path).stat().st_mtime_ns
    except OSError:
        saved = -1
    for backup in backups(script_path):
        if backup.stat().st_mtime_ns <= saved:
            return None
        if _readable(backup):
            return backup
    return None


def next_slot(base: Path, last: int = 0) -> int:
    """The backup slot (1..SLOTS) the next autosave of ``base`` writes: a free one, else
    the oldest, so the newest backup is never the one replaced. Among slots of equal age
    (coarse file times) the one after ``last``, the slot written last, comes first."""
    ages = []
    for slot in range(1, SLOTS + 1):
        try:
            mtime = base.with_name(f"{base.name}.autosave{slot}").stat().st_mtime_ns
        except OSError:
            mtime = -1  # free
        ages.append((mtime, (slot - last - 1) % SLOTS, slot))
    return min(ages)[2]


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphaned_untitled(folder: Path | None = None) -> Path | None:
    """The newest autosave of an untitled script whose editor is no longer running."""
    folder = folder or state_folder()
    if not folder.is_dir():
        return None
    found = []
    for path in folder.iterdir():
        match = _UNTITLED.search(path.name)
        if match and not _alive(int(match.group(1))):
            found.append(path)
    return max(found, key=lambda p: p.stat().st_mtime_ns) if found else None


def remove_untitled(pid_file: Path) -> None:
    """Remove every autosave of the untitled script ``pid_file`` came from."""
    match = _UNTITLED.search(pid_file.name)
    if match:
        for path in pid_file.parent.glob(f"untitled-{match.group(1)}.mbx.autosave*"):
            path.unlink(missing_ok=True)


class Autosaver(QtCore.QObject):
    """Writes the document's script into rolling backups while it has unsaved changes."""

    saved = QtCore.Signal(str)

    def __init__(self, doc, interval_s: float = DEFAULT_INTERVAL_S, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.autosave)
        self._slot = 0
        self._last_state = None
        self.set_interval(interval_s)
        doc.path_changed.connect(lambda _: self._restart())

    def set_interval(self, seconds: float) -> None:
        self.interval_s = float(seconds)
        self.timer.stop()
        if self.interval_s > 0:
            self.timer.start(int(self.interval_s * 1000))

    def _restart(self) -> None:
        self._slot = 0
        self._last_state = None

    def target(self) -> Path:
        """The script path the backups are named after."""
        if self.doc.path:
            return Path(self.doc.path)
        return state_folder() / f"untitled-{os.getpid()}.mbx"

    def autosave(self) -> Path | None:
        """Write a backup now if the script changed since the last one; returns its path."""
        state = (self.doc.undo_stack.index(), self.doc.root.revision, id(self.doc.root))
        if not self.doc.is_modified or state == self._last_state:
            return None
        base = self.target()
        self._slot = next_slot(base, self._slot)
        path = base.with_name(f"{base.name}.autosave{self._slot}")
        try:
            script.write_atomic(path, script.dumps(script.to_dict(self.doc.root)))
        except (OSError, ValueError) as error:
            self.doc.message.emit(f"autosave failed: {error}")
            return None
        self._last_state = state
        self.saved.emit(str(path))
        return path

    def clear(self, script_path: str | None = None) -> None:
        """Remove the backups (after a save, or when quitting cleanly)."""
        base = Path(script_path) if script_path else self.target()
        for index in range(1, SLOTS + 1):
            base.with_name(f"{base.name}.autosave{index}").unlink(missing_ok=True)
        self._last_state = None
