"""Dialogs of groups and gizmos: saving a group as a gizmo, exposing a knob.

The node editor (``node_editor.py``) groups, ungroups, opens and leaves groups; the
properties panel shows a group's knobs. What asks the artist for a name or a file lives
here, so ``window.py`` and ``properties.py`` only call it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtWidgets

from mattebox.app import undo
from mattebox.engine import group as groups
from mattebox.engine.graph import GraphError

GIZMO_FILTER = "Mattebox gizmos (*.mbx)"


def target_group(window) -> tuple[tuple[str, ...], str] | None:
    """The group to save: the one selected in the node editor, else the open one, as
    ``(scope of the graph holding it, its name)``."""
    doc = window.doc
    picked = [n for n in window.editor.selected_names() if doc.graph[n].is_group]
    if len(picked) == 1:
        return doc.scope, picked[0]
    if doc.scope:
        return doc.scope[:-1], doc.scope[-1]
    return None


def save_gizmo(window, path: str | None = None) -> str | None:
    """Save the selected (or open) group as a gizmo file, asking where when ``path`` is
    None (by default in the first folder of the gizmo search path). Its type name is the
    file's stem. Returns the path written, None when cancelled or refused."""
    found = target_group(window)
    if found is None:
        window.doc.message.emit("Save Group as Gizmo: select a group (or open one) first")
        return None
    scope, name = found
    node = window.doc.graph_at(scope)[name]
    if path is None:
        folder = groups.search_path()[0]
        suggested = str(folder / f"{node.type if node.is_gizmo else name}.mbx")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            window, "Save Group as Gizmo", suggested, GIZMO_FILTER
        )
        if not path:
            return None
    try:
        written = node.save_gizmo(path)
    except (GraphError, OSError) as error:
        window.doc.message.emit(f"Save Group as Gizmo: {error}")
        return None
    window.doc.message.emit(f"saved gizmo {Path(written).stem} to {written} (Tab lists it)")
    return str(written)


def expose(doc, node_name: str, param: str, knob_name: str) -> bool:
    """Expose ``param`` of ``node_name`` (in the open group) on that group as
    ``knob_name``: one undo step. Returns whether it was done."""
    if not doc.scope:
        doc.message.emit(f"{node_name}.{param}: not inside a group (open one with Ctrl+Enter)")
        return False
    holder, name = doc.scope[:-1], doc.scope[-1]
    node = doc.graph_at(holder)[name]
    new = [*node.knobs, groups.Knob(knob_name, node_name, param)]
    text = f"Expose {node_name}.{param} as {name}.{knob_name}"
    return doc.push(undo.SetKnobs(doc, holder, name, node.knobs, new, text))


def remove_knob(doc, group_name: str, knob_name: str) -> bool:
    """Remove a knob of group ``group_name`` (in the graph shown): one undo step."""
    node = doc.graph[group_name]
    new = [k for k in node.knobs if k.name != knob_name]
    text = f"Remove knob {group_name}.{knob_name}"
    return doc.push(undo.SetKnobs(doc, doc.scope, group_name, node.knobs, new, text))


def ask_expose(parent, doc, node_name: str, param: str) -> bool:
    """Ask the knob's name (default: the parameter's), then expose it."""
    group_name = doc.scope[-1] if doc.scope else "the group"
    name, ok = QtWidgets.QInputDialog.getText(
        parent, "Expose on group", f"Knob name on {group_name}:", text=param
    )
    return bool(ok and name) and expose(doc, node_name, param, name.strip())
