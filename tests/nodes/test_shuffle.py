"""Shuffle, through the engine on every backend, against a numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.nodes.channel.shuffle import Shuffle
from tests.conftest import random_image

SOURCES = ("R", "G", "B", "A", "0", "1")
# Rotations of SOURCES: every output channel takes every source once (the first: identity).
MAPPINGS = [tuple(SOURCES[(k + c) % 6] for c in range(4)) for k in range(6)]


def reference_shuffle(pixels, mapping):
    """Each output channel copies the chosen input channel, or is 0 or 1."""
    out = np.empty_like(pixels)
    for channel, source in enumerate(mapping):
        if source in ("0", "1"):
            out[..., channel] = float(source)
        else:
            out[..., channel] = pixels[..., "RGBA".index(source)]
    return out


@pytest.mark.parametrize("mapping", MAPPINGS, ids="".join)
def test_shuffle_main_channels(backend, array_source, mapping):
    pixels = random_image(17, 23, seed=1)
    g = mb.Graph()
    node = g.add(
        "Shuffle",
        inputs={"Source": array_source(g, pixels)},
        mapping=dict(zip("RGBA", mapping)),
    )
    out = g.render(node, frame=1, backend=backend)
    np.testing.assert_array_equal(out.pixels, reference_shuffle(pixels, mapping))  # copies: exact
    assert out.data_window == (0, 0, 23, 17)


def test_version_1_values_upgrade_to_a_mapping():
    old = {"red": "g", "green": "g", "blue": "1", "alpha": "a"}
    assert Shuffle.upgrade(old, 1) == {"mapping": {"R": "G", "B": "1"}}
    assert Shuffle.upgrade({}, 1) == {}
