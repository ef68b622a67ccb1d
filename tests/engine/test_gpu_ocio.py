"""OCIO processors on the GPU (engine/backends/gpu/ocio_shader.py) against OCIO's CPU processor.

Every case renders random premultiplied pixels through the WGSL program on whatever adapter
wgpu finds (lavapipe included) and compares with ``getDefaultCPUProcessor().applyRGBA`` on
the unpremultiplied pixels, premultiplied again: within 1e-4 absolute, or relative above 1.
"""

from __future__ import annotations

import numpy as np
import PyOpenColorIO as OCIO
import pytest
import wgpu

from mattebox.engine import color
from mattebox.engine.backends.gpu.ocio_shader import (
    OcioTranslationError,
    build_ocio_program,
    create_ocio_pipeline,
    gpu_supported,
    run_ocio_program,
    translate_glsl,
)

STUDIO = "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"
TOLERANCE = 1e-4
HEIGHT, WIDTH = 37, 61


def _probe_device():
    """(device, reason): the device, or None and why no adapter exists. Probed once."""
    try:
        adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
    except RuntimeError as error:  # "No suitable graphics adapter found"
        return None, f"no wgpu adapter: {error}"
    if adapter is None:
        return None, "no wgpu adapter"
    return adapter.request_device_sync(required_limits=adapter.limits), ""


@pytest.fixture(scope="module")
def device():
    dev, reason = _probe_device()
    if dev is None:
        pytest.skip(reason)
    return dev


@pytest.fixture(scope="module")
def studio():
    return OCIO.Config.CreateFromFile(STUDIO)


def random_pixels(seed: int, low: float = -0.1, high: float = 2.0) -> np.ndarray:
    """Premultiplied RGBA: colour in [low, high] before premultiplication, alpha in (0.05, 1]."""
    rng = np.random.default_rng(seed)
    pixels = np.empty((HEIGHT, WIDTH, 4), np.float32)
    pixels[..., 3] = 1.0 - rng.uniform(0.0, 0.95, (HEIGHT, WIDTH))
    pixels[..., :3] = rng.uniform(low, high, (HEIGHT, WIDTH, 3)) * pixels[..., 3:]
    return pixels


def cpu_reference(processor, pixels: np.ndarray) -> np.ndarray:
    """OCIO's CPU processor on unpremultiplied colour, premultiplied again, alpha kept."""
    alpha = pixels[..., 3:]
    straight = np.concatenate([pixels[..., :3] / alpha, alpha], axis=-1).astype(np.float32)
    processor.getDefaultCPUProcessor().applyRGBA(straight)
    return np.concatenate([straight[..., :3] * alpha, alpha], axis=-1)


def max_error(gpu: np.ndarray, cpu: np.ndarray) -> float:
    """Largest |gpu - cpu| / max(1, |cpu|) over all values."""
    assert np.isfinite(cpu).all()
    error = np.abs(gpu.astype(np.float64) - cpu) / np.maximum(1.0, np.abs(cpu))
    return float(np.nan_to_num(error, nan=np.inf).max())


def assert_matches_cpu(device, processor, pixels: np.ndarray) -> None:
    program = build_ocio_program(processor)
    gpu = run_ocio_program(device, program, pixels)
    assert gpu.shape == pixels.shape and gpu.dtype == np.float32
    np.testing.assert_array_equal(gpu[..., 3], pixels[..., 3])
    error = max_error(gpu, cpu_reference(processor, pixels))
    assert error <= TOLERANCE, f"max error {error:.3g}"


# -- colour space conversions and display views of the studio config -----------------------

CONVERSIONS = [
    ("ACEScg", "ACES2065-1"),
    ("ACEScg", "sRGB Encoded Rec.709 (sRGB)"),
    ("ACEScg", "ACEScct"),
    ("ACEScg", "Linear Rec.709 (sRGB)"),
    ("sRGB Encoded Rec.709 (sRGB)", "ACEScg"),
    ("ACEScg", "ARRI LogC4"),
    ("ACEScg", "S-Log3 S-Gamut3"),
]


@pytest.mark.parametrize(("src", "dst"), CONVERSIONS)
def test_color_space_conversion_matches_cpu(device, studio, src, dst):
    assert_matches_cpu(device, studio.getProcessor(src, dst), random_pixels(1))


DISPLAY_VIEWS = [
    ("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)"),
    ("sRGB - Display", "Un-tone-mapped"),
    ("sRGB - Display", "Video (colorimetric)"),
    ("Display P3 - Display", "ACES 2.0 - SDR 100 nits (P3 D65)"),
    ("Rec.2100-PQ - Display", "ACES 2.0 - HDR 1000 nits (P3 D65)"),
]


@pytest.mark.parametrize(("display", "view"), DISPLAY_VIEWS)
def test_display_view_matches_cpu(device, studio, display, view):
    transform = OCIO.DisplayViewTransform(src="ACEScg", display=display, view=view)
    assert_matches_cpu(device, studio.getProcessor(transform), random_pixels(2))


def test_aces2_view_uses_luts_and_tables(studio):
    transform = OCIO.DisplayViewTransform(
        src="ACEScg", display="sRGB - Display", view="ACES 2.0 - SDR 100 nits (Rec.709)"
    )
    program = build_ocio_program(studio.getProcessor(transform))
    kinds = sorted(lut.kind for lut in program.luts)
    assert kinds == ["1d", "1d", "table"]
    assert program.data_buffer == "ocio0_data"
    assert program.data.size == sum(lut.values.size for lut in program.luts)


# -- LUT files ------------------------------------------------------------------------------


def write_cube_3d(path, size: int = 17, seed: int = 3) -> None:
    """A smooth random 3D LUT: identity plus low-frequency waves (.cube, red fastest)."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(0.0, 1.0, size)
    b, g, r = np.meshgrid(grid, grid, grid, indexing="ij")
    rgb = np.stack([r, g, b], axis=-1)
    freq, phase, amp = rng.uniform(1, 4, (3, 3)), rng.uniform(0, 6, 3), rng.uniform(0.02, 0.1, 3)
    table = rgb ** rng.uniform(0.7, 1.4, 3) + amp * np.sin(rgb @ freq + phase)
    lines = [f"LUT_3D_SIZE {size}"] + [
        f"{x:.7f} {y:.7f} {z:.7f}" for x, y, z in table.reshape(-1, 3)
    ]
    path.write_text("\n".join(lines) + "\n")


def write_cube_1d(path, size: int) -> None:
    x = np.linspace(0.0, 1.0, size)
    table = np.stack([x**0.45, x**0.6 * 1.1, np.sqrt(x) * 0.9 + 0.05 * x], axis=-1)
    lines = [f"LUT_1D_SIZE {size}"] + [f"{a:.7f} {b:.7f} {c:.7f}" for a, b, c in table]
    path.write_text("\n".join(lines) + "\n")


def write_spi1d(path, size: int = 512) -> None:
    x = np.linspace(0.0, 1.0, size)
    values = 0.18 * 2.0 ** ((x - 0.4) * 12.0)  # a log-to-linear curve, up to ~22
    header = f"Version 1\nFrom -0.125 1.125\nLength {size}\nComponents 1\n{{\n"
    path.write_text(header + "\n".join(f"{v:.8f}" for v in values) + "\n}\n")


@pytest.mark.parametrize("interpolation", ["linear", "tetrahedral"])
def test_cube_3d_lut_matches_cpu(device, tmp_path, interpolation):
    path = tmp_path / "look.cube"
    write_cube_3d(path)
    interp = {"linear": OCIO.INTERP_LINEAR, "tetrahedral": OCIO.INTERP_TETRAHEDRAL}
    transform = OCIO.FileTransform(src=str(path), interpolation=interp[interpolation])
    processor = OCIO.Config.CreateRaw().getProcessor(transform)
    assert_matches_cpu(device, processor, random_pixels(3))


@pytest.mark.parametrize("size", [1024, 8192])
def test_cube_1d_lut_matches_cpu(device, tmp_path, size):
    path = tmp_path / "curve.cube"
    write_cube_1d(path, size)
    transform = OCIO.FileTransform(src=str(path), interpolation=OCIO.INTERP_LINEAR)
    processor = OCIO.Config.CreateRaw().getProcessor(transform)
    program = build_ocio_program(processor)
    assert [lut.shape for lut in program.luts] == [(size,)]  # kept 1D, not folded into 2D
    assert_matches_cpu(device, processor, random_pixels(4))


def test_spi1d_lut_matches_cpu(device, tmp_path):
    path = tmp_path / "log_to_lin.spi1d"
    write_spi1d(path)
    transform = OCIO.FileTransform(src=str(path), interpolation=OCIO.INTERP_LINEAR)
    processor = OCIO.Config.CreateRaw().getProcessor(transform)
    assert_matches_cpu(device, processor, random_pixels(5, low=-0.1, high=1.1))


# -- programs as fusable pieces -------------------------------------------------------------


def test_dynamic_exposure_follows_the_property(device):
    transform = OCIO.ExposureContrastTransform(
        style=OCIO.EXPOSURE_CONTRAST_LINEAR, exposure=0.5, contrast=1.1
    )
    transform.makeExposureDynamic()
    processor = OCIO.Config.CreateRaw().getProcessor(transform)
    program = build_ocio_program(processor)
    assert [u.name for u in program.uniforms] == ["ocio0_exposure_contrast_exposureVal"]
    pipeline = create_ocio_pipeline(device, program)
    pixels = random_pixels(6)

    program.dynamic_property(OCIO.DYNAMIC_PROPERTY_EXPOSURE).setDouble(-1.25)
    pipeline.update_uniforms()
    gpu = pipeline.run(pixels)

    cpu = processor.getDefaultCPUProcessor()
    cpu.getDynamicProperty(OCIO.DYNAMIC_PROPERTY_EXPOSURE).setDouble(-1.25)
    alpha = pixels[..., 3:]
    straight = np.concatenate([pixels[..., :3] / alpha, alpha], axis=-1)
    cpu.applyRGBA(straight)
    expected = np.concatenate([straight[..., :3] * alpha, alpha], axis=-1)
    assert max_error(gpu, expected) <= TOLERANCE


def test_two_programs_fuse_into_one_kernel(device, studio):
    """Two OCIO programs with different prefixes, chained in one hand-written kernel."""
    first = studio.getProcessor("ACEScg", "ACEScct")
    view = OCIO.DisplayViewTransform(
        src="ACEScct", display="sRGB - Display", view="ACES 2.0 - SDR 100 nits (Rec.709)"
    )
    second = studio.getProcessor(view)
    a, b = build_ocio_program(first, "ocioa"), build_ocio_program(second, "ociob")
    assert a.data_buffer is None  # matrix + log curve: no tables
    source = (
        a.source
        + b.source
        + b.binding_declarations(0, 1)
        + """
@group(0) @binding(0) var<storage, read_write> img: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.x < arrayLength(&img)) {
        img[gid.x] = ociob_apply_premult(ocioa_apply_premult(img[gid.x]));
    }
}
"""
    )
    pixels = random_pixels(7)
    usage = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC
    image = device.create_buffer_with_data(data=pixels, usage=usage)
    data = device.create_buffer_with_data(data=b.data, usage=wgpu.BufferUsage.STORAGE)
    pipeline = device.create_compute_pipeline(
        layout="auto",
        compute={"module": device.create_shader_module(code=source), "entry_point": "main"},
    )
    bind_group = device.create_bind_group(
        layout=pipeline.get_bind_group_layout(0),
        entries=[
            {"binding": 0, "resource": {"buffer": image}},
            {"binding": 1, "resource": {"buffer": data}},
        ],
    )
    encoder = device.create_command_encoder()
    compute = encoder.begin_compute_pass()
    compute.set_pipeline(pipeline)
    compute.set_bind_group(0, bind_group)
    compute.dispatch_workgroups(-(-HEIGHT * WIDTH // 64))
    compute.end()
    device.queue.submit([encoder.finish()])
    gpu = np.frombuffer(device.queue.read_buffer(image), np.float32).reshape(pixels.shape)

    chained = OCIO.GroupTransform([OCIO.ColorSpaceTransform(src="ACEScg", dst="ACEScct"), view])
    assert max_error(gpu, cpu_reference(studio.getProcessor(chained), pixels)) <= TOLERANCE


@pytest.mark.parametrize(
    ("dst", "keeps_black"), [("sRGB Encoded Rec.709 (sRGB)", True), ("ACEScct", False)]
)
def test_zero_alpha_pixels_follow_the_cpu_path(device, studio, dst, keeps_black):
    """Where alpha is 0: converted as stored if black stays black, else left alone."""
    processor = studio.getProcessor("ACEScg", dst)
    pixels = random_pixels(9)
    pixels[::3, ::2] = [0.5, 0.25, -0.05, 0.0]
    pixels[1::3, ::2] = 0.0
    program = build_ocio_program(processor)
    assert program.keeps_black is keeps_black
    gpu = run_ocio_program(device, program, pixels)
    expected = color.apply_cpu(color.cpu(processor), pixels)
    assert max_error(gpu, expected) <= TOLERANCE
    assert np.array_equal(gpu[::3, ::2] == pixels[::3, ::2], expected[::3, ::2] == pixels[::3, ::2])


def test_large_image_runs_in_row_blocks(device, studio):
    """An image bigger than one storage binding is processed in blocks, seamlessly."""
    limit = device.limits["max-storage-buffer-binding-size"]
    if limit > 256 << 20:
        pytest.skip("adapter binds more than 256 MiB: block splitting not exercised cheaply")
    rows = limit // (1024 * 16) + 3
    rng = np.random.default_rng(8)
    pixels = np.ones((rows, 1024, 4), np.float32)
    pixels[..., :3] = rng.uniform(0, 1, (rows, 1024, 3))
    processor = studio.getProcessor("ACEScg", "ACES2065-1")
    gpu = run_ocio_program(device, build_ocio_program(processor), pixels)
    assert max_error(gpu, cpu_reference(processor, pixels)) <= TOLERANCE


# -- planning support and translation errors ------------------------------------------------


def test_gpu_supported_for_studio_transforms(studio):
    view = OCIO.DisplayViewTransform(
        src="ACEScg", display="sRGB - Display", view="ACES 2.0 - SDR 100 nits (Rec.709)"
    )
    assert gpu_supported(studio.getProcessor(view)) == (True, "")
    assert gpu_supported(studio.getProcessor("ACEScg", "ACEScct")) == (True, "")


def test_gpu_supported_refuses_inverse_output_transforms(studio):
    view = OCIO.DisplayViewTransform(
        src="ACEScg",
        display="sRGB - Display",
        view="ACES 2.0 - SDR 100 nits (Rec.709)",
        direction=OCIO.TRANSFORM_DIR_INVERSE,
    )
    supported, reason = gpu_supported(studio.getProcessor(view))
    assert not supported
    assert "inverse" in reason


def test_unsupported_glsl_is_a_clear_error():
    glsl = "vec4 f(vec4 c)\n{\n  vec4 o = c;\n  o.rgb = texelFetch(c);\n  return o;\n}\n"
    with pytest.raises(OcioTranslationError, match="texelFetch"):
        translate_glsl(glsl, "ocio0")
    with pytest.raises(OcioTranslationError, match="line 2"):
        translate_glsl("vec4 f(vec4 c)\n{ return c @ c; }\n", "ocio0")


def test_bad_prefix_is_refused(studio):
    with pytest.raises(ValueError, match="prefix"):
        build_ocio_program(studio.getProcessor("ACEScg", "ACEScct"), prefix="ocio_0")
