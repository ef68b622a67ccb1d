"""The node editor's automatic layout (scripts without positions) keeps pipes clear of
nodes, and node names are never clipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6 import QtGui

import mattebox as mb
from mattebox.app import node_editor, undo
from mattebox.app.graph_layout import LaidOutNode, layered_layout, segment_hits_rect
from mattebox.engine import script
from tests.app.conftest import wait_render

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def _without_positions(path: Path) -> mb.Graph:
    data = json.loads(path.read_text())
    data.get("ui", {}).pop("nodes", None)
    data.get("ui", {}).pop("backdrops", None)
    graph = script.from_dict(data, str(path))
    graph.path = str(path)
    return graph


def _pipes(editor):
    """(upstream, node, start, end) of every pipe, at the ports' centres in the scene."""
    graph = editor.doc.graph
    for node in graph:
        view = editor.view_of(node.name)
        for port_name, upstream in node.inputs.items():
            if upstream is None:
                continue
            end = view.inputs()[port_name].view.sceneBoundingRect().center()
            start = editor.view_of(upstream).outputs()["Output"].view
            start = start.sceneBoundingRect().center()
            yield upstream, node.name, (start.x(), start.y()), (end.x(), end.y())


def _rects(editor):
    for node in editor.doc.graph:
        rect = editor.view_of(node.name).view.sceneBoundingRect()
        yield node.name, (rect.left(), rect.top(), rect.right(), rect.bottom())


@pytest.mark.parametrize("name", ["comp.mbx", "greenscreen.mbx", "aov_comp.mbx", "aov_render.mbx"])
def test_no_pipe_of_an_example_laid_out_runs_behind_a_node(window, qtbot, name):
    window.doc.set_graph(_without_positions(EXAMPLES / name))
    editor = window.editor
    rects = dict(_rects(editor))
    assert len(rects) == len(window.doc.graph) >= 8
    pipes = list(_pipes(editor))
    assert len(pipes) >= len(rects) - 3
    crossings = [
        (up, down, other)
        for up, down, a, b in pipes
        for other, rect in rects.items()
        if other not in (up, down) and segment_hits_rect(a, b, rect)
    ]
    assert crossings == []
    # nodes do not overlap one another
    names = list(rects)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            a, b = rects[first], rects[second]
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (first, second)
    # every input sits above the node reading it
    for up, down, a, b in pipes:
        assert rects[up][3] <= rects[down][1], (up, down)
    assert not window.doc.is_modified  # layout is not an edit
    wait_render(qtbot, window)


def test_the_check_itself_sees_a_pipe_behind_a_node():
    """The old layout's failure: a source beside a long chain, piped into its end."""
    assert segment_hits_rect((0, 0), (100, 100), (40, 40, 60, 60))
    assert not segment_hits_rect((0, 0), (100, 0), (0, 0, 50, 50))  # along an edge
    assert not segment_hits_rect((0, 0), (10, 10), (40, 40, 60, 60))
    # a Merge whose B is a long chain and whose A is a source: A's pipe passes no node
    nodes = [LaidOutNode("Read1", []), LaidOutNode("Read2", [])]
    above = "Read1"
    for index in range(4):
        nodes.append(LaidOutNode(f"Grade{index}", [above]))
        above = f"Grade{index}"
    nodes.append(LaidOutNode("Merge1", [above, "Read2"]))
    nodes.append(LaidOutNode("Write1", ["Merge1"]))
    nodes.append(LaidOutNode("Viewer", ["Read2"]))  # Read2 read twice, rows apart
    pos = layered_layout(nodes, 34, 70, 40)
    by = {n.name: n for n in nodes}
    for node in nodes:
        for index, up in enumerate(node.top):
            x, y = pos[node.name]
            end = (x + 110 * (index + 1) / (len(node.top) + 1), y)
            start = (pos[up][0] + 55, pos[up][1] + 34)
            for other in by:
                if other in (up, node.name):
                    continue
                ox, oy = pos[other]
                assert not segment_hits_rect(start, end, (ox, oy, ox + 110, oy + 34))


def test_long_names_fit_inside_their_node(window, qtbot):
    editor = window.editor
    keyer = editor.create_node("ColorDifferenceKeyer", (200, 0), connect_selection=False)
    assert keyer == "ColorDifferenceKeyer1"
    renamed = "a_much_longer_name_for_the_despill_grade"
    assert window.doc.push(undo.Rename(window.doc, "Grade1", renamed))
    metrics = QtGui.QFontMetricsF(node_editor.name_font())
    for name in (keyer, renamed, "Constant1"):
        item = editor.view_of(name).view
        drawn = metrics.horizontalAdvance(name)
        assert item.label == name
        assert item.boundingRect().width() >= drawn + 2 * node_editor.NAME_PADDING - 2, name
    short = editor.view_of("Constant1").view.boundingRect().width()
    assert short == node_editor.NODE_WIDTH  # short names keep the usual width
    # the input names over the top edge do not overlap: each fits between its neighbours
    ports = QtGui.QFontMetricsF(node_editor.port_font())
    item = editor.view_of(keyer).view
    top = item._top_inputs()
    assert [p.name for p in top] == ["Source", "CleanPlate"]
    room = item.boundingRect().width() / (len(top) + 1)
    assert all(ports.horizontalAdvance(p.name) + node_editor.PORT_LABEL_GAP <= room for p in top)
    centres = [p.pos().x() + p.boundingRect().width() / 2 for p in top]
    assert centres[1] - centres[0] >= ports.horizontalAdvance("CleanPlate")
    wait_render(qtbot, window)
