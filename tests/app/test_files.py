"""Files: save and open through the menus, the title's modified mark, quitting with unsaved
changes, autosave into rolling backups and recovery after a crash."""

from __future__ import annotations

import json
import os

import pytest

import mattebox as mb
from mattebox.app import autosave
from mattebox.engine import script
from tests.app.conftest import small_graph, state, wait_render


def test_save_and_open_round_trip_through_the_menus(window, qtbot, tmp_path):
    path = tmp_path / "comp.mbx"
    window.choose_save_path = lambda: str(path)
    window.choose_open_path = lambda: str(path)
    graph = window.doc.graph
    window.properties.show_node("Grade1")
    window.properties.rows["gain"].editor.fields[0].setValue(1.25)
    window.viewer.set_display("sRGB - Display", "Un-tone-mapped")
    assert window.isWindowModified()
    assert window.windowTitle().startswith("Untitled[*]")
    window.actions["save"].trigger()  # no file yet: Save As
    assert path.exists() and not window.isWindowModified()
    assert window.windowTitle().startswith("comp.mbx[*]")
    saved = state(graph)
    on_disk = json.loads(path.read_text())
    assert on_disk["nodes"]["Grade1"]["params"]["gain"] == [1.25, 1.0, 1.0, 1.0]
    assert on_disk["ui"]["nodes"]["Grade1"]["pos"] == [0, 70]
    assert on_disk["ui"]["viewer"]["view"] == "Un-tone-mapped"

    window.actions["new"].trigger()
    assert len(window.doc.graph) == 0 and window.doc.path is None
    window.actions["open"].trigger()
    assert state(window.doc.graph) == saved
    assert window.doc.path == str(path)
    assert window.viewer.view_box.currentText() == "Un-tone-mapped"
    assert str(path) in window.recent_files()
    assert window.editor.view_of("Grade1") is not None
    wait_render(qtbot, window)


def test_save_is_atomic_and_revert_reloads(window, tmp_path):
    path = tmp_path / "comp.mbx"
    window.choose_save_path = lambda: str(path)
    window.actions["save_as"].trigger()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".comp.mbx")] == []
    window.doc.graph["Grade1"]["mix"] = 0.3
    window.editor.create_node("Blur", (100, 100), connect_selection=False)
    window.actions["revert"].trigger()
    assert "Blur1" not in window.doc.graph and window.doc.graph["Grade1"]["mix"] == 1.0
    assert not window.isWindowModified()


def test_quitting_with_unsaved_changes_asks(window, tmp_path):
    asked = []
    window.ask_save_changes = lambda: asked.append(True) or "cancel"
    window.editor.create_node("Blur", (100, 100), connect_selection=False)
    assert not window.close()
    assert asked and window.isVisible()
    path = tmp_path / "quit.mbx"
    window.choose_save_path = lambda: str(path)
    window.ask_save_changes = lambda: "save"
    assert window.close()
    assert "Blur1" in mb.load(path)


def test_autosave_writes_rolling_backups_beside_the_script(window, tmp_path):
    path = tmp_path / "comp.mbx"
    window.choose_save_path = lambda: str(path)
    window.actions["save"].trigger()
    saver = window.autosaver
    assert saver.autosave() is None  # nothing changed since the save
    names = []
    for mix in (0.9, 0.8, 0.7, 0.6):
        window.doc.graph["Grade1"]["mix"] = mix
        names.append(saver.autosave().name)
    assert names == [
        "comp.mbx.autosave1",
        "comp.mbx.autosave2",
        "comp.mbx.autosave3",
        "comp.mbx.autosave1",
    ]
    newest = autosave.recoverable(path)
    assert newest is not None and mb.load(newest)["Grade1"]["mix"] == 0.6
    window.actions["save"].trigger()  # a save removes the backups
    assert autosave.backups(path) == []


def test_autosave_timer_interval_is_configurable(window, monkeypatch):
    monkeypatch.setenv("MATTEBOX_AUTOSAVE_SECONDS", "5")
    assert autosave.interval_from(None) == 5.0
    window.autosaver.set_interval(0.05)
    assert window.autosaver.timer.isActive() and window.autosaver.timer.interval() == 50
    window.autosaver.set_interval(0)
    assert not window.autosaver.timer.isActive()


def test_recovery_after_a_crash_offers_the_newer_autosave(window, tmp_path):
    path = tmp_path / "comp.mbx"
    graph = small_graph()
    script.save(graph, path)
    graph["Grade1"]["gain"] = 3.0
    backup = tmp_path / "comp.mbx.autosave2"
    script.write_atomic(backup, script.dumps(script.to_dict(graph)))
    os.utime(backup, (path.stat().st_mtime + 5, path.stat().st_mtime + 5))
    offered = []
    window.ask_recover = lambda found: offered.append(found) or True
    assert window.open_script(str(path))
    assert offered == [backup]
    assert window.doc.graph["Grade1"]["gain"] == (3.0, 3.0, 3.0, 3.0)
    assert window.doc.path == str(path) and window.isWindowModified()
    assert mb.load(path)["Grade1"]["gain"] == (1.0, 1.0, 1.0, 1.0)  # the script is untouched


def test_untitled_autosave_of_a_dead_editor_is_offered(window, tmp_path, monkeypatch):
    folder = tmp_path / "state"
    folder.mkdir(exist_ok=True)
    dead_pid = 2**22 + 12345
    backup = folder / f"untitled-{dead_pid}.mbx.autosave1"
    script.write_atomic(backup, script.dumps(script.to_dict(small_graph())))
    window.ask_recover = lambda found: True
    window.doc.set_graph(mb.Graph())
    assert window.recover_untitled()
    assert "Grade1" in window.doc.graph and window.doc.path is None
    assert not backup.exists()


def test_a_bad_script_is_one_message(window, tmp_path):
    bad = tmp_path / "bad.mbx"
    bad.write_text(
        '{"mattebox": {"format": 1}, "nodes": {"G": {"type": "Grade", "params": {"gain": "x"}}}}'
    )
    before = state(window.doc.graph)
    assert not window.open_script(str(bad))
    assert len(window.recorder.errors) == 1 and "G.gain" in window.recorder.errors[0][1]
    assert state(window.doc.graph) == before


def test_the_autosave_timer_writes_a_backup(window, qtbot, tmp_path):
    path = tmp_path / "timed.mbx"
    window.choose_save_path = lambda: str(path)
    window.actions["save"].trigger()
    window.doc.graph["Grade1"]["mix"] = 0.4
    with qtbot.waitSignal(window.autosaver.saved, timeout=5000) as blocker:
        window.autosaver.set_interval(0.05)
    assert blocker.args[0].endswith("timed.mbx.autosave1")
    window.autosaver.set_interval(0)


def test_script_settings_dialog_edits_a_copy(window):
    from mattebox.app.settings_dialog import SettingsDialog

    settings = window.doc.graph.settings
    dialog = SettingsDialog(settings, window)
    dialog.last.setValue(48)
    dialog.width_box.setValue(128)
    edited = dialog.result_settings()
    assert edited.frame_range == (1, 48) and edited.format.width == 128
    assert settings.frame_range == (1, 10)  # untouched until the command runs
    from mattebox.app import undo

    window.doc.push(undo.SetSettings(window.doc, settings, edited))
    assert window.frame_bar.slider.maximum() == 48
    window.doc.undo_stack.undo()
    assert window.frame_bar.slider.maximum() == 10


def test_autosave_replaces_the_oldest_backup_and_a_failed_one_keeps_them(
    window, tmp_path, monkeypatch
):
    path = tmp_path / "comp.mbx"
    window.choose_save_path = lambda: str(path)
    window.actions["save"].trigger()
    saver = window.autosaver
    for mix in (0.9, 0.8, 0.7):
        window.doc.graph["Grade1"]["mix"] = mix
        saver.autosave()
    slots = {i: path.with_name(f"comp.mbx.autosave{i}") for i in (1, 2, 3)}
    now = slots[1].stat().st_mtime
    for slot, age in ((1, 30), (2, 90), (3, 10)):  # slot 2 is the oldest, 3 the newest
        os.utime(slots[slot], (now - age, now - age))
    window.doc.graph["Grade1"]["mix"] = 0.6
    assert saver.autosave() == slots[2]
    before = {slot: p.read_bytes() for slot, p in slots.items()}

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(script.os, "fsync", full)
    window.doc.graph["Grade1"]["mix"] = 0.5
    messages = []
    window.doc.message.connect(messages.append)
    assert saver.autosave() is None
    assert messages and "No space left on device" in messages[-1]
    assert {slot: p.read_bytes() for slot, p in slots.items()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert mb.load(autosave.recoverable(path))["Grade1"]["mix"] == 0.6


def test_recovery_passes_over_a_damaged_backup(tmp_path):
    path = tmp_path / "comp.mbx"
    script.save(small_graph(), path)
    graph = small_graph()
    graph["Grade1"]["gain"] = 2.0
    good = tmp_path / "comp.mbx.autosave1"
    script.write_atomic(good, script.dumps(script.to_dict(graph)))
    damaged = tmp_path / "comp.mbx.autosave2"
    damaged.write_text(good.read_text()[:40])  # cut short, newer than the good one
    saved = path.stat().st_mtime
    os.utime(good, (saved + 5, saved + 5))
    os.utime(damaged, (saved + 9, saved + 9))
    assert autosave.recoverable(path) == good
    os.utime(good, (saved - 5, saved - 5))  # the only readable backup is older: nothing
    assert autosave.recoverable(path) is None


def test_open_recent_lists_scripts_newest_first_and_opens_them(window, qtbot, tmp_path):
    menu = window.recent_menu
    menu.aboutToShow.emit()
    assert [a.text() for a in menu.actions()] == ["(none)"]
    assert not menu.actions()[0].isEnabled()
    paths = []
    for index in range(3):
        graph = small_graph()
        graph["Grade1"]["mix"] = 0.1 * (index + 1)
        path = tmp_path / f"shot{index}.mbx"
        graph.save(path)
        assert window.open_script(str(path))
        paths.append(str(path))
    assert window.open_script(paths[0])  # opened again: back to the top, listed once
    menu.aboutToShow.emit()
    assert [a.text() for a in menu.actions()] == [paths[0], paths[2], paths[1]]
    menu.actions()[2].trigger()  # shot1
    assert window.doc.path == paths[1]
    assert window.doc.graph["Grade1"]["mix"] == pytest.approx(0.2)
    assert window.recent_files()[0] == paths[1]
    # kept in the settings, so a new window lists them too
    assert window.settings.value("recent")[:3] == [paths[1], paths[0], paths[2]]
    for index in range(3, 14):  # at most RECENT_LIMIT entries
        path = tmp_path / f"shot{index}.mbx"
        small_graph().save(path)
        window.open_script(str(path))
    assert len(window.recent_files()) == 10
    wait_render(qtbot, window)
