"""The properties panel edits the engine graph; the viewer follows with the engine's pixels."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from mattebox.app import properties
from mattebox.engine import render
from mattebox.engine import viewer as engine_viewer
from mattebox.nodes.spec import get
from tests.app.conftest import wait_render


def _engine_display(window, node):
    """What the viewer should show for ``node``: the engine's render plus its display step."""
    viewer = window.viewer
    result = viewer.last_result
    graph = window.doc.graph
    region = result.layers[0].image.data_window
    image = graph.render(node, frame=viewer.frame, region=region)
    ctx = render.context_for(graph, viewer.frame)
    reduced = engine_viewer.reduce(image.pixels, result.request.reduction)
    return engine_viewer.display_image(
        reduced, ctx.ocio_config, ctx.working_space, viewer.display_settings()
    )


def test_editing_a_colour_field_sets_the_graph_and_the_viewer(window, qtbot):
    window.editor.select(["Grade1"])
    panel = window.properties
    assert panel.node_name == "Grade1"
    before = wait_render(qtbot, window).layers[0].display.copy()
    panel.rows["gain"].editor.fields[0].setValue(2.5)
    assert window.doc.graph["Grade1"]["gain"] == (2.5, 1.0, 1.0, 1.0)
    result = wait_render(qtbot, window)
    shown = result.layers[0].display
    assert not np.array_equal(shown, before)
    np.testing.assert_array_equal(shown, _engine_display(window, "Grade1"))
    probe = window.viewer.probe_values(5, 5)
    expected = window.doc.graph.render("Grade1").pixels[5, 5]
    np.testing.assert_allclose(probe, expected, rtol=1e-6)
    window.doc.undo_stack.undo()
    assert window.doc.graph["Grade1"]["gain"] == (1.0, 1.0, 1.0, 1.0)
    assert panel.rows["gain"].editor.fields[0].value() == 1.0


def test_a_slider_drag_is_one_undo_step_with_draft_renders(window, qtbot):
    window.editor.select(["Grade1"])
    editor = window.properties.rows["mix"].editor
    count = window.doc.undo_stack.count()
    drafts = []
    window.viewer.renderer.rendered.connect(lambda r: drafts.append(r.request.draft))
    editor.slider.sliderPressed.emit()
    assert window.viewer.draft
    for position in (900, 700, 500):
        editor.slider.setValue(position)
        qtbot.wait(30)
    editor.slider.sliderReleased.emit()
    assert not window.viewer.draft
    assert window.doc.graph["Grade1"]["mix"] == 0.5
    assert window.doc.undo_stack.count() == count + 1
    wait_render(qtbot, window)
    assert drafts and drafts[-1] is False  # refined after the drag
    window.doc.undo_stack.undo()
    assert window.doc.graph["Grade1"]["mix"] == 1.0


def test_every_param_type_has_an_editor_with_its_doc(window):
    window.editor.create_node("Transform", (200, 0), connect_selection=False)
    window.editor.create_node("Read", (300, 0), connect_selection=False)
    for name, kinds in (
        ("Transform1", {"vec2", "float", "enum"}),
        ("Read1", {"file", "string", "enum", "int"}),
    ):
        window.properties.show_node(name)
        node = window.doc.graph[name]
        types = {p.type for p in node.spec.params}
        assert kinds <= types
        for param in node.spec.params:
            row = window.properties.rows[param.name]
            assert row.editor.toolTip() == param.doc
            assert row.key.isVisibleTo(row) == param.animatable


def test_enum_bool_vec2_and_file_edits(window, tmp_path):
    editor = window.editor
    editor.create_node("Transform", (200, 0), connect_selection=False)
    panel = window.properties
    panel.show_node("Transform1")
    panel.rows["translate"].editor.fields[1].setValue(12.0)
    assert window.doc.graph["Transform1"]["translate"] == (0.0, 12.0)
    combo = panel.rows["filter"].editor.combo
    combo.activated.emit(combo.findText("nearest"))
    assert window.doc.graph["Transform1"]["filter"] == "nearest"
    editor.create_node("Read", (300, 0), connect_selection=False)
    panel.show_node("Read1")
    line = panel.rows["file"].editor.line
    line.setText(str(tmp_path / "x.exr"))
    line.editingFinished.emit()
    assert window.doc.graph["Read1"]["file"] == str(tmp_path / "x.exr")
    panel.show_node("Grade1")
    panel.rows["white_clamp"].editor.box.setChecked(True)
    assert window.doc.graph["Grade1"]["white_clamp"] is True


def test_reset_to_default(window):
    window.doc.graph["Grade1"]["gamma"] = 2.0
    window.properties.show_node("Grade1")
    row = window.properties.rows["gamma"]
    assert row.reset.isEnabled()
    row.reset.click()
    assert "gamma" not in window.doc.graph["Grade1"].values
    window.doc.undo_stack.undo()
    assert window.doc.graph["Grade1"]["gamma"] == (2.0, 2.0, 2.0, 2.0)


def test_keyframes_at_the_current_frame(window):
    panel = window.properties
    panel.show_node("Grade1")
    window.frame_bar.set_frame(2)
    panel.rows["mix"].key.click()
    assert window.doc.graph["Grade1"]["mix"] == {"keys": [[2.0, 1.0]], "interpolation": "linear"}
    window.frame_bar.set_frame(6)
    panel.rows["mix"].editor.field.setValue(0.2)  # animated: editing sets a key here
    value = window.doc.graph["Grade1"]["mix"]
    assert value["keys"] == [[2.0, 1.0], [6.0, 0.2]]
    window.frame_bar.set_frame(4)
    assert abs(panel.rows["mix"].editor.field.value() - 0.6) < 1e-4
    assert not panel.rows["mix"].key.isChecked()
    window.frame_bar.set_frame(6)
    assert panel.rows["mix"].key.isChecked()
    panel.rows["mix"].key.click()  # remove the key at 6
    assert window.doc.graph["Grade1"]["mix"]["keys"] == [[2.0, 1.0]]


def test_key_helpers():
    mix = get("Grade").param("mix")
    animated = properties.toggled_key(mix, 0.5, 3)
    assert animated == {"keys": [[3.0, 0.5]], "interpolation": "linear"}
    assert properties.toggled_key(mix, animated, 3) == 0.5
    two = properties.with_value_at(mix, animated, 5, 1.0)
    assert properties.toggled_key(mix, two, 4)["keys"] == [[3.0, 0.5], [4.0, 0.75], [5.0, 1.0]]


def test_a_keys_interpolation_from_the_key_buttons_menu(window):
    panel = window.properties
    panel.show_node("Grade1")
    window.doc.graph["Grade1"]["mix"] = {"keys": [[2, 1.0], [6, 0.2]]}
    row = panel.rows["mix"]
    window.frame_bar.set_frame(4)  # no key here: nothing to choose
    menu = row.key_menu()
    assert [a.text() for a in menu.actions()] == ["Constant", "Linear", "Smooth"]
    assert not any(a.isEnabled() or a.isChecked() for a in menu.actions())
    window.frame_bar.set_frame(2)
    menu = row.key_menu()
    assert [a.isChecked() for a in menu.actions()] == [False, True, False]
    menu.actions()[0].trigger()  # Constant: frame 2's value held until the key at 6
    assert window.doc.graph["Grade1"]["mix"]["keys"] == [[2.0, 1.0, "constant"], [6.0, 0.2]]
    assert window.doc.undo_stack.undoText() == "Set Grade1.mix key at 2 to constant"
    window.frame_bar.set_frame(3)
    assert row.editor.field.value() == 1.0
    window.frame_bar.set_frame(2)
    row.key_menu().actions()[2].trigger()  # Smooth: 1 - 0.8 * (3t² - 2t³) at t = 1/4
    window.frame_bar.set_frame(3)
    assert abs(row.editor.field.value() - 0.875) < 1e-4
    window.doc.undo_stack.undo()
    window.doc.undo_stack.undo()
    assert window.doc.graph["Grade1"]["mix"]["keys"] == [[2.0, 1.0], [6.0, 0.2]]
    assert abs(row.editor.field.value() - 0.8) < 1e-4  # linear again
    row.key.customContextMenuRequested.emit(QtCore.QPoint(2, 2))  # a right-click shows it
    (shown,) = [m for m in row.findChildren(QtWidgets.QMenu) if m.isVisible()]
    assert [a.text() for a in shown.actions()] == ["Constant", "Linear", "Smooth"]
    shown.close()


def test_key_interpolation_helpers():
    stored = {"keys": [[1.0, 0.0, "smooth"], [5.0, 1.0]], "interpolation": "linear"}
    assert properties.key_interpolation(stored, 1) == "smooth"
    assert properties.key_interpolation(stored, 5) == "linear"
    assert properties.key_interpolation(stored, 3) is None
    assert properties.key_interpolation(0.5, 1) is None
    back = properties.with_key_interpolation(stored, 1, "linear")  # the curve's: not written
    assert back == {"keys": [[1.0, 0.0], [5.0, 1.0]], "interpolation": "linear"}
    held = properties.with_key_interpolation(stored, 5, "constant")
    assert held["keys"] == [[1.0, 0.0, "smooth"], [5.0, 1.0, "constant"]]


def test_rename_from_the_panel(window):
    panel = window.properties
    panel.show_node("Grade1")
    panel.name_field.setText("Warm")
    panel.name_field.editingFinished.emit()
    assert "Warm" in window.doc.graph and window.viewer.inputs[0] == "Warm"
    assert window.editor.view_of("Warm") is not None
    panel.name_field.setText("bad name")
    panel.name_field.editingFinished.emit()
    assert "Warm" in window.doc.graph
    assert "not a valid node name" in window.statusBar().currentMessage()
    window.doc.undo_stack.undo()
    assert "Grade1" in window.doc.graph and window.viewer.inputs[0] == "Grade1"
