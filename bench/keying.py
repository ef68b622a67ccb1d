"""The keying workload: a green-screen comp at 4K, for every tool.

The input is a generated green-screen plate (:func:`greenscreen`: a head and shoulders
with soft edges and hair-like strands in front of an even green screen, green spill on
the foreground near its edges, grain on everything; opaque RGBA, alpha 1) and a
background (the bench's usual opaque gradients, :func:`workloads.background_pixels`).
Every tool does the same work, disk to disk:

1. key: ``alpha = clamp(1 - d(pixel) / d(screen), 0, 1)`` with
   ``d = G - (0.5 R + 0.5 B)`` and the screen colour :data:`SCREEN` (Mattebox's
   ColorDifferenceKeyer, luminance_match 0); despill ``G' = min(G, 0.5 R + 0.5 B)``; the
   keyer's output is premultiplied;
2. unpremultiply (colour where alpha is 0 stays 0);
3. erode the alpha by :data:`ERODE` px (the minimum over a (2r + 1)² box);
4. blur the alpha (Gaussian, size :data:`EDGE_BLUR`: sigma = size / 3, cut at ceil(size));
5. premultiply by the new alpha;
6. over the background; write an uncompressed float EXR.

Mattebox runs this as nodes (Read → ColorDifferenceKeyer → Unpremult → ErodeDilate
(alpha) → Blur (alpha) → Premult → Merge over → Write). OpenImageIO has no keyer: with
``luminance_match`` 0 the key is linear in R, G, B, so numpy, ImageBufAlgo and oiiotool
build it from channel arithmetic (a weighted channel sum, add, clamp; the despill a
per-pixel minimum) and have every other step as an operation. Blender's compositor has
its own Keying node, a colour-difference keyer close to this one (its matte is scaled by
``|1 - (0.5 R + 0.5 B)|`` as well, so its pixels differ); ``bench/keying_blender.py``
builds its tree (Keying → Dilate/Erode → Blur → Set Alpha → Alpha Over), for Blender
3.4 and for Blender 5 through ``bpy``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.workloads import Op, Workload, background_pixels, blur_taps, write_exr

#: The screen colour the plate is shot on and every keyer keys against (linear RGB).
SCREEN = (0.1, 0.6, 0.15)
RED_WEIGHT = BLUE_WEIGHT = 0.5
ERODE = 1  # px: the alpha's erosion radius (a 3x3 box)
EDGE_BLUR = 2.0  # the alpha's blur size (sigma 2/3, 5 taps)
GRAIN = 0.008  # standard deviation of the plate's grain, per channel
#: Where Blender's Keying tree lives; it runs inside Blender 3.4 and under bpy 5.
BLENDER_SCRIPT = Path(__file__).resolve().parent / "keying_blender.py"


def screen_difference() -> float:
    """d(screen) = G - (0.5 R + 0.5 B) of :data:`SCREEN`: what the key divides by."""
    r, g, b = SCREEN
    return g - (RED_WEIGHT * r + BLUE_WEIGHT * b)


OPS = (
    Op(
        "ColorDifferenceKeyer",
        {"screen": "green", "screen_color": [*SCREEN, 1.0], "despill": True},
        "ColorDifferenceKeyer(green, despill)",
    ),
    Op("Unpremult"),
    Op("ErodeDilate", {"size": -float(ERODE), "channels": "alpha"}),
    Op("Blur", {"size": EDGE_BLUR, "channels": "alpha"}),
    Op("Premult"),
)


@dataclass(frozen=True)
class KeyingWorkload(Workload):
    """The keying workload: its own inputs, peers and Blender script (this module)."""

    blender_script: str = str(BLENDER_SCRIPT)

    @property
    def halo(self) -> int:
        """The erosion and the blur both reach past the image's edge, where the tools'
        edge rules differ (the key's grain leaves specks of alpha there)."""
        return ERODE + int(np.ceil(EDGE_BLUR))


def workload() -> KeyingWorkload:
    """The keying workload (Blender's script workload ``keying``)."""
    return KeyingWorkload(
        "keying",
        "green-screen key",
        OPS,
        merge=True,
        blender="keying",
        blender_params=(
            ("screen", ",".join(f"{c:g}" for c in SCREEN)),
            ("erode", str(ERODE)),
            ("blur", f"{EDGE_BLUR:g}"),
        ),
    )


# --------------------------------------------------------------------------- the input


def _ellipse(xs, ys, cx, cy, rx, ry):
    """An approximate signed distance to an ellipse (negative inside), in the units of
    ``xs`` and ``ys``."""
    return (np.sqrt(((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2) - 1) * min(rx, ry)


def _coverage(distance, edge):
    """Coverage of a pixel from a signed distance: a linear ramp ``edge`` wide."""
    return np.clip(0.5 - distance / edge, 0, 1)


#: Head and shoulders, in units of the plate's height (x from the centre, y down).
HEAD = (0.0, 0.40, 0.13, 0.17)
NECK = (0.0, 0.60, 0.075, 0.11)
BODY = (0.0, 1.08, 0.40, 0.40)
SHIRT, SKIN, HAIR = (0.32, 0.05, 0.04), (0.55, 0.32, 0.21), (0.16, 0.09, 0.05)


def _near_edge(matte: np.ndarray, radius: int) -> np.ndarray:
    """How near each pixel is to the matte's edge: 1 - the matte's mean over a
    (2 radius + 1)² box (summed-area table; the frame's border is not an edge), doubled
    and clipped: 1 at the edge, 0 deeper than ``radius`` and outside."""
    padded = np.pad(matte.astype(np.float64), radius + 1, mode="edge")
    table = padded.cumsum(0).cumsum(1)
    side = 2 * radius + 1
    height, width = matte.shape
    box = (
        table[side:, side:][:height, :width]
        - table[:-side, side:][:height, :width]
        - table[side:, :-side][:height, :width]
        + table[:-side, :-side][:height, :width]
    ) / side**2
    return (np.clip(2 * (1 - box), 0, 1) * (matte > 0)).astype(np.float32)


def _hair(xs, ys, cx, cy, rx, ry, pixel, strand):
    """Coverage of thin wavy strands fanning out of the top of the head, ``strand``
    pixels wide (at least 0.45 thousandths of the height) and some hundredths of a height
    long, thinning towards their ends."""
    rho = np.sqrt(((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2)
    theta = np.arctan2(ys - cy, xs - cx)
    strands = 120  # around the whole circle; the lower half is cut away below
    phase = (theta + 0.05 * np.sin(rho * 14.0 + theta * 3.0)) * strands / (2 * np.pi)
    across = np.abs(phase - np.round(phase)) * (2 * np.pi * rho * min(rx, ry) / strands)
    width = max(strand * pixel, 0.45e-3)  # a strand's width, in heights
    line = np.clip(0.5 + (0.5 * width - across) / pixel, 0, 1)
    length = np.clip((1.32 - rho) / 0.12, 0, 1) * (rho > 0.97)
    upper = np.clip((cy + 0.02 - ys) / 0.04, 0, 1)
    return 0.95 * line * length * upper


def greenscreen(
    width: int,
    height: int,
    seed: int = 7,
    shift: float = 0.0,
    actor: bool = True,
    falloff: float = 0.0,
    screen=SCREEN,
    grain: float = GRAIN,
    spill: float = 0.2,
    strand: float = 1.2,
) -> tuple[np.ndarray, np.ndarray]:
    """A green-screen plate and the foreground's true coverage: (H×W×3 float32 RGB,
    H×W float32 matte).

    A head and shoulders (shirt, skin, hair strands; soft edges about 1.5 px wide at 4K),
    moved ``shift`` heights to the right, over a screen of colour ``screen`` darkened by
    ``falloff`` towards the corners (0: even); hair strands ``strand`` px wide. The
    foreground picks up green spill near its edges (``spill`` times the screen's green,
    fading to nothing 1.2% of the height inside); grain of ``grain`` (standard deviation) is added to
    every channel. ``actor`` False gives the clean screen (matte 0).
    """
    rng = np.random.default_rng(seed)
    pixel = 1.0 / height  # a pixel, in heights
    xs = ((np.arange(width, dtype=np.float32) + 0.5 - width / 2) / height)[None, :]
    ys = ((np.arange(height, dtype=np.float32) + 0.5) / height)[:, None]
    corner = (xs / (width / height)) ** 2 + (ys - 0.5) ** 2
    light = (1 - falloff * np.minimum(corner / 0.5, 1)).astype(np.float32)
    rgb = np.empty((height, width, 3), np.float32)
    for c in range(3):
        rgb[..., c] = screen[c] * light
    matte = np.zeros((height, width), np.float32)
    if actor:
        edge = 1.5 * pixel
        xs = xs - np.float32(shift)
        head = _ellipse(xs, ys, *HEAD)
        neck = _ellipse(xs, ys, *NECK)
        body = _ellipse(xs, ys, *BODY)
        skin = np.maximum(_coverage(head, edge), _coverage(neck, edge))
        shirt = _coverage(body, edge)
        hair = _hair(xs, ys, *HEAD, pixel, strand)
        matte = np.maximum(np.maximum(skin, shirt), hair).astype(np.float32)
        shade = (0.75 + 0.5 * np.clip(0.4 - xs, 0, 0.8)).astype(np.float32)
        spill = spill * _near_edge(matte, max(1, round(0.012 * height)))
        for c in range(3):
            colour = np.where(shirt > skin, SHIRT[c], SKIN[c]) * shade
            colour = np.where(hair > np.maximum(skin, shirt), HAIR[c], colour)
            if c == 1:
                colour = colour + spill * screen[1]
            rgb[..., c] += matte * (colour - rgb[..., c])
    if grain:
        rgb += rng.normal(0, grain, rgb.shape).astype(np.float32)
    return rgb, matte


def plate_pixels(width: int, height: int) -> np.ndarray:
    """The workload's plate: :func:`greenscreen` as opaque RGBA float32."""
    rgb, _ = greenscreen(width, height)
    return np.concatenate([rgb, np.ones((height, width, 1), np.float32)], -1)


def make_inputs(folder: Path, width: int, height: int) -> dict[str, Path]:
    """Write ``plate.exr`` (green screen) and ``bg.exr`` at this size, uncompressed float
    as the other workloads' inputs; returns their paths by name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"plate": folder / "plate.exr", "bg": folder / "bg.exr"}
    write_exr(paths["plate"], plate_pixels(width, height))
    write_exr(paths["bg"], background_pixels(width, height))
    return paths


# --------------------------------------------------------------------------- Mattebox


def mattebox_graph(paths: dict, out: Path, size: tuple[int, int]):
    """The workload as a Mattebox graph reading ``paths`` and writing ``out``.

    Returns (graph, write node, node to time in memory, node to compare with peers).
    """
    import mattebox as mb
    from bench.workloads import CONFIG, mattebox_chain

    width, height = size
    g = mb.Graph()
    g.settings.ocio_config = CONFIG
    g.settings.format = mb.Format(width, height)
    plate = g.add("Read", file=str(paths["plate"]), colorspace="ACEScg")
    keyed = mattebox_chain(g, plate, OPS)
    bg = g.add("Read", file=str(paths["bg"]), colorspace="ACEScg")
    merged = g.add("Merge", inputs={"B": bg, "A": keyed}, operation="over")
    write = g.add(
        "Write",
        inputs={"Source": merged},
        file=str(out),
        colorspace="Raw",
        datatype="float",
        compression="none",
    )
    return g, write, merged, merged


# --------------------------------------------------------------------------- numpy


def numpy_key(plate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The key and the despilled colour, straight: (alpha H×W, RGB H×W×3)."""
    r, g, b = plate[..., 0], plate[..., 1], plate[..., 2]
    others = np.float32(RED_WEIGHT) * r + np.float32(BLUE_WEIGHT) * b
    alpha = np.clip(1 - (g - others) / np.float32(screen_difference()), 0, 1)
    rgb = plate[..., :3].copy()
    rgb[..., 1] = np.minimum(g, others)
    return alpha, rgb


def numpy_erode(alpha: np.ndarray, radius: int) -> np.ndarray:
    """The minimum over a (2 radius + 1)² box, separable, outside the image 0."""
    height, width = alpha.shape
    padded = np.pad(alpha, ((0, 0), (radius, radius)))
    across = padded[:, 0:width].copy()
    for i in range(1, 2 * radius + 1):
        np.minimum(across, padded[:, i : i + width], out=across)
    padded = np.pad(across, ((radius, radius), (0, 0)))
    down = padded[0:height].copy()
    for i in range(1, 2 * radius + 1):
        np.minimum(down, padded[i : i + height], out=down)
    return down


def numpy_blur_plane(plane: np.ndarray, size: float) -> np.ndarray:
    """A separable Gaussian blur of one plane (Mattebox's taps), outside the image 0."""
    weights = blur_taps(size)
    radius = len(weights) // 2
    height, width = plane.shape
    padded = np.pad(plane, ((0, 0), (radius, radius)))
    across = weights[0] * padded[:, 0:width]
    for i in range(1, len(weights)):
        across += weights[i] * padded[:, i : i + width]
    padded = np.pad(across, ((radius, radius), (0, 0)))
    down = weights[0] * padded[0:height]
    for i in range(1, len(weights)):
        down += weights[i] * padded[i : i + height]
    return down


def numpy_run(images: dict) -> np.ndarray:
    """The workload on decoded RGBA arrays, the obvious numpy way: the comp, H×W×4."""
    alpha, rgb = numpy_key(images["plate"])
    rgb = np.where((alpha > 0)[..., None], rgb, 0)  # premultiplied, then unpremultiplied
    alpha = numpy_blur_plane(numpy_erode(alpha, ERODE), EDGE_BLUR)
    bg = images["bg"]
    out = np.empty_like(bg)
    out[..., :3] = rgb * alpha[..., None] + bg[..., :3] * (1 - alpha[..., None])
    out[..., 3] = alpha + bg[..., 3] * (1 - alpha)
    return out


# --------------------------------------------------------------------------- ImageBufAlgo


def _key_weights() -> tuple[float, float, float, float]:
    """Channel weights whose sum is ``-d(pixel) / d(screen)``."""
    ds = screen_difference()
    return (RED_WEIGHT / ds, -1 / ds, BLUE_WEIGHT / ds, 0.0)


def iba_run(bufs: dict, kernels):
    """The workload with ImageBufAlgo on ImageBufs of the plate and the background;
    the comp's ImageBuf. ``kernels`` are :func:`workloads.iba_kernels` of the blur."""
    import OpenImageIO as oiio

    A = oiio.ImageBufAlgo
    plate = bufs["plate"]
    key = A.channel_sum(plate, _key_weights())
    A.add(key, key, 1.0)
    A.clamp(key, key, 0.0, 1.0)
    others = A.channel_sum(plate, (RED_WEIGHT, 0.0, BLUE_WEIGHT, 0.0))
    green = A.min(A.channels(plate, (1,)), others)
    fg = A.channel_append(A.channels(plate, (0,)), green)
    fg = A.channel_append(fg, A.channels(plate, (2,)))
    fg = A.channel_append(fg, key)
    fg = A.channels(fg, (0, 1, 2, 3), newchannelnames=("R", "G", "B", "A"))
    A.premult(fg, fg)  # the keyer's output ...
    A.unpremult(fg, fg)  # ... unpremultiplied
    alpha = A.erode(A.channels(fg, (3,)), 2 * ERODE + 1, 2 * ERODE + 1)
    across, down = kernels
    alpha = A.convolve(A.convolve(alpha, across), down)
    fg = A.channel_append(A.channels(fg, (0, 1, 2)), alpha)
    fg = A.channels(fg, (0, 1, 2, 3), newchannelnames=("R", "G", "B", "A"))
    A.premult(fg, fg)
    return A.over(fg, bufs["bg"])


# --------------------------------------------------------------------------- oiiotool


def _csv(values) -> str:
    return ",".join(f"{float(v):.9g}" for v in values)


def oiiotool_args(paths: dict, out: Path | str, kernel_files: dict) -> list[str]:
    """The oiiotool command line after ``oiiotool --threads N``: the same steps as
    :func:`iba_run` (``--chsum``, ``--addc``, ``--clamp``, ``--min``, ``--chappend``,
    ``--premult``, ``--unpremult``, ``--erode``, ``--convolve`` twice, ``--over``)."""
    across, down = kernel_files[EDGE_BLUR]
    side = f"{2 * ERODE + 1}x{2 * ERODE + 1}"
    args = [str(paths["plate"]), "--label", "plate"]
    args += [f"--chsum:weight={_csv(_key_weights())}", "--addc", "1"]
    args += ["--clamp:min=0:max=1", "--label", "key"]
    args += [
        "plate",
        "--ch",
        "G",
        "plate",
        f"--chsum:weight={_csv((RED_WEIGHT, 0, BLUE_WEIGHT, 0))}",
    ]
    args += ["--min", "--label", "green"]
    args += ["plate", "--ch", "R", "green", "--chappend", "plate", "--ch", "B", "--chappend"]
    args += ["key", "--chappend", "--chnames", "R,G,B,A", "--premult", "--unpremult"]
    args += ["--label", "fg", "--ch", "A", "--erode", side]
    args += [str(across), "--convolve", str(down), "--convolve", "--label", "alpha"]
    args += ["fg", "--ch", "R,G,B", "alpha", "--chappend", "--chnames", "R,G,B,A", "--premult"]
    args += [str(paths["bg"]), "--over"]
    return [*args, "-d", "float", "--compression", "none", "-o", str(out)]


# --------------------------------------------------------------------------- Blender 5 (bpy)


def bpy_case(python: str, work, inputs: list, out: Path, repeat: int, folder: Path) -> dict:
    """``bench/keying_blender.py`` under a Python that has Blender 5's ``bpy`` module,
    pinned to this benchmark's CPUs (``bench/blender5.py``)."""
    from bench import blender5

    return blender5.bpy_case(python, work.blender, inputs, out, repeat, folder,
                             work.blender_params, script=BLENDER_SCRIPT)  # fmt: skip


def find_bpy(given: str | None) -> tuple[str | None, str]:
    """(a Python with Blender 5's bpy, or None; why not): ``--bpy``, else
    ``$MATTEBOX_BENCH_BPY``."""
    python = given or os.environ.get("MATTEBOX_BENCH_BPY")
    if not python:
        return None, "no Python with bpy given (--bpy or $MATTEBOX_BENCH_BPY)"
    if not Path(python).exists():
        return None, f"{python} does not exist"
    return python, ""


# --------------------------------------------------------------------------- notes


def notes(case: dict) -> list[str]:
    """What a reader of the keying table needs to know."""
    texts = [
        (
            "Input: a generated 4K-style green-screen plate (head and shoulders with soft "
            "edges and hair strands, green spill near the edges, grain σ "
            f"{GRAIN:g}; bench/keying.py) and an opaque background, uncompressed float "
            f"EXR. Key against the screen colour ({', '.join(f'{c:g}' for c in SCREEN)}): "
            "alpha = clamp(1 - d/d_screen, 0, 1), d = G - (R + B)/2, despill G' = min(G, "
            f"(R + B)/2); erode {ERODE} px (box), blur size {EDGE_BLUR:g}, premultiply, over."
        ),
        (
            "OpenImageIO has no keyer: numpy, ImageBufAlgo and oiiotool build this (linear) "
            "key from channel arithmetic (weighted channel sum, add, clamp; the despill a "
            "per-pixel min) and use their own erode, convolve, (un)premult and over."
        ),
    ]
    if any(r["tool"].startswith("Blender") and r["status"] == "ok" for r in case["rows"]):
        texts.append(
            "Blender: Keying node (screen balance 0.5, despill 1, balance 0.5; no clip, "
            "dilate, feather or blur inside it) → Alpha Convert to straight; its Matte → "
            "Dilate/Erode (step, -1) → Blur (Gauss, size 2) → Set Alpha (replace) → Alpha "
            "Over (convert premultiplied) on the background. Its key scales the "
            "difference by |1 - (R + B)/2|, so its max |Δ| is large (a different key, "
            "the same work)."
        )
    return texts


def summary_line(cases: list[dict]) -> str:
    """``keying 4K: mattebox 1.20 s, oiiotool ... , blender ... , Blender 3.4 ...`` from the
    largest keying case (disk-to-disk medians): ``blender`` is the faster Blender, the
    other one follows by name."""
    from bench import report

    line = report.summary_line(cases, "keying", "keying")
    case = max(
        (c for c in cases if c["workload"] == "keying"), key=lambda c: c["width"] * c["height"]
    )
    ours = next(
        (r for r in case["rows"] if r["tool"] == "Mattebox" and r["how"] == "disk → disk"),
        None,
    )
    ours = ours if ours and ours["status"] == "ok" else None
    faster = report.faster_blender(case)
    for row in report._blender_rows(case):
        if row is not faster and row["status"] == "ok" and ours:
            name = "Blender 3.4" if row["tool"] == "Blender" else row["tool"]
            line += f", {name} {row['median']:.2f} s ({row['median'] / ours['median']:.1f}x)"
    return line
