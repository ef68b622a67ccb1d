"""The viewer's display step on each path, at 1080p and 4K (issue 13 item 5).

For one image (Noise -> Grade, rendered once) and one display/view, best of --repeat:

* ``cpu``: the host path on host pixels (``engine.viewer.display_image`` with OCIO's CPU
  processor and numpy: exposure, view, gamma, 8 bits), what a machine without a GPU does;
* ``gpu before``: what the GPU backend did before item 5: the render's float pixels
  downloaded, then the display transform uploaded to the device and back
  (``apply_processor``), and gamma and 8 bits on the host;
* ``gpu``: the display step on the device on the render left there, with the one
  download of 4 bytes a pixel into the array the viewer's QImage wraps.

    .venv/bin/python -m mattebox.bench.viewer_display            # 1080p and 4K
    .venv/bin/python -m mattebox.bench.viewer_display --sizes 1080p --repeat 5 --json out.json

On a machine with only a software adapter (lavapipe) the GPU figures time that adapter.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

import mattebox as mb
from mattebox.engine import render
from mattebox.engine import viewer as engine_viewer
from mattebox.engine.backends import detect
from mattebox.nodes.spec import Format

SIZES = {"1080p": (1920, 1080), "4k": (3840, 2160)}
VIEWS = {
    "aces": ("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)"),
    "plain": ("sRGB - Display", "Un-tone-mapped"),
}


def best(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(size: str, view: str, repeat: int) -> dict:
    width, height = SIZES[size]
    graph = mb.Graph()
    graph.settings.format = Format(width, height)
    noise = graph.add("Noise")
    grade = graph.add("Grade", inputs={"Source": noise}, gain=[1.3, 0.9, 1.1, 1.0])
    settings = engine_viewer.DisplaySettings(*VIEWS[view], exposure=0.5, gamma=1.1)
    ctx = render.context_for(graph, 1)
    row = {"size": size, "view": view, "pixels": width * height}
    host = render.render(graph, grade, backend="cpu").pixels

    def on_cpu():
        engine_viewer.display_image(host, ctx.ocio_config, ctx.working_space, settings, "cpu")

    on_cpu()  # processors built, numba warm
    row["cpu_s"] = best(on_cpu, repeat)
    if not detect.available("gpu"):
        return row
    found = render.render_on_device(graph, grade, 1, "gpu")
    if found is None:
        row["gpu_note"] = "larger than one binding of this device: the host path runs"
        return row
    backend = found.backend
    row["adapter"] = backend.adapter.name
    processor = engine_viewer.color.display_processor(
        ctx.ocio_config, ctx.working_space, settings.display, settings.view
    )
    out = np.empty((height, width, 4), np.uint8)

    def before():
        with backend.lock:
            pixels = backend.download(found.handle, found.window)
        engine_viewer.display_image(pixels, ctx.ocio_config, ctx.working_space, settings, "gpu")

    def on_device():
        backend.display(
            found.handle,
            found.window,
            found.region,
            1,
            processor,
            settings.exposure,
            settings.gamma,
            settings.channel,
            out,
        )

    before()
    on_device()  # pipelines compiled
    row["gpu_before_s"] = best(before, repeat)
    row["gpu_s"] = best(on_device, repeat)
    row["gpu_bytes_back"] = out.nbytes
    row["gpu_before_bytes_moved"] = 3 * width * height * 16  # down, up, down
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1080p,4k", help="comma list of 1080p, 4k")
    parser.add_argument("--views", default="aces,plain", help="comma list of aces, plain")
    parser.add_argument("--repeat", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args(argv)
    rows = []
    print("| size | view | cpu | gpu before | gpu | gpu vs before | gpu vs cpu |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for size in args.sizes.split(","):
        for view in args.views.split(","):
            row = measure(size.strip().lower(), view.strip(), args.repeat)
            rows.append(row)
            gpu, old, cpu = row.get("gpu_s"), row.get("gpu_before_s"), row["cpu_s"]
            cells = [f"{cpu * 1000:.1f} ms"]
            cells += [
                f"{old * 1000:.1f} ms" if old else "-",
                f"{gpu * 1000:.1f} ms" if gpu else "-",
            ]
            cells += [f"{old / gpu:.1f}x" if gpu else "-", f"{cpu / gpu:.1f}x" if gpu else "-"]
            print(f"| {size} | {view} | " + " | ".join(cells) + " |", flush=True)
    adapter = next((r["adapter"] for r in rows if "adapter" in r), "none")
    print(f"adapter: {adapter}; host: {platform.node()}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"adapter": adapter, "rows": rows}, handle, indent=2)


if __name__ == "__main__":
    main()
