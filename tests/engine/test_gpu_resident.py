"""Transfers and the device's resident cache (issue 13 item 4): images kept on the device
between renders by node hash, so that a re-render after a parameter change uploads
nothing; the budget evicts; threaded copies into and out of mapped memory give the same
pixels; a failing GPU still falls back. Runs on any wgpu adapter (lavapipe in CI).
"""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render
from mattebox.engine.backends.gpu import transfer
from tests.conftest import random_image, require_gpu


@pytest.fixture
def gpu(monkeypatch):
    require_gpu()
    monkeypatch.delenv("MATTEBOX_GPU_CACHE_MEMORY", raising=False)
    backend = render.backend_for("gpu")
    render.session().cache.clear()  # the device's resident images go with it
    assert len(backend.resident) == 0
    backend.counters.clear()
    return backend


def graded_over(pixels_a, pixels_b, gain):
    """Grade (gain only, black clamp) of A, over B: the formula in float64."""
    a = pixels_a.astype(np.float64)
    a[..., :3] = np.maximum(a[..., :3] * np.asarray(gain[:3]), 0.0)
    b = pixels_b.astype(np.float64)
    return a + b * (1.0 - a[..., 3:4])


def test_a_rerender_after_a_parameter_change_uploads_nothing(gpu, array_source):
    pixels_a = random_image(23, 37, seed=21)
    pixels_b = random_image(23, 37, seed=22)
    g = mb.Graph()
    a = array_source(g, pixels_a)
    b = array_source(g, pixels_b)
    grade = g.add("Grade", inputs={"Source": a})
    merge = g.add("Merge", inputs={"B": b, "A": grade}, operation="over")
    grade["gain"] = [1.3, 0.8, 1.1, 1.0]  # an edit: Grade is the node being edited
    first = render.render(g, merge, backend="gpu")
    assert gpu.counters["uploads"] == 2
    np.testing.assert_allclose(
        first.pixels, graded_over(pixels_a, pixels_b, [1.3, 0.8, 1.1]), rtol=1e-5, atol=1e-6
    )
    for gain in ([0.7, 1.2, 0.9, 1.0], [1.05, 1.0, 0.6, 1.0]):
        grade["gain"] = gain
        gpu.counters.clear()
        image = render.render(g, merge, backend="gpu")
        assert gpu.counters["uploads"] == 0, gpu.counters
        assert gpu.counters["upload_bytes"] == 0
        assert gpu.counters["resident_hits"] == 2
        assert gpu.counters["dispatches"] == 1  # the fused grade + over, nothing else
        np.testing.assert_allclose(
            image.pixels, graded_over(pixels_a, pixels_b, gain), rtol=1e-5, atol=1e-6
        )
    # without the cache every input goes up again (what the benchmark's end to end times)
    gpu.counters.clear()
    render.render(g, merge, backend="gpu", use_cache=False)
    assert gpu.counters["uploads"] == 2 and gpu.counters["resident_hits"] == 0


def test_an_edited_nodes_input_stays_on_the_device(gpu, array_source):
    """Read -> Blur -> Grade being edited: the blurred image is kept on the device (a copy
    of its pool slot); the next edit runs only the Grade and uploads nothing, with the
    pixels of a render without any cache."""
    g = mb.Graph()
    source = array_source(g, random_image(31, 26, seed=23), window=(3, -4))
    blur = g.add("Blur", inputs={"Source": source}, size=3.0)
    grade = g.add("Grade", inputs={"Source": blur})
    grade["gain"] = 1.2
    render.render(g, grade, backend="gpu")
    assert len(gpu.resident) == 2  # the plate and the blurred image
    grade["gain"] = 0.6
    gpu.counters.clear()
    image = render.render(g, grade, backend="gpu")
    assert gpu.counters["uploads"] == 0 and gpu.counters["resident_hits"] == 1
    assert gpu.counters["dispatches"] == 1
    fresh = render.render(g, grade, backend="gpu", use_cache=False)
    np.testing.assert_array_equal(image.pixels, fresh.pixels)
    on_cpu = render.render(g, grade, backend="cpu", use_cache=False)
    np.testing.assert_allclose(image.pixels, on_cpu.pixels, rtol=1e-5, atol=2e-6)


def test_the_resident_budget_evicts_the_least_recently_used(gpu, array_source, monkeypatch):
    pixels_a = random_image(20, 30, seed=24)
    pixels_b = random_image(20, 30, seed=25)
    one = 20 * 30 * 16  # bytes of one plate
    monkeypatch.setenv("MATTEBOX_GPU_CACHE_MEMORY", str(1.5 * one / 2**20))
    g = mb.Graph()
    a = array_source(g, pixels_a)
    b = array_source(g, pixels_b)
    grade = g.add("Grade", inputs={"Source": a})
    merge = g.add("Merge", inputs={"B": b, "A": grade}, operation="over")
    grade["gain"] = [1.1, 1.1, 1.1, 1.0]
    render.render(g, merge, backend="gpu")
    assert gpu.resident.bytes <= gpu.resident.budget
    assert len(gpu.resident) == 1 and gpu.resident.evicted == 1
    grade["gain"] = [0.9, 1.2, 1.1, 1.0]
    gpu.counters.clear()
    image = render.render(g, merge, backend="gpu")
    assert gpu.counters["uploads"] == 1 and gpu.counters["resident_hits"] == 1
    np.testing.assert_allclose(
        image.pixels, graded_over(pixels_a, pixels_b, [0.9, 1.2, 1.1]), rtol=1e-5, atol=1e-6
    )
    monkeypatch.setenv("MATTEBOX_GPU_CACHE_MEMORY", "0")  # off: nothing is kept
    gpu.forget_kept()
    grade["gain"] = [1.0, 0.8, 1.1, 1.0]
    gpu.counters.clear()
    render.render(g, merge, backend="gpu")
    assert len(gpu.resident) == 0 and gpu.counters["uploads"] == 2


def test_clear_cache_frees_the_devices_images(gpu, array_source):
    g = mb.Graph()
    node = g.add("Invert", inputs={"Source": array_source(g, random_image(9, 13, seed=26))})
    render.render(g, node, backend="gpu")
    assert len(gpu.resident) == 1
    render.session().cache.clear()
    assert len(gpu.resident) == 0 and gpu.resident.bytes == 0


def test_threaded_copies_in_many_chunks_keep_every_pixel(gpu, array_source, monkeypatch):
    """Bands on three threads, chunks of a few rows, a plate read through a tile's part
    (a strided view): the round trip gives the file's pixels exactly."""
    monkeypatch.setenv("MATTEBOX_COPY_THREADS", "3")
    monkeypatch.setattr(transfer, "MIN_BAND", 64)
    monkeypatch.setattr(gpu.staging, "chunk", 8192)
    monkeypatch.setattr(gpu.readbacks, "chunk", 8192)
    pixels = random_image(57, 83, seed=27)
    g = mb.Graph()
    read = array_source(g, pixels, window=(5, -2))
    image = render.render(g, read, backend="gpu", use_cache=False, region=(9, 1, 70, 40))
    np.testing.assert_array_equal(image.pixels, pixels[3:42, 4:65])
    dst = np.empty((40, 30, 4), np.float32)
    transfer.copy_rows(dst, pixels[5:45, 10:40])
    np.testing.assert_array_equal(dst, pixels[5:45, 10:40])


def test_a_gpu_failure_after_cached_renders_still_falls_back(gpu, array_source, monkeypatch):
    from mattebox.engine.backends.gpu.backend import GpuBackend

    monkeypatch.setattr(render.session(), "warned", set())
    monkeypatch.setenv("MATTEBOX_GPU_FALLBACK", "1")
    pixels_a = random_image(16, 21, seed=28)
    pixels_b = random_image(16, 21, seed=29)
    g = mb.Graph()
    a = array_source(g, pixels_a)
    b = array_source(g, pixels_b)
    grade = g.add("Grade", inputs={"Source": a})
    merge = g.add("Merge", inputs={"B": b, "A": grade}, operation="over")
    grade["gain"] = 1.4
    render.render(g, merge, backend="gpu")
    assert len(gpu.resident) == 2

    def lost(self, *args, **kw):
        raise RuntimeError("Device lost (simulated)")

    monkeypatch.setattr(GpuBackend, "run", lost)
    grade["gain"] = [0.5, 1.5, 1.0, 1.0]
    with pytest.warns(RuntimeWarning, match="Device lost"):
        image = render.render(g, merge, backend="gpu")
    np.testing.assert_allclose(
        image.pixels, graded_over(pixels_a, pixels_b, [0.5, 1.5, 1.0]), rtol=1e-5, atol=1e-6
    )
