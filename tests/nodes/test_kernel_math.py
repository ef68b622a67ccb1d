"""The vectorisable pow of nodes/kernel_math.py against float64 numpy, in units in the last
place of the float32 result, on random values over the whole float32 range."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from mattebox.engine.backends.cpu import compiler
from mattebox.nodes import kernel_math


@pytest.fixture(scope="module")
def pow_array():
    compiler.prepare_module(kernel_math)
    pow_positive = kernel_math.pow_positive

    @numba.njit(error_model="numpy")
    def apply(xs, y, out):
        for i in range(xs.size):
            out[i] = pow_positive(xs[i], y)

    return apply


@pytest.mark.parametrize("y", [1 / 1.1, 1 / 2.2, 2.2, 0.95, 1e-4, 3000.0, -0.5, -7.3, 1.0])
def test_pow_positive_is_within_one_ulp(pow_array, y):
    rng = np.random.default_rng(7)
    xs = np.concatenate(
        [
            rng.uniform(0.0, 2.0, 20000),
            10.0 ** rng.uniform(-44.0, 38.5, 20000),  # subnormals to near the largest float
            [1.4e-45, 1.17549435e-38, 1.0, 3.4028235e38, np.inf],
        ]
    ).astype(np.float32)
    xs = xs[xs > 0]
    y = np.float32(y)
    out = np.empty_like(xs)
    pow_array(xs, y, out)
    with np.errstate(over="ignore", under="ignore"):
        expected = (xs.astype(np.float64) ** np.float64(y)).astype(np.float32)
    assert np.array_equal(np.isinf(out), np.isinf(expected))
    finite = np.isfinite(expected)
    ulps = np.abs(out[finite].view(np.int32).astype(np.int64) - expected[finite].view(np.int32))
    assert ulps.max() <= 1


def test_fused_kernels_are_named_after_the_helper_modules_they_inline():
    """A fused Grade inlines kernel_math's pow: numba's on-disk cache sees only the fused
    file, so kernel_math's source must enter that file's name, or an edit to the pow
    would leave the old compiled kernel in use."""
    from mattebox.nodes.color import grade

    compiler.prepare_module(grade)
    modules = compiler.with_helper_modules([grade.__name__])
    assert modules == {grade.__name__, kernel_math.__name__}
    members = ((grade.__name__, "grade_point", (("buf", 0),), 12, False),)
    before = compiler._fused_source(1, members, (True, True))
    assert "kernel_math" not in before  # the name's digest is what carries it
