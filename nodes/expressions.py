"""The Expression node's language: per-pixel formulas, parsed by a grammar of ours and
compiled into point kernels for both backends.

An expression is Python's expression syntax (``ast`` in ``eval`` mode), checked against a
whitelist: numbers; the variables ``r g b a`` (the input's main channels), ``layer.C``
(any channel by name), ``x y`` (the pixel's column and row), ``frame width height`` and
``pi``; ``+ - * / **``; comparisons (``1`` where true, else ``0``; chains as in Python);
``and or not``; ``a if cond else b`` (``cond`` true where it is not 0); and the
functions of :data:`FUNCTIONS`. Nothing is ever evaluated by Python: the tree is lowered
to a *program*, the expression rewritten over plane components ``v<plane>_<component>``
and numbered constants ``c<k>`` (so editing a number does not compile a new kernel), and
that program is emitted as numba-compiled Python (:func:`python_source`) and as WGSL
(:func:`wgsl_source`) with one definition of every operation on each side.

Errors are one line naming the parameter and the column: ``r: column 7: unknown name
'gren'``.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Variables that are not channels: what each is in the parameter block ``p``.
CONTEXT = {"frame": 0, "width": 1, "height": 2}
#: The main layer's channels by their short names.
MAIN_CHANNELS = {"r": "R", "g": "G", "b": "B", "a": "A"}
#: Functions: name -> (fewest, most) arguments; None: any number from the fewest.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "min": (2, None),
    "max": (2, None),
    "clamp": (1, 3),
    "floor": (1, 1),
    "ceil": (1, 1),
    "fract": (1, 1),
    "sqrt": (1, 1),
    "pow": (2, 2),
    "exp": (1, 1),
    "log": (1, 1),
    "sin": (1, 1),
    "cos": (1, 1),
    "tan": (1, 1),
    "atan2": (2, 2),
    "mix": (3, 3),
    "smoothstep": (3, 3),
    "step": (2, 2),
}
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
MAX_LENGTH = 4000  # characters: a formula, not a program


class ExpressionError(ValueError):
    """A formula that cannot be compiled: the message names the parameter and column."""


def error_at(param: str, node: ast.AST | None, text: str) -> ExpressionError:
    column = getattr(node, "col_offset", None)
    where = f"column {column + 1}: " if column is not None else ""
    return ExpressionError(f"{param}: {where}{text}")


def parse(text: str, param: str) -> ast.expr:
    """The checked syntax tree of one formula; ExpressionError where it is not one."""
    if not text.strip():
        raise ExpressionError(f"{param}: empty expression")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"{param}: longer than {MAX_LENGTH} characters")
    body = text.lstrip()
    indent = len(text) - len(body)
    try:
        tree = ast.parse(body.rstrip(), mode="eval")
    except SyntaxError as error:
        if error.offset and error.lineno == 1:
            column, what = indent + error.offset, error.msg
        else:  # Python points past the end where the formula stops short
            column, what = len(text.rstrip()) + 1, "unexpected end of expression"
        raise ExpressionError(f"{param}: column {column}: syntax error: {what}") from None
    if indent:  # columns count from the parameter's first character
        for node in ast.walk(tree):
            if hasattr(node, "col_offset"):
                node.col_offset += indent
    _check(tree.body, param)
    return tree.body


def _check(node: ast.AST, param: str) -> None:
    """Raise where ``node`` or anything below it is outside the grammar."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise error_at(param, node, f"{node.value!r} is not a number")
        return
    if isinstance(node, ast.Name):
        known = node.id in MAIN_CHANNELS or node.id in CONTEXT or node.id in ("x", "y", "pi")
        if not known:
            hint = " (a function needs arguments)" if node.id in FUNCTIONS else ""
            raise error_at(param, node, f"unknown name {node.id!r}{hint}")
        return
    if isinstance(node, ast.Attribute):
        if not isinstance(node.value, ast.Name):
            raise error_at(param, node, "a channel is written layer.C")
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY and not isinstance(node.op, ast.Pow):
            raise error_at(param, node, "only + - * / ** are allowed")
        _check(node.left, param)
        _check(node.right, param)
        return
    if isinstance(node, ast.UnaryOp):
        _check(node.operand, param)
        return
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, param)
        return
    if isinstance(node, ast.Compare):
        if any(type(op) not in _COMPARE for op in node.ops):
            raise error_at(param, node, "only < <= > >= == != compare numbers")
        for value in (node.left, *node.comparators):
            _check(value, param)
        return
    if isinstance(node, ast.IfExp):
        for value in (node.test, node.body, node.orelse):
            _check(value, param)
        return
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            shown = name or ast.unparse(node.func)
            raise error_at(param, node, f"unknown function {shown!r}")
        if node.keywords:
            raise error_at(param, node, f"{name}() takes no named arguments")
        fewest, most = FUNCTIONS[name]
        count = len(node.args)
        if (
            count < fewest
            or (most is not None and count > most)
            or (name == "clamp" and count == 2)
        ):
            wanted = {"clamp": "1 or 3"}.get(name) or (
                f"{fewest}" if fewest == most else f"at least {fewest}"
            )
            raise error_at(param, node, f"{name}() takes {wanted} arguments, got {count}")
        for arg in node.args:
            _check(arg, param)
        return
    raise error_at(param, node, f"{type(node).__name__.lower()} is not allowed in an expression")


def channel_name(node: ast.AST) -> str | None:
    """The channel a variable names (``R`` for ``r``, ``depth.Z`` for ``depth.Z``), else
    None."""
    if isinstance(node, ast.Name):
        return MAIN_CHANNELS.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def channels_used(tree: ast.expr) -> list[tuple[str, ast.AST]]:
    """The channels a formula reads, each with the first place it does (for errors)."""
    found: dict[str, ast.AST] = {}
    for node in ast.walk(tree):
        name = channel_name(node)
        if name is not None:
            found.setdefault(name, node)
    return list(found.items())


# -- lowering: channels to plane components, numbers to constants ----------------------


@dataclass(frozen=True)
class Program:
    """Formulas over plane components for the four components of one output plane.

    ``outputs`` holds, per component, the lowered formula or None (component 0..3 of
    plane 0 passes through). ``constants`` are the numbers, in the order of ``c<k>``.
    """

    planes: int
    outputs: tuple[str | None, ...]
    constants: tuple[float, ...]

    def text(self) -> str:
        """The program without its constants: what a compiled kernel is keyed by."""
        return json.dumps({"planes": self.planes, "outputs": list(self.outputs)})

    @staticmethod
    def from_text(text: str, constants: Sequence[float]) -> Program:
        data = json.loads(text)
        return Program(int(data["planes"]), tuple(data["outputs"]), tuple(constants))

    def uses(self, name: str) -> bool:
        """Whether any formula reads the context variable or ``x``/``y`` ``name``."""
        return any(
            isinstance(n, ast.Name) and n.id == name
            for out in self.outputs
            if out
            for n in ast.walk(ast.parse(out, mode="eval"))
        )

    def digest(self) -> str:
        return hashlib.sha1(self.text().encode()).hexdigest()[:16]


def lower(
    formulas: Sequence[ast.expr | None], resolve: Callable[[str], tuple[int, int]], planes: int
) -> Program:
    """The program of four formulas (None: pass through), channels placed by ``resolve``
    (channel name -> (plane, component))."""
    constants: list[float] = []

    class Rewrite(ast.NodeTransformer):
        def visit_Constant(self, node):
            constants.append(float(node.value))
            return ast.copy_location(ast.Name(f"c{len(constants) - 1}", ast.Load()), node)

        def visit_Name(self, node):
            channel = channel_name(node)
            if channel is None:
                return node
            plane, component = resolve(channel)
            return ast.copy_location(ast.Name(f"v{plane}_{component}", ast.Load()), node)

        def visit_Attribute(self, node):
            return self.visit_Name(node)

        def visit_Call(self, node):
            node.args = [self.visit(arg) for arg in node.args]
            return node

    outputs = []
    for tree in formulas:
        if tree is None:
            outputs.append(None)
            continue
        lowered = Rewrite().visit(ast.parse(ast.unparse(tree), mode="eval"))
        outputs.append(ast.unparse(lowered.body))
    return Program(planes, tuple(outputs), tuple(constants))


# -- emitting ----------------------------------------------------------------------------


class _Emitter:
    """One target's spelling of each construct of a lowered formula."""

    def __init__(self, target: str):
        self.target = target

    def emit(self, node: ast.AST) -> str:
        py = self.target == "python"
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.BinOp):
            left, right = self.emit(node.left), self.emit(node.right)
            if isinstance(node.op, ast.Pow):
                return self.call("pow", [left, right])
            return f"({left} {_BINARY[type(node.op)]} {right})"
        if isinstance(node, ast.UnaryOp):
            value = self.emit(node.operand)
            if isinstance(node.op, ast.USub):
                return f"(-{value})"
            if isinstance(node.op, ast.UAdd):
                return value
            return self.truth(f"{value} == {self.zero}")  # not
        if isinstance(node, ast.BoolOp):
            joiner = (" and " if py else " && ") if isinstance(node.op, ast.And) else None
            joiner = joiner or (" or " if py else " || ")
            tests = [f"({self.emit(v)} != {self.zero})" for v in node.values]
            return self.truth(joiner.join(tests))
        if isinstance(node, ast.Compare):
            values = [self.emit(v) for v in (node.left, *node.comparators)]
            tests = [
                f"({values[k]} {_COMPARE[type(op)]} {values[k + 1]})"
                for k, op in enumerate(node.ops)
            ]
            return self.truth((" and " if py else " && ").join(tests))
        if isinstance(node, ast.IfExp):
            test = f"{self.emit(node.test)} != {self.zero}"
            body, orelse = self.emit(node.body), self.emit(node.orelse)
            if py:
                return f"({body} if {test} else {orelse})"
            return f"select({orelse}, {body}, {test})"
        if isinstance(node, ast.Call):
            args = [self.emit(a) for a in node.args]
            name = node.func.id
            if name in ("min", "max"):  # any number of arguments, folded pairwise
                folded = args[0]
                for arg in args[1:]:
                    folded = self.call(name, [folded, arg])
                return folded
            if name == "clamp" and len(args) == 1:
                args = [args[0], self.zero, self.one]
            return self.call(name, args)
        raise AssertionError(f"not a lowered expression: {ast.dump(node)}")

    @property
    def zero(self) -> str:
        return "ZERO" if self.target == "python" else "0.0"

    @property
    def one(self) -> str:
        return "ONE" if self.target == "python" else "1.0"

    def truth(self, test: str) -> str:
        if self.target == "python":
            return f"(ONE if {test} else ZERO)"
        return f"select(0.0, 1.0, {test})"

    def call(self, name: str, args: list[str]) -> str:
        prefix = "e_" if self.target == "python" else "mb_expr_"
        return f"{prefix}{name}({', '.join(args)})"

    def name(self, name: str) -> str:
        py = self.target == "python"
        if name.startswith("v"):  # v<plane>_<component>
            plane, component = name[1:].split("_")
            return name if py else f"c{plane}.{'xyzw'[int(component)]}"
        if name.startswith("c") and name[1:].isdigit():
            k = int(name[1:]) + len(CONTEXT)
            return f"p[{k}]" if py else f"P[o + {k}u]"
        if name in CONTEXT:
            return f"p[{CONTEXT[name]}]" if py else f"P[o + {CONTEXT[name]}u]"
        if name in ("x", "y"):
            return f"f{name}"
        if name == "pi":
            return "PI" if py else "3.14159265358979"
        raise AssertionError(f"not a lowered name: {name}")


def _formulas(program: Program, emitter: _Emitter) -> list[str]:
    out = []
    for component, formula in enumerate(program.outputs):
        if formula is None:
            out.append(emitter.name(f"v0_{component}"))
        else:
            out.append(emitter.emit(ast.parse(formula, mode="eval").body))
    return out


def python_source(program: Program, function: str) -> str:
    """A module defining ``function(v0_0..v0_3, v1_0.., fx, fy, p)`` for numba."""
    args = [f"v{k}_{c}" for k in range(program.planes) for c in range(4)]
    body = _formulas(program, _Emitter("python"))
    lines = [
        "# Generated by mattebox.nodes.expressions from an Expression node's formulas.",
        "from mattebox.nodes.expression_math import (",
        *(f"    e_{name}," for name in FUNCTIONS),
        "    PI,",
        ")",
        "from mattebox.nodes.kernel import ONE, ZERO, kernel",
        "",
        "",
        "@kernel",
        f"def {function}({', '.join(args)}, fx, fy, p):",
        *(f"    o{k} = {formula}" for k, formula in enumerate(body)),
        "    return o0, o1, o2, o3",
        "",
    ]
    return "\n".join(lines)


def wgsl_source(program: Program, function: str) -> str:
    """A WGSL function ``function(c0.., fx, fy, o) -> vec4<f32>`` calling the helpers of
    ``expression_math.wgsl``."""
    args = [f"c{k}: vec4<f32>" for k in range(program.planes)]
    body = _formulas(program, _Emitter("wgsl"))
    lines = [
        f"fn {function}({', '.join(args)}, fx: f32, fy: f32, o: u32) -> vec4<f32> {{",
        *(f"    let o{k} = {formula};" for k, formula in enumerate(body)),
        "    return vec4<f32>(o0, o1, o2, o3);",
        "}",
        "",
    ]
    return "\n".join(lines)
