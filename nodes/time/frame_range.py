"""FrameRange: its input limited to a range of frames, holding the ends outside it."""

from __future__ import annotations

from mattebox.nodes.spec import Int, Kind, NodeSpec, register


@register
class FrameRange(NodeSpec):
    """Shows its input between ``first`` and ``last``, and holds the nearest end outside:
    before ``first`` the input at ``first``, after ``last`` the input at ``last``.

    Unlike Nuke's FrameRange, which only sets the range a Viewer and a Write use and
    passes the input through at every frame, this one changes the pictures: a clip cut
    to a range whose ends hold (Nuke's Read ``before``/``after`` set to hold). A
    ``last`` before ``first`` is an error.
    """

    type_name = "FrameRange"
    family = "time"
    kind = Kind.POINT
    params = (
        Int("first", 1, "The first frame of the input shown; earlier frames hold it."),
        Int("last", 100, "The last frame of the input shown; later frames hold it."),
    )

    @classmethod
    def input_frame(cls, values, frame):
        first, last = values["first"], values["last"]
        if last < first:
            raise ValueError(f"last frame {last} is before the first frame {first}")
        return min(max(frame, first), last)
