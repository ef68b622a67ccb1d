"""Saturation: scale colour away from (or towards) its luminance (Nuke's Saturation)."""

from __future__ import annotations

from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import Enum, Float, Kind, NodeSpec, register

LUMA_WEIGHTS = {
    "rec709": (0.2126, 0.7152, 0.0722),
    "ccir601": (0.299, 0.587, 0.114),
    "average": (1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0),
    "maximum": (0.0, 0.0, 0.0),  # unused: the luminance is max(r, g, b)
}


@kernel
def saturation_point(r, g, b, a, p):
    """p: luma weights(3) use_maximum saturation mix."""
    if p[3] > 0.5:
        luma = max(max(r, g), b)
    else:
        luma = p[0] * r + p[1] * g + p[2] * b
    sat = p[4]
    mix = p[5]
    sr = luma + (r - luma) * sat
    sg = luma + (g - luma) * sat
    sb = luma + (b - luma) * sat
    return r + (sr - r) * mix, g + (sg - g) * mix, b + (sb - b) * mix, a


@register
class Saturation(NodeSpec):
    """Scales RGB away from its luminance; alpha passes through.

    ``out = luma + (in - luma) * saturation``, then ``mix`` with the input. 0 gives grey,
    1 leaves the image unchanged, above 1 makes colours stronger. ``luma`` is a weighted
    sum of RGB (Rec. 709, CCIR 601 or the average) or the largest of the three. Both
    commute with premultiplication, so the node works on premultiplied images directly.
    """

    type_name = "Saturation"
    family = "color"
    kind = Kind.POINT
    params = (
        Float(
            "saturation",
            1.0,
            "0 is grey, 1 unchanged, above 1 more colourful.",
            soft_min=0,
            soft_max=4,
        ),
        Enum(
            "luminance_math",
            tuple(LUMA_WEIGHTS),
            "rec709",
            "How luminance is computed: Rec. 709 or CCIR 601 weights, the average, or the maximum of RGB.",
        ),
        Float("mix", 1.0, "Blend between the input (0) and the result (1).", min=0, max=1),
    )
    cpu_point = saturation_point

    @classmethod
    def pack(cls, values, ctx):
        math = values["luminance_math"]
        use_maximum = 1.0 if math == "maximum" else 0.0
        return [*LUMA_WEIGHTS[math], use_maximum, values["saturation"], values["mix"]]

    @classmethod
    def pass_through(cls, values):
        unchanged = values["mix"] == 0.0 or values["saturation"] == 1.0
        return "Source" if unchanged else None
