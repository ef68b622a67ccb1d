"""Grade, through the engine on every backend, against a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.color.grade import Grade
from tests.conftest import random_image

RTOL, ATOL = 2e-5, 2e-6


def reference_grade(pixels, values):
    """Nuke's Grade from the formula in float64: ramp, gamma on positives, clamps, mix."""
    v = {
        k: np.array(values.get(k, Grade.defaults()[k]), np.float64)
        for k in Grade.defaults()
        if Grade.param(k).type in ("rgba", "float", "bool")
    }
    a = (
        v["multiply"][:3]
        * (v["gain"][:3] - v["lift"][:3])
        / (v["whitepoint"][:3] - v["blackpoint"][:3])
    )
    b = v["offset"][:3] + v["lift"][:3] - a * v["blackpoint"][:3]
    rgb = pixels[..., :3] * a + b
    with np.errstate(invalid="ignore"):
        powered = np.power(np.maximum(rgb, 0.0), 1.0 / v["gamma"][:3])
    rgb = np.where(rgb > 0, powered, rgb)
    if values.get("black_clamp", True):
        rgb = np.maximum(rgb, 0.0)
    if values.get("white_clamp", False):
        rgb = np.minimum(rgb, 1.0)
    out = pixels.copy()
    out[..., :3] += (rgb - pixels[..., :3]) * float(values.get("mix", 1.0))
    return out


CASES = {
    "gain and offset": {"gain": [1.3, 0.9, 1.1, 1.0], "offset": [0.02, -0.05, 0.0, 0.0]},
    "gamma": {"gain": [1.15, 1.0, 0.85, 1.0], "gamma": [1.1, 0.45, 2.2, 1.0]},
    "everything": {
        "blackpoint": [0.01, 0.02, 0.0, 0.0],
        "whitepoint": [0.9, 1.1, 1.0, 1.0],
        "lift": [0.05, 0.0, -0.02, 0.0],
        "gain": [1.2, 1.1, 0.9, 1.0],
        "multiply": [1.1, 1.0, 0.95, 1.0],
        "offset": [-0.01, 0.03, 0.0, 0.0],
        "gamma": [1.4, 1.0, 0.8, 1.0],
        "black_clamp": False,
        "white_clamp": True,
        "mix": 0.7,
    },
}


@pytest.mark.parametrize("case", CASES)
def test_grade(backend, array_source, case):
    pixels = random_image(19, 27, seed=3, lo=-0.3, hi=2.5)
    g = mb.Graph()
    node = g.add("Grade", inputs={"Source": array_source(g, pixels)}, **CASES[case])
    out = g.render(node, frame=1, backend=backend)
    expected = reference_grade(pixels.astype(np.float64), CASES[case])
    np.testing.assert_allclose(out.pixels, expected, rtol=RTOL, atol=ATOL)


def test_the_cpu_uses_the_variant_without_pow_only_where_every_gamma_is_1():
    values = Grade.defaults()
    assert Grade.cpu_point_for(values).__name__ == "grade_point_linear"
    values["gamma"] = (1.0, 1.0, 1.0, 2.0)  # alpha's gamma is not used
    assert Grade.cpu_point_for(values).__name__ == "grade_point_linear"
    values["gamma"] = (1.0, 1.2, 1.0, 1.0)
    assert Grade.cpu_point_for(values).__name__ == "grade_point"
