"""Frame ranges spread with Dask give the same files as a local render."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio

import mattebox as mb
from mattebox.engine import distributed


def test_dask_render_matches_local(tmp_path):
    g = mb.Graph()
    g.settings.format = mb.Format(32, 20)
    c = g.add("Checkerboard", size=4)
    grade = g.add(
        "Grade", inputs={"Source": c}, gain={"keys": [[1, 0.5], [5, 2.0]]}
    )  # animated: frames differ
    g.add(
        "Write",
        name="Out",
        inputs={"Source": grade},
        file=str(tmp_path / "d.####.exr"),
        datatype="float",
        colorspace="Raw",
    )
    g.add(
        "Write",
        name="Local",
        inputs={"Source": grade},
        file=str(tmp_path / "l.####.exr"),
        datatype="float",
        colorspace="Raw",
    )
    script = tmp_path / "comp.mbx"
    g.save(script)
    written = distributed.execute(script, range(1, 6), writes=["Out"], scheduler="threads", chunk=2)
    assert [p.rsplit("/", 1)[-1] for p in written] == [f"d.{f:04d}.exr" for f in range(1, 6)]
    g.execute([g["Local"]], frames=range(1, 6))
    for frame in range(1, 6):
        ours = oiio.ImageBuf(str(tmp_path / f"d.{frame:04d}.exr")).get_pixels(oiio.FLOAT)
        local = oiio.ImageBuf(str(tmp_path / f"l.{frame:04d}.exr")).get_pixels(oiio.FLOAT)
        np.testing.assert_array_equal(ours, local)
    assert distributed.chunks(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
