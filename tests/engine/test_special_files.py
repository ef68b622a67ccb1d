"""Special files (issue 12, item 2): a Read of anything that is not a regular file is
refused before a decoder sees it, and a decoder that does not answer is killed after
the decode timeout, the Read failing with one line while the next read works."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import io
from tests.conftest import random_image, write_exr


def _render_read(path):
    g = mb.Graph()
    read = g.add("Read", file=str(path), colorspace="Raw")
    start = time.perf_counter()
    with pytest.raises(mb.RenderError) as caught:
        g.render(read, backend="cpu")
    return str(caught.value), time.perf_counter() - start


def test_a_read_of_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "plate.exr"
    os.mkfifo(fifo)
    message, took = _render_read(fifo)
    assert message == f"Read1: {fifo}: is a named pipe (FIFO), not an image file"
    assert took < 5


def test_a_read_of_a_folder_a_device_or_a_socket_is_refused(tmp_path):
    folder = tmp_path / "plate.exr"
    folder.mkdir()
    assert _render_read(folder)[0].endswith("is a folder, not an image file")
    assert _render_read("/dev/zero")[0] == (
        "Read1: /dev/zero: is a character device, not an image file"
    )
    with tempfile.TemporaryDirectory() as short:  # a socket's path must be short
        path = os.path.join(short, "s.exr")
        server = socket.socket(socket.AF_UNIX)
        try:
            server.bind(path)
            assert _render_read(path)[0].endswith(f"{path}: is a socket, not an image file")
        finally:
            server.close()


def test_the_command_line_says_one_line_for_a_fifo(tmp_path):
    fifo = tmp_path / "plate.exr"
    os.mkfifo(fifo)
    g = mb.Graph()
    read = g.add("Read", file=str(fifo))
    g.add("Write", inputs={"Source": read}, file=str(tmp_path / "out.exr"))
    g.save(tmp_path / "comp.mbx")
    result = subprocess.run(
        [sys.executable, "-m", "mattebox.app.cli", "render", "comp.mbx", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == f"error: Read1: {fifo}: is a named pipe (FIFO), not an image file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comp.mbx", "plate.exr"]


def test_a_decoder_that_hangs_is_killed_after_the_timeout(tmp_path, monkeypatch):
    """With the up-front check out of the way, the decoder opens a FIFO nobody writes
    to and waits: after MATTEBOX_DECODE_TIMEOUT (2 s) it is killed, the Read fails
    naming the file and the timeout, and the next read starts a fresh decoder and gets
    its pixels."""
    monkeypatch.setattr(io, "_check_readable", lambda path: None)
    monkeypatch.setenv("MATTEBOX_DECODE_TIMEOUT", "2")
    monkeypatch.delenv("MATTEBOX_IO_INPROCESS", raising=False)
    monkeypatch.setattr(io, "IN_PROCESS", False)
    fifo = tmp_path / "stuck.exr"
    os.mkfifo(fifo)
    message, took = _render_read(fifo)
    assert message.startswith(f"Read1: {fifo}: the decoder gave no answer in 2 s")
    assert "MATTEBOX_DECODE_TIMEOUT" in message and "\n" not in message
    assert 1.9 < took < 15
    pixels = random_image(4, 6, seed=9)
    write_exr(tmp_path / "good.exr", pixels)
    g = mb.Graph()
    good = g.add("Read", file=str(tmp_path / "good.exr"), colorspace="Raw")
    np.testing.assert_array_equal(g.render(good, backend="cpu").pixels, pixels)


def test_the_timeout_setting_and_its_checks(monkeypatch):
    monkeypatch.delenv("MATTEBOX_DECODE_TIMEOUT", raising=False)
    before = io.decode_timeout()
    try:
        io.set_decode_timeout(7.5)
        assert io.decode_timeout() == 7.5
        monkeypatch.setenv("MATTEBOX_DECODE_TIMEOUT", "3")
        assert io.decode_timeout() == 3.0  # the environment wins
        for bad in (0, -1, float("inf"), float("nan")):
            with pytest.raises(ValueError, match="decode timeout"):
                io.set_decode_timeout(bad)
        monkeypatch.setenv("MATTEBOX_DECODE_TIMEOUT", "soon")
        with pytest.raises(io.ImageIOError, match="MATTEBOX_DECODE_TIMEOUT: expected a positive"):
            io.decode_timeout()
    finally:
        io.set_decode_timeout(before)


def test_decoding_in_this_process_refuses_special_files_too(tmp_path, monkeypatch):
    # MATTEBOX_IO_INPROCESS=1 has no decoder to kill after a timeout: a FIFO must never
    # reach OpenImageIO there either (it would wait for a writer forever).
    monkeypatch.setenv("MATTEBOX_IO_INPROCESS", "1")
    fifo = tmp_path / "plate.exr"
    os.mkfifo(fifo)
    message, took = _render_read(fifo)
    assert message == f"Read1: {fifo}: is a named pipe (FIFO), not an image file"
    assert took < 5
    for call in (io.probe, io.read_image):
        with pytest.raises(io.ImageIOError, match="is a character device, not an image file"):
            call("/dev/zero")
    plate = tmp_path / "real.exr"
    pixels = random_image(6, 9, seed=4)
    write_exr(plate, pixels)
    np.testing.assert_array_equal(io.read_image(plate)[0], pixels)  # files still read here
