"""Groups and gizmos: sub-graphs with their own inputs, one output and exposed knobs.

A :class:`GroupNode` sits in a graph like any node. It holds an :class:`InnerGraph`
whose ``Input`` nodes are the group's inputs (the group's input ports are named after
them: ``Input1``, ``Mask``...) and whose ``Output`` node is its result. *Knobs* expose
inner parameters on the group under names of their own: ``group["strength"]`` reads and
sets (and animates) the inner parameter.

Rendering never sees a group: the evaluator resolves a group to what feeds its Output
and an Input to what feeds the group's input of that name, by reference
(:func:`flattened_input`). The planner therefore plans, fuses and caches the inner nodes
exactly as if they were not grouped: same passes, same hashes.

A *gizmo* is a group saved to a ``.mbx`` file with a ``gizmo`` header (its type name,
version, input order and knobs). Gizmos on the search path (:func:`search_path`) are
node types: ``graph.add("MyDespill")`` makes an instance, a group whose ``type`` is the
gizmo's name and whose ``version`` is the gizmo's. A script saves an instance with its
whole contents, so it loads unchanged whether or not the gizmo is installed, or newer
(``docs/scripts.md``, "Groups and gizmos").
"""

from __future__ import annotations

import copy
import json
import os
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mattebox.engine.graph import Graph, GraphError, Node
from mattebox.engine.passes import RenderError
from mattebox.nodes import spec as specs
from mattebox.nodes.spec import MASK_INPUT, ParamError

if TYPE_CHECKING:
    from collections.abc import Iterable

GROUP = "Group"
INPUT = "Input"
OUTPUT = "Output"
GIZMO_PATH_VARIABLE = "MATTEBOX_GIZMO_PATH"
GIZMO_SUFFIX = ".mbx"
ROW = 70.0  # the node editor's row spacing, for the Input and Output nodes grouping adds
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Knob:
    """A parameter of an inner node exposed on its group as ``name``."""

    name: str
    node: str
    param: str

    def to_json(self) -> dict:
        return {"name": self.name, "node": self.node, "param": self.param}


class InnerGraph(Graph):
    """The graph inside a group. Its settings and script path are those of the graph the
    group is in; its changes are also told to that graph (as a ``group`` event on the
    group node, detail ``(event, node, detail)``), so caches, the viewer and undo see
    edits made inside."""

    def __init__(self, owner: GroupNode):
        self.owner = owner
        super().__init__()

    @property
    def settings(self):
        return self.owner.graph.settings

    @settings.setter
    def settings(self, value) -> None:
        pass  # always the outer graph's

    @property
    def path(self) -> str | None:
        return self.owner.graph.path

    @path.setter
    def path(self, value) -> None:
        pass

    @property
    def root(self) -> Graph:
        return self.owner.graph.root

    def _changed(self, event: str, node: Node | None, detail: Any) -> None:
        self.revision += 1
        if event == "param" and node is not None:  # hot nodes live on the root, by path
            root, path = self.root, node.path
            root.hot_nodes = ([n for n in root.hot_nodes if n != path] + [path])[-4:]
        if node is not None and node.type == INPUT:
            self.owner._input_changed(event, node, detail)
        if event == "rename" and node is not None:
            self.owner._inner_renamed(detail, node.name)
        for callback in list(self._listeners):
            callback(event, node, detail)
        self.owner.graph._changed("group", self.owner, (event, node, detail))


class GroupNode(Node):
    """A group (or gizmo instance): a node holding an :class:`InnerGraph`.

    ``group["name"]`` reads or sets an exposed knob (the inner parameter); ``disable`` is
    the group's own (its first input passes through). ``group.inner`` is the inner graph,
    ``group.knobs`` the exposed knobs in order.
    """

    is_group = True

    def __init__(self, graph: Graph, name: str, type_name: str, spec):
        super().__init__(graph, name, type_name, spec or specs.get(GROUP))
        self.inner = InnerGraph(self)
        self.knobs: list[Knob] = []
        self.port_order: list[str] = []  # the order of the Input nodes, as saved

    # -- ports --------------------------------------------------------------------------

    @property
    def input_names(self) -> tuple[str, ...]:
        """The group's inputs: its Input nodes' names, in port order."""
        found = [n.name for n in self.inner if n.type == INPUT]
        ordered = [n for n in self.port_order if n in found]
        return tuple(ordered + [n for n in found if n not in ordered])

    @property
    def output_node(self) -> Node | None:
        """The inner Output node (None while there is none)."""
        return next((n for n in self.inner if n.type == OUTPUT), None)

    @property
    def is_gizmo(self) -> bool:
        """True for an instance of a gizmo (its type is the gizmo's name)."""
        return self.type != GROUP

    def _input_changed(self, event: str, node: Node, detail: Any) -> None:
        if event == "remove":
            if self.inputs.pop(node.name, None) is not None:
                self.graph._changed("input", self, node.name)
        elif event == "rename":
            self.port_order = [node.name if n == detail else n for n in self.port_order]
            if detail in self.inputs:
                self.inputs[node.name] = self.inputs.pop(detail)

    def _inner_renamed(self, old: str, new: str) -> None:
        self.knobs = [Knob(k.name, new, k.param) if k.node == old else k for k in self.knobs]

    # -- knobs --------------------------------------------------------------------------

    def knob(self, name: str) -> Knob | None:
        """The exposed knob called ``name``, or None."""
        return next((k for k in self.knobs if k.name == name), None)

    def expose(
        self, node: Node | str, param: str, name: str | None = None, notify: bool = True
    ) -> Knob:
        """Expose ``param`` of inner ``node`` on the group as ``name`` (default: the
        parameter's name). Returns the :class:`Knob`. (``notify=False``: loading.)"""
        inner = self.inner._resolve(node)
        inner._param(param)  # an unknown parameter: GraphError naming it
        name = param if name is None else name
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise GraphError(f"{self.name}: {name!r} is not a valid knob name (letters, digits, _)")
        if name in self.spec.param_names() or self.knob(name) is not None:
            raise GraphError(f"{self.name}: a knob named {name!r} already exists")
        knob = Knob(name, inner.name, param)
        self.knobs.append(knob)
        if notify:
            self.graph._changed("param", self, name)
        return knob

    def unexpose(self, name: str) -> None:
        """Remove the knob ``name`` (the inner parameter keeps its value)."""
        knob = self.knob(name)
        if knob is None:
            raise GraphError(f"{self.name}: no knob named {name!r}")
        self.knobs.remove(knob)
        self.graph._changed("param", self, name)

    def knob_target(self, name: str) -> tuple[Node, str]:
        """The inner node and parameter behind knob ``name``."""
        knob = self.knob(name)
        if knob is None:
            raise GraphError(f"{self.name}: no knob named {name!r}")
        if knob.node not in self.inner:
            raise GraphError(
                f"{self.name}.{name}: exposes {knob.node}.{knob.param}, "
                f"but {knob.node} is no longer in the group"
            )
        return self.inner[knob.node], knob.param

    def knob_param(self, name: str) -> specs.Param:
        """The declaration of knob ``name``: the inner parameter's, under the knob's name."""
        node, inner_param = self.knob_target(name)
        declared = node._param(inner_param)
        return replace(declared, name=name, doc=f"{declared.doc} ({node.name}.{inner_param})")

    def params(self) -> list[specs.Param]:
        """What the properties panel shows: the knobs (those still in the group), in
        order, then the group's own parameters (``disable``)."""
        live = [k.name for k in self.knobs if k.node in self.inner]
        return [self.knob_param(k) for k in live] + list(self.spec.params)

    def _param(self, param: str) -> specs.Param:
        if self.knob(param) is not None:
            node, inner_param = self.knob_target(param)
            return node._param(inner_param)
        if param in self.spec.param_names():
            return self.spec.param(param)
        names = ", ".join([k.name for k in self.knobs] + list(self.spec.param_names()))
        raise GraphError(f"{self.name}.{param}: {self.type} has no such knob (it has {names})")

    def __getitem__(self, param: str) -> Any:
        if self.knob(param) is not None:
            node, inner_param = self.knob_target(param)
            return node[inner_param]
        return super().__getitem__(param)

    def __setitem__(self, param: str, value: Any) -> None:
        if self.knob(param) is not None:
            node, inner_param = self.knob_target(param)
            try:
                node[inner_param] = value
            except GraphError as error:  # "Grade1.gain: ..." -> "Despill1.strength: ..."
                raise GraphError(f"{self.name}.{param}: {str(error).split(': ', 1)[-1]}") from None
            return
        self._param(param)
        super().__setitem__(param, value)

    # -- gizmos -------------------------------------------------------------------------

    def save_gizmo(
        self, path: str | os.PathLike, version: int | None = None, doc: str = ""
    ) -> Path:
        """Write this group as a gizmo file: its node type is the file's stem
        (``MyDespill.mbx`` -> ``MyDespill``), ``version`` defaults to this instance's
        when it is one of that gizmo, else 1. Returns the path written."""
        from mattebox.engine import script

        path = Path(path)
        if path.suffix != GIZMO_SUFFIX:
            path = path.with_name(path.name + GIZMO_SUFFIX)
        type_name = path.stem
        _check_gizmo_name(type_name, f"{self.name}: gizmo")
        if version is None:
            version = self.version if self.type == type_name else 1
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise GraphError(f"{self.name}: gizmo version must be a whole number >= 1")
        data = script.to_dict(self.inner)
        header = {"type": type_name, "version": version}
        header.update(_block_extras(self))
        if doc:
            header["doc"] = doc
        data["gizmo"] = header
        script.write_atomic(path, script.dumps(data))
        return path

    def update_gizmo(self) -> None:
        """Replace the contents of this gizmo instance by the installed gizmo's (its
        current version), keeping the values of knobs of the same name and the links of
        inputs of the same name. Edits made inside the instance are lost."""
        gizmo = find_gizmo(self.type) if self.is_gizmo else None
        if gizmo is None:
            raise GraphError(f"{self.name}: gizmo {self.type!r} is not installed")
        kept = {k.name: self[k.name] for k in self.knobs if k.node in self.inner}
        fresh = Graph()
        fresh.settings = self.graph.settings
        made = add(fresh, self.type, name=self.name)
        links = dict(self.inputs)
        for name in list(self.inner.nodes):
            self.inner.remove(name)
        self.inner.ui = made.inner.ui
        _move_nodes(made.inner, self.inner)
        self.knobs, self.port_order, self.version = made.knobs, made.port_order, made.version
        self.inputs = {k: v for k, v in links.items() if k in self.input_names}
        for name, value in kept.items():
            if self.knob(name) is not None:
                try:
                    self[name] = value
                except GraphError:
                    pass  # the new version's knob takes other values: its default stays
        self.graph._changed("input", self, None)


def _move_nodes(source: Graph, target: Graph) -> None:
    """Move every node of ``source`` into the empty ``target`` (the same objects)."""
    for name, node in list(source.nodes.items()):
        node.graph = target
        target.nodes[name] = node
        target._changed("add", node, None)
    source.nodes.clear()


def _block_extras(group: GroupNode) -> dict:
    """The ``inputs`` (port order) and ``knobs`` of a group's script block, where any."""
    out: dict = {}
    if group.input_names:
        out["inputs"] = list(group.input_names)
    knobs = [k.to_json() for k in group.knobs if k.node in group.inner]
    if knobs:
        out["knobs"] = knobs
    return out


# --------------------------------------------------------------------------- rendering


def flattened_input(node: Node) -> Node | None:
    """What a group, or an Input node inside one, stands for when rendering: the node
    feeding the group's Output (a disabled group: its first input), or the node
    connected to the group's input named like the Input node (None: nothing there,
    rendered as black). Raises RenderError naming the node where it cannot."""
    if node.is_group:
        if node.values.get("disable"):
            ports = node.input_names
            return node.input(ports[0]) if ports else None
        output = node.output_node
        if output is None:
            raise RenderError(node.path, "has no Output node inside")
        upstream = output.input("Source")
        if upstream is None:
            raise RenderError(node.path, f"nothing connected to {output.name} inside")
        return upstream
    owner = node.graph.owner
    if owner is None:
        raise RenderError(node.path, "an Input node works only inside a group")
    return owner.input(node.name)


def copy_node(node: GroupNode, graph: Graph) -> GroupNode:
    """A copy of group ``node`` in ``graph`` for rendering elsewhere (the viewer's
    snapshot): inner nodes, values and links copied, values shared (they are replaced on
    edit, never changed in place); ``ui`` not copied."""
    twin = GroupNode(graph, node.name, node.type, node.spec)
    twin.values, twin.inputs, twin.version = dict(node.values), dict(node.inputs), node.version
    twin.knobs, twin.port_order = list(node.knobs), list(node.port_order)
    for name, inner in list(node.inner.nodes.items()):
        if inner.is_group:
            twin.inner.nodes[name] = copy_node(inner, twin.inner)
            continue
        other = Node(twin.inner, name, inner.type, inner.spec)
        other.values, other.inputs = dict(inner.values), dict(inner.inputs)
        other.version, other.raw = inner.version, inner.raw
        twin.inner.nodes[name] = other
    return twin


# --------------------------------------------------------------------------- grouping


def new_block() -> dict:
    """The script block of a new, empty group: ``Input1`` wired to ``Output1``."""
    return {
        "inputs": ["Input1"],
        "nodes": {
            "Input1": {"type": INPUT, "version": 1, "params": {}, "inputs": {}},
            "Output1": {"type": OUTPUT, "version": 1, "params": {}, "inputs": {"Source": "Input1"}},
        },
        "ui": {"nodes": {"Input1": {"pos": [0.0, 0.0]}, "Output1": {"pos": [0.0, 2 * ROW]}}},
    }


def add(
    graph: Graph,
    type_name: str,
    name: str | None = None,
    inputs: dict | None = None,
    params: dict | None = None,
) -> GroupNode | None:
    """A new group (``type_name`` "Group") or gizmo instance in ``graph``; None where
    ``type_name`` names no installed gizmo. ``params`` sets knobs, ``inputs`` links."""
    if type_name == GROUP:
        version, block = specs.get(GROUP).version, new_block()
    else:
        gizmo = find_gizmo(type_name)
        if gizmo is None:
            return None
        version, block = gizmo.version, gizmo.block()
    name = graph.unique_name(type_name) if name is None else name
    entry = {"type": type_name, "version": version, "group": block}
    from mattebox.engine.script import ScriptError

    try:
        node = load_entry(graph, name, entry, "", check_gizmo=False)
    except ScriptError as error:  # "<where>: message" -> the message
        raise GraphError(str(error).split(": ", 1)[-1]) from None
    try:
        for key, value in (params or {}).items():
            node[key] = value
        for input_name, upstream in (inputs or {}).items():
            node.set_input(input_name, upstream)
    except GraphError:
        graph.remove(node)
        raise
    return node


def collapse(graph: Graph, nodes: Iterable[Node | str], name: str | None = None) -> GroupNode:
    """Move ``nodes`` into a new group in their place (``graph.group``).

    Links from outside become the group's inputs: one ``Input`` per upstream node
    (named ``Mask`` where it feeds only masks, else ``Input1``, ``Input2``...); the one
    selected node read from outside (else the last one nothing selected reads) feeds the
    ``Output``, and what read it reads the group. Positions move inside; the group takes
    the place of their centre.
    """
    members = {graph._resolve(n).name for n in nodes}
    if not members:
        raise GraphError("group: no nodes given")
    names = [n for n in graph.nodes if n in members]
    for member in names:
        if graph[member].type in ("Write", INPUT, OUTPUT):
            raise GraphError(f"{member}: a {graph[member].type} node cannot go into a group")
    if name is not None and name in graph.nodes and name not in members:
        raise GraphError(f"a node named {name!r} already exists")
    outward = [m for m in names if any(c.name not in members for c, _ in graph.consumers(m))]
    if len(outward) > 1:
        raise GraphError(
            f"group: {', '.join(outward)} are all read from outside the selection; "
            "a group has one output"
        )
    if outward:
        last = outward[0]
    else:  # nothing outside reads them: the last node no selected node reads
        read = {u for m in names for u in graph[m].inputs.values()}
        last = [m for m in names if m not in read][-1]
    readers = [(c.name, i) for c, i in graph.consumers(last) if c.name not in members]
    ports, links = _ports(graph, names, members)
    fragment = _nodes_only(graph.to_dict(names))
    positions = [graph.ui.get("nodes", {}).get(m, {}).get("pos") for m in names]
    positions = [p for p in positions if p]
    for member in names:
        graph.remove(member)
    group = graph._insert(GROUP, specs.get(GROUP), name or graph.unique_name(GROUP), GroupNode)
    from mattebox.engine import script

    script.from_dict(fragment, f"{group.name} (grouping)", graph=group.inner)
    inner = group.inner
    for upstream, port in ports.items():
        inner._insert(INPUT, specs.get(INPUT), port)
    group.port_order = list(ports.values())
    for member, input_name, upstream in links:
        inner[member].set_input(input_name, ports[upstream])
    output = inner.add(OUTPUT, name=_free(OUTPUT + "1", inner), inputs={"Source": last})
    _place(inner, ports, links, last, output.name)
    for upstream, port in ports.items():
        group.set_input(port, upstream)
    for reader, input_name in readers:
        graph[reader].set_input(input_name, group)
    if positions:
        centre = [round(sum(p[k] for p in positions) / len(positions), 2) for k in (0, 1)]
        graph.ui.setdefault("nodes", {})[group.name] = {"pos": centre}
    return group


def _ports(graph: Graph, names: list[str], members: set[str]):
    """The group's inputs: ``{outside upstream: port name}`` and the links that become
    Input links, ``(member, input name, outside upstream)``."""
    uses: dict[str, list[str]] = {}
    links = []
    for member in names:
        node = graph[member]
        for input_name in node.input_names:
            upstream = node.inputs.get(input_name)
            if upstream is not None and upstream not in members:
                uses.setdefault(upstream, []).append(input_name)
                links.append((member, input_name, upstream))
    taken = set(members)
    ports = {}
    count = 0
    for upstream, input_names in uses.items():
        if all(i == MASK_INPUT for i in input_names):
            port = _free(MASK_INPUT, taken)
        else:
            count += 1
            port = _free(f"{INPUT}{count}", taken)
        taken.add(port)
        ports[upstream] = port
    return ports, links


def _free(name: str, taken) -> str:
    """``name``, or with a number after it, not in ``taken``."""
    base = name.rstrip("0123456789") or name
    index = int(name[len(base) :] or 1)
    candidate = name
    while candidate in taken:
        index += 1
        candidate = f"{base}{index}"
    return candidate


def _place(inner: Graph, ports: dict, links: list, last: str, output: str) -> None:
    """Positions for the Input and Output nodes grouping added: above the first node
    each feeds, and below the output node."""
    spots = inner.ui.setdefault("nodes", {})
    for upstream, port in ports.items():
        reader = next(m for m, _, u in links if u == upstream)
        x, y = spots.get(reader, {}).get("pos", (0.0, 0.0))
        taken = sum(
            1 for p in ports.values() if spots.get(p, {}).get("pos", (None, None))[1] == y - ROW
        )
        spots[port] = {"pos": [round(x + taken * 130.0, 2), round(y - ROW, 2)]}
    x, y = spots.get(last, {}).get("pos", (0.0, 0.0))
    spots[output] = {"pos": [x, round(y + ROW, 2)]}


def ungroup(graph: Graph, group: GroupNode | str) -> list[Node]:
    """Put a group's inner nodes back in its place (``graph.ungroup``); returns them.

    Inner nodes keep their names where free (else they are numbered on), what fed the
    group's inputs feeds what read its Input nodes, and what read the group reads what
    fed its Output. Positions are moved so that their centre is the group's place.
    """
    group = graph._resolve(group)
    if not group.is_group:
        raise GraphError(f"{group.name} is not a group")
    inner = group.inner
    moving = [n.name for n in inner if n.type not in (INPUT, OUTPUT)]
    fed = {port: group.inputs.get(port) for port in group.input_names}
    output = group.output_node
    result = output.inputs.get("Source") if output is not None else None
    fragment = _nodes_only(inner.to_dict(moving))
    taken = set(graph.nodes) - {group.name}
    renames = {}
    for member in moving:
        renames[member] = _free(member, taken) if member in taken else member
        taken.add(renames[member])
    fragment = _renamed(fragment, renames)
    _recentre(fragment, graph.ui.get("nodes", {}).get(group.name, {}).get("pos"))
    links = [
        (renames[m], i, fed.get(u)) for m in moving for i, u in inner[m].inputs.items() if u in fed
    ]
    readers = [(c.name, i) for c, i in graph.consumers(group)]
    graph.remove(group)
    from mattebox.engine import script

    script.from_dict(fragment, f"{group.name} (ungrouping)", graph=graph)
    for member, input_name, upstream in links:
        if upstream is not None:
            graph[member].set_input(input_name, upstream)
    target = fed.get(result) if result in fed else renames.get(result)
    for reader, input_name in readers:
        graph[reader].set_input(input_name, target)
    return [graph[renames[m]] for m in moving]


def _nodes_only(fragment: dict) -> dict:
    """A fragment without the ``ui`` of its graph (viewer, backdrops...): only the
    positions of its nodes go along."""
    fragment["ui"] = {"nodes": fragment.get("ui", {}).get("nodes", {})}
    return fragment


def _renamed(fragment: dict, renames: dict[str, str]) -> dict:
    """A script fragment with its nodes renamed (links and positions follow)."""
    out = copy.deepcopy(fragment)
    out["nodes"] = {renames.get(k, k): v for k, v in out["nodes"].items()}
    for entry in out["nodes"].values():
        entry["inputs"] = {i: renames.get(u, u) for i, u in entry.get("inputs", {}).items()}
    ui_nodes = out.get("ui", {}).get("nodes")
    if ui_nodes:
        out["ui"]["nodes"] = {renames.get(k, k): v for k, v in ui_nodes.items()}
    return out


def _recentre(fragment: dict, centre) -> None:
    spots = [e["pos"] for e in fragment.get("ui", {}).get("nodes", {}).values() if "pos" in e]
    if not spots or not centre:
        return
    mean = [sum(p[k] for p in spots) / len(spots) for k in (0, 1)]
    for entry in fragment["ui"]["nodes"].values():
        if "pos" in entry:
            entry["pos"] = [round(entry["pos"][k] - mean[k] + centre[k], 2) for k in (0, 1)]


# --------------------------------------------------------------------------- script form


def to_entry(node: GroupNode, selected: set[str] | list[str]) -> dict:
    """The script entry of a group: type, version, its own parameters, links to the
    selected nodes and the ``group`` block (inner nodes, ``ui``, port order, knobs)."""
    inner = node.inner.to_dict()
    block = {"nodes": inner["nodes"]}
    ui = {k: v for k, v in inner["ui"].items() if v or k != "nodes"}
    if ui:
        block["ui"] = ui
    block.update(_block_extras(node))
    return {
        "type": node.type,
        "version": node.version,
        "params": {k: node.spec.param(k).to_json(v) for k, v in node.values.items()},
        "inputs": {k: v for k, v in node.inputs.items() if v in selected},
        "group": block,
    }


def load_entry(
    graph: Graph, name: str, entry: dict, source: str, check_gizmo: bool = True
) -> GroupNode:
    """Build the group of a script entry (``type``, ``version``, ``params``, ``group``)
    in ``graph``, its inputs not linked yet. Raises ScriptError naming the group and the
    inner node or key."""
    from mattebox.engine.script import FORMAT_VERSION, ScriptError, ScriptWarning, from_dict

    where = f"{source}: {name}"
    type_name, version = entry["type"], entry.get("version", 1)
    block = entry.get("group")
    if not isinstance(block, dict):
        raise ScriptError(f"{where}.group: expected an object with the group's nodes")
    unknown = sorted(set(block) - {"nodes", "ui", "inputs", "knobs"})
    if unknown:
        raise ScriptError(f"{where}.group.{unknown[0]}: not a key of a group")
    if type_name != GROUP:
        _check_gizmo_name(type_name, f"{where}.type", ScriptError)
    try:
        node = graph._insert(type_name, specs.get(GROUP), name, GroupNode)
    except GraphError as error:
        raise ScriptError(f"{source}: {error}") from None
    node.version = version
    params = entry.get("params", {})
    if not isinstance(params, dict):
        raise ScriptError(f"{where}.params: expected an object")
    for key, value in params.items():
        if key not in node.spec.param_names():
            raise ScriptError(
                f"{where}.{key}: a group has no such parameter (its knobs are "
                "saved in its inner nodes)"
            )
        try:
            node.values[key] = node.spec.param(key).coerce(value)
        except ParamError as error:
            raise ScriptError(f"{where}.{error}") from None
    inner = {"mattebox": {"format": FORMAT_VERSION}, "nodes": block.get("nodes", {})}
    if "ui" in block:
        inner["ui"] = block["ui"]
    from_dict(inner, where, graph=node.inner)
    outputs = [n.name for n in node.inner if n.type == OUTPUT]
    if len(outputs) > 1:
        raise ScriptError(f"{where}.group: more than one Output node ({', '.join(outputs)})")
    _load_ports(node, block.get("inputs", []), where, ScriptError)
    _load_knobs(node, block.get("knobs", []), where, ScriptError)
    if check_gizmo and type_name != GROUP:
        _warn_gizmo_version(node, where, ScriptWarning)
    return node


def _load_ports(node: GroupNode, ports: Any, where: str, error) -> None:
    if not isinstance(ports, list):
        raise error(f"{where}.group.inputs: expected a list of Input node names")
    for port in ports:
        if not isinstance(port, str) or port not in node.inner or node.inner[port].type != INPUT:
            raise error(f"{where}.group.inputs: {port!r} is not an Input node in the group")
    if len(set(ports)) != len(ports):
        raise error(f"{where}.group.inputs: a name is listed twice")
    node.port_order = list(ports)


def _load_knobs(node: GroupNode, knobs: Any, where: str, error) -> None:
    if not isinstance(knobs, list):
        raise error(f"{where}.group.knobs: expected a list of knobs")
    for index, raw in enumerate(knobs):
        at = f"{where}.group.knobs[{index}]"
        if not isinstance(raw, dict) or set(raw) != {"name", "node", "param"}:
            raise error(f"{at}: expected an object with name, node and param")
        if not all(isinstance(raw[k], str) for k in raw):
            raise error(f"{at}: name, node and param are text")
        if raw["node"] not in node.inner:
            raise error(f"{at}: no node named {raw['node']!r} in the group")
        try:
            node.expose(raw["node"], raw["param"], raw["name"], notify=False)
        except GraphError as failure:
            message = str(failure).removeprefix(f"{node.name}: ")
            raise error(f"{at}: {message}") from None


def _warn_gizmo_version(node: GroupNode, where: str, warning) -> None:
    gizmo = find_gizmo(node.type)
    if gizmo is None:
        message = f"gizmo {node.type!r} is not installed; its saved contents are used"
    elif gizmo.version > node.version:
        message = (
            f"gizmo {node.type} v{gizmo.version} is installed, the script saved "
            f"v{node.version}: the saved contents are used (update_gizmo() takes v{gizmo.version})"
        )
    elif gizmo.version < node.version:
        message = (
            f"saved by a newer gizmo {node.type} (v{node.version}) than the one "
            f"installed (v{gizmo.version}): the saved contents are used"
        )
    else:
        return
    warnings.warn(f"{where}: {message}", warning, 3)


# --------------------------------------------------------------------------- gizmo files


@dataclass(frozen=True)
class Gizmo:
    """A gizmo found on the search path: its node type, version, file and doc line."""

    type_name: str
    version: int
    path: Path
    doc: str
    data: dict

    def block(self) -> dict:
        """The script block of a new instance (a copy)."""
        header = self.data["gizmo"]
        block = {"nodes": copy.deepcopy(self.data.get("nodes", {}))}
        for key in ("ui", "inputs", "knobs"):
            source = self.data if key == "ui" else header
            if key in source:
                block[key] = copy.deepcopy(source[key])
        return block


def search_path() -> list[Path]:
    """Folders searched for gizmos, first match wins: ``$MATTEBOX_GIZMO_PATH``
    (os.pathsep-separated), then ``gizmos`` in the user's config folder
    (``$XDG_CONFIG_HOME/mattebox/gizmos``, by default ``~/.config/mattebox/gizmos``)."""
    folders = [
        Path(os.path.expandvars(p)).expanduser()
        for p in os.environ.get(GIZMO_PATH_VARIABLE, "").split(os.pathsep)
        if p
    ]
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    folders.append(Path(config) / "mattebox" / "gizmos")
    return folders


def gizmos() -> dict[str, Gizmo]:
    """The gizmos on the search path by type name. A file that is not a gizmo, or whose
    type clashes with a built-in node type, is skipped with a warning."""
    from mattebox.engine.script import ScriptWarning

    found: dict[str, Gizmo] = {}
    builtin = specs.registry()
    for folder in search_path():
        try:
            files = sorted(p for p in folder.iterdir() if p.suffix == GIZMO_SUFFIX)
        except OSError:
            continue  # a folder that does not exist (yet): nothing there
        for path in files:
            try:
                gizmo = read_gizmo(path)
            except GraphError as error:
                warnings.warn(str(error), ScriptWarning, 2)
                continue
            if gizmo.type_name in builtin or gizmo.type_name == GROUP:
                warnings.warn(
                    f"{path}: gizmo type {gizmo.type_name!r} is a built-in node "
                    "type's name; skipped",
                    ScriptWarning,
                    2,
                )
                continue
            found.setdefault(gizmo.type_name, gizmo)
    return found


def find_gizmo(type_name: str) -> Gizmo | None:
    """The gizmo of that type name on the search path, or None."""
    return gizmos().get(type_name)


def read_gizmo(path: str | os.PathLike) -> Gizmo:
    """Read a gizmo file's header (raises GraphError naming the file)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GraphError(f"{path}: not a readable gizmo ({error})") from None
    header = data.get("gizmo") if isinstance(data, dict) else None
    if not isinstance(header, dict):
        raise GraphError(f"{path}: no gizmo header (a plain script?)")
    type_name, version = header.get("type"), header.get("version")
    _check_gizmo_name(type_name, f"{path}: gizmo.type")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise GraphError(f"{path}: gizmo.version: expected a whole number >= 1, got {version!r}")
    doc = header.get("doc", "")
    return Gizmo(type_name, version, path, doc if isinstance(doc, str) else "", data)


def _check_gizmo_name(name: Any, where: str, error=GraphError) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise error(f"{where}: {name!r} is not a valid gizmo type name (letters, digits, _)")
