"""Time Blender's compositor on the keying workload (bench/keying.py), in Blender 3.4 or
under Blender 5's ``bpy`` module.

Blender 3.4 (Debian's package), as bench/run.py calls it:

    blender -b --factory-startup -t THREADS -P bench/keying_blender.py -- \\
        --workload keying --inputs PLATE.exr BG.exr --output OUT.exr --repeat R \\
        --json RESULT.json [--param screen=R,G,B] [--param erode=1] [--param blur=2]

Blender 5 (``pip install bpy`` in a Python 3.13 environment): the same arguments after
``python bench/keying_blender.py --``. The compositor device is set to the CPU (5.x
defaults to the GPU, which is lavapipe where there is none); the 5.x compositor ignores
Blender's thread setting, so its threads are the CPUs the process may run on.

The tree: Image (plate) → Keying (key colour = the screen; screen balance 0.5, despill
1, despill balance 0.5; no clip, dilate, feather or blur inside it) → Alpha Convert to
straight; the Keying node's Matte → Dilate/Erode (step, -erode px) → Blur (Gaussian, size
blur px, the same kernel as Mattebox's Blur) → Set Alpha (replace) of the straight
colour → Alpha Over (straight foreground) on Image (background) → the output (3.4: the
Composite node; 5.x: the group output). Each time is one ``render(write_still=True)``
with the decoded pixels freed first, so it reads, decodes, composites and writes the
uncompressed float EXR; the JSON is blender_driver.py's (times, peak RSS, version, note).
"""

import json
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blender_driver as bd  # Blender's Python: a plain module beside this one

FIVE = bpy.app.version >= (4, 5, 0)  # the node-group compositor and menu inputs

NOTE = (
    "keying: Keying node (key colour the screen colour, screen balance 0.5, despill "
    "factor 1, despill balance 0.5, black level 0, white level 1; no pre/post blur, "
    "dilate or feather inside it) -> Alpha Convert premultiplied to straight; its Matte "
    "-> Dilate/Erode STEP -erode px (a (2 erode + 1) square minimum) -> Blur GAUSS of "
    "size blur px -> Set Alpha REPLACE_ALPHA on the straight colour -> Alpha Over with a "
    "straight foreground (fg * a + bg * (1 - a)). Blender's key is (G - m) * |1 - m| "
    "over the same of the screen, m = (R + B)/2 (Mattebox's ColorDifferenceKeyer: G - m "
    "over the screen's); its despill is the same min(G, m) on premultiplied colour."
)


def params(args):
    """(screen colour, erode px, blur size) from the --params."""
    (r, g, b) = bd.float_list(args.params, "screen", (0.1, 0.6, 0.15), 3)
    erode = bd.int_param(args.params, "erode", 1)
    (blur,) = bd.float_list(args.params, "blur", (2.0,), 1)
    return (r, g, b, 1.0), erode, blur


# --------------------------------------------------------------------------- Blender 3.4


def build_34(args):
    plate, background = bd.load_inputs(args, 2)
    width, height = bd.image_size(plate)
    screen, erode, blur = params(args)
    scene, tree = bd.setup_scene(width, height, bd.DEFAULT_MODE)
    key = tree.nodes.new("CompositorNodeKeying")
    key.screen_balance = 0.5
    key.despill_factor = 1.0
    key.despill_balance = 0.5
    key.clip_black, key.clip_white = 0.0, 1.0
    key.blur_pre = key.blur_post = key.dilate_distance = key.feather_distance = 0
    key.inputs["Key Color"].default_value = screen
    tree.links.new(bd.add_image(tree, plate).outputs["Image"], key.inputs["Image"])
    straight = tree.nodes.new("CompositorNodePremulKey")
    straight.mapping = "PREMUL_TO_STRAIGHT"
    tree.links.new(key.outputs["Image"], straight.inputs["Image"])
    eroded = tree.nodes.new("CompositorNodeDilateErode")
    eroded.mode = "STEP"
    eroded.distance = -erode
    tree.links.new(key.outputs["Matte"], eroded.inputs["Mask"])
    soft = bd.add_blur(tree, eroded.outputs["Mask"], round(blur))  # whole px in 3.4
    alpha = tree.nodes.new("CompositorNodeSetAlpha")
    alpha.mode = "REPLACE_ALPHA"
    tree.links.new(straight.outputs["Image"], alpha.inputs["Image"])
    tree.links.new(soft, alpha.inputs["Alpha"])
    over = tree.nodes.new("CompositorNodeAlphaOver")
    over.use_premultiply = True  # the foreground is straight
    over.premul = 0.0
    tree.links.new(bd.add_image(tree, background).outputs["Image"], over.inputs[1])
    tree.links.new(alpha.outputs["Image"], over.inputs[2])
    bd.add_composite(tree, over.outputs["Image"])
    return scene, [plate, background], tree.execution_mode


# --------------------------------------------------------------------------- Blender 5


def load_5(path):
    if not os.path.isfile(path):
        raise bd.DriverError(f"no such input file: {path}")
    image = bpy.data.images.load(path, check_existing=False)
    image.colorspace_settings.name = "Linear Rec.709"
    image.alpha_mode = "PREMUL"
    if 0 in tuple(image.size):
        raise bd.DriverError(f"Blender could not read the pixels of {path}")
    return image


def setup_5(width, height):
    """The scene set to run only a compositor node group (returned) on the CPU."""
    scene = bpy.context.scene
    tree = bpy.data.node_groups.new("keying", "CompositorNodeTree")
    scene.compositing_node_group = tree
    render = scene.render
    render.resolution_x, render.resolution_y = width, height
    render.resolution_percentage = 100
    render.use_compositing = True
    render.use_sequencer = False
    render.compositor_device = "CPU"
    render.dither_intensity = 0.0
    render.use_file_extension = False
    settings = render.image_settings
    settings.file_format = "OPEN_EXR"
    settings.color_mode = "RGBA"
    settings.color_depth = "32"
    settings.exr_codec = "NONE"
    scene.view_settings.view_transform = "Standard"
    return scene, tree


def build_5(args):
    if len(args.inputs) != 2:
        raise bd.DriverError("workload keying takes two inputs (plate, background)")
    plate, background = (load_5(os.path.abspath(p)) for p in args.inputs)
    width, height = (int(v) for v in plate.size)
    screen, erode, blur = params(args)
    scene, tree = setup_5(width, height)
    link = tree.links.new
    source = tree.nodes.new("CompositorNodeImage")
    source.image = plate
    key = tree.nodes.new("CompositorNodeKeying")
    ins = key.inputs  # by position: two inputs share the names Blur Size and Balance
    ins[1].default_value = screen  # Key Color
    ins[2].default_value = 0  # pre-blur
    ins[3].default_value = 0.5  # screen balance
    ins[4].default_value, ins[5].default_value = 0.0, 1.0  # black and white levels
    ins[10].default_value = ins[11].default_value = ins[12].default_value = (
        0  # blur, dilate, feather
    )
    ins[14].default_value, ins[15].default_value = 1.0, 0.5  # despill strength, balance
    link(source.outputs["Image"], ins[0])
    straight = tree.nodes.new("CompositorNodePremulKey")
    straight.inputs["Type"].default_value = "To Straight"
    link(key.outputs["Image"], straight.inputs["Image"])
    eroded = tree.nodes.new("CompositorNodeDilateErode")
    eroded.inputs["Type"].default_value = "Steps"
    eroded.inputs["Size"].default_value = -erode
    link(key.outputs["Matte"], eroded.inputs["Mask"])
    soft = tree.nodes.new("CompositorNodeBlur")
    soft.inputs["Type"].default_value = "Gaussian"
    soft.inputs["Size"].default_value = (blur, blur)
    link(eroded.outputs["Mask"], soft.inputs["Image"])
    alpha = tree.nodes.new("CompositorNodeSetAlpha")
    alpha.inputs["Type"].default_value = "Replace Alpha"
    link(straight.outputs["Image"], alpha.inputs["Image"])
    link(soft.outputs["Image"], alpha.inputs["Alpha"])
    back = tree.nodes.new("CompositorNodeImage")
    back.image = background
    over = tree.nodes.new("CompositorNodeAlphaOver")
    over.inputs["Straight Alpha"].default_value = True
    link(back.outputs["Image"], over.inputs["Background"])
    link(alpha.outputs["Image"], over.inputs["Foreground"])
    tree.interface.new_socket(name="Image", in_out="OUTPUT", socket_type="NodeSocketColor")
    output = tree.nodes.new("NodeGroupOutput")
    link(over.outputs["Image"], output.inputs[0])
    return scene, [plate, background], "FULL_FRAME"


def main():
    args = bd.parse_args(sys.argv)
    if args.workload != "keying":
        raise bd.DriverError(f"unknown workload {args.workload!r} (known: keying)")
    output = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    scene, images, mode = (build_5 if FIVE else build_34)(args)
    times = bd.render_stills(scene, images, output, args.repeat)
    result = {
        "blender": bpy.app.version_string.split()[0],
        "workload": args.workload,
        "times": times,
        "execution_mode": mode,
        "peak_rss_bytes": bd.peak_rss_bytes(),
        "note": NOTE + " " + bd.COMMON_NOTE,
    }
    with open(args.json, "w") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    bd.run_as_script(main, "keying_blender")
