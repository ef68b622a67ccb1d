"""WindowFilter: the base of area nodes whose output pixel reads a square window of
radius r of its input (Blur, Sharpen, ErodeDilate, Median, EdgeDetect)."""

from __future__ import annotations

from typing import ClassVar

from mattebox.nodes.spec import EMPTY, ImageInfo, Kind, NodeSpec


class WindowFilter(NodeSpec):
    """An area op reading a ``(2r + 1)``-pixel square window around each output pixel.

    Subclasses give :meth:`radius`; the halo, the input region and the data window follow
    from it (the data window grows by ``r`` unless ``grows_window`` is False: a median of
    a window mostly outside the input is 0, so Median keeps its input's). Not registered:
    it is not a node type.
    """

    kind = Kind.AREA
    family = "filter"
    #: Whether the output's data window is the input's grown by the radius.
    grows_window: ClassVar[bool] = True

    @classmethod
    def radius(cls, values) -> int:
        """The window's radius in pixels for these values."""
        raise NotImplementedError

    @classmethod
    def halo(cls, values, ctx=None) -> tuple[int, int]:
        """Pixels of input needed beyond an output region, per axis: ``(r, r)``."""
        radius = cls.radius(values)
        return radius, radius

    @classmethod
    def data_window(cls, values, inputs, ctx):
        info = inputs[0] if inputs else None
        if info is None:
            return ImageInfo(ctx.script_format, EMPTY)
        grow = cls.radius(values) if cls.grows_window else 0
        return ImageInfo(info.format, info.data_window.grow(grow), info.layers)

    @classmethod
    def input_region(cls, values, region, index, ctx):
        return region.grow(cls.radius(values))
