"""Edit > Script Settings: frame range, rate, format and colour management."""

from __future__ import annotations

import PyOpenColorIO as OCIO
from PySide6 import QtWidgets

from mattebox.engine import color
from mattebox.nodes.spec import Format


class SettingsDialog(QtWidgets.QDialog):
    """Edits a copy of the script settings; :meth:`result_settings` gives it back."""

    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Script Settings")
        self.original = settings
        self.first = QtWidgets.QSpinBox()
        self.last = QtWidgets.QSpinBox()
        for box, value in (
            (self.first, settings.frame_range[0]),
            (self.last, settings.frame_range[1]),
        ):
            box.setRange(-100000, 1000000)
            box.setValue(value)
        self.fps = QtWidgets.QDoubleSpinBox()
        self.fps.setRange(1, 1000)
        self.fps.setValue(settings.fps)
        self.width_box, self.height_box = QtWidgets.QSpinBox(), QtWidgets.QSpinBox()
        for box, value in (
            (self.width_box, settings.format.width),
            (self.height_box, settings.format.height),
        ):
            box.setRange(1, 65536)
            box.setValue(value)
        self.aspect = QtWidgets.QDoubleSpinBox()
        self.aspect.setRange(0.1, 10)
        self.aspect.setDecimals(4)
        self.aspect.setValue(settings.format.pixel_aspect)
        self.config = QtWidgets.QComboBox()
        self.config.setEditable(True)
        builtins = [f"ocio://{name}" for name in OCIO.BuiltinConfigRegistry()]
        self.config.addItems(builtins)
        self.config.setCurrentText(color.resolve_config_uri(settings.ocio_config))
        self.config.setToolTip("A built-in OCIO config (ocio://...) or a config file path")
        self.working = QtWidgets.QLineEdit(settings.working_space or "")
        self.working.setPlaceholderText("scene_linear role of the config")
        frames = QtWidgets.QHBoxLayout()
        frames.addWidget(self.first)
        frames.addWidget(QtWidgets.QLabel("to"))
        frames.addWidget(self.last)
        size = QtWidgets.QHBoxLayout()
        size.addWidget(self.width_box)
        size.addWidget(QtWidgets.QLabel("x"))
        size.addWidget(self.height_box)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Frame range", frames)
        form.addRow("Frames per second", self.fps)
        form.addRow("Format", size)
        form.addRow("Pixel aspect", self.aspect)
        form.addRow("OCIO config", self.config)
        form.addRow("Working space", self.working)
        form.addRow(buttons)

    def result_settings(self):
        """The edited settings (a new object)."""
        settings = self.original.copy()
        first, last = self.first.value(), self.last.value()
        settings.frame_range = (min(first, last), max(first, last))
        settings.fps = self.fps.value()
        settings.format = Format(
            self.width_box.value(), self.height_box.value(), self.aspect.value()
        )
        settings.ocio_config = self.config.currentText().strip() or None
        settings.working_space = self.working.text().strip() or None
        return settings


class PreferencesDialog(QtWidgets.QDialog):
    """Edit > Preferences: the editor's own settings, kept per user (not in the script):
    the RAM budget of the viewer's flipbook (display-ready frames for playback)."""

    def __init__(self, budget_mib: int, used_bytes: int, frames: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.cache_mib = QtWidgets.QSpinBox()
        self.cache_mib.setRange(0, 1024 * 1024)
        self.cache_mib.setSuffix(" MiB")
        self.cache_mib.setValue(budget_mib)
        self.cache_mib.setToolTip(
            "RAM for played frames (after the display transform); the least recently "
            "shown frames go first when it is full. 0 keeps only the frame about to be "
            "shown (playback then runs at the speed frames render)."
        )
        self.usage = QtWidgets.QLabel(f"in use: {used_bytes / 2**20:.0f} MiB, {frames} frame(s)")
        self.clear_requested = False
        clear = QtWidgets.QPushButton("Clear")
        clear.setToolTip("Empty the flipbook now")
        clear.clicked.connect(self._clear)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.cache_mib)
        row.addWidget(self.usage, 1)
        row.addWidget(clear)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Playback cache", row)
        form.addRow(buttons)

    def _clear(self) -> None:
        self.clear_requested = True
        self.usage.setText("in use: 0 MiB (cleared on OK)")
