"""An image larger than memory (issue 13, item 3): peak memory and time per pixel of a
32768 x 32768 comp streamed under a 2 GiB budget, against the same comp at 8K in memory.

    python bench/bigimage.py [--sizes 8192,32768] [--budget 2048] [--source checker|read]
                             [--reference-budget MIB] [--folder /tmp]
                             [--json bench/results/NAME.json]

The comp: a source (``checker``: a Checkerboard of 64-pixel squares; ``read``: a tiled
half EXR of that size, made first by the same comp's source and not timed) -> Grade
(gain, offset) -> Blur 25 -> Transform (a move of (12.5, -7.25) pixels: every pixel
resampled by the cubic filter) -> Write (tiled half EXR, zip). Each size renders in a
process of its own with ``MATTEBOX_CPU_MEMORY`` set to the budget, on the CPU backend,
after a 256 x 256 render of the same comp has compiled or loaded its kernels; the time is
``execute()`` of the Write, disk to disk. At 8K the checker comp's frame (1 GiB) fits a
2 GiB budget, so it renders in memory as it always has; at 32k (16 GiB) it does not, so it
streams (``engine/stream.py``); the child says which path wrote the file. The read comp
at 8K holds its frame and the decoded plate (2 GiB together), which a 2 GiB budget
streams too: ``--reference-budget`` gives the first size a budget of its own (such as
8192) so that it is the in-memory reference.

Memory, two ways: the render process's peak resident set (``ru_maxrss`` from
``os.wait4``: the largest of the process and the decoders it started, each alone), and
the peak of the whole process tree's proportional set size (``Pss`` from
``/proc/PID/smaps_rollup``, summed over the process and its children, sampled every
50 ms; shared memory is counted once). The machine's load (``uptime``) is printed before
and after each run, since others share it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(size: int, source: str, out: str, plate: str = ""):
    """The comp at ``size`` x ``size``: (graph, its Write node)."""
    import mattebox as mb

    graph = mb.Graph()
    graph.settings.format = mb.Format(size, size)
    if source == "read":
        node = graph.add("Read", file=plate, colorspace="Raw")
    else:
        node = graph.add("Checkerboard", size=64)
    node = graph.add("Grade", inputs={"Source": node}, gain=1.2, offset=0.01)
    node = graph.add("Blur", inputs={"Source": node}, size=25)
    node = graph.add("Transform", inputs={"Source": node}, translate=(12.5, -7.25))
    write = graph.add("Write", inputs={"Source": node}, file=out, tiled=True, compression="zip")
    return graph, write


def make_plate(size: int, path: str) -> None:
    """The tiled half EXR a ``read`` comp reads: the Checkerboard itself, written."""
    import mattebox as mb
    from mattebox.engine import render

    graph = mb.Graph()
    graph.settings.format = mb.Format(size, size)
    board = graph.add("Checkerboard", size=64)
    write = graph.add("Write", inputs={"Source": board}, file=path, tiled=True, colorspace="Raw")
    render.execute(graph, [write], "1", backend="cpu")


def child(args) -> None:
    """One render, in this process; prints one JSON line."""
    from mattebox.engine import io, render

    plate = os.path.join(args.folder, f"bigimage_plate_{args.size}.exr")
    if args.source == "read" and not os.path.exists(plate):
        make_plate(args.size, plate)
    warm = os.path.join(args.folder, "bigimage_warm.exr")
    graph, write = build(256, args.source, warm, plate)
    if args.source == "read":
        graph["Read1"]["file"] = os.path.join(args.folder, "bigimage_plate_warm.exr")
        make_plate(256, graph["Read1"]["file"])
    render.execute(graph, [write], "1", backend="cpu")  # kernels compiled or loaded
    out = os.path.join(args.folder, f"bigimage_out_{args.size}.exr")
    graph, write = build(args.size, args.source, out, plate)
    streamed = []
    original = io.StreamedWrite

    def spy(*a, **k):
        streamed.append(original(*a, **k))
        return streamed[-1]

    io.StreamedWrite = spy
    started = time.perf_counter()
    render.execute(graph, [write], "1", backend="cpu")
    seconds = time.perf_counter() - started
    info = io.probe(out)
    x0, y0, x1, y1 = info.data_window
    pixels = (x1 - x0) * (y1 - y0)
    print(
        json.dumps(
            {
                "size": args.size,
                "seconds": seconds,
                "pixels": pixels,
                "ns_per_pixel": seconds / pixels * 1e9,
                "path": "streamed" if streamed else "in memory",
                "file_bytes": os.path.getsize(out),
                "tiled": info.tiled,
            }
        ),
        flush=True,
    )
    for path in (out, warm):
        os.remove(path)


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children") as f:
                stack += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return found


def _pss(pid: int) -> int:
    """Bytes of proportional set size of one process (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def measure(size: int, args, budget: float) -> dict:
    """Run one size in a child process under ``budget``; its result with memory figures."""
    env = dict(os.environ, MATTEBOX_CPU_MEMORY=str(budget))
    command = [sys.executable, __file__, "--child", "--size", str(size), "--source", args.source,
               "--folder", args.folder]  # fmt: skip
    load_before = uptime()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], sum(_pss(p) for p in _tree(process.pid)))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"size {size}: the render failed (exit {process.returncode})")
    result = json.loads(output.strip().splitlines()[-1])
    result.update(
        budget_mib=budget,
        max_rss_bytes=usage.ru_maxrss * 1024,
        peak_tree_pss_bytes=peak[0],
        load_before=load_before,
        load_after=uptime(),
    )
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="8192,32768", help="square sizes, comma-separated")
    parser.add_argument("--budget", type=float, default=2048, help="MATTEBOX_CPU_MEMORY, MiB")
    parser.add_argument("--source", choices=("checker", "read"), default="checker")
    parser.add_argument(
        "--reference-budget", type=float, help="MATTEBOX_CPU_MEMORY of the first size, MiB"
    )
    parser.add_argument("--folder", default="/tmp", help="where the files go (removed after)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return
    results = []
    for index, size in enumerate(int(s) for s in args.sizes.split(",")):
        budget = args.reference_budget if index == 0 and args.reference_budget else args.budget
        result = measure(size, args, budget)
        results.append(result)
        print(
            f"{size}x{size} ({result['path']}, {budget:g} MiB): {result['seconds']:.1f} s, "
            f"{result['ns_per_pixel']:.1f} ns/px, max RSS {result['max_rss_bytes'] / 2**30:.2f} "
            f"GiB, tree PSS {result['peak_tree_pss_bytes'] / 2**30:.2f} GiB "
            f"[{result['load_before'].split('load average: ')[-1]} -> "
            f"{result['load_after'].split('load average: ')[-1]}]",
            flush=True,
        )
    if len(results) > 1:
        ratio = results[-1]["ns_per_pixel"] / results[0]["ns_per_pixel"]
        print(f"time per pixel, {results[-1]['size']} against {results[0]['size']}: {ratio:.2f}x")
    if args.json:
        record = {
            "command": " ".join(
                ["python bench/bigimage.py", *(sys.argv[1:] if argv is None else argv)]
            ),
            "date": time.strftime("%Y-%m-%d"),
            "results": results,
        }
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
