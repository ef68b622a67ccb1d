"""Load and plan time against the number of nodes in a script (issue 12, item 4).

    python bench/scale.py [--counts 1000,5000,20000] [--repeat 3] [--old]

Each script is one chain: a Constant, then ``count`` nodes cycling Grade, Dot, Clamp,
Dot, written producers first (as a saved script mostly is: each link names a node
already loaded, the case where checking every link against the graph upstream of it
costs most). Timed, best of ``--repeat``: ``script.loads`` of the text (parse, validate,
link, one cycle check), ``render.plan`` of the last node (evaluate every node, then
plan: one fused pass of the Grades and Clamps) and a CPU render of a chain of as many
Dots. To time older code, run this file with ``PYTHONPATH`` naming a folder where
``mattebox`` links to a worktree of that commit; ``--old`` reports the recursion errors
the old evaluator gave on long chains instead of raising. The machine's load is printed
before and after, since others share it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time


def chain_script(count: int, kinds=("Grade", "Dot", "Clamp", "Dot")) -> str:
    """The script text of a Constant and ``count`` nodes in one chain, producers first."""
    nodes = {"Constant1": {"type": "Constant", "params": {"width": 8, "height": 4}}}
    previous = "Constant1"
    for index in range(count):
        entry = {"type": kinds[index % len(kinds)], "inputs": {"Source": previous}}
        if entry["type"] == "Grade":
            entry["params"] = {"gain": 1.0 + index % 7 / 100}
        nodes[f"N{index}"] = entry
        previous = f"N{index}"
    return json.dumps({"mattebox": {"format": 2}, "settings": {}, "nodes": nodes})


def best(repeat: int, work) -> float:
    """The shortest of ``repeat`` timings of ``work()``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def row(count: int, repeat: int, old: bool) -> str:
    """One table row: the times for a chain of ``count`` nodes."""
    from mattebox.engine import render, script

    text = chain_script(count)
    load = best(repeat, lambda: script.loads(text))
    graph = script.loads(text)
    dots = script.loads(chain_script(count, ("Dot",)))
    last = f"N{count - 1}"
    cells = [f"{load:.3f} s"]
    for work in (
        lambda: render.plan(graph, last, use_cache=False),
        lambda: render.render(dots, dots[last], backend="cpu"),
    ):
        try:
            cells.append(f"{best(repeat, work):.3f} s")
        except RecursionError:
            if not old:
                raise
            cells.append("RecursionError")
    return f"| {count} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,5000,20000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--old", action="store_true", help="report failures, not raise")
    args = parser.parse_args()
    print("load before:", uptime())
    print("| nodes | load | plan | render (Dots) |")
    print("|---:|---:|---:|---:|")
    for count in (int(c) for c in args.counts.split(",")):
        print(row(count, args.repeat, args.old), flush=True)
    print("load after:", uptime())


if __name__ == "__main__":
    main()
