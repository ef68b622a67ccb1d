"""Library chatter on writes (issue 12): what libpng, libjpeg, libtiff or OpenImageIO
print on file descriptor 2 while the main process writes a file never reaches the user's
stderr; a failed write says one line, ours. ``MATTEBOX_IO_VERBOSE=1`` lets it through.

A library that prints as it fails is stood in for by replacing ``ImageOutput``'s write
call with one that writes to descriptor 2 (as libpng's default error handler does) and
fails; a write into a file size limit and a type OpenImageIO has no writer for are real."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import numpy as np
import OpenImageIO as oiio
import pytest

import mattebox as mb
from mattebox.engine import io as mio
from mattebox.engine.io import chatter

LIBRARY_LINE = b"libpng error: Write Error (a library talking)\n"

# Renders the script in argv[1] through the command line, with ImageOutput's write calls
# printing the line given in hex as the last argument to descriptor 2 and failing when
# argv[2] is "talk", and under a file size limit of argv[3] bytes when given.
_RENDER = r"""
import os, resource, signal, sys
import OpenImageIO as oiio
from mattebox.app import cli
LINE = bytes.fromhex(sys.argv[-1])
if sys.argv[2] == "talk":
    def talking(self, *args, **kwargs):
        os.write(2, LINE)
        return False
    oiio.ImageOutput.write_image = talking
    oiio.ImageOutput.write_scanlines = talking
if len(sys.argv) > 4:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]),) * 2)
sys.exit(cli.main(["render", sys.argv[1], "-q"]))
"""


def _script(folder, name: str, **write) -> str:
    g = mb.Graph()
    g.settings.format = mb.Format(48, 32)
    g.settings.frame_range = (1, 1)
    noise = g.add("Noise")
    g.add("Write", name="Out", inputs={"Source": noise}, file=str(folder / name), **write)
    path = folder / f"{name}.mbx"
    g.save(path)
    return str(path)


def _render(script, mode, *limit, verbose=False):
    env = {k: v for k, v in os.environ.items() if k != chatter.VERBOSE_ENV}
    if verbose:
        env[chatter.VERBOSE_ENV] = "1"
    return subprocess.run(
        [sys.executable, "-c", _RENDER, script, mode, *map(str, limit), LIBRARY_LINE.hex()],
        capture_output=True,
        timeout=120,
        check=False,
        env=env,
    )


@pytest.mark.parametrize("name", ["out.png", "out.jpg"])
def test_a_failing_write_prints_only_our_line(tmp_path, name):
    script = _script(tmp_path, name, datatype="uint8")
    result = _render(script, "talk")
    assert result.returncode == 1
    target = tmp_path / name
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: Out: {target}: "), result.stderr
    assert sorted(os.listdir(tmp_path)) == [f"{name}.mbx"]  # no file, no temporary
    # the stand-in does print: with MATTEBOX_IO_VERBOSE=1 its line comes through
    loud = _render(script, "talk", verbose=True)
    assert loud.returncode == 1 and LIBRARY_LINE in loud.stderr
    assert loud.stderr.decode().splitlines()[-1] == lines[0]


def test_a_png_written_past_the_file_size_limit_says_one_line(tmp_path):
    script = _script(tmp_path, "out.png", datatype="uint16")
    result = _render(script, "quiet", 2000)
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"error: Out: {tmp_path / 'out.png'}: the png writer stopped after 2000 bytes "
        "(disk full or file size limit?)\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["out.png.mbx"]


def test_no_pending_openimageio_error_is_printed_at_exit(tmp_path):
    # OpenImageIO prints an error nobody took when the process ends ("exited with a
    # pending error message..."): a type it has no writer for leaves one.
    code = (
        "import numpy as np, sys\n"
        "from mattebox.engine import io as mio\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        mio.write_image(name, np.ones((2, 2, 4), np.float32), (0, 0, 2, 2), (2, 2))\n"
        "    except mio.ImageIOError as error:\n"
        "        print(error)\n"
    )
    names = [str(tmp_path / "a.xyz"), str(tmp_path / "a.png") + "\0.x"]
    result = subprocess.run(
        [sys.executable, "-c", code, names[0]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stderr == ""
    assert result.stdout == f"{names[0]}: cannot write files of type .xyz " + (
        "(Mattebox writes dpx, exr, jpg, png, tif)\n"
    )
    with pytest.raises(mio.ImageIOError, match=r"a\.png\\0\.x: contains a NUL character"):
        mio.write_image(names[1], np.ones((2, 2, 4), np.float32), (0, 0, 2, 2), (2, 2))
    assert os.listdir(tmp_path) == []


def test_captured_keeps_descriptor_2_off_the_terminal_and_logs_it(capfd, caplog, monkeypatch):
    monkeypatch.delenv(chatter.VERBOSE_ENV, raising=False)
    with caplog.at_level(logging.DEBUG, logger="mattebox.io"):
        with chatter.captured():
            os.write(2, b"outer ")
            with chatter.captured():  # nested: still captured, restored once at the end
                os.write(2, b"inner")
            os.write(2, b" again")
        os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"
    assert [r.getMessage() for r in caplog.records] == ["library output: outer inner again"]


def test_a_streamed_write_keeps_library_output_off_the_terminal(tmp_path, capfd, monkeypatch):
    monkeypatch.delenv(chatter.VERBOSE_ENV, raising=False)

    def talking(self, *args, **kwargs):
        os.write(2, LIBRARY_LINE)
        return False

    monkeypatch.setattr(oiio.ImageOutput, "write_scanlines", talking)
    target = tmp_path / "out.exr"
    pixels = np.random.default_rng(5).random((8, 6, 4), dtype=np.float32)
    streamed = mio.StreamedWrite(target, (0, 0, 6, 8), (6, 8), datatype="float")
    with pytest.raises(mio.ImageIOError, match=r"out\.exr: "), streamed as out:
        out.write(0, pixels)
    assert capfd.readouterr().err == ""
    assert os.listdir(tmp_path) == []
