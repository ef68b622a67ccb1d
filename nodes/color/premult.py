"""Premult: multiply colour by alpha (Nuke's Premult)."""

from __future__ import annotations

from mattebox.nodes.channels import MAIN
from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import Kind, NodeSpec, get, register


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
    def layer_kernel(cls, values, layer, select):
        """Other layers are multiplied by the main layer's alpha."""
        if layer == MAIN or select is None:
            return super().layer_kernel(values, layer, select)
        premult_by = get("PremultBy")
        chosen = premult_by.defaults() | {
            "divide": False,
            "select": tuple(float(s) for s in select),
        }
        return premult_by, chosen, ((0, layer), (0, MAIN))
