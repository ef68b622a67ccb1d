"""Playback figures: cached 1080p playback, and the first pass over 100 frames of the
example comp, through the real editor window (offscreen Qt).

    QT_QPA_PLATFORM=offscreen python bench/playback.py [--cached-frames 48] [--frames 100]
                                                       [--json bench/results/NAME.json]

1. **Cached 1080p.** A 1920x1080 script (Constant -> Grade with its gain keyed on every
   frame, so no two frames share a flipbook entry) is viewed at 1:1 in a window large
   enough to show the whole format, so the flipbook holds full-size 1920x1080 display
   frames. Playback fills the cache; then three numbers of the display step alone:
   showing a cached frame and painting the canvas, timed frame by frame
   (``Viewer.show_cached`` + ``Canvas.repaint``); the rate the playback clock reaches
   with a target it cannot reach (1000 fps); and the rate it reaches at 24 fps.
2. **First pass.** ``resources/examples/comp.mbx`` has frames 1-3, so a temporary folder
   gets 100 links ``plate.0001.exr`` .. ``plate.0100.exr`` to the three plate frames in
   turn (every frame a file of its own: a new path, so a new hash and a real decode) and
   the background; the script is copied there with the range 1-100. After one warm-up
   render (kernels compiled or loaded from the disk cache), the engine cache and the
   flipbook are emptied and playback runs once from frame 1 (Once, so it stops at 100):
   the time until frame 100 is shown, with the decoders reading ahead
   (``render.prefetch_reads``) and without.

The machine's load (``uptime``) is printed before and after, since others share it.
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

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore, QtWidgets

import mattebox as mb
from mattebox.app.main import application
from mattebox.engine import render
from mattebox.nodes.spec import Format

EXAMPLES = ROOT / "resources" / "examples"


def uptime() -> str:
    """The load line of ``uptime``."""
    done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def pump_until(predicate, timeout: float = 600.0) -> float:
    """Run the event loop until ``predicate()``; returns the seconds it took."""
    app = QtWidgets.QApplication.instance()
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"not done after {timeout:.0f} s")
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)
    return time.perf_counter() - start


def make_window(width: int, height: int):
    from mattebox.app.window import MainWindow

    application()
    path = Path(tempfile.mkdtemp(prefix="mattebox-bench-")) / "settings.ini"
    settings = QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, autosave_interval=0)
    window.resize(width, height)
    window.show()
    return window


def quiet(window) -> None:
    """Wait until the viewer and its flipbook job have nothing left to do."""
    renderer = window.viewer.renderer
    pump_until(lambda: window.viewer.is_idle() and renderer.ahead_idle)


def graph_1080p(frames: int) -> mb.Graph:
    graph = mb.Graph()
    graph.settings.format = Format(1920, 1080)
    graph.settings.frame_range = (1, frames)
    graph.settings.fps = 24.0
    constant = graph.add("Constant", color=[0.18, 0.3, 0.45, 1.0])
    grade = graph.add("Grade", inputs={"Source": constant})
    grade["gain"] = {
        "keys": [[f, 0.5 + f / frames] for f in range(1, frames + 1)],
        "interpolation": "linear",
    }
    graph.ui["viewer"] = {"inputs": ["Grade1", None, None, None, None], "active": 0}
    return graph


def cached_1080p(frames: int) -> dict:
    window = make_window(2700, 1500)
    window.split.setSizes([1400, 100])
    window.side.setSizes([2450, 250])
    window.doc.set_graph(graph_1080p(frames))
    viewer, playback = window.viewer, window.playback
    quiet(window)
    viewer.canvas.one_to_one()
    viewer.canvas.center = QtCore.QPointF(960, 540)
    viewer.canvas.view_changed.emit()
    quiet(window)
    all_frames = set(range(1, frames + 1))
    window.doc.graph.settings.fps = 1000.0
    window.frame_bar.set_frame(1)
    playback.play(1)
    fill = pump_until(lambda: viewer.flipbook.cached_frames() >= all_frames)
    playback.stop()
    quiet(window)
    shape = viewer.flipbook.frame(1).layers[0].display.shape
    # the display step alone, frame by frame
    steps = []
    for _ in range(3):
        for frame in range(1, frames + 1):
            start = time.perf_counter()
            viewer.show_cached(frame)
            viewer.canvas.repaint()
            steps.append(time.perf_counter() - start)
    steps.sort()
    # the clock, unreachable target, then the script's rate
    rates = {}
    for fps, seconds in ((1000.0, 4.0), (24.0, 4.0)):
        window.doc.graph.settings.fps = fps
        shown = []

        def note(_frame, shown=shown):
            shown.append(time.perf_counter())

        window.frame_bar.frame_changed.connect(note)
        playback.play(1)
        pump_until(lambda shown=shown, s=seconds: shown and shown[-1] - shown[0] >= s)
        playback.stop()
        window.frame_bar.frame_changed.disconnect(note)
        rates[fps] = (len(shown) - 1) / (shown[-1] - shown[0])
    window.close()
    return {
        "frames": frames,
        "display_shape": list(shape),
        "fill_seconds": round(fill, 2),
        "display_step_ms_median": round(1000 * steps[len(steps) // 2], 2),
        "display_step_ms_p90": round(1000 * steps[int(len(steps) * 0.9)], 2),
        "display_step_fps": round(1 / steps[len(steps) // 2], 1),
        "clock_fps_target_1000": round(rates[1000.0], 1),
        "clock_fps_target_24": round(rates[24.0], 2),
    }


def comp_folder(frames: int) -> Path:
    """A copy of the example comp over ``frames`` frames (plate frames linked in turn)."""
    folder = Path(tempfile.mkdtemp(prefix="mattebox-playback-"))
    plates = sorted(EXAMPLES.glob("plate.*.exr"))
    for frame in range(1, frames + 1):
        (folder / f"plate.{frame:04d}.exr").symlink_to(plates[(frame - 1) % len(plates)])
    (folder / "background.exr").symlink_to(EXAMPLES / "background.exr")
    script = json.loads((EXAMPLES / "comp.mbx").read_text())
    script["settings"]["frame_range"] = [1, frames]
    (folder / "comp.mbx").write_text(json.dumps(script))
    return folder


def first_pass(frames: int, prefetch: bool) -> dict:
    folder = comp_folder(frames)
    window = make_window(1600, 1000)
    window.open_script(str(folder / "comp.mbx"), offer_recovery=False)
    viewer, playback = window.viewer, window.playback
    quiet(window)  # frame 1 rendered: kernels compiled or loaded
    real = render.prefetch_reads
    if not prefetch:
        render.prefetch_reads = lambda *args, **kwargs: []
    try:
        render.session().cache.clear()
        viewer.flipbook.clear()
        window.frame_bar.set_loop(False)
        window.frame_bar.set_frame(1)
        quiet(window)
        render.session().cache.clear()
        viewer.flipbook.clear()
        start = time.perf_counter()
        playback.play(1)
        pump_until(lambda: not playback.playing)
        seconds = time.perf_counter() - start
        assert window.frame_bar.frame == frames
    finally:
        render.prefetch_reads = real
    first = viewer.flipbook.frame(1).layers[0].display.shape
    window.close()
    return {
        "frames": frames,
        "prefetch": prefetch,
        "display_shape": list(first),
        "seconds": round(seconds, 2),
        "frames_per_second": round(frames / seconds, 2),
        "backend": render.backend_for("auto").name,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cached-frames", type=int, default=48)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--json", default="")
    args = parser.parse_args(argv)
    result = {"load_before": uptime()}
    print("load before:", result["load_before"], flush=True)
    result["cached_1080p"] = cached_1080p(args.cached_frames)
    print("cached 1080p:", result["cached_1080p"], flush=True)
    result["first_pass"] = [first_pass(args.frames, p) for p in (True, False, True, False)]
    for row in result["first_pass"]:
        print("first pass:", row, flush=True)
    result["load_after"] = uptime()
    print("load after:", result["load_after"])
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
