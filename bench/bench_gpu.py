"""Benchmark of the GPU backend (issue 3, item 8): time and fraction of memory bandwidth.

Cases, each on the GPU (end to end, and on the device alone), on the CPU path (numba) and
with oiiotool doing the closest equivalent, all in one run on one machine:

* ``point``   4K: one point op (Invert): the floor a fused pass cannot beat
* ``chain``   4K: a chain of 10 point ops (one fused dispatch), the last a Merge
* ``blur``    4K: Blur size 15 (sigma 5, 31 taps, two separable dispatches)
* ``display`` 4K: OCIODisplay ACEScg -> sRGB, ACES 2.0 SDR view
* ``comp8k``  8K: Read -> Grade -> Blur 15 -> Merge over Read -> OCIOColorSpace
* ``comp16k`` 16K: the same comp (tiled where the device's bindings need it)

"end to end" is ``render()`` with the inputs already decoded in RAM: upload, compute,
download. "device" replays the plan's compute passes on resident inputs, many times in one
submission, and divides: the GPU's own time. Bandwidth fractions count the least traffic a
pass must make (each input read once, each output written once; a separable blur also
writes and reads its intermediate) against the GPU's peak (``--peak-gbs``, default: the
H100 SXM's 3350 GB/s) and against a buffer copy measured here through wgpu.

    python bench/bench_gpu.py [--cases chain,blur,display,comp8k,comp16k] [--repeat 5]
                              [--scale 1.0] [--no-cpu] [--no-oiiotool] [--json out.json]

``--scale 0.25`` runs every case at a quarter of its size (a quick check on lavapipe).
Results go in docs/benchmarks.md (GPU section) with the command that produced them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

import mattebox as mb
from mattebox.engine import render
from mattebox.engine.backends import detect
from mattebox.nodes.spec import Window

CONFIG = "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"
SIZES = {"4k": (3840, 2160), "8k": (7680, 4320), "16k": (15360, 8640)}
BYTES = 16  # RGBA float32 pixel
WARM_S = 0.3  # seconds of GPU work before and during a device timing
MAX_RUNS = 2000
# oiiotool's --blur convolves with a full 2D kernel; two 1D kernels of the same 31 taps do
# the same work as Mattebox's separable blur (OIIO's "gaussian" of width 31 is a little
# wider than sigma 5: the same cost, not the same pixels).
OIIO_BLUR = [
    "--kernel",
    "gaussian",
    "31x1",
    "--convolve",
    "--kernel",
    "gaussian",
    "1x31",
    "--convolve",
]
OIIO_CHAIN = [  # ten oiiotool steps standing in for the ten point ops
    "--mulc", "1.3,1.1,0.9,1", "--powc", "0.83,0.83,0.83,1", "--saturate", "0.6",
    "--ccmatrix", "0.9,0.1,0,0,0,1,0,0,0,0,1,0,0.02,0,0,1", "--unpremult", "--premult",
    "--invert", "--ch", "G,R,B,A", "--clamp:min=-0.5:max=2",
]  # fmt: skip


def best(func, repeat: int) -> tuple[float, object]:
    """The shortest of ``repeat`` runs of ``func``, and what the last run returned."""
    times, result = [], None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


# --------------------------------------------------------------------------- inputs


def write_exr(path: Path, pixels: np.ndarray) -> None:
    height, width = pixels.shape[:2]
    buf = oiio.ImageBuf(oiio.ImageSpec(width, height, 4, oiio.FLOAT))
    buf.set_pixels(oiio.ROI(), pixels)
    buf.specmod().attribute("compression", "none")
    if not buf.write(str(path)):
        raise RuntimeError(buf.geterror())


def make_inputs(folder: Path, width: int, height: int) -> tuple[Path, Path]:
    """A soft disc over a gradient, as uncompressed float EXRs."""
    rng = np.random.default_rng(1)
    paths = folder / f"plate_{width}.exr", folder / f"bg_{width}.exr"
    if all(p.exists() for p in paths):
        return paths
    fg = np.zeros((height, width, 4), np.float32)
    bg = np.zeros((height, width, 4), np.float32)
    for y0 in range(0, height, 1024):  # in bands: a 16K image is 2 GiB
        y = np.arange(y0, min(height, y0 + 1024), dtype=np.float32)[:, None]
        x = np.arange(width, dtype=np.float32)[None, :]
        alpha = np.clip(0.3 * height - np.hypot(x - width / 2, y - height / 2), 0, 1)
        band = fg[y0 : y0 + len(y)]
        band[..., 0], band[..., 1], band[..., 2], band[..., 3] = (
            1.5 * alpha,
            0.8 * alpha,
            0.3 * alpha,
            alpha,
        )
        band[..., :3] += (
            rng.uniform(0, 0.02, band[..., :3].shape).astype(np.float32) * alpha[..., None]
        )
        back = bg[y0 : y0 + len(y)]
        back[..., 0], back[..., 1], back[..., 2], back[..., 3] = x / width, y / height, 0.5, 1.0
    write_exr(paths[0], fg)
    write_exr(paths[1], bg)
    return paths


# --------------------------------------------------------------------------- graphs


def read(g: mb.Graph, path: Path) -> mb.Node:
    return g.add("Read", file=str(path), colorspace="ACEScg")


def chain_graph(plate: Path, bg: Path) -> tuple[mb.Graph, mb.Node]:
    g = mb.Graph()
    g.settings.ocio_config = CONFIG
    node = g.add("Grade", inputs={"Source": read(g, plate)}, gain=1.3, gamma=1.2, offset=0.01)
    node = g.add("Saturation", inputs={"Source": node}, saturation=0.6)
    node = g.add("ColorMatrix", inputs={"Source": node}, row0=[0.9, 0.1, 0.0, 0.02])
    node = g.add("CDL", inputs={"Source": node}, slope=[1.1, 1.0, 0.9, 1.0])
    node = g.add("Unpremult", inputs={"Source": node})
    node = g.add("Premult", inputs={"Source": node})
    node = g.add("Invert", inputs={"Source": node}, mix=0.3)
    node = g.add("Shuffle", inputs={"Source": node}, mapping={"R": "G", "G": "R"})
    node = g.add("Clamp", inputs={"Source": node}, minimum=-0.5, maximum=2.0)
    return g, g.add("Merge", inputs={"B": read(g, bg), "A": node})


def point_graph(plate: Path, bg: Path) -> tuple[mb.Graph, mb.Node]:
    g = mb.Graph()
    return g, g.add("Invert", inputs={"Source": read(g, plate)}, mix=0.5)


def blur_graph(plate: Path, bg: Path) -> tuple[mb.Graph, mb.Node]:
    g = mb.Graph()
    g.settings.ocio_config = CONFIG
    return g, g.add("Blur", inputs={"Source": read(g, plate)}, size=15.0)


def display_graph(plate: Path, bg: Path) -> tuple[mb.Graph, mb.Node]:
    g = mb.Graph()
    g.settings.ocio_config = CONFIG
    return g, g.add("OCIODisplay", inputs={"Source": read(g, plate)}, in_colorspace="ACEScg")


def comp_graph(plate: Path, bg: Path) -> tuple[mb.Graph, mb.Node]:
    g = mb.Graph()
    g.settings.ocio_config = CONFIG
    grade = g.add("Grade", inputs={"Source": read(g, plate)}, gain=[1.15, 1.0, 0.85, 1.0],
                  gamma=[1.1, 1.1, 1.1, 1.0])  # fmt: skip
    blur = g.add("Blur", inputs={"Source": grade}, size=15.0)
    merge = g.add("Merge", inputs={"B": read(g, bg), "A": blur})
    conv = g.add("OCIOColorSpace", inputs={"Source": merge}, in_colorspace="ACEScg",
                 out_colorspace="ACES2065-1")  # fmt: skip
    return g, conv


def oiiotool_args(case: str, plate: Path, bg: Path, out: Path) -> list[str]:
    head = ["--colorconfig", CONFIG, str(plate), "--iscolorspace", "ACEScg"]
    if case == "point":
        body = ["--invert"]
    elif case == "chain":
        body = [*OIIO_CHAIN, str(bg), "--over"]
    elif case == "blur":
        body = OIIO_BLUR
    elif case == "display":
        body = ["--ociodisplay", "sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)"]
    else:
        body = ["--mulc", "1.15,1.0,0.85,1", "--powc", "0.909,0.909,0.909,1",
                *OIIO_BLUR, str(bg), "--over", "--colorconvert", "ACEScg", "ACES2065-1"]  # fmt: skip
    return [*head, *body, "-o", str(out)]


CASES = {
    "point": ("4k", point_graph),
    "chain": ("4k", chain_graph),
    "blur": ("4k", blur_graph),
    "display": ("4k", display_graph),
    "comp8k": ("8k", comp_graph),
    "comp16k": ("16k", comp_graph),
}


# --------------------------------------------------------------------------- measuring


def traffic(plan) -> int:
    """Least bytes the plan's compute passes move on the device (reads + writes)."""
    total = 0
    for tile in plan.tiles:
        for step in tile.passes:
            if step.kind in ("read", "cached", "source"):
                continue
            out = step.region.pixels * BYTES
            ins = sum(tile.buffers[b].window.pixels * BYTES for b in step.inputs)
            scratch = 2 * out if step.kind == "area" else 0  # blur: its intermediate
            total += out + ins + scratch
    return total


def device_seconds(backend, g: mb.Graph, node: mb.Node, repeat: int) -> float:
    """GPU time of the plan's compute passes on resident inputs (all tiles, no transfers)."""
    from mattebox.engine.backends.gpu.backend import GpuImage

    plan = render.plan(g, node, backend="gpu", use_cache=False)
    ctx = render.context_for(g, plan.frame)
    cache = render.session().cache
    work = []
    for tile in plan.tiles:
        handles, slots = {}, {}
        for step in tile.passes:
            if step.kind in ("read", "cached"):
                pixels, window = render._read_pixels(step.node, ctx, cache)
                pixels = render._part(pixels, window, step.region)
                handles[step.output] = (backend.upload(pixels), step.region)
            elif step.kind == "source":
                handles[step.output] = (backend.source(step, ctx), step.region)
            else:
                slot = tile.buffers[step.output].slot
                if slot not in slots:
                    slots[slot] = backend.alloc(tile.slot_bytes[slot])
                output = backend.view(slots[slot], step.region)
                work.append((step, [handles[b] for b in step.inputs], output))
                handles[step.output] = (output, step.region)
    probe = work[-1][2]

    def wait() -> None:
        backend.download_later(GpuImage(probe.buffer, 1, 1), Window(0, 0, 1, 1))()

    def timed(runs: int) -> float:
        for _ in range(runs):
            for step, inputs, output in work:
                backend.run(step, inputs, output, ctx)
        start = time.perf_counter()  # recorded on the host first: only the GPU is timed
        backend.flush()
        wait()
        return (time.perf_counter() - start) / runs

    # A GPU idles at low clocks: keep it busy for WARM_S before timing, and time at
    # least WARM_S of work so that one submission's latency does not count.
    per_run = timed(repeat)
    runs = int(min(MAX_RUNS, max(repeat, WARM_S / max(per_run, 1e-6))))
    timed(runs)
    return timed(runs)


def copy_bandwidth(backend, nbytes: int = 1 << 30, repeat: int = 40) -> float:
    """Bytes per second (read + write) of a device buffer copy through wgpu (warmed up)."""
    from mattebox.engine.backends.gpu.backend import GpuImage

    nbytes = min(nbytes, backend.gpu.max_binding) // 4 * 4
    a, b = backend.alloc(nbytes), backend.alloc(nbytes)
    rate = 0.0
    for _ in range(3):  # the first pass also zero-fills both buffers and wakes the clocks
        encoder = backend._record()
        for _ in range(repeat):
            encoder.copy_buffer_to_buffer(a, 0, b, 0, nbytes)
        start = time.perf_counter()
        backend.flush()
        backend.download_later(GpuImage(b, 1, 1), Window(0, 0, 1, 1))()
        rate = 2 * nbytes * repeat / (time.perf_counter() - start)
    return rate


def oiiotool(args: list[str]) -> float:
    command = [sys.executable, "-c",
               "import sys; from OpenImageIO import _command_line as c; sys.argv[0] = 'oiiotool'; sys.exit(c())",
               *args]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def run_case(name: str, args, folder: Path, gpu, peak: float, copy_bps: float) -> dict:
    """One case; ``name@MIB`` runs it with MATTEBOX_GPU_MEMORY=MIB (to force tiles)."""
    name, _, memory = name.partition("@")
    if memory:
        os.environ["MATTEBOX_GPU_MEMORY"] = memory
    else:
        os.environ.pop("MATTEBOX_GPU_MEMORY", None)
    size_name, build = CASES[name]
    width, height = (int(v * args.scale) for v in SIZES[size_name])
    plate, bg = make_inputs(folder, width, height)
    g, node = build(plate, bg)
    result = {"case": name + (f"@{memory}MiB" if memory else ""), "size": f"{width}x{height}"}
    start = time.perf_counter()
    render.render(g, node, backend="gpu", use_cache=False)  # reads, compiles
    result["gpu_first_s"] = time.perf_counter() - start
    plan = render.plan(g, node, backend="gpu", use_cache=False)
    result["tiles"] = len(plan.tiles)
    result["traffic_bytes"] = traffic(plan)
    gpu.counters.clear()
    result["gpu_s"], on_gpu = best(
        lambda: render.render(g, node, backend="gpu", use_cache=False), args.repeat
    )
    result["gpu_device_s"] = device_seconds(gpu, g, node, args.device_repeat)
    result["device_fraction_of_peak"] = result["traffic_bytes"] / result["gpu_device_s"] / peak
    result["device_fraction_of_copy"] = result["traffic_bytes"] / result["gpu_device_s"] / copy_bps
    result["end_to_end_fraction_of_peak"] = result["traffic_bytes"] / result["gpu_s"] / peak
    try:
        _peers(result, name, size_name, memory, args, folder, g, node, plate, bg, on_gpu)
    except Exception as error:  # noqa: BLE001 - a peer that cannot run here is reported
        result["peer_error"] = f"{type(error).__name__}: {error}"
    print(json.dumps(result), flush=True)
    return result


def _peers(result, name, size_name, memory, args, folder, g, node, plate, bg, on_gpu) -> None:
    """The CPU path and oiiotool on the same case (not for forced-tile variants)."""
    if args.cpu and not memory:
        render.render(g, node, backend="cpu", use_cache=False)  # compiles numba kernels
        cpu_repeat = args.repeat if size_name == "4k" else 1
        result["cpu_s"], on_cpu = best(
            lambda: render.render(g, node, backend="cpu", use_cache=False), cpu_repeat
        )
        result["max_abs_diff_gpu_cpu"] = float(np.abs(on_gpu.pixels - on_cpu.pixels).max())
    if args.oiiotool and not memory:
        out = folder / "oiio_out.exr"
        repeat = min(3, args.repeat) if name in ("point", "chain", "display") else 1
        result["oiiotool_s"] = min(
            oiiotool(oiiotool_args(name, plate, bg, out)) for _ in range(repeat)
        )
        result["oiiotool_io_only_s"] = min(
            oiiotool(["--colorconfig", CONFIG, str(plate), "-o", str(out)]) for _ in range(repeat)
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--device-repeat", type=int, default=10)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--peak-gbs", type=float, default=3350.0, help="GPU memory bandwidth")
    parser.add_argument("--no-cpu", dest="cpu", action="store_false")
    parser.add_argument("--no-oiiotool", dest="oiiotool", action="store_false")
    parser.add_argument("--folder", help="where inputs are written (default: a temp folder)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    cache = render.session().cache  # made at import: set its budget, not the variable
    cache.budget = max(cache.budget, 40 * 2**30)  # keep decoded 16K plates in RAM
    gpu = detect.get("gpu")
    peak = args.peak_gbs * 1e9
    copy_bps = copy_bandwidth(gpu)
    header = {
        "adapter": gpu.adapter.describe(),
        "device_memory_gib": gpu.gpu.memory / 2**30,
        "budget_gib": gpu.memory_budget() / 2**30,
        "max_binding_mib": gpu.gpu.max_binding / 2**20,
        "copy_gbs": copy_bps / 1e9,
        "peak_gbs": args.peak_gbs,
        "cpu_threads": os.cpu_count(),
    }
    print(json.dumps(header), flush=True)
    results = [header]
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(args.folder or temp)
        folder.mkdir(parents=True, exist_ok=True)
        for name in args.cases.split(","):
            results.append(run_case(name.strip(), args, folder, gpu, peak, copy_bps))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
