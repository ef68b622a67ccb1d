"""Keyboard focus follows the mouse between the editor's panels, as in Nuke."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


def take_focus_on_hover(widget: QtWidgets.QWidget) -> None:
    """Focus follows the mouse between the graph and the viewer (as in Nuke), unless the
    artist is typing in a field."""
    focused = QtWidgets.QApplication.focusWidget()
    typing = isinstance(focused, (QtWidgets.QLineEdit, QtWidgets.QAbstractSpinBox))
    if widget.isActiveWindow() and not typing:
        widget.setFocus(QtCore.Qt.FocusReason.MouseFocusReason)
