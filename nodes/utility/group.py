"""Group, Input and Output: a sub-graph with its own inputs, one output and exposed knobs.

These declarations give the three node types their names, docs and the ``disable``
parameter; what they do is the engine's (``engine/group.py``): the planner flattens a
group, so its inner nodes are planned, fused and cached as if they were not grouped.
"""

from __future__ import annotations

from mattebox.nodes.spec import Kind, NodeSpec, register


@register
class Group(NodeSpec):
    """A sub-graph: its Input nodes are its inputs, its Output node its result, and the
    inner parameters it exposes are its knobs (Ctrl+G collapses nodes into one). Costs
    nothing at render time: the planner renders the inner nodes as if ungrouped."""

    type_name = "Group"
    family = "utility"
    kind = Kind.POINT
    inputs = ()  # one per inner Input node, named after it (engine/group.py)
    params = ()

    @classmethod
    def pass_through(cls, values):
        return "Output"  # resolved by the engine: what feeds the inner Output node


@register
class Input(NodeSpec):
    """Inside a group: the image connected to the group's input of the same name (black
    when nothing is connected there)."""

    type_name = "Input"
    family = "utility"
    kind = Kind.POINT
    inputs = ()
    params = ()

    @classmethod
    def pass_through(cls, values):
        return "Source"  # resolved by the engine: the group's input named like the node


@register
class Output(NodeSpec):
    """Inside a group: what the group outputs (its input, unchanged)."""

    type_name = "Output"
    family = "utility"
    kind = Kind.POINT
    params = ()

    @classmethod
    def pass_through(cls, values):
        return "Source"
