"""Decoding and probing with OpenImageIO, in this process.

Everything here runs inside the decoder worker process (``worker.py``) unless
``IN_PROCESS`` is set: it imports only the standard library, numpy and OpenImageIO.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import OpenImageIO as oiio

from mattebox.engine.io import orientation
from mattebox.engine.io.info import (
    MAIN_LAYER,
    ImageInfo,
    ImageIOError,
    Window,
    _error,
    _intersect,
)
from mattebox.engine.io.layers import Layout, Part, layer_layout
from mattebox.engine.io.orientation import display_size, turn, turn_window
from mattebox.nodes.limits import MAX_IMAGE_SIZE


def _open_input(path: str) -> oiio.ImageInput:
    """Open ``path`` for reading, keeping unassociated alpha as stored (we premultiply in
    float) and PFM rows the right way up (PFM stores them bottom first; OpenImageIO 3.2.2
    flips them only when opened with a configuration, and this says so explicitly)."""
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    config.attribute("pnm:pfmflip", 1)
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


def _metadata(spec: oiio.ImageSpec) -> dict:
    """A part's attributes as plain values (those that have one)."""
    metadata = {}
    for attrib in spec.extra_attribs:
        if attrib.name == "oiio:UnassociatedAlpha":
            continue
        value = _simple_value(attrib.value)
        if value is not None:
            metadata[attrib.name] = value
    return metadata


def _part_specs(inp: oiio.ImageInput, file_format: str) -> list[oiio.ImageSpec]:
    """The spec of each part: every subimage of an OpenEXR file, the first of others
    (a multi-page TIFF's pages are not layers)."""
    first = inp.spec()
    if file_format != "openexr":
        return [first]
    count = first.get_int_attribute("oiio:subimages", 1)
    return [first] + [inp.spec(part, 0) for part in range(1, count)]


def _window(spec: oiio.ImageSpec, origin: tuple[int, int]) -> Window:
    """A part's data window relative to the display window's corner ``origin``."""
    x0, y0 = spec.x - origin[0], spec.y - origin[1]
    return (x0, y0, x0 + spec.width, y0 + spec.height)


def _union(windows: list[Window]) -> Window:
    """The smallest window holding all of ``windows``."""
    return (
        min(w[0] for w in windows),
        min(w[1] for w in windows),
        max(w[2] for w in windows),
        max(w[3] for w in windows),
    )


def _describe(specs: list[oiio.ImageSpec], file_format: str) -> tuple[ImageInfo, Layout]:
    """Build an ImageInfo, and where each layer is stored, from a file's part specs."""
    parts = [
        Part(spec.get_string_attribute("oiio:subimagename", ""), tuple(spec.channelnames),
             bool(spec.deep))
        for spec in specs
    ]  # fmt: skip
    layout = layer_layout(parts)
    head = specs[0 if layout.main_part is None else layout.main_part]
    origin = (head.full_x, head.full_y)
    windows = {name: _window(specs[src.part], origin) for name, src in layout.sources.items()}
    if layout.main_part is None:
        flat = [_window(spec, origin) for spec in specs if not spec.deep]
        data_window = _union(flat or [windows[MAIN_LAYER]])
    else:
        data_window = windows[MAIN_LAYER]
    info = ImageInfo(
        width=head.full_width,
        height=head.full_height,
        pixel_aspect=float(head.get_float_attribute("PixelAspectRatio", 1.0) or 1.0),
        data_window=data_window,
        channels=tuple(head.channelnames),
        datatype=_datatype_name(head),
        tiled=head.tile_width > 0,
        file_format=file_format,
        metadata=_metadata(head),
        layers=layout.layers,
        layer_windows=windows,
    )
    return info, layout


def _check_sane(path: str, specs: list[oiio.ImageSpec]) -> None:
    """Refuse what a damaged header makes of a file before anything is sized from it:
    windows larger than the largest image Mattebox makes (a flipped bit in a DPX header
    once asked for a 536870936-pixel-wide format), and channel names that are not text."""
    for spec in specs:
        sizes = (spec.width, spec.height, spec.full_width, spec.full_height)
        if max(sizes) > MAX_IMAGE_SIZE or min(sizes) < 0:
            raise _error(
                path,
                f"its header gives a {spec.width}x{spec.height} image in a "
                f"{spec.full_width}x{spec.full_height} format; the most is {MAX_IMAGE_SIZE} "
                "pixels a side (a damaged file?)",
            )
        for index, name in enumerate(spec.channelnames):
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                raise _error(
                    path, f"channel {index + 1}'s name is not text (a damaged header?)"
                ) from None


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


def _unassociated(spec: oiio.ImageSpec, file_format: str) -> bool:
    """Whether a part's colour, as OpenImageIO hands it over, is not yet multiplied by its
    alpha. Readers flag it with ``oiio:UnassociatedAlpha`` (PNG, TIFF by its ExtraSamples,
    WebP, PSD...); OpenImageIO 3.2.2's Targa reader leaves the colour unassociated without
    the flag, so Targa follows its own rule: unassociated unless the file's alpha type
    (``targa:alpha_type``) says premultiplied (4)."""
    if spec.get_int_attribute("oiio:UnassociatedAlpha", 0):
        return True
    if file_format == "targa" and spec.alpha_channel >= 0:
        return spec.get_int_attribute("targa:alpha_type", -1) != _TARGA_PREMULTIPLIED
    return False


_TARGA_PREMULTIPLIED = 4  # TGA 2.0 extension area: alpha type "pre-multiplied"


def _orientation(spec: oiio.ImageSpec, file_format: str) -> int:
    """The file's display orientation (EXIF numbering) still to apply: 1 when as stored.
    HEIF is left out: its reader turns the pixels itself."""
    if file_format == "heif":
        return 1
    return orientation.valid(spec.get_int_attribute("Orientation", 1))


def _read_block(
    inp: oiio.ImageInput,
    part: int,
    spec: oiio.ImageSpec,
    box: Window,
    chans: range,
    level: int = 0,
) -> np.ndarray:
    """Read file-coordinate box ``box`` of channels ``chans`` of part ``part`` (whose spec,
    at MIP level ``level``, is ``spec``) as float32 (rows, cols, n)."""
    x0, y0, x1, y1 = box
    if spec.tile_width > 0:
        # read_tiles needs tile-aligned starts and ends (or the data window's end).
        tw, th = spec.tile_width, spec.tile_height
        ax0 = spec.x + (x0 - spec.x) // tw * tw
        ay0 = spec.y + (y0 - spec.y) // th * th
        ax1 = min(spec.x + spec.width, spec.x + -(-(x1 - spec.x) // tw) * tw)
        ay1 = min(spec.y + spec.height, spec.y + -(-(y1 - spec.y) // th) * th)
        data = inp.read_tiles(
            part, level, ax0, ax1, ay0, ay1, spec.z, spec.z + 1, chans.start, chans.stop, "float"
        )
        offset = (x0 - ax0, y0 - ay0)
    else:
        data = inp.read_scanlines(part, 0, y0, y1, spec.z, chans.start, chans.stop, "float")
        offset = (x0 - spec.x, 0)
    if data is None:
        raise ImageIOError(inp.geterror() or "the pixels could not be read")
    data = np.asarray(data, dtype=np.float32).reshape(data.shape[0], data.shape[1], -1)
    return data[offset[1] : offset[1] + (y1 - y0), offset[0] : offset[0] + (x1 - x0)]


def _wanted_layers(path: str, wanted, info: ImageInfo) -> list[str]:
    """The layers to read (all when ``wanted`` is None); unknown names are an error."""
    have = [name for name, _ in info.layers]
    if wanted is None:
        return have
    unknown = [name for name in wanted if name not in info.layer_windows]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise _error(path, f"no layer {names} (the file has {', '.join(have)})")
    return list(wanted)


_RGBA_FILL = (0.0, 0.0, 0.0, 1.0)  # rgba without alpha is opaque
_ZERO_FILL = (0.0, 0.0, 0.0, 0.0)


def _fill_plane(out: np.ndarray, data: np.ndarray, channels: tuple, first: int, fill) -> None:
    """Copy a part's ``data`` (its channels from ``first`` on) into the plane ``out``:
    component k from channel ``channels[k]``; None, and components past them, ``fill``."""
    count, start = len(channels), channels[0]
    if None not in channels and channels == tuple(range(start, start + count)):
        out[..., :count] = data[..., start - first : start - first + count]  # one block copy
        if count < 4:
            out[..., count:] = 0.0
        return
    for component in range(4):
        index = channels[component] if component < count else None
        if index is None:
            out[..., component] = fill[component]
        else:
            out[..., component] = data[..., index - first]


#: Bytes of decoded rows per read call. The rows are read in bands of about this size and
#: copied into the planes (the shared memory the engine reads): a band small enough to
#: stay in the CPU's cache is copied for almost nothing, and OpenImageIO's buffer for it
#: is memory malloc hands back band after band, where one buffer for the whole image is
#: new memory whose page faults cost more than the decoding of an uncompressed EXR
#: (measured at 4K: 40 ms in bands of 32 rows against 100-170 ms in one read_image). A
#: file of many layers never needs one array of all its channels either.
BAND_BYTES = 2 * 2**20


def _band_rows(spec: oiio.ImageSpec, width: int, channels: int) -> int:
    """Rows per read call: about :data:`BAND_BYTES`, a whole number of the file's chunks
    (an EXR's 16 or 32 rows compressed together, a TIFF strip, a row of tiles), so that
    no chunk is decoded twice, and at least two compressed chunks per I/O thread."""
    rows = BAND_BYTES // max(1, width * channels * 4)
    if spec.tile_width > 0:  # a row of tiles already holds many chunks
        return max(spec.tile_height, rows // spec.tile_height * spec.tile_height)
    unit = spec.get_int_attribute("oiio:RowsPerChunk", 0)
    unit = unit or spec.get_int_attribute("tiff:RowsPerStrip", 0) or 1
    if unit > 1:  # two compressed chunks per thread, decompressed side by side
        rows = max(rows, unit * 2 * max(1, oiio.get_int_attribute("exr_threads", 1)))
    return max(unit, rows // unit * unit)


def _read_part(
    inp,
    path: str,
    part: int,
    spec,
    box: Window,
    planes: dict,
    sources: dict,
    file_format: str,
    proxy: int = 1,
    level: int = 0,
    origin: tuple[int, int] = (0, 0),
):
    """Read what ``planes`` need of one part (at MIP level ``level``), band of rows by
    band, and fill each plane. With ``proxy`` N > 1 each band is box-filtered to 1/N
    scale before it is stored (:func:`_box_filter`): the planes are at proxy scale, the
    whole image at full size never exists. ``box`` is in the file's coordinates;
    ``origin`` is the display window's corner there (proxy blocks start at it)."""
    used = [i for name in planes for i in sources[name].channels if i is not None]
    chans = range(min(used), max(used) + 1)  # the smallest range covering them
    x0, y0, x1, y1 = box
    rows = _band_rows(spec, x1 - x0, len(chans))
    if proxy > 1:  # whole proxy blocks per band
        rows = -(-rows // proxy) * proxy
        bands = {name: np.empty((rows, x1 - x0, 4), np.float32) for name in planes}
    unassociated = _unassociated(spec, file_format)
    top = y0
    while top < y1:
        if proxy > 1:
            bottom = min(y1, origin[1] + ((top - origin[1]) // rows + 1) * rows)
        else:
            bottom = min(y1, spec.y + ((top - spec.y) // rows + 1) * rows)  # on chunk edges
        try:
            data = _read_block(inp, part, spec, (x0, top, x1, bottom), chans, level)
        except ImageIOError as exc:
            raise _error(path, exc) from None
        for name, out in planes.items():
            fill = _RGBA_FILL if name == MAIN_LAYER else _ZERO_FILL
            band = out[top - y0 : bottom - y0] if proxy == 1 else bands[name][: bottom - top]
            _fill_plane(band, data, sources[name].channels, chans.start, fill)
            if unassociated and name == MAIN_LAYER and sources[name].channels[3] is not None:
                band[..., :3] *= band[..., 3:4]  # the file stores unassociated alpha
            if proxy > 1:
                window = (x0 - origin[0], top - origin[1], x1 - origin[0], bottom - origin[1])
                _store_filtered(out, _scaled_window(box, origin, proxy), band, window, proxy)
        top = bottom


def _scaled_window(box: Window, origin: tuple[int, int], proxy: int) -> Window:
    """File box ``box`` as a display-relative window at 1/``proxy`` scale (every proxy
    pixel it touches: x0, y0 rounded down, x1, y1 up)."""
    x0, y0, x1, y1 = box[0] - origin[0], box[1] - origin[1], box[2] - origin[0], box[3] - origin[1]
    if x1 <= x0 or y1 <= y0:
        return (x0 // proxy, y0 // proxy, x0 // proxy, y0 // proxy)
    return (x0 // proxy, y0 // proxy, -(-x1 // proxy), -(-y1 // proxy))


def _box_filter(pixels: np.ndarray, window: Window, proxy: int) -> tuple[np.ndarray, Window]:
    """``pixels`` (covering display-relative ``window``) at 1/``proxy`` scale: the mean of
    each ``proxy`` × ``proxy`` block, blocks aligned to the display window's corner,
    pixels outside ``window`` transparent black (the engine's proxy filter,
    ``engine.image.downscale``, summed in float32). Returns the pixels and their window."""
    out = (window[0] // proxy, window[1] // proxy, -(-window[2] // proxy), -(-window[3] // proxy))
    height, width = (out[3] - out[1]) * proxy, (out[2] - out[0]) * proxy
    left, above = window[0] - out[0] * proxy, window[1] - out[1] * proxy
    if (left, above, pixels.shape[0], pixels.shape[1]) != (0, 0, height, width):
        padded = np.zeros((height, width, 4), np.float32)
        padded[above : above + pixels.shape[0], left : left + pixels.shape[1]] = pixels
        pixels = padded
    # sums of strided slices: 4-5x faster than numpy's reduction over a middle axis
    rows = pixels[0::proxy].copy()
    for k in range(1, proxy):
        rows += pixels[k::proxy]
    columns = rows.reshape(height // proxy, width // proxy, proxy, 4)
    blocks = columns[:, :, 0].copy()
    for k in range(1, proxy):
        blocks += columns[:, :, k]
    blocks *= np.float32(1.0 / (proxy * proxy))
    return blocks, out


def _store_filtered(out: np.ndarray, out_window: Window, band, window: Window, proxy: int):
    """Box-filter ``band`` (covering ``window``) into the proxy plane ``out`` (covering
    ``out_window``)."""
    filtered, (fx0, fy0, fx1, fy1) = _box_filter(band, window, proxy)
    ox0, oy0 = out_window[:2]
    out[fy0 - oy0 : fy1 - oy0, fx0 - ox0 : fx1 - ox0] = filtered


def _decode_layers(path: str, wanted, region: Window | None, alloc, proxy: int = 1):
    """Read layers ``wanted`` (None: all) of ``path``, each over its window ∩ ``region``.

    ``alloc(shapes)`` returns one float32 array per ``(height, width, 4)`` shape. Each part
    is read once, for the smallest channel range covering the layers asked of it. Returns
    ``(planes, windows, info)``: planes and windows by layer name, and the ImageInfo. A
    file whose ``Orientation`` is not 1 is read whole, then turned the right way up and
    cut to ``region`` (``orientation.py``).

    With ``proxy`` N > 1 the planes come at 1/N scale and their windows in proxy pixels
    (``region`` stays in full-size pixels, grown to whole N × N blocks): a tiled file's
    MIP level of exactly 1/N size is read as it is, anything else is box-filtered band by
    band as it is decoded (:func:`_read_part`). ``info`` stays the file's, at full size.
    """
    inp = _open_input(path)
    try:
        file_format = inp.format_name()
        specs = _part_specs(inp, file_format)
        _check_sane(path, specs)
        info, layout = _describe(specs, file_format)
        head = specs[0 if layout.main_part is None else layout.main_part]
        turned = _orientation(head, file_format)
        if turned == 1:
            planes, windows = _decode_stored(inp, path, file_format, specs, info, layout,
                                             wanted, region, alloc, proxy)  # fmt: skip
            return planes, windows, info
        planes, windows = _decode_stored(inp, path, file_format, specs, info, layout, wanted,
                                         None, _new_arrays)  # fmt: skip
    finally:
        inp.close()
    size = (info.width, info.height)
    info = _turned_info(info, turned)
    windows = {n: turn_window(w, size, turned) for n, w in windows.items()}
    cut = {n: _intersect(w, _grown_to_blocks(region, proxy)) for n, w in windows.items()}
    scaled = cut if proxy == 1 else {n: _scaled_window(w, (0, 0), proxy) for n, w in cut.items()}
    shapes = [(w[3] - w[1], w[2] - w[0], 4) for w in scaled.values()]
    out = dict(zip(cut, alloc(shapes)))
    for name, plane in out.items():
        x0, y0 = windows[name][:2]
        cx0, cy0, cx1, cy1 = cut[name]
        pixels = turn(planes[name], turned)[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
        if proxy > 1 and plane.size:
            pixels = _box_filter(pixels, cut[name], proxy)[0]
        plane[...] = pixels
    return out, scaled, info


def _grown_to_blocks(region: Window | None, proxy: int) -> Window | None:
    """``region`` grown outwards to whole ``proxy`` × ``proxy`` blocks, so that every
    proxy pixel it touches is read whole."""
    if region is None or proxy == 1:
        return region
    x0, y0, x1, y1 = _scaled_window(region, (0, 0), proxy)
    return (x0 * proxy, y0 * proxy, x1 * proxy, y1 * proxy)


def _mip_level(inp, part: int, spec, window: Window, head, proxy: int) -> int:
    """The MIP level of ``part`` to read for a proxy ``proxy`` of its whole ``window``
    (display-relative), or 0 for none: a tiled file's level ``log2(proxy)`` where the
    data window is the display window and that level is exactly 1/``proxy`` of it."""
    if spec.tile_width <= 0 or proxy & (proxy - 1):
        return 0
    whole = (0, 0, head.full_width, head.full_height)
    width, height = window[2] - window[0], window[3] - window[1]
    if window != whole or width % proxy or height % proxy:
        return 0
    if spec.x != head.full_x or spec.y != head.full_y:
        return 0
    level = proxy.bit_length() - 1
    found = inp.spec_dimensions(part, level)
    if (found.width, found.height) != (width // proxy, height // proxy):
        return 0
    return level if (found.x, found.y) == (spec.x, spec.y) else 0


def _new_arrays(shapes: list[tuple[int, int, int]]) -> list[np.ndarray]:
    """One new float32 array per shape (planes to be turned before they are handed on)."""
    return [np.empty(shape, np.float32) for shape in shapes]


def _turned_info(info: ImageInfo, turned: int) -> ImageInfo:
    """``info`` with its display window and windows as they lie once turned."""
    size = (info.width, info.height)
    width, height = display_size(size, turned)
    return dataclasses.replace(
        info,
        width=width,
        height=height,
        data_window=turn_window(info.data_window, size, turned),
        layer_windows={n: turn_window(w, size, turned) for n, w in info.layer_windows.items()},
    )


def _decode_stored(inp, path, file_format, specs, info, layout, wanted, region, alloc,
                   proxy=1):  # fmt: skip
    """``_decode_layers``' reading, in the file's stored orientation: (planes, windows)."""
    names = _wanted_layers(path, wanted, info)
    by_part: dict[int, list[str]] = {}
    for name in names:
        by_part.setdefault(layout.sources[name].part, []).append(name)
    for part in by_part:
        if specs[part].deep:
            raise _error(path, "deep images are not supported")
        _check_known_reader_bugs(path, specs[part], file_format)
    region = _grown_to_blocks(region, proxy)
    windows = {name: _intersect(info.layer_windows[name], region) for name in names}
    scaled = windows
    if proxy > 1:
        scaled = {name: _scaled_window(w, (0, 0), proxy) for name, w in windows.items()}
    shapes = [(w[3] - w[1], w[2] - w[0], 4) for w in scaled.values()]
    planes = dict(zip(names, alloc(shapes)))
    head = specs[0 if layout.main_part is None else layout.main_part]
    origin = (head.full_x, head.full_y)
    for part, part_names in by_part.items():
        window = windows[part_names[0]]  # the layers of a part share its window
        x0, y0, x1, y1 = window
        if x1 > x0 and y1 > y0:
            box = (x0 + origin[0], y0 + origin[1], x1 + origin[0], y1 + origin[1])
            wanted_planes = {name: planes[name] for name in part_names}
            level = _mip_level(inp, part, specs[part], window, head, proxy) if proxy > 1 else 0
            if level:  # the file's own smaller copy, read as it is
                spec = inp.spec_dimensions(part, level)
                box = (spec.x, spec.y, spec.x + spec.width, spec.y + spec.height)
                _read_part(inp, path, part, spec, box, wanted_planes, layout.sources,
                           file_format, level=level)  # fmt: skip
            else:
                _read_part(inp, path, part, specs[part], box, wanted_planes, layout.sources,
                           file_format, proxy, origin=origin)  # fmt: skip
    return planes, scaled


def _probe_file(path: str) -> ImageInfo:
    """Open ``path`` and describe it, without decoding pixels."""
    inp = _open_input(path)
    try:
        file_format = inp.format_name()
        specs = _part_specs(inp, file_format)
        _check_sane(path, specs)
        info, layout = _describe(specs, file_format)
        turned = _orientation(specs[0 if layout.main_part is None else layout.main_part],
                              file_format)  # fmt: skip
        return info if turned == 1 else _turned_info(info, turned)
    finally:
        inp.close()
