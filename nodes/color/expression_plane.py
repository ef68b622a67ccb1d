"""ExpressionPlane: one plane of an Expression node, its formulas compiled (internal)."""

from __future__ import annotations

import functools
import json

from mattebox.nodes import expressions
from mattebox.nodes.spec import Kind, NodeSpec, PointProgram, String, register

MAX_PLANES = 8


@functools.lru_cache(maxsize=256)
def compiled(text: str) -> PointProgram:
    """The generated functions of a program text (constants are parameters, not code)."""
    program = expressions.Program.from_text(text, ())
    name = f"mb_expr_{program.digest()}"
    return PointProgram(
        name,
        expressions.python_source(program, name),
        expressions.wgsl_source(program, name),
        program.planes,
    )


@functools.lru_cache(maxsize=256)
def _uses(text: str) -> tuple[str, ...]:
    program = expressions.Program.from_text(text, ())
    return tuple(name for name in expressions.CONTEXT if program.uses(name))


@register
class ExpressionPlane(NodeSpec):
    """The four components of one plane computed by lowered formulas
    (:mod:`mattebox.nodes.expressions`) over planes P0 (the plane written, whose
    components without a formula pass through), P1... (the planes the formulas read).

    Made by the Expression node for each plane it writes; the formulas become one
    generated point function per program, fused with its neighbours on both backends.
    """

    type_name = "ExpressionPlane"
    family = "channel"
    kind = Kind.POINT
    internal = True
    inputs = ("P0",)
    optional_inputs = tuple(f"P{k}" for k in range(1, MAX_PLANES))
    params = (
        String(
            "program", '{"planes": 1, "outputs": [null, null, null, null]}', "Lowered formulas."
        ),
        String("constants", "[]", "The numbers of the formulas, c0, c1..."),
    )

    @classmethod
    def point_program(cls, values):
        return compiled(values["program"])

    @classmethod
    def pack(cls, values, ctx):
        fmt = ctx.script_format
        return [float(ctx.frame), float(fmt.width), float(fmt.height)] + [
            float(v) for v in json.loads(values["constants"])
        ]

    @classmethod
    def context_key(cls, values, ctx):
        used = _uses(values["program"])
        if not used:
            return None
        fmt = ctx.script_format
        known = {"frame": ctx.frame, "width": fmt.width, "height": fmt.height}
        return [[name, known[name]] for name in used]
