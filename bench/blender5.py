"""Blender 5 as a peer: its compositor through the ``bpy`` module, in its own Python.

``pip install bpy`` gives Blender 5.0.x on Python 3.11 and 5.1 or later (5.3.0 now) only
on Python 3.13, so bench/run.py runs the drivers (``blender5_driver.py``, and
``keying_blender.py`` for the keying workload) under a separate Python named by
``--bpy`` or ``$MATTEBOX_BENCH_BPY``. The 5.x compositor ignores Blender's thread
setting and uses every CPU it may run on, so the driver is pinned with ``taskset`` to
the CPUs this benchmark may use, the same cores the other tools get.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from bench import measure

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "blender5_driver.py"

#: The bench workloads the Blender 5 driver has trees for.
WORKLOADS = ("comp", "points10", "blur", "chain")


def pinned(command: list[str]) -> list[str]:
    """``command`` under ``taskset -c CPUS`` (the CPUs this process may use), where
    taskset exists."""
    taskset = shutil.which("taskset")
    if taskset is None or not hasattr(os, "sched_getaffinity"):
        return command
    cpus = ",".join(str(cpu) for cpu in sorted(os.sched_getaffinity(0)))
    return [taskset, "-c", cpus, *command]


def bpy_case(
    python: str,
    workload: str,
    inputs: list,
    out: Path,
    repeat: int,
    folder: Path,
    params: tuple = (),
    script: Path = DRIVER,
) -> dict:
    """A Blender 5 driver under ``python``: its per-repeat times (the module's start-up
    excluded), the process's peak RSS, Blender's version and the driver's note."""
    report = folder / f"bpy-{time.monotonic_ns()}.json"
    command = [python, str(script), "--", "--workload", workload, "--inputs", *map(str, inputs)]
    command += ["--output", str(out), "--repeat", str(repeat), "--json", str(report)]
    for key, value in params:
        command += ["--param", f"{key}={value}"]
    command = pinned(command)
    return measure.driver_row(command, report)
