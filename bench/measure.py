"""Timing and peak memory: of code in this process, and of child processes.

In-process work (Mattebox, numpy, ImageBufAlgo) runs in a fresh process per case, so its
peak resident set size (Linux's VmHWM) belongs to that case alone. The peak is reset
before the timed runs by writing 5 to ``/proc/self/clear_refs`` (VmHWM becomes the
current RSS), so it also gives "peak above baseline": the memory the timed work itself
took. Child processes (oiiotool, Blender, ``mattebox render``) are measured with
``os.wait4``'s ``ru_maxrss``.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass


def summary(times: list[float]) -> dict:
    """Median, min and max of a list of seconds (empty dict for no times)."""
    if not times:
        return {}
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "runs": len(times),
    }


def _status_kib(pid: int | str, key: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/PID/status, in KiB (0 if unreadable)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _child_pids() -> list[int]:
    """This process's live children (Mattebox's decoder process among them)."""
    try:
        import psutil
    except ImportError:
        return []
    return [child.pid for child in psutil.Process().children(recursive=True)]


class PeakMemory:
    """Peak resident memory of this process and of its children, resettable.

    Children are the processes alive at :meth:`reset` and at :meth:`read` (Mattebox
    decodes files in a worker process; its pixels come back through shared memory, so
    the same bytes can be counted in both processes for a moment).
    """

    def __init__(self) -> None:
        self.supported = os.path.exists("/proc/self/clear_refs")
        self.baseline = 0
        self.children_baseline = 0

    def reset(self) -> None:
        for pid in ["self", *_child_pids()]:
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as handle:
                    handle.write("5")
            except OSError:
                pass
        self.baseline = _status_kib("self", "VmRSS") * 1024
        self.children_baseline = sum(_status_kib(p, "VmRSS") for p in _child_pids()) * 1024

    def read(self) -> dict:
        """Peak RSS since :meth:`reset` (bytes): this process, its children, and above the
        RSS this process had at the reset."""
        peak = _status_kib("self", "VmHWM") * 1024
        children = sum(_status_kib(p, "VmHWM") for p in _child_pids()) * 1024
        return {
            "peak_rss": peak,
            "peak_above_baseline": max(peak - self.baseline, 0),
            "rss_before": self.baseline,
            "children_peak_rss": children,
            "peak_supported": self.supported,
        }


def time_repeats(run: Callable[[], object], repeat: int, budget: float) -> list[float]:
    """Seconds of up to ``repeat`` calls of ``run``; stops early (after at least one)
    once ``budget`` seconds have been spent."""
    times: list[float] = []
    while len(times) < repeat:
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
        if sum(times) >= budget:
            break
    return times


def measure(run: Callable[[], object], repeat: int, budget: float) -> dict:
    """Time ``run`` (already warm) and the peak memory of the timed calls."""
    memory = PeakMemory()
    memory.reset()
    times = time_repeats(run, repeat, budget)
    return {"times": times, **summary(times), **memory.read()}


EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Exit)\b.*:")


@dataclass
class ProcessRun:
    """One finished child process: wall seconds, peak RSS, exit status, output."""

    seconds: float
    peak_rss: int
    returncode: int
    stdout: str
    stderr: str

    def problem(self) -> str:
        """One line saying what went wrong: the last exception line of stderr (a Python
        traceback's, or numba's before its notes), else its last line, else stdout's."""
        for text in (self.stderr, self.stdout):
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            raised = [line for line in lines if EXCEPTION_LINE.match(line)]
            if raised or lines:
                return (raised or lines)[-1][:300]
        return f"exit status {self.returncode}"


# Runs the command and reports its wall time and ru_maxrss. A child's ru_maxrss counts
# the memory of the process it was forked from until its exec, so the command is started
# from this small interpreter rather than from the benchmark's large one.
LAUNCHER = """
import json, os, sys, time
report, command = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
try:
    pid = os.posix_spawnp(command[0], command, os.environ)
except OSError as error:
    print(f"cannot run {command[0]}: {error}", file=sys.stderr)
    sys.exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as handle:
    json.dump({"seconds": seconds, "maxrss_kib": usage.ru_maxrss}, handle)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_process(
    command: list[str], env: dict | None = None, timeout: float = 3600, cwd: str | None = None
) -> ProcessRun:
    """Run ``command`` to the end: its wall time and its own peak RSS (``wait4``)."""
    with tempfile.TemporaryDirectory() as folder:
        report = os.path.join(folder, "run.json")
        out_path, err_path = os.path.join(folder, "out"), os.path.join(folder, "err")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            launcher = [sys.executable, "-S", "-c", LAUNCHER, report, *command]
            try:
                done = subprocess.run(
                    launcher, stdout=out, stderr=err, env=env, cwd=cwd, timeout=timeout, check=False
                )
                code = done.returncode
            except subprocess.TimeoutExpired:
                code = -9
        with open(out_path) as out, open(err_path) as err:
            stdout, stderr = out.read(), err.read()
        if code == -9:
            stderr += f"\ntimed out after {timeout:.0f} s"
        seconds, peak = 0.0, 0
        if os.path.exists(report):
            with open(report) as handle:
                data = json.load(handle)
            seconds, peak = data["seconds"], data["maxrss_kib"] * 1024
        return ProcessRun(seconds, peak, code, stdout, stderr)


def run_driver(command: list[str], report) -> tuple[dict, object]:
    """Run a Blender driver that writes its JSON ``report`` (a Path), then remove the
    report: ``(data, run)``, or ``({"error": ..., "command": ...}, run)`` when the driver
    failed. ``data["times"]`` holds the driver's times, as floats."""
    run = run_process(command)
    try:
        if run.returncode != 0 or not report.exists():
            return {"error": run.problem(), "command": command}, run
        data = json.loads(report.read_text())
    finally:
        report.unlink(missing_ok=True)
    data["times"] = [float(t) for t in data["times"]]
    return data, run


def driver_row(command: list[str], report, fields=None) -> dict:
    """:func:`run_driver`, then the bench's row for it: the driver's times and their
    summary, the process's peak RSS and seconds, Blender's version, the driver's note and
    the command, plus ``fields(data)`` of the report; the error dict when it failed."""
    data, run = run_driver(command, report)
    if "error" in data:
        return data
    times = data["times"]
    return {
        "times": times,
        **summary(times),
        "peak_rss": run.peak_rss,
        "version": data.get("blender", ""),
        "note": data.get("note", ""),
        "process_seconds": run.seconds,
        "command": command,
        **(fields(data) if fields else {}),
    }
