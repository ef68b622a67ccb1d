"""Frames per second of a comp rendered over 1, 2, 4, 8 GPUs with ``--dask local-gpus``
(issue 14), and the same scaling path with CPU workers where no GPU is lent.

    python bench/multigpu.py --gpus 1,2,4,8 [--frames 100] [--size 4K]
                             [--json bench/results/NAME.json]
    python bench/multigpu.py --cpu-workers 1,2 --frames 24 --size 480x270 --repeat 3
    python bench/multigpu.py --overhead [--frames 200]

**The comp.** The bench comp on a plate *sequence*: ``--frames`` links
``plate.0001.exr`` ... to four distinct 4K plates (``bench/workloads.make_sequence``: each
frame is a new path, so a new decode), Grade (its gain keyed from the first to the last
frame, so every frame differs) -> OCIOColorSpace ACEScg to ACES2065-1 -> Blur 15 -> Merge
over a single background image (its decode stays in each worker's cache: the "plate cache"
that chunks of consecutive frames keep warm) -> Write, one half-float zip EXR per frame.

**A row.** For each count N: a local cluster of N workers (the first N GPUs of
``--dask local-gpus``, each pinned to its adapter by ``MATTEBOX_GPU``; or N CPU workers,
numba's threads shared out) is started and timed apart ("start"); then
``distributed.execute`` renders every frame on it, as ``mattebox render --dask local-gpus``
does, timed from submission to the last file written ("render": first-frame costs such as
pipeline and kernel compilation included, as a user meets them). fps = frames / render;
scaling = fps over the one-worker fps; "frames per worker" says how evenly they spread.
Before the rows, two frames are rendered once on one worker and not timed (numba's disk
cache and the page cache of the plates, so the first row does not pay for the others);
``--repeat N`` keeps each row's best of N runs (all are in the JSON).

**Overhead.** ``--overhead`` times the per-frame progress event alone: one CPU worker
renders ``--frames`` tiny frames (16x16) in one chunk with the event (as renders do) and
without it, best of three each; the difference per frame is the cost of per-frame
progress.

The machine's load (``uptime``) is printed before and after, since others may share it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import mattebox as mb
from bench import workloads
from mattebox.engine import distributed
from mattebox.engine.backends import detect


def comp_script(folder: Path, frames: int, size: tuple[int, int]) -> Path:
    """The comp described above, its inputs written under ``folder``; the script's path."""
    width, height = size
    plate = workloads.make_sequence(folder / "plates", width, height, frames)
    background = folder / "bg.exr"
    workloads.write_exr(background, workloads.background_pixels(width, height))
    g = mb.Graph()
    g.settings.ocio_config = workloads.CONFIG
    g.settings.format = mb.Format(width, height)
    g.settings.frame_range = (1, frames)
    read = g.add("Read", file=str(plate), colorspace="ACEScg")
    node = workloads.mattebox_chain(g, read, workloads.COMP_PLATE_OPS)
    grade = next(n for n in g.nodes.values() if n.type == "Grade")
    grade["gain"] = {"keys": [[1, 1.15], [frames, 0.85]]}
    bg = g.add("Read", file=str(background), colorspace="ACEScg")
    over = g.add("Merge", inputs={"B": bg, "A": node}, operation="over")
    g.add(
        "Write",
        name="Out",
        inputs={"Source": over},
        file=str(folder / "out" / "comp.####.exr"),
        colorspace="ACEScg",
        datatype="half",
        compression="zip",
    )
    path = folder / "comp.mbx"
    g.save(path)
    return path


def run_row(script: Path, frames: int, gpus: list, cpu_workers: int, chunk: int | None) -> dict:
    """Start a cluster of ``gpus`` GPU workers and ``cpu_workers`` CPU ones, render every
    frame on it; the row's figures."""
    from distributed import Client

    started = time.perf_counter()
    with distributed.local_cluster(gpus, cpu_workers) as cluster, Client(cluster) as client:
        workers = len(gpus) + cpu_workers
        client.wait_for_workers(workers, timeout=distributed.START_TIMEOUT)
        start = time.perf_counter() - started
        began = time.perf_counter()
        outcome = distributed.execute(script, range(1, frames + 1), scheduler=client, chunk=chunk)
        seconds = time.perf_counter() - began
    if outcome.failed:
        first = outcome.failed[0]
        raise SystemExit(f"frame {first.frame} failed: {first.error}")
    per_worker: dict[str, int] = {}
    for result in outcome.results:
        per_worker[result.worker] = per_worker.get(result.worker, 0) + 1
    devices = sorted({r.device for r in outcome.results})
    return {
        "workers": workers,
        "frames": frames,
        "start_s": round(start, 2),
        "render_s": round(seconds, 2),
        "fps": round(frames / seconds, 3),
        "chunk": chunk or distributed.auto_chunk(frames, workers),
        "frames_per_worker": dict(sorted(per_worker.items())),
        "devices": devices,
    }


def overhead(frames: int) -> dict:
    """Seconds per frame of the progress event: a chunk of tiny frames with and without."""
    from distributed import Client

    with tempfile.TemporaryDirectory() as folder:
        g = mb.Graph()
        g.settings.format = mb.Format(16, 16)
        noise = g.add("Noise")  # moves with the frame: every frame differs
        g.add("Write", name="Out", inputs={"Source": noise}, file=f"{folder}/t.####.exr")
        script = f"{folder}/tiny.mbx"
        g.save(script)
        frame_list = list(range(1, frames + 1))
        times: dict[str, float] = {}
        with distributed.local_cluster([], 1) as cluster, Client(cluster) as client:
            client.wait_for_workers(1, timeout=distributed.START_TIMEOUT)
            topic = "mattebox-bench-overhead"
            client.subscribe_topic(topic, lambda event: None)
            args = (script, ["Out"], frame_list, "cpu")
            client.submit(distributed.render_chunk, *args, None, pure=False).result()  # warm
            for label, chosen in (("without", None), ("with", topic)) * 3:
                began = time.perf_counter()
                client.submit(distributed.render_chunk, *args, chosen, pure=False).result()
                took = time.perf_counter() - began
                times[label] = min(times.get(label, took), took)
    per_frame = (times["with"] - times["without"]) / frames
    return {
        "frames": frames,
        "without_s": round(times["without"], 4),
        "with_s": round(times["with"], 4),
        "per_frame_ms": round(per_frame * 1000, 3),
    }


def table(rows: list[dict], what: str) -> str:
    """The rows as the markdown table of docs/benchmarks.md."""
    base = rows[0]["fps"] if rows and rows[0]["workers"] == 1 else None
    lines = [
        f"| {what} | frames | start (s) | render (s) | fps | scaling vs 1 | frames per worker |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        scaling = f"{row['fps'] / base:.2f}x" if base else "-"
        spread = ", ".join(f"{k} {v}" for k, v in row["frames_per_worker"].items())
        lines.append(
            f"| {row['workers']} | {row['frames']} | {row['start_s']:.1f} | "
            f"{row['render_s']:.2f} | {row['fps']:.2f} | {scaling} | {spread} |"
        )
    return "\n".join(lines)


def parse_size(text: str) -> tuple[int, int]:
    if text in workloads.SIZES:
        return workloads.SIZES[text]
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gpus", help="GPU worker counts, such as 1,2,4,8")
    parser.add_argument("--cpu-workers", help="CPU worker counts instead, such as 1,2")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--size", default="4K", help="4K, 1080p or WxH (default 4K)")
    parser.add_argument("--chunk", type=int, help="frames per task (default: automatic)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per row, best kept")
    parser.add_argument("--overhead", action="store_true", help="time the progress event")
    parser.add_argument("--json", help="write the figures and the machine here")
    args = parser.parse_args()
    from bench import report

    print(f"load before: {uptime()}", flush=True)
    result: dict = {"machine": report.machine_info(), "command": " ".join(sys.argv)}
    if args.overhead:
        result["overhead"] = overhead(args.frames)
        print(json.dumps(result["overhead"]))
    else:
        counts = [int(c) for c in (args.gpus or args.cpu_workers or "1").split(",")]
        gpus = detect.worker_gpus() if args.gpus else []
        if args.gpus:
            result["adapters"] = [f"{a.index}: {a.describe()}" for a in gpus]
            blocked = [c for c in counts if c > len(gpus)]
            if blocked:
                print(f"blocked: {blocked} GPU(s) asked for, {len(gpus)} here", flush=True)
                result["blocked"] = blocked
            counts = [c for c in counts if c <= len(gpus)]
        size = parse_size(args.size)
        rows = []
        with tempfile.TemporaryDirectory(prefix="mattebox-multigpu-") as folder:
            script = comp_script(Path(folder), args.frames, size)
            warm = (gpus[:1], 0) if args.gpus else ([], 1)
            run_row(script, min(2, args.frames), *warm, None)  # disk caches, not timed
            for count in counts:
                chosen, cpus = (gpus[:count], 0) if args.gpus else ([], count)
                tries = [
                    run_row(script, args.frames, chosen, cpus, args.chunk)
                    for _ in range(args.repeat)
                ]
                rows.append(min(tries, key=lambda row: row["render_s"]))
                rows[-1]["render_s_all"] = [row["render_s"] for row in tries]
                print(json.dumps(rows[-1]), flush=True)
        result.update(size=f"{size[0]}x{size[1]}", rows=rows)
        print(table(rows, "GPUs" if args.gpus else "CPU workers"))
    print(f"load after: {uptime()}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
