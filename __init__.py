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

from mattebox.engine.graph import Graph, GraphError, Node, Settings
from mattebox.engine.image import Image
from mattebox.engine.plan import RenderError
from mattebox.engine.script import (
    ScriptError,
    ScriptWarning,
    load,
)
from mattebox.engine.stats import NodeStats, RenderStats
from mattebox.nodes.spec import Format

__all__ = [
    "Format",
    "Graph",
    "GraphError",
    "Image",
    "Node",
    "NodeStats",
    "RenderError",
    "RenderStats",
    "ScriptError",
    "ScriptWarning",
    "Settings",
    "__version__",
    "load",
]
