"""Mirror: flip the image upside down and/or flop it left to right (Nuke's Mirror)."""

from __future__ import annotations

import numpy as np

from mattebox.nodes.spec import Bool, register
from mattebox.nodes.transform.resample import AffineResample


@register
class Mirror(AffineResample):
    """Flips the image vertically (``flip``) and/or horizontally (``flop``) about the
    centre of its format.

    Pixels are copied exactly: the map sends output pixel centres onto input pixel
    centres and samples the nearest one, so there is no filter to choose. The data
    window is mirrored with the image (a window off to the left of the format ends up
    off to the right); the format stays the input's. Neither box ticked passes the
    input through.
    """

    type_name = "Mirror"
    params = (
        Bool("flip", False, "Mirror vertically: the top row becomes the bottom row."),
        Bool("flop", False, "Mirror horizontally: the left column becomes the right column."),
    )

    @classmethod
    def pass_through(cls, values):
        return None if values["flip"] or values["flop"] else "Source"

    @classmethod
    def forward_matrix(cls, values, ctx, source) -> np.ndarray:
        width, height = source.format.width, source.format.height
        sx, tx = (-1.0, float(width)) if values["flop"] else (1.0, 0.0)
        sy, ty = (-1.0, float(height)) if values["flip"] else (1.0, 0.0)
        return np.array([[sx, 0.0, tx], [0.0, sy, ty], [0.0, 0.0, 1.0]])

    # The map lands on pixel centres, so the nearest filter copies exactly.

    @classmethod
    def data_window(cls, values, inputs, ctx):
        return super().data_window(_nearest(values), inputs, ctx)

    @classmethod
    def input_region(cls, values, region, index, ctx):
        return super().input_region(_nearest(values), region, index, ctx)

    @classmethod
    def kernel_args(cls, values, ctx, src_window, dst_window) -> tuple:
        return super().kernel_args(_nearest(values), ctx, src_window, dst_window)


def _nearest(values: dict) -> dict:
    return {**values, "filter": "nearest"}
