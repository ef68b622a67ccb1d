"""TimeOffset: its input shifted in time (Nuke's TimeOffset)."""

from __future__ import annotations

from mattebox.nodes.spec import Int, Kind, NodeSpec, register


@register
class TimeOffset(NodeSpec):
    """Shows its input ``offset`` frames later: at frame f, the input at f - offset.

    An offset of 10 makes the input's frame 1 appear at frame 11; a negative offset
    pulls later frames earlier. The node computes nothing; it returns the input's
    result at the other frame, so a cache shares it with the input there.
    """

    type_name = "TimeOffset"
    family = "time"
    kind = Kind.POINT
    params = (
        Int(
            "offset",
            0,
            "Frames to delay the input by (negative: to advance it).",
            soft_min=-100,
            soft_max=100,
        ),
    )

    @classmethod
    def input_frame(cls, values, frame):
        return frame - values["offset"]
