"""What a pipeline TD does: build a comp in Python, save it, render it from the command
line, and get the right pixels; and what happens with bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import OpenImageIO as oiio
import PyOpenColorIO as OCIO
import pytest
from scipy import ndimage

import mattebox as mb
from tests.conftest import random_image, write_exr

CONFIG = "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"


def _reference(plate, bg, gain, size):
    """Grade (gain) -> Blur -> over -> ACEScg to ACES2065-1, from the formulas and OCIO."""
    rgb = np.maximum(plate[..., :3] * gain, 0.0)  # Grade: black clamp on
    graded = np.concatenate([rgb, plate[..., 3:]], -1)
    r = int(np.ceil(size))
    k = np.arange(-r, r + 1)
    w = np.exp(-(k**2) / (2 * (size / 3) ** 2))
    w /= w.sum()
    padded = np.pad(graded, ((r, r), (r, r), (0, 0)))
    blurred = ndimage.correlate1d(
        ndimage.correlate1d(padded, w, 0, mode="constant"), w, 1, mode="constant"
    )[r:-r, r:-r]
    over = blurred + bg * (1 - blurred[..., 3:4])
    cpu = (
        OCIO.Config.CreateFromFile(CONFIG)
        .getProcessor("ACEScg", "ACES2065-1")
        .getDefaultCPUProcessor()
    )
    out = over.astype(np.float32).copy()
    a = out[..., 3:4]
    unpremult = np.where(a > 0, out[..., :3] / np.where(a > 0, a, 1), out[..., :3])
    flat = np.ascontiguousarray(np.concatenate([unpremult, a], -1))
    cpu.applyRGBA(flat)
    out[..., :3] = np.where(a > 0, flat[..., :3] * a, flat[..., :3])
    return out


def _build(tmp_path):
    plates = [random_image(24, 40, seed=10 + f, lo=0.0, hi=1.2) for f in (1, 2)]
    bg = random_image(24, 40, seed=5, lo=0.0, hi=1.0)
    bg[..., 3] = 1.0
    for frame, pixels in zip((1, 2), plates):
        write_exr(tmp_path / f"plate.{frame:04d}.exr", pixels)
    write_exr(tmp_path / "bg.exr", bg)

    g = mb.Graph()
    g.settings.ocio_config = CONFIG
    g.settings.frame_range = (1, 2)
    g.settings.format = mb.Format(40, 24)
    plate = g.add("Read", file=str(tmp_path / "plate.####.exr"), colorspace="ACEScg")
    back = g.add("Read", file=str(tmp_path / "bg.exr"), colorspace="ACEScg")
    grade = g.add("Grade", inputs={"Source": plate}, gain=[1.3, 1.1, 0.9, 1.0])
    blur = g.add("Blur", inputs={"Source": grade}, size=3)
    merge = g.add("Merge", inputs={"B": back, "A": blur}, operation="over")
    aces = g.add(
        "OCIOColorSpace",
        inputs={"Source": merge},
        in_colorspace="ACEScg",
        out_colorspace="ACES2065-1",
    )
    g.add(
        "Write",
        inputs={"Source": aces},
        file=str(tmp_path / "out" / "comp.####.exr"),
        colorspace="Raw",
        datatype="float",
        compression="zip",
    )
    return g, plates, bg


def _read(path):
    buf = oiio.ImageBuf(str(path))
    return buf.get_pixels(oiio.FLOAT), buf.roi


def test_python_comp_saved_and_rendered_from_the_command_line(tmp_path, backend):
    g, plates, bg = _build(tmp_path)
    script = tmp_path / "comp.mbx"
    g.save(script)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mattebox.app.cli",
            "render",
            str(script),
            "-f",
            "1-2",
            "--backend",
            backend,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "2/2" in result.stderr  # the progress bar
    for frame, plate in zip((1, 2), plates):
        pixels, roi = _read(tmp_path / "out" / f"comp.{frame:04d}.exr")
        expected = _reference(plate.astype(np.float64), bg, np.array([1.3, 1.1, 0.9]), 3.0)
        assert (roi.xbegin, roi.ybegin, roi.xend, roi.yend) == (-3, -3, 43, 27)
        inner = pixels[3:-3, 3:-3]
        np.testing.assert_allclose(inner, expected, rtol=1e-4, atol=1e-5)


def test_render_in_python_matches_the_written_file(tmp_path):
    g, _plates, _bg = _build(tmp_path)
    written = g.execute(frames=[2])
    image = g.render("OCIOColorSpace1", frame=2)
    pixels, _ = _read(written[0])
    np.testing.assert_array_equal(image.pixels, pixels)
    assert image.data_window == (-3, -3, 43, 27)
    assert image.format == mb.Format(40, 24)


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "mattebox.app.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )


def test_corrupt_image_names_the_read_node_and_leaves_no_output(tmp_path):
    g, _, _ = _build(tmp_path)
    good = (tmp_path / "plate.0002.exr").read_bytes()
    (tmp_path / "plate.0002.exr").write_bytes(good[: len(good) // 2])
    g.save(tmp_path / "comp.mbx")
    result = _cli("render", tmp_path / "comp.mbx", "-f", "2")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: Read1: ") and "plate.0002.exr" in lines[-1]
    assert "Traceback" not in result.stderr
    out = tmp_path / "out"
    assert not out.exists() or os.listdir(out) == []


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p.write_text("{not json"), "not valid JSON"),
        (lambda p: None, "no such script"),
    ],
)
def test_bad_scripts_exit_non_zero_with_one_line(tmp_path, setup, message):
    path = tmp_path / "comp.mbx"
    setup(path)
    result = _cli("render", path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert message in result.stderr and "Traceback" not in result.stderr


def test_missing_input_file_names_node_and_file(tmp_path):
    g = mb.Graph()
    read = g.add("Read", file=str(tmp_path / "nope.####.exr"))
    g.add("Write", inputs={"Source": read}, file=str(tmp_path / "o.exr"))
    g.save(tmp_path / "c.mbx")
    result = _cli("render", tmp_path / "c.mbx")
    assert result.returncode == 1
    assert "error: Read1: cannot read" in result.stderr and "nope.0001.exr" in result.stderr
    assert not (tmp_path / "o.exr").exists()


def test_nodes_and_backends_commands():
    nodes = _cli("nodes")
    assert nodes.returncode == 0 and "Grade" in nodes.stdout and "Merge" in nodes.stdout
    backends = _cli("backends")
    assert backends.returncode == 0 and "cpu" in backends.stdout and "choice:" in backends.stdout


def test_the_aov_example_renders_from_the_command_line(tmp_path):
    """resources/examples/aov_comp.mbx: every layer in, every layer out."""
    import shutil
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "resources" / "examples"
    for name in ("aov_comp.mbx", "aovs.exr"):
        shutil.copy(examples / name, tmp_path / name)
    result = subprocess.run(
        [sys.executable, "-m", "mattebox.app.cli", "render", str(tmp_path / "aov_comp.mbx")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "render" / "aov_comp.png").is_file()
    written = oiio.ImageBuf(str(tmp_path / "render" / "aov_comp.exr"))
    names = written.spec().channelnames
    for layer in ("diffuse", "specular", "emission"):
        assert all(f"{layer}.{c}" in names for c in "RGB"), names
    assert "depth.Z" in names
    g = mb.load(tmp_path / "aov_comp.mbx")
    image = g.render(g["defocus_far"], backend="cpu")
    back = g.add("Read", file=str(tmp_path / "render" / "aov_comp.exr"))  # to the working space
    again = g.render(back, backend="cpu")
    assert set(again.channels) == set(image.channels)
    for name in image.channels:  # the file is half
        np.testing.assert_allclose(
            again.channel(name), image.channel(name), rtol=2e-3, atol=1e-3, err_msg=name
        )


def _rgb(path):
    """An image file's first three channels on its display window, float64 H×W×3."""
    buf = oiio.ImageBuf(str(path))
    full = buf.roi_full
    roi = oiio.ROI(full.xbegin, full.xend, full.ybegin, full.yend, 0, 1, 0, 3)
    return buf.get_pixels(oiio.FLOAT, roi).astype(np.float64)


def _alpha(image, shape):
    """A rendered image's alpha on the format (0 outside its data window)."""
    x0, y0, x1, y1 = image.data_window
    out = np.zeros(shape)
    height, width = shape
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    out[iy0:iy1, ix0:ix1] = image.pixels[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0, 3]
    return out


def test_the_greenscreen_example_keys_its_plate_from_the_command_line(tmp_path):
    """resources/examples/greenscreen.mbx: the key finds the matte the plate was made
    with, the foreground is despilled and graded, the background is the frame the
    TimeOffset names."""
    import importlib.util
    import shutil
    from pathlib import Path

    from scipy import ndimage

    examples = Path(__file__).resolve().parents[2] / "resources" / "examples"
    shutil.copy(examples / "greenscreen.mbx", tmp_path / "greenscreen.mbx")
    shutil.copytree(examples / "greenscreen", tmp_path / "greenscreen")
    frame = 4
    result = _cli("render", tmp_path / "greenscreen.mbx", "-f", frame, "-w", "WriteEXR", "-q")
    assert result.returncode == 0, result.stderr
    found = importlib.util.spec_from_file_location(
        "make_greenscreen_example", examples / "make_greenscreen_example.py"
    )
    example = importlib.util.module_from_spec(found)
    found.loader.exec_module(example)

    truth = example.matte(frame).astype(np.float64)  # the coverage the plate was made with
    assert 0.1 < truth.mean() < 0.5 and ((truth > 0) & (truth < 1)).any()  # hair, soft edges
    # the spill near the edge lowers the key there (as it does in any colour-difference
    # key), and the erosion carries that a pixel further in: "inside" is 6 px in
    inside = ndimage.binary_erosion(truth >= 1, iterations=6)
    outside = ~ndimage.binary_dilation(truth > 0, iterations=3)
    g = mb.load(tmp_path / "greenscreen.mbx")
    alpha = _alpha(g.render(g["WarmFG"], frame=frame, backend="cpu"), truth.shape)
    assert alpha[inside].min() > 0.99 and alpha[outside].max() < 0.02
    assert 0.9 < alpha.sum() / truth.sum() < 1.0  # eroded by a pixel, edges kept
    keyed = _alpha(g.render(g["Key"], frame=frame, backend="cpu"), truth.shape) > 0

    comp = _rgb(tmp_path / "render" / f"greenscreen.{frame:04d}.exr")
    plate = _rgb(examples / "greenscreen" / f"plate.{frame:04d}.exr")
    others = 0.5 * plate[..., 0] + 0.5 * plate[..., 2]
    assert ((plate[..., 1] > others + 0.02) & (alpha > 0.5)).sum() > 500  # spill to take out
    despilled = plate.copy()
    despilled[..., 1] = np.minimum(plate[..., 1], others)
    foreground = np.where(keyed[..., None], despilled * np.array(example.GRADE_GAIN[:3]), 0)
    assert frame - example.OFFSET == 2
    backgrounds = {f: _rgb(examples / "greenscreen" / f"background.{f:04d}.exr") for f in (1, 2)}
    a = alpha[..., None]
    expected = foreground * a + backgrounds[2] * (1 - a)  # over, every pixel
    np.testing.assert_allclose(comp, expected, rtol=2e-3, atol=2e-3)
    assert np.abs(comp[outside] - backgrounds[1][outside]).max() > 0.02  # the clouds moved
