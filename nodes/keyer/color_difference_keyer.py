"""ColorDifferenceKeyer: a matte from a screen channel's excess over the other two (IBK)."""

from __future__ import annotations

from mattebox.nodes.kernel import ONE, ZERO, kernel
from mattebox.nodes.keyer.keyer import LUMA_B, LUMA_G, LUMA_R
from mattebox.nodes.spec import RGBA, Bool, Enum, Float, Kind, NodeSpec, register

#: The screen channel, by name; never reorder (scripts store the names). Packed as the
#: component index: 1 green, 2 blue.
SCREENS = ("green", "blue")
SCREEN_COMPONENTS = {"green": 1, "blue": 2}


@kernel
def color_difference_keyer_difference(r, g, b, channel, red_weight, blue_weight):
    """The screen channel less the weighted other two: ``G - (wr R + wb B)`` for a green
    screen (``channel`` 1), ``B - (wr R + wb G)`` for a blue one."""
    if channel == ONE:
        return g - (red_weight * r + blue_weight * b)
    return b - (red_weight * r + blue_weight * g)


@kernel
def color_difference_keyer_point(r, g, b, a, cr, cg, cb, ca, p):
    """p: screen component (1 G, 2 B), red weight, blue weight, luminance match, despill,
    use clean plate, screen colour R G B."""
    if p[5] < 0.5:
        cr = p[6]
        cg = p[7]
        cb = p[8]
    pixel = color_difference_keyer_difference(r, g, b, p[0], p[1], p[2])
    screen = color_difference_keyer_difference(cr, cg, cb, p[0], p[1], p[2])
    key = ONE - pixel / screen if screen > ZERO else ONE
    luma = LUMA_R * r + LUMA_G * g + LUMA_B * b
    screen_luma = LUMA_R * cr + LUMA_G * cg + LUMA_B * cb
    alpha = min(max(key + p[3] * (luma - screen_luma), ZERO), ONE)
    if p[4] > 0.5:
        if p[0] == ONE:
            g = min(g, p[1] * r + p[2] * b)
        else:
            b = min(b, p[1] * r + p[2] * g)
    return r * alpha, g * alpha, b * alpha, alpha


@register
class ColorDifferenceKeyer(NodeSpec):
    """Keys a green or blue screen by how far the screen channel exceeds the other two,
    against the same measure of the screen itself (a colour difference key, in the manner
    of Nuke's IBKGizmo).

    With S the screen channel (G for ``green``, B for ``blue``), A the red channel and B'
    the other one (B for green screens, G for blue screens), the difference of a colour is
    ``d = S - (red_weight * A + blue_weight * B')``. The screen is the ``CleanPlate``
    pixel where ``use_clean_plate`` is ticked, else ``screen_color``; then

    ``alpha = clamp(1 - d(pixel) / d(screen) + luminance_match * (L(pixel) - L(screen)),
    0, 1)``

    with L the Rec. 709 luminance ``0.2126 R + 0.7152 G + 0.0722 B``; where
    ``d(screen) <= 0`` (a clean plate pixel that is not screen, or outside the clean
    plate's data window, where it is black) ``1 - d/d`` is taken as 1: nothing to key
    against. ``luminance_match`` gives back opacity to foreground brighter than the
    screen (and takes it from darker), as the IBK's luminance match does.

    ``despill`` limits the screen channel to the weighted others: ``S' = min(S,
    red_weight * A + blue_weight * B')``. The output is premultiplied: ``(R, G, B) *
    alpha`` (despilled) and the alpha; the source's alpha is replaced, and its data window
    is the output's.

    The kernel cannot see whether an input is connected, so the clean plate is read only
    where ``use_clean_plate`` is ticked (an unconnected one reads as black: everything
    keys to 1). Without it, a ``screen_color`` whose difference is not above 0 (not a
    screen of that channel) is an error naming the node.
    """

    type_name = "ColorDifferenceKeyer"
    family = "keyer"
    kind = Kind.POINT
    inputs = ("Source",)
    optional_inputs = ("CleanPlate",)
    params = (
        Enum("screen", SCREENS, "green", "The screen's channel: green or blue."),
        RGBA(
            "screen_color",
            (0.1, 0.6, 0.15, 1.0),
            "The screen's colour, keyed against where use_clean_plate is off.",
            min=-1e6,
            max=1e6,
            soft_min=0,
            soft_max=1,
        ),
        Bool(
            "use_clean_plate",
            False,
            "Key against the CleanPlate input's pixels (connect it) instead of screen_color.",
        ),
        Float(
            "red_weight",
            0.5,
            "Weight of red in what the screen channel is compared with.",
            min=0,
            max=10,
            soft_min=0,
            soft_max=1,
        ),
        Float(
            "blue_weight",
            0.5,
            "Weight of the third channel (blue for green screens, green for blue screens).",
            min=0,
            max=10,
            soft_min=0,
            soft_max=1,
        ),
        Float(
            "luminance_match",
            0.0,
            "Adds this times (pixel luminance - screen luminance) to the alpha.",
            min=0,
            max=1,
        ),
        Bool("despill", True, "Limit the screen channel to the weighted other two."),
    )
    window_of_main_input = True
    cpu_point = color_difference_keyer_point

    @classmethod
    def pack(cls, values, ctx):
        channel = SCREEN_COMPONENTS[values["screen"]]
        red_weight, blue_weight = float(values["red_weight"]), float(values["blue_weight"])
        r, g, b = (float(c) for c in values["screen_color"][:3])
        if not values["use_clean_plate"]:
            s, other = (g, b) if channel == 1 else (b, g)
            if s - (red_weight * r + blue_weight * other) <= 0.0:
                raise ValueError(
                    f"screen_color: ({r:g}, {g:g}, {b:g}) is not a {values['screen']} screen: "
                    f"its {values['screen']} is not above the weighted other two"
                )
        return [
            float(channel),
            red_weight,
            blue_weight,
            float(values["luminance_match"]),
            float(values["despill"]),
            float(values["use_clean_plate"]),
            r,
            g,
            b,
        ]
