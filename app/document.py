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
    scope_changed()
        The node editor entered or left a group (:attr:`scope`).

    ``graph`` is the graph the node editor shows and edits: the script's top graph
    (:attr:`root`), or the inside of the group :attr:`scope` names (a path of group
    names from the top). Saving, rendering and the viewer use :attr:`root`.
    """

    changed = QtCore.Signal(object)
    scope_changed = QtCore.Signal()
    reset = QtCore.Signal()
    message = QtCore.Signal(str)
    modified_changed = QtCore.Signal(bool)
    path_changed = QtCore.Signal(str)

    def __init__(self, graph: Graph | None = None, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.undo_stack = QtGui.QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._graph: Graph | None = None
        self.scope: tuple[str, ...] = ()
        self._unsubscribe = None
        self._pending = Change()
        self._depth = 0
        self._flush_scheduled = False
        self._dirty_without_undo = False
        self.set_graph(graph or new_graph())

    # -- the graph -----------------------------------------------------------------------

    @property
    def graph(self) -> Graph:
        """The graph being edited: the top graph, or the inside of the open group."""
        return self.graph_at(self.scope) or self._graph

    @property
    def root(self) -> Graph:
        """The script's top graph (what is saved, rendered and viewed)."""
        return self._graph

    def graph_at(self, scope: tuple[str, ...]) -> Graph | None:
        """The inside of the group at ``scope`` (group names from the top; () is the top
        graph), or None where there is no such group (any more)."""
        graph = self._graph
        for name in scope:
            node = graph.nodes.get(name)
            if node is None or not node.is_group:
                return None
            graph = node.inner
        return graph

    def set_scope(self, scope: tuple[str, ...]) -> None:
        """Show and edit the inside of the group at ``scope`` (() : the top graph)."""
        scope = tuple(scope)
        if self.graph_at(scope) is None:
            raise GraphError(f"{'.'.join(scope)} is not a group")
        if scope != self.scope:
            self.scope = scope
            self.scope_changed.emit()

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
        self.scope = ()
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
        if event == "group":  # inside a group: as an edit of the group, or of what is shown
            event, node, detail = self._from_group(node, detail)
            if event is None:
                self._schedule()
                return
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

    def _from_group(self, group, detail):
        """An edit inside ``group`` as the views see it: the edit itself where it is in
        the graph shown, else a change of the shown graph's node that holds it (a group
        whose inside changed re-renders; one whose ports changed is redrawn)."""
        path = [group.name]
        event, node, inner_detail = detail
        while event == "group":
            path.append(node.name)
            event, node, inner_detail = inner_detail
        path = tuple(path)
        if path == self.scope:
            return event, node, inner_detail
        depth = len(self.scope)
        if path[:depth] == self.scope and len(path) > depth:
            holder = self.graph.nodes.get(path[depth])
            if holder is not None:
                changes_ports = node is not None and node.type in ("Input", "Output")
                kind = "input" if changes_ports and event != "param" else "param"
                return kind, holder, None
        self._pending.params.add(path[0])  # the top group: the viewer renders again
        return None, None, None

    def _schedule(self) -> None:
        if self._depth or self._flush_scheduled:
            return
        self._flush_scheduled = True
        QtCore.QTimer.singleShot(0, self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self.scope and self.graph_at(self.scope) is None:  # the open group went away
            while self.scope and self.graph_at(self.scope) is None:
                self.scope = self.scope[:-1]
            self._pending.ui = True
            self.scope_changed.emit()
        change, self._pending = self._pending, Change()
        if not change.empty:
            self.changed.emit(change)
