"""The Expression node's functions on the CPU (``e_<name>``), one definition each, in
float32; ``nodes/color/expression_plane.wgsl`` spells the same ones for the GPU
(``mb_expr_<name>``). See :mod:`mattebox.nodes.expressions`."""

from __future__ import annotations

import math

import numpy as np

from mattebox.nodes.kernel import ONE, ZERO, kernel

PI = np.float32(math.pi)
THREE = np.float32(3.0)
TWO = np.float32(2.0)


@kernel
def e_abs(v):
    return abs(v)


@kernel
def e_min(u, v):
    return min(v, u)


@kernel
def e_max(u, v):
    return max(v, u)


@kernel
def e_clamp(v, lo, hi):
    """``min(max(v, lo), hi)``."""
    return e_min(e_max(v, lo), hi)


@kernel
def e_floor(v):
    return np.floor(v)


@kernel
def e_ceil(v):
    return np.ceil(v)


@kernel
def e_fract(v):
    """``v - floor(v)``, in [0, 1)."""
    return v - np.floor(v)


@kernel
def e_sqrt(v):
    return math.sqrt(v)


@kernel
def e_pow(u, v):
    """C's ``powf``: negative ``u`` with a whole ``v`` gives the signed power, with
    another ``v`` NaN."""
    return u**v


@kernel
def e_exp(v):
    return math.exp(v)


@kernel
def e_log(v):
    return math.log(v)


@kernel
def e_sin(v):
    return math.sin(v)


@kernel
def e_cos(v):
    return math.cos(v)


@kernel
def e_tan(v):
    return math.tan(v)


@kernel
def e_atan2(u, v):
    """The angle of the point ``(v, u)``: ``atan2(y, x)``."""
    return math.atan2(u, v)


@kernel
def e_mix(u, v, t):
    """``u + (v - u) * t``."""
    return u + (v - u) * t


@kernel
def e_step(edge, v):
    """1 where ``v >= edge``, else 0."""
    return ONE if v >= edge else ZERO


@kernel
def e_smoothstep(e0, e1, v):
    """Hermite ``t * t * (3 - 2 t)`` of ``t = clamp((v - e0) / (e1 - e0), 0, 1)``; a step
    at ``e0`` where ``e0 == e1``."""
    if e0 == e1:
        return e_step(e0, v)
    t = e_clamp((v - e0) / (e1 - e0), ZERO, ONE)
    return t * t * (THREE - TWO * t)
