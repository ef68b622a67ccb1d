"""Scripts: round trips, atomic saves, placeholders, upgrades and one-line errors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

import mattebox as mb
from mattebox.engine import script

FIXTURES = Path(__file__).parent / "fixtures"


def _comp() -> mb.Graph:
    g = mb.Graph()
    g.settings.frame_range = (1, 24)
    c = g.add("Constant", color=[0.2, 0.3, 0.4, 1.0])
    grade = g.add("Grade", inputs={"Source": c}, gain=[1.2, 1.1, 1.0, 1.0])
    grade["multiply"] = {"keys": [[1, 1.0], [24, 2.0]], "interpolation": "linear"}
    g.add("Merge", inputs={"B": c, "A": grade}, operation="screen")
    g.ui["nodes"] = {"Grade1": {"pos": [10, 20]}}
    return g


def test_round_trip_keeps_everything(tmp_path):
    g = _comp()
    path = tmp_path / "comp.mbx"
    g.save(path)
    text = path.read_text()
    loaded = mb.load(path)
    assert script.dumps(script.to_dict(loaded)) == text
    assert loaded["Grade1"]["gain"] == (1.2, 1.1, 1.0, 1.0)
    assert loaded["Grade1"].value_at("multiply", 12.5)[0] == pytest.approx(1.5)
    assert loaded["Merge1"].input("A").name == "Grade1"
    assert loaded.settings.frame_range == (1, 24)
    assert loaded.ui["nodes"]["Grade1"]["pos"] == [10, 20]


def test_only_non_default_values_are_written_sorted_and_indented(tmp_path):
    g = _comp()
    data = script.to_dict(g)
    assert data["nodes"]["Grade1"]["params"].keys() == {"gain", "multiply"}
    text = script.dumps(data)
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert data["settings"]["ocio"]["config"].startswith("ocio://studio-config-v")


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "comp.mbx"
    _comp().save(path)
    before = path.read_text()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(script.os, "fsync", broken)
    with pytest.raises(OSError):
        _comp().save(path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["comp.mbx"]


def _load_text(tmp_path, data) -> mb.Graph:
    path = tmp_path / "bad.mbx"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return mb.load(path)


def _base(nodes) -> dict:
    return {"mattebox": {"format": 1}, "settings": {}, "nodes": nodes}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"mattebox": {"format": 1}, "nodes": {', "not valid JSON (line 1"),
        ({"nodes": {}}, "mattebox.format: missing"),
        ({"mattebox": {"format": 99}, "nodes": {}}, "version 99 is newer"),
        (
            _base({"Grade1": {"type": "Grade", "params": {"gain": "abc"}}}),
            "Grade1.gain: expected 4 numbers, got 'abc'",
        ),
        (
            _base({"Grade1": {"type": "Grade", "params": {"gian": 1}}}),
            "Grade1.gian: Grade has no such parameter",
        ),
        (
            _base({"Grade1": {"type": "Grade", "inputs": {"Source": "Read9"}}}),
            "Grade1.inputs.Source: no node named 'Read9'",
        ),
        (_base({"Grade1": {"type": "Grade", "inputs": {"Src": "Grade1"}}}), "Grade1.inputs.Src"),
        (
            _base(
                {
                    "A": {"type": "Grade", "inputs": {"Source": "B"}},
                    "B": {"type": "Grade", "inputs": {"Source": "A"}},
                }
            ),
            "cycle",
        ),
        (_base({"Blur1": {"type": "Blur", "params": {"size": -3}}}), "Blur1.size: -3 is below"),
        (
            _base({"Merge1": {"type": "Merge", "params": {"operation": "overr"}}}),
            "Merge1.operation: expected one of over",
        ),
    ],
)
def test_bad_scripts_raise_one_line_naming_node_and_key(tmp_path, data, message):
    with pytest.raises(mb.ScriptError) as caught:
        _load_text(tmp_path, data)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert "bad.mbx" in text


def test_unknown_type_is_a_warning_and_a_placeholder_that_round_trips(tmp_path):
    entry = {
        "type": "FancyGlow",
        "version": 3,
        "params": {"glow": [1, 2], "x": "y"},
        "inputs": {"Source": "Grade1"},
    }
    data = _base({"Grade1": {"type": "Grade", "version": 1}, "Glow1": entry})
    with pytest.warns(mb.ScriptWarning, match="Glow1.*FancyGlow"):
        g = _load_text(tmp_path, data)
    assert g["Glow1"].is_placeholder
    out = tmp_path / "again.mbx"
    g.save(out)
    assert json.loads(out.read_text())["nodes"]["Glow1"] == entry
    with pytest.raises(mb.RenderError, match="Glow1: node type 'FancyGlow' is not installed"):
        g.render("Glow1")


def test_crop_v1_script_is_upgraded():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = mb.load(FIXTURES / "crop_v1.mbx")
    crop = g["Crop1"]
    assert crop.version == mb.Graph().add("Crop").version == 2
    assert crop["box"] == (10.0, 20.0, 110.0, 70.0)
    assert script.to_dict(g)["nodes"]["Crop1"]["version"] == 2


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ([2.0, 2.0, "%d%d%s", 14.0], r"Crop1\.box: expected a number, got '%d%d%s'"),
        ([None, 0, 4, 4], r"Crop1\.box: "),
        ("wide", r"Crop1\.box: "),
    ],
)
def test_a_bad_value_in_an_old_script_is_reported_not_upgraded(tmp_path, box, message):
    """An upgrade sees the script's values before they are checked (found by the fuzzer:
    a version 1 Crop with a string in its box was a TypeError inside the upgrade)."""
    data = _base({"Crop1": {"type": "Crop", "version": 1, "params": {"box": box}}})
    with pytest.raises(mb.ScriptError, match=message) as caught:
        _load_text(tmp_path, data)
    assert "\n" not in str(caught.value)


def test_an_upgrade_that_fails_is_one_line_naming_the_node(tmp_path, monkeypatch):
    from mattebox.nodes.transform.crop import Crop

    def broken(values, from_version):
        raise KeyError("x0")

    monkeypatch.setattr(Crop, "upgrade", broken)
    data = _base({"Crop1": {"type": "Crop", "version": 1, "params": {"box": [0, 0, 4, 4]}}})
    with pytest.raises(mb.ScriptError, match=r"Crop1\.params: cannot be upgraded from Crop v1 "):
        _load_text(tmp_path, data)


def test_loading_runs_nothing_from_the_script(tmp_path):
    data = _base({"Read1": {"type": "Read", "params": {"file": "__import__('os').system('x')"}}})
    g = _load_text(tmp_path, data)
    assert g["Read1"]["file"] == "__import__('os').system('x')"


def test_relative_paths_keep_naming_the_same_files_when_saved_elsewhere(tmp_path, monkeypatch):
    (tmp_path / "plates").mkdir()
    monkeypatch.chdir(tmp_path)
    g = mb.Graph()
    read = g.add("Read", file="plates/a.####.exr")
    absolute = g.add("Read", file="/data/b.exr")
    g.save(tmp_path / "comps" / "shot.mbx")  # never saved: paths were relative to the cwd
    assert read["file"] == "../plates/a.####.exr"
    assert absolute["file"] == "/data/b.exr"
    g.save(tmp_path / "comps" / "v2" / "shot.mbx")
    assert (
        mb.load(tmp_path / "comps" / "v2" / "shot.mbx")["Read1"]["file"]
        == "../../plates/a.####.exr"
    )
    g.save(tmp_path / "comps" / "v2" / "again.mbx")  # same folder: unchanged
    assert read["file"] == "../../plates/a.####.exr"


def test_paths_become_absolute_when_the_folders_share_only_the_root(tmp_path, monkeypatch):
    from mattebox.engine.script import rebase_file_paths

    g = mb.Graph()
    read = g.add("Read", file="plates/a.exr")
    rebase_file_paths(g, "/work/show", "/tmp/comps")
    assert read["file"] == "/work/show/plates/a.exr"
