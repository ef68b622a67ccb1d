"""What the editor's viewer needs from the engine: display pixels, errors, snapshots.

The viewer never does image math itself. It renders a node with :func:`render.render`
(a region of interest of what is visible), then asks :func:`display_image` for 8-bit
display pixels at screen resolution: the linear pixels are box-averaged down to the
screen, exposed, put through the OCIO display/view (and look) of the script's config,
given the viewer gamma, and reduced to one channel when one is soloed.

The display transform goes through one function, :func:`apply_display_processor`, which
uses the chosen backend's processor when it has one and OCIO's CPU processor otherwise.

:func:`render_for_display` is what the viewer calls: where the backend displays results
itself (the GPU), the render's float pixels stay on the device, the whole display step
(reduction, exposure, OCIO, gamma, channel, 8 bits) runs there, and only 4 bytes a screen
pixel come back; the linear image is a :class:`~mattebox.engine.image.DeviceImage`
(downloaded when read, one pixel at a time for the probe). Anywhere else, and as the
fallback on any GPU error, the CPU path above runs (``docs/gpu.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mattebox.engine import color, group, render
from mattebox.engine.backends.base import DisplayUnsupported
from mattebox.engine.graph import Graph, Node
from mattebox.engine.image import DeviceImage, Image, scale_window
from mattebox.engine.plan import Evaluator, RenderError
from mattebox.nodes.channels import MAIN
from mattebox.nodes.spec import Format, Window

__all__ = [
    "CHANNELS",
    "DisplaySettings",
    "apply_display_processor",
    "default_display_view",
    "display_image",
    "image_info",
    "info_of",
    "node_errors",
    "proxy_for",
    "reduce",
    "reduction_for",
    "render_for_display",
    "snapshot",
]

#: Channel solo modes of the viewer: all colour, one channel, or Rec.709 luminance.
CHANNELS = ("rgb", "r", "g", "b", "a", "luminance")
_REC709 = np.array([0.2126, 0.7152, 0.0722], np.float32)


@dataclass(frozen=True)
class DisplaySettings:
    """How linear pixels become display pixels in the viewer.

    Attributes
    ----------
    display, view : str
        An OCIO display of the script's config and one of its views.
    look : str
        An OCIO look (or ``"A, +B"`` list) applied before the view; empty for none.
    exposure : float
        Exposure in f-stops, applied to scene-linear colour (``* 2 ** exposure``).
    gamma : float
        Viewer gamma, applied to display values after the view (``** (1 / gamma)``).
    channel : str
        One of :data:`CHANNELS`. ``r``, ``g``, ``b`` and ``luminance`` show that part of
        the displayed colour as grey; ``a`` shows alpha as grey, untransformed.
    """

    display: str
    view: str
    look: str = ""
    exposure: float = 0.0
    gamma: float = 1.0
    channel: str = "rgb"


def default_display_view(config_uri: str | None) -> tuple[str, str]:
    """The config's default display and that display's default view."""
    config = color.get_config(config_uri)
    display = config.getDefaultDisplay()
    return display, config.getDefaultView(display)


def reduce(pixels: np.ndarray, factor: int) -> np.ndarray:
    """Box-average ``(H, W, 4)`` pixels by an integer ``factor`` along both axes.

    Edge blocks that are not full are averaged over the pixels they have, so the result
    is ``ceil(H / factor) x ceil(W / factor)``. ``factor`` 1 returns the pixels as they are.
    """
    if factor <= 1 or pixels.size == 0:
        return pixels
    height, width = pixels.shape[:2]
    rows = np.arange(0, height, factor)
    cols = np.arange(0, width, factor)
    summed = np.add.reduceat(np.add.reduceat(pixels, rows, axis=0, dtype=np.float64), cols, axis=1)
    row_counts = np.diff(np.append(rows, height)).astype(np.float64)
    col_counts = np.diff(np.append(cols, width)).astype(np.float64)
    summed /= row_counts[:, None, None] * col_counts[None, :, None]
    return summed.astype(np.float32)


def apply_display_processor(processor, pixels: np.ndarray, backend: str = "auto") -> np.ndarray:
    """Apply an OCIO processor to premultiplied display-bound pixels, on ``backend``.

    The backend's ``apply_processor`` runs it (OCIO's CPU processor on the CPU, the
    processor's shader on a GPU); if a GPU fails, OCIO's CPU processor runs it.
    Colour is transformed as stored (premultiplied: the image over black), alpha kept.
    """
    try:
        engine_backend = render.backend_for(backend)  # a GPU that fails falls back to the CPU
    except ValueError:
        engine_backend = None
    if engine_backend is not None and engine_backend.name != "cpu":
        try:
            return np.asarray(engine_backend.apply_processor(processor, pixels), np.float32)
        except Exception as error:  # noqa: BLE001 - a GPU failure falls back to the CPU
            render.session().warn_once(f"viewer display transform on the CPU ({error})")
    return color.apply_cpu(color.cpu(processor), pixels, unpremultiply=False)


def display_image(
    pixels: np.ndarray,
    config_uri: str | None,
    working_space: str,
    settings: DisplaySettings,
    backend: str = "auto",
) -> np.ndarray:
    """Display pixels (uint8 RGBA, alpha 255) of linear premultiplied RGBA pixels.

    Parameters
    ----------
    pixels : ndarray
        float32 ``(H, W, 4)`` in ``working_space``; reduce them to screen size first
        (:func:`reduce`): the display transform is the viewer's costliest step.
    config_uri : str or None
        The script's OCIO config.
    working_space : str
        The colour space of ``pixels`` (the script's working space).
    settings : DisplaySettings
    backend : str
        Where the display transform runs (see :func:`apply_display_processor`).

    Raises
    ------
    mattebox.engine.color.ColorError
        For an unknown display, view or look.
    """
    if settings.channel not in CHANNELS:
        raise ValueError(f"unknown channel {settings.channel!r} (one of {', '.join(CHANNELS)})")
    pixels = np.asarray(pixels, np.float32)
    if settings.channel == "a":
        grey = np.repeat(pixels[..., 3:4], 3, axis=2)
        return _to_uint8(grey)
    linear = np.array(pixels, np.float32, order="C", copy=True)
    if settings.exposure:
        linear[..., :3] *= np.float32(2.0**settings.exposure)
    processor = color.display_processor(
        config_uri, working_space, settings.display, settings.view, settings.look or None
    )
    shown = apply_display_processor(processor, linear, backend)[..., :3]
    if settings.gamma != 1.0 and settings.gamma > 0:
        shown = np.power(np.maximum(shown, 0.0), np.float32(1.0 / settings.gamma))
    if settings.channel in ("r", "g", "b"):
        index = "rgb".index(settings.channel)
        shown = np.repeat(shown[..., index : index + 1], 3, axis=2)
    elif settings.channel == "luminance":
        shown = np.repeat((shown @ _REC709)[..., None], 3, axis=2)
    return _to_uint8(shown)


def render_for_display(
    graph: Graph,
    node: Node | str,
    frame: float,
    region: Window,
    settings: DisplaySettings,
    reduction: int = 1,
    proxy: int = 1,
    backend: str = "auto",
    cancel=None,
    layer: str = MAIN,
    stats=None,
) -> tuple[Image, np.ndarray]:
    """Render ``region`` (full-size image pixels) of ``node`` and display it: the linear
    image (for the probe) and its uint8 RGBA display pixels reduced by ``reduction``.

    On a backend that displays results (the GPU) the main layer stays on the device: the
    display step runs there and the image is a :class:`DeviceImage`. Elsewhere, for other
    layers, for images larger than one device binding, and after any GPU error (one
    warning), the image is rendered to the host and :func:`display_image` runs. Raises
    what :func:`render.render` raises, and ColorError for an unknown display or view.
    """
    node = graph[node] if isinstance(node, str) else node
    ctx = render.context_for(graph, frame)
    if layer == MAIN:
        try:
            shown = _display_on_device(
                graph, node, frame, region, settings, reduction, proxy, backend, cancel, stats, ctx
            )
        except render.GpuFailed:
            backend, shown = "cpu", None  # warned once; this view renders on the CPU
        if shown is not None:
            return shown
    image = render.render(
        graph,
        node,
        frame=frame,
        backend=backend,
        region=scale_window(region, proxy).as_tuple(),
        cancel=cancel,
        proxy=proxy,
        layers=() if layer == MAIN else [layer],
        stats=stats,
    )
    if cancel is not None and cancel():
        raise render.Cancelled()
    return image, _display_on_host(image, layer, settings, reduction, ctx, backend)


def _display_on_host(image: Image, layer: str, settings, reduction: int, ctx, backend: str):
    reduced = reduce(layer_as_rgba(image, layer), max(1, reduction // image.proxy))
    return display_image(reduced, ctx.ocio_config, ctx.working_space, settings, backend)


def _display_on_device(
    graph, node, frame, region, settings, reduction, proxy, backend, cancel, stats, ctx
) -> tuple[Image, np.ndarray] | None:
    """The GPU path of :func:`render_for_display`; None where it does not apply."""
    if settings.channel not in CHANNELS:
        raise ValueError(f"unknown channel {settings.channel!r} (one of {', '.join(CHANNELS)})")
    found = render.render_on_device(
        graph,
        node,
        frame,
        backend,
        scale_window(region, proxy).as_tuple(),
        cancel,
        proxy,
        stats,
    )
    if found is None:
        return None
    if cancel is not None and cancel():
        raise render.Cancelled()
    image = device_image(found)
    factor = max(1, reduction // found.proxy)
    box = found.region
    out = np.empty((-(-box.height // factor), -(-box.width // factor), 4), np.uint8)
    processor = None
    if settings.channel != "a":
        processor = color.display_processor(
            ctx.ocio_config,
            ctx.working_space,
            settings.display,
            settings.view,
            settings.look or None,
        )
    try:
        found.backend.display(
            found.handle,
            found.window,
            box,
            factor,
            processor,
            settings.exposure,
            settings.gamma,
            settings.channel,
            out,
        )
    except DisplayUnsupported as why:  # this view has no shader form: OCIO on the CPU
        render.session().warn_once(f"viewer display transform on the CPU ({why})")
        return image, _display_on_host(image, MAIN, settings, reduction, ctx, "cpu")
    except Exception as error:  # noqa: BLE001 - a GPU failure: the CPU path, once warned
        render.gpu_failed(found.backend, error)
    return image, out


def device_image(found) -> DeviceImage:
    """A :class:`DeviceImage` of a :class:`render.DeviceResult`: its region downloaded
    when its pixels are read, single pixels read alone (None while the device is busy
    rendering for longer than a moment, or gone)."""
    backend, handle, window, box = found.backend, found.handle, found.window, found.region

    def fetch() -> np.ndarray:
        with backend.lock:
            pixels = backend.download(handle, window)
        x, y = box.x0 - window.x0, box.y0 - window.y0  # the window contains the box
        return np.ascontiguousarray(pixels[y : y + box.height, x : x + box.width])

    def sample(x: int, y: int):
        if not backend.lock.acquire(timeout=0.05):
            return None  # a render holds the device: the probe shows this one after it
        try:
            return backend.pixel(handle, x + box.x0 - window.x0, y + box.y0 - window.y0)
        except Exception:  # noqa: BLE001 - a lost device: no value, not a crash
            return None
        finally:
            backend.lock.release()

    return DeviceImage(fetch, sample, box.as_tuple(), found.format, found.proxy)


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    out = np.empty((height, width, 4), np.uint8)
    scaled = np.multiply(rgb, np.float32(255.0), dtype=np.float32)
    scaled += np.float32(0.5)
    np.fmax(scaled, np.float32(0.0), out=scaled)  # NaN (and -inf) to 0: fmax drops NaNs
    np.minimum(scaled, np.float32(255.0), out=scaled)
    out[..., :3] = scaled.astype(np.uint8)
    out[..., 3] = 255
    return out


def image_info(graph: Graph, node: Node | str, frame: float) -> tuple[Format, Window]:
    """The format and data window ``node`` has at ``frame``, without computing pixels.

    Raises :class:`~mattebox.engine.plan.RenderError` naming the failing node.
    """
    info = info_of(graph, node, frame)
    return info.format, info.data_window


def info_of(graph: Graph, node: Node | str, frame: float):
    """What ``node``'s output is at ``frame`` (format, data window and layers: an
    ``ImageInfo``), from one evaluation of the graph and without computing pixels.

    Raises :class:`~mattebox.engine.plan.RenderError` naming the failing node.
    """
    node = graph[node] if isinstance(node, str) else node
    return render.evaluate(graph, node, frame).info


def node_errors(graph: Graph, frame: float) -> dict[str, str]:
    """Every node that cannot be evaluated at ``frame``, mapped to its one-line message.

    Only the node at fault is named: a Merge below a Read of a missing file is not in
    the result, the Read is. Nothing is computed; file sources are probed.
    """
    try:
        ctx = render.context_for(graph, frame)
    except RenderError as error:
        return {name: error.message for name in graph.nodes}
    evaluator = Evaluator(graph, ctx, render.file_source_info)
    errors: dict[str, str] = {}
    for node in list(graph.nodes.values()):
        try:
            evaluator.eval(node)
        except RenderError as error:
            errors.setdefault(error.node, error.message)
        except Exception as error:  # noqa: BLE001 - a node's own bug is its error
            errors.setdefault(node.name, f"{type(error).__name__}: {error}")
    return errors


def snapshot(graph: Graph) -> Graph:
    """A copy of ``graph`` to render on another thread while the editor keeps editing.

    Cheap (no parameter is coerced again): nodes, values, links, settings, path and the
    recently edited nodes are copied; values are shared, as the graph replaces them on
    every edit and never changes them in place. ``ui`` is not copied.
    """
    copy = Graph(graph.settings.copy())
    copy.path = graph.path
    copy.hot_nodes = list(graph.hot_nodes)
    copy.revision = graph.revision
    for name, node in list(graph.nodes.items()):
        if node.is_group:  # its inside copied too
            copy.nodes[name] = group.copy_node(node, copy)
            continue
        twin = Node(copy, name, node.type, node.spec)
        twin.values = dict(node.values)
        twin.inputs = dict(node.inputs)
        twin.version = node.version
        twin.raw = node.raw
        copy.nodes[name] = twin
    return copy


def proxy_for(zoom: float, draft: bool = False, most: int = 8) -> int:
    """The proxy level the viewer renders at, at a ``zoom`` (screen pixels per image pixel).

    Zoomed out so that one screen pixel covers k >= 2 image pixels, the largest power of
    two <= k (at most ``most``): rendering at 1/N scale costs about 1/N² of a full render,
    and the display reduction does the rest. A ``draft`` (while a value is being dragged)
    uses twice that level (at most ``most``), refined at the normal level after the drag.
    """
    factor = max(1, math.floor(1.0 / zoom + 1e-6)) if zoom > 0 else 1
    level = 1
    while level * 2 <= min(factor, most):
        level *= 2
    return min(most, level * 2) if draft else level


def reduction_for(zoom: float, draft: bool = False) -> int:
    """The integer factor :func:`reduce` should use at a viewer ``zoom`` (screen pixels per
    image pixel); a ``draft`` (while a value is being dragged) halves the resolution again."""
    factor = max(1, math.floor(1.0 / zoom + 1e-6)) if zoom > 0 else 1
    return factor * 2 if draft else factor


def layer_as_rgba(image: Image, name: str) -> np.ndarray:
    """Pixels of layer ``name`` of ``image`` arranged for display as H x W x 4: one channel
    as grey (R = G = B), two as R and G, three as R, G, B, four as R, G, B, A; alpha 1
    where the layer has none. No value is changed, only where it goes."""
    if name == "rgba":
        return image.pixels
    pixels = image.layer(name)
    count = pixels.shape[2]
    out = np.zeros((*pixels.shape[:2], 4), np.float32)
    if count == 1:
        out[..., :3] = pixels
    else:
        out[..., :count] = pixels[..., :4]
    if count < 4:
        out[..., 3] = 1.0
    return out
