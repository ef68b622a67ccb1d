"""Roto editing in the viewer: the overlay of the selected Roto node's shapes and its tools
(add, move, bend, feather, select several, delete, key), undo, the overlay's mapping at
zoom and proxy levels, and the edited Roto as a Grade's mask.

Mouse events go to the real canvas at widget positions computed from format positions
through the canvas's own mapping (``to_widget``); expected parameter values are computed
here from those positions (``to_image``) and the formulas of the agreed shape format.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

import mattebox as mb
from mattebox.nodes.spec import Format
from tests.app.conftest import wait_render
from tests.conftest import random_image

LEFT = QtCore.Qt.MouseButton.LeftButton
NONE = QtCore.Qt.KeyboardModifier.NoModifier
SHIFT = QtCore.Qt.KeyboardModifier.ShiftModifier
CTRL = QtCore.Qt.KeyboardModifier.ControlModifier
BOX = [
    [16.0, 12.0, 0, 0, 0, 0],
    [48.0, 12.0, 0, 0, 0, 0],
    [48.0, 36.0, 0, 0, 0, 0],
    [16.0, 36.0, 0, 0, 0, 0],
]


def roto_graph(shapes=(), size=(64, 48), **params) -> mb.Graph:
    """Constant1 -> Grade1 (masked by Roto1); Roto1 holds ``shapes``; frames 1-10."""
    graph = mb.Graph()
    graph.settings.format = Format(*size)
    graph.settings.frame_range = (1, 10)
    constant = graph.add("Constant", color=[0.18, 0.3, 0.45, 1.0])
    roto = graph.add("Roto", shapes=list(shapes), **params)
    graph.add("Grade", inputs={"Source": constant, "Mask": roto}, gain=2.0)
    graph.ui["nodes"] = {"Constant1": {"pos": [0, 0]}, "Roto1": {"pos": [150, 0]}}
    graph.ui["nodes"]["Grade1"] = {"pos": [0, 70]}
    graph.ui["viewer"] = {"inputs": ["Roto1", None, None, None, None], "active": 0}
    return graph


def open_roto(window, qtbot, shapes=(), **params):
    """Load :func:`roto_graph`, select Roto1 and wait for the viewer; the overlay."""
    window.doc.set_graph(roto_graph(shapes, **params))
    window.editor.select(["Roto1"])
    wait_render(qtbot, window)
    window.viewer.canvas.setFocus()
    return window.viewer.roto


def shapes_of(window) -> list[dict]:
    """Roto1's shapes at the viewer's frame, as the parameter gives them."""
    graph = window.doc.graph
    return list(graph["Roto1"].value_at("shapes", window.viewer.frame))


def points_of(window, index: int = 0) -> np.ndarray:
    return np.array([list(p) for p in shapes_of(window)[index]["points"]], float)


def send(canvas, kind: str, pos: QtCore.QPointF, mods=NONE) -> None:
    """A mouse event on the canvas at a widget position (floats kept exactly)."""
    types = {
        "press": QtCore.QEvent.Type.MouseButtonPress,
        "move": QtCore.QEvent.Type.MouseMove,
        "release": QtCore.QEvent.Type.MouseButtonRelease,
    }
    button = QtCore.Qt.MouseButton.NoButton if kind == "move" else LEFT
    buttons = QtCore.Qt.MouseButton.NoButton if kind == "release" else LEFT
    event = QtGui.QMouseEvent(types[kind], pos, canvas.mapToGlobal(pos), button, buttons, mods)
    QtWidgets.QApplication.sendEvent(canvas, event)


def click(canvas, pos, mods=NONE) -> None:
    send(canvas, "press", pos, mods)
    send(canvas, "release", pos, mods)


def drag(canvas, start, end, mods=NONE, steps: int = 5) -> None:
    """Press at ``start``, move in ``steps`` to ``end``, release."""
    send(canvas, "press", start, mods)
    for k in range(1, steps + 1):
        send(canvas, "move", start + (end - start) * (k / steps), mods)
    send(canvas, "release", end, mods)


def image_delta(canvas, dx: float, dy: float) -> np.ndarray:
    """A widget offset in format pixels (zoom and pixel aspect from the canvas)."""
    return np.array([dx / (canvas.zoom * canvas.pixel_aspect), dy / canvas.zoom])


def check_undo_redo(window, before, after) -> None:
    """One undo gives ``before`` back, one redo ``after``."""
    stack = window.doc.undo_stack
    stack.undo()
    assert window.doc.graph["Roto1"]["shapes"] == before
    stack.redo()
    assert window.doc.graph["Roto1"]["shapes"] == after


# --------------------------------------------------------------------------- the overlay


def test_toolbar_appears_with_a_selected_roto_node(window, qtbot):
    overlay = open_roto(window, qtbot, [{"name": "Box", "points": BOX}])
    assert overlay.active and overlay.toolbar.isVisible()
    assert overlay.toolbar.label.text() == "Roto1"
    window.editor.select(["Grade1"])
    assert not overlay.active and not overlay.toolbar.isVisible()
    window.editor.select(["Roto1"])
    assert overlay.toolbar.isVisible()
    wait_render(qtbot, window)  # no render left to start after the test


def test_add_a_shape_by_clicks_pull_a_tangent_and_close_it(window, qtbot):
    overlay = open_roto(window, qtbot)
    canvas = window.viewer.canvas
    qtbot.mouseClick(overlay.toolbar.buttons["add"], LEFT)
    assert overlay.tool == "add"
    stack = window.doc.undo_stack
    steps = stack.count()
    corners = [(10.0, 10.0), (40.0, 8.0), (44.0, 30.0), (12.0, 34.0)]
    widget = [canvas.to_widget(x, y) for x, y in corners]
    click(canvas, widget[0])
    click(canvas, widget[1])
    pulled = widget[2] + QtCore.QPointF(30, 12)
    drag(canvas, widget[2], pulled)  # click-drag: the point with tangents pulled out
    click(canvas, widget[3])
    assert stack.count() == steps + 4  # one step per point, the pull in its point's step
    shape = shapes_of(window)[0]
    assert not shape.get("closed", True)
    click(canvas, widget[0] + QtCore.QPointF(2, -1))  # on the first point: closes
    shape = shapes_of(window)[0]
    assert shape["name"] == "Bezier1" and shape.get("closed", True)
    points = np.array([list(p) for p in shape["points"]], float)
    expected = np.array([canvas.to_image(w) for w in widget])
    np.testing.assert_allclose(points[:, :2], expected, atol=1e-3)
    out = np.array(canvas.to_image(pulled)) - expected[2]
    np.testing.assert_allclose(points[2, 4:6], out, atol=2e-3)
    np.testing.assert_allclose(points[2, 2:4], -out, atol=2e-3)
    assert not points[[0, 1, 3], 2:].any()  # clicks without a drag are corners
    assert stack.count() == steps + 5
    closed_value = window.doc.graph["Roto1"]["shapes"]
    stack.undo()
    assert not shapes_of(window)[0].get("closed", True)
    stack.redo()
    assert window.doc.graph["Roto1"]["shapes"] == closed_value
    for _ in range(5):
        stack.undo()
    assert shapes_of(window) == []
    wait_render(qtbot, window)  # no render left to start after the test


def test_enter_closes_the_shape_being_drawn(window, qtbot):
    overlay = open_roto(window, qtbot)
    canvas = window.viewer.canvas
    overlay.set_tool("add")
    for x, y in ((8.0, 8.0), (30.0, 10.0), (20.0, 30.0)):
        click(canvas, canvas.to_widget(x, y))
    qtbot.keyClick(canvas, QtCore.Qt.Key.Key_Return)
    shape = shapes_of(window)[0]
    assert shape.get("closed", True) and len(shape["points"]) == 3
    assert overlay.drawing is None
    wait_render(qtbot, window)  # no render left to start after the test


def test_drag_a_point_and_bend_a_tangent(window, qtbot):
    box = [list(p) for p in BOX]
    box[1][2:6] = [-4.0, 0.0, 4.0, 0.0]
    overlay = open_roto(window, qtbot, [{"name": "Box", "points": box}])
    canvas = window.viewer.canvas
    start = window.doc.graph["Roto1"]["shapes"]
    drag(canvas, canvas.to_widget(16, 12), canvas.to_widget(16, 12) + QtCore.QPointF(20, 10))
    points = points_of(window)
    np.testing.assert_allclose(points[0, :2], [16, 12] + image_delta(canvas, 20, 10), atol=1e-3)
    np.testing.assert_allclose(points[1:], np.array(box, float)[1:])
    moved = window.doc.graph["Roto1"]["shapes"]
    check_undo_redo(window, start, moved)

    click(canvas, canvas.to_widget(48, 12))  # select the point: its handles show
    assert overlay.selection == {("Box", 1)}
    handle = canvas.to_widget(52, 12)
    end = handle + QtCore.QPointF(0, -24)
    drag(canvas, handle, end)
    points = points_of(window)
    out = np.array(canvas.to_image(end)) - [48, 12]
    np.testing.assert_allclose(points[1, 4:6], out, atol=1e-3)
    # the in handle turns to stay opposite and keeps its length (4)
    np.testing.assert_allclose(points[1, 2:4], -4 * out / np.hypot(*out), atol=1e-3)
    np.testing.assert_allclose(points[1, :2], [48, 12])
    check_undo_redo(window, moved, window.doc.graph["Roto1"]["shapes"])
    wait_render(qtbot, window)  # no render left to start after the test


def test_drag_inside_a_shape_moves_the_whole_shape(window, qtbot):
    far = [[2.0, 2.0, 0, 0, 0, 0], [8.0, 2.0, 0, 0, 0, 0], [5.0, 8.0, 0, 0, 0, 0]]
    open_roto(window, qtbot, [{"name": "Box", "points": BOX}, {"name": "Far", "points": far}])
    canvas = window.viewer.canvas
    graph = window.doc.graph
    before = graph["Roto1"]["shapes"]
    steps = window.doc.undo_stack.count()
    inside = canvas.to_widget(30, 26)
    drag(canvas, inside, inside + QtCore.QPointF(-15, 25))
    assert window.doc.undo_stack.count() == steps + 1  # a drag is one step
    delta = image_delta(canvas, -15, 25)
    np.testing.assert_allclose(points_of(window, 0)[:, :2], np.array(BOX)[:, :2] + delta, atol=1e-3)
    np.testing.assert_allclose(points_of(window, 1)[:, :2], [[2, 2], [8, 2], [5, 8]])
    check_undo_redo(window, before, graph["Roto1"]["shapes"])
    wait_render(qtbot, window)  # no render left to start after the test


def test_feather_by_ctrl_drag_and_by_the_feather_tool(window, qtbot):
    overlay = open_roto(window, qtbot, [{"name": "Box", "points": BOX}])
    canvas = window.viewer.canvas
    graph = window.doc.graph
    before = graph["Roto1"]["shapes"]
    corner = canvas.to_widget(16, 12)
    drag(canvas, corner, corner + QtCore.QPointF(-10, -10), mods=CTRL)
    # the top-left corner's outward normal bisects its edges: (-1, -1) / sqrt 2
    normal = np.array([-1.0, -1.0]) / math.sqrt(2)
    expected = float(image_delta(canvas, -10, -10) @ normal)
    feather = shapes_of(window)[0]["feather"]
    feather = [feather] * 4 if isinstance(feather, (int, float)) else list(feather)
    assert expected > 0
    np.testing.assert_allclose(feather, [expected, 0, 0, 0], atol=2e-3)
    np.testing.assert_allclose(points_of(window)[:, :2], np.array(BOX)[:, :2])
    check_undo_redo(window, before, graph["Roto1"]["shapes"])

    overlay.set_tool("feather")
    inward = canvas.to_widget(48, 36)
    drag(canvas, inward, inward + QtCore.QPointF(-6, -6))  # inwards: a negative feather
    feather = list(shapes_of(window)[0]["feather"])
    inner = float(image_delta(canvas, -6, -6) @ (np.array([1.0, 1.0]) / math.sqrt(2)))
    assert inner < 0
    np.testing.assert_allclose(feather, [expected, 0, inner, 0], atol=2e-3)
    # the feather point (moved out from the first corner) can be dragged back in
    overlay.set_tool("select")
    tip = canvas.to_widget(*(np.array([16, 12]) + normal * expected))
    drag(canvas, tip, corner)
    np.testing.assert_allclose(shapes_of(window)[0]["feather"][0], 0, atol=2e-3)
    wait_render(qtbot, window)  # no render left to start after the test


def test_select_several_by_band_and_shift_click_and_move_them(window, qtbot):
    overlay = open_roto(window, qtbot, [{"name": "Box", "points": BOX}])
    canvas = window.viewer.canvas
    steps = window.doc.undo_stack.count()
    drag(canvas, canvas.to_widget(6, 4), canvas.to_widget(56, 18))  # around the top edge
    assert overlay.selection == {("Box", 0), ("Box", 1)}
    click(canvas, canvas.to_widget(48, 36), SHIFT)
    assert overlay.selection == {("Box", 0), ("Box", 1), ("Box", 2)}
    assert window.doc.undo_stack.count() == steps  # selecting is no edit
    before = window.doc.graph["Roto1"]["shapes"]
    drag(canvas, canvas.to_widget(48, 12), canvas.to_widget(48, 12) + QtCore.QPointF(12, 8))
    delta = image_delta(canvas, 12, 8)
    expected = np.array(BOX)[:, :2]
    expected[:3] += delta
    np.testing.assert_allclose(points_of(window)[:, :2], expected, atol=1e-3)
    check_undo_redo(window, before, window.doc.graph["Roto1"]["shapes"])
    wait_render(qtbot, window)  # no render left to start after the test


def test_delete_removes_the_selected_points_not_the_node(window, qtbot):
    open_roto(window, qtbot, [{"name": "Box", "points": BOX}])
    canvas = window.viewer.canvas
    before = window.doc.graph["Roto1"]["shapes"]
    click(canvas, canvas.to_widget(48, 36))
    qtbot.keyClick(canvas, QtCore.Qt.Key.Key_Delete)
    assert "Roto1" in window.doc.graph  # the window's Delete (nodes) did not fire
    np.testing.assert_allclose(points_of(window)[:, :2], np.array(BOX)[[0, 1, 3], :2])
    check_undo_redo(window, before, window.doc.graph["Roto1"]["shapes"])
    steps = window.doc.undo_stack.count()
    qtbot.keyClick(canvas, QtCore.Qt.Key.Key_Backspace)  # no point selected: nothing goes
    assert "Roto1" in window.doc.graph and window.doc.undo_stack.count() == steps
    wait_render(qtbot, window)  # no render left to start after the test


def test_key_at_frames_and_autokey_interpolate_between(window, qtbot):
    overlay = open_roto(window, qtbot, [{"name": "Box", "points": BOX}])
    canvas = window.viewer.canvas
    graph = window.doc.graph
    static = graph["Roto1"]["shapes"]
    qtbot.mouseClick(overlay.toolbar.key_button, LEFT)
    stored = graph["Roto1"]["shapes"]
    assert [k[0] for k in stored["keys"]] == [1.0]
    check_undo_redo(window, static, stored)
    window.frame_bar.set_frame(9)
    corner = canvas.to_widget(16, 12)
    drag(canvas, corner, corner + QtCore.QPointF(40, 20))  # an edit at frame 9: a key there
    keyed = graph["Roto1"]["shapes"]
    assert [k[0] for k in keyed["keys"]] == [1.0, 9.0]
    moved_to = np.array([16, 12]) + image_delta(canvas, 40, 20)
    frame5 = graph["Roto1"].value_at("shapes", 5.0)
    linear = np.array([16, 12]) + (moved_to - [16, 12]) * (5 - 1) / (9 - 1)
    np.testing.assert_allclose(list(frame5[0]["points"][0])[:2], linear, atol=1e-3)
    np.testing.assert_allclose(list(frame5[0]["points"][1])[:2], [48, 12])
    first = graph["Roto1"].value_at("shapes", 1.0)
    np.testing.assert_allclose(list(first[0]["points"][0])[:2], [16, 12])
    check_undo_redo(window, stored, keyed)
    window.frame_bar.set_frame(5)
    assert overlay.key_here()  # a key at frame 5 holds the in-between value
    assert [k[0] for k in graph["Roto1"]["shapes"]["keys"]] == [1.0, 5.0, 9.0]
    assert graph["Roto1"].value_at("shapes", 5.0) == frame5
    wait_render(qtbot, window)  # no render left to start after the test


# --------------------------------------------------------------------------- mapping


def _grab(canvas) -> np.ndarray:
    image = canvas.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * height)
    return data.reshape(height, image.bytesPerLine() // 4, 4)[:, :width, :3].astype(int)


@pytest.mark.parametrize("zoom, proxy, aspect", [(2.0, 1, 1.0), (0.5, 2, 1.0), (1.0, 1, 2.0)])
def test_overlay_sits_on_the_matte_at_zoom_and_proxy(window, qtbot, zoom, proxy, aspect):
    """The matte (alpha solo, white inside) and the drawn curve meet at the same screen
    pixels: just inside the curve is white, just outside black, on the curve its colour."""
    square = [[40.0, 40.0, 0, 0, 0, 0], [160.0, 40.0, 0, 0, 0, 0], [160.0, 120.0, 0, 0, 0, 0]]
    square.append([40.0, 120.0, 0, 0, 0, 0])
    size = (200, 160, aspect)  # with a pixel aspect of 2 the viewer stretches x
    window.doc.set_graph(roto_graph([{"name": "Sq", "points": square}], size=size))
    window.editor.select(["Roto1"])
    viewer, canvas = window.viewer, window.viewer.canvas
    viewer.set_channel("a")
    wait_render(qtbot, window)
    canvas.auto_fit = False
    canvas.zoom = zoom
    canvas.center = QtCore.QPointF(100, 80)
    canvas.view_changed.emit()
    result = wait_render(qtbot, window)
    assert result.request.proxy == proxy and result.layers[0].image.proxy == proxy
    assert canvas.pixel_aspect == aspect
    click(canvas, canvas.to_widget(70, 70))  # select the shape: its curve turns orange
    assert len(viewer.roto.selection) == 4
    pixels = _grab(canvas)
    for x, y, (nx, ny) in ((100, 40, (0, -1)), (160, 80, (1, 0)), (100, 120, (0, 1))):
        edge = canvas.to_widget(x, y)
        inside = canvas.to_widget(x - nx * 6 / zoom, y - ny * 6 / zoom)
        outside = canvas.to_widget(x + nx * 6 / zoom, y + ny * 6 / zoom)
        at = lambda p: pixels[int(p.y()), int(p.x())]
        assert at(inside).min() > 200, (x, y, at(inside))
        assert at(outside).max() < 40, (x, y, at(outside))
        # the curve: drawn over the edge in the selected colour (orange, not white or black)
        colour = at(edge)
        assert colour[0] > 150 and colour[0] - colour[2] > 60, (x, y, colour)
    wait_render(qtbot, window)  # no render left to start after the test


# --------------------------------------------------------------------------- rendering


def test_an_edited_roto_masks_a_grade_inside_only(window, qtbot, tmp_path, array_source, backend):
    overlay = open_roto(window, qtbot)
    graph = window.doc.graph
    plate = random_image(48, 64, seed=11, lo=0.05, hi=1.0)
    read = array_source(graph, plate, name="Plate")
    graph["Grade1"].set_input("Source", read)
    canvas = window.viewer.canvas
    overlay.set_tool("add")
    for x, y in ((12.0, 10.0), (52.0, 10.0), (52.0, 38.0), (12.0, 38.0)):
        click(canvas, canvas.to_widget(x, y))
    qtbot.keyClick(canvas, QtCore.Qt.Key.Key_Return)
    corners = points_of(window)[:, :2]
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    out = graph.render("Grade1", frame=1, backend=backend).pixels
    graded = plate.astype(np.float64).copy()
    graded[..., :3] *= 2.0  # Grade's gain on colour; alpha kept
    ys, xs = np.mgrid[0:48, 0:64] + 0.5
    well_inside = (xs > x0 + 1.5) & (xs < x1 - 1.5) & (ys > y0 + 1.5) & (ys < y1 - 1.5)
    well_outside = (xs < x0 - 1.5) | (xs > x1 + 1.5) | (ys < y0 - 1.5) | (ys > y1 + 1.5)
    assert well_inside.sum() > 500 and well_outside.sum() > 300
    np.testing.assert_allclose(out[well_inside], graded[well_inside], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[well_outside], plate[well_outside], rtol=1e-6, atol=1e-6)
    assert np.abs(out[well_inside] - plate[well_inside]).max() > 0.05
    wait_render(qtbot, window)  # no render left to start after the test


@pytest.mark.parametrize("feather", [6.0, -5.0])
def test_feather_guide_lies_at_the_feather_distance_from_the_outline(feather):
    """The dashed curve follows the Roto node's feather: every vertex of it is ``|f|``
    from the outline (round outside a corner, mitred inside), outside for a positive f."""
    from mattebox.app.roto_overlay import contains, feather_outline, normalized

    shape = normalized({"name": "Sq", "points": BOX, "feather": feather})
    outline = np.array(feather_outline(shape))
    x0, y0, x1, y1 = 16.0, 12.0, 48.0, 36.0
    inside = (outline[:, 0] > x0) & (outline[:, 0] < x1) & (outline[:, 1] > y0)
    inside &= outline[:, 1] < y1
    dx = np.maximum(np.maximum(x0 - outline[:, 0], outline[:, 0] - x1), 0)
    dy = np.maximum(np.maximum(y0 - outline[:, 1], outline[:, 1] - y1), 0)
    outside_distance = np.hypot(dx, dy)
    inside_distance = np.minimum.reduce(
        [outline[:, 0] - x0, x1 - outline[:, 0], outline[:, 1] - y0, y1 - outline[:, 1]]
    )
    distance = np.where(inside, inside_distance, outside_distance)
    np.testing.assert_allclose(distance, abs(feather), atol=1e-6)
    assert inside.all() == (feather < 0) and (~inside).all() == (feather > 0)
    assert all(contains(shape, x, y) == (feather < 0) for x, y in outline)
    gaps = np.hypot(*(np.roll(outline, -1, axis=0) - outline).T)
    assert gaps.max() < 2.0  # a closed curve: nothing trimmed away but what overlaps


def _inside_polygon(polygon: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Even-odd test of the points (xs, ys) against a closed polygon (numpy, per edge)."""
    inside = np.zeros(np.broadcast(xs, ys).shape, bool)
    for (ax, ay), (bx, by) in zip(polygon, np.roll(polygon, -1, axis=0)):
        if ay == by:
            continue
        crosses = (ay > ys) != (by > ys)
        inside ^= crosses & (xs < ax + (ys - ay) * (bx - ax) / (by - ay))
    return inside


def test_feather_guide_encloses_the_rendered_feather():
    """The Roto node's matte reaches zero where the dashed guide says (pixels a pixel
    outside it are 0, a pixel inside it are not)."""
    from mattebox.app.roto_overlay import distance_to_outline, feather_outline, normalized

    points = [[14.0, 10.0, 0, 0, 8, -2], [50.0, 14.0, 0, 0, 0, 0], [40.0, 38.0, 6, 0, -6, 0]]
    shape = {"name": "S", "points": points, "feather": [6.0, 3.0, 8.0]}
    graph = mb.Graph()
    graph.settings.format = Format(64, 48)
    graph.add("Roto", shapes=[shape])
    matte = graph.render("Roto1", frame=1, backend="cpu")
    alpha = np.zeros((48, 64))
    x0, y0, x1, y1 = matte.data_window
    alpha[y0:y1, x0:x1] = matte.pixels[..., 3]
    guide = np.array(feather_outline(normalized(shape)))
    ys, xs = np.mgrid[0:48, 0:64] + 0.5
    centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
    near = distance_to_outline(centres, guide).reshape(48, 64) < 1.0
    enclosed = _inside_polygon(guide, xs, ys)
    assert (enclosed & ~near).sum() > 300 and (~enclosed & ~near).sum() > 300
    assert (alpha[~enclosed & ~near] == 0).all()
    assert (alpha[enclosed & ~near] > 0).all()


def test_points_and_shapes_added_or_deleted_on_animated_shapes_go_into_every_key(window, qtbot):
    moved = [[x + 8, y + 4, *rest] for x, y, *rest in BOX]
    keyed = {
        "keys": [[1, [{"name": "Box", "points": BOX}]], [9, [{"name": "Box", "points": moved}]]],
        "interpolation": "linear",
    }
    overlay = open_roto(window, qtbot, shapes=())
    graph = window.doc.graph
    graph["Roto1"]["shapes"] = keyed
    window.doc.undo_stack.clear()
    canvas = window.viewer.canvas
    window.frame_bar.set_frame(5)
    before = graph["Roto1"]["shapes"]
    click(canvas, canvas.to_widget(52, 38))  # point 2 at frame 5: (48, 36) + (4, 2)
    assert overlay.selection == {("Box", 2)}
    qtbot.keyClick(canvas, QtCore.Qt.Key.Key_Delete)
    stored = graph["Roto1"]["shapes"]
    assert [k[0] for k in stored["keys"]] == [1.0, 5.0, 9.0]  # autokey at 5
    for frame, shift in ((1, 0), (5, 0.5), (9, 1)):
        expected = np.array(BOX, float)[[0, 1, 3], :2] + np.array([8, 4]) * shift
        got = np.array([p[:2] for p in graph["Roto1"].value_at("shapes", frame)[0]["points"]])
        np.testing.assert_allclose(got, expected, atol=1e-9)
    # between keys it still interpolates (three points in every key)
    got = np.array([p[:2] for p in graph["Roto1"].value_at("shapes", 3)[0]["points"]])
    np.testing.assert_allclose(got, np.array(BOX, float)[[0, 1, 3], :2] + [2, 1], atol=1e-9)
    check_undo_redo(window, before, stored)

    overlay.set_tool("add")
    corners = [(4.0, 40.0), (12.0, 40.0), (8.0, 46.0)]
    for x, y in corners:
        click(canvas, canvas.to_widget(x, y))
    qtbot.keyClick(canvas, QtCore.Qt.Key.Key_Return)
    for frame in (1, 5, 9):
        new = graph["Roto1"].value_at("shapes", frame)[1]
        assert new["name"] == "Bezier1" and new["closed"]
        expected = [canvas.to_image(canvas.to_widget(x, y)) for x, y in corners]
        np.testing.assert_allclose([p[:2] for p in new["points"]], expected, atol=1e-3)
    wait_render(qtbot, window)  # no render left to start after the test
