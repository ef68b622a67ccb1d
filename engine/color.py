"""Colour management through PyOpenColorIO only.

The config is the script's, else ``$OCIO``, else :data:`DEFAULT_CONFIG`; built-in URIs
such as ``ocio://studio-config-latest`` resolve to the versioned URI they mean today, so
a saved script renders the same after an upgrade. Configs and processors are cached; the
CPU processor runs over row blocks on threads (the binding releases the GIL), on
unpremultiplied colour. See ``docs/io-and-colour.md``.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import PyOpenColorIO as OCIO

from mattebox.nodes import suggest

__all__ = [
    "DEFAULT_CONFIG",
    "ColorError",
    "apply_cpu",
    "colorspace_names",
    "colorspace_processor",
    "cpu",
    "cpu_processor",
    "default_file_colorspace",
    "display_cpu_processor",
    "display_processor",
    "displays",
    "file_transform_cpu_processor",
    "file_transform_processor",
    "get_config",
    "get_processor",
    "looks",
    "resolve_config_uri",
    "views",
    "working_space",
]

#: The built-in studio config that ``ocio://studio-config-latest`` means in OCIO 2.6.
DEFAULT_CONFIG = "ocio://studio-config-v5.0.0_aces-v2.1_ocio-v2.6"

_BUILTIN_PREFIX = "ocio://"
_FLOAT_TYPES = frozenset({"half", "float", "double"})
_SRGB_TEXTURE_NAMES = ("sRGB Encoded Rec.709 (sRGB)", "srgb_tx", "sRGB - Texture", "srgb_texture")
_INTERPOLATIONS = {
    "nearest": OCIO.INTERP_NEAREST,
    "linear": OCIO.INTERP_LINEAR,
    "tetrahedral": OCIO.INTERP_TETRAHEDRAL,
    "cubic": OCIO.INTERP_CUBIC,
    "best": OCIO.INTERP_BEST,
    "default": OCIO.INTERP_DEFAULT,
}
_DIRECTIONS = {"forward": OCIO.TRANSFORM_DIR_FORWARD, "inverse": OCIO.TRANSFORM_DIR_INVERSE}


class ColorError(Exception):
    """A bad colour setting (config, colour space, display, view, look, LUT file)."""


def _hint(name: str, choices: list[str], what: str = "names") -> str:
    """`` (did you mean 'X'?)`` from the closest names (``nodes/suggest.py``)."""
    return suggest.did_you_mean(name, choices, what)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


# --------------------------------------------------------------------------- configs


def _builtin_names() -> list[str]:
    return [str(name) for name in OCIO.BuiltinConfigRegistry()]


def resolve_config_uri(uri: str | None) -> str:
    """The config a script should record: a versioned built-in URI or an absolute path.

    Parameters
    ----------
    uri : str or None
        None (or empty) means ``$OCIO`` if set, else :data:`DEFAULT_CONFIG`. Built-in
        aliases (``ocio://default``, ``ocio://studio-config-latest``,
        ``ocio://cg-config-latest``) become the versioned URI they mean in this OCIO.
        A file path becomes absolute.

    Raises
    ------
    ColorError
        For an unknown built-in name or a missing config file.
    """
    if not uri:
        uri = os.environ.get("OCIO") or DEFAULT_CONFIG
    if uri.startswith(_BUILTIN_PREFIX):
        resolved = OCIO.ResolveConfigPath(uri)
        names = _builtin_names()
        if resolved[len(_BUILTIN_PREFIX) :] not in names:
            name = uri[len(_BUILTIN_PREFIX) :]
            aliases = ["default", "studio-config-latest", "cg-config-latest"]
            hint = _hint(name, aliases + names)
            raise ColorError(f"unknown built-in OCIO config {uri!r}{hint}")
        return resolved
    path = os.path.abspath(os.path.expanduser(uri))
    if not os.path.isfile(path):
        raise ColorError(f"OCIO config file not found: {uri}")
    return path


def _file_stamp(path: str) -> int:
    """Modification time of a file (0 for built-ins), so edits invalidate caches."""
    if path.startswith(_BUILTIN_PREFIX):
        return 0
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


_configs: dict[tuple[str, int], OCIO.Config] = {}
_configs_lock = threading.Lock()


def _load_config(resolved: str, stamp: int) -> OCIO.Config:
    """The config at ``resolved`` as of modification time ``stamp``, cached."""
    with _configs_lock:
        config = _configs.get((resolved, stamp))
    if config is not None:
        return config
    try:
        config = OCIO.Config.CreateFromFile(resolved)
    except OCIO.Exception as exc:
        raise ColorError(f"{resolved}: {_one_line(exc)}") from None
    with _configs_lock:
        return _configs.setdefault((resolved, stamp), config)


def get_config(uri: str | None = None) -> OCIO.Config:
    """The OCIO config for ``uri`` (see :func:`resolve_config_uri`), cached.

    A config file is read again when its modification time changes. Do not modify the
    returned config: it is shared.
    """
    resolved = resolve_config_uri(uri)
    return _load_config(resolved, _file_stamp(resolved))


# --------------------------------------------------------------------------- names


def colorspace_names(config: OCIO.Config) -> list[str]:
    """Names of the config's active colour spaces, in config order."""
    return list(config.getColorSpaceNames())


def displays(config: OCIO.Config) -> list[str]:
    """Names of the config's active displays."""
    return list(config.getDisplays())


def views(config: OCIO.Config, display: str) -> list[str]:
    """Names of the views of ``display``; ColorError if the display is unknown."""
    return list(config.getViews(_check_display(config, display)))


def looks(config: OCIO.Config) -> list[str]:
    """Names of the config's looks."""
    return list(config.getLookNames())


def _colorspace(config: OCIO.Config, name: str) -> str:
    """Canonical name of a colour space, alias or role; ColorError if unknown."""
    space = config.getColorSpace(name) if name else None
    if space is None:
        choices = colorspace_names(config) + list(config.getRoleNames())
        hint = _hint(name or "", choices, "colour spaces")
        raise ColorError(f"unknown colour space {name!r}{hint}")
    return space.getName()


def _check_display(config: OCIO.Config, display: str) -> str:
    known = list(config.getDisplaysAll())
    if display not in known:
        raise ColorError(f"unknown display {display!r}{_hint(display, displays(config))}")
    return display


def _check_view(config: OCIO.Config, display: str, view: str) -> str:
    known = list(config.getViews(display))
    if view not in known:
        raise ColorError(f"display {display!r} has no view {view!r}{_hint(view, known)}")
    return view


def _check_looks(config: OCIO.Config, look: str) -> str:
    """Check each name in a look string such as ``"A, +B, -C"``."""
    for token in look.split(","):
        name = token.strip().lstrip("+-").strip()
        if name and config.getLook(name) is None:
            raise ColorError(f"unknown look {name!r}{_hint(name, looks(config))}")
    return look


def working_space(config: OCIO.Config, name: str | None) -> str:
    """The working (scene-linear) colour space: ``name`` checked, or the scene_linear role.

    Parameters
    ----------
    config : OCIO.Config
    name : str or None
        A colour space, alias or role; None means the config's ``scene_linear`` role
        (``"ACEScg"`` in the studio config).
    """
    if name is not None:
        return _colorspace(config, name)
    space = config.getColorSpace(OCIO.ROLE_SCENE_LINEAR)
    if space is None:
        raise ColorError("the OCIO config has no scene_linear role: choose a working space")
    return space.getName()


def _srgb_texture_space(config: OCIO.Config) -> str:
    """The config's sRGB-encoded Rec.709 texture space (what 8/16-bit files hold)."""
    for name in _SRGB_TEXTURE_NAMES:
        space = config.getColorSpace(name)
        if space is not None and space.getReferenceSpaceType() == OCIO.REFERENCE_SPACE_SCENE:
            return space.getName()
    try:  # compares transforms against the built-in config's space (needs interchange roles)
        reference = get_config("ocio://default")
        return OCIO.Config.IdentifyBuiltinColorSpace(config, reference, _SRGB_TEXTURE_NAMES[0])
    except (OCIO.Exception, ColorError):
        pass
    for role in (OCIO.ROLE_COLOR_PICKING, OCIO.ROLE_TEXTURE_PAINT):
        space = config.getColorSpace(role)
        if space is not None:
            return space.getName()
    return working_space(config, None)


def default_file_colorspace(config: OCIO.Config, path: str, datatype: str) -> str:
    """The colour space a Read or Write assumes when its colour space is "default".

    A file rule of the config that names this kind of file (any rule but the catch-all
    ``Default`` rule) wins: the studio config says EXR files are ACES2065-1. Otherwise
    float files (half, float) are scene linear (the ``scene_linear`` role) and integer
    files (uint8, uint10, uint16...) are sRGB-encoded Rec.709 ("sRGB Encoded Rec.709
    (sRGB)" in the studio config).

    Parameters
    ----------
    config : OCIO.Config
    path : str
        The file name (only its name is used, the file need not exist).
    datatype : str
        The file's storage type, as :class:`mattebox.engine.io.ImageInfo` gives it.
    """
    if not config.filepathOnlyMatchesDefaultRule(path):
        name = config.getColorSpaceFromFilepath(path)  # (name, rule index) in 2.6
        space = config.getColorSpace(name[0] if isinstance(name, tuple) else name)
        if space is not None:
            return space.getName()
    if datatype in _FLOAT_TYPES:
        return working_space(config, None)
    return _srgb_texture_space(config)


# --------------------------------------------------------------------------- processors


def _config_key(config_uri: str | None) -> tuple[str, int]:
    resolved = resolve_config_uri(config_uri)
    return resolved, _file_stamp(resolved)


@functools.lru_cache(maxsize=256)
def _colorspace_processor(key: tuple[str, int], src: str, dst: str) -> OCIO.Processor:
    config = _load_config(*key)
    src, dst = _colorspace(config, src), _colorspace(config, dst)
    try:
        return config.getProcessor(src, dst)
    except OCIO.Exception as exc:
        raise ColorError(f"{src} -> {dst}: {_one_line(exc)}") from None


def colorspace_processor(config_uri: str | None, src: str, dst: str) -> OCIO.Processor:
    """The cached OCIO processor converting colour space ``src`` to ``dst``."""
    return _colorspace_processor(_config_key(config_uri), src, dst)


@functools.lru_cache(maxsize=256)
def _display_processor(key, src, display, view, look, inverse) -> OCIO.Processor:
    config = _load_config(*key)
    src = _colorspace(config, src)
    _check_view(config, _check_display(config, display), view)
    transform = OCIO.DisplayViewTransform(src=src, display=display, view=view)
    try:
        if not look:
            direction = OCIO.TRANSFORM_DIR_INVERSE if inverse else OCIO.TRANSFORM_DIR_FORWARD
            return config.getProcessor(transform, direction)
        pipeline = OCIO.LegacyViewingPipeline()
        pipeline.setDisplayViewTransform(transform)
        pipeline.setLooksOverride(_check_looks(config, look))
        pipeline.setLooksOverrideEnabled(True)
        forward = pipeline.getProcessor(config, config.getCurrentContext())
        if not inverse:
            return forward
        return config.getProcessor(forward.createGroupTransform(), OCIO.TRANSFORM_DIR_INVERSE)
    except OCIO.Exception as exc:
        raise ColorError(f"{display} / {view}: {_one_line(exc)}") from None


def display_processor(
    config_uri: str | None,
    src: str,
    display: str,
    view: str,
    look: str | None = None,
    inverse: bool = False,
) -> OCIO.Processor:
    """The cached OCIO processor from ``src`` to a display's view (optionally a look).

    ``look`` overrides the view's looks (a look name or ``"A, +B"`` list); ``inverse``
    gives the display-to-``src`` processor.
    """
    return _display_processor(_config_key(config_uri), src, display, view, look or None, inverse)


_stamps_seen: dict[str, int] = {}
_stamps_lock = threading.Lock()


def _lut_stamp(path: str) -> int:
    """The LUT file's modification time; when it changed, drop OCIO's cached copies."""
    stamp = _file_stamp(path)
    with _stamps_lock:
        if _stamps_seen.setdefault(path, stamp) != stamp:
            _stamps_seen[path] = stamp
            OCIO.ClearAllCaches()  # file contents
            with _configs_lock:
                for config in _configs.values():
                    config.clearProcessorCache()  # processors built from the old file
    return stamp


@functools.lru_cache(maxsize=256)
def _file_transform_processor(key, path, stamp, direction, interpolation) -> OCIO.Processor:
    config = _load_config(*key)
    transform = OCIO.FileTransform(
        src=path, interpolation=_INTERPOLATIONS[interpolation], direction=_DIRECTIONS[direction]
    )
    try:
        return config.getProcessor(transform)
    except OCIO.Exception as exc:
        raise ColorError(f"{path}: {_one_line(exc)}") from None


def file_transform_processor(
    config_uri: str | None, file: str, direction: str = "forward", interpolation: str = "linear"
) -> OCIO.Processor:
    """The cached OCIO processor applying a LUT file (.cube, .clf, .spi3d...).

    Parameters
    ----------
    config_uri : str or None
    file : str
        The LUT file; a relative path is taken from the current folder.
    direction : {"forward", "inverse"}
    interpolation : {"linear", "tetrahedral", "nearest", "cubic", "best", "default"}
    """
    if direction not in _DIRECTIONS:
        raise ColorError(f"unknown direction {direction!r}{_hint(direction, list(_DIRECTIONS))}")
    if interpolation not in _INTERPOLATIONS:
        choices = list(_INTERPOLATIONS)
        raise ColorError(f"unknown interpolation {interpolation!r}{_hint(interpolation, choices)}")
    path = os.path.abspath(os.path.expanduser(file))
    if not os.path.isfile(path):
        raise ColorError(f"LUT file not found: {file}")
    key = _config_key(config_uri)
    return _file_transform_processor(key, path, _lut_stamp(path), direction, interpolation)


_PROCESSOR_KINDS = {
    "colorspace": colorspace_processor,
    "display": display_processor,
    "file": file_transform_processor,
}


def get_processor(kind: str, config_uri: str | None = None, **args) -> OCIO.Processor:
    """The cached OCIO processor of one kind, for nodes that hold a kind and arguments.

    ``kind`` is ``"colorspace"`` (``src``, ``dst``), ``"display"`` (``src``, ``display``,
    ``view``, ``look``, ``inverse``) or ``"file"`` (``file``, ``direction``,
    ``interpolation``). The GPU backend builds its shader from the same processor.
    """
    if kind not in _PROCESSOR_KINDS:
        raise ColorError(f"unknown processor kind {kind!r}{_hint(kind, list(_PROCESSOR_KINDS))}")
    return _PROCESSOR_KINDS[kind](config_uri, **args)


_cpu_cache: dict[str, OCIO.CPUProcessor] = {}
_cpu_lock = threading.Lock()


def cpu(proc: OCIO.Processor) -> OCIO.CPUProcessor:
    """The processor's float32-in, float32-out CPU processor (default optimisation), cached."""
    key = proc.getCacheID()
    with _cpu_lock:
        found = _cpu_cache.get(key)
    if found is None:
        found = proc.getDefaultCPUProcessor()
        with _cpu_lock:
            if len(_cpu_cache) > 512:
                _cpu_cache.clear()
            found = _cpu_cache.setdefault(key, found)
    return found


_matrix_cache: dict[str, tuple[tuple[float, ...], ...] | None] = {}


def matrix_rows(proc: OCIO.Processor) -> tuple[tuple[float, ...], ...] | None:
    """The processor as three rows ``(m0, m1, m2, 0)`` of an RGB matrix, or None.

    Not None only where the optimised processor is nothing but matrices without offsets
    that leave alpha alone: a change of primaries such as ACEScg to ACES2065-1. Such a
    transform is linear, so it commutes with premultiplication and maps black to black;
    the engine then runs it as a ColorMatrix point op that fuses with its neighbours.
    """
    key = proc.getCacheID()
    if key in _matrix_cache:
        return _matrix_cache[key]
    total = np.eye(4)
    rows = None
    group = proc.getOptimizedProcessor(OCIO.OPTIMIZATION_DEFAULT).createGroupTransform()
    for transform in group:
        if not isinstance(transform, OCIO.MatrixTransform) or any(transform.getOffset()):
            break
        matrix = np.array(transform.getMatrix(), np.float64).reshape(4, 4)
        if transform.getDirection() == OCIO.TRANSFORM_DIR_INVERSE:
            matrix = np.linalg.inv(matrix)
        total = matrix @ total
    else:
        if np.array_equal(total[3], [0, 0, 0, 1]) and not total[:3, 3].any():
            rows = tuple((*map(float, total[c, :3]), 0.0) for c in range(3))
    _matrix_cache[key] = rows
    return rows


def cpu_processor(config_uri: str | None, src: str, dst: str) -> OCIO.CPUProcessor:
    """The cached CPU processor converting colour space ``src`` to ``dst``."""
    return cpu(colorspace_processor(config_uri, src, dst))


def display_cpu_processor(
    config_uri: str | None,
    src: str,
    display: str,
    view: str,
    look: str | None = None,
    inverse: bool = False,
) -> OCIO.CPUProcessor:
    """The cached CPU processor of :func:`display_processor`."""
    return cpu(display_processor(config_uri, src, display, view, look, inverse))


def file_transform_cpu_processor(
    config_uri: str | None, file: str, direction: str = "forward", interpolation: str = "linear"
) -> OCIO.CPUProcessor:
    """The cached CPU processor of :func:`file_transform_processor`."""
    return cpu(file_transform_processor(config_uri, file, direction, interpolation))


# --------------------------------------------------------------------------- applying

_black_cache: dict[str, bool] = {}


def _keeps_black(cpu_proc: OCIO.CPUProcessor) -> bool:
    """Whether the processor maps black to black (true of linear and display spaces)."""
    key = cpu_proc.getCacheID()
    if key not in _black_cache:
        black = np.array([0.0, 0.0, 0.0, 1.0], np.float32)
        cpu_proc.applyRGBA(black)
        _black_cache[key] = bool(np.all(np.abs(black[:3]) < 1e-6))
    return _black_cache[key]


def _apply_block(cpu_proc, block: np.ndarray, unpremultiply: bool, keeps_black: bool) -> None:
    """Transform one C-contiguous row block in place."""
    rows, width = block.shape[:2]
    alpha = block[..., 3].copy()
    if unpremultiply:
        covered = alpha > 0
        scale = np.where(covered, alpha, np.float32(1.0))
        if not keeps_black:
            kept = block[~covered, :3].copy()
        for channel in range(3):  # one channel at a time: far faster than broadcasting
            block[..., channel] /= scale
    cpu_proc.apply(OCIO.PackedImageDesc(block, width, rows, 4))
    if unpremultiply:
        for channel in range(3):
            block[..., channel] *= scale
        if not keeps_black:
            block[~covered, :3] = kept
    block[..., 3] = alpha


def apply_cpu(
    cpu_proc: OCIO.CPUProcessor,
    pixels: np.ndarray,
    threads: int | None = None,
    *,
    unpremultiply: bool = True,
    block_rows: int | None = None,
) -> np.ndarray:
    """Apply a CPU processor to premultiplied RGBA float32 pixels; returns a new array.

    Parameters
    ----------
    cpu_proc : OCIO.CPUProcessor
    pixels : ndarray
        float32 ``(H, W, 4)``, alpha premultiplied. Not modified.
    threads : int, optional
        Threads over row blocks (default ``os.cpu_count()``).
    unpremultiply : bool
        Transform unpremultiplied colour: divide by alpha where alpha > 0, apply,
        multiply again. Where alpha <= 0 the colour is transformed as it is when the
        processor maps black to black (additive light stays, converted), and left
        unchanged otherwise (a log encoding would turn transparent black grey).
        False transforms the stored values directly.
    block_rows : int, optional
        Rows per block (default: enough blocks to keep every thread busy).

    Returns
    -------
    ndarray
        float32 ``(H, W, 4)`` C-contiguous; alpha is copied unchanged.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim != 3 or pixels.shape[2] != 4:
        raise ColorError(f"apply_cpu needs an (H, W, 4) RGBA array, got shape {pixels.shape}")
    out = np.array(pixels, dtype=np.float32, order="C", copy=True)
    height, width = out.shape[:2]
    if out.size == 0 or cpu_proc.isNoOp():
        return out
    threads = max(1, int(threads or os.cpu_count() or 1))
    if block_rows is None:
        # Four blocks per thread balance uneven rows; small images run in one block.
        min_rows = max(1, 65536 // max(width, 1))
        block_rows = max(min_rows, math.ceil(height / (threads * 4)))
    block_rows = max(1, int(block_rows))
    keeps_black = _keeps_black(cpu_proc) if unpremultiply else True
    starts = range(0, height, block_rows)
    if threads == 1 or len(starts) == 1:
        for y in starts:
            _apply_block(cpu_proc, out[y : y + block_rows], unpremultiply, keeps_black)
        return out
    pool = _block_pool(threads)
    jobs = [
        pool.submit(_apply_block, cpu_proc, out[y : y + block_rows], unpremultiply, keeps_black)
        for y in starts
    ]
    for job in jobs:
        job.result()
    return out


_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _block_pool(threads: int) -> ThreadPoolExecutor:
    """A pool of ``threads`` threads kept for :func:`apply_cpu` (the viewer applies its
    display transform at every slider step: starting threads each time showed in its
    profile); one per thread count, and a new one in a forked child."""
    key = (threads, os.getpid())
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ThreadPoolExecutor(threads, thread_name_prefix="mattebox-ocio")
        return pool
