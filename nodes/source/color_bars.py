"""ColorBars: SMPTE (EG 1) or full-field 75% colour bars, for checking a display chain."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.source.constant import (
    FormatSource,
    format_params,
    source_format,
)
from mattebox.nodes.spec import Bool, Enum, Window, register

# The FCC YIQ -> R'G'B' matrix, for the -I and +Q chroma signals of the bottom row.
_YIQ_TO_RGB = np.array(
    [[1.0, 0.9563, 0.6210], [1.0, -0.2721, -0.6474], [1.0, -1.1070, 1.7046]], np.float64
)


def _chroma(i: float, q: float) -> tuple[float, ...]:
    """R'G'B' of a chroma signal on black (Y 0), negative components clipped to 0."""
    return tuple(float(v) for v in np.maximum(_YIQ_TO_RGB @ (0.0, i, q), 0.0))


#: The patches as R'G'B' code values (0 black, 1 peak white), by palette index.
CODE_VALUES = (
    (0.75, 0.75, 0.75),  # 0 75% grey ("white" bar)
    (0.75, 0.75, 0.0),  # 1 yellow
    (0.0, 0.75, 0.75),  # 2 cyan
    (0.0, 0.75, 0.0),  # 3 green
    (0.75, 0.0, 0.75),  # 4 magenta
    (0.75, 0.0, 0.0),  # 5 red
    (0.0, 0.0, 0.75),  # 6 blue
    (0.0, 0.0, 0.0),  # 7 black
    (1.0, 1.0, 1.0),  # 8 100% white
    _chroma(-0.2, 0.0),  # 9 -I
    _chroma(0.0, 0.2),  # 10 +Q
    (-0.04, -0.04, -0.04),  # 11 PLUGE: 4% below black
    (0.04, 0.04, 0.04),  # 12 PLUGE: 4% above black
)
TOP = (0, 1, 2, 3, 4, 5, 6)  # the seven 75% bars
MIDDLE = (6, 7, 4, 7, 2, 7, 0)  # reversed blue bars: blue, black, magenta, black, cyan...
BOTTOM = (9, 8, 10, 7)  # -I, white, +Q, black: each 5/4 of a bar wide
PLUGE = (11, 7, 12)  # under the red bar, each 1/3 of a bar wide


def palette(linear: bool) -> np.ndarray:
    """The patches' RGB (13 × 3, float64): code values, or decoded with a 2.4 power."""
    codes = np.array(CODE_VALUES, np.float64)
    return np.sign(codes) * np.abs(codes) ** 2.4 if linear else codes


def patch_indices(xs: np.ndarray, ys: np.ndarray, width: int, height: int, smpte: bool):
    """The palette index of each pixel (``xs`` a row, ``ys`` a column of format pixels).

    Columns in 1/84 of the width (1/12 of a bar): ``u = x * 84 // width``; rows in 1/12 of
    the height: ``row = y * 12 // height``.
    """
    u = xs * 84 // width
    top = np.array(TOP)[u // 12]
    if not smpte:
        return np.broadcast_to(top, (len(ys), len(xs)))
    row = ys * 12 // height
    middle = np.array(MIDDLE)[u // 12]
    bottom = np.where(
        u < 60,
        np.array(BOTTOM)[np.minimum(u // 15, 3)],
        np.where(u < 72, np.array(PLUGE)[np.clip((u - 60) // 4, 0, 2)], 7),
    )
    return np.where(row < 8, top, np.where(row == 8, middle, bottom))


@register
class ColorBars(FormatSource):
    """Colour bars: SMPTE EG 1 bars or full-field 75% bars, opaque, covering the format.

    ``full_field``: seven equal columns of 75% bars, left to right grey (75% white),
    yellow, cyan, green, magenta, red, blue. ``smpte``: the classic three rows. The top
    2/3 of the height are those seven bars; the next 1/12 the reversed blue bars (blue,
    black, magenta, black, cyan, black, grey); the bottom 1/4 holds -I, 100% white, +Q and
    black, each 5/4 of a bar wide, then the PLUGE under the red bar (4% below black,
    black, 4% above black, each 1/3 of a bar) and black under the blue bar. Column ``x``
    lies in 1/84 of the width ``x * 84 // width`` and row ``y`` in 1/12 of the height
    ``y * 12 // height`` (whole-pixel edges, no filtering).

    Values: the bars are R'G'B' code values (0 black, 1 peak white, no setup): 0.75 for
    a bar's lit channels; -I and +Q are chroma of amplitude 0.2 on black through the FCC
    YIQ matrix, negative components clipped to 0 (-I = (0, 0.0544, 0.2214),
    +Q = (0.1242, 0, 0.3409)); the PLUGE is -0.04, 0 and +0.04. With ``linear`` (the
    default) each code value ``v`` is decoded as ``sign(v) |v|^2.4`` (BT.1886's power,
    black at 0), so a 75% bar is 0.5016, and written into the working space as it is (no
    change of primaries); without it the code values themselves are written. Alpha is 1.
    The data window is the whole format (``width`` × ``height``, 0 meaning the script
    format's size); outside it the image is transparent black.
    """

    type_name = "ColorBars"
    params = (
        Enum(
            "type",
            ("smpte", "full_field"),
            "smpte",
            "smpte: EG 1's three rows with -I, +Q and PLUGE; full_field: seven 75% bars.",
        ),
        Bool(
            "linear",
            True,
            "Decode the code values with a 2.4 power (on) or write them as they are (off).",
        ),
        *format_params("bars"),
    )

    @classmethod
    def pixels_inside(cls, values, inside: Window, fmt) -> np.ndarray:
        """The bars."""
        xs, ys = np.arange(inside.x0, inside.x1), np.arange(inside.y0, inside.y1)
        smpte = values["type"] == "smpte"
        index = patch_indices(xs, ys[:, None], fmt.width, fmt.height, smpte)
        pixels = np.ones((inside.height, inside.width, 4), np.float32)
        pixels[..., :3] = palette(values["linear"])[index]
        return pixels

    @classmethod
    def pack(cls, values, ctx) -> list[float]:
        """smpte (0/1), width, height, then the 13 patches' RGB (39): what
        ``color_bars_source`` reads."""
        fmt = source_format(values, ctx)
        smpte = 1.0 if values["type"] == "smpte" else 0.0
        rgb = palette(values["linear"]).ravel().tolist()
        return [smpte, float(fmt.width), float(fmt.height), *rgb]
