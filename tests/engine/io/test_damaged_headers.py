"""Headers a damaged file gets wrong are refused before anything is sized from them (both
found by the fuzzer's 10,000-case run: a MemoryError and an OpenImageIO RuntimeError had
reached the command line as "a bug in Mattebox")."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest

import mattebox as mb
from mattebox.engine import io
from mattebox.nodes.limits import MAX_IMAGE_SIZE


def _exr(path, width, height, full=None, names=("R", "G", "B", "A")):
    spec = oiio.ImageSpec(width, height, len(names), oiio.HALF)
    spec.channelnames = names
    if full:
        spec.full_width, spec.full_height = full
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec), oiio.geterror()
    out.write_image(np.full((height, width, len(names)), 0.5, np.float32))
    out.close()


@pytest.mark.parametrize("full", [(MAX_IMAGE_SIZE + 1, 8), (8, MAX_IMAGE_SIZE * 4)])
def test_a_format_larger_than_any_image_is_refused(tmp_path, full):
    path = tmp_path / "big.exr"
    _exr(path, 8, 8, full=full)
    with pytest.raises(io.ImageIOError, match="most is 65536 pixels a side"):
        io.read_image(str(path))
    g = mb.Graph()
    read = g.add("Read", file=str(path))
    with pytest.raises(mb.RenderError, match="Read1: .*big.exr: its header gives"):
        g.render(read, frame=1, backend="cpu")


def test_a_channel_name_that_is_not_text_is_refused(tmp_path):
    path = tmp_path / "names.exr"
    _exr(path, 8, 4, names=("R", "G", "B", "A", "Qx"))
    data = path.read_bytes()
    assert data.count(b"Qx\x00") == 1
    path.write_bytes(data.replace(b"Qx\x00", b"Q\xab\x00"))  # one byte of a damaged header
    with pytest.raises(io.ImageIOError, match="channel 5's name is not text"):
        io.read_image(str(path))


def test_a_large_but_real_image_still_reads(tmp_path):
    path = tmp_path / "wide.exr"
    _exr(path, 4, 2, full=(MAX_IMAGE_SIZE, 2))
    _, window, info = io.read_image(str(path))
    assert (info.width, window) == (MAX_IMAGE_SIZE, (0, 0, 4, 2))
