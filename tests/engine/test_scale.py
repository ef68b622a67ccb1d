"""Scale: long chains evaluate, plan and render without recursing over the graph, and
scripts of thousands of nodes load in time linear in their size (issue 12, item 4)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render, script
from tests.conftest import random_image


def _dots(graph, node, count, start):
    for index in range(start, start + count):
        node = graph.add("Dot", name=f"Dot{index}", inputs={"Source": node})
    return node


def test_a_chain_of_2000_dots_renders_the_right_pixels(backend, array_source):
    """1,000 Dots, a Grade, 1,000 more Dots: far past Python's recursion limit if any
    walk over the graph recursed per node. Grade's formula with only ``gain`` set is
    ``out = gain * in`` on RGB (positive input: no black clamp), alpha untouched."""
    g = mb.Graph()
    pixels = random_image(6, 9, seed=12, lo=0.01)  # Grade clamps negatives by default
    top = _dots(g, array_source(g, pixels), 1000, 0)
    gain = np.array([1.3, 0.7, 2.1, 1.0], np.float32)
    grade = g.add("Grade", inputs={"Source": top}, gain=gain.tolist())
    end = _dots(g, grade, 1000, 1000)
    out = g.render(end, backend=backend).pixels
    expected = pixels.astype(np.float64).copy()
    expected[..., :3] *= gain[:3]
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)


def test_a_chain_of_3000_nodes_plans_without_recursion(array_source):
    """Blurs (area passes) alternating with Grades (a point op fuses only into a point
    op, so each is a pass of its own) and Dots (resolved away): every Blur and Grade is
    one pass of the plan, producers first."""
    g = mb.Graph()
    node = array_source(g, random_image(4, 5, seed=3))
    names = []
    for index in range(1000):
        node = g.add("Blur", name=f"Blur{index}", inputs={"Source": node}, size=0.5)
        node = g.add("Grade", name=f"Grade{index}", inputs={"Source": node}, gain=1.01)
        names += [f"Blur{index}", f"Grade{index}"]
        node = g.add("Dot", name=f"Dot{index}", inputs={"Source": node})
    plan = render.plan(g, node, use_cache=False)
    ran = [n.name for p in plan.passes for n in p.nodes if p.kind != "read"]
    assert ran == names


def _chain_script(count: int, producers_first: bool = False) -> str:
    """A script of a Constant and ``count`` nodes in one chain (Grade, Dot, Clamp, Dot
    over and over), written in reverse order so that each link names a node loaded later
    (the loader may not assume producers come first), or producers first (each link then
    names a node already linked: a check of each link against the graph upstream of it
    walks the whole chain so far)."""
    kinds = ("Grade", "Dot", "Clamp", "Dot")
    nodes = {"Constant1": {"type": "Constant", "params": {"width": 8, "height": 4}}}
    previous = "Constant1"
    for index in range(count):
        name = f"N{index}"
        entry = {"type": kinds[index % 4], "inputs": {"Source": previous}}
        if entry["type"] == "Grade":
            entry["params"] = {"gain": 1.0 + index % 7 / 100}
        nodes[name] = entry
        previous = name
    ordered = nodes if producers_first else dict(reversed(nodes.items()))
    data = {"mattebox": {"format": 2}, "settings": {}, "nodes": ordered}
    return json.dumps(data)


def _load_and_plan(count: int) -> tuple[float, float]:
    text = _chain_script(count)
    start = time.perf_counter()
    graph = script.loads(text)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    plan = render.plan(graph, f"N{count - 1}", use_cache=False)
    planned = time.perf_counter() - start
    assert len(graph) == count + 1
    fused = [p for p in plan.passes if p.kind == "fused"]
    assert len(fused) == 1 and len(fused[0].nodes) == count // 2  # the Grades and Clamps
    return loaded, planned


def test_a_5000_node_script_loads_and_plans_in_seconds():
    loaded, planned = _load_and_plan(5000)
    assert loaded < 5 and planned < 10, (loaded, planned)


def test_a_20000_node_script_loads_and_plans_in_seconds():
    """About 1.5 s on the shared 2-core machine (docs/benchmarks.md)."""
    loaded, planned = _load_and_plan(20000)
    assert loaded < 10 and planned < 20, (loaded, planned)


def test_loading_is_linear_in_the_number_of_links():
    """Four times the nodes take about four times as long to load (the loader that walked
    the graph upstream of each link took sixteen: 0.15 s for 1,000, 2.4 s for 5,000, 89 s
    for 20,000): generous bounds for a busy machine."""
    small, large = _chain_script(1000, True), _chain_script(4000, True)
    script.loads(small)  # warm up imports and the registry

    def best(text):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            script.loads(text)
            times.append(time.perf_counter() - start)
        return min(times)

    ratio = best(large) / best(small)
    assert ratio < 8, ratio


def test_a_cycle_in_a_long_script_is_named():
    data = json.loads(_chain_script(3000))
    data["nodes"]["Constant1"] = {"type": "Grade", "inputs": {"Source": "N2999"}}
    with pytest.raises(mb.ScriptError, match=r"cycle through \w+\.Source <- \w+"):
        script.loads(json.dumps(data))


def test_a_chain_of_20000_dots_loaded_from_a_script_renders(array_source, tmp_path):
    """The same with 20,000 Dots after a Read of random pixels (Raw, so they arrive as
    written): the render is the file's pixels."""
    g = mb.Graph()
    pixels = random_image(5, 7, seed=20)
    read = array_source(g, pixels, name="Plate")
    data = script.to_dict(g)
    previous = "Plate"
    for index in range(20000):
        data["nodes"][f"Dot{index}"] = {"type": "Dot", "inputs": {"Source": previous}}
        previous = f"Dot{index}"
    loaded = script.loads(json.dumps(data))
    assert read.name in loaded
    out = loaded.render(previous, backend="cpu").pixels
    np.testing.assert_array_equal(out, pixels)


def test_building_a_long_chain_through_the_api_is_linear():
    """``graph.add(..., inputs=...)`` links a node nothing reads yet, so it looks for no
    cycle: 4x the nodes take about 4x as long (a walk per link would be 16x). A link
    that does close a cycle is still refused."""

    def build(count):
        g = mb.Graph()
        start = time.perf_counter()
        node = g.add("Constant", name="Start")
        for index in range(count):
            node = g.add("Dot", name=f"Dot{index}", inputs={"Source": node})
        return g, node, time.perf_counter() - start

    build(500)
    small = min(build(2000)[2] for _ in range(3))
    g, end, large = min((build(8000) for _ in range(3)), key=lambda r: r[2])
    assert large / small < 8, (small, large)
    with pytest.raises(mb.GraphError, match="cycle"):
        g["Dot0"].set_input("Source", end)
