"""The viewer: OCIO display/view/look, exposure, channels, probe, errors, responsiveness."""

from __future__ import annotations

import threading
import time

import numpy as np
import PyOpenColorIO as OCIO
import pytest
from PySide6 import QtCore

from mattebox.app import render_worker
from mattebox.engine import color, render
from tests.app.conftest import wait_render
from tests.conftest import write_exr

SRGB, ACES_SDR = "sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)"


def _ocio_expected(graph, rgb, display, view, exposure=0.0):
    """One pixel through OCIO's own processor (independent of the viewer code)."""
    config_uri = color.resolve_config_uri(graph.settings.ocio_config)
    config = OCIO.Config.CreateFromFile(config_uri)
    working = config.getColorSpace(OCIO.ROLE_SCENE_LINEAR).getName()
    transform = OCIO.DisplayViewTransform(src=working, display=display, view=view)
    processor = config.getProcessor(transform).getDefaultCPUProcessor()
    pixel = [c * 2.0**exposure for c in rgb]
    out = processor.applyRGB(pixel)
    return np.clip(np.round(np.array(out) * 255.0), 0, 255)


def _shown_pixel(window, qtbot):
    result = wait_render(qtbot, window)
    return result.layers[0].display[10, 10, :3].astype(float)


def test_display_and_view_change_the_pixels_as_ocio_says(window, qtbot):
    graph = window.doc.graph
    rgb = graph["Constant1"]["color"][:3]
    viewer = window.viewer
    viewer.set_display(SRGB, ACES_SDR)
    aces = _shown_pixel(window, qtbot)
    np.testing.assert_allclose(aces, _ocio_expected(graph, rgb, SRGB, ACES_SDR), atol=1)
    viewer.set_view("Un-tone-mapped")
    plain = _shown_pixel(window, qtbot)
    np.testing.assert_allclose(plain, _ocio_expected(graph, rgb, SRGB, "Un-tone-mapped"), atol=1)
    assert np.abs(aces - plain).max() > 3
    assert graph.ui["viewer"]["view"] == "Un-tone-mapped"
    viewer.set_exposure(1.0)
    brighter = _shown_pixel(window, qtbot)
    np.testing.assert_allclose(
        brighter, _ocio_expected(graph, rgb, SRGB, "Un-tone-mapped", exposure=1.0), atol=1
    )


def test_display_menus_come_from_the_scripts_config(window):
    viewer = window.viewer
    config = color.get_config(window.doc.graph.settings.ocio_config)
    displays = [viewer.display_box.itemText(i) for i in range(viewer.display_box.count())]
    assert displays == color.displays(config)
    viewer.set_display(SRGB)
    views = [viewer.view_box.itemText(i) for i in range(viewer.view_box.count())]
    assert views == color.views(config, SRGB)
    looks = [viewer.look_box.itemText(i) for i in range(viewer.look_box.count())]
    assert looks == ["None"] + color.looks(config)


def test_channel_solo_and_gamma(window, qtbot):
    viewer = window.viewer
    viewer.set_display(SRGB, "Un-tone-mapped")
    rgb = _shown_pixel(window, qtbot)
    viewer.set_channel("b")
    blue = _shown_pixel(window, qtbot)
    assert blue[0] == blue[1] == blue[2] == rgb[2]
    viewer.set_channel("a")
    assert list(_shown_pixel(window, qtbot)) == [255, 255, 255]
    viewer.set_channel("rgb")
    viewer.set_gamma(2.0)
    lifted = _shown_pixel(window, qtbot)
    assert (lifted > rgb).all()


def test_probe_reads_linear_values_and_position(window, qtbot):
    wait_render(qtbot, window)
    viewer = window.viewer
    viewer.canvas.probe_pinned.emit((3, 4))
    assert viewer.canvas.probe == (3, 4)
    values = viewer.probe_values(3, 4)
    np.testing.assert_allclose(values, window.doc.graph.render("Grade1").pixels[4, 3])
    assert "x 3  y 4" in viewer.info.text() and "R 0.18000" in viewer.info.text()
    assert window.doc.graph.ui["viewer"]["probe"] == [3, 4]
    assert viewer.probe_values(500, 500) == (0.0, 0.0, 0.0, 0.0)  # outside the data window


def test_keys_one_to_five_connect_the_selected_node(window, qtbot):
    window.editor.select(["Constant1"])
    window.actions["view_2"].trigger()
    viewer = window.viewer
    assert viewer.inputs[:2] == ["Grade1", "Constant1"] and viewer.active == 1
    assert viewer.shown_node() == "Constant1"
    assert window.editor.view_of("Constant1").view.viewer_slots == [1]
    window.editor.select([])
    window.actions["view_1"].trigger()
    assert viewer.shown_node() == "Grade1"
    result = wait_render(qtbot, window)
    assert result.request.node == "Grade1"


def test_ab_wipe_renders_both_inputs(window, qtbot):
    viewer = window.viewer
    viewer.connect_input(1, "Constant1")
    viewer.connect_input(0, "Grade1")
    window.doc.graph["Grade1"]["gain"] = 3.0
    viewer.wipe_button.setChecked(True)
    result = wait_render(qtbot, window)
    assert [layer.node for layer in result.layers] == ["Grade1", "Constant1"]
    a, b = (layer.display[5, 5] for layer in result.layers)
    assert not np.array_equal(a, b)
    assert window.doc.graph.ui["viewer"]["wipe"]["input"] == 1


def test_zoom_pan_fit_and_region_of_interest(window, qtbot):
    viewer = window.viewer
    canvas = viewer.canvas
    canvas.fit()
    wait_render(qtbot, window)
    assert viewer.last_result.layers[0].image.data_window == (0, 0, 64, 48)
    canvas.zoom_by(8.0)  # now only the middle of the image is on screen
    result = wait_render(qtbot, window)
    x0, y0, x1, y1 = result.layers[0].image.data_window
    assert (x1 - x0) < 64 and (y1 - y0) < 48
    assert result.request.visible is not None
    canvas.one_to_one()
    assert canvas.zoom == 1.0


def test_a_missing_file_turns_the_node_red_and_the_editor_keeps_working(window, qtbot, tmp_path):
    graph = window.doc.graph
    window.editor.create_node(
        "Read", (200, 0), params={"file": str(tmp_path / "missing.exr")}, connect_selection=False
    )
    window.viewer.connect_input(0, "Read1")
    result = wait_render(qtbot, window)
    assert "no such file" in result.layers[0].error
    assert "no such file" in window.viewer.canvas.message
    qtbot.waitUntil(lambda: "Read1" in window.editor.errors)
    item = window.editor.view_of("Read1").view
    assert item.error and "no such file" in item.toolTip()
    assert "Grade1" not in window.editor.errors
    assert window.recorder.errors == []  # no dialog
    pixels = np.full((8, 8, 4), 0.5, np.float32)
    write_exr(tmp_path / "there.exr", pixels)
    window.properties.show_node("Read1")
    line = window.properties.rows["file"].editor.line
    line.setText(str(tmp_path / "there.exr"))
    line.editingFinished.emit()
    result = wait_render(qtbot, window)
    assert result.layers[0].error is None
    qtbot.waitUntil(lambda: "Read1" not in window.editor.errors)
    assert window.editor.view_of("Read1").view.error is None
    assert graph["Read1"]["file"].endswith("there.exr")


def test_a_slow_render_does_not_block_the_event_loop(window, qtbot, monkeypatch):
    slow_started = threading.Event()
    real_render = render.render

    def slow_render(graph, node, frame=None, backend="auto", region=None, cancel=None, **kw):
        slow_started.set()
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            if cancel is not None and cancel():
                raise render.Cancelled()
            time.sleep(0.005)
        return real_render(graph, node, frame=frame, backend=backend, region=region, **kw)

    monkeypatch.setattr(render_worker.render, "render", slow_render)
    ticks = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    window.doc.graph["Grade1"]["gain"] = 2.0
    qtbot.waitUntil(slow_started.is_set, timeout=5000)
    start = time.monotonic()
    qtbot.wait(400)  # the UI thread keeps running its timers meanwhile
    during = [t for t in ticks if t >= start]
    assert len(during) >= 15, len(during)
    cancelled = window.viewer.renderer.cancelled
    window.doc.graph["Grade1"]["gain"] = 3.0  # a new request cancels the stale render
    qtbot.waitUntil(lambda: window.viewer.renderer.cancelled > cancelled, timeout=3000)
    result = wait_render(qtbot, window, timeout=10000)
    timer.stop()
    assert result.request.graph["Grade1"]["gain"] == (3.0, 3.0, 3.0, 3.0)


def test_an_engine_exception_becomes_text_not_a_crash(window, qtbot, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(render_worker.render, "render", broken)
    window.doc.graph["Grade1"]["gain"] = 2.0
    result = wait_render(qtbot, window)
    assert "boom" in result.layers[0].error
    assert "boom" in window.viewer.canvas.message


@pytest.mark.parametrize("zoom, draft, factor", [(1.0, False, 1), (0.25, False, 4), (0.3, True, 6)])
def test_reduction_follows_zoom(zoom, draft, factor):
    from mattebox.engine.viewer import reduction_for

    assert reduction_for(zoom, draft) == factor


@pytest.mark.parametrize(
    "zoom, draft, level",
    [
        (1.0, False, 1),
        (2.0, False, 1),
        (0.5, False, 2),
        (0.3, False, 2),
        (0.25, False, 4),
        (0.1, False, 8),
        (0.01, False, 8),
        (1.0, True, 2),
        (0.3, True, 4),
        (0.1, True, 8),
    ],
)
def test_proxy_level_follows_zoom(zoom, draft, level):
    from mattebox.engine.viewer import proxy_for

    assert proxy_for(zoom, draft) == level


def test_a_draft_asks_for_a_higher_proxy_level_than_the_refined_render(window, qtbot, monkeypatch):
    viewer = window.viewer
    wait_render(qtbot, window)
    asked = []
    request = viewer.renderer.request
    monkeypatch.setattr(
        viewer.renderer, "request", lambda r: (asked.append((r.draft, r.proxy)), request(r))[1]
    )
    viewer.canvas.auto_fit = False
    viewer.canvas.zoom = 0.5  # one screen pixel covers 2x2 image pixels
    viewer.set_draft(True)
    qtbot.waitUntil(lambda: any(draft for draft, _ in asked), timeout=5000)
    viewer.set_draft(False)
    result = wait_render(qtbot, window)
    drafts = [proxy for draft, proxy in asked if draft]
    refined = [proxy for draft, proxy in asked if not draft]
    assert drafts and refined
    assert drafts[-1] == 4 and refined[-1] == 2
    assert result.request.proxy == 2 and not result.request.draft
    image = result.layers[0].image
    assert image.proxy == 2  # the image says its level; its window is in proxy pixels
    x0, y0, x1, y1 = result.layers[0].data_window.as_tuple()
    assert image.data_window == (x0 // 2, y0 // 2, -(-x1 // 2), -(-y1 // 2))
    assert "proxy 1/2" in viewer._probe_text((x0, y0))
