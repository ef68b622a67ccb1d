"""bench/latency.py's own parts on a tiny comp: a slider drag through the real properties
panel reaches the viewer's pixels, each step is matched with the paint that shows it, and
the parts of a step's time add up to no more than the step."""

from __future__ import annotations

import numpy as np
import pytest

from bench import latency
from mattebox.app.properties import SLIDER_STEPS
from mattebox.engine import render
from mattebox.engine import viewer as engine_viewer


def test_percentile_is_numpy_linear():
    values = list(np.random.default_rng(3).uniform(0, 200, 37))
    for q in (0.0, 0.5, 0.95, 1.0):
        assert latency.percentile(values, q) == pytest.approx(np.percentile(values, q * 100))


def test_slider_positions_are_distinct_and_go_both_ways():
    class Slider:
        lo, hi = 0.0, 4.0

    runs = {}
    for lane, index in latency.LANES.items():
        up = latency.slider_positions(Slider, 50, True, index)
        down = latency.slider_positions(Slider, 50, False, index)
        assert len(set(up)) == 50 and sorted(down) == up and up == sorted(up)
        # gain 1.0 and 1.6 on a 0..4 slider of 1000 steps: positions 250 and 400
        assert 250 < up[0] <= 253 and 398 <= up[-1] <= 400
        runs[lane] = set(up)
    # no run shows a value another one rendered (the render cache would answer it)
    assert not (runs["warm"] & runs["step"] or runs["step"] & runs["drag"])
    assert not runs["warm"] & runs["drag"]
    with pytest.raises(ValueError, match="positions for each run"):
        latency.slider_positions(Slider, 51, True, 0)


def test_a_drag_through_the_panel_is_timed_to_the_viewers_pixels(qtbot, tmp_path, monkeypatch):
    monkeypatch.setitem(latency.SIZES, "tiny", (96, 54))
    monkeypatch.setattr(latency, "WINDOW", (900, 640))
    probe = latency.Probe()
    with latency.instrumented(probe):
        window = latency.make_window()
        qtbot.addWidget(window)
        probe.viewer = window.viewer
        try:
            window.doc.set_graph(latency.comp(tmp_path, "tiny"))
            window.properties.show_node("Grade1")
            window.viewer.backend = "cpu"
            latency.quiet(window)
            records, levels = latency.drag(window, probe, 4, "step", True, "step")
            drag_records, _ = latency.drag(window, probe, 4, "drag", False, "drag")
            slider = window.properties.rows["gain"].editor.slider
            last = latency.slider_positions(slider, 4, False, latency.LANES["drag"])[-1]
            last_gain = slider.lo + (slider.hi - slider.lo) * last / SLIDER_STEPS
            shown = window.viewer.last_result.layers[0]
            graph = window.doc.root
            final = render.render(graph, graph["Merge1"], backend="cpu", use_cache=False)
        finally:
            window.viewer.shutdown()
    assert levels["draft"] and levels["error"] is None and levels["display_shape"]
    for record in records:
        assert record["latency"] > 0 and record["parts"]["render"] > 0
        assert record["parts"]["display"] > 0 and record["parts"]["paint"] > 0
        # what no part covers is Qt's; parts of the two threads may overlap
        assert record["covered"] + record["parts"]["Qt"] == pytest.approx(record["latency"])
        timed = sum(v for k, v in record["parts"].items() if k != "Qt")
        assert record["covered"] <= timed + 1e-9 and record["covered"] <= record["latency"]
    assert [r["revision"] for r in records] == sorted({r["revision"] for r in records})
    assert all(r["latency"] > 0 for r in drag_records)
    # the drag ended back near GAIN_FROM, and the refined view shows that graph's render
    assert graph["Grade1"]["gain"][0] == pytest.approx(last_gain, abs=1e-6)
    assert abs(last_gain - latency.GAIN_FROM) < 0.02
    assert shown.image.proxy == 1 and not window.viewer.last_result.request.draft
    box = shown.image.data_window  # the visible part the viewer rendered
    np.testing.assert_allclose(shown.image.pixels, final.crop(box), rtol=1e-5, atol=1e-6)
    summary = latency.summarise(records)
    assert summary["steps"] == 4 and summary["p50_ms"] <= summary["p95_ms"] <= summary["max_ms"]
    table = latency.table(
        {
            "cases": [
                {
                    "size": "tiny",
                    "backends": {
                        "cpu": {
                            "device": "CPU",
                            "meaningful": True,
                            "levels": levels,
                            "step": summary,
                            "drag": latency.summarise(drag_records),
                        }
                    },
                }
            ]
        }
    )
    assert table.count("\n") == 2 and "| tiny | cpu |" in table
    assert engine_viewer.reduce is not None  # the wrappers were put back
    assert not hasattr(render.render, "__wrapped__")


def test_parts_of_two_threads_may_overlap_and_qt_is_what_none_covers():
    probe = latency.Probe()
    probe.note("paint", 0.0, 2.0)  # the main thread
    probe.note("render", 1.0, 4.0)  # the render thread, at the same time
    probe.note("display", 4.0, 5.0)
    probe.note("evaluate", 9.0, 12.0)  # partly after the step
    parts, covered = probe.parts_within(0.5, 10.0)
    assert parts["paint"] == 1.5 and parts["render"] == 3.0 and parts["display"] == 1.0
    assert parts["evaluate"] == 1.0
    assert covered == 1.5 + 2.0 + 1.0 + 1.0  # [0.5, 5] and [9, 10]
