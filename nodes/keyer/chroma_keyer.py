"""ChromaKeyer: a matte from how near each pixel's hue and saturation are to a screen's."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.kernel import ONE, ZERO, kernel
from mattebox.nodes.spec import RGBA, Float, Kind, NodeSpec, register

HALF = np.float32(0.5)
TWO = np.float32(2.0)
THREE = np.float32(3.0)
FOUR = np.float32(4.0)
SIX = np.float32(6.0)
SIXTY = np.float32(60.0)
HALF_TURN = np.float32(180.0)
TURN = np.float32(360.0)


@kernel
def chroma_keyer_hue(r, g, b, top, chroma):
    """HSV hue in degrees [0, 360) of a colour whose max is ``top``, ``chroma`` > 0."""
    if top == r:
        h = (g - b) / chroma
        if h < ZERO:
            h = h + SIX
    elif top == g:
        h = (b - r) / chroma + TWO
    else:
        h = (r - g) / chroma + FOUR
    return h * SIXTY


@kernel
def chroma_keyer_band(d, tolerance, inv_width):
    """0 up to ``tolerance``, then a linear rise to 1 over ``1 / inv_width`` (a step
    where ``inv_width`` is 0)."""
    if d <= tolerance:
        return ZERO
    if inv_width == ZERO:
        return ONE
    return min((d - tolerance) * inv_width, ONE)


@kernel
def chroma_keyer_point(r, g, b, a, p):
    """p: screen hue, 1/screen saturation, hue tolerance, 1/hue band, saturation
    tolerance, 1/saturation band, dominant channel (0 R, 1 G, 2 B), despill."""
    top = max(max(r, g), b)
    chroma = top - min(min(r, g), b)
    hue_distance = HALF_TURN
    if chroma > ZERO:
        hue_distance = abs(chroma_keyer_hue(r, g, b, top, chroma) - p[0])
        if hue_distance > HALF_TURN:
            hue_distance = TURN - hue_distance
    saturation = chroma / top if top > ZERO else ZERO
    saturation_distance = ONE - saturation * p[1]
    t = max(
        chroma_keyer_band(hue_distance, p[2], p[3]),
        chroma_keyer_band(saturation_distance, p[4], p[5]),
    )
    alpha = t * t * (THREE - TWO * t)
    amount = p[7]
    if p[6] == ZERO:
        r = r - amount * max(r - (g + b) * HALF, ZERO)
    elif p[6] == ONE:
        g = g - amount * max(g - (r + b) * HALF, ZERO)
    else:
        b = b - amount * max(b - (r + g) * HALF, ZERO)
    return r * alpha, g * alpha, b * alpha, alpha


def screen_hue_saturation(color) -> tuple[float, float]:
    """HSV hue (degrees) and saturation of ``color``'s R, G, B, in float64; a ValueError
    for a grey or a colour whose max is not above 0 (no hue to key against)."""
    r, g, b = (float(c) for c in color[:3])
    top = max(r, g, b)
    chroma = top - min(r, g, b)
    if top <= 0.0 or chroma <= 0.0:
        raise ValueError(
            f"screen_color: ({r:g}, {g:g}, {b:g}) is grey or black and has no hue to key against"
        )
    if top == r:
        hue = ((g - b) / chroma) % 6.0
    elif top == g:
        hue = (b - r) / chroma + 2.0
    else:
        hue = (r - g) / chroma + 4.0
    return hue * 60.0, chroma / top


@register
class ChromaKeyer(NodeSpec):
    """Keys the pixels whose hue and saturation are near a screen colour's (a chroma key).

    In HSV terms of the colour as it is (R, G, B; the source's alpha is replaced):
    ``max = max(R, G, B)``, ``chroma = max - min(R, G, B)``, the hue ``H`` in degrees as in
    HSV (0 red, 120 green, 240 blue) and the saturation ``S = chroma / max`` (0 where
    ``max <= 0``). Against the screen colour's ``H_s`` and ``S_s``, two distances:

    * hue: ``dh = min(|H - H_s|, 360 - |H - H_s|)`` degrees (180 for a grey pixel, which
      has no hue);
    * saturation: ``ds = 1 - S / S_s``, the part of the screen's saturation the pixel
      lacks (0 or below for a pixel as saturated as the screen or more; 1 for grey).

    Each becomes 0 up to its tolerance and rises linearly to 1 over ``softness`` of its
    whole range beyond it (``softness * 180`` degrees of hue, ``softness`` of
    saturation; a step where softness is 0): ``t_h = clamp((dh - hue_tolerance) /
    (180 softness), 0, 1)``, ``t_s = clamp((ds - saturation_tolerance) / softness, 0,
    1)``. A pixel is screen (alpha 0) only inside both tolerances and foreground (alpha 1)
    beyond either tolerance plus its softness: ``t = max(t_h, t_s)`` and the alpha is
    ``smoothstep(t) = t² (3 - 2t)``, i.e. 1 minus the screen-ness.

    Despill works on the screen's dominant channel D (the largest of the screen colour's
    R, G, B: G for a green screen) and the mean M of the pixel's other two:
    ``D' = D - despill * max(D - M, 0)``, so ``despill`` 1 brings D down to at most M.
    The output is premultiplied: ``(R', G', B') * alpha`` and the alpha. A grey or black
    ``screen_color`` (no hue) is an error naming the node.
    """

    type_name = "ChromaKeyer"
    family = "keyer"
    kind = Kind.POINT
    params = (
        RGBA(
            "screen_color",
            (0.1, 0.6, 0.15, 1.0),
            "The screen's colour (its R, G, B: its hue and saturation are keyed).",
            min=-1e6,
            max=1e6,
            soft_min=0,
            soft_max=1,
        ),
        Float(
            "hue_tolerance",
            30.0,
            "Degrees of hue either side of the screen's that key fully to 0.",
            min=0,
            max=180,
            soft_min=0,
            soft_max=90,
        ),
        Float(
            "saturation_tolerance",
            0.5,
            "How much of the screen's saturation a pixel may lack and still key to 0.",
            min=0,
            max=1,
            soft_min=0,
            soft_max=1,
        ),
        Float(
            "softness",
            0.2,
            "Width of the rise from 0 to 1 beyond the tolerances (x 180 degrees of hue).",
            min=0,
            max=10,
            soft_min=0,
            soft_max=1,
        ),
        Float(
            "despill",
            1.0,
            "How much of the screen channel's excess over the others' mean is removed.",
            min=0,
            max=1,
        ),
    )
    cpu_point = chroma_keyer_point

    @classmethod
    def pack(cls, values, ctx):
        color = values["screen_color"]
        hue, saturation = screen_hue_saturation(color)
        softness = float(values["softness"])
        inv_hue_band = 1.0 / (180.0 * softness) if softness > 0 else 0.0
        inv_saturation_band = 1.0 / softness if softness > 0 else 0.0
        return [
            hue,
            1.0 / saturation,
            float(values["hue_tolerance"]),
            inv_hue_band,
            float(values["saturation_tolerance"]),
            inv_saturation_band,
            float(int(np.argmax(np.asarray(color[:3], np.float64)))),
            float(values["despill"]),
        ]
