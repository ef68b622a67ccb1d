"""How a file's channels become layers: names, order, and where each layer is stored.

Pure naming rules on channel and part names (no OpenImageIO), used by ``decode.py`` in the
worker process. The rules, as ``docs/io-and-colour.md`` ("Layers") states them:

- the main layer ``rgba`` always exists; its R, G, B, A come from the main part's
  channels by :func:`channel_map` (the same rules :func:`read_image` always had);
- a channel ``layer.name`` belongs to ``layer`` (everything before the last dot, so
  Blender's ``ViewLayer.Combined.R`` is in ``ViewLayer.Combined``);
- in the main part, unprefixed R, G, B, A (and the grey Y/L that feeds rgba) are rgba's;
  an unprefixed ``Z`` is ``depth.Z``; any other unprefixed ``X`` is ``other.X``;
- in a multi-part file, a part's unprefixed channels take the part's name as their
  prefix (part ``diffuse`` with ``R G B``: ``diffuse.R``...), except in a main part named
  ``rgba``, ``beauty`` or nothing;
- within a layer, channels are ordered R G B A, X Y Z W or U V W (any case) when all of
  the layer's channels are in one of those sets, else as in the file;
- a layer of more than 4 channels is split into ``layer``, ``layer#2``, ``layer#3``...
  of 4 channels each (names unchanged);
- a layer lives in the first part that names it; a later part's channels for a layer
  already named, and a repeated channel name, are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from mattebox.engine.io.info import MAIN_CHANNELS, MAIN_LAYER

#: Names of a part whose unprefixed channels are the main layer's (lowercase).
MAIN_PART_NAMES = frozenset({"", "rgba", "beauty"})

_RGB_NAMES = frozenset({"r", "g", "b", "red", "green", "blue"})
_RGBA_NAMES = _RGB_NAMES | {"a", "alpha"}
_GREY_NAMES = frozenset({"y", "l", "luminance"})
_CANONICAL_ORDERS = (("r", "g", "b", "a"), ("x", "y", "z", "w"), ("u", "v", "w"))
_MAX_LAYER_CHANNELS = 4


@dataclass(frozen=True)
class Part:
    """One part (subimage) of a file, as the layer rules see it."""

    name: str  # oiio:subimagename, "" when the part has none
    channels: tuple[str, ...]  # as OpenImageIO lists them
    deep: bool = False  # deep parts hold no layers


@dataclass(frozen=True)
class LayerSource:
    """Where a layer's plane comes from: a part, and its channel for each component.

    ``channels[k]`` is the part's channel index feeding plane component ``k``; None fills
    the component (rgba: 0 for colour, 1 for alpha; components past the tuple are 0).
    """

    part: int
    channels: tuple[int | None, ...]


@dataclass(frozen=True)
class Layout:
    """A file's layers: the public listing and where each one is stored."""

    layers: tuple[tuple[str, tuple[str, ...]], ...]  # ImageInfo.layers
    sources: dict[str, LayerSource]
    main_part: int | None  # None: a multi-part file without a main part


def _find_channel(names: list[str], *wanted: str) -> int | None:
    """Index of the first channel whose lowercase name is in ``wanted``."""
    for candidate in wanted:
        if candidate in names:
            return names.index(candidate)
    return None


def channel_map(channels: tuple[str, ...]) -> tuple[tuple[int | None, ...], int | None]:
    """Indices of the channels feeding R, G, B (None: zero) and A (None: opaque).

    Names first (R, G, B, A, any case; Y for grey), then the first layer that has them
    (``diffuse.R``...), then position (1 channel: grey; 2: grey + alpha; 3+: RGB(A)).
    """
    prefixes = [""] + list(dict.fromkeys(c.rsplit(".", 1)[0] + "." for c in channels if "." in c))
    for prefix in prefixes:
        names = [c.lower()[len(prefix) :] if c.startswith(prefix) else "" for c in channels]
        rgb = tuple(
            _find_channel(names, n, long)
            for n, long in (("r", "red"), ("g", "green"), ("b", "blue"))
        )
        alpha = _find_channel(names, "a", "alpha")
        if any(i is not None for i in rgb):
            return rgb, alpha
        grey = _find_channel(names, "y", "l", "luminance")
        if grey is not None:
            return (grey, grey, grey), alpha
    count = len(channels)
    if count <= 2:
        return (0, 0, 0), (1 if count == 2 else None)
    return (0, 1, 2), (3 if count >= 4 else None)


def main_part(parts: list[Part]) -> int | None:
    """The part the main layer comes from: the only one; else the first named rgba,
    beauty or nothing; else the first with an unprefixed R, G or B; else None."""
    if len(parts) == 1:
        return 0
    flat = [(index, part) for index, part in enumerate(parts) if not part.deep]
    for index, part in flat:
        if part.name.lower() in MAIN_PART_NAMES:
            return index
    for index, part in flat:
        if any("." not in c and c.lower() in _RGB_NAMES for c in part.channels):
            return index
    return None


def _rgba_channels(channels: tuple[str, ...], rgb: tuple[int | None, ...]) -> set[int]:
    """The main part's unprefixed channels that belong to rgba alone: R, G, B, A by
    name, and a grey Y/L when it feeds rgba."""
    own = {i for i, c in enumerate(channels) if "." not in c and c.lower() in _RGBA_NAMES}
    grey = rgb[0]
    if grey is not None and rgb == (grey, grey, grey):
        name = channels[grey]
        if "." not in name and name.lower() in _GREY_NAMES:
            own.add(grey)
    return own


def _full_name(channel: str, prefix: str) -> str:
    """A channel's name with its layer: as it is when prefixed, else ``prefix.channel``,
    else ``depth.Z`` for Z and ``other.channel`` for the rest."""
    if "." in channel:
        return channel
    if prefix:
        return f"{prefix}.{channel}"
    return f"depth.{channel}" if channel.lower() == "z" else f"other.{channel}"


def _canonical_order(names: list[str]) -> list[str]:
    """A layer's channel names in R G B A, X Y Z W or U V W order, else as given."""
    short = [n.rsplit(".", 1)[-1].lower() for n in names]
    for order in _CANONICAL_ORDERS:
        if len(set(short)) == len(short) and set(short) <= set(order):
            return [name for _, name in sorted(zip(short, names), key=lambda p: order.index(p[0]))]
    return names


def _part_prefix(parts: list[Part], index: int, main: int | None) -> str:
    """The prefix a part gives its unprefixed channels ("" for the depth/other rules)."""
    part = parts[index]
    if len(parts) == 1 or (index == main and part.name.lower() in MAIN_PART_NAMES):
        return ""
    return part.name


def layer_layout(parts: list[Part]) -> Layout:
    """The layers of a file made of ``parts`` (one for a single-part file)."""
    main = main_part(parts)
    rgba_part = 0 if main is None else main
    rgb, alpha = channel_map(parts[rgba_part].channels)
    owners: dict[str, int] = {MAIN_LAYER: -1}  # layer -> the part it lives in
    grouped: dict[str, dict[str, int]] = {}  # layer -> {channel name: index in its part}
    for index, part in enumerate(parts):
        if part.deep:
            continue
        prefix = _part_prefix(parts, index, main)
        skip = _rgba_channels(part.channels, rgb) if index == main and not prefix else set()
        for channel_index, channel in enumerate(part.channels):
            if channel_index in skip:
                continue
            name = _full_name(channel, prefix)
            layer = name.rsplit(".", 1)[0]
            if owners.setdefault(layer, index) != index:
                continue
            grouped.setdefault(layer, {}).setdefault(name, channel_index)
    layers = [(MAIN_LAYER, MAIN_CHANNELS)]
    sources = {MAIN_LAYER: LayerSource(rgba_part, (*rgb, alpha))}
    for layer, channels in grouped.items():
        ordered = _canonical_order(list(channels))
        for start in range(0, len(ordered), _MAX_LAYER_CHANNELS):
            group = tuple(ordered[start : start + _MAX_LAYER_CHANNELS])
            name = layer if start == 0 else f"{layer}#{start // _MAX_LAYER_CHANNELS + 1}"
            if name in sources:  # a file layer literally named like a split one
                continue
            layers.append((name, group))
            sources[name] = LayerSource(owners[layer], tuple(channels[c] for c in group))
    return Layout(tuple(layers), sources, main)
