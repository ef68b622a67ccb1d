"""The curve editor draws the engine's interpolation and edits keys as one undo step each."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from mattebox.app import curve_editor
from mattebox.app.curve_editor import CurveId, KeyRef
from mattebox.nodes.spec import get
from tests.app.conftest import small_graph, state, wait_render

Qt = QtCore.Qt
LEFT, MIDDLE = Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton
NONE, SHIFT, CTRL = (
    Qt.KeyboardModifier.NoModifier,
    Qt.KeyboardModifier.ShiftModifier,
    Qt.KeyboardModifier.ControlModifier,
)
GAIN_R, GAIN_G = CurveId("Grade1", "gain", 0, "r"), CurveId("Grade1", "gain", 1, "g")
MIX = CurveId("Grade1", "mix")


def animated_graph():
    """:func:`small_graph` with Grade1's gain (smooth, random) and mix (linear with a
    constant segment) animated, and Constant1's colour."""
    graph = small_graph()
    rng = np.random.default_rng(11)
    gain = [[f, [*(float(v) for v in rng.uniform(0.4, 1.8, 3)), 1.0]] for f in (1, 4, 8)]
    graph["Grade1"]["gain"] = {"keys": gain, "interpolation": "smooth"}
    mix = [float(v) for v in rng.uniform(0.1, 0.9, 3)]
    graph["Grade1"]["mix"] = {
        "keys": [[2, mix[0]], [5, mix[1], "constant"], [9, mix[2]]],
        "interpolation": "linear",
    }
    graph["Constant1"]["color"] = {"keys": [[1, [0.2, 0.3, 0.4, 1.0]], [10, [0.6, 0.5, 0.4, 1.0]]]}
    return graph


@pytest.fixture
def curves(window, qtbot):
    """The curve editor, opened from the View menu (floating, 820x380) on Grade1."""
    window.doc.set_graph(animated_graph())
    window.actions["curves"].trigger()
    dock = window.curve_dock
    dock.setFloating(True)
    dock.resize(820, 380)
    panel = window.curves
    qtbot.waitUntil(lambda: panel.view.isVisible() and panel.view.width() > 400)
    window.editor.select(["Grade1"])
    panel.view.setFocus()
    return panel


def reference(stored: dict, index: int | None, frame: float) -> float:
    """A curve's value from the interpolation's formulas, in float64: the end values hold
    outside the keys; constant holds, linear blends, smooth is the cubic Hermite with
    Catmull-Rom slopes (flat at the first and last key)."""
    keys = stored["keys"]
    frames = np.array([k[0] for k in keys], dtype=np.float64)
    values = np.array([k[1] if index is None else k[1][index] for k in keys], dtype=np.float64)
    if frame <= frames[0]:
        return values[0]
    if frame >= frames[-1]:
        return values[-1]
    i = int(np.searchsorted(frames, frame, side="right") - 1)
    kind = keys[i][2] if len(keys[i]) > 2 else stored["interpolation"]
    span = frames[i + 1] - frames[i]
    t = (frame - frames[i]) / span
    if kind == "constant":
        return values[i]
    if kind == "linear":
        return values[i] + (values[i + 1] - values[i]) * t

    def slope(j):
        if j in (0, len(keys) - 1):
            return 0.0
        return (values[j + 1] - values[j - 1]) / (frames[j + 1] - frames[j - 1])

    h = np.array([2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2])
    return h @ [values[i], slope(i) * span, values[i + 1], slope(i + 1) * span]


def mouse(widget, kind, pos, button=LEFT, buttons=None, mods=NONE):
    """Send one mouse event (with the buttons held during a move)."""
    pos = QtCore.QPointF(pos)
    held = button if buttons is None else buttons
    event = QtGui.QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, held, mods)
    QtWidgets.QApplication.sendEvent(widget, event)


def drag(widget, start, end, mods=NONE, steps=4, button=LEFT):
    """Press at ``start``, move in ``steps`` to ``end``, release there."""
    Type = QtCore.QEvent.Type
    mouse(widget, Type.MouseButtonPress, start, button, mods=mods)
    for step in range(1, steps + 1):
        point = QtCore.QPointF(start) + (QtCore.QPointF(end) - QtCore.QPointF(start)) * (
            step / steps
        )
        mouse(widget, Type.MouseMove, point, Qt.MouseButton.NoButton, button, mods)
    mouse(widget, Type.MouseButtonRelease, end, button, Qt.MouseButton.NoButton, mods)


def screen(view, curve, frame) -> QtCore.QPoint:
    """Where the key of ``curve`` at ``frame`` is drawn (whole pixels)."""
    value = {r.frame: v for r, v in view.keys_of(curve)}[frame]
    return view.to_screen(frame, value).toPoint()


def settle(qtbot, window):
    """Wait until the viewer has rendered the last edit: pytest-qt closes the window
    (and the viewer's render thread) before fixtures end, and a render asked for after
    that would start the thread again as the window is deleted."""
    wait_render(qtbot, window)


def keys(window, node="Grade1", param="gain"):
    return window.doc.graph[node][param]["keys"]


# --------------------------------------------------------------------------- listing


def test_the_view_menu_opens_the_panel_on_the_selections_animated_params(window, qtbot):
    window.doc.set_graph(animated_graph())
    assert not window.curve_dock.isVisible()
    action = window.actions["curves"]
    assert action in window.menuBar().actions()[3].menu().actions()  # View
    action.trigger()
    assert window.curve_dock.isVisible()
    panel = window.curves
    window.editor.select(["Grade1"])
    labels = [c.label for c in panel.curves]
    assert labels == [
        "Grade1 \u203a gain \u203a r",
        "Grade1 \u203a gain \u203a g",
        "Grade1 \u203a gain \u203a b",
        "Grade1 \u203a gain \u203a a",
        "Grade1 \u203a mix",
    ]  # not the static ones (lift, gamma, ...)
    tree = panel.tree
    grade = tree.topLevelItem(0)
    assert grade.text(0) == "Grade1"
    assert [grade.child(i).text(0) for i in range(grade.childCount())] == ["gain", "mix"]
    gain = grade.child(0)
    assert [gain.child(i).text(0) for i in range(4)] == ["r", "g", "b", "a"]
    window.editor.select(["Constant1", "Grade1"])
    assert [c.label for c in panel.curves][:4] == [
        f"Constant1 \u203a color \u203a {c}" for c in "rgba"
    ]
    assert len(panel.curves) == 9
    window.editor.select([])  # an empty selection keeps what is shown, like the properties
    assert len(panel.curves) == 9
    window.doc.graph["Grade1"]["mix"] = 0.5  # no longer animated: the list follows
    qtbot.waitUntil(lambda: len(panel.curves) == 8)
    action.trigger()
    assert not window.curve_dock.isVisible()
    settle(qtbot, window)


def test_unchecked_curves_are_hidden(curves, window, qtbot):
    items = curves.curve_items()
    assert set(curves.visible_curves()) == set(curves.curves)
    items[MIX].setCheckState(0, Qt.CheckState.Unchecked)
    assert MIX not in curves.visible_curves()
    gain_item = items[GAIN_R].parent()
    gain_item.setCheckState(0, Qt.CheckState.Unchecked)  # a parameter hides its components
    assert curves.visible_curves() == []
    gain_item.setCheckState(0, Qt.CheckState.Checked)
    assert curves.visible_curves() == curves.curves[:4]

    # --------------------------------------------------------------------------- drawing
    settle(qtbot, window)


def test_the_drawn_curves_are_the_engines_values(curves, window, qtbot):
    view, graph = curves.view, curves.doc.graph
    view.set_range(-1.5, 11.5, -0.5, 2.5)
    rect = view.plot_rect()
    for curve in curves.visible_curves():
        declared = get("Grade").param(curve.param)
        stored = graph["Grade1"][curve.param]
        points = view.polyline(curve)
        frames = np.array([f for f, _ in points])
        assert frames[0] == view.left and frames[-1] == view.right
        assert np.all(np.diff(frames) > 0)
        # dense: no two points more than two pixels apart
        assert np.diff(frames).max() <= 2.0 / rect.width() * (view.right - view.left) * 1.01
        for frame, value in points:
            engine = declared.at(stored, frame)
            assert value == (engine if curve.index is None else engine[curve.index])
            assert value == pytest.approx(reference(stored, curve.index, frame), abs=1e-12)
        drawn = set(frames)
        for key in stored["keys"]:
            assert key[0] in drawn and math.nextafter(key[0], -math.inf) in drawn
    # the constant segment of mix jumps at frame 9: held up to it, the next key's at it
    mix = dict(view.polyline(MIX))
    held, last = graph["Grade1"]["mix"]["keys"][1][1], graph["Grade1"]["mix"]["keys"][2][1]
    assert mix[math.nextafter(9.0, -math.inf)] == held and mix[9.0] == last

    # --------------------------------------------------------------------------- editing
    settle(qtbot, window)


def test_double_click_on_a_curve_adds_a_key_on_it(curves, window, qtbot):
    view, graph = curves.view, window.doc.graph
    before = state(graph)
    declared = get("Grade").param("gain")
    on_curve = declared.at(graph["Grade1"]["gain"], 6.0)
    count = window.doc.undo_stack.index()
    pos = view.to_screen(6.2, on_curve[1]).toPoint()  # on g's curve, near frame 6
    qtbot.mouseDClick(view, LEFT, pos=pos)
    frames = [k[0] for k in keys(window)]
    assert frames == [1.0, 4.0, 6.0, 8.0]
    assert tuple(keys(window)[2][1]) == pytest.approx(on_curve, abs=1e-12)
    assert view.selection == {KeyRef(GAIN_G, 6.0)}
    assert window.doc.undo_stack.index() == count + 1
    window.doc.undo_stack.undo()
    assert state(graph) == before
    window.doc.undo_stack.redo()
    assert [k[0] for k in keys(window)] == [1.0, 4.0, 6.0, 8.0]
    settle(qtbot, window)


def test_ctrl_click_adds_a_key_at_the_clicked_value(curves, window, qtbot):
    view, graph = curves.view, window.doc.graph
    before = graph["Grade1"]["mix"]
    pos = view.to_screen(6.3, 0.5).toPoint()
    frame, value = view.to_curve(QtCore.QPointF(pos))
    nearest = min(
        curves.visible_curves(),
        key=lambda c: abs(
            view.to_screen(frame, curve_editor.component(
                graph["Grade1"].value_at(c.param, frame), c.index)).y() - pos.y()
        ),
    )  # fmt: skip
    qtbot.mouseClick(view, LEFT, CTRL, pos)
    stored = graph["Grade1"][nearest.param]
    key = next(k for k in stored["keys"] if k[0] == 6.0)  # snapped to a whole frame
    got = key[1] if nearest.index is None else key[1][nearest.index]
    assert got == pytest.approx(value, abs=1e-9)
    window.doc.undo_stack.undo()
    assert graph["Grade1"]["mix"] == before and 6.0 not in [k[0] for k in keys(window)]
    pos = view.to_screen(3.4, 0.5).toPoint()  # Ctrl+Shift: the frame as clicked
    qtbot.mouseClick(view, LEFT, CTRL | SHIFT, pos)
    frame, _ = view.to_curve(QtCore.QPointF(pos))
    added = [
        k[0] for k in keys(window) + keys(window, param="mix") if k[0] not in (1, 2, 4, 5, 8, 9)
    ]
    assert added == [pytest.approx(frame, abs=1e-9)] and frame % 1 != 0
    settle(qtbot, window)


def test_dragging_a_key_moves_it_in_one_undo_step(curves, window, qtbot):
    view, graph = curves.view, window.doc.graph
    before = state(graph)
    old = [list(k[1]) for k in keys(window)]
    count = window.doc.undo_stack.index()
    drafts = []
    curves.dragging.connect(drafts.append)
    start = screen(view, GAIN_G, 4.0)
    end = view.to_screen(5.3, old[1][1] + 0.3).toPoint()
    drag(view, start, end)
    _, v0 = view.to_curve(QtCore.QPointF(start))
    _, v1 = view.to_curve(QtCore.QPointF(end))
    moved = keys(window)
    assert [k[0] for k in moved] == [1.0, 5.0, 8.0]  # snapped to a whole frame
    assert moved[1][1][1] == pytest.approx(old[1][1] + (v1 - v0), abs=1e-9)
    assert [moved[1][1][i] for i in (0, 2, 3)] == [old[1][i] for i in (0, 2, 3)]  # g only
    assert view.selection == {KeyRef(GAIN_G, 5.0)}
    tip = f"Grade1 \u203a gain \u203a g: frame 5, {moved[1][1][1]:.5g} (smooth)"
    assert view.toolTip() == tip  # what the dragged key is now
    assert window.doc.undo_stack.index() == count + 1  # the whole drag
    assert drafts == [True, False] and not window.viewer.draft
    window.frame_bar.set_frame(5)  # the properties show the moved key's value
    assert window.properties.rows["gain"].editor.fields[1].value() == pytest.approx(
        moved[1][1][1], abs=1e-3
    )
    window.doc.undo_stack.undo()
    assert state(graph) == before
    window.doc.undo_stack.redo()
    assert keys(window) == moved
    settle(qtbot, window)


def test_the_viewer_shows_a_moved_key_at_the_current_frame(curves, window, qtbot):
    view, graph = curves.view, window.doc.graph
    window.frame_bar.set_frame(1)
    wait_render(qtbot, window)
    before = np.array(window.viewer.probe_values(5, 5))
    old = keys(window)[0][1][0]
    start = screen(view, GAIN_R, 1.0)
    end = start - QtCore.QPoint(0, 40)
    drag(view, start, end)  # r's gain up at frame 1
    dv = view.to_curve(QtCore.QPointF(end))[1] - view.to_curve(QtCore.QPointF(start))[1]
    assert graph["Grade1"].value_at("gain", 1)[0] == pytest.approx(old + dv, abs=1e-9)
    wait_render(qtbot, window)
    shown = window.viewer.probe_values(5, 5)
    expected = graph.render("Grade1", frame=1).pixels[5, 5]
    np.testing.assert_allclose(shown, expected, rtol=1e-6)
    assert shown[0] > before[0] and shown[1:3] == pytest.approx(before[1:3])
    settle(qtbot, window)


def test_a_drag_over_another_key_replaces_it_only_where_it_ends(curves, window, qtbot):
    view = curves.view
    first = list(keys(window)[0])
    start = screen(view, GAIN_R, 4.0)
    over = view.to_screen(8.0, keys(window)[1][1][0]).toPoint()
    Type = QtCore.QEvent.Type
    mouse(view, Type.MouseButtonPress, start)
    mouse(view, Type.MouseMove, over, Qt.MouseButton.NoButton, LEFT)  # over the key at 8
    assert [k[0] for k in keys(window)] == [1.0, 8.0]
    back = view.to_screen(6.0, keys(window)[1][1][0]).toPoint()
    mouse(view, Type.MouseMove, back, Qt.MouseButton.NoButton, LEFT)
    mouse(view, Type.MouseButtonRelease, back, LEFT, Qt.MouseButton.NoButton)
    assert [k[0] for k in keys(window)] == [1.0, 6.0, 8.0]  # the key at 8 is back
    assert keys(window)[0] == first
    settle(qtbot, window)


def test_shift_drag_keeps_the_frame_free_and_several_keys_move_together(curves, window, qtbot):
    view = curves.view
    qtbot.mouseClick(view, LEFT, NONE, screen(view, GAIN_R, 4.0))
    qtbot.mouseClick(view, LEFT, SHIFT, screen(view, MIX, 5.0))
    assert view.selection == {KeyRef(GAIN_R, 4.0), KeyRef(MIX, 5.0)}
    old_mix = [list(k) for k in keys(window, param="mix")]
    start = screen(view, GAIN_R, 4.0)
    end = start + QtCore.QPoint(23, 0)
    drag(view, start, end, mods=SHIFT)
    f0, _ = view.to_curve(QtCore.QPointF(start))
    f1, _ = view.to_curve(QtCore.QPointF(end))
    df = f1 - f0
    assert df % 1 != 0
    assert keys(window)[1][0] == pytest.approx(4.0 + df, abs=1e-9)
    mix = keys(window, param="mix")
    assert mix[1][0] == pytest.approx(5.0 + df, abs=1e-9)
    assert mix[1][1] == pytest.approx(old_mix[1][1], abs=1e-9)  # no vertical move
    assert mix[1][2] == "constant"  # a key keeps its interpolation
    window.doc.undo_stack.undo()
    assert keys(window, param="mix") == old_mix
    settle(qtbot, window)


def test_delete_keys_picked_by_click_shift_click_and_rubber_band(curves, window, qtbot):
    view, graph = curves.view, window.doc.graph
    before = state(graph)
    qtbot.mouseClick(view, LEFT, NONE, screen(view, GAIN_R, 4.0))
    assert view.selection == {KeyRef(GAIN_R, 4.0)}
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert [k[0] for k in keys(window)] == [1.0, 8.0]  # every component's key at 4
    assert "Grade1" in graph and "Constant1" in graph  # the window's Delete did not run
    window.doc.undo_stack.undo()
    assert state(graph) == before
    # a band around frames 4..5.5 takes gain's keys at 4 (r g b a) and mix's at 5
    top_left = view.to_screen(3.5, view.top).toPoint() + QtCore.QPoint(0, 2)
    bottom_right = view.to_screen(5.5, view.bottom).toPoint() - QtCore.QPoint(0, 2)
    drag(view, top_left, bottom_right)
    assert {(r.curve.param, r.frame) for r in view.selection} == {("gain", 4.0), ("mix", 5.0)}
    assert len(view.selection) == 5
    qtbot.mouseClick(view, LEFT, SHIFT, screen(view, MIX, 9.0))
    qtbot.mouseClick(view, LEFT, SHIFT, screen(view, GAIN_G, 4.0))  # again: deselected
    assert KeyRef(GAIN_G, 4.0) not in view.selection and len(view.selection) == 5
    step = window.doc.undo_stack.index()
    qtbot.keyClick(view, Qt.Key.Key_Backspace)
    assert [k[0] for k in keys(window)] == [1.0, 8.0]
    assert [k[0] for k in keys(window, param="mix")] == [2.0]
    assert window.doc.undo_stack.index() == step + 1
    qtbot.mouseClick(view, LEFT, NONE, screen(view, MIX, 2.0))
    window.frame_bar.set_frame(7)
    qtbot.keyClick(view, Qt.Key.Key_Delete)  # the last key: the value it had stays
    assert graph["Grade1"]["mix"] == pytest.approx(
        before["nodes"]["Grade1"]["params"]["mix"]["keys"][0][1]
    )
    assert MIX not in curves.curves
    window.doc.undo_stack.undo()
    window.doc.undo_stack.undo()
    assert state(graph) == before
    assert MIX in curves.curves
    settle(qtbot, window)


def test_interpolation_from_keys_and_the_context_menu(curves, window, qtbot):
    view, graph = curves.view, window.doc.graph
    before = state(graph)
    qtbot.mouseClick(view, LEFT, NONE, screen(view, MIX, 2.0))
    qtbot.mouseClick(view, LEFT, SHIFT, screen(view, GAIN_G, 4.0))
    qtbot.keyClick(view, Qt.Key.Key_Z)  # smooth, as in Nuke
    assert keys(window, param="mix")[0] == [
        2.0,
        before["nodes"]["Grade1"]["params"]["mix"]["keys"][0][1],
        "smooth",
    ]
    assert len(keys(window)[1]) == 2  # the curve's own kind is not written on the key
    stored = graph["Grade1"]["mix"]
    assert graph["Grade1"].value_at("mix", 3.5) == pytest.approx(reference(stored, None, 3.5))
    qtbot.keyClick(view, Qt.Key.Key_K)
    assert keys(window)[1][2] == "constant" and keys(window, param="mix")[0][2] == "constant"
    held = keys(window)[1][1]
    assert graph["Grade1"].value_at("gain", 6.5) == tuple(held)
    menu = view.context_menu()
    names = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert names == ["Constant", "Linear", "Smooth", "Delete Keys", "Frame All", "Frame Selection"]
    assert [a.isChecked() for a in menu.actions()[:3]] == [True, False, False]
    menu.actions()[1].trigger()  # Linear: written on gain's key (its curve is smooth)
    assert keys(window)[1][2] == "linear" and len(keys(window, param="mix")[0]) == 2
    assert graph["Grade1"].value_at("mix", 3.5) == pytest.approx(
        reference(graph["Grade1"]["mix"], None, 3.5)
    )
    for _ in range(3):
        window.doc.undo_stack.undo()
    assert state(graph) == before
    # a right-click on a key picks it and shows the menu
    view.selection = set()
    pos = screen(view, MIX, 9.0)
    mouse(view, QtCore.QEvent.Type.MouseButtonPress, pos, Qt.MouseButton.RightButton)
    event = QtGui.QContextMenuEvent(
        QtGui.QContextMenuEvent.Reason.Mouse, pos, view.mapToGlobal(pos)
    )
    QtWidgets.QApplication.sendEvent(view, event)
    assert view.selection == {KeyRef(MIX, 9.0)}
    (shown,) = [m for m in view.findChildren(QtWidgets.QMenu) if m.isVisible()]
    assert shown.actions()[1].isChecked()  # mix is linear
    shown.close()
    settle(qtbot, window)


def test_frame_all_fits_the_keys_and_wheel_and_middle_drag_move_the_view(curves, qtbot, window):
    view = curves.view
    rect = view.plot_rect()
    view.zoom_by(0.2, 0.2, QtCore.QPointF(rect.center()))  # zoomed in: keys off screen
    qtbot.keyClick(view, Qt.Key.Key_F)  # nothing selected: all keys
    spots = [
        view.to_screen(ref.frame, value)
        for curve in curves.visible_curves()
        for ref, value in view.keys_of(curve)
    ]
    xs, ys = [p.x() for p in spots], [p.y() for p in spots]
    assert all(rect.contains(p) for p in spots)
    margin = 0.1 * rect.width()  # and fills the view: the outer keys are near its edges
    assert min(xs) - rect.left() < margin and rect.right() - max(xs) < margin
    assert min(ys) - rect.top() < 0.1 * rect.height()
    assert rect.bottom() - max(ys) < 0.1 * rect.height()
    span = view.right - view.left
    anchor = QtCore.QPointF(rect.center())
    frame_at = view.to_curve(anchor)[0]
    wheel = QtGui.QWheelEvent(
        anchor, view.mapToGlobal(anchor), QtCore.QPoint(), QtCore.QPoint(0, 120),
        Qt.MouseButton.NoButton, NONE, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QtWidgets.QApplication.sendEvent(view, wheel)
    assert view.right - view.left < span  # zoomed in about the cursor
    assert view.to_curve(anchor)[0] == pytest.approx(frame_at)
    left = view.left
    drag(view, QtCore.QPoint(300, 150), QtCore.QPoint(200, 150), button=MIDDLE)
    assert view.left > left  # the view follows the hand
    qtbot.keyClick(view, Qt.Key.Key_A)  # all keys back in view
    qtbot.mouseClick(view, LEFT, NONE, screen(view, MIX, 9.0))
    assert view.selection == {KeyRef(MIX, 9.0)}
    qtbot.keyClick(view, Qt.Key.Key_F)  # one key: centred, with frames around it
    assert (view.left + view.right) / 2 == pytest.approx(9.0)
    qtbot.keyClick(view, Qt.Key.Key_A)  # all, whatever is selected
    assert view.left < 1.0 and view.right > 9.0 and view.selection == {KeyRef(MIX, 9.0)}
    settle(qtbot, window)


def test_key_helpers():
    gain, mix = get("Grade").param("gain"), get("Grade").param("mix")
    stored = {"keys": [[1.0, 0.2], [4.0, 0.6, "constant"], [8.0, 0.9]], "interpolation": "linear"}
    moved = curve_editor.with_keys_moved(stored, {4.0: (8.0, 0.7)})
    assert moved["keys"] == [[1.0, 0.2], [8.0, 0.7, "constant"]]  # it replaced the key at 8
    assert curve_editor.with_keys_removed(mix, stored, [1.0, 4.0, 8.0], 2.5) == pytest.approx(
        0.2 + 0.4 * 1.5 / 3
    )
    assert curve_editor.with_keys_removed(mix, stored, [4.0], 2.5)["keys"] == [
        [1.0, 0.2], [8.0, 0.9]
    ]  # fmt: skip
    assert curve_editor.limited(mix, 1.3) == 1.0 and curve_editor.limited(mix, -2) == 0.0
    coloured = {"keys": [[1.0, (1.0, 1.0, 1.0, 1.0)], [3.0, (3.0, 2.0, 1.0, 1.0)]],
                "interpolation": "linear"}  # fmt: skip
    added = curve_editor.with_key_added(gain, coloured, GAIN_G, 2.0, 5.0)
    assert added["keys"][1] == [2.0, (2.0, 5.0, 1.0, 1.0)]
    assert curve_editor.tick_step(10, 500, 60) == 2 and curve_editor.tick_step(1, 300, 28) == 0.1
    frames = curve_editor.sample_frames(stored, 0.0, 10.0, 11)
    assert frames[0] == 0.0 and frames[-1] == 10.0 and math.nextafter(4.0, 0) in frames


def test_animated_shapes_have_keys_but_no_curve():
    """A Roto's shapes animate as a whole (their keys show on the timeline); there is no
    number to draw, so the curve editor lists only the Roto's numeric curves."""
    import mattebox as mb

    g = mb.Graph()
    square = [{"name": "S", "points": [[1, 1], [9, 1], [9, 9]]}]
    roto = g.add("Roto")
    roto["shapes"] = {"keys": [[1, square], [5, square]], "interpolation": "linear"}
    assert curve_editor.animated_curves(g, ["Roto1"]) == []
    roto["width"] = {"keys": [[1, 64], [5, 128]], "interpolation": "linear"}
    assert [c.param for c in curve_editor.animated_curves(g, ["Roto1"])] == ["width"]
