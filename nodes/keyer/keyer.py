"""Keyer: a matte from one measure of the colour (luminance, a channel, saturation...)."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.kernel import ONE, ZERO, kernel
from mattebox.nodes.spec import RGBA, Bool, Enum, Kind, NodeSpec, register

# Index = the value packed for the kernels; never reorder (scripts store the names).
OPERATIONS = ("luminance", "red", "green", "blue", "saturation", "max", "min")
#: Where the key goes; never reorder. The packed value is the component index.
OUTPUTS = ("alpha", "red", "green", "blue")
OUTPUT_COMPONENTS = {"alpha": 3, "red": 0, "green": 1, "blue": 2}

LUMA_R = np.float32(0.2126)  # Rec. 709 luminance weights
LUMA_G = np.float32(0.7152)
LUMA_B = np.float32(0.0722)


@kernel
def keyer_measure(op, r, g, b):
    """The value the key is pulled from, for the operation index ``op``."""
    if op == 0.0:
        return LUMA_R * r + LUMA_G * g + LUMA_B * b
    if op == 1.0:
        return r
    if op == 2.0:
        return g
    if op == 3.0:
        return b
    if op == 4.0:
        return max(max(r, g), b) - min(min(r, g), b)
    if op == 5.0:
        return max(max(r, g), b)
    return min(min(r, g), b)


@kernel
def keyer_range(v, a, b, c, d, inv_rise, inv_fall):
    """0 below a, a ramp up to 1 at b, 1 from b to c, a ramp down to 0 at d, 0 above d.

    ``inv_rise`` is ``1 / (b - a)`` and ``inv_fall`` ``1 / (d - c)`` (unused where the
    ramp is a step: a == b gives 1 from b on, c == d gives 0 above c).
    """
    if v < b:
        return (v - a) * inv_rise if v > a else ZERO
    if v <= c:
        return ONE
    if v < d:
        return (d - v) * inv_fall
    return ZERO


@kernel
def keyer_point(r, g, b, a, p):
    """p: operation index, a b c d, 1/(b-a), 1/(d-c), output component, premultiply."""
    key = keyer_range(keyer_measure(p[0], r, g, b), p[1], p[2], p[3], p[4], p[5], p[6])
    if p[8] > 0.5:
        r = r * key
        g = g * key
        b = b * key
    out = p[7]
    if out == 3.0:
        return r, g, b, key
    if out == 0.0:
        return key, g, b, a
    if out == 1.0:
        return r, key, b, a
    return r, g, key, a


@register
class Keyer(NodeSpec):
    """Pulls a key from one measure of the colour and writes it to alpha (Nuke's Keyer).

    The measure ``v`` of each pixel's colour as stored (premultiplied): luminance
    (Rec. 709: ``0.2126 R + 0.7152 G + 0.0722 B``), red, green, blue, saturation
    (``max(R, G, B) - min(R, G, B)``), max or min of R, G, B. With ``range`` = (a, b, c, d),
    ``a <= b <= c <= d``: the key is 0 below a, rises linearly from 0 at a to 1 at b, is 1
    from b to c, falls linearly to 0 at d and is 0 above d; where a == b the rise is a step
    (1 from b on), where c == d the fall is a step (0 above c). The default (0, 1, 1, 1)
    keys luminance: the key is the luminance between 0 and 1, 0 below 0 and above 1 (set
    d high to keep values above 1). A range out of order is an error naming the node.

    The key replaces the ``output`` component of the main layer (alpha by default; red,
    green or blue to look at it, or to build a matte in a colour channel); with
    ``premultiply`` R, G and B are first multiplied by the key.
    """

    type_name = "Keyer"
    family = "keyer"
    kind = Kind.POINT
    params = (
        Enum("operation", OPERATIONS, "luminance", "What of the colour the key is pulled from."),
        RGBA(
            "range",
            (0.0, 1.0, 1.0, 1.0),
            "a, b, c, d (a <= b <= c <= d): 0 below a, ramp to 1 at b, 1 to c, ramp to 0 at d.",
            min=-1e6,
            max=1e6,
            soft_min=0,
            soft_max=1,
        ),
        Enum("output", OUTPUTS, "alpha", "The component of the main layer the key replaces."),
        Bool("premultiply", False, "Multiply R, G and B by the key."),
    )
    cpu_point = keyer_point

    @classmethod
    def pack(cls, values, ctx):
        a, b, c, d = (float(v) for v in values["range"])
        if not a <= b <= c <= d:
            raise ValueError(f"range: expected a <= b <= c <= d, got ({a:g}, {b:g}, {c:g}, {d:g})")
        inv_rise = 1.0 / (b - a) if b > a else 0.0
        inv_fall = 1.0 / (d - c) if d > c else 0.0
        return [
            float(OPERATIONS.index(values["operation"])),
            a,
            b,
            c,
            d,
            inv_rise,
            inv_fall,
            float(OUTPUT_COMPONENTS[values["output"]]),
            float(values["premultiply"]),
        ]
