"""The node editor: NodeGraphQt as a *view* of the engine graph.

The engine graph is the truth (``../shared/FACTS.md`` lists NodeGraphQt's bugs). Node
classes are generated from the node declarations. What the artist does in the view
(connect, disconnect, move, insert on a pipe, resize a backdrop) arrives through
NodeGraphQt's viewer signals and becomes a command on the document's undo stack, which
edits the engine graph; the view is then brought in line with the graph by
:meth:`NodeEditor.sync`. NodeGraphQt's own undo stack keeps nothing.

A node's ``disable`` parameter is shown through NodeGraphQt's own disabled state (the
``disabled`` property of the node and its item), drawn here as a cross over the node.
The ``Mask`` input sits on the node's right side, apart from the inputs on top, and its
pipe arrives from the side (:class:`MatteboxPipeItem`), as in Nuke.
"""

from __future__ import annotations

import math

from NodeGraphQt import BaseNode, NodeGraph
from NodeGraphQt.base.commands import PortConnectedCmd, PortDisconnectedCmd
from NodeGraphQt.constants import LayoutDirectionEnum, PortTypeEnum
from NodeGraphQt.nodes.backdrop_node import BackdropNode
from NodeGraphQt.qgraphics.node_backdrop import BackdropNodeItem
from NodeGraphQt.qgraphics.node_base import NodeItem
from NodeGraphQt.qgraphics.pipe import PipeItem
from NodeGraphQt.widgets.viewer import NodeViewer
from PySide6 import QtCore, QtGui, QtWidgets

from mattebox.app import undo
from mattebox.app.focus import take_focus_on_hover
from mattebox.app.graph_layout import LaidOutNode, layered_layout
from mattebox.app.tab_search import TabSearch
from mattebox.engine import group as groups
from mattebox.engine import script
from mattebox.nodes.spec import MASK_INPUT, registry

FAMILY_COLORS = {
    "io": (96, 104, 112),
    "source": (112, 112, 112),
    "color": (92, 122, 176),
    "merge": (60, 82, 160),
    "filter": (186, 112, 64),
    "transform": (146, 98, 160),
    "ocio": (70, 138, 118),
    "utility": (118, 116, 84),
    "channel": (150, 84, 112),
    "keyer": (72, 150, 72),
    "time": (164, 140, 60),
}
OTHER_COLOR = (100, 100, 100)
ERROR_COLOR = (190, 36, 36)
PORT_COLOR = (200, 200, 200)
MASK_COLOR = (120, 180, 240)
#: Inputs drawn on the node's right side rather than on top (Nuke's mask arrow).
SIDE_INPUTS = (MASK_INPUT,)
BACKDROP_COLOR = (64, 70, 80)
OUTPUT_PORT = "Output"
NODE_WIDTH, NODE_HEIGHT, PORT_SPACING = 110.0, 34.0, 34.0
ROW_SPACING = 70.0
COLUMN_GAP = 40.0  # between columns of an automatic layout
NAME_PADDING = 10.0  # on each side of a node's name
NAME_POINT_SIZE = 8.5
PORT_POINT_SIZE = 6.5
PORT_LABEL_GAP = 6.0  # between the names of neighbouring top inputs
IMAGE_SUFFIXES = (".exr", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dpx", ".hdr", ".tga")
BACKDROP_TYPE = "Backdrop"
GROUP_COLOR = (150, 124, 70)


def _paint_side_port(painter: QtGui.QPainter, rect: QtCore.QRectF, info: dict) -> None:
    """A side input (Mask): a triangle on the node's edge pointing into the node."""
    painter.save()
    color = QtGui.QColor(*info["color"][:3])
    if info["hovered"]:
        color = color.lighter(140)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QtGui.QPen(color.darker(160), 1.2))
    painter.setBrush(color if info["connected"] or info["hovered"] else color.darker(220))
    tip = QtCore.QPointF(rect.left() - 1, rect.center().y())
    painter.drawPolygon(
        QtGui.QPolygonF(
            [
                tip,
                QtCore.QPointF(rect.right() + 2, rect.top()),
                rect.bottomRight() + QtCore.QPointF(2, 0),
            ]
        )
    )
    painter.restore()


def name_font() -> QtGui.QFont:
    """The font of the name drawn inside a node."""
    font = QtGui.QFont(QtWidgets.QApplication.font())
    font.setPointSizeF(NAME_POINT_SIZE)
    font.setBold(True)
    return font


def name_width(name: str) -> float:
    """How wide ``name`` is drawn inside a node, padding included."""
    return QtGui.QFontMetricsF(name_font()).horizontalAdvance(name) + 2 * NAME_PADDING


def port_font() -> QtGui.QFont:
    """The font of the input names drawn over a node's top edge."""
    font = QtGui.QFont(QtWidgets.QApplication.font())
    font.setPointSizeF(PORT_POINT_SIZE)
    return font


def labels_inputs(top_inputs: list[str]) -> bool:
    """Whether a node's top inputs are labelled: several, or one not called Source."""
    return len(top_inputs) > 1 or (bool(top_inputs) and top_inputs[0] != "Source")


def node_width(name: str, top_inputs: list[str]) -> float:
    """A node's width: room for its name and, spread over the top, its inputs' names
    (neither clipped nor overlapping)."""
    spacing = PORT_SPACING
    if labels_inputs(top_inputs):
        metrics = QtGui.QFontMetricsF(port_font())
        widest = max(metrics.horizontalAdvance(n) for n in top_inputs)
        spacing = max(spacing, widest + PORT_LABEL_GAP)
    return max(NODE_WIDTH, spacing * (len(top_inputs) + 1), math.ceil(name_width(name)))


class ProfileLabel(QtWidgets.QGraphicsItem):
    """The profiling figure under a node ("12.3 ms", "cached"): small text on a dark
    tag, left-aligned under the node so that it keeps clear of the output's pipe."""

    def __init__(self, parent):
        super().__init__(parent)
        self.text = ""
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self.setZValue(1)

    @staticmethod
    def font() -> QtGui.QFont:
        font = QtGui.QFont(QtWidgets.QApplication.font())
        font.setPointSizeF(6.5)
        return font

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.prepareGeometryChange()
            self.text = text
        self.setVisible(bool(text))
        self.update()

    def boundingRect(self) -> QtCore.QRectF:
        width = QtGui.QFontMetricsF(self.font()).horizontalAdvance(self.text)
        return QtCore.QRectF(0, 0, width + 8, 12)

    def paint(self, painter, option, widget=None):
        painter.save()
        rect = self.boundingRect()
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(QtGui.QColor(20, 20, 20, 200))
        painter.drawRoundedRect(rect, 3, 3)
        painter.setFont(self.font())
        painter.setPen(QtGui.QColor(230, 210, 120))
        painter.drawText(rect, QtCore.Qt.AlignmentFlag.AlignCenter, self.text)
        painter.restore()


def is_side_port(port) -> bool:
    """Whether a port item is drawn on the node's side (an input named in SIDE_INPUTS)."""
    return port.port_type == PortTypeEnum.IN.value and port.name in SIDE_INPUTS


class MatteboxPipeItem(PipeItem):
    """A pipe; one into a side input (Mask) leaves its upstream node downwards and
    arrives horizontally from the right, so it does not cross the node's top inputs.
    Pipes of a disabled node are drawn as any other: the node passes its input on."""

    def disabled(self):
        return False

    def _draw_path_vertical(self, start_port, pos1, pos2, path):
        side = self.input_port is not None and is_side_port(self.input_port)
        if not side or start_port is not self.input_port:
            super()._draw_path_vertical(start_port, pos1, pos2, path)
            return
        reach = max(30.0, min(abs(pos2.x() - pos1.x()), 120.0))
        drop = max(30.0, min(abs(pos1.y() - pos2.y()), 120.0))
        path.cubicTo(
            QtCore.QPointF(pos1.x() + reach, pos1.y()),
            QtCore.QPointF(pos2.x(), pos2.y() + drop),
            pos2,
        )
        self.setPath(path)


class MatteboxNodeItem(NodeItem):
    """A node drawn the Nuke way: a coloured box with its name inside, inputs on top
    (labelled when a node has several), Mask on the right side, the output below; red
    when in error, crossed out when disabled."""

    def __init__(self, name="node", parent=None):
        super().__init__(name, parent)
        self.label = name
        self.error: str | None = None
        self.viewer_slots: list[int] = []
        self.doc = ""
        self.profile = ProfileLabel(self)
        self.profile.set_text("")

    def _hide_texts(self) -> None:
        for text in list(self._input_items.values()) + list(self._output_items.values()):
            text.setVisible(False)
        self._text_item.setVisible(False)
        self._icon_item.setVisible(False)

    def _top_inputs(self) -> list:
        return [p for p in self._input_items if p.isVisible() and not is_side_port(p)]

    def _draw_node_vertical(self):
        self._hide_texts()
        self._width = node_width(self.label, [p.name for p in self._top_inputs()])
        self._height = NODE_HEIGHT
        self.profile.setPos(0, NODE_HEIGHT + 3)
        self._tooltip_disable(self.disabled)
        self.align_ports()
        self.update()

    def align_ports(self, v_offset=0.0):
        """Inputs spread over the top, side inputs on the right edge, outputs below."""
        super().align_ports(v_offset)
        top = self._top_inputs()
        if top:
            width, height = top[0].boundingRect().width(), top[0].boundingRect().height()
            delta = self._width / (len(top) + 1)
            for index, port in enumerate(top):
                port.setPos(delta * (index + 1) - width / 2, -height / 2)
        side = [p for p in self._input_items if p.isVisible() and is_side_port(p)]
        for index, port in enumerate(side):
            rect = port.boundingRect()
            port.setPos(
                self._width - rect.width() / 2 + 4,
                self._height / 2 - rect.height() / 2 + index * rect.height(),
            )

    @NodeItem.disabled.setter
    def disabled(self, state=False):
        """NodeGraphQt's disabled state; drawn by :meth:`paint` (a cross over the node),
        not by NodeGraphQt's overlay, whose label would hide the node's name."""
        NodeItem.disabled.fset(self, state)
        self._x_item.setVisible(False)
        self.update()

    def set_proxy_mode(self, mode):
        super().set_proxy_mode(mode)
        self._hide_texts()

    def _tooltip_disable(self, state):
        self.refresh_tooltip()

    def refresh_tooltip(self) -> None:
        text = f"<b>{self.label}</b> ({self.type_.rsplit('.', 1)[-1]})"
        if self.disabled:
            text += " <i>disabled (D)</i>"
        if self.error:
            text += f"<br/><span style='color:#ff7070'>{self.error}</span>"
        elif self.doc:
            text += f"<br/>{self.doc}"
        self.setToolTip(text)

    def paint(self, painter, option, widget):
        self.auto_switch_mode()
        painter.save()
        rect = self.boundingRect().adjusted(1, 1, -1, -1)
        base = QtGui.QColor(*(ERROR_COLOR if self.error else self.color[:3]))
        painter.setBrush(base)
        if self.selected:
            pen = QtGui.QPen(QtGui.QColor(255, 196, 64), 2.0)
        elif self.error:
            pen = QtGui.QPen(QtGui.QColor(255, 110, 110), 1.5)
        else:
            pen = QtGui.QPen(base.darker(170), 1.0)
        painter.setPen(pen)
        painter.drawRoundedRect(rect, 4.0, 4.0)
        if self.disabled:
            self._paint_cross(painter, rect, base)
        light = base.lightnessF() > 0.62
        text_color = QtGui.QColor(20, 20, 20) if light else QtGui.QColor(235, 235, 235)
        inputs = self._top_inputs()
        labelled = labels_inputs([p.name for p in inputs])
        if labelled:
            painter.setFont(port_font())
            painter.setPen(text_color.darker(130) if light else text_color.darker(125))
            room = self._width / (len(inputs) + 1)  # between neighbouring inputs
            for port in inputs:
                x = port.pos().x() + port.boundingRect().width() / 2
                painter.drawText(
                    QtCore.QRectF(x - room / 2, rect.top() + 1, room, 10),
                    QtCore.Qt.AlignmentFlag.AlignCenter,
                    port.name,
                )
        font = name_font()
        painter.setFont(font)
        painter.setPen(text_color)
        name_rect = rect.adjusted(4, 8 if labelled else 0, -4, 0)
        painter.drawText(name_rect, QtCore.Qt.AlignmentFlag.AlignCenter, self.label)
        if self.viewer_slots:
            width = 10 + 8 * len(self.viewer_slots)
            badge = QtCore.QRectF(rect.right() - width - 2, rect.bottom() - 13, width, 11)
            painter.setPen(QtCore.Qt.PenStyle.NoPen)
            painter.setBrush(QtGui.QColor(230, 230, 230))
            painter.drawRoundedRect(badge, 3, 3)
            painter.setPen(QtGui.QColor(30, 30, 30))
            font.setPointSizeF(6)
            painter.setFont(font)
            painter.drawText(
                badge,
                QtCore.Qt.AlignmentFlag.AlignCenter,
                " ".join(str(slot + 1) for slot in self.viewer_slots),
            )
        painter.restore()

    @staticmethod
    def _paint_cross(painter: QtGui.QPainter, rect: QtCore.QRectF, base: QtGui.QColor) -> None:
        """A disabled node: its colour dimmed and a cross over it (Nuke's look)."""
        painter.save()
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(QtGui.QColor(30, 30, 30, 130))
        painter.drawRoundedRect(rect, 4.0, 4.0)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QtGui.QPen(QtGui.QColor(20, 20, 20, 220), 3.0))
        painter.drawLine(rect.topLeft(), rect.bottomRight())
        painter.drawLine(rect.bottomLeft(), rect.topRight())
        painter.restore()


def _node_class(spec) -> type[BaseNode]:
    """A NodeGraphQt node class for a declaration: its inputs, one output, its colour."""
    inputs = tuple(spec.inputs) + tuple(spec.optional_inputs)
    color = FAMILY_COLORS.get(spec.family, OTHER_COLOR)

    def __init__(self):
        BaseNode.__init__(self, qgraphics_item=MatteboxNodeItem)
        for name in inputs:
            if name in SIDE_INPUTS:
                self.add_input(name, color=MASK_COLOR, painter_func=_paint_side_port)
            else:
                self.add_input(name, color=PORT_COLOR)
        self.add_output(OUTPUT_PORT, multi_output=True, color=PORT_COLOR)
        self.model.color = (*color, 255)
        self.view.color = (*color, 255)
        self.view.doc = (
            (spec.doc or spec.__doc__ or "").strip().splitlines()[0]
            if (spec.doc or spec.__doc__)
            else ""
        )

    return type(
        spec.type_name,
        (BaseNode,),
        {
            "__identifier__": f"mattebox.{spec.family}",
            "NODE_NAME": spec.type_name,
            "__init__": __init__,
        },
    )


def _has_disable(node) -> bool:
    return not node.is_placeholder and "disable" in node.spec.param_names()


def is_disabled(node) -> bool:
    """Whether an engine node's ``disable`` is on (placeholders: as stored)."""
    return node.values.get("disable", False) is True


class PlaceholderNode(BaseNode):
    """A node of a type this installation does not have; ports are added per node."""

    __identifier__ = "mattebox.placeholder"
    NODE_NAME = "Placeholder"

    def __init__(self):
        BaseNode.__init__(self, qgraphics_item=MatteboxNodeItem)
        self.add_output(OUTPUT_PORT, multi_output=True)
        self.model.color = (*OTHER_COLOR, 255)
        self.view.color = (*OTHER_COLOR, 255)


class GroupViewNode(BaseNode):
    """A group or gizmo instance: its input ports are its Input nodes, added per node."""

    __identifier__ = "mattebox.group"
    NODE_NAME = "Group"

    def __init__(self):
        BaseNode.__init__(self, qgraphics_item=MatteboxNodeItem)
        self.add_output(OUTPUT_PORT, multi_output=True, color=PORT_COLOR)
        self.model.color = (*GROUP_COLOR, 255)
        self.view.color = (*GROUP_COLOR, 255)
        self.view.doc = "A group: Ctrl+Enter or double-click opens it, Ctrl+Backspace goes back"


class Breadcrumb(QtWidgets.QFrame):
    """Over the node graph while a group is open: where one is (``Top / Despill1``) and
    a button back out (Ctrl+Backspace)."""

    def __init__(self, editor: NodeEditor, parent: QtWidgets.QWidget):
        super().__init__(parent)
        self.setObjectName("Breadcrumb")
        self.setStyleSheet(
            "#Breadcrumb { background: rgba(20, 20, 20, 200); border-radius: 4px; }"
            "QLabel { color: #e8c878; font-weight: bold; padding: 0 6px; }"
        )
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.back = QtWidgets.QToolButton(self)
        self.back.setText("\u25c0 Back")
        self.back.setToolTip("Leave the group (Ctrl+Backspace)")
        self.back.clicked.connect(editor.close_group)
        self.label = QtWidgets.QLabel(self)
        layout.addWidget(self.back)
        layout.addWidget(self.label)
        self.hide()

    def show_scope(self, scope: tuple[str, ...]) -> None:
        self.label.setText(" / ".join(("Top", *scope)))
        self.adjustSize()
        self.move(8, 8)
        self.setVisible(bool(scope))
        self.raise_()


class _ViewOnlyUndoStack(QtGui.QUndoStack):
    """NodeGraphQt's undo stack: runs its view commands and keeps none of them."""

    def push(self, command):
        command.redo()

    def beginMacro(self, text):
        pass

    def endMacro(self):
        pass


class _NodeViewer(NodeViewer):
    """NodeGraphQt's viewer, making :class:`MatteboxPipeItem` pipes."""

    def establish_connection(self, start_port, end_port):
        pipe = MatteboxPipeItem()
        self.scene().addItem(pipe)
        pipe.set_connections(start_port, end_port)
        pipe.draw_path(pipe.input_port, pipe.output_port)
        if start_port.node.selected or end_port.node.selected:
            pipe.highlight()
        if not start_port.node.visible or not end_port.node.visible:
            pipe.hide()


class _GraphView(NodeGraph):
    """NodeGraphQt's graph with every model-changing gesture routed to the editor."""

    def __init__(self):
        super().__init__(
            viewer=_NodeViewer(),
            undo_stack=_ViewOnlyUndoStack(),
            layout_direction=LayoutDirectionEnum.VERTICAL.value,
        )
        self.editor: NodeEditor | None = None

    def _on_connection_changed(self, disconnected, connected):
        if self.editor is not None:
            self.editor.connect_ports(disconnected, connected)

    def _on_connection_sliced(self, ports):
        if self.editor is not None:
            self.editor.connect_ports(ports, [])

    def _on_nodes_moved(self, node_data):
        if self.editor is not None:
            self.editor.items_moved(node_data)

    def _on_insert_node(self, pipe, node_id, prev_node_pos):
        if self.editor is not None:
            self.editor.insert_on_pipe(pipe, node_id, prev_node_pos)

    def _on_search_triggered(self, node_type, pos):
        if self.editor is not None:
            self.editor.create_node(node_type.rsplit(".", 1)[-1], pos)

    def _on_node_name_changed(self, node_id, name):
        if self.editor is not None:
            self.editor.rename_from_view(node_id, name)

    def _on_node_backdrop_updated(self, node_id, update_property, value):
        if self.editor is not None:
            self.editor.backdrop_resized(node_id, update_property, value)

    def _on_node_data_dropped(self, mimedata, pos):
        if self.editor is not None:
            self.editor.files_dropped(mimedata, pos)

    def _on_property_bin_changed(self, node_id, prop_name, prop_value):
        pass  # properties live in our own panel


class NodeEditor(QtCore.QObject):
    """The node graph panel of a :class:`~mattebox.app.document.Document`.

    Signals
    -------
    selection_changed(list)
        Names of the selected nodes (engine names).
    node_activated(str)
        A node was double-clicked.
    """

    selection_changed = QtCore.Signal(list)
    node_activated = QtCore.Signal(str)
    grouped = QtCore.Signal(list, str)

    def __init__(self, doc, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.doc = doc
        self.view_graph = _GraphView()
        self.view_graph.editor = self
        self.view_graph.set_acyclic(False)  # the engine refuses cycles, with a message
        self.view_graph.set_pipe_collision(True)
        self.view_graph.set_background_color(38, 38, 38)
        self.view_graph.set_grid_color(46, 46, 46)
        self.specs = {n: s for n, s in registry().items() if not s.internal}
        for spec in self.specs.values():
            self.view_graph.register_node(_node_class(spec))
        self.view_graph.register_node(PlaceholderNode)
        self.view_graph.register_node(GroupViewNode)
        self._views: dict[str, BaseNode] = {}
        self._drops: dict[str, BackdropNode] = {}
        self._names: dict[str, str] = {}  # NodeGraphQt id -> engine name (nodes and backdrops)
        self.errors: dict[str, str] = {}
        self.viewer_inputs: list[str | None] = []
        self.profile: dict[str, str] | None = None  # node -> profiling label (None: hidden)
        self.widget = self.view_graph.viewer()
        self.widget.setObjectName("NodeEditor")
        self.widget.installEventFilter(self)
        self.search = TabSearch(
            sorted(self.specs) + [BACKDROP_TYPE],
            {
                name: (spec.doc or spec.__doc__ or "").strip().split("\n")[0]
                for name, spec in self.specs.items()
            },
            self.widget,
        )
        self.search.chosen.connect(self._search_chosen)
        self.breadcrumb = Breadcrumb(self, self.widget)
        doc.scope_changed.connect(self._scope_changed)
        self._search_pos: tuple[float, float] | None = None
        self._selection_timer = QtCore.QTimer(self)
        self._selection_timer.setSingleShot(True)
        self._selection_timer.setInterval(0)
        self._selection_timer.timeout.connect(self._emit_selection)
        self.view_graph.scene().selectionChanged.connect(self._selection_timer.start)
        self.view_graph.node_double_clicked.connect(self._double_clicked)
        self._last_selection: list[str] = []
        doc.changed.connect(self._on_changed)
        doc.reset.connect(self.rebuild)
        self.rebuild()

    # -- queries ------------------------------------------------------------------------

    def view_of(self, name: str) -> BaseNode | None:
        """The NodeGraphQt node showing engine node ``name``."""
        return self._views.get(name)

    def name_of(self, item) -> str | None:
        """The engine name of a NodeGraphQt node, node item or port item."""
        if hasattr(item, "node") and not callable(item.node):
            item = item.node  # a port item
        node_id = getattr(item, "id", None)
        return self._names.get(node_id)

    def selected_names(self) -> list[str]:
        """Selected engine nodes, in the graph's order."""
        picked = {self._names.get(n.id) for n in self.view_graph.selected_nodes()}
        return [name for name in self.doc.graph.nodes if name in picked]

    def selected_backdrops(self) -> list[str]:
        picked = {self._names.get(n.id) for n in self.view_graph.selected_nodes()}
        return [name for name in self._drops if name in picked]

    def select(self, names, backdrops=()) -> None:
        """Select exactly these nodes (and backdrops)."""
        wanted = set(names)
        wanted_drops = set(backdrops)
        for name, view in self._views.items():
            view.view.setSelected(name in wanted)
        for name, view in self._drops.items():
            view.view.setSelected(name in wanted_drops)
        self._emit_selection()

    def scene_center(self) -> tuple[float, float]:
        center = self.widget.mapToScene(self.widget.viewport().rect().center())
        return center.x(), center.y()

    def cursor_scene_pos(self) -> tuple[float, float]:
        local = self.widget.mapFromGlobal(QtGui.QCursor.pos())
        if self.widget.viewport().rect().contains(local):
            pos = self.widget.mapToScene(local)
            return pos.x(), pos.y()
        return self.scene_center()

    # -- building the view ----------------------------------------------------------------

    def rebuild(self) -> None:
        """Drop every view item and build them again from the graph."""
        for view in list(self._views.values()) + list(self._drops.values()):
            self.view_graph.delete_node(view, push_undo=False)
        self._views.clear()
        self._drops.clear()
        self._names.clear()
        self.errors = {}
        self._last_selection = []
        self.sync()
        self.frame_all()
        saved = self.doc.graph.ui.get("selection")
        if isinstance(saved, list):
            self.select([n for n in saved if isinstance(n, str) and n in self.doc.graph])

    def frame_all(self) -> None:
        nodes = list(self._views.values()) + list(self._drops.values())
        if nodes:
            self.widget.zoom_to_nodes([n.view for n in nodes])

    def sync(self) -> None:
        """Bring the view in line with the engine graph (nodes, positions, links, backdrops)."""
        graph = self.doc.graph
        for name in [n for n in self._views if n not in graph]:
            self._delete_view(name)
        for name in [n for n in self._views if graph[n].is_group]:
            if tuple(self._views[name].inputs()) != graph[name].input_names:
                self._delete_view(name)  # its ports changed: made again below
        self._place_unpositioned()
        for node in graph:
            if node.name not in self._views:
                self._create_view(node)
        for name, view in self._views.items():
            pos = undo.position(graph, name)
            if pos is not None and tuple(view.view.xy_pos) != tuple(pos):
                view.view.xy_pos = list(pos)
                view.model.pos = list(pos)
        for node in graph:
            view = self._views[node.name]
            for port_name in view.inputs():
                self._sync_input(view, port_name, node.inputs.get(port_name))
        self._sync_backdrops()
        self._refresh_items()
        self.widget.scene().update()

    def _create_view(self, node) -> None:
        if node.is_placeholder:
            view = self.view_graph.create_node(
                PlaceholderNode.type_, name=node.name, selected=False, push_undo=False
            )
            for input_name in node.inputs:
                view.add_input(input_name)
            view.view.draw_node()
        elif node.is_group:
            view = self.view_graph.create_node(
                GroupViewNode.type_, name=node.name, selected=False, push_undo=False
            )
            for input_name in node.input_names:
                if input_name in SIDE_INPUTS:
                    view.add_input(input_name, color=MASK_COLOR, painter_func=_paint_side_port)
                else:
                    view.add_input(input_name, color=PORT_COLOR)
            view.view.draw_node()
        else:
            identifier = f"mattebox.{node.spec.family}.{node.type}"
            view = self.view_graph.create_node(
                identifier, name=node.name, selected=False, push_undo=False
            )
        pos = undo.position(self.doc.graph, node.name) or (0.0, 0.0)
        view.view.xy_pos = list(pos)
        view.model.pos = list(pos)
        view.view.label = node.name
        view.view.draw_node()  # sized for its name
        self._views[node.name] = view
        self._names[view.id] = node.name

    def _delete_view(self, name: str) -> None:
        view = self._views.pop(name)
        self._names.pop(view.id, None)
        self.view_graph.delete_node(view, push_undo=False)

    def _rename_view(self, old: str, new: str) -> None:
        view = self._views.pop(old, None)
        if view is None:
            return
        self._views[new] = view
        self._names[view.id] = new
        view.view.label = new
        view.set_property("name", new, push_undo=False)
        view.view.draw_node()  # sized for its new name

    def _sync_input(self, view: BaseNode, port_name: str, upstream: str | None) -> None:
        port = view.inputs()[port_name]
        want = self._views[upstream].outputs()[OUTPUT_PORT] if upstream in self._views else None
        model_ports = port.connected_ports()
        view_ports = list(port.view.connected_ports)
        if want is None and not model_ports and not view_ports:
            return
        if want is not None and model_ports == [want] and view_ports == [want.view]:
            return
        for other in model_ports:
            PortDisconnectedCmd(port, other, False).redo()
        for pipe in list(port.view.connected_pipes):
            pipe.delete()
        if want is not None:
            PortConnectedCmd(port, want, False).redo()

    def _place_unpositioned(self) -> None:
        """Give nodes without a stored position one: a layered layout of them, top-down,
        in which no pipe runs behind a node (:mod:`mattebox.app.graph_layout`), below
        the nodes that have positions.

        This is layout, not an edit: it does not mark the script modified."""
        graph = self.doc.graph
        missing = [n for n in graph if undo.position(graph, n.name) is None]
        if not missing:
            return
        placed = [undo.position(graph, n.name) for n in graph if undo.position(graph, n.name)]
        left = min((p[0] for p in placed), default=0.0)
        top = max((p[1] for p in placed), default=0.0) + 2 * ROW_SPACING if placed else 0.0
        layout = layered_layout(
            [self._layout_node(node) for node in missing],
            NODE_HEIGHT,
            ROW_SPACING,
            COLUMN_GAP,
            (left, top),
        )
        for name, pos in layout.items():
            undo.set_position(graph, name, (round(pos[0], 2), round(pos[1], 2)))

    @staticmethod
    def _layout_node(node) -> LaidOutNode:
        """A node's inputs in the order of its ports, and its width, for the layout."""
        names = list(node.inputs) if node.is_placeholder else list(node.input_names)
        top = [node.inputs.get(n) for n in names if n not in SIDE_INPUTS]
        side = [node.inputs.get(n) for n in names if n in SIDE_INPUTS]
        ports = [n for n in names if n not in SIDE_INPUTS]
        return LaidOutNode(node.name, top, side, node_width(node.name, ports))

    def _sync_backdrops(self) -> None:
        drops = self.doc.graph.ui.get("backdrops", {})
        for name in [n for n in self._drops if n not in drops]:
            view = self._drops.pop(name)
            self._names.pop(view.id, None)
            self.view_graph.delete_node(view, push_undo=False)
        for name, entry in drops.items():
            view = self._drops.get(name)
            if view is None:
                view = self.view_graph.create_node(
                    "nodeGraphQt.nodes.BackdropNode", name=name, selected=False, push_undo=False
                )
                view.view.setZValue(-10)
                self._drops[name] = view
                self._names[view.id] = name
            pos = list(entry.get("pos", (0, 0)))
            width, height = entry.get("size", (300, 200))
            color = tuple(entry.get("color", BACKDROP_COLOR))
            label = entry.get("label", "")
            if list(view.view.xy_pos) != pos:
                view.view.xy_pos = pos
                view.model.pos = pos
            if (view.view.width, view.view.height) != (width, height):
                view.set_property("width", width, push_undo=False)
                view.set_property("height", height, push_undo=False)
            if tuple(view.color()) != color[:3]:
                view.set_property("color", (*color[:3], 255), push_undo=False)
            if view.get_property("backdrop_text") != label:
                view.set_property("backdrop_text", label, push_undo=False)

    # -- errors and viewer marks ----------------------------------------------------------

    def set_errors(self, errors: dict[str, str]) -> None:
        """Draw the nodes in ``errors`` red, with the message as their tooltip."""
        if errors == self.errors:
            return
        self.errors = dict(errors)
        self._refresh_items()

    def set_profile(self, labels: dict[str, str] | None) -> None:
        """Show a profiling label under each node named in ``labels`` ("12.3 ms",
        "cached"); None hides them all."""
        self.profile = dict(labels) if labels is not None else None
        self._refresh_items()

    def set_viewer_inputs(self, inputs: list[str | None]) -> None:
        """Show which node each viewer input (1-5) shows, as small badges."""
        self.viewer_inputs = list(inputs)
        self._refresh_items()

    def _refresh_items(self) -> None:
        graph = self.doc.graph
        for name, view in self._views.items():
            item = view.view
            slots = [i for i, viewed in enumerate(self.viewer_inputs) if viewed == name]
            error = self.errors.get(name)
            disabled = name in graph and is_disabled(graph[name])
            if view.disabled() != disabled:
                view.set_property("disabled", disabled, push_undo=False)
            if item.error != error or item.viewer_slots != slots or item.label != name:
                resized = item.label != name
                item.error, item.viewer_slots, item.label = error, slots, name
                item.refresh_tooltip()
                if resized:
                    item.draw_node()
                item.update()
            item.profile.set_text(self.profile.get(name, "") if self.profile else "")

    # -- disable ----------------------------------------------------------------------------

    def toggle_disable(self, names: list[str] | None = None) -> bool:
        """D: disable the selected nodes (or ``names``), or enable them when all are
        disabled already; one undo step. Returns whether anything changed."""
        graph = self.doc.graph
        names = self.selected_names() if names is None else names
        names = [n for n in names if n in graph and _has_disable(graph[n])]
        if not names:
            return False
        state = not all(is_disabled(graph[n]) for n in names)
        changes = [
            (n, "disable", undo.stored_value(graph[n], "disable"), state)
            for n in names
            if is_disabled(graph[n]) != state
        ]
        listed = ", ".join(names[:3]) + ("..." if len(names) > 3 else "")
        text = f"{'Disable' if state else 'Enable'} {listed}"
        return self.doc.push(undo.SetParams(self.doc, changes, text))

    # -- gestures from the view -> commands ----------------------------------------------

    def connect_ports(self, disconnected, connected) -> None:
        """Pipes dragged or cut in the view: ``(port, port)`` item pairs."""
        graph = self.doc.graph
        wanted: dict[tuple[str, str], str | None] = {}
        for pair, upstream_wanted in [(p, False) for p in disconnected] + [
            (p, True) for p in connected
        ]:
            ports = {p.port_type: p for p in pair}
            target, source = ports.get(PortTypeEnum.IN.value), ports.get(PortTypeEnum.OUT.value)
            if target is None or source is None:
                continue
            node, upstream = self.name_of(target), self.name_of(source)
            if node is None or upstream is None:
                continue
            key = (node, target.name)
            if upstream_wanted:
                wanted[key] = upstream
            elif graph[node].inputs.get(target.name) == upstream:
                wanted.setdefault(key, None)
        changes = [
            (n, i, graph[n].inputs.get(i), new)
            for (n, i), new in wanted.items()
            if graph[n].inputs.get(i) != new
        ]
        if changes:
            verb = "Connect" if any(c[3] for c in changes) else "Disconnect"
            what = ", ".join(f"{n}.{i}" for n, i, _, _ in changes[:2])
            self.doc.push(undo.SetInputs(self.doc, changes, f"{verb} {what}"))
        self.sync()

    def items_moved(self, node_data: dict) -> None:
        nodes, drops = {}, {}
        for item, previous in node_data.items():
            name = self._names.get(item.id)
            if name is None:
                continue
            new = tuple(round(v, 2) for v in item.xy_pos)
            old = tuple(previous)
            if isinstance(item, BackdropNodeItem):
                drops[name] = (list(old), list(new))
            else:
                nodes[name] = (undo.position(self.doc.graph, name) or old, new)
        if nodes or drops:
            self.doc.push(undo.MoveItems(self.doc, nodes, drops))

    def insert_on_pipe(self, pipe, node_id: str, previous_positions: dict) -> None:
        """A node dropped on a pipe: it goes between the pipe's two ends."""
        graph = self.doc.graph
        middle = self._names.get(node_id)
        down, up = self.name_of(pipe.input_port), self.name_of(pipe.output_port)
        if middle is None or down is None or up is None or middle in (down, up):
            self.sync()
            return
        down_input = pipe.input_port.name
        changes = []
        first = undo.primary_input(graph[middle])
        if first is not None:
            changes.append((middle, first, graph[middle].inputs.get(first), up))
        changes.append((down, down_input, graph[down].inputs.get(down_input), middle))
        commands = [undo.SetInputs(self.doc, changes)]
        moves = {}
        for item, previous in previous_positions.items():
            name = self._names.get(item.id)
            if name in graph:
                moves[name] = (undo.position(graph, name) or tuple(previous), tuple(item.xy_pos))
        if moves:
            commands.append(undo.MoveItems(self.doc, moves))
        self.doc.push(undo.Compound(self.doc, commands, f"Insert {middle}"))
        self.sync()

    def rename_from_view(self, node_id: str, name: str) -> None:
        old = self._names.get(node_id)
        if old in self.doc.graph and name != old:
            self.doc.push(undo.Rename(self.doc, old, name))
        self.sync()

    def backdrop_resized(self, node_id: str, update_property: str, value) -> None:
        name = self._names.get(node_id)
        drops = self.doc.graph.ui.get("backdrops", {})
        if name not in drops or not isinstance(value, dict):
            return
        new = {k: dict(v) for k, v in drops.items()}
        new[name]["size"] = [round(value["width"], 1), round(value["height"], 1)]
        new[name]["pos"] = [round(v, 2) for v in value["pos"]]
        self.doc.push(undo.SetBackdrops(self.doc, drops, new, f"Resize {name}"))
        self.sync()

    def files_dropped(self, mimedata, pos) -> None:
        """Image files dropped on the graph become Read nodes."""
        files = [url.toLocalFile() for url in mimedata.urls() if url.isLocalFile()]
        files = [f for f in files if f.lower().endswith(IMAGE_SUFFIXES)]
        x, y = (pos.x(), pos.y()) if hasattr(pos, "x") else self.scene_center()
        for index, path in enumerate(files):
            self.create_node(
                "Read",
                (x + index * (NODE_WIDTH + 30), y),
                params={"file": path},
                connect_selection=False,
            )

    def _double_clicked(self, node) -> None:
        name = self._names.get(getattr(node, "id", None))
        if name in self.doc.graph:
            self.node_activated.emit(name)
            if self.doc.graph[name].is_group:
                self.open_group(name)

    # -- groups ----------------------------------------------------------------------------

    def group_selected(self) -> str | None:
        """Ctrl+G: the selected nodes into a new group (one undo step); returns its name."""
        names = self.selected_names()
        if not names:
            self.doc.message.emit("Group: select the nodes to group first")
            return None
        command = undo.GroupNodes(self.doc, names)
        if not self.doc.push(command):
            return None
        self.sync()
        self.select([command.group_name])
        self.grouped.emit(names, command.group_name)
        return command.group_name

    def ungroup_selected(self) -> list[str]:
        """Ctrl+Shift+G: the selected groups' nodes back in their place."""
        graph = self.doc.graph
        restored: list[str] = []
        picked = [n for n in self.selected_names() if graph[n].is_group]
        if not picked:
            self.doc.message.emit("Ungroup: select a group first")
        for name in picked:
            command = undo.Ungroup(self.doc, name)
            if self.doc.push(command):
                restored += command.restored
        self.sync()
        if restored:
            self.select(restored)
        return restored

    def open_group(self, name: str | None = None) -> bool:
        """Ctrl+Enter or double-click: show the inside of group ``name`` (or of the
        selected group)."""
        if name is None:
            picked = [n for n in self.selected_names() if self.doc.graph[n].is_group]
            name = picked[0] if len(picked) == 1 else None
        if name is None or name not in self.doc.graph or not self.doc.graph[name].is_group:
            return False
        self.doc.set_scope((*self.doc.scope, name))
        return True

    def close_group(self) -> bool:
        """Ctrl+Backspace or Back: leave the open group, the group selected outside."""
        if not self.doc.scope:
            return False
        left = self.doc.scope[-1]
        self.doc.set_scope(self.doc.scope[:-1])
        self.select([left])
        return True

    def _scope_changed(self) -> None:
        self.rebuild()
        self.breadcrumb.show_scope(self.doc.scope)

    def type_names(self) -> tuple[list[str], dict[str, str]]:
        """What Tab offers: node types, Group, the gizmos on the search path, Backdrop."""
        docs = {
            name: (spec.doc or spec.__doc__ or "").strip().split("\n")[0]
            for name, spec in self.specs.items()
        }
        try:
            found = groups.gizmos()
        except OSError:
            found = {}
        for name, gizmo in found.items():
            docs[name] = gizmo.doc or f"gizmo v{gizmo.version} ({gizmo.path.name})"
        return sorted(self.specs) + sorted(found) + [BACKDROP_TYPE], docs

    # -- creating ---------------------------------------------------------------------------

    def open_search(self) -> None:
        """The Tab menu, at the cursor."""
        self._search_pos = self.cursor_scene_pos()
        self.search.set_names(*self.type_names())
        local = self.widget.mapFromGlobal(QtGui.QCursor.pos())
        if not self.widget.viewport().rect().contains(local):
            local = self.widget.viewport().rect().center()
        self.search.popup(self.widget.mapToGlobal(local))

    def _search_chosen(self, name: str) -> None:
        if name == BACKDROP_TYPE:
            self.create_backdrop()
        else:
            self.create_node(name, self._search_pos)

    def create_node(
        self, type_name: str, pos=None, params: dict | None = None, connect_selection: bool = True
    ) -> str | None:
        """Add a node of ``type_name``; with one node selected it goes below it and into
        its chain (Nuke's way). Returns the new node's name."""
        graph = self.doc.graph
        spec = self.specs.get(type_name)
        block = None
        if type_name == groups.GROUP:
            block = groups.new_block()
        elif spec is None and (gizmo := groups.find_gizmo(type_name)) is not None:
            spec, version, block = self.specs[groups.GROUP], gizmo.version, gizmo.block()
        if spec is None:
            self.doc.message.emit(f"unknown node type {type_name!r}")
            return None
        name = graph.unique_name(type_name)
        selected = self.selected_names() if connect_selection else []
        links, moves = [], {}
        inputs = spec.inputs + spec.optional_inputs
        if block is not None:  # a group's inputs are its Input nodes, in order
            inputs = tuple(block.get("inputs", ()))
        if len(selected) == 1 and inputs:
            above = selected[0]
            first = inputs[0]
            links.append((name, first, above))
            for consumer, input_name in graph.consumers(above):
                links.append((consumer.name, input_name, name))
            x, y = undo.position(graph, above) or self.scene_center()
            pos = (x, y + ROW_SPACING)
            moves = self._room_below(above)
        if pos is None:
            pos = self.scene_center()
        entry = {"type": type_name, "version": spec.version, "params": {}, "inputs": {}}
        if params:
            entry["params"] = {k: spec.param(k).to_json(v) for k, v in params.items()}
        if block is not None:
            entry["group"] = block
            entry["version"] = version if type_name != groups.GROUP else spec.version
        fragment = {
            "mattebox": {"format": script.FORMAT_VERSION},
            "nodes": {name: entry},
            "ui": {"nodes": {name: {"pos": [round(pos[0], 2), round(pos[1], 2)]}}},
        }
        command = undo.AddNodes(self.doc, fragment, links, f"Create {name}")
        if moves:
            command = undo.Compound(
                self.doc, [command, undo.MoveItems(self.doc, moves)], f"Create {name}"
            )
        if not self.doc.push(command):
            return None
        self.sync()
        self.select([name])
        return name

    def _room_below(self, above: str) -> dict:
        """Moves that push what is below ``above`` down a row, so an inserted node has room."""
        graph = self.doc.graph
        x, y = undo.position(graph, above) or (0.0, 0.0)
        moves = {}
        for node in graph.downstream(above):
            pos = undo.position(graph, node.name)
            if pos and pos[1] > y and abs(pos[0] - x) < NODE_WIDTH * 3:
                moves[node.name] = (pos, (pos[0], pos[1] + ROW_SPACING))
        return moves

    def create_backdrop(self) -> str:
        """A backdrop around the selected nodes (or at the centre of the view)."""
        graph = self.doc.graph
        drops = graph.ui.get("backdrops", {})
        index = 1
        while f"Backdrop{index}" in drops:
            index += 1
        name = f"Backdrop{index}"
        picked = [undo.position(graph, n) for n in self.selected_names()]
        picked = [p for p in picked if p]
        if picked:
            x0 = min(p[0] for p in picked) - 30
            y0 = min(p[1] for p in picked) - 50
            x1 = max(p[0] for p in picked) + NODE_WIDTH + 30
            y1 = max(p[1] for p in picked) + NODE_HEIGHT + 30
        else:
            cx, cy = self.scene_center()
            x0, y0, x1, y1 = cx - 150, cy - 100, cx + 150, cy + 100
        new = {k: dict(v) for k, v in drops.items()}
        new[name] = {
            "pos": [x0, y0],
            "size": [x1 - x0, y1 - y0],
            "label": name,
            "color": list(BACKDROP_COLOR),
        }
        self.doc.push(undo.SetBackdrops(self.doc, drops, new, f"Create {name}"))
        self.sync()
        return name

    # -- events -----------------------------------------------------------------------------

    def _on_changed(self, change) -> None:
        for old, new in change.renamed:
            self._rename_view(old, new)
            self.viewer_inputs = [new if v == old else v for v in self.viewer_inputs]
        if change.structure or change.renamed:
            self.sync()
        elif change.params:
            self._refresh_items()  # "disable" is drawn

    def _emit_selection(self) -> None:
        try:
            names = self.selected_names()
        except RuntimeError:  # the scene is being torn down
            return
        if names != self._last_selection:
            self._last_selection = names
            if self.doc.scope:  # inside a group: not kept (the group's entry stays as it was)
                pass
            elif names:  # kept with the script (not an edit), as Nuke keeps "selected"
                self.doc.graph.ui["selection"] = list(names)
            else:
                self.doc.graph.ui.pop("selection", None)
            self.selection_changed.emit(names)

    def eventFilter(self, watched, event) -> bool:
        if watched is not getattr(self, "widget", None):
            return super().eventFilter(watched, event)
        if event.type() == QtCore.QEvent.Type.Enter:
            take_focus_on_hover(self.widget)
        elif event.type() == QtCore.QEvent.Type.KeyPress:
            key = event.key()
            if key == QtCore.Qt.Key.Key_Tab and not event.modifiers():
                self.open_search()
                return True
            ctrl = event.modifiers() == QtCore.Qt.KeyboardModifier.ControlModifier
            if ctrl and key in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter):
                return self.open_group() or True
            if ctrl and key == QtCore.Qt.Key.Key_Backspace:
                return self.close_group() or True
            if key == QtCore.Qt.Key.Key_F and not event.modifiers():
                if self.selected_names():
                    self.view_graph.fit_to_selection()
                else:
                    self.frame_all()
                return True
        return super().eventFilter(watched, event)
