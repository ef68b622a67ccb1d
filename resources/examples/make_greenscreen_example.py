"""Build the green-screen example (run from anywhere; nothing is downloaded):

    python resources/examples/make_greenscreen_example.py

Writes, beside this file, 960x540 images made by bench/keying.py's plate generator and
the script that comps them:

- ``greenscreen/plate.0002.exr`` ... ``plate.0006.exr``: a head and shoulders (hair
  strands, soft edges, green spill near the edges, grain) in front of a green screen lit
  unevenly (darker towards the corners); frame 2 is the screen alone, before the actor
  steps in, and from frame 3 on the actor moves a little to the right each frame. RGB,
  half float, DWAA (as plates are often delivered; lossless zip would be 5x larger with
  the grain);
- ``greenscreen/background.0001.exr`` ... ``background.0004.exr``: a sky over hills
  with clouds drifting right, shot as frames 1-4;
- ``greenscreen.mbx``: Read the plate → ColorDifferenceKeyer against a clean plate
  (FrameHold of the plate at frame 2: the uneven screen is keyed pixel by pixel; one
  screen colour would leave a veil in the dark corners) with despill → Unpremult →
  ErodeDilate the alpha by 1 px (takes out the grain's specks) → Blur the alpha (the
  edge softened) → Premult → Grade the foreground warmer, to sit in the sunset → Merge
  over the background, which a TimeOffset of 2 lines up (the background's frames 1-4
  are the plate's 3-6) → Write ``render/greenscreen.####.exr`` (and an sRGB PNG through
  the display transform). Frame range 3-6.

``mattebox render resources/examples/greenscreen.mbx`` renders it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # bench/ is a folder of modules beside the package's code

import mattebox as mb
from bench.keying import greenscreen

WIDTH, HEIGHT = 960, 540
SCREEN = (0.09, 0.55, 0.14)  # the screen's colour where the light is brightest
FALLOFF = 0.3  # the screen is this much darker in the corners
GRAIN = 0.003
CLEAN_FRAME = 2  # the screen alone, before the actor steps in
FRAMES = range(3, 7)  # the comp's frames (the actor is in the plate from frame 3)
BACKGROUND_FRAMES = range(1, 5)  # shot as 1-4, seen at 3-6 through a TimeOffset of 2
OFFSET = 2
GRADE_GAIN = (1.08, 1.0, 0.9, 1.0)  # the foreground warmed towards the sunset


def shift(frame: int) -> float:
    """Where the actor stands at ``frame`` (heights right of centre)."""
    return -0.42 + 0.02 * (frame - FRAMES[0])


def plate(frame: int) -> tuple[np.ndarray, np.ndarray]:
    """The plate at ``frame`` and the foreground's true coverage there (a zero matte for
    the clean frame)."""
    return greenscreen(
        WIDTH,
        HEIGHT,
        seed=100 + frame,
        shift=shift(frame),
        actor=frame != CLEAN_FRAME,
        falloff=FALLOFF,
        screen=SCREEN,
        grain=GRAIN,
        spill=0.25,
        strand=3.0,
    )


def matte(frame: int) -> np.ndarray:
    """The foreground's true coverage at ``frame`` (H×W float32; what the key should find)."""
    return plate(frame)[1]


def background(frame: int) -> np.ndarray:
    """A sky at sunset over two ranges of hills, with soft clouds moving right by 6 px a
    frame (H×W×3 float32, linear)."""
    y = (np.arange(HEIGHT, dtype=np.float32)[:, None] + 0.5) / HEIGHT
    x = (np.arange(WIDTH, dtype=np.float32)[None, :] + 0.5) / HEIGHT
    sky = np.stack(np.broadcast_arrays(0.9 - 0.6 * y, 0.45 - 0.2 * y, 0.25 + 0.35 * y), -1).astype(
        np.float32
    )
    clouds = np.zeros((HEIGHT, WIDTH), np.float32)
    rng = np.random.default_rng(3)
    for cx, cy, rx, ry in rng.uniform((0, 0.05, 0.08, 0.02), (1.8, 0.35, 0.2, 0.05), (9, 4)):
        cx = cx + 6 * frame / HEIGHT
        clouds += np.exp(-(((x - cx) / rx) ** 2) - ((y - cy) / ry) ** 2)
    rgb = sky + np.clip(clouds, 0, 1)[..., None] * np.float32([0.5, 0.35, 0.3])
    for top, colour, waves in ((0.55, (0.12, 0.1, 0.16), 3.0), (0.7, (0.05, 0.07, 0.05), 5.0)):
        ridge = top + 0.05 * np.sin(waves * x + top * 10) + 0.03 * np.sin(2.3 * waves * x)
        cover = np.clip((y - ridge) * HEIGHT + 0.5, 0, 1)[..., None]  # antialiased ridge
        rgb = rgb + cover * (np.float32(colour) * (1.2 - 0.4 * y[..., None]) - rgb)
    return rgb.astype(np.float32)


def write(path: Path, rgb: np.ndarray, compression: str) -> None:
    """An RGB half EXR."""
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = oiio.ImageSpec(WIDTH, HEIGHT, 3, oiio.HALF)
    spec.channelnames = ("R", "G", "B")
    spec.attribute("compression", compression)
    spec.attribute("DateTime", "2026:12:07 00:00:00")  # fixed: the files only change with pixels
    out = oiio.ImageOutput.create(str(path))
    if out is None or not out.open(str(path), spec) or not out.write_image(rgb):
        raise SystemExit(f"cannot write {path}: {oiio.geterror()}")
    out.close()


def comp_script() -> mb.Graph:
    """The comp (see the module's docstring)."""
    g = mb.Graph()
    g.path = str(HERE / "greenscreen.mbx")  # relative file names are relative to it
    g.settings.format = mb.Format(WIDTH, HEIGHT)
    g.settings.frame_range = (FRAMES[0], FRAMES[-1])
    g.settings.ocio_config = "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"
    read = g.add("Read", name="Plate", file="greenscreen/plate.####.exr", colorspace="ACEScg")
    clean = g.add("FrameHold", name="CleanPlate", inputs={"Source": read}, frame=CLEAN_FRAME)
    key = g.add(
        "ColorDifferenceKeyer",
        name="Key",
        inputs={"Source": read, "CleanPlate": clean},
        screen="green",
        use_clean_plate=True,
        despill=True,
    )
    straight = g.add("Unpremult", name="Straight", inputs={"Source": key})
    eroded = g.add(
        "ErodeDilate", name="ErodeMatte", inputs={"Source": straight}, size=-1, channels="alpha"
    )
    soft = g.add("Blur", name="SoftEdge", inputs={"Source": eroded}, size=1.0, channels="alpha")
    premult = g.add("Premult", name="Premult", inputs={"Source": soft})
    graded = g.add("Grade", name="WarmFG", inputs={"Source": premult}, gain=list(GRADE_GAIN))
    back = g.add(
        "Read", name="Background", file="greenscreen/background.####.exr", colorspace="ACEScg"
    )
    shifted = g.add("TimeOffset", name="LineUpBG", inputs={"Source": back}, offset=OFFSET)
    over = g.add("Merge", name="Over", inputs={"B": shifted, "A": graded}, operation="over")
    g.add(
        "Write",
        name="WriteEXR",
        inputs={"Source": over},
        file="render/greenscreen.####.exr",
        colorspace="Raw",
        datatype="half",
        compression="zip",
    )
    display = g.add("OCIODisplay", name="Display", inputs={"Source": over})
    g.add(
        "Write",
        name="WritePNG",
        inputs={"Source": display},
        file="render/greenscreen.####.png",
        colorspace="Raw",
        datatype="uint8",
    )
    g.ui = {
        "nodes": {
            name: {"pos": [x * 220, y * 90]}
            for name, (x, y) in {
                "Plate": (0, 0),
                "CleanPlate": (1, 1),
                "Key": (0, 2),
                "Straight": (0, 3),
                "ErodeMatte": (0, 4),
                "SoftEdge": (0, 5),
                "Premult": (0, 6),
                "WarmFG": (0, 7),
                "Background": (-1.5, 6),
                "LineUpBG": (-1.5, 7),
                "Over": (0, 8),
                "WriteEXR": (-0.5, 9),
                "Display": (0.75, 9),
                "WritePNG": (0.75, 10),
            }.items()
        },
        "viewer": {"display": "sRGB - Display", "node": "Over", "layer": "rgba"},
    }
    return g


def main() -> None:
    for frame in (CLEAN_FRAME, *FRAMES):
        write(HERE / "greenscreen" / f"plate.{frame:04d}.exr", plate(frame)[0], "dwaa")
    for frame in BACKGROUND_FRAMES:
        write(HERE / "greenscreen" / f"background.{frame:04d}.exr", background(frame), "dwaa")
    comp_script().save(HERE / "greenscreen.mbx")
    print("wrote", HERE / "greenscreen.mbx", "and its images in", HERE / "greenscreen")


if __name__ == "__main__":
    main()
