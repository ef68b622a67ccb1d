"""Shared test helpers: random images, sources made from arrays, backends to run on,
reference pieces more than one node's test uses, and compiling a node's WGSL."""

from __future__ import annotations

import os

import numpy as np
import OpenImageIO as oiio
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# A GPU failure must fail a test, not quietly finish on the CPU (which would compare CPU
# pixels with CPU pixels). Tests of the fallback itself turn it back on.
os.environ["MATTEBOX_GPU_FALLBACK"] = "0"


def random_image(height, width, seed=0, lo=-0.1, hi=1.5, premultiplied=True):
    """Random RGBA float32 (never all zero); alpha in [0.05, 1], colour premultiplied."""
    rng = np.random.default_rng(seed)
    pixels = rng.uniform(lo, hi, (height, width, 4)).astype(np.float32)
    pixels[..., 3] = rng.uniform(0.05, 1.0, (height, width))
    if premultiplied:
        pixels[..., :3] *= pixels[..., 3:4]
    return pixels


def placed(pixels, window, canvas):
    """``pixels`` at ``window`` inside the box ``canvas``, transparent black elsewhere."""
    out = np.zeros((canvas[3] - canvas[1], canvas[2] - canvas[0], 4), np.float64)
    x0, y0 = window[0] - canvas[0], window[1] - canvas[1]
    out[y0 : y0 + pixels.shape[0], x0 : x0 + pixels.shape[1]] = pixels
    return out


def keys_cubic(x):
    """Keys' cubic convolution kernel with a = -0.5 (Catmull-Rom), radius 2."""
    ax = np.abs(x)
    near = 1.5 * ax**3 - 2.5 * ax**2 + 1.0
    far = -0.5 * ax**3 + 2.5 * ax**2 - 4.0 * ax + 2.0
    return np.where(ax <= 1.0, near, np.where(ax < 2.0, far, 0.0))


#: The resampling filters (nearest aside) as (radius in pixels, weight function), for the
#: references of the resampling nodes.
FILTER_KERNELS = {
    "linear": (1.0, lambda x: np.maximum(0.0, 1.0 - np.abs(x))),
    "cubic": (2.0, keys_cubic),
    "lanczos3": (3.0, lambda x: np.where(np.abs(x) < 3.0, np.sinc(x) * np.sinc(x / 3.0), 0.0)),
}


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


def require_gpu() -> None:
    """Skip the calling test only where wgpu finds no adapter at all, not even a software
    one (lavapipe runs every GPU test here and in CI), with wgpu's reason."""
    from mattebox.engine.backends import detect

    if not detect.available("gpu"):
        pytest.skip(f"no GPU backend here: {detect.why_unavailable('gpu')}")


def compile_wgsl(source, main, reads=(), writes=("OUT",)):
    """Compile a node's WGSL on wgpu's default device (lavapipe will do); wgpu raises on any
    WGSL error. Skips only where wgpu finds no adapter, not even a software one.

    In front of ``source`` come the GPU backend's parameter block ``P`` (binding 0), then an
    ``array<vec4<f32>>`` storage buffer for each name in ``reads`` (read-only) and in
    ``writes`` (read-write); ``main`` is the body of a one-invocation compute entry point.

    A render on the GPU backend whose WGSL does not compile warns and finishes on the CPU, so
    the GPU-parametrized pixel tests still pass: a test through this helper is what fails.
    """
    require_gpu()
    import wgpu.utils

    buffers = [("read", "f32", "P")]
    buffers += [("read", "vec4<f32>", name) for name in reads]
    buffers += [("read_write", "vec4<f32>", name) for name in writes]
    declarations = "".join(
        f"@group(0) @binding({index}) var<storage, {access}> {name}: array<{element}>;\n"
        for index, (access, element, name) in enumerate(buffers)
    )
    code = f"{declarations}{source}\n@compute @workgroup_size(1) fn main() {{\n{main}\n}}\n"
    wgpu.utils.get_default_device().create_shader_module(code=code)


def _backend_names():
    from mattebox.engine.backends import detect

    return list(detect.BACKEND_NAMES)


@pytest.fixture(params=_backend_names())
def backend(request):
    """Each test using this runs once per engine backend; one skips only where it has no
    device at all (e.g. no GPU adapter), with the reason."""
    from mattebox.engine import render
    from mattebox.engine.backends import detect

    if not detect.available(request.param):
        pytest.skip(f"no {request.param} backend here: {detect.why_unavailable(request.param)}")
    # The render cache is shared by the backends (their pixels agree), so a graph another
    # test rendered on the CPU would come back from the cache without the GPU computing it.
    render.session().cache.clear()
    return request.param
