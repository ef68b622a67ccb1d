"""Unpremult: divide colour by alpha (Nuke's Unpremult)."""

from __future__ import annotations

from mattebox.nodes.channel.premult_by import by_main_alpha
from mattebox.nodes.channels import MAIN
from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import RGBA_LAYERS, Kind, NodeSpec, register


@kernel
def unpremult_point(r, g, b, a, p):
    """p: empty (no parameters)."""
    if a == 0.0:
        return r, g, b, a
    return r / a, g / a, b / a, a


@register
class Unpremult(NodeSpec):
    """Divides R, G and B by alpha where alpha is not 0; elsewhere they pass through.

    Colour corrections that are not linear (gamma, pow, keys) should see unpremultiplied
    colour: Unpremult, then the correction, then Premult.
    """

    type_name = "Unpremult"
    family = "color"
    kind = Kind.POINT
    unpremult_option = False
    params = ()
    cpu_point = unpremult_point

    @classmethod
    def pack(cls, values, ctx):
        return []

    @classmethod
    def layer_kernel(cls, values, layer, select, layers=RGBA_LAYERS):
        """Other layers are divided by the main layer's alpha."""
        if layer == MAIN or select is None:
            return super().layer_kernel(values, layer, select, layers)
        return by_main_alpha(layer, select, divide=True)
