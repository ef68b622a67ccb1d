"""Rendering for the viewer, off the UI thread.

One :class:`ViewerRenderer` (a QThread) takes :class:`ViewRequest` records and sends back
:class:`ViewResult` records. A new request cancels the render in progress through the
engine's ``cancel`` callable (except while a value is being dragged: then the render in
progress finishes, so the viewer keeps following, and the newest request runs next).
Errors never leave the thread as exceptions: they come back as text in the result.

The main layer ``rgba`` is the fast default: the engine is asked for it alone
(``layers=()``). Another layer is asked for by name (``layers=[name]``) and shown through
the same display step, its channels as R, G, B (:func:`mattebox.engine.viewer.layer_as_rgba`).
The layers a node has are found here too (``engine.viewer.info_of``, in the evaluation
that gives its format and data window), so the viewer's layer menu follows the graph
without probing files on the UI thread.

Besides the viewer's requests the thread works for the flipbook (the RAM cache of
display-ready frames, :mod:`mattebox.engine.flipbook`), at a lower priority: an
:class:`AheadJob` names the view and the frame range. The thread first finds every
frame's key (cheap: nothing is computed), then, while playback runs, renders the frames
missing from the cache in playing order from the playhead, as many as the budget holds,
and has the decoder processes read the next frames' files meanwhile. A request from the
viewer interrupts that work at once (the frame in progress is cancelled and redone
later); a new job, or :meth:`ViewerRenderer.stop`, cancels it. Finished renders of the
viewer's own requests go into the flipbook too.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6 import QtCore

from mattebox.engine import color, flipbook, render
from mattebox.engine import viewer as engine_viewer
from mattebox.engine.graph import Graph
from mattebox.engine.image import Image
from mattebox.engine.plan import RenderError
from mattebox.engine.stats import RenderStats
from mattebox.nodes.channels import MAIN, MAIN_CHANNELS
from mattebox.nodes.spec import Format, Window

#: How many of the frames after the one rendered ahead have their files read meanwhile.
PREFETCH_FRAMES = 2


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
    drawn: tuple[int, int, int, int] | None = None  # where `display` goes, in full-size
    # image pixels, for a flipbook frame that keeps no linear image
    stats: RenderStats | None = None  # each node's time, when the request asked to profile

    @property
    def shown_channels(self) -> tuple[str, ...]:
        """The channel names of the shown layer."""
        return dict(self.available).get(self.shown, MAIN_CHANNELS)

    def drawn_box(self) -> tuple[int, int, int, int] | None:
        """The box of full-size image pixels that ``display`` covers (None: nothing)."""
        if self.image is not None:
            return tuple(v * self.image.proxy for v in self.image.data_window)
        return self.drawn if self.display is not None else None

    def shown_value(self, x: int, y: int) -> tuple[float, ...] | None:
        """The linear values of the shown layer's channels at ``(x, y)`` relative to the
        image's data window (None: unknown; a GPU render's pixel is read from the device
        alone, and is unknown while the device is busy rendering)."""
        if self.image is None:
            return None
        if self.shown == MAIN:
            values = self.image.pixel(x, y)
            return None if values is None else tuple(float(v) for v in values)
        return tuple(float(v) for v in self.image.layer(self.shown)[y, x])

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
    key: tuple | None = None  # its flipbook key, where it was stored there

    @property
    def display_bytes(self) -> int:
        """The bytes of its display pixels (what the flipbook keeps)."""
        return sum(layer.display.nbytes for layer in self.layers if layer.display is not None)

    def for_flipbook(self) -> ViewResult:
        """A copy that keeps the display pixels and drops the linear images and the graph
        (a flipbook frame: drawn as it is, probed for positions only)."""
        layers = [replace(layer, image=None, drawn=layer.drawn_box()) for layer in self.layers]
        return ViewResult(
            replace(self.request, graph=None), layers, seconds=self.seconds, key=self.key
        )


def key_of(request: ViewRequest, frame: float | None = None) -> tuple:
    """The flipbook key of what ``request`` shows (at ``frame``, else its own)."""
    return flipbook.frame_key(
        request.graph,
        request.node,
        request.frame if frame is None else frame,
        display=request.display,
        proxy=request.proxy,
        reduction=request.reduction,
        visible=request.visible,
        layer=request.layer,
        wipe_node=request.wipe_node,
    )


@dataclass
class AheadJob:
    """The flipbook's work for one view: find the keys of ``frames``, and while
    ``direction`` is not 0 (playing forward 1 or backward -1), render the frames the
    cache lacks from ``playhead`` on, in that order (wrapping round when ``loop``).

    ``template`` is the viewer's request for the view (its frame is replaced).
    ``keys`` fills in on the render thread.
    """

    template: ViewRequest
    frames: tuple[int, ...]
    playhead: int
    direction: int = 0
    loop: bool = True
    serial: int = 0
    keys: dict[int, tuple] = field(default_factory=dict)
    frame_bytes: int = 0  # the size of the last frame stored (how many fit the budget)

    def order(self, budget: int) -> list[int]:
        """The frames to have cached, in playing order from the one after the playhead
        (the playhead's own last, when looping), as many as ``budget`` bytes hold (all
        of them before the size of a frame is known; at least the next one)."""
        if self.direction == 0 or not self.frames:
            return []
        frames = self.frames if self.direction > 0 else self.frames[::-1]
        start = frames.index(self.playhead) + 1 if self.playhead in frames else 0
        ahead = list(frames[start:]) + (list(frames[:start]) if self.loop else [])
        if self.frame_bytes:
            ahead = ahead[: max(1, budget // self.frame_bytes)]
        return ahead


def render_layer(request: ViewRequest, node: str, cancel) -> Layer:
    """Render ``node`` for ``request``: the visible part of its data window, in the
    image layer asked for (rgba if the node has no such layer), then the display
    transform at screen resolution. Raises render.Cancelled."""
    graph = request.graph
    layer = Layer(node)
    try:
        info = engine_viewer.info_of(graph, node, request.frame)  # one evaluation for all
        layer.format, layer.data_window = info.format, info.data_window
        layer.available = info.layers
        if request.layer in dict(layer.available):
            layer.shown = request.layer
        region = layer.data_window
        if request.visible is not None:
            region = region.intersect(Window(*request.visible))
        if region.empty:
            return layer
        layer.stats = RenderStats() if request.profile else None
        # on the GPU the float pixels stay on the device: only the display's 8 bits come back
        layer.image, layer.display = engine_viewer.render_for_display(
            graph,
            node,
            request.frame,
            region,
            request.display,
            reduction=request.reduction,
            proxy=request.proxy,
            backend=request.backend,
            cancel=cancel,
            layer=layer.shown,
            stats=layer.stats,
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
    keyed = QtCore.Signal(int, object)  # job serial, {frame: key} found
    cached = QtCore.Signal(int, int, object)  # job serial, frame, key: a frame rendered ahead
    kept = QtCore.Signal(int, object)  # frame, key: a render of the viewer's kept in the flipbook

    def __init__(self, parent=None, frames: flipbook.FrameCache | None = None):
        super().__init__(parent)
        self._lock = threading.Condition()
        self._pending: ViewRequest | None = None
        self._current: ViewRequest | None = None
        self._job: AheadJob | None = None
        self._stopping = False
        self._serial = 0
        self._job_serial = 0
        self.flipbook = frames if frames is not None else flipbook.FrameCache()
        self.cancelled = 0  # renders stopped because a newer request came
        self.ahead_rendered = 0  # frames rendered ahead into the flipbook
        self.ahead_cancelled = 0  # renders ahead stopped for a request, a new job, or stop
        self._ahead_running = False

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

    def set_job(self, job: AheadJob | None) -> int:
        """Work on ``job`` for the flipbook from now on (None: no flipbook work); the
        render ahead in progress for an earlier job is cancelled. Returns its serial."""
        with self._lock:
            self._job_serial += 1
            if job is not None:
                job.serial = self._job_serial
            self._job = job
            self._lock.notify_all()
        if job is not None and not self.isRunning():
            self.start()
        return self._job_serial

    def steer(
        self, playhead: int | None, direction: int | None = None, loop: bool | None = None
    ) -> None:
        """Playback is at ``playhead`` now (None: where it was), runs ``direction`` (0:
        stopped) and loops or not: the job renders ahead from there, that way."""
        with self._lock:
            job = self._job
            if job is None:
                return
            if playhead is not None:
                job.playhead = playhead
            if direction is not None:
                job.direction = direction
            if loop is not None:
                job.loop = loop
            self._lock.notify_all()

    @property
    def job(self) -> AheadJob | None:
        return self._job

    @property
    def idle(self) -> bool:
        """No request of the viewer queued or rendering (flipbook work aside)."""
        with self._lock:
            return self._pending is None and self._current is None

    @property
    def ahead_idle(self) -> bool:
        """The flipbook job has nothing left to do (keys found, frames rendered)."""
        with self._lock:
            return self._ahead_step() is None and not self._ahead_running

    def stop(self) -> None:
        """Cancel what runs, drop the flipbook job, and end the thread (waits for it)."""
        with self._lock:
            self._stopping = True
            self._pending = None
            self._job = None
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
                step = current = None
                while self._pending is None and not self._stopping:
                    step = self._ahead_step()
                    if step is not None:
                        break
                    self._lock.wait()
                if self._stopping:
                    self._current = None
                    return
                if self._pending is not None:
                    current, self._pending = self._pending, None
                    self._current = current
                else:
                    self._ahead_running = True
            if current is None:
                try:
                    self._ahead(*step)
                finally:
                    with self._lock:
                        self._ahead_running = False
                continue
            self.busy.emit(True)
            result = self._work(current)
            with self._lock:
                self._current = None
                empty = self._pending is None
            if result is not None:
                self.rendered.emit(result)
            if empty:
                self.busy.emit(False)
            if result is not None and not current.draft:
                self._keep(result)  # after it is on its way: a key costs a graph evaluation

    # -- the flipbook ---------------------------------------------------------------------

    def _ahead_step(self) -> tuple | None:
        """What the flipbook job wants next: ``(job, None)`` to find keys, ``(job,
        frame)`` to render one, None for nothing. Called with the lock held."""
        job = self._job
        if job is None:
            return None
        if len(job.keys) < len(job.frames):
            return job, None
        for frame in job.order(self.flipbook.budget):
            if not self.flipbook.contains(job.keys[frame]):
                return job, frame
        return None

    def _ahead_cancel(self, job: AheadJob):
        def cancel() -> bool:
            with self._lock:
                stop = self._stopping or self._pending is not None or self._job is not job
            if stop:
                self.ahead_cancelled += 1
            return stop

        return cancel

    def _ahead(self, job: AheadJob, frame: int | None) -> None:
        cancel = self._ahead_cancel(job)
        if frame is None:
            self._find_keys(job, cancel)
            return
        order = job.order(self.flipbook.budget)
        after = order[order.index(frame) + 1 :] if frame in order else []
        missing = [f for f in after if not self.flipbook.contains(job.keys[f])]
        for later in missing[:PREFETCH_FRAMES]:  # the decoders read them meanwhile
            render.prefetch_reads(job.template.graph, job.template.node, later, job.template.proxy)
        request = replace(job.template, frame=float(frame), check_errors=False, draft=False)
        result = self._work(request, cancel)
        if result is None:
            return
        result.key = job.keys[frame]
        entry = result.for_flipbook()
        self.flipbook.put(result.key, entry, max(1, entry.display_bytes))
        job.frame_bytes = max(1, entry.display_bytes)
        self.ahead_rendered += 1
        self.cached.emit(job.serial, frame, result.key)

    def _find_keys(self, job: AheadJob, cancel) -> None:
        found = {}
        for frame in job.frames:
            if frame in job.keys:
                continue
            if cancel():
                break
            try:
                found[frame] = key_of(job.template, frame)
            except Exception:  # noqa: BLE001 - never let the thread die
                traceback.print_exc()
                found[frame] = ("unkeyed", frame, job.serial)
            job.keys[frame] = found[frame]
        if found:
            self.keyed.emit(job.serial, found)

    def _keep(self, result: ViewResult) -> None:
        """Put the display pixels of a finished render of the viewer into the flipbook."""
        if not result.layers or result.request.node is None:
            return
        try:
            result.key = key_of(result.request)
        except Exception:  # noqa: BLE001 - the flipbook is a convenience
            traceback.print_exc()
            return
        entry = result.for_flipbook()
        self.flipbook.put(result.key, entry, max(1, entry.display_bytes))
        self.kept.emit(round(result.request.frame), result.key)

    def _work(self, request: ViewRequest, cancel=None) -> ViewResult | None:
        start = time.perf_counter()

        if cancel is None:

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
