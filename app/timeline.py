"""The timeline under the viewer: transport buttons, a frame ruler with the flipbook's
cache bar and key markers, the frame field, loop/once and the frame rate.

The bar only shows and asks: :class:`mattebox.app.playback.Playback` runs the clock, and
the viewer renders. The ruler is a :class:`QtWidgets.QSlider` (its value is the frame)
that draws itself: frame numbers, a green strip under the frames whose display-ready
pixels are in the RAM cache, a blue tick at each frame where the selected nodes have a
key, and the current frame in orange. Clicking or dragging on it goes to that frame.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from PySide6 import QtCore, QtGui, QtWidgets

from mattebox.nodes.spec import is_animated

RULER_HEIGHT = 30
CACHE_COLOUR = QtGui.QColor(70, 170, 90)
KEY_COLOUR = QtGui.QColor(95, 176, 232)
FRAME_COLOUR = QtGui.QColor(214, 140, 40)
LABEL_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000)


def key_frames(graph, names: Iterable[str]) -> list[int]:
    """The frames (rounded) where parameters of the nodes ``names`` have keys, sorted."""
    frames: set[int] = set()
    for name in names:
        if name not in graph:
            continue
        for value in graph[name].values.values():
            if is_animated(value):
                frames.update(round(float(key[0])) for key in value["keys"])
    return sorted(frames)


def runs(frames: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive frames as ``(first, last)`` runs: ``[1, 2, 3, 7]`` -> ``[(1, 3), (7, 7)]``."""
    out: list[tuple[int, int]] = []
    for frame in sorted(set(frames)):
        if out and frame == out[-1][1] + 1:
            out[-1] = (out[-1][0], frame)
        else:
            out.append((frame, frame))
    return out


class TimeRuler(QtWidgets.QSlider):
    """The frame ruler: a slider over the frame range that paints frames, the cache bar,
    key markers and the current frame. Each frame owns an equal cell of the width."""

    MARGIN = 8

    def __init__(self, parent=None):
        super().__init__(QtCore.Qt.Orientation.Horizontal, parent)
        self.setObjectName("TimeRuler")
        self.setMinimumHeight(RULER_HEIGHT)
        self.setMouseTracking(False)
        self.cached: frozenset[int] = frozenset()
        self.keys: tuple[int, ...] = ()

    # -- geometry -------------------------------------------------------------------------

    def _cell(self) -> float:
        count = self.maximum() - self.minimum() + 1
        return max(1.0, self.width() - 2 * self.MARGIN) / max(1, count)

    def frame_x(self, frame: float) -> float:
        """The x of the centre of ``frame``'s cell."""
        return self.MARGIN + (frame - self.minimum() + 0.5) * self._cell()

    def frame_at(self, x: float) -> int:
        """The frame whose cell holds ``x`` (clamped to the range)."""
        frame = self.minimum() + math.floor((x - self.MARGIN) / self._cell())
        return max(self.minimum(), min(self.maximum(), frame))

    # -- content --------------------------------------------------------------------------

    def set_cached(self, frames: Iterable[int]) -> None:
        frames = frozenset(frames)
        if frames != self.cached:
            self.cached = frames
            self.update()

    def set_keys(self, frames: Iterable[int]) -> None:
        frames = tuple(frames)
        if frames != self.keys:
            self.keys = frames
            self.update()

    # -- painting -------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        height, cell = self.height(), self._cell()
        painter.fillRect(self.rect(), QtGui.QColor(40, 40, 40))
        track = QtCore.QRectF(self.MARGIN, 2, self.width() - 2 * self.MARGIN, height - 4)
        painter.fillRect(track, QtGui.QColor(30, 30, 30))
        for first, last in runs(f for f in self.cached if self.minimum() <= f <= self.maximum()):
            left = self.frame_x(first) - cell / 2
            painter.fillRect(
                QtCore.QRectF(left, height - 6, (last - first + 1) * cell, 4), CACHE_COLOUR
            )
        self._paint_numbers(painter, cell, height)
        painter.setPen(QtGui.QPen(KEY_COLOUR, 2))
        for frame in self.keys:
            if self.minimum() <= frame <= self.maximum():
                x = self.frame_x(frame)
                painter.drawLine(QtCore.QPointF(x, 4), QtCore.QPointF(x, height - 8))
        x = self.frame_x(self.value())
        painter.setPen(QtGui.QPen(FRAME_COLOUR, 2))
        painter.drawLine(QtCore.QPointF(x, 2), QtCore.QPointF(x, height - 2))
        painter.end()

    def _paint_numbers(self, painter: QtGui.QPainter, cell: float, height: int) -> None:
        """A tick on every frame where there is room, numbers every few frames."""
        metrics = painter.fontMetrics()
        label_room = metrics.horizontalAdvance(str(self.maximum())) + 10
        step = next((s for s in LABEL_STEPS if s * cell >= label_room), LABEL_STEPS[-1])
        painter.setPen(QtGui.QColor(90, 90, 90))
        if cell >= 4:
            for frame in range(self.minimum(), self.maximum() + 1):
                x = self.frame_x(frame)
                painter.drawLine(QtCore.QPointF(x, height - 10), QtCore.QPointF(x, height - 7))
        painter.setPen(QtGui.QColor(150, 150, 150))
        first = self.minimum() + (-self.minimum()) % step
        for frame in range(first, self.maximum() + 1, step):
            x = self.frame_x(frame)
            painter.drawText(QtCore.QPointF(x + 2, metrics.ascent() + 2), str(frame))
            painter.drawLine(QtCore.QPointF(x, 2), QtCore.QPointF(x, height - 7))

    # -- mouse ----------------------------------------------------------------------------

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            self.setValue(self.frame_at(event.position().x()))
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.buttons() & QtCore.Qt.MouseButton.LeftButton:
            self.setValue(self.frame_at(event.position().x()))
            event.accept()

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        event.accept()


class FrameBar(QtWidgets.QWidget):
    """The timeline: transport, ruler, frame field, loop/once and the frame rate.

    Signals
    -------
    frame_changed(int)
        The current frame changed (by the artist or by :meth:`set_frame`).
    play_requested(int)
        Play forward (1) or backward (-1) was pressed.
    stop_requested()
        Stop was pressed.
    """

    frame_changed = QtCore.Signal(int)
    play_requested = QtCore.Signal(int)
    stop_requested = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("FrameBar")
        self.slider = TimeRuler(self)
        self.field = QtWidgets.QSpinBox(self)
        self.field.setToolTip("Current frame")
        self.first = QtWidgets.QLabel(self)
        self.last = QtWidgets.QLabel(self)
        self.buttons: dict[str, QtWidgets.QToolButton] = {}
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(2)
        layout.addWidget(self.field)
        for name, tip, icon in (
            ("first", "Go to the first frame (Home)", "SP_MediaSkipBackward"),
            ("back", "Previous frame (Left)", "SP_MediaSeekBackward"),
            ("play_backward", "Play backward (J)", None),
            ("stop", "Stop (K)", "SP_MediaStop"),
            ("play", "Play forward (L)", "SP_MediaPlay"),
            ("forward", "Next frame (Right)", "SP_MediaSeekForward"),
            ("last", "Go to the last frame (End)", "SP_MediaSkipForward"),
        ):
            layout.addWidget(self._button(name, tip, icon))
        layout.addSpacing(4)
        layout.addWidget(self.first)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.last)
        self.loop_button = QtWidgets.QToolButton(self)
        self.loop_button.setObjectName("LoopButton")
        self.loop_button.setCheckable(True)
        self.loop_button.setChecked(True)
        self.loop_button.setAutoRaise(True)
        self.loop_button.toggled.connect(self._loop_toggled)
        self._loop_toggled(True)
        layout.addWidget(self.loop_button)
        self.fps_label = QtWidgets.QLabel(self)
        self.fps_label.setObjectName("FpsLabel")
        self.fps_label.setToolTip("Frames per second reached while playing / the script's rate")
        self.fps_label.setMinimumWidth(
            self.fps_label.fontMetrics().horizontalAdvance("99.9/99 fps")
        )
        layout.addWidget(self.fps_label)
        self.slider.valueChanged.connect(self._moved)
        self.field.valueChanged.connect(self._moved)
        self.buttons["first"].clicked.connect(self.go_first)
        self.buttons["last"].clicked.connect(self.go_last)
        self.buttons["back"].clicked.connect(lambda: self.step(-1))
        self.buttons["forward"].clicked.connect(lambda: self.step(1))
        self.buttons["play"].clicked.connect(lambda: self.play_requested.emit(1))
        self.buttons["play_backward"].clicked.connect(lambda: self.play_requested.emit(-1))
        self.buttons["stop"].clicked.connect(self.stop_requested.emit)
        self.show_rate(None, 24.0)

    def _button(self, name: str, tip: str, icon: str | None) -> QtWidgets.QToolButton:
        button = QtWidgets.QToolButton(self)
        button.setObjectName("Transport")
        button.setAutoRaise(True)
        button.setToolTip(tip)
        style = self.style()
        if icon is None:  # play backward: the play icon mirrored
            pixmap = style.standardIcon(QtWidgets.QStyle.StandardPixmap.SP_MediaPlay).pixmap(16)
            mirrored = pixmap.transformed(QtGui.QTransform().scale(-1, 1))
            button.setIcon(QtGui.QIcon(mirrored))
        else:
            button.setIcon(style.standardIcon(getattr(QtWidgets.QStyle.StandardPixmap, icon)))
        self.buttons[name] = button
        return button

    # -- range and frame ------------------------------------------------------------------

    def set_range(self, first: int, last: int) -> None:
        for widget in (self.slider, self.field):
            widget.blockSignals(True)
            widget.setRange(first, last)
            widget.blockSignals(False)
        self.slider.setTickInterval(max(1, (last - first) // 10))
        self.first.setText(str(first))
        self.last.setText(str(last))
        self.slider.update()

    @property
    def frame(self) -> int:
        return self.slider.value()

    @property
    def frame_range(self) -> tuple[int, int]:
        return self.slider.minimum(), self.slider.maximum()

    def set_frame(self, frame: int) -> None:
        self.slider.setValue(frame)

    def step(self, count: int) -> None:
        """Move ``count`` frames (within the range)."""
        self.set_frame(self.frame + count)

    def go_first(self) -> None:
        self.set_frame(self.slider.minimum())

    def go_last(self) -> None:
        self.set_frame(self.slider.maximum())

    def _moved(self, frame: int) -> None:
        for widget in (self.slider, self.field):
            if widget.value() != frame:
                widget.blockSignals(True)
                widget.setValue(frame)
                widget.blockSignals(False)
        self.frame_changed.emit(frame)

    # -- loop, rate, cache, keys ----------------------------------------------------------

    @property
    def loop(self) -> bool:
        """Loop over the range (True) or stop at its end (False)."""
        return self.loop_button.isChecked()

    def set_loop(self, loop: bool) -> None:
        self.loop_button.setChecked(loop)

    def _loop_toggled(self, loop: bool) -> None:
        self.loop_button.setText("Loop" if loop else "Once")
        self.loop_button.setToolTip(
            "Playback loops over the frame range (click: play once and stop at the end)"
            if loop
            else "Playback stops at the end of the range (click: loop)"
        )

    def show_rate(self, reached: float | None, target: float) -> None:
        """``target`` fps; while playing, the rate ``reached`` beside it."""
        target_text = f"{target:g}"
        if reached is None:
            self.fps_label.setText(f"{target_text} fps")
        else:
            self.fps_label.setText(f"{reached:.1f}/{target_text} fps")

    def set_cached(self, frames: Iterable[int]) -> None:
        """The frames whose display pixels are in the RAM cache (the green bar)."""
        self.slider.set_cached(frames)

    def set_keys(self, frames: Iterable[int]) -> None:
        """The frames where the selected nodes have keys (blue ticks)."""
        self.slider.set_keys(frames)

    def set_playing(self, direction: int) -> None:
        """Show which way playback runs (0: stopped)."""
        self.buttons["play"].setDown(direction > 0)
        self.buttons["play_backward"].setDown(direction < 0)
