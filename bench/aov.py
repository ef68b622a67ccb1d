"""The AOV workload: a lighter's comp on a renderer's multi-layer EXR, for every tool.

The input is one EXR with the main RGBA and eight layers: six light layers (``diffuse``,
``specular``, ``emission``, ``transmission``, ``sss``, ``coat``; RGB each, the stored
beauty RGB their sum), ``depth`` (Z) and ``N`` (X, Y, Z). Every tool does the same work,
disk to disk:

1. mask = ``clamp((depth.Z - z0) / (z1 - z0), 0, 1)`` (:data:`DEPTH_RANGE`);
2. specular' = ``specular + (gain * specular - specular) * mask``: a linear grade by
   :data:`GAIN` through the mask;
3. beauty RGB = diffuse + specular' + emission + transmission + sss + coat, in that order
   (rebuilt, not the stored RGB); alpha is the input's;
4. write every layer (rgba, the six lights with the graded specular, depth, N) to one
   multi-layer EXR, half, zip.

This module holds the input, each tool's version (Mattebox graph, numpy, ImageBufAlgo,
oiiotool arguments) and the per-layer comparison; ``bench/blender_driver.py`` builds
Blender's tree (workload ``aov``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.workloads import Workload, crop_to_format

LIGHTS = ("diffuse", "specular", "emission", "transmission", "sss", "coat")
GRADED = "specular"
GAIN = (1.3, 1.1, 0.9)
DEPTH_RANGE = (8.0, 24.0)  # z0, z1: depth.Z at z0 and nearer is mask 0, at z1 and beyond 1
#: Every layer of the input and of the output: name -> channel names (as in the file).
LAYERS = {
    "rgba": ("R", "G", "B", "A"),
    **{light: tuple(f"{light}.{c}" for c in "RGB") for light in LIGHTS},
    "depth": ("depth.Z",),
    "N": ("N.X", "N.Y", "N.Z"),
}
CHANNELS = tuple(name for names in LAYERS.values() for name in names)
INPUT_TYPE, INPUT_COMPRESSION = "half", "zip"  # as renderers write AOVs
OUTPUT_TYPE, OUTPUT_COMPRESSION = "half", "zip"
#: Light colours (linear RGB) the layers are made from.
_LIGHT_COLOURS = (
    (0.30, 0.22, 0.15),
    (0.25, 0.25, 0.28),
    (0.02, 0.08, 0.20),
    (0.10, 0.15, 0.05),
    (0.20, 0.06, 0.04),
    (0.12, 0.12, 0.12),
)


def _csv(values) -> str:
    return ",".join(f"{float(v):.9g}" for v in values)


def steps() -> str:
    """What happens between Read and Write, for the tables."""
    z0, z1 = DEPTH_RANGE
    gain = ", ".join(f"{g:g}" for g in GAIN)
    return (
        f"mask = depth.Z remapped {z0:g}..{z1:g} to 0..1, clamped → Grade {GRADED} "
        f"(gain ({gain})) through the mask → beauty RGB = {' + '.join(LIGHTS)} → all "
        f"{len(LAYERS)} layers"
    )


def bytes_per_pixel() -> int:
    """Bytes per pixel the work must at least move in memory (float32): read the six
    lights and depth.Z, write the beauty RGB and the graded specular (the other layers
    pass unchanged)."""
    return (3 * len(LIGHTS) + 1 + 3 + 3) * 4


def workload() -> Workload:
    """The AOV workload (Blender's driver workload ``aov``, with this module's numbers)."""
    z0, z1 = DEPTH_RANGE
    return Workload(
        "aov",
        "AOV rebuild",
        (),
        layers=True,
        input_names=("aovs",),
        bytes_per_pixel=bytes_per_pixel(),
        blender="aov",
        blender_params=(("z0", f"{z0:g}"), ("z1", f"{z1:g}"), ("gain", _csv(GAIN))),
        steps=steps(),
    )


# --------------------------------------------------------------------------- the input


def _disc(width: int, height: int):
    """Distances from the centre over the disc's radius (x and y, signed; y up)."""
    radius = 0.35 * min(width, height)
    y, x = np.ogrid[0:height, 0:width]
    dx = (np.float32(x) + np.float32(0.5 - width / 2)) / np.float32(radius)
    dy = (np.float32(height / 2 - 0.5) - np.float32(y)) / np.float32(radius)
    return dx, dy, radius


def aov_channels(width: int, height: int, seed: int = 5) -> dict[str, np.ndarray]:
    """A renderer's AOVs of a lit sphere (float32 H×W per channel, by name).

    Alpha is a soft-edged disc (as :func:`workloads.plate_pixels`); each light layer is a
    colour times smooth waves times a little noise, premultiplied by alpha; the beauty RGB
    is their sum; depth is a smooth ramp with a bulge on the sphere (about 4..44), N the
    sphere's normals inside the disc and 0 outside.
    """
    rng = np.random.default_rng(seed)
    dx, dy, radius = _disc(width, height)
    distance = np.sqrt(dx * dx + dy * dy)
    alpha = np.clip((1 - distance) * np.float32(radius / max(2.0, 0.1 * radius)), 0, 1)
    u = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    v = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    out: dict[str, np.ndarray] = {}
    for index, (light, colour) in enumerate(zip(LIGHTS, _LIGHT_COLOURS)):
        across = 0.6 + 0.4 * np.sin(np.float32(2 * np.pi * (index + 1)) * u + index)
        down = 0.6 + 0.4 * np.cos(np.float32(2 * np.pi * (index + 2)) * v + 2 * index)
        shade = across * down * alpha
        for c, name in enumerate(LAYERS[light]):
            noise = rng.random((height, width), dtype=np.float32)
            out[name] = (shade * np.float32(colour[c]) * (np.float32(0.9) + 0.2 * noise)).astype(
                np.float32
            )
    for c, name in enumerate("RGB"):
        out[name] = sum(out[LAYERS[light][c]] for light in LIGHTS)
    out["A"] = alpha.astype(np.float32)
    bulge = np.sqrt(np.clip(1 - distance * distance, 0, 1))
    out["depth.Z"] = (4 + 30 * v + 10 * u - 6 * bulge).astype(np.float32)
    inside = distance < 1
    out["N.X"] = np.where(inside, dx, 0).astype(np.float32)
    out["N.Y"] = np.where(inside, dy, 0).astype(np.float32)
    out["N.Z"] = np.where(inside, bulge, 0).astype(np.float32)
    return out


def write_channels(
    path: Path | str,
    channels: dict[str, np.ndarray],
    names: tuple[str, ...] | list[str],
    datatype: str,
    compression: str,
) -> None:
    """One single-part EXR of ``channels`` in the order of ``names`` (interleaved a band
    of rows at a time, so no second copy of the whole image is made)."""
    import OpenImageIO as oiio

    height, width = channels[names[0]].shape
    spec = oiio.ImageSpec(width, height, len(names), oiio.TypeDesc(datatype))
    spec.channelnames = tuple(names)
    spec.attribute("compression", compression)
    out = oiio.ImageOutput.create(str(path))
    if out is None or not out.open(str(path), spec):
        raise OSError(f"cannot write {path}: {oiio.geterror()}")
    band = 256
    rows = np.empty((band, width, len(names)), np.float32)
    ok = True
    for y in range(0, height, band):
        n = min(band, height - y)
        for k, name in enumerate(names):
            rows[:n, :, k] = channels[name][y : y + n]
        ok = ok and out.write_scanlines(y, y + n, 0, rows[:n])
    out.close()
    if not ok:
        raise OSError(f"cannot write {path}: {out.geterror()}")


def read_channels(path: Path | str) -> dict[str, np.ndarray]:
    """Every channel of every part of an image file, float32 H×W, by channel name (a
    part's unprefixed channels take ``part.`` before them, except in a main part)."""
    import OpenImageIO as oiio

    inp = oiio.ImageInput.open(str(path))
    if inp is None:
        raise OSError(f"cannot read {path}: {oiio.geterror()}")
    out: dict[str, np.ndarray] = {}
    try:
        subimage = 0
        while inp.seek_subimage(subimage, 0):
            spec = inp.spec()
            pixels = inp.read_image(subimage, 0, 0, spec.nchannels, oiio.FLOAT)
            if pixels is None:
                raise OSError(f"cannot read {path}: {inp.geterror()}")
            pixels = np.asarray(pixels, np.float32).reshape(spec.height, spec.width, -1)
            part = spec.get_string_attribute("name")
            for k, name in enumerate(spec.channelnames):
                main = not part or part in ("rgba", "beauty") or "." in name
                out.setdefault(name if main else f"{part}.{name}", pixels[..., k])
            subimage += 1
    finally:
        inp.close()
    return out


def make_input(folder: Path, width: int, height: int) -> dict[str, Path]:
    """Write ``aovs.exr`` at this size; returns {"aovs": path}."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "aovs.exr"
    write_channels(path, aov_channels(width, height), CHANNELS, INPUT_TYPE, INPUT_COMPRESSION)
    return {"aovs": path}


#: Where Blender's File Output node puts channels it cannot name as we do: it writes a
#: value input as ``V`` and a colour input as ``R G B A`` (N has no vector socket there).
BLENDER_NAMES = {"depth.Z": "depth.V", "N.X": "N.R", "N.Y": "N.G", "N.Z": "N.B"}


def stacked(channels: dict[str, np.ndarray], aliases: dict | None = None) -> np.ndarray:
    """The channels as one H×W×len(CHANNELS) float32 array in :data:`CHANNELS` order
    (a channel missing is taken from its name in ``aliases``, else NaN)."""
    first = next(iter(channels.values()))
    out = np.full((*first.shape, len(CHANNELS)), np.nan, np.float32)
    for k, name in enumerate(CHANNELS):
        if name not in channels:
            name = (aliases or {}).get(name, name)
        if name in channels:
            out[..., k] = channels[name]
    return out


# --------------------------------------------------------------------------- comparison


def layer_differences(ours: np.ndarray, theirs: np.ndarray) -> dict[str, float]:
    """max |Δ| per layer of two :func:`stacked` arrays (NaN where a layer is missing or
    the sizes differ)."""
    if ours.shape != theirs.shape:
        return {layer: float("nan") for layer in LAYERS}
    out, k = {}, 0
    for layer, names in LAYERS.items():
        part = slice(k, k + len(names))
        out[layer] = float(np.abs(ours[..., part] - theirs[..., part]).max())
        k += len(names)
    return out


def half_tolerance(ours: np.ndarray) -> dict[str, float]:
    """Per layer, one step of half precision at the layer's largest magnitude: what two
    correct tools may differ by after each rounds its float32 result to half."""
    out, k = {}, 0
    for layer, names in LAYERS.items():
        largest = float(np.nanmax(np.abs(ours[..., k : k + len(names)])))
        out[layer] = 2.0 ** (np.floor(np.log2(max(largest, 2.0**-14))) - 10)
        k += len(names)
    return out


# --------------------------------------------------------------------------- Mattebox


def mattebox_graph(paths: dict, out: Path, size: tuple[int, int]):
    """The workload as a Mattebox graph reading ``paths["aovs"]`` and writing ``out``.

    Returns (graph, write node, node to time in memory, node to compare with peers).
    """
    import mattebox as mb

    width, height = size
    z0, z1 = DEPTH_RANGE
    g = mb.Graph()
    g.settings.format = mb.Format(width, height)
    read = g.add("Read", file=str(paths["aovs"]), colorspace="Raw")
    mask = g.add(
        "Grade",
        name="depth_mask",
        inputs={"Source": read},
        channels="depth",
        blackpoint=[z0] * 4,
        whitepoint=[z1] * 4,
        white_clamp=True,
    )
    graded = g.add(
        "Grade",
        name="grade_specular",
        inputs={"Source": read, "Mask": mask},
        channels=GRADED,
        gain=[*GAIN, 1.0],
        black_clamp=False,
        mask_channel="depth.Z",
    )
    beauty = None
    for light in LIGHTS:
        only = g.add(
            "Shuffle",
            name=f"{light}_only",
            inputs={"Source": graded},
            mapping={c: f"{light}.{c}" for c in "RGB"},
        )
        beauty = (
            only
            if beauty is None
            else g.add(
                "Merge",
                name=f"plus_{light}",
                inputs={"B": beauty, "A": only},
                operation="plus",
                channels="rgb",
            )
        )
    write = g.add(
        "Write",
        inputs={"Source": beauty},
        file=str(out),
        colorspace="Raw",
        datatype=OUTPUT_TYPE,
        compression=OUTPUT_COMPRESSION,
        channels="all",
    )
    return g, write, beauty, beauty


def mattebox_check(image, width: int, height: int) -> np.ndarray:
    """A rendered :class:`mattebox.Image` as a :func:`stacked` array on the format."""
    planes = {}
    for name in CHANNELS:
        pixels = image.channel(name)[..., None].repeat(4, -1)
        planes[name] = crop_to_format(pixels, image.data_window, width, height)[..., 0]
    return stacked(planes)


# --------------------------------------------------------------------------- numpy


def numpy_run(channels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The work on decoded channels, the obvious numpy way; returns every output channel
    (the ones it does not change are the input's arrays)."""
    z0, z1 = DEPTH_RANGE
    mask = np.clip((channels["depth.Z"] - np.float32(z0)) / np.float32(z1 - z0), 0, 1)
    out = dict(channels)
    for gain, name in zip(GAIN, LAYERS[GRADED]):
        value = channels[name]
        out[name] = value + (np.float32(gain) * value - value) * mask
    for c, name in enumerate("RGB"):
        total = out[LAYERS[LIGHTS[0]][c]]
        for light in LIGHTS[1:]:
            total = total + out[LAYERS[light][c]]
        out[name] = total
    return out


def numpy_disk(source: Path | str, target: Path | str) -> None:
    """Read with OpenImageIO, :func:`numpy_run`, write with OpenImageIO."""
    out = numpy_run(read_channels(source))
    write_channels(target, out, CHANNELS, OUTPUT_TYPE, OUTPUT_COMPRESSION)


# --------------------------------------------------------------------------- ImageBufAlgo


def iba_run(src):
    """The work with ImageBufAlgo on an ImageBuf of the input; the output ImageBuf."""
    import OpenImageIO as oiio

    A = oiio.ImageBufAlgo
    z0, z1 = DEPTH_RANGE
    mask = A.channels(src, ("depth.Z",))
    mask = A.mad(mask, 1.0 / (z1 - z0), -z0 / (z1 - z0))
    mask = A.clamp(mask, 0.0, 1.0)
    factor = A.add(A.mul(A.channels(mask, (0, 0, 0)), tuple(g - 1 for g in GAIN)), 1.0)
    specular = A.mul(A.channels(src, LAYERS[GRADED]), factor)
    beauty = A.channels(src, LAYERS[LIGHTS[0]], newchannelnames=("R", "G", "B"))
    for light in LIGHTS[1:]:
        layer = specular if light == GRADED else A.channels(src, LAYERS[light])
        A.add(beauty, beauty, layer)
    out = A.channel_append(beauty, A.channels(src, ("A",)))
    out = A.channel_append(out, A.channels(src, LAYERS[LIGHTS[0]]))
    out = A.channel_append(out, specular)
    rest = [n for light in LIGHTS[2:] for n in LAYERS[light]] + ["depth.Z", "N.X", "N.Y", "N.Z"]
    return A.channel_append(out, A.channels(src, tuple(rest)))


# --------------------------------------------------------------------------- oiiotool


def oiiotool_args(paths: dict, out: Path | str) -> list[str]:
    """The oiiotool command line after ``oiiotool --threads N``.

    The input is read once and labelled ``src``; each layer is pulled with ``--ch``. The
    mask is remapped with ``--mulc --addc --clamp``, made 3 channels and turned into the
    grade's factor ``1 + (gain - 1) * mask``; the graded specular is ``--mul`` by it; the
    beauty is five ``--add``; the output is assembled with ``--chappend``.
    """
    z0, z1 = DEPTH_RANGE
    ch = ",".join
    lights_after = [n for light in LIGHTS[2:] for n in LAYERS[light]]
    args = [str(paths["aovs"]), "--label", "src"]
    args += ["--ch", "depth.Z", "--mulc", _csv([1 / (z1 - z0)]), "--addc", _csv([-z0 / (z1 - z0)])]
    args += ["--clamp:min=0:max=1", "--ch", "0,0,0"]
    args += ["--mulc", _csv([g - 1 for g in GAIN]), "--addc", "1", "--label", "factor"]
    args += ["src", "--ch", ch(LAYERS[GRADED]), "factor", "--mul", "--label", "graded"]
    first = LAYERS[LIGHTS[0]]
    args += ["src", "--ch", ch(f"{c}={name}" for c, name in zip("RGB", first))]
    for light in LIGHTS[1:]:
        args += ["graded"] if light == GRADED else ["src", "--ch", ch(LAYERS[light])]
        args.append("--add")
    args += ["src", "--ch", "A", "--chappend"]
    args += ["src", "--ch", ch(first), "--chappend", "graded", "--chappend"]
    args += ["src", "--ch", ch([*lights_after, *LAYERS["depth"], *LAYERS["N"]]), "--chappend"]
    return [*args, "-d", OUTPUT_TYPE, "--compression", OUTPUT_COMPRESSION, "-o", str(out)]
