"""Shuffle: rebuild channels from one or two inputs, or fill them with 0 or 1 (Nuke's
Shuffle)."""

from __future__ import annotations

from mattebox.nodes import channels as chans
from mattebox.nodes.spec import RGBA_LAYERS, Kind, Mapping, NodeSpec, register

#: Version 1's parameters (one per main channel) and what each value meant.
_V1_OUTPUTS = {"red": "R", "green": "G", "blue": "B", "alpha": "A"}
_V1_SOURCES = {"r": "R", "g": "G", "b": "B", "a": "A", "0": "0", "1": "1"}


def channel_source(text: str, source, source2) -> tuple:
    """A mapping entry's source as a routing source (see :meth:`NodeSpec.routing`)."""
    if text in ("0", "1"):
        return ("const", float(text))
    index, layers, name = (1, source2, text[2:]) if text.startswith("2:") else (0, source, text)
    if layers is None:
        raise ValueError(f"{text!r}: nothing is connected to Source{'2' if index else ''}")
    what = "Source2" if index else "Source"
    layer, component = chans.find_channel(layers.layers, name, what)
    return ("in", index, dict(layers.layers)[layer][component])


@register
class Shuffle(NodeSpec):
    """Sets channels from channels of ``Source`` or ``Source2``, or to 0 or 1.

    ``mapping`` maps an output channel name to a source: a channel name of Source
    (``"diffuse.R"``, ``"A"``), ``"2:"`` and a channel name of Source2 (``"2:depth.Z"``),
    ``"0"`` or ``"1"``. Output channels it does not name are Source's; a name Source does
    not have creates that channel (and its layer: ``"mask.A"`` makes a layer ``mask``).
    A layer rebuilt from another layer unchanged is passed on without a copy.

    Outside the inputs' data windows there are no pixels, so a channel set to 1 is 1 only
    inside them (as in Nuke, where the bounding box stays the input's).
    """

    type_name = "Shuffle"
    version = 2
    family = "channel"
    kind = Kind.POINT
    inputs = ("Source",)
    optional_inputs = ("Source2",)
    params = (
        Mapping(
            "mapping",
            "Output channel -> source: a channel of Source, '2:' + a channel of Source2, "
            "'0' or '1'.",
        ),
    )

    @classmethod
    def upgrade(cls, values, from_version):
        """Version 1 had one enum per main channel (``red: "g"``); version 2 a mapping."""
        if from_version >= 2:
            return values
        values = dict(values)
        mapping = {}
        for old, channel in _V1_OUTPUTS.items():
            picked = values.pop(old, None)
            if picked is not None and _V1_SOURCES.get(picked, picked) != channel:
                mapping[channel] = _V1_SOURCES.get(picked, picked)
        if mapping:
            values["mapping"] = mapping
        return values

    @classmethod
    def pass_through(cls, values):
        return "Source" if not values["mapping"] else None

    @classmethod
    def routing(cls, values, inputs):
        source, source2 = (list(inputs) + [None, None])[:2]
        mapping = {chans.canonical_channel(k): v for k, v in values["mapping"]}
        base = source.layers if source else RGBA_LAYERS
        layers = chans.with_channels(base, list(mapping))
        have = set(chans.channel_names(base)) if source else set()
        sources = {}
        for name in chans.channel_names(layers):
            if name in mapping:
                sources[name] = channel_source(mapping[name], source, source2)
            elif name in have:
                sources[name] = ("in", 0, name)
            else:
                sources[name] = ("const", 0.0)
        return layers, sources
