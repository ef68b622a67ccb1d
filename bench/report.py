"""Reporting: the machine, one table per case, the JSON file, the docs page and the plot.

A *case* here is a dict: ``key`` (e.g. "blur size 15"), ``title``, ``size`` ("4K"),
``width``, ``height``, ``description``, ``notes`` and ``rows``; a row is a dict with
``tool``, ``how``, ``status`` (ok, failed, skipped, n/a), ``reason`` and, when it ran,
``median``/``min``/``max``/``runs`` (seconds), ``peak_rss``/``peak_above_baseline``
(bytes), ``ratio`` (its median over Mattebox's, same ``how``), ``max_diff`` and ``fps``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from pathlib import Path

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
COLUMNS = (
    "tool",
    "how",
    "median",
    "min–max",
    "runs",
    "peak RSS",
    "above start",
    "vs Mattebox",
    "max |Δ|",
)


# --------------------------------------------------------------------------- machine


def machine_info() -> dict:
    """CPU, cores, RAM, GPU and the versions of everything that was measured."""
    import numpy
    import OpenImageIO as oiio
    import PyOpenColorIO as OCIO

    info = {
        "cpu": _cpu_model(),
        "cores": len(os.sched_getaffinity(0)),
        "ram_bytes": _meminfo_bytes("MemTotal"),
        "gpu": _gpu(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "openimageio": oiio.__version__,
        "oiio_ocio": oiio.get_string_attribute("opencolorio_version"),
        "opencolorio": OCIO.__version__,
        "mattebox": _mattebox_version(),
    }
    try:
        import numba

        info["numba"] = numba.__version__
    except ImportError:
        info["numba"] = ""
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _meminfo_bytes(key: str) -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _gpu() -> str:
    """The GPU Mattebox would use, or 'none' (and the software adapter it ignores)."""
    try:
        from mattebox.engine.backends import detect

        adapter = detect.gpu_adapter()
    except Exception as error:  # noqa: BLE001 - a probe that fails means no GPU to report
        return f"none ({type(error).__name__})"
    if adapter is None:
        return "none"
    if adapter.software:
        return f"none (only the software adapter {adapter.name}, which auto does not use)"
    return adapter.name


def _mattebox_version() -> str:
    import mattebox

    version = getattr(mattebox, "__version__", "")
    if not version:
        from importlib.metadata import version as package_version

        version = package_version("mattebox")
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "engine", "nodes"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except OSError:
        return version
    if commit:
        version += f" (git {commit}{' + uncommitted engine/nodes changes' if dirty else ''})"
    return version


def machine_line(info: dict) -> str:
    """The machine and the versions, on one line."""
    parts = [
        f"{info['cpu']}, {info['cores']} cores, {info['ram_bytes'] / 2**30:.1f} GiB RAM",
        f"GPU: {info['gpu']}",
        info["os"],
        (
            f"Python {info['python']}, numpy {info['numpy']}, numba {info['numba']}, "
            f"OpenImageIO {info['openimageio']} (its own OCIO {info['oiio_ocio']}), "
            f"OpenColorIO {info['opencolorio']}"
        ),
    ]
    if info.get("oiiotool"):
        parts.append(f"oiiotool {info['oiiotool']}")
    parts.append(f"Blender {info['blender']}" if info.get("blender") else "no Blender")
    parts.append(f"Mattebox {info['mattebox']}, backend {info.get('backend', '?')}")
    if info.get("bandwidth"):
        parts.append(f"copy bandwidth {info['bandwidth'] / 1e9:.1f} GB/s")
    return "Machine: " + "; ".join(parts)


# --------------------------------------------------------------------------- tables


def seconds_text(value: float | None) -> str:
    """``23.5 ms``, ``0.523 s`` or ``12.3 s``."""
    if value is None:
        return ""
    if value < 0.1:
        return f"{value * 1000:.1f} ms"
    if value < 10:
        return f"{value:.3f} s"
    return f"{value:.1f} s"


def mib_text(value: int | None) -> str:
    """Bytes as MiB ('' for unknown)."""
    if value is None:
        return ""
    mib = value / 2**20
    return f"{mib:.1f} MiB" if mib < 10 else f"{mib:,.0f} MiB"


def _range_text(row: dict) -> str:
    if row.get("min") is None:
        return ""
    low, high = seconds_text(row["min"]), seconds_text(row["max"])
    unit = high.split()[-1]
    if low.split()[-1] == unit:
        low = low.split()[0]
    return f"{low}–{high}"


def _row_cells(row: dict) -> list[str]:
    if row["status"] != "ok":
        word = {"failed": "failed", "skipped": "skipped", "n/a": "n/a"}[row["status"]]
        return [row["tool"], row["how"], word, row.get("reason", ""), "", "", "", "", ""]
    median = seconds_text(row.get("median"))
    if row.get("fps"):
        median += f" ({row['fps']:.1f} fps)"
    ratio = row.get("ratio")
    diff = row.get("max_diff")
    return [
        row["tool"],
        row["how"],
        median,
        _range_text(row),
        str(row.get("runs") or ""),
        mib_text(row.get("peak_rss")),
        mib_text(row.get("peak_above_baseline")),
        "" if ratio is None else f"{ratio:.2f}×",
        "" if diff is None else f"{diff:.1e}",
    ]


def table_lines(case: dict) -> list[str]:
    """The case as an aligned Markdown table (readable as text and as Markdown)."""
    rows = [list(COLUMNS)] + [_row_cells(row) for row in case["rows"]]
    # a failed/skipped row's reason spans the table: keep it out of the width sums
    widths = [
        max(len(r[i]) for r in rows if r[2] not in ("failed", "skipped", "n/a") or i != 3)
        for i in range(len(COLUMNS))
    ]
    right = {2, 3, 4, 5, 6, 7, 8}

    def line(cells: list[str]) -> str:
        padded = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if i in right else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return [line(rows[0]), rule, *(line(r) for r in rows[1:])]


def case_heading(case: dict) -> str:
    """``Blur, size 15 — 4K (3840×2160)``."""
    return (
        f"{case['title']}{', ' + case['variant'] if case.get('variant') else ''} — "
        f"{case['size']} ({case['width']}×{case['height']})"
    )


def print_case(case: dict) -> None:
    """The case's heading, description, table and notes, to stdout."""
    print()
    print(case_heading(case))
    print(case["description"])
    for line in table_lines(case):
        print(line)
    for note in case.get("notes", []):
        print(f"  {note}")
    if case.get("seconds"):
        print(f"  (this case took {case['seconds']:.0f} s in all)")


# --------------------------------------------------------------------------- summary line


def summary_line(cases: list[dict], workload: str = "comp", title: str = "bench comp") -> str:
    """``bench comp 4K: mattebox 0.52 s, oiiotool 3.10 s (6.0x), blender ...`` from the
    largest case of ``workload``: its disk-to-disk medians."""
    comps = [c for c in cases if c["workload"] == workload]
    if not comps:
        return f"{title}: not run"
    case = max(comps, key=lambda c: c["width"] * c["height"])
    names = {"Mattebox": "mattebox", "oiiotool": "oiiotool"}
    disk = {
        names[row["tool"]]: row
        for row in case["rows"]
        if row["how"] == "disk → disk" and row["tool"] in names
    }
    blender = faster_blender(case)
    if blender is not None:
        disk["blender"] = blender
    ours = disk.get("mattebox")
    if ours is None or ours["status"] != "ok":
        return f"{title} {case['size']}: mattebox failed"
    parts = [f"mattebox {ours['median']:.2f} s"]
    for name in ("oiiotool", "blender"):
        row = disk.get(name)
        if row is None or row["status"] != "ok":
            word = "skipped" if row is None or row["status"] != "failed" else "failed"
            parts.append(f"{name} {word}")
        else:
            parts.append(f"{name} {row['median']:.2f} s ({row['median'] / ours['median']:.1f}x)")
    return f"{title} {case['size']}: " + ", ".join(parts)


def _blender_rows(case: dict) -> list[dict]:
    """The disk-to-disk rows of Blender 3.4 and of Blender 5 through bpy."""
    return [
        row
        for row in case["rows"]
        if row["how"] == "disk → disk"
        and (row["tool"] == "Blender" or row["tool"].endswith("(bpy)"))
    ]


def faster_blender(case: dict) -> dict | None:
    """The Blender row with the lower median (of those that ran), else the first one."""
    rows = _blender_rows(case)
    done = [row for row in rows if row["status"] == "ok"]
    if done:
        return min(done, key=lambda row: row["median"])
    return rows[0] if rows else None


def blenders_line(cases: list[dict], workload: str = "comp") -> str:
    """Which Blender the summary line compares with, and the other one's time."""
    comps = [c for c in cases if c["workload"] == workload]
    if not comps:
        return ""
    case = max(comps, key=lambda c: c["width"] * c["height"])
    ours = next(
        (r for r in case["rows"] if r["tool"] == "Mattebox" and r["how"] == "disk → disk"), None
    )
    parts = []
    for row in _blender_rows(case):
        name = "Blender 3.4 (blender -b)" if row["tool"] == "Blender" else row["tool"]
        if row["status"] != "ok":
            parts.append(f"{name} {row['status']}")
        elif ours is not None and ours["status"] == "ok":
            parts.append(f"{name} {row['median']:.2f} s ({row['median'] / ours['median']:.1f}x)")
    faster = faster_blender(case)
    if not parts or faster is None or faster["status"] != "ok":
        return ""
    chosen = "Blender 3.4" if faster["tool"] == "Blender" else faster["tool"]
    return f"blender above = the faster Blender, {chosen}; " + ", ".join(parts)


# --------------------------------------------------------------------------- JSON


def write_json(path: Path, data: dict) -> None:
    """Write the results file (folders made as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------- plot


def chain_series(cases: list[dict]) -> dict:
    """{(tool, how, size): [(N, median seconds, peak RSS bytes), ...]} of the chain cases."""
    series: dict = {}
    for case in cases:
        if case["workload"] != "chain":
            continue
        for row in case["rows"]:
            if row["status"] == "ok" and row.get("median") is not None:
                key = (row["tool"], row["how"], case["size"])
                series.setdefault(key, []).append((case["arg"], row["median"], row.get("peak_rss")))
    return {k: sorted(v) for k, v in series.items()}


def chain_table_lines(cases: list[dict]) -> list[str]:
    """Median time / peak RSS against N, one column per tool, one table per size."""
    series = chain_series(cases)
    lines: list[str] = []
    for size in sorted({key[2] for key in series}):
        columns = [key for key in series if key[2] == size]
        counts = sorted({n for key in columns for n, _, _ in series[key]})
        header = ["N", *(f"{tool} ({how})" for tool, how, _ in columns)]
        rows = [header]
        for n in counts:
            cells = [str(n)]
            for key in columns:
                found = [p for p in series[key] if p[0] == n]
                cells.append(
                    f"{seconds_text(found[0][1])}, {mib_text(found[0][2]) or '–'}" if found else ""
                )
            rows.append(cells)
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines += [f"chain of N nodes at {size}: median time, peak RSS", ""]
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(header, widths)) + " |")
        lines.append("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
        lines += ["| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |" for r in rows[1:]]
        lines.append("")
    return lines


def plot_chain(cases: list[dict], path: Path) -> bool:
    """Two panels, time and peak memory against chain length; False when nothing to plot."""
    series = chain_series(cases)
    if not series:
        return False
    try:
        import matplotlib
    except ImportError:
        print("plot skipped: matplotlib is not installed (pip install matplotlib)")
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    sizes = sorted({k[2] for k in series})
    styles = dict(zip(sizes, ("-", "--", ":", "-.")))
    tools = sorted({(k[0], k[1]) for k in series})
    colours = {tool: f"C{i}" for i, tool in enumerate(tools)}
    for (tool, how, size), points in series.items():
        label = f"{tool} ({how}), {size}"
        style = {"color": colours[(tool, how)], "linestyle": styles[size], "marker": "o"}
        ns = [p[0] for p in points]
        left.plot(ns, [p[1] for p in points], label=label, **style)
        memory = [(n, p[2] / 2**20) for n, p in zip(ns, points) if p[2]]
        if memory:
            right.plot(*zip(*memory), label=label, **style)
    left.set(
        xlabel="nodes in the chain (N)",
        ylabel="median time (s)",
        yscale="log",
        title="Time against chain length",
    )
    right.set(
        xlabel="nodes in the chain (N)",
        ylabel="peak RSS (MiB)",
        title="Peak memory against chain length",
    )
    right.set_ylim(bottom=0)
    left.legend(fontsize=7)
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# --------------------------------------------------------------------------- docs page


def markdown_section(data: dict, plot: Path | None, docs: Path) -> str:
    """The generated part of docs/benchmarks.md (between the bench markers)."""
    lines = [
        BEGIN,
        "## Mattebox against its peers (`bench/run.py`)",
        "",
        (
            "Generated by the command below; rerun it to replace this section "
            "(everything between the `bench:begin` and `bench:end` markers)."
        ),
        "",
        (
            f"Command: `{data['command']}` ({data['mode']} run, {data['date']}, "
            f"{data['wall_seconds']:.0f} s)."
        ),
        "",
        f"**{data['summary']}**",
        "",
        *([f"({data['summary_blenders']})", ""] if data.get("summary_blenders") else []),
        *([f"**{data['aov_summary']}**", ""] if data.get("aov_summary") else []),
        machine_line(data["machine"]) + ".",
        "",
        "How each tool was driven:",
        "",
        *[f"- {text}" for text in data["methods"]],
        "",
    ]
    if data.get("left_out"):
        lines += ["Quick mode left out: " + "; ".join(data["left_out"]) + ".", ""]
    for case in data["cases"]:
        lines += [f"### {case_heading(case)}", "", case["description"], "", *table_lines(case), ""]
        lines += [f"- {note}" for note in case.get("notes", [])]
        if case.get("notes"):
            lines.append("")
    chain = chain_table_lines(data["cases"])
    if chain or plot is not None:
        lines += ["### Time and memory against chain length", ""]
        lines += [f"{line}:" if line.startswith("chain of") else line for line in chain]
    if plot is not None:
        link = os.path.relpath(plot, docs.parent)
        lines += [f"![Time and peak memory against chain length]({link})", ""]
    lines.append(END)
    return "\n".join(lines)


def update_docs(docs: Path, section: str) -> None:
    """Replace the text between the bench markers (adding them after the first heading
    when the page has none); leave the rest of the page alone."""
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        lines = text.splitlines(keepends=True)
        at = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), 0)
        lines[at:at] = ["\n", section + "\n"]
        text = "".join(lines)
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(text)
