"""Pixels handed over from Python: the value of an ``array`` parameter (ArrayRead).

An :class:`ArrayValue` holds what the user gave, a numpy array, anything with
``__dlpack__`` (a torch tensor) or ``__array__``, or a callable ``frame -> array``,
together with a serial number that is new for every assignment: the node's hash follows
it, so assigning again (even the same object) tells the caches that the contents changed.
:meth:`ArrayValue.at` gives the pixels at a frame as a numpy array that shares memory with
what was given wherever the dtype allows (float32 of any layout is viewed, never copied).

Nothing here is written to scripts: the parameter is declared ``savable=False``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from mattebox.nodes import limits

#: DLPack device types numpy can view: CPU memory (``kDLCPU``) and pinned host memory
#: (``kDLCUDAHost``, ``kDLROCMHost``).
_HOST_DEVICES = {1: "cpu", 3: "cuda_host", 11: "rocm_host"}
_DEVICE_NAMES = {2: "cuda", 4: "opencl", 7: "vulkan", 8: "metal", 10: "rocm", 13: "cuda_managed"}
#: Float dtypes converted to float32 (a copy on every render); float32 itself is shared.
_CONVERTED = (np.float16, np.float64, np.longdouble)

_serials = itertools.count(1)


class ArrayError(ValueError):
    """Something given as an array that cannot be pixels; the message is for people."""


@dataclass(frozen=True, eq=False)
class ArrayValue:
    """What an ``array`` parameter holds: ``source`` (an array-like or a callable) and
    ``serial``, unique to this assignment. Equal only to itself; copies are itself (a
    4K plate is not duplicated by an undo step or a deep copy of the node's values)."""

    source: Any
    serial: int

    @property
    def token(self) -> tuple:
        """The assignment's identity (a :class:`Frame` adds the frame for a callable)."""
        return ("array", self.serial)

    @property
    def per_frame(self) -> bool:
        """Whether ``source`` is a callable giving one array per frame."""
        return is_callable_source(self.source)

    def at(self, frame: float) -> Frame:
        """The pixels at ``frame``: the callable's result there, or the array itself.

        Raises :class:`ArrayError` for anything that is not H×W or H×W×C (C 1 to 4) of a
        float dtype in host memory, and for a callable that fails or returns such a thing.
        """
        if not self.per_frame:
            return Frame(to_float32(as_numpy(self.source)), self.token)
        number = int(frame) if float(frame).is_integer() else float(frame)
        try:
            result = self.source(number)
        except Exception as error:  # noqa: BLE001 - the user's code: any failure is ours
            raise ArrayError(
                f"the callable failed at frame {number}: {type(error).__name__}: {error}"
            ) from None
        if is_callable_source(result) or result is None:
            raise ArrayError(
                f"the callable returned {_shown(result)} at frame {number}, not an array"
            )
        try:
            pixels = to_float32(as_numpy(result))
        except ArrayError as error:
            raise ArrayError(f"at frame {number}, the callable returned {error}") from None
        return Frame(pixels, (*self.token, number))

    def __copy__(self) -> ArrayValue:
        return self

    def __deepcopy__(self, memo) -> ArrayValue:
        return self

    def __repr__(self) -> str:
        if self.per_frame:
            return f"<array from {getattr(self.source, '__name__', 'a callable')} per frame>"
        try:
            shape = "×".join(str(n) for n in np.shape(self.source))
        except Exception:  # noqa: BLE001 - a repr must not fail
            shape = "?"
        return f"<array {shape} {type(self.source).__name__}>"


@dataclass(frozen=True, eq=False)
class Frame:
    """An array at one frame: ``pixels`` (float32 H×W×C, C 1 to 4) and ``token``, the
    identity that enters the hash (the assignment's serial, and the frame for a
    callable)."""

    pixels: np.ndarray
    token: tuple


def is_callable_source(value: Any) -> bool:
    """A callable that is not itself an array (a torch tensor is callable-free, but a
    class with ``__call__`` and ``__array__`` counts as an array)."""
    return (
        callable(value)
        and not isinstance(value, np.ndarray)
        and not hasattr(value, "__dlpack__")
        and not hasattr(value, "__array__")
    )


def coerce(value: Any) -> ArrayValue | None:
    """The parameter's value for ``value``: None, a fresh :class:`ArrayValue` (a new
    serial, even for the same object), or :class:`ArrayError` for something that is not
    an array (checked now, without converting) nor a callable."""
    if value is None:
        return None
    if isinstance(value, ArrayValue):
        return value
    if not is_callable_source(value):
        check(as_numpy(value))
    return ArrayValue(value, next(_serials))


def as_numpy(value: Any) -> np.ndarray:
    """``value`` as a numpy array without a copy where its producer allows one: numpy
    arrays as they are, DLPack producers through ``np.from_dlpack`` (shared memory),
    other ``__array__`` objects through ``np.asarray``."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "__dlpack__"):
        _check_host(value)
        try:
            return np.from_dlpack(value)
        except Exception as error:  # noqa: BLE001 - BufferError, RuntimeError (grad)...
            raise ArrayError(f"cannot view {_shown(value)} through DLPack: {error}") from None
    if hasattr(value, "__array__"):
        try:
            return np.asarray(value)
        except Exception as error:  # noqa: BLE001 - the object's own __array__ failed
            raise ArrayError(f"cannot read {_shown(value)} as an array: {error}") from None
    raise ArrayError(
        f"expected an array (numpy, or anything with __dlpack__ or __array__, such as a "
        f"torch tensor) or a callable frame -> array, got {_shown(value)}"
    )


def _check_host(value: Any) -> None:
    try:
        device_type, index = value.__dlpack_device__()
    except Exception:  # noqa: BLE001 - no device query: np.from_dlpack decides
        return
    if int(device_type) not in _HOST_DEVICES:
        name = _DEVICE_NAMES.get(int(device_type), f"device type {int(device_type)}")
        raise ArrayError(
            f"{_shown(value)} lives on {name}:{index}, not in host memory; "
            "give a CPU array (tensor.cpu())"
        )


def check(pixels: np.ndarray) -> None:
    """Raise :class:`ArrayError` unless ``pixels`` is H×W or H×W×C (C 1 to 4), not
    empty, within the image size limit, of a float dtype."""
    shape = tuple(pixels.shape)
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and not 1 <= shape[2] <= 4):
        raise ArrayError(
            f"expected an H×W or H×W×C array with C from 1 to 4 (grey, grey+alpha, RGB, "
            f"RGBA), got shape {shape}"
        )
    if shape[0] == 0 or shape[1] == 0:
        raise ArrayError(f"the array is empty (shape {shape})")
    if max(shape[:2]) > limits.MAX_IMAGE_SIZE:
        raise ArrayError(
            f"shape {shape} is larger than the image limit {limits.MAX_IMAGE_SIZE} pixels"
        )
    if pixels.dtype != np.float32 and pixels.dtype.type not in _CONVERTED:
        raise ArrayError(
            f"dtype {pixels.dtype} is not a float type: give float32 (shared without a "
            "copy; float16 and float64 are converted), scaled as the pixels should be "
            "(an 8-bit image divided by 255)"
        )


def to_float32(pixels: np.ndarray) -> np.ndarray:
    """``pixels`` checked (:func:`check`) as float32 H×W×C: the same memory for float32,
    a converted copy for the other float types."""
    check(pixels)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.dtype != np.float32:
        pixels = pixels.astype(np.float32)
    return pixels


def rgba(pixels: np.ndarray) -> np.ndarray:
    """H×W×C float32 pixels as H×W×4, the engine's plane: C 4 as it is (a view), else
    a new array: 1 channel grey (R = G = B, alpha 1), 2 grey and alpha, 3 RGB (alpha 1),
    as a Read maps a file's channels by position."""
    count = pixels.shape[2]
    if count == 4:
        return pixels
    out = np.empty((*pixels.shape[:2], 4), np.float32)
    if count == 3:
        out[..., :3] = pixels
    else:
        out[..., :3] = pixels[..., :1]
    out[..., 3] = pixels[..., 1] if count == 2 else 1.0
    return out


def _shown(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    kind = type(value)
    return (
        f"{kind.__module__}.{kind.__qualname__}"
        if kind.__module__ != "builtins"
        else repr(value)[:60]
    )
