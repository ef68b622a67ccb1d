"""The viewer's drawing surface: rendered layers, outlines, A/B wipe, probe, errors; zoom
and pan. It only draws what the render thread delivered (8-bit display pixels from the
engine); it computes no pixel."""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

from mattebox.nodes.spec import Format

ZOOM_MIN, ZOOM_MAX = 1 / 64, 64.0


class Canvas(QtWidgets.QWidget):
    """Draws the rendered layers, outlines, wipe, probe and errors; handles zoom and pan.

    Image coordinates have the origin at the top-left, y down (as the engine's).
    """

    view_changed = QtCore.Signal()
    hovered = QtCore.Signal(object)  # (x, y) image pixel or None
    probe_pinned = QtCore.Signal(object)  # (x, y) or None
    wipe_moved = QtCore.Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("ViewerCanvas")
        self.setMouseTracking(True)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(200, 150)
        self.zoom = 1.0
        self.center = QtCore.QPointF(0, 0)
        self.pixel_aspect = 1.0
        self.format: Format | None = None
        self.layers = []  # render_worker.Layer, A first
        self.images: list[QtGui.QImage | None] = []
        self.reduction = 1
        self.wipe = False
        self.wipe_x = 0.5  # fraction of the width
        self.labels: tuple[str, str] = ("", "")
        self.message = ""
        self.busy = False
        self.probe: tuple[int, int] | None = None
        self.probe_text = ""
        self.auto_fit = True  # refit on resize until the artist zooms or pans
        self.overlay = None  # draws over the image and may take presses (roto_overlay)
        self._drag: str | None = None
        self._last = QtCore.QPointF()

    # -- geometry -------------------------------------------------------------------------

    def to_widget(self, x: float, y: float) -> QtCore.QPointF:
        return QtCore.QPointF(
            (x - self.center.x()) * self.zoom * self.pixel_aspect + self.width() / 2,
            (y - self.center.y()) * self.zoom + self.height() / 2,
        )

    def to_image(self, point: QtCore.QPointF) -> tuple[float, float]:
        return (
            (point.x() - self.width() / 2) / (self.zoom * self.pixel_aspect) + self.center.x(),
            (point.y() - self.height() / 2) / self.zoom + self.center.y(),
        )

    def visible_region(self) -> tuple[int, int, int, int]:
        """The image pixels on screen (with a one pixel margin)."""
        x0, y0 = self.to_image(QtCore.QPointF(0, 0))
        x1, y1 = self.to_image(QtCore.QPointF(self.width(), self.height()))
        return (math.floor(x0) - 1, math.floor(y0) - 1, math.ceil(x1) + 1, math.ceil(y1) + 1)

    def fit(self) -> None:
        """Show the whole format (with room for its size label below)."""
        if self.format is None:
            return
        width = self.format.width * self.pixel_aspect
        self.zoom = max(
            ZOOM_MIN,
            min(
                (self.width() - 24) / max(width, 1),
                (self.height() - 48) / max(self.format.height, 1),
            ),
        )
        self.center = QtCore.QPointF(self.format.width / 2, self.format.height / 2 + 6 / self.zoom)
        self.auto_fit = True
        self.update()
        self.view_changed.emit()

    def one_to_one(self) -> None:
        """One image pixel per screen pixel, about the centre."""
        self.zoom = 1.0
        self.auto_fit = False
        self.update()
        self.view_changed.emit()

    def zoom_by(self, factor: float, anchor: QtCore.QPointF | None = None) -> None:
        anchor = (
            anchor if anchor is not None else QtCore.QPointF(self.width() / 2, self.height() / 2)
        )
        before = self.to_image(anchor)
        self.zoom = max(ZOOM_MIN, min(ZOOM_MAX, self.zoom * factor))
        after = self.to_image(anchor)
        self.center += QtCore.QPointF(before[0] - after[0], before[1] - after[1])
        self.auto_fit = False
        self.update()
        self.view_changed.emit()

    def set_format(self, fmt: Format | None) -> None:
        changed = fmt != self.format
        self.format = fmt
        self.pixel_aspect = fmt.pixel_aspect if fmt else 1.0
        if fmt is not None and changed and self.auto_fit:
            self.fit()

    # -- content --------------------------------------------------------------------------

    def set_layers(self, layers, reduction: int) -> None:
        self.layers = list(layers)
        self.reduction = reduction
        self.images = []
        for layer in self.layers:
            if layer.display is None:
                self.images.append(None)
                continue
            # the QImage shares the array's memory (the 8-bit pixels the render thread
            # made, on the GPU path downloaded straight into it): no copy; self.layers
            # keeps the array alive as long as the QImage is drawn
            array = layer.display
            height, width = array.shape[:2]
            image = QtGui.QImage(
                array.data, width, height, width * 4, QtGui.QImage.Format.Format_RGBA8888
            )
            self.images.append(image)
        self.update()

    # -- painting -------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtGui.QColor(30, 30, 30))
        smooth = self.zoom * self.reduction < 1.0
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, smooth)
        for index, (layer, image) in enumerate(zip(self.layers, self.images)):
            box = layer.drawn_box()  # full-size pixels (a flipbook frame keeps no image)
            if image is None or box is None:
                continue
            x0, y0, x1, y1 = box
            top_left, bottom_right = self.to_widget(x0, y0), self.to_widget(x1, y1)
            target = QtCore.QRectF(top_left, bottom_right)
            painter.save()
            if self.wipe and len(self.layers) > 1:
                split = self.wipe_x * self.width()
                clip = (
                    QtCore.QRectF(0, 0, split, self.height())
                    if index == 0
                    else QtCore.QRectF(split, 0, self.width() - split, self.height())
                )
                painter.setClipRect(clip)
            elif index > 0:
                painter.restore()
                continue
            painter.drawImage(target, image, QtCore.QRectF(image.rect()))
            painter.restore()
        self._paint_outlines(painter)
        if self.overlay is not None:
            self.overlay.paint(painter)
        if self.wipe and len(self.layers) > 1:
            self._paint_wipe(painter)
        self._paint_probe(painter)
        self._paint_messages(painter)
        painter.end()

    def _paint_outlines(self, painter: QtGui.QPainter) -> None:
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        if self.format is not None:
            rect = QtCore.QRectF(
                self.to_widget(0, 0), self.to_widget(self.format.width, self.format.height)
            )
            painter.setPen(QtGui.QPen(QtGui.QColor(110, 110, 110), 1))
            painter.drawRect(rect)
            painter.setPen(QtGui.QColor(140, 140, 140))
            painter.drawText(
                rect.bottomRight() + QtCore.QPointF(-70, 14),
                f"{self.format.width}x{self.format.height}",
            )
        layer = self.layers[0] if self.layers else None
        if layer is not None and layer.data_window is not None and not layer.data_window.empty:
            window = layer.data_window
            if self.format is None or window.as_tuple() != (
                0,
                0,
                self.format.width,
                self.format.height,
            ):
                pen = QtGui.QPen(QtGui.QColor(200, 200, 120), 1, QtCore.Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.drawRect(
                    QtCore.QRectF(
                        self.to_widget(window.x0, window.y0), self.to_widget(window.x1, window.y1)
                    )
                )

    def _paint_wipe(self, painter: QtGui.QPainter) -> None:
        x = self.wipe_x * self.width()
        painter.setPen(QtGui.QPen(QtGui.QColor(240, 240, 240), 1.5))
        painter.drawLine(QtCore.QPointF(x, 0), QtCore.QPointF(x, self.height()))
        painter.setBrush(QtGui.QColor(240, 240, 240))
        painter.drawEllipse(QtCore.QPointF(x, self.height() / 2), 6, 6)
        painter.setPen(QtGui.QColor(230, 230, 230))
        a, b = self.labels
        painter.drawText(
            QtCore.QRectF(x - 210, 6, 200, 18), QtCore.Qt.AlignmentFlag.AlignRight, f"A  {a}"
        )
        painter.drawText(
            QtCore.QRectF(x + 10, 6, 200, 18), QtCore.Qt.AlignmentFlag.AlignLeft, f"B  {b}"
        )

    def _paint_probe(self, painter: QtGui.QPainter) -> None:
        if self.probe is None:
            return
        x, y = self.probe
        center = self.to_widget(x + 0.5, y + 0.5)
        painter.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255), 1))
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            painter.drawLine(
                center + QtCore.QPointF(4 * dx, 4 * dy), center + QtCore.QPointF(12 * dx, 12 * dy)
            )
        painter.setPen(QtGui.QPen(QtGui.QColor(0, 0, 0), 1))
        painter.drawRect(QtCore.QRectF(center.x() - 2.5, center.y() - 2.5, 5, 5))
        if self.probe_text:
            metrics = painter.fontMetrics()
            lines = self.probe_text.split("\n")
            width = max(metrics.horizontalAdvance(line) for line in lines) + 12
            height = metrics.height() * len(lines) + 8
            box = QtCore.QRectF(center.x() + 14, center.y() + 10, width, height)
            if box.right() > self.width():
                box.moveRight(center.x() - 14)
            if box.bottom() > self.height():
                box.moveBottom(center.y() - 10)
            painter.setPen(QtCore.Qt.PenStyle.NoPen)
            painter.setBrush(QtGui.QColor(0, 0, 0, 190))
            painter.drawRoundedRect(box, 4, 4)
            painter.setPen(QtGui.QColor(235, 235, 235))
            painter.drawText(
                box.adjusted(6, 4, -6, -4), QtCore.Qt.AlignmentFlag.AlignLeft, self.probe_text
            )

    def _paint_messages(self, painter: QtGui.QPainter) -> None:
        if self.labels[0] and not (self.wipe and len(self.layers) > 1):
            painter.setPen(QtGui.QColor(200, 200, 200))
            painter.drawText(QtCore.QPointF(8, 16), self.labels[0])
        if self.message:
            font = QtGui.QFont(painter.font())
            font.setPointSizeF(font.pointSizeF() * 1.15)
            painter.setFont(font)
            metrics = painter.fontMetrics()
            rect = metrics.boundingRect(
                QtCore.QRect(0, 0, self.width() - 60, 400),
                int(QtCore.Qt.TextFlag.TextWordWrap),
                self.message,
            )
            box = QtCore.QRectF(0, 0, rect.width() + 24, rect.height() + 16)
            box.moveCenter(QtCore.QPointF(self.width() / 2, self.height() / 2))
            painter.setPen(QtCore.Qt.PenStyle.NoPen)
            painter.setBrush(QtGui.QColor(60, 16, 16, 220))
            painter.drawRoundedRect(box, 5, 5)
            painter.setPen(QtGui.QColor(255, 150, 150))
            painter.drawText(
                box.adjusted(12, 8, -12, -8),
                int(QtCore.Qt.TextFlag.TextWordWrap | QtCore.Qt.AlignmentFlag.AlignCenter),
                self.message,
            )
        if self.busy:
            painter.setPen(QtGui.QColor(200, 200, 120))
            painter.drawText(QtCore.QPointF(8, self.height() - 8), "rendering...")

    # -- mouse and keys -------------------------------------------------------------------

    def _near_wipe(self, pos: QtCore.QPointF) -> bool:
        return self.wipe and len(self.layers) > 1 and abs(pos.x() - self.wipe_x * self.width()) < 8

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        pos = event.position()
        self._last = pos
        buttons, mods = event.button(), event.modifiers()
        if buttons == QtCore.Qt.MouseButton.MiddleButton or (
            buttons == QtCore.Qt.MouseButton.LeftButton
            and mods & QtCore.Qt.KeyboardModifier.AltModifier
        ):
            self._drag = "pan"
        elif self.overlay is not None and self.overlay.press(event):
            self._drag = "overlay"
        elif buttons == QtCore.Qt.MouseButton.LeftButton and self._near_wipe(pos):
            self._drag = "wipe"
        elif (
            buttons == QtCore.Qt.MouseButton.LeftButton
            and mods & QtCore.Qt.KeyboardModifier.ControlModifier
        ):
            x, y = self.to_image(pos)
            self.probe_pinned.emit((math.floor(x), math.floor(y)))
            self._drag = "probe"
        elif buttons == QtCore.Qt.MouseButton.LeftButton:
            self.probe_pinned.emit(None)
        event.accept()

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        pos = event.position()
        if self._drag == "pan":
            delta = pos - self._last
            self.center -= QtCore.QPointF(
                delta.x() / (self.zoom * self.pixel_aspect), delta.y() / self.zoom
            )
            self.auto_fit = False
            self.update()
            self.view_changed.emit()
        elif self._drag == "overlay":
            self.overlay.move(event)
        elif self._drag == "wipe":
            self.wipe_x = max(0.0, min(1.0, pos.x() / max(1, self.width())))
            self.update()
        elif self._drag == "probe":
            x, y = self.to_image(pos)
            self.probe_pinned.emit((math.floor(x), math.floor(y)))
        self._last = pos
        x, y = self.to_image(pos)
        self.hovered.emit((math.floor(x), math.floor(y)))
        self.setCursor(
            QtCore.Qt.CursorShape.SplitHCursor
            if self._near_wipe(pos)
            else QtCore.Qt.CursorShape.CrossCursor
        )

    def mouseReleaseEvent(self, event) -> None:
        if self._drag == "wipe":
            self.wipe_moved.emit(self.wipe_x)
        elif self._drag == "overlay":
            self.overlay.release(event)
        self._drag = None

    def leaveEvent(self, event) -> None:
        self.hovered.emit(None)

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(1.25**steps, event.position())

    def resizeEvent(self, event) -> None:
        if self.auto_fit and self.format is not None:
            self.fit()
        else:
            self.view_changed.emit()
        super().resizeEvent(event)
