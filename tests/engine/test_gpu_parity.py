"""Every registered node type on the GPU against the CPU reference, on random data whose
sizes are not multiples of the 16×16 workgroup and whose data windows sit off the origin.

A node type that is added without a GPU path fails ``test_every_node_type_is_covered``:
give it WGSL, then parameters here.
"""

from __future__ import annotations

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render
from mattebox.nodes.spec import Kind, registry
from tests.conftest import random_image, require_gpu

RTOL, ATOL = 1e-5, 1e-5  # f32 on both sides; pow/exp/sin in the GPU's own f32 versions
OCIO_TOLERANCE = 1e-4  # the bound against OCIO's CPU processor
STUDIO = "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"
WINDOWS = ((-3, 5, 34, 34), (4, -2, 35, 39))  # 37×29 and 31×41, off the origin

# Parameters that make each node do something (not pass its input through).
PARAMS = {
    "ArrayRead": {"array": random_image(29, 37, seed=12)[..., :3], "x": -3, "y": 5, "width": 40},
    "Blur": {"size": 3.7},
    "CDL": {
        "slope": [1.1, 0.9, 1.2, 1.0],
        "offset": [0.01, -0.02, 0.0, 0.0],
        "power": [1.2, 0.8, 1.0, 1.0],
        "saturation": 0.8,
    },
    "ChannelOp": {"operation": "stencil", "a_component": 3, "b_component": 1, "out_component": 2},
    "Checkerboard": {"size": 7, "width": 45, "height": 33},
    "ChromaKeyer": {"hue_tolerance": 20.0, "softness": 0.3, "despill": 0.8},
    "Clamp": {"minimum": [0.1, 0.0, -0.1, 0.2], "maximum": [0.8, 0.9, 1.0, 0.95]},
    "ColorBars": {"type": "smpte", "width": 45, "height": 33},
    "ColorCorrect": {
        "master_contrast": [1.2, 0.9, 1.1, 1.0],
        "shadows_gamma": [1.4, 0.8, 1.1, 1.0],
        "midtones_saturation": 1.3,
        "highlights_gain": [1.2, 0.9, 1.1, 1.0],
        "shadows_end": 0.2,
    },
    "ColorDifferenceKeyer": {"red_weight": 0.4, "luminance_match": 0.3},
    "ColorMatrix": {"row0": [0.8, 0.1, 0.1, 0.01], "row2": [0.05, 0.2, 0.75, -0.02], "mix": 0.9},
    "Constant": {"color": [0.2, 0.3, 0.4, 0.5], "width": 45, "height": 33},
    "CornerPin": {  # the input's window onto a quad in perspective
        **dict(zip(("from1", "from2", "from3", "from4"), ([-3, 34], [34, 34], [34, 5], [-3, 5]))),
        **dict(zip(("to1", "to2", "to3", "to4"), ([0, 36], [38, 30], [30, 8], [4, 4]))),
    },
    "Crop": {"box": [2, 8, 30, 31]},
    "Defocus": {"size": 4.3},
    "DifferenceKeyer": {"offset": 0.05, "gain": 2.5, "premultiply": True},
    "Dissolve": {"which": 0.35},
    "EdgeDetect": {},
    "ErodeDilate": {"size": -2.6, "shape": "disc"},
    "Expression": {
        "r": "mix(r, g, 0.3) * 2 + x / width",
        "b": "smoothstep(0.1, 0.9, b) if g > 0.4 else pow(abs(r), 1.5)",
        "a": "clamp(a * 2 - y * 0.01)",
    },
    "ExpressionPlane": {
        "program": '{"planes": 2, "outputs": ["v0_0 * c0 + v1_1", null, "mix(v0_2, v1_0, c1)",'
        ' "x / c2 + y"]}',
        "constants": "[1.5, 0.25, 40.0]",
    },
    "Exposure": {"stops": [0.7, -1.2, 2.3, 1.0]},
    "Gamma": {"value": [1.8, 0.6, 2.4, 1.0]},
    "Glow": {"threshold": 0.4, "size": 3.6, "gain": 1.7},
    "Grade": {
        "gain": [1.3, 1.1, 0.9, 1.0],
        "gamma": [1.4, 0.8, 1.1, 1.0],
        "lift": 0.02,
        "white_clamp": True,
    },
    "Grid": {"size": 6.5, "thickness": 1.75, "color": [0.9, 0.5, 0.2, 0.8]},
    "HueShift": {"hue_rotation": 63.0, "saturation": 1.2, "preserve_luminance": True},
    "Invert": {"channels": "rgba", "mix": 0.7},
    "Keyer": {"operation": "saturation", "range": [0.05, 0.3, 0.6, 0.9], "premultiply": True},
    "Log2Lin": {"operation": "lin2log", "black": 80.0, "white": 700.0, "gamma": 0.7},
    "Median": {"size": 2},
    "MaskMix": {"select": [1, 0, 1, 1], "mix": 0.8, "use_mask": True, "mask_component": 1},
    "Merge": {"operation": "atop"},
    "MergeLayers": {"operation": "atop", "mix": 0.9, "bbox": "intersection"},
    "Mirror": {"flip": True, "flop": True},
    "Noise": {
        "size": 6.5,
        "octaves": 5,
        "seed": 77,
        "z": 0.4,
        "speed": 0.3,
        "translate": [3.25, -1.5],
        "width": 45,
        "height": 33,
    },
    "OCIOColorSpace": {"in_colorspace": "ACEScg", "out_colorspace": "ACEScct"},
    "OCIODisplay": {"in_colorspace": "ACEScg"},
    "OCIOFileTransform": {"interpolation": "tetrahedral"},  # file: a LUT written below
    "Posterize": {"levels": 5.5},
    "Premult": {},
    "PremultBy": {"divide": True, "select": [1, 0, 1, 1]},
    "Radial": {"center": [20.5, 14.25], "radius": 15.0, "softness": 0.6, "color": 0.8},
    "Ramp": {"p0": [3.5, 30.25], "p1": [40.0, 4.5], "color0": [0.1, 0.9, -0.2, 0.4]},
    "Rectangle": {"box": [4.5, 2.25, 30.0, 27.5], "softness": 3.5, "color": [0.9, 0.5, 0.2, 0.8]},
    "Roto": {  # over its Source: a feathered Bézier, a subtracted polygon, an inverted one
        "shapes": [
            {
                "name": "a",
                "points": [[2, 4, 0, 0, 9, -3], [33, 6, -4, -4, 2, 8], [20, 36, 5, 1, -6, 0]],
                "feather": [3.5, -2.0, 5.0],
            },
            {
                "name": "b",
                "points": [[10, 12], [24, 10], [17, 24]],
                "blend": "subtract",
                "opacity": 0.7,
                "feather": 2.5,
                "feather_falloff": "linear",
            },
            {
                "name": "c",
                "points": [[25, 20], [36, 22], [30, 33]],
                "invert": True,
                "blend": "add",
                "opacity": 0.3,
            },
        ],
        "output": "B",
        "premultiply": True,
    },
    "Reformat": {"width": 50, "height": 20, "resize": "fit"},
    # frame 1.5 of a still is the still (by reference); blends of a moving input are
    # checked on both backends against float64 in tests/nodes/test_retime.py
    "Retime": {"speed": 0.5, "output_start": 0},
    "Saturation": {"saturation": 1.4},
    "Sharpen": {"size": 3.3, "amount": 1.4},
    "Shuffle": {"mapping": {"R": "B", "A": "1", "extra.X": "G"}},
    "Copy": {"channels": ["R", "alpha"], "mix": 0.6},
    "Remove": {"operation": "remove", "channels": ["G", "alpha"]},
    "ChannelMerge": {"a_channel": "R", "b_channel": "G", "operation": "difference", "output": "B"},
    "ShufflePlane": {
        "source0": 1,
        "component0": 2,
        "source1": -1,
        "constant1": 0.3,
        "source2": 3,
        "component2": 3,
        "source3": 2,
        "component3": 0,
    },
    "Text": {
        "message": "Parity",
        "size": 14,
        "position": [3.0, 20.0],
        "color": [0.9, 0.5, 0.2, 0.8],
        "width": 45,
        "height": 33,
    },
    "Transform": {"rotate": 17.0, "scale": [0.8, 1.2], "center": [10.0, 10.0]},
    "Unpremult": {},
    "VectorBlur": {"scale": 4.0, "samples": 7, "offset": -0.3, "max_length": 5.0},
    "VectorBlurPlane": {"u_component": 2, "v_component": 0, "scale": -3.0, "v_up": True},
}
PASS_THROUGH = {"Dot", "Switch"}  # never computed: they resolve to an input
PASS_THROUGH |= {"TimeOffset", "FrameHold", "FrameRange"}  # an input at another frame
PASS_THROUGH |= {"Group", "Input", "Output"}  # flattened: tests/engine/test_group.py
# The inputs that get images, where a node's kernel reads optional inputs too (by default
# the required ones).
INPUTS = {
    "ExpressionPlane": ("P0", "P1"),
    "MaskMix": ("Original", "Processed", "Mask"),
    "Roto": ("Source",),
    "ShufflePlane": ("S0", "S1", "S2", "S3"),
}
# Node types whose input needs more than a plain RGBA image: (graph, read) -> its input.
BUILD_INPUT = {
    "VectorBlur": lambda g, read: g.add(
        "Shuffle", inputs={"Source": read}, mapping={"motion.u": "R", "motion.v": "B"}
    ),
    # frames that differ, so Retime's input frame 1.5 is a blend of frames 1 and 2
    "Retime": lambda g, read: g.add(
        "Grade", inputs={"Source": read}, gain={"keys": [[1, 0.5], [2, 1.5]]}
    ),
}


@pytest.fixture(scope="module")
def gpu_available():
    require_gpu()


def write_cube(path, size=9):
    """A smooth, non-trivial 3D LUT (.cube, red fastest)."""
    grid = np.linspace(0.0, 1.0, size)
    lines = [f"LUT_3D_SIZE {size}"]
    for b in grid:
        for g in grid:
            for r in grid:
                out = (r**0.8 + 0.05 * g, 0.9 * g + 0.1 * b * r, b**1.2)
                lines.append(" ".join(f"{v:.6f}" for v in out))
    path.write_text("\n".join(lines) + "\n")


def test_every_node_type_is_covered():
    missing = [
        name
        for name, spec in registry().items()
        if spec.kind is not Kind.SINK
        and not getattr(spec, "file_source", False)
        and name not in PARAMS
        and name not in PASS_THROUGH
    ]
    assert not missing, f"node types without a GPU parity case: {missing}"


@pytest.mark.parametrize("type_name", sorted(PARAMS))
def test_node_on_the_gpu_matches_the_cpu(gpu_available, array_source, tmp_path, type_name):
    spec = registry()[type_name]
    g = mb.Graph()
    g.settings.ocio_config = STUDIO
    params = dict(PARAMS[type_name])
    if type_name == "OCIOFileTransform":
        write_cube(tmp_path / "look.cube")
        params["file"] = str(tmp_path / "look.cube")
    inputs = {}
    for index, name in enumerate(INPUTS.get(type_name, spec.inputs)):
        window = WINDOWS[index % 2]
        pixels = random_image(window[3] - window[1], window[2] - window[0], seed=index + 1)
        inputs[name] = array_source(g, pixels, window=window)
        if type_name in BUILD_INPUT:
            inputs[name] = BUILD_INPUT[type_name](g, inputs[name])
    node = g.add(type_name, inputs=inputs, **params)
    on_gpu = render.render(g, node, backend="gpu", use_cache=False)
    on_cpu = render.render(g, node, backend="cpu", use_cache=False)
    assert on_gpu.data_window == on_cpu.data_window
    assert on_cpu.pixels.size and np.abs(on_cpu.pixels).max() > 0
    if spec.kind is Kind.COLOR_PROCESSOR:
        error = np.abs(on_gpu.pixels - on_cpu.pixels) / np.maximum(1.0, np.abs(on_cpu.pixels))
        assert error.max() <= OCIO_TOLERANCE
    else:
        np.testing.assert_allclose(on_gpu.pixels, on_cpu.pixels, rtol=RTOL, atol=ATOL)


def test_a_comp_on_the_gpu_matches_the_cpu(gpu_available, array_source):
    """Point, area, resample and colour passes in one graph, a Merge joining two branches."""
    g = mb.Graph()
    g.settings.ocio_config = STUDIO
    plate = array_source(g, random_image(29, 37, seed=5), window=WINDOWS[0])
    back = array_source(g, random_image(41, 31, seed=6), window=WINDOWS[1])
    node = g.add("Grade", inputs={"Source": plate}, gain=1.2, gamma=1.1)
    node = g.add("Blur", inputs={"Source": node}, size=2.2)
    node = g.add(
        "Transform", inputs={"Source": node}, translate=(3.5, -1.25), rotate=5.0, filter="linear"
    )
    board = g.add("Checkerboard", size=5, width=40, height=40)
    under = g.add("Dissolve", inputs={"In0": back, "In1": board}, which=0.25)
    node = g.add("Merge", inputs={"B": under, "A": node}, operation="over")
    node = g.add("OCIODisplay", inputs={"Source": node}, in_colorspace="ACEScg")
    node = g.add("Crop", inputs={"Source": node}, box=[0, 0, 33, 30])
    on_gpu = render.render(g, node, backend="gpu", use_cache=False)
    on_cpu = render.render(g, node, backend="cpu", use_cache=False)
    assert on_gpu.data_window == on_cpu.data_window
    np.testing.assert_allclose(on_gpu.pixels, on_cpu.pixels, rtol=1e-4, atol=1e-5)
