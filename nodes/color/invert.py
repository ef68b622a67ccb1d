"""Invert: ``1 - value`` on chosen channels (Nuke's Invert)."""

from __future__ import annotations

from mattebox.nodes.kernel import ONE, kernel
from mattebox.nodes.spec import Channels, Float, Kind, NodeSpec, register

CHANNELS = {"rgb": (1, 1, 1, 0), "rgba": (1, 1, 1, 1), "alpha": (0, 0, 0, 1)}


@kernel
def invert_point(r, g, b, a, p):
    """p: per-channel weight of the inverted value (mix where inverted, else 0) for r g b a."""
    return (
        r + (ONE - r - r) * p[0],
        g + (ONE - g - g) * p[1],
        b + (ONE - b - b) * p[2],
        a + (ONE - a - a) * p[3],
    )


@register
class Invert(NodeSpec):
    """Replaces each chosen channel by ``1 - value``; the others pass through.

    The values are inverted as they are (premultiplied), as Nuke's Invert does; unpremultiply
    first to invert the colour of semi-transparent pixels. ``mix`` blends with the input.
    """

    type_name = "Invert"
    family = "color"
    kind = Kind.POINT
    params = (
        Channels(
            "channels",
            "rgb",
            "Channels to invert: rgb, rgba, alpha, all, a layer, or a list of channel names.",
        ),
        Float("mix", 1.0, "Blend between the input (0) and the result (1).", min=0, max=1),
    )
    cpu_point = invert_point

    @classmethod
    def pack(cls, values, ctx):
        return cls.pack_selected(values, ctx, CHANNELS.get(values["channels"], (1, 1, 1, 1)))

    @classmethod
    def pack_selected(cls, values, ctx, select):
        """The weights are the selection times ``mix``: the kernel selects by itself."""
        return [float(chosen) * values["mix"] for chosen in select]

    @classmethod
    def pass_through(cls, values):
        return "Source" if values["mix"] == 0.0 else None
