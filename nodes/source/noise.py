"""Noise: seeded fractal (fBm) gradient or value noise between two colours, animated along
a third axis by the frame (Nuke's Noise)."""

from __future__ import annotations

import math

import numpy as np

from mattebox.nodes.kernel import kernel, prange
from mattebox.nodes.source.constant import FormatSource, format_params, source_format
from mattebox.nodes.spec import RGBA, Enum, Float, Int, Vec2, Window, register

MASK32 = 0xFFFFFFFF  # lattice hashes are 32-bit values kept in int64, wrapped by this mask
KINDS = ("gradient", "value")
MAX_SEED = 2**24 - 1  # seeds travel to the GPU as float32, exact up to 2**24


@kernel
def lattice_hash(v):
    """PCG-style hash of the 32-bit value ``v & MASK32`` (int64 in, int64 in [0, 2**32) out),
    wrapping at 2**32 as the WGSL's u32 arithmetic does."""
    state = ((v & MASK32) * 747796405 + 2891336453) & MASK32
    word = (((state >> ((state >> 28) + 4)) ^ state) * 277803737) & MASK32
    return (word >> 22) ^ word


@kernel
def corner_value(h, fx, fy, fz, kind):
    """A lattice corner's contribution at offset ``(fx, fy, fz)`` from it: value noise,
    ``(h >> 8) / (2**24 - 1) * 2 - 1``; gradient noise, the dot product with the cube edge
    ``h % 12`` (the pair of axes ``(h % 12) >> 2`` of xy, xz, yz, bit 0 negating the first
    component and bit 1 the second)."""
    if kind == 1:
        return (h >> 8) * (2.0 / 16777215.0) - 1.0
    g = h % 12
    pair = g >> 2
    a = fy if pair == 2 else fx
    b = fy if pair == 0 else fz
    a = -a if (g & 1) != 0 else a
    b = -b if (g & 2) != 0 else b
    return a + b


@kernel
def fade(t):
    """The quintic ``6t^5 - 15t^4 + 10t^3``: flat first and second derivatives at 0 and 1."""
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


@kernel(parallel=True)
def noise_tile(out, x0, y0, tx, ty, size, z, octaves, lacunarity, gain, seed, kind, c0, c1):
    """Pixels of ``out`` (H×W×4 float32, its top-left pixel at ``(x0, y0)``) as the Noise
    docstring states; ``c0``, ``c1`` the two colours as float64 arrays of 4."""
    height, width = out.shape[0], out.shape[1]
    for j in prange(height):
        total = np.zeros(width)
        py0 = (y0 + j + 0.5 - ty) / size
        freq = 1.0
        amplitude = 1.0
        norm = 0.0
        for k in range(octaves):
            s = lattice_hash(seed + k)
            pz = z * freq
            iz = math.floor(pz)
            fz = pz - iz
            py = py0 * freq
            iy = math.floor(py)
            fy = py - iy
            wy = fade(fy)
            wz = fade(fz)
            hz0 = lattice_hash(s + np.int64(iz))
            hz1 = lattice_hash(s + np.int64(iz) + 1)
            rows = (  # the hashes of rows y, y + 1 of the planes z, z + 1
                lattice_hash(hz0 + np.int64(iy)),
                lattice_hash(hz0 + np.int64(iy) + 1),
                lattice_hash(hz1 + np.int64(iy)),
                lattice_hash(hz1 + np.int64(iy) + 1),
            )
            for i in range(width):
                px = (x0 + i + 0.5 - tx) / size * freq
                ix = math.floor(px)
                fx = px - ix
                wx = fade(fx)
                value = 0.0
                for c in range(8):  # corner (dx, dy, dz) = bits 0, 1, 2 of c
                    dx, dy, dz = c & 1, (c >> 1) & 1, c >> 2
                    h = lattice_hash(rows[c >> 1] + np.int64(ix) + dx)
                    v = corner_value(h, fx - dx, fy - dy, fz - dz, kind)
                    weight = (wx if dx else 1.0 - wx) * (wy if dy else 1.0 - wy)
                    value += weight * (wz if dz else 1.0 - wz) * v
                total[i] += amplitude * value
            norm += amplitude
            amplitude *= gain
            freq *= lacunarity
        for i in range(width):
            t = min(max(0.5 + 0.5 * total[i] / norm, 0.0), 1.0)
            for ch in range(4):
                out[j, i, ch] = c0[ch] + (c1[ch] - c0[ch]) * t


@register
class Noise(FormatSource):
    """Fractal noise between ``color0`` and ``color1``: Perlin-style gradient noise or
    value noise, summed over octaves (fBm), seeded, and moving with the frame.

    A pixel's centre ``(x + 0.5, y + 0.5)`` is the point
    ``p = ((x + 0.5 - translate.x) / size, (y + 0.5 - translate.y) / size, z + frame * speed)``
    in noise space, where the lattice cells are one feature (``size`` pixels) wide. Octave
    ``k`` (0 to ``octaves - 1``) samples 3D noise at ``p * lacunarity^k`` with seed
    ``seed + k`` and weight ``gain^k``; ``fbm`` is the weighted sum over the sum of the
    weights, and the pixel is ``color0 + (color1 - color0) * n`` with
    ``n = clamp(0.5 + 0.5 * fbm, 0, 1)``.

    One octave of noise at ``q``: the cell ``(i, j, l) = floor(q)``, the offset
    ``f = q - floor(q)``, and for each of the cell's eight corners ``c`` the lattice hash
    ``h = H(H(H(H(seed) + c.z) + c.y) + c.x)``, where ``H`` is a PCG-style hash on 32-bit
    integers (``state = v * 747796405 + 2891336453``,
    ``word = ((state >> ((state >> 28) + 4)) ^ state) * 277803737``, ``H = (word >> 22) ^ word``,
    all modulo 2^32; negative cells wrap as two's complement). ``gradient``: the corner's
    value is the dot product of ``f - c`` with one of the 12 cube-edge directions,
    ``(±1, ±1, 0)``, ``(±1, 0, ±1)``, ``(0, ±1, ±1)``, chosen by ``h % 12`` (``>> 2`` the
    pair of axes, bit 0 the first sign, bit 1 the second). ``value``: the corner's value is
    ``(h >> 8) / (2^24 - 1) * 2 - 1``. The corners are blended trilinearly with the weights
    ``6t^5 - 15t^4 + 10t^3`` of ``f``, so the noise is smooth across cells. The hash is
    integer arithmetic on both backends, which therefore agree to float32 rounding.

    ``speed`` moves the pattern along its third axis by that many feature sizes per frame
    (0: the same pattern on every frame; fine octaves move faster, as the axis scales with
    them). ``size`` and ``translate`` are in pixels, so a proxy render shows the same
    pattern at its scale. The data window is the whole format (``width`` × ``height``,
    0 meaning the script format's size); outside it the image is transparent black.
    """

    type_name = "Noise"
    params = (
        Enum("type", KINDS, "gradient", "Gradient (Perlin-style) noise or value noise."),
        Float(
            "size",
            64.0,
            "Feature size: the width of a lattice cell of the first octave, in pixels.",
            min=1.0,
            soft_max=1024.0,
            spatial=True,
        ),
        Int("octaves", 4, "Number of octaves summed (each finer by lacunarity).", min=1, max=10),
        Float(
            "lacunarity",
            2.0,
            "Frequency ratio of one octave to the previous.",
            min=1.0,
            soft_max=4.0,
        ),
        Float(
            "gain",
            0.5,
            "Weight ratio of one octave to the previous.",
            min=0.0,
            soft_max=1.0,
        ),
        Int(
            "seed",
            0,
            "Seed of the lattice hash: another seed, another pattern.",
            min=0,
            max=MAX_SEED,
        ),
        Float(
            "z",
            0.0,
            "Position along the noise's third axis at frame 0, in feature sizes.",
            soft_min=0.0,
            soft_max=10.0,
        ),
        Float(
            "speed",
            0.0,
            "Feature sizes the pattern moves along its third axis per frame (0: still).",
            soft_min=0.0,
            soft_max=1.0,
        ),
        Vec2("translate", (0.0, 0.0), "Moves the pattern by this many pixels.", spatial=True),
        RGBA(
            "color0",
            (0.0, 0.0, 0.0, 1.0),
            "Colour where the noise is 0 (premultiplied RGBA).",
            soft_min=0.0,
            soft_max=1.0,
        ),
        RGBA(
            "color1",
            1.0,
            "Colour where the noise is 1 (premultiplied RGBA).",
            soft_min=0.0,
            soft_max=1.0,
        ),
        *format_params("image"),
    )

    @classmethod
    def values_at(cls, values, frame: float) -> dict:
        """The values at ``frame``, ``z`` being the pattern's position along the third axis
        at that frame, ``z + frame * speed``: the value that changes pixels, so a moving
        pattern has a hash of its own on each frame (a still one shares it)."""
        out = super().values_at(values, frame)
        out["z"] = out["z"] + frame * out["speed"]
        return out

    @classmethod
    def pixels_inside(cls, values, inside: Window, fmt) -> np.ndarray:
        """The noise of ``inside``, by the CPU kernel :func:`noise_tile`."""
        out = np.empty((inside.height, inside.width, 4), np.float32)
        noise_tile(
            out,
            inside.x0,
            inside.y0,
            float(values["translate"][0]),
            float(values["translate"][1]),
            float(values["size"]),
            float(values["z"]),
            int(values["octaves"]),
            float(values["lacunarity"]),
            float(values["gain"]),
            int(values["seed"]),
            KINDS.index(values["type"]),
            np.array(values["color0"], np.float64),
            np.array(values["color1"], np.float64),
        )
        return out

    @classmethod
    def pack(cls, values, ctx) -> list[float]:
        """translate (2), size, z, octaves, lacunarity, gain, seed, type, color0 (4),
        color1 (4), width, height: what ``noise_source`` reads."""
        fmt = source_format(values, ctx)
        return [
            *values["translate"],
            values["size"],
            values["z"],
            float(values["octaves"]),
            values["lacunarity"],
            values["gain"],
            float(values["seed"]),
            float(KINDS.index(values["type"])),
            *values["color0"],
            *values["color1"],
            float(fmt.width),
            float(fmt.height),
        ]
