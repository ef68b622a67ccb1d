"""Premult: multiply colour by alpha (Nuke's Premult)."""

from __future__ import annotations

from mattebox.nodes.channel.premult_by import by_main_alpha
from mattebox.nodes.channels import MAIN
from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import RGBA_LAYERS, Kind, NodeSpec, register


@kernel
def premult_point(r, g, b, a, p):
    """p: empty (no parameters)."""
    return r * a, g * a, b * a, a


@register
class Premult(NodeSpec):
    """Multiplies R, G and B by alpha; alpha passes through.

    Use it after work done on unpremultiplied colour (see Unpremult) to return to the
    premultiplied images every other node expects.
    """

    type_name = "Premult"
    family = "color"
    kind = Kind.POINT
    unpremult_option = False
    params = ()
    cpu_point = premult_point

    @classmethod
    def pack(cls, values, ctx):
        return []

    @classmethod
    def layer_kernel(cls, values, layer, select, layers=RGBA_LAYERS):
        """Other layers are multiplied by the main layer's alpha."""
        if layer == MAIN or select is None:
            return super().layer_kernel(values, layer, select, layers)
        return by_main_alpha(layer, select, divide=False)
