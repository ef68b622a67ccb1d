"""Decoding and probing with OpenImageIO, in this process.

Everything here runs inside the decoder worker process (``worker.py``) unless
``IN_PROCESS`` is set: it imports only the standard library, numpy and OpenImageIO.
"""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio

from mattebox.engine.io.info import ImageInfo, ImageIOError, Window, _error, _intersect


def _open_input(path: str) -> oiio.ImageInput:
    """Open ``path`` for reading, keeping unassociated alpha as stored (we premultiply)."""
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    inp = oiio.ImageInput.open(path, config)
    if inp is None:
        raise _error(path, oiio.geterror() or "cannot open")
    return inp


def _datatype_name(spec: oiio.ImageSpec) -> str:
    """Storage type as a short string, with the real bit depth of integer files."""
    name = str(spec.format)
    bits = spec.get_int_attribute("oiio:BitsPerSample", 0)
    if name.startswith("uint") and bits and bits != spec.format.size() * 8:
        return f"uint{bits}"
    return name


def _simple_value(value: object) -> object | None:
    """A metadata value as a plain Python value, or None when it is not simple."""
    if isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (tuple, list)) and all(isinstance(v, (int, float)) for v in value):
        return tuple(value)
    return None


def _info_from_spec(spec: oiio.ImageSpec, file_format: str) -> ImageInfo:
    """Build an ImageInfo from an opened file's spec."""
    x0, y0 = spec.x - spec.full_x, spec.y - spec.full_y
    metadata = {}
    for attrib in spec.extra_attribs:
        if attrib.name == "oiio:UnassociatedAlpha":
            continue
        value = _simple_value(attrib.value)
        if value is not None:
            metadata[attrib.name] = value
    return ImageInfo(
        width=spec.full_width,
        height=spec.full_height,
        pixel_aspect=float(spec.get_float_attribute("PixelAspectRatio", 1.0) or 1.0),
        data_window=(x0, y0, x0 + spec.width, y0 + spec.height),
        channels=tuple(spec.channelnames),
        datatype=_datatype_name(spec),
        tiled=spec.tile_width > 0,
        file_format=file_format,
        metadata=metadata,
    )


def _find_channel(names: list[str], *wanted: str) -> int | None:
    """Index of the first channel whose lowercase name is in ``wanted``."""
    for candidate in wanted:
        if candidate in names:
            return names.index(candidate)
    return None


def _channel_map(channels: tuple[str, ...]) -> tuple[tuple[int | None, ...], int | None]:
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


def _check_known_reader_bugs(path: str, spec: oiio.ImageSpec, file_format: str) -> None:
    """Refuse files that OpenImageIO 3.2 is known to decode wrongly (FACTS.md)."""
    bits = spec.get_int_attribute("oiio:BitsPerSample", 0)
    if file_format == "dpx" and bits == 10 and spec.nchannels == 4 and (spec.width * 4) % 3 == 1:
        raise _error(
            path,
            f"10-bit RGBA DPX of width {spec.width} is decoded wrongly by OpenImageIO "
            f"{oiio.__version__} (width*4 mod 3 == 1 corrupts each row's last pixel); "
            "convert it to RGB or 16-bit first",
        )


def _read_block(inp: oiio.ImageInput, spec: oiio.ImageSpec, box: Window, chans: range):
    """Read file-coordinate box ``box`` of channels ``chans`` as float32 (rows, cols, n)."""
    x0, y0, x1, y1 = box
    if spec.tile_width > 0:
        # read_tiles needs tile-aligned starts and ends (or the data window's end).
        tw, th = spec.tile_width, spec.tile_height
        ax0 = spec.x + (x0 - spec.x) // tw * tw
        ay0 = spec.y + (y0 - spec.y) // th * th
        ax1 = min(spec.x + spec.width, spec.x + -(-(x1 - spec.x) // tw) * tw)
        ay1 = min(spec.y + spec.height, spec.y + -(-(y1 - spec.y) // th) * th)
        data = inp.read_tiles(
            0, 0, ax0, ax1, ay0, ay1, spec.z, spec.z + 1, chans.start, chans.stop, "float"
        )
        offset = (x0 - ax0, y0 - ay0)
    else:
        data = inp.read_scanlines(0, 0, y0, y1, spec.z, chans.start, chans.stop, "float")
        offset = (x0 - spec.x, 0)
    if data is None:
        raise ImageIOError(inp.geterror() or "the pixels could not be read")
    data = np.asarray(data, dtype=np.float32).reshape(data.shape[0], data.shape[1], -1)
    return data[offset[1] : offset[1] + (y1 - y0), offset[0] : offset[0] + (x1 - x0)]


def _decode(path: str, region: Window | None, alloc) -> tuple[np.ndarray, Window, ImageInfo]:
    """Read ``path`` (data window ∩ region) into an RGBA float32 array from ``alloc``."""
    inp = _open_input(path)
    try:
        spec = inp.spec()
        file_format = inp.format_name()
        if spec.deep:
            raise _error(path, "deep images are not supported")
        info = _info_from_spec(spec, file_format)
        _check_known_reader_bugs(path, spec, file_format)
        window = _intersect(info.data_window, region)
        height, width = window[3] - window[1], window[2] - window[0]
        out = alloc((height, width, 4))
        if height == 0 or width == 0:
            return out, window, info
        rgb, alpha = _channel_map(info.channels)
        used = [i for i in (*rgb, alpha) if i is not None]
        chans = range(min(used), max(used) + 1)
        box = (
            window[0] + spec.full_x,
            window[1] + spec.full_y,
            window[2] + spec.full_x,
            window[3] + spec.full_y,
        )
        try:
            data = _read_block(inp, spec, box, chans)
        except ImageIOError as exc:
            raise _error(path, exc) from None
        if (*rgb, alpha) == (chans.start, chans.start + 1, chans.start + 2, chans.start + 3):
            out[...] = data  # RGBA in order: one contiguous copy
        else:
            for out_channel, index in enumerate((*rgb, alpha)):
                if index is None:
                    out[..., out_channel] = 1.0 if out_channel == 3 else 0.0
                else:
                    out[..., out_channel] = data[..., index - chans.start]
        if alpha is not None and spec.get_int_attribute("oiio:UnassociatedAlpha", 0):
            out[..., :3] *= out[..., 3:4]  # the file stores unassociated alpha
        return out, window, info
    finally:
        inp.close()


def _probe_file(path: str) -> ImageInfo:
    """Open ``path`` and describe it, without decoding pixels."""
    inp = _open_input(path)
    try:
        return _info_from_spec(inp.spec(), inp.format_name())
    finally:
        inp.close()
