"""Text: a line (or lines) of text in one colour on transparent black, drawn by
OpenImageIO's ``ImageBufAlgo.render_text`` (Nuke's Text)."""

from __future__ import annotations

import functools
import math
import os

import numpy as np
import OpenImageIO as oiio

from mattebox.nodes.source.constant import FormatSource, blank, format_params, paste, source_format
from mattebox.nodes.spec import (
    EMPTY,
    RGBA,
    Enum,
    ImageInfo,
    Int,
    String,
    Vec2,
    Window,
    register,
)

JUSTIFY = ("left", "center", "right")
FONT_FILE_ENDINGS = (".ttf", ".otf", ".ttc", ".pfa", ".pfb")


@functools.lru_cache(maxsize=32)
def coverage(message: str, font: str, size: int, justify: str) -> tuple[np.ndarray, int, int]:
    """The text's coverage (0..1) as a read-only float32 H×W array cropped to the pixels it
    touches, and the offset of its top-left pixel from the pen position (the baseline's
    start). An empty mask where nothing is drawn. Cached: the same text is rendered once.

    Raises ValueError naming the font when OpenImageIO cannot find it.
    """
    box = oiio.ImageBufAlgo.text_size(message, size, font)
    if box.defined and box.xbegin < box.xend and box.ybegin < box.yend:
        # room for every alignment: centred or right-justified text starts up to its
        # width left of the pen
        width = box.xend - box.xbegin
        x0, x1 = box.xbegin - width - 2, box.xend + 2
        y0, y1 = box.ybegin - 2, box.yend + 2
    else:  # no extent (an empty message): still draw, so a bad font is reported
        x0, x1, y0, y1 = 0, 1, 0, 1
    buf = oiio.ImageBuf(oiio.ImageSpec(x1 - x0, y1 - y0, 1, oiio.FLOAT))
    drawn = oiio.ImageBufAlgo.render_text(
        buf, -x0, -y0, message, size, font, (1.0,), alignx=justify
    )
    if not drawn:
        error = buf.geterror()
        if "font" in error.lower():
            raise ValueError(f"font {font!r} not found")
        raise ValueError(f"cannot draw the text: {error.splitlines()[0] if error else 'unknown'}")
    mask = buf.get_pixels(oiio.FLOAT)[..., 0]
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        mask, top, left = np.zeros((0, 0), np.float32), 0, 0
    else:
        top, left = int(rows[0]), int(columns[0])
        mask = np.ascontiguousarray(mask[top : rows[-1] + 1, left : columns[-1] + 1])
    mask.setflags(write=False)
    return mask, x0 + left, y0 + top


def font_path(font: str, script_dir: str) -> str:
    """``font`` as OpenImageIO looks it up: a font file named relative to the script's
    folder becomes that file's path; names and other paths are passed on as they are."""
    if font.lower().endswith(FONT_FILE_ENDINGS) and not os.path.isabs(font):
        candidate = os.path.join(script_dir, font)
        if os.path.isfile(candidate):
            return candidate
    return font


def pen(values) -> tuple[int, int]:
    """The pen position: ``position`` rounded to whole pixels (OpenImageIO draws there)."""
    x, y = values["position"]
    return math.floor(x + 0.5), math.floor(y + 0.5)


@register
class Text(FormatSource):
    """``message`` in ``color`` on transparent black, drawn by OpenImageIO.

    ``position`` is where the first line's baseline starts, in pixels of the format with
    the origin at the top-left and y pointing down (as everywhere in Mattebox), rounded to
    whole pixels: glyphs sit above the line ``y = position.y`` and descenders below it.
    ``justify`` places the text's left end, centre or right end at ``position.x``. A
    newline in ``message`` starts another line below. ``size`` is the font size in pixels
    (a proxy render draws at its own scale, rounded up to whole pixels).

    The pixels are ``color * coverage``, ``coverage`` (0 to 1) being what
    ``OpenImageIO.ImageBufAlgo.render_text`` draws in white on black: premultiplied, as
    drawing ``color`` with ``render_text`` on transparent black gives it. ``font`` is a
    font name OpenImageIO finds in its font folders (``DroidSans``, ``DroidSans-Bold``,
    ``DroidSerif``, ``DroidSansMono`` come with it), or a font file's path (relative paths
    from the script's folder); empty uses OpenImageIO's default, Droid Sans. A font that
    cannot be found is an error naming it.

    The data window is the box of the pixels the text touches, inside the format
    (``width`` × ``height``, 0 meaning the script format's size): empty text gives an
    empty window, and text beyond the format's edges is cut there. Each text (message,
    font, size, justify) is drawn once and kept (the 32 most recent), so moving or
    recolouring it does not draw it again. The GPU backend has no kernel of its own for
    Text: it uploads these pixels.
    """

    type_name = "Text"
    params = (
        String("message", "Text", "The text to draw; a newline starts another line."),
        String(
            "font",
            "",
            "Font name (DroidSans, DroidSerif, ...) or font file; empty: OpenImageIO's default.",
        ),
        Int("size", 64, "Font size in pixels.", min=1, soft_max=512, spatial=True),
        Vec2(
            "position",
            (100.0, 200.0),
            "Start of the first line's baseline (pixels, origin top-left, y down).",
            spatial=True,
        ),
        Enum(
            "justify",
            JUSTIFY,
            "left",
            "Which part of the text lies at position.x: its left end, centre or right end.",
        ),
        RGBA(
            "color",
            1.0,
            "Colour of the text (premultiplied RGBA).",
            soft_min=0.0,
            soft_max=1.0,
        ),
        *format_params("image"),
    )

    @classmethod
    def placed(cls, values, ctx) -> tuple[np.ndarray, Window]:
        """The coverage mask and the window it covers in the image (before the format
        cuts it)."""
        font = font_path(values["font"], ctx.script_dir)
        mask, dx, dy = coverage(values["message"], font, values["size"], values["justify"])
        if mask.size == 0:
            return mask, EMPTY
        x, y = pen(values)
        return mask, Window(x + dx, y + dy, x + dx + mask.shape[1], y + dy + mask.shape[0])

    @classmethod
    def source_info(cls, values, ctx) -> ImageInfo:
        """The format from ``width``/``height``; the data window the text's box inside it."""
        fmt = source_format(values, ctx)
        _, box = cls.placed(values, ctx)
        window = box.intersect(fmt.window)
        return ImageInfo(fmt, EMPTY if window.empty else window)

    @classmethod
    def generate(cls, values, region: Window, ctx) -> np.ndarray:
        """``color * coverage`` over ``region``, transparent black outside the text's box
        and the format."""
        fmt = source_format(values, ctx)
        mask, box = cls.placed(values, ctx)
        out = blank(region)
        inside = region.intersect(box).intersect(fmt.window)
        if inside.empty:
            return out
        cover = mask[
            inside.y0 - box.y0 : inside.y1 - box.y0, inside.x0 - box.x0 : inside.x1 - box.x0
        ]
        color = np.array(values["color"], np.float32)
        return paste(out, region, inside, cover[..., None] * color)
