"""WGSL for the GPU backend's passes, composed from the nodes' ``.wgsl`` files, and the
pipeline cache.

A pass's shader is the shared library (``library.wgsl``: bindings, window helpers and the
entry point of each pass kind, as ``string.Template`` sections) plus the ``.wgsl`` file of
every node it runs. A node's WGSL is the file beside the module of its class and of each
base class that has one, bases first (Transform's ``transform.wgsl`` uses the
``resample.wgsl`` of its base ``AffineResample``); each file is read once per process.

Pipelines are cached by a *key* that names what the source depends on (pass kind, node
types, fusion shape, template values), never by the source text: a frame that reuses a
pipeline builds no WGSL at all. When WGSL does not compile, :class:`ShaderCompileError`
carries the generated source with line numbers.
"""

from __future__ import annotations

import functools
import re
import string
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import wgpu

WORKGROUP = (16, 16)  # 256 invocations: a multiple of every GPU's SIMD width
READ, WRITE = "read", "read_write"


class ShaderCompileError(RuntimeError):
    """Generated WGSL that wgpu refused; the message ends with the numbered source."""


def numbered(source: str) -> str:
    """``source`` with right-aligned line numbers, as compile errors show it."""
    return "\n".join(f"{n:4d}| {line}" for n, line in enumerate(source.splitlines(), 1))


# --------------------------------------------------------------------------- composing


@functools.cache
def _library() -> dict[str, string.Template]:
    text = resources.files(__package__).joinpath("library.wgsl").read_text(encoding="utf-8")
    sections = dict(re.findall(r"//! section (\w+)\n(.*?)//! end", text, re.DOTALL))
    return {name: string.Template(body) for name, body in sections.items()}


def library(section: str, **values) -> str:
    """One section of ``library.wgsl`` with its ``${...}`` filled in."""
    wx, wy = WORKGROUP
    return _library()[section].substitute({"wx": wx, "wy": wy, **values})


@functools.cache
def _module_wgsl(module_name: str) -> str | None:
    filename = getattr(sys.modules.get(module_name), "__file__", None)
    if not filename:
        return None
    path = Path(filename).with_suffix(".wgsl")
    return path.read_text(encoding="utf-8") if path.is_file() else None


def node_wgsl(spec: type) -> str:
    """The WGSL of a node type: its module's file and its base classes' (bases first)."""
    parts, seen = [], set()
    for cls in reversed(spec.__mro__):
        name = getattr(cls, "__module__", "")
        if name in seen:
            continue
        seen.add(name)
        text = _module_wgsl(name)
        if text is not None:
            parts.append(f"// ---- {name.rpartition('.')[2]}.wgsl\n{text}")
    return "\n".join(parts)


def stem(spec: type) -> str:
    """The prefix of a node type's WGSL functions: its module's name (``color_matrix``)."""
    return spec.__module__.rpartition(".")[2]


def has_function(source: str, name: str) -> bool:
    return re.search(rf"\bfn\s+{re.escape(name)}\s*\(", source) is not None


def tile_struct(source: str, function: str) -> tuple[str, list[str]]:
    """The tile struct a node's ``function(t: Struct, ...)`` takes, and its fields."""
    match = re.search(rf"\bfn\s+{re.escape(function)}\s*\(\s*\w+\s*:\s*(\w+)", source)
    if match is None:
        raise ShaderCompileError(f"{function}: no tile parameter in its WGSL")
    struct = match.group(1)
    body = re.search(rf"\bstruct\s+{struct}\s*\{{(.*?)\}}", source, re.DOTALL)
    if body is None:
        raise ShaderCompileError(f"{function}: struct {struct} is not declared")
    text = re.sub(r"//[^\n]*", "", body.group(1))
    return struct, re.findall(r"(\w+)\s*:", text)


#: How the library fills each field a node's tile struct may declare.
TILE_FIELDS = {
    "src_x0": "src.x - src_org.x",
    "src_y0": "src.y - src_org.y",
    "src_w": "src.z",
    "src_h": "src.w",
    "dst_x0": "dst.x - org.x",
    "dst_y0": "dst.y - org.y",
    "dst_w": "dst.z",
    "dst_h": "dst.w",
    "radius": "M[12]",
}


def tile_constructor(source: str, function: str) -> dict[str, str]:
    """``tile_type`` and ``tile_fields`` template values for a node's kernel function."""
    struct, fields = tile_struct(source, function)
    unknown = [f for f in fields if f not in TILE_FIELDS]
    if unknown:
        raise ShaderCompileError(
            f"struct {struct}: fields {unknown} are unknown to the GPU backend "
            f"(it fills {', '.join(TILE_FIELDS)})"
        )
    return {"tile_type": struct, "tile_fields": ", ".join(TILE_FIELDS[f] for f in fields)}


# --------------------------------------------------------------------------- pipelines


@dataclass
class Program:
    """A compiled shader: its pipelines by entry point and its bind group layout."""

    key: tuple
    source: str
    layout: object
    pipelines: dict[str, object]
    bindings: tuple[str, ...]  # access mode per binding index
    extras: dict


class PipelineCache:
    """Compute pipelines of one device, by key; built at most once per key.

    ``get(key, build)`` returns the cached :class:`Program` or calls ``build()`` for
    ``(source, entry_points, bindings, extras)`` and compiles it. ``compiled`` counts
    compilations (tests check that a second frame compiles nothing).
    """

    def __init__(self, device):
        self.device = device
        self.programs: dict[tuple, Program] = {}
        self.compiled = 0
        self._lock = threading.Lock()

    def get(self, key: tuple, build: Callable[[], tuple]) -> Program:
        found = self.programs.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self.programs.get(key)
            if found is None:
                source, entries, bindings, extras = build()
                found = self.compile(key, source, entries, bindings, extras)
                self.programs[key] = found
        return found

    def compile(
        self, key: tuple, source: str, entries=("main",), bindings=(), extras=None
    ) -> Program:
        """Compile ``source`` (no caching); errors show the numbered WGSL."""
        label = str(key[0]) if key else "mattebox"
        try:
            module = self.device.create_shader_module(label=label, code=source)
            layout = self.device.create_bind_group_layout(
                entries=[
                    {
                        "binding": index,
                        "visibility": wgpu.ShaderStage.COMPUTE,
                        "buffer": {
                            "type": wgpu.BufferBindingType.storage
                            if access == WRITE
                            else wgpu.BufferBindingType.read_only_storage
                        },
                    }
                    for index, access in enumerate(bindings)
                ]
            )
            pipeline_layout = self.device.create_pipeline_layout(bind_group_layouts=[layout])
            pipelines = {
                entry: self.device.create_compute_pipeline(
                    layout=pipeline_layout, compute={"module": module, "entry_point": entry}
                )
                for entry in entries
            }
        except wgpu.GPUError as error:
            raise ShaderCompileError(
                f"WGSL of {_describe(key)} does not compile: {_first_lines(error)}\n"
                + numbered(source)
            ) from error
        self.compiled += 1
        return Program(key, source, layout, pipelines, tuple(bindings), extras or {})


def _describe(key: tuple) -> str:
    return " ".join(str(part) for part in key[:2]) if key else "a pass"


def _first_lines(error: BaseException) -> str:
    text = str(error).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return " / ".join(lines[-6:]) if lines else type(error).__name__
