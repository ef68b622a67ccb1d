"""Read: images and frame sequences from disk, converted to the working colour space."""

from __future__ import annotations

from mattebox.nodes.spec import Enum, FilePath, Int, Kind, NodeSpec, String, register


@register
class Read(NodeSpec):
    """Reads an image or a frame sequence (``plate.####.exr``, ``plate.%04d.exr``).

    Pixels arrive as premultiplied RGBA float in the script's working space: the file is
    taken to be in ``colorspace`` and converted. ``default`` picks by file type (float
    files: scene linear; integer files: sRGB), ``Raw`` leaves values untouched. Decoding
    runs in a separate process, so a damaged file becomes this node's error.
    """

    type_name = "Read"
    family = "io"
    kind = Kind.SOURCE
    inputs = ()
    file_source = True
    params = (
        FilePath("file", "", "Image or sequence; #### is the frame number padded to 4 digits."),
        String("colorspace", "default", "Colour space of the file ('default': by file type)."),
        Int(
            "frame_offset",
            0,
            "Added to the script frame to pick the file's frame.",
            animatable=False,
        ),
        Enum(
            "missing_frames",
            ("error", "black"),
            "error",
            "What a missing frame of a sequence gives: an error, or a black frame.",
        ),
    )
