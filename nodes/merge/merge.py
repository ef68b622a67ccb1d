"""Merge: composite A onto B with one of the standard operations (Nuke's Merge)."""

from __future__ import annotations

from mattebox.nodes.channels import MAIN, layer_names
from mattebox.nodes.kernel import ONE, kernel
from mattebox.nodes.spec import (
    EMPTY,
    RGBA_LAYERS,
    Channels,
    Enum,
    Float,
    ImageInfo,
    Kind,
    NodeSpec,
    Window,
    get,
    register,
)

# Index = the value packed for the kernels; never reorder (scripts store the names).
OPERATIONS = (
    "over",
    "under",
    "plus",
    "minus",
    "multiply",
    "screen",
    "max",
    "min",
    "difference",
    "in",
    "out",
    "atop",
    "xor",
    "mask",
    "stencil",
)


#: Merge's output data window (Nuke's "set bbox to"); never reorder.
BBOXES = ("union", "intersection", "A", "B")


def merge_window(bbox: str, b: Window | None, a: Window | None) -> Window:
    """The output data window of a merge of B and A (either may be missing) for ``bbox``."""
    b = b if b is not None else EMPTY
    a = a if a is not None else EMPTY
    if bbox == "intersection":
        return b.intersect(a)
    if bbox == "A":
        return a
    if bbox == "B":
        return b
    return b.union(a)


@kernel
def merge_channel(op, fa, fb, a, b):
    """One channel: ``fa``/``fb`` are A's and B's values, ``a``/``b`` their alphas."""
    if op == 0.0:
        return fa + fb * (ONE - a)
    if op == 1.0:
        return fa * (ONE - b) + fb
    if op == 2.0:
        return fa + fb
    if op == 3.0:
        return fa - fb
    if op == 4.0:
        return fa * fb
    if op == 5.0:
        return fa + fb - fa * fb
    if op == 6.0:
        return max(fa, fb)
    if op == 7.0:
        return min(fa, fb)
    if op == 8.0:
        return abs(fa - fb)
    if op == 9.0:
        return fa * b
    if op == 10.0:
        return fa * (ONE - b)
    if op == 11.0:
        return fa * b + fb * (ONE - a)
    if op == 12.0:
        return fa * (ONE - b) + fb * (ONE - a)
    if op == 13.0:
        return fb * a
    return fb * (ONE - a)


@kernel
def merge_point(br, bg, bb, ba, ar, ag, ab, aa, p):
    """p: operation index (into OPERATIONS) mix."""
    op = p[0]
    mix = p[1]
    r = merge_channel(op, ar, br, aa, ba)
    g = merge_channel(op, ag, bg, aa, ba)
    b = merge_channel(op, ab, bb, aa, ba)
    a = merge_channel(op, aa, ba, aa, ba)
    return br + (r - br) * mix, bg + (g - bg) * mix, bb + (b - bb) * mix, ba + (a - ba) * mix


def _specialised_point(op_index: int, name: str):
    """``merge_point`` with the operation fixed at compile time (the closure's constant),
    so the CPU kernel has no per-pixel switch: three times faster for a plain over."""
    op = float(op_index)

    def point(br, bg, bb, ba, ar, ag, ab, aa, p):
        mix = p[1]
        r = merge_channel(op, ar, br, aa, ba)
        g = merge_channel(op, ag, bg, aa, ba)
        b = merge_channel(op, ab, bb, aa, ba)
        a = merge_channel(op, aa, ba, aa, ba)
        return br + (r - br) * mix, bg + (g - bg) * mix, bb + (b - bb) * mix, ba + (a - ba) * mix

    point.__name__ = point.__qualname__ = f"merge_point_{name}"
    return kernel(point)


for _index, _name in enumerate(OPERATIONS):
    globals()[f"merge_point_{_name}"] = _specialised_point(_index, _name)


@register
class Merge(NodeSpec):
    """Combines A with B, premultiplied, by one of Nuke's Merge operations.

    With A, B the inputs' values and a, b their alphas: over ``A + B(1-a)``, under
    ``A(1-b) + B``, plus ``A + B``, minus ``A - B``, multiply ``AB``, screen
    ``A + B - AB``, max, min, difference ``|A - B|``, in ``Ab``, out ``A(1-b)``, atop
    ``Ab + B(1-a)``, xor ``A(1-b) + B(1-a)``, mask ``Ba``, stencil ``B(1-a)``. The same
    formula gives the alpha (with A = a, B = b). ``mix`` blends the result with B. Outside
    an input's data window that input is transparent black; the output's data window is
    ``bbox``: the union of both (Nuke's default), their intersection, A's or B's.

    ``channels`` picks what of the main layer is merged (the rest is B's); the layers
    named by ``also_merge`` are merged too, by the same operation with A's and B's main
    alphas (Nuke's "also merge"); B's other layers pass through, and A's layers that B
    lacks are added when ``also_merge`` names them.
    """

    type_name = "Merge"
    family = "merge"
    kind = Kind.POINT
    inputs = ("B", "A")
    params = (
        Enum("operation", OPERATIONS, "over", "How A combines with B (Nuke's Merge operations)."),
        Float("mix", 1.0, "Blend between B (0) and the merged result (1).", min=0, max=1),
        Enum("bbox", BBOXES, "union", "Output data window: union, intersection, A or B."),
        Channels(
            "also_merge",
            "none",
            "Other layers merged the same way: none, all, a layer or a list of layers.",
            layer_set=True,
        ),
    )
    cpu_point = merge_point

    @classmethod
    def data_window(cls, values, inputs, ctx):
        b, a = (inputs + [None, None])[:2]
        present = b or a
        if present is None:
            return ImageInfo(ctx.script_format, EMPTY)
        window = merge_window(
            values["bbox"], b.data_window if b else None, a.data_window if a else None
        )
        return ImageInfo(present.format, window, present.layers)

    @classmethod
    def layers(cls, values, inputs):
        b, a = (inputs + [None, None])[:2]
        out = list(b.layers if b else RGBA_LAYERS)
        if a is not None:
            have = {name for name, _ in out}
            merged = layer_names(values["also_merge"], a.layers) if a else ()
            out += [(n, c) for n, c in a.layers if n in merged and n not in have]
        return tuple(out)

    @classmethod
    def layer_kernel(cls, values, layer, select, layers=RGBA_LAYERS):
        if layer == MAIN:
            return super().layer_kernel(values, layer, select, layers)
        if values["also_merge"] == "none":
            return None
        items = values["also_merge"]
        items = (items,) if isinstance(items, str) else items
        if "all" not in items and layer not in items:
            return None
        merge = get("MergeLayers")
        merged = merge.defaults() | {
            "operation": values["operation"],
            "mix": values["mix"],
            "bbox": values["bbox"],
        }
        return merge, merged, ((0, layer), (1, layer), (0, MAIN), (1, MAIN))

    @classmethod
    def pack(cls, values, ctx):
        return [float(OPERATIONS.index(values["operation"])), values["mix"]]

    @classmethod
    def cpu_point_for(cls, values):
        return globals()[f"merge_point_{values['operation']}"]

    @classmethod
    def pass_through(cls, values):
        return "B" if values["mix"] == 0.0 else None
