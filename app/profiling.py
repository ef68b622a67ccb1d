"""Profiling for the artist: which node costs the time.

While profiling is on, the viewer's renders record each node's time and whether it came
from the cache (:class:`mattebox.engine.stats.RenderStats`). :class:`Profiling` shows the
figures of the last render of the viewed node in two places:

- under each node in the node graph ("12.3 ms", "cached", "4.1 ms · fused 2"), when
  View > Render Times on Nodes is checked;
- in the Profiling panel (a dock, View > Profiling Panel): a sortable table of node,
  type, time, cached, share of the frame and a note, the render's total, and the
  cache's size against its budget with a Clear Cache button.

Profiling is on while either is shown; otherwise the viewer's renders record nothing.
The cache's size and budget are also in the status bar, always. How a fused pass's time
is shared among its nodes: ``docs/editor.md`` ("Profiling").
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from mattebox.engine import render
from mattebox.engine.stats import NodeStats, RenderStats

COLUMNS = ("Node", "Type", "Time (ms)", "Cached", "Share", "Note")
SORT_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1


def size_text(nbytes: int) -> str:
    """Bytes for people: ``512 KiB``, ``12.3 MiB``, ``2.0 GiB``."""
    if nbytes >= 2**30:
        return f"{nbytes / 2**30:.1f} GiB"
    if nbytes >= 2**20:
        return f"{nbytes / 2**20:.1f} MiB"
    return f"{nbytes / 2**10:.0f} KiB"


def cache_text() -> str:
    """The engine cache's size against its budget."""
    cache = render.session().cache
    return f"cache {size_text(cache.bytes)} / {size_text(cache.budget)}"


def time_text(seconds: float) -> str:
    """A node's time as the labels show it."""
    ms = seconds * 1000
    return "<0.1 ms" if ms < 0.05 else f"{ms:.1f} ms"


def label_for(entry: NodeStats) -> str:
    """The text under a node: its time, ``cached``, or its share of a fused pass."""
    if entry.cached:
        return "cached"
    text = time_text(entry.seconds)
    if entry.fused_with:
        text += f" \u00b7 fused {len(entry.fused_with) + 1}"
    return text


class _Item(QtWidgets.QTableWidgetItem):
    """A table cell that sorts by the value stored under SORT_ROLE (numbers as numbers)."""

    def __lt__(self, other) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is None or theirs is None:
            return super().__lt__(other)
        return mine < theirs


class ProfilePanel(QtWidgets.QWidget):
    """The table of the last profiled render, the cache line and Clear Cache.

    Signals
    -------
    node_chosen(str)
        A row was double-clicked (the window selects that node).
    clear_requested()
        Clear Cache was pressed.
    """

    node_chosen = QtCore.Signal(str)
    clear_requested = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("ProfilePanel")
        self.stats: RenderStats | None = None
        self.summary = QtWidgets.QLabel("No profiled render yet", self)
        self.summary.setObjectName("ProfileSummary")
        self.summary.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(2, QtCore.Qt.SortOrder.DescendingOrder)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        self.cache_label = QtWidgets.QLabel(cache_text(), self)
        self.cache_label.setObjectName("ProfileCache")
        self.clear_button = QtWidgets.QPushButton("Clear Cache", self)
        self.clear_button.setToolTip(
            "Empty the engine's cache: the next render computes every node"
        )
        self.clear_button.clicked.connect(self.clear_requested)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.cache_label, 1)
        bottom.addWidget(self.clear_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

    def show_stats(self, stats: RenderStats | None) -> None:
        """Fill the table from ``stats`` (None: empty it)."""
        self.stats = stats
        table = self.table
        table.setSortingEnabled(False)
        table.setRowCount(0)
        if stats is None:
            self.summary.setText("No profiled render of the viewed node")
        else:
            proxy = f", proxy 1/{stats.proxy}" if stats.proxy > 1 else ""
            self.summary.setText(
                f"{stats.node} at frame {stats.frame:g} on {stats.backend}{proxy}: "
                f"{stats.seconds * 1000:.1f} ms, of which nodes {stats.total * 1000:.1f} ms"
            )
            entries = stats.by_time()
            table.setRowCount(len(entries))
            for row, entry in enumerate(entries):
                share = stats.share(entry.name)
                cells = (
                    (entry.name, entry.name.lower()),
                    (entry.type, entry.type.lower()),
                    (f"{entry.seconds * 1000:.2f}", entry.seconds),
                    ("yes" if entry.cached else "no", int(entry.cached)),
                    (f"{share * 100:.1f}%", share),
                    (entry.note, entry.note),
                )
                for column, (text, key) in enumerate(cells):
                    item = _Item(text)
                    item.setData(SORT_ROLE, key)
                    if column in (2, 4):
                        item.setTextAlignment(
                            QtCore.Qt.AlignmentFlag.AlignRight
                            | QtCore.Qt.AlignmentFlag.AlignVCenter
                        )
                    if column == 5 and entry.note:
                        item.setToolTip(entry.note)
                    table.setItem(row, column, item)
        table.setSortingEnabled(True)
        table.resizeColumnsToContents()
        self.update_cache()

    def update_cache(self) -> None:
        self.cache_label.setText(cache_text())

    def rows(self) -> list[tuple[str, ...]]:
        """The table's text, row by row, in the order shown."""
        return [
            tuple(self.table.item(r, c).text() for c in range(self.table.columnCount()))
            for r in range(self.table.rowCount())
        ]

    def _double_clicked(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.node_chosen.emit(item.text())


class Profiling(QtCore.QObject):
    """The profiling view of a main window: the panel's dock, the node labels, the View
    menu's actions and the status bar's cache line (see the module docstring)."""

    def __init__(self, window, menu: QtWidgets.QMenu):
        super().__init__(window)
        self.window = window
        self.panel = ProfilePanel(window)
        self.dock = QtWidgets.QDockWidget("Profiling", window)
        self.dock.setObjectName("ProfilingDock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()
        self.status = QtWidgets.QLabel(cache_text(), window)
        self.status.setObjectName("CacheStatus")
        self.status.setToolTip("The engine cache's size and budget (MATTEBOX_CACHE_MEMORY)")
        window.statusBar().addPermanentWidget(self.status)
        menu.addSeparator()
        panel_action = self.dock.toggleViewAction()
        panel_action.setText("&Profiling Panel")
        panel_action.setShortcut(QtGui.QKeySequence("Ctrl+Shift+P"))
        menu.addAction(panel_action)
        self.labels_action = QtGui.QAction("Render &Times on Nodes", window)
        self.labels_action.setCheckable(True)
        self.labels_action.setStatusTip("Show each node's time in the last render under it")
        menu.addAction(self.labels_action)
        self.clear_action = QtGui.QAction("&Clear Cache", window)
        self.clear_action.setStatusTip("Empty the engine's cache (then render again)")
        menu.addAction(self.clear_action)
        window.actions["profiling_panel"] = panel_action
        window.actions["profile_labels"] = self.labels_action
        window.actions["clear_cache"] = self.clear_action
        self.labels_action.toggled.connect(lambda _: self._switch())
        self.dock.visibilityChanged.connect(lambda _: self._switch())
        self.clear_action.triggered.connect(lambda _=False: self.clear_cache())
        self.panel.clear_requested.connect(self.clear_cache)
        self.panel.node_chosen.connect(lambda name: window.editor.select([name]))
        window.viewer.profiled.connect(self.show)
        window.viewer.finished.connect(self.update_cache)

    @property
    def active(self) -> bool:
        """Whether renders are profiled: the labels or the panel are shown."""
        return self.labels_action.isChecked() or self.dock.isVisible()

    def _switch(self) -> None:
        self.window.viewer.set_profile(self.active)
        if not self.labels_action.isChecked():
            self.window.editor.set_profile(None)

    def show(self, stats: RenderStats | None) -> None:
        """A profiled render of the viewed node arrived."""
        if self.dock.isVisible():
            self.panel.show_stats(stats)
        if self.labels_action.isChecked():
            labels = {} if stats is None else {n: label_for(e) for n, e in stats.nodes.items()}
            self.window.editor.set_profile(labels)
        self.update_cache()

    def update_cache(self) -> None:
        self.status.setText(cache_text())
        self.panel.update_cache()

    def clear_cache(self) -> None:
        """Empty the engine's cache and render the viewed node again."""
        render.session().cache.clear()
        self.update_cache()
        self.window.statusBar().showMessage("cache cleared", 3000)
        self.window.viewer.schedule()
