"""Mattebox: a node-based compositor.

``import mattebox as mb`` gives the public Python API::

    g = mb.Graph()
    plate = g.add("Read", file="plate.####.exr")
    grade = g.add("Grade", inputs={"Source": plate}, gain=1.2)
    image = g.render(grade, frame=1)          # mb.Image: .pixels, .data_window, .format
    g.save("comp.mbx")
    mb.load("comp.mbx").execute(frames="1-10")

See ``docs/python.md``.
"""

__version__ = "0.1.0"

from mattebox.engine.graph import Graph, GraphError, Node, Settings  # noqa: E402
from mattebox.engine.image import Image  # noqa: E402
from mattebox.engine.plan import RenderError  # noqa: E402
from mattebox.engine.script import ScriptError, ScriptWarning  # noqa: E402
from mattebox.engine.script import load  # noqa: E402
from mattebox.nodes.spec import Format  # noqa: E402

__all__ = ["Graph", "Node", "Settings", "Image", "Format", "load", "GraphError",
           "RenderError", "ScriptError", "ScriptWarning", "__version__"]
