"""The viewer: a colour-managed image view of a node, rendered off the UI thread.

It shows the node on the active viewer input (1-5, as in Nuke; with none connected, the
selected node), through the OCIO display, view and look chosen in its menus, with an
exposure (f-stops) and a gamma, a layer menu (the node's layers: ``rgba``, ``diffuse``,
``depth``...), a channel solo (R, G, B, A, luminance, or one channel of the layer), a
pixel probe, zoom and pan, the format and data window outlines, and an A/B wipe between
two inputs.
Only what is visible is rendered (``region=``), at screen resolution; while a value is
dragged a coarser draft is shown, refined when the drag ends. Render errors appear as
text in the viewer.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from mattebox.app.flipbook import Flipbook
from mattebox.app.focus import take_focus_on_hover
from mattebox.app.render_worker import ViewerRenderer, ViewRequest, ViewResult
from mattebox.app.roto_overlay import RotoOverlay
from mattebox.app.viewer_canvas import Canvas
from mattebox.engine import color
from mattebox.engine import viewer as engine_viewer
from mattebox.nodes import channels as chans
from mattebox.nodes.spec import Window

VIEWER_INPUTS = 5
CHANNEL_LABELS = {"rgb": "RGB", "r": "R", "g": "G", "b": "B", "a": "A", "luminance": "Luminance"}
MAIN = chans.MAIN
MAIN_LAYERS = ((MAIN, chans.MAIN_CHANNELS),)
CHANNEL_KEYS = {
    QtCore.Qt.Key.Key_R: "r",
    QtCore.Qt.Key.Key_G: "g",
    QtCore.Qt.Key.Key_B: "b",
    QtCore.Qt.Key.Key_A: "a",
    QtCore.Qt.Key.Key_Y: "luminance",
}


def default_node(graph) -> str | None:
    """The node a script without viewer settings (one built in Python) opens on: the
    input of its last Write (the comp's result), else the last node that nothing reads
    (a Write without input aside); None for an empty graph."""
    nodes = list(graph)
    for node in reversed(nodes):
        if node.type == "Write" and node.inputs.get("Source") in graph:
            return node.inputs["Source"]
    read = {up for node in nodes for up in node.inputs.values() if up}
    for node in reversed(nodes):
        if node.name not in read and node.type != "Write":
            return node.name
    return None


def channel_choices(layer: str, channels: tuple[str, ...]) -> list[tuple[str, str]]:
    """The channel menu's ``(label, solo mode)`` items for one image layer.

    ``rgba``: RGB, R, G, B, A, Luminance. Another layer: all its channels first (labelled
    by their names: ``RGB``, ``XYZ``, ``Z``), then each channel alone when it has several
    (the first as the ``r`` mode, the second as ``g``...: the layer is displayed with its
    channels as R, G, B, A), and Luminance for a colour layer.
    """
    if layer == MAIN:
        return [(label, key) for key, label in CHANNEL_LABELS.items()]
    suffixes = [name.rsplit(".", 1)[-1] for name in channels]
    whole = "".join(suffixes) if all(len(s) == 1 for s in suffixes) else "all"
    items = [(whole, "rgb")]
    if len(channels) > 1:
        items += [(suffix, "rgba"[k]) for k, suffix in enumerate(suffixes[:4])]
    if len(channels) >= 3 and chans.is_colour_layer(channels):
        items.append(("Luminance", "luminance"))
    return items


class Viewer(QtWidgets.QWidget):
    """The viewer panel: toolbar, canvas, and a probe line.

    Signals
    -------
    errors_changed(dict)
        Node name -> message for every node in error (for the node editor's red).
    inputs_changed(list)
        The node on each viewer input (None where nothing is connected).
    finished()
        A render arrived and nothing else is queued (screenshots wait for it).
    profiled(object)
        The engine's :class:`~mattebox.engine.stats.RenderStats` of the shown node's
        render (None when the render recorded none), while :attr:`profile` is on.
    """

    errors_changed = QtCore.Signal(dict)
    inputs_changed = QtCore.Signal(list)
    finished = QtCore.Signal()
    profiled = QtCore.Signal(object)

    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.setObjectName("Viewer")
        self.frame = 1.0
        self.inputs: list[str | None] = [None] * VIEWER_INPUTS
        self.active = 0
        self.selected: list[str] = []
        self.draft = False
        self.wipe_input: int | None = None
        self.backend = "auto"
        self.validation_errors: dict[str, str] = {}
        self.layer = MAIN  # the image layer the artist chose (shown where the node has it)
        self.available = MAIN_LAYERS  # the shown node's layers, from its last render
        self.last_result: ViewResult | None = None
        self.profile = False  # renders record each node's time (the profiling view)
        self.renderer = ViewerRenderer(self)
        self.flipbook = Flipbook(self.renderer, self)  # display-ready frames in RAM
        self.playing = 0  # playback's direction (1, -1; 0: stopped)
        self.renderer.rendered.connect(self._on_rendered)
        self.renderer.busy.connect(self._on_busy)
        self._waiting_serial = 0
        self._hover: tuple[int, int] | None = None
        self._scheduled = False  # a request is posted (see schedule)
        self._view_timer = QtCore.QTimer(self)
        self._view_timer.setSingleShot(True)
        self._view_timer.setInterval(40)
        self._view_timer.timeout.connect(self.schedule)
        self._build()
        doc.changed.connect(self._on_doc_changed)
        doc.reset.connect(self._on_reset)
        self._on_reset()

    # -- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.canvas = Canvas(self)
        self.canvas.view_changed.connect(self._view_timer.start)
        self.canvas.view_changed.connect(self._update_zoom_label)
        self.canvas.hovered.connect(self._on_hover)
        self.canvas.probe_pinned.connect(self._on_probe_pinned)
        self.canvas.wipe_moved.connect(lambda _: self._wipe_edited())
        self.canvas.installEventFilter(self)
        self.roto = RotoOverlay(self)  # the selected Roto node's shapes, and their tools
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._build_toolbar())
        layout.addWidget(self.roto.toolbar)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(self._build_bottom())
        self.display_box.activated.connect(self._display_chosen)
        self.view_box.activated.connect(lambda _: self._settings_edited())
        self.look_box.activated.connect(lambda _: self._settings_edited())
        self.exposure_box.valueChanged.connect(lambda _: self._settings_edited())
        self.gamma_box.valueChanged.connect(lambda _: self._settings_edited())
        self.layer_box.activated.connect(lambda i: self.set_layer(self.layer_box.itemData(i)))
        self.channel_box.activated.connect(lambda i: self.set_channel(self.channel_box.itemData(i)))
        self.wipe_button.toggled.connect(lambda _: self._wipe_edited())
        self.wipe_box.activated.connect(lambda _: self._wipe_edited())

    def _build_toolbar(self) -> QtWidgets.QWidget:
        """Inputs 1-5, OCIO display/view/look, exposure, gamma, channel, wipe."""
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.setSpacing(4)
        self.input_buttons = []
        for index in range(VIEWER_INPUTS):
            button = QtWidgets.QToolButton(self)
            button.setObjectName("ViewerInput")
            button.setCheckable(True)
            button.setText(str(index + 1))
            button.clicked.connect(lambda _=False, i=index: self.set_active(i))
            bar.addWidget(button)
            self.input_buttons.append(button)
        bar.addSpacing(8)
        self.display_box = self._combo("OCIO display", bar, minimum=12)
        self.view_box = self._combo("OCIO view of the display", bar, minimum=24)
        self.look_box = self._combo("OCIO look applied before the view", bar, minimum=5)
        bar.addSpacing(6)
        self.exposure_box = self._spin(
            "f/", "Exposure in f-stops (scene-linear gain 2^stops)", (-20, 20), 0.5, bar
        )
        self.exposure_box.setDecimals(1)
        self.gamma_box = self._spin(
            "\u03b3", "Viewer gamma, applied to display values", (0.1, 5.0), 0.1, bar
        )
        self.gamma_box.setValue(1.0)
        self.layer_box = self._combo("Layer of the viewed node shown", bar, 8)
        self.layer_box.addItem(MAIN, MAIN)
        self.channel_box = self._combo("Channel solo (keys R G B A Y in the viewer)", bar, 6)
        for label, key in channel_choices(MAIN, chans.MAIN_CHANNELS):
            self.channel_box.addItem(label, key)
        bar.addSpacing(6)
        self.wipe_button = QtWidgets.QToolButton(self)
        self.wipe_button.setText("Wipe")
        self.wipe_button.setCheckable(True)
        self.wipe_button.setToolTip("A/B wipe between the active input (A) and another (B)")
        bar.addWidget(self.wipe_button)
        self.wipe_box = self._combo("The B side of the wipe", bar, minimum=6)
        bar.addStretch(1)
        toolbar = QtWidgets.QWidget(self)
        toolbar.setObjectName("ViewerToolbar")
        toolbar.setLayout(bar)
        # a narrow window clips the toolbar rather than growing wider
        bar.setSizeConstraint(QtWidgets.QLayout.SizeConstraint.SetNoConstraint)
        toolbar.setMinimumWidth(0)
        toolbar.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed
        )
        return toolbar

    def _build_bottom(self) -> QtWidgets.QHBoxLayout:
        """The probe line, render time, zoom, Fit and 1:1."""
        self.info = QtWidgets.QLabel(" ", self)
        self.info.setObjectName("ProbeInfo")
        self.info.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QtWidgets.QLabel("", self)
        self.status.setObjectName("ViewerStatus")
        self.zoom_label = QtWidgets.QLabel("", self)
        self.zoom_label.setObjectName("ZoomLabel")
        bottom = QtWidgets.QHBoxLayout()
        bottom.setContentsMargins(6, 0, 6, 2)
        bottom.addWidget(self.info, 1)
        bottom.addWidget(self.status)
        bottom.addWidget(self.zoom_label)
        for text, tip, slot in (
            ("Fit", "Fit the format in the viewer (F)", self.canvas.fit),
            ("1:1", "One image pixel per screen pixel (Ctrl+1)", self.canvas.one_to_one),
        ):
            button = QtWidgets.QToolButton(self)
            button.setText(text)
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.clicked.connect(slot)
            bottom.addWidget(button)
        return bottom

    def _spin(self, label: str, tip: str, bounds, step: float, bar) -> QtWidgets.QDoubleSpinBox:
        bar.addWidget(QtWidgets.QLabel(label, self))
        box = QtWidgets.QDoubleSpinBox(self)
        box.setRange(*bounds)
        box.setSingleStep(step)
        box.setToolTip(tip)
        bar.addWidget(box)
        return box

    def _combo(
        self, tip: str, bar: QtWidgets.QHBoxLayout, minimum: int = 10
    ) -> QtWidgets.QComboBox:
        box = QtWidgets.QComboBox(self)
        box.setToolTip(tip)
        box.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        box.setMinimumContentsLength(minimum)
        bar.addWidget(box)
        return box

    # -- settings -------------------------------------------------------------------------

    @property
    def settings(self) -> dict:
        return self.doc.root.ui.setdefault("viewer", {})

    def display_settings(self) -> engine_viewer.DisplaySettings:
        return engine_viewer.DisplaySettings(
            display=self.display_box.currentText(),
            view=self.view_box.currentText(),
            look=self.look_box.currentText() if self.look_box.currentIndex() > 0 else "",
            exposure=self.exposure_box.value(),
            gamma=self.gamma_box.value(),
            channel=self.channel_box.currentData() or "rgb",
        )

    def set_display(self, display: str, view: str | None = None) -> None:
        """Choose an OCIO display (and view) as the menus would."""
        self._fill_views(display, view)
        self.display_box.setCurrentText(display)
        self._settings_edited()

    def set_view(self, view: str) -> None:
        self.view_box.setCurrentText(view)
        self._settings_edited()

    def set_look(self, look: str) -> None:
        self.look_box.setCurrentText(look or "None")
        self._settings_edited()

    def set_channel(self, channel: str) -> None:
        """Solo ``channel`` (a mode of :func:`channel_choices`); a mode the shown layer
        does not offer is ignored."""
        index = self.channel_box.findData(channel)
        if index >= 0:
            self.channel_box.setCurrentIndex(index)
            self._settings_edited()

    def set_layer(self, layer: str) -> None:
        """Show image layer ``layer`` of the viewed node (``rgba``, ``depth``...); a node
        without it shows rgba, and the choice stays for the nodes that have it."""
        self.layer = layer or MAIN
        if self.layer == MAIN:
            self.settings.pop("layer", None)
        else:
            self.settings["layer"] = self.layer
        shown = self.layer if self.layer in dict(self.available) else MAIN
        self._fill_layers(self.available, shown)
        self._settings_edited()

    def _fill_layers(self, available, shown: str) -> None:
        """The layer menu from the viewed node's layers, and the channel menu from the
        shown layer's channels (keeping the solo mode where the layer has it)."""
        names = [name for name, _ in available]
        box = self.layer_box
        box.blockSignals(True)
        if [box.itemData(i) for i in range(box.count())] != names:
            box.clear()
            for name, channels in available:
                box.addItem(name, name)
                box.setItemData(
                    box.count() - 1, ", ".join(channels), QtCore.Qt.ItemDataRole.ToolTipRole
                )
        box.setCurrentIndex(max(0, box.findData(shown)))
        box.blockSignals(False)
        items = channel_choices(shown, dict(available).get(shown, chans.MAIN_CHANNELS))
        channel = self.channel_box.currentData() or "rgb"
        box = self.channel_box
        box.blockSignals(True)
        if [(box.itemText(i), box.itemData(i)) for i in range(box.count())] != items:
            box.clear()
            for label, key in items:
                box.addItem(label, key)
        box.setCurrentIndex(max(0, box.findData(channel)))
        box.blockSignals(False)

    def set_exposure(self, stops: float) -> None:
        self.exposure_box.setValue(stops)

    def set_gamma(self, gamma: float) -> None:
        self.gamma_box.setValue(gamma)

    def _config(self):
        return color.get_config(self.doc.root.settings.ocio_config)

    def _fill_menus(self) -> None:
        """The display, view and look menus from the script's config and saved settings."""
        saved = self.settings
        for box in (self.display_box, self.look_box):
            box.blockSignals(True)
            box.clear()
        try:
            config = self._config()
            displays = color.displays(config)
            looks = color.looks(config)
            default_display, default_view = engine_viewer.default_display_view(
                self.doc.root.settings.ocio_config
            )
        except color.ColorError as error:
            self.canvas.message = f"OCIO: {error}"
            displays, looks, default_display, default_view = [], [], "", ""
        self.display_box.addItems(displays)
        display = saved.get("display") if saved.get("display") in displays else default_display
        self.display_box.setCurrentText(display)
        self.look_box.addItem("None")
        self.look_box.addItems(looks)
        self.look_box.setCurrentText(saved.get("look") or "None")
        self._fill_views(display, saved.get("view") or default_view)
        for box in (self.display_box, self.look_box):
            box.blockSignals(False)
        for box, key, default in (
            (self.exposure_box, "exposure", 0.0),
            (self.gamma_box, "gamma", 1.0),
        ):
            box.blockSignals(True)
            box.setValue(float(saved.get(key, default)))
            box.blockSignals(False)
        self.channel_box.setCurrentIndex(
            max(0, self.channel_box.findData(saved.get("channel", "rgb")))
        )

    def _fill_views(self, display: str, view: str | None) -> None:
        self.view_box.blockSignals(True)
        self.view_box.clear()
        try:
            views = color.views(self._config(), display)
        except color.ColorError:
            views = []
        self.view_box.addItems(views)
        if view in views:
            self.view_box.setCurrentText(view)
        elif views:
            self.view_box.setCurrentText(self._config().getDefaultView(display) or views[0])
        self.view_box.blockSignals(False)

    def _display_chosen(self, _index: int) -> None:
        self._fill_views(self.display_box.currentText(), self.view_box.currentText())
        self._settings_edited()

    def _settings_edited(self) -> None:
        shown = self.display_settings()
        self.settings.update(
            {
                "display": shown.display,
                "view": shown.view,
                "look": shown.look,
                "exposure": shown.exposure,
                "gamma": shown.gamma,
                "channel": shown.channel,
            }
        )
        for key, default in (("look", ""), ("exposure", 0.0), ("gamma", 1.0), ("channel", "rgb")):
            if self.settings.get(key) == default:
                self.settings.pop(key)
        self.schedule()

    # -- inputs ---------------------------------------------------------------------------

    def connect_input(self, index: int, name: str | None) -> None:
        """Put node ``name`` on viewer input ``index`` (0-4) and show it."""
        self.inputs[index] = name
        self.active = index
        self._inputs_edited()

    def set_active(self, index: int) -> None:
        self.active = index
        self._inputs_edited()

    def key_input(self, index: int) -> None:
        """Keys 1-5: connect the selected node to that input (and show it), or just show
        that input when nothing new is selected."""
        if len(self.selected) == 1 and self.inputs[index] != self.selected[0]:
            self.connect_input(index, self.selected[0])
        else:
            self.set_active(index)

    def set_selection(self, names: list[str]) -> None:
        """The node editor's selection (shown when no viewer input is connected)."""
        self.selected = list(names)
        self.roto.follow_selection(self.selected)
        if self.inputs[self.active] is None:
            self.schedule()

    def shown_node(self) -> str | None:
        """The node the viewer shows."""
        graph = self.doc.root
        name = self.inputs[self.active]
        if name in graph:
            return name
        if not any(n in graph for n in self.inputs if n):
            for name in self.selected:
                if name in graph:
                    return name
        return None

    def wipe_node(self) -> str | None:
        if not self.wipe_button.isChecked():
            return None
        index = self.wipe_box.currentData()
        if index is None:
            return None
        name = self.inputs[index]
        return name if name in self.doc.root else None

    def _inputs_edited(self) -> None:
        self.settings["inputs"] = list(self.inputs)
        self.settings["active"] = self.active
        shown = self.shown_node()
        if shown:
            self.settings["node"] = shown
        self._refresh_inputs()
        self.inputs_changed.emit(list(self.inputs))
        self.schedule()

    def _refresh_inputs(self) -> None:
        graph = self.doc.root
        for index, button in enumerate(self.input_buttons):
            name = self.inputs[index]
            present = name in graph if name else False
            button.setText(str(index + 1))
            button.setProperty("connected", present)
            button.style().unpolish(button)
            button.style().polish(button)
            button.setChecked(index == self.active)
            button.setToolTip(
                f"Viewer input {index + 1}: {name if present else 'nothing'} "
                f"(key {index + 1} connects the selected node)"
            )
        current = self.wipe_box.currentData()
        self.wipe_box.blockSignals(True)
        self.wipe_box.clear()
        for index, name in enumerate(self.inputs):
            if name in graph and index != self.active:
                self.wipe_box.addItem(f"{index + 1} {name}", index)
        found = self.wipe_box.findData(current)
        self.wipe_box.setCurrentIndex(max(found, 0))
        self.wipe_box.blockSignals(False)

    def _wipe_edited(self) -> None:
        self.canvas.wipe = self.wipe_button.isChecked()
        if self.canvas.wipe:
            self.settings["wipe"] = {
                "input": self.wipe_box.currentData(),
                "position": round(self.canvas.wipe_x, 4),
            }
        else:
            self.settings.pop("wipe", None)
        self.schedule()

    # -- rendering ------------------------------------------------------------------------

    def set_frame(self, frame: float) -> None:
        """Show ``frame``: at once from the flipbook where it is cached, and (unless
        playback runs) rendered again for the probe's values and the errors."""
        self.frame = float(frame)
        if self.show_cached(self.frame) and self.playing:
            self.flipbook.steer(round(self.frame))
            return
        self.canvas.update()  # overlays drawn at the frame
        self.schedule()

    def set_profile(self, on: bool) -> None:
        """Record each node's time in the viewer's renders (and render again to show it)."""
        if on != self.profile:
            self.profile = on
            self.schedule()

    def set_draft(self, draft: bool) -> None:
        """While a value is dragged, render drafts; the end of the drag refines."""
        self.draft = draft
        self.schedule()

    def schedule(self) -> None:
        """Ask for a render soon (edits in one event-loop turn make one request).

        The request is a posted call, which the event loop delivers before it repaints
        the widgets an edit changed (a zero-interval timer came after them): the render
        thread starts while the main thread paints the properties panel."""
        if not self._scheduled:
            self._scheduled = True
            QtCore.QTimer.singleShot(0, self, self._scheduled_request)

    def _scheduled_request(self) -> None:
        if self._scheduled:  # (not after shutdown)
            self._scheduled = False
            self._request()

    def _request(self) -> None:
        node = self.shown_node()
        self.canvas.labels = (node or "", self.wipe_node() or "")
        if node is None:
            self.canvas.set_layers([], 1)
            self.canvas.message = ""
            self.last_result = None
            self._update_zoom_label()
            self._waiting_serial = 0
            self.flipbook.drop()
            self.finished.emit()
            return
        request = ViewRequest(
            graph=engine_viewer.snapshot(self.doc.root),
            node=node,
            frame=self.frame,
            visible=self.canvas.visible_region() if self.canvas.format is not None else None,
            reduction=engine_viewer.reduction_for(self.canvas.zoom, self.draft),
            proxy=engine_viewer.proxy_for(self.canvas.zoom, self.draft),
            display=self.display_settings(),
            wipe_node=self.wipe_node(),
            draft=self.draft,
            backend=self.backend,
            check_errors=not self.draft,
            layer=self.layer,
            profile=self.profile,
        )
        self._waiting_serial = self.renderer.request(request)
        if self.draft:
            self.flipbook.drop()
        else:
            first, last = self.doc.root.settings.frame_range
            self.flipbook.follow(request, tuple(range(first, last + 1)), self.doc.root)

    def _on_rendered(self, result: ViewResult) -> None:
        self.last_result = result
        layers = result.layers
        first = layers[0] if layers else None
        if first is not None and first.format is not None:
            self.canvas.set_format(first.format)
            if result.request.visible is None and first.data_window is not None:
                visible = Window(*self.canvas.visible_region())
                if not visible.contains(first.data_window):
                    self.schedule()  # the format is known now: render only what is visible
        self.canvas.set_layers(layers, result.request.reduction)
        named = [f"{s.node}  {s.shown}" if s.shown != MAIN else s.node for s in layers]
        self.canvas.labels = (*named, "", "")[:2]
        if first is not None and first.available:
            self.available = first.available
            self._fill_layers(first.available, first.shown)
            if self.display_settings().channel != result.request.display.channel:
                self.schedule()  # the shown layer has no such channel: show all of it
        errors = [layer.error for layer in layers if layer.error]
        self.canvas.message = errors[0] if errors else ""
        if result.errors is not None:
            self.validation_errors = dict(result.errors)
        combined = dict(self.validation_errors)
        for layer in layers:
            if layer.error and layer.error_node:
                combined.setdefault(layer.error_node, layer.error.split(": ", 1)[-1])
        self.errors_changed.emit(combined)
        self.status.setText(
            f"{result.seconds * 1000:.0f} ms" + (" (draft)" if result.request.draft else "")
        )
        self._update_zoom_label()
        self._update_probe()
        if result.request.profile and result.request.frame == self.frame:
            self.profiled.emit(first.stats if first is not None else None)
        if result.request.serial == self._waiting_serial and self.is_idle():
            self.finished.emit()

    def _on_busy(self, busy: bool) -> None:
        self.canvas.busy = busy
        self.canvas.update()

    def is_idle(self) -> bool:
        """No render queued, running, or about to be asked for."""
        return self.renderer.idle and not self._scheduled and not self._view_timer.isActive()

    def _update_zoom_label(self) -> None:
        self.zoom_label.setText(f"{self.canvas.zoom * 100:.0f}%")

    # -- probe ----------------------------------------------------------------------------

    def _on_hover(self, pixel) -> None:
        self._hover = pixel
        self._update_probe()

    def _on_probe_pinned(self, pixel) -> None:
        self.canvas.probe = pixel
        if pixel is None:
            self.settings.pop("probe", None)
        else:
            self.settings["probe"] = list(pixel)
        self._update_probe()
        self.canvas.update()

    def probe_values(self, x: int, y: int):
        """The linear values of the shown layer's channels (RGBA for ``rgba``) at image
        pixel (x, y), or None if unknown; zeros outside the data window.

        From a proxy render (zoomed out, or a draft) this is the proxy pixel covering
        (x, y): the average of its N×N block; the probe text says so.
        """
        result = self.last_result
        if result is None or not result.layers or result.layers[0].image is None:
            return None
        shown = result.layers[0]
        image = shown.image
        proxy = image.proxy
        x0, y0, x1, y1 = image.data_window
        window = shown.data_window
        inside_data = (
            window is not None and window.x0 <= x < window.x1 and window.y0 <= y < window.y1
        )
        px, py = x // proxy, y // proxy
        rendered = x0 <= px < x1 and y0 <= py < y1
        if inside_data and not rendered:
            return None  # not rendered (off screen)
        if not rendered:
            return (0.0,) * len(shown.shown_channels)
        return shown.shown_value(px - x0, py - y0)

    def probe_channels(self) -> tuple[str, ...]:
        """The channel names :meth:`probe_values` gives values of."""
        result = self.last_result
        if result is None or not result.layers:
            return chans.MAIN_CHANNELS
        return result.layers[0].shown_channels

    def _probe_text(self, pixel) -> str:
        x, y = pixel
        values = self.probe_values(x, y)
        where = f"x {x}  y {y}"
        if values is None:
            return where
        proxy = self.last_result.layers[0].image.proxy
        if proxy > 1:
            where += f"  (proxy 1/{proxy}: average of {proxy}x{proxy})"
        pairs = [f"{name} {value:.5f}" for name, value in zip(self.probe_channels(), values)]
        lines = ["  ".join(pairs[i : i + 2]) for i in range(0, len(pairs), 2)]
        return "\n".join([where, *lines])

    def _update_probe(self) -> None:
        pinned = self.canvas.probe
        self.canvas.probe_text = self._probe_text(pinned) if pinned else ""
        pixel = self._hover or pinned
        self.info.setText(self._probe_text(pixel).replace("\n", "    ") if pixel else " ")
        self.canvas.update()

    # -- events ---------------------------------------------------------------------------

    def eventFilter(self, watched, event) -> bool:
        if watched is not getattr(self, "canvas", None):
            return super().eventFilter(watched, event)
        if event.type() == QtCore.QEvent.Type.Enter:
            take_focus_on_hover(self.canvas)
        elif event.type() == QtCore.QEvent.Type.KeyPress:
            key, mods = event.key(), event.modifiers()
            if mods == QtCore.Qt.KeyboardModifier.NoModifier:
                if key in CHANNEL_KEYS:
                    wanted = CHANNEL_KEYS[key]
                    self.set_channel("rgb" if self.display_settings().channel == wanted else wanted)
                    return True
                if key == QtCore.Qt.Key.Key_F:
                    self.canvas.fit()
                    return True
                if key in (QtCore.Qt.Key.Key_Plus, QtCore.Qt.Key.Key_Equal):
                    self.canvas.zoom_by(2.0)
                    return True
                if key == QtCore.Qt.Key.Key_Minus:
                    self.canvas.zoom_by(0.5)
                    return True
                if key == QtCore.Qt.Key.Key_W:
                    self.wipe_button.toggle()
                    return True
        return super().eventFilter(watched, event)

    def _on_doc_changed(self, change) -> None:
        for old, new in change.renamed:
            self.inputs = [new if n == old else n for n in self.inputs]
            self.selected = [new if n == old else n for n in self.selected]
        if change.renamed or change.removed or change.added:
            self._refresh_inputs()
            self.settings["inputs"] = list(self.inputs)
        if change.settings:
            self._fill_menus()
        if (
            change.params
            or change.inputs
            or change.added
            or change.removed
            or change.settings
            or change.renamed
        ):
            self.schedule()

    def _on_reset(self) -> None:
        saved = self.settings
        inputs = saved.get("inputs")
        if isinstance(inputs, list):
            self.inputs = (
                [n if isinstance(n, str) else None for n in inputs] + [None] * VIEWER_INPUTS
            )[:VIEWER_INPUTS]
        else:
            self.inputs = [saved.get("node") if isinstance(saved.get("node"), str) else None] + [
                None
            ] * (VIEWER_INPUTS - 1)
        if "inputs" not in saved and "node" not in saved:  # no viewer entry: the last node
            self.inputs[0] = default_node(self.doc.root)
        active = saved.get("active", 0)
        self.active = active if isinstance(active, int) and 0 <= active < VIEWER_INPUTS else 0
        self.selected = []
        self.validation_errors = {}
        self.frame = float(self.doc.root.settings.frame_range[0])
        self.canvas.format = None
        self.canvas.auto_fit = True
        probe = saved.get("probe")
        valid = isinstance(probe, list) and len(probe) == 2
        self.canvas.probe = (int(probe[0]), int(probe[1])) if valid else None
        self.canvas.message = ""
        layer = saved.get("layer")
        self.layer = layer if isinstance(layer, str) and layer else MAIN
        self.available = MAIN_LAYERS
        self._fill_layers(MAIN_LAYERS, MAIN)
        self._fill_menus()
        self._refresh_inputs()
        wipe = saved.get("wipe")
        self.wipe_button.blockSignals(True)
        self.wipe_button.setChecked(isinstance(wipe, dict))
        self.wipe_button.blockSignals(False)
        self.canvas.wipe = isinstance(wipe, dict)
        if isinstance(wipe, dict):
            found = self.wipe_box.findData(wipe.get("input"))
            self.wipe_box.setCurrentIndex(max(found, 0))
            self.canvas.wipe_x = float(wipe.get("position", 0.5))
        self.inputs_changed.emit(list(self.inputs))
        self.schedule()

    # -- playback -------------------------------------------------------------------------

    def set_playing(self, direction: int, loop: bool = True) -> None:
        """Playback runs forward (1), backward (-1) or stops (0): the flipbook renders
        ahead that way while it runs; a stop renders the frame again in full (probe,
        errors)."""
        was, self.playing = self.playing, direction
        self.flipbook.steer(round(self.frame), direction, loop)
        if was and not direction:
            self.schedule()

    def show_cached(self, frame: float) -> bool:
        """Draw ``frame`` from the flipbook if it is cached there (True)."""
        if not float(frame).is_integer():
            return False
        entry = self.flipbook.frame(round(frame))
        if entry is None:
            return False
        layers = entry.layers
        first = layers[0] if layers else None
        if first is not None and first.format is not None:
            self.canvas.set_format(first.format)
        self.canvas.set_layers(layers, entry.request.reduction)
        named = [f"{s.node}  {s.shown}" if s.shown != MAIN else s.node for s in layers]
        self.canvas.labels = (*named, "", "")[:2]
        errors = [layer.error for layer in layers if layer.error]
        self.canvas.message = errors[0] if errors else ""
        self.last_result = entry
        self.status.setText("RAM")
        self._update_probe()
        return True

    def shutdown(self) -> None:
        """Stop the render thread (before the window closes); a render asked for just
        before (stopping playback asks for one) is dropped, not started after it."""
        self._scheduled = False
        self._view_timer.stop()
        self.renderer.stop()
