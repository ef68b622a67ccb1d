"""The mutable graph model: nodes, parameter values, input links, change notifications.

The engine graph is the truth; the editor is a view of it. No Qt here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mattebox.nodes import spec as specs
from mattebox.nodes.spec import Format, NodeSpec, ParamError

if TYPE_CHECKING:
    from mattebox.engine.image import Image

DEFAULT_FORMAT = Format(1920, 1080, 1.0)


class GraphError(ValueError):
    """An edit the graph refuses (unknown type or parameter, bad value, cycle...)."""


@dataclass
class Settings:
    """Script-wide settings: frame range, rate, format and colour management."""

    frame_range: tuple[int, int] = (1, 1)
    fps: float = 24.0
    format: Format = DEFAULT_FORMAT
    ocio_config: str | None = None  # None: $OCIO, else the built-in studio config
    working_space: str | None = None  # None: the config's scene_linear role

    def copy(self) -> Settings:
        return copy.deepcopy(self)


class Node:
    """A node in a :class:`Graph`: its type, parameter values and input links.

    ``node["gain"]`` reads a value (default when unset), ``node["gain"] = 1.2`` sets it
    (checked against the declaration), ``node.set_input("Source", other)`` links an input.
    """

    is_group = False  # a GroupNode (engine/group.py) holds an inner graph

    def __init__(self, graph: Graph, name: str, type_name: str, spec: type[NodeSpec] | None):
        self.graph = graph
        self.name = name
        self.type = type_name
        self.spec = spec
        self.values: dict[str, Any] = {}
        self.inputs: dict[str, str] = {}
        self.version = spec.version if spec else 0
        self.raw: dict | None = None  # placeholders keep their script entry here
        # True only while Graph.add links a node it has just made: nothing reads that
        # node yet, so no link of its can close a cycle (and none is looked for)
        self._unread = False

    @property
    def path(self) -> str:
        """The node's name, after its groups' names for a node inside a group
        (``Despill1.Grade1``): unique in the whole script."""
        owner = self.graph.owner
        return self.name if owner is None else f"{owner.path}.{self.name}"

    # -- parameters -------------------------------------------------------------------

    @property
    def is_placeholder(self) -> bool:
        """True for a node of a type this installation does not know (kept, not run)."""
        return self.spec is None

    def __getitem__(self, param: str) -> Any:
        declared = self._param(param)
        return self.values.get(param, declared.default)

    def __setitem__(self, param: str, value: Any) -> None:
        declared = self._param(param)
        try:
            coerced = declared.coerce(value)
        except ParamError as error:
            raise GraphError(f"{self.name}.{error}") from None
        if coerced == declared.default:
            changed = self.values.pop(param, declared.default) != coerced
        else:
            changed = self.values.get(param, declared.default) != coerced
            self.values[param] = coerced
        if changed:
            self.graph._changed("param", self, param)

    def reset(self, param: str) -> None:
        """Return a parameter to its default value."""
        self[param] = self._param(param).default

    def value_at(self, param: str, frame: float) -> Any:
        """The parameter's value at ``frame`` (keyframes interpolated)."""
        return self._param(param).at(self[param], frame)

    def values_at(self, frame: float) -> dict[str, Any]:
        """Every parameter's value at ``frame``."""
        return self.spec.values_at(self.values, frame)

    def _param(self, param: str) -> specs.Param:
        if self.spec is None:
            hint = specs.type_hint(self.type)
            raise GraphError(f"{self.name}: node type {self.type!r} is not installed{hint}")
        try:
            return self.spec.param(param)
        except KeyError:
            hint = specs.param_hint(self.spec, param)
            raise GraphError(
                f"{self.name}.{param}: {self.type} has no such parameter{hint}"
            ) from None

    # -- inputs -----------------------------------------------------------------------

    @property
    def input_names(self) -> tuple[str, ...]:
        if self.spec is None:
            return tuple(self.inputs)
        return self.spec.inputs + self.spec.optional_inputs

    def input(self, name: str) -> Node | None:
        """The node connected to input ``name``, or None."""
        upstream = self.inputs.get(name)
        return self.graph.nodes[upstream] if upstream else None

    def set_input(self, name: str, node: Node | str | None) -> None:
        """Connect input ``name`` to ``node`` (None disconnects); cycles are refused."""
        if name not in self.input_names:
            raise GraphError(
                f"{self.name}: {self.type} has no input {name!r} (inputs: "
                f"{', '.join(self.input_names) or 'none'})"
            )
        if node is None:
            if self.inputs.pop(name, None) is not None:
                self.graph._changed("input", self, name)
            return
        upstream = self.graph._resolve(node)
        if upstream is self or (not self._unread and self in self.graph.upstream(upstream)):
            raise GraphError(f"{self.name}.{name}: connecting {upstream.name} would make a cycle")
        if self.inputs.get(name) != upstream.name:
            self.inputs[name] = upstream.name
            self.graph._changed("input", self, name)

    def __repr__(self) -> str:
        return f"<Node {self.name} ({self.type})>"


class Graph:
    """A compositing graph: named nodes linked through their inputs, plus settings.

    Examples
    --------
    >>> import mattebox as mb
    >>> g = mb.Graph()
    >>> c = g.add("Constant", color=[0.2, 0.3, 0.4, 1.0])
    >>> grade = g.add("Grade", inputs={"Source": c}, gain=1.5)
    >>> grade["gain"]
    (1.5, 1.5, 1.5, 1.5)
    """

    owner = None  # the GroupNode whose inside this graph is (engine/group.InnerGraph)

    def __init__(self, settings: Settings | None = None):
        self.nodes: dict[str, Node] = {}
        self.settings = settings or Settings()
        self.ui: dict[str, Any] = {}
        self.path: str | None = None
        self.hot_nodes: list[str] = []  # most recently edited nodes, newest last
        self._listeners: list[Callable[..., None]] = []
        self.revision = 0

    # -- editing ----------------------------------------------------------------------

    def add(
        self,
        type_name: str,
        name: str | None = None,
        inputs: dict[str, Node | str] | None = None,
        **params: Any,
    ) -> Node:
        """Add a node of ``type_name``; ``inputs`` maps input names to nodes, ``params``
        sets parameter values (a group's: its knobs). Returns the new :class:`Node`."""
        if type_name == "Group" or type_name not in specs.registry():  # a group or gizmo
            from mattebox.engine import group

            made = group.add(self, type_name, name, inputs, params)
            if made is not None:
                return made
        try:
            spec = specs.get(type_name)
        except KeyError:
            raise GraphError(
                f"unknown node type {type_name!r}{specs.type_hint(type_name)}"
            ) from None
        node = self._insert(type_name, spec, name)
        try:
            for key, value in params.items():
                node[key] = value
            node._unread = True  # linking a new node walks nothing (building is linear)
            for input_name, upstream in (inputs or {}).items():
                node.set_input(input_name, upstream)
        except GraphError:
            self.remove(node)
            raise
        finally:
            node._unread = False
        if node.name in self.hot_nodes:  # values given at creation are not edits
            self.hot_nodes.remove(node.name)
        return node

    def add_placeholder(self, type_name: str, name: str, raw: dict) -> Node:
        """Add a node of an unknown type that keeps its script entry unchanged."""
        node = self._insert(type_name, None, name)
        node.raw = copy.deepcopy(raw)
        node.version = int(raw.get("version", 0)) if isinstance(raw.get("version"), int) else 0
        return node

    def _insert(
        self, type_name: str, spec: type[NodeSpec] | None, name: str | None, make=Node
    ) -> Node:
        if name is None:
            name = self.unique_name(type_name)
        elif name in self.nodes:
            raise GraphError(f"a node named {name!r} already exists")
        elif not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise GraphError(f"{name!r} is not a valid node name (letters, digits, _)")
        node = make(self, name, type_name, spec)
        self.nodes[name] = node
        self._changed("add", node, None)
        return node

    def remove(self, node: Node | str) -> None:
        """Delete a node; links from other nodes to it are removed."""
        node = self._resolve(node)
        for other in self.nodes.values():
            for input_name, upstream in list(other.inputs.items()):
                if upstream == node.name:
                    other.set_input(input_name, None)
        del self.nodes[node.name]
        self.ui.get("nodes", {}).pop(node.name, None)
        self._changed("remove", node, None)

    def rename(self, node: Node | str, new_name: str) -> None:
        """Rename a node, keeping the links to it."""
        node = self._resolve(node)
        if new_name == node.name:
            return
        if new_name in self.nodes:
            raise GraphError(f"a node named {new_name!r} already exists")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", new_name):
            raise GraphError(f"{new_name!r} is not a valid node name (letters, digits, _)")
        old = node.name
        self.nodes = {(new_name if k == old else k): v for k, v in self.nodes.items()}
        node.name = new_name
        for other in self.nodes.values():
            for input_name, upstream in other.inputs.items():
                if upstream == old:
                    other.inputs[input_name] = new_name
        ui_nodes = self.ui.get("nodes", {})
        if old in ui_nodes:
            ui_nodes[new_name] = ui_nodes.pop(old)
        self._changed("rename", node, old)

    def group(self, nodes: Iterable[Node | str], name: str | None = None) -> Node:
        """Collapse ``nodes`` into a new group in their place and return it: links from
        outside become its inputs, and what read the nodes reads the group
        (:func:`mattebox.engine.group.collapse`)."""
        from mattebox.engine import group

        return group.collapse(self, nodes, name)

    def ungroup(self, group_node: Node | str) -> list[Node]:
        """Put a group's nodes back in its place; returns them
        (:func:`mattebox.engine.group.ungroup`)."""
        from mattebox.engine import group

        return group.ungroup(self, group_node)

    @property
    def root(self) -> Graph:
        """The script's top graph (this one, unless it is a group's inside)."""
        return self

    def unique_name(self, type_name: str) -> str:
        """The first free name ``Type1``, ``Type2``..."""
        index = 1
        while f"{type_name}{index}" in self.nodes:
            index += 1
        return f"{type_name}{index}"

    # -- queries ----------------------------------------------------------------------

    def __getitem__(self, name: str) -> Node:
        try:
            return self.nodes[name]
        except KeyError:
            raise GraphError(f"no node named {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self.nodes

    def __iter__(self):
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def _resolve(self, node: Node | str) -> Node:
        if isinstance(node, Node):
            if node.graph is not self or self.nodes.get(node.name) is not node:
                raise GraphError(f"{node.name} is not in this graph")
            return node
        return self[node]

    def upstream(self, node: Node | str) -> list[Node]:
        """Every node ``node`` depends on, nearest first (without ``node`` itself)."""
        node = self._resolve(node)
        seen: dict[str, Node] = {}
        stack = [node]
        while stack:
            for name in stack.pop().inputs.values():
                if name not in seen:
                    seen[name] = self.nodes[name]
                    stack.append(self.nodes[name])
        return list(seen.values())

    def downstream(self, node: Node | str) -> list[Node]:
        """Every node that depends on ``node``."""
        node = self._resolve(node)
        readers: dict[str, list[str]] = {}
        for other in self.nodes.values():
            for upstream in set(other.inputs.values()):
                readers.setdefault(upstream, []).append(other.name)
        found: set[str] = set()
        stack = [node.name]
        while stack:  # one walk over the links, not the upstream of every node
            for reader in readers.get(stack.pop(), ()):
                if reader not in found:
                    found.add(reader)
                    stack.append(reader)
        return [other for other in self.nodes.values() if other.name in found]

    def consumers(self, node: Node | str) -> list[tuple[Node, str]]:
        """(node, input name) pairs reading ``node`` directly."""
        name = self._resolve(node).name
        return [
            (other, input_name)
            for other in self.nodes.values()
            for input_name, upstream in other.inputs.items()
            if upstream == name
        ]

    def writes(self) -> list[Node]:
        """The Write nodes, in name order."""
        return sorted((n for n in self.nodes.values() if n.type == "Write"), key=lambda n: n.name)

    # -- notifications ----------------------------------------------------------------

    def subscribe(self, callback: Callable[[str, Node, Any], None]) -> Callable[[], None]:
        """Call ``callback(event, node, detail)`` after each change; returns an unsubscribe.

        Events: ``add``, ``remove``, ``rename`` (detail: old name), ``param`` (detail:
        parameter name), ``input`` (detail: input name), ``settings``.
        """
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def _changed(self, event: str, node: Node | None, detail: Any) -> None:
        self.revision += 1
        if event == "param" and node is not None:
            if node.name in self.hot_nodes:
                self.hot_nodes.remove(node.name)
            self.hot_nodes = (self.hot_nodes + [node.name])[-4:]
        for callback in list(self._listeners):
            callback(event, node, detail)

    def settings_changed(self) -> None:
        """Tell listeners (and caches) that :attr:`settings` were edited."""
        self._changed("settings", None, None)

    # -- files and rendering ----------------------------------------------------------

    def save(self, path: str) -> None:
        """Write the graph as a ``.mbx`` script (atomically)."""
        from mattebox.engine import script

        script.save(self, path)
        self.path = str(path)

    def to_dict(self, names: Iterable[str] | None = None) -> dict:
        """The script form of the graph (or of the named nodes only: a fragment)."""
        from mattebox.engine import script

        return script.to_dict(self, names)

    def render(
        self,
        node: Node | str,
        frame: float | None = None,
        backend: str = "auto",
        region: tuple[int, int, int, int] | None = None,
        proxy: int = 1,
        layers: Iterable[str] | str | None = None,
        stats=None,
    ) -> Image:
        """Render ``node`` at ``frame`` and return an :class:`~mattebox.engine.image.Image`
        with every layer (or the ``layers`` named; ``()`` for the main layer alone);
        ``proxy`` N > 1 renders at 1/N scale (a proxy render, see ``render.render``);
        ``stats`` (an ``mb.RenderStats``) records each node's time and cache use."""
        from mattebox.engine import render

        return render.render(
            self,
            self._resolve(node),
            frame=frame,
            backend=backend,
            region=region,
            proxy=proxy,
            layers=layers,
            stats=stats,
        )

    def execute(
        self,
        write_nodes: Iterable[Node | str] | None = None,
        frames=None,
        backend: str = "auto",
        progress=None,
    ) -> list[str]:
        """Render Write nodes (all when None) over ``frames``; returns the files written."""
        from mattebox.engine import render

        writes = [self._resolve(n) for n in write_nodes] if write_nodes else self.writes()
        return render.execute(self, writes, frames=frames, backend=backend, progress=progress)
