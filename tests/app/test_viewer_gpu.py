"""The viewer takes the GPU display path when its backend is the GPU (the render stays on
the device, 8-bit pixels come back), the host path otherwise, and falls back to the host
path on a GPU error; the probe and the canvas keep working on either."""

from __future__ import annotations

import numpy as np
import pytest

from mattebox.engine import render
from mattebox.engine import viewer as engine_viewer
from mattebox.engine.backends.gpu.backend import GpuBackend
from mattebox.engine.image import DeviceImage
from mattebox.nodes.spec import Window
from tests.app.conftest import wait_render
from tests.conftest import require_gpu


@pytest.fixture
def noisy(window, qtbot):
    """The window viewing Grade1 on a Noise (a varied image), exposure and gamma set."""
    window.editor.create_node("Noise", (200, 0), params={}, connect_selection=False)
    window.doc.graph["Grade1"].set_input("Source", window.doc.graph["Noise1"])
    window.doc.graph["Grade1"]["gain"] = [1.4, 0.8, 1.1, 1.0]
    window.viewer.set_exposure(0.5)
    wait_render(qtbot, window)
    return window


def on_host(result):
    """The CPU path's display pixels and image for what ``result`` shows."""
    request = result.request
    region = Window(*request.visible) if request.visible else result.layers[0].data_window
    region = region.intersect(result.layers[0].data_window)
    return engine_viewer.render_for_display(
        request.graph,
        request.node,
        request.frame,
        region,
        request.display,
        reduction=request.reduction,
        proxy=request.proxy,
        backend="cpu",
    )


def show_on(window, qtbot, backend: str):
    window.viewer.backend = backend
    render.session().cache.clear()
    window.viewer.schedule()
    return wait_render(qtbot, window)


def assert_same_screen(result, window):
    image, expected = on_host(result)
    shown = result.layers[0].display
    assert shown.shape == expected.shape
    assert np.abs(shown.astype(int) - expected).max() <= 1
    assert len(np.unique(shown[..., 0])) > 10  # noise, not a flat colour
    drawn = window.viewer.canvas.images[0]
    colour = drawn.pixelColor(7, 5)
    assert (colour.red(), colour.green(), colour.blue()) == tuple(shown[5, 7, :3])
    assert not window.grab().isNull()  # outlines, probe and labels paint over it
    return image


def test_the_gpu_backend_displays_on_the_device(noisy, qtbot):
    require_gpu()
    device = render.backend_for("gpu")
    device.counters.clear()
    result = show_on(noisy, qtbot, "gpu")
    layer = result.layers[0]
    assert isinstance(layer.image, DeviceImage) and layer.image.on_device
    assert device.counters["displays"] == 1 and device.counters["download_bytes"] == 0
    image = assert_same_screen(result, noisy)
    values = noisy.viewer.probe_values(9, 6)
    np.testing.assert_allclose(values, image.pixels[6, 9], rtol=1e-5, atol=1e-6)
    assert layer.image.on_device  # the probe read one pixel, not the image


def test_the_cpu_backend_displays_on_the_host(noisy, qtbot):
    result = show_on(noisy, qtbot, "cpu")
    assert not isinstance(result.layers[0].image, DeviceImage)
    image = assert_same_screen(result, noisy)
    np.testing.assert_allclose(noisy.viewer.probe_values(9, 6), image.pixels[6, 9], atol=1e-6)


def test_a_gpu_error_falls_back_to_the_host_path(noisy, qtbot, monkeypatch):
    require_gpu()
    monkeypatch.setenv("MATTEBOX_GPU_FALLBACK", "1")

    def lost(self, *args, **kwargs):
        raise RuntimeError("Device lost (simulated in the viewer)")

    monkeypatch.setattr(GpuBackend, "display", lost)
    render.session().warned.clear()
    with pytest.warns(RuntimeWarning, match="simulated in the viewer"):
        result = show_on(noisy, qtbot, "gpu")
    assert not isinstance(result.layers[0].image, DeviceImage)
    assert result.layers[0].error is None
    assert any("simulated in the viewer" in text for text in render.session().warned)
    assert_same_screen(result, noisy)
