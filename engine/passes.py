"""What the planner hands the backends: evaluated nodes and passes.

The planner (:mod:`mattebox.engine.plan`) produces these and the backends
(:mod:`mattebox.engine.backends`) consume them; both import this module, and it imports
neither, so backends never reach into the planner.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mattebox.engine import color
from mattebox.nodes.spec import Context, ImageInfo, Kind, NodeSpec, Window

if TYPE_CHECKING:  # the graph model is not imported by what backends import
    from mattebox.engine.graph import Node

BYTES_PER_PIXEL = 16  # a plane: four float32 components per pixel


class RenderError(RuntimeError):
    """A node that cannot be computed; ``str()`` is one line starting with the node name."""

    def __init__(self, node: str, message: str):
        super().__init__(f"{node}: {message}")
        self.node = node
        self.message = message


# --------------------------------------------------------------------------- evaluation


@dataclass(eq=False)
class NodeEval:
    """A node at one frame: values, inputs (pass-throughs resolved), info and hash."""

    node: Node
    spec: type[NodeSpec]
    values: dict[str, Any]
    inputs: list[NodeEval | None]
    info: ImageInfo
    hash: str
    params: tuple[float, ...] = ()
    extras: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The node's path: its name, after its groups' for a node inside a group."""
        return self.node.path

    @property
    def kind(self) -> Kind:
        return self.spec.kind


def node_context(ev: NodeEval, ctx: Context) -> Context:
    """``ctx`` as one node sees it: ``extras["inputs"]`` holds its inputs' ImageInfo (a
    resample needs its input's format to map regions and build its kernel arguments)."""
    extras = dict(ctx.extras)
    extras["inputs"] = [i.info if i is not None else None for i in ev.inputs]
    return replace(ctx, extras=extras)


def ocio_processor(ev: NodeEval, ctx: Context):
    """The OCIO processor of a colour-processor node at its frame (both backends share it).

    The node's ``ocio_request`` names the kind (``op``) and its arguments; a relative LUT
    path is taken from the script's folder. Raises RenderError naming the node.
    """
    request = dict(ev.spec.ocio_request(ev.values, ctx))
    kind = request.pop("op")
    if kind == "file" and request["file"] and not os.path.isabs(request["file"]):
        request["file"] = os.path.join(ctx.script_dir, request["file"])
    try:
        return color.get_processor(kind, ctx.ocio_config, **request)
    except color.ColorError as error:
        raise RenderError(ev.name, str(error)) from None


@dataclass(frozen=True)
class Pass:
    """One unit of work for a backend.

    ``kind`` is ``read``, ``source``, ``fused`` (point ops), ``area``, ``resample``,
    ``color`` or ``cached``. ``nodes`` lists the nodes it computes (a fused pass: leaves
    first, its output node last); ``inputs`` are buffer ids, ``output`` its buffer.
    """

    kind: str
    nodes: tuple[NodeEval, ...]
    inputs: tuple[int, ...]
    output: int
    region: Window
    # fused, area and resample passes: for each node, where each of its inputs comes from:
    # ("buf", index into inputs) / ("node", index into nodes) / ("none", -1)
    wiring: tuple[tuple[tuple[str, int], ...], ...] = ()
    store: bool = False  # keep the result in the cache
    device: str = ""  # where a backend runs it when not on its own device ("cpu (why)")

    @property
    def node(self) -> NodeEval:
        return self.nodes[-1]

    def describe(self) -> str:
        names = "+".join(n.name for n in self.nodes)
        ins = ",".join(f"b{i}" for i in self.inputs) or "-"
        cache = " (cached)" if self.kind == "cached" else (" -> cache" if self.store else "")
        device = f"  on {self.device}" if self.device else ""
        return (
            f"{self.kind:<9} {names:<36} {ins:>8} -> b{self.output}  {self.region}{cache}{device}"
        )
