"""The main window: viewer over node graph, properties on the right, a frame bar, menus."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from mattebox.app import autosave, clipboard, qt_compat, undo
from mattebox.app.curve_editor import CurveEditor
from mattebox.app.document import Document, new_graph
from mattebox.app.node_editor import NodeEditor
from mattebox.app.playback import Playback
from mattebox.app.profiling import Profiling
from mattebox.app.properties import PropertiesPanel
from mattebox.app.render_dialog import RenderDialog, WriteRenderer
from mattebox.app.settings_dialog import PreferencesDialog, SettingsDialog
from mattebox.app.timeline import FrameBar
from mattebox.app.viewer import VIEWER_INPUTS, Viewer
from mattebox.engine import color, io, script
from mattebox.engine.graph import GraphError

qt_compat.guard_singletons()


def apply_decode_timeout(settings: QtCore.QSettings) -> None:
    """Give the decoders the user's timeout setting, when there is a valid one (a bad
    value is ignored with a warning: the default stays)."""
    if not settings.contains(DECODE_TIMEOUT_KEY):
        return
    value = settings.value(DECODE_TIMEOUT_KEY)
    try:
        io.set_decode_timeout(float(value))
    except (TypeError, ValueError):
        warnings.warn(
            f"{DECODE_TIMEOUT_KEY}: expected seconds, got {value!r}; ignored", stacklevel=2
        )


RECENT_LIMIT = 10
#: The user setting (seconds) after which a decoder that has not answered is stopped
#: (``MATTEBOX_DECODE_TIMEOUT`` wins over it; docs/architecture.md, "Limits").
DECODE_TIMEOUT_KEY = "io/decode_timeout"
PASTE_OFFSET = (30.0, 30.0)
SCRIPT_FILTER = "Mattebox scripts (*.mbx);;All files (*)"

SHORTCUTS_HELP = """<table>
<tr><td><b>Tab</b></td><td>create a node (type a few letters, Enter)</td></tr>
<tr><td><b>1 - 5</b></td><td>connect the selected node to a viewer input and show it</td></tr>
<tr><td><b>Delete</b></td><td>delete the selected nodes (the chain is kept connected)</td></tr>
<tr><td><b>D</b></td><td>disable the selected nodes (again: enable them)</td></tr>
<tr><td><b>Ctrl+C / X / V</b></td><td>copy / cut / paste nodes (as .mbx text)</td></tr>
<tr><td><b>Alt+C</b>, <b>Ctrl+D</b></td><td>duplicate</td></tr>
<tr><td><b>Ctrl+Z</b>, <b>Ctrl+Shift+Z</b></td><td>undo, redo</td></tr>
<tr><td><b>F</b></td><td>fit (in the viewer: the image; in the node graph: the nodes)</td></tr>
<tr><td><b>R G B A Y</b></td><td>viewer: solo a channel (again: back to RGB)</td></tr>
<tr><td><b>W</b></td><td>viewer: A/B wipe</td></tr>
<tr><td><b>Ctrl+click</b></td><td>viewer: pin the pixel probe</td></tr>
<tr><td><b>wheel, middle drag</b></td><td>zoom, pan (Alt+drag pans too)</td></tr>
<tr><td><b>Left / Right</b></td><td>previous / next frame</td></tr>
<tr><td><b>L / J / K</b></td><td>play forward / play backward / stop</td></tr>
<tr><td><b>Home / End</b></td><td>first / last frame</td></tr>
<tr><td><b>drag a node onto a pipe</b></td><td>insert it there</td></tr>
<tr><td><b>Alt+Shift+drag</b></td><td>cut pipes</td></tr>
<tr><td><b>Ctrl+G</b>, <b>Ctrl+Shift+G</b></td><td>group the selected nodes, ungroup</td></tr>
<tr><td><b>Ctrl+Enter</b>, <b>Ctrl+Backspace</b></td><td>open the selected group, leave it</td></tr>
<tr><td><b>Q / V / E</b></td><td>roto (a Roto node selected): select, add points, feather</td></tr>
<tr><td><b>Enter</b></td><td>roto: close the shape being drawn</td></tr>
<tr><td><b>K / L / Z</b></td><td>curve editor: constant / linear / smooth keys</td></tr>
<tr><td><b>Ctrl+Shift+P</b></td><td>the profiling panel</td></tr>
</table>"""


class MainWindow(QtWidgets.QMainWindow):
    """The Mattebox editor window for one script at a time."""

    def __init__(
        self, settings: QtCore.QSettings | None = None, autosave_interval: float | None = None
    ):
        super().__init__()
        self.setObjectName("MainWindow")
        self.settings = settings or QtCore.QSettings("Mattebox", "Mattebox")
        apply_decode_timeout(self.settings)
        self.doc = Document(parent=self)
        self.viewer = Viewer(self.doc, self)
        self.editor = NodeEditor(self.doc, self)
        self.properties = PropertiesPanel(self.doc, self)
        self.frame_bar = FrameBar(self)
        self.playback = Playback(self.doc, self.viewer, self.frame_bar, self.settings, self)
        self.curves = CurveEditor(self.doc, self)
        self.autosaver = autosave.Autosaver(
            self.doc,
            autosave.interval_from(self.settings)
            if autosave_interval is None
            else autosave_interval,
            self,
        )
        self.write_renderer: WriteRenderer | None = None
        self.last_render: tuple[list[str], str] | None = None  # (files, error) of the last
        self.actions: dict[str, QtGui.QAction] = {}
        self._layout_panels()
        self._build_menus()
        self._wire()
        self._on_reset()
        self.resize(1600, 1000)

    # -- layout ---------------------------------------------------------------------------

    def _layout_panels(self) -> None:
        top = QtWidgets.QWidget(self)
        top_layout = QtWidgets.QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(0)
        top_layout.addWidget(self.viewer, 1)
        top_layout.addWidget(self.frame_bar)
        self.split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical, self)
        self.split.addWidget(top)
        self.split.addWidget(self.editor.widget)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.split.setSizes([600, 400])
        self.side = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal, self)
        self.side.addWidget(self.split)
        self.side.addWidget(self.properties)
        self.side.setStretchFactor(0, 4)
        self.side.setStretchFactor(1, 1)
        self.side.setSizes([1160, 440])
        self.setCentralWidget(self.side)
        self.curve_dock = QtWidgets.QDockWidget("Curve Editor", self)
        self.curve_dock.setObjectName("CurveEditorDock")
        self.curve_dock.setWidget(self.curves)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, self.curve_dock)
        self.curve_dock.hide()
        self.statusBar().setObjectName("StatusBar")

    def _action(
        self, key: str, text: str, slot, shortcut=None, menu=None, tip: str = ""
    ) -> QtGui.QAction:
        action = QtGui.QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QtGui.QKeySequence(s) for s in shortcuts])
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        self.actions[key] = action
        if menu is not None:
            menu.addAction(action)
        else:
            self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        keys = QtGui.QKeySequence.StandardKey
        file_menu = bar.addMenu("&File")
        self._action("new", "&New", self.new_script, keys.New, file_menu)
        self._action("open", "&Open...", self.open_dialog, keys.Open, file_menu)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        self._action("save", "&Save", self.save, keys.Save, file_menu)
        self._action("save_as", "Save &As...", self.save_as, "Ctrl+Shift+S", file_menu)
        self._action("revert", "Re&vert", self.revert, None, file_menu)
        self._action("save_gizmo", "Save &Group as Gizmo...", self.save_gizmo, None, file_menu)
        file_menu.addSeparator()
        self._action("quit", "&Quit", self.close, keys.Quit, file_menu)

        edit = bar.addMenu("&Edit")
        undo_action = self.doc.undo_stack.createUndoAction(self, "&Undo")
        undo_action.setShortcuts(QtGui.QKeySequence.StandardKey.Undo)
        redo_action = self.doc.undo_stack.createRedoAction(self, "&Redo")
        redo_action.setShortcuts([QtGui.QKeySequence("Ctrl+Shift+Z"), QtGui.QKeySequence("Ctrl+Y")])
        edit.addAction(undo_action)
        edit.addAction(redo_action)
        self.actions["undo"], self.actions["redo"] = undo_action, redo_action
        edit.addSeparator()
        self._action("cut", "Cu&t", self.cut, keys.Cut, edit)
        self._action("copy", "&Copy", self.copy, keys.Copy, edit)
        self._action("paste", "&Paste", self.paste, keys.Paste, edit)
        self._action("duplicate", "&Duplicate", self.duplicate, ["Alt+C", "Ctrl+D"], edit)
        self._action("delete", "De&lete", self.delete, ["Delete", "Backspace"], edit)
        self._action("select_all", "Select &All", self.select_all, keys.SelectAll, edit)
        self._action(
            "disable",
            "D&isable / Enable",
            self.editor.toggle_disable,
            "D",
            edit,
            "Turn the selected nodes off (their main input passes through), or back on",
        )
        edit.addSeparator()
        self._action(
            "node", "Create &Node...", self.editor.open_search, None, edit, "Tab in the node graph"
        )
        self._action("backdrop", "Create &Backdrop", self.editor.create_backdrop, None, edit)
        self._action("group", "&Group", self.editor.group_selected, "Ctrl+G", edit)
        self._action("ungroup", "U&ngroup", self.editor.ungroup_selected, "Ctrl+Shift+G", edit)
        self._action("open_group", "Open Group (Ctrl+Enter)", self.editor.open_group, None, edit)
        self._action(
            "close_group", "Leave Group (Ctrl+Backspace)", self.editor.close_group, None, edit
        )
        edit.addSeparator()
        self._action("settings", "Script &Settings...", self.edit_settings, None, edit)
        self._action("preferences", "&Preferences...", self.edit_preferences, None, edit)

        render_menu = bar.addMenu("&Render")
        self._action("render", "Render &Write Nodes...", self.render_dialog, "F7", render_menu)

        view = bar.addMenu("&View")
        self._action("fit", "&Fit Viewer", self.viewer.canvas.fit, None, view)
        self._action("one_to_one", "Viewer &1:1", self.viewer.canvas.one_to_one, "Ctrl+1", view)
        self._action("frame_nodes", "Frame &Nodes", self.editor.frame_all, None, view)
        self._action("wipe", "A/B &Wipe", self.viewer.wipe_button.toggle, None, view)
        self.actions["curves"] = self.curve_dock.toggleViewAction()
        self.actions["curves"].setText("&Curve Editor")
        view.addAction(self.actions["curves"])
        view.addSeparator()
        self._action("prev_frame", "Previous Frame", lambda: self._step_frame(-1), "Left", view)
        self._action("next_frame", "Next Frame", lambda: self._step_frame(1), "Right", view)
        self._action("first_frame", "First Frame", self.playback.go_first, "Home", view)
        self._action("last_frame", "Last Frame", self.playback.go_last, "End", view)
        self._action("play", "Play", lambda: self.playback.play(1), "L", view)
        self._action("play_backward", "Play Backward", lambda: self.playback.play(-1), "J", view)
        self._action("stop", "Stop", self.playback.stop, "K", view)
        for index in range(VIEWER_INPUTS):
            self._action(
                f"view_{index + 1}",
                f"Viewer Input {index + 1}",
                lambda i=index: self.viewer.key_input(i),
                str(index + 1),
            )

        self.profiling = Profiling(self, view)  # panel, node labels, Clear Cache

        help_menu = bar.addMenu("&Help")
        self._action("keys", "&Keyboard Shortcuts", self.show_shortcuts, None, help_menu)
        self._action("about", "&About Mattebox", self.show_about, None, help_menu)

    def _grouped(self, names: list[str], group: str) -> None:
        """Viewer inputs that showed a node now in a group show the group (top level)."""
        if self.doc.scope:
            return
        for index, shown in enumerate(self.viewer.inputs):
            if shown in names:
                self.viewer.connect_input(index, group)

    def save_gizmo(self, path: str | None = None) -> str | None:
        """File > Save Group as Gizmo: the selected group (or the open one) as a gizmo
        file; its type is the file's name. Returns the path written."""
        from mattebox.app import groups_ui

        return groups_ui.save_gizmo(self, path)

    def _wire(self) -> None:
        self.doc.modified_changed.connect(self._update_title)
        self.doc.path_changed.connect(self._update_title)
        self.doc.message.connect(self._show_message)
        self.doc.reset.connect(self._on_reset)
        self.doc.changed.connect(self._on_changed)
        self.editor.selection_changed.connect(self._on_selection)
        self.editor.selection_changed.connect(self.playback.set_selection)
        self.editor.selection_changed.connect(self.curves.show_nodes)
        self.curves.dragging.connect(self.viewer.set_draft)
        self.editor.node_activated.connect(self.properties.show_node)
        self.editor.grouped.connect(self._grouped)
        self.viewer.errors_changed.connect(self.editor.set_errors)
        self.viewer.inputs_changed.connect(self.editor.set_viewer_inputs)
        self.properties.dragging.connect(self.viewer.set_draft)
        self.frame_bar.frame_changed.connect(self._on_frame)
        self.autosaver.saved.connect(self._autosaved)

    # -- state ----------------------------------------------------------------------------

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _autosaved(self, path: str) -> None:
        self.statusBar().showMessage(f"autosaved {path}", 3000)

    def _update_title(self, *_) -> None:
        self.setWindowTitle(f"{self.doc.name}[*] \u2014 Mattebox")
        self.setWindowModified(self.doc.is_modified)

    def _on_reset(self) -> None:
        first, last = self.doc.graph.settings.frame_range
        self.frame_bar.set_range(first, last)
        self.frame_bar.set_frame(first)
        self.properties.set_frame(first)
        self.viewer.set_frame(first)
        self.curves.set_frame(first)
        self._update_title()

    def _on_changed(self, change) -> None:
        if change.settings:
            first, last = self.doc.graph.settings.frame_range
            frame = min(max(self.frame_bar.frame, first), last)
            self.frame_bar.set_range(first, last)
            self.frame_bar.set_frame(frame)

    def _on_selection(self, names: list[str]) -> None:
        self.viewer.set_selection(names)
        if names:
            self.properties.show_node(names[-1])
            return
        drops = self.editor.selected_backdrops()
        if drops:
            self.properties.show_backdrop(drops[-1])

    def _on_frame(self, frame: int) -> None:
        self.viewer.set_frame(frame)
        self.properties.set_frame(frame)
        self.curves.set_frame(frame)

    def _step_frame(self, step: int) -> None:
        self.playback.step(step)

    # -- files ------------------------------------------------------------------------------

    def choose_open_path(self) -> str | None:
        folder = str(Path(self.doc.path).parent) if self.doc.path else os.getcwd()
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open Script", folder, SCRIPT_FILTER)
        return path or None

    def choose_save_path(self) -> str | None:
        folder = self.doc.path or os.path.join(os.getcwd(), "untitled.mbx")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save Script", folder, SCRIPT_FILTER)
        if path and not path.lower().endswith(".mbx"):
            path += ".mbx"
        return path or None

    def ask_save_changes(self) -> str:
        """'save', 'discard' or 'cancel' for unsaved changes (a dialog)."""
        buttons = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save the changes to {self.doc.name}?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def ask_recover(self, backup: Path) -> bool:
        """Whether to recover ``backup`` (a dialog)."""
        when = QtCore.QDateTime.fromSecsSinceEpoch(int(backup.stat().st_mtime)).toString()
        answer = QtWidgets.QMessageBox.question(
            self,
            "Recover autosave",
            f"Mattebox did not quit cleanly. An autosave from {when} is newer than the saved "
            f"script:\n{backup}\n\nRecover it?",
        )
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def show_error(self, title: str, text: str) -> None:
        QtWidgets.QMessageBox.warning(self, title, text)

    def maybe_save(self) -> bool:
        """Before the script goes away: True if it may (saved, discarded or unchanged)."""
        if not self.doc.is_modified:
            return True
        answer = self.ask_save_changes()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_script(self) -> None:
        if self.maybe_save():
            self.autosaver.clear()
            self.doc.set_graph(new_graph())

    def open_dialog(self) -> None:
        if self.maybe_save():
            path = self.choose_open_path()
            if path:
                self.open_script(path)

    def open_script(self, path: str, offer_recovery: bool = True) -> bool:
        """Load ``path`` (offering a newer autosave of it first). False on failure."""
        backup = autosave.recoverable(path) if offer_recovery else None
        try:
            if backup is not None and self.ask_recover(backup):
                graph = script.load(backup)
                graph.path = os.path.abspath(path)
                self.autosaver.clear()
                self.doc.set_graph(graph, modified=True)
            else:
                graph = script.load(path)
                graph.path = os.path.abspath(path)
                self.autosaver.clear()
                self.doc.set_graph(graph)
                if backup is not None:
                    autosave.Autosaver.clear(self.autosaver, path)
        except (script.ScriptError, GraphError, color.ColorError) as error:
            self.show_error("Cannot open script", str(error))
            return False
        self._add_recent(graph.path)
        return True

    def recover_untitled(self) -> bool:
        """On a start without a script: offer the autosave of an untitled script whose
        editor died."""
        backup = autosave.orphaned_untitled()
        if backup is None or not self.ask_recover(backup):
            return False
        try:
            graph = script.load(backup)
        except script.ScriptError as error:
            self.show_error("Cannot recover", str(error))
            return False
        graph.path = None
        self.doc.set_graph(graph, modified=True)
        autosave.remove_untitled(backup)
        return True

    def save(self) -> bool:
        if not self.doc.path:
            return self.save_as()
        return self._save_to(self.doc.path)

    def save_as(self) -> bool:
        path = self.choose_save_path()
        return self._save_to(path) if path else False

    def _save_to(self, path: str) -> bool:
        old_backups = self.autosaver.target()
        try:
            self.doc.save(path)
        except (OSError, ValueError, color.ColorError) as error:
            self.show_error("Cannot save", f"{path}: {error}")
            return False
        self.autosaver.clear(str(old_backups))
        self.autosaver.clear()
        self._add_recent(path)
        self.statusBar().showMessage(f"saved {path}", 4000)
        return True

    def revert(self) -> None:
        if not self.doc.path:
            return
        if self.doc.is_modified and self.ask_save_changes() == "cancel":
            return
        self.open_script(self.doc.path, offer_recovery=False)

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: str | None) -> None:
        if not path:
            return
        path = os.path.abspath(path)
        recent = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent", recent[:RECENT_LIMIT])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(
                lambda _=False, p=path: self.maybe_save() and self.open_script(p)
            )
        if not self.recent_menu.actions():
            self.recent_menu.addAction("(none)").setEnabled(False)

    # -- edit -----------------------------------------------------------------------------

    def copy(self) -> None:
        names, drops = self.editor.selected_names(), self.editor.selected_backdrops()
        if names or drops:
            clipboard.put(clipboard.fragment(self.doc.graph, names, drops))
            self.statusBar().showMessage(f"copied {len(names)} node(s)", 3000)

    def cut(self) -> None:
        self.copy()
        self.delete(heal=False)

    def paste(self, data: dict | None = None, offset=PASTE_OFFSET) -> list[str]:
        data = data if data is not None else clipboard.get()
        if data is None:
            self.statusBar().showMessage("the clipboard holds no Mattebox nodes", 4000)
            return []
        try:
            fragment, backdrops = clipboard.prepare_paste(self.doc.graph, data, offset)
        except GraphError as error:
            self.doc.message.emit(str(error))
            return []
        commands = [undo.AddNodes(self.doc, fragment, (), "Paste")]
        if backdrops:
            old = self.doc.graph.ui.get("backdrops", {})
            commands.append(undo.SetBackdrops(self.doc, old, {**old, **backdrops}))
        if not self.doc.push(undo.Compound(self.doc, commands, "Paste")):
            return []
        names = list(fragment["nodes"])
        self.editor.select(names, backdrops)
        return names

    def duplicate(self) -> list[str]:
        names, drops = self.editor.selected_names(), self.editor.selected_backdrops()
        if not names and not drops:
            return []
        return self.paste(clipboard.fragment(self.doc.graph, names, drops))

    def delete(self, heal: bool = True) -> None:
        names, drops = self.editor.selected_names(), self.editor.selected_backdrops()
        commands = []
        if names:
            commands.append(undo.RemoveNodes(self.doc, names, heal=heal))
        if drops:
            old = self.doc.graph.ui.get("backdrops", {})
            commands.append(
                undo.SetBackdrops(self.doc, old, {k: v for k, v in old.items() if k not in drops})
            )
        if commands:
            self.doc.push(undo.Compound(self.doc, commands, commands[0].text()))

    def select_all(self) -> None:
        self.editor.select(list(self.doc.graph.nodes), list(self.doc.graph.ui.get("backdrops", {})))

    def edit_settings(self) -> None:
        dialog = SettingsDialog(self.doc.graph.settings, self)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return
        new = dialog.result_settings()
        try:
            color.working_space(color.get_config(new.ocio_config), new.working_space)
        except color.ColorError as error:
            self.show_error("Script settings", str(error))
            return
        self.doc.push(undo.SetSettings(self.doc, self.doc.graph.settings, new))

    def edit_preferences(self) -> None:
        flipbook = self.viewer.flipbook
        dialog = PreferencesDialog(
            round(flipbook.cache.budget / 2**20), flipbook.cache.bytes, len(flipbook.cache), self
        )
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.playback.apply_preferences(dialog.cache_mib.value(), dialog.clear_requested)

    # -- render -----------------------------------------------------------------------------

    def render_dialog(self) -> None:
        if not self.doc.root.writes():
            self.show_error("Render", "The script has no Write node.")
            return
        dialog = RenderDialog(self.doc.root, self.editor.selected_names(), self)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return
        writes, frames = dialog.chosen()
        if writes:
            self.render_writes(writes, frames)

    def render_writes(self, writes: list[str], frames: str) -> WriteRenderer:
        """Render Write nodes over ``frames`` off the UI thread, with a progress dialog."""
        progress = QtWidgets.QProgressDialog("Rendering...", "Cancel", 0, 100, self)
        progress.setWindowTitle("Render")
        progress.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.setValue(0)
        worker = WriteRenderer(self.doc.root, writes, frames, self.viewer.backend, self)
        progress.canceled.connect(worker.cancel)

        def step(done: int, total: int, path: str) -> None:
            progress.setMaximum(total)
            progress.setValue(done)
            progress.setLabelText(f"{done} / {total}\n{path}")

        def finished(paths: list, error: str) -> None:
            self.last_render = (list(paths), error)
            progress.reset()
            progress.close()
            if error and error != "cancelled":
                self.show_error("Render failed", error)
            else:
                note = "cancelled after" if error else "wrote"
                self.statusBar().showMessage(f"render {note} {len(paths)} file(s)", 8000)
            self.write_renderer = None

        worker.progress.connect(step)
        worker.done.connect(finished)
        self.write_renderer = worker
        worker.start()
        progress.show()
        return worker

    # -- help -------------------------------------------------------------------------------

    def show_shortcuts(self) -> None:
        QtWidgets.QMessageBox.information(self, "Keyboard shortcuts", SHORTCUTS_HELP)

    def show_about(self) -> None:
        import mattebox

        QtWidgets.QMessageBox.about(
            self,
            "About Mattebox",
            f"<b>Mattebox</b> {mattebox.__version__}<br/>A node-based compositor.<br/>"
            "See docs/editor.md for the editor's keys and menus.",
        )

    # -- closing ----------------------------------------------------------------------------

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        if self.write_renderer is not None:
            self.write_renderer.cancel()
            self.write_renderer.wait(10000)
        self.playback.stop()
        self.viewer.shutdown()
        self.autosaver.timer.stop()
        self.autosaver.clear()
        event.accept()
