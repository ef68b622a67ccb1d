"""Expression: formulas through the engine on every backend against the same maths in
numpy float64, channels of other layers, new layers, errors naming node, parameter and
column, fusion, and cache keys that follow the frame."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render
from mattebox.engine.passes import RenderError
from mattebox.nodes.color.expression_plane import ExpressionPlane
from mattebox.nodes.expressions import ExpressionError, parse
from tests.conftest import random_image
from tests.engine.test_layers import H, W, renderer_exr

WINDOW = (5, 3, 24, 16)  # 19 x 13 pixels, away from the origin

FORMULAS = {
    "r": "mix(r, g, 0.3) * 2 - abs(b - 0.5) ** 2 + x / width - y / height",
    "g": "clamp(sin(x * 0.3) + cos(y * 0.2) * g, -0.5, 0.75) + floor(b * 4) / 4"
    " + ceil(r * 3) - fract(g * 5.5) + clamp(r)",
    "b": "sqrt(abs(b)) + exp(-r) + log(abs(g) + 1) + atan2(y - 10, x - 3) / pi"
    " + tan(r * 0.5) + pow(a, 1.5) + (-b) ** 2 + (b - 1) ** 3",
    "a": "smoothstep(0.2, 0.8, a) + step(0.5, r) * (0.25 if g > b else 0.75)"
    " + min(r, g, b) + max(r, 0.1) + (r < g < b) + ((r > 0.5) and not (g > 0.5))"
    " + (b >= 0.3 or a <= 0.2) + (r == r) - (r != g) + frame / 10",
}


def smoothstep(e0, e1, v):
    t = np.clip((v - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def reference(pixels, window, frame, width, height):
    """The formulas of FORMULAS in float64 numpy."""
    r, g, b, a = (pixels[..., k].astype(np.float64) for k in range(4))
    y, x = np.mgrid[window[1] : window[3], window[0] : window[2]].astype(np.float64)
    out = np.empty(pixels.shape, np.float64)
    out[..., 0] = (r + (g - r) * 0.3) * 2 - np.abs(b - 0.5) ** 2 + x / width - y / height
    out[..., 1] = (
        np.clip(np.sin(x * 0.3) + np.cos(y * 0.2) * g, -0.5, 0.75)
        + np.floor(b * 4) / 4
        + np.ceil(r * 3)
        - (g * 5.5 - np.floor(g * 5.5))
        + np.clip(r, 0, 1)
    )
    out[..., 2] = (
        np.sqrt(np.abs(b))
        + np.exp(-r)
        + np.log(np.abs(g) + 1)
        + np.arctan2(y - 10, x - 3) / np.pi
        + np.tan(r * 0.5)
        + a**1.5
        + b**2
        + (b - 1) ** 3
    )
    out[..., 3] = (
        smoothstep(0.2, 0.8, a)
        + (r >= 0.5) * np.where(g > b, 0.25, 0.75)
        + np.minimum(np.minimum(r, g), b)
        + np.maximum(r, 0.1)
        + ((r < g) & (g < b))
        + ((r > 0.5) & ~(g > 0.5))
        + ((b >= 0.3) | (a <= 0.2))
        + 1.0
        - (r != g)
        + frame / 10
    )
    return out


def test_expression_matches_numpy(backend, array_source):
    pixels = random_image(13, 19, seed=3)
    g = mb.Graph()
    g.settings.format = mb.Format(40, 30)
    node = g.add("Expression", inputs={"Source": array_source(g, pixels, WINDOW)}, **FORMULAS)
    out = render.render(g, node, frame=3, backend=backend, use_cache=False)
    assert out.data_window == WINDOW
    expected = reference(pixels, WINDOW, 3.0, 40.0, 30.0)
    np.testing.assert_allclose(out.pixels, expected, rtol=1e-5, atol=2e-5)


def test_expression_reads_and_writes_other_layers(backend, tmp_path):
    """``depth.Z`` and ``motion.u`` read into the main layer; ``depth.Z`` rewritten in its
    own layer (its alpha slot untouched); ``matte.A`` a new layer from the input's red."""
    path = tmp_path / "beauty.exr"
    channels = renderer_exr(path, seed=4)
    g = mb.Graph()
    g.settings.format = mb.Format(W, H)
    read = g.add("Read", file=str(path), colorspace="Raw")
    node = g.add(
        "Expression",
        inputs={"Source": read},
        r="r * 0.5 + depth.Z / 100",
        b="motion.u - motion.v",
        expressions={"depth.Z": "depth.Z * 2 + a", "matte.A": "step(0.5, r)"},
    )
    out = render.render(g, node, backend=backend, use_cache=False, layers="all")
    assert "matte" in out.layers and "depth" in out.layers
    c = {k: v.astype(np.float64) for k, v in channels.items()}
    tol = {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(out.channel("R"), c["R"] * 0.5 + c["depth.Z"] / 100, **tol)
    np.testing.assert_allclose(out.channel("G"), c["G"], **tol)
    np.testing.assert_allclose(out.channel("B"), c["motion.u"] - c["motion.v"], **tol)
    np.testing.assert_allclose(out.channel("depth.Z"), c["depth.Z"] * 2 + c["A"], **tol)
    np.testing.assert_array_equal(out.channel("matte.A"), (c["R"] >= 0.5).astype(np.float32))
    np.testing.assert_array_equal(out.channel("diffuse.R"), channels["diffuse.R"])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"r": "r +* 2"}, "r: column 4: syntax error"),
        ({"g": "gren * 2"}, "g: column 1: unknown name 'gren'"),
        ({"b": "b * floor"}, "b: column 5: unknown name 'floor' (a function needs arguments)"),
        ({"a": "a + fooo(b)"}, "a: column 5: unknown function 'fooo'"),
        ({"r": "r + depth.Q"}, "r: column 5: 'depth.Q' is not a channel of the input"),
        ({"r": "clamp(r, 0)"}, "r: column 1: clamp() takes 1 or 3 arguments, got 2"),
        ({"r": "r[0]"}, "r: column 1: subscript is not allowed"),
        (
            {"expressions": {"matte.A": "r +"}},
            "expressions.matte.A: column 4: syntax error: unexpected end",
        ),
    ],
)
def test_expression_errors_name_node_parameter_and_column(array_source, params, message):
    g = mb.Graph()
    node = g.add(
        "Expression", name="Expr1", inputs={"Source": array_source(g, random_image(4, 5))}, **params
    )
    with pytest.raises(RenderError) as caught:
        render.render(g, node, backend="cpu", use_cache=False)
    text = str(caught.value)
    assert text.startswith("Expr1: ") and message in text and "\n" not in text


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "().__class__",
        "(lambda: 1)()",
        "[r for r in (1,)]",
        "open('f')",
        "r if True else g",
        "{'a': 1}",
        "r @ g",
        "r // 2",
        "f'{r}'",
    ],
)
def test_expression_grammar_refuses_python_beyond_it(text):
    """Nothing outside the whitelist parses; nothing is ever run by Python."""
    with pytest.raises(ExpressionError):
        parse(text, "r")


def test_expression_fuses_and_numbers_are_parameters(array_source):
    """Grade -> Expression -> Grade is one fused pass; two formulas differing only in
    their numbers share one generated function."""
    g = mb.Graph()
    src = array_source(g, random_image(13, 19, seed=5), WINDOW)
    first = g.add("Grade", inputs={"Source": src}, gain=1.2)
    expr = g.add("Expression", inputs={"Source": first}, r="r * 2 + g", a="a * 0.5")
    last = g.add("Grade", inputs={"Source": expr}, gain=0.8)
    graph_plan = render.plan(g, last, use_cache=False)
    fused = [p for p in graph_plan.passes if p.kind == "fused"]
    assert len(fused) == 1 and len(fused[0].nodes) == 3, str(graph_plan)
    one = ExpressionPlane.point_program(fused[0].nodes[1].values)
    expr["r"], expr["a"] = "r * 3.5 + g", "a * 0.25"
    other = render.evaluate(g, expr, 1)
    assert other.values["constants"] != fused[0].nodes[1].values["constants"]
    assert ExpressionPlane.point_program(other.values).name == one.name


def test_expression_cache_keys_follow_frame_only_where_read(array_source):
    g = mb.Graph()
    src = array_source(g, random_image(4, 5, seed=6))
    still = g.add("Expression", inputs={"Source": src}, r="r * 2")
    moving = g.add("Expression", inputs={"Source": src}, r="r * frame")

    def digest(node, frame):
        return render.evaluate(g, node, frame).hash

    assert digest(still, 1) == digest(still, 2)
    assert digest(moving, 1) != digest(moving, 2)
    out = [render.render(g, moving, frame=f, backend="cpu").pixels[..., 0] for f in (1, 2)]
    np.testing.assert_allclose(out[1], 2 * out[0], rtol=1e-6)


def test_expression_channels_and_mask(backend, array_source):
    """``channels`` rgb keeps alpha; a Mask blends the result with the input."""
    pixels = random_image(13, 19, seed=7)
    mask = random_image(13, 19, seed=8)
    g = mb.Graph()
    src = array_source(g, pixels, WINDOW)
    node = g.add(
        "Expression",
        inputs={"Source": src, "Mask": array_source(g, mask, WINDOW)},
        r="g",
        a="0",
        channels="rgb",
    )
    out = render.render(g, node, backend=backend, use_cache=False)
    m = mask[..., 3:4].astype(np.float64)
    processed = pixels.astype(np.float64).copy()
    processed[..., 0] = pixels[..., 1]
    expected = pixels + (processed - pixels) * m
    np.testing.assert_allclose(out.pixels, expected, rtol=1e-6, atol=1e-7)
