"""ShufflePlane: build one plane from components of up to four planes (engine-made)."""

from __future__ import annotations

from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import Float, Int, Kind, NodeSpec, register

INPUTS = ("S0", "S1", "S2", "S3")


@kernel
def component(r, g, b, a, k):
    """Component ``k`` (0 to 3) of one pixel; a float index, as parameter blocks hold it."""
    return r if k == 0.0 else (g if k == 1.0 else (b if k == 2.0 else a))


@kernel
def shuffle_plane_out(c0, c1, c2, c3, source, constant):
    """``c0``..``c3``: one component of each plane; the one of plane ``source``, or
    ``constant`` where ``source`` is -1."""
    if source == 0.0:
        return c0
    if source == 1.0:
        return c1
    if source == 2.0:
        return c2
    if source == 3.0:
        return c3
    return constant


@kernel
def shuffle_plane_component(
    r0, g0, b0, a0, r1, g1, b1, a1, r2, g2, b2, a2, r3, g3, b3, a3, source, index, constant
):
    """Output component: plane ``source``'s component ``index``, or ``constant`` (-1)."""
    return shuffle_plane_out(
        component(r0, g0, b0, a0, index),
        component(r1, g1, b1, a1, index),
        component(r2, g2, b2, a2, index),
        component(r3, g3, b3, a3, index),
        source,
        constant,
    )


@kernel
def shuffle_plane_point(r0, g0, b0, a0, r1, g1, b1, a1, r2, g2, b2, a2, r3, g3, b3, a3, p):
    """p: (source, component, constant) for output components 0, 1, 2 and 3."""
    return (
        shuffle_plane_component(
            r0, g0, b0, a0, r1, g1, b1, a1, r2, g2, b2, a2, r3, g3, b3, a3, p[0], p[1], p[2]
        ),
        shuffle_plane_component(
            r0, g0, b0, a0, r1, g1, b1, a1, r2, g2, b2, a2, r3, g3, b3, a3, p[3], p[4], p[5]
        ),
        shuffle_plane_component(
            r0, g0, b0, a0, r1, g1, b1, a1, r2, g2, b2, a2, r3, g3, b3, a3, p[6], p[7], p[8]
        ),
        shuffle_plane_component(
            r0, g0, b0, a0, r1, g1, b1, a1, r2, g2, b2, a2, r3, g3, b3, a3, p[9], p[10], p[11]
        ),
    )


def _params(k: int):
    return (
        Int(
            f"source{k}",
            0,
            f"Which input (0 to 3: S0 to S3) output component {k} comes from; -1: constant{k}.",
            min=-1,
            max=3,
        ),
        Int(
            f"component{k}",
            k,
            f"Which component (0 to 3) of that input output component {k} takes.",
            min=0,
            max=3,
        ),
        Float(
            f"constant{k}",
            0.0,
            f"Output component {k}'s value where source{k} is -1.",
            soft_min=0,
            soft_max=1,
        ),
    )


@register
class ShufflePlane(NodeSpec):
    """Builds one plane (up to four components) from components of up to four planes.

    Made by the engine to move channels between layers: output component ``k`` is
    component ``component{k}`` of input ``S{source{k}}``, or ``constant{k}`` where
    ``source{k}`` is -1. An input that is not connected, and any input outside its data
    window, reads 0. The output's data window is the union of the connected inputs'.
    The defaults copy S0.
    """

    type_name = "ShufflePlane"
    family = "channel"
    kind = Kind.POINT
    internal = True
    inputs = ()
    optional_inputs = INPUTS
    params = tuple(p for k in range(4) for p in _params(k))
    cpu_point = shuffle_plane_point

    @classmethod
    def pack(cls, values, ctx):
        return [
            float(values[f"{name}{k}"])
            for k in range(4)
            for name in ("source", "component", "constant")
        ]

    @classmethod
    def pass_through(cls, values):
        identity = all(values[f"source{k}"] == 0 and values[f"component{k}"] == k for k in range(4))
        return "S0" if identity else None
