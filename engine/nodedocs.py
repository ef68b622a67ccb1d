"""The node reference page, generated from the declarations.

``python -m mattebox.engine.nodedocs > docs/nodes.md`` rewrites it; a test checks the
committed page is current.
"""

from __future__ import annotations

import inspect

from mattebox.nodes import limits
from mattebox.nodes.spec import NodeSpec, Param, registry


def _value(param: Param) -> str:
    value = param.default
    if isinstance(value, tuple):
        return "(" + ", ".join(f"{v:g}" for v in value) + ")"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value).lower()


def _range(param: Param) -> str:
    """The slider's range (soft; where a side has none, the hard limit's)."""
    if param.choices:
        return " / ".join(param.choices)
    lo = param.soft_min if param.soft_min is not None else param.min
    hi = param.soft_max if param.soft_max is not None else param.max
    return _span(lo, hi)


def _limits(param: Param) -> str:
    """The hard limits: a value outside them is refused."""
    return "" if param.choices else _span(param.min, param.max)


def _span(lo: float | None, hi: float | None) -> str:
    if lo is None and hi is None:
        return ""
    return f"{'' if lo is None else f'{lo:g}'} .. {'' if hi is None else f'{hi:g}'}"


def node_section(spec: type[NodeSpec]) -> str:
    """Markdown for one node type."""
    doc = inspect.cleandoc(spec.__doc__ or "")
    inputs = ", ".join(spec.inputs + tuple(f"{i} (optional)" for i in spec.optional_inputs))
    lines = [
        f"## {spec.type_name}",
        "",
        f"*{spec.family}* · {spec.kind.value} · version {spec.version} · inputs: {inputs or 'none'}",
        "",
        doc,
        "",
    ]
    if spec.params:
        lines += [
            "| parameter | type | default | range | limits | |",
            "|---|---|---|---|---|---|",
        ]
        for p in spec.params:
            doc_text = p.doc + ("" if p.animatable else " (not animatable)")
            lines.append(
                f"| `{p.name}` | {p.type} | {_value(p)} | {_range(p)} | {_limits(p)} | {doc_text} |"
            )
        lines.append("")
    return "\n".join(lines)


def node_text(spec: type[NodeSpec]) -> str:
    """Plain text for one node type, for a terminal (``mattebox nodes TYPE``): its kind
    and inputs, its doc, and a table of parameters with type, default, range (the
    slider's), limits (values outside them are refused) and doc, as ``docs/nodes.md``."""
    doc = inspect.cleandoc(spec.__doc__ or "")
    inputs = ", ".join(spec.inputs + tuple(f"{i} (optional)" for i in spec.optional_inputs))
    lines = [
        f"{spec.type_name}: {spec.family}, {spec.kind.value}, version {spec.version}",
        f"inputs: {inputs or 'none'}",
        "",
        doc,
        "",
    ]
    rows = [("parameter", "type", "default", "range", "limits", "")]
    for p in spec.params:
        doc_text = p.doc + ("" if p.animatable else " (not animatable)")
        rows.append((p.name, p.type, _value(p), _range(p), _limits(p), doc_text))
    if len(rows) > 1:
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths)]
            lines.append("  ".join(cells + [row[5]]).rstrip())
    else:
        lines.append("no parameters")
    return "\n".join(lines) + "\n"


def page() -> str:
    """The whole reference page (node types marked ``internal`` are left out)."""
    public = [s for s in registry().values() if not s.internal]  # engine-made: not for users
    specs = sorted(public, key=lambda s: (s.family, s.type_name))
    head = [
        "# Node reference",
        "",
        "Generated from the node declarations by `python -m mattebox.engine.nodedocs`;",
        "do not edit by hand.",
        "",
        "*range* is the slider's range in the editor (values outside it may be typed);",
        "*limits* are hard: a value outside them is refused with a message naming the",
        "node and parameter. Every whole number is also limited to ±2147483647 (32 bits),",
        "every other number to float32's ±3.4e38, widths and heights of formats to",
        f"{limits.MAX_IMAGE_SIZE} pixels, and keyframe times to ±(2^53 - 1) (`nodes/limits.py`).",
        "",
    ]
    return "\n".join(head + [node_section(s) for s in specs])


if __name__ == "__main__":
    print(page(), end="")
