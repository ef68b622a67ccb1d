"""Playback: the timeline's transport, the RAM flipbook, its cache bar, key markers,
and cancelling the render ahead."""

from __future__ import annotations

import threading
import time

import numpy as np
from PySide6 import QtCore
from PySide6.QtTest import QTest

from mattebox.app import render_worker
from mattebox.engine import render
from tests.app.conftest import wait_render

GAIN_KEYS = {"keys": [[1, 1.0], [4, 2.0], [5, 2.0]], "interpolation": "linear"}


def _animate(window, qtbot, fps=60.0):
    """Grade1's gain keyed at 1, 4 and 5 (frames 5-10 hold), the script at ``fps``."""
    graph = window.doc.graph
    graph["Grade1"]["gain"] = GAIN_KEYS
    graph.settings.fps = fps
    wait_render(qtbot, window)
    return graph


def _record_frames(window) -> list[int]:
    frames: list[int] = []
    window.frame_bar.frame_changed.connect(frames.append)
    return frames


def _all_frames(window) -> set[int]:
    first, last = window.doc.graph.settings.frame_range
    return set(range(first, last + 1))


def _stopped_and_quiet(qtbot, window) -> None:
    """Stop playback and wait until the render thread has nothing to do."""
    window.playback.stop()
    renderer = window.viewer.renderer
    qtbot.waitUntil(lambda: renderer.idle and renderer.ahead_idle, timeout=20000)


def test_playing_advances_every_frame_in_order_and_loops(window, qtbot):
    _animate(window, qtbot)
    frames = _record_frames(window)
    window.playback.play(1)
    assert window.playback.playing and window.viewer.playing == 1
    qtbot.waitUntil(lambda: len(frames) >= 14, timeout=30000)
    _stopped_and_quiet(qtbot, window)
    # from frame 1: 2, 3, ... 10, then round to 1 again; no frame skipped
    expected = [(1 + k) % 10 + 1 for k in range(len(frames))]
    assert frames[: len(expected)] == expected
    assert 1 in frames[9:]  # looped


def test_stop_stops_and_the_rate_is_shown_while_playing(window, qtbot):
    _animate(window, qtbot, fps=24.0)
    window.playback.play(1)
    qtbot.waitUntil(lambda: window.playback.reached() is not None, timeout=30000)
    qtbot.waitUntil(lambda: "/24 fps" in window.frame_bar.fps_label.text(), timeout=5000)
    window.playback.stop()
    assert not window.playback.playing and window.viewer.playing == 0
    assert window.frame_bar.fps_label.text() == "24 fps"
    stopped_at = window.frame_bar.frame
    qtbot.wait(300)  # several frame periods
    assert window.frame_bar.frame == stopped_at


def test_play_backward_once_stops_at_the_first_frame(window, qtbot):
    _animate(window, qtbot)
    window.frame_bar.set_loop(False)
    window.frame_bar.set_frame(4)
    frames = _record_frames(window)
    window.playback.play(-1)
    qtbot.waitUntil(lambda: not window.playback.playing, timeout=30000)
    assert frames == [3, 2, 1]
    assert window.frame_bar.frame == 1
    window.playback.play(-1)  # from the end it stops at: from the other end
    assert window.frame_bar.frame == 10
    window.playback.stop()


def test_keys_step_jump_play_and_stop(window, qtbot):
    _animate(window, qtbot)
    canvas = window.viewer.canvas
    canvas.setFocus()
    shortcuts = {key: window.actions[key].shortcut().toString() for key in window.actions}
    assert [shortcuts[k] for k in ("play", "play_backward", "stop")] == ["L", "J", "K"]
    assert [shortcuts[k] for k in ("first_frame", "last_frame")] == ["Home", "End"]
    for key, frame in (
        (QtCore.Qt.Key.Key_Right, 2),
        (QtCore.Qt.Key.Key_Right, 3),
        (QtCore.Qt.Key.Key_Left, 2),
        (QtCore.Qt.Key.Key_End, 10),
        (QtCore.Qt.Key.Key_Home, 1),
    ):
        QTest.keyClick(canvas, key)
        assert window.frame_bar.frame == frame
    QTest.keyClick(canvas, QtCore.Qt.Key.Key_L)
    assert window.playback.direction == 1
    QTest.keyClick(canvas, QtCore.Qt.Key.Key_K)
    assert window.playback.direction == 0
    QTest.keyClick(canvas, QtCore.Qt.Key.Key_J)
    assert window.playback.direction == -1
    QTest.keyClick(canvas, QtCore.Qt.Key.Key_Right)  # stepping stops playback
    assert window.playback.direction == 0
    # the buttons do the same
    window.frame_bar.buttons["play"].click()
    assert window.playback.direction == 1
    window.frame_bar.buttons["stop"].click()
    assert window.playback.direction == 0
    window.frame_bar.buttons["last"].click()
    assert window.frame_bar.frame == 10
    window.frame_bar.buttons["back"].click()
    assert window.frame_bar.frame == 9


def test_the_cache_fills_the_bar_shows_it_and_cached_frames_are_the_rendered_ones(window, qtbot):
    _animate(window, qtbot)
    flipbook = window.viewer.flipbook
    window.playback.play(1)
    qtbot.waitUntil(lambda: flipbook.cached_frames() == _all_frames(window), timeout=30000)
    qtbot.waitUntil(lambda: window.frame_bar.slider.cached == _all_frames(window), timeout=2000)
    _stopped_and_quiet(qtbot, window)
    # frames 4-10 have the same gain: one entry serves them all
    keys = {frame: flipbook.key(frame) for frame in _all_frames(window)}
    assert len(set(keys.values())) == 4 and len({keys[f] for f in range(4, 11)}) == 1
    # a cached frame is what a render of that frame shows
    cached = {frame: flipbook.frame(frame).layers[0].display for frame in (2, 7)}
    assert np.abs(cached[2].astype(int) - cached[7].astype(int)).max() > 10  # they differ
    for frame in (2, 7):
        render.session().cache.clear()
        flipbook.clear()
        window.frame_bar.set_frame(frame)
        result = wait_render(qtbot, window)
        assert result.request.frame == frame
        np.testing.assert_array_equal(result.layers[0].display, cached[frame])


def test_the_budget_evicts_and_playback_goes_on(window, qtbot):
    _animate(window, qtbot)
    flipbook = window.viewer.flipbook
    window.playback.play(1)
    qtbot.waitUntil(lambda: len(flipbook.cache) >= 1, timeout=30000)
    window.playback.stop()
    frame_bytes = flipbook.cache.bytes // len(flipbook.cache)
    flipbook.set_budget(3 * frame_bytes)
    frames = _record_frames(window)
    window.playback.play(1)
    qtbot.waitUntil(lambda: len(frames) >= 14, timeout=30000)
    _stopped_and_quiet(qtbot, window)
    assert len(flipbook.cache) <= 3 and flipbook.cache.bytes <= 3 * frame_bytes
    assert flipbook.cache.evicted > 0
    assert len(window.frame_bar.slider.cached) < 10
    expected = [(frames[0] - 1 + k) % 10 + 1 for k in range(len(frames))]
    assert frames == expected  # evicted frames are rendered again, none skipped
    flipbook.set_budget(0)  # no room at all: each frame is kept until it is shown
    frames.clear()
    window.playback.play(1)
    qtbot.waitUntil(lambda: len(frames) >= 12, timeout=30000)
    _stopped_and_quiet(qtbot, window)
    assert frames == [(frames[0] - 1 + k) % 10 + 1 for k in range(len(frames))]
    assert len(flipbook.cache) == 1


def test_an_edit_invalidates_exactly_the_frames_it_changes(window, qtbot):
    graph = _animate(window, qtbot)
    flipbook = window.viewer.flipbook
    window.playback.play(1)
    qtbot.waitUntil(lambda: flipbook.cached_frames() == _all_frames(window), timeout=30000)
    _stopped_and_quiet(qtbot, window)
    window.frame_bar.set_frame(8)
    wait_render(qtbot, window)
    graph["Grade1"]["gain"] = {"keys": [[1, 0.25], [4, 2.0], [5, 2.0]], "interpolation": "linear"}
    # frames 1-3 change (interpolated towards the edited key); 4 is a key, 5-10 hold it
    qtbot.waitUntil(lambda: flipbook.cached_frames() == set(range(4, 11)), timeout=20000)
    qtbot.waitUntil(lambda: window.frame_bar.slider.cached == set(range(4, 11)), timeout=2000)
    graph["Grade1"]["gain"] = 1.5  # no longer animated: every frame changes, and is one
    qtbot.waitUntil(lambda: flipbook.cached_frames() == _all_frames(window), timeout=20000)
    assert len({flipbook.key(f) for f in _all_frames(window)}) == 1


def _slow_renders(monkeypatch):
    """Renders that take 1.5 s unless cancelled; returns the event set when one starts."""
    started = threading.Event()
    real_render = render.render

    def slow_render(graph, node, frame=None, backend="auto", region=None, cancel=None, **kw):
        started.set()
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            if cancel is not None and cancel():
                raise render.Cancelled()
            time.sleep(0.005)
        return real_render(graph, node, frame=frame, backend=backend, region=region, **kw)

    monkeypatch.setattr(render_worker.render, "render", slow_render)
    return started


def test_stopping_cancels_the_render_ahead_in_flight(window, qtbot, monkeypatch):
    _animate(window, qtbot)
    window.viewer.flipbook.clear()
    started = _slow_renders(monkeypatch)
    renderer = window.viewer.renderer
    window.playback.play(1)
    qtbot.waitUntil(started.is_set, timeout=10000)
    cancelled, began = renderer.ahead_cancelled, time.monotonic()
    window.playback.stop()
    qtbot.waitUntil(lambda: renderer.ahead_cancelled > cancelled, timeout=3000)
    assert time.monotonic() - began < 1.2  # the 1.5 s render did not run to its end
    # the stopped frame is rendered once more in full (probe, errors), nothing ahead
    qtbot.waitUntil(lambda: renderer.idle and renderer.ahead_idle, timeout=10000)
    assert renderer.ahead_rendered == 0
    assert renderer.isRunning()  # waiting for work, not stuck in a render
    assert window.viewer.last_result.request.frame == window.frame_bar.frame


def test_closing_the_window_while_rendering_ahead_leaves_no_thread(window, qtbot, monkeypatch):
    _animate(window, qtbot)
    window.viewer.flipbook.clear()
    started = _slow_renders(monkeypatch)
    renderer = window.viewer.renderer
    window.playback.play(1)
    qtbot.waitUntil(started.is_set, timeout=10000)
    began = time.monotonic()
    window.close()
    assert not renderer.isRunning()
    assert time.monotonic() - began < 1.2
    assert not window.playback.playing
    qtbot.wait(100)  # nothing asked for while closing starts the thread again
    assert not renderer.isRunning()


def test_key_markers_follow_the_selection_and_the_keys(window, qtbot):
    graph = _animate(window, qtbot)
    ruler = window.frame_bar.slider
    window.editor.select(["Grade1"])
    qtbot.waitUntil(lambda: ruler.keys == (1, 4, 5), timeout=2000)
    graph["Grade1"]["offset"] = {"keys": [[7, 0.0], [9, 0.1]], "interpolation": "smooth"}
    qtbot.waitUntil(lambda: ruler.keys == (1, 4, 5, 7, 9), timeout=2000)
    window.editor.select(["Constant1"])
    qtbot.waitUntil(lambda: ruler.keys == (), timeout=2000)
    window.editor.select(["Constant1", "Grade1"])
    qtbot.waitUntil(lambda: ruler.keys == (1, 4, 5, 7, 9), timeout=2000)
    # the ruler draws them where the frames are
    assert ruler.frame_at(ruler.frame_x(7)) == 7


def test_the_budget_is_a_preference_kept_in_the_settings(window, qtbot, tmp_path):
    from mattebox.app.playback import BUDGET_SETTING, budget_from
    from mattebox.app.settings_dialog import PreferencesDialog

    flipbook = window.viewer.flipbook
    assert flipbook.cache.budget == budget_from(window.settings)  # the default
    qtbot.waitUntil(lambda: len(flipbook.cache) >= 1, timeout=5000)  # the frame shown is kept
    dialog = PreferencesDialog(round(flipbook.cache.budget / 2**20), 0, 0)
    dialog.cache_mib.setValue(64)
    dialog._clear()
    window.playback.apply_preferences(dialog.cache_mib.value(), dialog.clear_requested)
    assert flipbook.cache.budget == 64 * 2**20 and len(flipbook.cache) == 0
    assert int(window.settings.value(BUDGET_SETTING)) == 64
    assert budget_from(window.settings) == 64 * 2**20  # the next window starts with it
    qtbot.waitUntil(lambda: window.frame_bar.slider.cached == frozenset(), timeout=2000)
