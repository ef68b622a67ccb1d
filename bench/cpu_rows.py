"""CPU time of the comp and chain rows in memory: the steady measure for before/after on
a shared machine, where wall times move with other people's work.

    python bench/cpu_rows.py [--size 3840x2160] [--repeat 5] [--threads 1] [--json OUT]
    PYTHONPATH=/tmp/before python bench/cpu_rows.py ...   # another checkout's mattebox

The graphs and inputs are bench/run.py's (``workloads.comp`` and ``workloads.chain(N)``
for N = 1, 5, 10, 20, 40), rendered as its in-memory rows are (inputs decoded and cached,
everything downstream recomputed, CPU backend). Each render is timed in CPU seconds of
this process, all its threads (``time.process_time``), on ``--threads`` numba threads:
with one thread the figure is the work itself, which a busy machine's other processes
slow down far less than they slow the wall clock. Prints min and median per row, and the wall time's median beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAIN_LENGTHS = (1, 5, 10, 20, 40)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="3840x2160")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args(argv)
    sys.path.insert(1, str(ROOT))  # `bench` is a folder of modules; mattebox may come first
    import numba
    import numpy as np

    numba.set_num_threads(args.threads)
    import mattebox
    from bench import workloads
    from mattebox.engine import render

    width, height = (int(v) for v in args.size.lower().split("x"))
    rows = {"mattebox": str(Path(mattebox.__file__).parent), "threads": args.threads}
    rows["load_before"] = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mattebox-cpu-rows-") as name:
        folder = Path(name)
        paths = workloads.make_inputs(folder, width, height)
        cases = [("bench comp", workloads.comp())]
        cases += [(f"chain N = {n}", workloads.chain(n)) for n in CHAIN_LENGTHS]
        for label, work in cases:
            out = folder / "out.exr"
            g, _, node, _ = workloads.mattebox_graph(work, paths, out, (width, height))
            render.render(g, node, backend="cpu", use_cache=True)  # kernels, decodes cached
            render.render(g, node, backend="cpu", use_cache=False)  # buffers touched once
            seconds, walls = [], []
            for _ in range(args.repeat):
                start, wall = time.process_time(), time.perf_counter()
                render.render(g, node, backend="cpu", use_cache=False)
                seconds.append(time.process_time() - start)
                walls.append(time.perf_counter() - wall)
            rows[label] = {
                "min_ms": min(seconds) * 1e3,
                "median_ms": float(np.median(seconds)) * 1e3,
                "wall_median_ms": float(np.median(walls)) * 1e3,
            }
            print(f"{label:14s} CPU min {min(seconds) * 1e3:7.1f} ms  median "
                  f"{np.median(seconds) * 1e3:7.1f} ms  (wall median "
                  f"{np.median(walls) * 1e3:7.1f} ms)", flush=True)  # fmt: skip
    rows["load_after"] = os.getloadavg()[0]
    print(f"mattebox from {rows['mattebox']}; load {rows['load_before']:.1f} -> "
          f"{rows['load_after']:.1f}")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
