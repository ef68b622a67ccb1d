"""bench/multigpu.py at a tiny size: its comp renders every frame, differently, and its
table computes fps and scaling from the rows as the docs show them."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio

import mattebox as mb
from bench import multigpu


def test_the_comp_renders_each_frame_of_the_sequence(tmp_path):
    script = multigpu.comp_script(tmp_path, frames=3, size=(48, 27))
    graph = mb.load(script)
    assert graph.settings.frame_range == (1, 3)
    assert [n.type for n in graph.nodes.values()].count("Read") == 2  # plate and background
    written = graph.execute(frames=range(1, 4), backend="cpu")
    assert [p.rsplit("/", 1)[-1] for p in written] == [f"comp.{f:04d}.exr" for f in (1, 2, 3)]
    spec = oiio.ImageBuf(written[0]).spec()
    assert (spec.full_width, spec.full_height) == (48, 27)  # the format (Blur grows the data)
    frames = [oiio.ImageBuf(p).get_pixels(oiio.FLOAT) for p in written]
    assert np.isfinite(frames[0]).all() and frames[0][..., 3].max() > 0
    assert np.abs(frames[0] - frames[2]).max() > 1e-3  # the keyed grade: frames differ


def test_table_gives_fps_and_scaling_against_one_worker():
    rows = [
        {"workers": 1, "frames": 100, "start_s": 1.2, "render_s": 50.0, "fps": 2.0,
         "frames_per_worker": {"gpu0": 100}},
        {"workers": 2, "frames": 100, "start_s": 1.9, "render_s": 26.0, "fps": 3.846,
         "frames_per_worker": {"gpu0": 52, "gpu1": 48}},
    ]  # fmt: skip
    lines = multigpu.table(rows, "GPUs").splitlines()
    assert lines[0].startswith("| GPUs | frames | start (s) | render (s) | fps | scaling vs 1 |")
    assert lines[2] == "| 1 | 100 | 1.2 | 50.00 | 2.00 | 1.00x | gpu0 100 |"
    assert lines[3] == "| 2 | 100 | 1.9 | 26.00 | 3.85 | 1.92x | gpu0 52, gpu1 48 |"
    assert multigpu.parse_size("4K") == (3840, 2160)
    assert multigpu.parse_size("960x540") == (960, 540)
