"""Time Blender's compositor on EXR files, for comparison with Mattebox.

This script runs INSIDE Blender 3.4 (it needs ``bpy``); bench/run.py calls it:

    blender -b --factory-startup -t THREADS -P bench/blender_driver.py -- \\
        --workload NAME --inputs IN1.exr [IN2.exr] --output OUT.exr --repeat R \\
        --json RESULT.json [--param KEY=VALUE ...]

It builds a compositing node tree (Image -> ... -> Composite, no Render Layers node, so
Blender runs only the compositor), renders it ``R`` times and writes RESULT.json:

    {"blender": "3.4.1", "workload": NAME, "times": [seconds per repeat],
     "execution_mode": "FULL_FRAME" or "TILED", "peak_rss_bytes": VmHWM of this process,
     "note": "what a reader must know about how the workload maps onto Blender"}

Each time is one ``bpy.ops.render.render(write_still=True)``, disk to disk: the decoded
pixels of the inputs are freed before every repeat, so the time includes reading and
decoding the EXR files, running the compositor and writing OUT.exr (OpenEXR, 32-bit float,
RGBA, no compression; the aov workload: a File Output node's multi-layer EXR, half, zip).
Blender's startup and the tree building are not timed.

Workloads (sizes come from the input files):

    comp      two inputs (plate, background): grade -> ACEScg to ACES -> blur 15 ->
              over the background -> scale to half size
    points10  one input: ten point operations in a row
    blur      one input, --param size=5|15|50: one Gaussian blur
    chain     one input, --param n=1|5|10|20|40: n nodes cycling through
              [ColorBalance, HueSat, Blur 3, Invert, Invert]
    sequence  input is a frame pattern (/path/plate.####.exr), --param frames=1-100,
              output is a pattern too (/path/out.####.exr): grade -> blur 15 -> scale
              half, rendered as an animation; "times" holds one number, the total for
              the whole range, and the JSON also has "frames"
    copy      one input: Image -> Composite only (the read + write floor; also a check
              that Blender converts no colours on the way)
    aov       one multi-layer EXR (RGBA + diffuse, specular, emission, transmission,
              sss, coat, depth.Z, N; bench/aov.py writes it), --param z0=, z1=,
              gain=R,G,B: a mask from depth (Map Range), the specular graded through
              it (MixRGB MULTIPLY), the beauty rebuilt from the six light layers
              (MixRGB ADD) with the input's alpha (Set Alpha), every layer written to
              one multi-layer EXR (half, zip) by a File Output node; OUT.exr is that
              file, moved into place after each render (the move is not timed)

Every workload takes --param mode=TILED or mode=FULL_FRAME (the compositor's execution
mode; default DEFAULT_MODE below).

On any failure it prints one line ``blender_driver: <problem>`` to stderr and exits 1.
"""

import argparse
import json
import os
import re
import sys
import time
import traceback

import bpy

BLENDER_VERSION = "3.4.1"

# The compositor's execution mode unless --param mode=... says otherwise. Measured with
# -t 2 on the 2-core machine (which others were using at the same time), renders of one
# tree alternating between the modes in one process, median seconds per repeat:
#   comp 4K      FULL_FRAME 5.15  TILED 5.12   (even; CPU time 3.56 vs 3.74 s)
#   comp 1080p   FULL_FRAME 0.95  TILED 1.00
#   chain 40     FULL_FRAME 11.1  TILED 12.3   (1080p)
#   blur 15      FULL_FRAME 1.31  TILED 1.36   (1080p)
#   points10     FULL_FRAME 2.52  TILED 2.57   (1080p)
# The modes are even on the 4K comp and FULL_FRAME is never slower elsewhere: it is the
# default.
DEFAULT_MODE = "FULL_FRAME"

# Blender's own name for its scene-linear colour space (Rec. 709 primaries, linear).
# Loading an image with it makes Blender leave the pixels exactly as they are in the file.
LINEAR = "Linear"

# The parts of the note that hold for every workload.
COMMON_NOTE = (
    "Inputs loaded as colour space 'Linear' (Blender's scene linear, so no conversion on "
    "load) with alpha mode PREMUL; output written as scene-linear 32-bit float EXR, no "
    "compression, no view transform. Times are disk to disk: the decoded pixels are "
    "freed before every repeat, so each render reads and decodes the EXR files again."
)

# Blender's Gaussian Blur (filter_type GAUSS) with size s px uses weights
# exp(-x^2 / (2 sigma^2)) with sigma = s/3, cut at ceil(s) px and normalised (RE_filter_value
# in Blender's source: gaussfac 1.6, x scaled by 3 * 1.6): the same kernel as Mattebox's
# Blur of size s. Checked: the response to one white pixel equals that separable kernel to
# 1e-9. At the image edges Blender leaves out the taps that fall outside the image and
# renormalises the rest; Mattebox treats outside as black.
BLUR_NOTE = (
    "Blur: Blender's Blur node, GAUSS, size s px = Gaussian with sigma = s/3 cut at "
    "ceil(s) px, weights normalised (same kernel as Mattebox's Blur size s; measured "
    "with a single white pixel); at the image edges Blender renormalises over the taps "
    "inside the image where Mattebox treats outside as black, so the outer s px differ."
)

SATURATION_NOTE = (
    "Saturation k = HueSat with saturation k: Blender scales the HSV saturation, which is "
    "out = max(r,g,b) + k * (in - max(r,g,b)) per channel with results below 0 set to 0 "
    "(measured), i.e. Mattebox's Saturation with luminance_math 'maximum', not its "
    "default Rec.709 luma."
)

SCALE_NOTE = (
    "Scale: Blender's Scale node (space RENDER_SIZE, scene resolution = half the input) "
    "has no filter choice: it samples the input bilinearly (USE_FORCE_BILINEAR in "
    "Blender's source) with no prefilter, and at exactly half size the sample points "
    "fall on input pixels, so output (x, y) = input (2x, 2y) (measured): a decimation "
    "that keeps every other pixel, not a filtered downscale."
)

GRADE_NOTE = (
    "Grade(gain g, gamma G) = ColorBalance OFFSET_POWER_SLOPE with slope g, power 1/G, "
    "offset 0: out = max(g*in, 0)^(1/G) (Blender clamps negatives to 0 before the power; "
    "Mattebox's Grade leaves them out of the gamma and its default black_clamp then sets "
    "them to 0, so the two agree)."
)


def join_notes(*parts):
    """The parts of a JSON note, one after the other."""
    return " ".join(parts)


class DriverError(Exception):
    """A problem to report as one line on stderr."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line raises DriverError instead of exiting."""

    def error(self, message):
        raise DriverError(message)


# ---------------------------------------------------------------------------------------
# Command line


def parse_args(argv):
    """The arguments after Blender's ``--``."""
    parser = ArgumentParser(prog="blender_driver.py")
    parser.add_argument("--workload", required=True)
    parser.add_argument("--inputs", nargs="+", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", required=True)
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    else:
        argv = []
    args = parser.parse_args(argv)
    if args.repeat < 1:
        raise DriverError("--repeat must be at least 1")
    params = {}
    for item in args.param:
        if "=" not in item:
            raise DriverError(f"--param wants KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        params[key.strip()] = value.strip()
    args.params = params
    return args


def int_param(params, key, default=None):
    """An integer --param, or ``default`` when it is not given."""
    if key not in params:
        if default is None:
            raise DriverError(f"this workload needs --param {key}=...")
        return default
    try:
        return int(params[key])
    except ValueError:
        raise DriverError(f"--param {key} must be a whole number, got {params[key]!r}")


def frame_range(text):
    """``"1-100"`` -> (1, 100); ``"7"`` -> (7, 7)."""
    match = re.fullmatch(r"\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?", text)
    if not match:
        raise DriverError(f"--param frames must look like 1-100, got {text!r}")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    if last < first:
        raise DriverError(f"--param frames: the range {text!r} is empty")
    return first, last


# ---------------------------------------------------------------------------------------
# Scene and images


def setup_scene(width, height, mode):
    """The scene, set up to run only the compositor at ``width`` x ``height``.

    Returns (scene, node tree) with an empty node tree.
    """
    scene = bpy.context.scene
    scene.use_nodes = True
    tree = scene.node_tree
    tree.nodes.clear()
    tree.execution_mode = mode

    render = scene.render
    render.resolution_x = width
    render.resolution_y = height
    render.resolution_percentage = 100
    render.pixel_aspect_x = 1.0
    render.pixel_aspect_y = 1.0
    render.use_border = False
    render.use_compositing = True
    render.use_sequencer = False
    render.dither_intensity = 0.0
    render.use_file_extension = False
    render.use_overwrite = True
    render.use_placeholder = False

    settings = render.image_settings
    settings.file_format = "OPEN_EXR"
    settings.color_mode = "RGBA"
    settings.color_depth = "32"
    settings.exr_codec = "NONE"
    settings.use_zbuffer = False
    settings.use_preview = False
    settings.color_management = "FOLLOW_SCENE"

    # Matters only for byte images and the UI; EXR output is written scene linear.
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    scene.view_settings.exposure = 0.0
    scene.view_settings.gamma = 1.0
    return scene, tree


def load_image(path, need_size=True):
    """A Blender image for an EXR file, pixels kept exactly as they are in the file.

    ``need_size`` decodes it once (not timed) and checks it has pixels; a multi-layer
    EXR has no size until a render reads it, so its builder passes False."""
    if not os.path.isfile(path):
        raise DriverError(f"no such input file: {path}")
    try:
        image = bpy.data.images.load(path, check_existing=False)
    except RuntimeError as error:
        raise DriverError(f"cannot load {path}: {str(error).strip()}")
    image.colorspace_settings.name = LINEAR
    image.alpha_mode = "PREMUL"
    if not need_size:
        return image
    width, height = image.size  # decodes the file once (not timed)
    if width == 0 or height == 0:
        raise DriverError(f"Blender could not read the pixels of {path}")
    return image


def image_size(image):
    width, height = image.size
    return int(width), int(height)


def peak_rss_bytes():
    """VmHWM (peak resident set size) of this process, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


# ---------------------------------------------------------------------------------------
# Nodes. Each add_* function makes one node fed by ``upstream`` (an output socket) and
# returns the node's image output.


def add_image(tree, image):
    node = tree.nodes.new("CompositorNodeImage")
    node.image = image
    return node


def add_composite(tree, upstream):
    node = tree.nodes.new("CompositorNodeComposite")
    node.use_alpha = True
    tree.links.new(upstream, node.inputs["Image"])
    return node


def add_color_balance(
    tree, upstream, slope=(1.0, 1.0, 1.0), offset=(0.0, 0.0, 0.0), power=(1.0, 1.0, 1.0)
):
    """ColorBalance in ASC CDL mode: out = max(in * slope + offset, 0) ** power."""
    node = tree.nodes.new("CompositorNodeColorBalance")
    node.correction_method = "OFFSET_POWER_SLOPE"
    node.slope = slope
    node.offset = offset
    node.offset_basis = 0.0
    node.power = power
    node.inputs["Fac"].default_value = 1.0
    tree.links.new(upstream, node.inputs["Image"])
    return node.outputs["Image"]


def add_grade(tree, upstream, gain, gamma=1.0):
    """Mattebox's Grade(gain, gamma): (gain * in) ** (1 / gamma) for positive values."""
    if isinstance(gain, (int, float)):
        gain = (gain, gain, gain)
    inverse = 1.0 / gamma
    return add_color_balance(tree, upstream, slope=gain, power=(inverse, inverse, inverse))


def add_hue_sat(tree, upstream, saturation):
    """HueSat: Blender scales the HSV saturation (hue and value left alone)."""
    node = tree.nodes.new("CompositorNodeHueSat")
    node.inputs["Hue"].default_value = 0.5  # 0.5 = no hue shift
    node.inputs["Saturation"].default_value = saturation
    node.inputs["Value"].default_value = 1.0
    node.inputs["Fac"].default_value = 1.0
    tree.links.new(upstream, node.inputs["Image"])
    return node.outputs["Image"]


def add_blur(tree, upstream, size):
    """Gaussian blur of ``size`` px on both axes (sigma = size / 3, see BLUR_NOTE)."""
    node = tree.nodes.new("CompositorNodeBlur")
    node.filter_type = "GAUSS"
    node.use_relative = False
    node.use_variable_size = False
    node.use_extended_bounds = False
    node.use_bokeh = False
    node.use_gamma_correction = False
    node.size_x = size
    node.size_y = size
    node.inputs["Size"].default_value = 1.0
    tree.links.new(upstream, node.inputs["Image"])
    return node.outputs["Image"]


def add_invert(tree, upstream):
    """Invert RGB (1 - value, on the premultiplied values); alpha passes through."""
    node = tree.nodes.new("CompositorNodeInvert")
    node.invert_rgb = True
    node.invert_alpha = False
    node.inputs["Fac"].default_value = 1.0
    tree.links.new(upstream, node.inputs["Color"])
    return node.outputs["Color"]


def add_convert_colorspace(tree, upstream, source, target):
    node = tree.nodes.new("CompositorNodeConvertColorSpace")
    node.from_color_space = source
    node.to_color_space = target
    tree.links.new(upstream, node.inputs["Image"])
    return node.outputs["Image"]


def add_mix(tree, upstream, blend_type, color, clamp=False, fac=1.0):
    """MixRGB with ``upstream`` as the first image and a constant colour as the second."""
    node = tree.nodes.new("CompositorNodeMixRGB")
    node.blend_type = blend_type
    node.use_alpha = False
    node.use_clamp = clamp
    node.inputs["Fac"].default_value = fac
    node.inputs[2].default_value = color
    tree.links.new(upstream, node.inputs[1])
    return node.outputs["Image"]


def add_alpha_over(tree, background, foreground):
    """Foreground over background, both premultiplied: fg + bg * (1 - fg.alpha)."""
    node = tree.nodes.new("CompositorNodeAlphaOver")
    node.use_premultiply = False  # False: the foreground is already premultiplied
    node.premul = 0.0
    node.inputs["Fac"].default_value = 1.0
    tree.links.new(background, node.inputs[1])
    tree.links.new(foreground, node.inputs[2])
    return node.outputs["Image"]


def add_scale_to_render_size(tree, upstream):
    """Resample to the scene resolution (unfiltered, see SCALE_NOTE)."""
    node = tree.nodes.new("CompositorNodeScale")
    node.space = "RENDER_SIZE"
    node.frame_method = "STRETCH"
    tree.links.new(upstream, node.inputs["Image"])
    return node.outputs["Image"]


# ---------------------------------------------------------------------------------------
# Workloads. Each build_* function loads its inputs, sets up the scene and the tree, and
# returns (scene, images, note).


def load_inputs(args, count):
    if len(args.inputs) != count:
        raise DriverError(
            f"workload {args.workload} takes {count} input(s), got {len(args.inputs)}"
        )
    return [load_image(os.path.abspath(path)) for path in args.inputs]


def build_copy(args, mode):
    (image,) = load_inputs(args, 1)
    scene, tree = setup_scene(*image_size(image), mode)
    add_composite(tree, add_image(tree, image).outputs["Image"])
    return scene, [image], "Image -> Composite only."


def build_comp(args, mode):
    plate, background = load_inputs(args, 2)
    width, height = image_size(plate)
    if image_size(background) != (width, height):
        raise DriverError("comp wants plate and background of the same size")
    scene, tree = setup_scene(width // 2, height // 2, mode)

    graded = add_grade(tree, add_image(tree, plate).outputs["Image"], (1.15, 1.0, 0.85), 1.1)
    converted = add_convert_colorspace(tree, graded, "Linear ACEScg", "Linear ACES")
    blurred = add_blur(tree, converted, 15)
    merged = add_alpha_over(tree, add_image(tree, background).outputs["Image"], blurred)
    add_composite(tree, add_scale_to_render_size(tree, merged))

    note = join_notes(
        (
            "comp: ColorBalance -> ConvertColorSpace('Linear ACEScg' -> 'Linear ACES', "
            "Blender's OCIO config) -> Blur GAUSS 15 -> AlphaOver (blurred plate over "
            "background, premultiplied) -> Scale RENDER_SIZE to half size."
        ),
        GRADE_NOTE,
        BLUR_NOTE,
        SCALE_NOTE,
    )
    return scene, [plate, background], note


def build_points10(args, mode):
    (image,) = load_inputs(args, 1)
    scene, tree = setup_scene(*image_size(image), mode)

    out = add_image(tree, image).outputs["Image"]
    # 1 Grade, 2 Saturation, 3 Clamp 0..4 (its upper bound), 4 CDL, 5 ColorMatrix,
    # 6 and 7 Invert, 8 Grade, 9 Saturation, 10 Clamp 0..1:
    out = add_grade(tree, out, 1.1, 1.2)
    out = add_hue_sat(tree, out, 0.8)
    out = add_mix(tree, out, "DARKEN", (4.0, 4.0, 4.0, 1.0))
    out = add_color_balance(tree, out, slope=(1.05,) * 3, offset=(0.01,) * 3, power=(0.95,) * 3)
    out = add_convert_colorspace(tree, out, "Linear", "Linear ACEScg")
    out = add_invert(tree, out)
    out = add_invert(tree, out)
    out = add_grade(tree, out, 0.9)
    out = add_hue_sat(tree, out, 1.1)
    out = add_mix(tree, out, "MIX", (0.0, 0.0, 0.0, 1.0), clamp=True, fac=0.0)
    add_composite(tree, out)

    note = join_notes(
        (
            "points10, 10 nodes: 1 Grade(gain 1.1, gamma 1.2) = ColorBalance CDL slope 1.1 "
            "power 1/1.2; 2 Saturation 0.8 = HueSat saturation 0.8; 3 Clamp 0..4 = MixRGB "
            "DARKEN with (4,4,4), i.e. min(rgb, 4) (Blender has no colour clamp to an arbitrary "
            "range; the lower bound 0 already holds here because ColorBalance sets negatives to "
            "0 and HSV desaturation keeps values >= 0; alpha is not clamped); 4 CDL = "
            "ColorBalance CDL slope 1.05 offset 0.01 power 0.95 (no CDL saturation); "
            "5 ColorMatrix = ConvertColorSpace 'Linear' -> 'Linear ACEScg' (a 3x3 matrix, "
            "Rec.709 to AP1 primaries, applied by OCIO; Blender has no matrix node); 6, 7 Invert "
            "RGB (1 - value, premultiplied values as they are, like Mattebox); 8 Grade(gain 0.9) "
            "= ColorBalance slope 0.9; 9 Saturation 1.1 = HueSat 1.1; 10 Clamp 0..1 = MixRGB "
            "MIX factor 0 with use_clamp (clamps RGBA to 0..1)."
        ),
        SATURATION_NOTE,
        GRADE_NOTE,
    )
    return scene, [image], note


def build_blur(args, mode):
    (image,) = load_inputs(args, 1)
    size = int_param(args.params, "size", 15)
    if size < 0:
        raise DriverError("--param size must be >= 0")
    scene, tree = setup_scene(*image_size(image), mode)
    add_composite(tree, add_blur(tree, add_image(tree, image).outputs["Image"], size))
    return scene, [image], join_notes(f"blur: Blur GAUSS size {size} px.", BLUR_NOTE)


def build_chain(args, mode):
    (image,) = load_inputs(args, 1)
    count = int_param(args.params, "n", 10)
    if count < 1:
        raise DriverError("--param n must be at least 1")
    scene, tree = setup_scene(*image_size(image), mode)

    out = add_image(tree, image).outputs["Image"]
    for index in range(count):
        step = index % 5
        if step == 0:
            out = add_color_balance(tree, out, slope=(1.01, 1.01, 1.01))
        elif step == 1:
            out = add_hue_sat(tree, out, 0.99)
        elif step == 2:
            out = add_blur(tree, out, 3)
        else:
            out = add_invert(tree, out)
    add_composite(tree, out)

    note = join_notes(
        (
            f"chain of {count} nodes cycling through [ColorBalance CDL slope 1.01, "
            "HueSat saturation 0.99, Blur GAUSS 3 px, Invert RGB, Invert RGB]."
        ),
        SATURATION_NOTE,
        BLUR_NOTE,
    )
    return scene, [image], note


def sequence_path(pattern, frame):
    """``/p/plate.####.exr`` with its run of #s replaced by ``frame``, zero-padded."""
    match = re.search(r"#+", os.path.basename(pattern))
    if not match:
        raise DriverError(f"a sequence path needs a run of # for the frame number: {pattern}")
    digits = len(match.group(0))
    folder = os.path.dirname(pattern)
    name = os.path.basename(pattern)
    name = name[: match.start()] + str(frame).zfill(digits) + name[match.end() :]
    return os.path.join(folder, name)


def build_sequence(args, mode):
    if len(args.inputs) != 1:
        raise DriverError("workload sequence takes one input pattern")
    first, last = frame_range(args.params.get("frames", "1-100"))
    pattern = os.path.abspath(args.inputs[0])
    for frame in range(first, last + 1):
        if not os.path.isfile(sequence_path(pattern, frame)):
            raise DriverError(f"missing frame {frame}: {sequence_path(pattern, frame)}")
    if "#" not in os.path.basename(args.output):
        raise DriverError("sequence wants an output pattern with #s, e.g. out.####.exr")

    image = load_image(sequence_path(pattern, first))
    width, height = image_size(image)  # read while it is still a single file
    image.source = "SEQUENCE"
    scene, tree = setup_scene(width // 2, height // 2, mode)
    scene.frame_start = first
    scene.frame_end = last
    scene.frame_step = 1
    scene.frame_current = first

    node = add_image(tree, image)
    # Blender reads file number (scene frame - frame_start + 1 + frame_offset), so with
    # frame_start = first and frame_offset = first - 1 scene frame f reads plate.f.exr.
    node.frame_start = first
    node.frame_offset = first - 1
    node.frame_duration = last - first + 1
    node.use_cyclic = False
    node.use_auto_refresh = True

    graded = add_grade(tree, node.outputs["Image"], (1.15, 1.0, 0.85), 1.1)
    blurred = add_blur(tree, graded, 15)
    add_composite(tree, add_scale_to_render_size(tree, blurred))

    note = join_notes(
        (
            f"sequence: frames {first}-{last} of an image-sequence input, ColorBalance -> "
            "Blur GAUSS 15 -> Scale RENDER_SIZE to half, rendered with "
            "render(animation=True); 'times' is the total for all frames."
        ),
        GRADE_NOTE,
        BLUR_NOTE,
        SCALE_NOTE,
    )
    return scene, [image], note


# The light layers of the aov workload, in the order the beauty adds them (bench/aov.py).
AOV_LIGHTS = ("diffuse", "specular", "emission", "transmission", "sss", "coat")

AOV_NOTE = (
    "aov: the input is one Image node on the multi-layer EXR (Blender lists a file's "
    "'layer.X' channels as passes of an unnamed render layer: one output per layer, "
    "'Combined' for R, G, B, A, 'Alpha' for A). mask = Map Range depth z0..z1 -> 0..1 with "
    "clamp; specular' = MixRGB MULTIPLY of the specular pass by the gain colour with the "
    "mask as factor: s * (1 - m + m * gain), the same value as s + (gain * s - s) * m; "
    "beauty = five MixRGB ADD (factor 1) in the order diffuse, specular', emission, "
    "transmission, sss, coat, then Set Alpha (REPLACE_ALPHA) with the input's alpha; the "
    "output is a File Output node in OPEN_EXR_MULTILAYER, 16-bit half, ZIP, one slot per "
    "layer (the beauty's slot unnamed, so its channels are R, G, B, A). Blender writes "
    "every colour input as R, G, B, A (so each 3-channel layer gets a 4th channel A = 1, "
    "and N is written as N.R, N.G, N.B, N.A) and a value input as V (depth.V): 33 channels "
    "where the other tools write 26. Times are render() calls, no Composite node and no "
    "write_still; the File Output node writes the file inside the timed call."
)


def file_output_pattern(output):
    """Where the aov workload's File Output node writes (#### is the frame): beside
    OUT.exr, which the file is moved to after each render."""
    return os.path.join(os.path.dirname(os.path.abspath(output)), "blender-file-output-####.exr")


def exr_size(path):
    """Width and height of an OpenEXR file's data window, from its header (Blender only
    decodes a multi-layer EXR when a render needs it, so ``image.size`` is 0 before)."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    if head[:4] != b"\x76\x2f\x31\x01":
        raise DriverError(f"{path} is not an OpenEXR file")
    at = 8
    while at < len(head) and head[at] != 0:
        name_end = head.index(b"\0", at)
        type_end = head.index(b"\0", name_end + 1)
        size = int.from_bytes(head[type_end + 1 : type_end + 5], "little")
        value = head[type_end + 5 : type_end + 5 + size]
        if head[at:name_end] == b"dataWindow":
            x0, y0, x1, y1 = (
                int.from_bytes(value[i : i + 4], "little", signed=True) for i in range(0, 16, 4)
            )
            return x1 - x0 + 1, y1 - y0 + 1
        at = type_end + 5 + size
    raise DriverError(f"{path}: no dataWindow in the OpenEXR header")


def float_list(params, key, default, count):
    """A comma-separated --param of ``count`` numbers (``default`` when not given)."""
    if key not in params:
        return default
    try:
        values = tuple(float(v) for v in params[key].split(","))
    except ValueError:
        raise DriverError(f"--param {key} wants {count} numbers, got {params[key]!r}")
    if len(values) != count:
        raise DriverError(f"--param {key} wants {count} numbers, got {params[key]!r}")
    return values


def add_map_range(tree, upstream, low, high):
    """clamp((value - low) / (high - low), 0, 1)."""
    node = tree.nodes.new("CompositorNodeMapRange")
    node.use_clamp = True
    node.inputs["From Min"].default_value = low
    node.inputs["From Max"].default_value = high
    node.inputs["To Min"].default_value = 0.0
    node.inputs["To Max"].default_value = 1.0
    tree.links.new(upstream, node.inputs["Value"])
    return node.outputs["Value"]


def add_mix_images(tree, first, second, blend_type, fac=None):
    """MixRGB of two linked images; ``fac`` a socket (or None for a factor of 1)."""
    node = tree.nodes.new("CompositorNodeMixRGB")
    node.blend_type = blend_type
    node.use_alpha = False
    node.use_clamp = False
    node.inputs["Fac"].default_value = 1.0
    if fac is not None:
        tree.links.new(fac, node.inputs["Fac"])
    tree.links.new(first, node.inputs[1])
    if isinstance(second, tuple):
        node.inputs[2].default_value = second
    else:
        tree.links.new(second, node.inputs[2])
    return node.outputs["Image"]


def add_set_alpha(tree, image, alpha):
    """The image's RGB with ``alpha`` as its alpha."""
    node = tree.nodes.new("CompositorNodeSetAlpha")
    node.mode = "REPLACE_ALPHA"
    tree.links.new(image, node.inputs["Image"])
    tree.links.new(alpha, node.inputs["Alpha"])
    return node.outputs["Image"]


def add_multilayer_output(tree, layers, base_path):
    """A File Output node writing ``layers`` (slot name -> socket) to one multi-layer
    EXR, half, ZIP."""
    node = tree.nodes.new("CompositorNodeOutputFile")
    node.format.file_format = "OPEN_EXR_MULTILAYER"
    node.format.color_depth = "16"
    node.format.exr_codec = "ZIP"
    node.base_path = base_path
    node.layer_slots.clear()
    for index, (name, socket) in enumerate(layers.items()):
        node.layer_slots.new(name)
        tree.links.new(socket, node.inputs[index])
    return node


def build_aov(args, mode):
    if len(args.inputs) != 1:
        raise DriverError("workload aov takes one multi-layer input")
    path = os.path.abspath(args.inputs[0])
    image = load_image(path, need_size=False)
    width, height = exr_size(path)
    (z0,), (z1,) = (
        float_list(args.params, "z0", (8.0,), 1),
        float_list(args.params, "z1", (24.0,), 1),
    )
    gain = float_list(args.params, "gain", (1.3, 1.1, 0.9), 3)
    scene, tree = setup_scene(width, height, mode)
    source = add_image(tree, image)
    passes = {socket.name: socket for socket in source.outputs}
    missing = [n for n in ("Combined", "Alpha", "depth", "N", *AOV_LIGHTS) if n not in passes]
    if missing:
        raise DriverError(
            f"Blender sees no pass {', '.join(missing)} in {path} (it lists {', '.join(passes)})"
        )
    mask = add_map_range(tree, passes["depth"], z0, z1)
    graded = add_mix_images(tree, passes["specular"], (*gain, 1.0), "MULTIPLY", fac=mask)
    lights = {name: graded if name == "specular" else passes[name] for name in AOV_LIGHTS}
    beauty = lights[AOV_LIGHTS[0]]
    for name in AOV_LIGHTS[1:]:
        beauty = add_mix_images(tree, beauty, lights[name], "ADD")
    beauty = add_set_alpha(tree, beauty, passes["Alpha"])
    layers = {"": beauty, **lights, "depth": passes["depth"], "N": passes["N"]}
    add_multilayer_output(tree, layers, file_output_pattern(args.output))
    scene.frame_current = 1
    return scene, [image], AOV_NOTE


BUILDERS = {
    "comp": build_comp,
    "points10": build_points10,
    "blur": build_blur,
    "chain": build_chain,
    "sequence": build_sequence,
    "copy": build_copy,
    "aov": build_aov,
}


# ---------------------------------------------------------------------------------------
# Rendering and timing


def free_pixels(images):
    """Drop the decoded pixels of ``images`` so that the next render reads the files again.

    Not ``image.reload()``: for an image used by a compositor Image node, reload() makes
    the node update itself, which decodes the file at once (measured: 0.5 s of a 4K
    reload), so the decoding would happen before the timer starts. buffers_free() only
    frees; the render then reads and decodes the file inside the timed call (checked by
    changing the file on disk between renders).
    """
    for image in images:
        image.buffers_free()


def render_stills(scene, images, output, repeat):
    """Render ``repeat`` times to ``output``; the seconds each render took."""
    scene.render.filepath = output
    times = []
    for _ in range(repeat):
        free_pixels(images)
        if os.path.exists(output):
            os.remove(output)
        start = time.perf_counter()
        result = bpy.ops.render.render(write_still=True)
        times.append(time.perf_counter() - start)
        if "FINISHED" not in result:
            raise DriverError(f"render did not finish: {sorted(result)}")
        if not os.path.isfile(output):
            raise DriverError(f"Blender wrote no output file {output}")
    return times


def render_file_output(scene, images, output, repeat):
    """Render ``repeat`` times with the tree's File Output node writing the result; the
    seconds each render took (the file is then moved to ``output``, untimed)."""
    written = sequence_path(file_output_pattern(output), scene.frame_current)
    times = []
    for _ in range(repeat):
        free_pixels(images)
        for path in (output, written):
            if os.path.exists(path):
                os.remove(path)
        start = time.perf_counter()
        result = bpy.ops.render.render()
        times.append(time.perf_counter() - start)
        if "FINISHED" not in result:
            raise DriverError(f"render did not finish: {sorted(result)}")
        if not os.path.isfile(written):
            raise DriverError(f"Blender's File Output node wrote no file {written}")
        os.replace(written, output)
    return times


def render_animation(scene, images, output_pattern):
    """Render the scene's frame range as an animation; (total seconds, frame count)."""
    scene.render.filepath = output_pattern
    free_pixels(images)
    start = time.perf_counter()
    result = bpy.ops.render.render(animation=True)
    seconds = time.perf_counter() - start
    if "FINISHED" not in result:
        raise DriverError(f"render did not finish: {sorted(result)}")
    for frame in range(scene.frame_start, scene.frame_end + 1):
        path = sequence_path(output_pattern, frame)
        if not os.path.isfile(path):
            raise DriverError(f"Blender wrote no output file {path}")
    return seconds, scene.frame_end - scene.frame_start + 1


def main():
    args = parse_args(sys.argv)
    if args.workload not in BUILDERS:
        raise DriverError(
            f"unknown workload {args.workload!r} (known: {', '.join(sorted(BUILDERS))})"
        )
    mode = args.params.get("mode", DEFAULT_MODE).upper()
    if mode not in ("FULL_FRAME", "TILED"):
        raise DriverError(f"--param mode must be FULL_FRAME or TILED, got {mode!r}")
    if bpy.app.version_string.split()[0] != BLENDER_VERSION:
        print(
            f"blender_driver (warning): written for Blender {BLENDER_VERSION}, "
            f"running {bpy.app.version_string}",
            file=sys.stderr,
        )

    output = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(output), exist_ok=True)

    scene, images, note = BUILDERS[args.workload](args, mode)
    result = {
        "blender": bpy.app.version_string.split()[0],
        "workload": args.workload,
        "times": [],
        "execution_mode": scene.node_tree.execution_mode,
    }
    if args.workload == "sequence":
        seconds, frames = render_animation(scene, images, output)
        result["times"] = [seconds]
        result["frames"] = frames
    elif args.workload == "aov":
        result["times"] = render_file_output(scene, images, output, args.repeat)
    else:
        result["times"] = render_stills(scene, images, output, args.repeat)
    result["peak_rss_bytes"] = peak_rss_bytes()
    result["note"] = note + " " + COMMON_NOTE

    with open(args.json, "w") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")


def run_as_script(main, name: str) -> None:
    """Run a driver's ``main`` as Blender's script: exit status 0 on success and 1 on any
    failure with one line naming the driver (``--help`` exits with its own status), and
    ``os._exit`` so Blender's own shutdown adds nothing and waits for nothing."""
    try:
        main()
    except DriverError as error:
        print(f"{name}: {error}", file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)
    except SystemExit as error:  # --help
        sys.stdout.flush()
        os._exit(error.code if isinstance(error.code, int) else 1)
    except BaseException as error:  # noqa: BLE001 - any failure must give exit status 1
        where = traceback.extract_tb(error.__traceback__)[-1]
        message = str(error).strip().replace("\n", " ")
        print(
            f"{name}: {type(error).__name__}: {message} (line {where.lineno}, in {where.name})",
            file=sys.stderr,
        )
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    run_as_script(main, "blender_driver")
