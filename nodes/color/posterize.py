"""Posterize: quantise RGB to a number of levels per unit."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import Float, Kind, NodeSpec, register

HALF = np.float32(0.5)


@kernel
def posterize_channel(v, levels, step):
    """``v`` rounded to the nearest multiple of ``step = 1 / levels`` (halves round up)."""
    return np.floor(v * levels + HALF) * step


@kernel
def posterize_point(r, g, b, a, p):
    """p: levels 1/levels."""
    levels = p[0]
    step = p[1]
    rg = posterize_channel(r, levels, step)
    gg = posterize_channel(g, levels, step)
    bg = posterize_channel(b, levels, step)
    return rg, gg, bg, a


@register
class Posterize(NodeSpec):
    """Quantises RGB to steps of ``1 / levels``; alpha passes through.

    ``out = floor(in * levels + 0.5) / levels``: each value is rounded to the *nearest*
    step (halfway values round up), so 0 stays 0, 1 stays 1, mid-grey is not darkened and
    the result is unbiased; ``[0, 1]`` maps to ``levels + 1`` values (0, 1/levels, ..., 1).
    Values outside ``[0, 1]`` are quantised the same way (no clamping). ``levels`` need
    not be an integer. Rounding does not commute with premultiplication: set
    ``unpremult`` to ``alpha`` to quantise the unpremultiplied colour.
    """

    type_name = "Posterize"
    family = "color"
    kind = Kind.POINT
    params = (
        Float(
            "levels",
            8.0,
            "Steps per unit: values are rounded to the nearest multiple of 1/levels.",
            min=1,
            soft_min=1,
            soft_max=64,
        ),
    )
    cpu_point = posterize_point

    @classmethod
    def pack(cls, values, ctx):
        levels = float(values["levels"])
        return [levels, 1.0 / levels]
