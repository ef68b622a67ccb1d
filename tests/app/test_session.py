"""The issue's story, end to end on the example comp: Tab "gra" between the plate and the
comp, drag a gain, change the OCIO view, probe, undo three steps, save, quit, reopen."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6 import QtCore

from tests.app.conftest import state, wait_render

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def test_an_artist_session_on_the_example_comp(window, qtbot, tmp_path):
    for path in EXAMPLES.iterdir():
        if path.suffix in (".mbx", ".exr"):
            shutil.copy(path, tmp_path / path.name)
    comp = tmp_path / "comp.mbx"
    assert window.open_script(str(comp))
    first = wait_render(qtbot, window, timeout=60000)
    assert first.layers[0].node == "Merge1" and first.layers[0].error is None
    opened = state(window.doc.graph)

    editor = window.editor
    editor.select(["Background"])
    editor.open_search()
    qtbot.keyClicks(editor.search.field, "gra")
    qtbot.keyClick(editor.search.field, QtCore.Qt.Key.Key_Return)
    graph = window.doc.graph
    assert graph["Grade2"].inputs == {"Source": "Background"}
    assert graph["Merge1"].inputs["B"] == "Grade2"

    slider = window.properties.rows["gain"].editor.slider
    slider.sliderPressed.emit()
    for position in (300, 350, 400):
        slider.setValue(position)
        qtbot.wait(20)
    slider.sliderReleased.emit()
    assert graph["Grade2"]["gain"] == (1.6, 1.6, 1.6, 1.6)

    window.viewer.set_display("sRGB - Display", "Un-tone-mapped")
    window.viewer.canvas.probe_pinned.emit((100, 300))
    result = wait_render(qtbot, window, timeout=60000)
    assert result.layers[0].error is None
    assert window.viewer.probe_values(100, 300) is not None

    for _ in range(3):  # the gain drag, the creation (with its move), and nothing more
        window.actions["undo"].trigger()
    assert state(graph) == opened

    window.actions["redo"].trigger()
    edited = state(graph)
    window.actions["save"].trigger()
    window.close()
    assert not window.isVisible()

    window.show()
    window.doc.set_graph(type(graph)())
    assert window.open_script(str(comp))
    assert state(window.doc.graph) == edited
    assert window.viewer.view_box.currentText() == "Un-tone-mapped"
    assert wait_render(qtbot, window, timeout=60000).layers[0].error is None
