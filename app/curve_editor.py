"""The curve editor: the animated parameters of the selected nodes as curves over frames.

On the left a checkable tree, node › parameter › component (``Grade1 › gain › r``); on
the right a :class:`CurveView` that draws the checked curves by sampling the engine's own
interpolation (:meth:`Param.at`), so what is drawn is what renders. Keys are handles:
add (double-click on a curve, Ctrl+click), move (drag; frames snap to whole frames unless
Shift is held), delete (Delete), select (click, Shift+click, rubber band), set their
interpolation (context menu, K L Z as in Nuke), frame them (F, A), zoom and pan (wheel,
middle drag). Every edit is one :class:`~mattebox.app.undo.SetParams` on the document's
undo stack (a drag is one step), so the viewer and the properties follow as for any edit.

A key belongs to a parameter, not to one component: an RGBA value is keyed as a whole,
as scripts store it. Dragging the key of ``gain › r`` up or down changes ``r`` only;
dragging it sideways moves the key of every component, and deleting it deletes it for
every component (``docs/editor.md``, "Curve editor").
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from PySide6 import QtCore, QtGui, QtWidgets

from mattebox.app import undo
from mattebox.app.focus import take_focus_on_hover
from mattebox.app.properties import with_key_interpolation, with_value_at
from mattebox.nodes.spec import INTERPOLATIONS, Param, ParamError, is_animated

COMPONENTS = {"rgba": ("r", "g", "b", "a"), "vec2": ("x", "y")}
NUMERIC = ("float", "int", "rgba", "vec2")
COMPONENT_COLORS = {
    "r": "#e25a5a", "g": "#5cc462", "b": "#5c8ff0", "a": "#d0d0d0",
    "x": "#e25a5a", "y": "#5cc462",
}  # fmt: skip
SCALAR_COLORS = ("#e8c85a", "#5fd0d0", "#d27ad2", "#e89a50", "#a0d45f", "#9a9af0")
INTERPOLATION_KEYS = {"constant": "K", "linear": "L", "smooth": "Z"}  # Nuke's keys
HANDLE_RADIUS = 4  # half the side of a key's square, in pixels
HIT_DISTANCE = 7  # how near (pixels) a click must be to a key or a curve
DRAG_THRESHOLD = 3  # pixels a key must be dragged before it moves
FRAME_PADDING = 0.08  # frame-all leaves this fraction of the view free on each side
ZOOM_LIMITS = (1e-6, 1e7)  # smallest and largest span of either axis
_drag_ids = itertools.count(1)


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class CurveId:
    """One curve: a parameter of a node, or one component (``index``) of an RGBA or 2D
    vector parameter."""

    node: str
    param: str
    index: int | None = None
    component: str = ""

    @property
    def label(self) -> str:
        parts = [self.node, self.param] + ([self.component] if self.component else [])
        return " \u203a ".join(parts)


@dataclass(frozen=True)
class KeyRef:
    """A key as the curve editor selects it: on one curve, at one frame."""

    curve: CurveId
    frame: float


def component(value: Any, index: int | None) -> float:
    """The number a curve shows of a parameter's value."""
    return float(value if index is None else value[index])


def animated_curves(graph, names) -> list[CurveId]:
    """The curves of the animated parameters of nodes ``names``, in declaration order."""
    curves = []
    for name in names:
        if name not in graph or graph[name].is_placeholder:
            continue
        node = graph[name]
        for param in node.spec.params:
            if param.type not in NUMERIC or not is_animated(node.values.get(param.name)):
                continue  # a Roto's animated shapes have keys but no curve to draw
            parts = COMPONENTS.get(param.type)
            if parts is None:
                curves.append(CurveId(name, param.name))
            else:
                curves.extend(CurveId(name, param.name, i, c) for i, c in enumerate(parts))
    return curves


def key_frames(stored: Any) -> list[float]:
    """The frames of an animated value's keys."""
    return [float(k[0]) for k in stored["keys"]] if is_animated(stored) else []


def sample_frames(stored: Any, first: float, last: float, count: int) -> list[float]:
    """Frames at which to sample a curve over ``[first, last]``: ``count`` even steps,
    every key frame inside, and just before each key (where a ``constant`` segment jumps),
    in order."""
    count = max(count, 2)
    step = (last - first) / (count - 1)
    frames = {first + step * i for i in range(count)}
    for frame in key_frames(stored):
        if first <= frame <= last:
            frames.add(frame)
            before = math.nextafter(frame, -math.inf)
            if before >= first:
                frames.add(before)
    return sorted(frames)


def limited(param: Param, number: float) -> float:
    """``number`` inside the parameter's hard limits (whole for an int parameter)."""
    if param.type == "int":
        number = round(number)
    if param.min is not None:
        number = max(param.min, number)
    if param.max is not None:
        number = min(param.max, number)
    return number


def with_component(value: Any, index: int | None, number: float) -> Any:
    """``value`` with one component replaced (the whole value for a number)."""
    if index is None:
        return number
    parts = list(value)
    parts[index] = number
    return tuple(parts)


def with_key_added(param: Param, stored: Any, curve: CurveId, frame: float, number: float):
    """The stored value with a key at ``frame`` whose ``curve`` component is ``number``
    (the other components keep the value they have there)."""
    whole = with_component(param.at(stored, frame), curve.index, limited(param, number))
    return with_value_at(param, stored, frame, whole)


def with_keys_moved(stored: dict, moves: dict[float, tuple[float, Any]]) -> dict:
    """The stored value with the keys at the frames ``moves`` names taken to
    ``(new frame, new value)``; a key moved onto a key that stays replaces it (as
    setting a value at a frame with a key does). Keys keep their interpolation."""
    keys = [list(k) for k in stored["keys"]]
    moving = [k for k in keys if float(k[0]) in moves]
    landing = {float(moves[float(k[0])][0]) for k in moving}
    out = [k for k in keys if float(k[0]) not in moves and float(k[0]) not in landing]
    for key in moving:
        frame, value = moves[float(key[0])]
        out.append([float(frame), value, *key[2:]])
    out.sort(key=lambda k: k[0])
    return {"keys": out, "interpolation": stored.get("interpolation", "linear")}


def with_keys_removed(param: Param, stored: dict, frames, frame_now: float) -> Any:
    """The stored value without the keys at ``frames``; removing every key leaves the
    value the curve had at the current frame (as the last key removed in the properties
    leaves its value)."""
    gone = {float(f) for f in frames}
    rest = [list(k) for k in stored["keys"] if float(k[0]) not in gone]
    if not rest:
        return param.at(stored, frame_now)
    return {"keys": rest, "interpolation": stored.get("interpolation", "linear")}


def with_keys_interpolation(stored: dict, frames, kind: str) -> dict:
    """The stored value with the keys at ``frames`` interpolating as ``kind``."""
    for frame in sorted({float(f) for f in frames}):
        stored = with_key_interpolation(stored, frame, kind)
    return stored


def tick_step(span: float, pixels: float, spacing: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) at least ``spacing`` pixels apart
    when ``span`` units cover ``pixels``."""
    raw = abs(span) * spacing / max(pixels, 1.0)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude


def curve_color(curve: CurveId, order: int) -> QtGui.QColor:
    """Components in their own colour (r red, x red...), numbers by their order."""
    name = COMPONENT_COLORS.get(curve.component) or SCALAR_COLORS[order % len(SCALAR_COLORS)]
    return QtGui.QColor(name)


# --------------------------------------------------------------------------- the panel


class CurveEditor(QtWidgets.QWidget):
    """The curve editor panel: the tree of curves and the :class:`CurveView`.

    Signals
    -------
    dragging(bool)
        A key drag started or ended (the viewer renders drafts meanwhile).
    """

    dragging = QtCore.Signal(bool)

    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.setObjectName("CurveEditor")
        self.doc = doc
        self.names: list[str] = []
        self.curves: list[CurveId] = []
        self.hidden: set[CurveId] = set()
        self.frame = 1.0
        self.tree = QtWidgets.QTreeWidget(self)
        self.tree.setObjectName("CurveTree")
        self.tree.setHeaderHidden(True)
        self.tree.setMinimumWidth(120)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.view = CurveView(self)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal, self)
        split.addWidget(self.tree)
        split.addWidget(self.view)
        split.setStretchFactor(1, 1)
        split.setSizes([170, 500])
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        doc.changed.connect(self._on_changed)
        doc.reset.connect(self._on_reset)
        doc.scope_changed.connect(self._on_reset)  # a group opened or left: other nodes

    # -- what is shown ------------------------------------------------------------------

    def show_nodes(self, names: list[str]) -> None:
        """Show the animated parameters of nodes ``names`` (the node graph's selection).
        An empty selection keeps what is shown, as the properties panel does."""
        names = [n for n in names if n in self.doc.graph]
        if not names and self.names and all(n in self.doc.graph for n in self.names):
            return
        if names == self.names:
            return
        self.names = names
        self.view.selection.clear()
        self._rebuild()
        self.view.frame_all()

    def _on_reset(self) -> None:
        """A new script, or another graph edited (a group opened or left): nothing is
        shown until a node is selected."""
        self.names, self.hidden = [], set()
        self.view.selection.clear()
        self._rebuild()

    def set_frame(self, frame: float) -> None:
        """The current frame (drawn as a line; where removing every key leaves a value)."""
        self.frame = float(frame)
        self.view.update()

    def visible_curves(self) -> list[CurveId]:
        """The curves checked in the tree (of nodes and values the graph still has: an
        edit may come before the tree follows it)."""
        graph = self.doc.graph
        return [
            c
            for c in self.curves
            if c not in self.hidden and c.node in graph and is_animated(self.stored(c))
        ]

    def param_of(self, curve: CurveId) -> Param:
        return self.doc.graph[curve.node].spec.param(curve.param)

    def stored(self, curve: CurveId) -> Any:
        return undo.stored_value(self.doc.graph[curve.node], curve.param)

    def color_of(self, curve: CurveId) -> QtGui.QColor:
        scalars = [c for c in self.curves if c.index is None]
        return curve_color(curve, scalars.index(curve) if curve in scalars else 0)

    def _rebuild(self) -> None:
        """Refill the tree from the graph (keeping what was unchecked and selected)."""
        self.curves = animated_curves(self.doc.graph, self.names)
        present = set(self.curves)
        self.hidden &= present
        self.view.selection = {
            ref for ref in self.view.selection
            if ref.curve in present and ref.frame in key_frames(self.stored(ref.curve))
        }  # fmt: skip
        self.tree.blockSignals(True)
        self.tree.clear()
        parents: dict[tuple, QtWidgets.QTreeWidgetItem] = {}
        for curve in self.curves:
            node_item = parents.get((curve.node,))
            if node_item is None:
                node_item = self._item(self.tree, curve.node, None)
                font = node_item.font(0)
                font.setBold(True)
                node_item.setFont(0, font)
                parents[(curve.node,)] = node_item
            if curve.index is None:
                self._item(node_item, curve.param, curve)
                continue
            param_item = parents.get((curve.node, curve.param))
            if param_item is None:
                param_item = self._item(node_item, curve.param, None)
                parents[(curve.node, curve.param)] = param_item
            self._item(param_item, curve.component, curve)
        self.tree.expandAll()
        self.tree.blockSignals(False)
        if not self.curves:
            hint = QtWidgets.QTreeWidgetItem(self.tree, ["(no animated parameters)"])
            hint.setFlags(QtCore.Qt.ItemFlag.NoItemFlags)
        self.view.update()

    def _item(self, parent, text: str, curve: CurveId | None) -> QtWidgets.QTreeWidgetItem:
        item = QtWidgets.QTreeWidgetItem(parent, [text])
        flags = QtCore.Qt.ItemFlag
        item.setFlags(flags.ItemIsEnabled | flags.ItemIsUserCheckable | flags.ItemIsAutoTristate)
        state = QtCore.Qt.CheckState
        if curve is not None:
            item.setData(0, QtCore.Qt.ItemDataRole.UserRole, curve)
            item.setForeground(0, QtGui.QBrush(self.color_of(curve)))
            item.setToolTip(0, curve.label)
            item.setCheckState(0, state.Unchecked if curve in self.hidden else state.Checked)
        else:
            item.setCheckState(0, state.Checked)  # Qt derives it from the children
        return item

    def curve_items(self) -> dict[CurveId, QtWidgets.QTreeWidgetItem]:
        """The tree's item of each curve."""
        found = {}
        iterator = QtWidgets.QTreeWidgetItemIterator(self.tree)
        while iterator.value() is not None:
            item = iterator.value()
            curve = item.data(0, QtCore.Qt.ItemDataRole.UserRole)
            if curve is not None:
                found[curve] = item
            iterator += 1
        return found

    def _on_item_changed(self, item, column: int) -> None:
        hidden = {
            curve
            for curve, leaf in self.curve_items().items()
            if leaf.checkState(0) != QtCore.Qt.CheckState.Checked
        }
        if hidden != self.hidden:
            self.hidden = hidden
            self.view.selection = {r for r in self.view.selection if r.curve not in hidden}
            self.view.update()

    def _on_changed(self, change) -> None:
        if change.renamed:
            renames = dict(change.renamed)
            self.names = [renames.get(n, n) for n in self.names]
            self.hidden = {replace(c, node=renames.get(c.node, c.node)) for c in self.hidden}
            self.view.selection = {
                replace(r, curve=replace(r.curve, node=renames.get(r.curve.node, r.curve.node)))
                for r in self.view.selection
            }
        shown = set(self.names)
        if not (change.renamed or change.removed & shown or change.params & shown):
            return
        self.names = [n for n in self.names if n in self.doc.graph]
        if animated_curves(self.doc.graph, self.names) != self.curves or change.renamed:
            self._rebuild()
        else:
            self.view.selection = {
                r for r in self.view.selection if r.frame in key_frames(self.stored(r.curve))
            }
            self.view.update()

    # -- edits ----------------------------------------------------------------------------

    def push(self, changes: list, text: str, merge_key=None) -> bool:
        """Put one edit of parameter values on the undo stack: ``changes`` are
        ``(curve's node, param, new stored value)``; unchanged ones are left out unless
        the edit merges (a drag keeps the same list from its first step to its last)."""
        graph = self.doc.graph
        rows = []
        for node, param, new in changes:
            declared = graph[node].spec.param(param)
            try:
                new = declared.coerce(new)
            except ParamError as error:
                self.doc.message.emit(f"{node}.{error}")
                return False
            old = undo.stored_value(graph[node], param)
            if new != old or merge_key is not None:
                rows.append((node, param, old, new))
        if not rows:
            return False
        return self.doc.push(undo.SetParams(self.doc, rows, text, merge_key=merge_key))

    def add_key(self, curve: CurveId, frame: float, number: float) -> bool:
        """Add (or set) the key of ``curve`` at ``frame`` to ``number``; selects it."""
        param, stored = self.param_of(curve), self.stored(curve)
        new = with_key_added(param, stored, curve, float(frame), number)
        done = self.push([(curve.node, curve.param, new)], f"Add key {curve.label} at {frame:g}")
        if done:
            self.view.selection = {KeyRef(curve, float(frame))}
            self.view.update()
        return done

    def delete_keys(self, refs) -> bool:
        """Delete the keys ``refs`` (of every component of their parameters)."""
        frames: dict[tuple[str, str], set[float]] = {}
        for ref in refs:
            frames.setdefault((ref.curve.node, ref.curve.param), set()).add(ref.frame)
        changes = []
        for (node, param), gone in frames.items():
            declared = self.doc.graph[node].spec.param(param)
            stored = undo.stored_value(self.doc.graph[node], param)
            changes.append((node, param, with_keys_removed(declared, stored, gone, self.frame)))
        count = sum(len(f) for f in frames.values())
        done = self.push(changes, f"Delete {count} key{'s' if count != 1 else ''}")
        if done:
            self.view.selection = set()
            self.view.update()
        return done

    def set_interpolation(self, refs, kind: str) -> bool:
        """Make the keys ``refs`` interpolate as ``kind`` (the segment leaving each)."""
        frames: dict[tuple[str, str], set[float]] = {}
        for ref in refs:
            frames.setdefault((ref.curve.node, ref.curve.param), set()).add(ref.frame)
        changes = [
            (node, param, with_keys_interpolation(
                undo.stored_value(self.doc.graph[node], param), keyed, kind))
            for (node, param), keyed in frames.items()
        ]  # fmt: skip
        return self.push(changes, f"Set keys to {kind}")

    def interpolation_of(self, ref: KeyRef) -> str:
        stored = self.stored(ref.curve)
        key = next(k for k in stored["keys"] if float(k[0]) == ref.frame)
        return key[2] if len(key) > 2 else stored.get("interpolation", "linear")


# --------------------------------------------------------------------------- the view


class CurveView(QtWidgets.QWidget):
    """Draws the visible curves over frames (x) and values (y, up) and edits their keys.

    The view shows frames ``left``..``right`` and values ``bottom``..``top`` inside
    :meth:`plot_rect`; the margins hold the axes' labels.
    """

    MARGINS = (48, 8, 10, 20)  # left, top, right, bottom (pixels)

    def __init__(self, editor: CurveEditor):
        super().__init__(editor)
        self.editor = editor
        self.setObjectName("CurveView")
        self.setMouseTracking(True)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(240, 140)
        self.left, self.right = 0.0, 100.0
        self.bottom, self.top = -0.1, 1.1
        self.selection: set[KeyRef] = set()
        self._drag: str | None = None  # "keys", "band", "pan"
        self._press = QtCore.QPointF()
        self._last = QtCore.QPointF()
        self._band: QtCore.QRectF | None = None
        self._band_base: set[KeyRef] = set()
        self._moving: dict | None = None

    # -- geometry -------------------------------------------------------------------------

    def plot_rect(self) -> QtCore.QRectF:
        left, top, right, bottom = self.MARGINS
        return QtCore.QRectF(
            left, top, max(self.width() - left - right, 1), max(self.height() - top - bottom, 1)
        )

    def to_screen(self, frame: float, value: float) -> QtCore.QPointF:
        rect = self.plot_rect()
        return QtCore.QPointF(
            rect.left() + (frame - self.left) / (self.right - self.left) * rect.width(),
            rect.bottom() - (value - self.bottom) / (self.top - self.bottom) * rect.height(),
        )

    def to_curve(self, point: QtCore.QPointF) -> tuple[float, float]:
        rect = self.plot_rect()
        return (
            self.left + (point.x() - rect.left()) / rect.width() * (self.right - self.left),
            self.bottom + (rect.bottom() - point.y()) / rect.height() * (self.top - self.bottom),
        )

    def set_range(self, left: float, right: float, bottom: float, top: float) -> None:
        """Show frames ``left``..``right`` and values ``bottom``..``top``."""
        low, high = ZOOM_LIMITS
        if high > right - left > low and high > top - bottom > low:
            self.left, self.right, self.bottom, self.top = left, right, bottom, top
        self.update()

    def frame_keys(self, refs: list[KeyRef] | None = None) -> None:
        """Fit keys ``refs`` into the view (all keys and the curves between them when
        None), with a margin."""
        if refs is None:
            frames, values = [], []
            for curve in self.editor.visible_curves():
                stored = self.editor.stored(curve)
                keyed = key_frames(stored)
                frames += keyed
                samples = sample_frames(stored, keyed[0], keyed[-1], 200) if keyed else []
                param = self.editor.param_of(curve)
                values += [component(param.at(stored, f), curve.index) for f in samples]
        else:
            frames = [r.frame for r in refs]
            values = [self.key_value(r) for r in refs]
        if not frames:
            return
        f0, f1 = min(frames), max(frames)
        v0, v1 = min(values), max(values)
        if f1 - f0 < 1:
            f0, f1 = f0 - 5, f1 + 5
        if v1 - v0 < 1e-6:
            pad = max(abs(v0) * 0.5, 0.5)
            v0, v1 = v0 - pad, v1 + pad
        df, dv = (f1 - f0) * FRAME_PADDING, (v1 - v0) * FRAME_PADDING
        self.set_range(f0 - df, f1 + df, v0 - dv, v1 + dv)

    def frame_all(self) -> None:
        """Fit every visible key (and the curves between them) into the view."""
        self.frame_keys(None)

    def frame_selection(self) -> None:
        """Fit the selected keys, or all of them when none is selected (F)."""
        self.frame_keys(sorted(self.selection, key=lambda r: r.frame) or None)

    def zoom_by(self, fx: float, fv: float, anchor: QtCore.QPointF) -> None:
        """Scale the spans by ``fx`` (frames) and ``fv`` (values) about ``anchor``."""
        frame, value = self.to_curve(anchor)
        self.set_range(
            frame - (frame - self.left) * fx,
            frame + (self.right - frame) * fx,
            value - (value - self.bottom) * fv,
            value + (self.top - value) * fv,
        )

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the view by a drag of ``dx``, ``dy`` pixels."""
        rect = self.plot_rect()
        df = dx / rect.width() * (self.right - self.left)
        dv = dy / rect.height() * (self.top - self.bottom)
        self.set_range(self.left - df, self.right - df, self.bottom + dv, self.top + dv)

    # -- what is drawn ------------------------------------------------------------------

    def polyline(self, curve: CurveId) -> list[tuple[float, float]]:
        """The (frame, value) points drawn for ``curve`` over the visible frames: every
        value is the engine's :meth:`Param.at` at that frame (about one point per two
        pixels, every key, and the instant before each key where a segment jumps)."""
        stored = self.editor.stored(curve)
        param = self.editor.param_of(curve)
        count = int(self.plot_rect().width() / 2) + 2
        frames = sample_frames(stored, self.left, self.right, count)
        return [(f, component(param.at(stored, f), curve.index)) for f in frames]

    def keys_of(self, curve: CurveId) -> list[tuple[KeyRef, float]]:
        """The keys of ``curve`` with its value at each."""
        stored = self.editor.stored(curve)
        return [(KeyRef(curve, float(k[0])), component(k[1], curve.index)) for k in stored["keys"]]

    def key_value(self, ref: KeyRef) -> float:
        stored = self.editor.stored(ref.curve)
        key = next(k for k in stored["keys"] if float(k[0]) == ref.frame)
        return component(key[1], ref.curve.index)

    def key_at(self, point: QtCore.QPointF) -> KeyRef | None:
        """The key whose handle is under ``point`` (the nearest), or None."""
        best, best_distance = None, HIT_DISTANCE
        for curve in self.editor.visible_curves():
            for ref, value in self.keys_of(curve):
                spot = self.to_screen(ref.frame, value)
                distance = max(abs(spot.x() - point.x()), abs(spot.y() - point.y()))
                if distance <= best_distance:
                    best, best_distance = ref, distance
        return best

    def nearest_curve(self, point: QtCore.QPointF, within: float | None) -> CurveId | None:
        """The visible curve drawn nearest ``point`` at its frame (vertically), if within
        ``within`` pixels (None: at any distance)."""
        frame, _ = self.to_curve(point)
        best, best_distance = None, math.inf if within is None else within
        for curve in self.editor.visible_curves():
            stored, param = self.editor.stored(curve), self.editor.param_of(curve)
            y = self.to_screen(frame, component(param.at(stored, frame), curve.index)).y()
            if abs(y - point.y()) <= best_distance:
                best, best_distance = curve, abs(y - point.y())
        return best

    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        try:  # an exception escaping with the painter active would take Qt down
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QtGui.QPainter) -> None:
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QtGui.QColor("#262626"))
        rect = self.plot_rect()
        painter.fillRect(rect, QtGui.QColor("#2c2c2c"))
        first, last = self.editor.doc.root.settings.frame_range
        span = QtCore.QRectF(
            QtCore.QPointF(self.to_screen(first, 0).x(), rect.top()),
            QtCore.QPointF(self.to_screen(last, 0).x(), rect.bottom()),
        ).intersected(rect)
        painter.fillRect(span, QtGui.QColor("#313131"))  # the script's frame range
        self._draw_axes(painter, rect)
        painter.setClipRect(rect)
        curves = self.editor.visible_curves()
        for curve in curves:
            self._draw_curve(painter, curve)
        self._draw_frame_line(painter, rect)
        painter.setClipping(False)
        if self._band is not None:
            painter.setPen(QtGui.QPen(QtGui.QColor("#d68c28"), 1, QtCore.Qt.PenStyle.DashLine))
            painter.setBrush(QtGui.QColor(214, 140, 40, 30))
            painter.drawRect(self._band)
        if not curves:
            painter.setPen(QtGui.QColor("#8a8a8a"))
            painter.drawText(
                rect,
                QtCore.Qt.AlignmentFlag.AlignCenter | QtCore.Qt.TextFlag.TextWordWrap,
                "Select nodes with animated parameters\n"
                "(keys are set with \u25c6 in the properties)",
            )

    def _draw_axes(self, painter: QtGui.QPainter, rect: QtCore.QRectF) -> None:
        grid, zero, text = QtGui.QColor("#363636"), QtGui.QColor("#4a4a4a"), QtGui.QColor("#9a9a9a")
        metrics = painter.fontMetrics()
        frame_step = max(1.0, tick_step(self.right - self.left, rect.width(), 60))
        frame = math.ceil(self.left / frame_step) * frame_step
        while frame <= self.right:
            x = self.to_screen(frame, 0).x()
            painter.setPen(grid)
            painter.drawLine(QtCore.QPointF(x, rect.top()), QtCore.QPointF(x, rect.bottom()))
            painter.setPen(text)
            label = f"{frame:g}"
            painter.drawText(
                QtCore.QPointF(x - metrics.horizontalAdvance(label) / 2, rect.bottom() + 14), label
            )
            frame += frame_step
        value_step = tick_step(self.top - self.bottom, rect.height(), 28)
        value = math.ceil(self.bottom / value_step) * value_step
        while value <= self.top:
            y = self.to_screen(0, value).y()
            painter.setPen(zero if abs(value) < value_step / 2 else grid)
            painter.drawLine(QtCore.QPointF(rect.left(), y), QtCore.QPointF(rect.right(), y))
            painter.setPen(text)
            label = f"{0.0 if abs(value) < value_step / 2 else value:.4g}"
            painter.drawText(
                QtCore.QPointF(rect.left() - 6 - metrics.horizontalAdvance(label), y + 4), label
            )
            value += value_step

    def _draw_curve(self, painter: QtGui.QPainter, curve: CurveId) -> None:
        color = self.editor.color_of(curve)
        points = [self.to_screen(f, v) for f, v in self.polyline(curve)]
        painter.setPen(QtGui.QPen(color, 1.5))
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        painter.drawPolyline(QtGui.QPolygonF(points))
        r = HANDLE_RADIUS
        for ref, value in self.keys_of(curve):
            spot = self.to_screen(ref.frame, value)
            chosen = ref in self.selection
            painter.setPen(QtGui.QPen(QtGui.QColor("#ffffff" if chosen else "#141414"), 1))
            painter.setBrush(QtGui.QColor("#ffffff") if chosen else color)
            painter.drawRect(QtCore.QRectF(spot.x() - r, spot.y() - r, 2 * r, 2 * r))

    def _draw_frame_line(self, painter: QtGui.QPainter, rect: QtCore.QRectF) -> None:
        x = self.to_screen(self.editor.frame, 0).x()
        painter.setPen(QtGui.QPen(QtGui.QColor("#d68c28"), 1))
        painter.drawLine(QtCore.QPointF(x, rect.top()), QtCore.QPointF(x, rect.bottom()))
        painter.drawText(QtCore.QPointF(x + 3, rect.top() + 11), f"{self.editor.frame:g}")

    # -- mouse ----------------------------------------------------------------------------

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        pos, mods = event.position(), event.modifiers()
        Mod, Button = QtCore.Qt.KeyboardModifier, QtCore.Qt.MouseButton
        self._press = self._last = pos
        if event.button() == Button.MiddleButton or (
            event.button() == Button.LeftButton and mods & Mod.AltModifier
        ):
            self._drag = "pan"
            return
        if event.button() == Button.RightButton:
            ref = self.key_at(pos)
            if ref is not None and ref not in self.selection:
                self.selection = {ref}
                self.update()
            return
        if event.button() != Button.LeftButton:
            return
        if mods & Mod.ControlModifier:
            self._add_key_at(pos, bool(mods & Mod.ShiftModifier), on_curve=False)
            return
        ref = self.key_at(pos)
        if ref is None:
            self._drag = "band"
            self._band_base = set(self.selection) if mods & Mod.ShiftModifier else set()
            self.selection = set(self._band_base)
            self._band = QtCore.QRectF(pos, pos)
            self.update()
            return
        toggled_off = None
        if ref not in self.selection:
            self.selection = self.selection | {ref} if mods & Mod.ShiftModifier else {ref}
        elif mods & Mod.ShiftModifier:
            toggled_off = ref  # unless this press becomes a (Shift: free-frame) drag
        self._start_move(ref)
        self._moving["toggled_off"] = toggled_off
        self.update()

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        pos = event.position()
        if self._drag == "pan":
            self.pan_by(pos.x() - self._last.x(), pos.y() - self._last.y())
        elif self._drag == "band":
            self._band = QtCore.QRectF(self._press, pos).normalized()
            self.selection = self._band_base | self._keys_in(self._band)
            self.update()
        elif self._drag == "keys":
            shift = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)
            self._move_to(pos, shift)
        if self._drag in (None, "keys"):
            ref = self._moving["current"] if self._moving else self.key_at(pos)
            self.setToolTip(self.key_text(ref) if ref is not None else "")
        self._last = pos

    def key_text(self, ref: KeyRef) -> str:
        """``Grade1 › gain › r: frame 16, 0.95 (smooth)``: a key's tooltip."""
        try:
            value, kind = self.key_value(ref), self.editor.interpolation_of(ref)
        except StopIteration:
            return ""
        return f"{ref.curve.label}: frame {ref.frame:g}, {value:.5g} ({kind})"

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        if self._drag == "keys" and self._moving is not None:
            if self._moving["started"]:
                self.editor.dragging.emit(False)
            elif self._moving["toggled_off"] is not None:
                self.selection.discard(self._moving["toggled_off"])  # a Shift+click
        self._drag, self._band, self._moving = None, None, None
        self.update()

    def mouseDoubleClickEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        shift = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)
        self._drag, self._band = None, None
        self._add_key_at(event.position(), shift, on_curve=True)

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        factor = 0.9985**delta
        mods = event.modifiers()
        fx = 1.0 if mods & QtCore.Qt.KeyboardModifier.ShiftModifier else factor
        fv = 1.0 if mods & QtCore.Qt.KeyboardModifier.ControlModifier else factor
        self.zoom_by(fx, fv, event.position())

    def contextMenuEvent(self, event: QtGui.QContextMenuEvent) -> None:
        menu = self.context_menu()
        menu.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(event.globalPos())

    def enterEvent(self, event) -> None:
        take_focus_on_hover(self)
        super().enterEvent(event)

    def _keys_in(self, band: QtCore.QRectF) -> set[KeyRef]:
        return {
            ref
            for curve in self.editor.visible_curves()
            for ref, value in self.keys_of(curve)
            if band.contains(self.to_screen(ref.frame, value))
        }

    def _add_key_at(self, pos: QtCore.QPointF, shift: bool, on_curve: bool) -> None:
        """A key on the curve under ``pos`` (double-click: at the curve's value) or on the
        curve nearest it (Ctrl+click: at the clicked value)."""
        curve = self.nearest_curve(pos, HIT_DISTANCE if on_curve else None)
        if curve is None:
            return
        frame, number = self.to_curve(pos)
        frame = frame if shift else float(round(frame))
        if on_curve:
            stored, param = self.editor.stored(curve), self.editor.param_of(curve)
            number = component(param.at(stored, frame), curve.index)
        self.editor.add_key(curve, frame, number)

    def _start_move(self, grabbed: KeyRef) -> None:
        """Remember the selected keys' parameters as they are: a drag computes every step
        from there, so passing over other keys removes none until it ends there."""
        params = {(r.curve.node, r.curve.param) for r in self.selection}
        graph = self.editor.doc.graph
        self._drag = "keys"
        self._moving = {
            "grabbed": grabbed,
            "keys": set(self.selection),
            "start": {p: undo.stored_value(graph[p[0]], p[1]) for p in sorted(params)},
            "current": grabbed,  # where the grabbed key is now
            "id": next(_drag_ids),
            "started": False,
        }

    def _move_to(self, pos: QtCore.QPointF, shift: bool) -> None:
        moving = self._moving
        if not moving["started"]:
            if (pos - self._press).manhattanLength() < DRAG_THRESHOLD:
                return
            moving["started"] = True
            self.editor.dragging.emit(True)
        f0, v0 = self.to_curve(self._press)
        f1, v1 = self.to_curve(pos)
        grabbed = moving["grabbed"].frame
        df = f1 - f0 if shift else round(grabbed + f1 - f0) - grabbed
        dv = v1 - v0
        changes = []
        for (node, name), stored in moving["start"].items():
            param = self.editor.doc.graph[node].spec.param(name)
            values = {float(k[0]): k[1] for k in stored["keys"]}
            moves = {}
            for ref in moving["keys"]:
                if (ref.curve.node, ref.curve.param) != (node, name):
                    continue
                old = moves.get(ref.frame, (ref.frame + df, values[ref.frame]))[1]
                number = limited(param, component(values[ref.frame], ref.curve.index) + dv)
                moves[ref.frame] = (ref.frame + df, with_component(old, ref.curve.index, number))
            changes.append((node, name, with_keys_moved(stored, moves)))
        self.editor.push(changes, "Move keys", merge_key=("curve keys", moving["id"]))
        self.selection = {replace(r, frame=r.frame + df) for r in moving["keys"]}
        moving["current"] = replace(moving["grabbed"], frame=grabbed + df)
        self.update()

    # -- keys -----------------------------------------------------------------------------

    _KEYS: ClassVar[set] = {
        QtCore.Qt.Key.Key_Delete, QtCore.Qt.Key.Key_Backspace, QtCore.Qt.Key.Key_F,
        QtCore.Qt.Key.Key_A, QtCore.Qt.Key.Key_K, QtCore.Qt.Key.Key_L, QtCore.Qt.Key.Key_Z,
    }  # fmt: skip

    def event(self, event: QtCore.QEvent) -> bool:
        # The window's Delete (delete nodes) and others must not take these keys here.
        if event.type() == QtCore.QEvent.Type.ShortcutOverride and (
            event.key() in self._KEYS and not event.modifiers()
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        key, Key = event.key(), QtCore.Qt.Key
        if event.modifiers():
            super().keyPressEvent(event)
        elif key in (Key.Key_Delete, Key.Key_Backspace):
            if self.selection:
                self.editor.delete_keys(self.selection)
        elif key == Key.Key_F:
            self.frame_selection()
        elif key == Key.Key_A:
            self.frame_all()
        elif key in (Key.Key_K, Key.Key_L, Key.Key_Z):
            kind = {Key.Key_K: "constant", Key.Key_L: "linear", Key.Key_Z: "smooth"}[key]
            if self.selection:
                self.editor.set_interpolation(self.selection, kind)
        else:
            super().keyPressEvent(event)

    def context_menu(self) -> QtWidgets.QMenu:
        """Interpolation of the selected keys (the kind they all have checked), delete,
        frame all, frame selection."""
        menu = QtWidgets.QMenu(self)
        chosen = sorted(self.selection, key=lambda r: (r.curve.label, r.frame))
        kinds = {self.editor.interpolation_of(r) for r in chosen}
        for kind in INTERPOLATIONS:
            action = menu.addAction(kind.capitalize())
            action.setShortcut(QtGui.QKeySequence(INTERPOLATION_KEYS[kind]))
            action.setCheckable(True)
            action.setChecked(kinds == {kind})
            action.setEnabled(bool(chosen))
            action.triggered.connect(
                lambda _checked=False, k=kind: self.editor.set_interpolation(chosen, k)
            )
        menu.addSeparator()
        delete = menu.addAction("Delete Keys")
        delete.setShortcut(QtGui.QKeySequence("Delete"))
        delete.setEnabled(bool(chosen))
        delete.triggered.connect(lambda: self.editor.delete_keys(chosen))
        menu.addSeparator()
        frame_all = menu.addAction("Frame All")
        frame_all.setShortcut(QtGui.QKeySequence("A"))
        frame_all.triggered.connect(self.frame_all)
        frame_selected = menu.addAction("Frame Selection")
        frame_selected.setShortcut(QtGui.QKeySequence("F"))
        frame_selected.triggered.connect(self.frame_selection)
        return menu
