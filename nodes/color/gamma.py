"""Gamma: a power curve on the positive values of RGB."""

from __future__ import annotations

from mattebox.nodes.kernel import ONE, kernel
from mattebox.nodes.kernel_math import pow_where_positive
from mattebox.nodes.spec import RGBA, Kind, NodeSpec, register


@kernel
def gamma_channel(v, inv_gamma):
    """``v ** inv_gamma`` where ``v > 0``; no ``pow`` at all where ``inv_gamma`` is 1."""
    return pow_where_positive(v, inv_gamma) if inv_gamma != ONE else v


@kernel
def gamma_point(r, g, b, a, p):
    """p: 1/value for R, G, B."""
    return gamma_channel(r, p[0]), gamma_channel(g, p[1]), gamma_channel(b, p[2]), a


@register
class Gamma(NodeSpec):
    """Raises positive RGB values to ``1 / value`` per channel; alpha passes through.

    ``out = in ** (1/value)`` where ``in > 0``; zero and negative values are unchanged
    (as Grade's gamma). Above 1 brightens the midtones, below 1 darkens them; 0 and 1 stay
    where they are. Alpha's ``value`` is not used.
    """

    type_name = "Gamma"
    family = "color"
    kind = Kind.POINT
    params = (
        RGBA(
            "value",
            1.0,
            "Gamma per channel: out = in ** (1/value) on positive values (alpha's is not used).",
            min=0.0001,
            soft_min=0.2,
            soft_max=5,
        ),
    )
    cpu_point = gamma_point

    @classmethod
    def pack(cls, values, ctx):
        return [1.0 / float(v) for v in values["value"][:3]]

    @classmethod
    def pass_through(cls, values):
        return "Source" if all(v == 1.0 for v in values["value"][:3]) else None
