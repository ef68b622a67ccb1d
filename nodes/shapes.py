"""Roto shapes: the value of a ``shapes`` parameter (``nodes/spec.Shapes``).

A value is a tuple of shape dicts, composited in order by the Roto node. In scripts and the
Python API a shape is::

    {"name": "Bezier1",
     "points": [[x, y, in_dx, in_dy, out_dx, out_dy], ...],
     "feather": [f0, f1, ...],            # or one number for every point
     "feather_falloff": "smooth",         # or "linear"
     "opacity": 1.0, "invert": False, "blend": "over",   # or "add", "subtract"
     "closed": True, "enabled": True}

Points are in format pixels (origin top-left, y down); the tangent handles are relative to
their point and zero handles make a polygon corner; ``[x, y]`` alone is a corner. Missing
keys take the defaults in :data:`DEFAULTS` and only other values are written to scripts.
The canonical form (what :func:`coerce` returns) has every key, ``points`` as a tuple of
6-tuples of floats and ``feather`` as a tuple with one number per point.

This module imports nothing from ``engine`` or ``app``.
"""

from __future__ import annotations

import math
from typing import Any

FALLOFFS = ("smooth", "linear")
BLENDS = ("over", "add", "subtract")
#: Every key of a shape but ``name``, ``points`` and ``feather``, with its default.
DEFAULTS: dict[str, Any] = {
    "feather_falloff": "smooth",
    "opacity": 1.0,
    "invert": False,
    "blend": "over",
    "closed": True,
    "enabled": True,
}
KEYS = ("name", "points", "feather", *DEFAULTS)
#: The largest coordinate, tangent or feather, in pixels: float32 (the GPU's) holds every
#: whole pixel up to it.
MAX_COORDINATE = 2**24


class ShapeError(ValueError):
    """A shape value that does not fit the format; the message names the shape and point."""


# --------------------------------------------------------------------------- coercion


def coerce(value: Any) -> tuple[dict, ...]:
    """``value`` (a list of shape dicts) in canonical form, or raise :class:`ShapeError`."""
    if isinstance(value, dict):
        raise ShapeError("expected a list of shapes, got one shape (put it in a list)")
    if not isinstance(value, (list, tuple)):
        raise ShapeError(f"expected a list of shapes, got {value!r}")
    shapes = [_coerce_shape(number, shape) for number, shape in enumerate(value, 1)]
    seen: set[str] = set()
    for number, shape in enumerate(shapes, 1):
        if shape["name"] is None:  # unnamed: the first free ShapeN
            k = number
            while f"Shape{k}" in seen or any(s["name"] == f"Shape{k}" for s in shapes):
                k += 1
            shape["name"] = f"Shape{k}"
        if shape["name"] in seen:
            raise ShapeError(f"shape {number}: the name {shape['name']!r} is used twice")
        seen.add(shape["name"])
    return tuple(shapes)


def _coerce_shape(number: int, shape: Any) -> dict:
    where = f"shape {number}"
    if not isinstance(shape, dict):
        raise ShapeError(f"{where}: expected a shape dict with 'points', got {shape!r}")
    name = shape.get("name")
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            raise ShapeError(f"{where}: 'name' must be non-empty text, got {name!r}")
        name = name.strip()
        where = f"shape {number} ({name!r})"
    unknown = [k for k in shape if k not in KEYS]
    if unknown:
        raise ShapeError(f"{where}: unknown key {unknown[0]!r} (a shape has {', '.join(KEYS)})")
    points = shape.get("points", [])
    if not isinstance(points, (list, tuple)):
        raise ShapeError(f"{where}: 'points' must be a list of points, got {points!r}")
    points = tuple(_coerce_point(f"{where}: point {k}", p) for k, p in enumerate(points, 1))
    out = {"name": name, "points": points}
    out["feather"] = _coerce_feather(where, shape.get("feather", 0.0), len(points))
    for key, default in DEFAULTS.items():
        out[key] = _coerce_setting(where, key, shape.get(key, default), default)
    return out


def _coerce_point(where: str, point: Any) -> tuple[float, ...]:
    if not isinstance(point, (list, tuple)) or len(point) not in (2, 6):
        raise ShapeError(
            f"{where}: expected [x, y, in_dx, in_dy, out_dx, out_dy] (or [x, y]), got {point!r}"
        )
    numbers = tuple(_number(where, v) for v in point)
    return numbers if len(numbers) == 6 else (*numbers, 0.0, 0.0, 0.0, 0.0)


def _coerce_feather(where: str, feather: Any, count: int) -> tuple[float, ...]:
    if isinstance(feather, (int, float)) and not isinstance(feather, bool):
        return (_number(f"{where}: feather", feather),) * count
    if not isinstance(feather, (list, tuple)) or len(feather) != count:
        raise ShapeError(
            f"{where}: 'feather' must be one number or one per point ({count}), got {feather!r}"
        )
    return tuple(_number(f"{where}: feather of point {k}", v) for k, v in enumerate(feather, 1))


def _coerce_setting(where: str, key: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ShapeError(f"{where}: {key!r} must be true or false, got {value!r}")
        return value
    if key == "opacity":
        number = _number(f"{where}: opacity", value)
        if not 0.0 <= number <= 1.0:
            raise ShapeError(f"{where}: opacity must be between 0 and 1, got {number:g}")
        return number
    choices = FALLOFFS if key == "feather_falloff" else BLENDS
    if value not in choices:
        raise ShapeError(f"{where}: {key!r} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ShapeError(f"{where}: expected a number, got {_shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ShapeError(f"{where}: expected a finite number, got {value!r}")
    if abs(value) > MAX_COORDINATE:  # ints compared exactly (float() of 10**400 overflows)
        raise ShapeError(
            f"{where}: {float(value) if isinstance(value, float) else _shown(value)}"
            f" is beyond the limit of ±{MAX_COORDINATE}"
        )
    return float(value)


def _shown(value: Any) -> str:
    """A value as an error message shows it: its repr, cut to one short line."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


# --------------------------------------------------------------------------- writing


def to_json(shapes: tuple[dict, ...]) -> list[dict]:
    """Shapes as a script writes them: name and points always, other keys where they
    differ from the defaults (a feather that is one number for all points as that number)."""
    out = []
    for shape in shapes:
        entry: dict[str, Any] = {
            "name": shape["name"],
            "points": [list(p) for p in shape["points"]],
        }
        feather = shape["feather"]
        if any(feather):
            same = all(f == feather[0] for f in feather)
            entry["feather"] = feather[0] if same else list(feather)
        for key, default in DEFAULTS.items():
            if shape[key] != default:
                entry[key] = shape[key]
        out.append(entry)
    return out


# --------------------------------------------------------------------------- proxy


def scaled(shapes: tuple[dict, ...], proxy: int) -> tuple[dict, ...]:
    """Shapes at 1/``proxy`` scale: points, tangent handles and feathers divided by it."""
    if proxy == 1:
        return shapes
    return tuple(
        shape
        | {
            "points": tuple(tuple(v / proxy for v in p) for p in shape["points"]),
            "feather": tuple(f / proxy for f in shape["feather"]),
        }
        for shape in shapes
    )


# --------------------------------------------------------------------------- keyframes


def _numbers(shape: dict) -> list[float]:
    """Every interpolated number of a shape: points (6 each), feathers, opacity."""
    return [v for p in shape["points"] for v in p] + list(shape["feather"]) + [shape["opacity"]]


def _from_numbers(shape: dict, numbers: list[float]) -> dict:
    count = len(shape["points"])
    points = tuple(tuple(numbers[6 * k : 6 * k + 6]) for k in range(count))
    feather = tuple(numbers[6 * count : 7 * count])
    opacity = min(1.0, max(0.0, numbers[-1]))
    return shape | {"points": points, "feather": feather, "opacity": opacity}


def _match(shape: dict, shapes: tuple[dict, ...]) -> dict | None:
    """The shape of ``shapes`` with ``shape``'s name and number of points, if any."""
    for other in shapes:
        if other["name"] == shape["name"] and len(other["points"]) == len(shape["points"]):
            return other
    return None


def interpolate(keys: list, i: int, t: float, kind: str, hermite) -> tuple[dict, ...]:
    """The shapes between key ``i`` and key ``i + 1`` (``[frame, shapes, ...]`` lists) at
    ``t`` in [0, 1], ``kind`` ``linear`` or ``smooth``.

    The result has key ``i``'s shapes; each one matched in key ``i + 1`` by name with the
    same number of points has every number (points, tangents, feather, opacity)
    interpolated; the others hold key ``i``'s value. ``smooth`` is the cubic Hermite
    ``hermite(v0, v1, d0, d1, t)`` with Catmull-Rom slopes from the neighbouring keys where
    they have the shape too (flat where they do not, and at the first and last key).
    """
    now, later = keys[i][1], keys[i + 1][1]
    out = []
    for shape in now:
        other = _match(shape, later)
        if other is None:
            out.append(shape)
            continue
        a, b = _numbers(shape), _numbers(other)
        if kind == "linear":
            numbers = [x + (y - x) * t for x, y in zip(a, b)]
        else:
            span = keys[i + 1][0] - keys[i][0]
            d0 = _slope(keys, i, shape, len(a))
            d1 = _slope(keys, i + 1, shape, len(a))
            numbers = [hermite(x, y, s0 * span, s1 * span, t) for x, y, s0, s1 in zip(a, b, d0, d1)]
        out.append(_from_numbers(shape, numbers))
    return tuple(out)


def _slope(keys: list, k: int, shape: dict, count: int) -> list[float]:
    """Catmull-Rom slope (per frame) of every number of ``shape`` at key ``k``; zero at
    the first and last key and where a neighbour lacks the shape."""
    if k == 0 or k == len(keys) - 1:
        return [0.0] * count
    before, after = _match(shape, keys[k - 1][1]), _match(shape, keys[k + 1][1])
    if before is None or after is None:
        return [0.0] * count
    span = keys[k + 1][0] - keys[k - 1][0]
    return [(y - x) / span for x, y in zip(_numbers(before), _numbers(after))]
