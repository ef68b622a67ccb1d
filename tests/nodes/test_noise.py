"""Noise, through the engine on every backend, against a float64 numpy implementation of
the formula in its docstring (written here, vectorised over the pixels, sharing no code
with the kernels): fBm of 3D gradient or value noise over a PCG-hashed lattice."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render as engine_render
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.source.noise import Noise
from mattebox.nodes.spec import Context, Format
from tests.conftest import compile_wgsl, require_gpu

TOLERANCE = 1e-5  # float32 arithmetic on the GPU, float32 pixels on both
U32 = np.uint64(0xFFFFFFFF)
# The 12 cube-edge gradients in the order of h % 12: pairs of axes xy, xz, yz; bit 0 of
# the index negates the first component, bit 1 the second.
GRADIENTS = np.array(
    [
        [1, 1, 0],
        [-1, 1, 0],
        [1, -1, 0],
        [-1, -1, 0],
        [1, 0, 1],
        [-1, 0, 1],
        [1, 0, -1],
        [-1, 0, -1],
        [0, 1, 1],
        [0, -1, 1],
        [0, 1, -1],
        [0, -1, -1],
    ],
    np.float64,
)


def pcg(v):
    """The PCG-style hash of the documented formula on uint64 arrays, modulo 2**32."""
    v = np.asarray(v).astype(np.int64).astype(np.uint64) & U32  # negatives wrap
    state = (v * np.uint64(747796405) + np.uint64(2891336453)) & U32
    word = ((state >> ((state >> np.uint64(28)) + np.uint64(4))) ^ state) * np.uint64(277803737)
    word &= U32
    return (word >> np.uint64(22)) ^ word


def smoother(t):
    return t * t * t * (t * (t * 6 - 15) + 10)


def octave(q, seed, kind):
    """One octave of noise at the points ``q`` (…×3, float64)."""
    cell = np.floor(q)
    f = q - cell
    c = cell.astype(np.int64)
    w = smoother(f)
    start = pcg(seed)
    corners = {}
    for dx, dy, dz in itertools.product((0, 1), repeat=3):
        h = pcg(pcg(pcg(start + c[..., 2] + dz) + c[..., 1] + dy) + c[..., 0] + dx)
        if kind == "value":
            corners[dx, dy, dz] = (h >> np.uint64(8)).astype(np.float64) / (2**24 - 1) * 2 - 1
        else:
            g = GRADIENTS[(h % np.uint64(12)).astype(np.int64)]
            corners[dx, dy, dz] = np.sum(g * (f - np.array([dx, dy, dz])), axis=-1)

    def lerp(a, b, t):
        return a * (1 - t) + b * t

    xs = {
        (dy, dz): lerp(corners[0, dy, dz], corners[1, dy, dz], w[..., 0])
        for dy in (0, 1)
        for dz in (0, 1)
    }
    ys = {dz: lerp(xs[0, dz], xs[1, dz], w[..., 1]) for dz in (0, 1)}
    return lerp(ys[0], ys[1], w[..., 2])


def reference_noise(box, width, height, frame=1.0, **params):
    """Pixels of ``box`` from the docstring's formula; black outside the format."""
    p = Noise.defaults() | params
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    tx, ty = p["translate"]
    z = p["z"] + frame * p["speed"]
    points = np.stack(
        [(xs + 0.5 - tx) / p["size"], (ys + 0.5 - ty) / p["size"], np.full(xs.shape, z)], -1
    )
    total = np.zeros(xs.shape)
    weights = 0.0
    for k in range(p["octaves"]):
        total += p["gain"] ** k * octave(points * p["lacunarity"] ** k, p["seed"] + k, p["type"])
        weights += p["gain"] ** k
    n = np.clip(0.5 + 0.5 * total / weights, 0.0, 1.0)[..., None]
    c0, c1 = np.array(p["color0"]), np.array(p["color1"])
    pixels = c0 + (c1 - c0) * n
    inside = ((xs >= 0) & (xs < width) & (ys >= 0) & (ys < height))[..., None]
    return np.where(inside, pixels, 0.0)


def random_params(seed, kind):
    rng = np.random.default_rng(seed)
    return {
        "type": kind,
        "size": float(rng.uniform(3.0, 8.0)),
        "octaves": int(rng.integers(2, 6)),
        "lacunarity": float(rng.uniform(1.6, 2.6)),
        "gain": float(rng.uniform(0.3, 0.8)),
        "seed": int(rng.integers(0, 2**24)),
        "z": float(rng.uniform(-3.0, 3.0)),
        "speed": float(rng.uniform(0.1, 0.5)),
        "translate": tuple(float(v) for v in rng.uniform(-20.0, 20.0, 2)),
        "color0": tuple(float(v) for v in rng.uniform(-0.2, 0.5, 4)),
        "color1": tuple(float(v) for v in rng.uniform(0.5, 1.5, 4)),
    }


def graph(script_format=(19, 13), **params):
    g = mb.Graph()
    g.settings.format = mb.Format(*script_format)
    return g, g.add("Noise", **params)


@pytest.mark.parametrize(("seed", "kind"), [(1, "gradient"), (2, "value")])
def test_noise_in_a_region_off_the_origin(backend, seed, kind):
    params = random_params(seed, kind)
    g, node = graph(width=17, height=11, **params)
    region = (-3, 2, 19, 15)
    out = g.render(node, frame=3, backend=backend, region=region)
    assert (out.format.width, out.format.height) == (17, 11)
    assert out.data_window == (0, 2, 17, 11)  # the format's part of the region
    expected = reference_noise(region, 17, 11, frame=3, **params)
    assert np.ptp(expected[2:9, 3:14, 0]) > 0.05  # the pattern varies over the region
    np.testing.assert_allclose(out.crop(region), expected, rtol=0, atol=TOLERANCE)


def test_frames_move_the_pattern_and_seeds_choose_it(backend):
    params = random_params(3, "gradient")
    g, node = graph(**params)
    frames = {f: g.render(node, frame=f, backend=backend).pixels for f in (1, 2, 1)}
    for f, pixels in frames.items():  # a cached frame is never another frame's
        np.testing.assert_allclose(
            pixels, reference_noise((0, 0, 19, 13), 19, 13, f, **params), rtol=0, atol=TOLERANCE
        )
    assert np.abs(frames[2] - frames[1]).max() > 0.01
    again = graph(**params)
    np.testing.assert_array_equal(
        again[0].render(again[1], frame=1, backend=backend).pixels, frames[1]
    )
    other = graph(**(params | {"seed": params["seed"] + 1}))
    assert (
        np.abs(other[0].render(other[1], frame=1, backend=backend).pixels - frames[1]).max() > 0.01
    )
    node["speed"] = 0.0
    still = [g.render(node, frame=f, backend=backend).pixels for f in (1, 5)]
    np.testing.assert_array_equal(still[0], still[1])


def test_noise_proxy_render_scales_size_and_translate(backend):
    params = random_params(4, "value")
    g, node = graph(script_format=(37, 25), **params)
    out = g.render(node, frame=2, backend=backend, proxy=2)
    assert (out.format.width, out.format.height) == (19, 13)
    halved = params | {
        "size": params["size"] / 2,
        "translate": tuple(v / 2 for v in params["translate"]),
    }
    np.testing.assert_allclose(
        out.pixels, reference_noise((0, 0, 19, 13), 19, 13, 2, **halved), rtol=0, atol=TOLERANCE
    )


def test_the_gpu_computes_noise_itself():
    """The WGSL source, not an upload of the CPU's pixels, and they agree."""
    require_gpu()
    g, node = graph(**random_params(5, "gradient"))
    on_gpu = engine_render.render(g, node, frame=4, backend="gpu", use_cache=False)
    on_cpu = engine_render.render(g, node, frame=4, backend="cpu", use_cache=False)
    assert not np.array_equal(on_gpu.pixels, on_cpu.pixels)  # f32 on one side, f64 on the other
    np.testing.assert_allclose(on_gpu.pixels, on_cpu.pixels, rtol=0, atol=TOLERANCE)


def test_values_at_and_pack():
    values = Noise.values_at({"z": 1.5, "speed": 0.25, "seed": 9, "type": "value"}, 4.0)
    assert values["z"] == 2.5 and values["speed"] == 0.25
    assert Noise.values_at({"z": 1.5}, 40.0)["z"] == 1.5  # still by default
    ctx = Context(frame=4, script_format=Format(9, 5))
    assert Noise.pack(values, ctx) == [
        0.0, 0.0, 64.0, 2.5, 4.0, 2.0, 0.5, 9.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 9.0, 5.0
    ]  # fmt: skip


def test_noise_wgsl_compiles():
    compile_wgsl(wgsl_source(Noise.__module__), "OUT[0] = noise_source(1, 2, 0u);")
