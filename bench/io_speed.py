"""Read and write speed of a 4K EXR per compression: Mattebox, oiiotool and Blender 5.

    python bench/io_speed.py [--size 3840x2160] [--repeat 5] [--bpy PYTHON]
                             [--compressions none,zip,piz,dwaa] [--out RESULTS.json]
                             [--mattebox-root DIR] [--label NAME]

The image is the keying workload's green-screen plate (bench/keying.py: full frame, grain
on every channel, so it compresses as a real plate does, not as an empty frame), opaque
RGBA; ``none`` is stored as float, the others as half (what a studio writes).

- Mattebox: ``io.read_image`` through its decoder process, the pixels freed before the
  next read (so the shared-memory pool is used as a render uses it); ``io.write_image``
  of the float pixels (the atomic write: temporary file, then rename). In this process.
- oiiotool (the wheel's, ``--threads`` the CPUs given): read = ``oiiotool -i:now=1
  FILE``, write = ``oiiotool -i:now=1 FLOAT_FILE -d half --compression C -o OUT`` less
  the read of the uncompressed float file; both less oiiotool's start-up (``--version``).
- Blender 5 (``--bpy``, pinned with taskset): read = a compositor tree Image -> Scale to
  64x36 -> output (the decode, the rest tiny), write = Image (the float file) -> output
  with the codec, less the read of that float file; times from inside Blender.

``--mattebox-root`` imports Mattebox from another checkout (a folder holding a
``mattebox`` package, e.g. ``git archive`` of an older commit) for before/after figures.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
COMPRESSIONS = ("none", "zip", "piz", "dwaa")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="3840x2160")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--compressions", default=",".join(COMPRESSIONS))
    parser.add_argument("--bpy", default=os.environ.get("MATTEBOX_BENCH_BPY"))
    parser.add_argument("--no-oiiotool", action="store_true")
    parser.add_argument("--mattebox-root", help="import mattebox from this folder")
    parser.add_argument("--label", default="Mattebox")
    parser.add_argument("--out", type=Path)
    return parser.parse_args(argv)


def load_average() -> float:
    return os.getloadavg()[0]


def summary(times: list[float]) -> dict:
    return {"median": float(np.median(times)), "min": min(times), "max": max(times),
            "times": times}  # fmt: skip


def datatype_of(compression: str) -> str:
    return "float" if compression == "none" else "half"


def write_inputs(folder: Path, width: int, height: int, compressions) -> dict:
    """The plate in each compression (written by OpenImageIO directly)."""
    import OpenImageIO as oiio

    from bench import keying

    pixels = keying.plate_pixels(width, height)
    paths = {}
    for compression in compressions:
        path = folder / f"plate-{compression}.exr"
        spec = oiio.ImageSpec(width, height, 4, datatype_of(compression))
        spec.attribute("compression", compression)
        out = oiio.ImageOutput.create(str(path))
        assert out.open(str(path), spec) and out.write_image(pixels), out.geterror()
        out.close()
        paths[compression] = path
    return pixels, paths


def cpu_seconds(io) -> float:
    """User + system CPU seconds of this process and its decoder processes (on a shared
    machine a steadier measure than the wall time, which waits for other people's work)."""
    total = sum(os.times()[:2])
    workers = getattr(getattr(io, "worker", None), "_workers", ())
    for each in workers:
        if each.pid:
            with open(f"/proc/{each.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def mattebox_times(io, paths: dict, pixels: np.ndarray, folder: Path, repeat: int) -> dict:
    """Read and write seconds (wall and CPU) per compression, in this process."""
    height, width = pixels.shape[:2]
    results = {}
    for compression, path in paths.items():
        io.read_image(str(path))  # the decoder started, the pool made
        gc.collect()
        reads, read_cpu = [], []
        for _ in range(repeat):
            cpu, start = cpu_seconds(io), time.perf_counter()
            image, _, _ = io.read_image(str(path))
            reads.append(time.perf_counter() - start)
            read_cpu.append(cpu_seconds(io) - cpu)
            del image
        writes, write_cpu = [], []
        out = folder / f"mattebox-{compression}.exr"
        for _ in range(repeat):
            cpu, start = cpu_seconds(io), time.perf_counter()
            io.write_image(str(out), pixels, (0, 0, width, height), (width, height),
                           datatype=datatype_of(compression), compression=compression)  # fmt: skip
            writes.append(time.perf_counter() - start)
            write_cpu.append(cpu_seconds(io) - cpu)
        results[compression] = {"read": summary(reads), "write": summary(writes),
                                "read_cpu": summary(read_cpu), "write_cpu": summary(write_cpu),
                                "bytes": path.stat().st_size}  # fmt: skip
    return results


def oiiotool_times(paths: dict, folder: Path, repeat: int) -> dict:
    from bench import measure, peers

    exe, threads = peers.oiiotool_exe(), str(peers.cores())
    startup = peers.oiiotool_startup()

    def timed(args):
        runs = []
        for _ in range(repeat):
            run = measure.run_process([exe, "--threads", threads, *args])
            if run.returncode != 0:
                raise RuntimeError(run.problem())
            runs.append(run.seconds - startup)
        return runs

    read_float = timed(["-i:now=1", str(paths["none"])])
    results = {"startup": startup}
    for compression, path in paths.items():
        reads = read_float if compression == "none" else timed(["-i:now=1", str(path)])
        out = folder / f"oiiotool-{compression}.exr"
        args = ["-i:now=1", str(paths["none"]), "-d", datatype_of(compression)]
        both = timed([*args, "--compression", compression, "-o", str(out)])
        writes = [max(0.0, t - float(np.median(read_float))) for t in both]
        results[compression] = {"read": summary(reads), "write": summary(writes)}
    return results


def blender_times(python: str, paths: dict, folder: Path, repeat: int) -> dict:
    from bench import blender5

    def run(workload, path, params=()):
        result = blender5.bpy_case(python, workload, [path], folder / "blender-out.exr",
                                   repeat, folder, params)  # fmt: skip
        if "error" in result:
            raise RuntimeError(result["error"])
        return result

    read_float = run("read", paths["none"])
    results = {"version": read_float["version"]}
    for compression, path in paths.items():
        reads = read_float if compression == "none" else run("read", path)
        depth = "32" if compression == "none" else "16"
        copy = run("copy", paths["none"], (("codec", compression.upper()), ("depth", depth)))
        writes = [max(0.0, t - read_float["median"]) for t in copy["times"]]
        results[compression] = {"read": summary(reads["times"]), "write": summary(writes)}
    return results


def table(data: dict) -> list[str]:
    """The markdown table: read and write medians (min-max) per compression and tool."""
    tools = [key for key in ("mattebox_before", "mattebox", "oiiotool", "blender") if key in data]
    names = {"mattebox": data.get("label", "Mattebox"), "oiiotool": "oiiotool",
             "blender": f"Blender {data.get('blender', {}).get('version', '')} (bpy)",
             "mattebox_before": data.get("before_label", "before")}  # fmt: skip
    head = "| compression | file | " + " | ".join(
        f"{names[t]} read | {names[t]} write" for t in tools
    )
    lines = [head + " |", "|---|---:|" + "---:|---:|" * len(tools)]
    for compression in data["compressions"]:
        size = data["mattebox"][compression]["bytes"] / 1e6
        cells = [compression + (" (float)" if compression == "none" else " (half)"),
                 f"{size:.0f} MB"]  # fmt: skip
        for tool in tools:
            entry = data[tool][compression]
            for kind in ("read", "write"):
                cell = f"{entry[kind]['median'] * 1e3:.0f} ms"
                if f"{kind}_cpu" in entry:  # Mattebox: the CPU time too
                    cell += f" ({entry[kind + '_cpu']['median'] * 1e3:.0f} CPU)"
                cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.mattebox_root:
        sys.path.insert(0, args.mattebox_root)
    sys.path.insert(1 if args.mattebox_root else 0, str(ROOT.parent))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # `bench` is a folder of modules
    from mattebox.engine import io

    width, height = (int(v) for v in args.size.lower().split("x"))
    compressions = [c.strip() for c in args.compressions.split(",")]
    if "none" not in compressions:
        compressions.insert(0, "none")  # the others' writes start from the float file
    data = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(["python bench/io_speed.py", *(argv or sys.argv[1:])]),
        "size": [width, height],
        "compressions": compressions,
        "label": args.label,
        "mattebox_module": io.__file__,
        "io_threads": io.io_threads() if hasattr(io, "io_threads") else None,
        "load_before": load_average(),
    }
    with tempfile.TemporaryDirectory(prefix="mattebox-io-") as name:
        folder = Path(name)
        pixels, paths = write_inputs(folder, width, height, compressions)
        data["mattebox"] = mattebox_times(io, paths, pixels, folder, args.repeat)
        io.shutdown_worker()
        if not args.no_oiiotool:
            data["oiiotool"] = oiiotool_times(paths, folder, min(args.repeat, 3))
        if args.bpy:
            data["blender"] = blender_times(args.bpy, paths, folder, min(args.repeat, 3))
    data["load_after"] = load_average()
    for line in table(data):
        print(line)
    print(f"load average (1 min): {data['load_before']:.2f} before, {data['load_after']:.2f} after")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(data, indent=2) + "\n")
        print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
