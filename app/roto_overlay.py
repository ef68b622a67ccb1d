"""Roto editing in the viewer: the selected Roto node's shapes drawn over the image, and
the tools that edit them.

The overlay draws in *format* coordinates (pixels of the format, origin top-left, y down)
through the canvas's own mapping (:meth:`Canvas.to_widget`), so curves stay on the image
at any zoom or pan, with proxy renders and with a pixel aspect other than 1. A shape is
the agreed dict (``docs/scripts.md``): ``points`` as ``[x, y, in_dx, in_dy, out_dx,
out_dy]``, per-point ``feather``, ``closed``...

Tools (the roto toolbar, shown while a Roto node is selected): **Select** (Q) picks
points (shift-click or a rubber band for several), drags them, drags a shape by its inside
and bends the tangent handles of selected points; Ctrl-drag on a point pulls its feather.
**Add** (V) clicks points of a new shape (click-drag pulls out tangents; click the first
point or press Enter to close it). **Feather** (E) drags points' feather. **Key** writes
the shapes at the current frame as a key. Delete/Backspace deletes the selected points.
Each edit is one undo step; an edit of animated shapes writes a key at the current frame
(autokey, as in Nuke), and points or shapes added or deleted go into every key, so the
keys keep matching (see docs/editor.md, "Roto").
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from mattebox.app import undo
from mattebox.app.properties import with_value_at
from mattebox.nodes import shapes as shapes_format
from mattebox.nodes.spec import ParamError, is_animated

ROTO_TYPE = "Roto"
SHAPES = "shapes"
PICK_RADIUS = 7.0  # screen pixels within which a point or handle is picked
DRAG_THRESHOLD = 3.0  # screen pixels a press must move before it is a drag
CURVE_STEPS = 24  # samples per segment for hit tests and the feather guide
DECIMALS = 3  # edited positions are rounded to a thousandth of a pixel


TOOLS = ("select", "add", "feather")
TOOL_KEYS = {
    QtCore.Qt.Key.Key_Q: "select",
    QtCore.Qt.Key.Key_V: "add",
    QtCore.Qt.Key.Key_E: "feather",
}

Pick = tuple[str, int]  # (shape name, point index)


# --------------------------------------------------------------------------- shape data


def normalized(shape: dict, number: int = 1) -> dict:
    """``shape`` with every key present: points as lists of six floats, one feather per
    point (a single number broadcast), the defaults of the agreed format filled in."""
    out = {key: copy.deepcopy(value) for key, value in shapes_format.DEFAULTS.items()}
    out.update({k: copy.deepcopy(v) for k, v in dict(shape).items()})
    out["name"] = str(out.get("name") or f"Bezier{number}")
    points = []
    for point in out.get("points") or ():
        values = [float(v) for v in point]
        points.append((values + [0.0] * 6)[:6])
    out["points"] = points
    feather = out.get("feather", 0.0)
    if isinstance(feather, (int, float)):
        feather = [float(feather)] * len(points)
    feather = [float(f) for f in feather]
    out["feather"] = (feather + [0.0] * len(points))[: len(points)]
    return out


def normalized_shapes(value: Any) -> list[dict]:
    """A static ``shapes`` value as a list of :func:`normalized` shapes."""
    return [normalized(shape, number) for number, shape in enumerate(value or (), 1)]


def unique_name(shapes: list[dict], stem: str = "Bezier") -> str:
    """The first ``BezierN`` no shape in ``shapes`` is called."""
    taken = {shape["name"] for shape in shapes}
    number = 1
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"


def find(shapes: list[dict], name: str) -> dict | None:
    """The shape called ``name``, or None."""
    return next((shape for shape in shapes if shape["name"] == name), None)


def valid_picks(shapes: list[dict], picks) -> set[Pick]:
    """``picks`` that still name a point of ``shapes`` (after an undo, say)."""
    sizes = {shape["name"]: len(shape["points"]) for shape in shapes}
    return {(name, i) for name, i in picks if 0 <= i < sizes.get(name, 0)}


def segments(shape: dict) -> list[tuple[tuple[float, float], ...]]:
    """Each cubic segment's four control points ``(p0, c0, c1, p1)`` in format pixels."""
    points = shape["points"]
    count = len(points)
    last = count if shape["closed"] and count > 1 else count - 1
    out = []
    for i in range(max(last, 0)):
        a, b = points[i], points[(i + 1) % count]
        out.append(
            (
                (a[0], a[1]),
                (a[0] + a[4], a[1] + a[5]),
                (b[0] + b[2], b[1] + b[3]),
                (b[0], b[1]),
            )
        )
    return out


def bezier(controls, t: float) -> tuple[float, float]:
    """The cubic Bézier with control points ``controls`` at ``t`` in [0, 1]."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = controls
    u = 1.0 - t
    a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    return (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)


def polyline(shape: dict, steps: int = CURVE_STEPS) -> list[tuple[float, float]]:
    """The shape's curve sampled ``steps`` times per segment (format pixels)."""
    out = [shape["points"][0][:2]] if shape["points"] else []
    for controls in segments(shape):
        out.extend(bezier(controls, k / steps) for k in range(1, steps + 1))
    return [tuple(p) for p in out]


def signed_area(path: list[tuple[float, float]]) -> float:
    """The shoelace area of a closed polyline (its sign tells the winding)."""
    total = 0.0
    for (x0, y0), (x1, y1) in zip(path, path[1:] + path[:1]):
        total += x0 * y1 - x1 * y0
    return total / 2.0


def contains(shape: dict, x: float, y: float) -> bool:
    """Whether format position (x, y) lies inside a closed shape (even-odd rule)."""
    if not shape["closed"] or len(shape["points"]) < 2:
        return False
    path = polyline(shape)
    inside = False
    for (x0, y0), (x1, y1) in zip(path, path[1:] + path[:1]):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def _unit(dx: float, dy: float) -> tuple[float, float]:
    length = math.hypot(dx, dy)
    return (dx / length, dy / length) if length > 1e-12 else (0.0, 0.0)


def outward_normals(shape: dict) -> list[tuple[float, float]]:
    """The unit normal at each point pointing out of the shape: the direction feather
    grows for a positive value. The curve's direction at a point is its tangent handles'
    (out minus in); at a corner (no handles) the mean of the two edges' directions."""
    points = shape["points"]
    count = len(points)
    path = polyline(shape)
    sign = 1.0 if signed_area(path) >= 0 else -1.0
    normals = []
    for i, (x, y, ix, iy, ox, oy) in enumerate(points):
        dx, dy = _unit(ox - ix, oy - iy)
        if (dx, dy) == (0.0, 0.0) and count > 1:
            prev = points[(i - 1) % count] if (shape["closed"] or i > 0) else None
            after = points[(i + 1) % count] if (shape["closed"] or i < count - 1) else None
            ax, ay = _unit(x - prev[0], y - prev[1]) if prev else (0.0, 0.0)
            bx, by = _unit(after[0] - x, after[1] - y) if after else (0.0, 0.0)
            dx, dy = _unit(ax + bx, ay + by)
        normals.append((sign * dy, -sign * dx))
    return normals


def feather_points(shape: dict) -> list[tuple[float, float]]:
    """Each point's feather handle: the point moved along its outward normal by its
    feather (on the feather curve: for a corner, on its round part)."""
    return [
        (point[0] + nx * amount, point[1] + ny * amount)
        for point, (nx, ny), amount in zip(
            shape["points"], outward_normals(shape), shape["feather"]
        )
    ]


def _sampled(shape: dict, steps: int) -> list[tuple[float, float, float]]:
    """The closed curve as ``(x, y, feather)`` samples, the feather linear in each
    segment's parameter between its points' values (as the Roto node flattens it)."""
    points, feather = shape["points"], shape["feather"]
    out = []
    for k, controls in enumerate(segments(shape)):
        f0, f1 = feather[k], feather[(k + 1) % len(points)]
        for step in range(steps):
            t = step / steps
            out.append((*bezier(controls, t), f0 + (f1 - f0) * t))
    return out


def feather_outline(shape: dict, steps: int = CURVE_STEPS) -> list[tuple[float, float]]:
    """The feather curve of a closed shape, as the Roto node defines it: the places
    whose distance to the outline is the feather there (outwards for positive values).
    Each sample of the outline is offset along its normal by its feather (round where the
    offset goes round a corner, mitred where it goes inside one); offsets that come
    nearer another part of the outline than their feather (inside a corner) are left out.
    Format pixels, closed."""
    samples = _sampled(shape, steps)
    count = len(samples)
    if count < 2:
        return []
    sign = 1.0 if signed_area([s[:2] for s in samples]) >= 0 else -1.0

    def normal(a, b):
        dx, dy = _unit(b[0] - a[0], b[1] - a[1])
        return (sign * dy, -sign * dx)

    offsets = []  # (x, y, |feather|)
    for i, (x, y, f) in enumerate(samples):
        before, after = samples[i - 1], samples[(i + 1) % count]
        n0, n1 = normal(before, (x, y)), normal((x, y), after)
        turn = n0[0] * n1[1] - n0[1] * n1[0]  # > 0: turns the way the outline does
        rounds = (turn * sign > 1e-6) == (f > 0)  # the offset runs round the corner
        angle0, angle1 = math.atan2(n0[1], n0[0]), math.atan2(n1[1], n1[0])
        sweep = (angle1 - angle0 + math.pi) % (2 * math.pi) - math.pi
        if rounds and abs(sweep) > math.radians(10):
            pieces = max(2, math.ceil(abs(sweep) / math.radians(15)))
            for k in range(pieces + 1):
                angle = angle0 + sweep * k / pieces
                offsets.append((x + math.cos(angle) * f, y + math.sin(angle) * f, abs(f)))
            continue
        mx, my = _unit(n0[0] + n1[0], n0[1] + n1[1])
        half = max(math.hypot(n0[0] + n1[0], n0[1] + n1[1]) / 2, 0.25)  # mitre at most 4x
        offsets.append((x + mx * f / half, y + my * f / half, abs(f)))
    points = np.array(offsets)
    kept = distance_to_outline(points[:, :2], np.array([s[:2] for s in samples]))
    kept = kept >= points[:, 2] * (1 - 1e-6) - 1e-6
    return [(float(x), float(y)) for x, y, _ in points[kept]]


def distance_to_outline(points: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """The distance of each of ``points`` (N×2) to the closed polyline ``outline`` (M×2)."""
    a = outline[None, :, :]
    edge = np.roll(outline, -1, axis=0)[None, :, :] - a
    rel = points[:, None, :] - a
    length2 = np.maximum((edge * edge).sum(axis=2), 1e-24)
    t = np.clip((rel * edge).sum(axis=2) / length2, 0.0, 1.0)
    gap = rel - t[..., None] * edge
    return np.sqrt((gap * gap).sum(axis=2)).min(axis=1)


# --------------------------------------------------------------------------- edits


def _rounded(value: float) -> float:
    return round(float(value), DECIMALS) + 0.0


def moved(shapes: list[dict], picks, dx: float, dy: float) -> list[dict]:
    """``shapes`` with the picked points moved by (dx, dy) (handles and feather follow)."""
    out = copy.deepcopy(shapes)
    for name, index in picks:
        shape = find(out, name)
        if shape is not None and index < len(shape["points"]):
            point = shape["points"][index]
            point[0], point[1] = _rounded(point[0] + dx), _rounded(point[1] + dy)
    return out


def with_tangent(
    shapes: list[dict], pick: Pick, which: str, vector, mirror: bool = True
) -> list[dict]:
    """``shapes`` with the ``which`` (``in`` or ``out``) handle of point ``pick`` set to
    ``vector`` (relative to the point). With ``mirror`` the opposite handle turns to stay
    opposite (a smooth point), keeping its length, or taking this one's where it had none."""
    out = copy.deepcopy(shapes)
    shape = find(out, pick[0])
    if shape is None or pick[1] >= len(shape["points"]):
        return out
    point = shape["points"][pick[1]]
    vx, vy = _rounded(vector[0]), _rounded(vector[1])
    mine, other = (slice(2, 4), slice(4, 6)) if which == "in" else (slice(4, 6), slice(2, 4))
    point[mine] = [vx, vy]
    if mirror:
        length = math.hypot(*point[other]) or math.hypot(vx, vy)
        ux, uy = _unit(vx, vy)
        point[other] = [_rounded(-ux * length), _rounded(-uy * length)]
    return out


def with_feather(shapes: list[dict], amounts: dict[Pick, float]) -> list[dict]:
    """``shapes`` with the feather of each picked point set to its amount."""
    out = copy.deepcopy(shapes)
    for (name, index), amount in amounts.items():
        shape = find(out, name)
        if shape is not None and index < len(shape["feather"]):
            shape["feather"][index] = _rounded(amount)
    return out


def without_points(shapes: list[dict], picks) -> list[dict]:
    """``shapes`` without the picked points; a shape left without points goes."""
    out = []
    for shape in copy.deepcopy(shapes):
        gone = {index for name, index in picks if name == shape["name"]}
        if not gone:
            out.append(shape)
            continue
        keep = [i for i in range(len(shape["points"])) if i not in gone]
        if not keep:
            continue
        shape["points"] = [shape["points"][i] for i in keep]
        shape["feather"] = [shape["feather"][i] for i in keep]
        out.append(shape)
    return out


def with_point(shapes: list[dict], name: str, x: float, y: float) -> list[dict]:
    """``shapes`` with a corner point appended to shape ``name`` (a new open shape of that
    name when there is none)."""
    out = copy.deepcopy(shapes)
    shape = find(out, name)
    if shape is None:
        shape = normalized({"name": name, "points": [], "closed": False})
        out.append(shape)
    shape["points"].append([_rounded(x), _rounded(y), 0.0, 0.0, 0.0, 0.0])
    shape["feather"].append(0.0)
    return out


def closed(shapes: list[dict], name: str) -> list[dict]:
    """``shapes`` with shape ``name`` closed."""
    out = copy.deepcopy(shapes)
    for shape in out:
        if shape["name"] == name:
            shape["closed"] = True
    return out


# --------------------------------------------------------------------------- the overlay


@dataclass
class Drag:
    """A mouse drag in progress: what it edits and where it started."""

    kind: str  # move, tangent, feather, pull, band
    start: QtCore.QPointF  # widget position of the press
    shapes: list[dict] = field(default_factory=list)  # the shapes at the press
    stored: Any = None  # the parameter's stored value at the press
    picks: set = field(default_factory=set)
    pick: Pick | None = None
    which: str = ""
    mirror: bool = True
    additive: bool = False
    moved: bool = False
    serial: int = 0


class RotoToolbar(QtWidgets.QWidget):
    """The roto tools: Select, Add, Feather (one checked) and Key."""

    def __init__(self, overlay: RotoOverlay, parent=None):
        super().__init__(parent)
        self.setObjectName("RotoToolbar")
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 1, 4, 1)
        layout.setSpacing(4)
        self.label = QtWidgets.QLabel("", self)
        self.label.setObjectName("RotoNode")
        layout.addWidget(self.label)
        self.group = QtWidgets.QButtonGroup(self)
        self.buttons: dict[str, QtWidgets.QToolButton] = {}
        tips = {
            "select": "Select and move points, shapes and tangents; Ctrl-drag a point: feather (Q)",
            "add": "Click to add points of a new shape, drag to pull out tangents; click "
            "the first point or press Enter to close it (V)",
            "feather": "Drag a point outwards to feather it, inwards to shrink (E)",
        }
        for tool in TOOLS:
            button = QtWidgets.QToolButton(self)
            button.setText(tool.capitalize())
            button.setCheckable(True)
            button.setToolTip(tips[tool])
            button.clicked.connect(lambda _=False, t=tool: overlay.set_tool(t))
            self.group.addButton(button)
            layout.addWidget(button)
            self.buttons[tool] = button
        self.buttons["select"].setChecked(True)
        layout.addSpacing(8)
        self.key_button = QtWidgets.QToolButton(self)
        self.key_button.setText("Key")
        self.key_button.setToolTip("Set a key of all the shapes at the current frame")
        self.key_button.clicked.connect(lambda: overlay.key_here())
        layout.addWidget(self.key_button)
        layout.addStretch(1)


class RotoOverlay(QtCore.QObject):
    """Draws and edits the shapes of the selected Roto node on the viewer's canvas.

    The canvas calls :meth:`paint` and the mouse methods; the overlay edits the node's
    ``shapes`` through the document's undo stack.
    """

    def __init__(self, viewer):
        super().__init__(viewer)
        self.viewer = viewer
        self.doc = viewer.doc
        self.canvas = viewer.canvas
        self.node_name: str | None = None
        self.tool = "select"
        self.selection: set[Pick] = set()
        self.drawing: str | None = None  # the open shape the add tool is drawing
        self.drag: Drag | None = None
        self.band: QtCore.QRectF | None = None
        self._serial = 0
        self.toolbar = RotoToolbar(self, viewer)
        self.toolbar.hide()
        self.canvas.overlay = self
        self.canvas.installEventFilter(self)
        self.doc.changed.connect(self._on_changed)
        self.doc.reset.connect(lambda: self.set_node(None))

    # -- which node -------------------------------------------------------------------

    def follow_selection(self, names: list[str]) -> None:
        """Edit the last selected Roto node (nothing when none is selected)."""
        graph = self.doc.graph
        rotos = [n for n in names if n in graph and graph[n].type == ROTO_TYPE]
        self.set_node(rotos[-1] if rotos else None)

    def set_node(self, name: str | None) -> None:
        """Show and edit the shapes of Roto node ``name`` (None: none)."""
        if name != self.node_name:
            self.selection = set()
            self.drawing = None
            self.drag = None
            self.band = None
        self.node_name = name
        self.toolbar.setVisible(self.node() is not None)
        self.toolbar.label.setText(name or "")
        self.canvas.update()

    def node(self):
        """The edited Roto node, or None."""
        graph = self.doc.graph
        name = self.node_name
        if name is None or name not in graph or graph[name].type != ROTO_TYPE:
            return None
        node = graph[name]
        return None if node.is_placeholder else node

    @property
    def active(self) -> bool:
        """Whether a Roto node is being shown and edited."""
        return self.node() is not None

    def _on_changed(self, change) -> None:
        for old, new in change.renamed:
            if self.node_name == old:
                self.node_name = new
                self.toolbar.label.setText(new)
        if self.node_name is not None and self.node() is None:
            self.set_node(None)
        self.canvas.update()

    # -- values -----------------------------------------------------------------------

    @property
    def frame(self) -> float:
        """The viewer's frame: shapes are shown, edited and keyed there."""
        return self.viewer.frame

    def stored(self) -> Any:
        """The ``shapes`` parameter's stored value (static or animated)."""
        return undo.stored_value(self.node(), SHAPES)

    def shapes(self) -> list[dict]:
        """The shapes at the viewer's frame, normalized."""
        node = self.node()
        if node is None:
            return []
        return normalized_shapes(node.spec.param(SHAPES).at(self.stored(), self.frame))

    def commit(self, shapes: list[dict], text: str, merge_key=None, base=None) -> bool:
        """Write ``shapes`` as the value at the current frame (a key there when the
        parameter is animated), one undo step (or merged into the drag ``merge_key``)."""
        node = self.node()
        declared = node.spec.param(SHAPES)
        new = with_value_at(declared, self.stored() if base is None else base, self.frame, shapes)
        return self._push(new, text, merge_key)

    def commit_structure(self, edit, text: str, merge_key=None, base=None) -> bool:
        """Make an edit of the shapes' structure (points or shapes added or deleted, a shape
        closed): ``edit`` maps a list of shapes to the edited list. On animated shapes it
        is made in every key (after a key is set at the current frame), as Nuke adds a
        point to the whole animation, so the keys keep matching and interpolating."""
        node = self.node()
        declared = node.spec.param(SHAPES)
        start = self.stored() if base is None else base
        if not is_animated(start):
            return self._push(edit(normalized_shapes(start)), text, merge_key)
        here = with_value_at(declared, start, self.frame, declared.at(start, self.frame))
        keys = [[k[0], edit(normalized_shapes(k[1])), *k[2:]] for k in here["keys"]]
        new = {"keys": keys, "interpolation": here["interpolation"]}
        return self._push(new, text, merge_key)

    def _push(self, new: Any, text: str, merge_key=None) -> bool:
        """Set the stored value to ``new``: one undo step (merged into a drag's)."""
        node = self.node()
        declared = node.spec.param(SHAPES)
        old = self.stored()
        try:
            new = declared.coerce(new)
        except ParamError as error:
            self.doc.message.emit(f"{node.name}.{error}")
            return False
        if new == old:
            return False
        command = undo.SetParams(self.doc, [(node.name, SHAPES, old, new)], text, merge_key)
        pushed = self.doc.push(command)
        self.canvas.update()
        return pushed

    def key_here(self) -> bool:
        """Write the whole shapes value at the current frame as a key (animating a
        static value, as the keyframe button does)."""
        node = self.node()
        if node is None:
            return False
        declared = node.spec.param(SHAPES)
        old = self.stored()
        value = declared.at(old, self.frame)
        if is_animated(old):
            new = with_value_at(declared, old, self.frame, value)
        else:
            new = {"keys": [[float(self.frame), value]], "interpolation": "linear"}
        new = declared.coerce(new)
        if new == old:
            return False
        text = f"Key {node.name}.shapes at frame {self.frame:g}"
        return self.doc.push(undo.SetParams(self.doc, [(node.name, SHAPES, old, new)], text))

    # -- tools ------------------------------------------------------------------------

    def set_tool(self, tool: str) -> None:
        """Choose ``select``, ``add`` or ``feather`` (finishing a shape being drawn)."""
        if tool not in TOOLS:
            raise ValueError(f"unknown roto tool {tool!r}")
        if tool != "add":
            self.finish_shape()
        self.tool = tool
        button = self.toolbar.buttons[tool]
        if not button.isChecked():
            button.setChecked(True)
        self.canvas.update()

    def finish_shape(self) -> None:
        """Close the shape being drawn (a single point is dropped)."""
        name, self.drawing = self.drawing, None
        if name is None or not self.active:
            return
        shapes = self.shapes()
        shape = find(shapes, name)
        if shape is None or shape["closed"]:
            return
        if len(shape["points"]) < 2:
            self.commit_structure(lambda s: without_points(s, {(name, 0)}), f"Remove {name}")
            self.selection = set()
        else:
            self.commit_structure(lambda s: closed(s, name), f"Close {name}")
            self.selection = {(name, i) for i in range(len(shape["points"]))}

    def delete_selected(self) -> bool:
        """Delete the selected points (a shape left without points goes)."""
        shapes = self.shapes()
        picks = valid_picks(shapes, self.selection)
        if not picks:
            return False
        self.selection = set()
        counts = {shape["name"]: len(shape["points"]) for shape in shapes}

        def edit(keyed: list[dict]) -> list[dict]:
            # only where the shape has the points it has here (else the indices differ)
            same = {s["name"] for s in keyed if len(s["points"]) == counts.get(s["name"])}
            return without_points(keyed, {pick for pick in picks if pick[0] in same})

        return self.commit_structure(edit, "Delete roto points")

    # -- geometry on screen -----------------------------------------------------------

    def to_widget(self, x: float, y: float) -> QtCore.QPointF:
        """Format position -> widget position (the canvas's own mapping)."""
        return self.canvas.to_widget(x, y)

    def _near(self, a: QtCore.QPointF, b: QtCore.QPointF) -> float:
        return math.hypot(a.x() - b.x(), a.y() - b.y())

    def _handles(self, shape: dict, index: int):
        """The in and out handles of a point, in format pixels."""
        x, y, ix, iy, ox, oy = shape["points"][index]
        return {"in": (x + ix, y + iy), "out": (x + ox, y + oy)}

    def pick_point(self, shapes: list[dict], pos: QtCore.QPointF) -> Pick | None:
        """The point nearest ``pos`` within the pick radius (later shapes first)."""
        best, best_distance = None, PICK_RADIUS
        for shape in reversed(shapes):
            for index, point in enumerate(shape["points"]):
                distance = self._near(self.to_widget(point[0], point[1]), pos)
                if distance <= best_distance:
                    best, best_distance = (shape["name"], index), distance
        return best

    def pick_handle(self, shapes: list[dict], pos: QtCore.QPointF):
        """A tangent handle of a selected point under ``pos``: (pick, ``in``/``out``)."""
        for name, index in sorted(valid_picks(shapes, self.selection)):
            shape = find(shapes, name)
            point = shape["points"][index]
            for which, (hx, hy) in self._handles(shape, index).items():
                if (hx, hy) == (point[0], point[1]):
                    continue
                if self._near(self.to_widget(hx, hy), pos) <= PICK_RADIUS:
                    return (name, index), which
        return None

    def pick_feather(self, shapes: list[dict], pos: QtCore.QPointF) -> Pick | None:
        """A feather point (one with a feather) under ``pos``."""
        for shape in reversed(shapes):
            for index, point in enumerate(feather_points(shape)):
                if shape["feather"][index] == 0:
                    continue
                if self._near(self.to_widget(point[0], point[1]), pos) <= PICK_RADIUS:
                    return (shape["name"], index)
        return None

    def pick_shape(self, shapes: list[dict], pos: QtCore.QPointF) -> dict | None:
        """The topmost closed shape whose inside holds ``pos``."""
        x, y = self.canvas.to_image(pos)
        return next((s for s in reversed(shapes) if contains(s, x, y)), None)

    # -- mouse ------------------------------------------------------------------------

    def press(self, event: QtGui.QMouseEvent) -> bool:
        """A press on the canvas: True when the overlay takes it (and the drag after)."""
        if not self.active or event.button() != QtCore.Qt.MouseButton.LeftButton:
            return False
        pos = event.position()
        mods = event.modifiers()
        shift = bool(mods & QtCore.Qt.KeyboardModifier.ShiftModifier)
        ctrl = bool(mods & QtCore.Qt.KeyboardModifier.ControlModifier)
        shapes = self.shapes()
        self.selection = valid_picks(shapes, self.selection)
        self._serial += 1
        base = Drag("", pos, shapes, self.stored(), serial=self._serial)
        if self.tool == "add":
            return self._press_add(shapes, pos, base)
        handle = self.pick_handle(shapes, pos)
        if handle is not None and not ctrl:
            base.kind, (base.pick, base.which) = "tangent", handle
            base.mirror = not shift
            self.drag = base
            return True
        feather = self.pick_feather(shapes, pos)
        point = self.pick_point(shapes, pos)
        if feather is not None and (point is None or self.tool == "feather"):
            return self._start_feather(base, feather)
        if point is not None:
            if ctrl or self.tool == "feather":
                return self._start_feather(base, point)
            if shift:
                self.selection ^= {point}
            elif point not in self.selection:
                self.selection = {point}
            base.kind, base.picks = "move", set(self.selection)
            self.drag = base
            self.canvas.update()
            return True
        if ctrl:
            return False  # Ctrl-click away from points: the pixel probe
        shape = self.pick_shape(shapes, pos)
        if shape is not None:
            points = {(shape["name"], i) for i in range(len(shape["points"]))}
            self.selection = self.selection | points if shift else points
            base.kind, base.picks = "move", set(self.selection)
            self.drag = base
            self.canvas.update()
            return True
        if not shift:
            self.selection = set()
        base.kind, base.additive = "band", shift
        self.drag = base
        self.band = QtCore.QRectF(pos, pos)
        self.canvas.update()
        return True

    def _start_feather(self, drag: Drag, pick: Pick) -> bool:
        if pick not in self.selection:
            self.selection = {pick}
        drag.kind, drag.pick, drag.picks = "feather", pick, set(self.selection)
        self.drag = drag
        self.canvas.update()
        return True

    def _press_add(self, shapes: list[dict], pos: QtCore.QPointF, drag: Drag) -> bool:
        drawing = find(shapes, self.drawing) if self.drawing else None
        if drawing is None or drawing["closed"]:
            self.drawing = None
        if drawing is not None and self.drawing is not None and len(drawing["points"]) >= 2:
            first = drawing["points"][0]
            if self._near(self.to_widget(first[0], first[1]), pos) <= PICK_RADIUS:
                self.finish_shape()
                return True
        stored = self.stored()
        every_key = [k[1] for k in stored["keys"]] if is_animated(stored) else [stored]
        name = self.drawing or unique_name([s for v in every_key for s in normalized_shapes(v)])
        x, y = self.canvas.to_image(pos)
        shapes = with_point(shapes, name, x, y)
        index = len(find(shapes, name)["points"]) - 1
        verb = "Add point to" if self.drawing else "New shape"
        merge = ("roto-pull", drag.serial)
        edit = lambda keyed: with_point(keyed, name, x, y)
        if not self.commit_structure(edit, f"{verb} {name}", merge_key=merge):
            return True
        self.drawing = name
        self.selection = {(name, index)}
        drag.kind, drag.pick, drag.shapes = "pull", (name, index), shapes
        drag.stored = self.stored()
        self.drag = drag
        return True

    def move(self, event: QtGui.QMouseEvent) -> None:
        """The mouse moved with the button down after a press the overlay took."""
        drag = self.drag
        if drag is None:
            return
        pos = event.position()
        if not drag.moved and self._near(pos, drag.start) < DRAG_THRESHOLD:
            return
        if not drag.moved:
            drag.moved = True
            if drag.kind != "band":
                self.viewer.set_draft(True)
        if drag.kind == "band":
            self.band = QtCore.QRectF(drag.start, pos).normalized()
            self.canvas.update()
            return
        self._drag_edit(drag, pos, event.modifiers())

    def _drag_edit(self, drag: Drag, pos: QtCore.QPointF, mods) -> None:
        x0, y0 = self.canvas.to_image(drag.start)
        x, y = self.canvas.to_image(pos)
        merge = ("roto", self.node_name, drag.serial)
        if drag.kind == "move":
            shapes = moved(drag.shapes, drag.picks, x - x0, y - y0)
            self.commit(shapes, "Move roto points", merge, drag.stored)
        elif drag.kind in ("tangent", "pull"):
            point = find(drag.shapes, drag.pick[0])["points"][drag.pick[1]]
            which = drag.which or "out"
            ctrl = bool(mods & QtCore.Qt.KeyboardModifier.ControlModifier)
            vector, mirror = (x - point[0], y - point[1]), drag.mirror and not ctrl
            shapes = with_tangent(drag.shapes, drag.pick, which, vector, mirror)
            if drag.kind == "pull":  # part of adding the point: in every key, as the point
                self.commit_structure(
                    lambda keyed: with_tangent(keyed, drag.pick, which, vector, mirror),
                    f"Add point to {drag.pick[0]}",
                    ("roto-pull", drag.serial),
                    drag.stored,
                )
            else:
                self.commit(shapes, "Bend roto tangent", merge, drag.stored)
        elif drag.kind == "feather":
            shape = find(drag.shapes, drag.pick[0])
            nx, ny = outward_normals(shape)[drag.pick[1]]
            delta = (x - x0) * nx + (y - y0) * ny
            amounts = {}
            for name, index in drag.picks:
                other = find(drag.shapes, name)
                if other is not None and index < len(other["feather"]):
                    amounts[(name, index)] = other["feather"][index] + delta
            self.commit(
                with_feather(drag.shapes, amounts), "Feather roto points", merge, drag.stored
            )

    def release(self, event: QtGui.QMouseEvent) -> None:
        """The button came up: end the drag (a band selects what it encloses)."""
        drag, self.drag = self.drag, None
        if drag is None:
            return
        if drag.kind == "band":
            band, self.band = self.band, None
            if drag.moved and band is not None:
                self._select_in(band, drag.additive)
            self.canvas.update()
            return
        if drag.moved:
            self.viewer.set_draft(False)
        self.canvas.update()

    def _select_in(self, band: QtCore.QRectF, additive: bool) -> None:
        inside = {
            (shape["name"], index)
            for shape in self.shapes()
            for index, point in enumerate(shape["points"])
            if band.contains(self.to_widget(point[0], point[1]))
        }
        self.selection = (self.selection | inside) if additive else inside

    # -- keys -------------------------------------------------------------------------

    def eventFilter(self, watched, event) -> bool:
        """The canvas's keys while a Roto is edited: Delete/Backspace (points), Enter and
        Escape (close the shape being drawn; clear the selection), Q/V/E (tools)."""
        if watched is not self.canvas or not self.active:
            return False
        kind = event.type()
        if kind not in (QtCore.QEvent.Type.ShortcutOverride, QtCore.QEvent.Type.KeyPress):
            return False
        key, mods = event.key(), event.modifiers()
        plain = mods in (
            QtCore.Qt.KeyboardModifier.NoModifier,
            QtCore.Qt.KeyboardModifier.KeypadModifier,
        )
        deleting = key in (QtCore.Qt.Key.Key_Delete, QtCore.Qt.Key.Key_Backspace)
        finishing = key in (
            QtCore.Qt.Key.Key_Return,
            QtCore.Qt.Key.Key_Enter,
            QtCore.Qt.Key.Key_Escape,
        )
        if kind == QtCore.QEvent.Type.ShortcutOverride:
            # the window's Delete deletes nodes: over a Roto's shapes it deletes points
            # (or nothing), never the node being edited
            if plain and (deleting or finishing):
                event.accept()
                return True
            return False
        if not plain:
            return False
        if deleting:
            self.delete_selected()
            return True
        if finishing:
            if self.drawing is not None:
                self.finish_shape()
            elif key == QtCore.Qt.Key.Key_Escape:
                self.selection = set()
            self.canvas.update()
            return True
        if key in TOOL_KEYS:
            self.set_tool(TOOL_KEYS[key])
            return True
        return False

    # -- painting ---------------------------------------------------------------------

    def widget_path(self, shape: dict) -> QtGui.QPainterPath:
        """The shape's curve in widget coordinates (control points mapped exactly: the
        canvas's mapping is affine)."""
        path = QtGui.QPainterPath()
        if not shape["points"]:
            return path
        first = shape["points"][0]
        path.moveTo(self.to_widget(first[0], first[1]))
        for _, c0, c1, p1 in segments(shape):
            path.cubicTo(self.to_widget(*c0), self.to_widget(*c1), self.to_widget(*p1))
        if shape["closed"] and len(shape["points"]) > 1:
            path.closeSubpath()
        return path

    def paint(self, painter: QtGui.QPainter) -> None:
        """Draw the shapes: curves, feather guides (dashed), points, selected points'
        tangent handles and the rubber band."""
        if not self.active:
            return
        shapes = self.shapes()
        picks = valid_picks(shapes, self.selection)
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        for shape in shapes:
            chosen = {i for name, i in picks if name == shape["name"]}
            self._paint_shape(painter, shape, chosen)
        if self.band is not None:
            painter.setPen(QtGui.QPen(QtGui.QColor(230, 230, 230), 1, QtCore.Qt.PenStyle.DotLine))
            painter.setBrush(QtGui.QColor(230, 230, 230, 30))
            painter.drawRect(self.band)
        painter.restore()

    def _paint_shape(self, painter: QtGui.QPainter, shape: dict, chosen: set[int]) -> None:
        colour = CURVE_SELECTED if chosen else CURVE_COLOUR
        if not shape["enabled"]:
            colour = QtGui.QColor(colour.red(), colour.green(), colour.blue(), 110)
        if any(shape["feather"]) and shape["closed"]:
            pen = QtGui.QPen(colour, 1.0, QtCore.Qt.PenStyle.DashLine)
            painter.setPen(pen)
            outline = [self.to_widget(x, y) for x, y in feather_outline(shape)]
            painter.drawPolygon(QtGui.QPolygonF(outline))
            guide = feather_points(shape)
            painter.setPen(QtGui.QPen(colour, 1.0, QtCore.Qt.PenStyle.DotLine))
            for index, amount in enumerate(shape["feather"]):
                if amount:
                    point = shape["points"][index]
                    tip = self.to_widget(guide[index][0], guide[index][1])
                    painter.drawLine(self.to_widget(point[0], point[1]), tip)
                    painter.drawEllipse(tip, 2.5, 2.5)
        painter.setPen(QtGui.QPen(colour, 1.5))
        painter.drawPath(self.widget_path(shape))
        for index in sorted(chosen):
            self._paint_handles(painter, shape, index)
        for index, point in enumerate(shape["points"]):
            centre = self.to_widget(point[0], point[1])
            box = QtCore.QRectF(centre.x() - 3, centre.y() - 3, 6, 6)
            painter.setPen(QtGui.QPen(QtGui.QColor(20, 20, 20), 1))
            painter.setBrush(POINT_SELECTED if index in chosen else colour)
            painter.drawRect(box)
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)

    def _paint_handles(self, painter: QtGui.QPainter, shape: dict, index: int) -> None:
        point = shape["points"][index]
        centre = self.to_widget(point[0], point[1])
        for hx, hy in self._handles(shape, index).values():
            if (hx, hy) == (point[0], point[1]):
                continue
            tip = self.to_widget(hx, hy)
            painter.setPen(QtGui.QPen(HANDLE_COLOUR, 1))
            painter.drawLine(centre, tip)
            painter.setBrush(HANDLE_COLOUR)
            painter.drawEllipse(tip, 3, 3)
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)


CURVE_COLOUR = QtGui.QColor(225, 225, 225)
CURVE_SELECTED = QtGui.QColor(255, 190, 60)
POINT_SELECTED = QtGui.QColor(255, 255, 255)
HANDLE_COLOUR = QtGui.QColor(120, 200, 255)
