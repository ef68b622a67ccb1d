"""Copy: channels of A into B (Nuke's Copy)."""

from __future__ import annotations

from mattebox.nodes import channels as chans
from mattebox.nodes.spec import RGBA_LAYERS, Channels, Kind, NodeSpec, register


@register
class Copy(NodeSpec):
    """Replaces ``channels`` of B by A's channels of the same names (adding the layers B
    lacks); B's other channels pass through. With a ``Mask``, the copy is limited to it:
    ``out = B + (A - B) * mix * mask`` on the copied channels.
    """

    type_name = "Copy"
    family = "channel"
    kind = Kind.POINT
    inputs = ("B", "A")
    maskable = True
    unpremult_option = False
    params = (
        Channels(
            "channels",
            "alpha",
            "Channels of A copied into B: rgba, rgb, alpha, all, a layer or a list.",
        ),
    )

    @classmethod
    def routing(cls, values, inputs):
        b, a = (list(inputs) + [None, None])[:2]
        base = b.layers if b else RGBA_LAYERS
        if a is None:
            return base, {name: ("in", 0, name) for name in chans.channel_names(base)}
        chosen = chans.selection(values["channels"], a.layers)
        copied = [
            names[k]
            for layer, names in a.layers
            for k in range(len(names))
            if chosen.get(layer, chans.NONE_SELECTED)[k]
        ]
        layers = chans.with_channels(base, copied)
        origin = set(copied)
        return layers, {
            name: ("in", 1 if name in origin else 0, name) for name in chans.channel_names(layers)
        }
