"""Fixtures for the editor's tests: a main window on a small script, offscreen."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

import mattebox as mb
from mattebox.app import qt_compat
from mattebox.app.main import release_clipboard
from mattebox.nodes.spec import Format

qt_compat.guard_singletons()  # PySide6 6.12.0 on Python 3.11: see app/qt_compat.py


def small_graph() -> mb.Graph:
    """Constant1 (64x48) -> Grade1, positioned, frames 1-10."""
    graph = mb.Graph()
    graph.settings.format = Format(64, 48)
    graph.settings.frame_range = (1, 10)
    constant = graph.add("Constant", color=[0.18, 0.3, 0.45, 1.0])
    graph.add("Grade", inputs={"Source": constant})
    graph.ui["nodes"] = {"Constant1": {"pos": [0, 0]}, "Grade1": {"pos": [0, 70]}}
    graph.ui["viewer"] = {"inputs": ["Grade1", None, None, None, None], "active": 0}
    return graph


class Recorder:
    """What would have been shown in dialogs."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """A shown MainWindow on :func:`small_graph`; dialogs are replaced by recorders."""
    monkeypatch.setenv("MATTEBOX_STATE_DIR", str(tmp_path / "state"))
    from mattebox.app.window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, autosave_interval=0)
    recorder = Recorder()
    win.recorder = recorder
    win.show_error = lambda title, text: recorder.errors.append((title, text))
    win.ask_save_changes = lambda: "discard"
    win.ask_recover = lambda backup: False
    win.resize(900, 700)
    qtbot.addWidget(win)
    win.show()
    win.doc.set_graph(small_graph())
    wait_render(qtbot, win)
    yield win
    win.viewer.shutdown()
    release_clipboard()  # the offscreen platform crashes at exit while it holds our data


def wait_render(qtbot, win, timeout: int = 20000):
    """Wait until the viewer has rendered what was last asked and is idle."""
    viewer = win.viewer
    qtbot.wait(20)  # let pending notifications turn into a render request

    def done():
        if not viewer.is_idle():
            return False
        result = viewer.last_result
        if viewer.shown_node() is None:
            return True
        return result is not None and result.request.serial == viewer._waiting_serial

    qtbot.waitUntil(done, timeout=timeout)
    return viewer.last_result


def state(graph) -> dict:
    """The graph's script form without what the undo stack does not track (the viewer's
    settings and the selection, kept with the script but not edits)."""
    data = graph.to_dict()
    for key in ("viewer", "selection"):
        data["ui"].pop(key, None)
    return data
