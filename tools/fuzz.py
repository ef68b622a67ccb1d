"""Fuzzing Mattebox: damaged scripts and images, each rendered by a supervised worker.

::

    python -m mattebox.tools.fuzz --seed 1 --cases 1000 [--jobs 2] [--backend cpu]
                                  [--time-limit 30] [--memory-limit 3072] [--keep DIR]
                                  [--json REPORT.json]

Every case is a folder with a script and the images it reads, made from a few small base
comps and then damaged: JSON-level mutations of the script (nasty values anywhere, extreme
parameters, bad settings, unknown types, broken and cyclic links, deep nesting), byte-level
mutations of its text (bit flips, truncation, insertions), or damage to one of its images
(truncation, bit flips, header damage, another format's bytes, an empty file, a folder or a
FIFO in its place) across EXR scanline and tiled, PNG, TIFF, JPEG and DPX.

A worker process renders the case as ``mattebox render SCRIPT -f 1-2 -q`` would, with file
descriptors 1 and 2 captured (so that library chatter counts). The supervisor gives each case
a time and a memory limit (the resident memory of the worker and its decoder processes) and
classifies it:

``success``      the command exited 0;
``clean error``  it exited non-zero with exactly one ``error:`` line (``warning:`` lines allowed);
``noisy``        anything else reached stderr (library output, several lines);
``traceback``    a traceback or "please report" (a bug of ours);
``crash``        the worker died;
``hang``         the case ran past the time limit (the worker is killed and restarted);
``memory``       the case went past the memory limit (likewise);
``leftover``     a temporary or hidden file was left behind, an output file does not read
                 back completely, or the script file was changed.

The exit status is 0 only when no case fell in the last six classes. Cases are made from
``(seed, index)`` alone, so a run is reproducible and a failing case can be rerun by index
(``--only INDEX``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

#: Classes a case ends in; all but the first two are failures.
CLASSES = ("success", "clean error", "noisy", "traceback", "crash", "hang", "memory", "leftover")
BAD = CLASSES[2:]
KINDS = ("pristine", "script-param", "script-json", "script-bytes", "image", "special-file")
CASE_TOKEN = "{CASE}"  # replaced by the case folder when the case is written out
DEEP_TOKEN = "__MATTEBOX_FUZZ_DEEP__"
FRAMES = "1-2"
SIZE = (24, 16)


# --------------------------------------------------------------------------- seed material


def write_seed_images(folder: Path) -> dict[str, bytes]:
    """Small images in every format the fuzzer damages: name -> file bytes."""
    import numpy as np
    import OpenImageIO as oiio

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    width, height = SIZE

    def pixels(channels):
        return rng.uniform(0.0, 1.0, (height, width, channels)).astype(np.float32)

    def save(name, channels, fmt, names=None, **attrs):
        path = folder / name
        spec = oiio.ImageSpec(width, height, channels, fmt)
        if names:
            spec.channelnames = names
        for key, value in attrs.items():
            if key == "tile":
                spec.tile_width = spec.tile_height = value
            else:
                spec.attribute(key.replace("__", ":"), value)
        out = oiio.ImageOutput.create(str(path))
        if out is None or not out.open(str(path), spec):
            raise RuntimeError(f"cannot write seed image {name}: {oiio.geterror()}")
        out.write_image(pixels(channels))
        out.close()

    save("plate.exr", 4, oiio.HALF, compression="zip")
    save("tiled.exr", 5, oiio.FLOAT, ("R", "G", "B", "A", "depth.Z"), tile=8, compression="piz")
    for frame in (1, 2, 3):
        save(f"seq.{frame:04d}.exr", 4, oiio.HALF, compression="none")
    save("plate.png", 4, oiio.UINT8)
    save("plate.tif", 3, oiio.UINT16, compression="lzw")
    save("plate.jpg", 3, oiio.UINT8)
    save("plate.dpx", 3, oiio.UINT16, oiio__BitsPerSample=10)
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def base_scripts() -> dict[str, dict]:
    """Small comps, as script dicts, that read the seed images (``{CASE}/in/...``) and write
    into ``{CASE}/out``; between them they use most node families."""
    import mattebox as mb

    def comp(build) -> dict:
        g = mb.Graph()
        g.settings.format = mb.Format(*SIZE)
        g.settings.frame_range = (1, 2)
        build(g)
        return g.to_dict()

    def read(g, name, **kw):
        return g.add("Read", file=f"{CASE_TOKEN}/in/{name}", **kw)

    def write(g, node, name, **kw):
        return g.add("Write", inputs={"Source": node}, file=f"{CASE_TOKEN}/out/{name}", **kw)

    def grade_blur_merge(g):
        plate = read(g, "plate.exr")
        grade = g.add("Grade", inputs={"Source": plate}, gain=(1.2, 1.0, 0.8, 1.0))
        blur = g.add("Blur", inputs={"Source": grade}, size=2.0)
        bg = g.add("Constant", color=(0.1, 0.2, 0.3, 1.0))
        merge = g.add("Merge", inputs={"B": bg, "A": blur})
        write(g, merge, "comp.####.exr")

    def key_transform(g):
        plate = read(g, "plate.png")
        key = g.add("Keyer", inputs={"Source": plate}, operation="green")
        moved = g.add("Transform", inputs={"Source": key}, rotate=12.0, translate=(2.0, -1.0))
        write(g, moved, "key.####.png", datatype="uint8")

    def generators(g):
        ramp = g.add("Ramp")
        noise = g.add("Noise", size=4.0)
        merge = g.add("Merge", inputs={"B": ramp, "A": noise}, operation="plus")
        write(g, merge, "gen.####.tif", datatype="uint16")

    def layers(g):
        plate = read(g, "tiled.exr")
        expr = g.add("Expression", inputs={"Source": plate}, r="r * depth.Z", g="x / width")
        crop = g.add("Crop", inputs={"Source": expr}, box=(2.0, 2.0, 20.0, 14.0))
        write(g, crop, "layers.####.exr", channels="all", datatype="float")

    def time_nodes(g):
        plate = read(g, "seq.####.exr")
        offset = g.add("TimeOffset", inputs={"Source": plate}, offset=-1)
        erode = g.add("ErodeDilate", inputs={"Source": offset}, size=-1.0)
        write(g, erode, "time.####.exr")

    def colour(g):
        plate = read(g, "plate.dpx")
        space = g.add(
            "OCIOColorSpace",
            inputs={"Source": plate},
            in_colorspace="ACEScg",
            out_colorspace="ACEScct",
        )
        cc = g.add("ColorCorrect", inputs={"Source": space}, master_saturation=1.2)
        write(g, cc, "colour.####.jpg", datatype="uint8")

    def tiff_median(g):
        plate = read(g, "plate.tif")
        median = g.add("Median", inputs={"Source": plate}, size=1)
        sharpen = g.add("Sharpen", inputs={"Source": median}, amount=0.5)
        write(g, sharpen, "median.####.dpx", datatype="uint16")

    def jpeg_text(g):
        plate = read(g, "plate.jpg")
        text = g.add("Rectangle", box=(2.0, 2.0, 12.0, 10.0), softness=2.0)
        merge = g.add("Merge", inputs={"B": plate, "A": text}, operation="screen")
        write(g, merge, "text.####.exr", compression="dwaa")

    builders = {
        "grade-blur-merge": grade_blur_merge,
        "key-transform": key_transform,
        "generators": generators,
        "layers": layers,
        "time": time_nodes,
        "colour": colour,
        "tiff-median": tiff_median,
        "jpeg-text": jpeg_text,
    }
    return {name: comp(build) for name, build in builders.items()}


def _reads_of(script: dict) -> list[str]:
    """The seed image names a script reads (every frame of a sequence)."""
    names = []
    for entry in script.get("nodes", {}).values():
        path = entry.get("params", {}).get("file", "")
        if entry.get("type") == "Read" and path.startswith(f"{CASE_TOKEN}/in/"):
            name = path.rsplit("/", 1)[1]
            frames = (1, 2, 3) if "####" in name else (None,)
            names += [name.replace("####", f"{f:04d}") if f else name for f in frames]
    return names


# --------------------------------------------------------------------------- mutations


NASTY: list = [
    None, True, False, 0, -1, 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**64, 10**12,
    1e308, -1e308, 5e-324, float("nan"), float("inf"), float("-inf"), 0.5,
    "", "\x00", "nul\x00byte", "x" * 5000, "ü∂ƒ ☃", [], {}, [1, 2], [[1, 2], [3]],
    {"keys": []}, {"keys": [[1]]}, {"keys": [["a", 1]]}, {"keys": [[1, 1], [1, 2]]},
    "/dev/zero", "/dev/null", "/tmp", "/proc/self/mem", f"{CASE_TOKEN}/fifo",
    f"{CASE_TOKEN}/in/missing.####.exr", "../../../../etc/passwd", "plate.%04d.exr",
    "#####", "%d%d%s", DEEP_TOKEN,
]  # fmt: skip


def _random_number(rng: random.Random) -> float:
    return rng.choice(
        [0, -1, 1, 1e6, -1e6, 2**31, 2**40, 1e300, float("nan"), float("inf"), -0.0, 1e-9]
    ) * rng.choice([1, 1, -1])


def _paths(value, prefix=()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _parent(data, path):
    for key in path[:-1]:
        data = data[key]
    return data


def _set(data, path, value):
    if path:
        _parent(data, path)[path[-1]] = value


def _node_names(script) -> list[str]:
    nodes = script.get("nodes")
    return list(nodes) if isinstance(nodes, dict) else []


def _op_nasty(rng, script):
    path = rng.choice(_paths(script)[1:])
    _set(script, path, rng.choice(NASTY))
    return f"set {'/'.join(map(str, path))}"


def _op_delete(rng, script):
    path = rng.choice([p for p in _paths(script)[1:] if isinstance(_parent(script, p), dict)])
    del _parent(script, path)[path[-1]]
    return f"delete {'/'.join(map(str, path))}"


def _op_add_key(rng, script):
    dicts = [
        p for p in _paths(script) if isinstance(_parent(script, (*p, 0)) if p else script, dict)
    ]
    path = rng.choice(dicts)
    target = _parent(script, (*path, None))
    key = rng.choice(["extra", "params", "inputs", "type", "version", "keys", "", "\x00"])
    target[key] = rng.choice(NASTY)
    return f"add {'/'.join(map(str, path))}/{key!r}"


def _op_type(rng, script):
    from mattebox.nodes import spec as specs

    names = _node_names(script)
    if not names:
        return "no nodes"
    node = rng.choice(names)
    choice = rng.choice([*specs.registry(), "Grdae", "", "Group", "Read ", "write"])
    if isinstance(script["nodes"][node], dict):
        script["nodes"][node]["type"] = choice
    return f"type of {node} -> {choice!r}"


def _op_rewire(rng, script):
    names = _node_names(script)
    if not names:
        return "no nodes"
    node = rng.choice(names)
    entry = script["nodes"][node]
    if not isinstance(entry, dict):
        return "not a node"
    inputs = entry.setdefault("inputs", {})
    if not isinstance(inputs, dict):
        return "inputs not a dict"
    port = rng.choice([*inputs, "Source", "A", "B", "Mask", "Nope"]) if inputs else "Source"
    # another node (maybe downstream: a cycle), itself, or nothing that exists
    target = rng.choice([*names, node, "Missing1", ""])
    inputs[port] = target
    return f"{node}.{port} <- {target!r}"


def _param_value(rng, param):
    """A value aimed at a parameter: past its limits, of the wrong type, or absurd."""
    numeric = param.type in ("float", "int")
    picks = [rng.choice(NASTY), _random_number(rng)]
    if numeric:
        for bound in (param.min, param.max, param.soft_min, param.soft_max):
            if bound is not None:
                picks.append(bound * rng.choice([-10, 10, 1e6]) + rng.choice([-1, 1]))
    if param.type in ("rgba", "vec2"):
        picks += [[_random_number(rng)] * 4, [1, 2, 3], ["a", "b"]]
    if param.type in ("enum",):
        picks += ["", "bogus", param.choices[0].upper()]
    if param.type == "shapes":
        picks += [[{"points": [[0, 0]] * rng.choice([0, 1, 2, 10000])}], [{"points": "x"}]]
    if param.animatable:
        picks.append({"keys": [[rng.choice([1, 2, float("nan")]), rng.choice(picks)]]})
    return rng.choice(picks)


def _op_param(rng, script):
    from mattebox.nodes import spec as specs

    names = [n for n in _node_names(script) if isinstance(script["nodes"][n], dict)]
    if not names:
        return "no nodes"
    node = rng.choice(names)
    entry = script["nodes"][node]
    try:
        spec = specs.get(entry.get("type"))
    except (KeyError, TypeError):  # a type already mutated away (or not a string)
        return f"{node}: unknown type"
    if not spec.params:
        return f"{node}: no params"
    param = rng.choice(spec.params)
    params = entry.setdefault("params", {})
    if isinstance(params, dict):
        params[param.name] = _param_value(rng, param)
    return f"{node}.{param.name}"


def _extreme(rng, param):
    """A value of the right type for ``param`` that is as large, small or odd as allowed."""
    big = [0, 1, -1, 1e6, -1e6, 2**31 - 1, -(2**31), 1e30, 1e-30, 3.5]
    for bound in (param.min, param.max, param.soft_min, param.soft_max):
        if bound is not None:
            big += [bound, bound * 1e3 + 1]
    if param.type == "int":
        return int(max(-(2**31), min(2**31 - 1, rng.choice(big))))
    if param.type == "float":
        return float(rng.choice(big))
    if param.type in ("rgba", "vec2"):
        return [float(rng.choice(big)) for _ in range(4 if param.type == "rgba" else 2)]
    if param.type == "bool":
        return rng.random() < 0.5
    if param.type == "enum":
        return rng.choice(param.choices)
    if param.type == "shapes":
        count = rng.choice([1, 3, 1000])
        return [{"points": [[rng.uniform(-1e4, 1e4), rng.uniform(-1e4, 1e4)] for _ in range(count)],
                 "feather": rng.choice([0, 5, 1e4, -1e4])}]  # fmt: skip
    if param.type == "channels":
        return rng.choice(["rgba", "all", "alpha", "depth", ["R", "depth.Z"], "nope"])
    return rng.choice(["", "x" * 4096, "a\u0000b", "ü", "r * 1e30", "x / 0", "#" * 40])


def _op_extreme(rng, script):
    """One parameter (or the format) set to an extreme value of the right type, so that the
    script loads and the render itself meets it."""
    from mattebox.nodes import spec as specs

    if rng.random() < 0.15:
        size = rng.choice([[10**6, 4], [4, 10**6], [2**20, 2**20], [1, 1], [2**31 - 1, 2]])
        script["settings"]["format"] = {"width": size[0], "height": size[1]}
        return f"format {size[0]}x{size[1]}"
    node = rng.choice(_node_names(script))
    entry = script["nodes"][node]
    param = rng.choice(specs.get(entry["type"]).params)
    entry.setdefault("params", {})[param.name] = value = _extreme(rng, param)
    return f"{node}.{param.name} = {str(value)[:60]}"


def _op_settings(rng, script):
    settings = script.setdefault("settings", {})
    if not isinstance(settings, dict):
        return "settings not a dict"
    key = rng.choice(["format", "frame_range", "fps", "ocio", "proxy"])
    values = {
        "format": [
            {"width": rng.choice([0, -5, 10**6, 2**40, 1.5, "x"]), "height": 16},
            {"width": 24, "height": 16, "pixel_aspect": rng.choice([0, -1, float("nan")])},
            [24, 16],
        ],
        "frame_range": [[1, 10**12], [5, 1], ["a", 2], [float("inf"), 2], [1], 7],
        "fps": [0, -24, float("nan"), "24", 10**9],
        "ocio": [{"config": 5}, {"config": "ocio://nope"}, {"working_space": ["x"]}, "ACEScg"],
        "proxy": [0, 3, "half"],
    }[key]
    settings[key] = rng.choice(values)
    return f"settings.{key}"


def _op_cycle(rng, script):
    names = [n for n in _node_names(script) if isinstance(script["nodes"][n], dict)]
    if len(names) < 2:
        return "too few nodes"
    a, b = rng.sample(names, 2)
    for x, y in ((a, b), (b, a)):
        inputs = script["nodes"][x].setdefault("inputs", {})
        if isinstance(inputs, dict):
            inputs[next(iter(inputs), "Source")] = y
    return f"cycle {a} <-> {b}"


JSON_OPS = (
    _op_nasty, _op_delete, _op_add_key, _op_type, _op_rewire, _op_param, _op_param,
    _op_settings, _op_cycle,
)  # fmt: skip


def _dump(script) -> bytes:
    text = json.dumps(script, sort_keys=True, indent=2, default=str)
    deep = 20000
    return text.replace(f'"{DEEP_TOKEN}"', "[" * deep + "]" * deep).encode("utf-8")


def mutate_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    data = bytearray(data)
    op = rng.choice(["flip", "truncate", "insert", "delete", "duplicate", "encoding"])
    if op == "flip":
        for _ in range(rng.randint(1, 16)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif op == "truncate":
        del data[rng.randrange(len(data)) :]
    elif op == "insert":
        at = rng.randrange(len(data))
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif op == "delete":
        at = rng.randrange(len(data))
        del data[at : at + rng.randint(1, 200)]
    elif op == "duplicate":
        at = rng.randrange(len(data))
        data[at:at] = data[at : at + rng.randint(1, 400)] * rng.randint(2, 50)
    else:
        data = bytearray(rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\x00"]) + bytes(data))
    return bytes(data), op


def mutate_image(rng: random.Random, data: bytes, seeds: dict[str, bytes]) -> tuple[bytes, str]:
    data = bytearray(data)
    op = rng.choice(["truncate", "flip", "header", "zero-chunk", "other-format", "empty"])
    if op == "truncate":
        del data[rng.randrange(len(data)) :]
    elif op == "flip":
        for _ in range(rng.randint(1, 32)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif op == "header":
        for _ in range(rng.randint(1, 16)):
            data[rng.randrange(min(len(data), 1024))] = rng.randrange(256)
    elif op == "zero-chunk":
        at = rng.randrange(len(data))
        size = min(len(data) - at, rng.randint(1, 4096))
        data[at : at + size] = bytes(size)
    elif op == "other-format":
        data = bytearray(seeds[rng.choice(sorted(seeds))])
    else:
        data = bytearray()
    return bytes(data), op


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    index: int
    kind: str
    base: str
    what: str
    script: bytes
    files: dict[str, bytes] = field(default_factory=dict)
    special: dict[str, str] = field(default_factory=dict)  # name -> "fifo" | "folder"
    selftest: str = ""

    def write(self, folder: Path) -> Path:
        (folder / "in").mkdir(parents=True)
        (folder / "out").mkdir()
        os.mkfifo(folder / "fifo")
        for name, data in self.files.items():
            (folder / "in" / name).write_bytes(data)
        for name, what in self.special.items():
            target = folder / "in" / name
            target.unlink(missing_ok=True)
            if what == "fifo":
                os.mkfifo(target)
            else:
                target.mkdir()
        script = folder / "script.mbx"
        script.write_bytes(self.script.replace(CASE_TOKEN.encode(), str(folder).encode()))
        return script


def make_case(seed: int, index: int, bases: dict[str, dict], seeds: dict[str, bytes]) -> Case:
    """The case ``index`` of run ``seed``: made from these two numbers alone."""
    rng = random.Random(seed * 1_000_003 + index)
    kind = rng.choices(KINDS, weights=(4, 25, 30, 10, 24, 7))[0]
    readers = sorted(name for name, script in bases.items() if _reads_of(script))
    base = rng.choice(readers if kind in ("image", "special-file") else sorted(bases))
    script = json.loads(json.dumps(bases[base]))
    case = Case(index, kind, base, "", b"", dict(seeds))
    if kind == "pristine":  # a base comp as it is: these must all succeed
        case.what = "unchanged"
        case.script = _dump(script)
    elif kind == "script-param":
        case.what = _op_extreme(rng, script)
        case.script = _dump(script)
    elif kind == "script-json":
        case.what = "; ".join(rng.choice(JSON_OPS)(rng, script) for _ in range(rng.randint(1, 3)))
        case.script = _dump(script)
    elif kind == "script-bytes":
        case.script, case.what = mutate_bytes(rng, _dump(script))
    else:
        target = rng.choice(_reads_of(script))
        case.script = _dump(script)
        if kind == "image":
            case.files[target], op = mutate_image(rng, seeds[target], seeds)
        else:
            op = rng.choice(["fifo", "folder"])
            case.special[target] = op
        case.what = f"{op} {target}"
    return case


# --------------------------------------------------------------------------- the worker


def _run_in_worker(request: dict) -> dict:
    """Run one case in this (worker) process with fds 1 and 2 captured."""
    with tempfile.TemporaryFile() as capture:
        code = _captured(request, capture.fileno())
        capture.seek(0)
        output = capture.read().decode("utf-8", "replace")
    return {"code": code, "stderr": output[-65536:]}


def _captured(request: dict, fd: int) -> int:
    """The command's exit status, with fds 1 and 2 pointing at ``fd`` while it runs."""
    from mattebox.app import cli

    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        selftest = request.get("selftest")
        if selftest:
            _selftest(selftest, Path(request["folder"]))
        argv = ["render", request["script"], "-q", "-f", FRAMES, "--backend", request["backend"]]
        return cli.main(argv)
    except SystemExit as exit_:  # argparse, or a message for the command line
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
            return 1
        return exit_.code or 0
    except BaseException:  # noqa: BLE001  a bug: the real command prints this traceback
        import traceback

        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def _selftest(action: str, folder: Path) -> None:
    """Deliberate failures, so the supervisor's classification is itself tested."""
    if action == "crash":
        os.abort()
    if action == "hang":
        time.sleep(3600)
    if action == "memory":
        hog = bytearray(4 << 30)  # touched page by page below
        for at in range(0, len(hog), 4096):
            hog[at] = 1
    if action == "traceback":
        raise RuntimeError("selftest: an unexpected exception")
    if action == "noise":
        os.write(2, b"libfoo: chatter on stderr\n")
    if action == "leftover":
        (folder / "out" / ".comp.0001.exr.tmp").write_bytes(b"half")


def worker_main(fd_in: int, fd_out: int) -> None:
    """Serve cases: one JSON request per line in, one JSON result per line out."""
    from mattebox.app import cli  # noqa: F401  (import once, before the first case)

    with os.fdopen(fd_in, "r") as requests, os.fdopen(fd_out, "w") as results:
        for line in requests:
            results.write(json.dumps(_run_in_worker(json.loads(line))) + "\n")
            results.flush()


# --------------------------------------------------------------------------- the supervisor


def _session_rss(session: int) -> int:
    """Resident bytes of every process in ``session`` (the worker and its decoders)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return total


class Supervisor:
    """One worker process at a time, restarted after a crash, hang or memory overrun."""

    def __init__(
        self, time_limit: float, memory_limit: int, log: Path, startup: float = 60.0
    ) -> None:
        self.time_limit = time_limit
        self.startup = startup
        self.memory_limit = memory_limit
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.fresh = False

    def _start(self) -> None:
        to_worker, self._requests = os.pipe()
        self._results, from_worker = os.pipe()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mattebox.tools.fuzz", "--worker",
                 str(to_worker), str(from_worker)],
                pass_fds=(to_worker, from_worker),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )  # fmt: skip
        os.close(to_worker)
        os.close(from_worker)
        self._buffer = b""
        self.fresh = True

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        os.close(self._requests)
        os.close(self._results)
        self.proc = None

    def run(self, request: dict) -> dict:
        """``{"status": "done", "code", "stderr"}`` or ``{"status": crash|hang|memory}``."""
        if self.proc is None:
            self._start()
        # a fresh worker imports the engine and compiles kernels first: give it more time
        limit = self.time_limit + (self.startup if self.fresh else 0.0)
        self.fresh = False
        os.write(self._requests, (json.dumps(request) + "\n").encode())
        start = time.monotonic()
        while True:
            ready, _, _ = select.select([self._results], [], [], 0.2)
            if ready:
                chunk = os.read(self._results, 1 << 16)
                if chunk:
                    self._buffer += chunk
                    if b"\n" in self._buffer:
                        line, self._buffer = self._buffer.split(b"\n", 1)
                        return {"status": "done", **json.loads(line)}
                    continue
            if self.proc.poll() is not None or (ready and not chunk):
                code = self.proc.wait()
                self.stop()
                return {"status": "crash", "signal": -code if code < 0 else None}
            if time.monotonic() - start > limit:
                self.stop()
                return {"status": "hang"}
            if _session_rss(self.proc.pid) > self.memory_limit:
                self.stop()
                return {"status": "memory"}


# --------------------------------------------------------------------------- classification

_LEFTOVER_NAME = re.compile(r"(^\.|\.tmp|~$|\.part$)")


def leftovers(folder: Path, script: bytes) -> list[str]:
    """What a case left that it should not have: temporary or hidden files, outputs that do
    not read back completely, a changed script."""
    import OpenImageIO as oiio

    found = []
    script_path = folder / "script.mbx"
    if not script_path.exists() or script_path.read_bytes() != script:
        found.append("script.mbx changed")
    for path in sorted(folder.rglob("*")):
        relative = str(path.relative_to(folder))
        if _LEFTOVER_NAME.search(path.name):
            found.append(relative)
        elif path.parent == folder / "out" and path.is_file():
            image = oiio.ImageInput.open(str(path))
            ok = image is not None and image.read_image(oiio.FLOAT) is not None
            if image is not None:
                ok = ok and not image.has_error
                image.geterror()
                image.close()
            oiio.geterror()  # read the message, or OpenImageIO prints it at exit
            if not ok:
                found.append(f"{relative} does not read back")
    return found


def classify(result: dict, left: list[str]) -> str:
    """The class of a finished case (see the module's docstring)."""
    if result["status"] != "done":
        return result["status"]
    if left:
        return "leftover"
    text = result["stderr"]
    if "Traceback" in text or "please report" in text:
        return "traceback"
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    others = [line for line in lines if not line.startswith(("error: ", "warning: "))]
    if others:
        return "noisy"
    if result["code"] == 0:
        return "success" if not errors else "noisy"
    return "clean error" if len(errors) == 1 else "noisy"


# --------------------------------------------------------------------------- running


@dataclass
class Outcome:
    case: Case
    cls: str
    detail: str
    seconds: float


def run(
    seed: int,
    cases: int,
    *,
    jobs: int = 1,
    backend: str = "cpu",
    time_limit: float = 30.0,
    memory_limit_mb: int = 3072,
    startup: float = 60.0,
    keep: Path | None = None,
    only: list[int] | None = None,
    selftests: list[str] | None = None,
    progress=None,
) -> list[Outcome]:
    """Make and run the cases; returns one outcome per case, in index order."""
    work = Path(tempfile.mkdtemp(prefix="mattebox-fuzz-"))
    try:
        seeds = write_seed_images(work / "seed")
        bases = base_scripts()
        indices = list(only) if only is not None else list(range(cases))
        todo = [make_case(seed, i, bases, seeds) for i in indices]
        for offset, action in enumerate(selftests or ()):
            base = min(bases)
            todo.append(
                Case(-1 - offset, "selftest", base, action, _dump(bases[base]), dict(seeds),
                     selftest=action)
            )  # fmt: skip
        outcomes: dict[int, Outcome] = {}
        lock = threading.Lock()
        queue = list(reversed(todo))

        def serve(slot: int) -> None:
            supervisor = Supervisor(
                time_limit, memory_limit_mb << 20, work / f"worker{slot}.log", startup
            )
            try:
                while True:
                    with lock:
                        if not queue:
                            return
                        case = queue.pop()
                    outcome = _run_case(supervisor, case, work / f"case{case.index}", backend)
                    if keep is not None and outcome.cls in BAD:
                        target = keep / f"case{case.index}"
                        shutil.rmtree(target, ignore_errors=True)
                        shutil.copytree(work / f"case{case.index}", target, symlinks=True,
                                        ignore_dangling_symlinks=True,
                                        copy_function=_copy_plain)  # fmt: skip
                    shutil.rmtree(work / f"case{case.index}", ignore_errors=True)
                    with lock:
                        outcomes[case.index] = outcome
                        if progress:
                            progress(len(outcomes), len(todo), outcome)
            finally:
                supervisor.stop()

        threads = [threading.Thread(target=serve, args=(slot,)) for slot in range(max(1, jobs))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [outcomes[case.index] for case in todo]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _copy_plain(src, dst):
    """Copy regular files only (a FIFO in a kept case would block the copy)."""
    if os.path.isfile(src) and not os.path.islink(src):
        shutil.copy2(src, dst)


def _run_case(supervisor: Supervisor, case: Case, folder: Path, backend: str) -> Outcome:
    script_path = case.write(folder)
    script = script_path.read_bytes()
    request = {"script": str(script_path), "backend": backend, "folder": str(folder)}
    if case.selftest:
        request["selftest"] = case.selftest
    start = time.monotonic()
    result = supervisor.run(request)
    if result["status"] == "hang" and not case.selftest:
        # a busy machine can make a first compile slow: a hang must happen twice, the
        # second time in a fresh worker with twice the time
        shutil.rmtree(folder)
        script_path = case.write(folder)
        supervisor.time_limit *= 2
        try:
            result = supervisor.run(request)
        finally:
            supervisor.time_limit /= 2
    seconds = time.monotonic() - start
    left = leftovers(folder, script)
    cls = classify(result, left)
    detail = result.get("stderr", "").strip().splitlines()[-1:] or [result["status"]]
    if cls == "leftover":
        detail = left
    elif cls in ("traceback", "noisy"):
        detail = [result["stderr"].strip()[-600:]]
    return Outcome(case, cls, " | ".join(detail), seconds)


def table(outcomes: list[Outcome]) -> str:
    """Counts per case kind and class, as a Markdown table."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for outcome in outcomes:
        counts[outcome.case.kind][outcome.cls] += 1
        counts["total"][outcome.cls] += 1
    rows = [k for k in (*KINDS, "selftest") if k in counts] + ["total"]
    lines = ["| kind | cases | " + " | ".join(CLASSES) + " |", "|" + " --- |" * (len(CLASSES) + 2)]
    for kind in rows:
        row = counts[kind]
        cells = [str(row[c]) for c in CLASSES]
        lines.append(f"| {kind} | {sum(row.values())} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mattebox.tools.fuzz", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes side by side")
    parser.add_argument("--backend", default="cpu", choices=("cpu", "gpu", "auto"))
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per case")
    parser.add_argument("--memory-limit", type=int, default=3072, help="MiB per worker")
    parser.add_argument("--keep", type=Path, help="copy the failing cases' folders here")
    parser.add_argument("--json", type=Path, help="write every outcome here")
    parser.add_argument("--only", type=int, action="append", help="run only this case index")
    parser.add_argument("--worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(*args.worker)
        return 0
    start = time.monotonic()

    def progress(done: int, total: int, outcome: Outcome) -> None:
        if outcome.cls in BAD:
            case = outcome.case
            print(f"case {case.index} [{case.kind} {case.base}: {case.what[:120]}] "
                  f"{outcome.cls}: {outcome.detail[:300]}", file=sys.stderr)  # fmt: skip
        if done % 50 == 0 or done == total:
            print(f"{done}/{total} cases, {time.monotonic() - start:.0f} s", file=sys.stderr)

    outcomes = run(
        args.seed,
        args.cases,
        jobs=args.jobs,
        backend=args.backend,
        time_limit=args.time_limit,
        memory_limit_mb=args.memory_limit,
        keep=args.keep,
        only=args.only,
        progress=progress,
    )
    elapsed = time.monotonic() - start
    print(f"fuzz: seed {args.seed}, {len(outcomes)} cases, backend {args.backend}, "
          f"{args.jobs} job(s), {elapsed:.0f} s")  # fmt: skip
    print(table(outcomes))
    if args.json:
        args.json.write_text(json.dumps([
            {"index": o.case.index, "kind": o.case.kind, "base": o.case.base,
             "what": o.case.what, "class": o.cls, "detail": o.detail,
             "seconds": round(o.seconds, 3)}
            for o in outcomes
        ], indent=1))  # fmt: skip
    return 1 if any(o.cls in BAD for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
