"""Dot through the engine on every backend: its output is its input, bit for bit, and a
chain of Dots between two point ops neither costs a pass nor breaks their fusion."""

from __future__ import annotations

import numpy as np

import mattebox as mb
from mattebox.engine import render
from tests.conftest import random_image


def test_a_dot_passes_its_input_through(backend, array_source):
    pixels = random_image(11, 17, seed=50)
    g = mb.Graph()
    dot = g.add(
        "Dot", inputs={"Source": array_source(g, pixels, window=(3, -2, 20, 9), size=(16, 8))}
    )
    out = g.render(dot, frame=1, backend=backend)
    np.testing.assert_array_equal(out.pixels, pixels)
    assert out.data_window == (3, -2, 20, 9)
    assert out.format == mb.Format(16, 8)


def test_dots_between_point_ops_keep_them_in_one_pass(backend, array_source):
    pixels = random_image(9, 12, seed=51)
    g = mb.Graph()
    node = g.add(
        "Grade",
        inputs={"Source": array_source(g, pixels)},
        gain=(2.0, 1.0, 0.5, 1.0),
        black_clamp=False,
    )
    for _ in range(3):
        node = g.add("Dot", inputs={"Source": node})
    clamp = g.add("Clamp", inputs={"Source": node})
    out = g.render(clamp, frame=1, backend=backend)
    expected = np.clip(pixels.astype(np.float64) * np.array([2.0, 1.0, 0.5, 1.0]), 0.0, 1.0)
    np.testing.assert_allclose(out.pixels, expected, rtol=1e-6, atol=1e-6)
    plan = render.plan(g, clamp, use_cache=False)
    fused = [p for p in plan.passes if p.kind == "fused"]
    assert len(fused) == 1 and {n.name for n in fused[0].nodes} == {"Grade1", "Clamp1"}, str(plan)
