"""PremultBy: (un)premultiply a plane by the alpha of another (the main plane)."""

from __future__ import annotations

from mattebox.nodes.channels import MAIN
from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import RGBA, Bool, Kind, NodeSpec, register


@kernel
def premult_by_component(v, alpha, divide, selected):
    """One component: times ``alpha``, or divided by it where it is not 0 (``divide``);
    unchanged where not ``selected``."""
    done = v * alpha if divide < 0.5 else (v / alpha if alpha != 0.0 else v)
    return done if selected > 0.5 else v


@kernel
def premult_by_point(r, g, b, a, ar, ag, ab, alpha, p):
    """p: divide select(4). The second input's component 3 is the alpha."""
    return (
        premult_by_component(r, alpha, p[0], p[1]),
        premult_by_component(g, alpha, p[0], p[2]),
        premult_by_component(b, alpha, p[0], p[3]),
        premult_by_component(a, alpha, p[0], p[4]),
    )


@register
class PremultBy(NodeSpec):
    """Multiplies the selected components of Source by the Alpha input's alpha, or with
    ``divide`` divides them by it where it is not 0 (elsewhere they pass through, as in
    Unpremult).

    Made by the engine to premultiply a layer by the main layer's alpha: Alpha is the main
    plane and only its component 3 is used. Outside Alpha's data window the alpha is 0.
    The output's data window is Source's.
    """

    type_name = "PremultBy"
    family = "channel"
    kind = Kind.POINT
    internal = True
    inputs = ("Source", "Alpha")
    params = (
        Bool("divide", False, "Divide by alpha (unpremultiply) instead of multiplying."),
        RGBA(
            "select",
            (1.0, 1.0, 1.0, 0.0),
            "Per component: 1 is (un)premultiplied, 0 passes through.",
            min=0,
            max=1,
        ),
    )
    window_of_main_input = True
    cpu_point = premult_by_point

    @classmethod
    def pack(cls, values, ctx):
        return [float(values["divide"]), *values["select"]]

    @classmethod
    def pass_through(cls, values):
        return "Source" if not any(values["select"]) else None


def by_main_alpha(layer: str, select: tuple, divide: bool) -> tuple:
    """A Premult's or Unpremult's kernel for a layer other than the main one
    (:meth:`NodeSpec.layer_kernel`): PremultBy of that layer by the main alpha."""
    chosen = PremultBy.defaults() | {
        "divide": divide,
        "select": tuple(float(s) for s in select),
    }
    return PremultBy, chosen, ((0, layer), (0, MAIN))
