"""Groups in the editor: Ctrl+G and undo, ungroup, opening a group and editing inside,
exposing a knob, the group's knobs in the properties panel, gizmos in Tab search."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from mattebox.app import groups_ui
from tests.app.conftest import state, wait_render

CTRL = QtCore.Qt.KeyboardModifier.ControlModifier
SHIFT = QtCore.Qt.KeyboardModifier.ShiftModifier


def _chain(window):
    """Constant1 -> Grade1 -> Saturation1 -> Blur1, the viewer on Blur1."""
    editor = window.editor
    editor.select(["Grade1"])
    editor.create_node("Saturation")
    window.doc.graph["Saturation1"]["saturation"] = 0.4
    editor.select(["Saturation1"])
    editor.create_node("Blur")
    window.viewer.connect_input(0, "Blur1")
    window.doc.undo_stack.clear()
    window.doc.graph["Grade1"]["gain"] = [1.4, 0.8, 1.1, 1.0]


def _shown(qtbot, window):
    """The linear pixels the viewer shows once it has rendered."""
    layer = wait_render(qtbot, window).layers[0]
    assert layer.error is None, layer.error
    return layer.image.pixels.copy()


def _group(window, qtbot, names):
    window.editor.select(names)
    window.activateWindow()
    window.editor.widget.setFocus()
    qtbot.keyClick(window.editor.widget, QtCore.Qt.Key.Key_G, CTRL)
    return window.editor.selected_names()


def test_ctrl_g_groups_the_selection_in_one_undo_step(window, qtbot):
    _chain(window)
    doc, editor = window.doc, window.editor
    before = state(doc.graph)
    shown = _shown(qtbot, window)

    assert _group(window, qtbot, ["Grade1", "Saturation1"]) == ["Group1"]
    graph = doc.graph
    assert set(graph.nodes) == {"Constant1", "Group1", "Blur1"}
    assert set(graph["Group1"].inner.nodes) == {"Grade1", "Saturation1", "Input1", "Output1"}
    assert graph["Blur1"].inputs == {"Source": "Group1"}
    view = editor.view_of("Group1")
    assert list(view.inputs()) == ["Input1"]
    assert [p.node().name() for p in view.inputs()["Input1"].connected_ports()] == ["Constant1"]
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == "Group Grade1, Saturation1"
    # the picture is the same: the group renders as its nodes did
    np.testing.assert_array_equal(_shown(qtbot, window), shown)

    doc.undo_stack.undo()
    assert state(doc.graph) == before
    assert editor.view_of("Group1") is None and editor.view_of("Saturation1") is not None
    doc.undo_stack.redo()
    assert doc.graph["Group1"].is_group and editor.view_of("Group1") is not None


def test_ctrl_shift_g_ungroups_and_undo_makes_the_group_again(window, qtbot):
    _chain(window)
    doc, editor = window.doc, window.editor
    _group(window, qtbot, ["Grade1", "Saturation1"])
    grouped = state(doc.graph)
    editor.select(["Group1"])
    qtbot.keyClick(editor.widget, QtCore.Qt.Key.Key_G, CTRL | SHIFT)
    assert set(doc.graph.nodes) == {"Constant1", "Grade1", "Saturation1", "Blur1"}
    assert editor.selected_names() == ["Grade1", "Saturation1"]
    assert doc.graph["Blur1"].inputs == {"Source": "Saturation1"}
    doc.undo_stack.undo()
    assert state(doc.graph) == grouped
    assert list(editor.view_of("Group1").inputs()) == ["Input1"]


def test_opening_a_group_shows_and_edits_its_inside_with_undo(window, qtbot):
    _chain(window)
    doc, editor = window.doc, window.editor
    _group(window, qtbot, ["Grade1", "Saturation1"])
    first = _shown(qtbot, window)
    editor.select(["Group1"])
    qtbot.keyClick(editor.widget, QtCore.Qt.Key.Key_Return, CTRL)
    assert doc.scope == ("Group1",)
    assert set(editor._views) == {"Grade1", "Saturation1", "Input1", "Output1"}
    assert editor.breadcrumb.isVisible() and editor.breadcrumb.label.text() == "Top / Group1"

    editor.select(["Saturation1"])  # a node made inside goes inside, into the chain
    assert editor.create_node("Invert") == "Invert1"
    inner = doc.root["Group1"].inner
    assert inner["Output1"].inputs == {"Source": "Invert1"} and "Invert1" not in doc.root
    assert not np.array_equal(_shown(qtbot, window), first)  # re-rendered

    qtbot.keyClick(editor.widget, QtCore.Qt.Key.Key_Backspace, CTRL)  # back out...
    assert doc.scope == () and editor.selected_names() == ["Group1"]
    assert not editor.breadcrumb.isVisible()
    doc.undo_stack.undo()  # ...and the edit inside is undone from outside
    assert "Invert1" not in inner and inner["Output1"].inputs == {"Source": "Saturation1"}
    np.testing.assert_array_equal(_shown(qtbot, window), first)

    editor._double_clicked(editor.view_of("Group1"))  # double-click opens it too
    assert doc.scope == ("Group1",)
    editor.breadcrumb.back.click()
    assert doc.scope == ()


def test_exposing_an_inner_parameter_shows_it_on_the_group(window, qtbot, monkeypatch):
    _chain(window)
    doc, editor, panel = window.doc, window.editor, window.properties
    _group(window, qtbot, ["Grade1", "Saturation1"])
    assert editor.open_group("Group1")
    editor.select(["Grade1"])
    panel.show_node("Grade1")
    monkeypatch.setattr(QtWidgets.QInputDialog, "getText", lambda *a, **k: ("strength", True))
    assert groups_ui.ask_expose(panel, doc, "Grade1", "gain")
    assert [k.name for k in doc.root["Group1"].knobs] == ["strength"]
    editor.close_group()

    panel.show_node("Group1")
    assert list(panel.rows) == ["strength", "disable"]
    assert panel.rows["strength"].editor.param.type == "rgba"
    panel.edit_param("strength", (0.5, 0.5, 0.5, 1.0))
    group = doc.graph["Group1"]
    assert group.inner["Grade1"]["gain"] == (0.5, 0.5, 0.5, 1.0)
    doc.undo_stack.undo()
    assert group.inner["Grade1"]["gain"] == (1.4, 0.8, 1.1, 1.0)
    doc.undo_stack.undo()  # the exposure itself
    qtbot.waitUntil(lambda: list(panel.rows) == ["disable"], timeout=2000)
    assert group.knobs == []


def test_a_saved_gizmo_is_listed_in_tab_search_and_created(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MATTEBOX_GIZMO_PATH", str(tmp_path / "gizmos"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    _chain(window)
    doc, editor = window.doc, window.editor
    _group(window, qtbot, ["Grade1", "Saturation1"])
    editor.select(["Group1"])
    written = window.save_gizmo(str(tmp_path / "gizmos" / "MyDespill.mbx"))
    assert written and (tmp_path / "gizmos" / "MyDespill.mbx").is_file()

    editor.select(["Constant1"])
    editor.open_search()
    qtbot.keyClicks(editor.search.field, "MyDes")
    assert editor.search.list.item(0).text() == "MyDespill"
    qtbot.keyClick(editor.search.field, QtCore.Qt.Key.Key_Return)
    made = doc.graph["MyDespill1"]
    assert made.is_gizmo and made.version == 1
    assert made.inputs == {"Input1": "Constant1"}  # wired below the selected node
    assert list(editor.view_of("MyDespill1").inputs()) == ["Input1"]
    doc.undo_stack.undo()
    assert "MyDespill1" not in doc.graph
