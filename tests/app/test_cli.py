"""The command line as a user meets it: frame lists and their errors, Writes without a
frame number, frames outside the script's range, "did you mean" for mistyped names,
``mattebox nodes TYPE``, and the README's commands on the bundled example."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

import mattebox as mb
from mattebox.app import cli
from mattebox.engine import nodedocs, render
from mattebox.nodes import spec as specs
from mattebox.nodes import suggest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"


def _run(*args, cwd=None, timeout=120):
    """``mattebox ARGS`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "mattebox.app.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )


def _script(tmp_path, file="out.####.exr", frame_range=(1, 3)) -> Path:
    """A tiny script: Constant (8x6, colour per frame) -> Write ``file``."""
    g = mb.Graph()
    g.settings.frame_range = frame_range
    g.settings.format = mb.Format(8, 6)
    constant = g.add("Constant", color={"keys": [[0, 0.0], [10, 1.0]]})
    file = str(tmp_path / file)
    g.add("Write", inputs={"Source": constant}, file=file, colorspace="Raw", datatype="float")
    path = tmp_path / "comp.mbx"
    g.save(path)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", [7]),
        ("1-4", [1, 2, 3, 4]),
        ("1-10x3", [1, 4, 7, 10]),
        ("-3--1", [-3, -2, -1]),
        ("-2-1", [-2, -1, 0, 1]),
        (" 5 , 1-2 ,9x4", [5, 1, 2, 9]),
    ],
)
def test_frame_lists(text, expected):
    assert render.frames_from(text, mb.Graph()) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("abc", "'abc' is not a frame number"),
        ("1-5x0", "the step must be 1 or more, not 0"),
        ("1-5x-2", "the step must be 1 or more, not -2"),
        ("5-1", "the last frame 1 is before the first 5"),
        ("1-", "a frame number is missing"),
        ("1-5x", "a step (a whole number) is missing"),
        ("1.5", "'1.5' is not a frame number"),
        ("1,,3", "an empty entry between commas"),
        ("1,4-2", "'4-2': the last frame 2 is before the first 4"),
    ],
)
def test_bad_frame_lists_name_the_option_and_the_accepted_forms(tmp_path, text, problem):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["render", str(_script(tmp_path)), "-f", text, "-q"])
    message = str(stopped.value.code)
    assert message.startswith(f"error: -f/--frames {text!r}: {problem}; use 5, 1-10, 1-100x2")
    assert "1,3,7-9" in message and "\n" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comp.mbx"]  # nothing rendered
    with pytest.raises(ValueError, match=re.escape(problem)):  # the Python API says the same
        mb.load(tmp_path / "comp.mbx").execute(frames=text)


def test_bad_frame_list_from_a_shell_is_one_line_and_exit_1(tmp_path):
    result = _run("render", _script(tmp_path), "-f", "1-5x0")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: -f/--frames '1-5x0': the step must be 1 or more, not 0; use " + render.FRAME_FORMS
    ]


def test_a_write_without_a_frame_number_refuses_several_frames(tmp_path, capsys):
    script = _script(tmp_path, file="still.exr")
    assert cli.main(["render", str(script), "-q"]) == 1  # the script's range: 3 frames
    err = capsys.readouterr().err.strip().splitlines()
    still = str(tmp_path / "still.exr")
    assert err == [
        f"error: Write1: file {still!r} has no frame number (#### or %04d), so 3 frames would "
        + "overwrite one file: add #### to the name or render one frame"
    ]
    assert not (tmp_path / "still.exr").exists()
    with pytest.raises(mb.RenderError, match="no frame number"):
        mb.load(script).execute(frames="1-2")
    assert cli.main(["render", str(script), "-f", "2", "-q"]) == 0  # one frame is fine
    assert cli.main(["render", str(script), "-f", "2,2", "-q"]) == 0  # the same frame twice
    pixels = oiio.ImageBuf(str(tmp_path / "still.exr")).get_pixels(oiio.FLOAT)
    np.testing.assert_allclose(pixels[..., :3], 0.2, rtol=1e-6)  # the key at frame 2


def test_frames_outside_the_script_range_warn_and_render(tmp_path, capsys):
    script = _script(tmp_path, frame_range=(2, 5))
    assert cli.main(["render", str(script), "-f", "0-8x2,3,11", "-q"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["warning: frames 0,6-8x2,11 are outside the script's frame range 2-5"]
    written = sorted(p.name for p in tmp_path.glob("out.*.exr"))
    assert written == [f"out.{f:04d}.exr" for f in (0, 2, 3, 4, 6, 8, 11)]
    assert cli.main(["render", str(script), "-f", "2-5", "-q"]) == 0
    assert capsys.readouterr().err == ""  # inside the range: no warning


def test_a_mistyped_write_name_gets_the_closest_writes(tmp_path):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["render", str(_script(tmp_path)), "-w", "Wirte1", "-q"])
    assert str(stopped.value.code) == (
        "error: -w/--write: no Write node named 'Wirte1' (did you mean 'Write1'?)"
    )
    with pytest.raises(SystemExit) as stopped:
        cli.main(["render", str(_script(tmp_path)), "-w", "Constant1", "-q"])
    assert str(stopped.value.code) == (
        "error: -w/--write: Constant1 is not a Write node (Writes: Write1)"
    )


@pytest.mark.parametrize(
    ("name", "choices", "expected"),
    [
        ("Grde", ["Grade", "Gamma", "Blur", "Grid"], ["Grade", "Grid"]),
        ("grade", ["Grade", "Gamma"], ["Grade"]),
        ("rec709", ["sRGB Encoded Rec.709 (sRGB)", "ACEScg", "ACES2065-1"], ["sRGB Encoded Rec.709 (sRGB)"]),
        ("ACEScgg", ["ACEScg", "ACEScct", "ACES2065-1", "Linear P3-D65"], ["ACEScg", "ACEScct"]),
        ("zzz", ["Grade", "Blur"], []),
        ("", ["Grade"], []),
    ],
)  # fmt: skip
def test_close_names(name, choices, expected):
    assert suggest.close_names(name, choices) == expected


def test_did_you_mean_for_types_parameters_and_colour_spaces(tmp_path):
    g = mb.Graph()
    with pytest.raises(mb.GraphError, match=r"unknown node type 'Grde' \(did you mean 'Grade'"):
        g.add("Grde")
    with pytest.raises(mb.GraphError, match=r"Grade1\.gian: .* \(did you mean 'gain'\?\)$"):
        g.add("Grade", gian=1.2)
    path = tmp_path / "typo.mbx"
    path.write_text(
        '{"mattebox": {"format": 2}, "nodes": {"G": {"type": "Grade", "version": 1, '
        '"params": {"multipy": 2}, "inputs": {}}}}'
    )
    with pytest.raises(mb.ScriptError, match=r"G\.multipy: .* \(did you mean 'multiply'"):
        mb.load(path)
    # a node type the script names but no Mattebox installs: a placeholder that says
    path.write_text(
        '{"mattebox": {"format": 2}, "nodes": {"B": {"type": "Blurr", "version": 1, '
        '"params": {}, "inputs": {}}}}'
    )
    with pytest.warns(mb.ScriptWarning, match=r"'Blurr' \(did you mean 'Blur'\?\)"):
        graph = mb.load(path)
    with pytest.raises(mb.RenderError, match=r"^B: node type 'Blurr' is not installed \(did"):
        graph.render("B")
    # a colour space: the close names, not the config's first six
    g = mb.Graph()
    g.settings.format = mb.Format(4, 4)
    c = g.add("Constant")
    ocio = g.add("OCIOColorSpace", inputs={"Source": c}, in_colorspace="ACEScgg")
    with pytest.raises(mb.RenderError) as failed:
        g.render(ocio)
    assert "unknown colour space 'ACEScgg' (did you mean 'ACEScg'" in str(failed.value)
    assert "Display" not in str(failed.value)


def test_nodes_type_prints_every_parameter_with_default_range_and_doc(capsys):
    assert cli.main(["nodes", "grade"]) == 0  # case ignored
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Grade: color, point, version 1"
    assert lines[1] == "inputs: Source, Mask (optional)"
    grade = specs.get("Grade")
    rows = {line.split()[0]: line for line in lines if line and line.split()[0] in
            grade.param_names()}  # fmt: skip
    assert tuple(rows) == tuple(grade.param_names())
    gamma = grade.param("gamma")
    assert rows["gamma"].split()[1] == "rgba"
    assert "(1, 1, 1, 1)" in rows["gamma"] and rows["gamma"].endswith(gamma.doc)
    # range and limits as docs/nodes.md gives them
    assert f"  {nodedocs._range(gamma)}  " in rows["gamma"]
    assert f"  {nodedocs._limits(gamma)}  " in rows["gamma"]
    assert gamma.min is not None and f"{gamma.min:g} .. " in nodedocs._limits(gamma)
    assert "none / alpha" in rows["unpremult"]
    with pytest.raises(SystemExit) as stopped:
        cli.main(["nodes", "Grde"])
    assert str(stopped.value.code).startswith("error: unknown node type 'Grde' (did you mean")


def _readme_commands() -> list[list[str]]:
    """The ``mattebox render`` lines of the README's command-line block."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## Command line", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [line.split("#", 1)[0].split() for line in block.splitlines()]
    return [line[1:] for line in lines if line[:2] == ["mattebox", "render"]]


def test_the_readmes_render_commands_work_on_the_bundled_example(tmp_path):
    """Each README render line, run as written (Dask aside: that needs workers) on a copy
    of the example, renders every frame of the range it names."""
    example = tmp_path / "resources" / "examples"
    example.mkdir(parents=True)
    for name in ["comp.mbx", "background.exr", *(p.name for p in EXAMPLES.glob("plate.*.exr"))]:
        shutil.copy(EXAMPLES / name, example / name)
    graph = mb.load(example / "comp.mbx")
    first, last = graph.settings.frame_range
    plates = sorted(int(p.name.split(".")[1]) for p in example.glob("plate.*.exr"))
    assert plates == list(range(first, last + 1))  # the script's range is the plate's
    commands = _readme_commands()
    assert len(commands) >= 2
    for args in commands:
        if "--dask" in args:
            continue
        result = _run(*args, "-q", cwd=tmp_path, timeout=300)
        assert result.returncode == 0, (args, result.stderr)
        assert "warning" not in result.stderr, (args, result.stderr)
    for frame in range(first, last + 1):
        assert (example / "render" / f"comp_aces.{frame:04d}.exr").is_file()
