"""Spreading a frame range over the GPUs of a machine, or over machines, with Dask.

::

    mattebox render comp.mbx -f 1-240 --dask local-gpus        # one worker per GPU here
    mattebox render comp.mbx -f 1-240 --dask tcp://scheduler:8786

Each task renders a *chunk* of consecutive frames on one worker: it loads the saved
script there (a script is plain data) and writes each frame through
:func:`mattebox.engine.render.execute`, so the worker's compiled kernels, GPU pipelines
and decoded single-image Reads serve the whole chunk. Workers need the script, its inputs
and Mattebox, nothing else.

Progress is per frame, not per chunk: after each frame the task logs a small event
(``Worker.log_event``) on a topic of its own render, which the scheduler forwards to the
client (``Client.subscribe_topic``); the chunk's return value repeats every frame's
outcome, so a lost event costs nothing but a late tick. A frame that fails is reported
once, with its node and error, and the chunk goes on with its next frame; a worker that
dies has its chunk rerun elsewhere by Dask, and frames it never finished count as failed.

Workers are pinned to one GPU adapter through the environment: ``--dask local-gpus``
starts one worker process per GPU with ``MATTEBOX_GPU=<index>`` (and CPU workers only
when asked, ``--cpu-workers N``); workers of a cluster are started the same way
(``MATTEBOX_GPU=1 dask worker tcp://scheduler:8786 --nthreads 1``, see
``docs/distributed.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import queue
import signal
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace

#: ``--dask`` values that start a cluster on this machine.
LOCAL_GPUS = "local-gpus"
LOCAL_PROCESSES = "processes"
#: CPU worker processes of ``--dask processes`` unless ``cpu_workers`` says otherwise.
DEFAULT_CPU_WORKERS = 2
#: Bounds of the automatic chunk size (frames per task).
MAX_AUTO_CHUNK = 16
#: Chunks per worker the automatic size aims at: enough for the last ones to balance.
CHUNKS_PER_WORKER = 4
#: Chunks submitted ahead per worker: the next ones are made as these finish, so a
#: long range never becomes a list of tasks (nor of frames) before its first frame.
CHUNKS_IN_FLIGHT = 2 * CHUNKS_PER_WORKER
#: Seconds to wait for a local cluster's workers to start.
START_TIMEOUT = 120
#: Dask's setting for worker processes that may start the decoder process.
NON_DAEMONIC = {"distributed.worker.daemon": False}
#: Decoding inside the process instead of in the isolated decoder (``engine/io``).
IN_PROCESS_ENV = "MATTEBOX_IO_INPROCESS"


@dataclass(frozen=True)
class FrameResult:
    """One Write node at one frame, as a worker finished it.

    ``path`` is the file written, or None when the frame failed; ``error`` is then one
    line starting with the node that failed (``Grade1: ...``). ``worker`` names the Dask
    worker (``gpu1``, ``cpu0`` on a local cluster) and ``device`` what it rendered on.
    """

    frame: int
    write: str
    path: str | None = None
    error: str | None = None
    worker: str = ""
    device: str = ""
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    def message(self) -> dict:
        """The result as a msgpack-able dict (what travels in the progress event). It is
        wrapped: the scheduler writes the sender's address over a ``worker`` key."""
        data = asdict(self)
        data["warnings"] = list(self.warnings)
        return {"result": data}

    @classmethod
    def from_message(cls, message: dict) -> FrameResult:
        data = message["result"]
        return cls(**{**data, "warnings": tuple(data.get("warnings") or ())})


@dataclass
class Outcome:
    """What a distributed render did: every (frame, Write) in frame order, then the
    order of the Writes; ``chunks`` the frames of each task with the worker that ran it."""

    results: list[FrameResult]
    chunks: list[tuple[list[int], str]] = field(default_factory=list)

    @property
    def written(self) -> list[str]:
        """The files written, in frame order."""
        return [r.path for r in self.results if r.path is not None]

    @property
    def failed(self) -> list[FrameResult]:
        return [r for r in self.results if not r.ok]

    def failed_frames(self) -> list[int]:
        """The frames with at least one failed Write, ascending."""
        return sorted({r.frame for r in self.failed})


# --------------------------------------------------------------------------- on a worker


def render_chunk(
    script_path: str, writes: list[str], frames: list[int], backend: str, topic: str | None
) -> list[dict]:
    """Render ``frames`` (consecutive) of the ``writes`` of a saved script, frame after
    frame, on the worker running this task; returns every result as a message.

    A frame that fails does not stop the chunk. After each result an event goes to
    ``topic`` (when given and when running on a Dask worker)."""
    worker = _current_worker()
    name = str(worker.name) if worker is not None else "local"
    report = _reporter(worker, topic)
    device = _device_text(backend)
    notes = _decode_in_a_daemon()
    try:
        graph, nodes = _load(script_path, writes)
    except Exception as error:  # noqa: BLE001 - every frame of the chunk fails with it
        line = _error_line(error)
        results = [
            FrameResult(f, w, error=line, worker=name, device=device)
            for f in frames
            for w in writes
        ]
        for result in results:
            report(result)
        return [r.message() for r in results]
    results = []
    for frame in frames:
        for node in nodes:
            result = _render_one(graph, node, frame, backend, name, device)
            if notes:  # told with the first result
                result, notes = replace(result, warnings=notes + result.warnings), ()
            report(result)
            results.append(result.message())
    return results


def _render_one(graph, node, frame: int, backend: str, worker: str, device: str) -> FrameResult:
    from mattebox.engine import render

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            path = render.execute(graph, [node], frames=[frame], backend=backend)[0]
            error = None
        except Exception as failure:  # noqa: BLE001 - the frame fails, the chunk goes on
            path, error = None, _error_line(failure)
    said = tuple(dict.fromkeys(str(w.message).splitlines()[0] for w in caught))
    seconds = time.perf_counter() - start
    return FrameResult(frame, node.name, path, error, worker, device, seconds, said)


def _decode_in_a_daemon() -> tuple[str, ...]:
    """A daemonic worker process (what ``dask worker`` starts unless told otherwise)
    cannot start the decoder process that isolates OpenImageIO: decode in the worker
    instead, and say so once."""
    import multiprocessing

    if not multiprocessing.current_process().daemon or os.environ.get(IN_PROCESS_ENV) == "1":
        return ()
    os.environ[IN_PROCESS_ENV] = "1"
    note = (
        "this Dask worker is a daemonic process, so files are decoded inside it (a "
        "malformed file can take it down): start workers with "
        "DASK_DISTRIBUTED__WORKER__DAEMON=False to keep decoding in its own process"
    )
    return (note,)


def _load(script_path: str, writes: list[str]):
    import mattebox as mb
    from mattebox.engine import render

    graph = mb.load(script_path)
    nodes = [graph[name] for name in writes] if writes else graph.writes()
    return graph, render.writes_to_render(nodes)


def _current_worker():
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):  # not inside a Dask worker's task
        return None


def _reporter(worker, topic: str | None) -> Callable[[FrameResult], None]:
    if worker is None or not topic:
        return lambda result: None
    return lambda result: worker.log_event(topic, result.message())


def _device_text(backend: str) -> str:
    """What this worker renders on: ``cpu`` or ``gpu 1 (NVIDIA H100 ...)``."""
    from mattebox.engine.backends import detect

    try:
        name = detect.choose(backend)
        adapter = detect.gpu_adapter() if name == "gpu" else None
    except ValueError as error:
        return f"none ({error})"
    return f"gpu {adapter.index} ({adapter.name})" if adapter is not None else name


def _error_line(error: BaseException) -> str:
    """One line for a failed frame: a user's error as it reads (ours start with the node;
    the same classes as the command line's rule), anything else with its type, since it
    is a bug to report."""
    from mattebox.engine.color import ColorError
    from mattebox.engine.io import ImageIOError
    from mattebox.engine.passes import RenderError

    text = _one_line(error)
    if isinstance(error, (ValueError, RenderError, ImageIOError, ColorError, OSError)):
        return text
    return f"{type(error).__name__}: {text} (a bug in Mattebox: --debug on one frame shows it)"


# --------------------------------------------------------------------------- clusters


def worker_spec(gpus: list, cpu_workers: int = 0, cores: int | None = None) -> dict[str, dict]:
    """The workers of a local cluster: one per GPU adapter in ``gpus`` (named
    ``gpu<index>``, pinned with ``MATTEBOX_GPU`` and rendering on the GPU), then
    ``cpu_workers`` CPU ones (``cpu0``...). Each runs one task at a time; numba's threads
    are shared out so the processes do not oversubscribe the cores."""
    from distributed import Nanny

    total = len(gpus) + cpu_workers
    if total < 1:
        raise ValueError("a local cluster needs a GPU worker or a CPU worker")
    threads = max(1, (cores or os.cpu_count() or 1) // total)
    base = {"NUMBA_NUM_THREADS": str(threads)}
    envs = {
        f"gpu{a.index}": {"MATTEBOX_GPU": str(a.index), "MATTEBOX_BACKEND": "gpu"} for a in gpus
    }
    envs.update({f"cpu{i}": {"MATTEBOX_BACKEND": "cpu"} for i in range(cpu_workers)})
    return {
        name: {
            "cls": Nanny,
            "options": {"nthreads": 1, "env": {**base, **env}, "silence_logs": logging.ERROR},
        }
        for name, env in envs.items()
    }


def local_cluster(gpus: list, cpu_workers: int = 0):
    """A Dask cluster on this machine with the workers of :func:`worker_spec`; close it
    (or use it as a context manager) when done.

    Its worker processes are not daemonic, so each can start Mattebox's decoder process
    (a daemonic process may not have children); a worker the nanny restarts after a crash
    is started while a render runs, under the same setting (:func:`execute`)."""
    import dask
    from distributed import Scheduler, SpecCluster

    scheduler = {
        "cls": Scheduler,
        "options": {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0", "dashboard": False},
    }
    with dask.config.set(NON_DAEMONIC):
        return SpecCluster(
            workers=worker_spec(gpus, cpu_workers),
            scheduler=scheduler,
            silence_logs=logging.ERROR,
            name="mattebox",
        )


def cluster_for(scheduler: str, gpus: str | None = None, cpu_workers: int | None = None):
    """The local cluster a ``--dask`` value asks for (``local-gpus``: one worker per GPU,
    or per adapter ``gpus`` names, plus ``cpu_workers``; ``processes``: CPU workers only),
    None for an address. ValueError for what cannot be started."""
    from mattebox.engine.backends import detect

    if scheduler == LOCAL_PROCESSES:
        count = DEFAULT_CPU_WORKERS if cpu_workers is None else cpu_workers
        if count < 1:
            raise ValueError("--dask processes: --cpu-workers must be at least 1")
        return local_cluster([], count)
    if scheduler == LOCAL_GPUS:
        chosen = detect.worker_gpus(gpus)
        count = cpu_workers or 0
        if not chosen and count < 1:
            raise ValueError(
                "--dask local-gpus: no GPU here (mattebox backends lists the adapters); "
                "add --cpu-workers N to render on CPU worker processes"
            )
        return local_cluster(chosen, count)
    if "://" not in scheduler:
        raise ValueError(
            f"--dask {scheduler}: expected local-gpus, processes or a scheduler address "
            "such as tcp://host:8786"
        )
    if gpus or cpu_workers:
        raise ValueError(
            "--gpu and --cpu-workers start local workers: with a scheduler address, start "
            "the workers with MATTEBOX_GPU set (docs/distributed.md)"
        )
    return None


def serve(address: str, gpus: str | None = None, cpu_workers: int = 0, name: str = "") -> None:
    """``mattebox worker ADDRESS``: start this machine's workers for the scheduler at
    ``address``, as ``--dask local-gpus`` would (one per GPU, pinned; ``cpu_workers`` CPU
    ones; not daemonic), named ``<name>-gpu0``... (``name``: the host's name by default);
    returns when they have all stopped, or on Ctrl-C or SIGTERM after stopping them."""
    import socket

    from mattebox.engine.backends import detect

    chosen = detect.worker_gpus(gpus)
    if not chosen and cpu_workers < 1:
        raise ValueError(
            "mattebox worker: no GPU here (mattebox backends lists the adapters); "
            "add --cpu-workers N for CPU workers"
        )
    prefix = name or socket.gethostname()
    spec = {f"{prefix}-{key}": entry for key, entry in worker_spec(chosen, cpu_workers).items()}
    asyncio.run(_serve(address, spec))


async def _serve(address: str, spec: dict[str, dict]) -> None:
    import dask

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    with dask.config.set(NON_DAEMONIC):
        nannies = [
            entry["cls"](address, name=key, **entry["options"]) for key, entry in spec.items()
        ]
        await asyncio.gather(*nannies)  # started and registered with the scheduler
        finished = asyncio.gather(*(nanny.finished() for nanny in nannies))
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait([finished, stopped], return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        await asyncio.gather(*(nanny.close() for nanny in nannies), return_exceptions=True)


# --------------------------------------------------------------------------- the client


def chunks(frames: Iterable[int], size: int) -> Iterator[list[int]]:
    """Consecutive groups of at most ``size`` frames, made as they are asked for (a
    range of 10^12 frames costs nothing until its chunks are taken)."""
    group: list[int] = []
    for frame in frames:
        group.append(frame)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


def auto_chunk(frame_count: int, workers: int) -> int:
    """Frames per task when none is given: about :data:`CHUNKS_PER_WORKER` chunks per
    worker (long runs of consecutive frames keep a worker's caches warm; several chunks
    each let a fast worker take over a slow one's last ones), within 1 and
    :data:`MAX_AUTO_CHUNK`."""
    wanted = math.ceil(frame_count / max(1, workers * CHUNKS_PER_WORKER))
    return max(1, min(MAX_AUTO_CHUNK, wanted))


def execute(
    script_path: str,
    frames: Iterable[int],
    writes: list[str] | None = None,
    scheduler="local-gpus",
    chunk: int | None = None,
    backend: str = "auto",
    progress: Callable[[int, int, FrameResult], None] | None = None,
    gpus: str | None = None,
    cpu_workers: int | None = None,
) -> Outcome:
    """Render ``frames`` of the saved script at ``script_path`` with Dask.

    Parameters
    ----------
    writes : list of str, optional
        Write nodes by name (default: every enabled Write).
    scheduler : str or distributed.Client or Cluster
        ``"local-gpus"`` (a worker per GPU here; ``gpus`` picks adapters by index or
        name, ``cpu_workers`` adds CPU workers), ``"processes"`` (CPU workers only), a
        scheduler address (``"tcp://host:8786"``), a ``Client`` or a cluster.
    chunk : int, optional
        Consecutive frames per task (default :func:`auto_chunk`).
    progress : callable, optional
        ``progress(done, total, result)`` on this thread, once per (frame, Write) as
        each finishes on any worker, ``done`` counting up to ``total``.

    Returns
    -------
    Outcome
        Every frame's result; failed frames are in ``outcome.failed``, not raised.
    """
    import dask
    from distributed import Client

    import mattebox as mb
    from mattebox.engine import render

    graph = mb.load(script_path)
    nodes = [graph[name] for name in writes] if writes else graph.writes()
    names = [node.name for node in render.writes_to_render(nodes)]
    if not isinstance(frames, render.FrameList):  # counted and iterated, never a list
        frames = render.FrameList([frames if isinstance(frames, range) else tuple(frames)])
    render.check_file_patterns([graph[n] for n in names], frames)
    # (the setting stays while the render runs: the nanny restarts a lost worker with it)
    with dask.config.set(NON_DAEMONIC), contextlib.ExitStack() as started:
        client = scheduler
        if not isinstance(scheduler, Client):
            local = (
                cluster_for(scheduler, gpus, cpu_workers) if isinstance(scheduler, str) else None
            )
            if local is not None:
                started.enter_context(local)
            client = started.enter_context(Client(scheduler if local is None else local))
            if local is not None:  # every GPU busy from the first chunk on
                client.wait_for_workers(len(local.worker_spec), timeout=START_TIMEOUT)
        return _run(client, str(script_path), names, frames, chunk, backend, progress)


def _run(client, script_path, names, frames, chunk, backend, progress) -> Outcome:
    workers = len(client.scheduler_info(n_workers=-1).get("workers", {})) or 1
    groups = enumerate(chunks(frames, chunk or auto_chunk(len(frames), workers)))
    window = workers * CHUNKS_IN_FLIGHT
    topic = f"mattebox-frames-{uuid.uuid4().hex}"
    events: queue.Queue = queue.Queue()
    client.subscribe_topic(topic, lambda event: events.put(event[1]))
    place: dict[int, tuple[int, int]] = {}  # frame -> (chunk, position): the final order
    running: list[tuple[int, list[int], object]] = []
    settled: list[tuple[int, list[int], str]] = []

    def submit_more() -> None:
        while len(running) < window:
            index, group = next(groups, (None, None))
            if group is None:
                return
            for position, frame in enumerate(group):
                place.setdefault(frame, (index, position))
            key = f"{topic}-{index}"
            future = client.submit(
                render_chunk, script_path, names, group, backend, topic, key=key, pure=False
            )
            running.append((index, group, future))

    def take_events() -> None:
        while not events.empty():
            tally.take(FrameResult.from_message(events.get_nowait()))

    tally = _Tally(len(frames) * len(names), progress)
    try:
        submit_more()
        while running:
            try:
                tally.take(FrameResult.from_message(events.get(timeout=0.1)))
            except queue.Empty:
                pass
            finished = [entry for entry in running if entry[2].done()]
            if finished:
                take_events()  # the ticks that came first stay first
            for entry in finished:
                running.remove(entry)
                index, group, future = entry
                settled.append((index, group, tally.settle(group, names, future)))
            submit_more()
        take_events()
    finally:
        client.unsubscribe_topic(topic)
        client.cancel([future for _, _, future in running])
    rank = {name: i for i, name in enumerate(names)}
    results = sorted(tally.results.values(), key=lambda r: (place[r.frame], rank[r.write]))
    return Outcome(results, [(group, worker) for _, group, worker in sorted(settled)])


class _Tally:
    """The results seen so far, each (frame, Write) counted once however often it is
    reported (an event and the chunk's return value; a chunk rerun after a worker died)."""

    def __init__(self, total: int, progress):
        self.total = total
        self.progress = progress
        self.results: dict[tuple[int, str], FrameResult] = {}

    def take(self, result: FrameResult) -> None:
        key = (result.frame, result.write)
        if key in self.results:
            return
        self.results[key] = result
        if self.progress is not None:
            self.progress(len(self.results), self.total, result)

    def settle(self, group: list[int], names: list[str], future) -> str:
        """Take a finished chunk's results (a failed chunk: its missing frames fail with
        its error); returns the worker that ran it."""
        if future.status == "finished":
            messages = future.result()
            for message in messages:
                self.take(FrameResult.from_message(message))
            return messages[0]["result"]["worker"] if messages else ""
        error = future.exception()
        line = f"{type(error).__name__}: {_one_line(error)} (the worker running it was lost)"
        for frame in group:
            for name in names:
                self.take(FrameResult(frame, name, error=line))
        return ""


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
