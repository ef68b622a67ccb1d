"""DifferenceKeyer: a matte from how much a plate differs from its clean plate."""

from __future__ import annotations

from mattebox.nodes.kernel import ONE, ZERO, kernel
from mattebox.nodes.spec import Bool, Float, Kind, NodeSpec, register


@kernel
def difference_keyer_point(ar, ag, ab, aa, br, bg, bb, ba, p):
    """p: offset, gain, premultiply."""
    diff = max(max(abs(ar - br), abs(ag - bg)), abs(ab - bb))
    key = min(max((diff - p[0]) * p[1], ZERO), ONE)
    if p[2] > 0.5:
        return ar * key, ag * key, ab * key, key
    return ar, ag, ab, key


@register
class DifferenceKeyer(NodeSpec):
    """Keys what differs between a plate (A) and its clean plate (B) (Nuke's Difference).

    ``alpha = clamp((max(|A.r - B.r|, |A.g - B.g|, |A.b - B.b|) - offset) * gain, 0, 1)``
    on the colours as stored; R, G and B are A's, multiplied by the key with
    ``premultiply``. Outside B's data window B is transparent black; the output's data
    window is A's. ``offset`` ignores differences up to its value (grain, compression
    noise); ``gain`` makes the rest reach 1 sooner.
    """

    type_name = "DifferenceKeyer"
    family = "keyer"
    kind = Kind.POINT
    inputs = ("A", "B")
    params = (
        Float(
            "offset",
            0.0,
            "Differences up to this value key to 0 (noise threshold).",
            min=-1e6,
            max=1e6,
            soft_min=0,
            soft_max=0.5,
        ),
        Float(
            "gain",
            1.0,
            "Scales the difference after the offset; higher keys faint changes fully.",
            min=0,
            max=1e6,
            soft_min=0,
            soft_max=20,
        ),
        Bool("premultiply", False, "Multiply A's R, G and B by the key."),
    )
    window_of_main_input = True
    cpu_point = difference_keyer_point

    @classmethod
    def pack(cls, values, ctx):
        return [float(values["offset"]), float(values["gain"]), float(values["premultiply"])]
