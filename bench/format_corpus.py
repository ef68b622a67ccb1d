"""Read a corpus of image files through Mattebox and through OpenImageIO, and compare.

    python bench/format_corpus.py ROOT [ROOT ...] [--jsonl OUT.jsonl]

For OpenImageIO's and OpenEXR's public test images (clone them anywhere outside the
repository: github.com/AcademySoftwareFoundation/OpenImageIO-images and .../openexr-images;
they are never committed). Each file is read by ``mattebox.engine.io.read_image`` (in its
decoder worker) and by OpenImageIO's own ``ImageInput`` read of the first subimage, opened
without a configuration (so OpenImageIO premultiplies unassociated alpha itself), in a
process of its own so that a crash there is a result, not the end of the run. The
reference then gets the conversions ``docs/io-and-colour.md`` documents: channels to RGBA
(grey and grey+alpha expanded), PFM rows turned top first, the ``Orientation`` applied.

Each file is one of: ``exact`` (every value equal), ``within one code value`` (integer
files whose unassociated alpha OpenImageIO premultiplies in the integer type),
``differs`` (with a hint: upside down, colour where alpha is 0), ``both fail`` (neither
reads it: Mattebox's error must be one line), ``mattebox refuses`` (OpenImageIO reads it,
Mattebox gives a clean error, e.g. deep images), or ``unclean`` (an error that is not one
line, or not an ImageIOError). One JSON line per file goes to ``--jsonl``; the counts
are printed at the end.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
from concurrent import futures
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SKIPPED_SUFFIXES = (
    ".md",
    ".txt",
    ".sh",
    ".zip",
    ".rst",
    "README",
    "COPYING",
    "LICENSE",
    "genimages",
)

#: numpy steps that turn stored rows into the displayed image, by EXIF orientation.
ORIENT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: a[::-1].transpose(1, 0, 2),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
    8: lambda a: a[:, ::-1].transpose(1, 0, 2),
}


def oiio_read(path: str) -> dict:
    """OpenImageIO's plain read of the first subimage (runs in a separate process)."""
    import OpenImageIO as oiio

    inp = oiio.ImageInput.open(path)
    if inp is None:
        return {"error": oiio.geterror() or "cannot open"}
    spec = inp.spec()
    data = None if spec.deep else inp.read_image(0, 0, 0, spec.nchannels, "float")
    result = {
        "names": tuple(spec.channelnames),
        "format": inp.format_name(),
        "type": str(spec.format),
        "bits": spec.get_int_attribute("oiio:BitsPerSample", 0),
        "orientation": spec.get_int_attribute("Orientation", 1),
        "deep": bool(spec.deep),
    }
    inp.close()
    if data is None and not spec.deep:
        return {"error": oiio.geterror() or "read failed"}
    if data is not None:
        result["pixels"] = np.asarray(data, np.float32).reshape(spec.height, spec.width, -1)
    return result


def as_rgba(ref: dict) -> np.ndarray:
    """The reference's channels as Mattebox's RGBA, turned the right way up."""
    data, names = ref["pixels"], [n.lower() for n in ref["names"]]
    out = np.zeros(data.shape[:2] + (4,), np.float32)
    out[..., 3] = 1.0

    def find(*candidates):
        return next((names.index(c) for c in candidates if c in names), None)

    rgb = [find("r", "red"), find("g", "green"), find("b", "blue")]
    alpha = find("a", "alpha")
    grey = find("y", "l", "luminance")
    if rgb == [None, None, None]:
        count = data.shape[2]
        if grey is None and count in (1, 2):
            grey, alpha = 0, (1 if count == 2 else alpha)
        if grey is not None:
            rgb = [grey] * 3
        else:
            rgb = [0, min(1, count - 1), min(2, count - 1)]
            alpha = 3 if alpha is None and count >= 4 else alpha
    for component, index in enumerate(rgb):
        if index is not None:
            out[..., component] = data[..., index]
    if alpha is not None:
        out[..., 3] = data[..., alpha]
    if ref["format"] == "pnm" and ref["type"] == "float":
        out = out[::-1]  # PFM rows are stored bottom first
    return ORIENT.get(ref["orientation"], ORIENT[1])(out)


def compare(path: str, ref: dict, mio) -> dict:
    """One file's record."""
    record = {"file": path}
    try:
        pixels = mio.read_image(path)[0]
        ours = None
    except mio.ImageIOError as error:
        ours = str(error)
    except Exception as error:  # noqa: BLE001 - reported as unclean
        ours = f"unclean: {type(error).__name__}: {error}"
    clean = ours is not None and "\n" not in ours and not ours.startswith("unclean")
    if ours is not None:
        record["mattebox_error"] = ours
    if "error" in ref:
        record["oiio_error"] = ref["error"].strip().splitlines()[0]
        record["kind"] = "both fail" if clean else ("unclean" if ours else "mattebox reads")
        return record
    record["format"] = ref["format"]
    if ours is not None:
        record["kind"] = "mattebox refuses" if clean else "unclean"
        return record
    want = as_rgba(ref)
    if want.shape != pixels.shape:
        record.update(kind="differs", hint=f"shape {want.shape} against {pixels.shape}")
        return record
    with np.errstate(invalid="ignore"):
        diff = np.abs(np.nan_to_num(want, nan=0.0) - np.nan_to_num(pixels, nan=0.0))
    worst = float(diff.max()) if diff.size else 0.0
    record["max_diff"] = worst
    step = 1.0 / (2 ** (ref["bits"] or 8) - 1) if "int" in ref["type"] else 0.0
    if worst == 0.0 and np.array_equal(np.isnan(want), np.isnan(pixels)):
        record["kind"] = "exact"
    elif step and worst <= step * 1.01:
        record["kind"] = "within one code value"
    else:
        record["kind"] = "differs"
        if np.allclose(want[::-1], pixels, atol=step + 1e-6):
            record["hint"] = "upside down"
        transparent = want[..., 3] == 0
        if transparent.any() and np.abs(pixels[..., :3][transparent]).max() > 0:
            record["hint"] = "colour where alpha is 0"
    return record


def files_under(roots: list[str]) -> list[str]:
    """Every file under ``roots`` but documentation, in a stable order."""
    found = []
    for root in roots:
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found += [
                os.path.join(folder, name)
                for name in sorted(names)
                if not name.startswith(".") and not name.endswith(SKIPPED_SUFFIXES)
            ]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", help="folders of image files")
    parser.add_argument("--jsonl", help="write one JSON record per file here")
    args = parser.parse_args(argv)
    from mattebox.engine import io as mio

    counts: collections.Counter = collections.Counter()
    out = open(args.jsonl, "w") if args.jsonl else None  # noqa: SIM115
    pool = futures.ProcessPoolExecutor(1)
    try:
        for path in files_under(args.roots):
            try:
                ref = pool.submit(oiio_read, path).result(timeout=120)
            except futures.process.BrokenProcessPool:
                pool = futures.ProcessPoolExecutor(1)
                ref = {"error": "OpenImageIO crashed the process reading it"}
            except futures.TimeoutError:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = futures.ProcessPoolExecutor(1)
                ref = {"error": "OpenImageIO took more than 120 s"}
            record = compare(path, ref, mio)
            counts[record["kind"]] += 1
            if out is not None:
                out.write(json.dumps(record) + "\n")
    finally:
        pool.shutdown(cancel_futures=True)
        mio.shutdown_worker()
        if out is not None:
            out.close()
    for kind, count in counts.most_common():
        print(f"{count:5d}  {kind}")
    print(f"{sum(counts.values()):5d}  files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
