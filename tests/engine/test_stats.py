"""Render statistics: each node's time in a render and whether it came from the cache.

Checked against what the test measures itself (the wall time around the call), against
the engine's own count of executed passes (``session().executed``), and against an
unprofiled render's pixels (profiling changes nothing in the image).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render
from tests.conftest import random_image


def _graph(array_source):
    """Read -> Grade -> Invert (fused with the Grade) -> Blur -> Merge over a Constant."""
    g = mb.Graph()
    g.settings.format = mb.Format(40, 24)
    read = array_source(g, random_image(24, 40, seed=3))
    grade = g.add("Grade", inputs={"Source": read}, gain=1.3, offset=0.02)
    invert = g.add("Invert", inputs={"Source": grade})
    blur = g.add("Blur", inputs={"Source": invert}, size=2.0)
    back = g.add("Constant", color=[0.2, 0.1, 0.05, 1.0])
    merge = g.add("Merge", inputs={"B": back, "A": blur})
    return g, merge


def _executed(func):
    before = render.session().executed.copy()
    func()
    after = render.session().executed
    return {name for name in after if after[name] != before.get(name, 0)}


def _timed_render(g, node, backend, stats):
    start = time.perf_counter()
    image = g.render(node, backend=backend, stats=stats)
    return image, time.perf_counter() - start


def test_first_render_times_every_node_and_the_second_is_cached(array_source, backend):
    g, merge = _graph(array_source)
    render.session().cache.clear()
    first = mb.RenderStats()
    ran = set()
    image, wall = None, 0.0

    def go():
        nonlocal image, wall
        image, wall = _timed_render(g, merge, backend, first)

    ran = _executed(go)
    names = {"Read1", "Grade1", "Invert1", "Blur1", "Constant1", "Merge1"}
    assert set(first.nodes) == names
    assert first.node == "Merge1" and first.frame == 1 and first.backend == backend
    for entry in first.nodes.values():
        assert entry.seconds > 0, entry
        assert not entry.cached, entry
        assert entry.type == g[entry.name].type
    # every node but the Read runs a pass the engine counts; the Read was decoded
    assert {n for n, e in first.nodes.items() if not e.cached} - {"Read1"} == ran
    assert first.nodes["Read1"].decode_seconds > 0
    # the parts add up to no more than the render, which took no more than the call
    assert first.total <= first.seconds + 1e-9
    assert first.seconds <= wall + 1e-9
    assert abs(sum(first.share(n) for n in names) - first.total / first.seconds) < 1e-9
    assert first.cache_budget == render.session().cache.budget
    assert first.cache_bytes == render.session().cache.bytes > 0

    second = mb.RenderStats()
    assert _executed(lambda: _timed_render(g, merge, backend, second)) == set()
    assert set(second.nodes) == names
    assert all(entry.cached for entry in second.nodes.values())
    assert second.nodes["Merge1"].passes == 1  # the result itself, from the cache
    assert second.nodes["Grade1"].passes == 0  # upstream of it: not even looked at
    assert second.total <= second.seconds
    again = g.render(merge, backend=backend).pixels
    np.testing.assert_array_equal(again, image.pixels)


def test_a_fused_pass_is_shared_equally_and_says_with_whom(array_source):
    g, merge = _graph(array_source)
    render.session().cache.clear()
    stats = mb.RenderStats()
    g.render(merge, backend="cpu", stats=stats)
    plan = render.plan(g, merge, use_cache=False)
    fused = [p for p in plan.passes if {n.name for n in p.nodes} == {"Grade1", "Invert1"}]
    assert len(fused) == 1 and fused[0].kind == "fused"  # the plan fuses them
    grade, invert = stats.nodes["Grade1"], stats.nodes["Invert1"]
    assert grade.fused_with == ("Invert1",) and invert.fused_with == ("Grade1",)
    assert grade.seconds == pytest.approx(invert.seconds)
    assert grade.pass_seconds == grade.fused_seconds == pytest.approx(2 * grade.seconds)
    assert "fused with Invert1" in grade.note
    blur = stats.nodes["Blur1"]
    assert blur.fused_with == () and blur.pass_seconds == pytest.approx(blur.seconds)
    assert blur.fused_seconds == 0
    table = str(stats)
    assert "Grade1" in table and "Merge1 @ frame 1 on cpu" in table


def test_after_an_edit_only_the_edited_node_and_downstream_compute(array_source):
    g, merge = _graph(array_source)
    render.session().cache.clear()
    g.render(merge, backend="cpu")
    g["Blur1"]["size"] = 3.0  # the first edit materialises the Blur's input...
    g.render(merge, backend="cpu")
    g["Blur1"]["size"] = 4.0  # ...so the next one recomputes it and downstream
    stats = mb.RenderStats()
    ran = _executed(lambda: g.render(merge, backend="cpu", stats=stats))
    computed = {n for n, e in stats.nodes.items() if not e.cached}
    assert computed == ran  # (the Constant is generated again: cheaper than a lookup)
    assert {"Blur1", "Merge1"} <= computed <= {"Blur1", "Merge1", "Constant1"}
    assert stats.nodes["Invert1"].cached and stats.nodes["Invert1"].passes == 1
    assert stats.nodes["Read1"].cached and stats.nodes["Read1"].passes == 0
    expected = g.render(merge, backend="cpu", stats=None).pixels
    render.session().cache.clear()
    np.testing.assert_array_equal(g.render(merge, backend="cpu").pixels, expected)


def test_stats_add_up_over_layers_and_renders(array_source):
    g, merge = _graph(array_source)
    render.session().cache.clear()
    stats = mb.RenderStats()
    g.render(merge, backend="cpu", stats=stats)
    first = stats.seconds
    g["Grade1"]["gain"] = 0.5
    g.render(merge, backend="cpu", stats=stats)
    assert stats.seconds > first
    assert stats.nodes["Grade1"].passes == 2 and not stats.nodes["Grade1"].cached
    assert stats.total <= stats.seconds
