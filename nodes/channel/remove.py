"""Remove: drop layers and channels, or keep only some (Nuke's Remove)."""

from __future__ import annotations

from mattebox.nodes import channels as chans
from mattebox.nodes.spec import RGBA_LAYERS, Channels, Enum, Kind, NodeSpec, register


@register
class Remove(NodeSpec):
    """Removes ``channels`` (``remove``) or everything but them (``keep``).

    The main layer always exists: its removed channels become 0. Other layers lose the
    removed channels and disappear when none is left, so a Write of ``all`` after it
    writes only what is kept, and nothing upstream computes or reads what is removed.
    """

    type_name = "Remove"
    family = "channel"
    kind = Kind.POINT
    params = (
        Enum("operation", ("keep", "remove"), "keep", "Keep only these channels, or remove them."),
        Channels("channels", "rgba", "The channels: rgba, rgb, alpha, all, a layer or a list."),
    )

    @classmethod
    def routing(cls, values, inputs):
        source = inputs[0] if inputs else None
        base = source.layers if source else RGBA_LAYERS
        chosen = chans.selection(values["channels"], base)
        keep = values["operation"] == "keep"
        layers, sources = [], {}
        for layer, names in base:
            picked = chosen.get(layer, chans.NONE_SELECTED)
            kept = [n for k, n in enumerate(names) if bool(picked[k]) == keep]
            if layer == chans.MAIN:
                layers.append((layer, names))
                sources |= {n: ("in", 0, n) if n in kept else ("const", 0.0) for n in names}
            elif kept:
                layers.append((layer, tuple(kept)))
                sources |= {n: ("in", 0, n) for n in kept}
        return tuple(layers), sources
