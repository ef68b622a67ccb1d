"""The flipbook's frame keys and its byte-budgeted LRU cache."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

import mattebox as mb
from mattebox.engine import render
from mattebox.engine.flipbook import FrameCache, frame_key, node_hash
from mattebox.engine.viewer import DisplaySettings
from mattebox.nodes.spec import Format
from tests.conftest import random_image, write_exr

DISPLAY = DisplaySettings("sRGB - Display", "Un-tone-mapped")


def _animated_graph():
    graph = mb.Graph()
    graph.settings.format = Format(16, 8)
    graph.settings.frame_range = (1, 8)
    constant = graph.add("Constant", color=[0.2, 0.3, 0.4, 1.0])
    grade = graph.add("Grade", inputs={"Source": constant})
    grade["gain"] = {"keys": [[1, 1.0], [4, 2.0], [5, 2.0]], "interpolation": "linear"}
    return graph, grade


def _keys(graph, node="Grade1", **extra):
    first, last = graph.settings.frame_range
    return {
        frame: frame_key(graph, node, frame, display=extra.pop("display", DISPLAY), **extra)
        for frame in range(first, last + 1)
    }


def test_an_edit_changes_the_keys_of_exactly_the_frames_it_affects():
    graph, grade = _animated_graph()
    before = _keys(graph)
    # frames 4..8 hold the same value: one entry serves them all
    assert len({before[f] for f in range(4, 9)}) == 1
    assert len({before[f] for f in range(1, 5)}) == 4
    grade["gain"] = {"keys": [[1, 0.5], [4, 2.0], [5, 2.0]], "interpolation": "linear"}
    after = _keys(graph)
    changed = {f for f in before if before[f] != after[f]}
    assert changed == {1, 2, 3}  # frame 4 is a key left alone; 5-8 hold it


def test_display_settings_proxy_region_and_layer_enter_the_key():
    graph, _ = _animated_graph()
    base = frame_key(graph, "Grade1", 2, display=DISPLAY)
    variants = [
        frame_key(graph, "Grade1", 2, display=DisplaySettings("sRGB - Display", "Raw")),
        frame_key(graph, "Grade1", 2, display=replace(DISPLAY)),
        frame_key(graph, "Grade1", 2, display=DISPLAY, proxy=2),
        frame_key(graph, "Grade1", 2, display=DISPLAY, reduction=2),
        frame_key(graph, "Grade1", 2, display=DISPLAY, visible=(0, 0, 8, 8)),
        frame_key(graph, "Grade1", 2, display=DISPLAY, wipe_node="Constant1"),
    ]
    assert variants[1] == base  # equal settings, equal key
    assert len({base, *variants}) == len(variants)
    graph.settings.working_space = "ACES2065-1"
    assert frame_key(graph, "Grade1", 2, display=DISPLAY) != base


def test_a_sequence_gives_each_frame_its_own_key_and_a_missing_file_an_error_key(tmp_path):
    for frame in (1, 2):
        write_exr(tmp_path / f"plate.{frame:04d}.exr", random_image(6, 8, seed=frame))
    graph = mb.Graph()
    graph.settings.frame_range = (1, 3)
    graph.add("Read", file=str(tmp_path / "plate.####.exr"))
    keys = _keys(graph, "Read1")
    assert keys[1] != keys[2]
    assert keys[3][0].startswith("error: Read1")
    assert node_hash(graph, "Read1", 3).startswith("error: Read1: cannot read")


def test_cache_evicts_least_recently_used_beyond_its_budget():
    cache = FrameCache(budget=100)
    for frame in range(4):
        cache.put(frame, f"frame {frame}", 30)
    assert len(cache) == 3 and cache.bytes == 90 and not cache.contains(0)
    assert cache.get(1) == "frame 1"  # now the most recently used
    cache.put(4, "frame 4", 30)
    assert [cache.contains(f) for f in range(5)] == [False, True, False, True, True]
    assert cache.evicted == 2
    cache.budget = 40  # a smaller budget evicts at once
    assert len(cache) == 1 and cache.contains(4) and cache.bytes == 30
    cache.put(4, "again", 10)  # replacing an entry counts its new size only
    assert cache.bytes == 10
    cache.put(5, "too big", 101)  # larger than the budget: kept alone (a player waits on it)
    assert len(cache) == 1 and cache.get(5) == "too big" and cache.bytes == 101
    cache.budget = 0
    assert cache.contains(5)
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0


def test_prefetch_decodes_a_frames_reads_once_and_the_render_uses_them(tmp_path, monkeypatch):
    plates = {frame: random_image(6, 8, seed=10 + frame, lo=0.02) for frame in (1, 2, 3)}
    for frame, pixels in plates.items():
        write_exr(tmp_path / f"plate.{frame:04d}.exr", pixels)
    graph = mb.Graph()
    graph.settings.frame_range = (1, 3)
    working = render.context_for(graph, 1).working_space
    read = graph.add("Read", file=str(tmp_path / "plate.####.exr"), colorspace=working)
    grade = graph.add("Grade", inputs={"Source": read}, gain=[1.5, 0.5, 2.0, 1.0])
    decoded = []
    real_read = render.io.read_image
    monkeypatch.setattr(
        render.io, "read_image", lambda path, *a, **k: decoded.append(path) or real_read(path)
    )
    futures = render.prefetch_reads(graph, grade, 2)
    assert len(futures) == 1
    pixels, _ = futures[0].result(timeout=30)
    np.testing.assert_array_equal(pixels, plates[2])
    assert render.prefetch_reads(graph, "Grade1", 2) == []  # in the cache now
    image = graph.render(grade, frame=2, backend="cpu")
    expected = plates[2].astype(np.float64) * [1.5, 0.5, 2.0, 1.0]
    np.testing.assert_allclose(image.pixels, expected, rtol=1e-6, atol=1e-7)
    assert decoded == [str(tmp_path / "plate.0002.exr")]  # decoded once, ahead
    assert render.prefetch_reads(graph, "Nope", 2) == []
