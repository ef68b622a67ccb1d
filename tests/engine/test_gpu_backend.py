"""The GPU backend through the engine: fusion counted in dispatches, intermediates kept on
the device, tiling under a small budget, pipeline caching, compile errors, fallback to the
CPU and backend choice. Runs on any wgpu adapter (lavapipe in CI); skipped without one.
"""

from __future__ import annotations

import textwrap
import warnings

import numpy as np
import pytest

import mattebox as mb
from mattebox.app import cli
from mattebox.engine import render
from mattebox.engine.backends import detect
from mattebox.nodes import spec as node_spec
from tests.conftest import random_image, require_gpu

ATOL = 2e-6  # the same kernels on both sides; f32 arithmetic in a different order


@pytest.fixture
def gpu():
    require_gpu()
    backend = detect.get("gpu")
    backend.counters.clear()
    return backend


@pytest.fixture
def fresh_warnings(monkeypatch):
    """A session that has warned about nothing yet (warnings are once per message)."""
    monkeypatch.setattr(render.session(), "warned", set())
    monkeypatch.setenv("MATTEBOX_GPU_FALLBACK", "1")  # these tests are about the fallback


def point_chain(g, source, other):
    """Ten point ops, the last a Merge with a second input: one fused group."""
    node = g.add("Grade", inputs={"Source": source}, gain=1.3, gamma=1.2, offset=0.01)
    node = g.add("Saturation", inputs={"Source": node}, saturation=0.6)
    node = g.add("ColorMatrix", inputs={"Source": node}, row0=[0.9, 0.1, 0.0, 0.02])
    node = g.add("CDL", inputs={"Source": node}, slope=[1.1, 1.0, 0.9, 1.0], power=1.1)
    node = g.add("Unpremult", inputs={"Source": node})
    node = g.add("Premult", inputs={"Source": node})
    node = g.add("Invert", inputs={"Source": node}, mix=0.3)
    node = g.add("Shuffle", inputs={"Source": node}, mapping={"R": "G", "G": "R"})
    node = g.add("Clamp", inputs={"Source": node}, minimum=-0.5, maximum=2.0)
    return g.add("Merge", inputs={"B": other, "A": node}, operation="over")


def both(g, node, **kw):
    """(GPU image, CPU image) of ``node`` without the cache."""
    on_gpu = render.render(g, node, backend="gpu", use_cache=False, **kw)
    on_cpu = render.render(g, node, backend="cpu", use_cache=False, **kw)
    return on_gpu, on_cpu


def test_a_chain_of_ten_point_ops_is_one_dispatch(gpu, array_source):
    g = mb.Graph()
    a = array_source(g, random_image(37, 45, seed=1), window=(3, -2))
    b = array_source(g, random_image(29, 51, seed=2))
    merge = point_chain(g, a, b)
    kinds = [step.kind for step in render.plan(g, merge, backend="gpu", use_cache=False).passes]
    assert kinds == ["read", "read", "fused"]
    on_gpu, on_cpu = both(g, merge)
    assert on_gpu.data_window == on_cpu.data_window
    np.testing.assert_allclose(on_gpu.pixels, on_cpu.pixels, rtol=1e-5, atol=ATOL)
    gpu.counters.clear()
    render.render(g, merge, backend="gpu", use_cache=False)
    assert gpu.counters["dispatches"] == 1
    assert gpu.counters["uploads"] == 2  # each input once
    assert gpu.counters["downloads"] == 1  # the result once
    assert gpu.counters["submits"] == 1


def test_uploads_and_downloads_reuse_persistent_buffers_in_row_chunks(
    gpu, array_source, monkeypatch
):
    """Across many tiles and many row chunks, the staging ring and the read-back pool
    create their buffers once; a second render creates none."""
    monkeypatch.setattr(gpu.staging, "chunk", 4096)  # a few rows per chunk
    monkeypatch.setattr(gpu.readbacks, "chunk", 4096)
    monkeypatch.setenv("MATTEBOX_GPU_MEMORY", "0.2")
    g = mb.Graph()
    a = array_source(g, random_image(120, 61, seed=12), window=(2, 3))
    b = array_source(g, random_image(97, 70, seed=13))
    node = g.add("Merge", inputs={"B": b, "A": g.add("Invert", inputs={"Source": a})})
    assert len(render.plan(g, node, backend="gpu", use_cache=False).tiles) >= 4
    on_gpu, on_cpu = both(g, node)
    np.testing.assert_allclose(on_gpu.pixels, on_cpu.pixels, rtol=1e-6, atol=1e-7)
    created = gpu.staging.created, gpu.readbacks.created
    assert created[0] <= gpu.staging.size
    gpu.counters.clear()
    again = render.render(g, node, backend="gpu", use_cache=False)
    assert (gpu.staging.created, gpu.readbacks.created) == created
    # every chunk went as its own command buffer: more of them than tiles submitted
    assert gpu.counters["command_buffers"] > gpu.counters["uploads"] + gpu.counters["submits"]
    np.testing.assert_array_equal(again.pixels, on_gpu.pixels)


def test_a_second_frame_compiles_nothing(gpu, array_source):
    g = mb.Graph()
    source = array_source(g, random_image(21, 34, seed=3))
    grade = g.add("Grade", inputs={"Source": source}, gain=1.1)
    blur = g.add("Blur", inputs={"Source": grade}, size=2.5)
    render.render(g, blur, backend="gpu", use_cache=False)
    compiled = gpu.pipelines.compiled
    grade["gain"] = 1.4  # new parameter values: the same pipelines
    blur["size"] = 3.5
    render.render(g, blur, backend="gpu", use_cache=False)
    assert gpu.pipelines.compiled == compiled


def test_intermediates_stay_on_the_device(gpu, array_source):
    g = mb.Graph()
    g.settings.ocio_config = "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"
    a = array_source(g, random_image(33, 47, seed=4), window=(-5, 7))
    b = array_source(g, random_image(40, 40, seed=5))
    node = g.add("Grade", inputs={"Source": a}, gain=1.2)
    node = g.add("Blur", inputs={"Source": node}, size=3.0)
    node = g.add("Transform", inputs={"Source": node}, rotate=12.0, center=(20.0, 20.0))
    node = g.add("Merge", inputs={"B": b, "A": node})
    node = g.add(
        "OCIOColorSpace", inputs={"Source": node}, in_colorspace="ACEScg", out_colorspace="ACEScct"
    )
    node = g.add("Clamp", inputs={"Source": node}, minimum=-1.0, maximum=1.5)
    for use_cache in (False, True):
        gpu.counters.clear()
        on_gpu = render.render(g, node, backend="gpu", use_cache=use_cache)
        assert gpu.counters["downloads"] == 1, gpu.counters
        assert gpu.counters["dispatches"] >= 6
        render.session().cache.clear()
    on_cpu = render.render(g, node, backend="cpu", use_cache=False)
    np.testing.assert_allclose(on_gpu.pixels, on_cpu.pixels, rtol=1e-4, atol=1e-5)


def test_a_small_budget_gives_many_tiles_and_the_same_pixels(gpu, array_source, monkeypatch):
    g = mb.Graph()
    a = array_source(g, random_image(150, 70, seed=6), window=(4, -3))
    b = array_source(g, random_image(120, 90, seed=7))
    node = g.add("Grade", inputs={"Source": a}, gain=1.2, gamma=0.9)
    node = g.add("Blur", inputs={"Source": node}, size=4.0)
    node = g.add(
        "Transform",
        inputs={"Source": node},
        rotate=-8.0,
        scale=(1.1, 0.9),
        center=(40.0, 60.0),
        filter="lanczos3",
    )
    node = g.add("Merge", inputs={"B": b, "A": node}, operation="screen")
    node = g.add("Saturation", inputs={"Source": node}, saturation=1.3)
    one = render.plan(g, node, backend="gpu", use_cache=False)
    whole = render.render(g, node, backend="gpu", use_cache=False)
    monkeypatch.setenv("MATTEBOX_GPU_MEMORY", "0.25")  # MiB: a few tens of rows a tile
    many = render.plan(g, node, backend="gpu", use_cache=False)
    assert len(one.tiles) == 1 and len(many.tiles) >= 4
    tiled = render.render(g, node, backend="gpu", use_cache=False)
    assert tiled.data_window == whole.data_window
    np.testing.assert_array_equal(tiled.pixels, whole.pixels)  # tiles compute alike
    on_cpu = render.render(g, node, backend="cpu", use_cache=False)
    np.testing.assert_allclose(tiled.pixels, on_cpu.pixels, rtol=1e-5, atol=2e-5)


def test_tiles_fit_the_largest_binding(gpu, array_source, monkeypatch):
    from mattebox.engine.backends.gpu.device import GpuDevice

    g = mb.Graph()
    grade = g.add(
        "Grade", inputs={"Source": array_source(g, random_image(90, 64, seed=8))}, gain=1.5
    )
    limit = 64 * 16 * 20  # 20 rows of 64 pixels
    monkeypatch.setattr(GpuDevice, "max_binding", limit)
    plan = render.plan(g, grade, backend="gpu", use_cache=False)
    assert len(plan.tiles) >= 5
    for tile in plan.tiles:
        assert max(tile.slot_bytes) <= limit
        for buffer in tile.buffers.values():
            assert buffer.window.pixels * 16 <= limit  # the read is cut per tile too
    on_gpu, on_cpu = both(g, grade)
    np.testing.assert_allclose(on_gpu.pixels, on_cpu.pixels, rtol=1e-5, atol=ATOL)


def test_the_gpu_budget_is_sixty_percent_of_device_memory(gpu, monkeypatch):
    monkeypatch.delenv("MATTEBOX_GPU_MEMORY", raising=False)
    assert gpu.memory_budget() == int(gpu.gpu.memory * 0.6)
    options = gpu.plan_options()
    assert options["max_buffer"] <= gpu.gpu.max_binding
    monkeypatch.setenv("MATTEBOX_GPU_MEMORY", "10")
    assert gpu.memory_budget() == 10 * 2**20


def test_a_failing_device_falls_back_to_the_cpu_with_one_warning(
    gpu, array_source, monkeypatch, fresh_warnings
):
    from mattebox.engine.backends.gpu.backend import GpuBackend

    g = mb.Graph()
    source = array_source(g, random_image(23, 31, seed=9))
    node = g.add(
        "Blur", inputs={"Source": g.add("Grade", inputs={"Source": source}, gain=2.0)}, size=2.0
    )
    expected = render.render(g, node, backend="cpu", use_cache=False)

    def lost(self, *args, **kw):
        raise RuntimeError("Device lost (simulated)\nsecond line")

    monkeypatch.setattr(GpuBackend, "run", lost)
    with pytest.warns(RuntimeWarning) as caught:
        image = render.render(g, node, backend="gpu", use_cache=False)
    messages = [str(w.message) for w in caught if "GPU failed" in str(w.message)]
    assert len(messages) == 1 and "\n" not in messages[0]
    assert "Device lost (simulated)" in messages[0] and "on the CPU" in messages[0]
    np.testing.assert_array_equal(image.pixels, expected.pixels)
    assert "gpu failed during a render" in detect.report()


def test_a_render_stopped_half_way_leaves_nothing_recorded(gpu, array_source):
    g = mb.Graph()
    source = array_source(g, random_image(12, 14, seed=15))
    grade = g.add("Grade", inputs={"Source": source}, gain=1.5)
    blur = g.add("Blur", inputs={"Source": grade}, size=2.0)
    checks = iter([False, False, True])  # cancelled before the blur: the grade is recorded
    with pytest.raises(render.Cancelled):
        render.render(g, blur, backend="gpu", use_cache=False, cancel=lambda: next(checks))
    assert gpu._encoder is None and not gpu._segments and not gpu._chunks
    on_gpu, on_cpu = both(g, blur)
    np.testing.assert_allclose(on_gpu.pixels, on_cpu.pixels, rtol=1e-6, atol=1e-6)


def test_a_device_that_cannot_be_created_renders_on_the_cpu(
    gpu, array_source, monkeypatch, fresh_warnings
):
    g = mb.Graph()
    node = g.add("Invert", inputs={"Source": array_source(g, random_image(9, 11, seed=10))})

    def no_device(name="auto"):
        if detect.choose(name) == "gpu":
            raise RuntimeError("Out of memory (simulated)")
        return real_get(name)

    real_get = detect.get
    monkeypatch.setattr(detect, "get", no_device)
    with pytest.warns(RuntimeWarning, match="Out of memory"):
        image = render.render(g, node, backend="gpu", use_cache=False)
    expected = render.render(g, node, backend="cpu", use_cache=False)
    np.testing.assert_array_equal(image.pixels, expected.pixels)


BROKEN_PY = '''
"""A node whose WGSL does not compile (tests only)."""
from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import Kind, NodeSpec


@kernel
def broken_point(r, g, b, a, p):
    return r * 0.5, g, b, a


class Broken(NodeSpec):
    """Halves red."""

    type_name = "BrokenForTests"
    kind = Kind.POINT
    cpu_point = broken_point
'''

BROKEN_WGSL = """// a typo on line 2
fn broken_point(c: vec4<f32>, o: u32) -> vec4<f32> {
    return vec4<f32>(c.r * 0.5, c.g, c.b, c.a) +;
}
"""


def test_a_compile_error_shows_the_numbered_wgsl(
    gpu, array_source, tmp_path, monkeypatch, fresh_warnings
):
    from mattebox.engine.backends.gpu.shaders import ShaderCompileError

    package = tmp_path / "mb_broken_nodes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "broken.py").write_text(textwrap.dedent(BROKEN_PY))
    (package / "broken.wgsl").write_text(BROKEN_WGSL)
    monkeypatch.syspath_prepend(str(tmp_path))
    from mb_broken_nodes.broken import Broken

    node_spec.register(Broken)
    try:
        g = mb.Graph()
        node = g.add("BrokenForTests", inputs={"Source": array_source(g, random_image(8, 9))})
        step = render.plan(g, node, backend="gpu", use_cache=False).passes[-1]
        from mattebox.engine.backends.gpu.backend import _fused_program

        source = _fused_program(step, 1)[0]
        with pytest.raises(ShaderCompileError) as error:
            gpu.pipelines.compile(("fused", "broken"), source, bindings=("read",) * 4)
        text = str(error.value)
        assert "does not compile" in text.splitlines()[0]
        line = next(n for n, s in enumerate(source.splitlines(), 1) if "+;" in s)
        assert f"{line:4d}|     return vec4<f32>(c.r * 0.5, c.g, c.b, c.a) +;" in text
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            image = render.render(g, node, backend="gpu", use_cache=False)
        assert any("ShaderCompileError" in str(w.message) for w in caught)
        expected = random_image(8, 9)
        expected[..., 0] *= 0.5
        np.testing.assert_allclose(image.pixels, expected, rtol=1e-6)
    finally:
        node_spec.unregister("BrokenForTests")


def test_an_ocio_op_the_gpu_cannot_run_runs_on_the_cpu_and_the_plan_says_so(
    gpu, array_source, monkeypatch
):
    from mattebox.engine.backends.gpu import ocio_shader

    def untranslatable(processor, prefix="ocio0"):
        raise ocio_shader.OcioTranslationError("GLSL line 1: unsupported (simulated)")

    monkeypatch.setattr(ocio_shader, "build_ocio_program", untranslatable)
    monkeypatch.setattr(gpu, "_ocio", {})
    g = mb.Graph()
    g.settings.ocio_config = "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"
    source = array_source(g, random_image(19, 27, seed=11))
    grade = g.add("Grade", inputs={"Source": source}, gain=1.2)
    conv = g.add(
        "OCIOColorSpace", inputs={"Source": grade}, in_colorspace="ACEScg", out_colorspace="ACEScct"
    )
    clamp = g.add("Clamp", inputs={"Source": conv}, minimum=-0.2, maximum=0.9)
    text = str(render.plan(g, clamp, backend="gpu", use_cache=False))
    line = next(s for s in text.splitlines() if "OCIOColorSpace1" in s)
    assert "on cpu (GLSL line 1: unsupported (simulated))" in line
    assert "on gpu" in text.splitlines()[0]
    gpu.counters.clear()
    on_gpu, on_cpu = both(g, clamp)
    assert gpu.counters["cpu_passes"] == 1
    np.testing.assert_allclose(on_gpu.pixels, on_cpu.pixels, rtol=1e-5, atol=ATOL)


def test_the_viewers_display_transform_runs_on_the_gpu(gpu):
    from mattebox.engine import color, viewer

    processor = color.display_processor(
        "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5",
        "ACEScg",
        "sRGB - Display",
        "ACES 2.0 - SDR 100 nits (Rec.709)",
    )
    pixels = random_image(33, 47, seed=14)
    pixels[:3, :3] = 0.0  # transparent black stays as the CPU leaves it
    expected = color.apply_cpu(color.cpu(processor), pixels, unpremultiply=False)
    gpu.counters.clear()
    for shown in (
        gpu.apply_processor(processor, pixels),
        viewer.apply_display_processor(processor, pixels, backend="gpu"),
    ):
        error = np.abs(shown - expected) / np.maximum(1.0, np.abs(expected))
        assert error.max() <= 1e-4
        np.testing.assert_array_equal(shown[..., 3], pixels[..., 3])
    assert gpu.counters["dispatches"] == 2


# --------------------------------------------------------------------------- choosing


def test_auto_takes_a_real_gpu_but_not_a_software_adapter(monkeypatch):
    from mattebox.engine.backends.gpu.device import AdapterInfo

    monkeypatch.delenv("MATTEBOX_BACKEND", raising=False)
    limits = {"max-storage-buffer-binding-size": 2**27, "max-buffer-size": 2**31}
    software = AdapterInfo(0, "llvmpipe", "CPU", "Vulkan", 0x10005, limits)
    real = AdapterInfo(1, "NVIDIA H100", "DiscreteGPU", "Vulkan", 0x10DE, limits)
    monkeypatch.setattr(detect, "_adapters", [software])
    assert detect.available("gpu") and detect.choose("auto") == "cpu"
    assert detect.choose("gpu") == "gpu"
    order = [name for name, _ in detect.ranking()]
    assert order == ["cpu", "gpu"]  # numba before a software adapter
    monkeypatch.setattr(detect, "_adapters", sorted([software, real], key=lambda a: a.rank()))
    assert detect.choose("auto") == "gpu"
    assert detect.gpu_adapter() is real
    assert [name for name, _ in detect.ranking()] == ["gpu", "cpu", "gpu"]
    monkeypatch.setenv("MATTEBOX_BACKEND", "cpu")
    assert detect.choose("auto") == "cpu"
    assert detect.choose("gpu") == "gpu"  # asked for by name: that one
    monkeypatch.setattr(detect, "_adapters", [])
    monkeypatch.setenv("MATTEBOX_BACKEND", "auto")
    assert detect.choose("auto") == "cpu"
    with pytest.raises(ValueError, match="no GPU adapter"):
        detect.choose("gpu")


def test_mattebox_backends_lists_adapters_and_the_choice(capsys, monkeypatch):
    monkeypatch.delenv("MATTEBOX_BACKEND", raising=False)
    assert cli.main(["backends"]) == 0
    out = capsys.readouterr().out
    assert "cpu  numba on this CPU" in out
    for adapter in detect.adapters():
        assert adapter.name in out and adapter.api in out
    assert out.strip().splitlines()[-1] == f"choice: {detect.choose('auto')}"
