"""Log2Lin: Cineon log to linear and back (Nuke's Log2Lin)."""

from __future__ import annotations

import math

import numpy as np

from mattebox.nodes.kernel import kernel
from mattebox.nodes.kernel_math import SMALLEST, exp_clamped, log_positive
from mattebox.nodes.spec import Enum, Float, Kind, NodeSpec, register

LARGEST = 3.4028234663852886e38  # the largest finite float32
DENSITY_PER_CODE = 0.002  # Cineon: 0.002 density per 10-bit code value
CODES = 1023.0  # a log value of 1 is code 1023


@kernel
def log2lin_decode(v, p):
    """Log to linear: ``(exp(p0 * v + p1) - p2) * p3``, in float64."""
    t = np.float64(p[0]) * np.float64(v) + np.float64(p[1])
    return np.float32((exp_clamped(t) - np.float64(p[2])) * np.float64(p[3]))


@kernel
def log2lin_encode(v, p):
    """Linear to log: ``ln(v * p0 + p1) * p2 + p3``, the argument clamped to the positive
    float32 range, in float64."""
    x = np.float64(p[0]) * np.float64(v) + np.float64(p[1])
    x = min(max(x, np.float64(SMALLEST)), LARGEST)
    return np.float32(log_positive(x) * np.float64(p[2]) + np.float64(p[3]))


@kernel
def log2lin_point_decode(r, g, b, a, p):
    """:func:`log2lin_point` for ``log2lin``."""
    return log2lin_decode(r, p), log2lin_decode(g, p), log2lin_decode(b, p), a


@kernel
def log2lin_point_encode(r, g, b, a, p):
    """:func:`log2lin_point` for ``lin2log``."""
    return log2lin_encode(r, p), log2lin_encode(g, p), log2lin_encode(b, p), a


@kernel
def log2lin_point(r, g, b, a, p):
    """p: four coefficients (see :meth:`Log2Lin.pack`), then 1 for lin2log, 0 for log2lin."""
    if p[4] > 0.5:
        return log2lin_point_encode(r, g, b, a, p)
    return log2lin_point_decode(r, g, b, a, p)


@register
class Log2Lin(NodeSpec):
    """Converts RGB between Cineon log and linear (as Nuke's Log2Lin); alpha passes through.

    With ``code = log * 1023`` and ``offset = 10 ** ((black - white) * 0.002 / gamma)``:

    - ``log2lin``: ``lin = (10 ** ((code - white) * 0.002 / gamma) - offset) / (1 - offset)``,
      so code ``black`` becomes 0 and code ``white`` becomes 1;
    - ``lin2log``: its inverse, ``code = white + log10(lin * (1 - offset) + offset) * gamma
      / 0.002``. Where ``lin * (1 - offset) + offset`` is not positive (``lin`` below
      about ``-offset``) the logarithm is taken of the smallest positive float32 instead,
      so those values all become the same very low log value (about -10.4 with the
      defaults) rather than NaN.

    Neither commutes with premultiplication: set ``unpremult`` to ``alpha`` for
    premultiplied images with transparency.
    """

    type_name = "Log2Lin"
    family = "color"
    kind = Kind.POINT
    params = (
        Enum(
            "operation",
            ("log2lin", "lin2log"),
            "log2lin",
            "log2lin decodes Cineon log to linear; lin2log encodes linear to Cineon log.",
        ),
        Float(
            "black",
            95.0,
            "10-bit code value of black (linear 0).",
            min=-1023,
            max=1023,
            soft_min=0,
            soft_max=1023,
        ),
        Float(
            "white",
            685.0,
            "10-bit code value of white (linear 1).",
            min=0,
            max=2046,
            soft_min=0,
            soft_max=1023,
        ),
        Float(
            "gamma",
            0.6,
            "Film gamma: density per stop of exposure.",
            min=0.0001,
            max=10,
            soft_min=0.1,
            soft_max=2,
        ),
    )
    cpu_point = log2lin_point

    @classmethod
    def pack(cls, values, ctx):
        gamma = float(values["gamma"])
        white = float(values["white"])
        per_code = math.log(10.0) * DENSITY_PER_CODE / gamma  # ln(10**(0.002 / gamma))
        offset = math.exp((float(values["black"]) - white) * per_code)
        span = 1.0 - offset
        span = span if abs(span) > 1e-12 else 1e-12  # black == white: no range to map
        if values["operation"] == "lin2log":
            return [span, offset, 1.0 / (per_code * CODES), white / CODES, 1.0]
        return [per_code * CODES, -white * per_code, offset, 1.0 / span, 0.0]

    @classmethod
    def cpu_point_for(cls, values):
        """The variant for the chosen operation, so the pixel loop has no branch on it."""
        encode = values["operation"] == "lin2log"
        return log2lin_point_encode if encode else log2lin_point_decode
