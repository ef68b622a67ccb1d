"""Rendering for the viewer, off the UI thread.

One :class:`ViewerRenderer` (a QThread) takes :class:`ViewRequest` records and sends back
:class:`ViewResult` records. A new request cancels the render in progress through the
engine's ``cancel`` callable (except while a value is being dragged: then the render in
progress finishes, so the viewer keeps following, and the newest request runs next).
Errors never leave the thread as exceptions: they come back as text in the result.

The main layer ``rgba`` is the fast default: the engine is asked for it alone
(``layers=()``). Another layer is asked for by name (``layers=[name]``) and shown through
the same display step, its channels as R, G, B (:func:`mattebox.engine.viewer.layer_as_rgba`). The layers a
node has are found here too (``render.layers_of``), so the viewer's layer menu follows
the graph without probing files on the UI thread.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from PySide6 import QtCore

from mattebox.engine import color, render
from mattebox.engine import viewer as engine_viewer
from mattebox.engine.graph import Graph
from mattebox.engine.image import Image, scale_window
from mattebox.engine.plan import RenderError
from mattebox.engine.stats import RenderStats
from mattebox.nodes.channels import MAIN, MAIN_CHANNELS
from mattebox.nodes.spec import Format, Window


@dataclass
class ViewRequest:
    """What the viewer wants drawn.

    ``visible`` is the part of the image on screen, in image pixels (None: all of it);
    ``reduction`` the integer factor from image to screen resolution; ``proxy`` the
    engine's proxy level (the image rendered at 1/proxy scale, the display reduction
    then doing what is left of ``reduction``).
    """

    graph: Graph
    node: str | None
    frame: float
    visible: tuple[int, int, int, int] | None
    reduction: int
    display: engine_viewer.DisplaySettings
    wipe_node: str | None = None
    draft: bool = False
    proxy: int = 1
    backend: str = "auto"
    check_errors: bool = True
    layer: str = MAIN  # the image layer to show (rgba when the node has no such layer)
    profile: bool = False  # record each node's time (Layer.stats)
    serial: int = 0


@dataclass
class Layer:
    """One rendered node: linear pixels (for the probe) and display pixels (to draw)."""

    node: str
    format: Format | None = None
    data_window: Window | None = None
    image: Image | None = None
    display: np.ndarray | None = None  # uint8 RGBA of image's region reduced by `reduction`
    # (image is at 1/image.proxy scale: its data window is in proxy pixels)
    error: str | None = None
    error_node: str | None = None
    available: tuple = ()  # the node's (layer, channel names) pairs, as render.layers_of
    shown: str = MAIN  # the image layer shown: the one asked for, or rgba if it has none
    stats: RenderStats | None = None  # each node's time, when the request asked to profile

    @property
    def shown_channels(self) -> tuple[str, ...]:
        """The channel names of the shown layer."""
        return dict(self.available).get(self.shown, MAIN_CHANNELS)

    def shown_pixels(self) -> np.ndarray | None:
        """The linear pixels of the shown layer, H x W x its channel count (None: none)."""
        if self.image is None:
            return None
        return self.image.layer(self.shown)


@dataclass
class ViewResult:
    """The answer to a :class:`ViewRequest`."""

    request: ViewRequest
    layers: list[Layer] = field(default_factory=list)
    errors: dict[str, str] | None = None  # None: not checked this time
    seconds: float = 0.0


def render_layer(request: ViewRequest, node: str, cancel) -> Layer:
    """Render ``node`` for ``request``: the visible part of its data window, in the
    image layer asked for (rgba if the node has no such layer), then the display
    transform at screen resolution. Raises render.Cancelled."""
    graph = request.graph
    layer = Layer(node)
    try:
        layer.format, layer.data_window = engine_viewer.image_info(graph, node, request.frame)
        layer.available = render.layers_of(graph, node, request.frame)
        if request.layer in dict(layer.available):
            layer.shown = request.layer
        region = layer.data_window
        if request.visible is not None:
            region = region.intersect(Window(*request.visible))
        if region.empty:
            return layer
        layer.stats = RenderStats() if request.profile else None
        image = render.render(
            graph,
            graph[node],
            frame=request.frame,
            backend=request.backend,
            region=scale_window(region, request.proxy).as_tuple(),
            cancel=cancel,
            proxy=request.proxy,
            layers=() if layer.shown == MAIN else [layer.shown],
            stats=layer.stats,
        )
        if cancel():
            raise render.Cancelled()
        layer.image = image
        ctx = render.context_for(graph, request.frame)
        pixels = engine_viewer.layer_as_rgba(image, layer.shown)
        reduced = engine_viewer.reduce(pixels, max(1, request.reduction // image.proxy))
        layer.display = engine_viewer.display_image(
            reduced, ctx.ocio_config, ctx.working_space, request.display, request.backend
        )
    except render.Cancelled:
        raise
    except RenderError as error:
        layer.error, layer.error_node = str(error), error.node
    except color.ColorError as error:
        layer.error = f"viewer: {error}"
    except Exception as error:  # noqa: BLE001 - a bug must not take the editor down
        traceback.print_exc()
        layer.error = f"{node}: {type(error).__name__}: {error}"
        layer.error_node = node
    return layer


class ViewerRenderer(QtCore.QThread):
    """The viewer's render thread.

    Signals
    -------
    rendered(ViewResult)
        Delivered on the UI thread.
    busy(bool)
        A render started (True) or the queue ran empty (False).
    """

    rendered = QtCore.Signal(object)
    busy = QtCore.Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._lock = threading.Condition()
        self._pending: ViewRequest | None = None
        self._current: ViewRequest | None = None
        self._stopping = False
        self._serial = 0
        self.cancelled = 0  # renders stopped because a newer request came

    def request(self, request: ViewRequest) -> int:
        """Queue ``request`` (replacing any queued one); returns its serial number."""
        with self._lock:
            self._serial += 1
            request.serial = self._serial
            self._pending = request
            self._lock.notify_all()
        if not self.isRunning():
            self.start()
        return request.serial

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing rendering."""
        with self._lock:
            return self._pending is None and self._current is None

    def stop(self) -> None:
        """Cancel what runs and end the thread (waits for it)."""
        with self._lock:
            self._stopping = True
            self._pending = None
            self._lock.notify_all()
        self.wait(10000)
        with self._lock:
            self._stopping = False  # a later request starts the thread again

    def _should_cancel(self, current: ViewRequest) -> bool:
        with self._lock:
            if self._stopping:
                return True
            newer = self._pending
            if newer is None:
                return False
            dragging = current.draft and newer.draft and current.node == newer.node
            if not dragging:
                self.cancelled += 1
                return True
            return False

    def run(self) -> None:
        while True:
            with self._lock:
                while self._pending is None and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    self._current = None
                    return
                current, self._pending = self._pending, None
                self._current = current
            self.busy.emit(True)
            result = self._work(current)
            with self._lock:
                self._current = None
                empty = self._pending is None
            if result is not None:
                self.rendered.emit(result)
            if empty:
                self.busy.emit(False)

    def _work(self, request: ViewRequest) -> ViewResult | None:
        start = time.perf_counter()

        def cancel() -> bool:
            return self._should_cancel(request)

        result = ViewResult(request)
        try:
            for node in (request.node, request.wipe_node):
                if node is not None and node in request.graph:
                    result.layers.append(render_layer(request, node, cancel))
            if request.check_errors and not cancel():
                result.errors = engine_viewer.node_errors(request.graph, request.frame)
        except render.Cancelled:
            return None
        except Exception:  # noqa: BLE001 - never let the thread die
            traceback.print_exc()
        result.seconds = time.perf_counter() - start
        return result
