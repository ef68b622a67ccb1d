"""Grade: levels-style colour correction on RGB (Nuke's Grade)."""

from __future__ import annotations

from mattebox.nodes.kernel import ONE, ZERO, kernel
from mattebox.nodes.kernel_math import pow_where_positive
from mattebox.nodes.spec import RGBA, Bool, Float, Kind, NodeSpec, register


@kernel
def grade_clamps(out, black_clamp, white_clamp):
    """Negative results to 0 with ``black_clamp``, results above 1 to 1 with ``white_clamp``."""
    if black_clamp > 0.5 and out < 0.0:
        out = ZERO
    if white_clamp > 0.5 and out > 1.0:
        out = ONE
    return out


@kernel
def grade_channel(v, a_gain, b_offset, inv_gamma, black_clamp, white_clamp):
    """One channel: linear ramp, gamma on positive values, then the clamps."""
    out = a_gain * v + b_offset
    out = pow_where_positive(out, inv_gamma) if inv_gamma != ONE else out
    return grade_clamps(out, black_clamp, white_clamp)


@kernel
def grade_channel_linear(v, a_gain, b_offset, black_clamp, white_clamp):
    """One channel without gamma: the linear ramp, then the clamps."""
    return grade_clamps(a_gain * v + b_offset, black_clamp, white_clamp)


@kernel
def grade_point_linear(r, g, b, a, p):
    """:func:`grade_point` where every gamma is 1 (no ``pow`` to compute in the loop)."""
    mix = p[11]
    gr = grade_channel_linear(r, p[0], p[3], p[9], p[10])
    gg = grade_channel_linear(g, p[1], p[4], p[9], p[10])
    gb = grade_channel_linear(b, p[2], p[5], p[9], p[10])
    return r + (gr - r) * mix, g + (gg - g) * mix, b + (gb - b) * mix, a


@kernel
def grade_point(r, g, b, a, p):
    """p: A(3) B(3) 1/gamma(3) black_clamp white_clamp mix."""
    mix = p[11]
    gr = grade_channel(r, p[0], p[3], p[6], p[9], p[10])
    gg = grade_channel(g, p[1], p[4], p[7], p[9], p[10])
    gb = grade_channel(b, p[2], p[5], p[8], p[9], p[10])
    return r + (gr - r) * mix, g + (gg - g) * mix, b + (gb - b) * mix, a


@register
class Grade(NodeSpec):
    """Levels-style correction of RGB; alpha passes through.

    With ``A = multiply * (gain - lift) / (whitepoint - blackpoint)`` and
    ``B = offset + lift - A * blackpoint``: ``out = A * in + B``, then ``out ** (1/gamma)``
    where ``out > 0``, then the clamps, then ``mix`` with the input.
    """

    type_name = "Grade"
    family = "color"
    kind = Kind.POINT
    params = (
        RGBA("blackpoint", 0.0, "Input value that becomes black (lift).", soft_min=-1, soft_max=1),
        RGBA("whitepoint", 1.0, "Input value that becomes white (gain).", soft_min=0, soft_max=4),
        RGBA("lift", 0.0, "Output value for the blackpoint.", soft_min=-1, soft_max=1),
        RGBA("gain", 1.0, "Output value for the whitepoint.", soft_min=0, soft_max=4),
        RGBA("multiply", 1.0, "Multiplies the result.", soft_min=0, soft_max=4),
        RGBA("offset", 0.0, "Added to the result.", soft_min=-1, soft_max=1),
        RGBA(
            "gamma", 1.0, "Gamma applied to positive values.", min=0.0001, soft_min=0.2, soft_max=5
        ),
        Bool("black_clamp", True, "Clamp negative results to 0."),
        Bool("white_clamp", False, "Clamp results above 1 to 1."),
        Float("mix", 1.0, "Blend between the input (0) and the graded result (1).", min=0, max=1),
    )
    cpu_point = grade_point

    @classmethod
    def pack(cls, values, ctx):
        a, b, inv_gamma = [], [], []
        for c in range(3):
            span = values["whitepoint"][c] - values["blackpoint"][c]
            span = span if span != 0.0 else 1e-12
            gain = values["multiply"][c] * (values["gain"][c] - values["lift"][c]) / span
            a.append(gain)
            b.append(values["offset"][c] + values["lift"][c] - gain * values["blackpoint"][c])
            inv_gamma.append(1.0 / values["gamma"][c])
        clamps = [float(values["black_clamp"]), float(values["white_clamp"])]
        return a + b + inv_gamma + clamps + [values["mix"]]

    @classmethod
    def cpu_point_for(cls, values):
        """Without gamma, a variant whose loop has no ``pow`` in it: a vectorised loop
        computes both sides of a branch, so the ``pow`` would cost even when skipped."""
        return grade_point_linear if all(v == 1.0 for v in values["gamma"][:3]) else grade_point

    @classmethod
    def pass_through(cls, values):
        return "Source" if values["mix"] == 0.0 else None
