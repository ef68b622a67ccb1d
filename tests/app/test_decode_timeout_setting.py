"""The editor gives the decoders the user's timeout setting (io/decode_timeout)."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from mattebox.app.window import DECODE_TIMEOUT_KEY, apply_decode_timeout
from mattebox.engine import io


@pytest.fixture
def timeout_restored(monkeypatch):
    monkeypatch.delenv("MATTEBOX_DECODE_TIMEOUT", raising=False)
    before = io.decode_timeout()
    yield
    io.set_decode_timeout(before)


def test_the_setting_sets_the_decoder_timeout(tmp_path, qapp, timeout_restored):
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    before = io.decode_timeout()
    apply_decode_timeout(settings)  # no setting: the default stays
    assert io.decode_timeout() == before
    settings.setValue(DECODE_TIMEOUT_KEY, "7.5")
    apply_decode_timeout(settings)
    assert io.decode_timeout() == 7.5
    settings.setValue(DECODE_TIMEOUT_KEY, "never")
    with pytest.warns(UserWarning, match="io/decode_timeout: expected seconds, got 'never'"):
        apply_decode_timeout(settings)
    assert io.decode_timeout() == 7.5


def test_the_window_applies_it(tmp_path, qtbot, monkeypatch, timeout_restored):
    monkeypatch.setenv("MATTEBOX_STATE_DIR", str(tmp_path / "state"))
    from mattebox.app.window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    settings.setValue(DECODE_TIMEOUT_KEY, 42)
    window = MainWindow(settings=settings, autosave_interval=0)
    qtbot.addWidget(window)
    assert io.decode_timeout() == 42.0
