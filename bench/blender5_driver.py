"""Time Blender 5's compositor (the ``bpy`` module) on the bench workloads that Blender
has the operations for, as bench/blender_driver.py does for Blender 3.4.

bench/run.py calls it under a Python that has ``bpy`` (``--bpy PYTHON``), pinned with
``taskset`` to the CPUs the benchmark may use (the 5.x compositor ignores Blender's
thread setting):

    PYTHON bench/blender5_driver.py -- --workload NAME --inputs IN1.exr [IN2.exr] \\
        --output OUT.exr --repeat R --json RESULT.json [--param KEY=VALUE ...]

Workloads (the same trees as Blender 3.4's, in 5.x's node-group API: the tree is a
compositor node group assigned to the scene, its result a Group Output; node options
are menu inputs set by their label):

    comp      plate, background: ColorBalance (offset/power/slope) -> Convert Colorspace
              ACEScg -> ACES2065-1 -> Blur Gaussian 15 -> Alpha Over the background ->
              Scale to the render size (half)
    blur      one input, --param size=N: one Gaussian blur
    points10  one input: ten point operations in a row (Blender 3.4's tree, the Mix node
              in place of MixRGB)
    chain     one input, --param n=N: n nodes cycling through [ColorBalance CDL slope
              1.01, HueSat saturation 0.99, Blur Gaussian 3, Invert RGB, Invert RGB]
    copy      one input: Image -> output (the I/O floor); --param codec=NONE|ZIP|PIZ|DWAA
              and depth=32|16 choose the output EXR
    read      one input: Image -> Scale to --param size=WxH (64x36) -> output: the time
              is the file's decode (the scaled image is tiny)

The compositor runs on the CPU (``compositor_device = 'CPU'``; 5.x defaults to the GPU,
which is lavapipe where there is none). Each time is one ``render(write_still=True)``
with the decoded pixels freed first, so it reads, decodes, composites and writes. The
JSON is blender_driver.py's: times, peak RSS, version, note. On any failure it prints one
line ``blender5_driver: <problem>`` and exits 1.
"""

import json
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blender_driver as bd  # plain modules beside this one
import keying_blender as kb

CDL = "Offset/Power/Slope (ASC-CDL)"

NOTE = (
    "Blender 5 through bpy, compositor device CPU, the tree a compositor node group with "
    "a Group Output. Grade(gain g, gamma G) = ColorBalance Offset/Power/Slope with slope "
    "g, power 1/G; Convert Colorspace 'ACEScg' -> 'ACES2065-1' (Blender's OCIO config); "
    "Blur Gaussian of size s px (not separable off: the default separable Gaussian); "
    "Alpha Over (premultiplied foreground); Scale 'Render Size' with bilinear "
    "interpolation, which at half size averages 2x2 blocks (measured; 3.4 kept every "
    "other pixel)."
)


COMMON_NOTE = (
    "Inputs loaded as colour space 'Linear Rec.709' (Blender's scene linear, so no "
    "conversion on load) with alpha mode PREMUL; output written as scene-linear EXR (32-bit "
    "float, no compression, unless the workload says otherwise), no view transform. Times "
    "are disk to disk: the decoded pixels are freed before every repeat, so each render "
    "reads and decodes the EXR files again."
)


def link(tree, upstream, socket):
    tree.links.new(upstream, socket)


def image_node(tree, image):
    node = tree.nodes.new("CompositorNodeImage")
    node.image = image
    return node.outputs["Image"]


def color_balance(tree, upstream, slope=(1.0, 1.0, 1.0), power=(1.0, 1.0, 1.0), offset=None):
    """ColorBalance in ASC CDL mode: out = max(in * slope + offset, 0) ** power."""
    node = tree.nodes.new("CompositorNodeColorBalance")
    ins = node.inputs  # by position: each parameter has a value and a colour input
    ins["Type"].default_value = CDL
    if offset is not None:
        ins[10].default_value = (*offset, 1.0)  # Offset (colour)
    ins[12].default_value = (*power, 1.0)  # Power (colour)
    ins[14].default_value = (*slope, 1.0)  # Slope (colour)
    link(tree, upstream, ins[0])
    return node.outputs["Image"]


def mix(tree, upstream, blend_type, colour, factor=1.0, clamp=False):
    """The Mix node on colours (5.x's MixRGB): ``upstream`` as A, a constant B."""
    node = tree.nodes.new("ShaderNodeMix")
    node.data_type = "RGBA"
    node.blend_type = blend_type
    node.clamp_result = clamp
    node.inputs[0].default_value = factor
    node.inputs[7].default_value = colour  # B (colour)
    link(tree, upstream, node.inputs[6])  # A (colour)
    return node.outputs[2]  # Result (colour)


def grade(tree, upstream, gain, gamma=1.0):
    return color_balance(tree, upstream, slope=gain, power=(1.0 / gamma,) * 3)


def convert(tree, upstream, source, target):
    node = tree.nodes.new("CompositorNodeConvertColorSpace")
    node.from_color_space = source
    node.to_color_space = target
    link(tree, upstream, node.inputs["Image"])
    return node.outputs["Image"]


def blur(tree, upstream, size):
    node = tree.nodes.new("CompositorNodeBlur")
    node.inputs["Type"].default_value = "Gaussian"
    node.inputs["Size"].default_value = (size, size)
    node.inputs["Extend Bounds"].default_value = False
    link(tree, upstream, node.inputs["Image"])
    return node.outputs["Image"]


def hue_sat(tree, upstream, saturation):
    node = tree.nodes.new("CompositorNodeHueSat")
    node.inputs["Saturation"].default_value = saturation
    link(tree, upstream, node.inputs["Image"])
    return node.outputs["Image"]


def invert(tree, upstream):
    node = tree.nodes.new("CompositorNodeInvert")
    link(tree, upstream, node.inputs["Color"])
    return node.outputs["Color"]


def alpha_over(tree, background, foreground):
    node = tree.nodes.new("CompositorNodeAlphaOver")
    link(tree, background, node.inputs["Background"])
    link(tree, foreground, node.inputs["Foreground"])
    return node.outputs["Image"]


def scale_to_render(tree, upstream):
    node = tree.nodes.new("CompositorNodeScale")
    node.inputs["Type"].default_value = "Render Size"
    node.inputs["Frame Type"].default_value = "Stretch"
    link(tree, upstream, node.inputs["Image"])
    return node.outputs["Image"]


def output(tree, upstream):
    tree.interface.new_socket(name="Image", in_out="OUTPUT", socket_type="NodeSocketColor")
    node = tree.nodes.new("NodeGroupOutput")
    link(tree, upstream, node.inputs[0])


def inputs(args, count):
    if len(args.inputs) != count:
        raise bd.DriverError(f"workload {args.workload} takes {count} input(s)")
    return [kb.load_5(os.path.abspath(path)) for path in args.inputs]


def size_of(image):
    return tuple(int(v) for v in image.size)


def build_comp(args):
    plate, background = inputs(args, 2)
    width, height = size_of(plate)
    scene, tree = kb.setup_5(width // 2, height // 2)
    out = grade(tree, image_node(tree, plate), (1.15, 1.0, 0.85), 1.1)
    out = convert(tree, out, "ACEScg", "ACES2065-1")
    out = blur(tree, out, 15)
    out = alpha_over(tree, image_node(tree, background), out)
    output(tree, scale_to_render(tree, out))
    return scene, [plate, background], "comp: " + NOTE


def build_blur(args):
    (image,) = inputs(args, 1)
    size = bd.int_param(args.params, "size", 15)
    scene, tree = kb.setup_5(*size_of(image))
    output(tree, blur(tree, image_node(tree, image), size))
    return scene, [image], f"blur: Gaussian size {size} px. " + NOTE


def build_chain(args):
    (image,) = inputs(args, 1)
    count = bd.int_param(args.params, "n", 10)
    scene, tree = kb.setup_5(*size_of(image))
    out = image_node(tree, image)
    for index in range(count):
        step = index % 5
        if step == 0:
            out = color_balance(tree, out, slope=(1.01, 1.01, 1.01))
        elif step == 1:
            out = hue_sat(tree, out, 0.99)
        elif step == 2:
            out = blur(tree, out, 3)
        else:
            out = invert(tree, out)
    output(tree, out)
    note = (
        f"chain of {count} nodes cycling through [ColorBalance CDL slope 1.01, HueSat "
        "saturation 0.99, Blur Gaussian 3 px, Invert RGB, Invert RGB]. "
    )
    return scene, [image], note + NOTE


def build_points10(args):
    (image,) = inputs(args, 1)
    scene, tree = kb.setup_5(*size_of(image))
    out = image_node(tree, image)
    # 1 Grade, 2 Saturation, 3 Clamp 0..4, 4 CDL, 5 ColorMatrix, 6 and 7 Invert, 8 Grade,
    # 9 Saturation, 10 Clamp 0..1, as Blender 3.4's tree (blender_driver.build_points10)
    out = grade(tree, out, (1.1,) * 3, 1.2)
    out = hue_sat(tree, out, 0.8)
    out = mix(tree, out, "DARKEN", (4.0, 4.0, 4.0, 1.0))
    out = color_balance(tree, out, slope=(1.05,) * 3, power=(0.95,) * 3, offset=(0.01,) * 3)
    out = convert(tree, out, "Linear Rec.709", "ACEScg")
    out = invert(tree, invert(tree, out))
    out = grade(tree, out, (0.9,) * 3)
    out = hue_sat(tree, out, 1.1)
    out = mix(tree, out, "MIX", (0.0, 0.0, 0.0, 1.0), factor=0.0, clamp=True)
    output(tree, out)
    note = (
        "points10: Blender 3.4's tree (see blender_driver.py) with 5.x's Mix node (colour, "
        "DARKEN with (4, 4, 4) for the clamp to 4; MIX factor 0 with its result clamped "
        "for the clamp to 0..1) in place of MixRGB. "
    )
    return scene, [image], note + NOTE


def exr_settings(scene, args):
    """The output EXR's codec and bit depth from --param codec= and depth=."""
    settings = scene.render.image_settings
    settings.exr_codec = args.params.get("codec", "NONE").upper()
    settings.color_depth = args.params.get("depth", "32")


def build_copy(args):
    (image,) = inputs(args, 1)
    scene, tree = kb.setup_5(*size_of(image))
    exr_settings(scene, args)
    output(tree, image_node(tree, image))
    return scene, [image], "copy: Image -> output, no compositing. " + NOTE


def build_read(args):
    (image,) = inputs(args, 1)
    width, height = (int(v) for v in args.params.get("size", "64x36").split("x"))
    scene, tree = kb.setup_5(width, height)
    output(tree, scale_to_render(tree, image_node(tree, image)))
    return scene, [image], f"read: Image -> Scale to {width}x{height} -> output. " + NOTE


BUILDERS = {
    "comp": build_comp,
    "points10": build_points10,
    "blur": build_blur,
    "chain": build_chain,
    "copy": build_copy,
    "read": build_read,
}


def main():
    args = bd.parse_args(sys.argv)
    if args.workload not in BUILDERS:
        known = ", ".join(sorted(BUILDERS))
        raise bd.DriverError(f"unknown workload {args.workload!r} (known: {known})")
    output_path = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(output_path), exist_ok=True)
    scene, images, note = BUILDERS[args.workload](args)
    times = bd.render_stills(scene, images, output_path, args.repeat)
    result = {
        "blender": bpy.app.version_string.split()[0],
        "workload": args.workload,
        "times": times,
        "execution_mode": "FULL_FRAME",
        "peak_rss_bytes": bd.peak_rss_bytes(),
        "note": note + " " + COMMON_NOTE,
    }
    with open(args.json, "w") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    bd.run_as_script(main, "blender5_driver")
