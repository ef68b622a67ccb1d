"""OCIOFileTransform: applies a LUT or transform file (.cube, .spi3d, .clf...) through OCIO."""

from __future__ import annotations

from mattebox.nodes.spec import Enum, FilePath, Kind, NodeSpec, register


@register
class OCIOFileTransform(NodeSpec):
    """Applies the transform stored in ``file`` (any format OCIO reads: .cube, .3dl, .spi1d,
    .spi3d, .clf, .csp...) forwards or inverted."""

    type_name = "OCIOFileTransform"
    family = "ocio"
    kind = Kind.COLOR_PROCESSOR
    params = (
        FilePath("file", "", "LUT or transform file."),
        Enum("direction", ("forward", "inverse"), "forward", "Apply the file or its inverse."),
        Enum(
            "interpolation",
            ("linear", "tetrahedral", "nearest", "best"),
            "linear",
            "How LUT entries are interpolated.",
        ),
    )

    @classmethod
    def ocio_request(cls, values, ctx):
        return {
            "op": "file",
            "file": values["file"],
            "direction": values["direction"],
            "interpolation": values["interpolation"],
        }
