"""Time against window size for ErodeDilate (box and disc) and Median on the CPU.

    python bench/sizes.py [--size 4K] [--radii 1,5,25] [--repeat 3] [--budget 60]
                          [--json bench/results/NAME.json]

Each case is one node on a random RGBA float32 image (seeded), timed in memory the way
bench/run.py's "in memory" rows are: ``render(graph, node, use_cache=False)`` with the
input decoded and cached, after a warm-up render that compiles or loads the kernel (its
time is reported apart). ErodeDilate erodes (``size`` = -radius): its box is O(1) per
pixel in the radius (van Herk/Gil-Werman), its disc a direct window, O(radius²).
Median's ``size`` is capped at 15 (the GPU ranks a window by counting, O(size⁴)); a
radius above 15 is timed by calling the CPU kernel (``median_kernel``) directly on the
same pixels, which is what the node's CPU path runs, without the graph around it.
The machine's load (``uptime``) is printed before and after, since others share it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import measure, report, run, workloads

CASES = (("ErodeDilate", "box"), ("ErodeDilate", "disc"), ("Median", ""))


def uptime() -> str:
    """The load line of ``uptime``."""
    done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def median_direct(pixels: np.ndarray, radius: int, rows: int, repeat, budget) -> dict:
    """Median's CPU kernel called on ``pixels`` (H×W×4) at ``radius``, computing the first
    ``rows`` output rows (the kernel is parallel over rows, each row the same work), after
    a call on a small image that compiles or loads it; the times scaled to all rows."""
    from mattebox.engine.backends.cpu.compiler import compiled
    from mattebox.nodes.filter.median import median_kernel

    kernel = compiled(median_kernel)
    small = pixels[:16, :16].copy()
    start = time.perf_counter()
    kernel(small, 0, 0, np.empty_like(small), 0, 0, radius)
    first = time.perf_counter() - start
    out = np.empty((rows, pixels.shape[1], 4), np.float32)
    times = measure.time_repeats(lambda: kernel(pixels, 0, 0, out, 0, 0, radius), repeat, budget)
    scale = pixels.shape[0] / rows
    times = [t * scale for t in times]
    return {
        "first_seconds": first,
        "band_rows": rows,
        "rows_scale": scale,
        "times": times,
        **measure.summary(times),
    }


def _graph(path: Path, size, node: str, shape: str, radius: int):
    import mattebox as mb

    g = mb.Graph()
    g.settings.format = mb.Format(*size)
    read = g.add("Read", file=str(path), colorspace="Raw")
    if node == "ErodeDilate":
        target = g.add("ErodeDilate", inputs={"Source": read}, size=-float(radius), shape=shape)
    else:
        target = g.add("Median", inputs={"Source": read}, size=radius)
    return g, read, target


def through_graph(paths: dict, size, node: str, shape: str, radius: int, repeat, budget) -> dict:
    """One node after a Read of ``paths["full"]``, timed in memory (the input decoded and
    cached first); the kernel is compiled or loaded on ``paths["small"]`` (16×16) first."""
    from mattebox.engine import render

    g, _, target = _graph(paths["small"], (16, 16), node, shape, radius)
    start = time.perf_counter()
    render.render(g, target, backend="cpu", use_cache=False)
    first = time.perf_counter() - start
    g, read, target = _graph(paths["full"], size, node, shape, radius)
    render.render(g, read, backend="cpu")  # the input decoded and cached
    times = measure.time_repeats(
        lambda: render.render(g, target, backend="cpu", use_cache=False), repeat, budget
    )
    return {"first_seconds": first, "times": times, **measure.summary(times)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="4K", help="1080p, 4K or WxH")
    parser.add_argument("--radii", default="1,5,25", help="comma-separated radii in pixels")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per case at most")
    parser.add_argument(
        "--median-rows",
        type=int,
        default=0,
        help="Median's kernel above size 15 computes this many rows, its time scaled to "
        "the whole image (default: all rows)",
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    label, width, height = run.parse_size(args.size)
    radii = [int(r) for r in args.radii.split(",")]
    from mattebox.nodes.filter.median import MAX_SIZE

    load_before = uptime()
    print(f"{label} ({width}×{height}), CPU; load before: {load_before}", flush=True)
    rng = np.random.default_rng(11)
    pixels = rng.random((height, width, 4), dtype=np.float32)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mattebox-sizes-") as folder:
        paths = {"full": Path(folder) / "input.exr", "small": Path(folder) / "small.exr"}
        workloads.write_exr(paths["full"], pixels)
        workloads.write_exr(paths["small"], pixels[:16, :16])
        for node, shape in CASES:
            for radius in radii:
                direct = node == "Median" and radius > MAX_SIZE
                if direct:
                    band = min(args.median_rows or height, height)
                    result = median_direct(pixels, radius, band, args.repeat, args.budget)
                else:
                    result = through_graph(
                        paths, (width, height), node, shape, radius, args.repeat, args.budget
                    )
                row = {"node": node, "shape": shape, "radius": radius, "direct": direct, **result}
                rows.append(row)
                print(table_row(row, width * height), flush=True)
    load_after = uptime()
    print(f"load after: {load_after}")
    if args.json:
        data = {
            "command": " ".join(["python bench/sizes.py", *(argv or sys.argv[1:])]),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "size": [width, height],
            "machine": report.machine_info(),
            "load_before": load_before,
            "load_after": load_after,
            "rows": rows,
        }
        report.write_json(args.json, data)
        print(f"results: {args.json}")
    return 0


def table_row(row: dict, pixels: int) -> str:
    """``| ErodeDilate | box | 5 | 0.123 s | 0.120–0.130 s | 3 | 15 ns | 1.2 s |``"""
    name = row["node"]
    if row["direct"]:
        scale = row.get("rows_scale", 1)
        band = f", {row['band_rows']} rows timed, × {scale:g}" if scale > 1 else ""
        name += f" (kernel called directly{band})"
    per_pixel = row["median"] / pixels * 1e9
    return (
        f"| {name} | {row['shape'] or 'square'} | {row['radius']} | "
        f"{report.seconds_text(row['median'])} | "
        f"{report.seconds_text(row['min'])}–{report.seconds_text(row['max'])} | "
        f"{row['runs']} | {per_pixel:.0f} ns | {report.seconds_text(row['first_seconds'])} |"
    )


if __name__ == "__main__":
    sys.exit(main())
