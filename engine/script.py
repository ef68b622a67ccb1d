"""``.mbx`` script files: JSON, sorted keys, two-space indent (ARCHITECTURE.md).

Loading validates everything and raises :class:`ScriptError` with one line naming the node
and key. Unknown node types load as placeholders that keep their data. Saving is atomic.
A script is data: loading one runs nothing from it.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mattebox.engine import group, tempfiles
from mattebox.engine.graph import Graph, GraphError, Settings
from mattebox.nodes import limits
from mattebox.nodes import spec as specs
from mattebox.nodes.spec import Format, ParamError

FORMAT_VERSION = 2
APP_VERSION = "0.1.0"


class ScriptError(ValueError):
    """A script that cannot be loaded; the message names the file, node and key."""


class ScriptWarning(UserWarning):
    """Something in a script was kept but cannot run (e.g. an unknown node type)."""


# --------------------------------------------------------------------------- saving


def to_dict(graph: Graph, names: Iterable[str] | None = None) -> dict:
    """The script form of ``graph`` (only the nodes in ``names`` for a fragment)."""
    selected = list(graph.nodes) if names is None else [n for n in names if n in graph.nodes]
    nodes = {}
    for name in selected:
        node = graph.nodes[name]
        if node.is_placeholder:
            nodes[name] = dict(node.raw)
            continue
        if node.is_group:  # its inside nested in its entry (engine/group.py)
            nodes[name] = group.to_entry(node, selected)
            continue
        params = {key: _saved(node, key, value) for key, value in node.values.items()}
        inputs = {k: v for k, v in node.inputs.items() if v in selected}
        nodes[name] = {
            "type": node.type,
            "version": node.version,
            "params": params,
            "inputs": inputs,
        }
    data = {
        "mattebox": {"format": FORMAT_VERSION, "app_version": APP_VERSION},
        "settings": _settings_to_dict(graph.settings),
        "nodes": nodes,
        "ui": _ui_for(graph.ui, selected),
    }
    return data


def _saved(node, key: str, value: Any) -> Any:
    """A value as written to a script; ScriptError for one a script cannot hold (an
    ArrayRead's array lives only in the Python process)."""
    param = node.spec.param(key)
    if not param.savable:
        raise ScriptError(
            f"{node.path}.{key}: holds {value!r} from Python, which a script cannot store; "
            f"set {node.path}['{key}'] = None before saving, or write the pixels to a file "
            "and read that"
        )
    return param.to_json(value)


def _ui_for(ui: dict, selected: list[str]) -> dict:
    out = {k: v for k, v in ui.items() if k != "nodes"}
    if "nodes" in ui:
        out["nodes"] = {k: v for k, v in ui["nodes"].items() if k in selected}
    return json.loads(json.dumps(out))


def _settings_to_dict(settings: Settings) -> dict:
    from mattebox.engine import color

    config = color.resolve_config_uri(settings.ocio_config)
    ocio = {"config": config}
    if settings.working_space:
        ocio["working_space"] = settings.working_space
    return {
        "frame_range": list(settings.frame_range),
        "fps": settings.fps,
        "format": {
            "width": settings.format.width,
            "height": settings.format.height,
            "pixel_aspect": settings.format.pixel_aspect,
        },
        "ocio": ocio,
    }


def dumps(data: dict) -> str:
    """Serialize script data the one way scripts are written (diff-friendly)."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def save(graph: Graph, path: str | os.PathLike) -> None:
    """Write ``graph`` to ``path`` atomically: a temporary file, then a rename.

    Relative file paths are relative to the script's folder. A graph saved into another
    folder than the one its paths were relative to (its previous script's, or the current
    folder for a graph never saved) has them rewritten, so they keep naming the same files.
    """
    new_dir = os.path.dirname(os.path.abspath(path))
    old_dir = os.path.dirname(os.path.abspath(graph.path)) if graph.path else os.getcwd()
    if new_dir != old_dir:
        rebase_file_paths(graph, old_dir, new_dir)
    write_atomic(Path(path), dumps(to_dict(graph)))


def rebase_file_paths(graph: Graph, old_dir: str, new_dir: str) -> None:
    """Rewrite relative file parameters from ``old_dir`` to ``new_dir`` (made absolute
    where the two share nothing but the filesystem root)."""
    for node in graph.nodes.values():
        if node.is_placeholder:
            continue
        for param in node.spec.params:
            value = node.values.get(param.name)
            if param.type != "file" or not isinstance(value, str) or not value:
                continue
            if os.path.isabs(value) or value.startswith(("~", "$")):
                continue
            target = os.path.normpath(os.path.join(old_dir, value))
            if os.path.commonpath([target, new_dir]) == os.path.sep:
                moved = target  # nothing shared but the root: an absolute path reads better
            else:
                moved = os.path.relpath(target, new_dir)
            node.values[param.name] = moved.replace(os.sep, "/")


def write_atomic(path: Path, text: str) -> None:
    """Write text to ``path`` through a hidden temporary file in the same folder (created
    under the umask, fsynced, renamed over ``path``; removed on any failure). Hidden
    temporary files of earlier saves older than a day are removed first
    (``engine/tempfiles.py``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tempfiles.remove_stale(path.parent, tempfiles.SCRIPT_TEMPORARY)
    fd, tmp = tempfiles.create(path.parent, lambda: tempfiles.script_temporary_name(path.name))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------- loading


def load(path: str | os.PathLike) -> Graph:
    """Read a ``.mbx`` script; raise :class:`ScriptError` on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScriptError(f"{path}: no such script") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScriptError(f"{path}: cannot read ({error})") from None
    graph = loads(text, source=str(path))
    graph.path = str(path)
    return graph


def loads(text: str, source: str = "<script>") -> Graph:
    """Build a graph from script text (``source`` names it in errors)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScriptError(
            f"{source}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:  # the parser recurses per level: thousands of [ or {
        raise ScriptError(
            f"{source}: not a script (values nested deeper than {MAX_NESTING} levels)"
        ) from None
    return from_dict(data, source)


#: How deep lists and objects may nest in a script. A node needs 7 (nodes, the node,
#: params, an animated value, keys, a key, a value), each group around it a few more;
#: a hundred leaves room for groups nested twenty deep and keeps every later walk of
#: the data (copies, the ui) far from Python's recursion limit.
MAX_NESTING = 100


def _check_nesting(data: Any, source: str) -> None:
    """Refuse data nested deeper than :data:`MAX_NESTING`, naming where, before anything
    walks it recursively (copies of placeholders, the ui)."""
    stack = [(data, 0, "")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, dict):
            items = [(str(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            items = [(str(i), v) for i, v in enumerate(value)]
        else:
            continue
        if depth >= MAX_NESTING:
            where = where if len(where) <= 40 else f"{where[:37]}..."
            raise ScriptError(
                f"{source}: {where or 'script'}: values nested deeper than {MAX_NESTING} levels"
            )
        stack += [(v, depth + 1, f"{where}.{k}" if where else k) for k, v in items]


def from_dict(data: Any, source: str = "<script>", graph: Graph | None = None) -> Graph:
    """Build (or, with ``graph``, add to) a graph from parsed script data."""
    if not isinstance(data, dict):
        raise ScriptError(f"{source}: a script is a JSON object, got {type(data).__name__}")
    _check_nesting(data, source)
    header = data.get("mattebox")
    if not isinstance(header, dict) or not isinstance(header.get("format"), int):
        raise ScriptError(f"{source}: mattebox.format: missing (not a Mattebox script?)")
    if header["format"] > FORMAT_VERSION:
        raise ScriptError(
            f"{source}: mattebox.format: version {header['format']} is newer than this Mattebox "
            f"understands ({FORMAT_VERSION}); upgrade Mattebox"
        )
    data = upgrade_format(data, header["format"])
    settings = None if graph is not None else _settings_from(data.get("settings", {}), source)
    target = graph if graph is not None else Graph(settings)
    nodes = data.get("nodes", {})
    if not isinstance(nodes, dict):
        raise ScriptError(f"{source}: nodes: expected an object of named nodes")
    created = {}
    for name, entry in nodes.items():
        created[name] = _load_node(target, name, entry, source)
    for name, entry in nodes.items():
        _link_inputs(target, created[name], entry, source)
    _check_acyclic(created, source)
    ui = data.get("ui", {})
    if isinstance(ui, dict):
        _merge_ui(target, ui, created)
    return target


def upgrade_format(data: dict, version: int) -> dict:
    """Bring script data of an older format version up to :data:`FORMAT_VERSION`.

    Format 2 (layers, channels, masks and disable) changed no key of format 1: what
    changed is per node (Shuffle's mapping), and each node type's ``upgrade`` does it
    from the node's own version. Later formats add their steps here.
    """
    return data


def _settings_from(raw: Any, source: str) -> Settings:
    """Script settings, each value checked for its type and limits (``nodes/limits.py``):
    a bad one is a ScriptError naming the key, never a Python or library message."""
    if not isinstance(raw, dict):
        raise ScriptError(f"{source}: settings: expected an object")
    settings = Settings()
    if "frame_range" in raw:
        where = f"{source}: settings.frame_range"
        pair = raw["frame_range"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise ScriptError(f"{where}: expected [first, last], got {_shown(pair)}")
        first, last = (_whole(where, value, limits.MAX_INT) for value in pair)
        if last < first:
            raise ScriptError(f"{where}: the last frame ({last}) is before the first ({first})")
        settings.frame_range = (first, last)
    if "fps" in raw:
        settings.fps = _positive(f"{source}: settings.fps", raw["fps"], MAX_FPS)
    if "format" in raw:
        settings.format = _format_from(raw["format"], f"{source}: settings.format")
    ocio = raw.get("ocio", {})
    if not isinstance(ocio, dict):
        raise ScriptError(f"{source}: settings.ocio: expected an object, got {_shown(ocio)}")
    settings.ocio_config = _text_or_none(f"{source}: settings.ocio.config", ocio.get("config"))
    settings.working_space = _text_or_none(
        f"{source}: settings.ocio.working_space", ocio.get("working_space")
    )
    return settings


#: The highest frame rate a script may give (the settings dialog's too).
MAX_FPS = 1000.0
#: The range of a format's pixel aspect ratio.
PIXEL_ASPECT_RANGE = (0.01, 100.0)


def _format_from(fmt: Any, where: str) -> Format:
    if not isinstance(fmt, dict) or "width" not in fmt or "height" not in fmt:
        raise ScriptError(f"{where}: expected an object with width and height, got {_shown(fmt)}")
    width = _whole(f"{where}.width", fmt["width"], limits.MAX_IMAGE_SIZE, low=1)
    height = _whole(f"{where}.height", fmt["height"], limits.MAX_IMAGE_SIZE, low=1)
    aspect = _positive(f"{where}.pixel_aspect", fmt.get("pixel_aspect", 1.0), 100.0)
    if aspect < PIXEL_ASPECT_RANGE[0]:
        raise ScriptError(f"{where}.pixel_aspect: {aspect:g} is below {PIXEL_ASPECT_RANGE[0]:g}")
    return Format(width, height, aspect)


def _shown(value: Any) -> str:
    """A value as an error shows it: its repr cut to one short line."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(where: str, value: Any, high: int, low: int | None = None) -> int:
    """``value`` as a whole number in ``[low, high]`` (``low`` None: ``-high``)."""
    low = -high if low is None else low
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise ScriptError(f"{where}: expected a whole number, got {_shown(value)}")
    if value != int(value):
        raise ScriptError(f"{where}: expected a whole number, got {_shown(value)}")
    if not low <= value <= high:
        raise ScriptError(f"{where}: {_shown(value)} is outside {low} .. {high}")
    return int(value)


def _positive(where: str, value: Any, high: float) -> float:
    """``value`` as a finite number in ``(0, high]``."""
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise ScriptError(f"{where}: expected a positive number, got {_shown(value)}")
    if not 0 < value <= high:
        raise ScriptError(f"{where}: {_shown(value)} is outside (0, {high:g}]")
    return float(value)


def _text_or_none(where: str, value: Any) -> str | None:
    """A text setting (absent or null: None); NUL characters are refused (no file name
    or colour space has them, and the libraries would cut the text there or fail)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScriptError(f"{where}: expected text, got {_shown(value)}")
    if "\0" in value:
        raise ScriptError(f"{where}: contains a NUL character")
    return value


def _load_node(graph: Graph, name: str, entry: Any, source: str):
    where = f"{source}: {name}"
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise ScriptError(f"{where}.type: missing or not text")
    type_name = entry["type"]
    version = entry.get("version", 1)
    if not isinstance(version, int):
        raise ScriptError(f"{where}.version: expected a whole number, got {version!r}")
    newer = type_name == group.GROUP and version > specs.get(group.GROUP).version
    if "group" in entry and not newer:
        return group.load_entry(graph, name, entry, source)  # a group or gizmo instance
    try:
        spec = specs.get(type_name)
    except KeyError:
        spec = None
    if spec is None or version > spec.version:
        if spec is None:
            why = f"unknown node type {type_name!r}{specs.type_hint(type_name)}"
        else:
            why = f"saved by a newer {type_name} (v{version}) {type_name!r}"
        warnings.warn(f"{where}: {why}; kept as a placeholder", ScriptWarning, 2)
        try:
            return graph.add_placeholder(type_name, name, entry)
        except GraphError as error:
            raise ScriptError(f"{source}: {error}") from None
    params = entry.get("params", {})
    if not isinstance(params, dict):
        raise ScriptError(f"{where}.params: expected an object")
    if version < spec.version:
        try:
            params = spec.upgrade(dict(params), version)
        except Exception as error:  # noqa: BLE001 - an upgrade sees unchecked values
            raise ScriptError(
                f"{where}.params: cannot be upgraded from {type_name} v{version} "
                f"({type(error).__name__}: {error})"
            ) from None
        if not isinstance(params, dict):
            raise ScriptError(f"{where}.params: cannot be upgraded from {type_name} v{version}")
    try:
        node = graph._insert(type_name, spec, name)
    except GraphError as error:
        raise ScriptError(f"{source}: {error}") from None
    for key, value in params.items():
        try:
            declared = spec.param(key)
        except KeyError:
            hint = specs.param_hint(spec, key)
            raise ScriptError(f"{where}.{key}: {type_name} has no such parameter{hint}") from None
        try:
            coerced = declared.coerce(value)
        except ParamError as error:
            raise ScriptError(f"{where}.{error}") from None
        if coerced != declared.default:
            node.values[key] = coerced
    return node


def _link_inputs(graph: Graph, node, entry: dict, source: str) -> None:
    """Link ``node``'s inputs as the script names them. Cycles are looked for once all
    links are made (:func:`_check_acyclic`), not per link: a link checked against the
    whole graph upstream of it made loading quadratic in the number of nodes."""
    inputs = entry.get("inputs", {})
    where = f"{source}: {node.name}.inputs"
    if not isinstance(inputs, dict):
        raise ScriptError(f"{where}: expected an object")
    for input_name, upstream in inputs.items():
        if not isinstance(upstream, str) or upstream not in graph.nodes:
            raise ScriptError(f"{where}.{input_name}: no node named {upstream!r}")
        if not node.is_placeholder and input_name not in node.input_names:
            names = ", ".join(node.input_names) or "none"
            raise ScriptError(
                f"{where}.{input_name}: {node.type} has no input {input_name!r} (inputs: {names})"
            )
        if node.inputs.get(input_name) != upstream:
            node.inputs[input_name] = upstream
            graph._changed("input", node, input_name)


def _check_acyclic(created: dict, source: str) -> None:
    """Raise ScriptError naming a link that closes a cycle among the loaded nodes (links
    to nodes already in the graph cannot: those never read the new ones). One walk over
    the nodes and links, with a stack of its own: linear in the script's size."""
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    for start, node in created.items():
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(list(node.inputs.items())))]
        while stack:
            name, links = stack[-1]
            for input_name, upstream in links:
                if upstream not in created:
                    continue
                seen = state.get(upstream)
                if seen == 1:
                    raise ScriptError(f"{source}: cycle through {name}.{input_name} <- {upstream}")
                if seen is None:
                    state[upstream] = 1
                    stack.append((upstream, iter(list(created[upstream].inputs.items()))))
                    break
            else:
                state[name] = 2
                stack.pop()


def _merge_ui(graph: Graph, ui: dict, created: dict) -> None:
    ui = json.loads(json.dumps(ui))
    nodes = ui.pop("nodes", {})
    for key, value in ui.items():
        graph.ui.setdefault(key, value)
    if isinstance(nodes, dict) and nodes:  # none: no empty "nodes" (saves as it loaded)
        graph.ui.setdefault("nodes", {}).update({k: v for k, v in nodes.items() if k in created})
