"""Playback: the clock that steps the timeline at the script's frame rate.

A flipbook plays what is ready and waits for what is not: on each tick of a
:class:`QtCore.QTimer` the next frame (forward or backward, wrapping round the range when
the timeline loops, stopping at its end when it plays once) is shown if the viewer's
flipbook holds it; if not, playback holds the current frame until the render thread has
put it there, never skipping one. The ticks aim at the script's rate (each frame is due
one period after the last was due, so timer rounding does not drift); a frame shown late
moves the schedule on rather than rushing the next ones. The rate reached over the last
second is shown beside the target while playing.

It also keeps the timeline's cache bar (the frames the flipbook holds for the current
view) and its key markers (the frames where the selected nodes have keys) up to date, and
the flipbook's byte budget from the settings (``playback/cache_mib``).
"""

from __future__ import annotations

import time
from collections import deque

from PySide6 import QtCore

from mattebox.app.timeline import FrameBar, key_frames
from mattebox.engine.flipbook import default_budget

BUDGET_SETTING = "playback/cache_mib"


def budget_from(settings: QtCore.QSettings | None) -> int:
    """The flipbook budget in bytes: the ``playback/cache_mib`` setting, else the default
    (2 GiB, or a quarter of the RAM where that is less)."""
    value = settings.value(BUDGET_SETTING) if settings is not None else None
    try:
        mib = float(value)
    except (TypeError, ValueError):
        return default_budget()
    return max(0, int(mib * 2**20))


class Playback(QtCore.QObject):
    """Plays the timeline through the viewer's flipbook.

    Signals
    -------
    state_changed(int)
        Playback started forward (1), backward (-1), or stopped (0).
    """

    state_changed = QtCore.Signal(int)

    def __init__(self, doc, viewer, bar: FrameBar, settings=None, parent=None):
        super().__init__(parent)
        self.doc, self.viewer, self.bar = doc, viewer, bar
        self.settings = settings
        self.direction = 0
        self.waiting = False  # the next frame is not cached yet: holding this one
        self.shown: deque[float] = deque(maxlen=25)  # when the last frames were shown
        self.selection: list[str] = []
        self._due = 0.0
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._bar_timer = QtCore.QTimer(self)  # the cache bar, at most every 50 ms
        self._bar_timer.setSingleShot(True)
        self._bar_timer.setInterval(50)
        self._bar_timer.timeout.connect(self.refresh_cache_bar)
        viewer.flipbook.set_budget(budget_from(settings))
        viewer.flipbook.changed.connect(self._bar_timer.start)
        bar.play_requested.connect(self.play)
        bar.stop_requested.connect(self.stop)
        bar.loop_button.toggled.connect(self._loop_toggled)
        doc.changed.connect(self._on_changed)
        doc.reset.connect(self._on_reset)
        self._on_reset()

    # -- the transport --------------------------------------------------------------------

    @property
    def fps(self) -> float:
        """The script's frame rate."""
        return max(0.1, float(self.doc.graph.settings.fps))

    @property
    def playing(self) -> bool:
        return self.direction != 0

    def play(self, direction: int = 1) -> None:
        """Play forward (1) or backward (-1) from the current frame; from the other end
        when it is at the end it would stop at."""
        direction = 1 if direction >= 0 else -1
        first, last = self.bar.frame_range
        if not self.bar.loop and self.bar.frame == (last if direction > 0 else first):
            self.bar.set_frame(first if direction > 0 else last)
        self.direction = direction
        self.waiting = False
        self.shown.clear()
        self.viewer.set_playing(direction, self.bar.loop)
        self.bar.set_playing(direction)
        self._due = time.perf_counter() + 1.0 / self.fps
        self._timer.start(round(1000.0 / self.fps))
        self._show_rate()
        self.state_changed.emit(direction)

    def stop(self) -> None:
        """Stop where playback is (the render ahead in progress is cancelled)."""
        if not self.playing:
            return
        self.direction = 0
        self.waiting = False
        self._timer.stop()
        self.viewer.set_playing(0, self.bar.loop)
        self.bar.set_playing(0)
        self._show_rate()
        self.state_changed.emit(0)

    def toggle(self, direction: int = 1) -> None:
        """Play that way, or stop if playback already runs that way."""
        if self.direction == direction:
            self.stop()
        else:
            self.play(direction)

    def step(self, count: int) -> None:
        """Stop, then move ``count`` frames."""
        self.stop()
        self.bar.step(count)

    def go_first(self) -> None:
        self.stop()
        self.bar.go_first()

    def go_last(self) -> None:
        self.stop()
        self.bar.go_last()

    def reached(self) -> float | None:
        """Frames per second over the last frames shown (None: fewer than two yet)."""
        if len(self.shown) < 2 or self.shown[-1] <= self.shown[0]:
            return None
        return (len(self.shown) - 1) / (self.shown[-1] - self.shown[0])

    # -- the clock ------------------------------------------------------------------------

    def next_frame(self) -> int | None:
        """The frame after the current one in the playing direction (None: the end of
        the range when playing once)."""
        first, last = self.bar.frame_range
        frame = self.bar.frame + self.direction
        if first <= frame <= last:
            return frame
        if not self.bar.loop:
            return None
        return first if self.direction > 0 else last

    def _tick(self) -> None:
        if not self.playing:
            return
        target = self.next_frame()
        if target is None:
            self.stop()
            return
        now = time.perf_counter()
        period = 1.0 / self.fps
        if not self.viewer.flipbook.ready(target):
            self.waiting = True  # hold: poll a few times a frame until it is rendered
            self.viewer.flipbook.steer(self.bar.frame)
            self._timer.start(max(1, round(period * 250)))
            return
        self.waiting = False
        self.bar.set_frame(target)  # the viewer shows it from the flipbook
        self.shown.append(time.perf_counter())
        self._show_rate()
        self._due = max(self._due + period, now)
        self._timer.start(max(0, round((self._due - time.perf_counter()) * 1000)))

    def _show_rate(self) -> None:
        self.bar.show_rate(self.reached() if self.playing else None, self.fps)

    def _loop_toggled(self, loop: bool) -> None:
        self.viewer.flipbook.steer(self.bar.frame, None, loop)

    def apply_preferences(self, cache_mib: int, clear: bool = False) -> None:
        """A new flipbook budget (kept in the settings), and empty it if asked."""
        if self.settings is not None:
            self.settings.setValue(BUDGET_SETTING, int(cache_mib))
        self.viewer.flipbook.set_budget(int(cache_mib) * 2**20)
        if clear:
            self.viewer.flipbook.clear()

    # -- the cache bar and key markers ----------------------------------------------------

    def refresh_cache_bar(self) -> None:
        self.bar.set_cached(self.viewer.flipbook.cached_frames())

    def set_selection(self, names: list[str]) -> None:
        """The selected nodes: their keys are marked on the timeline."""
        self.selection = list(names)
        self.refresh_keys()

    def refresh_keys(self) -> None:
        self.bar.set_keys(key_frames(self.doc.graph, self.selection))

    def _on_changed(self, change) -> None:
        for old, new in change.renamed:
            self.selection = [new if n == old else n for n in self.selection]
        if change.params or change.removed or change.renamed:
            self.refresh_keys()
        if change.settings:
            self._show_rate()

    def _on_reset(self) -> None:
        self.stop()
        self.selection = []
        self.refresh_keys()
        self._show_rate()
