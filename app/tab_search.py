"""The Tab menu of the node editor: type a few letters of a node type, press Enter.

A small popup (not a modal menu: the event loop keeps running) with a text field over a
list of node types, filtered as you type: names starting with the text first, then names
containing it, then names holding its letters in order ("gra" finds Grade, "mrg" Merge).
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets


def rank(text: str, names: list[str]) -> list[str]:
    """``names`` that match ``text``, best first (prefix, substring, letters in order)."""
    text = text.strip().lower()
    if not text:
        return sorted(names, key=str.lower)
    scored = []
    for name in names:
        lowered = name.lower()
        if lowered.startswith(text):
            scored.append((0, len(name), lowered, name))
        elif text in lowered:
            scored.append((1, lowered.index(text), lowered, name))
        elif _in_order(text, lowered):
            scored.append((2, len(name), lowered, name))
    return [name for *_, name in sorted(scored)]


def _in_order(text: str, name: str) -> bool:
    position = 0
    for letter in text:
        position = name.find(letter, position)
        if position < 0:
            return False
        position += 1
    return True


class TabSearch(QtWidgets.QFrame):
    """The popup. ``chosen(name)`` is emitted when a type is picked; it then hides."""

    chosen = QtCore.Signal(str)

    def __init__(self, names: list[str], docs: dict[str, str] | None = None, parent=None):
        super().__init__(parent, QtCore.Qt.WindowType.Popup)
        self.setObjectName("TabSearch")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.names = list(names)
        self.docs = docs or {}
        self.field = QtWidgets.QLineEdit(self)
        self.field.setPlaceholderText("node type...")
        self.list = QtWidgets.QListWidget(self)
        self.list.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.list.itemActivated.connect(lambda item: self._choose(item.text()))
        self.list.itemClicked.connect(lambda item: self._choose(item.text()))
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.field)
        layout.addWidget(self.list)
        self.resize(240, 300)
        self.field.textChanged.connect(self._filter)
        self.field.installEventFilter(self)
        self._filter("")

    def set_names(self, names: list[str], docs: dict[str, str] | None = None) -> None:
        """Offer these types from now on (gizmos come and go on the search path)."""
        self.names = list(names)
        if docs is not None:
            self.docs = dict(docs)
        self._filter(self.field.text())

    def popup(self, global_pos: QtCore.QPoint) -> None:
        """Show at ``global_pos`` with an empty field."""
        self.field.clear()
        self._filter("")
        self.move(global_pos - QtCore.QPoint(20, 12))
        self.show()
        self.raise_()
        self.activateWindow()
        self.field.setFocus()

    def _filter(self, text: str) -> None:
        self.list.clear()
        for name in rank(text, self.names):
            item = QtWidgets.QListWidgetItem(name)
            item.setToolTip(self.docs.get(name, ""))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _choose(self, name: str) -> None:
        self.hide()
        self.chosen.emit(name)

    def eventFilter(self, watched, event) -> bool:
        if watched is getattr(self, "field", None) and event.type() == QtCore.QEvent.Type.KeyPress:
            key = event.key()
            if key in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._choose(item.text())
                else:
                    self.hide()
                return True
            if key == QtCore.Qt.Key.Key_Escape:
                self.hide()
                return True
            if key in (QtCore.Qt.Key.Key_Down, QtCore.Qt.Key.Key_Up, QtCore.Qt.Key.Key_Tab):
                step = -1 if key == QtCore.Qt.Key.Key_Up else 1
                row = (self.list.currentRow() + step) % max(1, self.list.count())
                self.list.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() == QtCore.Qt.Key.Key_Escape:
            self.hide()
            return
        super().keyPressEvent(event)
