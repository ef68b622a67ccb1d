"""Build the two AOV example scripts with the Python API (run from anywhere):

    python resources/examples/make_aov_examples.py

- ``aov_render.mbx`` stands in for a renderer: it makes light layers from generators and
  writes ``aovs.exr``, a multi-layer EXR whose beauty is diffuse + specular + emission,
  with a ``depth.Z`` layer, as Blender, Arnold or Karma write them.
- ``aov_comp.mbx`` is the lighter's comp on that file: the beauty rebuilt from the light
  layers, the specular graded through a mask made from depth, the background blurred
  through the inverse of that mask, and every layer written back to ``render/``.

The scripts are saved beside this file; ``aovs.exr`` is rendered too, so the comp has its
input (``mattebox render resources/examples/aov_render.mbx`` makes it again).
"""

from __future__ import annotations

from pathlib import Path

import mattebox as mb

HERE = Path(__file__).resolve().parent
LIGHTS = ("diffuse", "specular", "emission")


def light(g, name, size, color0, color1, blur):
    """A light layer's colour: a soft checkerboard."""
    board = g.add("Checkerboard", name=f"{name}_light", size=size, color0=color0, color1=color1)
    return g.add("Blur", name=f"{name}_soft", inputs={"Source": board}, size=blur)


def renderer_script() -> mb.Graph:
    """Light layers and a depth layer packed into one multi-layer EXR."""
    g = mb.Graph()
    g.path = str(HERE / "aov_render.mbx")  # relative file names are relative to it
    g.settings.format = mb.Format(320, 180)
    g.settings.frame_range = (1, 1)
    layers = {
        "diffuse": light(g, "diffuse", 40, (0.18, 0.12, 0.08, 1), (0.45, 0.32, 0.2, 1), 3.0),
        "specular": light(g, "specular", 90, (0.02, 0.02, 0.03, 1), (0.6, 0.55, 0.5, 1), 12.0),
        "emission": light(g, "emission", 160, (0.0, 0.0, 0.0, 1), (0.05, 0.2, 0.4, 1), 30.0),
        "depth": light(g, "depth", 180, (0.15, 0.15, 0.15, 1), (1.0, 1.0, 1.0, 1), 40.0),
    }
    beauty = g.add(
        "Merge",
        name="add_specular",
        inputs={"B": layers["diffuse"], "A": layers["specular"]},
        operation="plus",
        channels="rgb",
    )
    beauty = g.add(
        "Merge",
        name="add_emission",
        inputs={"B": beauty, "A": layers["emission"]},
        operation="plus",
        channels="rgb",
    )
    packed = beauty
    for name in LIGHTS:
        mapping = {f"{name}.{c}": f"2:{c}" for c in "RGB"}
        packed = g.add(
            "Shuffle",
            name=f"pack_{name}",
            inputs={"Source": packed, "Source2": layers[name]},
            mapping=mapping,
        )
    packed = g.add(
        "Shuffle",
        name="pack_depth",
        inputs={"Source": packed, "Source2": layers["depth"]},
        mapping={"depth.Z": "2:R"},
    )
    g.add(
        "Write",
        name="WriteAOVs",
        inputs={"Source": packed},
        file="aovs.exr",
        channels="all",
        datatype="half",
    )
    return g


def comp_script() -> mb.Graph:
    """Grade the specular through a depth mask, rebuild the beauty from the light layers,
    blur the background through the inverse of the mask, and write every layer (a
    Shuffle and a Merge keep the layers they do not touch, so the rebuilt beauty still
    carries the graded specular, the other lights and depth)."""
    g = mb.Graph()
    g.path = str(HERE / "aov_comp.mbx")
    g.settings.format = mb.Format(320, 180)
    g.settings.frame_range = (1, 1)
    read = g.add("Read", name="Render", file="aovs.exr")
    near = g.add(
        "Grade",
        name="near_mask",
        inputs={"Source": read},
        channels="depth",
        blackpoint=0.3,
        whitepoint=0.9,
        white_clamp=True,
    )
    graded = g.add(
        "Grade",
        name="grade_specular",
        inputs={"Source": read, "Mask": near},
        channels="specular",
        gain=[1.6, 1.3, 1.0, 1.0],
        mask_channel="depth.Z",
    )
    lights = [
        g.add(
            "Shuffle",
            name=f"{name}_only",
            inputs={"Source": graded},
            mapping={c: f"{name}.{c}" for c in "RGB"},
        )
        for name in LIGHTS
    ]
    beauty = lights[0]
    for index, layer in enumerate(lights[1:], start=1):
        beauty = g.add(
            "Merge",
            name=f"rebuild{index}",
            inputs={"B": beauty, "A": layer},
            operation="plus",
            channels="rgb",
        )
    blur = g.add(
        "Blur",
        name="defocus_far",
        inputs={"Source": beauty, "Mask": near},
        size=6.0,
        channels="all",
        mask_channel="depth.Z",
        invert_mask=True,
    )
    g.add(
        "Write",
        name="WriteAll",
        inputs={"Source": blur},
        file="render/aov_comp.exr",
        channels="all",
        datatype="half",
    )
    display = g.add("OCIODisplay", name="Display", inputs={"Source": blur})
    g.add(
        "Write",
        name="WritePNG",
        inputs={"Source": display},
        file="render/aov_comp.png",
        datatype="uint8",
        colorspace="Raw",
    )
    return g


def lay_out(g: mb.Graph, positions: dict[str, tuple[int, int]], viewed: str) -> None:
    """Node positions for the editor (column, row) and the node the viewer shows."""
    g.ui = {
        "nodes": {name: {"pos": [x * 220, y * 90]} for name, (x, y) in positions.items()},
        "viewer": {"display": "sRGB - Display", "node": viewed, "layer": "rgba"},
    }


RENDERER_LAYOUT = {
    **{f"{n}_light": (k, 0) for k, n in enumerate(("diffuse", "specular", "emission", "depth"))},
    **{f"{n}_soft": (k, 1) for k, n in enumerate(("diffuse", "specular", "emission", "depth"))},
    "add_specular": (0.5, 2),
    "add_emission": (1, 3),
    "pack_diffuse": (1, 4),
    "pack_specular": (1, 5),
    "pack_emission": (1, 6),
    "pack_depth": (1, 7),
    "WriteAOVs": (1, 8),
}
COMP_LAYOUT = {
    "Render": (0, 0),
    "near_mask": (1, 1),
    "grade_specular": (0, 2),
    "diffuse_only": (-1, 3),
    "specular_only": (0, 3),
    "emission_only": (1, 3),
    "rebuild1": (-0.5, 4),
    "rebuild2": (0, 5),
    "defocus_far": (0, 6),
    "WriteAll": (-1, 7),
    "Display": (1, 7),
    "WritePNG": (1, 8),
}


def main() -> None:
    renderer = renderer_script()
    lay_out(renderer, RENDERER_LAYOUT, "pack_depth")
    renderer.save(HERE / "aov_render.mbx")
    comp = comp_script()
    lay_out(comp, COMP_LAYOUT, "defocus_far")
    comp.save(HERE / "aov_comp.mbx")
    mb.load(HERE / "aov_render.mbx").execute(backend="cpu")
    print("wrote", HERE / "aov_render.mbx", HERE / "aov_comp.mbx", HERE / "aovs.exr")


if __name__ == "__main__":
    main()
