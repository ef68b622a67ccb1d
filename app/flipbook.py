"""The viewer's side of the RAM flipbook: which frame has which key, which are cached.

The frames themselves live in the render thread's
:class:`~mattebox.engine.flipbook.FrameCache` (display-ready pixels, keyed by what
determines them). :class:`Flipbook` follows the viewer's current view: each new view (an
edit, another node, display settings, zoom or pan) becomes an
:class:`~mattebox.app.render_worker.AheadJob` for the render thread, which finds every
frame's key and, while playback runs, renders the missing frames ahead of the playhead.
The keys it finds say which frames of the range the cache holds for this view: the
timeline's cache bar. Frames whose key an edit did not change stay cached.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6 import QtCore

from mattebox.app.render_worker import AheadJob, ViewerRenderer, ViewRequest, ViewResult


class Flipbook(QtCore.QObject):
    """Keys and cached frames of the viewer's current view, and the render thread's
    flipbook job.

    Signals
    -------
    changed()
        The set of cached frames may have changed (redraw the cache bar).
    """

    changed = QtCore.Signal()

    def __init__(self, renderer: ViewerRenderer, parent=None):
        super().__init__(parent)
        self.renderer = renderer
        self.cache = renderer.flipbook
        self.keys: dict[int, tuple] = {}
        self.direction = 0
        self.loop = True
        self._fresh = False  # keys are those of the current view
        self._serial = 0
        self._signature = None
        renderer.keyed.connect(self._on_keyed)
        renderer.cached.connect(self._on_cached)
        renderer.kept.connect(self._on_kept)

    # -- following the view ---------------------------------------------------------------

    def follow(self, request: ViewRequest, frames: tuple[int, ...], graph) -> None:
        """The viewer asked for ``request`` (not a draft) over the frame range ``frames``
        of ``graph``: a new view starts a new job; the same view moves the playhead."""
        signature = (
            id(graph),
            graph.revision,
            frames,
            request.node,
            request.wipe_node,
            request.visible,
            request.reduction,
            request.proxy,
            request.display,
            request.layer,
            request.backend,
        )
        playhead = round(request.frame)
        if signature == self._signature and self.renderer.job is not None:
            self.renderer.steer(playhead)
            return
        self._signature = signature
        self._fresh = False
        template = replace(request, check_errors=False, draft=False)
        job = AheadJob(template, frames, playhead, self.direction, self.loop)
        self._serial = self.renderer.set_job(job)

    def drop(self) -> None:
        """No view to cache (nothing shown, or a value being dragged): stop the job."""
        self._signature = None
        self._fresh = False
        self._serial = self.renderer.set_job(None)

    def steer(self, playhead: int, direction: int | None = None, loop: bool | None = None):
        """Playback is at ``playhead``, running ``direction`` (0: stopped), looping or not."""
        if direction is not None:
            self.direction = direction
        if loop is not None:
            self.loop = loop
        self.renderer.steer(playhead, direction, loop)

    # -- what is cached -------------------------------------------------------------------

    def key(self, frame: int) -> tuple | None:
        """The key of ``frame`` in the current view, once found."""
        return self.keys.get(frame) if self._fresh else None

    def ready(self, frame: int) -> bool:
        """Whether ``frame`` of the current view is in the cache."""
        key = self.key(frame)
        return key is not None and self.cache.contains(key)

    def frame(self, frame: int) -> ViewResult | None:
        """The cached display of ``frame`` in the current view (None: not cached)."""
        key = self.key(frame)
        return None if key is None else self.cache.get(key)

    def cached_frames(self) -> set[int]:
        """The frames of the range whose display is cached (the cache bar). Until the
        keys of a new view are found, those of the previous view."""
        return {frame for frame, key in self.keys.items() if self.cache.contains(key)}

    def set_budget(self, nbytes: int) -> None:
        """The cache's budget in bytes (a smaller one evicts at once)."""
        self.cache.budget = nbytes
        self.renderer.steer(None)  # room for more frames: render on
        self.changed.emit()

    def clear(self) -> None:
        """Empty the cache."""
        self.cache.clear()
        self.renderer.steer(None)
        self.changed.emit()

    # -- from the render thread -----------------------------------------------------------

    def _on_keyed(self, serial: int, found: dict) -> None:
        if serial != self._serial:
            return
        if not self._fresh:
            self.keys, self._fresh = {}, True
        self.keys.update(found)
        self.changed.emit()

    def _on_cached(self, serial: int, frame: int, key) -> None:
        if serial == self._serial:
            self.changed.emit()

    def _on_kept(self, frame: int, key) -> None:
        """A render of the viewer's was stored in the cache."""
        if self.key(frame) == key:
            self.changed.emit()
