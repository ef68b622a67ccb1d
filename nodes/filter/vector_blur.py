"""VectorBlur: motion blur along the vectors of a motion layer (Nuke's VectorBlur).

Two declarations share one kernel: :class:`VectorBlur`, the node artists use, names the
motion layer by its ``uv`` parameter; for each layer it blurs, the engine runs
:class:`VectorBlurPlane` (internal) on two planes of the same input: the layer and the
motion layer, whose components ``u_component`` and ``v_component`` hold the vector.
"""

from __future__ import annotations

import math

import numpy as np

from mattebox.nodes import channels as chans
from mattebox.nodes.kernel import kernel, prange
from mattebox.nodes.spec import (
    EMPTY,
    RGBA_LAYERS,
    Bool,
    Float,
    ImageInfo,
    Int,
    Kind,
    NodeSpec,
    String,
    register,
)

MAX_SAMPLES = 256


@kernel
def bilinear_add(src, fx, fy, weight, total):
    """Add ``weight`` times ``src`` at the index-space position ``(fx, fy)`` (pixel
    ``(i, j)`` at ``fx == i, fy == j``) to ``total`` (four floats), bilinear between the
    four nearest pixels; pixels outside ``src`` read 0."""
    h, w = src.shape[0], src.shape[1]
    i0 = math.floor(fx)
    j0 = math.floor(fy)
    a = fx - i0
    b = fy - j0
    for dj in range(2):
        j = j0 + dj
        if j < 0 or j >= h:
            continue
        wy = b if dj == 1 else 1.0 - b
        for di in range(2):
            i = i0 + di
            if i < 0 or i >= w:
                continue
            wxy = weight * wy * (a if di == 1 else 1.0 - a)
            for c in range(4):
                total[c] += wxy * src[j, i, c]


@kernel(parallel=True)
def vector_blur_kernel(
    src, sx0, sy0, dst, dx0, dy0, motion, mx0, my0, ku, kv, su, sv, samples, offset, max_length
):
    """Each output pixel ``(x, y)`` averages ``samples`` bilinear samples of ``src`` at
    ``(x, y) + t * m`` for ``t = offset + (k + 0.5) / samples``, ``k = 0 .. samples - 1``,
    where ``m`` is the motion plane's components ``ku``, ``kv`` at ``(x, y)`` (0 outside
    ``motion``) times ``su``, ``sv``, shortened to ``max_length`` pixels where longer.
    Pixels outside ``src`` read 0; rows in parallel."""
    height, width = dst.shape[0], dst.shape[1]
    mh, mw = motion.shape[0], motion.shape[1]
    weight = 1.0 / samples
    for row in prange(height):
        total = np.zeros(4)
        y = dy0 + row
        for col in range(width):
            x = dx0 + col
            u = 0.0
            v = 0.0
            my = y - my0
            mx = x - mx0
            if my >= 0 and my < mh and mx >= 0 and mx < mw:
                u = motion[my, mx, ku] * su
                v = motion[my, mx, kv] * sv
            length = math.sqrt(u * u + v * v)
            if length > max_length:
                shorten = max_length / length
                u *= shorten
                v *= shorten
            total[:] = 0.0
            for k in range(samples):
                t = offset + (k + 0.5) * weight
                bilinear_add(src, x - sx0 + t * u, y - sy0 + t * v, weight, total)
            for c in range(4):
                dst[row, col, c] = total[c]


def _blur_params():
    """The parameters VectorBlur and VectorBlurPlane share."""
    return (
        Float(
            "scale",
            1.0,
            "Multiplier on the vectors (negative reverses them).",
            soft_min=-2.0,
            soft_max=4.0,
            spatial=True,
        ),
        Bool(
            "v_up",
            False,
            "The vectors' v points up (as renderers and Nuke write it); off: down, the "
            "image's y axis.",
        ),
        Int(
            "samples",
            16,
            "Samples along each pixel's vector: more is smoother and slower.",
            min=1,
            max=MAX_SAMPLES,
            soft_max=64,
        ),
        Float(
            "offset",
            -0.5,
            "Where the samples lie along the vector: -0.5 centred on the pixel, 0 from "
            "the pixel forwards, -1 from behind up to the pixel.",
            min=-1.0,
            max=0.0,
        ),
        Float(
            "max_length",
            64.0,
            "Longest vector in pixels (longer ones are shortened); also the reach of tiles.",
            min=0.0,
            soft_max=256.0,
            spatial=True,
        ),
    )


class _VectorBlurBase(NodeSpec):
    """What both declarations share: the halo, regions, data window and kernel."""

    kind = Kind.AREA
    family = "filter"
    cpu_kernel = vector_blur_kernel

    @classmethod
    def pass_through(cls, values):
        moves = values["scale"] != 0.0 and values["max_length"] > 0.0
        return None if moves else "Source"

    @classmethod
    def halo(cls, values, ctx=None) -> tuple[int, int]:
        """Samples lie at ``t * m`` with ``|t| <= max(-offset, 1 + offset)`` and ``|m| <=
        max_length``; bilinear reads one pixel more."""
        along = max(-values["offset"], 1.0 + values["offset"])
        reach = math.ceil(values["max_length"] * along) + 1
        return reach, reach

    @classmethod
    def data_window(cls, values, inputs, ctx):
        """The blurred plane's window (motion elsewhere has no colour to gather)."""
        info = inputs[0] if inputs else None
        if info is None:
            return ImageInfo(ctx.script_format, EMPTY)
        return ImageInfo(info.format, info.data_window, info.layers)

    @classmethod
    def input_region(cls, values, region, index, ctx):
        """The plane to blur around ``region`` by the halo; the motion under ``region``."""
        if index == 0:
            return region.grow(*cls.halo(values))
        return region


@register
class VectorBlurPlane(_VectorBlurBase):
    """Blurs Source along the vectors held in two components of Motion, as VectorBlur
    does for each layer it blurs (made by the engine, not offered to users).

    Each output pixel averages ``samples`` bilinear samples of Source at
    ``p + (offset + (k + 0.5) / samples) * m`` for ``k = 0 .. samples - 1``: ``p`` is
    the pixel, ``m`` the vector (``u_component``, ``v_component`` of Motion at ``p``, 0
    outside Motion's data window) times ``scale`` (v times ``-scale`` with ``v_up``),
    shortened to ``max_length`` pixels where longer. Source reads 0 outside its data
    window; the output's data window is Source's.
    """

    type_name = "VectorBlurPlane"
    internal = True
    inputs = ("Source", "Motion")
    params = (
        *_blur_params(),
        Int("u_component", 0, "Component of Motion holding u (x, right).", min=0, max=3),
        Int("v_component", 1, "Component of Motion holding v (y).", min=0, max=3),
    )

    @classmethod
    def kernel_args(cls, values, ctx, src_window, dst_window) -> tuple:
        """``(u_component, v_component, u scale, v scale, samples, offset, max_length)``:
        v's scale is ``-scale`` where v points up."""
        return (
            int(values["u_component"]),
            int(values["v_component"]),
            float(values["scale"]),
            float(-values["scale"] if values["v_up"] else values["scale"]),
            int(values["samples"]),
            float(values["offset"]),
            float(values["max_length"]),
        )


def motion_channels(uv: str, layers) -> tuple[str, int, int]:
    """``(layer, u component, v component)`` that a ``uv`` value names among ``layers``:
    a layer (its first two channels) or two channel names of one layer. Raises
    ValueError, naming what the input has, where it names none of these."""
    names = uv.replace(",", " ").split()
    present = dict(layers)
    if len(names) == 1:
        (layer,) = names
        if layer not in present:
            raise ValueError(
                f"{layer!r} is not a layer of the input (it has {', '.join(present)}); "
                f"name the motion layer or two of its channels ('{layer}.u {layer}.v')"
            )
        if len(present[layer]) < 2:
            raise ValueError(f"layer {layer!r} has one channel; u and v need two")
        return layer, 0, 1
    if len(names) != 2:
        raise ValueError(f"expected a layer or two channel names, got {uv!r}")
    (u_layer, ku), (v_layer, kv) = (chans.find_channel(layers, n, "the input") for n in names)
    if u_layer != v_layer:
        raise ValueError(f"u and v must be channels of one layer, got {uv!r}")
    return u_layer, ku, kv


@register
class VectorBlur(_VectorBlurBase):
    """Motion blur along per-pixel vectors: each pixel is smeared along its own vector
    from the motion layer ``uv`` (Nuke's VectorBlur).

    The vector ``m = (u, v)`` is in pixels, u to the right and v down (the image's y
    axis), or v up with ``v_up`` (as renderers and Nuke write motion vectors). Each
    output pixel averages ``samples`` bilinear samples of its input at
    ``p + (offset + (k + 0.5) / samples) * m``, ``k = 0 .. samples - 1``, where ``m`` is
    the motion at ``p`` times ``scale``, shortened to ``max_length`` pixels where longer;
    outside the data window the input reads transparent black. The selected layers are blurred, each by the same vectors;
    the motion layer itself is never blurred. ``uv`` names a layer (its first two
    channels are u and v: ``motion``, ``forward``) or two channels of one layer
    (``motion.u motion.v``); a missing one is an error. The data window is unchanged;
    ``max_length`` also bounds how far tiles reach into their neighbours. ``scale`` and
    ``max_length`` scale with proxy renders (the vectors are full-resolution pixels).
    """

    type_name = "VectorBlur"
    params = (
        String(
            "uv",
            "motion",
            "Motion vectors: a layer (its first two channels are u and v) or two "
            "channels of one layer ('forward.u forward.v'), in pixels.",
        ),
        *_blur_params(),
    )

    @classmethod
    def layers(cls, values, inputs):
        """The input's layers; a ``uv`` that names none of them is an error."""
        layers = super().layers(values, inputs)
        try:
            motion_channels(values["uv"], layers)
        except ValueError as error:
            raise ValueError(f"uv: {error}") from None
        return layers

    @classmethod
    def layer_kernel(cls, values, layer, select, layers=RGBA_LAYERS):
        """A selected layer other than the motion layer: VectorBlurPlane of it by the
        motion layer of the same input; the motion layer passes through."""
        try:
            motion, ku, kv = motion_channels(values["uv"], layers)
        except ValueError:  # reported as the node's error by layers(), which runs next
            return None
        if select is None or layer == motion:
            return None
        plane = VectorBlurPlane.defaults() | {
            name: values[name] for name in ("scale", "v_up", "samples", "offset", "max_length")
        }
        plane |= {"u_component": ku, "v_component": kv}
        return VectorBlurPlane, plane, ((0, layer), (0, motion))
