"""Writing image files: formats, their checks, and the atomic rename."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass

import numpy as np
import OpenImageIO as oiio

from mattebox.engine import tempfiles
from mattebox.engine.io import chatter, threads
from mattebox.engine.io.info import MAIN_CHANNELS, MAIN_LAYER, Window, _error, _intersect


@dataclass(frozen=True)
class _Format:
    """What Mattebox writes in one file format."""

    datatypes: frozenset[str]
    compressions: dict[str, tuple[int, int] | None]  # name -> allowed ":N" range, or None
    default_compression: str | None
    channels: int  # 4: RGBA, 3: RGB (alpha dropped)
    tiles: bool
    data_window: bool  # stores a data window apart from the display window
    unassociated: bool  # stores unassociated alpha (we unpremultiply before writing)


_EXR_COMPRESSIONS: dict[str, tuple[int, int] | None] = {
    "none": None,
    "rle": None,
    "zips": (1, 9),
    "zip": (1, 9),
    "piz": None,
    "pxr24": None,
    "b44": None,
    "b44a": None,
    "dwaa": (1, 1000),
    "dwab": (1, 1000),
    "htj2k256": None,
    "htj2k32": None,
}

_FORMATS = {
    "openexr": _Format(
        frozenset({"half", "float"}), _EXR_COMPRESSIONS, "zip", 4, True, True, False
    ),
    "tiff": _Format(
        frozenset({"uint8", "uint16", "half", "float"}),
        {"none": None, "lzw": None, "zip": (1, 9), "packbits": None},
        "zip",
        4,
        True,
        False,
        False,
    ),
    "png": _Format(frozenset({"uint8", "uint16"}), {"zip": (0, 9)}, None, 4, False, False, True),
    "jpeg": _Format(frozenset({"uint8"}), {"jpeg": (1, 100)}, None, 3, False, False, False),
    "dpx": _Format(
        frozenset({"uint8", "uint10", "uint12", "uint16", "float"}),
        {"none": None},
        None,
        3,
        False,
        False,
        False,
    ),
}

_EXTENSIONS = {"openexr": "exr", "tiff": "tif", "png": "png", "jpeg": "jpg", "dpx": "dpx"}


def _output_format(path: str) -> str:
    """OpenImageIO's format name for ``path``'s extension, if Mattebox writes it."""
    if "\0" in path:
        raise _error(path.replace("\0", "\\0"), "contains a NUL character")
    out = oiio.ImageOutput.create(path)
    name = out.format_name() if out is not None else None
    if out is None:
        oiio.geterror()  # taken, so OpenImageIO does not print it at exit
    if name not in _FORMATS:
        ext = os.path.splitext(path)[1] or "(none)"
        known = ", ".join(sorted(_EXTENSIONS.values()))
        raise _error(path, f"cannot write files of type {ext} (Mattebox writes {known})")
    return name


def node_compression(path: str, compression: str) -> str | None:
    """What a Write node's ``compression`` asks of ``path``: that compression for the
    formats that offer a choice (EXR, TIFF), the format's own elsewhere (PNG, JPEG, DPX),
    as the parameter's documentation says; ``None`` stands for the format's default."""
    return compression if _output_format(path) in ("openexr", "tiff") else None


def _check_compression(path: str, fmt: _Format, file_format: str, compression: str) -> None:
    """Refuse a compression name (or level) the format does not have."""
    name, _, level = compression.partition(":")
    allowed = fmt.compressions
    if name not in allowed or (level and (allowed[name] is None or not level.isdigit())):
        choices = ", ".join(n + (":N" if r else "") for n, r in allowed.items())
        raise _error(path, f"{file_format} has no compression {compression!r} (use {choices})")
    low, high = allowed[name] or (0, 0)
    if level and not low <= int(level) <= high:
        raise _error(path, f"{compression!r}: level must be {low}..{high}")


def _check_write_args(path, fmt, file_format, datatype, compression, tiled, tile_size) -> None:
    """Refuse combinations the format cannot store, with one clear line."""
    if datatype not in fmt.datatypes:
        raise _error(
            path,
            f"{file_format} cannot store {datatype} pixels "
            f"(use {', '.join(sorted(fmt.datatypes))})",
        )
    if compression is not None:
        _check_compression(path, fmt, file_format, compression)
    if tiled:
        if not fmt.tiles:
            raise _error(path, f"{file_format} files cannot be tiled (only EXR and TIFF)")
        if tile_size <= 0 or (file_format == "tiff" and tile_size % 16):
            rule = "a multiple of 16" if file_format == "tiff" else "positive"
            raise _error(path, f"tile size {tile_size} must be {rule}")


def _checked_pixels(path: str, pixels: np.ndarray, data_window: Window) -> np.ndarray:
    """``pixels`` as float32 (H, W, 4), checked against the data window's size."""
    pixels = np.asarray(pixels)
    x0, y0, x1, y1 = data_window
    expected = (max(0, y1 - y0), max(0, x1 - x0), 4)
    if pixels.shape != expected:
        raise _error(path, f"pixels have shape {pixels.shape}, data window needs {expected}")
    return np.asarray(pixels, dtype=np.float32)


def _on_display_window(pixels: np.ndarray, data_window: Window, size: tuple[int, int]):
    """Paste data-window pixels onto a black display window (for formats without one)."""
    width, height = size
    canvas = np.zeros((height, width, 4), np.float32)
    x0, y0, x1, y1 = _intersect(data_window, (0, 0, width, height))
    if x1 > x0 and y1 > y0:
        dx, dy = data_window[0], data_window[1]
        canvas[y0:y1, x0:x1] = pixels[y0 - dy : y1 - dy, x0 - dx : x1 - dx]
    return canvas


def _unpremultiply(pixels: np.ndarray) -> np.ndarray:
    """Divide colour by alpha where alpha > 0; colour is 0 where alpha is 0 or less."""
    alpha = pixels[..., 3:4]
    out = pixels.copy()
    np.divide(pixels[..., :3], alpha, out=out[..., :3], where=alpha > 0)
    out[..., :3] = np.where(alpha > 0, out[..., :3], 0.0)
    return out


def _metadata_value(path: str, key: str, value: object) -> object:
    """Refuse metadata values OpenImageIO cannot type on its own."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _error(path, f"metadata {key!r}: expected a string or a number, got {value!r}")
    return value


def _base_spec(
    fmt: _Format, window: Window, size: tuple[int, int], datatype: str, channels: tuple
) -> oiio.ImageSpec:
    """An ImageSpec with the channels, type and data/display windows of a write."""
    x0, y0, x1, y1 = window
    stored = "uint16" if datatype in ("uint10", "uint12") else datatype
    spec = oiio.ImageSpec(x1 - x0, y1 - y0, len(channels), stored)
    spec.channelnames = channels
    if channels[:4] == MAIN_CHANNELS:
        spec.alpha_channel = 3
    spec.x, spec.y = x0, y0
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = 0, 0, size[0], size[1]
    if datatype in ("uint10", "uint12"):
        spec.attribute("oiio:BitsPerSample", int(datatype[4:]))
    if fmt.unassociated:
        spec.attribute("oiio:UnassociatedAlpha", 1)  # we unpremultiplied already
    return spec


def _set_storage(spec, file_format: str, fmt: _Format, datatype: str, compression, tiled,
                 tile_size: int) -> None:  # fmt: skip
    """Compression, tiling and half-TIFF attributes of a write."""
    if file_format == "tiff" and datatype == "half":
        spec.attribute("tiff:half", 1)  # else OIIO stores float
    compression = compression or fmt.default_compression
    if compression and file_format == "png":
        level = compression.partition(":")[2]
        if level:
            spec.attribute("png:compressionLevel", int(level))
    elif compression:
        spec.attribute("compression", compression)
    if tiled:
        spec.tile_width = spec.tile_height = tile_size
        spec.tile_depth = 1


def _temporary_path(path: str) -> str:
    """A hidden sibling of ``path`` with the same extension (OIIO picks the format by it)."""
    folder, name = os.path.split(path)
    return os.path.join(folder, tempfiles.image_temporary_name(name))


#: The bytes a complete file of these formats ends with: OpenImageIO 3.2's PNG writer
#: ignores failed writes (a full disk gives a truncated file and success), so the end of
#: the file is checked before it replaces the target.
_TRAILERS = {
    "png": bytes.fromhex("0000000049454e44ae426082"),  # the IEND chunk
    "jpeg": b"\xff\xd9",  # end of image
}


def _check_complete(path: str, temporary: str, file_format: str) -> None:
    """Refuse a written file that does not end as a complete file of its format does."""
    trailer = _TRAILERS.get(file_format)
    if trailer is None:
        return
    with open(temporary, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - len(trailer)))
        if f.read() != trailer:
            raise _error(path, f"the {file_format} writer stopped after {size} bytes "
                               "(disk full or file size limit?)")  # fmt: skip


def _check_room_for_jpeg(path: str, folder: str, size: tuple[int, int]) -> None:
    """Refuse a JPEG that might not fit the disk or the file size limit: libjpeg, through
    OpenImageIO 3.2, ends the whole process when a write fails (its default error exit)."""
    bound = size[0] * size[1] * 3 * 3 // 2 + 2**20  # 8-bit RGB, more than any quality gives
    room = []
    try:
        stat = os.statvfs(folder)
        room.append((stat.f_bavail * stat.f_frsize, "free on the disk"))
    except (OSError, AttributeError):
        pass
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY:
            room.append((limit, "the file size limit (ulimit -f)"))
    except (ImportError, OSError, ValueError):
        pass
    for available, what in room:
        if available < bound:
            raise _error(
                path,
                f"a {size[0]}x{size[1]} JPEG may need up to {bound} bytes; {available} "
                f"bytes is {what}",
            )


def write_image(
    path: str,
    pixels: np.ndarray,
    data_window: Window,
    size: tuple[int, int],
    *,
    pixel_aspect: float = 1.0,
    datatype: str = "half",
    compression: str | None = None,
    tiled: bool = False,
    tile_size: int = 64,
    metadata: dict | None = None,
    layers: list[tuple[str, tuple[str, ...], np.ndarray]] | None = None,
    multipart: bool = False,
) -> None:
    """Write premultiplied RGBA float32 pixels, and other layers, to a file atomically.

    Parameters
    ----------
    path : str
        Target file; its extension picks the format (exr, tif, png, jpg, dpx). Missing
        parent folders are created.
    pixels : ndarray
        float32 ``(y1 - y0, x1 - x0, 4)``, alpha premultiplied, of ``data_window``.
    data_window : tuple of int
        ``(x0, y0, x1, y1)`` of the pixels in display-window coordinates.
    size : tuple of int
        ``(width, height)`` of the display window.
    pixel_aspect : float
        Pixel aspect ratio stored in the file.
    datatype : str
        ``"half"`` or ``"float"`` (EXR, TIFF; DPX float), ``"uint8"``, ``"uint16"``
        (TIFF, PNG, DPX; JPEG uint8 only), ``"uint10"``/``"uint12"`` (DPX).
    compression : str, optional
        EXR: none, rle, zips, zip, piz, pxr24, b44, b44a, dwaa, dwab, htj2k256, htj2k32
        (zip/zips ``:1-9``, dwaa/dwab ``:level``; default zip). TIFF: none, lzw, zip,
        packbits (default zip). PNG: ``zip:0-9``. JPEG: ``jpeg:1-100`` (quality). DPX: none.
    tiled, tile_size : bool, int
        Tiled storage (EXR, TIFF; TIFF tiles are multiples of 16), else scanlines.
    metadata : dict, optional
        Extra attributes (string or number values), such as ``{"Copyright": "..."}``.
    layers : list of (str, tuple of str, ndarray), optional
        Layers written after the main one (``pixels``), OpenEXR only: ``(layer, channel
        names, plane)``, such as ``("diffuse", ("diffuse.R", "diffuse.G", "diffuse.B"),
        plane)``; 1 to 4 channel names, written from the plane's first components (the
        rest dropped); each plane float32 of ``pixels``' shape. Written as they are
        (never unpremultiplied), at ``datatype``.
    multipart : bool
        OpenEXR only: one part per layer, named after it (``rgba`` for ``pixels``; a
        split layer's ``name#2``... join ``name``'s part), each with the same data
        window; else one part holding every channel (``R, G, B, A, diffuse.R, ...``).

    Notes
    -----
    EXR stores the data window as given, inside or beyond the display window. Other
    formats store the display window, black outside the data window. JPEG and DPX store
    RGB (alpha dropped); PNG stores unassociated alpha (colour divided by alpha, clamped
    to 0..1 by quantisation). The file appears complete or not at all: the image is
    written to a hidden temporary file beside ``path``, then renamed over it.

    Raises
    ------
    ImageIOError
        On bad arguments or any failure; ``path`` is then left as it was.
    """
    path = os.fspath(path)
    file_format = _output_format(path)
    fmt = _FORMATS[file_format]
    _check_write_args(path, fmt, file_format, datatype, compression, tiled, int(tile_size))
    data_window = tuple(int(v) for v in data_window)
    size = (int(size[0]), int(size[1]))
    pixels = _checked_pixels(path, pixels, data_window)
    layers = _checked_layers(path, file_format, layers, multipart, pixels.shape)
    if size[0] <= 0 or size[1] <= 0:
        raise _error(path, f"display window size {size} must be positive")
    if not fmt.data_window:
        pixels, data_window = _on_display_window(pixels, data_window, size), (0, 0) + size
    elif pixels.size == 0:  # OpenEXR needs at least one pixel in the data window
        pixels, data_window = np.zeros((1, 1, 4), np.float32), (0, 0, 1, 1)
        layers = [(n, c, np.zeros((1, 1, len(c)), np.float32)) for n, c, _ in layers]
    if fmt.unassociated:
        pixels = _unpremultiply(pixels)
    parts = []
    for part_name, channels, part_pixels in _parts(pixels[..., : fmt.channels], layers, multipart):
        spec = _base_spec(fmt, data_window, size, datatype, channels)
        if part_name is not None:
            spec.attribute("oiio:subimagename", part_name)
        _set_storage(spec, file_format, fmt, datatype, compression, tiled, int(tile_size))
        spec.attribute("PixelAspectRatio", float(pixel_aspect))
        for key, value in (metadata or {}).items():
            spec.attribute(key, _metadata_value(path, key, value))
        parts.append((spec, part_pixels))
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise _error(path, f"cannot create folder {folder}: {exc.strerror or exc}") from None
    if file_format == "jpeg":
        _check_room_for_jpeg(path, folder, size)
    tempfiles.remove_stale(folder, tempfiles.IMAGE_TEMPORARY)
    _write_atomically(path, parts, file_format)


_SPLIT_SUFFIX = re.compile(r"#\d+$")  # a split layer's "#2", "#3"...


def _layer_names(layers) -> str:
    """The names of ``layers`` for a message, whatever their entries are."""
    names = [
        str(entry[0]) if isinstance(entry, (tuple, list)) and entry else "?" for entry in layers
    ]
    return ", ".join(names)


def _checked_layers(
    path: str, file_format: str, layers, multipart: bool, shape: tuple[int, ...]
) -> list[tuple[str, tuple[str, ...], np.ndarray]]:
    """``(name, channel names, float32 plane of those channels)`` of each extra layer,
    refusing what cannot be written with one line."""
    layers = list(layers or ())
    if file_format != "openexr" and (layers or multipart):
        what = _layer_names(layers) if layers else "a multi-part image"
        raise _error(path, f"only OpenEXR holds layers; write {what} to an .exr")
    checked, layer_names, channel_names = [], {MAIN_LAYER}, set(MAIN_CHANNELS)
    for entry in layers:
        if not isinstance(entry, (tuple, list)) or len(entry) != 3:
            raise _error(path, "each layer is (name, channel names, plane)")
        name, channels, plane = entry
        channels = (channels,) if isinstance(channels, str) else tuple(channels)
        if not isinstance(name, str) or not name:
            raise _error(path, f"layer name {name!r}: expected a non-empty string")
        if _SPLIT_SUFFIX.sub("", name) == MAIN_LAYER:
            raise _error(path, f"layer {name!r}: the main layer is written from pixels")
        if name in layer_names:
            raise _error(path, f"layer {name!r} is given twice")
        if not 1 <= len(channels) <= 4:
            raise _error(path, f"layer {name!r} has {len(channels)} channels (1 to 4)")
        for channel in channels:
            if not isinstance(channel, str) or not channel or channel in channel_names:
                raise _error(path, f"layer {name!r}: channel {channel!r} is empty or taken")
            channel_names.add(channel)
        plane = np.asarray(plane)
        if plane.shape != shape:
            raise _error(path, f"layer {name!r} has shape {plane.shape}, pixels {shape}")
        layer_names.add(name)
        checked.append((name, channels, np.asarray(plane[..., : len(channels)], np.float32)))
    return checked


#: Bytes of interleaved rows built at once when a part of several layers is written: the
#: rows go out band by band (``write_scanlines``) instead of as one array of every
#: channel (862 MB for 26 channels at 4K, slow to allocate and fill here).
BAND_BYTES = 32 * 2**20


def _stack(planes: list[np.ndarray]) -> np.ndarray:
    """Planes side by side in one C-contiguous (H, W, sum of channels) array."""
    if len(planes) == 1:
        return np.ascontiguousarray(planes[0])  # no copy when it already is
    return np.concatenate(planes, axis=2)


def _write_part(out: oiio.ImageOutput, spec: oiio.ImageSpec, planes: list[np.ndarray]) -> bool:
    """Write one part's planes (side by side) to the opened ``out``: scanline files band
    of rows by band, through one reused buffer; tiled files (and one plane) at once."""
    if len(planes) == 1 or spec.tile_width > 0:
        return out.write_image(_stack(planes))
    height, width = planes[0].shape[:2]
    channels = sum(plane.shape[2] for plane in planes)
    rows = max(16, BAND_BYTES // max(1, width * channels * 4) // 16 * 16)
    band = np.empty((min(rows, height), width, channels), np.float32)
    for top in range(0, height, rows):
        count = min(rows, height - top)
        at = 0
        for plane in planes:
            band[:count, :, at : at + plane.shape[2]] = plane[top : top + count]
            at += plane.shape[2]
        if not out.write_scanlines(spec.y + top, spec.y + top + count, spec.z, band[:count]):
            return False
    return True


def _parts(pixels: np.ndarray, layers: list, multipart: bool):
    """``(part name or None, channel names, pixels)`` of each part to write."""
    members = {MAIN_LAYER: [(MAIN_CHANNELS[: pixels.shape[2]], pixels)]}
    for name, channels, plane in layers:
        part = _SPLIT_SUFFIX.sub("", name) if multipart else MAIN_LAYER  # name#2 joins name
        members.setdefault(part, []).append((channels, plane))
    return [
        (
            part if multipart else None,
            sum((channels for channels, _ in group), ()),
            [plane for _, plane in group],
        )
        for part, group in members.items()
    ]


def _hold(path: str) -> int | None:
    """A descriptor keeping the file at ``path`` alive, if there is one: replacing a file
    frees its pages when its last reference goes (tens of ms for a large image)."""
    try:
        return os.open(path, os.O_RDONLY)
    except OSError:
        return None


def _write_parts(out: oiio.ImageOutput, temporary: str, parts: list) -> tuple[bool, str]:
    """Write each ``(spec, pixels)`` part (an array, or a list of planes side by side) to
    the opened ``out``; (success, OIIO's error)."""
    for index, (spec, pixels) in enumerate(parts):
        if index and not out.open(temporary, spec, "AppendSubimage"):
            return False, out.geterror()
        planes = pixels if isinstance(pixels, list) else [pixels]
        if not _write_part(out, spec, planes):
            return False, out.geterror()
    return True, ""


def _write_atomically(
    path: str, parts: list[tuple[oiio.ImageSpec, np.ndarray]], file_format: str
) -> None:
    """Write the ``(spec, pixels)`` parts to a hidden temporary file, then rename it over
    ``path``; the temporary file is removed on every failure."""
    temporary = _temporary_path(path)
    threads.apply(threads.io_threads())  # OpenEXR compresses chunks on these threads
    with chatter.captured():  # libpng & co. print beside our one line: not to the terminal
        _write_captured(path, temporary, parts, file_format)


def _write_captured(path: str, temporary: str, parts: list, file_format: str) -> None:
    """:func:`_write_atomically`'s work, with the libraries' output captured."""
    out = None
    try:
        out = oiio.ImageOutput.create(temporary)
        if out is None:
            raise _error(path, oiio.geterror() or "no writer for this file type")
        specs = [spec for spec, _ in parts]
        if not out.open(temporary, specs if len(specs) > 1 else specs[0]):
            raise _error(path, out.geterror() or "cannot open for writing")
        ok, message = _write_parts(out, temporary, parts)
        closing, out = out, None
        ok = closing.close() and ok
        if not ok:
            raise _error(path, message or closing.geterror() or "write failed")
        _check_complete(path, temporary, file_format)
        old = _hold(path)
        try:
            os.replace(temporary, path)
        except OSError as exc:
            raise _error(path, f"cannot replace the file: {exc.strerror or exc}") from None
        finally:
            if old is not None:  # the replaced file's pages are freed off this thread
                threading.Thread(target=os.close, args=(old,), daemon=True).start()
    finally:
        if out is not None:  # an exception while writing: close before removing the file
            out.close()
            out.geterror()  # taken, else the writer prints it when it is freed
        if os.path.lexists(temporary):
            os.remove(temporary)
