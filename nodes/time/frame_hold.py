"""FrameHold: one frame of its input at every frame (Nuke's FrameHold)."""

from __future__ import annotations

from mattebox.nodes.spec import Int, Kind, NodeSpec, register


@register
class FrameHold(NodeSpec):
    """Shows its input at ``frame`` whatever the frame rendered: a freeze frame.

    Everything upstream is evaluated at the held frame (a sequence's file, animated
    parameters), so the result is the same at every frame and computed once for all.
    ``frame`` itself may be animated to step through held frames. Nuke's
    ``increment`` (hold every Nth frame) is not offered.
    """

    type_name = "FrameHold"
    family = "time"
    kind = Kind.POINT
    params = (Int("frame", 1, "The frame of the input shown at every frame."),)

    @classmethod
    def input_frame(cls, values, frame):
        return values["frame"]
