"""``mattebox SCRIPT --screenshot``, Render > Write nodes, and the layout of app/."""

from __future__ import annotations

import OpenImageIO as oiio
import pytest
from PySide6 import QtGui

from mattebox.app.main import parse_size, run_editor
from tests.app.conftest import small_graph


def test_screenshot_waits_for_the_viewer_and_saves_the_window(qapp, tmp_path):
    graph = small_graph()
    graph["Grade1"]["gain"] = [2.0, 1.0, 0.5, 1.0]
    script = tmp_path / "shot.mbx"
    graph.save(script)
    out = tmp_path / "out" / "shot.png"
    assert run_editor(str(script), screenshot=str(out), size="800x600") == 0
    image = QtGui.QImage(str(out))
    assert (image.width(), image.height()) == (800, 600)
    colours = {image.pixelColor(x, y).name() for x in range(0, 800, 40) for y in range(0, 600, 40)}
    assert len(colours) > 5  # a real window, not a blank one


def test_parse_size():
    assert parse_size("1600x1000") == (1600, 1000)


def test_render_write_nodes_with_progress(window, qtbot, tmp_path):
    graph = window.doc.graph
    window.editor.select(["Grade1"])
    window.editor.create_node(
        "Write", params={"file": str(tmp_path / "out.####.exr"), "colorspace": "ACEScg"}
    )
    window.render_writes(["Write1"], "1-3")
    qtbot.waitUntil(lambda: window.write_renderer is None, timeout=30000)
    paths, error = window.last_render
    assert error == "" and len(paths) == 3
    for frame in (1, 2, 3):
        assert (tmp_path / f"out.{frame:04d}.exr").exists()
    pixels = oiio.ImageBuf(str(tmp_path / "out.0001.exr")).get_pixels(oiio.FLOAT)
    reference = graph.render("Grade1").pixels  # the Write holds what the engine renders
    assert abs(float(pixels[0, 0, 0]) - float(reference[0, 0, 0])) < 1e-3


def test_render_can_be_cancelled(window, qtbot, tmp_path):
    window.editor.select(["Grade1"])
    window.editor.create_node("Write", params={"file": str(tmp_path / "c.####.exr")})
    worker = window.render_writes(["Write1"], "1-10")
    worker.cancel()
    qtbot.waitUntil(lambda: window.write_renderer is None, timeout=30000)
    paths, error = window.last_render
    assert error == "cancelled" and len(paths) < 10


def test_the_editor_without_a_display_says_so_in_one_line(monkeypatch):
    from mattebox.app.cli import main

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert str(stopped.value.code).startswith("error: no display for the editor")
