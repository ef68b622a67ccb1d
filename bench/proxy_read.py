"""Proxy read time of a 4K plate: the whole image decoded then box-filtered in the engine
(what a proxy render did before, and still does for a non-linear file) against the
decoder making the proxy (a MIP level, or each band filtered as it is decoded).

    python bench/proxy_read.py [--size 3840x2160] [--proxy 4] [--repeat 5] [--out JSON]

Files: the keying workload's green-screen plate (bench/keying.py) as an uncompressed
float scanline EXR, a zip half scanline EXR, and a tiled zip half EXR with MIP levels
made by OpenImageIO's make_texture (as ``maketx`` writes them). Each time is one read
through Mattebox's decoder process, the pixels freed before the next; the before column
is ``io.read_image`` + ``engine.image.downscale``, the after column
``io.read_image(proxy=N)``. The bytes that cross into the engine are in the table too.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def write_files(folder: Path, width: int, height: int) -> dict[str, Path]:
    import OpenImageIO as oiio

    from bench import keying

    pixels = keying.plate_pixels(width, height)
    files = {}
    for name, datatype, compression in (("none float", "float", "none"),
                                        ("zip half", "half", "zip")):  # fmt: skip
        path = folder / f"plate-{compression}.exr"
        spec = oiio.ImageSpec(width, height, 4, datatype)
        spec.attribute("compression", compression)
        out = oiio.ImageOutput.create(str(path))
        assert out.open(str(path), spec) and out.write_image(pixels), out.geterror()
        out.close()
        files[name] = path
    config = oiio.ImageSpec()
    config.set_format(oiio.HALF)
    config.attribute("tile_width", 64)
    config.attribute("tile_height", 64)
    config.attribute("compression", "zip")
    config.attribute("maketx:filtername", "box")
    mip = folder / "plate-mip.exr"
    source = oiio.ImageBuf(pixels)
    assert oiio.ImageBufAlgo.make_texture(oiio.MakeTxTexture, source, str(mip), config)
    files["tiled zip half, MIP-mapped"] = mip
    return files


def timed(read, repeat: int) -> tuple[list[float], int]:
    read()  # the decoder started, its pool made
    times, nbytes = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        pixels = read()
        times.append(time.perf_counter() - start)
        nbytes = pixels.nbytes
        del pixels
    return times, nbytes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="3840x2160")
    parser.add_argument("--proxy", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    from mattebox.engine import io
    from mattebox.engine.image import downscale
    from mattebox.nodes.spec import Window

    width, height = (int(v) for v in args.size.lower().split("x"))
    data = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "command": " ".join(["python bench/proxy_read.py", *(argv or sys.argv[1:])]),
            "size": [width, height], "proxy": args.proxy, "load_before": os.getloadavg()[0],
            "files": {}}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="mattebox-proxy-") as name:
        for label, path in write_files(Path(name), width, height).items():

            def before(path=path):
                pixels, window, _ = io.read_image(str(path))
                return downscale(pixels, Window(*window), args.proxy)[0]

            def after(path=path):
                return io.read_image(str(path), proxy=args.proxy)[0]

            old, _ = timed(before, args.repeat)
            new, new_bytes = timed(after, args.repeat)
            np.testing.assert_allclose(before(), after(), atol=2e-3)  # the MIP level: half
            data["files"][label] = {
                "before": old, "after": new, "file_bytes": path.stat().st_size,
                "bytes_to_engine_before": width * height * 16, "bytes_to_engine_after": new_bytes,
            }  # fmt: skip
    data["load_after"] = os.getloadavg()[0]
    print(f"| {width}x{height} plate, proxy {args.proxy} | file | before | after | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for label, entry in data["files"].items():
        old, new = np.median(entry["before"]), np.median(entry["after"])
        print(f"| {label} | {entry['file_bytes'] / 1e6:.0f} MB | {old * 1e3:.0f} ms | "
              f"{new * 1e3:.0f} ms | {old / new:.1f}x |")  # fmt: skip
    print(f"load average (1 min): {data['load_before']:.2f} before, {data['load_after']:.2f} after")
    if args.out:
        args.out.write_text(json.dumps(data, indent=2) + "\n")
        print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
