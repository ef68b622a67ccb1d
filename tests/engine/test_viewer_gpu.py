"""The viewer's display step on the GPU (issue 13 item 5): a render for the viewer stays
on the device, one dispatch turns it into 8-bit screen pixels, and only those come back.
Checked against a reference written here from the formula (block mean in float64,
exposure, OpenColorIO's CPU processor, gamma, channel, rounding) and against the CPU
path, within one code value; the probe's values, what crosses the bus, the fallbacks.
Runs on any wgpu adapter (lavapipe in CI)."""

from __future__ import annotations

import numpy as np
import PyOpenColorIO as OCIO
import pytest

import mattebox as mb
from mattebox.engine import color, render
from mattebox.engine import viewer as engine_viewer
from mattebox.engine.backends.base import DisplayUnsupported
from mattebox.engine.backends.gpu.backend import GpuBackend
from mattebox.engine.image import DeviceImage
from mattebox.nodes.spec import Format, Window
from tests.conftest import random_image, require_gpu

WIDTH, HEIGHT = 37, 29  # odd sizes: blocks cut short at the right and bottom edges


@pytest.fixture
def gpu(monkeypatch):
    require_gpu()
    monkeypatch.delenv("MATTEBOX_GPU_CACHE_MEMORY", raising=False)
    backend = render.backend_for("gpu")
    render.session().cache.clear()  # the device's kept images go with it
    backend.counters.clear()
    yield backend
    # leave the device cache as a fresh one (other tests count its evictions)
    render.session().cache.clear()
    device = render.backend_for("gpu")
    device.resident.hits = device.resident.misses = 0
    device.resident.stored = device.resident.evicted = 0


@pytest.fixture
def plate(array_source):
    """A graph with a random plate (alpha in [0.05, 1], values beyond 1) and Grade1 on it."""
    pixels = random_image(HEIGHT, WIDTH, seed=41, lo=-0.05, hi=2.5)
    graph = mb.Graph()
    graph.settings.format = Format(WIDTH, HEIGHT)
    read = array_source(graph, pixels)
    grade = graph.add("Grade", inputs={"Source": read}, gain=[1.2, 0.9, 1.1, 1.0])
    expected = pixels.astype(np.float64)
    expected[..., :3] = np.maximum(expected[..., :3] * [1.2, 0.9, 1.1], 0.0)
    return graph, grade, expected


def block_mean(pixels: np.ndarray, factor: int) -> np.ndarray:
    """Mean of each factor x factor block from the corner, edge blocks over what they have."""
    height, width = pixels.shape[:2]
    rows, cols = -(-height // factor), -(-width // factor)
    out = np.zeros((rows, cols, pixels.shape[2]), np.float64)
    for j in range(rows):
        for i in range(cols):
            block = pixels[j * factor : (j + 1) * factor, i * factor : (i + 1) * factor]
            out[j, i] = block.reshape(-1, pixels.shape[2]).mean(axis=0)
    return out


def reference(linear: np.ndarray, settings, factor: int, graph) -> np.ndarray:
    """8-bit display pixels from the formula: block mean, exposure, OCIO's CPU processor on
    the stored values (alpha kept), gamma, channel solo, round half up, alpha 255."""
    mean = block_mean(linear, factor)
    if settings.channel == "a":
        shown = np.repeat(mean[..., 3:4], 3, axis=2)
    else:
        ctx = render.context_for(graph, 1)
        config = color.get_config(ctx.ocio_config)
        transform = OCIO.DisplayViewTransform(
            src=ctx.working_space, display=settings.display, view=settings.view
        )
        pipeline = OCIO.LegacyViewingPipeline()  # OCIO's own way to override the looks
        pipeline.setDisplayViewTransform(transform)
        pipeline.setLooksOverride(settings.look)
        pipeline.setLooksOverrideEnabled(bool(settings.look))
        processor = pipeline.getProcessor(config, config.getCurrentContext())
        cpu = processor.getDefaultCPUProcessor()
        rgba = mean.astype(np.float32)
        rgba[..., :3] *= np.float32(2.0**settings.exposure)
        rgba = np.ascontiguousarray(rgba)
        cpu.applyRGBA(rgba)
        shown = rgba[..., :3].astype(np.float64)
        if settings.gamma != 1.0:
            shown = np.maximum(shown, 0.0) ** (1.0 / settings.gamma)
        if settings.channel in ("r", "g", "b"):
            shown = np.repeat(shown[..., "rgb".index(settings.channel)][..., None], 3, axis=2)
        elif settings.channel == "luminance":
            shown = np.repeat((shown @ [0.2126, 0.7152, 0.0722])[..., None], 3, axis=2)
    out = np.full((*shown.shape[:2], 4), 255, np.uint8)
    out[..., :3] = np.floor(np.clip(np.nan_to_num(shown) * 255.0 + 0.5, 0, 255))
    return out


def assert_codes_close(got: np.ndarray, want: np.ndarray, most: int = 1) -> None:
    assert got.shape == want.shape and got.dtype == np.uint8
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
    assert diff.max() <= most, f"{diff.max()} code values apart at {np.argwhere(diff > most)[:4]}"


SETTINGS = [
    ("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)", "", 0.0, 1.0, "rgb"),
    ("sRGB - Display", "Un-tone-mapped", "", 1.5, 1.0, "rgb"),
    ("Display P3 - Display", "ACES 2.0 - SDR 100 nits (P3 D65)", "", -0.75, 1.0, "rgb"),
    ("Rec.1886 Rec.709 - Display", "Video (colorimetric)", "", 0.0, 2.2, "rgb"),
    (
        "sRGB - Display",
        "ACES 2.0 - SDR 100 nits (Rec.709)",
        "ACES 1.3 Reference Gamut Compression",
        0.5,
        1.0,
        "rgb",
    ),
    ("sRGB - Display", "Raw", "", 0.0, 1.0, "rgb"),
    ("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)", "", 0.0, 0.8, "r"),
    ("sRGB - Display", "Un-tone-mapped", "", 0.0, 1.0, "g"),
    ("sRGB - Display", "Un-tone-mapped", "", 0.0, 1.0, "b"),
    ("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)", "", 1.0, 1.0, "luminance"),
    ("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)", "", 2.0, 1.8, "a"),
]


@pytest.mark.parametrize("reduction", [1, 3])
@pytest.mark.parametrize("display, view, look, exposure, gamma, channel", SETTINGS)
def test_gpu_display_equals_the_formula_and_the_cpu_path(
    gpu, plate, display, view, look, exposure, gamma, channel, reduction
):
    graph, grade, linear = plate
    settings = engine_viewer.DisplaySettings(display, view, look, exposure, gamma, channel)
    region = Window(0, 0, WIDTH, HEIGHT)
    image, shown = engine_viewer.render_for_display(
        graph, grade, 1, region, settings, reduction=reduction, backend="gpu"
    )
    assert isinstance(image, DeviceImage) and image.on_device
    assert gpu.counters["displays"] == 1
    assert gpu.counters["download_bytes"] == 0  # no float pixel came back
    assert gpu.counters["display_bytes"] == shown.shape[0] * shown.shape[1] * 4
    want = reference(linear, settings, reduction, graph)
    assert_codes_close(shown, want)
    assert len(np.unique(shown[..., :3])) > 20  # a real image, not a flat one
    _, on_cpu = engine_viewer.render_for_display(
        graph, grade, 1, region, settings, reduction=reduction, backend="cpu"
    )
    assert_codes_close(shown, on_cpu)


@pytest.mark.parametrize("proxy, reduction", [(2, 2), (2, 4), (4, 8)])
def test_proxies_and_a_visible_part(gpu, plate, proxy, reduction):
    graph, grade, _ = plate
    settings = engine_viewer.DisplaySettings(
        "sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)", exposure=0.25
    )
    region = Window(3, 5, 34, 27)  # what is on screen: the render covers it at 1/proxy
    image, shown = engine_viewer.render_for_display(
        graph, grade, 1, region, settings, reduction=reduction, proxy=proxy, backend="gpu"
    )
    assert isinstance(image, DeviceImage) and image.proxy == proxy
    cpu_image, on_cpu = engine_viewer.render_for_display(
        graph, grade, 1, region, settings, reduction=reduction, proxy=proxy, backend="cpu"
    )
    assert image.data_window == cpu_image.data_window
    assert_codes_close(shown, on_cpu)
    want = reference(cpu_image.pixels.astype(np.float64), settings, reduction // proxy, graph)
    assert_codes_close(shown, want)


def test_the_probe_reads_one_pixel_from_the_device_and_pixels_download_on_demand(gpu, plate):
    graph, grade, linear = plate
    settings = engine_viewer.DisplaySettings("sRGB - Display", "Un-tone-mapped")
    image, _ = engine_viewer.render_for_display(
        graph, grade, 1, Window(2, 1, 30, 25), settings, backend="gpu"
    )
    assert image.data_window == (2, 1, 30, 25)
    for x, y in [(0, 0), (27, 23), (11, 7)]:
        np.testing.assert_allclose(image.pixel(x, y), linear[y + 1, x + 2], rtol=1e-5, atol=1e-6)
    assert gpu.counters["pixel_reads"] == 3 and image.on_device
    np.testing.assert_allclose(image.pixels, linear[1:25, 2:30], rtol=1e-5, atol=1e-6)
    assert not image.on_device and gpu.counters["downloads"] == 1


def test_a_display_change_renders_nothing_again(gpu, plate):
    graph, grade, _ = plate
    region = Window(0, 0, WIDTH, HEIGHT)
    first = engine_viewer.DisplaySettings("sRGB - Display", "Un-tone-mapped")
    engine_viewer.render_for_display(graph, grade, 1, region, first, backend="gpu")
    for exposure in (0.5, -1.0):
        gpu.counters.clear()
        settings = engine_viewer.DisplaySettings(
            "sRGB - Display", "Un-tone-mapped", exposure=exposure
        )
        _, shown = engine_viewer.render_for_display(
            graph, grade, 1, region, settings, backend="gpu"
        )
        assert gpu.counters["dispatches"] == 1  # the display step alone
        assert gpu.counters["uploads"] == 0 and gpu.counters["download_bytes"] == 0
        _, on_cpu = engine_viewer.render_for_display(
            graph, grade, 1, region, settings, backend="cpu"
        )
        assert_codes_close(shown, on_cpu)


def test_a_gpu_error_in_the_display_step_falls_back_to_the_cpu_path(gpu, plate, monkeypatch):
    monkeypatch.setenv("MATTEBOX_GPU_FALLBACK", "1")
    graph, grade, linear = plate
    settings = engine_viewer.DisplaySettings("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)")

    def lost(self, *args, **kwargs):
        raise RuntimeError("Device lost (simulated)")

    monkeypatch.setattr(GpuBackend, "display", lost)
    render.session().warned.clear()
    with pytest.warns(RuntimeWarning, match="GPU failed .*Device lost"):
        image, shown = engine_viewer.render_for_display(
            graph, grade, 1, Window(0, 0, WIDTH, HEIGHT), settings, reduction=2, backend="gpu"
        )
    assert not isinstance(image, DeviceImage)
    np.testing.assert_allclose(image.pixels, linear, rtol=1e-5, atol=1e-6)
    assert_codes_close(shown, reference(linear, settings, 2, graph))


def test_a_view_without_a_shader_form_is_displayed_on_the_cpu(gpu, plate, monkeypatch):
    graph, grade, linear = plate
    settings = engine_viewer.DisplaySettings("sRGB - Display", "Un-tone-mapped", exposure=0.5)

    def unsupported(self, *args, **kwargs):
        raise DisplayUnsupported("GLSL line 3: unsupported construct (example)")

    monkeypatch.setattr(GpuBackend, "display", unsupported)
    render.session().warned.clear()
    with pytest.warns(RuntimeWarning, match="display transform on the CPU .*example"):
        image, shown = engine_viewer.render_for_display(
            graph, grade, 1, Window(0, 0, WIDTH, HEIGHT), settings, backend="gpu"
        )
    assert isinstance(image, DeviceImage)  # rendered on the device, displayed on the host
    assert_codes_close(shown, reference(linear, settings, 1, graph))


def test_images_larger_than_a_tile_and_other_layers_take_the_host_path(gpu, plate, monkeypatch):
    graph, grade, linear = plate
    settings = engine_viewer.DisplaySettings("sRGB - Display", "Un-tone-mapped")
    monkeypatch.setenv("MATTEBOX_GPU_MEMORY", str(2 * WIDTH * 8 * 16 / 2**20))  # many tiles
    image, shown = engine_viewer.render_for_display(
        graph, grade, 1, Window(0, 0, WIDTH, HEIGHT), settings, backend="gpu"
    )
    assert not isinstance(image, DeviceImage) and gpu.counters["displays"] == 0
    np.testing.assert_allclose(image.pixels, linear, rtol=1e-5, atol=1e-6)
    assert_codes_close(shown, reference(linear, settings, 1, graph))


def test_the_cpu_backend_takes_the_host_path(plate):
    graph, grade, linear = plate
    settings = engine_viewer.DisplaySettings("sRGB - Display", "Video (colorimetric)", gamma=1.4)
    image, shown = engine_viewer.render_for_display(
        graph, grade, 1, Window(0, 0, WIDTH, HEIGHT), settings, reduction=2, backend="cpu"
    )
    assert not isinstance(image, DeviceImage)
    assert_codes_close(shown, reference(linear, settings, 2, graph))
