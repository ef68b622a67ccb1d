"""Channel names, layers and channel sets: what a ``channels`` value selects.

An image's layers are ``(layer name, channel names)`` pairs (:attr:`ImageInfo.layers`),
the main layer ``rgba`` (``R G B A``) first, then others with OpenEXR's names
(``diffuse.R``, ``depth.Z``). Each layer is stored as a *plane* of four components; a
layer's channels are its first components. This module imports nothing from ``engine``.
"""

from __future__ import annotations

from collections.abc import Sequence

Layers = tuple[tuple[str, tuple[str, ...]], ...]

MAIN = "rgba"
MAIN_CHANNELS = ("R", "G", "B", "A")
#: Channel-set keywords and the components of the main layer they select.
KEYWORDS = {"rgba": (1, 1, 1, 1), "rgb": (1, 1, 1, 0), "alpha": (0, 0, 0, 1)}
NONE_SELECTED = (0, 0, 0, 0)


def layer_of(channel: str) -> str:
    """The layer a channel name belongs to: ``diffuse`` for ``diffuse.R``, ``rgba`` for
    ``R``/``G``/``B``/``A``."""
    return channel.rsplit(".", 1)[0] if "." in channel else MAIN


def channel_names(layers: Layers) -> tuple[str, ...]:
    """Every channel name of an image, layer by layer (``R G B A diffuse.R ...``)."""
    return tuple(name for _, names in layers for name in names)


def find_channel(layers: Layers, channel: str, what: str = "the image") -> tuple[str, int]:
    """``(layer, component)`` of a channel name; ``A`` and ``alpha`` name the main alpha.

    Raises ValueError naming the channels there are.
    """
    wanted = canonical_channel(channel)
    for layer, names in layers:
        if wanted in names:
            return layer, names.index(wanted)
    raise ValueError(
        f"{channel!r} is not a channel of {what} (it has {', '.join(channel_names(layers))})"
    )


def selection(value: str | Sequence[str], layers: Layers) -> dict[str, tuple[int, ...]]:
    """The components of each layer that a ``channels`` value selects (layers it selects
    nothing of are left out).

    ``rgba``, ``rgb`` and ``alpha`` select channels of the main layer; ``all`` every
    channel; a layer name that layer's channels; a list any channel names (and layer
    names). Raises ValueError for a name the image does not have.
    """
    present = dict(layers)
    if isinstance(value, str):
        if value in KEYWORDS:
            return {MAIN: KEYWORDS[value]}
        if value == "all":
            return {layer: first_components(len(names)) for layer, names in layers}
        value = (value,)
    chosen: dict[str, list[int]] = {}
    for item in value:
        if item in KEYWORDS:
            for k, on in enumerate(KEYWORDS[item]):
                if on:
                    chosen.setdefault(MAIN, [0, 0, 0, 0])[k] = 1
            continue
        if item in present and item != MAIN:
            chosen[item] = list(first_components(len(present[item])))
            continue
        layer, component = find_channel(layers, item, "the input")
        chosen.setdefault(layer, [0, 0, 0, 0])[component] = 1
    return {layer: tuple(c) for layer, c in chosen.items()}


def is_colour_layer(channels: Sequence[str]) -> bool:
    """Whether a layer holds colour (its channels are R, G, B and A: ``diffuse.R``...) and
    so is converted between colour spaces; depth, normals and motion are data."""
    return all(name.rsplit(".", 1)[-1] in MAIN_CHANNELS for name in channels)


def covers_layer(select: tuple[int, ...], count: int) -> bool:
    """Whether ``select`` holds every one of a layer's ``count`` channels."""
    return all(select[k] for k in range(count))


def layer_names(value: str | Sequence[str], layers: Layers) -> tuple[str, ...]:
    """The layers a layer-set value names (``all``, ``none``, a layer or a list), in the
    image's order. Raises ValueError for a layer the image does not have."""
    present = [layer for layer, _ in layers]
    if value == "all":
        return tuple(present)
    if value == "none":
        return ()
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if item not in present:
            raise ValueError(f"{item!r} is not a layer of the input (it has {', '.join(present)})")
    return tuple(layer for layer in present if layer in items)


#: Orders of channel suffixes within a layer (OpenEXR stores channels sorted by name).
_ORDERS = (("R", "G", "B", "A"), ("X", "Y", "Z", "W"), ("U", "V", "W"), ("u", "v", "w"))


def canonical_order(names: Sequence[str]) -> tuple[str, ...]:
    """A layer's channel names in the order artists expect: R G B A, X Y Z W, u v w;
    other names after those, in the order given."""

    def rank(name: str) -> tuple[int, int]:
        suffix = name.rsplit(".", 1)[-1]
        for order in _ORDERS:
            if suffix in order:
                return (0, order.index(suffix))
        return (1, 0)

    return tuple(sorted(names, key=rank))


def canonical_channel(name: str) -> str:
    """``red``/``green``/``blue``/``alpha`` as ``R``/``G``/``B``/``A``; others as given."""
    return {"alpha": "A", "red": "R", "green": "G", "blue": "B"}.get(name, name)


def with_channels(layers: Layers, names: Sequence[str]) -> Layers:
    """``layers`` with channels added (new names create layers, or join theirs).

    Raises ValueError when a layer would have more than four channels.
    """
    out = {layer: list(channels) for layer, channels in layers}
    for name in names:
        name = canonical_channel(name)
        layer = layer_of(name)
        channels = out.setdefault(layer, [])
        if name in channels:
            continue
        if len(channels) == 4:
            raise ValueError(f"layer {layer!r} would have more than 4 channels with {name!r}")
        channels.append(name)
    return tuple((layer, canonical_order(channels)) for layer, channels in out.items())


def first_components(count: int) -> tuple[int, ...]:
    """A selection of a plane's first ``count`` components."""
    return tuple(1 if k < count else 0 for k in range(4))
