"""Switch through the engine on every backend: it shows exactly the input ``which`` names,
also when ``which`` is animated, and costs no pass."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render
from tests.conftest import random_image


@pytest.fixture
def four_inputs(array_source):
    g = mb.Graph()
    images = [random_image(9, 13, seed=40 + i) for i in range(4)]
    sources = [array_source(g, pixels) for pixels in images]
    switch = g.add("Switch", inputs={f"In{i}": s for i, s in enumerate(sources)})
    return g, switch, images


@pytest.mark.parametrize("which", [0, 1, 2, 3])
def test_switch_shows_the_chosen_input(backend, four_inputs, which):
    g, switch, images = four_inputs
    switch["which"] = which
    out = g.render(switch, frame=1, backend=backend)
    np.testing.assert_array_equal(out.pixels, images[which])
    assert out.data_window == (0, 0, 13, 9)


def test_an_animated_switch_cuts_between_inputs(backend, four_inputs):
    g, switch, images = four_inputs
    switch["which"] = {"keys": [[1, 3], [3, 1], [5, 0]], "interpolation": "constant"}
    for frame, shown in [(1, 3), (2, 3), (3, 1), (4, 1), (5, 0), (9, 0)]:
        np.testing.assert_array_equal(
            g.render(switch, frame=frame, backend=backend).pixels, images[shown]
        )


def test_switch_downstream_of_a_grade_fuses_and_adds_no_pass(backend, four_inputs):
    g, switch, images = four_inputs
    switch["which"] = 2
    grade = g.add("Grade", inputs={"Source": switch}, gain=(1.5, 0.5, 2.0, 1.0), black_clamp=False)
    out = g.render(grade, frame=1, backend=backend)
    expected = images[2].astype(np.float64) * np.array([1.5, 0.5, 2.0, 1.0])
    np.testing.assert_allclose(out.pixels, expected, rtol=1e-6, atol=1e-6)
    plan = render.plan(g, grade, use_cache=False)
    assert all("Switch" not in str(n.name) for p in plan.passes for n in p.nodes), str(plan)


def test_a_switch_to_an_unconnected_input_is_empty(backend, array_source):
    g = mb.Graph()
    source = array_source(g, random_image(5, 7, seed=45))
    switch = g.add("Switch", inputs={"In0": source}, which=3)
    out = g.render(switch, frame=1, backend=backend)
    assert out.pixels.size == 0  # nothing: transparent black everywhere
