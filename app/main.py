"""Starting the editor: ``mattebox [SCRIPT] [--screenshot OUT.png] [--size WxH]``."""

from __future__ import annotations

import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

SCREENSHOT_TIMEOUT_S = 180.0


def application() -> QtWidgets.QApplication:
    """The QApplication, created once, with Mattebox's dark style."""
    from mattebox.app import qt_compat

    qt_compat.guard_singletons()
    app = QtWidgets.QApplication.instance()
    if app is None:
        QtCore.QCoreApplication.setOrganizationName("Mattebox")
        QtCore.QCoreApplication.setApplicationName("Mattebox")
        app = QtWidgets.QApplication(sys.argv[:1])
        apply_style(app)
        app.aboutToQuit.connect(release_clipboard)
    return app


def apply_style(app: QtWidgets.QApplication) -> None:
    """Fusion with a dark palette and ``style.qss``."""
    app.setStyle("Fusion")
    palette = QtGui.QPalette()
    roles = QtGui.QPalette.ColorRole
    for role, rgb in (
        (roles.Window, (50, 50, 50)),
        (roles.WindowText, (220, 220, 220)),
        (roles.Base, (36, 36, 36)),
        (roles.AlternateBase, (44, 44, 44)),
        (roles.Text, (220, 220, 220)),
        (roles.Button, (58, 58, 58)),
        (roles.ButtonText, (220, 220, 220)),
        (roles.Highlight, (214, 140, 40)),
        (roles.HighlightedText, (20, 20, 20)),
        (roles.ToolTipBase, (30, 30, 30)),
        (roles.ToolTipText, (230, 230, 230)),
        (roles.PlaceholderText, (120, 120, 120)),
    ):
        palette.setColor(role, QtGui.QColor(*rgb))
    app.setPalette(palette)
    style = resources.files("mattebox.app").joinpath("style.qss")
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))


def release_clipboard() -> None:
    """Empty a clipboard we filled, on the offscreen platform only: there Qt crashes at exit
    while it still holds our data (measured with PySide6 6.11 and 6.12). Desktop platforms
    keep the copied nodes for other programs."""
    app = QtWidgets.QApplication.instance()
    if app is not None and app.platformName() == "offscreen":
        clipboard = app.clipboard()
        if clipboard.ownsClipboard() or clipboard.mimeData() is not None:
            clipboard.clear()


def parse_size(text: str) -> tuple[int, int]:
    """``"1600x1000"`` -> (1600, 1000)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size: expected WIDTHxHEIGHT, got {text!r}") from None
    if width < 200 or height < 150:
        raise ValueError(f"--size: {text} is too small")
    return width, height


def wait_until_idle(window, timeout_s: float = SCREENSHOT_TIMEOUT_S, settle_s: float = 0.3) -> bool:
    """Run the event loop until the viewer has rendered and stayed idle for ``settle_s``."""
    app = QtWidgets.QApplication.instance()
    deadline = time.monotonic() + timeout_s
    idle_since = None
    while time.monotonic() < deadline:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if window.viewer.is_idle():
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= settle_s:
                return True
        else:
            idle_since = None
        time.sleep(0.01)
    return False


def take_screenshot(window, path: str) -> None:
    """Save a PNG of the whole window."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")


def run_editor(
    script: str | None = None, screenshot: str | None = None, size: str = "1600x1000"
) -> int:
    """Open the editor (on ``script``); with ``screenshot``, save a PNG of the window once
    the viewer has finished rendering, and exit. Returns the exit status."""
    app = application()
    from mattebox.app.window import MainWindow

    settings = None
    if screenshot:  # a screenshot leaves the user's recent files and autosaves alone
        path = Path(tempfile.gettempdir()) / "mattebox-screenshot.ini"
        settings = QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, autosave_interval=0 if screenshot else None)
    if script:
        if not window.open_script(script, offer_recovery=not screenshot) and screenshot:
            return 1
    elif not screenshot:
        window.recover_untitled()
    if screenshot:
        width, height = parse_size(size)
        window.resize(width, height)
        window.show()
        ready = wait_until_idle(window)
        take_screenshot(window, screenshot)
        window.doc.undo_stack.setClean()
        window.close()
        release_clipboard()
        if not ready:
            print(
                f"warning: the viewer was still rendering after {SCREENSHOT_TIMEOUT_S:.0f} s",
                file=sys.stderr,
            )
        return 0
    window.show()
    return app.exec()
