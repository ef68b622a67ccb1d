"""Every node type is documented and declared consistently (the editor and docs use this)."""

from __future__ import annotations

import importlib.resources
import inspect

import pytest

from mattebox.nodes.spec import Kind, registry

TYPES = sorted(registry())


@pytest.mark.parametrize("type_name", TYPES)
def test_node_and_every_parameter_are_documented(type_name):
    spec = registry()[type_name]
    assert (spec.__doc__ or "").strip(), f"{type_name} has no docstring"
    for param in spec.params:
        assert param.doc.strip(), f"{type_name}.{param.name} has no doc"
        assert param.coerce(param.default) == param.default


@pytest.mark.parametrize("type_name", TYPES)
def test_kernels_exist_for_the_kind(type_name):
    spec = registry()[type_name]
    module = inspect.getmodule(spec)
    stem = module.__name__.rsplit(".", 1)[-1]
    package = module.__name__.rsplit(".", 1)[0]
    has_wgsl = importlib.resources.files(package).joinpath(f"{stem}.wgsl").is_file()
    routes = spec.routes()  # channel nodes
    retimes = spec.input_frame(spec.defaults(), 1.0) is not None  # time nodes: no kernel
    computes = spec.pass_through(spec.defaults()) is None and not routes and not retimes
    program = spec.point_program(spec.defaults()) if spec.kind is Kind.POINT else None
    if program is not None:  # generated from the values (ExpressionPlane): both sides
        assert f"def {program.name}(" in program.python, type_name
        assert f"fn {program.name}(" in program.wgsl, type_name
    elif spec.kind is Kind.POINT and computes:
        assert callable(getattr(spec, "cpu_point", None)), type_name
        assert has_wgsl, f"{type_name}: no {stem}.wgsl"
    if spec.kind in (Kind.AREA, Kind.RESAMPLE):
        assert callable(getattr(spec, "cpu_kernel", None)), type_name
        assert callable(getattr(spec, "kernel_args", None)), type_name


def test_the_core_set_is_registered():
    core = {
        "Read",
        "Write",
        "Constant",
        "Checkerboard",
        "Grade",
        "Saturation",
        "Clamp",
        "Invert",
        "Premult",
        "Unpremult",
        "ColorMatrix",
        "CDL",
        "Merge",
        "Blur",
        "Transform",
        "Reformat",
        "Crop",
        "OCIOColorSpace",
        "OCIODisplay",
        "OCIOFileTransform",
        "Shuffle",
        "Switch",
        "Dissolve",
        "Dot",
    }
    assert core <= set(TYPES), core - set(TYPES)


def test_the_generated_node_reference_is_current():
    from pathlib import Path

    from mattebox.engine.nodedocs import page

    committed = Path(__file__).resolve().parents[2] / "docs" / "nodes.md"
    assert committed.read_text() == page(), (
        "run: python -m mattebox.engine.nodedocs > docs/nodes.md"
    )
