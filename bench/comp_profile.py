"""Where the bench comp's disk-to-disk time goes: the whole render, and its reads, its
compositing and its write alone, in wall and CPU time, and the compositing per node.

    python bench/comp_profile.py [--size 3840x2160] [--repeat 5] [--mattebox-root DIR]

The comp and its inputs are bench/run.py's (``workloads.comp``: random premultiplied
plate and background as uncompressed float EXRs, written to a temporary folder), on the
CPU backend. CPU time is user + system of this process and its decoder processes: on a
shared machine it moves less than the wall time. ``--mattebox-root`` imports Mattebox
from another checkout (a folder holding a ``mattebox`` package) for before/after figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="3840x2160")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mattebox-root", help="import mattebox from this folder")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.mattebox_root:
        sys.path.insert(0, args.mattebox_root)
    sys.path.insert(1 if args.mattebox_root else 0, str(ROOT))  # `bench` is a folder of modules
    from bench import workloads
    from mattebox.engine import io, render
    from mattebox.engine.stats import RenderStats

    def cpu_seconds() -> float:
        total = sum(os.times()[:2])
        for each in io.worker._workers:
            if each.pid:
                with open(f"/proc/{each.pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def measured(work, repeat=args.repeat) -> tuple[float, float]:
        """Median wall and CPU seconds of ``work()``."""
        walls, cpus = [], []
        for _ in range(repeat):
            cpu, start = cpu_seconds(), time.perf_counter()
            work()
            walls.append(time.perf_counter() - start)
            cpus.append(cpu_seconds() - cpu)
        return float(np.median(walls)), float(np.median(cpus))

    width, height = (int(v) for v in args.size.lower().split("x"))
    print(f"Mattebox from {io.__file__}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="mattebox-profile-") as name:
        folder = Path(name)
        paths = workloads.make_inputs(folder, width, height)
        out = folder / "comp.exr"
        g, write, node, _ = workloads.mattebox_graph(workloads.comp(), paths, out, (width, height))
        cache = render.session().cache

        def disk():
            cache.clear()
            g.execute([write], frames=[1], backend="cpu")

        def reads():
            threads = [
                threading.Thread(target=io.read_image, args=(str(path),)) for path in paths.values()
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        for _ in range(2):
            disk()  # kernels loaded, decoders started
        rows = [("disk → disk", measured(disk)), ("the two reads at once", measured(reads))]
        rows.append(("one read", measured(lambda: io.read_image(str(paths["plate"])))))
        render.render(g, node, backend="cpu", use_cache=False)
        rows.append(("in memory (inputs decoded)",
                     measured(lambda: render.render(g, node, backend="cpu", use_cache=False))))  # fmt: skip
        image = render.render(g, node, backend="cpu", use_cache=False)
        window = (image.window.x0, image.window.y0, image.window.x1, image.window.y1)
        rows.append(("write of the result (float EXR)", measured(lambda: io.write_image(
            str(out), image.pixels, window, (width // 2, height // 2), datatype="float",
            compression="none"))))  # fmt: skip
        best = None
        for _ in range(args.repeat):
            stats = RenderStats()
            start = time.perf_counter()
            render.render(g, node, backend="cpu", use_cache=False, stats=stats)
            seconds = time.perf_counter() - start
            if best is None or seconds < best[0]:
                best = (seconds, stats)
    for label, (wall, cpu) in rows:
        print(f"{label:34s} wall {wall * 1e3:7.1f} ms   CPU {cpu * 1e3:7.1f} ms")
    print(f"\nin memory per node (best of {args.repeat}):\n{best[1]}")
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
