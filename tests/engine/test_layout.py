"""The layout rules of ARCHITECTURE.md that a reader of imports can check."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = {
    # module prefix -> folders allowed to import it
    ("PySide6", "NodeGraphQt", "Qt", "shiboken6"): ("app",),
    ("wgpu",): ("engine/backends/gpu",),
    ("numba", "llvmlite"): ("engine/backends/cpu",),
}


def _imports(path: Path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _package_files():
    for folder in ("app", "engine", "nodes"):
        yield from (ROOT / folder).rglob("*.py")


def test_heavy_dependencies_are_imported_only_where_allowed():
    wrong = []
    for path in _package_files():
        rel = path.relative_to(ROOT).as_posix()
        for name in _imports(path):
            top = name.split(".")[0]
            for modules, allowed in RULES.items():
                if top in modules and not rel.startswith(allowed):
                    wrong.append(f"{rel} imports {name}")
    assert not wrong, wrong


def test_dependencies_point_app_engine_nodes():
    wrong = []
    for path in _package_files():
        rel = path.relative_to(ROOT).as_posix()
        for name in _imports(path):
            if rel.startswith("nodes/") and name.startswith(("mattebox.engine", "mattebox.app")):
                wrong.append(f"{rel} imports {name}")
            if rel.startswith("engine/") and name.startswith("mattebox.app"):
                wrong.append(f"{rel} imports {name}")
    assert not wrong, wrong


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {"mattebox"}
    for folder in ("app", "engine", "nodes", "tools"):
        for init in (ROOT / folder).rglob("__init__.py"):
            found.add("mattebox." + init.parent.relative_to(ROOT).as_posix().replace("/", "."))
    assert found == listed


def _runtime_imports(path: Path):
    """Module-level imports, leaving out those under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(), str(path))
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
                yield inner.module


def test_the_planner_and_backends_do_not_reach_back_into_the_model_or_renderer():
    """graph -> render -> plan -> backends must not lead back to graph, render or the
    planner: backends take what they need from engine/passes.py."""
    wrong = []
    below = ["engine/passes.py", "engine/plan.py", "engine/evaluate.py"]
    below += [p.relative_to(ROOT).as_posix() for p in (ROOT / "engine/backends").rglob("*.py")]
    for rel in below:
        for name in _runtime_imports(ROOT / rel):
            if name in (
                "mattebox.engine.graph",
                "mattebox.engine.render",
                "mattebox.engine.script",
            ):
                wrong.append(f"{rel} imports {name}")
            if rel.startswith("engine/backends") and name == "mattebox.engine.plan":
                wrong.append(f"{rel} imports {name}")
    assert not wrong, wrong
