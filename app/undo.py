"""Undoable edits of the engine graph: the only way the editor changes a script.

Each command edits :attr:`Document.graph` through the engine's API and knows how to put
it back exactly (``graph.to_dict()`` is equal before an edit and after its undo). A
command is applied once by :meth:`Document.push` (which reports a refused edit instead of
stacking it); the undo stack's first ``redo`` is then skipped. NodeGraphQt's own undo
stack is never used for the model.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

from PySide6 import QtGui

from mattebox.engine import script
from mattebox.engine.graph import GraphError

_MERGE_ID = 1  # QUndoCommand.id() of commands that merge while a value is dragged


class EditCommand(QtGui.QUndoCommand):
    """Base of the editor's commands: ``do`` and ``undo_edit`` edit the engine graph."""

    def __init__(self, doc, text: str):
        super().__init__(text)
        self.doc = doc
        self.scope = doc.scope  # the group it edits inside (undo works from anywhere)
        self._skip_redo = False

    @property
    def graph(self):
        """The graph this command edits: the one shown when it was made."""
        graph = self.doc.graph_at(self.scope)
        if graph is None:
            raise GraphError(f"{'.'.join(self.scope)}: the group is gone")
        return graph

    def apply(self) -> None:
        """Make the edit for the first time; raises GraphError (leaving no trace) if the
        engine refuses it."""
        with self.doc.batch():
            self.do()
        self._skip_redo = True

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        with self.doc.batch():
            self.do()

    def undo(self) -> None:
        with self.doc.batch():
            self.undo_edit()

    def do(self) -> None:
        raise NotImplementedError

    def undo_edit(self) -> None:
        raise NotImplementedError


def stored_value(node, param: str) -> Any:
    """A parameter's stored value (animated or not; the default when unset); a group's
    knob: the inner parameter's."""
    if node.is_group and node.knob(param) is not None:
        inner, inner_param = node.knob_target(param)
        return stored_value(inner, inner_param)
    return node.values.get(param, node.spec.param(param).default)


def declared(node, param: str):
    """A parameter's declaration (a group's knob: the inner one, under the knob's name)."""
    if node.is_group and node.knob(param) is not None:
        return node.knob_param(param)
    return node.spec.param(param)


class SetParams(EditCommand):
    """Set parameter values: ``changes`` is a list of ``(node, param, old, new)``.

    With a ``merge_key``, consecutive commands of the same key (a slider drag) become one
    undo step.
    """

    def __init__(self, doc, changes, text: str | None = None, merge_key=None):
        node, param = changes[0][0], changes[0][1]
        super().__init__(doc, text or f"Set {node}.{param}")
        self.changes = list(changes)
        self.merge_key = merge_key

    def do(self) -> None:
        done = []
        try:
            for node, param, _, new in self.changes:
                self.graph[node][param] = new
                done.append((node, param))
        except GraphError:
            old = {(n, p): o for n, p, o, _ in self.changes}
            for node, param in reversed(done):
                self.graph[node][param] = old[(node, param)]
            raise

    def undo_edit(self) -> None:
        for node, param, old, _ in reversed(self.changes):
            self.graph[node][param] = old

    def id(self) -> int:
        return _MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other) -> bool:
        if not isinstance(other, SetParams) or other.merge_key != self.merge_key:
            return False
        if [(n, p) for n, p, _, _ in other.changes] != [(n, p) for n, p, _, _ in self.changes]:
            return False
        self.changes = [
            (n, p, old, new) for (n, p, old, _), (_, _, _, new) in zip(self.changes, other.changes)
        ]
        return True


class SetInputs(EditCommand):
    """Connect or disconnect inputs: ``changes`` is a list of ``(node, input, old, new)``
    (upstream node names, None for nothing). Cycles are refused by the engine."""

    def __init__(self, doc, changes, text: str = "Connect"):
        super().__init__(doc, text)
        self.changes = list(changes)

    def do(self) -> None:
        done = []
        try:
            for node, name, _, new in self.changes:
                self.graph[node].set_input(name, new)
                done.append((node, name))
        except GraphError:
            old = {(n, i): o for n, i, o, _ in self.changes}
            for node, name in reversed(done):
                self.graph[node].set_input(name, old[(node, name)])
            raise

    def undo_edit(self) -> None:
        for node, name, old, _ in reversed(self.changes):
            self.graph[node].set_input(name, old)


def _ui_nodes(graph) -> dict:
    return graph.ui.setdefault("nodes", {})


def set_position(graph, name: str, pos) -> None:
    """Store a node's editor position in ``graph.ui`` (None removes it)."""
    entry = _ui_nodes(graph).setdefault(name, {})
    if pos is None:
        entry.pop("pos", None)
        if not entry:
            _ui_nodes(graph).pop(name, None)
    else:
        entry["pos"] = [round(float(pos[0]), 2), round(float(pos[1]), 2)]


def position(graph, name: str):
    """A node's stored editor position, or None."""
    pos = graph.ui.get("nodes", {}).get(name, {}).get("pos")
    return tuple(pos) if pos else None


class MoveItems(EditCommand):
    """Move nodes and backdrops: ``nodes`` and ``backdrops`` map names to (old, new)."""

    def __init__(self, doc, nodes: dict, backdrops: dict | None = None, text: str = "Move"):
        super().__init__(doc, text)
        self.nodes = dict(nodes)
        self.backdrops = dict(backdrops or {})

    def _place(self, which: int) -> None:
        for name, positions in self.nodes.items():
            if name in self.graph:
                set_position(self.graph, name, positions[which])
        drops = self.graph.ui.get("backdrops", {})
        for name, positions in self.backdrops.items():
            if name in drops:
                drops[name]["pos"] = list(positions[which])
        self.doc.note_ui_changed()

    def do(self) -> None:
        self._place(1)

    def undo_edit(self) -> None:
        self._place(0)


class Rename(EditCommand):
    """Rename a node (links to it follow)."""

    def __init__(self, doc, old: str, new: str):
        super().__init__(doc, f"Rename {old} to {new}")
        self.old, self.new = old, new

    def do(self) -> None:
        self.graph.rename(self.old, self.new)

    def undo_edit(self) -> None:
        self.graph.rename(self.new, self.old)


def _add_fragment(graph, fragment: dict) -> None:
    """Add the nodes of a script fragment (names already free); all or nothing."""
    before = set(graph.nodes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", script.ScriptWarning)
            script.from_dict(copy.deepcopy(fragment), "paste", graph=graph)
    except (script.ScriptError, GraphError) as error:
        for name in [n for n in graph.nodes if n not in before]:
            graph.remove(name)
        raise GraphError(str(error)) from None


class AddNodes(EditCommand):
    """Add the nodes of a script fragment (with their positions), then set ``links``:
    ``(node, input, upstream)`` triples that wire them into the graph."""

    def __init__(self, doc, fragment: dict, links=(), text: str = "Add nodes"):
        super().__init__(doc, text)
        self.fragment = {
            "mattebox": fragment.get("mattebox", {"format": script.FORMAT_VERSION}),
            "nodes": fragment.get("nodes", {}),
            "ui": {"nodes": fragment.get("ui", {}).get("nodes", {})},
        }
        self.names = list(self.fragment["nodes"])
        self.links = [(n, i, u, None) for n, i, u in links]

    def do(self) -> None:
        _add_fragment(self.graph, self.fragment)
        try:
            links = []
            for node, name, upstream, _ in self.links:
                old = self.graph[node].inputs.get(name)
                self.graph[node].set_input(name, upstream)
                links.append((node, name, upstream, old))
            self.links = links
        except GraphError:
            for node, name, _, old in reversed(links):
                self.graph[node].set_input(name, old)
            for name in self.names:
                self.graph.remove(name)
            raise
        self.doc.note_ui_changed()

    def undo_edit(self) -> None:
        for node, name, _, old in reversed(self.links):
            if node in self.graph:
                self.graph[node].set_input(name, old)
        for name in self.names:
            self.graph.remove(name)


def primary_input(node) -> str | None:
    """The input a node passes along in a chain (``Source``, or Merge's ``B``)."""
    names = node.input_names
    return names[0] if names else None


class RemoveNodes(EditCommand):
    """Delete nodes. With ``heal``, what read a deleted node reads what that node read
    through its first input (deleting a Grade in Read -> Grade -> Merge keeps the chain
    whole, as in Nuke)."""

    def __init__(self, doc, names, heal: bool = True, text: str | None = None):
        names = [n for n in names if n in doc.graph]
        super().__init__(
            doc, text or f"Delete {', '.join(names[:3])}{'...' if len(names) > 3 else ''}"
        )
        graph = doc.graph
        self.names = names
        fragment = script.to_dict(graph, names)
        for name in names:  # keep links to nodes that stay, which to_dict leaves out
            node = graph[name]
            if not node.is_placeholder:
                fragment["nodes"][name]["inputs"] = dict(node.inputs)
        self.fragment = {
            "mattebox": fragment["mattebox"],
            "nodes": fragment["nodes"],
            "ui": {"nodes": fragment["ui"].get("nodes", {})},
        }
        removed = set(names)
        self.consumers = [
            (other.name, input_name, upstream)
            for other in graph
            if other.name not in removed
            for input_name, upstream in other.inputs.items()
            if upstream in removed
        ]
        self.healed = []
        if heal:
            for other, input_name, upstream in self.consumers:
                source = self._through(graph, upstream, removed)
                if source is not None:
                    self.healed.append((other, input_name, source))

    @staticmethod
    def _through(graph, name: str, removed: set[str]) -> str | None:
        seen = set()
        while name in removed and name not in seen:
            seen.add(name)
            node = graph[name]
            first = primary_input(node)
            name = node.inputs.get(first) if first else None
            if name is None:
                return None
        return None if name in removed else name

    def do(self) -> None:
        for name in self.names:
            self.graph.remove(name)
        for other, input_name, source in self.healed:
            try:
                self.graph[other].set_input(input_name, source)
            except GraphError:
                pass  # cannot happen for a former link; keep the deletion
        self.doc.note_ui_changed()

    def undo_edit(self) -> None:
        for other, input_name, _ in self.healed:
            self.graph[other].set_input(input_name, None)
        _add_fragment(self.graph, self.fragment)
        for other, input_name, upstream in self.consumers:
            self.graph[other].set_input(input_name, upstream)


class SetBackdrops(EditCommand):
    """Replace ``graph.ui["backdrops"]`` (add, remove, resize, relabel backdrops)."""

    def __init__(self, doc, old: dict, new: dict, text: str = "Edit backdrop"):
        super().__init__(doc, text)
        self.old, self.new = copy.deepcopy(old), copy.deepcopy(new)

    def _set(self, value: dict) -> None:
        if value:
            self.graph.ui["backdrops"] = copy.deepcopy(value)
        else:
            self.graph.ui.pop("backdrops", None)
        self.doc.note_ui_changed()

    def do(self) -> None:
        self._set(self.new)

    def undo_edit(self) -> None:
        self._set(self.old)


class SetSettings(EditCommand):
    """Replace the script settings (frame range, format, OCIO config, working space)."""

    def __init__(self, doc, old, new, text: str = "Script settings"):
        super().__init__(doc, text)
        self.old, self.new = old.copy(), new.copy()

    def do(self) -> None:
        self.doc.root.settings = self.new.copy()  # the script's, from inside a group too
        self.doc.root.settings_changed()

    def undo_edit(self) -> None:
        self.doc.root.settings = self.old.copy()
        self.doc.root.settings_changed()


class Compound(EditCommand):
    """Several commands as one undo step, applied all or nothing."""

    def __init__(self, doc, commands, text: str):
        super().__init__(doc, text)
        self.commands = list(commands)

    def do(self) -> None:
        done = []
        try:
            for command in self.commands:
                command.do()
                done.append(command)
        except GraphError:
            for command in reversed(done):
                command.undo_edit()
            raise

    def undo_edit(self) -> None:
        for command in reversed(self.commands):
            command.undo_edit()


class GroupNodes(EditCommand):
    """Ctrl+G: collapse nodes into a group (``graph.group``); undo puts back exactly the
    nodes, links and positions there were."""

    def __init__(self, doc, names, group_name: str | None = None):
        removal = RemoveNodes(doc, names, heal=False)
        super().__init__(doc, f"Group {', '.join(removal.names[:3])}")
        self.removal, self.names = removal, removal.names
        self.group_name = group_name or doc.graph.unique_name("Group")

    def do(self) -> None:
        self.graph.group(self.names, name=self.group_name)
        self.doc.note_ui_changed()

    def undo_edit(self) -> None:
        readers = [(n.name, i) for n, i in self.graph.consumers(self.group_name)]
        for reader, input_name in readers:
            self.graph[reader].set_input(input_name, None)
        self.graph.remove(self.group_name)
        self.removal.undo_edit()
        self.doc.note_ui_changed()


class Ungroup(EditCommand):
    """Ctrl+Shift+G: put a group's nodes in its place (``graph.ungroup``); undo makes the
    group again as it was (its inside, knobs and links)."""

    def __init__(self, doc, name: str):
        super().__init__(doc, f"Ungroup {name}")
        self.removal = RemoveNodes(doc, [name], heal=False)
        self.name = name
        self.restored: list[str] = []

    def do(self) -> None:
        self.restored = [n.name for n in self.graph.ungroup(self.name)]
        self.doc.note_ui_changed()

    def undo_edit(self) -> None:
        for name in self.restored:
            self.graph.remove(name)
        self.removal.undo_edit()
        self.doc.note_ui_changed()


class SetKnobs(EditCommand):
    """Expose or remove a group's knobs: ``old`` and ``new`` are lists of Knobs."""

    def __init__(self, doc, scope, group: str, old, new, text: str):
        super().__init__(doc, text)
        self.scope = tuple(scope)  # the graph holding the group, maybe not the one shown
        self.group, self.old, self.new = group, list(old), list(new)

    def _set(self, knobs) -> None:
        node = self.graph[self.group]
        before = list(node.knobs)
        try:
            for name in [k.name for k in node.knobs]:
                node.unexpose(name)
            for knob in knobs:
                node.expose(knob.node, knob.param, knob.name)
        except GraphError:  # a bad name: as it was
            node.knobs = before
            raise

    def do(self) -> None:
        self._set(self.new)

    def undo_edit(self) -> None:
        self._set(self.old)
