"""Slider-to-pixels latency of the real editor (issue 13, item 6).

    QT_QPA_PLATFORM=offscreen python bench/latency.py [--sizes 1080p 4K] [--backends cpu gpu]
                                                      [--steps 50] [--json PATH]

or, on a display server of its own (the same figures with xcb's painting):

    xvfb-run -a -s "-screen 0 1600x1000x24" python bench/latency.py --platform xcb

The comp is the one the issue times through the API: a plate (Read of an EXR, ACEScg) →
Grade → Blur 15 → over a background Read, viewed through the ACES 2.0 SDR view of
"sRGB - Display" (the viewer's display transform), at 1080p and at 4K. A 1600×1000
MainWindow shows it fitted in the viewer, so the viewer picks its proxy level and
reduction as it does for an artist (4K: proxy 4, a draft at proxy 8 while a slider is
dragged). Grade1 is shown in the properties panel; its ``gain`` slider (the panel's own
``_Slider``) is pressed (``setSliderDown``: the viewer switches to drafts), moved to 50
positions (``setValue``, what a drag's mouse moves do: ``valueChanged`` → the panel's
edit → an undo command → the document's change → the viewer's request), and released.

A step's latency runs from the ``setValue`` to the end of the first ``paintEvent`` of the
viewer's canvas that shows a render of that graph revision or a later one. Two ways:

* **step**: each move waits for its pixels before the next; the time of each part is
  then that step's alone: *render* (``render.render``, or ``render_on_device``: the
  engine), *display* (the viewer's reduction to screen size and the OCIO display
  transform; on the GPU the display step on the device, 8-bit pixels back), *evaluate*
  (the viewer's ``info_of``, and ``layers_of`` where the properties panel asks: the
  graph evaluated, nothing computed),
  *to screen* (``Canvas.set_layers``: display pixels into a QImage), *paint*
  (``Canvas.paintEvent``) and *Qt* (the time no part covers: signals, timers, the undo
  command, the snapshot of the graph, the thread's wake-up). Parts of the two threads
  can overlap (the render thread starts while the main thread repaints), so they may
  add up to more than the step.
* **drag**: moves at 60 Hz, as a mouse drag sends them, whatever the viewer does; a
  render in progress during a drag finishes (the viewer keeps following) and the newest
  value renders next, so a step's pixels may wait for a render of an older value.

Each backend runs in the same window (the viewer's ``backend``). A software GPU adapter
(lavapipe) runs the GPU backend on the CPU: its figures say nothing about a GPU and are
labelled so. Results: printed, and with ``--json`` written there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sampler import Sampler

PARTS = ("render", "display", "evaluate", "to screen", "paint", "Qt")
SIZES = {"1080p": (1920, 1080), "4K": (3840, 2160)}
WINDOW = (1600, 1000)
DRAG_HZ = 60.0
GAIN_FROM, GAIN_TO = 1.0, 1.6
#: The views timed: the ACES 2.0 SDR view (the costly one: a tone scale and gamut
#: compression per pixel) and Un-tone-mapped (a matrix and a curve), which shows the
#: rest of the path with a cheap display transform.
VIEWS = ("ACES 2.0 - SDR 100 nits (Rec.709)", "Un-tone-mapped")
#: How the bench waits for the editor: "block" (in the event loop, as the editor does)
#: or "spin" (``processEvents`` in a loop; see :func:`pump`).
PUMP = "block"
#: The slider positions of the range are dealt to three lanes (warm-up, step, drag), so
#: that no run shows a value an earlier run rendered: a value seen before comes back
#: from the render cache and would time nothing.
LANES = {"warm": 0, "step": 1, "drag": 2}


def uptime() -> str:
    done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, linearly interpolated."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --------------------------------------------------------------------------- the probe


@dataclass
class Probe:
    """Time intervals of the instrumented functions, and each canvas paint with the
    graph revision it showed."""

    intervals: list[tuple[str, float, float]] = field(default_factory=list)
    paints: list[tuple[float, int]] = field(default_factory=list)
    #: the hand-overs between threads: (name, start, end) of the viewer's request (main
    #: thread), the render thread's work, and the viewer's taking of its result (main)
    marks: list[tuple[str, float, float]] = field(default_factory=list)
    viewer: object = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, part: str, start: float, end: float) -> None:
        with self.lock:
            self.intervals.append((part, start, end))

    def mark(self, name: str, start: float, end: float) -> None:
        with self.lock:
            self.marks.append((name, start, end))

    def clear(self) -> None:
        with self.lock:
            self.intervals.clear()
            self.paints.clear()
            self.marks.clear()

    def path_of(self, start: float, end: float, edited: float) -> dict[str, float] | None:
        """Where a step's time went between the threads, for the step from ``start`` to
        the paint ending at ``end``: *edit* (``setValue`` until it returns at ``edited``:
        the properties panel, the undo command, the document's change), *queue* (to the
        viewer's request: the event loop's turn to deliver the viewer's posted call),
        *request* (the viewer making its request), *wake* (to the
        render thread's start), *work* (the render thread's whole job: render, display,
        evaluate and the rest), *back* (its result's signal to the main thread), *show*
        (the viewer taking the result, to the start of the paint) and *paint*. None where
        the step's marks are not all there."""
        with self.lock:
            marks = list(self.marks)
        requests = [m for m in marks if m[0] == "request" and start <= m[1] <= end]
        works = [m for m in marks if m[0] == "work" and start <= m[1] and m[2] <= end]
        taken = [m for m in marks if m[0] == "taken" and start <= m[1] <= end]
        if not (requests and works and taken):
            return None
        work = works[-1]  # the job whose result the paint shows
        request = max((m for m in requests if m[2] <= work[1]), default=None, key=lambda m: m[1])
        took = min((m for m in taken if m[1] >= work[2]), default=None, key=lambda m: m[1])
        paints = self.paint_intervals(end)
        paint = paints[0] if paints else None
        if request is None or took is None or paint is None:
            return None
        return {
            "edit": edited - start,
            "queue": requests[0][1] - edited,
            "request": request[2] - request[1],
            "wake": work[1] - request[2],
            "work": work[2] - work[1],
            "back": took[1] - work[2],
            "show": paint[0] - took[1],
            "paint": end - paint[0],
        }

    def paint_intervals(self, end: float) -> list[tuple[float, float]]:
        with self.lock:
            return [(b, f) for part, b, f in self.intervals if part == "paint" and f == end]

    def shown_revision(self) -> int:
        result = getattr(self.viewer, "last_result", None)
        graph = result.request.graph if result is not None else None
        return graph.revision if graph is not None else -1

    def parts_within(self, start: float, end: float) -> tuple[dict[str, float], float]:
        """Seconds of each part inside ``[start, end]``, and the seconds that any part
        covers (parts on the main thread and on the render thread can run at once: the
        render thread starts while the main thread repaints the edited widgets)."""
        totals = dict.fromkeys(PARTS, 0.0)
        spans = []
        with self.lock:
            for part, begin, finish in self.intervals:
                lo, hi = max(start, begin), min(end, finish)
                if hi > lo:
                    totals[part] += hi - lo
                    spans.append((lo, hi))
        covered, reach = 0.0, start
        for lo, hi in sorted(spans):
            if hi > reach:
                covered += hi - max(lo, reach)
                reach = hi
        return totals, covered


def _timed(probe: Probe, part: str, func):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            probe.note(part, start, time.perf_counter())

    timed.__wrapped__ = func
    return timed


def _marked(probe: Probe, name: str, func):
    def marked(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            probe.mark(name, start, time.perf_counter())

    marked.__wrapped__ = func
    return marked


def _gpu_backend_class() -> list:
    """The GPU backend's class, where wgpu is installed (its ``display`` runs the
    viewer's display step on the device)."""
    try:
        from mattebox.engine.backends.gpu.backend import GpuBackend
    except ImportError:
        return []
    return [GpuBackend]


@contextmanager
def instrumented(probe: Probe):
    """Wrap the functions the viewer's path calls (module and class attributes, looked
    up at each call), and put them back afterwards."""
    from mattebox.app.viewer_canvas import Canvas
    from mattebox.engine import render
    from mattebox.engine import viewer as engine_viewer

    def paint(self, event, original=Canvas.paintEvent):
        start = time.perf_counter()
        original(self, event)
        end = time.perf_counter()
        probe.note("paint", start, end)
        with probe.lock:
            probe.paints.append((end, probe.shown_revision()))

    from mattebox.app.render_worker import ViewerRenderer
    from mattebox.app.viewer import Viewer

    targets = [
        (Viewer, "_request", _marked(probe, "request", Viewer._request)),
        (Viewer, "_on_rendered", _marked(probe, "taken", Viewer._on_rendered)),
        (ViewerRenderer, "_work", _marked(probe, "work", ViewerRenderer._work)),
        (render, "render", _timed(probe, "render", render.render)),
        (render, "layers_of", _timed(probe, "evaluate", render.layers_of)),
        (engine_viewer, "info_of", _timed(probe, "evaluate", engine_viewer.info_of)),
        (engine_viewer, "reduce", _timed(probe, "display", engine_viewer.reduce)),
        (engine_viewer, "display_image", _timed(probe, "display", engine_viewer.display_image)),
        (Canvas, "set_layers", _timed(probe, "to screen", Canvas.set_layers)),
        (Canvas, "paintEvent", paint),
    ]
    if hasattr(render, "render_on_device"):  # the viewer's GPU path (issue 13, item 5)
        from mattebox.engine.backends.base import Backend

        on_device = _timed(probe, "render", render.render_on_device)
        targets.append((render, "render_on_device", on_device))
        backends = [Backend, *_gpu_backend_class()]
        targets += [(b, "display", _timed(probe, "display", b.display)) for b in backends]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]
    for owner, name, wrapped in targets:
        setattr(owner, name, wrapped)
    try:
        yield probe
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


# --------------------------------------------------------------------------- the editor


def pump(seconds: float = 0.0) -> None:
    """Run the event loop for ``seconds``, blocked in it between events as the editor's
    own loop is (``--pump spin`` instead calls ``processEvents`` in a loop, as this bench
    did before: that holds the GIL against the viewer's render thread, whose every wgpu
    call releases and retakes it, and on a 16-core GPU machine it made the render thread
    several times slower than in the editor)."""
    from PySide6 import QtCore, QtWidgets

    if PUMP == "spin":
        app = QtWidgets.QApplication.instance()
        end = time.perf_counter() + seconds
        while True:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 2)
            if time.perf_counter() >= end:
                return
    loop = QtCore.QEventLoop()
    timer = QtCore.QTimer()
    timer.setSingleShot(True)
    timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    timer.timeout.connect(loop.quit)
    timer.start(max(0, round(seconds * 1000)))
    loop.exec()


def pump_until(predicate, timeout: float = 600.0) -> float:
    """Run the event loop until ``predicate()`` holds (checked every millisecond; the
    times themselves come from the probe, not from this check)."""
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"not done after {timeout:.0f} s")
        pump(0.001)
    return time.perf_counter() - start


def comp(folder: Path, size: str):
    """The bench comp at ``size`` reading EXRs written into ``folder``."""
    import mattebox as mb
    from bench import workloads

    width, height = SIZES[size]
    paths = workloads.make_inputs(folder, width, height)
    g = mb.Graph()
    g.settings.ocio_config = workloads.CONFIG
    g.settings.format = mb.Format(width, height)
    plate = g.add("Read", file=str(paths["plate"]), colorspace="ACEScg")
    grade = g.add("Grade", inputs={"Source": plate}, gain=GAIN_FROM, gamma=1.1)
    blur = g.add("Blur", inputs={"Source": grade}, size=15.0)
    bg = g.add("Read", file=str(paths["bg"]), colorspace="ACEScg")
    over = g.add("Merge", inputs={"B": bg, "A": blur}, operation="over")
    g.ui["viewer"] = {
        "inputs": [over.name, None, None, None, None],
        "active": 0,
        "display": workloads.DISPLAY,
        "view": workloads.VIEW,
    }
    return g


def make_window():
    from PySide6 import QtCore

    from mattebox.app.main import application
    from mattebox.app.window import MainWindow

    application()
    state = Path(tempfile.mkdtemp(prefix="mattebox-latency-"))
    os.environ["MATTEBOX_STATE_DIR"] = str(state / "state")
    settings = QtCore.QSettings(str(state / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, autosave_interval=0)
    window.ask_save_changes = lambda: "discard"  # closing asks nothing
    window.ask_recover = lambda backup: False
    window.resize(*WINDOW)
    window.show()
    return window


def quiet(window) -> None:
    viewer = window.viewer
    pump_until(lambda: viewer.is_idle() and viewer.renderer.ahead_idle)
    pump(0.05)  # the last paint


def slider_positions(slider, steps: int, forward: bool = True, lane: int = 0) -> list[int]:
    """``steps`` slider positions for gain values from GAIN_FROM towards GAIN_TO (or
    back), spread over the range, all distinct, and only positions of ``lane``: every
    ``len(LANES)``-th position, so that the lanes share none."""
    from mattebox.app.properties import SLIDER_STEPS

    def position(value: float) -> int:
        return round((value - slider.lo) / (slider.hi - slider.lo) * SLIDER_STEPS)

    first, last = position(GAIN_FROM), position(GAIN_TO)
    mine = list(range(first + 1 + lane, last + 1, len(LANES)))
    if len(mine) < steps:
        raise ValueError(f"the slider has only {len(mine)} positions for each run")
    if steps == 1:
        out = [mine[-1]]
    else:
        out = [mine[round(i * (len(mine) - 1) / (steps - 1))] for i in range(steps)]
    return out if forward else out[::-1]


def drag(
    window, probe: Probe, steps: int, mode: str, forward: bool, lane: str
) -> tuple[list, dict]:
    """One slider drag of ``steps`` moves (up from GAIN_FROM, or down from GAIN_TO);
    returns each step's record and the levels of the last draft shown."""
    slider = window.properties.rows["gain"].editor.slider
    root = window.doc.root
    positions = slider_positions(slider, steps, forward, LANES[lane])
    slider.setSliderDown(True)  # sliderPressed: the viewer renders drafts from now on
    quiet(window)
    probe.clear()
    records = []
    period = 1.0 / DRAG_HZ
    next_tick = time.perf_counter()
    for position in positions:
        if mode == "drag":
            while time.perf_counter() < next_tick:
                pump(max(0.0, next_tick - time.perf_counter()))
            next_tick += period
        start = time.perf_counter()
        slider.setValue(position)  # valueChanged -> the panel's edit, as a mouse move does
        edited = time.perf_counter()
        revision = root.revision
        records.append({"start": start, "edited": edited, "revision": revision})
        if mode == "step":
            pump_until(lambda r=revision: any(rev >= r for _, rev in probe.paints))
    last = records[-1]["revision"]
    pump_until(lambda: any(rev >= last for _, rev in probe.paints))
    for record in records:
        shown = [end for end, rev in probe.paints if rev >= record["revision"]]
        shown = [end for end in shown if end >= record["start"]]
        record["end"] = min(shown)
        record["latency"] = record["end"] - record["start"]
        if mode == "step":
            parts, covered = probe.parts_within(record["start"], record["end"])
            parts["Qt"] = max(0.0, record["latency"] - covered)  # the time no part covers
            record["parts"], record["covered"] = parts, covered
            record["path"] = probe.path_of(record["start"], record["end"], record["edited"])
    levels = shown_levels(window)
    slider.setSliderDown(False)  # released: the viewer refines (not timed)
    quiet(window)
    return records, levels


def shown_levels(window) -> dict:
    """The proxy level, reduction and display size of the viewer's last draft render."""
    result = window.viewer.last_result
    layer = result.layers[0]
    return {
        "proxy": result.request.proxy,
        "reduction": result.request.reduction,
        "draft": result.request.draft,
        "display_shape": list(layer.display.shape[:2]) if layer.display is not None else None,
        "zoom": round(window.viewer.canvas.zoom, 4),
        "error": layer.error,
    }


def summarise(records: list[dict]) -> dict:
    latencies = [r["latency"] * 1000 for r in records]
    out = {
        "steps": len(records),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
    }
    if "parts" in records[0]:
        out["parts_median_ms"] = {
            part: round(statistics.median(r["parts"][part] * 1000 for r in records), 1)
            for part in PARTS
        }
        out["parts_mean_ms"] = {
            part: round(statistics.fmean(r["parts"][part] * 1000 for r in records), 1)
            for part in PARTS
        }
        paths = [r["path"] for r in records if r.get("path")]
        if paths:
            out["path_median_ms"] = {
                name: round(statistics.median(p[name] * 1000 for p in paths), 2)
                for name in paths[0]
            }
            out["path_steps"] = len(paths)
    return out


def backend_label(name: str) -> tuple[str, bool]:
    """The backend's device in words, and whether its times mean anything for it."""
    from mattebox.engine.backends import detect

    if name == "cpu":
        return f"CPU, numba, {os.cpu_count()} cores", True
    if not detect.available("gpu"):
        return f"no GPU: {detect.why_unavailable('gpu')}", False
    adapter = detect.gpu_adapter()
    if adapter.software:
        return f"{adapter.name} (software adapter: not a GPU figure)", False
    return f"{adapter.name} ({adapter.type}, {adapter.api})", True


def run_case(size: str, backends: list[str], steps: int, folder: Path, views=VIEWS) -> dict:
    from mattebox.engine import render

    out = {"size": size, "width": SIZES[size][0], "height": SIZES[size][1], "backends": {}}
    probe = Probe()
    with instrumented(probe):  # before the window: its canvas paints through the wrapper
        window = make_window()
        probe.viewer = window.viewer
        try:
            window.doc.set_graph(comp(folder / size, size))
            window.properties.show_node("Grade1")
            for name in backends:
                label, meaningful = backend_label(name)
                if name == "gpu" and "no GPU" in label:
                    out["backends"][name] = {"device": label, "skipped": True}
                    continue
                window.viewer.backend = name
                render.session().cache.clear()
                for view in views:
                    window.viewer.set_view(view)
                    quiet(window)  # decodes, first render, kernels compiled or loaded
                    _, warm = drag(window, probe, 8, "step", True, "warm")  # drafts, hot nodes made
                    if warm["error"]:
                        raise RuntimeError(f"the viewer shows an error: {warm['error']}")
                    row = {"device": label, "meaningful": meaningful, "view": view}
                    step, row["levels"] = drag(window, probe, steps, "step", False, "step")
                    row["step"] = summarise(step)
                    row["drag"] = summarise(drag(window, probe, steps, "drag", True, "drag")[0])
                    out["backends"][f"{name} {view}"] = row
                    print(f"{size} {name} {view}: {json.dumps(row)}", flush=True)
        finally:
            window.viewer.shutdown()
            window.close()
            window.deleteLater()
            pump(0.05)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--backends", nargs="+", default=["cpu", "gpu"], choices=["cpu", "gpu"])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--views", nargs="+", default=list(VIEWS), help="views of sRGB - Display")
    parser.add_argument("--platform", default="offscreen", help="Qt platform (offscreen, xcb)")
    parser.add_argument("--pump", choices=["block", "spin"], default=PUMP, help="see pump()")
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=0.0,
        help="Python's thread switch interval in seconds (sys.setswitchinterval; default: "
        "Python's own, 0.005)",
    )
    parser.add_argument("--json", default="")
    parser.add_argument(
        "--sample", default="", help="write a stack sample report (bench/sampler.py) here"
    )
    args = parser.parse_args(argv)
    globals()["PUMP"] = args.pump
    if args.switch_interval > 0:
        sys.setswitchinterval(args.switch_interval)
    os.environ["QT_QPA_PLATFORM"] = args.platform
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": platform.node(),
        "cpus": os.cpu_count(),
        "qt_platform": args.platform,
        "window": list(WINDOW),
        "drag_hz": DRAG_HZ,
        "pump": args.pump,
        "switch_interval": sys.getswitchinterval(),
        "load_before": uptime(),
        "cases": [],
    }
    print("load before:", result["load_before"], flush=True)
    folder = Path(tempfile.mkdtemp(prefix="mattebox-latency-plates-"))
    sampler = Sampler() if args.sample else nullcontext()
    try:
        with sampler:
            for size in args.sizes:
                case = run_case(size, args.backends, args.steps, folder, args.views)
                result["cases"].append(case)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.sample:
        Path(args.sample).write_text(sampler.report() + "\n")
    result["load_after"] = uptime()
    print("load after:", result["load_after"], flush=True)
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


def table(result: dict) -> str:
    """The figures as a Markdown table (docs/benchmarks.md)."""
    lines = [
        "| comp | backend, view | viewer levels (draft) | step p50 / p95 | drag p50 / p95 | "
        + " | ".join(PARTS)
        + " |",
        "|---|---|---|---:|---:|" + "---:|" * len(PARTS),
    ]
    for case in result["cases"]:
        for name, row in case["backends"].items():
            if row.get("skipped"):
                lines.append(f"| {case['size']} | {name} | {row['device']} |" + " |" * 7)
                continue
            levels = row["levels"]
            parts = row["step"]["parts_median_ms"]
            shape = levels["display_shape"]
            lines.append(
                f"| {case['size']} | {name}{'' if row['meaningful'] else ' (software)'} "
                f"| proxy {levels['proxy']}, reduction {levels['reduction']}, "
                f"{shape[1]}×{shape[0]} shown "
                f"| {row['step']['p50_ms']:.0f} / {row['step']['p95_ms']:.0f} ms "
                f"| {row['drag']['p50_ms']:.0f} / {row['drag']['p95_ms']:.0f} ms | "
                + " | ".join(f"{parts[p]:.1f}" for p in PARTS)
                + " |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
