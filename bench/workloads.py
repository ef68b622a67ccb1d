"""The benchmark's workloads: their inputs, and each tool's version of the same work.

A workload is a list of operations (``Op``: a Mattebox node type and its parameters)
applied to a plate, plus, for the comp and the sequence, a Merge over a background and a
Reformat to half size. Each tool gets the same list, translated once per tool:

- Mattebox: one node per op (:func:`mattebox_chain`);
- numpy, written the obvious way: elementwise expressions, a separable blur of shifted
  slices, PyOpenColorIO's CPU processor (:func:`numpy_op`);
- OpenImageIO's ImageBufAlgo from Python (:func:`iba_op`);
- oiiotool command-line arguments (:func:`oiiotool_op`).

Blender runs the same workloads through ``bench/blender_driver.py``, which builds its own
node trees from the workload's name (:attr:`Workload.blender`). The AOV workload, on a
multi-layer file, has every tool's version in ``bench/aov.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CONFIG = "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"
SIZES = {"1080p": (1920, 1080), "4K": (3840, 2160)}
DISPLAY = "sRGB - Display"
VIEW = "ACES 2.0 - SDR 100 nits (Rec.709)"
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec. 709
# Linear Rec.709 -> ACEScg as OCIO's studio config computes it: the points workload's
# ColorMatrix, and what Blender's driver applies there (ConvertColorSpace to ACEScg).
REC709_TO_AP1 = (
    (0.61309743, 0.33952314, 0.04737945),
    (0.07019372, 0.91635388, 0.01345240),
    (0.02061559, 0.10956977, 0.86981463),
)


@dataclass(frozen=True)
class Op:
    """One node of a workload: a Mattebox node type and the parameters it sets
    (``name``, if given, is how tables show it)."""

    type: str
    params: dict = field(default_factory=dict)
    name: str = ""

    def label(self) -> str:
        if self.name:
            return self.name
        values = ", ".join(f"{k} {_short(v)}" for k, v in self.params.items())
        return f"{self.type}({values})" if values else self.type


def _short(value) -> str:
    """1.1 for (1.1, 1.1, 1.1, 1) or (1.1, 1.1, 1.1, 1.1): RGB alike, alpha default."""
    if isinstance(value, (list, tuple)):
        if len(set(value[:3])) == 1 and (len(value) < 4 or value[3] in (value[0], 0.0, 1.0)):
            return _short(value[0])
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return f"{value:g}" if isinstance(value, float) else str(value)


def grade(gain, gamma=1.0) -> Op:
    """Grade with one gain and gamma for RGB (alpha untouched)."""
    gains = list(gain) if isinstance(gain, (list, tuple)) else [gain] * 3
    params = {"gain": [*gains, 1.0]}
    if gamma != 1.0:
        params["gamma"] = [gamma] * 3 + [1.0]
    return Op("Grade", params)


def blur(size: float) -> Op:
    """Blur of ``size`` (sigma = size / 3)."""
    return Op("Blur", {"size": float(size)})


INVERT = Op("Invert")

POINTS10 = (
    grade(1.1, 1.2),
    Op("Saturation", {"saturation": 0.8}),
    Op("Clamp", {"minimum": [0.0] * 4, "maximum": [4.0] * 4}),
    Op(
        "CDL",
        {"slope": [1.05] * 3 + [1.0], "offset": [0.01] * 3 + [0.0], "power": [0.95] * 3 + [1.0]},
    ),
    Op(
        "ColorMatrix",
        {f"row{i}": [*REC709_TO_AP1[i], 0.0] for i in range(3)},
        "ColorMatrix(Rec.709 to ACEScg)",
    ),
    INVERT,
    INVERT,
    grade(0.9),
    Op("Saturation", {"saturation": 1.1}),
    Op("Clamp", {"minimum": [0.0] * 4, "maximum": [1.0] * 4}),
)

# The chain workload cycles through these (as the Blender driver's chain does).
CHAIN_CYCLE = (grade(1.01), Op("Saturation", {"saturation": 0.99}), blur(3), INVERT, INVERT)

COMP_GAIN, COMP_GAMMA = (1.15, 1.0, 0.85), 1.1
COMP_PLATE_OPS = (
    grade(COMP_GAIN, COMP_GAMMA),
    Op("OCIOColorSpace", {"in_colorspace": "ACEScg", "out_colorspace": "ACES2065-1"}),
    blur(15),
)
SEQUENCE_OPS = (grade(COMP_GAIN, COMP_GAMMA), blur(15))
DISPLAY_OPS = (Op("OCIODisplay", {"in_colorspace": "ACEScg", "display": DISPLAY, "view": VIEW}),)


def chain_ops(count: int) -> tuple[Op, ...]:
    """``count`` nodes cycling through :data:`CHAIN_CYCLE`."""
    return tuple(CHAIN_CYCLE[i % len(CHAIN_CYCLE)] for i in range(count))


# --------------------------------------------------------------------------- workloads


@dataclass(frozen=True)
class Workload:
    """One kind of work: what is applied, to which inputs, and how each peer runs it.

    ``ops`` apply to the plate; ``merge`` puts the result over the background, ``half``
    then resizes to half size. ``blender`` is the driver's workload name ('' where
    Blender cannot do it; ``blender_reason`` says why). A ``layers`` workload works on a
    multi-layer file (``input_names``) and each tool's version of it is in
    ``bench/aov.py``; ``bytes_per_pixel`` is its least traffic per pixel.
    """

    name: str
    title: str
    ops: tuple[Op, ...]
    merge: bool = False
    half: bool = False
    sequence: bool = False
    blender: str = ""
    blender_params: tuple[tuple[str, str], ...] = ()
    blender_reason: str = ""
    variant: str = ""  # e.g. "size 15" or "N = 10"
    steps: str = ""  # how describe() shows the ops, when not one by one
    layers: bool = False
    input_names: tuple[str, ...] = ()
    bytes_per_pixel: int = 0

    @property
    def key(self) -> str:
        return f"{self.name} {self.variant}".strip()

    @property
    def inputs(self) -> tuple[str, ...]:
        if self.input_names:
            return self.input_names
        return ("plate", "bg") if self.merge else ("plate",)

    @property
    def halo(self) -> int:
        """Pixels at each edge whose values depend on a tool's edge rule (blur taps
        outside the image): left out of the cross-tool comparisons."""
        return sum(int(np.ceil(op.params["size"])) for op in self.ops if op.type == "Blur")

    def describe(self) -> str:
        steps = [self.steps] if self.steps else [op.label() for op in self.ops]
        if self.merge:
            steps.append("Merge over background")
        if self.half:
            steps.append("Reformat to half size")
        return " → ".join(["Read", *steps, "Write"])

    def traffic(self, width: int, height: int) -> int:
        """Bytes that any tool must at least read and write (RGBA float)."""
        if self.bytes_per_pixel:
            return width * height * self.bytes_per_pixel
        image = width * height * 16
        reads = image * len(self.inputs)
        writes = image // 4 if self.half else image
        return reads + writes


def comp() -> Workload:
    """The bench comp: grade, ACEScg to ACES2065-1, blur 15, over a background, half size."""
    return Workload("comp", "bench comp", COMP_PLATE_OPS, merge=True, half=True, blender="comp")


def points() -> Workload:
    """Ten point ops in a row (the Blender driver's points10)."""
    return Workload("points", "10 point ops", POINTS10, blender="points10")


def blur_workload(size: int) -> Workload:
    """One Blur of ``size`` px."""
    return Workload(
        "blur",
        "Blur",
        (blur(size),),
        blender="blur",
        blender_params=(("size", str(size)),),
        variant=f"size {size}",
    )


def ocio() -> Workload:
    """The ACES 2.0 SDR display transform (Blender 3.4 cannot: n/a)."""
    return Workload(
        "ocio",
        "OCIO display ACES 2.0 SDR",
        DISPLAY_OPS,
        blender_reason="Blender 3.4's OCIO config has no ACES 2.0 view",
    )


def chain(count: int) -> Workload:
    """``count`` nodes cycling through :data:`CHAIN_CYCLE` (area ops break fusion)."""
    return Workload(
        "chain",
        "chain of N nodes",
        chain_ops(count),
        blender="chain",
        blender_params=(("n", str(count)),),
        variant=f"N = {count}",
        steps=f"{count} node{'s' * (count > 1)} cycling through "
        f"[{', '.join(op.label() for op in CHAIN_CYCLE)}]",
    )


def sequence(frames: int) -> Workload:
    """``frames`` frames of grade, blur 15 and half size, from a plate sequence."""
    return Workload(
        "sequence",
        "frame sequence",
        SEQUENCE_OPS,
        half=True,
        sequence=True,
        blender="sequence",
        blender_params=(("frames", f"1-{frames}"),),
        variant=f"{frames} frames",
    )


# --------------------------------------------------------------------------- inputs


def plate_pixels(width: int, height: int, seed: int = 1) -> np.ndarray:
    """A premultiplied RGBA float32 plate: a soft-edged disc of noisy colour."""
    rng = np.random.default_rng(seed)
    y, x = np.ogrid[0:height, 0:width]
    radius = 0.35 * min(width, height)
    soft = max(2.0, 0.1 * radius)
    distance = np.hypot(np.float32(x - width / 2), np.float32(y - height / 2))
    alpha = np.clip((radius - distance) / soft, 0, 1).astype(np.float32)
    out = rng.random((height, width, 4), dtype=np.float32)
    out *= np.float32(0.25)
    out += np.array([1.5, 0.8, 0.3, 0], np.float32)
    out *= alpha[..., None]
    out[..., 3] = alpha
    return out


def background_pixels(width: int, height: int, seed: int = 2) -> np.ndarray:
    """An opaque RGBA float32 background: gradients plus noise."""
    rng = np.random.default_rng(seed)
    out = rng.random((height, width, 4), dtype=np.float32)
    out *= np.float32(0.05)
    out[..., 0] += np.arange(width, dtype=np.float32) / width
    out[..., 1] += (np.arange(height, dtype=np.float32) / height)[:, None]
    out[..., 2] += np.float32(0.5)
    out[..., 3] = 1
    return out


def write_exr(path: Path, pixels: np.ndarray) -> None:
    """Write RGBA float32 pixels as an uncompressed float EXR."""
    import OpenImageIO as oiio

    height, width = pixels.shape[:2]
    spec = oiio.ImageSpec(width, height, pixels.shape[2], oiio.FLOAT)
    spec.channelnames = ("R", "G", "B", "A")[: pixels.shape[2]]
    spec.attribute("compression", "none")
    out = oiio.ImageOutput.create(str(path))
    if out is None or not out.open(str(path), spec):
        raise OSError(f"cannot write {path}: {oiio.geterror()}")
    out.write_image(np.ascontiguousarray(pixels, np.float32))
    out.close()


def read_exr(path: Path | str) -> np.ndarray:
    """The display window of an image file as float32 RGBA (black outside its data)."""
    import OpenImageIO as oiio

    buf = oiio.ImageBuf(str(path))
    full = buf.roi_full
    pixels = buf.get_pixels(
        oiio.FLOAT, oiio.ROI(full.xbegin, full.xend, full.ybegin, full.yend, 0, 1, 0, 4)
    )
    if pixels is None or buf.has_error:
        raise OSError(f"cannot read {path}: {buf.geterror()}")
    return np.asarray(pixels, np.float32).reshape(full.height, full.width, 4)


def make_inputs(folder: Path, width: int, height: int) -> dict[str, Path]:
    """Write ``plate.exr`` and ``bg.exr`` at this size; returns their paths by name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"plate": folder / "plate.exr", "bg": folder / "bg.exr"}
    write_exr(paths["plate"], plate_pixels(width, height))
    write_exr(paths["bg"], background_pixels(width, height))
    return paths


def make_sequence(folder: Path, width: int, height: int, frames: int, distinct: int = 4):
    """``plate.0001.exr`` ... as hard links to ``distinct`` different plates (the content
    does not change anyone's cost, and it keeps the page cache small). Returns the
    Mattebox pattern (``plate.####.exr``)."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = []
    for index in range(min(distinct, frames)):
        path = folder / f"source.{index}.exr"
        write_exr(path, plate_pixels(width, height, seed=10 + index))
        sources.append(path)
    for frame in range(1, frames + 1):
        target = folder / f"plate.{frame:04d}.exr"
        if target.exists():
            target.unlink()
        os.link(sources[(frame - 1) % len(sources)], target)
    return folder / "plate.####.exr"


def blur_taps(size: float) -> np.ndarray:
    """Mattebox's Blur weights: sigma = size / 3, cut at ceil(size), normalised."""
    radius = int(np.ceil(size))
    k = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-(k**2) / (2 * (size / 3) ** 2))
    return (weights / weights.sum()).astype(np.float32)


def crop_to_format(pixels: np.ndarray, window, width: int, height: int) -> np.ndarray:
    """``pixels`` covering ``window`` (x0, y0, x1, y1), cut or padded to the format."""
    out = np.zeros((height, width, 4), np.float32)
    x0, y0, x1, y1 = window
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if ix1 > ix0 and iy1 > iy0:
        out[iy0:iy1, ix0:ix1] = pixels[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0]
    return out


def max_difference(a: np.ndarray, b: np.ndarray, border: int) -> float:
    """max |a - b| over the image without ``border`` pixels at each edge."""
    if a.shape != b.shape:
        return float("nan")
    if border:
        a = a[border:-border, border:-border]
        b = b[border:-border, border:-border]
    return float(np.abs(a - b).max()) if a.size else 0.0


# --------------------------------------------------------------------------- Mattebox


def mattebox_chain(g, source, ops: tuple[Op, ...]):
    """Add one Mattebox node per op after ``source``; returns the last node."""
    node = source
    for op in ops:
        node = g.add(op.type, inputs={"Source": node}, **op.params)
    return node


def mattebox_graph(workload: Workload, paths: dict, out: Path, size: tuple[int, int]):
    """The workload as a Mattebox graph reading ``paths`` and writing ``out``.

    Returns (graph, write node, node to time in memory, node to compare with peers).
    """
    import mattebox as mb

    width, height = size
    g = mb.Graph()
    g.settings.ocio_config = CONFIG
    g.settings.format = mb.Format(width, height)
    plate = g.add("Read", file=str(paths["plate"]), colorspace="ACEScg")
    node = check = mattebox_chain(g, plate, workload.ops)
    if workload.merge:
        bg = g.add("Read", file=str(paths["bg"]), colorspace="ACEScg")
        node = check = g.add("Merge", inputs={"B": bg, "A": node}, operation="over")
    if workload.half:
        node = g.add("Reformat", inputs={"Source": node}, width=width // 2, height=height // 2)
    write = g.add(
        "Write",
        inputs={"Source": node},
        file=str(out),
        colorspace="Raw",
        datatype="float",
        compression="none",
    )
    return g, write, node, check


# --------------------------------------------------------------------------- numpy


def numpy_blur(x: np.ndarray, size: float) -> np.ndarray:
    """Separable Gaussian blur as sums of shifted slices; outside is black."""
    weights = blur_taps(size)
    radius = len(weights) // 2
    height, width = x.shape[:2]
    padded = np.pad(x, ((0, 0), (radius, radius), (0, 0)))
    across = weights[0] * padded[:, 0:width]
    for i in range(1, len(weights)):
        across += weights[i] * padded[:, i : i + width]
    padded = np.pad(across, ((radius, radius), (0, 0), (0, 0)))
    down = weights[0] * padded[0:height]
    for i in range(1, len(weights)):
        down += weights[i] * padded[i : i + height]
    return down


def _ocio_processor(op: Op):
    import PyOpenColorIO as OCIO

    config = OCIO.Config.CreateFromFile(CONFIG)
    p = op.params
    if op.type == "OCIOColorSpace":
        processor = config.getProcessor(p["in_colorspace"], p["out_colorspace"])
    else:
        transform = OCIO.DisplayViewTransform(
            src=p["in_colorspace"], display=p["display"], view=p["view"]
        )
        processor = config.getProcessor(transform)
    return processor.getDefaultCPUProcessor()


def numpy_ocio(x: np.ndarray, op: Op) -> np.ndarray:
    """OCIO's CPU processor on unpremultiplied colour, as Mattebox's OCIO nodes do."""
    alpha = x[..., 3:4]
    covered = alpha > 0
    out = np.where(covered, x / np.where(covered, alpha, 1), x)
    out[..., 3:4] = alpha
    out = np.ascontiguousarray(out, np.float32)
    _ocio_processor(op).applyRGBA(out)
    out[..., :3] = np.where(covered, out[..., :3] * alpha, x[..., :3])
    out[..., 3:4] = alpha
    return out


def numpy_op(x: np.ndarray, op: Op) -> np.ndarray:
    """One op on an (H, W, 4) float32 array, the obvious numpy way (a new array)."""
    p = op.params
    rgb, alpha = x[..., :3], x[..., 3:]
    if op.type == "Grade":
        rgb = np.maximum(rgb * np.float32(p["gain"][:3]), 0)
        if "gamma" in p:
            rgb = rgb ** (1 / np.float32(p["gamma"][:3]))
    elif op.type == "Saturation":
        luma = rgb @ LUMA
        rgb = luma[..., None] + (rgb - luma[..., None]) * np.float32(p["saturation"])
    elif op.type == "Clamp":
        return np.clip(x, np.float32(p["minimum"]), np.float32(p["maximum"]))
    elif op.type == "CDL":
        rgb = rgb * np.float32(p["slope"][:3]) + np.float32(p["offset"][:3])
        rgb = np.where(rgb < 0, rgb, np.maximum(rgb, 0) ** np.float32(p["power"][:3]))
    elif op.type == "ColorMatrix":
        rows = np.array([p["row0"], p["row1"], p["row2"]], np.float32)
        rgb = rgb @ rows[:, :3].T + rows[:, 3]
    elif op.type == "Invert":
        rgb = 1 - rgb
    elif op.type == "Blur":
        return numpy_blur(x, p["size"])
    elif op.type in ("OCIOColorSpace", "OCIODisplay"):
        return numpy_ocio(x, op)
    else:
        raise ValueError(f"numpy peer: no version of {op.type}")
    return np.concatenate([rgb.astype(np.float32), alpha], -1)


def numpy_half(x: np.ndarray) -> np.ndarray:
    """Half size by 2x2 box averages (Mattebox's Reformat filters with a cubic)."""
    height, width = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    x = x[:height, :width]
    return 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])


def numpy_run(workload: Workload, images: dict) -> tuple[np.ndarray, np.ndarray]:
    """(the output, the array to compare with Mattebox's check node)."""
    x = images["plate"]
    for op in workload.ops:
        x = numpy_op(x, op)
    if workload.merge:
        x = x + images["bg"] * (1 - x[..., 3:4])
    check = x
    if workload.half:
        x = numpy_half(x)
    return x, check


# --------------------------------------------------------------------------- ImageBufAlgo


def iba_kernels(size: float):
    """Mattebox's blur weights as OIIO kernel images: one row, one column, centred."""
    import OpenImageIO as oiio

    weights = blur_taps(size)
    radius = len(weights) // 2
    kernels = []
    for shape in ((1, len(weights)), (len(weights), 1)):
        spec = oiio.ImageSpec(shape[1], shape[0], 1, oiio.FLOAT)
        if shape[0] == 1:
            spec.x = spec.full_x = -radius
        else:
            spec.y = spec.full_y = -radius
        spec.full_width, spec.full_height = shape[1], shape[0]
        buf = oiio.ImageBuf(spec)
        buf.set_pixels(oiio.ROI(), weights.reshape(*shape, 1))
        kernels.append(buf)
    return kernels


def iba_op(buf, op: Op, owned: bool, kernels: dict):
    """One op with ImageBufAlgo; point ops work in place on a buffer we own.

    Returns (buffer, whether it is ours to overwrite).
    """
    import OpenImageIO as oiio

    A = oiio.ImageBufAlgo
    p = op.params
    if op.type == "Blur":
        across, down = kernels[p["size"]]
        return A.convolve(A.convolve(buf, across), down), True
    if op.type == "OCIOColorSpace":
        return A.colorconvert(buf, p["in_colorspace"], p["out_colorspace"]), True
    if op.type == "OCIODisplay":
        return A.ociodisplay(buf, p["display"], p["view"], p["in_colorspace"]), True
    dst = buf if owned else oiio.ImageBuf()
    roi = oiio.ROI(buf.roi.xbegin, buf.roi.xend, buf.roi.ybegin, buf.roi.yend, 0, 1, 0, 3)
    if not owned and op.type in ("Invert", "ColorMatrix"):
        dst.copy(buf)
    if op.type == "Grade":
        A.mul(dst, buf, (*p["gain"][:3], 1.0))
        A.clamp(dst, dst, (0.0, 0.0, 0.0, -1e30), (1e30,) * 4)
        if "gamma" in p:
            A.pow(dst, dst, tuple(1 / g for g in p["gamma"][:3]) + (1.0,))
    elif op.type == "Saturation":
        A.saturate(dst, buf, p["saturation"])
    elif op.type == "Clamp":
        A.clamp(dst, buf, tuple(p["minimum"]), tuple(p["maximum"]))
    elif op.type == "CDL":
        A.mul(dst, buf, (*p["slope"][:3], 1.0))
        A.add(dst, dst, (*p["offset"][:3], 0.0))
        A.pow(dst, dst, (*p["power"][:3], 1.0))
    elif op.type == "ColorMatrix":
        A.colormatrixtransform(dst, dst, _matrix44(p), False)
    elif op.type == "Invert":
        A.invert(dst, dst, roi=roi)
    else:
        raise ValueError(f"ImageBufAlgo peer: no version of {op.type}")
    return dst, True


def _matrix44(p: dict) -> tuple[float, ...]:
    """A ColorMatrix's rows as OIIO's 4x4 (row vector times matrix)."""
    m = np.eye(4)
    rows = np.array([p["row0"], p["row1"], p["row2"]], np.float64)
    m[:3, :3] = rows[:, :3].T
    m[3, :3] = rows[:, 3]
    return tuple(m.flatten())


def iba_run(workload: Workload, bufs: dict, kernels: dict):
    """(output ImageBuf, ImageBuf to compare with Mattebox's check node)."""
    import OpenImageIO as oiio

    A = oiio.ImageBufAlgo
    buf, owned = bufs["plate"], False
    for op in workload.ops:
        buf, owned = iba_op(buf, op, owned, kernels)
    if workload.merge:
        buf = A.over(buf, bufs["bg"])
    check = buf
    if workload.half:
        roi = bufs["plate"].roi_full
        buf = A.resize(
            buf, "cubic", roi=oiio.ROI(0, roi.width // 2, 0, roi.height // 2, 0, 1, 0, 4)
        )
    return buf, check


# --------------------------------------------------------------------------- oiiotool


def _csv(values) -> str:
    return ",".join(f"{float(v):.9g}" for v in values)


def oiiotool_op(op: Op, kernel_files: dict) -> list[str]:
    """oiiotool arguments for one op (the image is on top of the stack)."""
    p = op.params
    if op.type == "Grade":
        args = ["--mulc", _csv([*p["gain"][:3], 1]), "--clamp:min=0,0,0,-1e30"]
        if "gamma" in p:
            args += ["--powc", _csv([1 / g for g in p["gamma"][:3]] + [1])]
        return args
    if op.type == "Saturation":
        return ["--saturate", f"{p['saturation']:g}"]
    if op.type == "Clamp":
        return [f"--clamp:min={_csv(p['minimum'])}:max={_csv(p['maximum'])}"]
    if op.type == "CDL":
        return [
            "--mulc",
            _csv([*p["slope"][:3], 1]),
            "--addc",
            _csv([*p["offset"][:3], 0]),
            "--powc",
            _csv([*p["power"][:3], 1]),
        ]
    if op.type == "ColorMatrix":
        return ["--ccmatrix:unpremult=0", _csv(_matrix44(p))]
    if op.type == "Invert":
        return ["--invert"]
    if op.type == "Blur":
        across, down = kernel_files[p["size"]]
        return [str(across), "--convolve", str(down), "--convolve"]
    if op.type == "OCIOColorSpace":
        # unpremultiplied around the transform, as Mattebox's OCIO nodes (not the default)
        return ["--colorconvert:unpremult=1", p["in_colorspace"], p["out_colorspace"]]
    if op.type == "OCIODisplay":
        return [f"--ociodisplay:from={p['in_colorspace']}:unpremult=1", p["display"], p["view"]]
    raise ValueError(f"oiiotool peer: no version of {op.type}")


def oiiotool_args(
    workload: Workload,
    paths: dict,
    out: Path,
    kernel_files: dict,
    size: tuple[int, int],
    frames: int = 0,
) -> list[str]:
    """The oiiotool command line after ``oiiotool --threads N`` for this workload."""
    args = []
    if any(op.type.startswith("OCIO") for op in workload.ops):
        args += ["--colorconfig", CONFIG]  # loading it costs oiiotool about 0.4 s
    if frames:  # oiiotool's # is four digits: name the frame number printf's way
        args += ["--frames", f"1-{frames}"]
        paths = {k: str(v).replace("####", "%04d") for k, v in paths.items()}
        out = str(out).replace("####", "%04d")
    args.append(str(paths["plate"]))
    for op in workload.ops:
        args += oiiotool_op(op, kernel_files)
    if workload.merge:
        args += [str(paths["bg"]), "--over"]
    if workload.half:
        args += ["--resize:filter=cubic", f"{size[0] // 2}x{size[1] // 2}"]
    return [*args, "-d", "float", "--compression", "none", "-o", str(out)]


def write_kernel_files(folder: Path, sizes) -> dict:
    """Kernel EXRs for oiiotool's --convolve: {size: (row file, column file)}."""
    files = {}
    for size in sizes:
        across, down = iba_kernels(size)
        pair = folder / f"blur{size:g}-across.exr", folder / f"blur{size:g}-down.exr"
        for buf, path in zip((across, down), pair):
            buf.write(str(path), "float")
        files[size] = pair
    return files


def blur_sizes(workload: Workload) -> set[float]:
    """The blur sizes a workload uses (for kernel images)."""
    return {op.params["size"] for op in workload.ops if op.type == "Blur"}
