"""Every error a script or a user can cause is one line naming the node or key (issue
12, item 3): non-finite numbers, numbers past 32 bits, wrong types in settings, NUL
characters, JSON nested thousands deep; on the command line, that line alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mattebox as mb
from mattebox.engine import script

HEAD = '{"mattebox": {"format": 2}, '


def _node(entry: str) -> str:
    return HEAD + '"nodes": {"N1": ' + entry + "}}"


BAD_SCRIPTS = [
    (
        HEAD + '"settings": {"format": {"width": Infinity, "height": 10}}}',
        "settings.format.width: expected a whole number, got inf",
    ),
    (
        HEAD + '"settings": {"format": {"width": 10.5, "height": 10}}}',
        "settings.format.width: expected a whole number, got 10.5",
    ),
    (
        HEAD + '"settings": {"format": "HD"}}',
        "settings.format: expected an object with width and height",
    ),
    (
        HEAD + '"settings": {"frame_range": [1, Infinity]}}',
        "settings.frame_range: expected a whole number, got inf",
    ),
    (
        HEAD + '"settings": {"frame_range": [NaN, 3]}}',
        "settings.frame_range: expected a whole number, got nan",
    ),
    (
        HEAD + '"settings": {"frame_range": [5, 1]}}',
        "settings.frame_range: the last frame (1) is before the first (5)",
    ),
    (
        HEAD + '"settings": {"frame_range": 7}}',
        "settings.frame_range: expected [first, last], got 7",
    ),
    (
        HEAD + '"settings": {"frame_range": [1, 4294967296]}}',
        "settings.frame_range: 4294967296 is outside",
    ),
    (HEAD + '"settings": {"fps": Infinity}}', "settings.fps: expected a positive number, got inf"),
    (HEAD + '"settings": {"fps": true}}', "settings.fps: expected a positive number, got True"),
    (HEAD + '"settings": {"ocio": "studio"}}', "settings.ocio: expected an object, got 'studio'"),
    (HEAD + '"settings": {"ocio": {"config": 5}}}', "settings.ocio.config: expected text, got 5"),
    (
        HEAD + '"settings": {"ocio": {"working_space": ["ACEScg"]}}}',
        "settings.ocio.working_space: expected text, got ['ACEScg']",
    ),
    (
        HEAD + '"settings": {"ocio": {"config": "ocio://x\\u0000y"}}}',
        "settings.ocio.config: contains a NUL character",
    ),
    (
        _node('{"type": "Read", "params": {"file": "plate\\u0000.exr"}}'),
        "N1.file: contains a NUL character",
    ),
    (
        _node('{"type": "Constant", "params": {"width": Infinity}}'),
        "N1.width: expected a finite number, got inf",
    ),
    (
        _node('{"type": "Constant", "params": {"width": 4294967296}}'),
        "N1.width: 4294967296 is beyond the limit of ±2147483647",
    ),
    (
        _node('{"type": "Constant", "params": {"width": 1e400}}'),
        "N1.width: expected a finite number, got inf",
    ),
    (
        _node('{"type": "Grade", "params": {"gain": 1e39}}'),
        "N1.gain: 1e+39 is beyond the limit of ±3.40282e+38",
    ),
    (
        _node('{"type": "TimeOffset", "params": {"offset": -9999999999}}'),
        "N1.offset: -9999999999 is beyond the limit",
    ),
    (
        _node('{"type": "Grade", "params": {"gain": {"keys": [[Infinity, 1]]}}}'),
        "N1.gain: key 1: frame: expected a finite number",
    ),
    (
        _node('{"type": "Grade", "params": {"gain": {"keys": [[1e300, 1]]}}}'),
        "N1.gain: key 1: frame: 1e+300 is beyond the limit",
    ),
    (_node('{"type": "Grade", "version": 1e300}'), "N1.version: expected a whole number"),
    (
        _node('{"type": "Grade", "inputs": {"Source": ["x"]}}'),
        "N1.inputs.Source: no node named ['x']",
    ),
    (
        _node('{"type": "Grade", "inputs": {"Sauce": "N1"}}'),
        "N1.inputs.Sauce: Grade has no input 'Sauce'",
    ),
    ("[" * 100000 + "]" * 100000, "not a script (values nested deeper than 100 levels)"),
    (HEAD + '"ui": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}", "ui.a.a.a.a"),
    (
        _node('{"type": "Grade", "params": {"gain": ' + "[" * 120 + "]" * 120 + "}}"),
        "nodes.N1.params.gain",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_SCRIPTS)
def test_bad_values_in_scripts_are_one_line_naming_the_key(text, message):
    with pytest.raises(mb.ScriptError) as caught:
        script.loads(text, "bad.mbx")
    line = str(caught.value)
    assert "\n" not in line and len(line) < 300, line
    assert line.startswith("bad.mbx: ") and message in line, line


def test_a_nul_in_a_file_name_typed_in_python_is_refused():
    g = mb.Graph()
    read = g.add("Read")
    with pytest.raises(mb.GraphError, match=r"Read1\.file: contains a NUL character"):
        read["file"] = "plate\x00.exr"
    assert read["file"] == ""


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "mattebox.app.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [BAD_SCRIPTS[0], BAD_SCRIPTS[12], BAD_SCRIPTS[14], BAD_SCRIPTS[16], BAD_SCRIPTS[25]],
)
def test_the_command_line_prints_only_our_line(tmp_path, text, message):
    path = tmp_path / "bad.mbx"
    path.write_text(text)
    result = _cli("render", path, "-q", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert list(tmp_path.iterdir()) == [path]


def test_a_bug_is_one_line_asking_for_a_report_and_debug_shows_it(monkeypatch, capsys):
    from mattebox.app import cli

    def broken(argv):
        raise KeyError("frame")

    monkeypatch.setitem(cli._COMMANDS, "nodes", broken)
    assert cli.main(["nodes"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: KeyError: 'frame' (a bug in Mattebox: please report")
    assert "--debug" in err
    with pytest.raises(KeyError):
        cli.main(["nodes", "--debug"])
    monkeypatch.setitem(cli._COMMANDS, "nodes", lambda argv: script.loads("[", "x.mbx"))
    assert cli.main(["nodes"]) == 1
    expected = "error: x.mbx: not valid JSON (line 1, column 2: Expecting value)\n"
    assert capsys.readouterr().err == expected


def test_library_chatter_does_not_reach_stderr(tmp_path):
    """A PNG whose compressed data is damaged makes libpng print 'libpng error: ...' in
    the decoder; only our line reaches the command line's stderr."""
    import numpy as np
    import OpenImageIO as oiio

    path = tmp_path / "plate.png"
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), oiio.ImageSpec(16, 8, 4, oiio.UINT8))
    out.write_image(np.random.default_rng(1).integers(0, 255, (8, 16, 4), dtype=np.uint8))
    out.close()
    data = bytearray(path.read_bytes())
    data[data.find(b"IDAT") + 10] ^= 0xFF
    path.write_bytes(bytes(data))
    g = mb.Graph()
    read = g.add("Read", file=str(path))
    g.add("Write", inputs={"Source": read}, file=str(tmp_path / "out.exr"))
    g.save(tmp_path / "comp.mbx")
    result = _cli("render", "comp.mbx", "-q", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: Read1: {path}: ")
    assert "libpng" not in result.stderr
