"""Shared test helpers: random images, sources made from arrays, backends to run on."""

from __future__ import annotations

import os

import numpy as np
import OpenImageIO as oiio
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def random_image(height, width, seed=0, lo=-0.1, hi=1.5, premultiplied=True):
    """Random RGBA float32 (never all zero); alpha in [0.05, 1], colour premultiplied."""
    rng = np.random.default_rng(seed)
    pixels = rng.uniform(lo, hi, (height, width, 4)).astype(np.float32)
    pixels[..., 3] = rng.uniform(0.05, 1.0, (height, width))
    if premultiplied:
        pixels[..., :3] *= pixels[..., 3:4]
    return pixels


def write_exr(path, pixels, window=None, size=None):
    """Write float32 RGBA pixels as an EXR with the given data window (OIIO directly)."""
    h, w = pixels.shape[:2]
    x0, y0 = (window[0], window[1]) if window else (0, 0)
    spec = oiio.ImageSpec(w, h, 4, oiio.FLOAT)
    spec.x, spec.y = x0, y0
    fw, fh = size or (x0 + w, y0 + h)
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = 0, 0, fw, fh
    spec.channelnames = ("R", "G", "B", "A")
    spec.attribute("compression", "none")
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec), oiio.geterror()
    assert out.write_image(np.ascontiguousarray(pixels, np.float32))
    out.close()


@pytest.fixture
def array_source(tmp_path):
    """``array_source(graph, pixels, window=None, size=None)`` -> a Read node of that data.

    The pixels go through a float EXR read with colour space Raw, so they arrive unchanged.
    """
    counter = [0]

    def make(graph, pixels, window=None, size=None, name=None):
        counter[0] += 1
        path = tmp_path / f"src{counter[0]}.exr"
        write_exr(path, pixels, window, size)
        return graph.add("Read", name=name, file=str(path), colorspace="Raw")

    return make


def _backend_names():
    from mattebox.engine.backends import detect

    return list(detect.BACKEND_NAMES)


@pytest.fixture(params=_backend_names())
def backend(request):
    """Each test using this runs once per engine backend; one skips only where it has no
    device at all (e.g. no GPU adapter), with the reason."""
    from mattebox.engine.backends import detect

    if not detect.available(request.param):
        pytest.skip(f"no {request.param} backend here: {detect.why_unavailable(request.param)}")
    return request.param
