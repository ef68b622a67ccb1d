"""Shuffle, through the engine on every backend, against a numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.utility.shuffle import Shuffle
from tests.conftest import compile_wgsl, random_image

SOURCES = ("r", "g", "b", "a", "0", "1")
# Rotations of SOURCES: every output channel takes every source once (the first: identity).
MAPPINGS = [tuple(SOURCES[(k + c) % 6] for c in range(4)) for k in range(6)]


def reference_shuffle(pixels, mapping):
    """Each output channel copies the chosen input channel, or is 0 or 1."""
    out = np.empty_like(pixels)
    for channel, source in enumerate(mapping):
        if source in ("0", "1"):
            out[..., channel] = float(source)
        else:
            out[..., channel] = pixels[..., "rgba".index(source)]
    return out


def test_sources_cover_the_enum():
    assert all(Shuffle.param(name).choices == SOURCES for name in ("red", "green", "blue", "alpha"))


@pytest.mark.parametrize("mapping", MAPPINGS, ids="".join)
def test_shuffle(backend, array_source, mapping):
    pixels = random_image(17, 23, seed=1)
    g = mb.Graph()
    params = dict(zip(("red", "green", "blue", "alpha"), mapping))
    node = g.add("Shuffle", inputs={"Source": array_source(g, pixels)}, **params)
    out = g.render(node, frame=1, backend=backend)
    np.testing.assert_array_equal(out.pixels, reference_shuffle(pixels, mapping))  # copies: exact
    assert out.data_window == (0, 0, 23, 17)


def test_shuffle_wgsl_compiles():
    compile_wgsl(
        wgsl_source(Shuffle.__module__),
        "OUT[0] = shuffle_point(vec4<f32>(0.5, 0.25, 0.125, 0.75), 0u);",
    )
