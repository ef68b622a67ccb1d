"""Resampling shared by the resample nodes (Transform, Reformat): filters, kernel, windows.

Not a node. An affine transform is given by its *inverse* ``m`` (six numbers): the output
pixel centre ``(ox, oy) = (x + 0.5, y + 0.5)`` samples the input at
``(m0*ox + m1*oy + m2, m3*ox + m4*oy + m5)``, a continuous position whose pixel centres
lie at ``i + 0.5``. Filters are separable along the input's axes; where the transform
minifies an axis by ``s`` the filter is widened by ``1/s`` in that axis (as OpenImageIO's
``resize`` does), so downscaling is antialiased. Weights are normalised to sum 1 over their
taps; taps outside the input are transparent black (not clamped to the edge).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mattebox.nodes.kernel import ZERO, kernel, prange
from mattebox.nodes.spec import EMPTY, Enum, Format, ImageInfo, Kind, NodeSpec, Window

FILTERS = ("nearest", "linear", "cubic", "lanczos3")
FILTER_RADIUS = (0.5, 1.0, 2.0, 3.0)  # support of each filter in input pixels, unscaled
SINGULAR = 1e-12  # |det| below which a transform is degenerate (nothing comes out)
EDGE_EPS = 1e-6  # slack, in pixels, for rounding windows of nearly exact positions
BLOCK_ROWS = 8  # output rows per parallel task of the separable path (one row buffer each)


# --------------------------------------------------------------------------- filters


@kernel
def filter_weight(filter_id, x):
    """Weight of a tap at distance ``x`` (in filter units) for filter ``filter_id`` >= 1.

    1 linear (tent, radius 1), 2 cubic (Keys, a = -0.5, radius 2), 3 lanczos3
    (``sinc(x) sinc(x/3)``, radius 3). 0 everywhere outside the radius.
    """
    ax = abs(x)
    if filter_id == 1:
        return max(0.0, 1.0 - ax)
    if filter_id == 2:
        a = -0.5
        if ax <= 1.0:
            return ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1.0
        if ax < 2.0:
            return ((a * ax - 5.0 * a) * ax + 8.0 * a) * ax - 4.0 * a
        return 0.0
    if filter_id == 3:
        if ax < 1e-8:
            return 1.0
        if ax >= 3.0:
            return 0.0
        px = math.pi * ax
        return 3.0 * math.sin(px) * math.sin(px / 3.0) / (px * px)
    return 1.0 if ax <= 0.5 else 0.0


@kernel
def filter_radius(filter_id):
    """Support of the filter in its own units (0.5 for nearest)."""
    if filter_id == 1:
        return 1.0
    if filter_id == 2:
        return 2.0
    if filter_id == 3:
        return 3.0
    return 0.5


@kernel
def filter_widening(filter_id, a, b):
    """How much to widen a filter along an input axis whose inverse-map row is ``(a, b)``.

    ``hypot(a, b)`` is the input distance covered by one output pixel along that axis;
    above 1 the transform minifies and the filter grows with it. Nearest never widens.
    """
    if filter_id == 0:
        return 1.0
    return max(1.0, math.sqrt(a * a + b * b))


@kernel
def filter_taps(filter_id, f, widen, taps):
    """Fill ``taps`` with the weights of the taps ``first, first+1, ...`` around ``f``.

    ``f`` is the sample position in pixel-index space (pixel ``i`` at ``f == i``). Returns
    ``(first, count, total)``: the first tap's index, the number of taps written and the
    sum of their weights (the taps are those with ``|i - f| < radius * widen``).
    """
    reach = filter_radius(filter_id) * widen
    first = math.floor(f - reach) + 1
    last = math.ceil(f + reach) - 1
    count = min(last - first + 1, taps.shape[0])
    total = 0.0
    for k in range(count):
        weight = filter_weight(filter_id, (first + k - f) / widen)
        taps[k] = weight
        total += weight
    return first, count, total


@kernel
def weighted_sum(src, i0, nx, taps_x, j0, ny, taps_y):
    """Sum of ``taps_y[ky] * taps_x[kx] * src[j0 + ky, i0 + kx]`` over the taps inside
    ``src`` (the others read black); unnormalised. Returns (r, g, b, a)."""
    h, w = src.shape[0], src.shape[1]
    kx_lo = max(0, -i0)
    kx_hi = min(nx, w - i0)
    r = 0.0
    g = 0.0
    b = 0.0
    a = 0.0
    for ky in range(max(0, -j0), min(ny, h - j0)):
        j = j0 + ky
        wy = taps_y[ky]
        for kx in range(kx_lo, kx_hi):
            weight = wy * taps_x[kx]
            i = i0 + kx
            r += weight * src[j, i, 0]
            g += weight * src[j, i, 1]
            b += weight * src[j, i, 2]
            a += weight * src[j, i, 3]
    return r, g, b, a


def resample_kernel(src, sx0, sy0, dst, dx0, dy0, m, filter_id):
    """Affine resampling of ``src`` into ``dst`` through the inverse map ``m`` (module doc).

    ``filter_id`` indexes :data:`FILTERS`. Every pixel of ``dst`` is written. Axis-aligned
    maps (Reformat, scale-and-move: ``m[1] == m[3] == 0``) take
    :func:`separable_resample`, any other :func:`affine_resample`; both give the same
    pixels but for float32 rounding.

    Plain Python on purpose, choosing between the two compiled kernels once per call: a
    numba function that calls a ``parallel`` one crashes when loaded from numba's on-disk
    cache (numba issue 8578), so this one is not a ``@kernel``.
    """
    if m[1] == 0.0 and m[3] == 0.0:
        separable_resample(src, sx0, sy0, dst, dx0, dy0, m, filter_id)
    else:
        affine_resample(src, sx0, sy0, dst, dx0, dy0, m, filter_id)


@kernel(parallel=True)
def affine_resample(src, sx0, sy0, dst, dx0, dy0, m, filter_id):
    """Any affine map: a 2-D weighted sum per output pixel, its taps found afresh."""
    h, w = src.shape[0], src.shape[1]
    height, width = dst.shape[0], dst.shape[1]
    widen_x = filter_widening(filter_id, m[0], m[1])
    widen_y = filter_widening(filter_id, m[3], m[4])
    reach_x = filter_radius(filter_id) * widen_x
    reach_y = filter_radius(filter_id) * widen_y
    max_x = int(2.0 * reach_x) + 2
    max_y = int(2.0 * reach_y) + 2
    for row in prange(height):
        taps_x = np.empty(max_x, np.float64)
        taps_y = np.empty(max_y, np.float64)
        oy = dy0 + row + 0.5
        for col in range(width):
            for c in range(4):
                dst[row, col, c] = 0.0
            ox = dx0 + col + 0.5
            # position in src pixel-index space: pixel (i, j) at (fx, fy) == (i, j)
            fx = m[0] * ox + m[1] * oy + m[2] - 0.5 - sx0
            fy = m[3] * ox + m[4] * oy + m[5] - 0.5 - sy0
            inside_x = fx > -reach_x - 1.0 and fx < w + reach_x
            inside_y = fy > -reach_y - 1.0 and fy < h + reach_y
            if not (inside_x and inside_y):  # also false for NaN
                continue
            if filter_id == 0:
                i = math.floor(fx + 0.5)
                j = math.floor(fy + 0.5)
                if 0 <= i < w and 0 <= j < h:
                    for c in range(4):
                        dst[row, col, c] = src[j, i, c]
                continue
            i0, nx, total_x = filter_taps(filter_id, fx, widen_x, taps_x)
            j0, ny, total_y = filter_taps(filter_id, fy, widen_y, taps_y)
            r, g, b, a = weighted_sum(src, i0, nx, taps_x, j0, ny, taps_y)
            norm = total_x * total_y
            if norm != 0.0:
                dst[row, col, 0] = r / norm
                dst[row, col, 1] = g / norm
                dst[row, col, 2] = b / norm
                dst[row, col, 3] = a / norm


@kernel
def axis_taps(filter_id, scale, offset, d0, n_out, s0, n_src, widen):
    """The taps of the output pixels ``d0 .. d0 + n_out - 1`` along one axis of an
    axis-aligned map, pixel ``d0 + o`` sampling ``scale * (d0 + o + 0.5) + offset``.

    Only the taps inside the input's ``n_src`` pixels (the first at ``s0``) are kept, so
    black costs nothing; their weights are normalised by the sum over all the taps, as
    :func:`affine_resample` does. Returns ``(start, count, weights)``: per output pixel
    the input index (from ``s0``) of its first kept tap, how many it keeps (0 where it
    reads only black), and in ``weights[o, :count[o]]`` their float32 weights.
    """
    reach = filter_radius(filter_id) * widen
    taps = np.empty(int(2.0 * reach) + 2, np.float64)
    start = np.zeros(n_out, np.int64)
    count = np.zeros(n_out, np.int64)
    weights = np.zeros((n_out, min(taps.shape[0], n_src)), np.float32)
    for o in range(n_out):
        f = scale * (d0 + o + 0.5) + offset - 0.5 - s0  # in pixel-index space, as there
        if not (f > -reach - 1.0 and f < n_src + reach):  # also false for NaN
            continue
        if filter_id == 0:
            i = math.floor(f + 0.5)
            if 0 <= i < n_src:
                start[o], count[o] = i, 1
                weights[o, 0] = 1.0
            continue
        first, n, total = filter_taps(filter_id, f, widen, taps)
        lo, hi = max(0, -first), min(n, n_src - first)
        if total == 0.0 or hi <= lo:
            continue
        for k in range(lo, hi):
            weights[o, k - lo] = taps[k] / total
        start[o], count[o] = first + lo, hi - lo
    return start, count, weights


@kernel
def add_scaled(out, weight, values):
    """``out[j] += weight * values[j]`` over whole 1-D arrays (a loop from 0, so numba
    drops its negative-index wrap and LLVM vectorises it)."""
    for j in range(out.shape[0]):
        out[j] += weight * values[j]


@kernel
def weighted_pixels(line, start, count, weights, out):
    """The horizontal pass: ``out[o] = sum(weights[o, k] * line[start[o] + k])`` for each
    pixel ``o`` of a row (``line`` and ``out`` are (pixels, 4))."""
    for o in range(out.shape[0]):
        s = start[o]
        r = g = b = a = ZERO
        for k in range(count[o]):
            wk = weights[o, k]
            r += wk * line[s + k, 0]
            g += wk * line[s + k, 1]
            b += wk * line[s + k, 2]
            a += wk * line[s + k, 3]
        out[o, 0] = r
        out[o, 1] = g
        out[o, 2] = b
        out[o, 3] = a


@kernel(parallel=True)
def separable_resample(src, sx0, sy0, dst, dx0, dy0, m, filter_id):
    """Axis-aligned maps (``m[1] == m[3] == 0``): one 1-D filter per axis.

    Each column's and each row's taps are found once (:func:`axis_taps`). An output row is
    the vertical weighted sum of its input rows over the input columns any output column
    reads (a row buffer), then each pixel the horizontal weighted sum of that buffer: per
    pixel ``nx + ny`` taps instead of ``nx * ny``. Equal to :func:`affine_resample` but
    for float32 rounding (both normalise by the sum of all taps and read black outside).
    """
    h, w = src.shape[0], src.shape[1]
    height, width = dst.shape[0], dst.shape[1]
    widen_x = filter_widening(filter_id, m[0], m[1])
    widen_y = filter_widening(filter_id, m[3], m[4])
    start_x, count_x, weights_x = axis_taps(filter_id, m[0], m[2], dx0, width, sx0, w, widen_x)
    start_y, count_y, weights_y = axis_taps(filter_id, m[4], m[5], dy0, height, sy0, h, widen_y)
    lo, hi = w, 0  # the input columns read by some output column
    for o in range(width):
        if count_x[o] > 0:
            lo = min(lo, start_x[o])
            hi = max(hi, start_x[o] + count_x[o])
    hi = max(hi, lo)
    for o in range(width):
        if count_x[o] > 0:
            start_x[o] -= lo  # now an index into the row buffer
    rows = src.reshape(h, 4 * w)
    out = dst.reshape(height, 4 * width)
    for block in prange((height + BLOCK_ROWS - 1) // BLOCK_ROWS):
        line = np.empty(4 * (hi - lo), np.float32)
        for row in range(block * BLOCK_ROWS, min((block + 1) * BLOCK_ROWS, height)):
            n = count_y[row]
            if n == 0 or hi == lo:
                out[row] = 0.0
                continue
            line[:] = 0.0
            for k in range(n):
                add_scaled(line, weights_y[row, k], rows[start_y[row] + k, 4 * lo : 4 * hi])
            weighted_pixels(line.reshape(hi - lo, 4), start_x, count_x, weights_x, dst[row])


# --------------------------------------------------------------------------- matrices


def translate(tx: float, ty: float) -> np.ndarray:
    """3×3 translation."""
    return np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])


def scale(sx: float, sy: float) -> np.ndarray:
    """3×3 scale about the origin."""
    return np.array([[sx, 0.0, 0.0], [0.0, sy, 0.0], [0.0, 0.0, 1.0]])


def rotate(degrees: float) -> np.ndarray:
    """3×3 rotation about the origin, counter-clockwise on screen (y points down)."""
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


def is_singular(forward: np.ndarray) -> bool:
    """True when the forward map squashes the plane (nothing comes out)."""
    det = forward[0, 0] * forward[1, 1] - forward[0, 1] * forward[1, 0]
    return not math.isfinite(det) or abs(det) < SINGULAR


def inverse_map(forward: np.ndarray) -> np.ndarray:
    """The kernel's ``m``: float64[6], the first two rows of ``forward``'s inverse.

    A degenerate ``forward`` gives a map that sends every output pixel far outside any
    input, so the kernel writes black.
    """
    if is_singular(forward):
        return np.array([0.0, 0.0, -1e30, 0.0, 0.0, -1e30])
    return np.ascontiguousarray(np.linalg.inv(forward)[:2].reshape(6), dtype=np.float64)


def _reach(m: np.ndarray, filter_id: int) -> tuple[float, float]:
    """The filter's reach in input pixels along x and y: :func:`filter_widening` restated
    in plain Python, so planning never waits for numba to compile a kernel helper."""
    radius = FILTER_RADIUS[filter_id]
    if filter_id == 0:
        return radius, radius
    return (
        radius * max(1.0, math.hypot(m[0], m[1])),
        radius * max(1.0, math.hypot(m[3], m[4])),
    )


def _apply(matrix: np.ndarray, xs: list[float], ys: list[float]) -> tuple[np.ndarray, np.ndarray]:
    points = np.array([[x, y, 1.0] for x in xs for y in ys]).T
    mapped = matrix[:2] @ points
    return mapped[0], mapped[1]


# --------------------------------------------------------------------------- windows


def transformed_window(forward: np.ndarray, window: Window, filter_id: int) -> Window:
    """The output data window of resampling an input data window ``window``.

    Every output pixel whose centre can receive a non-zero weight: the input box reached
    by the filter around the input's pixel centres (``[x0 + 0.5 - reach, x1 - 0.5 + reach]``
    per axis) is mapped forward, and the output pixels whose centres fall strictly inside
    its bounding box are kept. For nearest (and along an axis mapped onto whole pixels,
    where the interpolating filters reduce to a copy) the reach is half a pixel and centres
    on the box's edge count.
    """
    if window.empty or is_singular(forward):
        return EMPTY
    m = inverse_map(forward)
    rx, ry = _reach(m, filter_id)
    closed_x = filter_id == 0 or _onto_whole_pixels(m[0], m[1], m[2])
    closed_y = filter_id == 0 or _onto_whole_pixels(m[4], m[3], m[5])
    rx, ry = (0.5 if closed_x else rx), (0.5 if closed_y else ry)
    xs, ys = _apply(
        forward,
        [window.x0 + 0.5 - rx, window.x1 - 0.5 + rx],
        [window.y0 + 0.5 - ry, window.y1 - 0.5 + ry],
    )
    x0, x1 = _centres_within(xs.min(), xs.max(), closed_x)
    y0, y1 = _centres_within(ys.min(), ys.max(), closed_y)
    if x1 <= x0 or y1 <= y0:
        return EMPTY
    return Window(x0, y0, x1, y1)


def _onto_whole_pixels(diagonal: float, across: float, offset: float) -> bool:
    """Whether an inverse-map row sends output pixel centres to input pixel centres along
    its own axis only (``±1``, ``0``, a whole offset): then every filter copies pixels."""
    return (
        abs(across) < SINGULAR
        and abs(abs(diagonal) - 1.0) < SINGULAR
        and abs(offset - round(offset)) < EDGE_EPS
    )


def _centres_within(lo: float, hi: float, closed: bool) -> tuple[int, int]:
    """The pixels ``[first, end)`` whose centres lie in ``(lo, hi)`` (``[lo, hi]`` if closed)."""
    if closed:
        return math.ceil(lo - 0.5 - EDGE_EPS), math.floor(hi - 0.5 + EDGE_EPS) + 1
    return math.floor(lo - 0.5 + EDGE_EPS) + 1, math.ceil(hi - 0.5 - EDGE_EPS)


def source_region(m: np.ndarray, region: Window, filter_id: int) -> Window:
    """The input pixels the kernel reads to compute output ``region`` through ``m``.

    The output pixel centres' box is mapped back; the result is grown by the filter's
    (widened) reach and rounded outward, with a pixel to spare for rounding.
    """
    if region.empty or not math.isfinite(abs(m[2]) + abs(m[5])) or abs(m[2]) > 1e29:
        return EMPTY
    rx, ry = _reach(m, filter_id)
    inverse = np.array([[m[0], m[1], m[2]], [m[3], m[4], m[5]], [0.0, 0.0, 1.0]])
    xs, ys = _apply(inverse, [region.x0 + 0.5, region.x1 - 0.5], [region.y0 + 0.5, region.y1 - 0.5])
    return Window(
        math.floor(xs.min() - 0.5 - rx),
        math.floor(ys.min() - 0.5 - ry),
        math.floor(xs.max() - 0.5 + rx) + 2,
        math.floor(ys.max() - 0.5 + ry) + 2,
    )


# --------------------------------------------------------------------------- node base


def filter_param(doc: str = "Resampling filter; downscaling widens it (antialiased).") -> Any:
    """The ``filter`` enum shared by the resample nodes (default cubic)."""
    return Enum("filter", FILTERS, "cubic", doc)


def input_info(ctx) -> ImageInfo:
    """The node's first input as the engine describes it in ``ctx.extras["inputs"]``.

    :meth:`NodeSpec.input_region` and ``kernel_args`` receive no input description, yet a
    resample may depend on its input's format (Reformat scales by it); the engine puts the
    node's input :class:`ImageInfo` list in ``ctx.extras["inputs"]``. Without it, the
    script's format stands in.
    """
    infos = ctx.extras.get("inputs") or [None]
    info = infos[0]
    if info is None:
        return ImageInfo(ctx.script_format, ctx.script_format.window)
    return info


class AffineResample(NodeSpec):
    """Base of the resample nodes defined by an affine map and a ``filter`` parameter.

    Subclasses implement :meth:`forward_matrix` (input -> output, 3×3) and may override
    :meth:`output_format`; data windows, input regions and kernel arguments follow.
    Not registered: it is not a node type.
    """

    kind = Kind.RESAMPLE
    family = "transform"
    cpu_kernel = resample_kernel

    @classmethod
    def forward_matrix(cls, values: dict, ctx, source: ImageInfo) -> np.ndarray:
        """The 3×3 map from input image coordinates to output image coordinates."""
        raise NotImplementedError

    @classmethod
    def output_format(cls, values: dict, ctx, source: ImageInfo) -> Format:
        """The output's format; the input's by default."""
        return source.format

    @classmethod
    def resample_matrix(cls, values: dict, ctx) -> np.ndarray:
        """The kernel's ``m``: output pixel centre -> input position (float64[6])."""
        return inverse_map(cls.forward_matrix(values, ctx, input_info(ctx)))

    @classmethod
    def data_window(cls, values, inputs, ctx):
        source = inputs[0] if inputs else None
        if source is None:
            return ImageInfo(ctx.script_format, EMPTY)
        forward = cls.forward_matrix(values, ctx, source)
        filter_id = FILTERS.index(values["filter"])
        window = transformed_window(forward, source.data_window, filter_id)
        return ImageInfo(cls.output_format(values, ctx, source), window)

    @classmethod
    def input_region(cls, values, region, index, ctx):
        m = cls.resample_matrix(values, ctx)
        return source_region(m, region, FILTERS.index(values["filter"]))

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """``(m, filter_id)``: the inverse map (float64[6]) and the index in FILTERS."""
        return cls.resample_matrix(values, ctx), FILTERS.index(values["filter"])

    @classmethod
    def gpu_kernel_params(cls, values, args, out_window: Window, src_window: Window):
        """The inverse map re-expressed (in float64) between coordinates whose origins are
        the corners of the output and input data windows: f32 positions stay as small as
        the image (not as large as its coordinates), and are the same in every tile, so
        tiled renders equal untiled ones."""
        m, filter_id = args
        m = np.asarray(m, np.float64)
        dx, dy, sx, sy = out_window.x0, out_window.y0, src_window.x0, src_window.y0
        local = [
            m[0],
            m[1],
            m[2] + m[0] * dx + m[1] * dy - sx,
            m[3],
            m[4],
            m[5] + m[3] * dx + m[4] * dy - sy,
        ]
        return [*(float(v) for v in local), float(filter_id)], (dx, dy), (sx, sy)
