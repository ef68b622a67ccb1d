"""Planning: fusion, regions of interest, dropped nodes, tiling and buffer reuse."""

from __future__ import annotations

import numpy as np

import mattebox as mb
from mattebox.engine import color, render
from tests.conftest import random_image


def _chain(g, src, types):
    node = src
    for type_name, params in types:
        node = g.add(type_name, inputs={"Source": node}, **params)
    return node


def test_point_chain_and_merge_fuse_into_one_pass(array_source):
    g = mb.Graph()
    a = array_source(g, random_image(20, 30, seed=1))
    b = array_source(g, random_image(20, 30, seed=2))
    top = _chain(g, a, [("Grade", {"gain": 1.5}), ("Saturation", {"saturation": 0.5})])
    bottom = _chain(g, b, [("Invert", {})])
    merge = g.add("Merge", inputs={"B": bottom, "A": top})
    out = _chain(g, merge, [("Clamp", {})])
    plan = render.plan(g, out, use_cache=False)
    kinds = [p.kind for p in plan.passes]
    assert kinds.count("fused") == 1, str(plan)
    fused = next(p for p in plan.passes if p.kind == "fused")
    assert {n.name for n in fused.nodes} == {"Grade1", "Saturation1", "Invert1", "Merge1", "Clamp1"}
    assert "fused" in str(plan) and "Grade1+" in str(plan)


def test_a_change_of_primaries_fuses_with_point_ops(backend, array_source):
    """ACEScg -> ACES2065-1 is one matrix: it runs inside the Grade's fused pass, and its
    pixels are OCIO's (its CPU processor, unpremultiplied around the transform)."""
    g = mb.Graph()
    pixels = random_image(20, 30, seed=4, lo=-0.2, hi=3.0)
    pixels[::3, ::4] = [0.2, -0.1, 0.3, 0.0]  # alpha 0 with light: converted as it is
    grade = g.add("Grade", inputs={"Source": array_source(g, pixels)}, gain=[1.2, 1.0, 0.8, 1])
    aces = g.add(
        "OCIOColorSpace",
        inputs={"Source": grade},
        in_colorspace="ACEScg",
        out_colorspace="ACES2065-1",
    )
    plan = render.plan(g, aces, use_cache=False)
    assert [p.kind for p in plan.passes if p.kind != "read"] == ["fused"], str(plan)
    out = g.render(aces, frame=1, backend=backend)
    graded = render.render(g, grade, backend="cpu", use_cache=False).pixels
    expected = color.apply_cpu(color.cpu_processor(None, "ACEScg", "ACES2065-1"), graded)
    np.testing.assert_allclose(out.pixels, expected, rtol=1e-5, atol=2e-6)


def test_unneeded_nodes_are_dropped_and_regions_propagate(array_source):
    g = mb.Graph()
    src = array_source(g, random_image(40, 60, seed=3))
    g.add("Grade", inputs={"Source": src})  # not upstream of the request: dropped
    blur = g.add("Blur", inputs={"Source": src}, size=3)
    plan = render.plan(g, blur, region=(10, 10, 20, 20), use_cache=False)
    names = [n.name for p in plan.passes for n in p.nodes]
    assert "Grade1" not in names
    read = next(p for p in plan.passes if p.nodes[-1].name == src.name)
    assert read.region.as_tuple() == (7, 7, 23, 23)  # the request grown by the blur's radius


def test_area_chain_ping_pongs_between_two_buffers(array_source):
    g = mb.Graph()
    node = array_source(g, random_image(30, 30, seed=4))
    for i in range(8):
        node = g.add(
            "Blur" if i % 2 else "Grade",
            inputs={"Source": node},
            **({"size": 2} if i % 2 else {"gain": 1.1}),
        )
    plan = render.plan(g, node, use_cache=False)
    assert len(plan.tiles[0].slot_bytes) == 2, str(plan)


def test_small_budget_gives_tiles_with_the_same_pixels(array_source):
    g = mb.Graph()
    src = array_source(g, random_image(64, 48, seed=5))
    blur = g.add("Blur", inputs={"Source": src}, size=5)
    grade = g.add("Grade", inputs={"Source": blur}, gain=1.3)
    whole = g.render(grade, backend="cpu").pixels
    plan = render.plan(g, grade, budget=64 * 1024, use_cache=False)
    assert len(plan.tiles) > 4, str(plan)
    ctx = render.context_for(g, 1)
    tiled = render.run_plan(plan, render.detect.get("cpu"), ctx)
    np.testing.assert_array_equal(tiled, whole)
