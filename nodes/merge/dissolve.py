"""Dissolve: a linear blend between two images (Nuke's Dissolve)."""

from __future__ import annotations

from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import Float, Kind, NodeSpec, register


@kernel
def dissolve_point(r0, g0, b0, a0, r1, g1, b1, a1, p):
    """p: which."""
    w = p[0]
    return r0 + (r1 - r0) * w, g0 + (g1 - g0) * w, b0 + (b1 - b0) * w, a0 + (a1 - a0) * w


@register
class Dissolve(NodeSpec):
    """Blends In0 into In1 on all four channels: ``In0 + (In1 - In0) * which``.

    Outside an input's data window that input is transparent black; the output's data
    window is the union of both.
    """

    type_name = "Dissolve"
    family = "merge"
    kind = Kind.POINT
    inputs = ("In0", "In1")
    params = (
        Float("which", 0.0, "0 shows In0, 1 shows In1, in between a linear blend.", min=0, max=1),
    )
    cpu_point = dissolve_point

    @classmethod
    def pack(cls, values, ctx):
        return [values["which"]]

    @classmethod
    def pass_through(cls, values):
        return {0.0: "In0", 1.0: "In1"}.get(values["which"])
