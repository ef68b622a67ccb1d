"""The properties panel, generated from the node declarations.

Floats and ints get a slider over the declared soft range and a typed field (which
accepts anything within the hard limits); colours get a slider, four fields and a picker;
enums a combo box; booleans a checkbox; files a field and a browse button; 2D vectors two
fields; channel sets (``channels``) and ``mask_channel`` an editable combo offering the
layers and channels of the image connected to the node (``render.layers_of``), and
Shuffle's ``mapping`` a table of output channel and source. Each parameter's doc is its
tooltip; each row has a reset button and, for animatable parameters, a keyframe toggle at
the current frame whose context menu sets how the key there interpolates (Constant,
Linear, Smooth: the segment leaving it). Every edit is a command on the document's undo
stack; a slider drag is one undo step.
"""

from __future__ import annotations

import itertools
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from mattebox.app import undo
from mattebox.engine import color, render
from mattebox.nodes import channels as chans
from mattebox.nodes import shapes as shapes_mod
from mattebox.nodes.spec import INTERPOLATIONS, MASK_INPUT, RGBA_LAYERS, Param, is_animated

SLIDER_STEPS = 1000
_drag_ids = itertools.count(1)
#: What a ``channels`` value may name besides layers and channels.
CHANNEL_KEYWORDS = ("rgba", "rgb", "alpha", "all")
LAYER_SET_KEYWORDS = ("none", "all")
MAPPING_CONSTANTS = ("0", "1")


# --------------------------------------------------------------------------- keyframes


def has_key(stored: Any, frame: float) -> bool:
    """Whether an animated value has a key at ``frame``."""
    return is_animated(stored) and any(float(k[0]) == float(frame) for k in stored["keys"])


def with_value_at(param: Param, stored: Any, frame: float, value: Any) -> Any:
    """The stored value after the artist sets ``value`` at ``frame``: a static value is
    replaced; an animated one gets (or updates) a key at ``frame``."""
    if not is_animated(stored):
        return value
    frame = float(frame)
    keys = [list(k) for k in stored["keys"] if float(k[0]) != frame]
    keys.append([frame, value, *_interpolation_kept(stored["keys"], frame)])
    keys.sort(key=lambda k: k[0])
    return {"keys": keys, "interpolation": stored.get("interpolation", "linear")}


def _interpolation_kept(keys: list, frame: float) -> list:
    """A key's own interpolation (``[]`` or ``["smooth"]``) for a key set at ``frame``: the
    one of the key it replaces there, else of the key before it (the segment it splits
    keeps its kind on both sides)."""
    here = [k for k in keys if float(k[0]) == frame]
    before = [k for k in keys if float(k[0]) < frame]
    source = here[0] if here else (before[-1] if before else [])
    return list(source[2:3])


def toggled_key(param: Param, stored: Any, frame: float) -> Any:
    """The stored value after the keyframe button is pressed at ``frame``: adds a key
    (animating a static value) or removes the key there (the last key leaves its value)."""
    if not is_animated(stored):
        return {"keys": [[float(frame), stored]], "interpolation": "linear"}
    if has_key(stored, frame):
        rest = [list(k) for k in stored["keys"] if float(k[0]) != float(frame)]
        if not rest:
            return stored["keys"][0][1]
        return {"keys": rest, "interpolation": stored.get("interpolation", "linear")}
    return with_value_at(param, stored, frame, param.at(stored, frame))


def key_interpolation(stored: Any, frame: float) -> str | None:
    """How the segment leaving the key at ``frame`` interpolates (the key's own kind, else
    the curve's); None where there is no key at ``frame``."""
    if not has_key(stored, frame):
        return None
    key = next(k for k in stored["keys"] if float(k[0]) == float(frame))
    return key[2] if len(key) > 2 else stored.get("interpolation", "linear")


def with_key_interpolation(stored: Any, frame: float, kind: str) -> Any:
    """The stored value after the key at ``frame`` is set to interpolate as ``kind``; the
    key names it only where it differs from the curve's (as scripts write it)."""
    curve = stored.get("interpolation", "linear")
    keys = []
    for key in stored["keys"]:
        key = list(key)
        if float(key[0]) == float(frame):
            key = key[:2] + ([kind] if kind != curve else [])
        keys.append(key)
    return {"keys": keys, "interpolation": curve}


# --------------------------------------------------------------------------- channel names


def input_layers(graph, node, input_name: str, frame: float) -> chans.Layers:
    """The layers of the image connected to ``input_name`` of ``node`` (nothing when
    nothing is connected, or when it cannot be evaluated: that error shows in the viewer
    and the node graph)."""
    upstream = node.inputs.get(input_name)
    if upstream is None or upstream not in graph:
        return ()
    try:
        return render.layers_of(graph, upstream, frame)
    except Exception:  # noqa: BLE001 - a menu must not fail on a broken upstream node
        return ()


def is_layer_set(param: Param) -> bool:
    """A ``channels`` parameter that names whole layers (Merge's ``also_merge``: ``none``,
    ``all`` or layers) rather than channels (declared with ``layer_set``)."""
    return param.type == "channels" and param.layer_set


def channel_set_choices(param: Param, layers: chans.Layers) -> list[list[str]]:
    """The items offered for a ``channels`` value, in groups: the keywords, the layers
    other than rgba, then every channel name (layer sets: ``none``, ``all``, the layers)."""
    others = [name for name, _ in layers if name != chans.MAIN]
    if is_layer_set(param):
        return [list(LAYER_SET_KEYWORDS), others]
    return [list(CHANNEL_KEYWORDS), others, list(chans.channel_names(layers))]


def channels_text(value) -> str:
    """A ``channels`` value as the field shows it: ``rgba``, ``R, depth.Z``."""
    return value if isinstance(value, str) else ", ".join(value)


def parse_channels(text: str) -> str | tuple[str, ...]:
    """Field text as a ``channels`` value: one name as text, several (comma-separated)
    as a tuple of names."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if len(items) == 1:
        return items[0]
    return tuple(items) if items else text.strip()


def _merged_layers(*layer_lists: chans.Layers) -> chans.Layers:
    """Layers of several images, the first's first, each layer once."""
    seen: dict[str, tuple[str, ...]] = {}
    for layers in layer_lists:
        for name, channels in layers:
            seen.setdefault(name, channels)
    return tuple(seen.items())


def _set_combo_items(combo: QtWidgets.QComboBox, groups: list[list[str]]) -> None:
    """Replace an editable combo's items (groups apart by separators), keeping its text."""
    wanted = []
    for group in (g for g in groups if g):
        if wanted:
            wanted.append(None)
        wanted.extend(group)
    have = [
        None
        if combo.itemData(i, QtCore.Qt.ItemDataRole.AccessibleDescriptionRole)
        else combo.itemText(i)
        for i in range(combo.count())
    ]
    if have == wanted:
        return
    text = combo.currentText()
    combo.blockSignals(True)
    if combo.lineEdit() is not None:
        combo.lineEdit().blockSignals(True)
    combo.clear()
    for item in wanted:
        if item is None:
            combo.insertSeparator(combo.count())
        else:
            combo.addItem(item)
    combo.setCurrentText(text)
    if combo.lineEdit() is not None:
        combo.lineEdit().blockSignals(False)
    combo.blockSignals(False)


def combo_items(combo: QtWidgets.QComboBox) -> list[str]:
    """The items of a combo box, separators left out."""
    return [combo.itemText(i) for i in range(combo.count()) if combo.itemText(i)]


def _editable_combo(parent, items=()) -> QtWidgets.QComboBox:
    combo = QtWidgets.QComboBox(parent)
    combo.setEditable(True)
    combo.addItems(list(items))
    combo.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
    combo.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
    combo.setSizeAdjustPolicy(
        QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
    )
    combo.setMinimumContentsLength(8)
    return combo


# --------------------------------------------------------------------------- editors


def _soft_range(param: Param) -> tuple[float, float] | None:
    lo = param.soft_min if param.soft_min is not None else param.min
    hi = param.soft_max if param.soft_max is not None else param.max
    if lo is None:
        lo = 0.0
    if hi is None:
        default = param.default if isinstance(param.default, (int, float)) else 1.0
        hi = max(1.0, abs(float(default)) * 2)
    return (float(lo), float(hi)) if hi > lo else None


class _Field(QtWidgets.QDoubleSpinBox):
    """A typed number field: no arrows, Enter or focus-out commits, wheel ignored."""

    def __init__(self, param: Param, integer: bool = False, parent=None):
        super().__init__(parent)
        self.setButtonSymbols(QtWidgets.QAbstractSpinBox.ButtonSymbols.NoButtons)
        self.setKeyboardTracking(False)
        self.setDecimals(0 if integer else 4)
        self.setRange(
            param.min if param.min is not None else -1e9,
            param.max if param.max is not None else 1e9,
        )
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.setMinimumWidth(56)
        self.setMaximumWidth(90)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)

    def wheelEvent(self, event):
        event.ignore()

    def set_quietly(self, value: float) -> None:
        self.blockSignals(True)
        self.setValue(float(value))
        self.blockSignals(False)


class _Slider(QtWidgets.QSlider):
    """A slider over a parameter's soft range, in float units."""

    def __init__(self, lo: float, hi: float, integer: bool, parent=None):
        super().__init__(QtCore.Qt.Orientation.Horizontal, parent)
        self.lo, self.hi, self.integer = lo, hi, integer
        self.setRange(0, SLIDER_STEPS)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)

    def to_value(self, position: int) -> float:
        value = self.lo + (self.hi - self.lo) * position / SLIDER_STEPS
        return float(round(value)) if self.integer else round(value, 6)

    def set_quietly(self, value: float) -> None:
        position = round((float(value) - self.lo) / (self.hi - self.lo) * SLIDER_STEPS)
        self.blockSignals(True)
        self.setValue(max(0, min(SLIDER_STEPS, position)))
        self.blockSignals(False)


class Editor(QtWidgets.QWidget):
    """Base of the parameter editors: ``edited(value, drag_id)`` when the artist changes
    the value (``drag_id`` is set during a slider drag), ``dragging(bool)``."""

    edited = QtCore.Signal(object, object)
    dragging = QtCore.Signal(bool)

    def __init__(self, param: Param, parent=None):
        super().__init__(parent)
        self.param = param
        self.layout_ = QtWidgets.QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(4)
        self._drag_id = None

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def _slider_signals(self, slider: _Slider, on_move) -> None:
        def pressed():
            self._drag_id = next(_drag_ids)
            self.dragging.emit(True)

        def released():
            self._drag_id = None
            self.dragging.emit(False)

        slider.sliderPressed.connect(pressed)
        slider.sliderReleased.connect(released)
        slider.valueChanged.connect(lambda position: on_move(slider.to_value(position)))


class NumberEditor(Editor):
    """float and int: a field and a slider over the soft range."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        integer = param.type == "int"
        self.field = _Field(param, integer, self)
        self.layout_.addWidget(self.field)
        bounds = _soft_range(param)
        self.slider = _Slider(*bounds, integer, self) if bounds else None
        if self.slider is not None:
            self.layout_.addWidget(self.slider, 1)
            self._slider_signals(self.slider, self._slid)
        else:
            self.layout_.addStretch(1)
        self.field.valueChanged.connect(lambda v: self.edited.emit(self._typed(v), None))

    def _typed(self, value: float):
        return round(value) if self.param.type == "int" else float(value)

    def _slid(self, value: float) -> None:
        self.field.set_quietly(value)
        self.edited.emit(self._typed(value), self._drag_id)

    def set_value(self, value) -> None:
        self.field.set_quietly(value)
        if self.slider is not None:
            self.slider.set_quietly(value)


class ColorEditor(Editor):
    """rgba: one slider for all channels (alpha follows when it was equal to them, as in
    Nuke), four fields, and a colour picker."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.value = tuple(param.default)
        self.swatch = QtWidgets.QToolButton(self)
        self.swatch.setToolTip("Pick a colour")
        self.swatch.setFixedSize(22, 18)
        self.swatch.clicked.connect(self._pick)
        self.layout_.addWidget(self.swatch)
        bounds = _soft_range(param) or (0.0, 1.0)
        self.slider = _Slider(*bounds, False, self)
        self.slider.setMinimumWidth(40)
        self._slider_signals(self.slider, self._slid)
        self.layout_.addWidget(self.slider, 1)
        self.fields = []
        for index, channel in enumerate("rgba"):
            field = _Field(param, False, self)
            field.setMaximumWidth(58)
            field.setMinimumWidth(46)
            field.setToolTip(f"{param.name} {channel}")
            field.setObjectName(f"channel_{channel}")
            field.valueChanged.connect(lambda v, i=index: self._typed(i, v))
            self.layout_.addWidget(field)
            self.fields.append(field)

    def _typed(self, index: int, value: float) -> None:
        values = list(self.value)
        values[index] = float(value)
        self.edited.emit(tuple(values), None)

    def _slid(self, value: float) -> None:
        r, g, b, a = self.value
        alpha = value if r == g == b == a else a
        values = (value, value, value, alpha)
        for field, v in zip(self.fields, values):
            field.set_quietly(v)
        self.edited.emit(values, self._drag_id)

    def _pick(self) -> None:
        r, g, b, a = (max(0.0, min(1.0, v)) for v in self.value)
        chosen = QtWidgets.QColorDialog.getColor(
            QtGui.QColor.fromRgbF(r, g, b, a),
            self,
            f"{self.param.name}",
            QtWidgets.QColorDialog.ColorDialogOption.ShowAlphaChannel,
        )
        if chosen.isValid():
            self.edited.emit(
                (chosen.redF(), chosen.greenF(), chosen.blueF(), chosen.alphaF()), None
            )

    def set_value(self, value) -> None:
        self.value = tuple(float(v) for v in value)
        for field, v in zip(self.fields, self.value):
            field.set_quietly(v)
        r, g, b, _ = self.value
        self.slider.set_quietly(r if r == g == b else (r + g + b) / 3)
        shown = QtGui.QColor.fromRgbF(*(max(0.0, min(1.0, v)) for v in (r, g, b)))
        style = f"background: {shown.name()}; border: 1px solid #222;"
        if self.swatch.styleSheet() != style:  # a new style sheet re-polishes: only on change
            self.swatch.setStyleSheet(style)


class Vec2Editor(Editor):
    """vec2: two fields."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.value = tuple(param.default)
        self.fields = []
        for index, axis in enumerate("xy"):
            field = _Field(param, False, self)
            field.setToolTip(f"{param.name} {axis}")
            field.valueChanged.connect(lambda v, i=index: self._typed(i, v))
            self.layout_.addWidget(field)
            self.fields.append(field)
        self.layout_.addStretch(1)

    def _typed(self, index: int, value: float) -> None:
        values = list(self.value)
        values[index] = float(value)
        self.edited.emit(tuple(values), None)

    def set_value(self, value) -> None:
        self.value = tuple(float(v) for v in value)
        for field, v in zip(self.fields, self.value):
            field.set_quietly(v)


class BoolEditor(Editor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.box = QtWidgets.QCheckBox(self)
        self.box.toggled.connect(lambda checked: self.edited.emit(bool(checked), None))
        self.layout_.addWidget(self.box)
        self.layout_.addStretch(1)

    def set_value(self, value) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)


class EnumEditor(Editor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.combo = QtWidgets.QComboBox(self)
        self.combo.addItems(list(param.choices))
        self.combo.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.combo.activated.connect(lambda i: self.edited.emit(self.combo.itemText(i), None))
        self.layout_.addWidget(self.combo)
        self.layout_.addStretch(1)

    def set_value(self, value) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentText(str(value))
        self.combo.blockSignals(False)


class TextEditor(Editor):
    """string: a field, or an editable combo when names are offered (colour spaces,
    displays, views, looks of the config; channels of the Mask input)."""

    def __init__(self, param: Param, choices: list[str] | None = None, parent=None):
        super().__init__(param, parent)
        if choices:
            self.combo = _editable_combo(self, choices)
            self.combo.setMinimumContentsLength(14)
            self.combo.activated.connect(lambda i: self.edited.emit(self.combo.itemText(i), None))
            self.combo.lineEdit().editingFinished.connect(
                lambda: self.edited.emit(self.combo.currentText(), None)
            )
            self.line = self.combo.lineEdit()
            self.layout_.addWidget(self.combo, 1)
        else:
            self.combo = None
            self.line = QtWidgets.QLineEdit(self)
            self.line.editingFinished.connect(lambda: self.edited.emit(self.line.text(), None))
            self.layout_.addWidget(self.line, 1)

    def set_choices(self, groups: list[list[str]]) -> None:
        """Offer these names (groups apart by separators); the text is kept."""
        if self.combo is not None:
            _set_combo_items(self.combo, groups)

    def set_value(self, value) -> None:
        widget = self.combo or self.line
        widget.blockSignals(True)
        self.line.blockSignals(True)
        if self.combo is not None:
            self.combo.setCurrentText(str(value))
        else:
            self.line.setText(str(value))
        self.line.blockSignals(False)
        widget.blockSignals(False)


class ChannelsEditor(Editor):
    """channels: an editable combo offering the keywords, the input's layers and its
    channel names; typed text like ``R, depth.Z`` becomes a list of channel names."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.combo = _editable_combo(self)
        self.combo.setMinimumContentsLength(14)
        self.combo.activated.connect(lambda i: self._emit(self.combo.itemText(i)))
        self.combo.lineEdit().editingFinished.connect(lambda: self._emit(self.combo.currentText()))
        self.layout_.addWidget(self.combo, 1)

    def _emit(self, text: str) -> None:
        self.edited.emit(parse_channels(text), None)

    def set_choices(self, groups: list[list[str]]) -> None:
        _set_combo_items(self.combo, groups)

    def set_value(self, value) -> None:
        self.combo.blockSignals(True)
        self.combo.lineEdit().blockSignals(True)
        self.combo.setCurrentText(channels_text(value))
        self.combo.lineEdit().blockSignals(False)
        self.combo.blockSignals(False)


class MappingEditor(Editor):
    """mapping (Shuffle): a table of output channel | source, each an editable combo
    (outputs: Source's channels, or a new name such as ``mask.A``; sources: Source's
    channels, ``2:`` and Source2's, ``0``, ``1``), with buttons to add and remove rows.
    Every change writes the whole mapping (one undo step)."""

    ROWS_SHOWN = 6

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.value: tuple = ()
        self.outputs: list[str] = list(chans.MAIN_CHANNELS)
        self.sources: list[str] = [*chans.MAIN_CHANNELS, *MAPPING_CONSTANTS]
        self._committing = False
        column = QtWidgets.QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        self.table = QtWidgets.QTableWidget(0, 2, self)
        self.table.setObjectName("MappingTable")
        self.table.setHorizontalHeaderLabels(list(param.choices or ("output", "source")))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        column.addWidget(self.table)
        buttons = QtWidgets.QHBoxLayout()
        buttons.setSpacing(2)
        self.add_button = QtWidgets.QToolButton(self)
        self.add_button.setText("+")
        self.add_button.setToolTip("Add a row (an output channel of Source, from itself)")
        self.add_button.clicked.connect(self.add_row)
        self.remove_button = QtWidgets.QToolButton(self)
        self.remove_button.setText("\u2212")
        self.remove_button.setToolTip("Remove the selected row (else the last)")
        self.remove_button.clicked.connect(lambda: self.remove_row())
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        self.layout_.addLayout(column, 1)
        self._fit_height()

    # -- rows -----------------------------------------------------------------------------

    def rows(self) -> list[tuple[str, str]]:
        """The table's ``(output, source)`` pairs (rows without an output left out)."""
        pairs = []
        for row in range(self.table.rowCount()):
            output, source = (self.table.cellWidget(row, c).currentText().strip() for c in (0, 1))
            if output:
                pairs.append((output, source))
        return pairs

    def _combo(self, items: list[str], text: str, tip: str) -> QtWidgets.QComboBox:
        combo = _editable_combo(self.table, items)
        combo.setCurrentText(text)
        combo.setToolTip(tip)
        combo.activated.connect(lambda index: self._chosen(combo, index))
        combo.lineEdit().editingFinished.connect(self._commit)
        return combo

    def _chosen(self, combo: QtWidgets.QComboBox, index: int) -> None:
        combo.setCurrentIndex(index)
        self._commit()

    def _append(self, output: str, source: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setCellWidget(row, 0, self._combo(self.outputs, output, "Output channel"))
        self.table.setCellWidget(
            row, 1, self._combo(self.sources, source, "Source: a channel, 2:channel, 0 or 1")
        )

    def _rebuild(self) -> None:
        self.table.setRowCount(0)
        for output, source in self.value:
            self._append(output, source)
        self._fit_height()

    def _fit_height(self) -> None:
        rows = max(1, min(self.table.rowCount(), self.ROWS_SHOWN))
        height = self.table.horizontalHeader().height() + 2
        height += rows * (self.table.verticalHeader().defaultSectionSize())
        self.table.setFixedHeight(height + 2)

    def add_row(self) -> None:
        """A row for the first output channel of Source not mapped yet, from itself."""
        used = {output for output, _ in self.rows()}
        free = [name for name in self.outputs if name not in used]
        if not free:
            return
        self._append(free[0], free[0] if free[0] in self.sources else "0")
        self._fit_height()
        self._commit()

    def remove_row(self, row: int | None = None) -> None:
        """Remove ``row`` (by default the selected one, else the last)."""
        if row is None:
            selected = self.table.selectionModel().selectedRows()
            row = selected[0].row() if selected else self.table.rowCount() - 1
        if 0 <= row < self.table.rowCount():
            self.table.removeRow(row)
            self._fit_height()
            self._commit()

    def _commit(self) -> None:
        pairs = self.rows()
        if sorted(pairs) == sorted(self.value) and len(pairs) == len(self.value):
            return
        self._committing = True
        try:
            self.edited.emit(dict(pairs), None)
        finally:
            self._committing = False

    # -- values ---------------------------------------------------------------------------

    def set_choices(self, outputs: list[str], sources: list[str]) -> None:
        """The names offered in the output and source columns."""
        if (outputs, sources) == (self.outputs, self.sources):
            return
        self.outputs, self.sources = list(outputs), list(sources)
        for row in range(self.table.rowCount()):
            _set_combo_items(self.table.cellWidget(row, 0), [self.outputs])
            _set_combo_items(self.table.cellWidget(row, 1), [self.sources])

    def set_value(self, value) -> None:
        value = tuple(tuple(pair) for pair in (value.items() if isinstance(value, dict) else value))
        if sorted(value) == sorted(self.rows()) and len(value) == self.table.rowCount():
            self.value = value
            return
        self.value = value
        if self._committing:  # not while a row's own signal is being handled
            QtCore.QTimer.singleShot(0, self, self._rebuild)
        else:
            self._rebuild()


class ShapesEditor(Editor):
    """shapes (Roto): drawn and edited in the viewer; here a summary and a table of the
    shapes with their own settings (on, invert, opacity, blend), each change one edit of
    the whole value (a key at the current frame where the shapes are animated)."""

    COLUMNS = ("shape", "on", "invert", "opacity", "blend")

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        column = QtWidgets.QVBoxLayout()
        column.setSpacing(2)
        self.summary = QtWidgets.QLabel(self)
        self.summary.setObjectName("ShapesSummary")
        self.table = QtWidgets.QTableWidget(0, len(self.COLUMNS), self)
        self.table.setObjectName("ShapesTable")
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(24)
        self.table.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setSizeAdjustPolicy(
            QtWidgets.QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents
        )
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.summary.setWordWrap(True)
        column.addWidget(self.summary)
        column.addWidget(self.table)
        self.layout_.addLayout(column, 1)
        self._shapes: list[dict] = []

    def set_value(self, value) -> None:
        self._shapes = [dict(shape) for shape in value]
        points = sum(len(shape["points"]) for shape in self._shapes)
        count = len(self._shapes)
        self.summary.setText(
            f"{count} shape{'s' * (count != 1)}, {points} point{'s' * (points != 1)}: "
            "draw and edit them in the viewer"
        )
        self.table.setRowCount(count)
        for row, shape in enumerate(self._shapes):
            self.table.setItem(row, 0, QtWidgets.QTableWidgetItem(shape["name"]))
            for col, key in ((1, "enabled"), (2, "invert")):
                box = QtWidgets.QCheckBox(self.table)
                box.setChecked(bool(shape[key]))
                box.toggled.connect(lambda on, r=row, k=key: self._edit(r, k, on))
                self.table.setCellWidget(row, col, box)
            spin = QtWidgets.QDoubleSpinBox(self.table)
            spin.setRange(0.0, 1.0)
            spin.setSingleStep(0.05)
            spin.setValue(float(shape["opacity"]))
            spin.editingFinished.connect(lambda r=row, w=spin: self._edit(r, "opacity", w.value()))
            self.table.setCellWidget(row, 3, spin)
            combo = QtWidgets.QComboBox(self.table)
            combo.addItems(list(shapes_mod.BLENDS))
            combo.setCurrentText(shape["blend"])
            combo.activated.connect(lambda i, r=row, w=combo: self._edit(r, "blend", w.itemText(i)))
            self.table.setCellWidget(row, 4, combo)
        self.table.setVisible(count > 0)
        shown = min(count, 6)  # rows shown without scrolling
        rows = sum(self.table.rowHeight(r) for r in range(shown))
        self.table.setFixedHeight(self.table.horizontalHeader().height() + rows + 4)

    def _edit(self, row: int, key: str, value) -> None:
        if self._shapes[row][key] == value:
            return
        shapes = [dict(shape) for shape in self._shapes]
        shapes[row][key] = value
        self.edited.emit(tuple(shapes), None)


class FileEditor(Editor):
    """file: a field and a browse button (open for reads, save for writes)."""

    def __init__(self, param: Param, save: bool, folder: str, parent=None):
        super().__init__(param, parent)
        self.save, self.folder = save, folder
        self.line = QtWidgets.QLineEdit(self)
        self.line.editingFinished.connect(lambda: self.edited.emit(self.line.text(), None))
        self.button = QtWidgets.QToolButton(self)
        self.button.setText("...")
        self.button.setToolTip("Browse")
        self.button.clicked.connect(self._browse)
        self.layout_.addWidget(self.line, 1)
        self.layout_.addWidget(self.button)

    def _browse(self) -> None:
        images = "Images (*.exr *.tif *.tiff *.png *.jpg *.jpeg *.dpx *.hdr);;All files (*)"
        if self.save:
            path, _ = QtWidgets.QFileDialog.getSaveFileName(
                self, self.param.name, self.folder, images
            )
        else:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(
                self, self.param.name, self.folder, images
            )
        if path:
            self.edited.emit(path, None)

    def set_value(self, value) -> None:
        self.line.blockSignals(True)
        self.line.setText(str(value))
        self.line.blockSignals(False)


# --------------------------------------------------------------------------- the panel


class ParamRow(QtWidgets.QWidget):
    """One parameter: its editor, keyframe toggle and reset button."""

    def __init__(self, panel: PropertiesPanel, param: Param, editor: Editor):
        super().__init__()
        self.panel, self.param, self.editor = panel, param, editor
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(editor, 1)
        self.key = QtWidgets.QToolButton(self)
        self.key.setObjectName("KeyButton")
        self.key.setText("\u25c6")
        self.key.setCheckable(True)
        self.key.setToolTip(
            "Set or remove a keyframe at the current frame (right-click: its interpolation)"
        )
        self.key.setVisible(param.animatable)
        self.key.clicked.connect(lambda: panel.toggle_key(param.name))
        self.key.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        self.key.customContextMenuRequested.connect(
            lambda pos: self.key_menu().popup(self.key.mapToGlobal(pos))
        )
        self.reset = QtWidgets.QToolButton(self)
        self.reset.setObjectName("ResetButton")
        self.reset.setText("\u21ba")
        self.reset.setToolTip(f"Reset {param.name} to its default")
        self.reset.clicked.connect(lambda: panel.reset_param(param.name))
        layout.addWidget(self.key)
        layout.addWidget(self.reset)
        editor.edited.connect(lambda value, drag: panel.edit_param(param.name, value, drag))
        editor.dragging.connect(panel.dragging)

    def key_menu(self) -> QtWidgets.QMenu:
        """The key button's context menu: Constant, Linear or Smooth for the key at the
        current frame, its kind checked (disabled where there is no key there)."""
        menu = QtWidgets.QMenu(self)
        menu.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        current = self.panel.key_interpolation(self.param.name)
        menu.setToolTipsVisible(True)
        group = QtGui.QActionGroup(menu)
        for kind in INTERPOLATIONS:
            action = menu.addAction(kind.capitalize())
            action.setCheckable(True)
            action.setChecked(kind == current)
            action.setEnabled(current is not None)
            action.setToolTip(
                f"The curve from this key to the next: {kind}"
                if current is not None
                else "No key at this frame"
            )
            group.addAction(action)
            action.triggered.connect(
                lambda _checked=False, k=kind: self.panel.set_key_interpolation(self.param.name, k)
            )
        return menu

    def show_value(self, stored: Any, frame: float) -> None:
        self.editor.set_value(self.param.at(stored, frame))
        animated = is_animated(stored)
        keyed = has_key(stored, frame)
        self.key.setChecked(keyed)
        state = "key" if keyed else ("animated" if animated else "")
        if self.key.property("state") != state:
            self.key.setProperty("state", state)
            self.key.style().unpolish(self.key)
            self.key.style().polish(self.key)
        self.reset.setEnabled(stored != self.param.default)


class PropertiesPanel(QtWidgets.QScrollArea):
    """Shows and edits the parameters of one node (or a backdrop's label and colour).

    Signals
    -------
    dragging(bool)
        A slider drag started or ended (the viewer renders a draft meanwhile).
    """

    dragging = QtCore.Signal(bool)

    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.node_name: str | None = None
        self.backdrop_name: str | None = None
        self.frame = 1.0
        self.rows: dict[str, ParamRow] = {}
        self._knobs_shown: list[str] = []
        self.setWidgetResizable(True)
        self.setObjectName("Properties")
        self.setMinimumWidth(300)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        doc.changed.connect(self._on_changed)
        doc.reset.connect(lambda: self.show_node(self.node_name))
        self._build_empty()

    # -- what is shown ------------------------------------------------------------------

    def _fresh_body(self) -> QtWidgets.QVBoxLayout:
        body = QtWidgets.QWidget()
        body.setObjectName("PropertiesBody")
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        self.setWidget(body)
        self.rows = {}
        return layout

    def _build_empty(self) -> None:
        layout = self._fresh_body()
        hint = QtWidgets.QLabel(
            "Select a node to see its parameters.\n\nTab in the node graph creates a node."
        )
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addStretch(1)

    def show_node(self, name: str | None) -> None:
        """Show node ``name``'s parameters (None: nothing)."""
        self.node_name = name if name in self.doc.graph else None
        self.backdrop_name = None
        if self.node_name is None:
            self._build_empty()
            return
        node = self.doc.graph[self.node_name]
        layout = self._fresh_body()
        header = QtWidgets.QHBoxLayout()
        self.name_field = QtWidgets.QLineEdit(node.name)
        self.name_field.setObjectName("NodeName")
        self.name_field.setToolTip("Node name (Enter renames)")
        self.name_field.editingFinished.connect(self._rename)
        type_label = QtWidgets.QLabel(node.type)
        type_label.setObjectName("NodeType")
        header.addWidget(self.name_field, 1)
        header.addWidget(type_label)
        layout.addLayout(header)
        if node.is_placeholder:
            note = QtWidgets.QLabel(
                f"Node type {node.type!r} is not installed; its values are "
                "kept as they are and saved unchanged."
            )
            note.setWordWrap(True)
            layout.addWidget(note)
            layout.addStretch(1)
            return
        doc_text = (node.spec.doc or node.spec.__doc__ or "").strip()
        if doc_text:
            first = doc_text.split("\n\n")[0].replace("\n", " ").replace("``", "")
            summary = QtWidgets.QLabel(first)
            summary.setObjectName("NodeDoc")
            summary.setWordWrap(True)
            layout.addWidget(summary)
        form = QtWidgets.QFormLayout()
        form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(4)
        self._knobs_shown = [k.name for k in node.knobs] if node.is_group else []
        for param in node.params() if node.is_group else node.spec.params:
            editor = self._editor_for(node, param)
            row = ParamRow(self, param, editor)
            label = QtWidgets.QLabel(param.name.replace("_", " "))
            label.setToolTip(param.doc)
            editor.setToolTip(param.doc)
            self._knob_menu(node, param.name, label)
            form.addRow(label, row)
            self.rows[param.name] = row
        layout.addLayout(form)
        layout.addStretch(1)
        self.refresh_choices()
        self.refresh()

    def _knob_menu(self, node, param: str, label: QtWidgets.QLabel) -> None:
        """Right-click on a parameter's name: inside a group, "Expose on <group>...";
        on a group's knob, "Remove knob"."""
        from mattebox.app import groups_ui

        label.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)

        def menu_at(pos) -> None:
            menu = QtWidgets.QMenu(label)
            menu.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
            if self.doc.scope:
                menu.addAction(
                    f"Expose on {self.doc.scope[-1]}...",
                    lambda: groups_ui.ask_expose(self, self.doc, node.name, param),
                )
            if node.is_group and node.knob(param) is not None:
                menu.addAction(
                    "Remove knob", lambda: groups_ui.remove_knob(self.doc, node.name, param)
                )
            if not menu.isEmpty():
                menu.popup(label.mapToGlobal(pos))

        label.customContextMenuRequested.connect(menu_at)

    def show_backdrop(self, name: str) -> None:
        """Show a backdrop's label and colour."""
        drops = self.doc.graph.ui.get("backdrops", {})
        if name not in drops:
            self.show_node(None)
            return
        self.node_name, self.backdrop_name = None, name
        layout = self._fresh_body()
        layout.addWidget(QtWidgets.QLabel(f"<b>{name}</b> (backdrop)"))
        form = QtWidgets.QFormLayout()
        self.label_field = QtWidgets.QLineEdit(drops[name].get("label", ""))
        self.label_field.editingFinished.connect(
            lambda: self._edit_backdrop("label", self.label_field.text())
        )
        pick = QtWidgets.QPushButton("Colour...")
        pick.clicked.connect(self._pick_backdrop_color)
        form.addRow("label", self.label_field)
        form.addRow("colour", pick)
        layout.addLayout(form)
        layout.addStretch(1)

    def _editor_for(self, node, param: Param) -> Editor:
        if param.type in ("float", "int"):
            return NumberEditor(param)
        if param.type == "rgba":
            return ColorEditor(param)
        if param.type == "vec2":
            return Vec2Editor(param)
        if param.type == "bool":
            return BoolEditor(param)
        if param.type == "enum":
            return EnumEditor(param)
        if param.type == "channels":
            return ChannelsEditor(param)
        if param.type == "mapping":
            return MappingEditor(param)
        if param.type == "shapes":
            return ShapesEditor(param)
        if param.name == "mask_channel":
            return TextEditor(param, list(chans.MAIN_CHANNELS))
        if param.type == "file":
            folder = ""
            if self.doc.path:
                folder = str(QtCore.QFileInfo(self.doc.path).absolutePath())
            return FileEditor(param, save=node.type == "Write", folder=folder)
        return TextEditor(param, self._choices(node, param))

    def _choices(self, node, param: Param) -> list[str] | None:
        """Names from the script's OCIO config for colour-space, display, view, look fields."""
        try:
            config = color.get_config(self.doc.graph.settings.ocio_config)
            if param.name.endswith("colorspace"):
                extra = ["default"] if param.default == "default" else []
                return extra + color.colorspace_names(config) + list(config.getRoleNames())
            if param.name == "display":
                return color.displays(config)
            if param.name == "view":
                display = (
                    node.values.get("display", node.spec.param("display").default)
                    if "display" in node.spec.param_names()
                    else config.getDefaultDisplay()
                )
                return color.views(config, display)
            if param.name == "look":
                return [""] + color.looks(config)
        except (color.ColorError, KeyError):
            return None
        return None

    def refresh_choices(self) -> None:
        """Offer the layers and channel names of the images connected to the node in its
        channel editors (``channels``, ``mask_channel``, ``mapping``)."""
        if self.node_name is None or self.node_name not in self.doc.graph:
            return
        wanted = {
            name: row.editor
            for name, row in self.rows.items()
            if isinstance(row.editor, (ChannelsEditor, MappingEditor)) or name == "mask_channel"
        }
        if not wanted:
            return
        graph = self.doc.graph
        node = graph[self.node_name]
        spec = node.spec
        layers = {
            name: input_layers(graph, node, name, self.frame)
            for name in spec.inputs + spec.optional_inputs
        }
        images = [layers[name] for name in spec.image_inputs()]
        for editor in wanted.values():
            if isinstance(editor, ChannelsEditor):
                merged = _merged_layers(*images) or RGBA_LAYERS
                editor.set_choices(channel_set_choices(editor.param, merged))
            elif isinstance(editor, MappingEditor):
                source, source2 = (images + [(), ()])[:2]
                names = list(chans.channel_names(source or RGBA_LAYERS))
                others = [f"2:{c}" for c in chans.channel_names(source2)]
                editor.set_choices(names, [*names, *others, *MAPPING_CONSTANTS])
            else:
                mask = layers.get(MASK_INPUT) or RGBA_LAYERS
                editor.set_choices([list(chans.channel_names(mask))])

    # -- values -------------------------------------------------------------------------

    def set_frame(self, frame: float) -> None:
        self.frame = float(frame)
        self.refresh_choices()
        self.refresh()

    def refresh(self) -> None:
        """Show the node's current values (at the current frame)."""
        if self.node_name is None or self.node_name not in self.doc.graph:
            return
        node = self.doc.graph[self.node_name]
        for name, row in self.rows.items():
            row.show_value(undo.stored_value(node, name), self.frame)

    def edit_param(self, param: str, value: Any, drag_id=None) -> None:
        """The artist changed ``param`` to ``value`` (at the current frame)."""
        if self.node_name is None:
            return
        node = self.doc.graph[self.node_name]
        declared = undo.declared(node, param)
        old = undo.stored_value(node, param)
        new = with_value_at(declared, old, self.frame, value)
        try:
            new = declared.coerce(new)
        except ValueError as error:
            self.doc.message.emit(f"{node.name}.{error}")
            self.refresh()
            return
        if new == old:
            return
        merge = (node.name, param, drag_id) if drag_id is not None else None
        self.doc.push(undo.SetParams(self.doc, [(node.name, param, old, new)], merge_key=merge))
        # (the push's change refreshes the rows: see _on_changed)

    def reset_param(self, param: str) -> None:
        node = self.doc.graph[self.node_name]
        old, new = undo.stored_value(node, param), undo.declared(node, param).default
        if old != new:
            self.doc.push(
                undo.SetParams(
                    self.doc, [(node.name, param, old, new)], f"Reset {node.name}.{param}"
                )
            )

    def toggle_key(self, param: str) -> None:
        node = self.doc.graph[self.node_name]
        declared = undo.declared(node, param)
        old = undo.stored_value(node, param)
        new = toggled_key(declared, old, self.frame)
        verb = "Remove key" if has_key(old, self.frame) else "Set key"
        self.doc.push(
            undo.SetParams(
                self.doc,
                [(node.name, param, old, new)],
                f"{verb} {node.name}.{param} at {self.frame:g}",
            )
        )
        self.refresh()

    def key_interpolation(self, param: str) -> str | None:
        """How the key of ``param`` at the current frame interpolates (None: no key)."""
        if self.node_name is None or self.node_name not in self.doc.graph:
            return None
        return key_interpolation(
            undo.stored_value(self.doc.graph[self.node_name], param), self.frame
        )

    def set_key_interpolation(self, param: str, kind: str) -> None:
        """Make the key of ``param`` at the current frame interpolate as ``kind``."""
        if self.key_interpolation(param) in (None, kind):
            return
        node = self.doc.graph[self.node_name]
        old = undo.stored_value(node, param)
        new = undo.declared(node, param).coerce(with_key_interpolation(old, self.frame, kind))
        self.doc.push(
            undo.SetParams(
                self.doc,
                [(node.name, param, old, new)],
                f"Set {node.name}.{param} key at {self.frame:g} to {kind}",
            )
        )
        self.refresh()

    def _rename(self) -> None:
        new = self.name_field.text().strip()
        if self.node_name and new and new != self.node_name:
            self.doc.push(undo.Rename(self.doc, self.node_name, new))
        if self.node_name:
            self.name_field.setText(self.node_name)

    def _edit_backdrop(self, key: str, value) -> None:
        drops = self.doc.graph.ui.get("backdrops", {})
        name = self.backdrop_name
        if name not in drops or drops[name].get(key) == value:
            return
        new = {k: dict(v) for k, v in drops.items()}
        new[name][key] = value
        self.doc.push(undo.SetBackdrops(self.doc, drops, new, f"Edit {name}"))

    def _pick_backdrop_color(self) -> None:
        drops = self.doc.graph.ui.get("backdrops", {})
        current = drops.get(self.backdrop_name, {}).get("color", (64, 70, 80))
        chosen = QtWidgets.QColorDialog.getColor(
            QtGui.QColor(*current[:3]), self, "Backdrop colour"
        )
        if chosen.isValid():
            self._edit_backdrop("color", [chosen.red(), chosen.green(), chosen.blue()])

    def _on_changed(self, change) -> None:
        if self.backdrop_name is not None:
            if self.backdrop_name not in self.doc.graph.ui.get("backdrops", {}):
                self.show_node(None)
            return
        if self.node_name is None:
            return
        for old, new in change.renamed:
            if old == self.node_name:
                self.node_name = new
                self.name_field.setText(new)
        if self.node_name not in self.doc.graph:
            self.show_node(None)
            return
        node = self.doc.graph[self.node_name]
        if node.is_group and [k.name for k in node.knobs] != self._knobs_shown:
            self.show_node(self.node_name)  # a knob exposed or removed
            return
        if change.structure or change.settings or change.params - {self.node_name}:
            # what is connected, or upstream of it, may have changed (the node's own
            # values do not change what its inputs offer: a drag of one of its sliders
            # evaluates nothing here)
            self.refresh_choices()
        if self.node_name in change.params or change.settings:
            self.refresh()
