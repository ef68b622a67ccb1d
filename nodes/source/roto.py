"""Roto: closed Bézier shapes with per-point feather rasterised into a matte (Nuke's Roto)."""

from __future__ import annotations

import math

import numpy as np

from mattebox.nodes.kernel import kernel, prange
from mattebox.nodes.shapes import BLENDS, FALLOFFS
from mattebox.nodes.source.constant import format_params, source_format
from mattebox.nodes.spec import (
    EMPTY,
    RGBA_LAYERS,
    Bool,
    Enum,
    ImageInfo,
    Kind,
    NodeSpec,
    Shapes,
    Window,
    register,
)

FLATNESS = 0.01  # pixels: the most a flattened Bézier segment strays from the curve
MAX_PIECES = 512  # straight pieces per Bézier segment at most
OUTPUTS = ("A", "R", "G", "B")
COMPONENT = {"R": 0, "G": 1, "B": 2, "A": 3}
# The geometry block both kernels read (float64 on the CPU, float32 in the WGSL's P):
HEADER = 8  # shapes, output component, premultiply, format width, height, 3 unused
SHAPE_FIELDS = 12  # per shape: reach box x0 y0 x1 y1, first vertex (an index into the
#                    block), vertices, opacity, invert, blend, linear falloff, feathered, 0
VERTEX_FIELDS = 3  # per polyline vertex: x, y, feather


# --------------------------------------------------------------------------- geometry


def bezier_pieces(p0, p1, p2, p3) -> int:
    """Straight pieces that keep the cubic with control points ``p0..p3`` within
    :data:`FLATNESS` of its polyline at uniform steps of t: 1 where the control points
    lie on a line (zero tangents: a polygon edge), else ``ceil(sqrt(0.75 M / FLATNESS))``
    with ``M`` the larger second difference ``|p0 - 2 p1 + p2|``, ``|p1 - 2 p2 + p3|``
    (the bound ``max|B''| / (8 n^2)`` on the chord error), at most :data:`MAX_PIECES`."""
    chord = p3 - p0
    length = math.hypot(*chord)
    if length > 0.0:
        off = [
            abs(chord[0] * (p[1] - p0[1]) - chord[1] * (p[0] - p0[0])) / length for p in (p1, p2)
        ]
    else:
        off = [math.hypot(*(p - p0)) for p in (p1, p2)]
    if max(off) <= 1e-9:
        return 1
    m = max(math.hypot(*(p0 - 2 * p1 + p2)), math.hypot(*(p1 - 2 * p2 + p3)))
    return max(1, min(MAX_PIECES, math.ceil(math.sqrt(0.75 * m / FLATNESS))))


def flatten(shape: dict) -> np.ndarray:
    """A closed shape's outline as polyline vertices ``(x, y, feather)`` (N×3 float64, the
    closing edge implied): each Bézier segment from point k (control points ``p_k``,
    ``p_k + out_k``, ``p_k+1 + in_k+1``, ``p_k+1``) cut into :func:`bezier_pieces` equal
    steps of t, the feather running linearly in t from point k's to point k+1's."""
    points = np.array(shape["points"], np.float64).reshape(-1, 6)
    feather = np.array(shape["feather"], np.float64)
    rows = []
    count = len(points)
    for k in range(count):
        a, b = points[k], points[(k + 1) % count]
        p0, p3 = a[:2], b[:2]
        p1, p2 = p0 + a[4:6], p3 + b[2:4]
        n = bezier_pieces(p0, p1, p2, p3)
        t = np.arange(n, dtype=np.float64)[:, None] / n
        s = 1.0 - t
        xy = s**3 * p0 + 3 * s * s * t * p1 + 3 * s * t * t * p2 + t**3 * p3
        f = feather[k] + (feather[(k + 1) % count] - feather[k]) * t
        rows.append(np.hstack([xy, f]))
    return np.vstack(rows) if rows else np.zeros((0, 3))


def drawn(shapes) -> list[dict]:
    """The shapes that put pixels down: enabled, closed, two points or more, opacity > 0."""
    return [
        s
        for s in shapes
        if s["enabled"] and s["closed"] and len(s["points"]) >= 2 and s["opacity"] > 0.0
    ]


def reach_box(outline: np.ndarray) -> tuple[float, float, float, float]:
    """The box outside which a shape's value is 0: its outline's bounding box grown by the
    largest outward (positive) feather."""
    grow = max(0.0, float(outline[:, 2].max()))
    x0, y0 = outline[:, :2].min(axis=0) - grow
    x1, y1 = outline[:, :2].max(axis=0) + grow
    return float(x0), float(y0), float(x1), float(y1)


def shape_window(outline: np.ndarray) -> Window:
    """The pixels a (not inverted) shape can touch: its reach box, outwards to whole pixels."""
    x0, y0, x1, y1 = reach_box(outline)
    return Window(math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1))


def geometry(values: dict, width: int, height: int) -> np.ndarray:
    """The block both kernels read (see :data:`HEADER`, :data:`SHAPE_FIELDS`,
    :data:`VERTEX_FIELDS`): the drawn shapes flattened, in order."""
    shapes = drawn(values["shapes"])
    outlines = [flatten(s) for s in shapes]
    block = np.zeros(HEADER + SHAPE_FIELDS * len(shapes) + sum(3 * len(o) for o in outlines))
    block[:5] = (
        len(shapes),
        COMPONENT[values["output"]],
        float(values["premultiply"]),
        width,
        height,
    )
    at = HEADER + SHAPE_FIELDS * len(shapes)
    for index, (shape, outline) in enumerate(zip(shapes, outlines)):
        o = HEADER + SHAPE_FIELDS * index
        block[o : o + 4] = reach_box(outline)
        block[o + 4 : o + 11] = (
            at,
            len(outline),
            shape["opacity"],
            float(shape["invert"]),
            BLENDS.index(shape["blend"]),
            FALLOFFS.index(shape["feather_falloff"]),
            float(np.any(outline[:, 2] != 0.0)),
        )
        block[at : at + outline.size] = outline.ravel()
        at += outline.size
    return block


# --------------------------------------------------------------------------- CPU kernel


@kernel
def ramp_mean(u0, u1):
    """The mean of ``clamp(1 - u, 0, 1)`` (the part of a pixel's row right of ``u``) as
    ``u`` runs linearly from ``u0`` to ``u1``: through its integral ``phi`` where the run is
    long enough, else at its middle."""
    if abs(u1 - u0) < 1e-3:
        return min(max(1.0 - 0.5 * (u0 + u1), 0.0), 1.0)
    return (ramp_integral(u1) - ramp_integral(u0)) / (u1 - u0)


@kernel
def ramp_integral(u):
    """The integral of ``clamp(1 - s, 0, 1)`` for s from 0 to ``u``."""
    if u <= 0.0:
        return u
    if u >= 1.0:
        return 0.5
    return u - 0.5 * u * u


@kernel
def edge_area(g, a, b, px, py):
    """The signed area that the directed edge from vertex ``a`` to ``b`` (offsets into
    ``g``) sweeps over the pixel ``[px, px + 1) x [py, py + 1)`` to its right: summed over a
    closed outline, the pixel's area weighted by the winding number."""
    ax, ay, bx, by = g[a], g[a + 1], g[b], g[b + 1]
    y0 = max(min(ay, by), py)
    y1 = min(max(ay, by), py + 1.0)
    if y1 <= y0 or min(ax, bx) >= px + 1.0:
        return 0.0
    sign = 1.0 if by > ay else -1.0
    if max(ax, bx) <= px:
        return sign * (y1 - y0)
    slope = (bx - ax) / (by - ay)
    u0 = ax + (y0 - ay) * slope - px
    u1 = ax + (y1 - ay) * slope - px
    return sign * (y1 - y0) * ramp_mean(u0, u1)


@kernel
def edge_feather(g, a, b, cx, cy):
    """Distance from ``(cx, cy)`` to the edge from vertex ``a`` to ``b`` and the feather at
    that nearest point of the edge (linear along it between the vertices' feathers)."""
    ax, ay, fa = g[a], g[a + 1], g[a + 2]
    ex, ey = g[b] - ax, g[b + 1] - ay
    length2 = ex * ex + ey * ey
    u = 0.0
    if length2 > 0.0:
        u = min(max(((cx - ax) * ex + (cy - ay) * ey) / length2, 0.0), 1.0)
    dx, dy = cx - (ax + u * ex), cy - (ay + u * ey)
    return math.sqrt(dx * dx + dy * dy), fa + (g[b + 2] - fa) * u


@kernel
def falloff(w, linear):
    """The feather profile at ``w`` in [0, 1] (1 at the shape's edge, 0 at the offset
    curve): ``w`` for linear, the smoothstep ``w^2 (3 - 2w)`` for smooth."""
    if linear > 0.5:
        return w
    return w * w * (3.0 - 2.0 * w)


@kernel
def shape_value(g, o, edges, n, px, py):
    """The value of the shape at ``g[o:]`` over the pixel at ``(px, py)`` from the vertex
    offsets ``edges[:n]`` of its edges near the pixel's row (each edge runs from vertex
    ``edges[k]`` to the next): ``c w_in + (1 - c) w_out``, ``c`` the exact area of the
    outline's inside (non-zero winding) in the pixel, ``w_out``/``w_in`` the outward and
    inward feather profiles at the pixel's centre."""
    start, count = int(g[o + 4]), int(g[o + 5])
    last = start + 3 * (count - 1)
    area = 0.0
    out_d = 1.0
    in_d = 1.0
    feathered = g[o + 10] > 0.5
    cx, cy = px + 0.5, py + 0.5
    for k in range(n):
        a = edges[k]
        b = start if a == last else a + 3
        area += edge_area(g, a, b, px, py)
        reach = max(abs(g[a + 2]), abs(g[b + 2]))
        if feathered and min(g[a], g[b]) - reach < cx and max(g[a], g[b]) + reach > cx:
            d, f = edge_feather(g, a, b, cx, cy)
            if f > 0.0:
                out_d = min(out_d, d / f)
            elif f < 0.0:
                in_d = min(in_d, -d / f)
    c = min(abs(area), 1.0)
    linear = g[o + 9]
    w_out = falloff(1.0 - out_d, linear) if out_d < 1.0 else 0.0
    w_in = falloff(in_d, linear) if in_d < 1.0 else 1.0
    return c * w_in + (1.0 - c) * w_out


@kernel
def row_edges(g, o, py, edges):
    """Fill ``edges`` with the vertex offsets of the shape's edges whose rows, grown by
    their largest feather, meet the pixel row ``[py, py + 1)``; return how many."""
    start, count = int(g[o + 4]), int(g[o + 5])
    n = 0
    for k in range(count):
        a = start + 3 * k
        b = start + 3 * ((k + 1) % count)
        reach = max(abs(g[a + 2]), abs(g[b + 2]))
        if min(g[a + 1], g[b + 1]) - reach < py + 1.0 and max(g[a + 1], g[b + 1]) + reach > py:
            edges[n] = a
            n += 1
    return n


@kernel
def blend(acc, v, mode):
    """``v`` composited onto ``acc``: over (0), add (1, clipped at 1), subtract (2, at 0)."""
    if mode < 0.5:
        return v + acc * (1.0 - v)
    if mode < 1.5:
        return min(1.0, acc + v)
    return max(0.0, acc - v)


@kernel(parallel=True)
def roto_kernel(src, sx0, sy0, dst, dx0, dy0, g):
    """Every pixel of ``dst`` (its top-left at ``(dx0, dy0)``): the Source's pixel (black
    outside ``src``) with the matte of the shapes in ``g`` in the output component; only
    the shapes whose reach box meets a pixel, and their edges near its row, are visited."""
    height, width = dst.shape[0], dst.shape[1]
    shapes = int(g[0])
    component = int(g[1])
    premultiply = g[2] > 0.5
    fw, fh = g[3], g[4]
    longest = 1
    for s in range(shapes):
        longest = max(longest, int(g[HEADER + SHAPE_FIELDS * s + 5]))
    for j in prange(height):
        py = float(dy0 + j)
        edges = np.empty((max(shapes, 1), longest), np.int64)
        counts = np.zeros(max(shapes, 1), np.int64)
        for s in range(shapes):
            o = HEADER + SHAPE_FIELDS * s
            if g[o + 1] < py + 1.0 and g[o + 3] > py:
                counts[s] = row_edges(g, o, py, edges[s])
        for i in range(width):
            px = float(dx0 + i)
            acc = 0.0
            for s in range(shapes):
                o = HEADER + SHAPE_FIELDS * s
                v = 0.0
                if counts[s] > 0 and g[o] < px + 1.0 and g[o + 2] > px:
                    v = shape_value(g, o, edges[s], counts[s], px, py)
                if g[o + 7] > 0.5:  # inverted: within the format only
                    inside = px >= 0.0 and py >= 0.0 and px < fw and py < fh
                    v = 1.0 - v if inside else 0.0
                acc = blend(acc, v * g[o + 6], g[o + 8])
            y, x = dy0 + j - sy0, dx0 + i - sx0
            have = y >= 0 and x >= 0 and y < src.shape[0] and x < src.shape[1]
            for c in range(4):
                value = src[y, x, c] if have else 0.0
                if c == component:
                    value = acc
                elif premultiply and c < 3:
                    value *= acc
                dst[j, i, c] = value


# --------------------------------------------------------------------------- the node


@register
class Roto(NodeSpec):
    """Shapes drawn by hand: closed cubic Béziers with per-point feather, rasterised into a
    matte in the channel ``output`` (Nuke's Roto).

    ``shapes`` is a list of shapes (see ``docs/scripts.md``): each has ``points``
    ``[x, y, in_dx, in_dy, out_dx, out_dy]`` in format pixels (origin top-left, y down;
    tangent handles relative to their point, zero handles a polygon corner), ``feather``
    per point (pixels, outwards; negative inwards), ``feather_falloff`` (``smooth`` or
    ``linear``), ``opacity``, ``invert``, ``blend`` (``over``, ``add``, ``subtract``),
    ``closed`` and ``enabled``. The shapes are composited in list order into the matte
    ``m`` (from 0): over ``v + m (1 - v)``, add ``min(1, m + v)``, subtract
    ``max(0, m - v)``, with ``v`` the shape's value times its opacity (``1 - value`` for
    an inverted shape, within the format; 0 outside it). Open shapes (one being drawn),
    disabled ones and shapes of fewer than two points draw nothing. ``shapes`` animates as
    a whole (``docs/scripts.md``).

    How a shape is rasterised, the same way on both backends: each Bézier segment is
    flattened on the CPU into equal steps of its parameter, as many as keep the polyline
    within 0.01 px of the curve (one for a straight edge; at most 512), and both kernels
    read that one polyline. A pixel's coverage ``c`` is the exact area of the polyline's
    inside (non-zero winding) within the pixel square, from the signed areas its edges
    sweep over the pixel (analytic anti-aliasing, no sampling). The feather is an offset
    of the outline: a point at distance ``d`` from the outline whose nearest outline point
    has feather ``f`` (linear along each edge between the points' values) lies in the
    band when ``d < |f|``; with ``w = 1 - d / f`` outwards and ``w = d / |f|`` inwards,
    shaped by the falloff (``w`` linear, ``w^2 (3 - 2w)`` smooth), taken at the pixel's
    centre and nearest over the outline. The shape's value is ``c w_in + (1 - c) w_out``
    (``w_in`` 1 without an inward band, ``w_out`` 0 without an outward one): 1 inside
    with an outer feather falling to 0 at ``f`` pixels out, and an inner feather rising
    from 0 at the edge. Corners of the offset are round (distance to the corner point).

    Each pixel visits only the shapes whose box (outline grown by the outward feather)
    meets it, and of those only the edges whose rows (and, for the feather, columns) grown
    by their feather reach it. Without a ``Source`` the image is
    black with the matte in ``output``; its format is ``width`` × ``height`` (0: the
    script's) and its data window the union of the shapes' boxes (the whole format where
    a shape is inverted). With a ``Source``, its format, its pixels with ``output``
    replaced by the matte (``premultiply`` multiplies R, G and B but ``output`` by it),
    its other layers passed through, and its data window united with the shapes'.
    """

    type_name = "Roto"
    family = "source"
    kind = Kind.AREA
    inputs = ()
    optional_inputs = ("Source",)
    main_layer_only = True
    cpu_kernel = roto_kernel
    params = (
        Shapes(
            "shapes",
            "Closed Béziers with feather, composited in order (docs/scripts.md, 'Roto shapes').",
        ),
        Enum("output", OUTPUTS, "A", "The channel of the main layer the matte is written to."),
        Bool(
            "premultiply",
            False,
            "With a Source: multiply its R, G, B (but the output channel) by the matte.",
        ),
        *format_params("matte"),
    )

    @classmethod
    def data_window(cls, values, inputs, ctx) -> ImageInfo:
        """The Source's format and window united with the shapes' boxes, or without a
        Source the ``width`` × ``height`` format and the boxes alone (an inverted shape
        covers the format)."""
        source = inputs[0] if inputs else None
        fmt = source.format if source is not None else source_format(values, ctx)
        window = source.data_window if source is not None else EMPTY
        for shape in drawn(values["shapes"]):
            cover = fmt.window if shape["invert"] else shape_window(flatten(shape))
            window = window.union(cover)
        return ImageInfo(fmt, window, source.layers if source is not None else RGBA_LAYERS)

    @classmethod
    def context_key(cls, values, ctx):
        """The script format's size where an inverted shape reaches to the format and the
        format is the script's (``width``/``height`` 0): the pixels outside it differ."""
        inverted = any(s["invert"] for s in drawn(values["shapes"]))
        if not inverted or (values["width"] and values["height"]):
            return None
        return [ctx.script_format.width, ctx.script_format.height]

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """The geometry block (see :func:`geometry`) for the output format."""
        inputs = ctx.extras.get("inputs") or [None]
        fmt = inputs[0].format if inputs[0] is not None else source_format(values, ctx)
        return (geometry(values, fmt.width, fmt.height),)
