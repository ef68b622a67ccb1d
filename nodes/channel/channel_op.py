"""ChannelOp: one component set from a component of A and one of B (engine-made)."""

from __future__ import annotations

from mattebox.nodes.channel.shuffle_plane import component
from mattebox.nodes.kernel import ONE, kernel
from mattebox.nodes.spec import Enum, Int, Kind, NodeSpec, register

# Index = the value packed for the kernels; never reorder (scripts store the names).
CHANNEL_OPERATIONS = (
    "union",
    "intersect",
    "plus",
    "minus",
    "multiply",
    "min",
    "max",
    "difference",
    "stencil",
    "from",
    "copy",
)


@kernel
def channel_operation(op, a, b):
    """``a`` and ``b`` combined by the operation numbered ``op`` in CHANNEL_OPERATIONS."""
    if op == 0.0:
        return a + b - a * b
    if op == 1.0:
        return a * b
    if op == 2.0:
        return a + b
    if op == 3.0:
        return a - b
    if op == 4.0:
        return a * b
    if op == 5.0:
        return min(a, b)
    if op == 6.0:
        return max(a, b)
    if op == 7.0:
        return abs(a - b)
    if op == 8.0:
        return b * (ONE - a)
    if op == 9.0:
        return b - a
    return a


@kernel
def channel_op_point(r, g, b, a, ar, ag, ab, aa, br, bg, bb, ba, p):
    """p: operation index (into CHANNEL_OPERATIONS) a_component b_component out_component."""
    v = channel_operation(p[0], component(ar, ag, ab, aa, p[1]), component(br, bg, bb, ba, p[2]))
    k = p[3]
    return (
        v if k == 0.0 else r,
        v if k == 1.0 else g,
        v if k == 2.0 else b,
        v if k == 3.0 else a,
    )


@register
class ChannelOp(NodeSpec):
    """Base with one component replaced by an operation on a component of A and one of B.

    Made by the engine for channel arithmetic between layers: ``out[out_component] =
    op(A[a_component], B[b_component])``, the other components are Base's. Operations:
    union ``a + b - ab``, intersect ``ab``, plus ``a + b``, minus ``a - b``, multiply
    ``ab``, min, max, difference ``|a - b|``, stencil ``b(1 - a)``, from ``b - a``, copy
    ``a``. Outside an input's data window it reads 0; the output's data window is the
    union of the three inputs'.
    """

    type_name = "ChannelOp"
    family = "channel"
    kind = Kind.POINT
    internal = True
    inputs = ("Base", "A", "B")
    params = (
        Enum(
            "operation",
            CHANNEL_OPERATIONS,
            "copy",
            "How A's component combines with B's into the output component.",
        ),
        Int("a_component", 0, "Which component (0 to 3) of A is the operation's a.", min=0, max=3),
        Int("b_component", 0, "Which component (0 to 3) of B is the operation's b.", min=0, max=3),
        Int(
            "out_component",
            0,
            "Which component (0 to 3) of Base the result replaces.",
            min=0,
            max=3,
        ),
    )
    cpu_point = channel_op_point

    @classmethod
    def pack(cls, values, ctx):
        return [
            float(CHANNEL_OPERATIONS.index(values["operation"])),
            float(values["a_component"]),
            float(values["b_component"]),
            float(values["out_component"]),
        ]
