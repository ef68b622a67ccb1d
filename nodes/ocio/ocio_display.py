"""OCIODisplay: applies a display/view transform of the script's OCIO config."""

from __future__ import annotations

from mattebox.nodes.spec import Bool, Kind, NodeSpec, String, register


@register
class OCIODisplay(NodeSpec):
    """Converts from ``in_colorspace`` to ``display`` through ``view`` (and ``look``), as the
    viewer does; ``inverse`` goes from display back to the colour space."""

    type_name = "OCIODisplay"
    family = "ocio"
    kind = Kind.COLOR_PROCESSOR
    params = (
        String("in_colorspace", "scene_linear", "Colour space (or role) of the input."),
        String("display", "sRGB - Display", "Display device of the config."),
        String("view", "ACES 2.0 - SDR 100 nits (Rec.709)", "View of that display."),
        String("look", "", "Optional look applied before the view (empty: none)."),
        Bool("inverse", False, "Apply the inverse transform (display to scene)."),
    )

    @classmethod
    def ocio_request(cls, values, ctx):
        return {
            "op": "display",
            "src": values["in_colorspace"],
            "display": values["display"],
            "view": values["view"],
            "look": values["look"] or None,
            "inverse": values["inverse"],
        }
