"""Clamp: limit every channel to a range (Nuke's Clamp on rgba)."""

from __future__ import annotations

from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import RGBA, Float, Kind, NodeSpec, register


@kernel
def clamp_channel(v, lo, hi):
    """``min(max(v, lo), hi)``: where ``lo > hi`` the result is ``hi``."""
    return min(max(v, lo), hi)


@kernel
def clamp_point(r, g, b, a, p):
    """p: minimum(4) maximum(4) mix."""
    mix = p[8]
    cr = clamp_channel(r, p[0], p[4])
    cg = clamp_channel(g, p[1], p[5])
    cb = clamp_channel(b, p[2], p[6])
    ca = clamp_channel(a, p[3], p[7])
    return r + (cr - r) * mix, g + (cg - g) * mix, b + (cb - b) * mix, a + (ca - a) * mix


@register
class Clamp(NodeSpec):
    """Limits R, G, B and A each to ``[minimum, maximum]``.

    ``out = min(max(in, minimum), maximum)`` per channel (so where a minimum is above its
    maximum the result is the maximum), then ``mix`` with the input on all four channels.
    Alpha is clamped too; set its range to ``[0, 1]`` or wider to leave it alone.
    """

    type_name = "Clamp"
    family = "color"
    kind = Kind.POINT
    params = (
        RGBA(
            "minimum",
            0.0,
            "Values below this become this (per channel, alpha included).",
            soft_min=-1,
            soft_max=1,
        ),
        RGBA(
            "maximum",
            1.0,
            "Values above this become this (per channel, alpha included).",
            soft_min=0,
            soft_max=4,
        ),
        Float("mix", 1.0, "Blend between the input (0) and the result (1).", min=0, max=1),
    )
    cpu_point = clamp_point

    @classmethod
    def pack(cls, values, ctx):
        return [*values["minimum"], *values["maximum"], values["mix"]]

    @classmethod
    def pass_through(cls, values):
        return "Source" if values["mix"] == 0.0 else None
