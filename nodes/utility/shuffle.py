"""Shuffle: rearrange channels, or fill them with 0 or 1 (Nuke's Shuffle)."""

from __future__ import annotations

from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import Enum, Kind, NodeSpec, register

# Index = the value packed for the kernels.
SOURCES = ("r", "g", "b", "a", "0", "1")
OUTPUTS = ("red", "green", "blue", "alpha")


@kernel
def shuffle_pick(r, g, b, a, k):
    """The input channel (or constant) numbered ``k`` in SOURCES."""
    if k == 0.0:
        return r
    if k == 1.0:
        return g
    if k == 2.0:
        return b
    if k == 3.0:
        return a
    if k == 4.0:
        return 0.0
    return 1.0


@kernel
def shuffle_point(r, g, b, a, p):
    """p: source index (into SOURCES) for the red, green, blue and alpha outputs."""
    return (
        shuffle_pick(r, g, b, a, p[0]),
        shuffle_pick(r, g, b, a, p[1]),
        shuffle_pick(r, g, b, a, p[2]),
        shuffle_pick(r, g, b, a, p[3]),
    )


@register
class Shuffle(NodeSpec):
    """Sets each output channel to one input channel (r, g, b, a) or to 0 or 1.

    Outside the input's data window there are no pixels, so a channel set to 1 is 1 only
    inside it (as in Nuke, where the bounding box stays the input's).
    """

    type_name = "Shuffle"
    family = "utility"
    kind = Kind.POINT
    params = tuple(
        Enum(
            name,
            SOURCES,
            SOURCES[k],
            f"What the output's {name} channel takes: r, g, b, a, 0 or 1.",
        )
        for k, name in enumerate(OUTPUTS)
    )
    cpu_point = shuffle_point

    @classmethod
    def pack(cls, values, ctx):
        return [float(SOURCES.index(values[name])) for name in OUTPUTS]

    @classmethod
    def pass_through(cls, values):
        identity = all(values[name] == SOURCES[k] for k, name in enumerate(OUTPUTS))
        return "Source" if identity else None
