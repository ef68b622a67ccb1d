"""MaskMix: blend a processed plane back over the original, by mix, mask and components."""

from __future__ import annotations

from mattebox.nodes.channel.shuffle_plane import component
from mattebox.nodes.kernel import ONE, kernel
from mattebox.nodes.spec import RGBA, Bool, Float, Int, Kind, NodeSpec, register


@kernel
def mask_mix_amount(mr, mg, mb, ma, mix, mask_component, invert, use_mask):
    """How much of the processed value a pixel takes (before the component selection)."""
    v = component(mr, mg, mb, ma, mask_component)
    v = ONE - v if invert > 0.5 else v
    return mix * v if use_mask > 0.5 else mix


@kernel
def mask_mix_point(r0, g0, b0, a0, r1, g1, b1, a1, mr, mg, mb, ma, p):
    """p: select(4) mix mask_component invert_mask use_mask."""
    m = mask_mix_amount(mr, mg, mb, ma, p[4], p[5], p[6], p[7])
    return (
        r0 + (r1 - r0) * m * p[0],
        g0 + (g1 - g0) * m * p[1],
        b0 + (b1 - b0) * m * p[2],
        a0 + (a1 - a0) * m * p[3],
    )


@register
class MaskMix(NodeSpec):
    """Blends Processed over Original by ``mix``, a mask and a choice of components.

    Made by the engine around a node that works on some channels only, or with a mask:
    per component ``out = Original + (Processed - Original) * m * select``, with
    ``m = mix``, times the mask's ``mask_component`` (``1 - it`` with ``invert_mask``)
    where ``use_mask`` is on. The mask is not clamped; outside its data window (or
    without a Mask) it reads 0. The output's data window is the union of Original's and
    Processed's: the mask's does not widen it.
    """

    type_name = "MaskMix"
    family = "channel"
    kind = Kind.POINT
    internal = True
    inputs = ("Original", "Processed")
    optional_inputs = ("Mask",)
    params = (
        RGBA(
            "select",
            1.0,
            "Per component: 1 takes the processed value, 0 keeps the original.",
            min=0,
            max=1,
        ),
        Float("mix", 1.0, "Blend between Original (0) and Processed (1).", min=0, max=1),
        Int("mask_component", 3, "Which component (0 to 3) of the Mask is the mask.", min=0, max=3),
        Bool("invert_mask", False, "Use 1 - mask instead of the mask."),
        Bool("use_mask", False, "Scale the blend by the Mask input's component."),
    )
    cpu_point = mask_mix_point

    @classmethod
    def pack(cls, values, ctx):
        return [
            *values["select"],
            values["mix"],
            float(values["mask_component"]),
            float(values["invert_mask"]),
            float(values["use_mask"]),
        ]

    @classmethod
    def image_inputs(cls):
        """All three, Mask included: this kernel is the one that reads the mask."""
        return cls.inputs + cls.optional_inputs

    @classmethod
    def data_window(cls, values, inputs, ctx):
        return super().data_window(values, inputs[:2], ctx)

    @classmethod
    def pass_through(cls, values):
        unchanged = values["mix"] == 0.0 or not any(values["select"])
        return "Original" if unchanged else None
