"""The cache key of every public node type follows every one of its parameters: changing a
parameter that affects pixels changes the node's hash, and changing one declared as not
affecting pixels leaves it alone. The node is built with all its inputs connected (masks
included) so that parameters which only matter with an input count too."""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render
from mattebox.engine.evaluate import Evaluator
from mattebox.nodes import spec as specs
from tests.conftest import random_image, write_exr

# Group, Input and Output are structure, not computation: the planner flattens them away,
# so their hashes are their contents' (tests/engine/test_group.py).
STRUCTURE = {"Group", "Input", "Output"}
FRAME = 2

#: Values for parameters whose generic alternative would not be valid for that node.
OTHER = {
    ("Expression", "r"): "g * 2",
    ("Expression", "g"): "r + 0.5",
    ("Expression", "b"): "x / width",
    ("Expression", "a"): "clamp(a, 0, 0.5)",
    ("Expression", "expressions"): (("extra.R", "r * 3"),),
    ("OCIOColorSpace", "in_colorspace"): "ACEScct",
    ("OCIOColorSpace", "out_colorspace"): "ACES2065-1",
    ("OCIODisplay", "in_colorspace"): "ACEScct",
    ("OCIODisplay", "display"): "Rec.1886 Rec.709 - Display",
    ("OCIODisplay", "view"): "Un-tone-mapped",
    ("OCIODisplay", "look"): "ACES 1.3 Reference Gamut Compression",
    ("Read", "colorspace"): "ACES2065-1",
    ("Write", "colorspace"): "ACEScct",
    ("Shuffle", "mapping"): (("R", "G"), ("G", "R")),
    ("Text", "message"): "Another",
    ("Text", "font"): "DroidSans-Bold",
    ("VectorBlur", "uv"): "motion2",
    ("ChannelMerge", "a_channel"): "R",
    ("ChannelMerge", "b_channel"): "G",
    ("ChannelMerge", "output"): "B",
    ("Switch", "which"): 1,
    ("Merge", "also_merge"): "motion2",
    ("Merge", "channels"): "motion",
    ("ColorDifferenceKeyer", "screen_color"): (0.15, 0.65, 0.8, 1.0),
    ("Defocus", "size"): 3.0,
    ("ErodeDilate", "size"): -2.0,
    ("FrameRange", "first"): 3,
    ("ArrayRead", "array"): random_image(5, 4, seed=3),
}

#: Starting values that let every later change be valid (a screen colour that is both a
#: green and a blue screen, so that switching ``screen`` is allowed).
BASE = {
    "ColorDifferenceKeyer": {"screen_color": (0.1, 0.7, 0.75, 1.0)},
    "ArrayRead": {"array": random_image(6, 8, seed=2)},
}


def public_types():
    return sorted(
        name
        for name, spec in specs.registry().items()
        if not spec.internal and name not in STRUCTURE
    )


def other_value(node, param):
    """A valid value different from the current one."""
    key = (node.spec.type_name, param.name)
    if key in OTHER:
        return OTHER[key]
    value = node[param.name]
    if param.type == "bool":
        return not value
    if param.type == "enum":
        return next(c for c in param.choices if c != value)
    if param.type == "channels":
        return "alpha" if value != "alpha" else "rgb"
    if param.type == "string" and param.name == "mask_channel":
        return "R"
    if param.type == "shapes":
        return ({"name": "Tri", "points": [[1, 1], [9, 2], [4, 7]], "feather": 1.5},)
    if param.type in ("float", "int"):
        return _nudge(param, value, 1 if param.type == "int" else 0.37)
    if param.type in ("rgba", "vec2"):
        return tuple(_nudge(param, v, 0.25 + 0.1 * i) for i, v in enumerate(value))
    raise AssertionError(f"no alternative value for {key} of type {param.type}")


def _nudge(param, value, step):
    for candidate in (value + step, value - step, value + 3 * step):
        low = param.min if param.min is not None else -np.inf
        high = param.max if param.max is not None else np.inf
        if low <= candidate <= high and candidate != value:
            return type(value)(candidate)
    raise AssertionError(f"{param.name}: no value beside {value} within its range")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hash")
    for frame in range(1, 10):
        write_exr(folder / f"plate.{frame:04d}.exr", random_image(6, 8, seed=frame))
    write_exr(folder / "other.exr", random_image(6, 8, seed=9))
    lut = folder / "a.cube"
    lut.write_text("LUT_1D_SIZE 2\n0 0 0\n1 1 1\n")
    other_lut = folder / "b.cube"
    other_lut.write_text("LUT_1D_SIZE 2\n0 0 0\n0.5 0.5 0.5\n")
    return folder


def build(type_name, files):
    """A graph with one node of the type, every input connected to a distinct image."""
    g = mb.Graph()
    spec = specs.get(type_name)
    layered = {}
    for index, name in enumerate((*spec.inputs, *spec.optional_inputs)):
        read = g.add(
            "Read", file=str(files / "plate.####.exr"), colorspace="Raw", frame_offset=index
        )
        # a motion-style layer and a second one, for the nodes that read layers
        layered[name] = g.add(
            "Shuffle",
            inputs={"Source": read},
            mapping=(("motion.u", "R"), ("motion.v", "G"), ("motion2.u", "B"), ("motion2.v", "A")),
        )
    params = {}
    if type_name == "Read":
        params = {"file": str(files / "plate.####.exr"), "colorspace": "Raw"}
    elif type_name == "OCIOFileTransform":
        params = {"file": str(files / "a.cube")}
    elif type_name == "Write":
        params = {"file": str(files / "out.####.exr")}
    node = g.add(type_name, inputs=layered, **params, **BASE.get(type_name, {}))
    return g, node


def file_alternative(type_name, files):
    return {
        "Read": files / "other.exr",
        "OCIOFileTransform": files / "b.cube",
        "Write": files / "elsewhere.####.exr",
    }[type_name]


def _digest(g, node):
    """The hashes of every layer of the node's output: each layer is its own cache entry."""
    evaluator = Evaluator(g, render.context_for(g, FRAME, 1), render.file_source_info)
    return tuple((name, evaluator.eval(node, name).hash) for name, _ in evaluator.layers(node))


def _pixels(g, node):
    render.session().cache.clear()
    image = g.render(node, frame=FRAME, backend="cpu")
    return {name: image.layer(name).copy() for name in image.layers}


@pytest.mark.parametrize("type_name", public_types())
def test_every_parameter_moves_the_hash_or_leaves_the_pixels(type_name, files):
    """Parameters change one after the other and stay changed (so that, say, ``invert``
    comes after a matrix that is not the identity); after each change the hash must move,
    or, where the change happens to be a no-op, the pixels must be the same (a hash that
    stays with different pixels would serve a stale cache entry)."""
    g, node = build(type_name, files)
    digest = _digest(g, node)
    moved = []
    for param in node.spec.params:
        before = node[param.name]
        value = (
            str(file_alternative(type_name, files))
            if param.type == "file"
            else other_value(node, param)
        )
        node[param.name] = value
        new = _digest(g, node)
        if not param.affects_pixels:
            assert new == digest, f"{type_name}.{param.name} changed the hash"
        elif new != digest:
            moved.append(param.name)
        elif type_name != "Write":  # a Write shows its input; its settings are the file's
            after = _pixels(g, node)
            node[param.name] = before
            unchanged = _pixels(g, node)
            node[param.name] = value
            assert after.keys() == unchanged.keys(), f"{type_name}.{param.name}: layers"
            for name in after:
                np.testing.assert_array_equal(
                    after[name], unchanged[name], err_msg=f"{type_name}.{param.name} = {value!r}"
                )
        digest = new
    pixel_params = [p.name for p in node.spec.params if p.affects_pixels]
    if type_name != "Write":
        assert len(moved) >= len(pixel_params) // 2, (type_name, moved, pixel_params)
