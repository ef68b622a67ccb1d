"""ColorCorrect: saturation, contrast, gamma, gain and offset for the whole image and for
its shadows, midtones and highlights (Nuke's ColorCorrect)."""

from __future__ import annotations

import math

import numpy as np

from mattebox.nodes.kernel import ONE, ZERO, kernel
from mattebox.nodes.kernel_math import pow_where_positive
from mattebox.nodes.spec import RGBA, Float, Kind, NodeSpec, register

LUMA_R, LUMA_G, LUMA_B = np.float32(0.2126), np.float32(0.7152), np.float32(0.0722)
CONTRAST_PIVOT = 0.18
FLOAT32_MAX = float(np.finfo(np.float32).max)
LOG_FLOAT32_MAX = math.log(FLOAT32_MAX)
RANGES = ("shadows", "midtones", "highlights", "master")  # the order of the blocks in pack
CORRECTIONS = ("saturation", "contrast", "gamma", "gain", "offset")
RANGE_SIZE = 15  # saturation(3) exponent(3) scale(3) gain(3) offset(3)
WEIGHTS_AT = RANGE_SIZE * len(RANGES)  # then 1/shadows_end, highlights_start, 1/(1 - it)


@kernel
def color_correct_luma(r, g, b):
    """Rec. 709 luminance."""
    return LUMA_R * r + LUMA_G * g + LUMA_B * b


@kernel
def color_correct_smoothstep(t):
    """``3t² - 2t³`` of ``t`` clamped to [0, 1]."""
    t = min(max(t, ZERO), ONE)
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)


@kernel
def color_correct_channel(v, luma, saturation, exponent, scale, gain, offset):
    """One channel of one range: saturation, contrast and gamma as one power of positive
    values (``scale * v ** exponent``), gain, offset."""
    v = luma + (v - luma) * saturation
    powered = scale * pow_where_positive(v, exponent)
    v = powered if v > ZERO else v
    return v * gain + offset


@kernel
def color_correct_channel_linear(v, luma, saturation, gain, offset):
    """:func:`color_correct_channel` where contrast and gamma are 1 (no power)."""
    return (luma + (v - luma) * saturation) * gain + offset


@kernel
def color_correct_range(r, g, b, p, o):
    """RGB through the range whose block starts at ``p[o]``."""
    luma = color_correct_luma(r, g, b)
    cr = color_correct_channel(r, luma, p[o], p[o + 3], p[o + 6], p[o + 9], p[o + 12])
    cg = color_correct_channel(g, luma, p[o + 1], p[o + 4], p[o + 7], p[o + 10], p[o + 13])
    cb = color_correct_channel(b, luma, p[o + 2], p[o + 5], p[o + 8], p[o + 11], p[o + 14])
    return cr, cg, cb


@kernel
def color_correct_range_linear(r, g, b, p, o):
    """:func:`color_correct_range` where contrast and gamma are 1."""
    luma = color_correct_luma(r, g, b)
    cr = color_correct_channel_linear(r, luma, p[o], p[o + 9], p[o + 12])
    cg = color_correct_channel_linear(g, luma, p[o + 1], p[o + 10], p[o + 13])
    cb = color_correct_channel_linear(b, luma, p[o + 2], p[o + 11], p[o + 14])
    return cr, cg, cb


@kernel
def color_correct_weights(r, g, b, p):
    """The shadow, midtone and highlight weights of a pixel."""
    luma = color_correct_luma(r, g, b)
    shadows = ONE - color_correct_smoothstep(luma * p[WEIGHTS_AT])
    highlights = color_correct_smoothstep((luma - p[WEIGHTS_AT + 1]) * p[WEIGHTS_AT + 2])
    midtones = min(max(ONE - shadows - highlights, ZERO), ONE)
    return shadows, midtones, highlights


@kernel
def color_correct_point(r, g, b, a, p):
    """p: four blocks of saturation(3) exponent(3) scale(3) gain(3) offset(3), for
    shadows, midtones, highlights and master, then 1/shadows_end, highlights_start and
    1/(1 - highlights_start)."""
    ws, wm, wh = color_correct_weights(r, g, b, p)
    sr, sg, sb = color_correct_range(r, g, b, p, 0)
    mr, mg, mb = color_correct_range(r, g, b, p, 15)
    hr, hg, hb = color_correct_range(r, g, b, p, 30)
    tr = ws * sr + wm * mr + wh * hr
    tg = ws * sg + wm * mg + wh * hg
    tb = ws * sb + wm * mb + wh * hb
    outr, outg, outb = color_correct_range(tr, tg, tb, p, 45)
    return outr, outg, outb, a


@kernel
def color_correct_point_linear(r, g, b, a, p):
    """:func:`color_correct_point` where every contrast and gamma is 1 (no ``pow`` to
    compute in the loop)."""
    ws, wm, wh = color_correct_weights(r, g, b, p)
    sr, sg, sb = color_correct_range_linear(r, g, b, p, 0)
    mr, mg, mb = color_correct_range_linear(r, g, b, p, 15)
    hr, hg, hb = color_correct_range_linear(r, g, b, p, 30)
    tr = ws * sr + wm * mr + wh * hr
    tg = ws * sg + wm * mg + wh * hg
    tb = ws * sb + wm * mb + wh * hb
    outr, outg, outb = color_correct_range_linear(tr, tg, tb, p, 45)
    return outr, outg, outb, a


def _correction_params(tonal_range: str, what: str) -> tuple:
    """The five RGBA parameters of one range."""
    return (
        RGBA(
            f"{tonal_range}_saturation",
            1.0,
            f"{what}: saturation about Rec. 709 luminance, 0 grey (alpha unused).",
            min=0,
            soft_max=4,
        ),
        RGBA(
            f"{tonal_range}_contrast",
            1.0,
            f"{what}: contrast about 0.18, (v / 0.18) ** contrast * 0.18 for v > 0 (alpha unused).",
            min=0,
            soft_max=4,
        ),
        RGBA(
            f"{tonal_range}_gamma",
            1.0,
            f"{what}: v ** (1 / gamma) for v > 0 (alpha unused).",
            min=0.0001,
            soft_min=0.2,
            soft_max=5,
        ),
        RGBA(f"{tonal_range}_gain", 1.0, f"{what}: multiplies (alpha unused).", soft_max=4),
        RGBA(
            f"{tonal_range}_offset",
            0.0,
            f"{what}: added last (alpha unused).",
            soft_min=-1,
            soft_max=1,
        ),
    )


@register
class ColorCorrect(NodeSpec):
    """Saturation, contrast, gamma, gain and offset on RGB, for the whole image (master)
    and for its shadows, midtones and highlights; alpha passes through.

    A range's correction of a colour ``v`` with luminance ``L`` (Rec. 709), in order:
    saturation ``L + (v - L) * saturation``; contrast ``(v / 0.18) ** contrast * 0.18``
    where ``v > 0``; gamma ``v ** (1 / gamma)`` where ``v > 0``; ``v * gain``;
    ``v + offset`` (negative values skip contrast and gamma). With ``L`` the input's
    luminance and ``smoothstep(e0, e1, x)`` Hermite's ``3t² - 2t³`` of ``t = (x - e0) /
    (e1 - e0)`` clamped to [0, 1], the weights of the ranges are::

        ws = 1 - smoothstep(0, shadows_end, L)
        wh = smoothstep(highlights_start, 1, L)
        wm = clamp(1 - ws - wh, 0, 1)

    and ``out = master(ws * shadows(in) + wm * midtones(in) + wh * highlights(in))``.
    Where ``shadows_end`` exceeds ``highlights_start`` the two ranges overlap and their
    weights can sum above 1. The alpha components of the parameters are unused. Not
    linear: apply it to unpremultiplied colour (``unpremult``).
    """

    type_name = "ColorCorrect"
    family = "color"
    kind = Kind.POINT
    params = (
        *_correction_params("master", "All tones"),
        *_correction_params("shadows", "Shadows"),
        *_correction_params("midtones", "Midtones"),
        *_correction_params("highlights", "Highlights"),
        Float(
            "shadows_end",
            0.09,
            "Luminance where the shadow weight falls to 0 (it is 1 at 0, smoothstep between).",
            min=0.0001,
            soft_max=1,
        ),
        Float(
            "highlights_start",
            0.5,
            "Luminance where the highlight weight starts rising from 0 (1 at 1, smoothstep "
            "between).",
            min=0,
            max=0.9999,
            soft_max=1,
        ),
    )
    cpu_point = color_correct_point

    @classmethod
    def pack(cls, values, ctx):
        block = []
        for tonal_range in RANGES:
            block += _pack_range({what: values[f"{tonal_range}_{what}"] for what in CORRECTIONS})
        start = float(values["highlights_start"])
        return block + [1.0 / float(values["shadows_end"]), start, 1.0 / (1.0 - start)]

    @classmethod
    def cpu_point_for(cls, values):
        """Without contrast and gamma, a variant whose loop has no ``pow`` in it: a
        vectorised loop computes both sides of a branch, so the ``pow`` would cost even
        when skipped."""
        return color_correct_point if _has_powers(values) else color_correct_point_linear

    @classmethod
    def pass_through(cls, values):
        defaults = cls.defaults()
        unchanged = all(
            values[name][:3] == defaults[name][:3]
            for name in (f"{r}_{w}" for r in RANGES for w in CORRECTIONS)
        )
        # overlapping ranges weigh a colour by more than 1, even when none changes it
        apart = values["shadows_end"] <= values["highlights_start"]
        return "Source" if unchanged and apart else None


def _pivot_power(power: float) -> float:
    """``0.18 ** power``, held at float32's largest number where it would be larger (the
    kernels are float32; an absurd contrast or gamma gives an image, not an OverflowError)."""
    log = power * math.log(CONTRAST_PIVOT)
    return FLOAT32_MAX if log > LOG_FLOAT32_MAX else math.exp(log)


def _pack_range(correction: dict) -> list[float]:
    """saturation(3), then contrast and gamma as one power where ``v > 0``:
    ``(0.18 * (v / 0.18) ** c) ** (1 / g) = scale * v ** exponent`` with ``exponent = c /
    g`` and ``scale = 0.18 ** ((1 - c) / g)``, then gain(3) and offset(3)."""
    contrast = [float(c) for c in correction["contrast"][:3]]
    inv_gamma = [1.0 / float(g) for g in correction["gamma"][:3]]
    exponent = [c * i for c, i in zip(contrast, inv_gamma)]
    scale = [_pivot_power((1.0 - c) * i) for c, i in zip(contrast, inv_gamma)]
    return [
        *(float(s) for s in correction["saturation"][:3]),
        *exponent,
        *scale,
        *(float(v) for v in correction["gain"][:3]),
        *(float(v) for v in correction["offset"][:3]),
    ]


def _has_powers(values: dict) -> bool:
    """Whether any range's contrast or gamma (RGB) differs from 1."""
    return any(
        v != 1.0
        for tonal_range in RANGES
        for what in ("contrast", "gamma")
        for v in values[f"{tonal_range}_{what}"][:3]
    )
