"""Copy and paste of nodes as ``.mbx`` fragments (script text) on the system clipboard.

A fragment is a script holding only the copied nodes, their links among themselves,
their positions and the backdrops copied with them. It is plain text, so it can be pasted
into a text editor, mailed, and pasted back, as Nuke users do with ``.nk`` snippets.
"""

from __future__ import annotations

import copy
import json
import re

from PySide6 import QtCore, QtGui, QtWidgets

from mattebox.engine import script
from mattebox.engine.graph import GraphError

MIME_TYPE = "application/x-mattebox-fragment"


def fragment(graph, names, backdrops=()) -> dict:
    """The script fragment of nodes ``names`` (and the named backdrops)."""
    data = script.to_dict(graph, names)
    ui = {"nodes": data["ui"].get("nodes", {})}
    drops = graph.ui.get("backdrops", {})
    if backdrops:
        ui["backdrops"] = {name: copy.deepcopy(drops[name]) for name in backdrops if name in drops}
    return {
        "mattebox": data["mattebox"],
        "settings": data["settings"],
        "nodes": data["nodes"],
        "ui": ui,
    }


def _free_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    base = re.sub(r"\d+$", "", name) or "Node"
    index = 1
    while f"{base}{index}" in taken:
        index += 1
    return f"{base}{index}"


def prepare_paste(graph, data: dict, offset=(0.0, 0.0)) -> tuple[dict, dict]:
    """Rename the fragment's nodes and backdrops that clash with ``graph`` and move them by
    ``offset``. Returns ``(fragment, backdrops)`` ready for :class:`~mattebox.app.undo.AddNodes`.

    Raises GraphError when ``data`` is not a fragment.
    """
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), dict):
        raise GraphError("the clipboard holds no Mattebox nodes")
    taken = set(graph.nodes)
    renames: dict[str, str] = {}
    for name in data["nodes"]:
        renames[name] = _free_name(name, taken)
        taken.add(renames[name])
    nodes = {}
    for name, entry in data["nodes"].items():
        entry = copy.deepcopy(entry)
        if isinstance(entry, dict) and isinstance(entry.get("inputs"), dict):
            entry["inputs"] = {
                k: renames.get(v, v) for k, v in entry["inputs"].items() if v in renames
            }
        nodes[renames[name]] = entry
    dx, dy = offset
    ui = data.get("ui", {}) if isinstance(data.get("ui"), dict) else {}
    positions = {}
    for name, entry in (ui.get("nodes") or {}).items():
        if name in renames and isinstance(entry, dict) and entry.get("pos"):
            x, y = entry["pos"]
            positions[renames[name]] = {**entry, "pos": [x + dx, y + dy]}
    taken_drops = set(graph.ui.get("backdrops", {}))
    backdrops = {}
    for name, entry in (ui.get("backdrops") or {}).items():
        new = _free_name(name, taken_drops)
        taken_drops.add(new)
        entry = copy.deepcopy(entry)
        x, y = entry.get("pos", (0, 0))
        entry["pos"] = [x + dx, y + dy]
        backdrops[new] = entry
    header = data.get("mattebox", {"format": script.FORMAT_VERSION})
    return {"mattebox": header, "nodes": nodes, "ui": {"nodes": positions}}, backdrops


def put(data: dict) -> None:
    """Place a fragment on the system clipboard (as our MIME type and as text)."""
    text = script.dumps(data)
    mime = QtCore.QMimeData()
    mime.setData(MIME_TYPE, QtCore.QByteArray(text.encode("utf-8")))
    mime.setText(text)
    QtWidgets.QApplication.clipboard().setMimeData(mime)


def get() -> dict | None:
    """The fragment on the clipboard, or None when it holds something else."""
    mime = QtGui.QGuiApplication.clipboard().mimeData()
    if mime is None:
        return None
    if mime.hasFormat(MIME_TYPE):
        text = bytes(mime.data(MIME_TYPE).data()).decode("utf-8")
    elif mime.hasText():
        text = mime.text()
    else:
        return None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or "mattebox" not in data
        or not isinstance(data.get("nodes"), dict)
    ):
        return None
    return data
