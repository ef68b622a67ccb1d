"""ChannelMerge: one channel of A with one channel of B into a channel of the output
(Nuke's ChannelMerge)."""

from __future__ import annotations

from mattebox.nodes import channels as chans
from mattebox.nodes.channel.channel_op import CHANNEL_OPERATIONS
from mattebox.nodes.spec import RGBA_LAYERS, Enum, Kind, NodeSpec, String, register


@register
class ChannelMerge(NodeSpec):
    """Sets ``output`` to ``operation(A's a_channel, B's b_channel)``; B's other channels
    pass through (``output`` may name a new channel, which then joins its layer).

    Operations, with a and b the two channel values: union ``a + b - ab``, intersect
    ``ab``, plus ``a + b``, minus ``a - b``, multiply ``ab``, min, max, difference
    ``|a - b|``, stencil ``b(1 - a)``, from ``b - a``, copy ``a``.
    """

    type_name = "ChannelMerge"
    family = "channel"
    kind = Kind.POINT
    inputs = ("B", "A")
    maskable = True
    unpremult_option = False
    params = (
        String("a_channel", "A", "Channel of A (e.g. A, depth.Z)."),
        String("b_channel", "A", "Channel of B."),
        Enum("operation", CHANNEL_OPERATIONS, "union", "How the two channels combine."),
        String("output", "A", "Channel written (of B, or a new one)."),
    )

    @classmethod
    def routing(cls, values, inputs):
        b, a = (list(inputs) + [None, None])[:2]
        base = b.layers if b else RGBA_LAYERS
        output = chans.canonical_channel(values["output"])
        layers = chans.with_channels(base, [output])
        sources = {name: ("in", 0, name) for name in chans.channel_names(base)}
        a_channel = chans.canonical_channel(values["a_channel"])
        b_channel = chans.canonical_channel(values["b_channel"])
        if a is None:
            raise ValueError("nothing connected to input A")
        chans.find_channel(a.layers, a_channel, "A")
        chans.find_channel(base, b_channel, "B")
        sources[output] = ("op", values["operation"], (1, a_channel), (0, b_channel))
        return layers, sources
