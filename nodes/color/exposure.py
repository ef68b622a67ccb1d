"""Exposure: brighten or darken RGB by photographic stops."""

from __future__ import annotations

from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import RGBA, Kind, NodeSpec, register


@kernel
def exposure_point(r, g, b, a, p):
    """p: the multiplier 2**stops for R, G, B."""
    return r * p[0], g * p[1], b * p[2], a


@register
class Exposure(NodeSpec):
    """Multiplies RGB by ``2 ** stops`` per channel; alpha passes through.

    ``out = in * 2**stops``: +1 doubles the light, -1 halves it. A multiplication, so it
    works on premultiplied images directly. Alpha's value of ``stops`` is not used.
    """

    type_name = "Exposure"
    family = "color"
    kind = Kind.POINT
    params = (
        RGBA(
            "stops",
            0.0,
            "Exposure change in stops per channel (alpha's value is not used).",
            min=-64,
            max=64,
            soft_min=-4,
            soft_max=4,
        ),
    )
    cpu_point = exposure_point

    @classmethod
    def pack(cls, values, ctx):
        return [2.0 ** float(s) for s in values["stops"][:3]]

    @classmethod
    def pass_through(cls, values):
        return "Source" if all(s == 0.0 for s in values["stops"][:3]) else None
