"""Retime: its input played faster, slower or backwards, blending between frames."""

from __future__ import annotations

import math

from mattebox.nodes.spec import Bool, Float, Int, Kind, NodeSpec, register

#: An input frame this close to a whole number is that whole frame (speeds such as 1/3
#: land a rounding error away from whole frames).
WHOLE = 1e-6


@register
class Retime(NodeSpec):
    """Plays its input at ``speed``: at frame f it shows the input at
    ``input_start + (f - output_start) * speed``.

    Speed 2 plays twice as fast (every other frame), 0.5 half as fast, 0 holds
    ``input_start``, and a negative speed plays backwards from it (-1 reverses a clip:
    with ``input_start`` at its last frame and ``output_start`` at its first).

    Where that input frame falls between two frames, ``frame_blend`` mixes them, weighted
    by the fraction: at 2.25, 75% of frame 2 and 25% of frame 3, on every layer of the
    image, the data window the union of both. Without it, the nearest frame is shown,
    halves rounding up (2.5 shows 3). A whole input frame is the input's result at that
    frame, computed nothing, shared in the cache with the input there (as TimeOffset).
    The blend of two frames that are the same image (a still) is that image.

    ``speed`` may be animated, but it is not integrated: at each frame the formula above
    uses that frame's speed, so a speed ramp jumps in time; to ramp smoothly, animate
    ``input_start`` instead, or chain Retimes.
    """

    type_name = "Retime"
    family = "time"
    kind = Kind.POINT
    params = (
        Float(
            "speed",
            1.0,
            "Input frames per output frame: 2 twice as fast, 0.5 half, negative backwards.",
            soft_min=-4,
            soft_max=4,
        ),
        Int("input_start", 1, "The input frame shown at output_start."),
        Int("output_start", 1, "The output frame that shows input_start."),
        Bool(
            "frame_blend",
            True,
            "Between two input frames, mix them by the fraction; off: the nearest frame.",
        ),
    )

    @classmethod
    def input_frame(cls, values, frame):
        """The input frame shown at ``frame``: fractional between two frames (which of
        them the node shows, :meth:`input_frames` says)."""
        shown = values["input_start"] + (frame - values["output_start"]) * values["speed"]
        return float(round(shown)) if abs(shown - round(shown)) < WHOLE else shown

    @classmethod
    def input_frames(cls, values, frame):
        """The input frames mixed at ``frame`` as ``(frame, weight)`` pairs: the two
        around a fractional input frame with ``frame_blend``, else the one nearest."""
        shown = cls.input_frame(values, frame)
        below = math.floor(shown)
        fraction = shown - below
        if fraction == 0.0:
            return [(float(below), 1.0)]
        if not values["frame_blend"]:
            return [(float(math.floor(shown + 0.5)), 1.0)]
        return [(float(below), 1.0 - fraction), (float(below + 1), fraction)]
