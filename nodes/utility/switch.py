"""Switch: outputs one of its inputs."""

from __future__ import annotations

from mattebox.nodes.spec import Int, Kind, NodeSpec, register


@register
class Switch(NodeSpec):
    """Outputs input ``which`` unchanged (In0 ... In3); animate ``which`` to cut between them."""

    type_name = "Switch"
    family = "utility"
    kind = Kind.POINT
    inputs = ()
    optional_inputs = ("In0", "In1", "In2", "In3")
    params = (Int("which", 0, "Index of the input passed through.", min=0, max=3),)

    @classmethod
    def pass_through(cls, values):
        return f"In{int(values['which'])}"
