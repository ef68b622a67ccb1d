"""Files on disk: saved scripts and rendered images get the umask's permissions, a failed
write leaves nothing behind (no target, no hidden temporary file), and hidden temporary
files a killed write left are removed by the next write into the folder once a day old."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import OpenImageIO as oiio
import pytest

import mattebox as mb
from mattebox.engine import io as mio
from mattebox.engine import script, tempfiles

DAY = 24 * 3600


@pytest.fixture
def umask():
    """``umask(mask)`` sets the process's umask for the test; the old one comes back."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


def _graph() -> mb.Graph:
    g = mb.Graph()
    g.add("Grade", inputs={"Source": g.add("Constant", color=[0.3, 0.2, 0.1, 1.0])}, gain=1.3)
    return g


def _pixels(height=16, width=24, seed=7):
    rng = np.random.default_rng(seed)
    pixels = rng.uniform(0.05, 1.0, (height, width, 4)).astype(np.float32)
    pixels[..., :3] *= pixels[..., 3:4]
    return pixels


def _mode(path) -> int:
    return os.stat(path).st_mode & 0o777


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_saved_scripts_and_renders_follow_the_umask(tmp_path, umask, mask):
    umask(mask)
    _graph().save(tmp_path / "comp.mbx")
    mio.write_image(tmp_path / "out.exr", _pixels(), (0, 0, 24, 16), (24, 16))
    mio.write_image(tmp_path / "out.png", _pixels(), (0, 0, 24, 16), (24, 16), datatype="uint8")
    for name in ("comp.mbx", "out.exr", "out.png"):
        assert _mode(tmp_path / name) == 0o666 & ~mask, name  # as open() creates files
    assert sorted(os.listdir(tmp_path)) == ["comp.mbx", "out.exr", "out.png"]


def _age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_save_removes_stale_temporary_files_of_scripts_only(tmp_path):
    stale = [".comp.mbx.k3j9x0q_.tmp", ".other.mbx.autosave2.abcdefgh.tmp"]
    fresh = ".comp.mbx.zzzzzzzz.tmp"  # a save in progress elsewhere: younger than a day
    foreign = [".notes.txt.abcdefgh.tmp", ".comp.mbx.tmp", "comp.mbx.abcdefgh.tmp"]
    image = ".plate.0001.tmp-0123456789ab.exr"  # an image write's: not a script's to clean
    for name in stale + foreign + [fresh, image]:
        (tmp_path / name).write_text("{")
        _age(tmp_path / name, 0 if name == fresh else 2 * DAY)
    (tmp_path / ".old.mbx.abcdefgh.tmp").mkdir()  # a folder of that name is left alone
    _age(tmp_path / ".old.mbx.abcdefgh.tmp", 2 * DAY)
    _graph().save(tmp_path / "comp.mbx")
    left = set(os.listdir(tmp_path))
    assert not left & set(stale)
    assert left == {"comp.mbx", fresh, image, ".old.mbx.abcdefgh.tmp", *foreign}


def test_an_image_write_removes_stale_temporary_files_of_images(tmp_path):
    stale = [".plate.0001.tmp-0123456789ab.exr", ".comp.0007.tmp-fedcba987654.png"]
    fresh = ".plate.0002.tmp-00000000000a.exr"
    foreign = [".plate.0001.tmp-xyz.exr", ".comp.mbx.abcdefgh.tmp", "plate.tmp-0123456789ab.exr"]
    for name in stale + foreign + [fresh]:
        (tmp_path / name).write_bytes(b"x")
        _age(tmp_path / name, 0 if name == fresh else 3 * DAY)
    mio.write_image(tmp_path / "plate.0003.exr", _pixels(), (0, 0, 24, 16), (24, 16))
    assert set(os.listdir(tmp_path)) == {"plate.0003.exr", fresh, *foreign}


def test_remove_stale_keeps_what_is_younger_than_the_limit(tmp_path):
    path = tmp_path / ".a.mbx.abcdefgh.tmp"
    path.write_text("")
    _age(path, DAY - 60)
    assert tempfiles.remove_stale(tmp_path, tempfiles.SCRIPT_TEMPORARY) == []
    assert tempfiles.remove_stale(tmp_path, tempfiles.SCRIPT_TEMPORARY, now=time.time() + 120)
    assert not path.exists()


def test_a_failed_save_leaves_the_old_script_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "comp.mbx"
    _graph().save(path)
    before = path.read_bytes()

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(script.os, "replace", full)
    with pytest.raises(OSError, match="No space left"):
        _graph().save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["comp.mbx"]
    monkeypatch.undo()
    (tmp_path / "folder.mbx").mkdir()  # the target is a folder: the rename fails
    with pytest.raises(OSError):
        _graph().save(tmp_path / "folder.mbx")
    assert sorted(os.listdir(tmp_path)) == ["comp.mbx", "folder.mbx"]


# A write into a file size limit (``ulimit -f``), the way a full disk fails a write: each
# format's writer must fail with one line and leave nothing. OpenImageIO 3.2's PNG writer
# reports success on a truncated file, and its JPEG writer ends the process (libjpeg's
# default error exit): both are caught before the file could replace a target.
_LIMITED_WRITES = r"""
import json, os, resource, signal, sys
import numpy as np
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
from mattebox.engine import io as mio
folder = sys.argv[1]
rng = np.random.default_rng(3)
pixels = rng.random((256, 256, 4), dtype=np.float32)
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
results = {}
for name, datatype, compression in [("a.exr", "float", "none"), ("a.png", "uint16", None),
        ("a.tif", "float", "none"), ("a.dpx", "uint16", None), ("a.jpg", "uint8", None)]:
    try:
        mio.write_image(os.path.join(folder, name), pixels, (0, 0, 256, 256), (256, 256),
                        datatype=datatype, compression=compression)
        results[name] = "written"
    except mio.ImageIOError as error:
        results[name] = str(error)
print(json.dumps(results))
"""


def test_failed_image_writes_leave_no_file_in_any_format(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", _LIMITED_WRITES, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout.strip().splitlines()[-1])
    for name, message in results.items():
        assert message.startswith(str(folder / name) + ": "), (name, message)
        assert "\n" not in message
    assert "file size limit" in results["a.jpg"]  # refused before libjpeg could exit
    assert "stopped after 20000 bytes" in results["a.png"]
    assert os.listdir(folder) == []


def test_the_end_of_a_png_and_a_jpeg_is_checked(tmp_path, monkeypatch):
    """A writer that reports success on a cut file: the cut file never replaces the
    target (the PNG trailer check, without needing a full disk)."""
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    real_close = oiio.ImageOutput.close

    def close_and_cut(self):
        ok = real_close(self)
        [temporary] = [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-")]
        temporary.write_bytes(temporary.read_bytes()[:-5])
        return ok

    monkeypatch.setattr(oiio.ImageOutput, "close", close_and_cut)
    with pytest.raises(mio.ImageIOError, match=r"out\.png: the png writer stopped after"):
        mio.write_image(target, _pixels(), (0, 0, 24, 16), (24, 16), datatype="uint8")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.png"]
