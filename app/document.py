"""The open script: the engine graph (the truth), its file, its undo stack, its changes.

Every edit the editor makes goes through :meth:`Document.push` as a command of
:mod:`mattebox.app.undo`; the engine graph's notifications are gathered into one
:class:`Change` per edit and sent to the views (node editor, properties, viewer).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from PySide6 import QtCore, QtGui

from mattebox.engine import script
from mattebox.engine.graph import Graph, GraphError

NEW_SCRIPT_FRAME_RANGE = (1, 100)


def new_graph() -> Graph:
    """The graph of a new, empty script."""
    graph = Graph()
    graph.settings.frame_range = NEW_SCRIPT_FRAME_RANGE
    return graph


@dataclass
class Change:
    """What one edit changed, by node name."""

    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    params: set[str] = field(default_factory=set)
    inputs: set[str] = field(default_factory=set)
    settings: bool = False
    ui: bool = False

    @property
    def structure(self) -> bool:
        """True when nodes, links, positions or backdrops changed (not only values)."""
        return bool(self.added or self.removed or self.renamed or self.inputs or self.ui)

    @property
    def empty(self) -> bool:
        return not (self.structure or self.params or self.settings)


class Document(QtCore.QObject):
    """The open script and its undo stack.

    Signals
    -------
    changed(Change)
        After each edit (a command, an undo, a redo, or a direct engine edit).
    reset()
        The whole graph was replaced (New, Open, Revert, recovery).
    message(str)
        A one-line note for the status bar, e.g. why an edit was refused.
    modified_changed(bool)
    path_changed(str)
    """

    changed = QtCore.Signal(object)
    reset = QtCore.Signal()
    message = QtCore.Signal(str)
    modified_changed = QtCore.Signal(bool)
    path_changed = QtCore.Signal(str)

    def __init__(self, graph: Graph | None = None, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.undo_stack = QtGui.QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._graph: Graph | None = None
        self._unsubscribe = None
        self._pending = Change()
        self._depth = 0
        self._flush_scheduled = False
        self._dirty_without_undo = False
        self.set_graph(graph or new_graph())

    # -- the graph -----------------------------------------------------------------------

    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def path(self) -> str | None:
        return self._graph.path

    @property
    def name(self) -> str:
        """The script's file name, or "Untitled"."""
        return Path(self.path).name if self.path else "Untitled"

    def set_graph(self, graph: Graph, modified: bool = False) -> None:
        """Show ``graph`` (a new or loaded script); the undo history starts again."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._graph = graph
        self._unsubscribe = graph.subscribe(self._on_engine_event)
        self._pending = Change()
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._dirty_without_undo = modified
        self.reset.emit()
        self.path_changed.emit(graph.path or "")
        self.modified_changed.emit(self.is_modified)

    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(self.is_modified)

    @property
    def is_modified(self) -> bool:
        return self._dirty_without_undo or not self.undo_stack.isClean()

    def mark_saved(self, path: str) -> None:
        """The graph was written to ``path``: it is now the clean state."""
        self._graph.path = str(path)
        self._dirty_without_undo = False
        self.undo_stack.setClean()
        self.path_changed.emit(str(path))
        self.modified_changed.emit(False)

    def save(self, path: str | None = None) -> None:
        """Write the script (atomically) to ``path`` or its own file."""
        target = path or self.path
        if not target:
            raise ValueError("the script has no file yet: use Save As")
        script.save(self._graph, target)
        self.mark_saved(target)

    # -- edits --------------------------------------------------------------------------

    def push(self, command) -> bool:
        """Apply an edit command and put it on the undo stack.

        A command the engine refuses (a cycle, a bad value) changes nothing: the reason
        goes to :attr:`message` and the views are brought back in line. Returns whether
        the edit was made.
        """
        try:
            command.apply()
        except GraphError as error:
            self.message.emit(str(error))
            self.resync()
            return False
        self.undo_stack.push(command)
        return True

    @contextlib.contextmanager
    def batch(self):
        """Gather the engine's notifications inside into one :class:`Change`."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._flush()

    def resync(self) -> None:
        """Tell the views to redraw everything from the graph (after a refused edit)."""
        self._pending.ui = True
        self._flush()

    def note_ui_changed(self) -> None:
        """Positions or backdrops in ``graph.ui`` were changed directly."""
        self._pending.ui = True
        self._schedule()

    def _on_engine_event(self, event: str, node, detail) -> None:
        if self._depth == 0 and not self._dirty_without_undo:
            self._dirty_without_undo = True  # an edit made outside the undo stack (Python)
            self.modified_changed.emit(True)
        change = self._pending
        if event == "add":
            change.added.add(node.name)
            change.removed.discard(node.name)
        elif event == "remove":
            change.removed.add(node.name)
            change.added.discard(node.name)
        elif event == "rename":
            change.renamed.append((detail, node.name))
        elif event == "param":
            change.params.add(node.name)
        elif event == "input":
            change.inputs.add(node.name)
        elif event == "settings":
            change.settings = True
        self._schedule()

    def _schedule(self) -> None:
        if self._depth or self._flush_scheduled:
            return
        self._flush_scheduled = True
        QtCore.QTimer.singleShot(0, self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        change, self._pending = self._pending, Change()
        if not change.empty:
            self.changed.emit(change)
