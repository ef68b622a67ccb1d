"""The benchmark harness's own parts, at tiny sizes: the peers compute what Mattebox
computes, and the report formats results as promised. No oiiotool or Blender runs here."""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import OpenImageIO as oiio
import pytest

from bench import measure, report, workloads
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
