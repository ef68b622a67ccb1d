"""CDL: the ASC Color Decision List (slope, offset, power, saturation), as OpenColorIO does it."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.kernel import ONE, ZERO, kernel
from mattebox.nodes.kernel_math import pow_where_positive
from mattebox.nodes.spec import RGBA, Enum, Float, Kind, NodeSpec, register

INF = np.float32(np.inf)
RECIPROCAL_FLOOR = 0.01  # OCIO inverts slope, power and saturation as 1 / max(x, 0.01)


@kernel
def cdl_clamp(v, clamp):
    """``v`` limited to [0, 1] when ``clamp`` is set (ASC style), else unchanged."""
    if clamp > 0.5:
        return min(max(v, 0.0), 1.0)
    return v


@kernel
def cdl_power(v, power, clamp):
    """``v ** power``; the ASC style clamps first, the no-clamp style passes negatives through."""
    v = cdl_clamp(v, clamp)
    result = pow_where_positive(v, power)
    at_zero = ONE if power == 0.0 else (ZERO if power > 0.0 else INF)
    result = at_zero if v == ZERO else result
    return v if power == ONE else result


@kernel
def cdl_point(r, g, b, a, p):
    """p: slope(3) offset(3) power(3) saturation inverse clamp.

    For the inverse the block holds OCIO's reverse parameters: 1/slope, -offset, 1/power
    and 1/saturation (each reciprocal of max(x, 0.01)).
    """
    sat = p[9]
    clamp = p[11]
    if p[10] > 0.5:
        r = cdl_clamp(r, clamp)
        g = cdl_clamp(g, clamp)
        b = cdl_clamp(b, clamp)
        luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
        r = cdl_power(luma + sat * (r - luma), p[6], clamp)
        g = cdl_power(luma + sat * (g - luma), p[7], clamp)
        b = cdl_power(luma + sat * (b - luma), p[8], clamp)
        r = cdl_clamp((r + p[3]) * p[0], clamp)
        g = cdl_clamp((g + p[4]) * p[1], clamp)
        b = cdl_clamp((b + p[5]) * p[2], clamp)
        return r, g, b, a
    r = cdl_power(r * p[0] + p[3], p[6], clamp)
    g = cdl_power(g * p[1] + p[4], p[7], clamp)
    b = cdl_power(b * p[2] + p[5], p[8], clamp)
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    r = cdl_clamp(luma + sat * (r - luma), clamp)
    g = cdl_clamp(luma + sat * (g - luma), clamp)
    b = cdl_clamp(luma + sat * (b - luma), clamp)
    return r, g, b, a


@register
class CDL(NodeSpec):
    """ASC CDL on RGB, matching OpenColorIO's CDLTransform; alpha passes through.

    Forward: ``v = in * slope + offset``, then ``v ** power`` (negative values pass through
    unchanged), then saturation about the Rec. 709 luma
    (``luma + saturation * (v - luma)``). ``inverse`` undoes it step by step in reverse
    order; as in OCIO, slope, power and saturation below 0.01 are treated as 0.01 there.
    ``style`` ``no_clamp`` is OCIO's default (CDL_NO_CLAMP); ``asc`` is the ASC v1.2 formula
    (OCIO's CDL_ASC), which clamps to [0, 1] before the power and at the end (and, in
    inverse, at the start). The alpha component of ``slope``, ``offset`` and ``power``
    is unused. The CDL is not linear: apply it to unpremultiplied colour.
    """

    type_name = "CDL"
    family = "color"
    kind = Kind.POINT
    params = (
        RGBA("slope", 1.0, "Multiplies RGB first (alpha component unused).", min=0, soft_max=4),
        RGBA(
            "offset",
            0.0,
            "Added after the slope (alpha component unused).",
            soft_min=-1,
            soft_max=1,
        ),
        RGBA(
            "power",
            1.0,
            "Exponent applied after the offset (alpha component unused).",
            min=0.0001,
            soft_max=4,
        ),
        Float(
            "saturation", 1.0, "Saturation about Rec. 709 luma, applied last.", min=0, soft_max=4
        ),
        Enum("direction", ("forward", "inverse"), "forward", "Apply the CDL, or undo it."),
        Enum(
            "style",
            ("no_clamp", "asc"),
            "no_clamp",
            "no_clamp: OCIO's default, values outside [0, 1] survive; asc: ASC v1.2, clamps to [0, 1].",
        ),
    )
    cpu_point = cdl_point

    @classmethod
    def pack(cls, values, ctx):
        slope = list(values["slope"][:3])
        offset = list(values["offset"][:3])
        power = list(values["power"][:3])
        sat = values["saturation"]
        inverse = values["direction"] == "inverse"
        if inverse:
            slope = [_reciprocal(v) for v in slope]
            offset = [-v for v in offset]
            power = [_reciprocal(v) for v in power]
            sat = _reciprocal(sat)
        clamp = 1.0 if values["style"] == "asc" else 0.0
        return [*slope, *offset, *power, sat, float(inverse), clamp]

    @classmethod
    def pass_through(cls, values):
        identity = (
            values["style"] == "no_clamp"
            and values["slope"][:3] == (1.0, 1.0, 1.0)
            and values["offset"][:3] == (0.0, 0.0, 0.0)
            and values["power"][:3] == (1.0, 1.0, 1.0)
            and values["saturation"] == 1.0
        )
        return "Source" if identity else None


def _reciprocal(v: float) -> float:
    return 1.0 / max(v, RECIPROCAL_FLOOR)
