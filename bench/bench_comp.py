"""Benchmark: the example comp (grade -> blur -> over -> colour conversion) at 4K, against
the same steps in oiiotool, OpenImageIO's ImageBufAlgo, plain numpy/scipy, and the memory
bandwidth floor, all in one run. Prints times and ratios.

    python bench/bench_comp.py [--size 3840x2160] [--repeat 3] [--backend cpu]

Results and the command that produced them go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import PyOpenColorIO as OCIO
from scipy import ndimage

import mattebox as mb
from mattebox.engine import render

GAIN = (1.15, 1.0, 0.85)
GAMMA = 1.1
BLUR = 15.0  # radius; sigma = 5
CONFIG = "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"


def best(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def make_inputs(folder: Path, width: int, height: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    alpha = np.clip(300 - np.hypot(x - width / 2, y - height / 2), 0, 1)
    fg = np.stack([1.5 * alpha, 0.8 * alpha, 0.3 * alpha, alpha], -1)
    fg[..., :3] += rng.uniform(0, 0.02, (height, width, 3)) * alpha[..., None]
    bg = np.stack([x / width, y / height, 0.5 + 0 * x, 1 + 0 * x], -1)
    paths = folder / "plate.exr", folder / "bg.exr"
    for path, pixels in zip(paths, (fg, bg)):
        buf = oiio.ImageBuf(oiio.ImageSpec(width, height, 4, oiio.FLOAT))
        buf.set_pixels(oiio.ROI(), pixels.astype(np.float32))
        buf.specmod().attribute("compression", "none")
        buf.write(str(path))
    return paths


def aces_matrix() -> np.ndarray:
    """ACEScg -> ACES2065-1 as OCIO computes it (for oiiotool and numpy)."""
    config = OCIO.Config.CreateFromFile(CONFIG)
    cpu = config.getProcessor("ACEScg", "ACES2065-1").getDefaultCPUProcessor()
    basis = np.eye(3, dtype=np.float32)
    return np.stack([np.array(cpu.applyRGB(list(map(float, row)))) for row in basis], 1)


def mattebox_graph(plate: Path, bg: Path, out: Path) -> tuple[mb.Graph, mb.Node, mb.Node]:
    g = mb.Graph()
    g.settings.ocio_config = CONFIG
    p = g.add("Read", file=str(plate), colorspace="ACEScg")
    b = g.add("Read", file=str(bg), colorspace="ACEScg")
    grade = g.add("Grade", inputs={"Source": p}, gain=[*GAIN, 1.0], gamma=[GAMMA] * 3 + [1.0])
    blur = g.add("Blur", inputs={"Source": grade}, size=BLUR)
    merge = g.add("Merge", inputs={"B": b, "A": blur})
    conv = g.add(
        "OCIOColorSpace",
        inputs={"Source": merge},
        in_colorspace="ACEScg",
        out_colorspace="ACES2065-1",
    )
    write = g.add(
        "Write",
        inputs={"Source": conv},
        file=str(out),
        colorspace="Raw",
        datatype="float",
        compression="none",
    )
    return g, conv, write


def numpy_comp(fg: np.ndarray, bg: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    rgb = fg[..., :3] * np.array(GAIN, np.float32)
    rgb = np.where(rgb > 0, np.power(np.maximum(rgb, 0), 1 / GAMMA), 0).astype(np.float32)
    graded = np.concatenate([rgb, fg[..., 3:]], -1)
    radius = int(np.ceil(BLUR))
    k = np.arange(-radius, radius + 1)
    weights = np.exp(-(k**2) / (2 * (BLUR / 3) ** 2))
    weights /= weights.sum()
    padded = np.pad(graded, ((radius, radius), (radius, radius), (0, 0)))
    blurred = ndimage.correlate1d(padded, weights, axis=0, mode="constant")
    blurred = ndimage.correlate1d(blurred, weights, axis=1, mode="constant")
    blurred = blurred[radius:-radius, radius:-radius]
    over = blurred + bg * (1 - blurred[..., 3:4])
    over[..., :3] = over[..., :3] @ matrix.T
    return over


def oiio_comp(fg: oiio.ImageBuf, bg: oiio.ImageBuf, matrix: np.ndarray) -> oiio.ImageBuf:
    graded = oiio.ImageBufAlgo.mul(fg, (*GAIN, 1.0))
    graded = oiio.ImageBufAlgo.clamp(graded, (0, 0, 0, -1e30), (1e30,) * 4)
    graded = oiio.ImageBufAlgo.pow(graded, (1 / GAMMA,) * 3 + (1.0,))
    size = 2 * int(np.ceil(BLUR)) + 1
    kernel = oiio.ImageBufAlgo.make_kernel("gaussian", size * 0.8, size * 0.8)
    blurred = oiio.ImageBufAlgo.convolve(graded, kernel)
    over = oiio.ImageBufAlgo.over(blurred, bg)
    m = np.eye(4, dtype=np.float32)
    m[:3, :3] = matrix.T
    return oiio.ImageBufAlgo.colormatrixtransform(over, m.flatten().tolist())


def oiiotool_command(plate: Path, bg: Path, out: Path, matrix: np.ndarray) -> list[str]:
    size = 2 * int(np.ceil(BLUR)) + 1
    m = np.eye(4, dtype=np.float32)
    m[:3, :3] = matrix.T
    exe = shutil.which("oiiotool") or str(Path(sys.executable).parent / "oiiotool")
    return [
        exe,
        "--threads",
        str(os.cpu_count()),
        str(plate),
        "--mulc",
        ",".join(map(str, (*GAIN, 1.0))),
        "--clamp:min=0,0,0,-1e30",
        "--powc",
        ",".join(map(str, (1 / GAMMA,) * 3 + (1.0,))),
        "--blur",
        f"{size}x{size}",
        str(bg),
        "--over",
        "--ccmatrix",
        ",".join(map(str, m.flatten())),
        "-d",
        "float",
        "-o",
        str(out),
    ]


def bandwidth_floor(width: int, height: int) -> tuple[float, float]:
    """Seconds to stream the comp's minimum traffic (read 2 images, write 1), and GB/s."""
    a = np.ones((height, width, 4), np.float32)
    b = np.empty_like(a)
    copy = best(lambda: np.copyto(b, a), 5)
    rate = 2 * a.nbytes / copy  # read + write
    return 3 * a.nbytes / rate, rate / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="3840x2160")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", default="cpu")
    args = parser.parse_args()
    width, height = map(int, args.size.lower().split("x"))
    folder = Path(tempfile.mkdtemp(prefix="mattebox-bench-"))
    try:
        run(folder, width, height, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path, width: int, height: int, args) -> None:
    plate, bg = make_inputs(folder, width, height)
    matrix = aces_matrix()
    out = folder / "out.exr"
    results: dict[str, float] = {}

    g, conv, write = mattebox_graph(plate, bg, out)
    g.execute([write], frames=[1], backend=args.backend)  # compile and warm
    results["mattebox read+comp+write"] = best(
        lambda: (
            render.session().cache.clear(),
            g.execute([write], frames=[1], backend=args.backend),
        ),
        args.repeat,
    )
    render.render(g, conv, backend=args.backend, use_cache=False)
    results["mattebox comp (inputs in memory)"] = best(
        lambda: render.render(g, conv, backend=args.backend, use_cache=False), args.repeat
    )

    command = oiiotool_command(plate, bg, folder / "oiio.exr", matrix)
    results["oiiotool read+comp+write"] = best(
        lambda: subprocess.run(command, check=True), args.repeat
    )

    fg_buf, bg_buf = oiio.ImageBuf(str(plate)), oiio.ImageBuf(str(bg))
    fg_buf.read(force=True)
    bg_buf.read(force=True)
    oiio.attribute("threads", os.cpu_count())
    results["ImageBufAlgo comp (in memory)"] = best(
        lambda: oiio_comp(fg_buf, bg_buf, matrix), args.repeat
    )

    fg, bgp = fg_buf.get_pixels(oiio.FLOAT), bg_buf.get_pixels(oiio.FLOAT)
    results["numpy+scipy comp (in memory)"] = best(lambda: numpy_comp(fg, bgp, matrix), args.repeat)

    floor, rate = bandwidth_floor(width, height)
    results["memory-bandwidth floor"] = floor

    ours = render.render(g, conv, backend=args.backend, use_cache=False)
    reference = numpy_comp(fg, bgp, matrix)
    inner = ours.crop((0, 0, width, height))
    error = float(np.abs(inner - reference).max())

    print(
        f"\n{width}x{height} RGBA float, {os.cpu_count()} threads, backend {args.backend}; "
        f"memory {rate:.1f} GB/s; max |mattebox - numpy| = {error:.2e}"
    )
    base = results["mattebox comp (inputs in memory)"]
    for name, seconds in results.items():
        print(f"  {name:<36} {seconds * 1000:9.1f} ms   {seconds / base:6.2f}x mattebox comp")
    full = results["mattebox read+comp+write"]
    print(
        f"  oiiotool / mattebox (read+comp+write): {results['oiiotool read+comp+write'] / full:.2f}"
    )


if __name__ == "__main__":
    main()
