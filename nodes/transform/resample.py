"""Resampling shared by the resample nodes (Transform, Reformat, CornerPin): filters,
kernel, windows.

Not a node. A map is given by its *inverse* ``m``, a 3×3 matrix as nine numbers, row by
row: the output pixel centre ``(ox, oy) = (x + 0.5, y + 0.5)`` has the homogeneous weight
``q = m6*ox + m7*oy + m8`` and samples the input at
``((m0*ox + m1*oy + m2) / q, (m3*ox + m4*oy + m5) / q)``, a continuous position whose pixel
centres lie at ``i + 0.5``. Affine maps (Transform, Reformat) have ``(m6, m7, m8) = (0, 0,
1)``, so ``q`` is exactly 1; projective ones (CornerPin) do not, and where ``q <= 0`` the
output pixel looks past the map's horizon (at input points behind it) and is black.

Filters are separable along the input's axes and widened where the map minifies: along
input axis x by ``max(1, |(du/dox, du/doy)|)``, the input distance one output pixel covers
(the row of the inverse map's Jacobian; ``v`` likewise for y), as OpenImageIO's ``resize``
does, so downscaling is antialiased. For an affine map the Jacobian is ``m``'s rows and the
same everywhere; for a projective one it is taken at each output pixel and the widening is
capped at :data:`MAX_WIDEN` (near the horizon it grows without bound). Weights are
normalised to sum 1 over their taps; taps outside the input are transparent black (not
clamped to the edge).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mattebox.nodes.kernel import ZERO, kernel, prange
from mattebox.nodes.kernel_rows import weighted_runs
from mattebox.nodes.spec import EMPTY, Enum, Format, ImageInfo, Kind, NodeSpec, Window

FILTERS = ("nearest", "linear", "cubic", "lanczos3")
FILTER_RADIUS = (0.5, 1.0, 2.0, 3.0)  # support of each filter in input pixels, unscaled
SINGULAR = 1e-12  # |det| below which a transform is degenerate (nothing comes out)
EDGE_EPS = 1e-6  # slack, in pixels, for rounding windows of nearly exact positions
BLOCK_ROWS = 8  # output rows per parallel task of the separable path (one row buffer each)
MAX_WIDEN = 8.0  # the most a projective map widens a filter (resample.wgsl: RESAMPLE_MAX_WIDEN)
HORIZON = 1e-9  # the part of a box within this fraction of its largest |w| of the horizon is cut
LIMITLESS = Window(-(2**30), -(2**30), 2**30, 2**30)  # "all of it": planners clip to windows


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
def local_widening(filter_id, a, b):
    """:func:`filter_widening` of a projective map's Jacobian row ``(a, b)`` at one output
    pixel, at most :data:`MAX_WIDEN` (also where the row is infinite or NaN)."""
    widen = filter_widening(filter_id, a, b)
    return widen if widen < MAX_WIDEN else MAX_WIDEN  # noqa: FURB136 (NaN gives the cap)


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
    """Resampling of ``src`` into ``dst`` through the inverse map ``m`` (module doc).

    ``filter_id`` indexes :data:`FILTERS`. Every pixel of ``dst`` is written. Axis-aligned
    affine maps (Reformat, scale-and-move: ``m[1] == m[3] == m[6] == m[7] == 0``,
    ``m[8] == 1``) take :func:`separable_resample`, any other (rotations, projective maps)
    :func:`affine_resample`; both give the same pixels but for float32 rounding.

    Plain Python on purpose, choosing between the two compiled kernels once per call: a
    numba function that calls a ``parallel`` one crashes when loaded from numba's on-disk
    cache (numba issue 8578), so this one is not a ``@kernel``.
    """
    if m[1] == 0.0 and m[3] == 0.0 and m[6] == 0.0 and m[7] == 0.0 and m[8] == 1.0:
        separable_resample(src, sx0, sy0, dst, dx0, dy0, m, filter_id)
    else:
        affine_resample(src, sx0, sy0, dst, dx0, dy0, m, filter_id)


@kernel(parallel=True)
def affine_resample(src, sx0, sy0, dst, dx0, dy0, m, filter_id):
    """Any map, affine or projective: a 2-D weighted sum per output pixel, its taps found
    afresh (for a projective map, with the filter widened by the Jacobian at the pixel)."""
    h, w = src.shape[0], src.shape[1]
    height, width = dst.shape[0], dst.shape[1]
    projective = m[6] != 0.0 or m[7] != 0.0
    radius = filter_radius(filter_id)
    widen_x = filter_widening(filter_id, m[0], m[1])
    widen_y = filter_widening(filter_id, m[3], m[4])
    if projective:  # the widest any pixel may use
        widen_x = local_widening(filter_id, math.inf, 0.0)
        widen_y = widen_x
    max_x = int(2.0 * radius * widen_x) + 2
    max_y = int(2.0 * radius * widen_y) + 2
    for row in prange(height):
        taps_x = np.empty(max_x, np.float64)
        taps_y = np.empty(max_y, np.float64)
        oy = dy0 + row + 0.5
        for col in range(width):
            for c in range(4):
                dst[row, col, c] = 0.0
            ox = dx0 + col + 0.5
            q = m[6] * ox + m[7] * oy + m[8]
            if not q > 0.0:  # past the horizon (also NaN); exactly 1 for affine maps
                continue
            u = (m[0] * ox + m[1] * oy + m[2]) / q
            v = (m[3] * ox + m[4] * oy + m[5]) / q
            # position in src pixel-index space: pixel (i, j) at (fx, fy) == (i, j)
            fx = u - 0.5 - sx0
            fy = v - 0.5 - sy0
            wx, wy = widen_x, widen_y
            if projective:
                far_x = radius * widen_x  # no pixel reaches further: skip those beyond first
                far_y = radius * widen_y
                if not (fx > -far_x - 1.0 and fx < w + far_x):
                    continue
                if not (fy > -far_y - 1.0 and fy < h + far_y):
                    continue
                wx = local_widening(filter_id, (m[0] - u * m[6]) / q, (m[1] - u * m[7]) / q)
                wy = local_widening(filter_id, (m[3] - v * m[6]) / q, (m[4] - v * m[7]) / q)
            reach_x = radius * wx
            reach_y = radius * wy
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
            i0, nx, total_x = filter_taps(filter_id, fx, wx, taps_x)
            j0, ny, total_y = filter_taps(filter_id, fy, wy, taps_y)
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
def weighted_pixels(line, start, count, weights, out):
    """The horizontal pass: ``out[o] = sum(weights[o, k] * line[start[o] + k])`` for each
    pixel ``o`` of a row (``line`` and ``out`` are (pixels, 4)). Each pixel's taps are
    sliced first, so they are indexed from 0 (no negative-index wrap in the loop)."""
    for o in range(out.shape[0]):
        n = count[o]
        taps = line[start[o] : start[o] + n]
        wo = weights[o]
        r = g = b = a = ZERO
        for k in range(n):
            wk = wo[k]
            r += wk * taps[k, 0]
            g += wk * taps[k, 1]
            b += wk * taps[k, 2]
            a += wk * taps[k, 3]
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
    flat = src.reshape(h * 4 * w)
    out = dst.reshape(height, 4 * width)
    for block in prange((height + BLOCK_ROWS - 1) // BLOCK_ROWS):
        line = np.empty(4 * (hi - lo), np.float32)
        for row in range(block * BLOCK_ROWS, min((block + 1) * BLOCK_ROWS, height)):
            n = count_y[row]
            if n == 0 or hi == lo:
                out[row] = 0.0
                continue
            start = start_y[row] * 4 * w + 4 * lo
            weighted_runs(line, flat, start, 4 * w, weights_y[row, :n])
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


def is_affine(matrix: np.ndarray) -> bool:
    """Whether a 3×3 map is affine: its last row exactly ``(0, 0, 1)``."""
    return matrix[2, 0] == 0.0 and matrix[2, 1] == 0.0 and matrix[2, 2] == 1.0


def is_singular(forward: np.ndarray) -> bool:
    """True when the forward map squashes the plane (nothing comes out).

    Affine maps: the determinant of the linear part below :data:`SINGULAR`; projective
    ones: the 3×3 determinant below :data:`SINGULAR` times the largest entry cubed (a
    homography means the same at any scale).
    """
    if is_affine(forward):
        det = forward[0, 0] * forward[1, 1] - forward[0, 1] * forward[1, 0]
        return not math.isfinite(det) or abs(det) < SINGULAR
    size = float(np.abs(forward).max())
    det = float(np.linalg.det(forward)) if math.isfinite(size) else math.nan
    return not math.isfinite(det) or abs(det) <= SINGULAR * size**3


def inverse_map(forward: np.ndarray) -> np.ndarray:
    """The kernel's ``m``: float64[9], ``forward``'s inverse row by row.

    An affine ``forward`` gives an affine ``m`` with its last row exactly ``(0, 0, 1)``. A
    projective one gives its inverse unscaled, so an output pixel's ``q`` is positive
    exactly where ``forward`` maps an input point with a positive ``w`` there: give
    ``forward`` the sign that makes ``w`` positive on the input (:func:`homography` does).
    A degenerate ``forward`` gives a map that sends every output pixel far outside any
    input, so the kernel writes black.
    """
    if is_singular(forward):
        return np.array([0.0, 0.0, -1e30, 0.0, 0.0, -1e30, 0.0, 0.0, 1.0])
    inverse = np.linalg.inv(forward)
    if is_affine(forward):
        inverse[2] = (0.0, 0.0, 1.0)
    return np.ascontiguousarray(inverse.reshape(9), dtype=np.float64)


def homography(corners_from, corners_to) -> np.ndarray:
    """The 3×3 map taking four points ``corners_from`` onto ``corners_to`` (in order).

    Each quad is the image of the unit square by a map solved in closed form (the corners
    going to (0, 0), (1, 0), (1, 1), (0, 1)); the result is the second after the inverse
    of the first, scaled so that ``w`` is 1 at the centre of ``corners_from`` (the part
    of the plane around the quad is in front). Two parallelograms give an exactly affine
    map. A quad with three corners on one line raises ValueError (:func:`collinear`).
    """
    if collinear(corners_from) or collinear(corners_to):
        raise ValueError("three corners of a quad lie on one line: it has no homography")
    square_from = _square_to_quad(corners_from)
    square_to = _square_to_quad(corners_to)
    forward = square_to @ np.linalg.inv(square_from)
    if is_affine(square_from) and is_affine(square_to):
        forward[2] = (0.0, 0.0, 1.0)
        return forward
    centre = np.append(np.mean(np.asarray(corners_from, np.float64), axis=0), 1.0)
    w = float(forward[2] @ centre)
    if w == 0.0:  # the centre maps to infinity: keep the side where most corners are
        w = sum(float(forward[2] @ (*c, 1.0)) for c in corners_from) or 1.0
    return forward / w


def collinear(corners) -> tuple[int, int, int] | None:
    """The first three of four corners (numbered from 1) that lie on one line (within a
    billionth of the quad's size, squared), or None."""
    points = np.asarray(corners, np.float64)
    size = float(np.abs(points - points[0]).max())
    for trio in ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)):
        a, b, c = points[list(trio)]
        cross = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        if abs(cross) <= 1e-9 * size * size:
            return tuple(k + 1 for k in trio)
    return None


def _square_to_quad(corners) -> np.ndarray:
    """The 3×3 map taking (0, 0), (1, 0), (1, 1), (0, 1) to the four ``corners``."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = ((float(x), float(y)) for x, y in corners)
    sx, sy = x0 - x1 + x2 - x3, y0 - y1 + y2 - y3
    if sx == 0.0 and sy == 0.0:  # a parallelogram
        return np.array([[x1 - x0, x3 - x0, x0], [y1 - y0, y3 - y0, y0], [0.0, 0.0, 1.0]])
    dx1, dx2, dy1, dy2 = x1 - x2, x3 - x2, y1 - y2, y3 - y2
    den = dx1 * dy2 - dx2 * dy1
    g = (sx * dy2 - dx2 * sy) / den
    h = (dx1 * sy - sx * dy1) / den
    return np.array(
        [
            [x1 - x0 + g * x1, x3 - x0 + h * x3, x0],
            [y1 - y0 + g * y1, y3 - y0 + h * y3, y0],
            [g, h, 1.0],
        ]
    )


def _is_affine_map(m: np.ndarray) -> bool:
    return m[6] == 0.0 and m[7] == 0.0 and m[8] == 1.0


def _reach(m: np.ndarray, filter_id: int) -> tuple[float, float]:
    """The filter's reach in input pixels along x and y of an affine ``m``:
    :func:`filter_widening` restated in plain Python, so planning never waits for numba to
    compile a kernel helper."""
    radius = FILTER_RADIUS[filter_id]
    if filter_id == 0:
        return radius, radius
    return (
        radius * max(1.0, math.hypot(m[0], m[1])),
        radius * max(1.0, math.hypot(m[3], m[4])),
    )


def _widening_within(forward: np.ndarray, m: np.ndarray, box: tuple, filter_id: int):
    """Bounds ``(x, y)``, each in ``[1, MAX_WIDEN]``, of the widening the kernel uses at
    output pixels whose input positions lie in the input ``box`` ``(x0, y0, x1, y1)``,
    for a projective map ``forward`` and its unscaled inverse ``m``.

    At input position ``s`` the output pixel's ``q`` is ``1 / w(s)`` (``w`` from
    ``forward``'s last row), so its Jacobian rows are ``w(s) (m0 - m6 sx, m1 - m7 sx)``
    and ``w(s) (m3 - m6 sy, m4 - m7 sy)``: products of functions linear in ``s``, each
    largest in size at a corner of the box. Bounded however close the box comes to the
    horizon (there the output is magnified).
    """
    if filter_id == 0:
        return 1.0, 1.0
    xs, ys = np.array([box[0], box[2]], np.float64), np.array([box[1], box[3]], np.float64)
    w = np.abs(forward[2, 0] * xs[:, None] + forward[2, 1] * ys[None, :] + forward[2, 2]).max()
    bounds = []
    for row, along in ((0, xs), (3, ys)):
        a = np.abs(m[row] - m[6] * along).max()
        b = np.abs(m[row + 1] - m[7] * along).max()
        widen = w * math.hypot(a, b)
        bounds.append(min(MAX_WIDEN, max(1.0, widen)) if math.isfinite(widen) else MAX_WIDEN)
    return bounds[0], bounds[1]


def _apply(matrix: np.ndarray, xs: list[float], ys: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """``matrix`` applied to the points ``xs`` × ``ys``, divided by their ``w`` (which the
    caller has made sure is positive)."""
    points = np.array([[x, y, 1.0] for x in xs for y in ys]).T
    mapped = matrix @ points
    return mapped[0] / mapped[2], mapped[1] / mapped[2]


def _image_bounds(forward: np.ndarray, box: tuple, limit: Window) -> tuple | None:
    """The bounding box ``(x0, y0, x1, y1)`` of the image through a projective ``forward``
    of the part of the input box ``box`` in front of its horizon (``w > 0``), clipped to
    ``limit``; None where nothing of it lands there.

    The box is cut just in front of the horizon (within :data:`HORIZON` of its largest
    ``|w|``): what lies beyond the cut maps further out than any limit.
    """
    corners = [(box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3])]
    ws = [float(forward[2] @ (x, y, 1.0)) for x, y in corners]
    cut = HORIZON * max(abs(w) for w in ws)
    polygon = []
    for k, (p, w) in enumerate(zip(corners, ws)):
        q, wq = corners[(k + 1) % 4], ws[(k + 1) % 4]
        if w >= cut:
            polygon.append(p)
        if (w >= cut) != (wq >= cut):  # the edge crosses the cut: where it does
            t = (cut - w) / (wq - w)
            polygon.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    if not polygon or cut <= 0.0:
        return None
    mapped = forward @ np.array([[x, y, 1.0] for x, y in polygon]).T
    xs, ys = mapped[0] / mapped[2], mapped[1] / mapped[2]
    x0, y0 = max(float(xs.min()), limit.x0), max(float(ys.min()), limit.y0)
    x1, y1 = min(float(xs.max()), limit.x1), min(float(ys.max()), limit.y1)
    if not (x0 <= x1 and y0 <= y1):
        return None
    return x0, y0, x1, y1


# --------------------------------------------------------------------------- windows


def transformed_window(
    forward: np.ndarray, window: Window, filter_id: int, limit: Window = LIMITLESS
) -> Window:
    """The output data window of resampling an input data window ``window``.

    Every output pixel whose centre can receive a non-zero weight: the input box reached
    by the filter around the input's pixel centres (``[x0 + 0.5 - reach, x1 - 0.5 + reach]``
    per axis) is mapped forward, and the output pixels whose centres fall strictly inside
    its bounding box are kept. For nearest (and along an axis mapped onto whole pixels,
    where the interpolating filters reduce to a copy) the reach is half a pixel and centres
    on the box's edge count. Projective maps: see :func:`_projective_window`; only they
    are clipped to ``limit``.
    """
    if window.empty or is_singular(forward):
        return EMPTY
    if not is_affine(forward):
        return _projective_window(forward, window, filter_id, limit)
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


def _projective_window(
    forward: np.ndarray, window: Window, filter_id: int, limit: Window
) -> Window:
    """:func:`transformed_window` of a projective map, clipped to ``limit``: the input box
    the filter reaches (:func:`_reached_box`) mapped forward with the part behind the
    horizon cut off (:func:`_image_bounds`); centres on its bounding box's edge count."""
    box = _reached_box(forward, window, filter_id)
    bounds = _image_bounds(forward, box, limit)
    if bounds is None:
        return EMPTY
    x0, x1 = _centres_within(bounds[0], bounds[2], True)
    y0, y1 = _centres_within(bounds[1], bounds[3], True)
    out = Window(x0, y0, x1, y1).intersect(limit) if x1 > x0 and y1 > y0 else EMPTY
    return EMPTY if out.empty else out


def _reached_box(forward: np.ndarray, window: Window, filter_id: int) -> tuple:
    """The input box holding the input position of every output pixel of a projective map
    that gives ``window`` (its pixel centres) some weight.

    Each side of the box of centres is pushed out by the filter's reach, first the widest
    (:data:`MAX_WIDEN`), then, a few times over, the reach that the widening bound over
    the strip between that side and the last box allows (:func:`_widening_within`): a
    position left of the box is in the left strip, so its pixel's reach is at most that
    strip's. Each box holds every such position; the strips shrink, never grow.
    """
    m = inverse_map(forward)
    radius = FILTER_RADIUS[filter_id]
    x0, y0, x1, y1 = window.x0 + 0.5, window.y0 + 0.5, window.x1 - 0.5, window.y1 - 0.5
    far = radius * (1.0 if filter_id == 0 else MAX_WIDEN)
    left = top = right = bottom = far
    for _ in range(4):
        outer = (x0 - left, y0 - top, x1 + right, y1 + bottom)
        reach = (
            radius * _widening_within(forward, m, (outer[0], outer[1], x0, outer[3]), filter_id)[0],
            radius * _widening_within(forward, m, (outer[0], outer[1], outer[2], y0), filter_id)[1],
            radius * _widening_within(forward, m, (x1, outer[1], outer[2], outer[3]), filter_id)[0],
            radius * _widening_within(forward, m, (outer[0], y1, outer[2], outer[3]), filter_id)[1],
        )
        if reach == (left, top, right, bottom):
            break
        left, top, right, bottom = reach
    return (x0 - left, y0 - top, x1 + right, y1 + bottom)


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
    centres = (region.x0 + 0.5, region.y0 + 0.5, region.x1 - 0.5, region.y1 - 0.5)
    if _is_affine_map(m):
        rx, ry = _reach(m, filter_id)
    else:
        q = [m[6] * x + m[7] * y + m[8] for x in centres[::2] for y in centres[1::2]]
        if not min(q) > 0.0:  # the region sees the horizon: input from anywhere
            return LIMITLESS
    inverse = np.asarray(m, np.float64).reshape(3, 3)
    xs, ys = _apply(inverse, centres[::2], centres[1::2])
    if not _is_affine_map(m):  # the widening where those positions lie
        box = (xs.min(), ys.min(), xs.max(), ys.max())
        widen = _widening_within(np.linalg.inv(inverse), m, box, filter_id)
        rx, ry = FILTER_RADIUS[filter_id] * widen[0], FILTER_RADIUS[filter_id] * widen[1]
    lo, hi = LIMITLESS.x0, LIMITLESS.x1  # far beyond any window, and finite
    return Window(
        math.floor(min(max(xs.min() - 0.5 - rx, lo), hi)),
        math.floor(min(max(ys.min() - 0.5 - ry, lo), hi)),
        math.floor(min(max(xs.max() - 0.5 + rx, lo), hi)) + 2,
        math.floor(min(max(ys.max() - 0.5 + ry, lo), hi)) + 2,
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
    """Base of the resample nodes defined by a 3×3 map and a ``filter`` parameter: affine
    (Transform, Reformat, Mirror) or projective (CornerPin).

    Subclasses implement :meth:`forward_matrix` (input -> output, 3×3) and may override
    :meth:`output_format` and :meth:`window_limit`; data windows, input regions and kernel
    arguments follow. Not registered: it is not a node type.
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
    def window_limit(cls, values: dict, ctx, source: ImageInfo) -> Window:
        """Where a projective map's data window is clipped (near its horizon it has no
        end): the output format grown by its own width and height on every side. Affine
        maps are never clipped."""
        fmt = cls.output_format(values, ctx, source)
        return fmt.window.grow(fmt.width, fmt.height)

    @classmethod
    def resample_matrix(cls, values: dict, ctx) -> np.ndarray:
        """The kernel's ``m``: output pixel centre -> input position (float64[9])."""
        return inverse_map(cls.forward_matrix(values, ctx, input_info(ctx)))

    @classmethod
    def data_window(cls, values, inputs, ctx):
        source = inputs[0] if inputs else None
        if source is None:
            return ImageInfo(ctx.script_format, EMPTY)
        forward = cls.forward_matrix(values, ctx, source)
        filter_id = FILTERS.index(values["filter"])
        limit = cls.window_limit(values, ctx, source)
        window = transformed_window(forward, source.data_window, filter_id, limit)
        return ImageInfo(cls.output_format(values, ctx, source), window)

    @classmethod
    def input_region(cls, values, region, index, ctx):
        m = cls.resample_matrix(values, ctx)
        return source_region(m, region, FILTERS.index(values["filter"]))

    @classmethod
    def kernel_args(cls, values, ctx, src_window: Window, dst_window: Window) -> tuple:
        """``(m, filter_id)``: the inverse map (float64[9]) and the index in FILTERS."""
        return cls.resample_matrix(values, ctx), FILTERS.index(values["filter"])

    @classmethod
    def gpu_kernel_params(cls, values, args, out_window: Window, src_window: Window):
        """The inverse map re-expressed (in float64) between coordinates whose origins are
        the corners of the output and input data windows: f32 positions stay as small as
        the image (not as large as its coordinates), and are the same in every tile, so
        tiled renders equal untiled ones.

        The block is ``m``'s first two rows, the filter index, then its last row
        (resample.wgsl): ``translate(-sx, -sy) · m · translate(dx, dy)``, written out so
        an affine map's numbers are the same as they were for a 2×3 map.
        """
        m, filter_id = args
        m = np.asarray(m, np.float64)
        dx, dy, sx, sy = out_window.x0, out_window.y0, src_window.x0, src_window.y0
        q = m[6] * dx + m[7] * dy + m[8]  # exactly 1 for an affine map
        local = [
            m[0] - sx * m[6],
            m[1] - sx * m[7],
            m[2] + m[0] * dx + m[1] * dy - sx * q,
            m[3] - sy * m[6],
            m[4] - sy * m[7],
            m[5] + m[3] * dx + m[4] * dy - sy * q,
            filter_id,
            m[6],
            m[7],
            q,
        ]
        return [float(v) for v in local], (dx, dy), (sx, sy)
