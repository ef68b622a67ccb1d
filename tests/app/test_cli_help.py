"""``mattebox --version`` and ``mattebox --help`` (the editor's parser lists the commands)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mattebox
from mattebox.app import cli


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"mattebox {mattebox.__version__}"


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_every_command_on_one_line(capsys, flag):
    with pytest.raises(SystemExit) as stop:
        cli.main([flag])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert set(cli.COMMAND_HELP) == set(cli.COMMANDS) >= {"render", "nodes", "backends", "worker"}
    listed = [line.split() for line in out.splitlines() if line.startswith("  mattebox ")]
    assert [words[1] for words in listed] == list(cli.COMMANDS)
    for words in listed:
        assert " ".join(words[2:]) == cli.COMMAND_HELP[words[1]]
    assert "--version" in out and "--screenshot" in out
    assert "mattebox {" + ",".join(cli.COMMANDS) + "} ..." in out


def test_the_installed_command_answers_version():
    command = [sys.executable, "-m", "mattebox", "--version"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0
    assert done.stdout.strip() == f"mattebox {mattebox.__version__}"
    assert done.stderr == ""
