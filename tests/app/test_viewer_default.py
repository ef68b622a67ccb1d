"""A script without viewer settings (built in Python) opens with the viewer on its last
node, not blank."""

from __future__ import annotations

import numpy as np

import mattebox as mb
from mattebox.app.viewer import default_node
from mattebox.nodes.spec import Format
from tests.app.conftest import wait_render


def _python_graph(with_write: bool = True) -> mb.Graph:
    graph = mb.Graph()
    graph.settings.format = Format(48, 32)
    graph.settings.frame_range = (1, 3)
    board = graph.add("Checkerboard", size=8)
    grade = graph.add("Grade", inputs={"Source": board}, gain=0.5)
    graph.add("Constant", color=[0.1, 0.2, 0.3, 1.0])  # a stray source, added later
    if with_write:
        graph.add("Write", inputs={"Source": grade}, file="out.####.exr")
    return graph


def test_the_last_writes_input_else_the_last_node_nothing_reads():
    assert default_node(_python_graph()) == "Grade1"
    assert default_node(_python_graph(with_write=False)) == "Constant1"
    graph = _python_graph(with_write=False)
    graph.add("Write")  # a Write with nothing connected is not shown
    assert default_node(graph) == "Constant1"
    assert default_node(mb.Graph()) is None


def test_a_python_script_opens_on_its_result(window, qtbot, tmp_path):
    graph = _python_graph()
    path = tmp_path / "built.mbx"
    graph.save(path)
    assert "viewer" not in mb.load(path).ui
    assert window.open_script(str(path))
    result = wait_render(qtbot, window)
    viewer = window.viewer
    assert viewer.shown_node() == "Grade1" and viewer.inputs[0] == "Grade1"
    layer = result.layers[0]
    assert layer.node == "Grade1" and layer.error is None
    expected = mb.load(path).render("Grade1", backend="cpu").pixels
    np.testing.assert_allclose(layer.image.pixels, expected, rtol=0, atol=1e-6)
    assert window.editor.view_of("Grade1").view.viewer_slots == [0]  # the "1" badge
    assert not window.isWindowModified()


def test_saved_viewer_settings_win(window, qtbot):
    graph = _python_graph()
    graph.ui["viewer"] = {"inputs": ["Checkerboard1", None, None, None, None], "active": 0}
    window.doc.set_graph(graph)
    wait_render(qtbot, window)
    assert window.viewer.shown_node() == "Checkerboard1"
