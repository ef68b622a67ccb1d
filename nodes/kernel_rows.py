"""Weighted sums of runs of floats for the CPU kernels of separable filters (Blur's passes,
the resample nodes' vertical pass).

The loops count from 0 over whole 1-D arrays, so numba's wrap of negative indices folds
away and LLVM vectorises them (8 floats per AVX2 instruction). A run of taps is added four
at a time (:func:`add_scaled4`): the partial sums are loaded and stored once per four taps,
which is what bounds a one-tap-at-a-time loop (one load and one store per multiply-add).
The roundings are those of adding the taps one by one, in order. numba's on-disk cache
of the parallel kernels that call these sees only their own file: after editing this one,
touch those (``nodes/filter/blur.py``, ``nodes/transform/resample.py``) or clear their
``__pycache__``.
"""

from __future__ import annotations

from mattebox.nodes.kernel import kernel


@kernel
def scale_into(out, weight, values):
    """``out[j] = weight * values[j]``."""
    for j in range(out.shape[0]):
        out[j] = weight * values[j]


@kernel
def add_scaled(out, weight, values):
    """``out[j] += weight * values[j]``."""
    for j in range(out.shape[0]):
        out[j] += weight * values[j]


@kernel
def add_scaled4(out, w0, v0, w1, v1, w2, v2, w3, v3):
    """``out[j] += w0 * v0[j]``, then ``+= w1 * v1[j]`` and so on: the roundings of four
    :func:`add_scaled` calls, with ``out`` loaded and stored once instead of four times."""
    for j in range(out.shape[0]):
        out[j] = out[j] + w0 * v0[j] + w1 * v1[j] + w2 * v2[j] + w3 * v3[j]


@kernel
def weighted_runs(out, values, start, stride, weights):
    """``out[j] = sum(weights[k] * values[start + k * stride + j])``, added in order of ``k``.

    ``values`` is 1-D. Blur's vertical pass and the resample nodes' read one run per
    source row (``stride`` is a row of floats); Blur's horizontal pass one per pixel of
    shift along a row buffer (``stride`` 4). ``weights`` holds at least one tap.
    """
    n = out.shape[0]
    taps = weights.shape[0]
    scale_into(out, weights[0], values[start : start + n])
    k = 1
    while k + 4 <= taps:
        at = start + k * stride
        add_scaled4(
            out,
            weights[k],
            values[at : at + n],
            weights[k + 1],
            values[at + stride : at + stride + n],
            weights[k + 2],
            values[at + 2 * stride : at + 2 * stride + n],
            weights[k + 3],
            values[at + 3 * stride : at + 3 * stride + n],
        )
        k += 4
    for rest in range(k, taps):
        at = start + rest * stride
        add_scaled(out, weights[rest], values[at : at + n])
