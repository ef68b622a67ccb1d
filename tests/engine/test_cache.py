"""The cache: an edit re-executes only the edited node and what is downstream of it."""

from __future__ import annotations

import numpy as np

import mattebox as mb
from mattebox.engine import render
from mattebox.engine.cache import Cache
from mattebox.nodes.spec import Window
from tests.conftest import random_image


def _executed(func):
    before = render.session().executed.copy()
    func()
    after = render.session().executed
    return {
        name: after[name] - before.get(name, 0)
        for name in after
        if after[name] != before.get(name, 0)
    }


def test_editing_one_node_recomputes_only_it_and_downstream(array_source):
    g = mb.Graph()
    src = array_source(g, random_image(24, 32, seed=1))
    up = g.add("Grade", inputs={"Source": src}, gain=1.2)
    blur = g.add("Blur", inputs={"Source": up}, size=2)
    edited = g.add("Saturation", inputs={"Source": blur}, saturation=0.5)
    down = g.add("Grade", inputs={"Source": edited}, offset=0.1)
    side = g.add("Invert", inputs={"Source": up})
    merge = g.add("Merge", inputs={"B": side, "A": down})

    first = _executed(lambda: g.render(merge, backend="cpu"))
    assert set(first) == {"Grade1", "Blur1", "Saturation1", "Grade2", "Invert1", "Merge1"}
    assert _executed(lambda: g.render(merge, backend="cpu")) == {}  # all cached

    edited["saturation"] = 0.7  # the first edit materialises the edited node's input...
    g.render(merge, backend="cpu")
    edited["saturation"] = 0.9  # ...so the next edits (a slider drag) redo only downstream
    again = _executed(lambda: g.render(merge, backend="cpu"))
    assert set(again) == {"Saturation1", "Grade2", "Merge1"}

    reference = g.render(merge, backend="cpu").pixels
    render.session().cache.clear()
    np.testing.assert_array_equal(g.render(merge, backend="cpu").pixels, reference)


def test_hash_changes_with_every_pixel_parameter(array_source):
    g = mb.Graph()
    src = array_source(g, random_image(8, 8, seed=2))
    mask = array_source(g, random_image(8, 8, seed=3))
    node = g.add("Grade", inputs={"Source": src, "Mask": mask})
    seen = {render.evaluate(g, node, 1).hash}
    for param in node.spec.params:
        if param.type == "rgba":
            node[param.name] = 0.5
        elif param.type == "bool":
            node[param.name] = not param.default
        elif param.type == "channels":
            node[param.name] = "rgb"
        elif param.type == "enum":
            node[param.name] = next(c for c in param.choices if c != param.default)
        elif param.name == "mask_channel":
            node[param.name] = "R"
        else:
            node[param.name] = 0.5
        digest = render.evaluate(g, node, 1).hash
        assert digest not in seen, param.name
        seen.add(digest)
        node.reset(param.name)


def test_lru_budget_and_region_lookup():
    cache = Cache(budget=3 * 16 * 100)
    for i in range(4):
        cache.put(f"k{i}", Window(0, 0, 10, 10), np.full((10, 10, 4), i, np.float32))
    assert cache.find("k0", Window(0, 0, 10, 10)) is None  # evicted
    found = cache.find("k3", Window(2, 2, 5, 5))
    assert found is not None and found[1] == Window(0, 0, 10, 10)
    assert cache.bytes <= cache.budget


def test_rendering_a_range_does_not_keep_the_frames_of_sequences(tmp_path, array_source):
    """A sequence Read's decodes are dropped frame by frame; a still's stays cached."""
    from tests.conftest import write_exr

    for frame in (1, 2, 3):
        write_exr(tmp_path / f"plate.{frame:04d}.exr", random_image(8, 12, seed=frame))
    g = mb.Graph()
    g.settings.format = mb.Format(12, 8)
    plate = g.add("Read", file=str(tmp_path / "plate.####.exr"), colorspace="Raw")
    still = array_source(g, random_image(8, 12, seed=9))
    merge = g.add("Merge", inputs={"A": plate, "B": still})
    write = g.add("Write", inputs={"Source": merge}, file=str(tmp_path / "out.####.exr"))
    cache = render.session().cache
    cache.clear()
    g.execute([write], frames=[1, 2, 3], backend="cpu")
    for frame in (1, 2, 3):
        assert not cache.contains(render.evaluate(g, plate, frame).hash, Window(0, 0, 1, 1))
    assert cache.contains(render.evaluate(g, still, 3).hash, Window(0, 0, 12, 8))
