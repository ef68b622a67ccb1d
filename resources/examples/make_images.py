"""Make the example comp's images (nothing is downloaded): run from anywhere with
``python resources/examples/make_images.py``. Writes plate.0001-0003.exr (a foreground
with alpha that moves a little each frame) and background.exr, 640x360, ACEScg, half float.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenImageIO as oiio

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT = 640, 360


def write(path: Path, pixels: np.ndarray) -> None:
    spec = oiio.ImageSpec(WIDTH, HEIGHT, 4, oiio.HALF)
    spec.channelnames = ("R", "G", "B", "A")
    spec.attribute("compression", "zip")
    out = oiio.ImageOutput.create(str(path))
    if not out.open(str(path), spec) or not out.write_image(pixels.astype(np.float32)):
        raise SystemExit(f"cannot write {path}: {oiio.geterror()}")
    out.close()


def background() -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    sky = np.stack(
        [
            0.05 + 0.25 * (1 - y / HEIGHT),
            0.12 + 0.3 * (1 - y / HEIGHT),
            0.35 + 0.4 * (1 - y / HEIGHT),
        ],
        -1,
    )
    ground = (y > HEIGHT * 0.68)[..., None]
    stripes = (np.sin(x / 9.0) * 0.5 + 0.5)[..., None] * 0.04
    field = np.stack([0.09 + 0 * x, 0.16 + 0 * x, 0.05 + 0 * x], -1) + stripes
    rgb = np.where(ground, field, sky)
    return np.concatenate([rgb, np.ones((HEIGHT, WIDTH, 1), np.float32)], -1)


def plate(frame: int) -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32) + 0.5
    cx, cy, r = 250 + 12 * frame, 190, 90
    d = np.hypot(x - cx, y - cy)
    alpha = np.clip(r - d + 0.5, 0, 1)  # antialiased disc
    shade = np.clip(1.2 - (np.hypot(x - cx + 30, y - cy + 35) / (1.6 * r)), 0.1, 1.2)
    rgb = np.stack([2.2 * shade, 0.9 * shade, 0.25 * shade], -1)  # a warm ball, > 1 in the core
    box = ((x > 430) & (x < 560) & (y > 120) & (y < 300)).astype(np.float32)
    rgb = rgb * alpha[..., None] + np.array([0.1, 0.5, 0.8]) * box[..., None] * (
        1 - alpha[..., None]
    )
    alpha = np.maximum(alpha, box)
    return np.concatenate([rgb, alpha[..., None]], -1).astype(np.float32)


def main() -> None:
    write(HERE / "background.exr", background())
    for frame in (1, 2, 3):
        write(HERE / f"plate.{frame:04d}.exr", plate(frame))
    print(f"wrote example images to {HERE}")


if __name__ == "__main__":
    main()
