"""OCIOColorSpace: converts between two colour spaces of the script's OCIO config."""

from __future__ import annotations

from mattebox.nodes.spec import Kind, NodeSpec, String, register


@register
class OCIOColorSpace(NodeSpec):
    """Converts RGB from ``in_colorspace`` to ``out_colorspace`` (names or roles of the
    script's OCIO config). Colour is unpremultiplied around the conversion; alpha is kept."""

    type_name = "OCIOColorSpace"
    family = "ocio"
    kind = Kind.COLOR_PROCESSOR
    params = (
        String("in_colorspace", "scene_linear", "Colour space (or role) of the input."),
        String("out_colorspace", "scene_linear", "Colour space (or role) to convert to."),
    )

    @classmethod
    def ocio_request(cls, values, ctx):
        return {"op": "colorspace", "src": values["in_colorspace"], "dst": values["out_colorspace"]}

    @classmethod
    def pass_through(cls, values):
        return "Source" if values["in_colorspace"] == values["out_colorspace"] else None
