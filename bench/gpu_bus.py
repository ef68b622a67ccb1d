"""Host <-> device transfers and the 4K chain end to end on the GPU backend (issue 13,
item 4), before and after persistent mapped staging and the device's resident cache.

Measured in one process, best of ``--repeat``, on a 4K RGBA f32 image (132.7 MB):

* ``upload``: ``backend.upload(pixels)`` until the device holds them; ``download``:
  ``backend.download_later(...)()`` into new host memory (both checked bit-exact);
* the same through wgpu's own ``queue.write_buffer`` / ``queue.read_buffer``;
* ``bus``: a device buffer copied to a mapped read-back buffer and mapped, no host copy
  (what the bus and driver cost); ``host``: ``np.copyto`` of the image on one thread;
* ``chain``: 10 point ops and a Merge over a second plate (bench_gpu.py's chain) and
  ``comp``: Read -> Grade -> Blur 15 -> Merge -> OCIOColorSpace, each rendered with
  ``use_cache=False`` (plates decoded in RAM: upload, compute, download), and re-rendered
  after a Grade parameter change with the cache on (uploads counted).

With the new code it also times the transfers on one copying thread
(``MATTEBOX_COPY_THREADS=1``). To time older code, run this file with ``PYTHONPATH``
naming a folder where ``mattebox`` links to a worktree of that commit (``--label before``).

    python bench/gpu_bus.py [--size 3840x2160] [--repeat 7] [--label after] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

import mattebox as mb
from mattebox.engine import render
from mattebox.engine.backends import detect
from mattebox.nodes.spec import Window

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_gpu  # the plates and graphs of the GPU benchmark

best = bench_gpu.best  # the shortest of repeated runs, and the last result


def gbs(nbytes: int, seconds: float) -> float:
    return round(nbytes / seconds / 1e9, 2)


def transfers(gpu, width: int, height: int, repeat: int) -> dict:
    """Upload and download rates through the backend, wgpu's own calls, the bus alone and
    one CPU thread's copy."""
    import wgpu  # the benchmark may; the engine imports it only in its GPU backend

    rng = np.random.default_rng(5)
    pixels = rng.random((height, width, 4), dtype=np.float32)
    nbytes = pixels.nbytes
    window = Window(0, 0, width, height)
    out: dict = {"image_mb": round(nbytes / 1e6, 1)}

    def up():
        handle = gpu.upload(pixels)
        gpu.wait()
        return handle

    seconds, handle = best(up, repeat)
    out["upload_ms"], out["upload_gbs"] = round(seconds * 1e3, 2), gbs(nbytes, seconds)
    seconds, back = best(lambda: gpu.download_later(handle, window)(), repeat)
    out["download_ms"], out["download_gbs"] = round(seconds * 1e3, 2), gbs(nbytes, seconds)
    out["round_trip_exact"] = bool(np.array_equal(back, pixels))
    part = pixels[:, 64 : width - 64]  # a tile's part of a plate: a strided view

    def up_part():
        gpu.upload(part)
        gpu.wait()

    seconds, _ = best(up_part, repeat)
    out["upload_strided_gbs"] = gbs(part.size * 4, seconds)

    queue = gpu.device.queue

    def write_buffer():
        queue.write_buffer(handle.buffer, 0, pixels)
        gpu.wait()

    seconds, _ = best(write_buffer, max(2, repeat // 2))
    out["wgpu_write_buffer_gbs"] = gbs(nbytes, seconds)
    seconds, _ = best(lambda: queue.read_buffer(handle.buffer, 0, nbytes), max(2, repeat // 2))
    out["wgpu_read_buffer_gbs"] = gbs(nbytes, seconds)

    readback = gpu.device.create_buffer(
        size=nbytes, usage=wgpu.BufferUsage.MAP_READ | wgpu.BufferUsage.COPY_DST
    )

    def bus():
        encoder = gpu.device.create_command_encoder()
        encoder.copy_buffer_to_buffer(handle.buffer, 0, readback, 0, nbytes)
        queue.submit([encoder.finish()])
        readback.map_async(wgpu.MapMode.READ, 0, nbytes).sync_wait()
        readback.unmap()

    seconds, _ = best(bus, repeat)
    out["bus_download_ms"], out["bus_download_gbs"] = round(seconds * 1e3, 2), gbs(nbytes, seconds)
    target = np.empty_like(pixels)
    target.fill(0)
    seconds, _ = best(lambda: np.copyto(target, pixels), repeat)
    out["host_copy_one_thread_gbs"] = gbs(nbytes, seconds)
    return out


def graphs(folder: Path, width: int, height: int):
    plate, bg = bench_gpu.make_inputs(folder, width, height)
    chain, chain_node = bench_gpu.chain_graph(plate, bg)
    comp, comp_node = bench_gpu.comp_graph(plate, bg)
    return {"chain": (chain, chain_node), "comp": (comp, comp_node)}


def first_grade(g: mb.Graph):
    return next(node for node in g.nodes.values() if node.type == "Grade")


def chain_case(gpu, name: str, g: mb.Graph, node, repeat: int) -> dict:
    """End to end without the cache; then re-renders after a Grade edit with it."""
    out: dict = {"case": name}
    render.render(g, node, backend="gpu", use_cache=False)  # decode, compile
    gpu.counters.clear()
    out["end_to_end_ms"] = round(
        best(lambda: render.render(g, node, backend="gpu", use_cache=False), repeat)[0] * 1e3, 2
    )
    out["uploads_per_render"] = gpu.counters["uploads"] / max(1, repeat)
    grade = first_grade(g)
    gains = iter(np.linspace(0.8, 1.2, 4 * repeat + 4))

    def edit():
        grade["gain"] = float(next(gains))
        return render.render(g, node, backend="gpu")

    edit()  # the edited Grade's input is stored (and, where the backend can, kept)
    gpu.counters.clear()
    out["edit_rerender_ms"] = round(best(edit, repeat)[0] * 1e3, 2)
    out["edit_uploads_per_render"] = gpu.counters["uploads"] / max(1, repeat)
    out["edit_upload_mb_per_render"] = round(gpu.counters["upload_bytes"] / max(1, repeat) / 1e6, 1)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="3840x2160")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--label", default="after")
    parser.add_argument("--folder", help="where the plates are written (default: temp)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    gpu = detect.get("gpu")
    new = hasattr(gpu, "resident")
    header = {
        "label": args.label,
        "adapter": gpu.adapter.describe(),
        "cpu_threads": os.cpu_count(),
        "size": f"{width}x{height}",
        "persistent_staging": new,
    }
    if new:
        from mattebox.engine.backends.gpu import transfer

        header["copy_threads"] = transfer.copy_threads()
        header["chunk_mib"] = gpu.staging.chunk / 2**20
        header["resident_budget_mib"] = round(gpu.cache_budget() / 2**20)
    print(json.dumps(header), flush=True)
    results = [header]
    rates = transfers(gpu, width, height, args.repeat)
    print(json.dumps({"transfers": rates}), flush=True)
    results.append({"transfers": rates})
    if new:
        os.environ["MATTEBOX_COPY_THREADS"] = "1"
        one = transfers(gpu, width, height, args.repeat)
        del os.environ["MATTEBOX_COPY_THREADS"]
        print(json.dumps({"transfers_one_thread": one}), flush=True)
        results.append({"transfers_one_thread": one})
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(args.folder or temp)
        folder.mkdir(parents=True, exist_ok=True)
        for name, (g, node) in graphs(folder, width, height).items():
            result = chain_case(gpu, name, g, node, args.repeat)
            print(json.dumps(result), flush=True)
            results.append(result)
    if new:
        results.append({"counters": {k: int(v) for k, v in gpu.counters.items()}})
        results[-1]["staging_created"] = gpu.staging.created
        results[-1]["readbacks_created"] = gpu.readbacks.created
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
