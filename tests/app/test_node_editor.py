"""The node editor is a view of the engine graph: gestures become undoable engine edits."""

from __future__ import annotations

import json

from PySide6 import QtCore, QtWidgets

from mattebox.app import clipboard
from tests.app.conftest import state


def _port_center(editor, name, port, output=False):
    view = editor.view_of(name)
    item = (view.outputs() if output else view.inputs())[port].view
    scene_point = item.sceneBoundingRect().center()
    return editor.widget.mapFromScene(scene_point)


def test_tab_search_creates_a_node_below_the_selected_one(window, qtbot):
    editor, graph = window.editor, window.doc.graph
    editor.select(["Constant1"])
    editor.open_search()
    assert editor.search.isVisible()
    qtbot.keyClicks(editor.search.field, "gra")
    assert editor.search.list.item(0).text() == "Grade"
    qtbot.keyClick(editor.search.field, QtCore.Qt.Key.Key_Return)
    assert not editor.search.isVisible()
    assert "Grade2" in graph
    assert graph["Grade2"].inputs == {"Source": "Constant1"}
    assert graph["Grade1"].inputs == {"Source": "Grade2"}  # inserted into the chain
    assert editor.view_of("Grade2") is not None
    assert editor.selected_names() == ["Grade2"]
    window.doc.undo_stack.undo()
    assert "Grade2" not in graph and graph["Grade1"].inputs == {"Source": "Constant1"}
    assert editor.view_of("Grade2") is None


def test_tab_key_opens_the_search_in_the_graph(window, qtbot):
    editor = window.editor
    editor.select([])
    qtbot.keyClick(editor.widget, QtCore.Qt.Key.Key_Tab)
    assert editor.search.isVisible()
    qtbot.keyClicks(editor.search.field, "blu")
    qtbot.keyClick(editor.search.field, QtCore.Qt.Key.Key_Return)
    assert window.doc.graph["Blur1"].inputs == {}


def test_dragging_from_an_output_to_an_input_connects(window, qtbot):
    editor, graph = window.editor, window.doc.graph
    editor.create_node("Blur", (200, 0), connect_selection=False)
    start = _port_center(editor, "Constant1", "Output", output=True)
    end = _port_center(editor, "Blur1", "Source")
    viewport = editor.widget.viewport()
    qtbot.mousePress(viewport, QtCore.Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, QtCore.Qt.MouseButton.LeftButton, pos=end)
    assert graph["Blur1"].inputs == {"Source": "Constant1"}
    view_port = editor.view_of("Blur1").inputs()["Source"]
    assert [p.node().name() for p in view_port.connected_ports()] == ["Constant1"]
    window.doc.undo_stack.undo()
    assert graph["Blur1"].inputs == {}
    assert view_port.connected_ports() == [] and view_port.view.connected_pipes == []


def test_a_cycle_is_refused_with_a_message(window, qtbot):
    editor, graph = window.editor, window.doc.graph
    editor.create_node("Grade", (0, 140), connect_selection=False)
    graph["Grade2"].set_input("Source", "Grade1")
    qtbot.waitUntil(lambda: editor.view_of("Grade2").inputs()["Source"].connected_ports() != [])
    before = state(graph)
    count = window.doc.undo_stack.count()
    grade1_in = editor.view_of("Grade1").inputs()["Source"].view
    grade2_out = editor.view_of("Grade2").outputs()["Output"].view
    messages = []
    window.doc.message.connect(messages.append)
    editor.widget.connection_changed.emit([], [(grade2_out, grade1_in)])
    assert state(graph) == before
    assert window.doc.undo_stack.count() == count
    assert messages and "cycle" in messages[-1]
    assert "cycle" in window.statusBar().currentMessage()
    ports = editor.view_of("Grade1").inputs()["Source"].connected_ports()
    assert [p.node().name() for p in ports] == ["Constant1"]  # the view kept the old pipe


def test_cutting_a_pipe_disconnects(window):
    editor, graph = window.editor, window.doc.graph
    pipe = editor.view_of("Grade1").inputs()["Source"].view.connected_pipes[0]
    editor.widget.connection_sliced.emit([[pipe.input_port, pipe.output_port]])
    assert graph["Grade1"].inputs == {}
    window.doc.undo_stack.undo()
    assert graph["Grade1"].inputs == {"Source": "Constant1"}


def test_dropping_a_node_on_a_pipe_inserts_it(window):
    editor, graph = window.editor, window.doc.graph
    editor.create_node("Blur", (150, 35), connect_selection=False)
    pipe = editor.view_of("Grade1").inputs()["Source"].view.connected_pipes[0]
    blur = editor.view_of("Blur1")
    editor.widget.insert_node.emit(pipe, blur.id, {blur.view: (150.0, 35.0)})
    assert graph["Blur1"].inputs == {"Source": "Constant1"}
    assert graph["Grade1"].inputs == {"Source": "Blur1"}
    window.doc.undo_stack.undo()
    assert graph["Blur1"].inputs == {} and graph["Grade1"].inputs == {"Source": "Constant1"}


def test_moving_nodes_is_undoable_and_stored_in_ui(window):
    editor, graph = window.editor, window.doc.graph
    item = editor.view_of("Grade1").view
    item.xy_pos = [40.0, 90.0]
    editor.widget.moved_nodes.emit({item: [0.0, 70.0]})
    assert graph.ui["nodes"]["Grade1"]["pos"] == [40.0, 90.0]
    window.doc.undo_stack.undo()
    assert graph.ui["nodes"]["Grade1"]["pos"] == [0.0, 70.0]
    assert list(item.xy_pos) == [0.0, 70.0]


def test_delete_keeps_the_chain_and_undo_restores(window):
    editor, graph = window.editor, window.doc.graph
    editor.select(["Grade1"])
    editor.create_node("Blur")
    assert graph["Blur1"].inputs == {"Source": "Grade1"}
    before = state(graph)
    editor.select(["Grade1"])
    window.actions["delete"].trigger()
    assert "Grade1" not in graph and graph["Blur1"].inputs == {"Source": "Constant1"}
    assert editor.view_of("Grade1") is None
    window.doc.undo_stack.undo()
    assert state(graph) == before
    assert editor.view_of("Grade1") is not None


def test_copy_paste_as_mbx_text(window):
    editor, graph = window.editor, window.doc.graph
    graph["Grade1"]["gain"] = [2.0, 1.5, 1.0, 1.0]
    editor.select(["Constant1", "Grade1"])
    window.actions["copy"].trigger()
    text = QtWidgets.QApplication.clipboard().text()
    data = json.loads(text)
    assert set(data["nodes"]) == {"Constant1", "Grade1"}
    assert clipboard.get()["nodes"]["Grade1"]["params"]["gain"] == [2.0, 1.5, 1.0, 1.0]
    window.actions["paste"].trigger()
    assert graph["Grade2"]["gain"] == (2.0, 1.5, 1.0, 1.0)
    assert graph["Grade2"].inputs == {"Source": "Constant2"}  # links inside the fragment
    assert graph.ui["nodes"]["Grade2"]["pos"] == [30.0, 100.0]
    assert editor.selected_names() == ["Constant2", "Grade2"]
    window.doc.undo_stack.undo()
    assert "Grade2" not in graph and "Constant2" not in graph


def test_duplicate_and_cut(window):
    editor, graph = window.editor, window.doc.graph
    editor.select(["Grade1"])
    window.actions["duplicate"].trigger()
    assert graph["Grade2"].inputs == {}
    editor.select(["Grade2"])
    window.actions["cut"].trigger()
    assert "Grade2" not in graph
    window.actions["paste"].trigger()
    assert "Grade2" in graph


def test_backdrops_are_ui_and_undoable(window):
    editor, graph = window.editor, window.doc.graph
    editor.select(["Constant1", "Grade1"])
    name = editor.create_backdrop()
    drop = graph.ui["backdrops"][name]
    assert drop["pos"][0] < 0 and drop["size"][1] > 70
    assert editor._drops[name].get_property("backdrop_text") == name
    window.doc.undo_stack.undo()
    assert "backdrops" not in graph.ui and name not in editor._drops


def test_nodes_get_family_colours_and_inputs_from_declarations(window):
    editor = window.editor
    editor.create_node("Merge", (300, 0), connect_selection=False)
    merge = editor.view_of("Merge1")
    spec = window.doc.graph["Merge1"].spec
    assert list(merge.inputs()) == list(spec.inputs + spec.optional_inputs)
    assert merge.view.color[:3] != editor.view_of("Grade1").view.color[:3]


def test_tab_search_ranking():
    from mattebox.app.tab_search import rank

    names = ["Grade", "Merge", "OCIODisplay", "Shuffle", "Saturation"]
    assert rank("gra", names)[0] == "Grade"
    assert rank("mrg", names) == ["Merge"]
    assert rank("sat", names)[0] == "Saturation"
    assert rank("", names)[0] == "Grade"


def test_render_dialog_lists_write_nodes(window):
    from mattebox.app.render_dialog import RenderDialog

    window.editor.select(["Grade1"])
    window.editor.create_node("Write", params={"file": "out.####.exr"})
    dialog = RenderDialog(window.doc.graph, ["Write1"], window)
    assert dialog.chosen() == (["Write1"], "1-10")
