"""Spreading a frame range over machines with Dask.

Each task loads the saved script on its worker and renders its frames through
:func:`mattebox.engine.render.execute`, so workers need the script, its inputs and
Mattebox installed, and nothing else (a script is plain data). Frames are grouped in
chunks so a worker's numba kernels and decoded inputs are reused across its frames.

    mattebox render comp.mbx -f 1-240 --dask tcp://scheduler:8786
"""

from __future__ import annotations

from collections.abc import Iterable


def _render_chunk(
    script_path: str, writes: list[str] | None, frames: list[int], backend: str
) -> list[str]:
    import mattebox as mb

    graph = mb.load(script_path)
    nodes = [graph[name] for name in writes] if writes else graph.writes()
    return graph.execute(nodes, frames=frames, backend=backend)


def chunks(frames: list[int], size: int) -> list[list[int]]:
    """Consecutive groups of at most ``size`` frames."""
    return [frames[i : i + size] for i in range(0, len(frames), size)]


def execute(
    script_path: str,
    frames: Iterable[int],
    writes: list[str] | None = None,
    scheduler: str | object = "processes",
    chunk: int = 4,
    backend: str = "auto",
    progress=None,
) -> list[str]:
    """Render ``frames`` of a saved script with Dask; returns the files written in order.

    ``scheduler`` is a Dask scheduler name (``"processes"``, ``"threads"``,
    ``"synchronous"``), a ``distributed.Client``, or a scheduler address
    (``"tcp://host:8786"``). ``progress(done, total, path)`` is called as chunks finish.
    """
    import dask
    from dask.distributed import Client, as_completed

    frames = list(frames)
    groups = chunks(frames, max(1, chunk))
    tasks = [
        dask.delayed(_render_chunk)(str(script_path), writes, group, backend) for group in groups
    ]
    if isinstance(scheduler, str) and "://" in scheduler:
        scheduler = Client(scheduler)
    if isinstance(scheduler, Client):
        futures = scheduler.compute(tasks)
        done: dict[int, list[str]] = {}
        index = {f.key: i for i, f in enumerate(futures)}
        total = sum(len(g) for g in groups) * max(1, len(writes or [None]))
        count = 0
        for future in as_completed(futures):
            paths = future.result()
            done[index[future.key]] = paths
            for path in paths:
                count += 1
                if progress:
                    progress(count, total, path)
        return [p for i in range(len(groups)) for p in done[i]]
    results = dask.compute(*tasks, scheduler=scheduler)
    return [p for paths in results for p in paths]
