"""Mattebox side by side with oiiotool, ImageBufAlgo, Blender's compositor, plain numpy
and the machine's memory-bandwidth floor, on the same images in one run (workloads:
comp, points, blur, ocio, chain, sequence, aov on a multi-layer EXR, and keying: a
green-screen key, erode, edge blur and over). Blender runs twice where it can: Debian's
Blender 3.4 (``blender -b``) and Blender 5 through the ``bpy`` module in its own Python
(``--bpy``; comp, points, blur, chain, keying); the summary line compares with the
faster.

    python bench/run.py [--quick] [--sizes 1080p,4K] [--workloads comp,points,...]
                        [--repeat N] [--backend auto|cpu|gpu] [--no-blender]
                        [--bpy PYTHON_WITH_BPY]
                        [--out bench/results/NAME.json] [--docs docs/benchmarks.md]

Prints the machine, one table per workload and size, and last a line such as
``bench comp 4K: mattebox 0.52 s, oiiotool 3.10 s (6.0x), blender 2.80 s (5.4x)``;
writes everything to JSON (and with ``--docs`` the results section of the page, and the
chain-length plot). ``--quick`` runs in about a minute: the comp at 4K, the rest small.
Exits non-zero when Mattebox failed somewhere; a peer that fails is reported and skipped.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `bench` is a folder of modules, not an installed package

from bench import aov, blender5, keying, measure, peers, report, workloads

WORKLOADS = ("comp", "points", "blur", "ocio", "chain", "sequence", "aov", "keying")
BLUR_SIZES, QUICK_BLUR_SIZES = (5, 15, 50), (15,)
CHAIN_LENGTHS, QUICK_CHAIN_LENGTHS = (1, 5, 10, 20, 40), (1, 10, 40)
FRAMES, QUICK_FRAMES = 100, 10
QUICK_SMALL = ("640x360", 640, 360)
TOOLS = ("mattebox", "oiiotool", "numpy", "iba", "blender", "bpy", "floor")
NAMES = {
    "mattebox": "Mattebox",
    "oiiotool": "oiiotool",
    "numpy": "numpy",
    "iba": "ImageBufAlgo",
    "blender": "Blender",
    "bpy": "Blender 5 (bpy)",
    "floor": "bandwidth floor",
    "cli": "mattebox render",
}
DISK, MEMORY = "disk → disk", "in memory"
HOW = {
    "mattebox": DISK,
    "oiiotool": DISK,
    "numpy": MEMORY,
    "iba": MEMORY,
    "blender": DISK,
    "bpy": DISK,
    "floor": MEMORY,
}


@dataclass
class Plan:
    """One workload at one size, and the tools left out of it (with why)."""

    work: workloads.Workload
    arg: object
    size: tuple[str, int, int]
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass
class Context:
    """What every case of a run shares."""

    args: argparse.Namespace
    folder: Path
    repeat: int
    budget: float
    bandwidth: float
    blender: str | None
    blender_reason: str
    bpy: str | None = None  # a Python with Blender 5's bpy
    bpy_reason: str = ""
    inputs: dict = field(default_factory=dict)  # size label -> {name: path}
    kernel_files: dict = field(default_factory=dict)
    first_seconds: list = field(default_factory=list)
    mattebox_failed: bool = False
    oiiotool_startup: float = 0.0
    versions: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- planning


def parse_size(text: str) -> tuple[str, int, int]:
    """``1080p``, ``4K`` or ``WxH`` as (label, width, height)."""
    text = text.strip()
    for label, (width, height) in workloads.SIZES.items():
        if text.lower() == label.lower():
            return label, width, height
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"run.py: size {text!r}: use 1080p, 4K or WIDTHxHEIGHT") from None
    return f"{width}x{height}", width, height


def make_plans(args) -> tuple[list[Plan], list[str]]:
    """The cases to run, and (in quick mode) what was left out."""
    sizes = sorted({parse_size(s) for s in args.sizes.split(",")}, key=lambda s: s[1] * s[2])
    chosen = [w.strip() for w in args.workloads.split(",")]
    unknown = set(chosen) - set(WORKLOADS)
    if unknown:
        raise SystemExit(
            f"run.py: unknown workload(s) {', '.join(sorted(unknown))}; "
            f"choose from {', '.join(WORKLOADS)}"
        )
    small = sizes[0]
    if args.quick and small[1] * small[2] > QUICK_SMALL[1] * QUICK_SMALL[2]:
        small = QUICK_SMALL
    big = sizes[-1]
    sequence_size = next((s for s in sizes if s[0] == "1080p"), sizes[0])
    plans: list[Plan] = []
    left_out: list[str] = []
    for name in WORKLOADS:
        if name not in chosen:
            continue
        if args.quick:
            plans += quick_plans(name, small, big)
        else:
            for size in sizes if name != "sequence" else [sequence_size]:
                plans += [Plan(w, arg, size) for w, arg in variants(name, False)]
    if args.quick:
        left_out = quick_left_out(chosen, small, big, args.repeat or 3)
    return plans, left_out


def quick_left_out(chosen: list[str], small, big, repeat: int) -> list[str]:
    """What quick mode leaves out of a full run, for the chosen workloads."""
    others = [name for name in chosen if name != "comp"]
    texts = [f"{repeat} timed runs instead of 5, and at most 2 s of them per tool"]
    if "comp" in chosen:
        texts.append(f"the comp at other sizes than {big[0]}, and numpy and ImageBufAlgo on it")
    if others:
        texts.append(f"{', '.join(others)} at other sizes than {small[0]} (a full run: 1080p, 4K)")
    if "blur" in chosen:
        left = [s for s in BLUR_SIZES if s not in QUICK_BLUR_SIZES]
        texts.append(f"blur sizes {', '.join(map(str, left))}")
    if "chain" in chosen:
        left = [n for n in CHAIN_LENGTHS if n not in QUICK_CHAIN_LENGTHS]
        texts.append(f"chain N = {', '.join(map(str, left))}, and ImageBufAlgo on the chains")
    if "sequence" in chosen:
        texts.append(
            f"{FRAMES - QUICK_FRAMES} of the {FRAMES} sequence frames, oiiotool on the sequence "
            "(about a second a frame) and timing the `mattebox render` command"
        )
    return texts


def variants(name: str, quick: bool) -> list[tuple[workloads.Workload, object]]:
    """The workload's cases (blur sizes, chain lengths, frame counts) with their argument."""
    if name == "comp":
        return [(workloads.comp(), None)]
    if name == "points":
        return [(workloads.points(), None)]
    if name == "blur":
        return [
            (workloads.blur_workload(s), s) for s in (QUICK_BLUR_SIZES if quick else BLUR_SIZES)
        ]
    if name == "ocio":
        return [(workloads.ocio(), None)]
    if name == "chain":
        return [(workloads.chain(n), n) for n in (QUICK_CHAIN_LENGTHS if quick else CHAIN_LENGTHS)]
    if name == "aov":
        return [(aov.workload(), None)]
    if name == "keying":
        return [(keying.workload(), None)]
    frames = QUICK_FRAMES if quick else FRAMES
    return [(workloads.sequence(frames), frames)]


def quick_plans(name: str, small, big) -> list[Plan]:
    """Quick mode: the comp at the large size without the in-memory peers, the rest small;
    the slowest peer runs are left out (and said so in the tables)."""
    left_out = {"comp": ("numpy", "iba"), "chain": ("iba",), "sequence": ("oiiotool",)}
    skipped = {tool: "left out in quick mode" for tool in left_out.get(name, ())}
    size = big if name == "comp" else small
    return [Plan(w, arg, size, skipped) for w, arg in variants(name, True)]


# --------------------------------------------------------------------------- running


def inputs_for(ctx: Context, plan: Plan) -> dict:
    """The input files of a case, written the first time a size needs them."""
    label, width, height = plan.size
    if plan.work.sequence:
        key = f"sequence-{label}-{plan.arg}"
        if key not in ctx.inputs:
            pattern = workloads.make_sequence(ctx.folder / key, width, height, plan.arg)
            ctx.inputs[key] = {"plate": pattern}
        return ctx.inputs[key]
    if plan.work.name == "keying":
        key = f"keying-{label}"
        if key not in ctx.inputs:
            ctx.inputs[key] = keying.make_inputs(ctx.folder / key, width, height)
        return ctx.inputs[key]
    if plan.work.layers:
        key = f"aov-{label}"
        if key not in ctx.inputs:
            ctx.inputs[key] = aov.make_input(ctx.folder / key, width, height)
        return ctx.inputs[key]
    if label not in ctx.inputs:
        ctx.inputs[label] = workloads.make_inputs(ctx.folder / label, width, height)
    return ctx.inputs[label]


def new_case(plan: Plan) -> dict:
    """The record of one case, before anything has run."""
    work, (label, width, height) = plan.work, plan.size
    return {
        "workload": work.name,
        "key": work.key,
        "title": work.title,
        "variant": work.variant,
        "arg": plan.arg,
        "size": label,
        "width": width,
        "height": height,
        "description": work.describe(),
        "rows": [],
        "notes": [],
    }


def run_plan(ctx: Context, plan: Plan) -> dict:
    """Every tool of the plan on its workload; the case with its rows, ratios and notes."""
    work, case = plan.work, new_case(plan)
    print(f"\nrunning {work.key} at {case['size']} ...", flush=True)
    started = time.perf_counter()
    paths = inputs_for(ctx, plan)
    if work.layers:
        case["input_bytes"] = sum(Path(p).stat().st_size for p in paths.values())
    out = ctx.folder / "out"
    out.mkdir(exist_ok=True)
    suffix = ".####.exr" if work.sequence else ".exr"
    outputs = {
        tool: out / f"{tool}{suffix}"
        for tool in ("mattebox", "oiiotool", "numpy", "blender", "bpy")
    }
    checks = {tool: out / f"{tool}-check.npy" for tool in ("mattebox", "numpy", "iba")}
    common = {
        "workload": work.name,
        "arg": plan.arg,
        "size": [case["width"], case["height"]],
        "paths": {k: str(v) for k, v in paths.items()},
        "repeat": ctx.repeat,
        "budget": ctx.budget,
        "backend": ctx.args.backend,
        "frames": plan.arg if work.sequence else 0,
    }
    for tool in TOOLS:
        if tool in plan.skipped:
            case["rows"].append(_row(NAMES[tool], HOW[tool], "skipped", plan.skipped[tool]))
        elif tool == "mattebox":
            needs_check = not {"numpy", "iba"} <= set(plan.skipped)
            ran = run_mattebox(ctx, case, common, outputs, checks, work, needs_check)
            if ran and work.sequence and not ctx.args.quick:
                run_cli(ctx, case, plan)
        elif tool == "oiiotool":
            run_oiiotool(ctx, case, paths, outputs, work, plan)
        elif tool in ("numpy", "iba") and not work.sequence:
            writes = work.layers and tool == "numpy"  # numpy also runs disk → disk there
            run_in_memory_peer(ctx, case, common, checks, tool, outputs[tool] if writes else None)
        elif tool == "blender":
            run_blender(ctx, case, paths, outputs, work)
        elif tool == "bpy" and not work.sequence and not work.layers:
            run_bpy(ctx, case, paths, outputs, work)
        elif tool == "floor":
            case["rows"].append(floor_row(ctx, work, plan))
    compare_outputs(case, work, outputs, checks)
    add_ratios(case)
    add_notes(case, work)
    shutil.rmtree(out, ignore_errors=True)
    case["seconds"] = time.perf_counter() - started
    return case


def floor_row(ctx: Context, work: workloads.Workload, plan: Plan) -> dict:
    """The seconds the workload's least traffic takes at the measured copy bandwidth."""
    frames = plan.arg if work.sequence else 1
    seconds = frames * work.traffic(plan.size[1], plan.size[2]) / ctx.bandwidth
    how = DISK if work.sequence else MEMORY  # the sequence compares with execute()
    return _row(NAMES["floor"], how, "ok", times=[seconds], runs=None)


def _row(tool: str, how: str, status: str, reason: str = "", times=None, **extra) -> dict:
    row = {"tool": tool, "how": how, "status": status, "reason": reason}
    if times:
        row.update(times=times, **measure.summary(times))
    row.update(extra)
    return row


def _failed(case: dict, tool: str, how: str, problem: str) -> None:
    print(f"{tool} failed on {case['key']} at {case['size']}: {problem}", flush=True)
    case["rows"].append(_row(tool, how, "failed", problem))


def _measured_row(tool: str, how: str, measured: dict, **extra) -> dict:
    return _row(
        tool,
        how,
        "ok",
        times=measured["times"],
        peak_rss=measured.get("peak_rss"),
        peak_above_baseline=measured.get("peak_above_baseline"),
        **extra,
    )


def run_mattebox(ctx, case, common, outputs, checks, work, needs_check: bool):
    """Mattebox's case process: a disk → disk and an in-memory row; None if it failed."""
    spec = {
        **common,
        "tool": "mattebox",
        "out": str(outputs["mattebox"]),
        "check": str(checks["mattebox"]) if needs_check else "",
    }
    if work.sequence:
        spec["script"] = str(ctx.folder / "out" / "sequence.mbx")
    result = peers.run_case(spec, ctx.folder)
    if "error" in result:
        ctx.mattebox_failed = True
        _failed(case, "Mattebox", DISK, result["error"])
        return None
    ctx.first_seconds.append(result["first_seconds"])
    ctx.versions["backend"] = result["backend"]
    disk = result["disk"]
    decoder = disk.get("children_peak_rss", 0)
    row = _measured_row("Mattebox", DISK, disk, decoder_peak_rss=decoder)
    if decoder and row.get("peak_rss"):
        row["peak_rss"] += decoder  # the decoder process, whose pixels it reads
    if work.sequence:
        row["fps"] = common["frames"] / row["median"]
    case["rows"].append(row)
    if "memory" in result:
        case["rows"].append(_measured_row("Mattebox", MEMORY, result["memory"]))
    case["notes"].append(
        f"Mattebox's first render in its fresh process took {result['first_seconds']:.2f} s "
        "(kernels loaded from numba's cache or compiled; not in the times above)."
    )
    return result


def run_oiiotool(ctx, case, paths, outputs, work, plan):
    """oiiotool, one command per repeat: a disk → disk row."""
    _, width, height = plan.size
    result = peers.oiiotool_case(
        work,
        paths,
        outputs["oiiotool"],
        ctx.kernel_files,
        (width, height),
        ctx.repeat,
        ctx.budget,
        frames=plan.arg if work.sequence else 0,
    )
    if "error" in result:
        _failed(case, "oiiotool", DISK, result["error"])
        return
    row = _measured_row("oiiotool", DISK, result, command=result["command"])
    if work.name in ("comp", "aov"):
        shown = " ".join(
            Path(a).name if a.startswith(str(ctx.folder)) else a for a in result["command"][1:]
        )
        case["notes"].append(f"oiiotool command: `oiiotool {shown}`")
    if work.sequence:
        row["fps"] = plan.arg / row["median"]
    case["rows"].append(row)


def run_in_memory_peer(ctx, case, common, checks, tool, out: Path | None = None):
    """numpy or ImageBufAlgo in their own case process: an in-memory row (and a disk →
    disk row where the peer also writes ``out``: numpy on the aov workload)."""
    spec = {**common, "tool": tool, "check": str(checks[tool]), "out": str(out or "")}
    env = {"OCIO": workloads.CONFIG} if tool == "iba" else None
    result = peers.run_case(spec, ctx.folder, env)
    if "error" in result:
        _failed(case, NAMES[tool], MEMORY, result["error"])
        return
    if "disk" in result:
        case["rows"].append(_measured_row(NAMES[tool], DISK, result["disk"]))
    case["rows"].append(_measured_row(NAMES[tool], MEMORY, result["memory"]))


def run_blender(ctx, case, paths, outputs, work):
    """Blender through its driver: a disk → disk row, or why there is none."""
    name = NAMES["blender"]
    if ctx.blender is None:
        case["rows"].append(_row(name, DISK, "skipped", ctx.blender_reason))
        return
    if not work.blender:
        case["rows"].append(_row(name, DISK, "n/a", work.blender_reason))
        return
    inputs = [paths[name_] for name_ in work.inputs]
    if work.sequence:
        inputs = [str(paths["plate"])]
    repeat = min(ctx.repeat, 2 if ctx.args.quick else 3)  # no budget inside the driver
    driver = getattr(work, "blender_script", "") or ctx.args.blender_driver
    result = peers.blender_case(
        ctx.blender, driver, work, inputs, outputs["blender"], repeat, ctx.folder
    )
    if "error" in result:
        _failed(case, "Blender", DISK, result["error"])
        return
    if result.get("version"):
        ctx.versions["blender"] = result["version"]
    row = _measured_row(
        name,
        DISK,
        result,
        note=result["note"],
        execution_mode=result["execution_mode"],
        process_seconds=result["process_seconds"],
        driver_peak_rss=result["driver_peak_rss"],
    )
    if work.sequence:
        row["fps"] = (result.get("frames") or 0) / row["median"]
    case["rows"].append(row)
    case.setdefault("blender_note", result["note"])


def run_bpy(ctx, case, paths, outputs, work):
    """Blender 5 through the bpy module (bench/blender5.py): a disk → disk row."""
    name = NAMES["bpy"]
    if ctx.bpy is None:
        case["rows"].append(_row(name, DISK, "skipped", ctx.bpy_reason))
        return
    keyed = isinstance(work, keying.KeyingWorkload)
    if not keyed and work.blender not in blender5.WORKLOADS:
        reason = work.blender_reason or "no Blender 5 tree for this workload yet"
        case["rows"].append(_row(name, DISK, "n/a", reason))
        return
    inputs = [paths[name_] for name_ in work.inputs]
    repeat = min(ctx.repeat, 2 if ctx.args.quick else 3)
    if keyed:
        result = keying.bpy_case(ctx.bpy, work, inputs, outputs["bpy"], repeat, ctx.folder)
    else:
        result = blender5.bpy_case(ctx.bpy, work.blender, inputs, outputs["bpy"], repeat,
                                   ctx.folder, work.blender_params)  # fmt: skip
    if "error" in result:
        _failed(case, name, DISK, result["error"])
        return
    ctx.versions["bpy"] = result["version"]
    row = _measured_row(name, DISK, result, note=result["note"])
    row["tool"] = f"Blender {result['version']} (bpy)"
    row["process_seconds"] = result["process_seconds"]
    case["rows"].append(row)


def run_cli(ctx, case, plan):
    """``mattebox render`` on the saved sequence script, timed as a whole command."""
    script = ctx.folder / "out" / "sequence.mbx"
    if not script.exists():
        return
    result = peers.mattebox_cli_case(script, plan.arg, ctx.args.backend)
    if "error" in result:
        ctx.mattebox_failed = True
        _failed(case, NAMES["cli"], DISK, result["error"])
        return
    row = _measured_row(NAMES["cli"], DISK, result, command=result["command"])
    row["fps"] = plan.arg / row["median"]
    case["rows"].append(row)
    case["notes"].append(
        "`mattebox render` is timed as a whole command, Python's start-up "
        "and kernel loading included."
    )


def compare_outputs(case, work, outputs, checks) -> None:
    """max |Δ| of each peer against Mattebox, where both computed the same thing."""
    if work.sequence:
        return
    if work.layers:
        compare_layers(case, outputs, checks)
        return
    border = work.halo
    ours = checks["mattebox"]
    if ours.exists():
        reference = np.load(ours)
        for tool in ("numpy", "iba"):
            if checks[tool].exists():
                _set_diff(
                    case,
                    NAMES[tool],
                    MEMORY,
                    workloads.max_difference(reference, np.load(checks[tool]), border),
                )
    if outputs["mattebox"].exists():
        reference = workloads.read_exr(outputs["mattebox"])
        for tool, theirs in _peer_files(
            outputs, ("oiiotool", "blender", "bpy"), workloads.read_exr
        ):
            difference = workloads.max_difference(reference, theirs, border)
            if tool == "bpy":
                _set_bpy_diff(case, difference)
            else:
                _set_diff(case, NAMES[tool], DISK, difference)


def _peer_files(outputs: dict, tools, read):
    """(tool, ``read(its output file)``) for each of ``tools`` whose file exists and
    reads (a warning for one that does not read)."""
    for tool in tools:
        if not outputs[tool].exists():
            continue
        try:
            yield tool, read(outputs[tool])
        except OSError as error:
            print(f"warning: cannot compare {NAMES[tool]}'s output: {error}", flush=True)


def compare_layers(case, outputs, checks) -> None:
    """max |Δ| per layer of each peer against Mattebox (in memory: float32 results;
    disk → disk: the half files), with a note of which layers differ by more than one
    step of half precision."""
    layers: dict[tuple[str, str], dict] = {}
    ours = checks["mattebox"]
    if ours.exists():
        reference = np.load(ours)
        for tool in ("numpy", "iba"):
            if checks[tool].exists():
                theirs = np.load(checks[tool])
                layers[NAMES[tool], MEMORY] = aov.layer_differences(reference, theirs)
    steps = {}
    if outputs["mattebox"].exists():
        reference = aov.stacked(aov.read_channels(outputs["mattebox"]))
        steps = aov.half_tolerance(reference)
        tools = ("oiiotool", "numpy", "blender")
        for tool, channels in _peer_files(outputs, tools, aov.read_channels):
            aliases = aov.BLENDER_NAMES if tool == "blender" else None
            theirs = aov.stacked(channels, aliases)
            layers[NAMES[tool], DISK] = aov.layer_differences(reference, theirs)
    for (tool, how), values in layers.items():
        _set_diff(case, tool, how, float(np.max(list(values.values()))))
        for row in case["rows"]:
            if row["how"] == how and row["tool"] == tool:
                row["max_diff_layers"] = values
    case["notes"] += layer_notes(layers, steps)


def layer_notes(layers: dict, steps: dict) -> list[str]:
    """The per-layer differences as notes: which layers differ, and by how much."""
    notes = []
    for (tool, how), values in layers.items():
        differing = ", ".join(f"{k} {v:.1e}" for k, v in values.items() if v != 0)
        text = f"{tool} ({how}) against Mattebox, max |Δ| by layer: {differing or 'all 0'}"
        if how == DISK and steps:
            over = [k for k, v in values.items() if not v <= steps[k]]
            text += (
                f"; over one step of half ({', '.join(over)})"
                if over
                else "; every layer within one step of half"
            )
        notes.append(text + ".")
    if steps:
        shown = ", ".join(f"{k} {v:.1e}" for k, v in steps.items())
        notes.append(
            "One step of half at each layer's largest value in Mattebox's file (two correct "
            f"tools may differ by that after rounding float32 to half): {shown}."
        )
    return notes


def _set_diff(case, tool, how, value) -> None:
    if np.isnan(value):
        print(
            f"warning: {tool} against Mattebox on {case['key']} at {case['size']}: "
            "NaN in the pixels (or different sizes)",
            flush=True,
        )
    for row in case["rows"]:
        if row["how"] == how and row["tool"] == tool:
            row["max_diff"] = value


def _set_bpy_diff(case, value) -> None:
    """max |Δ| on the bpy row (whose tool name carries Blender's version)."""
    for row in case["rows"]:
        if row["tool"].endswith("(bpy)") and row["status"] == "ok":
            row["max_diff"] = value


def add_ratios(case) -> None:
    """Each row's median over Mattebox's for the same kind of run."""
    reference = {
        row["how"]: row
        for row in case["rows"]
        if row["tool"] == "Mattebox" and row["status"] == "ok"
    }
    for row in case["rows"]:
        ours = reference.get(row["how"])
        if row["status"] == "ok" and ours is not None:
            row["ratio"] = row["median"] / ours["median"]


def add_notes(case, work) -> None:
    """What a reader needs to read the case's max |Δ| column."""
    notes = case["notes"]
    if work.halo and not work.sequence:
        notes.append(
            f"max |Δ| leaves out {work.halo} px at each edge: there the tools' "
            "blurs differ by their edge rules (Mattebox and numpy: black outside; "
            "OpenImageIO's convolve: the edge pixels repeated; Blender: renormalised over "
            "the taps inside)."
        )
    if isinstance(work, keying.KeyingWorkload):
        notes += keying.notes(case)
    if work.merge and work.half:
        notes.append(
            "max |Δ| of numpy and ImageBufAlgo is taken before the resize (the "
            "Merge result); oiiotool's and Blender's compare the half-size files, so "
            "it includes the resize filters (Mattebox: cubic, widened; oiiotool: "
            "cubic; Blender: bilinear)."
        )
    if work.layers:
        raw = case["width"] * case["height"] * len(aov.CHANNELS) * 2
        size = case.get("input_bytes", 0)
        notes.append(
            f"Input: one multi-layer EXR ({aov.INPUT_TYPE}, {aov.INPUT_COMPRESSION}, as "
            f"renderers write AOVs; the other workloads' inputs are uncompressed float; "
            f"{size / 1e6:.1f} MB, {raw / max(size, 1):.1f}× smaller than its pixels in half, "
            "as most of the frame is the empty outside of the disc) with "
            f"{len(aov.CHANNELS)} channels: R G B A and the layers "
            f"{', '.join(list(aov.LAYERS)[1:])} (bench/aov.py). Output: the same {len(aov.CHANNELS)} "
            f"channels, {aov.OUTPUT_TYPE}, {aov.OUTPUT_COMPRESSION}. numpy's disk → disk row "
            "reads and writes with OpenImageIO; the bandwidth floor counts the float32 bytes "
            "of the six lights and depth read and of the beauty RGB and the graded specular "
            "written (the other layers need not move)."
        )
        if any(r["tool"] == "Blender" and r["status"] == "ok" for r in case["rows"]):
            notes.append(
                "Blender: one Image node with an output per layer, Map Range, MixRGB MULTIPLY "
                "and ADD, Set Alpha, a multi-layer File Output node (see its note in the "
                "JSON); it writes 33 channels (an A for every colour layer, N as N.R N.G N.B "
                "N.A, depth as depth.V), compared by position."
            )
    blender_ran = any(r["tool"].startswith("Blender") and r["status"] == "ok" for r in case["rows"])
    if blender_ran and work.name in ("chain", "points") and len(work.ops) > 1:
        notes.append(
            "Blender's nodes are near equivalents, not the same formulas (HueSat "
            "saturation is HSV; see its note in the JSON), so its max |Δ| is large."
        )


# --------------------------------------------------------------------------- the run


def methods(ctx: Context) -> list[str]:
    """How each tool was driven, for the report."""
    threads = peers.cores()
    backend = ctx.versions.get("backend", ctx.args.backend)
    inputs = (
        "Inputs: random premultiplied RGBA float32 (seeded numpy): a plate with a soft disc "
        "of noisy colour over transparent black, and an opaque background, written as "
        "uncompressed float EXR to a temporary folder (compressed inputs would add each "
        "tool's decode time to the disk-to-disk rows). Sequence frames are hard links to "
        "four distinct plates."
    )
    mattebox = (
        f"Mattebox ({backend} backend), one fresh process per case, after a warm-up render "
        "(its time is reported apart): disk → disk is `graph.execute([write])` with the "
        "cache cleared before every repeat, so the inputs are read again; in memory is "
        "`render(graph, node, use_cache=False)` with the inputs decoded and cached and "
        "everything downstream recomputed. The disk → disk peak adds the peak of Mattebox's "
        "decoder process (a decoded image passes through shared memory, so it can count in "
        "both)."
    )
    oiiotool = (
        f"oiiotool (the OpenImageIO wheel's, `--threads {threads}`): one command per repeat, "
        f"timed from start to exit (its start-up alone, `oiiotool --version`, takes "
        f"{ctx.oiiotool_startup:.2f} s here and is in its times), reading and "
        "writing uncompressed float EXR. The blur is separable: Mattebox's exact weights "
        "(sigma = size/3, cut at ceil(size)) as a row and a column kernel image through "
        "`--convolve` twice (OpenImageIO's own `gaussian` of width w has sigma ≈ w/4 and "
        "stops at w/2, so no width gives the same kernel; a 2-D `--blur 31x31` is about 8× "
        "slower). Colour: `--colorconfig` with the same ACES 2.0 studio config (its bundled "
        "OCIO 2.5 reads it), `--colorconvert` and `--ociodisplay` with `unpremult=1`; the "
        "comp's resize is `--resize:filter=cubic`."
    )
    iba = (
        f"ImageBufAlgo from Python (`oiio.attribute('threads', {threads})`) on buffers "
        "already read into memory: the same operations as oiiotool, point ops in place."
    )
    numpy = (
        "numpy written the obvious way (one thread, inputs decoded): elementwise "
        "expressions, the blur as sums of shifted slices over the taps, OCIO through "
        "PyOpenColorIO's CPU processor (`applyRGBA` on unpremultiplied colour), half size "
        "as 2×2 box averages."
    )
    if ctx.blender:
        blender = (
            f"Blender {ctx.versions.get('blender', '')} (Debian's package), headless: "
            f"`blender -b --factory-startup -t {threads} -P bench/blender_driver.py`, a "
            "compositor node tree without a Render Layers node; the driver times each render "
            "disk to disk (images reloaded), Blender's start-up not included; the peak is the "
            "whole Blender process's. Its nodes are the nearest equivalents (its notes are in "
            "the JSON)."
        )
    else:
        blender = f"Blender: skipped ({ctx.blender_reason})."
    if ctx.versions.get("bpy"):
        blender += (
            f" Blender {ctx.versions['bpy']} (comp, points, blur, chain and keying): the `bpy` "
            f"module in its own Python, `taskset -c CPUS {ctx.bpy} bench/blender5_driver.py "
            "-- ...` (keying: bench/keying_blender.py), compositor device CPU, pinned to the "
            "same cores (the 5.x compositor ignores Blender's thread setting); timed as "
            "Blender 3.4 is. The summary line compares with the faster Blender."
        )
    floor = (
        "Bandwidth floor: the bytes a workload must move (read its inputs once, write its "
        f"output once) over the measured copy bandwidth ({ctx.bandwidth / 1e9:.1f} GB/s "
        "counting read + write; the faster of numpy's copyto and a numba parallel copy)."
    )
    columns = (
        "Columns: median and min–max of the timed runs (a tool stops repeating after "
        f"{ctx.budget:.0f} s); peak RSS is the process's high-water mark during the timed "
        "runs, 'above start' that peak less the RSS just before them (for Mattebox that is "
        "after its warm-up, so memory it keeps between renders is not 'above'); 'vs "
        "Mattebox' is the median over Mattebox's for the same kind of run; max |Δ| is the "
        "largest difference from Mattebox's pixels."
    )
    return [inputs, mattebox, oiiotool, iba, numpy, blender, floor, columns]


def parse_args(argv=None) -> argparse.Namespace:
    """The command line (``--case`` is the internal mode of a case process)."""
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument(
        "--quick",
        action="store_true",
        help="about a minute: the comp at 4K, the rest small and short",
    )
    parser.add_argument("--sizes", default="1080p,4K", help="1080p, 4K or WxH, comma-separated")
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help=f"comma-separated subset of {','.join(WORKLOADS)}",
    )
    parser.add_argument(
        "--repeat", type=int, default=0, help="timed runs per tool and case (default 5, quick 3)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=0,
        help="seconds after which a tool stops repeating (default 30, quick 2)",
    )
    parser.add_argument("--backend", default="auto", choices=("auto", "cpu", "gpu"))
    parser.add_argument("--no-blender", action="store_true", help="leave Blender out")
    parser.add_argument(
        "--bpy",
        help="a Python with Blender 5's bpy module (default: $MATTEBOX_BENCH_BPY; "
        "without it those rows are skipped)",
    )
    parser.add_argument(
        "--blender-driver", type=Path, default=peers.BLENDER_DRIVER, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="JSON results file (default bench/results/DATE-HOST-quick|full.json)",
    )
    parser.add_argument(
        "--docs", type=Path, help="regenerate the results section of this page (docs/benchmarks.md)"
    )
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: one case in this process
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the benchmark; 1 when Mattebox failed somewhere, else 0."""
    args = parse_args(argv)
    if args.case:
        return peers.case_main(args.case)
    started = time.perf_counter()
    plans, left_out = make_plans(args)
    mode = "quick" if args.quick else "full"
    print(f"Mattebox benchmark ({mode}): {len(plans)} cases", flush=True)
    ctx, machine, bandwidth, install_seconds = prepare(args)
    cases = []
    try:
        sizes = {op.params["size"] for p in plans for op in p.work.ops if op.type == "Blur"}
        ctx.kernel_files = workloads.write_kernel_files(ctx.folder, sorted(sizes))
        for plan in plans:
            cases.append(run_plan(ctx, plan))
            report.print_case(cases[-1])
    finally:
        shutil.rmtree(ctx.folder, ignore_errors=True)
    machine.update(
        backend=ctx.versions.get("backend", args.backend), blender=ctx.versions.get("blender", "")
    )
    data = {
        "mode": mode,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(["python bench/run.py", *(sys.argv[1:] if argv is None else argv)]),
        "machine": machine,
        "bandwidth": bandwidth,
        "wall_seconds": time.perf_counter() - started,
        "blender_install_seconds": install_seconds,
        "mattebox_first_render_seconds": ctx.first_seconds,
        "left_out": left_out,
        "methods": methods(ctx),
        "cases": cases,
        "summary": report.summary_line(cases),
        "summary_blenders": report.blenders_line(cases),
    }
    if any(case["workload"] == "aov" for case in cases):
        data["aov_summary"] = report.summary_line(cases, "aov", "aov rebuild")
    if any(case["workload"] == "keying" for case in cases):
        data["keying_summary"] = keying.summary_line(cases)
    write_results(args, data)
    if ctx.mattebox_failed:
        print("Mattebox failed in at least one case (see above)")
    print(data["summary"])
    for key in ("summary_blenders", "aov_summary", "keying_summary"):
        if data.get(key):
            print(data[key])
    return 1 if ctx.mattebox_failed else 0


def prepare(args) -> tuple[Context, dict, dict, float]:
    """Blender (installed if need be), the copy bandwidth, the machine, a temporary folder."""
    blender, reason, install_seconds = peers.find_blender(not args.no_blender, args.blender_driver)
    if blender is None:
        print(f"blender skipped: {reason}", flush=True)
    bandwidth = peers.copy_bandwidth()
    machine = report.machine_info()
    machine.update(
        oiiotool=peers.oiiotool_version(),
        oiiotool_startup_seconds=peers.oiiotool_startup(),
        bandwidth=bandwidth["bytes_per_second"],
    )
    bpy_python, bpy_reason = keying.find_bpy(args.bpy)
    ctx = Context(
        args,
        Path(tempfile.mkdtemp(prefix="mattebox-bench-")),
        args.repeat or (3 if args.quick else 5),
        args.budget or (2.0 if args.quick else 30.0),
        bandwidth["bytes_per_second"],
        blender,
        reason,
        bpy=bpy_python,
        bpy_reason=bpy_reason,
        oiiotool_startup=machine["oiiotool_startup_seconds"],
    )
    return ctx, machine, bandwidth, install_seconds


def write_results(args, data: dict) -> None:
    """The JSON file, the summary of chain lengths, the machine, and the docs page."""
    name = f"{datetime.date.today()}-{socket.gethostname()}-{data['mode']}.json"
    out = args.out or ROOT / "bench" / "results" / name
    report.write_json(out, data)
    print()
    for line in report.chain_table_lines(data["cases"]):
        print(line)
    print(report.machine_line(data["machine"]))
    if data["left_out"]:
        print("quick mode left out: " + "; ".join(data["left_out"]))
    install = data["blender_install_seconds"]
    print(
        f"wall time {data['wall_seconds']:.0f} s (Mattebox's warm-up renders, which load or "
        f"compile kernels: {sum(data['mattebox_first_render_seconds']):.1f} s of it"
        + (f"; installing Blender: {install:.0f} s" if install else "")
        + f"); results: {out}"
    )
    if args.docs:
        plot = args.docs.parent / "images" / "bench-chain.png"
        has_plot = report.plot_chain(data["cases"], plot)
        section = report.markdown_section(data, plot if has_plot else None, args.docs)
        report.update_docs(args.docs, section)
        print(f"updated {args.docs}" + (f" and {plot}" if has_plot else ""))


if __name__ == "__main__":
    sys.exit(main())
