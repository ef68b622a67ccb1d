"""The ``mattebox`` command.

::

    mattebox [SCRIPT] [--screenshot OUT.png] [--size 1600x1000]   open the editor
    mattebox render SCRIPT [-w WRITE ...] [-f 1-10] [--backend auto|gpu|cpu] [--gpu INDEX]
                    [--dask local-gpus|processes|tcp://host:8786] [--cpu-workers N]
    mattebox nodes [TYPE]                                          list node types, or
                                                                   one type's parameters
    mattebox backends                                              list backends and the choice
    mattebox worker tcp://host:8786 [--gpu 0,1] [--cpu-workers N]  a Dask worker per GPU

Errors print one line and exit non-zero; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

COMMANDS = ("render", "nodes", "backends", "worker")
#: One line per command for ``mattebox --help``.
COMMAND_HELP = {
    "render": "render SCRIPT's Write nodes headless (mattebox render --help)",
    "nodes": "list the node types; nodes TYPE: one type's inputs and parameters",
    "backends": "list the compute backends found here and the one chosen",
    "worker": "serve a Dask scheduler with a worker per GPU here (mattebox worker --help)",
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mattebox`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
    warnings.simplefilter("default")
    warnings.formatwarning = lambda message, category, *_: f"warning: {message}\n"
    try:
        if argv and argv[0] in COMMANDS:
            return _COMMANDS[argv[0]](argv[1:])
        return _editor(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one line for people; --debug for developers
        if debug:
            raise
        if _is_users(error):
            print(f"error: {_one_line(error)}", file=sys.stderr)
        else:  # not a message of ours: a bug, to be reported with its traceback
            print(
                f"error: {type(error).__name__}: {_one_line(error)} (a bug in Mattebox: "
                "please report it with the output of the same command and --debug)",
                file=sys.stderr,
            )
        return 1


def _is_users(error: BaseException) -> bool:
    """Whether ``error`` is one a user can cause and its message says what to fix: our
    errors (ScriptError, GraphError, ParamError and the other ValueErrors, RenderError,
    ImageIOError, ColorError) and the system's (a full disk, a missing folder). Anything
    else (TypeError, KeyError, RecursionError...) reaching here is a bug."""
    from mattebox.engine.color import ColorError
    from mattebox.engine.io import ImageIOError
    from mattebox.engine.passes import RenderError

    return isinstance(error, (ValueError, RenderError, ImageIOError, ColorError, OSError))


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _render(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="mattebox render", description="Render Write nodes of a script headless."
    )
    parser.add_argument("script", help="the .mbx script")
    parser.add_argument(
        "-w",
        "--write",
        action="append",
        default=[],
        help="Write node to render (repeatable; default: all)",
    )
    parser.add_argument(
        "-f", "--frames", help="frames: 1-10, 5, 1-100x2, 1,3,7-9 (default: the script's range)"
    )
    parser.add_argument(
        "--backend",
        default="auto",
        choices=("auto", "gpu", "cpu"),
        help="where to compute (default: auto, or $MATTEBOX_BACKEND)",
    )
    parser.add_argument(
        "--gpu",
        metavar="INDEX|NAME",
        help="the GPU adapter to use: its index as `mattebox backends` lists it, or a part "
        "of its name (default: $MATTEBOX_GPU, else the best); with --dask local-gpus a "
        "comma list of the GPUs to start workers on",
    )
    parser.add_argument(
        "--dask",
        metavar="SCHEDULER",
        help="spread frames with Dask: 'local-gpus' (a worker per GPU here), 'processes' "
        "(CPU worker processes) or a scheduler address (tcp://host:8786)",
    )
    parser.add_argument(
        "--cpu-workers",
        type=int,
        metavar="N",
        help="CPU worker processes beside the GPU ones (--dask local-gpus; default none) "
        "or in all (--dask processes; default 2)",
    )
    parser.add_argument(
        "--chunk",
        type=int,
        help="consecutive frames per Dask task (default: about 4 tasks per worker, at most 16)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    import mattebox as mb
    from mattebox.engine import render
    from mattebox.engine.backends import detect

    graph = mb.load(args.script)
    writes = _chosen_writes(graph, args.write)
    try:
        spans = render.frame_ranges(args.frames, graph)
    except render.FrameListError as error:
        raise SystemExit(f"error: -f/--frames {error.text!r}: {error.problem}") from None
    frames = render.FrameList(spans)  # iterated, never a list: -f 1-1000000000000 is cheap
    render.check_file_patterns([w for w in writes if not w["disable"]], frames)
    _warn_outside_range(spans, graph)
    if args.dask:
        return _render_dask(args, writes, frames)
    if args.gpu:
        if len(detect.parse_gpu_choice(args.gpu)) > 1:
            raise SystemExit(f"error: --gpu {args.gpu}: one adapter (several: --dask local-gpus)")
        os.environ[detect.GPU_ENV] = args.gpu  # this process's one adapter (checked here)
    backend = detect.choose(args.backend)
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(
            total=len(frames) * max(1, len(writes)),
            unit="frame",
            file=sys.stderr,
            desc=f"rendering ({backend})",
            dynamic_ncols=True,
        )

    def progress(done: int, total: int, path: str) -> None:
        if bar is not None:
            bar.set_postfix_str(path[-40:], refresh=False)
            bar.update(1)

    start = time.perf_counter()
    try:
        written = graph.execute(writes, frames=frames, backend=args.backend, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        elapsed = time.perf_counter() - start
        print(
            f"wrote {len(written)} file(s) in {elapsed:.2f} s: {written[0]}"
            + (f" ... {written[-1]}" if len(written) > 1 else ""),
            file=sys.stderr,
        )
    return 0


def _render_dask(args, writes: list, frames) -> int:
    """``render --dask``: frames over Dask workers, one progress tick per finished frame,
    each failed frame one line (its node and error) as it fails; the others go on, and
    the exit status is 1 when any failed, after a line listing them."""
    from mattebox.engine import distributed

    if args.cpu_workers is not None and args.cpu_workers < 0:
        raise SystemExit("error: --cpu-workers: expected 0 or more")
    names = [w.name for w in writes if not w["disable"]]
    total = len(frames) * max(1, len(names))
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="frame", file=sys.stderr, desc="rendering (dask)")
    said: set[str] = set()

    def tell(line: str) -> None:
        (bar.write if bar is not None else print)(line, file=sys.stderr)

    def progress(done: int, total: int, result) -> None:
        for text in result.warnings:
            if text not in said:  # each warning once, not once per frame
                said.add(text)
                tell(f"warning: {result.worker or 'a worker'}: {text}")
        if not result.ok:
            where = f"frame {result.frame}" + (f" ({result.write})" if len(names) > 1 else "")
            tell(f"error: {where}: {result.error}")
        if bar is not None:
            bar.set_postfix_str((result.path or "failed")[-40:], refresh=False)
            bar.update(1)

    start = time.perf_counter()
    try:
        outcome = distributed.execute(
            args.script,
            frames,
            names,
            scheduler=args.dask,
            chunk=args.chunk,
            backend=args.backend,
            progress=progress,
            gpus=args.gpu,
            cpu_workers=args.cpu_workers,
        )
    finally:
        if bar is not None:
            bar.close()
    written = outcome.written
    if not args.quiet:
        elapsed = time.perf_counter() - start
        span = ""
        if written:
            span = f": {written[0]}" + (f" ... {written[-1]}" if len(written) > 1 else "")
        print(f"wrote {len(written)} file(s) in {elapsed:.2f} s{span}", file=sys.stderr)
        for worker, count, device in _per_worker(outcome):
            print(f"  {worker}: {count} frame(s) on {device}", file=sys.stderr)
    failed = outcome.failed_frames()
    if failed:
        listed = ",".join(_span_text(span) for span in _spans(failed))
        print(f"error: {len(failed)} of {len(frames)} frame(s) failed: {listed}", file=sys.stderr)
        return 1
    return 0


def _per_worker(outcome) -> list[tuple[str, int, str]]:
    """(worker, frames rendered, device) for the summary, in worker order."""
    counts: dict[str, list] = {}
    for result in outcome.results:
        if result.ok:
            entry = counts.setdefault(result.worker, [set(), result.device])
            entry[0].add(result.frame)
    return [(name, len(frames), device) for name, (frames, device) in sorted(counts.items())]


def _spans(frames: list[int]) -> list[range]:
    """Sorted frames as runs of consecutive ones (for the failed-frames line)."""
    spans: list[range] = []
    for frame in frames:
        if spans and frame == spans[-1].stop:
            spans[-1] = range(spans[-1].start, frame + 1)
        else:
            spans.append(range(frame, frame + 1))
    return spans


def _chosen_writes(graph, names: list[str]) -> list:
    """The Write nodes ``-w`` names (all of the script's when none), a name that is not
    a Write an error with the closest names."""
    from mattebox.nodes import suggest

    if not names:
        return graph.writes()
    known = [node.name for node in graph.writes()]
    for name in names:
        if name in graph.nodes and name not in known:
            listed = ", ".join(known) or "none"
            raise SystemExit(f"error: -w/--write: {name} is not a Write node (Writes: {listed})")
        if name not in known:
            hint = suggest.did_you_mean(name, known, "Write nodes")
            raise SystemExit(f"error: -w/--write: no Write node named {name!r}{hint}")
    return [graph[name] for name in names]


def _span_text(span: range) -> str:
    """A range as the -f option writes it."""
    last = span[-1]
    if span.start == last:
        return str(last)
    return f"{span.start}-{last}" + (f"x{span.step}" if span.step != 1 else "")


def _warn_outside_range(spans: list[range], graph) -> None:
    """Warn (one line) about frames outside the script's frame range."""
    first, last = graph.settings.frame_range
    outside = []
    for span in spans:
        below = span[: len(range(span.start, min(span.stop, first), span.step))]
        skip = max(0, -(-(last + 1 - span.start) // span.step))
        above = span[skip:]
        outside += [part for part in (below, above) if len(part)]
    if outside:
        listed = ",".join(_span_text(part) for part in outside)
        print(
            f"warning: frames {listed} are outside the script's frame range {first}-{last}",
            file=sys.stderr,
        )


def _nodes(argv: list[str]) -> int:
    from mattebox.nodes.spec import registry

    if argv:
        return _node_help(argv)
    for name, spec in sorted(registry().items()):
        if spec.internal:
            continue
        doc = (spec.doc or spec.__doc__ or "").strip().splitlines()[0]
        print(f"{name:<20} {spec.family:<10} {spec.kind.value:<17} {doc}")
    from mattebox.engine import group

    for name, gizmo in sorted(group.gizmos().items()):  # on MATTEBOX_GIZMO_PATH and config
        print(f"{name:<20} {'gizmo':<10} {'v' + str(gizmo.version):<17} {gizmo.doc or gizmo.path}")
    return 0


def _node_help(argv: list[str]) -> int:
    """``mattebox nodes TYPE``: one node type's inputs, doc and parameters."""
    from mattebox.engine import nodedocs
    from mattebox.nodes import spec as specs

    parser = argparse.ArgumentParser(
        prog="mattebox nodes", description="List node types, or describe one."
    )
    parser.add_argument("type", help="a node type (case ignored), such as Grade")
    args = parser.parse_args(argv)
    public = {name: spec for name, spec in specs.registry().items() if not spec.internal}
    by_case = {name.lower(): name for name in public}
    name = args.type if args.type in public else by_case.get(args.type.lower())
    if name is None:
        raise SystemExit(f"error: unknown node type {args.type!r}{specs.type_hint(args.type)}")
    print(nodedocs.node_text(public[name]), end="")
    return 0


def _backends(argv: list[str]) -> int:
    from mattebox.engine.backends import detect

    print(detect.report())
    return 0


def _worker(argv: list[str]) -> int:
    """``mattebox worker tcp://scheduler:8786``: this machine's GPUs as Dask workers."""
    parser = argparse.ArgumentParser(
        prog="mattebox worker",
        description="Start a Dask worker per GPU of this machine (each pinned to its "
        "adapter) for the scheduler at ADDRESS; Ctrl-C stops them.",
    )
    parser.add_argument("address", help="the scheduler, such as tcp://scheduler:8786")
    parser.add_argument("--gpu", metavar="INDEX|NAME", help="the GPUs to serve (default: all)")
    parser.add_argument("--cpu-workers", type=int, default=0, metavar="N", help="CPU workers too")
    parser.add_argument("--name", default="", help="worker name prefix (default: host name)")
    args = parser.parse_args(argv)
    from mattebox.engine import distributed

    distributed.serve(args.address, args.gpu, args.cpu_workers, args.name)
    return 0


def _editor(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="mattebox",
        usage="mattebox [-h] [--version] [SCRIPT] [--screenshot PNG] [--size WxH]\n"
        f"       mattebox {{{','.join(COMMANDS)}}} ...",
        description="Mattebox, a node-based compositor: the editor (on SCRIPT), or a command.",
        epilog=_commands_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mattebox {_version()}")
    parser.add_argument("script", nargs="?", help="a .mbx script to open")
    parser.add_argument(
        "--screenshot",
        metavar="PNG",
        help="open, wait for the viewer, save a PNG of the window and exit",
    )
    parser.add_argument("--size", default="1600x1000", help="window size for --screenshot")
    args = parser.parse_args(argv)
    import os

    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and not os.environ.get("QT_QPA_PLATFORM"):
        if not args.screenshot:
            raise SystemExit(
                "error: no display for the editor (set DISPLAY, run under xvfb-run, or render "
                "headless with `mattebox render SCRIPT`)"
            )
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    from mattebox.app.main import run_editor

    return run_editor(args.script, screenshot=args.screenshot, size=args.size)


def _commands_text() -> str:
    lines = ["commands:"]
    lines += [f"  mattebox {name:<10} {COMMAND_HELP[name]}" for name in COMMANDS]
    lines.append("\n--debug (anywhere) shows a failure's traceback.")
    return "\n".join(lines)


def _version() -> str:
    from mattebox import __version__

    return __version__


_COMMANDS = {"render": _render, "nodes": _nodes, "backends": _backends, "worker": _worker}

if __name__ == "__main__":
    sys.exit(main())
