"""The benchmark harness's own parts, at tiny sizes: the peers compute what Mattebox
computes, and the report formats results as promised. No oiiotool or Blender runs here."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import OpenImageIO as oiio
import pytest

from bench import aov, keying, measure, peers, report, run, workloads
from mattebox.engine import render


def _fake_case(workload="comp", size="4K", width=3840, height=2160):
    rows = [
        {
            "tool": "Mattebox",
            "how": "disk → disk",
            "status": "ok",
            "times": [0.5, 0.52, 0.6],
            "median": 0.52,
            "min": 0.5,
            "max": 0.6,
            "runs": 3,
            "peak_rss": 800 * 2**20,
            "peak_above_baseline": 300 * 2**20,
            "ratio": 1.0,
        },
        {
            "tool": "oiiotool",
            "how": "disk → disk",
            "status": "ok",
            "times": [3.1],
            "median": 3.1,
            "min": 3.1,
            "max": 3.1,
            "runs": 1,
            "peak_rss": 60 * 2**20,
            "ratio": 3.1 / 0.52,
            "max_diff": 4e-3,
        },
        {
            "tool": "Blender",
            "how": "disk → disk",
            "status": "failed",
            "reason": "blender_driver: no such input file",
        },
        {
            "tool": "numpy",
            "how": "in memory",
            "status": "skipped",
            "reason": "left out in quick mode",
        },
    ]
    return {
        "workload": workload,
        "key": workload,
        "title": "bench comp",
        "variant": "",
        "arg": None,
        "size": size,
        "width": width,
        "height": height,
        "description": "Read → … → Write",
        "rows": rows,
        "notes": ["a note"],
    }


def test_summary_line_reads_as_the_issue_says():
    line = report.summary_line([_fake_case(size="1080p", width=1920, height=1080), _fake_case()])
    assert line == "bench comp 4K: mattebox 0.52 s, oiiotool 3.10 s (6.0x), blender failed"
    case = _fake_case()
    case["rows"] = case["rows"][:2]
    assert re.fullmatch(
        r"bench comp 4K: mattebox \d+\.\d\d s, oiiotool \d+\.\d\d s "
        r"\(\d+\.\dx\), blender skipped",
        report.summary_line([case]),
    )


def test_summary_line_compares_with_the_faster_blender():
    case = _fake_case()
    blender34 = {"tool": "Blender", "how": "disk → disk", "status": "ok", "median": 1.47}
    blender5 = {"tool": "Blender 5.3.0 (bpy)", "how": "disk → disk", "status": "ok",
                "median": 0.86}  # fmt: skip
    case["rows"][2:3] = [blender34, blender5]
    assert report.summary_line([case]) == (
        "bench comp 4K: mattebox 0.52 s, oiiotool 3.10 s (6.0x), blender 0.86 s (1.7x)"
    )
    assert report.blenders_line([case]) == (
        "blender above = the faster Blender, Blender 5.3.0 (bpy); "
        "Blender 3.4 (blender -b) 1.47 s (2.8x), Blender 5.3.0 (bpy) 0.86 s (1.7x)"
    )
    blender5["status"] = "failed"  # then 3.4 is the one that ran
    assert report.summary_line([case]).endswith("blender 1.47 s (2.8x)")


def test_table_has_one_aligned_line_per_row():
    lines = report.table_lines(_fake_case())
    assert len(lines) == 2 + 4
    assert lines[0].startswith("| tool") and set(lines[1]) <= {"|", "-", ":"}
    assert len(lines[2]) == len(lines[3]) == len(lines[0])  # measured rows line up
    assert "0.520 s" in lines[2] and "1.00×" in lines[2] and "800 MiB" in lines[2]
    assert "5.96×" in lines[3] and "4.0e-03" in lines[3]
    assert "failed" in lines[4] and "no such input file" in lines[4]


def test_json_and_docs_section(tmp_path):
    data = {
        "mode": "quick",
        "date": "2026-01-01T00:00:00",
        "command": "python bench/run.py",
        "wall_seconds": 61.0,
        "summary": "bench comp 4K: mattebox 0.52 s",
        "machine": {
            "cpu": "CPU",
            "cores": 2,
            "ram_bytes": 2**33,
            "gpu": "none",
            "os": "Linux",
            "python": "3.11",
            "numpy": "2",
            "numba": "0.6",
            "openimageio": "3",
            "oiio_ocio": "2.5",
            "opencolorio": "2.6",
            "mattebox": "0.1",
        },
        "methods": ["numpy: obvious"],
        "left_out": ["blur 50"],
        "cases": [_fake_case()],
    }
    out = tmp_path / "results" / "run.json"
    report.write_json(out, data)
    assert json.loads(out.read_text())["cases"][0]["rows"][0]["median"] == 0.52

    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nOlder text stays.\n")
    plot = tmp_path / "images" / "bench-chain.png"
    report.update_docs(docs, report.markdown_section(data, plot, docs))
    first = docs.read_text()
    assert first.startswith("# Benchmarks\n\n" + report.BEGIN)
    assert first.rstrip().endswith("Older text stays.")
    assert "](images/bench-chain.png)" in first and "| Mattebox" in first
    data["summary"] = "bench comp 4K: mattebox 0.40 s"
    report.update_docs(docs, report.markdown_section(data, None, docs))
    second = docs.read_text()
    assert second.count(report.BEGIN) == 1 and "0.40 s" in second and "0.52 s**" not in second


def test_chain_plot_has_time_and_memory(tmp_path):
    pytest.importorskip("matplotlib", reason="the plot needs matplotlib (not a dependency)")
    cases = []
    for n, seconds in ((1, 0.1), (10, 0.4), (40, 1.5)):
        case = _fake_case("chain", "64x48", 64, 48)
        case["arg"] = n
        case["rows"][0].update(median=seconds)
        cases.append(case)
    assert report.chain_series(cases)[("Mattebox", "disk → disk", "64x48")][2][0] == 40
    assert report.plot_chain(cases, tmp_path / "chain.png")
    assert (tmp_path / "chain.png").stat().st_size > 1000


def _mattebox_pixels(work, tmp_path, images):
    paths = {}
    for name, pixels in images.items():
        paths[name] = tmp_path / f"{name}.exr"
        workloads.write_exr(paths[name], pixels)
    height, width = images["plate"].shape[:2]
    g, _, _, check = workloads.mattebox_graph(work, paths, tmp_path / "out.exr", (width, height))
    image = render.render(g, check, backend="cpu", use_cache=False)
    return workloads.crop_to_format(image.pixels, image.data_window, width, height)


@pytest.mark.parametrize("work", [workloads.points(), workloads.ocio()], ids=lambda w: w.name)
def test_numpy_peer_computes_what_mattebox_computes(work, tmp_path):
    images = {"plate": workloads.plate_pixels(64, 48)}
    ours = _mattebox_pixels(work, tmp_path, images)
    theirs, _ = workloads.numpy_run(work, images)
    assert np.abs(ours).max() > 0.1  # not a comparison of two black images
    np.testing.assert_allclose(theirs, ours, atol=1e-5)


def test_numpy_blur_matches_a_direct_gaussian():
    rng = np.random.default_rng(3)
    image = rng.uniform(0, 1, (20, 30, 4)).astype(np.float32)
    taps = workloads.blur_taps(5)
    assert len(taps) == 11 and abs(taps.sum() - 1) < 1e-6
    r = np.arange(-5, 6)
    assert np.sqrt((taps * r**2).sum()) == pytest.approx(5 / 3, rel=0.03)  # sigma = size/3
    padded = np.pad(image, ((5, 5), (5, 5), (0, 0)))
    direct = sum(
        taps[i] * taps[j] * padded[i : i + 20, j : j + 30] for i in range(11) for j in range(11)
    )
    np.testing.assert_allclose(workloads.numpy_blur(image, 5), direct, atol=1e-6)


def test_oiiotool_blur_is_separable_with_our_weights(tmp_path):
    files = workloads.write_kernel_files(tmp_path, [15.0])
    args = workloads.oiiotool_args(
        workloads.blur_workload(15), {"plate": "p.exr"}, tmp_path / "o.exr", files, (64, 48)
    )
    assert args.count("--convolve") == 2 and "--colorconfig" not in args
    kernel = oiio.ImageBuf(str(files[15.0][0]))
    assert (kernel.roi.xbegin, kernel.roi.xend, kernel.roi.height) == (-15, 16, 1)
    np.testing.assert_allclose(
        kernel.get_pixels(oiio.FLOAT).reshape(-1), workloads.blur_taps(15), atol=1e-7
    )


def test_child_process_time_and_peak_memory():
    run = measure.run_process([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert run.returncode == 3 and run.seconds > 0 and 0 < run.peak_rss < 2**30
    assert measure.summary([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "runs": 3}


# --------------------------------------------------------------------------- aov workload

AOV_W, AOV_H = 48, 32


def _aov_reference(source: dict) -> np.ndarray:
    """The AOV work in float64, written from the workload's statement (bench/aov.py)."""
    z0, z1 = aov.DEPTH_RANGE
    out = {name: values.astype(np.float64) for name, values in source.items()}
    mask = np.clip((out["depth.Z"] - z0) / (z1 - z0), 0.0, 1.0)
    for gain, name in zip(aov.GAIN, aov.LAYERS["specular"]):
        out[name] = out[name] * (1 + (gain - 1) * mask)
    for c, name in enumerate("RGB"):
        out[name] = sum(out[aov.LAYERS[light][c]] for light in aov.LIGHTS)
    return np.stack([out[name] for name in aov.CHANNELS], axis=-1)


@pytest.fixture
def aov_input(tmp_path):
    paths = aov.make_input(tmp_path, AOV_W, AOV_H)
    return paths, aov.read_channels(paths["aovs"])


def test_aov_input_has_every_layer_and_a_mask_with_both_clamps(aov_input):
    _, source = aov_input
    assert set(source) == set(aov.CHANNELS) and len(aov.CHANNELS) == 26
    z0, z1 = aov.DEPTH_RANGE
    depth = source["depth.Z"]
    assert (depth < z0).any() and (depth > z1).any() and ((depth > z0) & (depth < z1)).any()
    for c, name in enumerate("RGB"):  # the stored beauty is the sum of the lights (in half)
        total = sum(source[aov.LAYERS[light][c]].astype(np.float64) for light in aov.LIGHTS)
        np.testing.assert_allclose(source[name], total, rtol=2e-3, atol=1e-4)
    assert source["R"].max() > 0.3 and 0 < source["A"].mean() < 1


def test_aov_mattebox_numpy_and_imagebufalgo_compute_the_statement(aov_input):
    paths, source = aov_input
    expected = _aov_reference(source)
    stored = np.stack([source[c] for c in "RGB"], axis=-1)
    assert np.abs(expected[..., :3] - stored).max() > 0.01  # the beauty is rebuilt, graded
    g, _, _, check = aov.mattebox_graph(paths, paths["aovs"].parent / "o.exr", (AOV_W, AOV_H))
    image = render.render(g, check, backend="cpu", use_cache=False)
    ours = aov.mattebox_check(image, AOV_W, AOV_H)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(aov.stacked(aov.numpy_run(source)), expected, rtol=1e-6, atol=1e-6)
    buf = oiio.ImageBuf(str(paths["aovs"]))
    buf.read(force=True, convert=oiio.FLOAT)
    out = aov.iba_run(buf)
    assert not out.has_error, out.geterror()
    pixels = out.get_pixels(oiio.FLOAT).reshape(AOV_H, AOV_W, -1)
    theirs = aov.stacked({n: pixels[..., k] for k, n in enumerate(out.spec().channelnames)})
    np.testing.assert_allclose(theirs, expected, rtol=1e-6, atol=1e-6)
    assert all(v == 0 for v in aov.layer_differences(ours, ours).values())


def test_aov_files_of_mattebox_numpy_and_oiiotool_agree_by_layer(aov_input):
    paths, source = aov_input
    folder = paths["aovs"].parent
    g, write, _, _ = aov.mattebox_graph(paths, folder / "mattebox.exr", (AOV_W, AOV_H))
    g.execute([write], frames=[1], backend="cpu")
    ours = aov.read_channels(folder / "mattebox.exr")
    assert set(ours) == set(aov.CHANNELS)
    reference = aov.stacked(ours)
    steps = aov.half_tolerance(reference)
    expected = _aov_reference(source)
    for layer, value in aov.layer_differences(reference, expected).items():
        assert value <= steps[layer], layer  # Mattebox's file: the statement, in half
    aov.numpy_disk(paths["aovs"], folder / "numpy.exr")
    files = {"numpy": folder / "numpy.exr"}
    exe = peers.oiiotool_exe()  # the OpenImageIO wheel, a dependency, ships it
    assert shutil.which(exe), f"oiiotool not found ({exe})"
    done = subprocess.run(
        [exe, *aov.oiiotool_args(paths, folder / "oiiotool.exr")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    files["oiiotool"] = folder / "oiiotool.exr"
    for tool, path in files.items():
        theirs = aov.read_channels(path)
        assert set(theirs) == set(aov.CHANNELS), tool
        for layer, value in aov.layer_differences(reference, aov.stacked(theirs)).items():
            assert value <= steps[layer], (tool, layer, value)


def test_aov_blender_channel_names_are_compared_by_position():
    values = {name: np.full((2, 3), k, np.float32) for k, name in enumerate(aov.CHANNELS)}
    blender = {aov.BLENDER_NAMES.get(n, n): v for n, v in values.items()}
    blender.update({f"{layer}.A": np.ones((2, 3), np.float32) for layer in aov.LIGHTS})
    diffs = aov.layer_differences(aov.stacked(values), aov.stacked(blender, aov.BLENDER_NAMES))
    assert set(diffs) == set(aov.LAYERS) and max(diffs.values()) == 0
    assert np.isnan(aov.stacked({"R": values["R"]})[..., 4]).all()  # missing: NaN


def test_quick_mode_runs_the_aov_workload_small():
    plans, left_out = run.make_plans(run.parse_args(["--quick", "--workloads", "aov"]))
    assert [(p.work.name, p.size) for p in plans] == [("aov", run.QUICK_SMALL)]
    work = plans[0].work
    assert work.inputs == ("aovs",) and work.blender == "aov" and not plans[0].skipped
    assert dict(work.blender_params)["gain"] == "1.3,1.1,0.9"
    assert work.traffic(10, 10) == 100 * 25 * 4 and "aov at other sizes" in left_out[-1]


# --------------------------------------------------------------------------- keying workload

KEY_W, KEY_H = 64, 40


def _keying_reference(plate: np.ndarray, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The keying work in float64 from its statement (bench/keying.py), with scipy's
    filters: (the comp H×W×4, the alpha after erosion and blur)."""
    from scipy import ndimage

    p, bg = plate.astype(np.float64), bg.astype(np.float64)
    others = 0.5 * p[..., 0] + 0.5 * p[..., 2]
    sr, sg, sb = keying.SCREEN
    alpha = np.clip(1 - (p[..., 1] - others) / (sg - 0.5 * sr - 0.5 * sb), 0, 1)
    rgb = np.stack([p[..., 0], np.minimum(p[..., 1], others), p[..., 2]], -1)
    rgb *= (alpha > 0)[..., None]  # premultiplied, then unpremultiplied
    side = 2 * keying.ERODE + 1
    alpha = ndimage.minimum_filter(alpha, size=side, mode="constant", cval=0.0)
    sigma, radius = keying.EDGE_BLUR / 3, int(np.ceil(keying.EDGE_BLUR))
    taps = np.exp(-(np.arange(-radius, radius + 1) ** 2) / (2 * sigma**2))
    for axis in (0, 1):
        alpha = ndimage.correlate1d(alpha, taps / taps.sum(), axis, mode="constant")
    out = np.empty_like(bg)
    out[..., :3] = rgb * alpha[..., None] + bg[..., :3] * (1 - alpha[..., None])
    out[..., 3] = alpha + bg[..., 3] * (1 - alpha)
    return out, alpha


def test_keying_mattebox_numpy_imagebufalgo_and_oiiotool_compute_the_statement(tmp_path):
    paths = keying.make_inputs(tmp_path, KEY_W, KEY_H)
    images = {name: workloads.read_exr(path) for name, path in paths.items()}
    expected, alpha = _keying_reference(images["plate"], images["bg"])
    assert (alpha == 0).any() and (alpha > 0.999).any() and ((alpha > 0.05) & (alpha < 0.95)).any()
    work = keying.workload()
    g, _, _, check = keying.mattebox_graph(paths, tmp_path / "mattebox.exr", (KEY_W, KEY_H))
    image = render.render(g, check, backend="cpu", use_cache=False)
    ours = workloads.crop_to_format(image.pixels, image.data_window, KEY_W, KEY_H)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(keying.numpy_run(images), expected, rtol=1e-5, atol=1e-5)
    bufs = {name: oiio.ImageBuf(str(path)) for name, path in paths.items()}
    out = keying.iba_run(bufs, workloads.iba_kernels(keying.EDGE_BLUR))
    assert not out.has_error, out.geterror()
    theirs = out.get_pixels(oiio.FLOAT).reshape(KEY_H, KEY_W, 4)
    border = work.halo  # OpenImageIO's erode and convolve repeat the edge pixels
    assert workloads.max_difference(theirs, expected.astype(np.float32), border) < 1e-5
    files = workloads.write_kernel_files(tmp_path, [keying.EDGE_BLUR])
    done = subprocess.run(
        [peers.oiiotool_exe(), *keying.oiiotool_args(paths, tmp_path / "oiiotool.exr", files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    from_file = workloads.read_exr(tmp_path / "oiiotool.exr")
    assert workloads.max_difference(from_file, expected.astype(np.float32), border) < 1e-5


def test_quick_mode_runs_the_keying_workload_small():
    plans, _ = run.make_plans(run.parse_args(["--quick", "--workloads", "keying"]))
    assert [(p.work.name, p.size) for p in plans] == [("keying", run.QUICK_SMALL)]
    work = plans[0].work
    assert work.inputs == ("plate", "bg") and work.blender == "keying" and work.halo == 3
    assert work.blender_script.endswith("keying_blender.py")
    assert "ErodeDilate" in work.describe() and "Merge over background" in work.describe()
