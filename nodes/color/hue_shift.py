"""HueShift: rotate hue about the grey axis and scale saturation."""

from __future__ import annotations

import math

import numpy as np

from mattebox.nodes.kernel import kernel
from mattebox.nodes.spec import Bool, Float, Kind, NodeSpec, register

REC709_LUMA = (0.2126, 0.7152, 0.0722)


@kernel
def hue_shift_point(r, g, b, a, p):
    """p: a 3×3 matrix, row-major, that does the whole shift (see :meth:`HueShift.pack`)."""
    hr = p[0] * r + p[1] * g + p[2] * b
    hg = p[3] * r + p[4] * g + p[5] * b
    hb = p[6] * r + p[7] * g + p[8] * b
    return hr, hg, hb, a


def hue_shift_matrix(hue_rotation: float, saturation: float, preserve_luminance: bool):
    """The 3×3 float64 matrix of a HueShift: rotation about grey, then saturation around
    Rec. 709 luma, then (optionally) the input's luma restored."""
    angle = math.radians(hue_rotation)
    axis = np.full(3, 1.0 / math.sqrt(3.0))
    cross = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    rotation = (
        math.cos(angle) * np.eye(3)
        + math.sin(angle) * cross
        + (1.0 - math.cos(angle)) * np.outer(axis, axis)
    )
    weights = np.array(REC709_LUMA)
    around_luma = saturation * np.eye(3) + (1.0 - saturation) * np.outer(np.ones(3), weights)
    matrix = around_luma @ rotation
    if preserve_luminance:
        matrix = matrix + np.outer(np.ones(3), weights - weights @ matrix)
    return matrix


@register
class HueShift(NodeSpec):
    """Rotates the hue of RGB about the grey axis and scales its saturation; alpha passes
    through.

    The colour is rotated by ``hue_rotation`` degrees about the axis ``(1, 1, 1)`` (so
    greys stay put; +120 turns red into green, green into blue), then scaled away from its
    Rec. 709 luma by ``saturation`` (``luma + (c - luma) * saturation``). The rotation
    changes luma (a blue turned yellow is brighter); with ``preserve_luminance`` the
    difference is added back to R, G and B so the result has the input's luma. All of it
    is one 3×3 matrix, so the node works on premultiplied images directly.
    """

    type_name = "HueShift"
    family = "color"
    kind = Kind.POINT
    params = (
        Float(
            "hue_rotation",
            0.0,
            "Degrees to rotate the hue about the grey axis (+120: red to green).",
            soft_min=-180,
            soft_max=180,
        ),
        Float(
            "saturation",
            1.0,
            "Multiplies the colour's distance from its Rec. 709 luma: 0 grey, 1 unchanged.",
            min=0,
            soft_min=0,
            soft_max=4,
        ),
        Bool(
            "preserve_luminance",
            False,
            "Restore the input's Rec. 709 luma after the rotation.",
        ),
    )
    cpu_point = hue_shift_point

    @classmethod
    def pack(cls, values, ctx):
        matrix = hue_shift_matrix(
            float(values["hue_rotation"]),
            float(values["saturation"]),
            bool(values["preserve_luminance"]),
        )
        return [float(v) for v in matrix.ravel()]

    @classmethod
    def pass_through(cls, values):
        unrotated = float(values["hue_rotation"]) % 360.0 == 0.0
        return "Source" if unrotated and values["saturation"] == 1.0 else None
