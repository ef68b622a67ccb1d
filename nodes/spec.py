"""Node declarations: typed parameters, named inputs, kinds, and the registry.

A node type is declared once, as a subclass of :class:`NodeSpec` in
``nodes/<family>/<name>.py``. Everything else (the editor's node and properties panel, the
script entry, the hash, the docs and the kernels on each backend) is derived from it.

Parameters are declared with the constructors :func:`Float`, :func:`Int`, :func:`Bool`,
:func:`Enum`, :func:`RGBA`, :func:`Vec2`, :func:`String`, :func:`FilePath` and :func:`Shapes`
(Roto's shapes, ``nodes/shapes.py``). A value may be
animated: ``{"keys": [[frame, value], ...], "interpolation": "linear"}``, where a key may name
how the segment leaving it interpolates (``[frame, value, "smooth"]``; see
:data:`INTERPOLATIONS`); :meth:`Param.at` evaluates it at a frame.

This module imports nothing from ``engine`` or ``app``.
"""

from __future__ import annotations

import bisect
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from mattebox.nodes import limits, suggest


class Kind(enum.Enum):
    """How the engine evaluates a node type (ARCHITECTURE.md, "One declaration per node")."""

    POINT = "point"
    AREA = "area"
    RESAMPLE = "resample"
    COLOR_PROCESSOR = "colour-processor"
    SOURCE = "source"
    SINK = "sink"


class ParamError(ValueError):
    """A parameter value that does not fit its declaration; the message is for people."""


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Param:
    """One typed parameter of a node type.

    Attributes
    ----------
    name : str
        Key in scripts and in ``node["name"]``.
    type : str
        One of ``float int bool enum rgba vec2 string file channels mapping shapes array``.
    default : Any
        The value a new node has; never written to scripts.
    doc : str
        One line, shown as the editor's tooltip and in the docs.
    min, max : float or None
        Hard limits; a value outside them is refused.
    soft_min, soft_max : float or None
        The slider's range in the editor.
    choices : tuple of str
        The items of an ``enum``; a ``mapping``'s two column headings (by default
        ``output`` and ``source``).
    animatable : bool
        Whether keyframes are allowed.
    affects_pixels : bool
        Whether the value enters the node's hash (False for UI-only values).
    spatial : bool
        Whether the value is measured in pixels (a size, a position, a box): a proxy
        render at 1/N scale divides it by N (see :meth:`scaled`).
    layer_set : bool
        A ``channels`` value that names whole layers (``none``, ``all``, a layer or a
        list of layers: Merge's ``also_merge``), not channels.
    savable : bool
        Whether a script can store the value. False for values that live only in the
        Python process (ArrayRead's ``array``): saving or copying a node where one is
        set is refused with a message naming it.
    """

    name: str
    type: str
    default: Any
    doc: str
    min: float | None = None
    max: float | None = None
    soft_min: float | None = None
    soft_max: float | None = None
    choices: tuple[str, ...] = ()
    animatable: bool = True
    affects_pixels: bool = True
    spatial: bool = False
    layer_set: bool = False
    savable: bool = True

    # -- validation -------------------------------------------------------------------

    def coerce(self, value: Any) -> Any:
        """Return ``value`` in this parameter's canonical form, or raise :class:`ParamError`.

        Animated values (a dict with ``keys``) are checked key by key.
        """
        if isinstance(value, dict) and "keys" in value:
            return self._coerce_animated(value)
        return self._coerce_static(value)

    def _coerce_animated(self, value: dict) -> dict:
        if not self.animatable or self.type in ("string", "file", "enum", "bool"):
            raise ParamError(f"{self.name}: cannot be animated")
        keys = value.get("keys")
        if not isinstance(keys, list) or not keys:
            raise ParamError(f"{self.name}: 'keys' must be a non-empty list of [frame, value]")
        curve = _interpolation(self.name, value.get("interpolation", "linear"))
        out = [self._coerce_key(number, key, curve) for number, key in enumerate(keys, 1)]
        out.sort(key=_key_frame)
        return {"keys": out, "interpolation": curve}

    def _coerce_key(self, number: int, key: Any, curve: str) -> list:
        """Key ``number`` (from 1, as written) as ``[frame, value]``, with a third element
        only where its interpolation differs from the curve's."""
        where = f"{self.name}: key {number}"
        if not (isinstance(key, (list, tuple)) and len(key) in (2, 3)):
            raise ParamError(
                f"{where}: expected [frame, value] or [frame, value, interpolation], got {key!r}"
            )
        frame = _number(f"{where}: frame", key[0], limits.MAX_FRAME)
        try:
            value = self._coerce_static(key[1])
        except ParamError as error:
            raise ParamError(f"{where}: {str(error).removeprefix(self.name + ': ')}") from None
        if len(key) == 3 and _interpolation(where, key[2]) != curve:
            return [frame, value, key[2]]
        return [frame, value]

    def _coerce_static(self, value: Any) -> Any:
        coerce = _COERCERS[self.type]
        result = coerce(self, value)
        self._check_range(result)
        return result

    def _check_range(self, value: Any) -> None:
        numbers = value if isinstance(value, tuple) else (value,)
        for number in numbers:
            if not isinstance(number, (int, float)) or isinstance(number, bool):
                continue
            shown = number if isinstance(number, int) else f"{number:g}"
            if self.min is not None and number < self.min:
                raise ParamError(f"{self.name}: {shown} is below the minimum {self.min:g}")
            if self.max is not None and number > self.max:
                raise ParamError(f"{self.name}: {shown} is above the maximum {self.max:g}")

    # -- evaluation -------------------------------------------------------------------

    def at(self, value: Any, frame: float) -> Any:
        """Evaluate a (possibly animated) value at ``frame``.

        Before the first key and after the last the end value holds; between two keys the
        segment interpolates as the earlier key (or else the curve) says: ``constant``
        holds the earlier value, ``linear`` and ``smooth`` (cubic Hermite, Catmull-Rom
        slopes, flat at the first and last key) run to the later one. Ints round after
        interpolating; a smooth value is kept inside ``min``/``max``.
        """
        if value.__class__ is not dict or "keys" not in value:
            return value  # the common static case, first and cheap
        keys = value["keys"]
        if frame <= keys[0][0]:
            return keys[0][1]
        if frame >= keys[-1][0]:
            return keys[-1][1]
        i = bisect.bisect_right(keys, frame, key=_key_frame) - 1
        key = keys[i]
        kind = key[2] if len(key) > 2 else value["interpolation"]
        if kind == "constant":
            return key[1]
        f0, f1 = key[0], keys[i + 1][0]
        t = (frame - f0) / (f1 - f0)
        if self.type == "shapes":
            return _shapes().interpolate(keys, i, t, kind, _hermite)
        if kind == "linear":
            return _lerp(key[1], keys[i + 1][1], t, self.type)
        return self._smooth(keys, i, t)

    def _smooth(self, keys: list, i: int, t: float) -> Any:
        """The cubic Hermite segment from key ``i`` to key ``i + 1`` at ``t`` in [0, 1]."""
        span = keys[i + 1][0] - keys[i][0]
        v0, v1 = keys[i][1], keys[i + 1][1]
        m0, m1 = _slope(keys, i), _slope(keys, i + 1)
        if isinstance(v0, tuple):
            return tuple(
                self._limited(_hermite(a, b, c * span, d * span, t))
                for a, b, c, d in zip(v0, v1, m0, m1)
            )
        result = self._limited(_hermite(v0, v1, m0 * span, m1 * span, t))
        return round(result) if self.type == "int" else result

    def _limited(self, number: float) -> float:
        """``number`` inside ``min``/``max`` (a smooth curve can overshoot its keys)."""
        if self.min is not None and number < self.min:
            return self.min
        if self.max is not None and number > self.max:
            return self.max
        return number

    def scaled(self, value: Any, proxy: int) -> Any:
        """A value at one frame as a proxy render at 1/``proxy`` scale sees it.

        Spatial floats and vectors are divided by ``proxy``; spatial ints (sizes, formats)
        are divided and rounded up, so 0 ("the script format") stays 0 and a positive size
        stays at least 1. Other parameters, and ``proxy`` 1, return ``value`` unchanged.
        """
        if proxy == 1 or not self.spatial:
            return value
        if self.type == "shapes":
            return _shapes().scaled(value, proxy)
        if isinstance(value, tuple):
            return tuple(v / proxy for v in value)
        if self.type == "int":
            return math.ceil(value / proxy) if value >= 0 else -math.ceil(-value / proxy)
        return value / proxy

    def to_json(self, value: Any) -> Any:
        """The value as it is written to a script (tuples become lists)."""
        if is_animated(value):
            curve = value["interpolation"]
            keys = [
                [key[0], self.to_json(key[1]), *(k for k in key[2:] if k != curve)]
                for key in value["keys"]
            ]
            return {"keys": keys, "interpolation": curve}
        if self.type == "mapping":
            return dict(value)
        if self.type == "shapes":
            return _shapes().to_json(value)
        if self.type == "array":  # never saved (savable False): its identity, for hashes
            return None if value is None else list(value.token)
        return list(value) if isinstance(value, tuple) else value


def is_animated(value: Any) -> bool:
    """True for a keyframed value (``{"keys": [...], ...}``)."""
    return isinstance(value, dict) and "keys" in value


def _lerp(v0: Any, v1: Any, t: float, type_: str) -> Any:
    if isinstance(v0, tuple):
        return tuple(a + (b - a) * t for a, b in zip(v0, v1))
    if type_ == "int":
        return round(v0 + (v1 - v0) * t)
    return v0 + (v1 - v0) * t


INTERPOLATIONS = ("constant", "linear", "smooth")
"""How a segment between two keys runs: ``constant`` (the earlier value holds),
``linear``, ``smooth`` (cubic Hermite with Catmull-Rom slopes, flat at the ends)."""


def _interpolation(where: str, name: Any) -> str:
    if name not in INTERPOLATIONS:
        raise ParamError(f"{where}: interpolation must be constant, linear or smooth, got {name!r}")
    return name


def _key_frame(key: list) -> float:
    return key[0]


def _slope(keys: list, i: int) -> Any:
    """Catmull-Rom slope at key ``i`` (per component for vectors); zero at either end."""
    value = keys[i][1]
    if i == 0 or i == len(keys) - 1:
        return (0.0,) * len(value) if isinstance(value, tuple) else 0.0
    (f0, v0), (f1, v1) = keys[i - 1][:2], keys[i + 1][:2]
    if isinstance(value, tuple):
        return tuple((b - a) / (f1 - f0) for a, b in zip(v0, v1))
    return (v1 - v0) / (f1 - f0)


def _hermite(v0: float, v1: float, d0: float, d1: float, t: float) -> float:
    """Cubic Hermite from ``v0`` to ``v1`` with end derivatives ``d0``, ``d1`` (per unit
    of ``t``) at ``t`` in [0, 1]."""
    t2 = t * t
    t3 = t2 * t
    return (
        (2 * t3 - 3 * t2 + 1) * v0
        + (t3 - 2 * t2 + t) * d0
        + (-2 * t3 + 3 * t2) * v1
        + (t3 - t2) * d1
    )


def _number(name: str, value: Any, limit: float = limits.MAX_FLOAT) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(f"{name}: expected a number, got {_shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ParamError(f"{name}: expected a finite number, got {value!r}")
    if abs(value) > limit:  # ints compared exactly: float() of 10**400 would overflow
        bound = limit if isinstance(limit, int) else f"{limit:.6g}"
        raise ParamError(f"{name}: {_shown(value)} is beyond the limit of ±{bound}")
    return float(value)


def _shown(value: Any) -> str:
    """A value as an error message shows it: its repr, cut to one short line."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _coerce_float(p: Param, value: Any) -> float:
    return _number(p.name, value)


def _coerce_int(p: Param, value: Any) -> int:
    number = _number(p.name, value, limits.MAX_INT)
    if number != int(number):
        raise ParamError(f"{p.name}: expected a whole number, got {value!r}")
    return int(number)


def _coerce_bool(p: Param, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError(f"{p.name}: expected true or false, got {value!r}")
    return value


def _coerce_enum(p: Param, value: Any) -> str:
    if value not in p.choices:
        raise ParamError(f"{p.name}: expected one of {', '.join(p.choices)}; got {value!r}")
    return value


def _coerce_vector(p: Param, value: Any, size: int, broadcast: bool) -> tuple[float, ...]:
    if broadcast and isinstance(value, (int, float)) and not isinstance(value, bool):
        return (_number(p.name, value),) * size
    if not isinstance(value, (list, tuple)) or len(value) != size:
        raise ParamError(f"{p.name}: expected {size} numbers, got {value!r}")
    return tuple(_number(p.name, v) for v in value)


def _coerce_rgba(p: Param, value: Any) -> tuple[float, ...]:
    if isinstance(value, (list, tuple)) and len(value) == 3:
        value = (*value, 1.0 if p.default[3] == 1.0 else p.default[3])
    return _coerce_vector(p, value, 4, broadcast=True)


def _coerce_vec2(p: Param, value: Any) -> tuple[float, ...]:
    return _coerce_vector(p, value, 2, broadcast=False)


def _coerce_channels(p: Param, value: Any) -> str | tuple[str, ...]:
    """A channel set: a keyword or layer name (text), or a list of channel names."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, str) and v.strip() for v in value)
    ):
        return tuple(v.strip() for v in value)
    raise ParamError(
        f"{p.name}: expected 'rgba', 'rgb', 'alpha', 'all', a layer name or a list of "
        f"channel names, got {value!r}"
    )


def _coerce_mapping(p: Param, value: Any) -> tuple[tuple[str, str], ...]:
    """Shuffle's mapping: output channel name -> source (sorted pairs, hashable)."""
    if isinstance(value, (list, tuple)):
        try:
            value = dict(value)
        except (TypeError, ValueError):
            pass
    if not isinstance(value, dict):
        raise ParamError(f"{p.name}: expected a mapping of output channel to source, got {value!r}")
    for key, source in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ParamError(f"{p.name}: output channel names must be text, got {key!r}")
        if not isinstance(source, str) or not source.strip():
            raise ParamError(f"{p.name}.{key}: expected a channel name, '0' or '1', got {source!r}")
    return tuple(sorted((k.strip(), v.strip()) for k, v in value.items()))


def _shapes():
    """``nodes/shapes.py`` (imported when first used: it imports nothing from here)."""
    from mattebox.nodes import shapes

    return shapes


def _coerce_shapes(p: Param, value: Any) -> tuple[dict, ...]:
    try:
        return _shapes().coerce(value)
    except _shapes().ShapeError as error:
        raise ParamError(f"{p.name}: {error}") from None


def _coerce_array(p: Param, value: Any):
    from mattebox.nodes import arrays

    try:
        return arrays.coerce(value)
    except arrays.ArrayError as error:
        raise ParamError(f"{p.name}: {error}") from None


def _coerce_string(p: Param, value: Any) -> str:
    if not isinstance(value, str):
        raise ParamError(f"{p.name}: expected text, got {_shown(value)}")
    if "\0" in value:  # no file name has one; the libraries would cut the text there
        raise ParamError(f"{p.name}: contains a NUL character")
    return value


_COERCERS = {
    "float": _coerce_float,
    "int": _coerce_int,
    "bool": _coerce_bool,
    "enum": _coerce_enum,
    "rgba": _coerce_rgba,
    "vec2": _coerce_vec2,
    "string": _coerce_string,
    "file": _coerce_string,
    "channels": _coerce_channels,
    "mapping": _coerce_mapping,
    "shapes": _coerce_shapes,
    "array": _coerce_array,
}


def Float(name: str, default: float, doc: str, **kw: Any) -> Param:
    """A floating-point parameter."""
    return Param(name, "float", float(default), doc, **kw)


def Int(name: str, default: int, doc: str, **kw: Any) -> Param:
    """An integer parameter."""
    return Param(name, "int", int(default), doc, **kw)


def Bool(name: str, default: bool, doc: str, **kw: Any) -> Param:
    """A checkbox."""
    return Param(name, "bool", bool(default), doc, animatable=False, **kw)


def Enum(name: str, choices: Sequence[str], default: str, doc: str, **kw: Any) -> Param:
    """A choice among fixed items (a combo box in the editor)."""
    if default not in choices:
        raise ValueError(f"{name}: default {default!r} is not one of {choices}")
    return Param(name, "enum", default, doc, choices=tuple(choices), animatable=False, **kw)


def RGBA(name: str, default: float | Sequence[float], doc: str, **kw: Any) -> Param:
    """A colour with alpha; a single number broadcasts to all four channels."""
    if isinstance(default, (int, float)):
        default = (float(default),) * 4
    return Param(name, "rgba", tuple(float(v) for v in default), doc, **kw)


def Vec2(name: str, default: Sequence[float], doc: str, **kw: Any) -> Param:
    """A 2D vector (position, scale, size)."""
    return Param(name, "vec2", tuple(float(v) for v in default), doc, **kw)


def String(name: str, default: str, doc: str, **kw: Any) -> Param:
    """Free text."""
    return Param(name, "string", default, doc, animatable=False, **kw)


def Channels(name: str, default: str | Sequence[str], doc: str, **kw: Any) -> Param:
    """A set of channels: ``rgba``, ``rgb``, ``alpha``, ``all``, a layer name, or a list of
    channel names (``["R", "depth.Z"]``)."""
    value = default if isinstance(default, str) else tuple(default)
    return Param(name, "channels", value, doc, animatable=False, **kw)


def Mapping(name: str, doc: str, **kw: Any) -> Param:
    """A mapping of output channel name to a source (Shuffle's ``mapping``)."""
    return Param(name, "mapping", (), doc, animatable=False, **kw)


def Shapes(name: str, doc: str, **kw: Any) -> Param:
    """Roto shapes: a list of closed Bézier shapes in format pixels (``nodes/shapes.py``),
    animatable as a whole; spatial, so a proxy render scales them."""
    return Param(name, "shapes", (), doc, spatial=True, **kw)


def Array(name: str, doc: str, **kw: Any) -> Param:
    """Pixels from Python (``nodes/arrays.py``): an array, anything with ``__dlpack__`` or
    ``__array__``, or a callable frame -> array. Held in memory, never saved."""
    return Param(name, "array", None, doc, animatable=False, savable=False, **kw)


def FilePath(name: str, default: str, doc: str, **kw: Any) -> Param:
    """A path to a file or a frame sequence (``plate.####.exr``)."""
    return Param(name, "file", default, doc, animatable=False, **kw)


# --------------------------------------------------------------------------- node types


@dataclass(frozen=True)
class Window:
    """A pixel box ``(x0, y0, x1, y1)``, x1 and y1 exclusive, origin top-left, y down."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return max(0, self.x1 - self.x0)

    @property
    def height(self) -> int:
        return max(0, self.y1 - self.y0)

    @property
    def empty(self) -> bool:
        return self.width == 0 or self.height == 0

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def intersect(self, other: Window) -> Window:
        x0, y0 = max(self.x0, other.x0), max(self.y0, other.y0)
        x1, y1 = min(self.x1, other.x1), min(self.y1, other.y1)
        return Window(x0, y0, max(x0, x1), max(y0, y1))

    def union(self, other: Window) -> Window:
        if self.empty:
            return other
        if other.empty:
            return self
        return Window(
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )

    def grow(self, dx: int, dy: int | None = None) -> Window:
        dy = dx if dy is None else dy
        if self.empty:
            return self
        return Window(self.x0 - dx, self.y0 - dy, self.x1 + dx, self.y1 + dy)

    def contains(self, other: Window) -> bool:
        return (
            other.empty
            or self.x0 <= other.x0
            and self.y0 <= other.y0
            and self.x1 >= other.x1
            and self.y1 >= other.y1
        )

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x0, self.y0, self.x1, self.y1)

    def __str__(self) -> str:
        return f"[{self.x0},{self.y0} {self.x1},{self.y1}]"


EMPTY = Window(0, 0, 0, 0)

#: The layers of an image with only the main layer.
RGBA_LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (("rgba", ("R", "G", "B", "A")),)


@dataclass(frozen=True)
class Format:
    """The display window: the frame the artist composes in."""

    width: int
    height: int
    pixel_aspect: float = 1.0

    @property
    def window(self) -> Window:
        return Window(0, 0, self.width, self.height)


@dataclass(frozen=True)
class ImageInfo:
    """What the planner knows of a node's output before computing it: its format, data
    window and layers (``(layer name, channel names)`` pairs, the main ``rgba`` first)."""

    format: Format
    data_window: Window
    layers: tuple[tuple[str, tuple[str, ...]], ...] = RGBA_LAYERS


@dataclass
class Context:
    """What a node may consult when it describes itself at one frame.

    Filled by the engine; nodes read it and never import engine code.
    """

    frame: float
    script_format: Format
    working_space: str = "ACEScg"
    ocio_config: str | None = None
    script_dir: str = "."
    extras: dict = field(default_factory=dict)
    proxy: int = 1  # a proxy render: everything at 1/proxy scale (script_format included)


@dataclass(frozen=True)
class PointProgram:
    """A point function generated from a node's values (the Expression node's formulas).

    ``name`` is unique per program (kernels and shaders are keyed by it); ``python`` is
    the source of a module defining ``name`` as a ``@kernel`` for the CPU, ``wgsl`` the
    WGSL function ``name``. Both take the four components of each of the first
    ``inputs`` inputs, then the pixel's ``x`` and ``y`` (float32), then the parameter
    block.
    """

    name: str
    python: str
    wgsl: str
    inputs: int

    def wired(self, wires: tuple) -> tuple:
        """A record's wiring cut or padded (with nothing) to the function's inputs."""
        return tuple(wires[: self.inputs]) + (("none", -1),) * (self.inputs - len(wires))


class NodeSpec:
    """Base class of node declarations.

    Subclasses set the class attributes and, by kind, implement:

    * POINT: ``cpu_point`` (plain Python, compiled by the CPU backend) taking the four
      floats of each image input in order, then ``p`` (the float32 parameter block from
      :meth:`pack`), and returning four floats; plus a ``.wgsl`` file beside the module.
    * AREA: :meth:`halo`, :meth:`data_window`, :meth:`input_region`, :meth:`kernel_args`
      and a ``cpu_kernel`` (plain Python, using ``prange`` from
      :mod:`mattebox.nodes.kernel`); ``separable`` when its WGSL runs as two 1D passes.
    * RESAMPLE: :meth:`kernel_args` from the map (output pixel centre -> input position),
      :meth:`gpu_kernel_params` when the WGSL needs the map re-expressed.
    * COLOR_PROCESSOR: :meth:`ocio_request`.
    * SOURCE: :meth:`source_info` and :meth:`generate` (or ``file_source``: Read).
    * SINK: the engine's render module writes it; the node only declares parameters.
    * Time nodes (TimeOffset, FrameHold, FrameRange): POINT with no kernel;
      :meth:`input_frame` names the frame their ``Source`` is evaluated at, and the
      engine returns that record as theirs, by reference.

    Every hook below is declared here with its default, so the contract reads in one
    place. Layers: a kernel sees one layer at a time as four components (the main layer's
    R G B A, or another layer's channels); :meth:`layers`, :meth:`layer_kernel`,
    :meth:`pack_selected` and :meth:`routing` say what a node does with layers, and
    :func:`register` adds the common parameters (``disable``; ``channels``, ``Mask``,
    ``mask_channel``, ``invert_mask``, ``mix``; ``unpremult``): see ``docs/layers.md``.
    """

    type_name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    family: ClassVar[str] = "other"
    kind: ClassVar[Kind] = Kind.POINT
    inputs: ClassVar[tuple[str, ...]] = ("Source",)
    optional_inputs: ClassVar[tuple[str, ...]] = ()
    params: ClassVar[tuple[Param, ...]] = ()
    doc: ClassVar[str] = ""
    #: Made by the engine (the per-layer kernels a node is planned into), not offered to
    #: users: the editor and the node docs leave it out; tests still run it everywhere.
    internal: ClassVar[bool] = False
    #: Whether the node changes pixels and so takes ``channels``, an optional ``Mask``
    #: input, ``mask_channel``, ``invert_mask`` and ``mix`` (ARCHITECTURE.md, "Image
    #: model"). None: decided by family and kind (colour, OCIO, filter, merge and keyer
    #: nodes that are point, area or colour-processor ops).
    maskable: ClassVar[bool | None] = None
    #: Whether the node takes ``unpremult`` (colour nodes). None: maskable colour nodes.
    unpremult_option: ClassVar[bool | None] = None
    #: Whether the output's data window is the main (first) input's alone, not the union
    #: of all inputs' (see :meth:`data_window`).
    window_of_main_input: ClassVar[bool] = False
    #: The parameters the node type declares itself (set by :func:`register`, which adds
    #: the common ones after them).
    _declared_params: ClassVar[tuple[str, ...]] = ()
    #: SOURCE: pixels come from a file the engine reads (Read), not from ``generate``.
    file_source: ClassVar[bool] = False
    #: Nodes that are not maskable and compute the main layer alone (Roto): the main
    #: input's other layers pass through by reference instead of through the kernel.
    main_layer_only: ClassVar[bool] = False
    #: AREA: the WGSL runs as two 1D passes (``<stem>_vertical`` into a scratch buffer
    #: indexed by ``<stem>_tmp_index``, then ``<stem>_horizontal``) instead of one
    #: ``<stem>_pixel`` per output pixel.
    separable: ClassVar[bool] = False
    #: Node types whose WGSL functions this node's WGSL calls (the GPU backend puts their
    #: files in the same shader, once): shared formulas are written once.
    wgsl_uses: ClassVar[tuple[str, ...]] = ()
    #: POINT: the CPU reference function (see :meth:`cpu_point_for`).
    cpu_point: ClassVar[Any] = None
    #: AREA and RESAMPLE: the CPU kernel of a tile ``(src, sx0, sy0, dst, dx0, dy0,
    #: *kernel_args)``; an area node with further inputs (VectorBlur's motion plane) gets
    #: each as ``buffer, x0, y0`` after ``dy0`` (its WGSL reads ``mb_fetch_SRC1(x, y)``...).
    cpu_kernel: ClassVar[Any] = None

    # -- declaration helpers ------------------------------------------------------------

    @classmethod
    def param(cls, name: str) -> Param:
        """The declared parameter called ``name``; KeyError if there is none."""
        for p in cls.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        return tuple(p.name for p in cls.params)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {p.name: p.default for p in cls.params}

    @classmethod
    def values_at(cls, values: dict[str, Any], frame: float) -> dict[str, Any]:
        """Every parameter's value at ``frame`` (defaults filled in)."""
        out = {}
        for p in cls.params:
            out[p.name] = p.at(values.get(p.name, p.default), frame)
        return out

    @classmethod
    def scaled_values(cls, values: dict[str, Any], proxy: int) -> dict[str, Any]:
        """Values at one frame as a proxy render at 1/``proxy`` scale sees them."""
        if proxy == 1:
            return values
        return {
            name: cls.param(name).scaled(value, proxy) if name in cls.param_names() else value
            for name, value in values.items()
        }

    @classmethod
    def upgrade(cls, values: dict[str, Any], from_version: int) -> dict[str, Any]:
        """Return parameter values saved by ``from_version`` in this version's terms."""
        return values

    @classmethod
    def is_required(cls, input_name: str) -> bool:
        return input_name not in cls.optional_inputs

    @classmethod
    def image_inputs(cls) -> tuple[str, ...]:
        """The inputs its kernels read, in order (every input but ``Mask``, which the
        engine's mask mix reads)."""
        return tuple(n for n in cls.inputs + cls.optional_inputs if n != MASK_INPUT)

    @classmethod
    def main_input(cls) -> str | None:
        """The input a disabled node passes through, and the ``in`` of the mask mix
        (``Source``; B for a Merge): the first input."""
        names = cls.image_inputs()
        return names[0] if names else None

    @classmethod
    def is_maskable(cls) -> bool:
        if cls.maskable is not None:
            return cls.maskable
        return (
            not cls.internal
            and cls.family in MASKABLE_FAMILIES
            and cls.kind in (Kind.POINT, Kind.AREA, Kind.COLOR_PROCESSOR)
        )

    @classmethod
    def has_unpremult(cls) -> bool:
        if cls.unpremult_option is not None:
            return cls.unpremult_option
        return cls.is_maskable() and cls.family in ("color", "ocio")

    @classmethod
    def own_mix(cls) -> bool:
        """Whether the node's own kernel computes ``mix`` (declared before the common
        parameters were added)."""
        return "mix" in cls._declared_params

    @classmethod
    def layers(cls, values: dict[str, Any], inputs: list[ImageInfo | None]):
        """The layers of the output: by default the main input's."""
        present = [i for i in inputs if i is not None]
        return present[0].layers if present else RGBA_LAYERS

    @classmethod
    def layer_kernel(
        cls,
        values: dict[str, Any],
        layer: str,
        select: tuple[int, ...] | None,
        layers: tuple = RGBA_LAYERS,
    ):
        """How the node computes ``layer``, whose channels its ``channels`` select as
        ``select`` (None: not selected): ``(spec, values, inputs)``, ``inputs`` being
        ``(input index, layer)`` pairs in the order ``spec``'s kernel reads them; None to
        pass the main input's layer through. ``layers`` are the main input's layers (a
        node that reads channels by name finds them there). By default, its own kernel on
        that layer of each input where selected."""
        if select is None:
            return None
        return cls, values, tuple((index, layer) for index in range(len(cls.image_inputs())))

    @classmethod
    def pack_selected(
        cls, values: dict[str, Any], ctx: Context, select: tuple[float, ...]
    ) -> list[float] | None:
        """Point ops whose kernel can change only some of a plane's four components: the
        parameter block that changes those where ``select`` is 1. None (the default): the
        engine wraps the node in a mask mix that keeps the others."""
        return None

    @classmethod
    def routes(cls) -> bool:
        """Whether the node is a channel node (it implements :meth:`routing`)."""
        return cls.routing.__func__ is not NodeSpec.routing.__func__

    @classmethod
    def routing(cls, values: dict[str, Any], inputs: list[ImageInfo | None]):
        """Channel nodes (Shuffle, Copy, Remove, ChannelMerge): ``(layers, sources)``, the
        output's layers and, for each output channel name, where it comes from:
        ``("in", input index, channel name)``, ``("const", value)`` or ``("op", operation,
        (input index, channel name), (input index, channel name))``. None for other
        nodes, which process the layers their ``channels`` select."""

    # -- evaluation hooks (overridden by kind) -------------------------------------------

    @classmethod
    def context_key(cls, values: dict[str, Any], ctx: Context) -> Any:
        """What of the render's context, beyond the parameters and inputs, the pixels
        depend on (the frame for animated noise, the format for an expression reading
        ``width``): it enters the record's hash, so caches keep frames apart. None (the
        default): nothing."""
        return None

    @classmethod
    def pass_through(cls, values: dict[str, Any]) -> str | None:
        """Name of the input returned unchanged for these values (e.g. mix 0), else None."""
        return None

    @classmethod
    def input_frame(cls, values: dict[str, Any], frame: float) -> float | None:
        """Time nodes: the frame at which their ``Source`` is evaluated when the node is
        rendered at ``frame`` (values are the node's at ``frame``); the node's output is
        that record, by reference. None (every other node): the same frame, and the
        node computes as its kind says."""
        return None

    @classmethod
    def input_frames(cls, values: dict[str, Any], frame: float) -> list | None:
        """Time nodes that blend frames (Retime): ``(frame, weight)`` pairs, weights
        relative; the node's output is the weighted mix of its ``Source`` at those frames
        (one frame with all the weight: that record, by reference). None (the default):
        :meth:`input_frame` decides."""
        return None

    @classmethod
    def data_window(
        cls, values: dict[str, Any], inputs: list[ImageInfo], ctx: Context
    ) -> ImageInfo:
        """The output's format and data window from the inputs': their union, or the
        main input's alone with ``window_of_main_input`` (a keyer's other inputs, a
        premultiplication's alpha, do not widen it)."""
        if cls.window_of_main_input:
            main = inputs[0] if inputs else None
            if main is None:
                return ImageInfo(ctx.script_format, EMPTY)
            return ImageInfo(main.format, main.data_window, main.layers)
        present = [i for i in inputs if i is not None]
        if not present:
            return ImageInfo(ctx.script_format, EMPTY)
        window = EMPTY
        for info in present:
            window = window.union(info.data_window)
        return ImageInfo(present[0].format, window)

    @classmethod
    def input_region(
        cls, values: dict[str, Any], region: Window, index: int, ctx: Context
    ) -> Window:
        """The region of input ``index`` needed to compute ``region`` of the output."""
        return region

    @classmethod
    def cpu_point_for(cls, values: dict[str, Any]):
        """Point ops: the CPU function for these values (a variant specialised on an enum,
        say); by default ``cpu_point``. It must read the same ``pack()`` block."""
        return cls.cpu_point

    @classmethod
    def point_program(cls, values: dict[str, Any]) -> PointProgram | None:
        """Point ops whose function is generated from their values (the Expression
        node): that function for both backends; None (the default): ``cpu_point_for``
        and the WGSL file's ``<stem>_point``."""
        return None

    @classmethod
    def pack(cls, values: dict[str, Any], ctx: Context) -> list[float]:
        """Point ops: the parameter block as floats, in the order ``point`` reads them."""
        return []

    @classmethod
    def halo(cls, values: dict[str, Any], ctx: Context | None = None) -> tuple[int, int]:
        """AREA: the pixels (x, y) an output pixel reaches into its input on each side."""
        return (0, 0)

    @classmethod
    def kernel_args(
        cls, values: dict[str, Any], ctx: Context, src_window: Window, dst_window: Window
    ) -> tuple:
        """AREA and RESAMPLE: the arguments after the windows of ``cpu_kernel`` (and,
        flattened to floats, the WGSL kernel's parameter block)."""
        return ()

    @classmethod
    def gpu_kernel_params(
        cls, values: dict[str, Any], args: tuple, out_window: Window, src_window: Window
    ) -> tuple[list[float], tuple[int, int], tuple[int, int]]:
        """AREA and RESAMPLE: the WGSL kernel's parameter block and the coordinate
        origins (output, input) it works in, from :meth:`kernel_args`' ``args``.

        By default ``args`` flattened, in image coordinates (origins 0). A node whose
        float32 positions would lose precision far from the origin re-expresses them
        relative to its windows (:class:`~mattebox.nodes.transform.resample.AffineResample`).
        """
        flat = [float(v) for a in args for v in np.ravel(np.asarray(a, np.float64))]
        return flat, (0, 0), (0, 0)

    @classmethod
    def source_info(cls, values: dict[str, Any], ctx: Context) -> ImageInfo:
        """SOURCE (generated): the output's format and data window."""
        raise NotImplementedError(f"{cls.type_name} does not describe its output")

    @classmethod
    def generate(cls, values: dict[str, Any], region: Window, ctx: Context):
        """SOURCE (generated): the pixels of ``region`` as an H×W×4 float32 array."""
        raise NotImplementedError(f"{cls.type_name} generates no pixels")

    @classmethod
    def ocio_request(cls, values: dict[str, Any], ctx: Context) -> dict[str, Any]:
        """COLOR_PROCESSOR: the OCIO processor to build: ``{"op": kind, ...arguments}``."""
        raise NotImplementedError(f"{cls.type_name} builds no OCIO processor")


_REGISTRY: dict[str, type[NodeSpec]] = {}


def register(spec: type[NodeSpec]) -> type[NodeSpec]:
    """Class decorator adding a node type to the registry; duplicate names are refused."""
    name = spec.type_name
    if not name:
        raise ValueError(f"{spec.__name__} has no type_name")
    if name in _REGISTRY and _REGISTRY[name] is not spec:
        raise ValueError(
            f"node type {name!r} is already registered by {_REGISTRY[name].__module__}"
        )
    names = [p.name for p in spec.params]
    if len(set(names)) != len(names):
        raise ValueError(f"{name}: duplicate parameter names")
    _add_common_params(spec)
    _REGISTRY[name] = spec
    return spec


#: The input that masks a node's effect (ARCHITECTURE.md, "Image model").
MASK_INPUT = "Mask"
MASKABLE_FAMILIES = ("color", "ocio", "filter", "merge", "keyer")


def _add_common_params(spec: type[NodeSpec]) -> None:
    """Give a node type the parameters every node of its kind has: ``disable`` always;
    ``channels``, ``Mask``, ``mask_channel``, ``invert_mask`` and ``mix`` when it changes
    pixels; ``unpremult`` for colour nodes. Declared once here, so each node module
    declares only what is its own."""
    if "_declared_params" in vars(spec):
        return
    spec._declared_params = tuple(p.name for p in spec.params)
    if spec.internal:
        return
    extra: list[Param] = []
    declared = set(spec._declared_params)
    if spec.is_maskable():
        if "channels" not in declared and not spec.routes():
            extra.append(
                Channels(
                    "channels",
                    "rgba",
                    "Channels it changes: rgba, rgb, alpha, all, a layer, or a list of "
                    "channel names; the others pass through.",
                )
            )
        if spec.has_unpremult():
            extra.append(
                Enum(
                    "unpremult",
                    ("none", "alpha"),
                    "none",
                    "Divide by alpha before, multiply after (Nuke's '(un)premult by').",
                )
            )
        extra.append(
            String("mask_channel", "A", "Channel of the Mask input that limits the effect.")
        )
        extra.append(Bool("invert_mask", False, "Use 1 - mask instead of the mask."))
        if "mix" not in declared:
            extra.append(
                Float("mix", 1.0, "Blend between the input (0) and the result (1).", min=0, max=1)
            )
        if MASK_INPUT not in spec.optional_inputs:
            spec.optional_inputs = (*spec.optional_inputs, MASK_INPUT)
    extra.append(Bool("disable", False, "Turn the node off: its main input passes through (D)."))
    spec.params = (*spec.params, *(p for p in extra if p.name not in declared))


def unregister(name: str) -> None:
    """Remove a node type (tests and plug-in reloads)."""
    _REGISTRY.pop(name, None)


def registry() -> dict[str, type[NodeSpec]]:
    """All registered node types by type name (the built-in nodes loaded)."""
    from mattebox.nodes import load_builtin_nodes

    load_builtin_nodes()
    return dict(_REGISTRY)


def get(type_name: str) -> type[NodeSpec]:
    """The node type called ``type_name``; KeyError if unknown."""
    return registry()[type_name]


def type_hint(type_name: str) -> str:
    """The tail of an unknown-type message: `` (did you mean 'Grade'?)`` from the closest
    user-facing type names, else where to find them."""
    names = [name for name, spec in registry().items() if not spec.internal]
    if suggest.close_names(type_name, names):
        return suggest.did_you_mean(type_name, names, "node types")
    return " (`mattebox nodes` lists them)"


def param_hint(spec: type[NodeSpec], name: str) -> str:
    """The tail of an unknown-parameter message: the closest parameter names of ``spec``,
    else all of them."""
    names = spec.param_names()
    if suggest.close_names(name, names):
        return suggest.did_you_mean(name, names, "parameters")
    return f" (it has {', '.join(names) or 'none'})"
