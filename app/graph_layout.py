"""Where the node editor puts nodes that have no stored position (a script built in
Python, or pasted without ``ui``): a layered layout, top-down, in which no pipe runs
behind a node.

- **Rows.** A node sits one row below the lowest of its inputs; then, from the bottom
  up, each node moves down to just above its highest consumer, so an input sits right
  above the node reading it. Only a node read by nodes on different rows has a pipe
  spanning several rows.
- **Columns.** A walk from the terminal nodes (nothing reads them) through the inputs in
  port order: a node takes the column of its main (first) input when it was the first to
  reach it, else a column of its own; a source starts a new column. A column is
  therefore one chain of main inputs, and its pipes are vertical with nothing between.
- **Clearing.** Pipes between adjacent rows cross no node (rows are apart); a pipe
  spanning rows is checked against every node between, and a column a pipe crosses moves
  to the right edge (or, when the pipe runs along the node's own column, that node
  alone), until none does.

Columns are as wide as their widest node; rows are ``row_spacing`` apart. The geometry of
ports follows :mod:`mattebox.app.node_editor` (inputs spread over the top, side inputs on
the right edge, the output at the bottom centre).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LaidOutNode", "layered_layout", "segment_hits_rect"]


@dataclass
class LaidOutNode:
    """A node for :func:`layered_layout`: its inputs in port order (top inputs first, the
    names of its upstream nodes; None where unconnected) and its side inputs."""

    name: str
    top: Sequence[str | None]
    side: Sequence[str | None] = ()
    width: float = 110.0


def layered_layout(
    nodes: Sequence[LaidOutNode],
    height: float,
    row_spacing: float,
    column_gap: float,
    origin: tuple[float, float] = (0.0, 0.0),
) -> dict[str, tuple[float, float]]:
    """Top-left positions of ``nodes`` (only links among them count); see the module."""
    by_name = {n.name: n for n in nodes}
    inputs = {n.name: [u for u in (*n.top, *n.side) if u in by_name and u != n.name] for n in nodes}
    consumers: dict[str, list[str]] = {n.name: [] for n in nodes}
    for name, ups in inputs.items():
        for up in ups:
            consumers[up].append(name)
    order = _topological(nodes, inputs)
    row: dict[str, int] = {}
    for name in order:
        row[name] = 1 + max((row[u] for u in inputs[name]), default=-1)
    for name in reversed(order):  # consumers first: sit right above the highest one
        if consumers[name]:
            row[name] = min(row[c] for c in consumers[name]) - 1
    shift = min(row.values(), default=0)
    row = {k: v - shift for k, v in row.items()}
    column = _columns(nodes, by_name, consumers)
    geometry = _Geometry(by_name, row, height, row_spacing, column_gap, origin)
    for _ in range(4 * len(nodes)):  # each round moves one column or node to the right
        crossing = geometry.crossing(column, inputs)
        if crossing is None:
            break
        up, down, obstacle = crossing
        moved = max(column.values()) + 1
        if column[obstacle] in (column[up], column[down]):
            column[obstacle] = moved  # a pipe along its own column: the node steps aside
        else:
            crossed = column[obstacle]
            column = {k: (moved if v == crossed else v) for k, v in column.items()}
    return geometry.positions(column)


def _topological(nodes: Sequence[LaidOutNode], inputs: dict) -> list[str]:
    """Names with inputs before their readers (a cycle, which the engine refuses, is cut)."""
    done: list[str] = []
    state: dict[str, int] = {}
    for start in nodes:
        stack = [(start.name, iter(inputs[start.name]))]
        if state.get(start.name):
            continue
        state[start.name] = 1
        while stack:
            name, ups = stack[-1]
            up = next(ups, None)
            if up is None:
                stack.pop()
                state[name] = 2
                done.append(name)
            elif not state.get(up):
                state[up] = 1
                stack.append((up, iter(inputs[up])))
    return done


def _columns(nodes, by_name: dict, consumers: dict) -> dict[str, int]:
    column: dict[str, int] = {}
    next_column = [0]

    def place(name: str) -> None:
        node = by_name[name]
        ups = [u for u in (*node.top, *node.side) if u in by_name and u != name]
        owned = None
        for index, up in enumerate(ups):
            if up in column or up in placing:
                continue
            placing.add(up)
            place(up)
            if index == 0:
                owned = up
        if owned is not None:
            column[name] = column[owned]
        else:
            column[name] = next_column[0]
            next_column[0] += 1

    placing: set[str] = set()
    terminals = [n.name for n in nodes if not consumers[n.name]]
    for name in terminals + [n.name for n in nodes]:  # (+ the rest of a cycle)
        if name not in column and name not in placing:
            placing.add(name)
            place(name)
    return column


class _Geometry:
    def __init__(self, by_name, row, height, row_spacing, column_gap, origin):
        self.by_name, self.row, self.height = by_name, row, height
        self.row_spacing, self.column_gap, self.origin = row_spacing, column_gap, origin

    def positions(self, column: dict[str, int]) -> dict[str, tuple[float, float]]:
        used = sorted(set(column.values()))
        widths = {c: 0.0 for c in used}
        for name, c in column.items():
            widths[c] = max(widths[c], self.by_name[name].width)
        left, x = {}, self.origin[0]
        for c in used:
            left[c] = x
            x += widths[c] + self.column_gap
        return {
            name: (
                left[c] + (widths[c] - self.by_name[name].width) / 2,
                self.origin[1] + self.row[name] * self.row_spacing,
            )
            for name, c in column.items()
        }

    def rect(self, name: str, pos: dict) -> tuple[float, float, float, float]:
        x, y = pos[name]
        return (x, y, x + self.by_name[name].width, y + self.height)

    def ports(self, up: str, down: str, pos: dict):
        """The two ends of the pipe from ``up`` into ``down`` (every input it feeds)."""
        x0, _, x1, y1 = self.rect(up, pos)
        start = ((x0 + x1) / 2, y1)
        node = self.by_name[down]
        dx0, dy0, dx1, dy1 = self.rect(down, pos)
        top = list(node.top)
        for index, name in enumerate(top):
            if name == up:
                yield start, (dx0 + (dx1 - dx0) * (index + 1) / (len(top) + 1), dy0)
        for name in node.side:
            if name == up:
                yield start, (dx1, (dy0 + dy1) / 2)

    def crossing(self, column: dict[str, int], inputs: dict) -> tuple[str, str, str] | None:
        """A pipe's two ends and a node it crosses (the first found), or None."""
        pos = self.positions(column)
        for down, ups in inputs.items():
            for up in ups:
                for a, b in self.ports(up, down, pos):
                    for name in self.by_name:
                        if name in (up, down) or not (self.row[up] <= self.row[name]):
                            continue
                        if self.row[name] > self.row[down]:
                            continue
                        if segment_hits_rect(a, b, self.rect(name, pos), margin=-4.0):
                            return up, down, name
        return None


def segment_hits_rect(
    a: tuple[float, float],
    b: tuple[float, float],
    rect: tuple[float, float, float, float],
    margin: float = 0.0,
) -> bool:
    """Whether the segment ``a``-``b`` passes through ``rect`` (x0, y0, x1, y1), shrunk by
    ``margin`` on every side (touching an edge is not passing through)."""
    x0, y0, x1, y1 = rect[0] + margin, rect[1] + margin, rect[2] - margin, rect[3] - margin
    if x0 >= x1 or y0 >= y1:
        return False
    # Liang-Barsky clipping: the part of the segment inside the box is not empty
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - x0), (dx, x1 - a[0]), (-dy, a[1] - y0), (dy, y1 - a[1])):
        if p == 0:  # parallel to this side: inside its slab, strictly, or not at all
            if q <= 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return t1 - t0 > 1e-9
