"""Render > Render Write Nodes: choose Writes and frames, render off the UI thread with a
progress dialog and Cancel. The work is :func:`mattebox.engine.render.execute`, the same
as ``mattebox render`` on the command line, on a snapshot of the graph."""

from __future__ import annotations

import threading

from PySide6 import QtCore, QtWidgets

from mattebox.engine import render
from mattebox.engine import viewer as engine_viewer
from mattebox.engine.plan import RenderError


class WriteRenderer(QtCore.QThread):
    """Executes Write nodes over frames. ``progress(done, total, path)``;
    ``done(paths, error)`` at the end (error is '' on success, 'cancelled' if cancelled)."""

    progress = QtCore.Signal(int, int, str)
    done = QtCore.Signal(list, str)

    def __init__(self, graph, writes: list[str], frames: str, backend: str = "auto", parent=None):
        super().__init__(parent)
        self.graph = engine_viewer.snapshot(graph)
        self.writes, self.frames, self.backend = list(writes), frames, backend
        self._cancel = threading.Event()
        self.written: list[str] = []

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        def progress(done: int, total: int, path: str) -> None:
            self.written.append(path)
            self.progress.emit(done, total, path)

        error = ""
        try:
            frames = render.frames_from(self.frames, self.graph)
            render.execute(
                self.graph,
                [self.graph[w] for w in self.writes],
                frames=frames,
                backend=self.backend,
                progress=progress,
                cancel=self._cancel.is_set,
            )
        except render.Cancelled:
            error = "cancelled"
        except (RenderError, ValueError) as failure:
            error = str(failure)
        except Exception as failure:  # noqa: BLE001 - report, never crash the editor
            error = f"{type(failure).__name__}: {failure}"
        self.done.emit(list(self.written), error)


class RenderDialog(QtWidgets.QDialog):
    """Which Write nodes and which frames."""

    def __init__(self, graph, selected: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Render Write Nodes")
        first, last = graph.settings.frame_range
        self.frames = QtWidgets.QLineEdit(f"{first}-{last}")
        self.frames.setToolTip("Frames: 1-100, 5, 1-100x2, 1,3,7-9")
        self.writes = QtWidgets.QListWidget()
        names = [w.name for w in graph.writes()]
        chosen = [n for n in names if n in selected] or names
        for name in names:
            item = QtWidgets.QListWidgetItem(f"{name}    {graph[name]['file']}")
            item.setData(QtCore.Qt.ItemDataRole.UserRole, name)
            item.setCheckState(
                QtCore.Qt.CheckState.Checked if name in chosen else QtCore.Qt.CheckState.Unchecked
            )
            self.writes.addItem(item)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Render")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Write nodes", self.writes)
        form.addRow("Frames", self.frames)
        form.addRow(buttons)

    def chosen(self) -> tuple[list[str], str]:
        names = []
        for index in range(self.writes.count()):
            item = self.writes.item(index)
            if item.checkState() == QtCore.Qt.CheckState.Checked:
                names.append(item.data(QtCore.Qt.ItemDataRole.UserRole))
        return names, self.frames.text().strip()
