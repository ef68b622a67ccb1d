"""MergeLayers: Merge on a layer other than the main one (Nuke's "also merge")."""

from __future__ import annotations

from mattebox.nodes.kernel import kernel
from mattebox.nodes.merge.merge import BBOXES, OPERATIONS, merge_channel, merge_window
from mattebox.nodes.spec import EMPTY, Enum, Float, ImageInfo, Kind, NodeSpec, register


@kernel
def merge_layers_mix(op, mix, br, bg, bb, ba, ar, ag, ab, aa, a, b):
    """Each component merged by operation ``op`` with the alphas ``a`` (A's) and ``b``
    (B's), then blended with B by ``mix``."""
    r = merge_channel(op, ar, br, a, b)
    g = merge_channel(op, ag, bg, a, b)
    bl = merge_channel(op, ab, bb, a, b)
    al = merge_channel(op, aa, ba, a, b)
    return br + (r - br) * mix, bg + (g - bg) * mix, bb + (bl - bb) * mix, ba + (al - ba) * mix


@kernel
def merge_layers_point(br, bg, bb, ba, ar, ag, ab, aa, r0, g0, b0, a0, r1, g1, b1, a1, p):
    """p: operation index (into OPERATIONS) mix. Inputs: B, A, then the main planes of B
    and A, of which only the alphas (``a0``, ``a1``) are used."""
    return merge_layers_mix(p[0], p[1], br, bg, bb, ba, ar, ag, ab, aa, a1, a0)


@register
class MergeLayers(NodeSpec):
    """Merge of a layer other than the main one, as Nuke's Merge "also merge" does it.

    Each component of A's and B's planes combines by Merge's formula for ``operation``
    (see Merge), with the alphas ``a`` and ``b`` taken from component 3 (alpha) of the
    main planes AAlpha and BAlpha, then blends with B by ``mix``. Outside an input's data
    window it reads 0. The output's data window follows ``bbox`` from B's and A's; the
    alpha inputs do not change it.
    """

    type_name = "MergeLayers"
    family = "channel"
    kind = Kind.POINT
    wgsl_uses = ("Merge",)
    internal = True
    inputs = ("B", "A", "BAlpha", "AAlpha")
    params = (
        Enum("operation", OPERATIONS, "over", "How A combines with B (Nuke's Merge operations)."),
        Float("mix", 1.0, "Blend between B (0) and the merged result (1).", min=0, max=1),
        Enum("bbox", BBOXES, "union", "The output's data window from B's and A's."),
    )
    # One kernel with the operation read per pixel, not one specialised kernel per
    # operation as Merge has: other layers are merged far less often than the main one,
    # and fifteen kernels cost a minute of compiling on a cold cache.
    cpu_point = merge_layers_point

    @classmethod
    def pack(cls, values, ctx):
        return [float(OPERATIONS.index(values["operation"])), values["mix"]]

    @classmethod
    def data_window(cls, values, inputs, ctx):
        b, a = inputs[0], inputs[1]
        present = [i for i in (b, a) if i is not None]
        if not present:
            return ImageInfo(ctx.script_format, EMPTY)
        window = merge_window(
            values["bbox"],
            b.data_window if b is not None else None,
            a.data_window if a is not None else None,
        )
        return ImageInfo(present[0].format, window)

    @classmethod
    def pass_through(cls, values):
        return "B" if values["mix"] == 0.0 else None
