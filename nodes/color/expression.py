"""Expression: per-channel formulas over the input's channels (Nuke's Expression)."""

from __future__ import annotations

import json

from mattebox.nodes import channels as chans
from mattebox.nodes import expressions
from mattebox.nodes.color.expression_plane import MAX_PLANES
from mattebox.nodes.spec import RGBA_LAYERS, Kind, Mapping, NodeSpec, String, get, register

_MAIN_PARAMS = tuple(expressions.MAIN_CHANNELS)  # r g b a


@register
class Expression(NodeSpec):
    """Per-pixel formulas, one per output channel, over the input's channels.

    ``r``, ``g``, ``b`` and ``a`` give the main layer's channels (the default, the channel
    itself, leaves it as it is); ``expressions`` maps any other channel name to a formula
    (``depth.Z``, or a new ``matte.A``, which adds that layer). A formula reads:

    - ``r g b a``: the input's main channels; ``layer.C``: any channel of the input
      (``depth.Z``, ``motion.u``). Every formula reads the input, never another formula's
      result;
    - ``x``, ``y``: the pixel's column and row (whole numbers; origin top-left, y down, as
      everywhere in Mattebox; its centre is ``x + 0.5``), ``width``, ``height`` (the
      script's format; both at proxy scale in a proxy render), ``frame``, ``pi``;
    - numbers, ``+ - * / **``, comparisons (1 where true, else 0), ``and or not``,
      ``a if cond else b`` (``cond`` true where not 0);
    - ``abs min max clamp floor ceil fract sqrt pow exp log sin cos tan atan2 mix
      smoothstep step``: ``clamp(v)`` is ``clamp(v, 0, 1)``, ``atan2(y, x)``,
      ``mix(a, b, t) = a + (b - a) t``, ``step(edge, v)`` is 1 where ``v >= edge``,
      ``smoothstep(e0, e1, v)`` as in GLSL; ``pow`` and ``**`` as C's ``powf`` (a
      negative number to a whole power keeps its sign, to another NaN).

    All arithmetic is float32, the same formulas on both backends. Formulas are parsed by
    a grammar of Mattebox's own (Python's expression syntax, checked against the list
    above; nothing is run by Python) and compiled into the fused point kernel, so an
    Expression costs what the same maths as nodes would and fuses with its neighbours.
    The numbers are parameters of the kernel: changing one does not compile again. A
    syntax or name error is one line naming the node, the parameter and the column.
    The output's data window is the union of those of the planes the formulas read.
    """

    type_name = "Expression"
    family = "color"
    kind = Kind.POINT
    params = (
        *(
            String(name, name, f"Formula for the main layer's {name.upper()} channel.")
            for name in _MAIN_PARAMS
        ),
        Mapping(
            "expressions",
            "Formulas for other channels: channel name -> formula (a new name adds its layer).",
            choices=("channel", "formula"),
        ),
    )

    @classmethod
    def pass_through(cls, values):
        if values["expressions"] or any(values[n].strip() != n for n in _MAIN_PARAMS):
            return None
        return "Source"

    @classmethod
    def layers(cls, values, inputs):
        base = super().layers(values, inputs)
        return cls._out_layers(values, base)

    @classmethod
    def _out_layers(cls, values, layers):
        names = [name for name, _ in values["expressions"]]
        if not names:
            return layers
        try:
            return chans.with_channels(layers, names)
        except ValueError as error:
            raise ValueError(f"expressions: {error}") from None

    @classmethod
    def layer_kernel(cls, values, layer, select, layers=RGBA_LAYERS):
        formulas = cls._formulas(values, layer, select, layers)
        if formulas is None:
            return None
        planes = [layer] if layer == chans.MAIN else [layer, chans.MAIN]
        parsed = [None if f is None else expressions.parse(f[1], f[0]) for f in formulas]

        def resolve(channel: str, param: str, where) -> tuple[int, int]:
            try:
                at, component = chans.find_channel(layers, channel, "the input")
            except ValueError as error:
                raise expressions.error_at(param, where, str(error)) from None
            if at not in planes:
                if len(planes) == MAX_PLANES:
                    raise expressions.error_at(param, where, f"reads more than {MAX_PLANES} layers")
                planes.append(at)
            return planes.index(at), component

        placed: dict[str, tuple[int, int]] = {}
        for formula, tree in zip(formulas, parsed):
            if tree is not None:
                for channel, where in expressions.channels_used(tree):
                    if channel not in placed:
                        placed[channel] = resolve(channel, formula[0], where)
        program = expressions.lower(parsed, placed.__getitem__, len(planes))
        plane = get("ExpressionPlane")
        kernel_values = plane.defaults() | {
            "program": program.text(),
            "constants": json.dumps(program.constants),
        }
        return plane, kernel_values, tuple((0, at) for at in planes)

    @classmethod
    def _formulas(cls, values, layer, select, layers):
        """``(parameter, formula)`` or None for each component of ``layer``'s plane; None
        where nothing of it changes."""
        if layer == chans.MAIN:
            if select is None:
                return None
            out = [None if values[n].strip() == n else (n, values[n]) for n in _MAIN_PARAMS]
        else:
            channels = dict(cls._out_layers(values, layers)).get(layer, ())
            out = [None] * 4
            for k, channel in enumerate(channels):
                for name, formula in values["expressions"]:
                    if chans.canonical_channel(name) == channel:
                        out[k] = (f"expressions.{name}", formula)
            if any(out) and len(channels) < 4 and layer not in dict(layers):
                out[3] = ("expressions", "1")  # a new layer's unused alpha slot, as read
        for name, formula in values["expressions"] if layer == chans.MAIN else ():
            channel = chans.canonical_channel(name)
            if channel in chans.MAIN_CHANNELS:  # "A": the a parameter's formula, replaced
                out[chans.MAIN_CHANNELS.index(channel)] = (f"expressions.{name}", formula)
        return out if any(out) else None
