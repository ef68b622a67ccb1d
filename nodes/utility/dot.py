"""Dot: a bend point in a pipe; passes its input through."""

from __future__ import annotations

from mattebox.nodes.spec import Kind, NodeSpec, register


@register
class Dot(NodeSpec):
    """Passes its input through unchanged; used to route pipes neatly."""

    type_name = "Dot"
    family = "utility"
    kind = Kind.POINT
    params = ()

    @classmethod
    def pass_through(cls, values):
        return "Source"
