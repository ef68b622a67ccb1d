"""The properties panel's view of a Roto's shapes: a summary and a table of each shape's
own settings, whose edits are one undo step each (a key where the shapes are animated)."""

from __future__ import annotations

from tests.app.conftest import wait_render
from tests.app.test_roto_editing import roto_graph

SQUARE = {"name": "Square", "points": [[8, 8], [40, 8], [40, 30], [8, 30]]}
TRI = {"name": "Tri", "points": [[20, 5], [50, 40], [5, 40]], "blend": "add"}


def _panel(window, qtbot, shapes):
    window.doc.set_graph(roto_graph(shapes))
    window.properties.show_node("Roto1")
    wait_render(qtbot, window)
    return window.properties.rows["shapes"].editor


def test_the_table_lists_the_shapes_and_their_settings(window, qtbot):
    editor = _panel(window, qtbot, [SQUARE, TRI])
    assert editor.summary.text().startswith("2 shapes, 7 points")
    table = editor.table
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["Square", "Tri"]
    assert table.cellWidget(0, 1).isChecked() and not table.cellWidget(0, 2).isChecked()
    assert table.cellWidget(1, 4).currentText() == "add"
    assert table.cellWidget(0, 3).value() == 1.0


def test_each_setting_is_one_undo_step(window, qtbot):
    editor = _panel(window, qtbot, [SQUARE, TRI])
    graph, stack = window.doc.graph, window.doc.undo_stack
    count = stack.count()
    editor.table.cellWidget(0, 2).setChecked(True)  # invert Square
    assert graph["Roto1"]["shapes"][0]["invert"] is True
    combo = editor.table.cellWidget(1, 4)
    combo.activated.emit(combo.findText("subtract"))
    assert graph["Roto1"]["shapes"][1]["blend"] == "subtract"
    spin = editor.table.cellWidget(1, 3)
    spin.setValue(0.25)
    spin.editingFinished.emit()
    assert graph["Roto1"]["shapes"][1]["opacity"] == 0.25
    assert stack.count() == count + 3
    stack.undo()
    stack.undo()
    stack.undo()
    shapes = graph["Roto1"]["shapes"]
    assert (shapes[0]["invert"], shapes[1]["blend"], shapes[1]["opacity"]) == (False, "add", 1.0)


def test_an_edit_of_animated_shapes_keys_the_current_frame(window, qtbot):
    moved = dict(SQUARE, points=[[x + 10, y] for x, y in SQUARE["points"]])
    window.doc.set_graph(roto_graph())
    graph = window.doc.graph
    graph["Roto1"]["shapes"] = {"keys": [[1, [SQUARE]], [9, [moved]]], "interpolation": "linear"}
    window.frame_bar.set_frame(5)  # as the artist moves the timeline
    window.properties.show_node("Roto1")
    wait_render(qtbot, window)
    editor = window.properties.rows["shapes"].editor
    editor.table.cellWidget(0, 1).setChecked(False)
    keys = graph["Roto1"]["shapes"]["keys"]
    assert [k[0] for k in keys] == [1, 5, 9]
    assert keys[1][1][0]["enabled"] is False
    assert keys[1][1][0]["points"][0][0] == 13.0  # the in-between position, kept


def test_no_shapes_shows_only_the_summary(window, qtbot):
    editor = _panel(window, qtbot, [])
    assert editor.summary.text().startswith("0 shapes")
    assert not editor.table.isVisibleTo(editor)
