"""Write: renders its input to image files, one per frame."""

from __future__ import annotations

from mattebox.nodes.spec import Bool, Channels, Enum, FilePath, Kind, NodeSpec, String, register

COMPRESSIONS = (
    "zip",
    "zips",
    "piz",
    "none",
    "rle",
    "pxr24",
    "b44",
    "b44a",
    "dwaa",
    "dwab",
    "lzw",
    "packbits",
    "jpeg",
)


@register
class Write(NodeSpec):
    """Writes its input to ``file`` (``####`` for the frame number) when the script is
    executed. Files appear atomically: a failed frame leaves nothing behind.

    ``channels`` ``all`` (or a list of layers) writes a multi-layer OpenEXR as renderers
    do (``R G B A diffuse.R ... depth.Z`` in one part), or one part per layer with
    ``multipart``; colour layers are converted to ``colorspace`` like the main one, data
    layers (depth, normals, motion) are written as they are.

    In the viewer it shows its input unchanged.
    """

    type_name = "Write"
    family = "io"
    kind = Kind.SINK
    params = (
        FilePath(
            "file", "", "Output path; the extension picks the format (.exr .tif .png .jpg .dpx)."
        ),
        String("colorspace", "default", "Colour space written ('default': by file type)."),
        Enum(
            "datatype",
            ("half", "float", "uint8", "uint16"),
            "half",
            "Pixel type in the file (formats that cannot store it are refused).",
        ),
        Enum("compression", COMPRESSIONS, "zip", "Compression (EXR and TIFF; ignored elsewhere)."),
        Bool("tiled", False, "Write tiles instead of scanlines (EXR, TIFF)."),
        Channels(
            "channels",
            "rgba",
            "What is written: rgba, all layers, a layer name or a list of layers (EXR).",
        ),
        Bool("multipart", False, "EXR: one part per layer instead of one multi-layer part."),
    )

    @classmethod
    def pass_through(cls, values):
        return "Source"
