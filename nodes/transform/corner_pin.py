"""CornerPin: map four corners onto four others through a homography (Nuke's CornerPin2D)."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.spec import Bool, Param, Vec2, register
from mattebox.nodes.transform import resample
from mattebox.nodes.transform.resample import AffineResample

# Nuke's corner order, bottom-left, bottom-right, top-right, top-left, in Mattebox's pixel
# coordinates (origin top-left, y down), at the default 1920×1080 format.
HD_CORNERS = ((0.0, 1080.0), (1920.0, 1080.0), (1920.0, 0.0), (0.0, 0.0))
CORNER_NAMES = ("bottom-left", "bottom-right", "top-right", "top-left")


def format_corners(width: float, height: float) -> tuple[tuple[float, float], ...]:
    """A ``width`` × ``height`` format's corners in Nuke's order (y down)."""
    return ((0.0, height), (width, height), (width, 0.0), (0.0, 0.0))


def _corner(prefix: str, k: int) -> Param:
    """Corner ``k + 1`` of the ``to`` or ``from`` quad."""
    name = CORNER_NAMES[k]
    if prefix == "to":
        doc = f"Where the {name} corner goes, in pixels (x right, y down)."
    else:
        doc = f"The {name} corner of the quad that moves, in pixels (x right, y down)."
    return Vec2(f"{prefix}{k + 1}", HD_CORNERS[k], doc, spatial=True)


@register
class CornerPin(AffineResample):
    """Moves four corners of the image to four new positions, with perspective.

    The map is the homography (a projective 3×3 matrix) taking ``from1..from4`` onto
    ``to1..to4``; with ``invert`` it takes ``to`` onto ``from`` instead (to un-pin a
    screen insert, say). Corners are numbered as in Nuke: 1 bottom-left, 2 bottom-right,
    3 top-right, 4 top-left. Positions are pixels with the origin at the top-left and y
    down, so the bottom corners have the larger y. Every corner defaults to the corners
    of a 1920×1080 frame, so a new node does nothing on any image; on another format set
    ``from`` to its corners, or tick ``from_format`` to take them from the input's format
    (then ``from1..from4`` are ignored).

    Each output pixel centre is mapped back through the inverse homography and filtered
    as Transform does, the filter widened by the map's local scale at that pixel (the
    Jacobian of the inverse map), at most 8 times (where the image recedes towards the
    horizon it would otherwise grow without bound). Pixels past the horizon (that would
    show points behind the viewer) are transparent black; if a corner is dragged so the
    quad folds over (not convex), the part of the image behind the horizon is not shown.
    The format stays the input's; the data window is the mapped input window, clipped
    where it runs off towards the horizon to the format grown by its own width and
    height on every side. Three corners of a quad on one line is an error. Identical
    ``from`` and ``to`` pass the input through.
    """

    type_name = "CornerPin"
    params = (
        *(_corner("to", k) for k in range(4)),
        *(_corner("from", k) for k in range(4)),
        Bool("from_format", False, "Use the input format's corners as from1..from4."),
        Bool("invert", False, "Apply the inverse map, from the to corners to the from ones."),
        resample.filter_param(),
    )

    @classmethod
    def pass_through(cls, values):
        same = all(tuple(values[f"to{k}"]) == tuple(values[f"from{k}"]) for k in range(1, 5))
        return "Source" if same and not values["from_format"] else None

    @classmethod
    def forward_matrix(cls, values, ctx, source) -> np.ndarray:
        to = [tuple(float(v) for v in values[f"to{k}"]) for k in range(1, 5)]
        if values["from_format"]:
            origin = format_corners(source.format.width, source.format.height)
        else:
            origin = [tuple(float(v) for v in values[f"from{k}"]) for k in range(1, 5)]
        for name, corners in (("from", origin), ("to", to)):
            trio = resample.collinear(corners)
            if trio is not None:
                a, b, c = trio
                raise ValueError(
                    f"{name}{a}, {name}{b} and {name}{c} lie on one line: "
                    "the quad has no area, so there is no corner pin"
                )
        if list(origin) == list(to):
            return np.eye(3)
        if values["invert"]:
            return resample.homography(to, origin)
        return resample.homography(origin, to)
