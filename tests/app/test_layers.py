"""Layers, channels, masks and disable in the editor: D, the Mask port, the channel
editors of the properties panel and the viewer's layer menu."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest
from PySide6 import QtCore

import mattebox as mb
from mattebox.app import node_editor, properties, render_worker
from mattebox.engine import script
from tests.app.conftest import small_graph, wait_render

CHANNELS = ("R", "G", "B", "A", "diffuse.R", "diffuse.G", "diffuse.B", "depth.Z")


@pytest.fixture
def layered_exr(tmp_path):
    """A 24x16 float EXR with the layers rgba, diffuse and depth, random values."""
    path = tmp_path / "layers.exr"
    pixels = np.random.default_rng(7).uniform(0.05, 2.0, (16, 24, len(CHANNELS)))
    spec = oiio.ImageSpec(24, 16, len(CHANNELS), oiio.FLOAT)
    spec.channelnames = CHANNELS
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec), oiio.geterror()
    assert out.write_image(pixels.astype(np.float32))
    out.close()
    return str(path)


def _read(window, path, name="Read1", pos=(200, 0)):
    return window.editor.create_node(
        "Read", pos, params={"file": path, "colorspace": "Raw"}, connect_selection=False
    )


def _connect(window, node, input_name, upstream):
    old = window.doc.graph[node].inputs.get(input_name)
    from mattebox.app import undo

    window.doc.push(undo.SetInputs(window.doc, [(node, input_name, old, upstream)]))


# --------------------------------------------------------------------------- disable


def test_d_disables_the_selection_in_one_undo_step_and_draws_it(window, qtbot):
    editor, graph, stack = window.editor, window.doc.graph, window.doc.undo_stack
    editor.select(["Constant1", "Grade1"])
    count = stack.count()
    editor.widget.setFocus()
    qtbot.keyClick(editor.widget, QtCore.Qt.Key.Key_D)
    assert graph["Constant1"]["disable"] is True and graph["Grade1"]["disable"] is True
    assert stack.count() == count + 1
    for name in ("Constant1", "Grade1"):
        view = editor.view_of(name)
        assert view.disabled() and view.view.disabled  # NodeGraphQt's own state
        assert not view.view._x_item.isVisible()  # drawn by our paint, as a cross
        assert "disabled" in view.view.toolTip()
    stack.undo()
    assert graph["Constant1"]["disable"] is False and graph["Grade1"]["disable"] is False
    assert not editor.view_of("Grade1").disabled()
    stack.redo()
    assert editor.view_of("Grade1").disabled()
    window.actions["disable"].trigger()  # all disabled: D enables them
    assert graph["Grade1"]["disable"] is False and not editor.view_of("Grade1").disabled()
    editor.select(["Grade1"])
    window.actions["disable"].trigger()
    editor.select(["Constant1", "Grade1"])  # mixed: D disables all
    window.actions["disable"].trigger()
    assert graph["Constant1"]["disable"] is True and graph["Grade1"]["disable"] is True


def test_the_drawn_state_follows_the_checkbox_and_a_loaded_script(window, qtbot, tmp_path):
    editor = window.editor
    window.properties.show_node("Grade1")
    window.properties.rows["disable"].editor.box.setChecked(True)
    assert window.doc.graph["Grade1"]["disable"] is True
    assert editor.view_of("Grade1").disabled()
    result = wait_render(qtbot, window)
    constant = window.doc.graph.render("Constant1").pixels
    np.testing.assert_allclose(window.viewer.probe_values(3, 3), constant[3, 3])
    path = tmp_path / "disabled.mbx"
    window.doc.save(str(path))
    window.doc.set_graph(small_graph())
    assert not editor.view_of("Grade1").disabled()
    window.doc.set_graph(script.load(path))
    assert editor.view_of("Grade1").disabled() and not editor.view_of("Constant1").disabled()
    assert result.layers[0].error is None


# --------------------------------------------------------------------------- mask port


def test_the_mask_input_sits_on_the_right_side_with_its_own_pipe(window):
    editor = window.editor
    editor.create_node("Constant", (300, 0), connect_selection=False)
    _connect(window, "Grade1", "Mask", "Constant2")
    item = editor.view_of("Grade1").view
    mask = editor.view_of("Grade1").inputs()["Mask"].view
    source = editor.view_of("Grade1").inputs()["Source"].view
    mask_center = mask.mapToItem(item, mask.boundingRect().center())
    source_center = source.mapToItem(item, source.boundingRect().center())
    assert mask_center.x() >= item.boundingRect().right() - 2  # on the right edge
    assert 0 < mask_center.y() < item.boundingRect().height()  # beside, not on top
    assert source_center.y() <= 0  # the main input stays on top
    assert mask.color[:3] == node_editor.MASK_COLOR
    pipes = mask.connected_pipes
    assert len(pipes) == 1 and isinstance(pipes[0], node_editor.MatteboxPipeItem)
    path = pipes[0].path()
    start, after = path.pointAtPercent(0.0), path.pointAtPercent(0.02)
    assert after.x() > start.x() and abs(after.y() - start.y()) < abs(after.x() - start.x())


# --------------------------------------------------------------------------- viewer layers


def test_the_layer_menu_lists_the_layers_and_depth_is_shown(window, qtbot, layered_exr):
    asked = []
    real_render = render_worker.render.render

    def recording(graph, node, *args, **kwargs):
        asked.append((node.name, kwargs.get("layers")))
        return real_render(graph, node, *args, **kwargs)

    qtbot_monkey = pytest.MonkeyPatch()
    qtbot_monkey.setattr(render_worker.render, "render", recording)
    try:
        viewer = window.viewer
        _read(window, layered_exr)
        viewer.connect_input(0, "Read1")
        result = wait_render(qtbot, window)
        assert asked[-1] == ("Read1", ())  # rgba alone: the fast path
        menu = [viewer.layer_box.itemData(i) for i in range(viewer.layer_box.count())]
        assert sorted(menu) == ["depth", "diffuse", "rgba"] and menu[0] == "rgba"
        assert result.layers[0].shown == "rgba"

        viewer.layer_box.activated.emit(viewer.layer_box.findData("depth"))
        result = wait_render(qtbot, window)
        assert result.request.layer == "depth"
        assert asked[-1] == ("Read1", ["depth"])
        shown = result.layers[0]
        assert shown.shown == "depth" and shown.shown_channels == ("depth.Z",)
        assert "depth" in shown.image.layers
        depth = shown.image.channel("depth.Z")
        display = shown.display
        assert display.shape[:2] == depth.shape
        assert (display[..., 0] == display[..., 1]).all() and (
            display[..., 1] == display[..., 2]
        ).all()
        assert len(np.unique(display[..., 0])) > 10  # the random depth, not a flat fill
        assert [viewer.channel_box.itemText(i) for i in range(viewer.channel_box.count())] == ["Z"]
        assert window.doc.graph.ui["viewer"]["layer"] == "depth"
        viewer.canvas.probe_pinned.emit((5, 4))
        assert viewer.probe_values(5, 4) == pytest.approx((float(depth[4, 5]),))
        assert f"depth.Z {depth[4, 5]:.5f}" in viewer.info.text()

        viewer.set_layer("diffuse")
        result = wait_render(qtbot, window)
        channels = [viewer.channel_box.itemText(i) for i in range(viewer.channel_box.count())]
        assert channels == ["RGB", "R", "G", "B", "Luminance"]
        assert result.layers[0].display.shape[:2] == depth.shape

        viewer.connect_input(1, "Grade1")  # no diffuse there: rgba, the choice kept
        result = wait_render(qtbot, window)
        assert result.layers[0].shown == "rgba" and asked[-1] == ("Grade1", ())
        assert [viewer.layer_box.itemData(i) for i in range(viewer.layer_box.count())] == ["rgba"]
        assert window.doc.graph.ui["viewer"]["layer"] == "diffuse"
        viewer.set_active(0)
        assert wait_render(qtbot, window).layers[0].shown == "diffuse"
    finally:
        qtbot_monkey.undo()


# --------------------------------------------------------------------------- channel editors


def test_channel_combos_offer_the_inputs_channels(window, qtbot, layered_exr):
    panel, graph = window.properties, window.doc.graph
    _read(window, layered_exr)
    _connect(window, "Grade1", "Source", "Read1")
    window.editor.create_node("Constant", (300, 0), connect_selection=False)
    _connect(window, "Grade1", "Mask", "Constant2")
    panel.show_node("Grade1")
    combo = panel.rows["channels"].editor.combo
    offered = properties.combo_items(combo)
    assert offered[:4] == ["rgba", "rgb", "alpha", "all"]
    assert {"depth", "diffuse"} <= set(offered) and set(CHANNELS) <= set(offered)
    mask = panel.rows["mask_channel"].editor.combo
    assert properties.combo_items(mask) == ["R", "G", "B", "A"]  # the Constant's
    _connect(window, "Grade1", "Mask", "Read1")  # the menu follows the connection
    assert sorted(properties.combo_items(mask)) == sorted(CHANNELS)

    combo.lineEdit().setText("R, depth.Z")
    combo.lineEdit().editingFinished.emit()
    assert graph["Grade1"]["channels"] == ("R", "depth.Z")
    mask.activated.emit(mask.findText("depth.Z"))
    assert graph["Grade1"]["mask_channel"] == "depth.Z"
    combo.activated.emit(combo.findText("diffuse"))
    assert graph["Grade1"]["channels"] == "diffuse"
    window.doc.undo_stack.undo()
    assert combo.currentText() == "R, depth.Z"

    combo.lineEdit().setText("nope")  # accepted as a name; the engine says what is wrong
    combo.lineEdit().editingFinished.emit()
    assert graph["Grade1"]["channels"] == "nope"
    window.viewer.connect_input(0, "Grade1")
    qtbot.waitUntil(lambda: "Grade1" in window.editor.errors, timeout=10000)
    assert "nope" in window.editor.errors["Grade1"]
    combo.lineEdit().setText("  ")  # not a channel set: refused with a message
    combo.lineEdit().editingFinished.emit()
    assert graph["Grade1"]["channels"] == "nope"
    assert combo.currentText() == "nope"

    window.editor.create_node("Merge", (400, 0), connect_selection=False)
    _connect(window, "Merge1", "A", "Read1")
    panel.show_node("Merge1")  # a layer set: whole layers only
    also = properties.combo_items(panel.rows["also_merge"].editor.combo)
    assert also[:2] == ["none", "all"] and sorted(also[2:]) == ["depth", "diffuse"]


def test_a_loaded_script_shows_channel_values(window, tmp_path, layered_exr):
    graph = mb.Graph()
    read = graph.add("Read", file=layered_exr, colorspace="Raw")
    graph.add("Grade", inputs={"Source": read}, channels=["R", "depth.Z"], mask_channel="depth.Z")
    graph.add("Shuffle", inputs={"Source": read}, mapping={"A": "depth.Z", "R": "0"})
    path = tmp_path / "channels.mbx"
    graph.save(path)
    window.doc.set_graph(script.load(path))
    panel = window.properties
    panel.show_node("Grade1")
    assert panel.rows["channels"].editor.combo.currentText() == "R, depth.Z"
    assert panel.rows["mask_channel"].editor.combo.currentText() == "depth.Z"
    panel.show_node("Shuffle1")
    assert panel.rows["mapping"].editor.rows() == [("A", "depth.Z"), ("R", "0")]


def test_the_mapping_editor_writes_the_mapping(window, qtbot, layered_exr):
    panel, graph, editor = window.properties, window.doc.graph, window.editor
    _read(window, layered_exr)
    editor.create_node("Shuffle", (200, 80), connect_selection=False)
    _connect(window, "Shuffle1", "Source", "Read1")
    _connect(window, "Shuffle1", "Source2", "Constant1")
    panel.show_node("Shuffle1")
    table = panel.rows["mapping"].editor
    assert sorted(table.outputs) == sorted(CHANNELS) and table.outputs[0] == "R"
    assert {"depth.Z", "2:A", "0", "1"} <= set(table.sources)
    count = window.doc.undo_stack.count()
    table.add_button.click()
    assert graph["Shuffle1"]["mapping"] == (("R", "R"),)
    source = table.table.cellWidget(0, 1)
    assert "depth.Z" in properties.combo_items(source)
    source.activated.emit(source.findText("depth.Z"))
    assert graph["Shuffle1"]["mapping"] == (("R", "depth.Z"),)
    table.add_button.click()
    output, source = table.table.cellWidget(1, 0), table.table.cellWidget(1, 1)
    output.lineEdit().setText("mask.A")  # a new channel, typed
    output.lineEdit().editingFinished.emit()
    source.activated.emit(source.findText("2:A"))
    assert dict(graph["Shuffle1"]["mapping"]) == {"R": "depth.Z", "mask.A": "2:A"}
    qtbot.wait(10)
    assert table.rows() == [("R", "depth.Z"), ("mask.A", "2:A")]
    table.remove_row(0)
    assert graph["Shuffle1"]["mapping"] == (("mask.A", "2:A"),)
    assert window.doc.undo_stack.count() == count + 6  # one step per change
    window.doc.undo_stack.undo()
    qtbot.wait(10)
    assert table.rows() == [("R", "depth.Z"), ("mask.A", "2:A")]
    image = graph.render("Shuffle1")
    assert "mask" in image.layers


def test_the_mapping_table_names_its_columns_after_the_parameter(window):
    panel, editor = window.properties, window.editor
    editor.create_node("Shuffle", (200, 80), connect_selection=False)
    editor.create_node("Expression", (400, 80), connect_selection=False)
    panel.show_node("Shuffle1")
    header = panel.rows["mapping"].editor.table.horizontalHeaderItem
    assert (header(0).text(), header(1).text()) == ("output", "source")
    panel.show_node("Expression1")
    header = panel.rows["expressions"].editor.table.horizontalHeaderItem
    assert (header(0).text(), header(1).text()) == ("channel", "formula")
