"""How each tool is driven: Mattebox, numpy and ImageBufAlgo inside a case process;
oiiotool, Blender and ``mattebox render`` as child processes; the bandwidth floor.

A *case* is one workload at one size for one in-process tool. ``bench/run.py --case
SPEC.json`` runs it in a fresh interpreter (so its peak memory is its own) and writes a
result JSON; :func:`run_case` is the parent's side of that.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import aov, keying, measure, workloads

RUN_PY = Path(__file__).resolve().parent / "run.py"
BLENDER_DRIVER = Path(__file__).resolve().parent / "blender_driver.py"


def cores() -> int:
    """CPU cores this process may run on (the thread count given to every tool)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def workload_from(spec: dict) -> workloads.Workload:
    """The workload a case spec names (``workload`` and its ``arg``)."""
    builders = {
        "comp": lambda _: workloads.comp(),
        "points": lambda _: workloads.points(),
        "blur": workloads.blur_workload,
        "ocio": lambda _: workloads.ocio(),
        "chain": workloads.chain,
        "sequence": workloads.sequence,
        "aov": lambda _: aov.workload(),
        "keying": lambda _: keying.workload(),
    }
    return builders[spec["workload"]](spec.get("arg"))


# --------------------------------------------------------------------------- case processes


def run_case(spec: dict, folder: Path, env: dict | None = None) -> dict:
    """Run one in-process case in a fresh interpreter; its result, or {"error": ...}."""
    name = f"case-{spec['tool']}-{os.getpid()}-{time.monotonic_ns()}"
    spec_path, result_path = folder / f"{name}.json", folder / f"{name}-result.json"
    spec = {**spec, "result": str(result_path)}
    spec_path.write_text(json.dumps(spec))
    run = measure.run_process(
        [sys.executable, str(RUN_PY), "--case", str(spec_path)], env={**os.environ, **(env or {})}
    )
    try:
        if run.returncode != 0 or not result_path.exists():
            return {"error": run.problem()}
        result = json.loads(result_path.read_text())
        result["process_seconds"] = run.seconds
        return result
    finally:
        spec_path.unlink(missing_ok=True)
        result_path.unlink(missing_ok=True)


def case_main(spec_path: str) -> int:
    """``run.py --case SPEC``: run the case the file describes, write its result."""
    spec = json.loads(Path(spec_path).read_text())
    tool = {"mattebox": mattebox_case, "numpy": numpy_case, "iba": iba_case}[spec["tool"]]
    result = tool(spec)
    Path(spec["result"]).write_text(json.dumps(result))
    return 0


def _save_check(spec: dict, pixels: np.ndarray) -> None:
    if spec.get("check"):
        np.save(spec["check"], np.ascontiguousarray(pixels, np.float32))


def mattebox_case(spec: dict) -> dict:
    """Mattebox disk to disk (``execute``, cache cleared so inputs are read again) and in
    memory (``render`` with inputs decoded and cached, everything downstream recomputed)."""
    from mattebox.engine import render
    from mattebox.engine.backends import detect

    work = workload_from(spec)
    width, height = spec["size"]
    paths = {k: Path(v) for k, v in spec["paths"].items()}
    if work.layers:
        g, write, node, check = aov.mattebox_graph(paths, Path(spec["out"]), (width, height))
    elif work.name == "keying":
        g, write, node, check = keying.mattebox_graph(paths, Path(spec["out"]), (width, height))
    else:
        g, write, node, check = workloads.mattebox_graph(
            work, paths, Path(spec["out"]), (width, height)
        )
    backend, cache = spec["backend"], render.session().cache
    frames = list(range(1, spec["frames"] + 1)) if work.sequence else [1]
    result = {"backend": detect.choose(backend)}

    start = time.perf_counter()
    g.execute([write], frames=frames[:1], backend=backend)  # loads or compiles kernels
    result["first_seconds"] = time.perf_counter() - start
    # A second warm-up read, as every later frame of a session: the first read of each
    # decoder makes its shared-memory arena, the second is the first to decode into it.
    cache.clear()
    g.execute([write], frames=frames[:1], backend=backend)

    def disk() -> None:
        cache.clear()
        g.execute([write], frames=frames, backend=backend)

    repeat = 1 if work.sequence else spec["repeat"]
    result["disk"] = measure.measure(disk, repeat, spec["budget"])
    if work.sequence:
        if spec.get("script"):
            g.save(spec["script"])
        return result
    render.render(g, node, backend=backend, use_cache=False)  # inputs decoded and cached
    result["memory"] = measure.measure(
        lambda: render.render(g, node, backend=backend, use_cache=False),
        spec["repeat"],
        spec["budget"],
    )
    if spec.get("check"):  # the pixels the in-memory peers are compared with
        image = render.render(g, check, backend=backend, use_cache=False)
        if work.layers:
            pixels = aov.mattebox_check(image, width, height)
        else:
            pixels = workloads.crop_to_format(image.pixels, image.data_window, width, height)
        _save_check(spec, pixels)
    return result


def numpy_case(spec: dict) -> dict:
    """numpy written the obvious way, on arrays already decoded (reading not timed)."""
    work = workload_from(spec)
    if work.layers:
        return aov_numpy_case(spec)
    images = {name: workloads.read_exr(path) for name, path in spec["paths"].items()}
    held: dict = {}

    def run() -> None:
        held.clear()  # the previous result is not kept while the next is computed
        if work.name == "keying":
            out = keying.numpy_run(images)
            held["result"] = out, out
        else:
            held["result"] = workloads.numpy_run(work, images)

    result = {"memory": measure.measure(run, spec["repeat"], spec["budget"])}
    _save_check(spec, held["result"][1])
    return result


def iba_case(spec: dict) -> dict:
    """OpenImageIO's ImageBufAlgo from Python on buffers already read into memory."""
    import OpenImageIO as oiio

    oiio.attribute("threads", cores())
    work = workload_from(spec)
    if work.layers:
        return aov_iba_case(spec)
    bufs = {}
    for name, path in spec["paths"].items():
        bufs[name] = oiio.ImageBuf(str(path))
        bufs[name].read(force=True)
    kernels = {size: workloads.iba_kernels(size) for size in workloads.blur_sizes(work)}
    held: dict = {}

    def run() -> None:
        held.clear()
        if work.name == "keying":
            out = check = keying.iba_run(bufs, kernels[keying.EDGE_BLUR])
        else:
            out, check = workloads.iba_run(work, bufs, kernels)
        if out.has_error:
            raise RuntimeError(out.geterror())
        held["result"] = out, check

    result = {"memory": measure.measure(run, spec["repeat"], spec["budget"])}
    check = held["result"][1]
    roi = check.roi
    pixels = np.asarray(check.get_pixels(oiio.FLOAT)).reshape(roi.height, roi.width, -1)
    _save_check(spec, pixels)
    return result


def aov_numpy_case(spec: dict) -> dict:
    """numpy on the AOV workload: in memory on channels already decoded, and disk to
    disk with OpenImageIO reading and writing the files."""
    source = spec["paths"]["aovs"]
    decoded = {"channels": aov.read_channels(source)}
    held: dict = {}

    def memory() -> None:
        held.clear()
        held["result"] = aov.numpy_run(decoded["channels"])

    result = {"memory": measure.measure(memory, spec["repeat"], spec["budget"])}
    _save_check(spec, aov.stacked(held.pop("result")))
    decoded.clear()  # not held while disk to disk is measured
    result["disk"] = measure.measure(
        lambda: aov.numpy_disk(source, spec["out"]), spec["repeat"], spec["budget"]
    )
    return result


def aov_iba_case(spec: dict) -> dict:
    """ImageBufAlgo on the AOV workload, on the input read into memory as float (read as
    it is, a half file stays half and every intermediate is rounded to half)."""
    import OpenImageIO as oiio

    source = oiio.ImageBuf(spec["paths"]["aovs"])
    source.read(force=True, convert=oiio.FLOAT)
    held: dict = {}

    def run() -> None:
        held.clear()
        out = aov.iba_run(source)
        if out.has_error:
            raise RuntimeError(out.geterror())
        held["result"] = out

    result = {"memory": measure.measure(run, spec["repeat"], spec["budget"])}
    out = held["result"]
    pixels = np.asarray(out.get_pixels(oiio.FLOAT)).reshape(out.roi.height, out.roi.width, -1)
    names = out.spec().channelnames
    _save_check(spec, aov.stacked({name: pixels[..., k] for k, name in enumerate(names)}))
    return result


# --------------------------------------------------------------------------- child processes


def timed_runs(command: list[str], repeat: int, budget: float, env=None) -> dict:
    """Run a command up to ``repeat`` times (stopping once ``budget`` seconds are spent):
    wall times, and the largest peak RSS of any run. {"error": ...} if a run fails."""
    times, peak = [], 0
    while len(times) < repeat:
        run = measure.run_process(command, env=env)
        if run.returncode != 0:
            return {"error": run.problem()}
        times.append(run.seconds)
        peak = max(peak, run.peak_rss)
        if sum(times) >= budget:
            break
    return {"times": times, **measure.summary(times), "peak_rss": peak}


def oiiotool_exe() -> str:
    """The oiiotool of the OpenImageIO wheel (beside this Python), else the PATH's."""
    beside = Path(sys.executable).parent / "oiiotool"
    return str(beside) if beside.exists() else (shutil.which("oiiotool") or "oiiotool")


def oiiotool_version() -> str:
    """``oiiotool --version``, or '' when it does not run."""
    try:
        run = subprocess.run(
            [oiiotool_exe(), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
        return run.stdout.strip()
    except OSError:
        return ""


def oiiotool_startup() -> float:
    """Seconds oiiotool takes to start and exit (``--version``), best of three."""
    runs = [measure.run_process([oiiotool_exe(), "--version"]) for _ in range(3)]
    return min((run.seconds for run in runs if run.returncode == 0), default=0.0)


def oiiotool_case(work, paths, out, kernel_files, size, repeat, budget, frames=0) -> dict:
    """oiiotool on one workload (all frames at once for a sequence)."""
    if work.layers:
        args = aov.oiiotool_args(paths, out)
    elif work.name == "keying":
        args = keying.oiiotool_args(paths, out, kernel_files)
    else:
        args = workloads.oiiotool_args(work, paths, out, kernel_files, size, frames)
    command = [oiiotool_exe(), "--threads", str(cores()), *args]
    result = timed_runs(command, 1 if frames else repeat, budget)
    result["command"] = command
    return result


def mattebox_cli_case(script: Path, frames: int, backend: str) -> dict:
    """``mattebox render SCRIPT -f 1-N`` once: the whole command, start-up included."""
    command = [
        sys.executable,
        "-m",
        "mattebox",
        "render",
        str(script),
        "-f",
        f"1-{frames}",
        "--backend",
        backend,
        "-q",
    ]
    result = timed_runs(command, 1, 0)
    result["command"] = command
    return result


# --------------------------------------------------------------------------- Blender


def find_blender(allowed: bool, driver: Path = BLENDER_DRIVER) -> tuple[str | None, str, float]:
    """(blender executable or None, why not, seconds spent installing it).

    Without Blender, running as root with apt-get, installs Debian's ``blender``."""
    if not allowed:
        return None, "--no-blender", 0.0
    if not Path(driver).exists():
        return None, f"{driver} is missing", 0.0
    found = shutil.which("blender")
    if found:
        return found, "", 0.0
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return None, "blender is not installed (install Debian's blender package)", 0.0
    print(
        "installing Blender: apt-get install -y -q blender (about 190 packages, once) ...",
        flush=True,
    )
    start = time.perf_counter()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "-q", "blender"]
    done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:  # the package lists may be missing or stale
        subprocess.run([apt, "update", "-q"], env=env, capture_output=True, check=False)
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    found = shutil.which("blender")
    if found is None:
        last = (done.stderr.strip().splitlines() or ["apt-get failed"])[-1]
        return None, f"apt-get install blender failed: {last}", seconds
    print(f"installed Blender in {seconds:.0f} s", flush=True)
    return found, "", seconds


def blender_case(
    exe: str, driver: Path, work, inputs: list[Path], out: Path, repeat: int, folder: Path
) -> dict:
    """The Blender driver on one workload: its own per-repeat times (start-up excluded),
    and the process's peak RSS."""
    report = folder / f"blender-{time.monotonic_ns()}.json"
    command = [
        exe,
        "-b",
        "--factory-startup",
        "-t",
        str(cores()),
        "-P",
        str(driver),
        "--",
        "--workload",
        work.blender,
        "--inputs",
        *map(str, inputs),
        "--output",
        str(out),
        "--repeat",
        str(repeat),
        "--json",
        str(report),
    ]
    for key, value in work.blender_params:
        command += ["--param", f"{key}={value}"]
    return measure.driver_row(
        command,
        report,
        lambda data: {
            "driver_peak_rss": data.get("peak_rss_bytes"),
            "execution_mode": data.get("execution_mode", ""),
            "frames": data.get("frames"),
        },
    )


# --------------------------------------------------------------------------- bandwidth


def copy_bandwidth(megabytes: int = 128, tries: int = 4) -> dict:
    """Bytes per second a warm copy moves (read + write), the faster of numpy's copyto
    and a numba ``prange`` copy on all cores, best of ``tries``."""
    src = np.ones(megabytes * 2**18, np.float32)
    dst = np.empty_like(src)

    def best(copy) -> float:
        copy()
        return min(_seconds(copy) for _ in range(tries))

    seconds = {"numpy copyto": best(lambda: np.copyto(dst, src))}
    try:
        import numba

        @numba.njit(parallel=True, cache=False)
        def parallel_copy(out, data):
            for i in numba.prange(data.size):
                out[i] = data[i]

        seconds["numba prange copy"] = best(lambda: parallel_copy(dst, src))
    except ImportError:
        pass
    method = min(seconds, key=seconds.get)
    rates = {k: 2 * src.nbytes / v for k, v in seconds.items()}
    return {
        "bytes_per_second": rates[method],
        "method": method,
        "rates": rates,
        "array_bytes": src.nbytes,
    }


def _seconds(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start
