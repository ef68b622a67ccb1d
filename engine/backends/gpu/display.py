"""The viewer's display step on the device: linear pixels in, 8-bit screen pixels out.

A render for the viewer leaves its result on the device (``engine/render.py``'s
:func:`~mattebox.engine.render.render_on_device`); one dispatch of ``display.wgsl`` then
box-averages it to screen resolution, applies the exposure, the OCIO display/view/look
(OCIO's shader translated to WGSL by :mod:`ocio_shader`), the gamma and the channel solo,
and packs each pixel into 4 bytes. Only those 4 bytes a screen pixel cross the bus, in row
chunks through the backend's read-back pool, straight into the array the viewer wraps in a
``QImage`` (a 4K image shown at 1:1 moves 33 MB instead of 133 MB of floats there and
back). ``docs/gpu.md`` ("The viewer on the GPU") has the decision.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import wgpu

from mattebox.engine.backends.base import DisplayUnsupported
from mattebox.engine.backends.gpu import shaders, transfer
from mattebox.engine.backends.gpu.shaders import READ, WRITE, ShaderCompileError
from mattebox.nodes.spec import Window

#: The viewer's channel solo modes (engine/viewer.py's CHANNELS) as the shader numbers them.
CHANNEL_MODES = {"rgb": 0, "r": 1, "g": 2, "b": 3, "a": 4, "luminance": 5}
PACKED = 4  # bytes of a displayed pixel


@dataclass(frozen=True)
class PackedImage:
    """A device buffer of ``width`` x ``height`` 8-bit RGBA pixels packed in u32s."""

    buffer: Any
    width: int
    height: int

    @property
    def nbytes(self) -> int:
        return self.width * self.height * PACKED


@functools.cache
def _sections() -> dict[str, string.Template]:
    text = resources.files(__package__).joinpath("display.wgsl").read_text(encoding="utf-8")
    found = dict(re.findall(r"//! section (\w+)\n(.*?)//! end", text, re.DOTALL))
    return {name: string.Template(body) for name, body in found.items()}


def _section(section: str, **values) -> str:
    wx, wy = shaders.WORKGROUP
    return _sections()[section].substitute({"wx": wx, "wy": wy, **values})


def program(backend, processor):
    """The compiled display program for an OCIO ``processor`` (None: no transform, for
    alpha shown as grey), cached by the processor's cache id.

    Raises :class:`DisplayUnsupported` where OCIO's shader has no WGSL translation.
    """
    key = ("display", processor.getCacheID() if processor is not None else None)
    found = backend.pipelines.programs.get(key)
    if found is not None:
        return found
    if key in backend.display_unsupported:
        raise DisplayUnsupported(backend.display_unsupported[key])
    from mattebox.engine.backends.gpu import ocio_shader

    try:
        if processor is None:
            return backend.pipelines.get(key, _identity_program)
        ocio = ocio_shader.build_ocio_program(processor, prefix="ocio")
        return backend.pipelines.get(key, lambda: _ocio_program(backend.device, ocio))
    except (ocio_shader.OcioTranslationError, ShaderCompileError) as error:
        backend.display_unsupported[key] = str(error).splitlines()[0]
        raise DisplayUnsupported(backend.display_unsupported[key]) from None


def _identity_program() -> tuple:
    source = _section("identity", name="mb_no_transform") + _section(
        "display", ocio="mb_no_transform"
    )
    return source, ("main",), [READ, READ, WRITE, READ], {}


def _ocio_program(device, ocio) -> tuple:
    source = "\n".join(
        [
            _section("display", ocio=ocio.function_name),
            ocio.source,
            ocio.binding_declarations(0, 4),
        ]
    )
    bindings = [READ, READ, WRITE, READ]
    extras = {}
    if ocio.data_buffer is not None:
        bindings.append(READ)
        data = np.ascontiguousarray(ocio.data, np.float32).ravel()
        if data.nbytes < 16:
            data = np.concatenate([data, np.zeros(4, np.float32)])
        extras["data"] = device.create_buffer_with_data(data=data, usage=wgpu.BufferUsage.STORAGE)
    return source, ("main",), bindings, extras


def output_shape(box: Window, factor: int) -> tuple[int, int]:
    """``(height, width)`` of the screen pixels of ``box`` reduced by ``factor``."""
    return -(-box.height // factor), -(-box.width // factor)


def record(
    backend,
    handle,
    window: Window,
    box: Window,
    factor: int,
    processor,
    exposure: float,
    gamma: float,
    channel: str,
) -> PackedImage:
    """Record the display dispatch of ``box`` (image pixels inside ``window``, the
    extent of ``handle``) into the backend's open command encoder; returns the packed
    output on the device. The caller holds ``backend.lock``."""
    if channel not in CHANNEL_MODES:
        raise ValueError(f"unknown channel {channel!r} (one of {', '.join(CHANNEL_MODES)})")
    factor = max(1, int(factor))
    height, width = output_shape(box, factor)
    compiled = program(backend, None if channel == "a" else processor)
    out = PackedImage(backend._create(width * height * PACKED), width, height)
    gain = float(np.float32(2.0**exposure)) if exposure else 1.0
    inverse_gamma = 1.0 / gamma if gamma != 1.0 and gamma > 0 else 1.0
    params = [gain, inverse_gamma, float(CHANNEL_MODES[channel])]
    meta = [box.x0, box.y0, box.width, box.height]
    meta += [window.x0, window.y0, window.width, window.height, factor, width, height]
    buffers = [(handle.buffer, handle.nbytes)]
    data = compiled.extras.get("data")
    if data is not None:
        buffers.append((data, data.size))
    backend._dispatch(compiled, "main", params, meta, out, buffers, Window(0, 0, width, height))
    return out


class PackedDownload:
    """Row chunks of packed pixels on their way into a host uint8 H x W x 4 array (the
    interface of :class:`transfer.Download`, which the backend's ``flush`` maps)."""

    def __init__(self, pool: transfer.ReadbackPool, out: np.ndarray):
        self.pool = pool
        self.out = out
        self.chunks: list = []  # [y0, y1, buffer, promise]

    def add(self, y0: int, y1: int, buffer) -> list:
        chunk = [y0, y1, buffer, None]
        self.chunks.append(chunk)
        return chunk

    def _nbytes(self, chunk) -> int:
        return (chunk[1] - chunk[0]) * self.out.shape[1] * PACKED

    def map(self, chunk: list) -> None:
        chunk[3] = chunk[2].map_async(wgpu.MapMode.READ, 0, self._nbytes(chunk))

    def result(self) -> np.ndarray:
        width = self.out.shape[1]
        for chunk in self.chunks:
            y0, y1, buffer, promise = chunk
            promise.sync_wait()
            view = buffer.read_mapped(0, self._nbytes(chunk), copy=False)
            rows = np.frombuffer(view, np.uint8).reshape(y1 - y0, width, PACKED)
            transfer.copy_rows(self.out[y0:y1], rows)
            del view, rows
            buffer.unmap()
            self.pool.give(buffer)
        self.chunks = []
        return self.out


def download_into(backend, packed: PackedImage, out: np.ndarray) -> PackedDownload:
    """Record copies of ``packed`` into read-back buffers, one command buffer per row
    chunk; the returned download's ``result()`` fills ``out`` (uint8 H x W x 4,
    C-contiguous) once the backend has flushed. The caller holds ``backend.lock``."""
    if out.shape != (packed.height, packed.width, PACKED) or out.dtype != np.uint8:
        raise ValueError(f"expected a uint8 array of {(packed.height, packed.width, 4)}")
    download = PackedDownload(backend.readbacks, out)
    backend.read_back_rows(packed.buffer, packed.width * PACKED, packed.height, download)
    return download


__all__ = [
    "CHANNEL_MODES",
    "DisplayUnsupported",
    "PackedImage",
    "ShaderCompileError",
    "download_into",
    "output_shape",
    "program",
    "record",
]
