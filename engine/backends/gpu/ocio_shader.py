"""OpenColorIO processors on the GPU, as WGSL.

OCIO writes its GPU shaders in GLSL (and HLSL, MSL...), never in WGSL. This module asks OCIO
for its GLSL 4.0 shader, translates that (small, regular) dialect into WGSL, and turns every
LUT texture, constant table and dynamic uniform the shader uses into reads from one read-only
storage buffer of ``f32``. The result is an :class:`OcioGpuProgram`: a WGSL colour function
``fn <prefix>_apply(c: vec4<f32>) -> vec4<f32>`` plus that one buffer, which the GPU backend can
fuse with neighbouring point ops. Texture filtering is done in the shader, in full ``f32``
(hardware filtering would round its weights to 8 bits).

See ``docs/gpu-ocio.md`` for the decision, the alternatives that were measured, and the
measured errors against OCIO's CPU processor.

Examples
--------
>>> import PyOpenColorIO as OCIO
>>> config = OCIO.Config.CreateFromFile("ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5")
>>> program = build_ocio_program(config.getProcessor("ACEScg", "ACEScct"), prefix="ocio0")
>>> program.function_name
'ocio0_apply'
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import PyOpenColorIO as OCIO

from mattebox.engine import color

__all__ = [
    "TRANSLATOR_VERSION",
    "OcioGpuProgram",
    "OcioLut",
    "OcioPipeline",
    "OcioTranslationError",
    "OcioUniform",
    "build_ocio_program",
    "create_ocio_pipeline",
    "gpu_supported",
    "run_ocio_program",
    "translate_glsl",
]

#: Bumped whenever the translation changes what WGSL a processor becomes (part of cache keys
#: that outlive the process).
TRANSLATOR_VERSION = 1

#: The widest 1D LUT kept as a 1D table. OCIO folds wider LUTs into 2D textures only because
#: of GPU texture limits; a storage buffer has none, and a 1D lookup is cheaper and exact.
_TEXTURE_MAX_WIDTH = 1 << 20


class OcioTranslationError(ValueError):
    """OCIO's GLSL used a construct that the GLSL -> WGSL translator does not handle."""


# --------------------------------------------------------------------------------------
# Public data model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OcioLut:
    """One table of an OCIO program, stored in the program's data buffer.

    ``kind`` is ``"1d"``, ``"2d"`` or ``"3d"`` for OCIO textures (``shape`` is
    ``(width,)``, ``(height, width)`` or ``(edge, edge, edge)``), or ``"table"`` for a
    constant array of the shader (``shape`` is ``(length,)``). ``channels`` is 1 or 3,
    ``interpolation`` ``"nearest"`` or ``"linear"`` (how a texture is filtered; OCIO's
    tetrahedral and other interpolations are written out in the shader with nearest
    fetches). ``offset`` is the first ``f32`` of the table in the data buffer.
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    channels: int
    interpolation: str
    offset: int
    values: np.ndarray = field(repr=False, compare=False)


@dataclass(frozen=True)
class OcioUniform:
    """One dynamic property value of an OCIO program (exposure, grading curves...).

    ``glsl_type`` is the GLSL declaration's type (``float``, ``bool``, ``vec3``, ``int``),
    ``length`` the array length (1 for a scalar or vector), ``offset`` the first ``f32`` in
    the data buffer. Integers and booleans are stored as exact ``f32`` values.
    """

    name: str
    glsl_type: str
    length: int
    offset: int

    @property
    def size(self) -> int:
        """Number of ``f32`` slots this uniform occupies."""
        return self.length * (3 if self.glsl_type == "vec3" else 1)


@dataclass(frozen=True)
class OcioGpuProgram:
    """A colour processor as WGSL plus one read-only ``array<f32>`` storage buffer.

    Attributes
    ----------
    key : str
        ``Processor.getCacheID()``: equal keys give equal pixels. A compiled pipeline
        depends on ``(key, prefix)``.
    prefix : str
        The name prefix of every declaration in ``source``: two programs with different
        prefixes can live in one shader module.
    language : str
        ``"wgsl"``.
    function_name : str
        ``fn <prefix>_apply(c: vec4<f32>) -> vec4<f32>``: OCIO's colour function. It works on
        *unpremultiplied* colour and may touch alpha, exactly like OCIO's CPU ``applyRGBA``.
    premult_function_name : str
        ``fn <prefix>_apply_premult(c: vec4<f32>) -> vec4<f32>``: the point op to fuse into an
        image kernel: unpremultiplies where ``a > 0``, applies the colour function,
        premultiplies again, and keeps the input alpha. Where ``a <= 0`` it does what
        ``engine.color.apply_cpu`` does: the stored colour is converted as it is when the
        processor keeps black black (``keeps_black``: additive light stays, converted),
        and left unchanged otherwise (a log encoding would turn transparent black grey).
    source : str
        All WGSL declarations (functions, constants) without the data buffer's binding and
        without an entry point. Use :meth:`binding_declarations` for the binding.
    keeps_black : bool
        Whether the processor maps black to black (``engine.color._keeps_black``).
    data_buffer : str or None
        Name of the ``var<storage, read> <name>: array<f32>`` that ``source`` reads, or
        None when the program needs no data (a matrix, a log curve...).
    data : numpy.ndarray
        The initial contents of that buffer (float32), laid out as ``uniforms`` then
        ``luts``.
    luts : tuple of OcioLut
        Tables inside ``data`` (OCIO textures and the shader's constant arrays), in buffer
        order.
    uniforms : tuple of OcioUniform
        Dynamic properties, at the start of ``data``. Empty unless the processor has dynamic
        properties; after changing one through :meth:`dynamic_property`, write
        :meth:`uniform_values` at offset 0 of the buffer.
    glsl : str
        The GLSL 4.0 that OCIO wrote and that ``source`` was translated from (debugging).
    """

    key: str
    prefix: str
    language: str
    function_name: str
    premult_function_name: str
    source: str
    keeps_black: bool
    data_buffer: str | None
    data: np.ndarray = field(repr=False, compare=False)
    luts: tuple[OcioLut, ...] = field(repr=False, compare=False)
    uniforms: tuple[OcioUniform, ...] = field(repr=False, compare=False)
    glsl: str = field(repr=False, compare=False, default="")
    _shader_desc: Any = field(repr=False, compare=False, default=None)

    def binding_declarations(self, group: int, binding: int) -> str:
        """WGSL declaration of the data buffer at ``@group(group) @binding(binding)``.

        Returns an empty string when the program needs no buffer.
        """
        if self.data_buffer is None:
            return ""
        return (
            f"@group({group}) @binding({binding}) "
            f"var<storage, read> {self.data_buffer}: array<f32>;\n"
        )

    def dynamic_property(self, kind: Any) -> Any:
        """The OCIO ``DynamicProperty`` of this program (e.g. ``DYNAMIC_PROPERTY_EXPOSURE``).

        Set its value, then upload :meth:`uniform_values` (``OcioPipeline.update_uniforms``).
        """
        return self._shader_desc.getDynamicProperty(kind)

    def uniform_values(self) -> np.ndarray:
        """Current values of the dynamic properties, to write at offset 0 of the buffer."""
        if not self.uniforms:
            return np.zeros(0, np.float32)
        current = dict(self._shader_desc.getUniforms())
        return np.concatenate([_uniform_slots(u, current[u.name]) for u in self.uniforms])


# --------------------------------------------------------------------------------------
# GLSL lexer and parser (the subset OCIO writes)
# --------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[fFuU]?)
  | (?P<id>[A-Za-z_]\w*)
  | (?P<op>\+\+|--|\+=|-=|\*=|/=|%=|==|!=|<=|>=|&&|\|\||<<|>>|[-+*/%<>=!?:;,.(){}\[\]&|^~])
    """,
    re.VERBOSE | re.DOTALL,
)

_ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "%="}
#: Binding strength of GLSL's binary operators (all left-associative).
_BINARY_PRECEDENCE = {
    op: level
    for level, ops in enumerate(
        (
            ("||",),
            ("&&",),
            ("|",),
            ("^",),
            ("&",),
            ("==", "!="),
            ("<", ">", "<=", ">="),
            ("<<", ">>"),
            ("+", "-"),
            ("*", "/", "%"),
        )
    )
    for op in ops
}
_SCALARS = {"float", "int", "uint", "bool"}
_TYPE_NAMES = (
    _SCALARS
    | {f"{p}vec{n}" for p in ("", "i", "u", "b") for n in (2, 3, 4)}
    | {f"mat{n}" for n in (2, 3, 4)}
    | {f"mat{c}x{r}" for c in (2, 3, 4) for r in (2, 3, 4)}
    | {"void", "sampler1D", "sampler2D", "sampler3D"}
)
_QUALIFIERS = {"in", "const", "highp", "mediump", "lowp", "uniform", "flat"}


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, line) tokens, comments and white space dropped, an "end" token last."""
    tokens, pos, line = [], 0, 1
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise OcioTranslationError(f"GLSL line {line}: unexpected {text[pos : pos + 20]!r}")
        if match.lastgroup == "ws":
            line += match.group().count("\n")
        else:
            tokens.append((match.lastgroup, match.group(), line))
        pos = match.end()
    tokens.append(("end", "", line))
    return tokens


class _Parser:
    """Recursive-descent parser from GLSL tokens to a tuple-based syntax tree."""

    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.tokens += self.tokens[-1:] * 4  # room to look ahead past the end
        self.pos = 0

    # -- token helpers
    def peek(self, ahead: int = 0) -> str:
        return self.tokens[self.pos + ahead][1]

    def kind(self, ahead: int = 0) -> str:
        return self.tokens[self.pos + ahead][0]

    def take(self, expected: str | None = None) -> str:
        kind, text, line = self.tokens[self.pos]
        if kind == "end" or (expected is not None and text != expected):
            want = f"{expected!r}" if expected else "a token"
            raise OcioTranslationError(f"GLSL line {line}: expected {want}, found {text!r}")
        self.pos += 1
        return text

    def take_identifier(self) -> str:
        if self.kind() != "id":
            self.take("<identifier>")
        return self.take()

    def error(self, message: str) -> OcioTranslationError:
        return OcioTranslationError(f"GLSL line {self.tokens[self.pos][2]}: {message}")

    # -- declarations
    def parse_module(self) -> list[tuple]:
        items = []
        while self.kind() != "end":
            if self.peek() == ";":
                self.take()
                continue
            items.append(self.parse_global())
        return items

    def parse_global(self) -> tuple:
        qualifiers = self.parse_qualifiers()
        type_name = self.take_identifier()
        if type_name not in _TYPE_NAMES:
            raise self.error(f"unsupported type {type_name!r}")
        name = self.take_identifier()
        if self.peek() == "(":
            return self.parse_function(type_name, name)
        declarators = self.parse_declarators(name)
        self.take(";")
        if "uniform" in qualifiers:
            return ("uniform", type_name, declarators)
        return ("global", "const" in qualifiers, type_name, declarators)

    def parse_qualifiers(self) -> set[str]:
        found = set()
        while self.peek() in _QUALIFIERS:
            found.add(self.take())
        if self.peek() == "layout":
            raise self.error("layout qualifiers are not supported (use GLSL 4.0 output)")
        return found

    def parse_function(self, return_type: str, name: str) -> tuple:
        self.take("(")
        params = []
        while self.peek() != ")":
            qualifiers = self.parse_qualifiers()
            if qualifiers - {"in", "const", "highp", "mediump", "lowp"}:
                raise self.error(f"parameter qualifier {qualifiers} is not supported")
            if self.peek() in ("out", "inout"):
                raise self.error("out/inout parameters are not supported")
            ptype = self.take_identifier()
            if ptype == "void":
                break
            params.append((ptype, self.take_identifier()))
            if self.peek() == ",":
                self.take()
        self.take(")")
        if self.peek() == ";":  # a prototype
            self.take()
            return ("prototype", name)
        return ("function", return_type, name, params, self.parse_block())

    def parse_declarators(self, first_name: str) -> list[tuple]:
        declarators, name = [], first_name
        while True:
            length = None
            if self.peek() == "[":
                self.take()
                length = int(self.take())
                self.take("]")
            init = None
            if self.peek() == "=":
                self.take()
                init = self.parse_ternary()
            declarators.append((name, length, init))
            if self.peek() != ",":
                return declarators
            self.take()
            name = self.take_identifier()

    # -- statements
    def parse_block(self) -> tuple:
        self.take("{")
        body = []
        while self.peek() != "}":
            body.append(self.parse_statement())
        self.take("}")
        return ("block", body)

    def is_declaration(self) -> bool:
        ahead = 0
        while self.peek(ahead) in _QUALIFIERS:
            ahead += 1
        return self.peek(ahead) in _TYPE_NAMES and self.kind(ahead + 1) == "id"

    def parse_statement(self) -> tuple:
        word = self.peek()
        if word == "{":
            return self.parse_block()
        if word == ";":
            self.take()
            return ("empty",)
        if word in ("if", "for", "while", "do", "return", "break", "continue"):
            return getattr(self, f"parse_{word}")()
        if self.is_declaration():
            statement = self.parse_local_declaration()
        else:
            statement = self.parse_simple()
        self.take(";")
        return statement

    def parse_local_declaration(self) -> tuple:
        qualifiers = self.parse_qualifiers()
        type_name = self.take_identifier()
        return ("decl", "const" in qualifiers, type_name, self.parse_declarators(self.take()))

    def parse_simple(self) -> tuple:
        target = self.parse_ternary()
        if self.peek() in _ASSIGN_OPS:
            op = self.take()
            return ("assign", op, target, self.parse_ternary())
        return ("expr", target)

    def parse_if(self) -> tuple:
        self.take("if")
        self.take("(")
        cond = self.parse_ternary()
        self.take(")")
        then = self.parse_statement()
        other = None
        if self.peek() == "else":
            self.take()
            other = self.parse_statement()
        return ("if", cond, then, other)

    def parse_for(self) -> tuple:
        self.take("for")
        self.take("(")
        init = None
        if self.peek() != ";":
            init = self.parse_local_declaration() if self.is_declaration() else self.parse_simple()
        self.take(";")
        cond = self.parse_ternary() if self.peek() != ";" else None
        self.take(";")
        step = self.parse_simple() if self.peek() != ")" else None
        self.take(")")
        return ("for", init, cond, step, self.parse_statement())

    def parse_while(self) -> tuple:
        self.take("while")
        self.take("(")
        cond = self.parse_ternary()
        self.take(")")
        return ("while", cond, self.parse_statement())

    def parse_do(self) -> tuple:
        self.take("do")
        body = self.parse_statement()
        self.take("while")
        self.take("(")
        cond = self.parse_ternary()
        self.take(")")
        self.take(";")
        return ("do", body, cond)

    def parse_return(self) -> tuple:
        self.take("return")
        value = None if self.peek() == ";" else self.parse_ternary()
        self.take(";")
        return ("return", value)

    def parse_break(self) -> tuple:
        self.take("break")
        self.take(";")
        return ("break",)

    def parse_continue(self) -> tuple:
        self.take("continue")
        self.take(";")
        return ("continue",)

    # -- expressions
    def parse_ternary(self) -> tuple:
        cond = self.parse_binary(0)
        if self.peek() != "?":
            return cond
        self.take("?")
        then = self.parse_ternary()
        self.take(":")
        return ("cond", cond, then, self.parse_ternary())

    def parse_binary(self, min_level: int) -> tuple:
        """Operators binding at least as tightly as ``min_level`` (precedence climbing)."""
        left = self.parse_unary()
        while self.kind() == "op" and _BINARY_PRECEDENCE.get(self.peek(), -1) >= min_level:
            op = self.take()
            left = ("bin", op, left, self.parse_binary(_BINARY_PRECEDENCE[op] + 1))
        return left

    def parse_unary(self) -> tuple:
        if self.peek() in ("-", "+", "!", "~", "++", "--") and self.kind() == "op":
            op = self.take()
            return ("un", op, self.parse_unary())
        return self.parse_postfix(self.parse_primary())

    def parse_postfix(self, expr: tuple) -> tuple:
        while True:
            word = self.peek()
            if word == "[":
                self.take()
                expr = ("idx", expr, self.parse_ternary())
                self.take("]")
            elif word == ".":
                self.take()
                expr = ("field", expr, self.take_identifier())
            elif word in ("++", "--"):
                expr = ("post", self.take(), expr)
            else:
                return expr

    def parse_primary(self) -> tuple:
        kind, word = self.kind(), self.peek()
        if kind == "num":
            return ("num", self.take())
        if word == "(":
            self.take()
            inner = self.parse_ternary()
            self.take(")")
            return inner
        if kind != "id":
            raise self.error(f"unexpected {word!r}")
        name = self.take()
        if name in ("true", "false"):
            return ("bool", name)
        if self.peek() == "[" and name in _TYPE_NAMES:  # float[3](...)
            self.take()
            length = int(self.take())
            self.take("]")
            return ("array", name, length, self.parse_arguments())
        if self.peek() == "(":
            return ("call", name, self.parse_arguments())
        return ("id", name)

    def parse_arguments(self) -> list[tuple]:
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.parse_ternary())
            if self.peek() == ",":
                self.take()
        self.take(")")
        return args


# --------------------------------------------------------------------------------------
# GLSL types
# --------------------------------------------------------------------------------------

_SWIZZLE_SETS = ("xyzw", "rgba", "stpq")


def _base(t: str) -> str:
    """Scalar base of a GLSL scalar, vector or matrix type."""
    if t in _SCALARS:
        return t
    return {"i": "int", "u": "uint", "b": "bool"}.get(t[0], "float")


def _size(t: str) -> int:
    """Component count of a scalar or vector type (0 for matrices and others)."""
    if t in _SCALARS:
        return 1
    if "vec" in t:
        return int(t[-1])
    return 0


def _is_matrix(t: str) -> bool:
    return t.startswith("mat")


def _matrix_shape(t: str) -> tuple[int, int]:
    """(columns, rows) of a GLSL matrix type."""
    if "x" in t:
        return int(t[3]), int(t[5])
    return int(t[3]), int(t[3])


def _make(base: str, n: int) -> str:
    if n == 1:
        return base
    return {"float": "", "int": "i", "uint": "u", "bool": "b"}[base] + f"vec{n}"


def _wgsl_type(t: str) -> str:
    if "[" in t:
        elem, length = t[:-1].split("[")
        return f"array<{_wgsl_type(elem)}, {length}>"
    if _is_matrix(t):
        cols, rows = _matrix_shape(t)
        return f"mat{cols}x{rows}<f32>"
    scalar = {"float": "f32", "int": "i32", "uint": "u32", "bool": "bool"}[_base(t)]
    n = _size(t)
    return scalar if n == 1 else f"vec{n}<{scalar}>"


def _float_literal(value: float) -> str:
    """A WGSL literal that becomes exactly the f32 nearest to ``value``."""
    as_f32 = np.float32(value)
    if not np.isfinite(as_f32):
        bits = 0x7F800000 if as_f32 > 0 else 0xFF800000
        return f"bitcast<f32>({bits}u)"
    text = repr(float(as_f32))
    return text if ("." in text or "e" in text) else text + ".0"


# --------------------------------------------------------------------------------------
# GLSL -> WGSL translation
# --------------------------------------------------------------------------------------

#: GLSL functions with a WGSL namesake that works component-wise (arguments of one type).
# fmt: off
_COMPONENTWISE = {name: name for name in (
    "abs", "sign", "floor", "ceil", "fract", "trunc", "round", "exp", "exp2", "log", "log2",
    "sqrt", "sin", "cos", "tan", "asin", "acos", "sinh", "cosh", "tanh", "radians", "degrees",
    "normalize", "pow", "min", "max", "clamp", "mix", "step", "smoothstep", "fma",
)} | {"inversesqrt": "inverseSqrt"}
# fmt: on
_SCALAR_RESULT_BUILTINS = {"dot": "dot", "length": "length", "distance": "distance"}
_COMPARISONS = {
    "lessThan": "<",
    "lessThanEqual": "<=",
    "greaterThan": ">",
    "greaterThanEqual": ">=",
    "equal": "==",
    "notEqual": "!=",
}


@dataclass
class _Symbol:
    wgsl: str
    type: str
    kind: str  # "var", "let", "param", "const", "function", "data", "uniform", "sampler"


@dataclass
class _Texture:
    sampler: str
    kind: str  # "1d", "2d", "3d"
    width: int
    height: int
    channels: int
    linear: bool


class _Translator:
    """Emits WGSL for a parsed OCIO GLSL module, with GLSL's typing rules made explicit."""

    def __init__(self, prefix: str, data_buffer: str, textures: dict[str, _Texture]):
        self.prefix = prefix
        self.data = data_buffer
        self.textures = textures
        self.globals: dict[str, _Symbol] = {}
        self.functions: dict[str, tuple[str, list[str]]] = {}
        self.scopes: list[dict[str, _Symbol]] = []
        self.lines: list[str] = []
        self.indent = 0
        self.return_type = "void"
        self.temp_count = 0
        self.tables: list[tuple[str, str, np.ndarray]] = []  # (name, glsl type, values)
        self.uniforms: list[tuple[str, str, int]] = []  # (name, glsl type, length)
        self.uses_data = False

    # -- output helpers
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def global_name(self, name: str) -> str:
        """WGSL name of a GLSL global: prefixed, never ending in '_' (locals do), and never
        one of the helper names of ocio.wgsl."""
        helpers = ("texel", "texel3d", "tex1d", "tex2d", "tex3d", "apply_premult", "data")
        reserved = {f"{self.prefix}_{h}" for h in helpers}
        if name.startswith(self.prefix + "_") and not name.endswith("_") and name not in reserved:
            return name
        return f"{self.prefix}_g_{name}"

    def lookup(self, name: str) -> _Symbol:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if name in self.globals:
            return self.globals[name]
        raise OcioTranslationError(f"unknown identifier {name!r}")

    def declare(self, name: str, type_name: str, kind: str) -> _Symbol:
        symbol = _Symbol(f"{name}_", type_name, kind)
        self.scopes[-1][name] = symbol
        return symbol

    def new_temp(self) -> str:
        self.temp_count += 1
        return f"swizzle{self.temp_count}"

    # -- module
    def translate(self, items: list[tuple]) -> str:
        for item in items:
            if item[0] == "uniform":
                self.declare_uniforms(item[1], item[2])
            elif item[0] == "global":
                self.declare_global(item[1], item[2], item[3])
            elif item[0] == "function":
                _, return_type, name, params, _body = item
                self.functions[name] = (return_type, [t for t, _ in params])
                self.globals[name] = _Symbol(self.global_name(name), return_type, "function")
        for item in items:
            if item[0] == "function":
                self.function(*item[1:])
        return "\n".join(self.lines) + "\n"

    def declare_uniforms(self, type_name: str, declarators: list[tuple]) -> None:
        if type_name.startswith("sampler"):
            for name, _length, _init in declarators:
                if name not in self.textures:
                    raise OcioTranslationError(f"sampler {name!r} has no OCIO texture")
                self.globals[name] = _Symbol(name, type_name, "sampler")
            return
        if type_name not in ("float", "int", "bool", "vec3"):
            raise OcioTranslationError(f"uniform type {type_name!r} is not supported")
        for name, length, _init in declarators:
            full_type = f"{type_name}[{length}]" if length else type_name
            self.uniforms.append((name, type_name, length or 1))
            self.globals[name] = _Symbol(name, full_type, "uniform")

    def declare_global(self, is_const: bool, type_name: str, declarators: list[tuple]) -> None:
        for name, length, init in declarators:
            if init is None or not is_const:
                raise OcioTranslationError(f"global variable {name!r} must be a constant")
            if length is not None:
                values = _literal_array(init)
                if values is not None and type_name in ("float", "int"):
                    self.tables.append((name, type_name, values))
                    self.globals[name] = _Symbol(name, f"{type_name}[{length}]", "data")
                    continue
            full_type = f"{type_name}[{length}]" if length else type_name
            self.scopes = [{}]
            code = self.coerce(self.expr(init), full_type)
            self.scopes = []
            wgsl = self.global_name(name)
            self.lines.append(f"const {wgsl}: {_wgsl_type(full_type)} = {code};")
            self.globals[name] = _Symbol(wgsl, full_type, "const")

    def function(self, return_type: str, name: str, params: list, body: tuple) -> None:
        self.scopes = [{}]
        self.return_type = return_type
        mutated = _assigned_names(body)
        signature, copies = [], []
        for ptype, pname in params:
            symbol = self.declare(pname, ptype, "var" if pname in mutated else "param")
            if pname in mutated:
                signature.append(f"{pname}_p: {_wgsl_type(ptype)}")
                copies.append(f"var {symbol.wgsl}: {_wgsl_type(ptype)} = {pname}_p;")
            else:
                signature.append(f"{symbol.wgsl}: {_wgsl_type(ptype)}")
        result = "" if return_type == "void" else f" -> {_wgsl_type(return_type)}"
        self.emit(f"fn {self.global_name(name)}({', '.join(signature)}){result} {{")
        self.indent += 1
        for line in copies:
            self.emit(line)
        for statement in body[1]:
            self.statement(statement)
        self.indent -= 1
        self.emit("}")
        self.emit("")
        self.scopes = []

    # -- statements
    def statement(self, s: tuple) -> None:
        getattr(self, f"stmt_{s[0]}")(s)

    def stmt_empty(self, s: tuple) -> None:
        pass

    def stmt_block(self, s: tuple) -> None:
        self.emit("{")
        self.body(s)
        self.emit("}")

    def body(self, s: tuple) -> None:
        """Statements of ``s`` (a block or a single statement) in a new scope, indented."""
        self.scopes.append({})
        self.indent += 1
        for statement in s[1] if s[0] == "block" else [s]:
            self.statement(statement)
        self.indent -= 1
        self.scopes.pop()

    def stmt_decl(self, s: tuple) -> None:
        self.emit(self.declaration(s))

    def declaration(self, s: tuple) -> str:
        _, is_const, type_name, declarators = s
        parts = []
        for name, length, init in declarators:
            full_type = f"{type_name}[{length}]" if length else type_name
            code = None if init is None else self.coerce(self.expr(init), full_type)
            keyword = "let" if is_const and code is not None else "var"
            symbol = self.declare(name, full_type, keyword)
            text = f"{keyword} {symbol.wgsl}: {_wgsl_type(full_type)}"
            parts.append(text + ("" if code is None else f" = {code}"))
        return "; ".join(parts) + ";"

    def stmt_expr(self, s: tuple) -> None:
        self.emit(self.simple(s))

    def stmt_assign(self, s: tuple) -> None:
        self.emit(self.simple(s))

    def simple(self, s: tuple) -> str:
        """An expression or assignment statement, as WGSL text ending in ';'."""
        if s[0] == "decl":
            return self.declaration(s)
        if s[0] == "assign":
            return self.assignment(s[1], s[2], s[3])
        expr = s[1]
        if expr[0] in ("un", "post") and expr[1] in ("++", "--"):
            target = expr[2]
            return self.assignment(expr[1][0] + "=", target, ("num", "1"))
        code, _ = self.expr(expr)
        return f"_ = {code};"

    def assignment(self, op: str, target: tuple, value: tuple) -> str:
        root, components = self.split_swizzle(target)
        if op != "=":
            value = ("bin", op[0], target, value)
            op = "="
        root_code, root_type = self.lvalue(root)
        if components is None:
            return f"{root_code} = {self.coerce(self.expr(value), root_type)};"
        target_type = _make(_base(root_type), len(components))
        code = self.coerce(self.expr(value), target_type)
        if len(components) == 1:
            return f"{root_code}.{'xyzw'[components[0]]} = {code};"
        if components == list(range(_size(root_type))):
            return f"{root_code} = {code};"
        temp = self.new_temp()
        parts = [f"let {temp} = {code};"]
        for k, comp in enumerate(components):
            parts.append(f"{root_code}.{'xyzw'[comp]} = {temp}.{'xyzw'[k]};")
        return "{ " + " ".join(parts) + " }"

    def split_swizzle(self, target: tuple) -> tuple[tuple, list[int] | None]:
        """(root, composed component indices) of an assignment target."""
        chain = []
        while target[0] == "field":
            chain.append(target[2])
            target = target[1]
        if not chain:
            return target, None
        components = None
        for letters in reversed(chain):
            picked = _swizzle_indices(letters)
            components = picked if components is None else [components[i] for i in picked]
        return target, components

    def lvalue(self, e: tuple) -> tuple[str, str]:
        if e[0] == "id":
            symbol = self.lookup(e[1])
            if symbol.kind != "var":
                raise OcioTranslationError(f"cannot assign to {e[1]!r}")
            return symbol.wgsl, symbol.type
        if e[0] == "idx":
            code, type_name = self.lvalue(e[1])
            index = self.coerce(self.expr(e[2]), "int")
            return f"{code}[{index}]", _element_type(type_name)
        raise OcioTranslationError("unsupported assignment target")

    def stmt_if(self, s: tuple) -> None:
        _, cond, then, other = s
        self.emit(f"if ({self.coerce(self.expr(cond), 'bool')}) {{")
        self.body(then)
        while other is not None and other[0] == "if":
            self.emit(f"}} else if ({self.coerce(self.expr(other[1]), 'bool')}) {{")
            self.body(other[2])
            other = other[3]
        if other is not None:
            self.emit("} else {")
            self.body(other)
        self.emit("}")

    def stmt_for(self, s: tuple) -> None:
        _, init, cond, step, body = s
        self.scopes.append({})
        init_code = self.simple(init)[:-1] if init else ""
        cond_code = self.coerce(self.expr(cond), "bool") if cond else ""
        step_code = self.simple(step)[:-1] if step else ""
        if step_code.startswith("{") or ";" in init_code:
            raise OcioTranslationError("for-loop init and step must be single statements")
        self.emit(f"for ({init_code}; {cond_code}; {step_code}) {{")
        self.body(body)
        self.emit("}")
        self.scopes.pop()

    def stmt_while(self, s: tuple) -> None:
        self.emit(f"while ({self.coerce(self.expr(s[1]), 'bool')}) {{")
        self.body(s[2])
        self.emit("}")

    def stmt_do(self, s: tuple) -> None:
        self.emit("loop {")
        self.body(s[1])
        self.indent += 1
        self.emit(f"continuing {{ break if !({self.coerce(self.expr(s[2]), 'bool')}); }}")
        self.indent -= 1
        self.emit("}")

    def stmt_return(self, s: tuple) -> None:
        if s[1] is None:
            self.emit("return;")
        else:
            self.emit(f"return {self.coerce(self.expr(s[1]), self.return_type)};")

    def stmt_break(self, s: tuple) -> None:
        self.emit("break;")

    def stmt_continue(self, s: tuple) -> None:
        self.emit("continue;")

    # -- expressions: each returns (wgsl code, glsl type)
    def expr(self, e: tuple) -> tuple[str, str]:
        return getattr(self, f"expr_{e[0]}")(e)

    def expr_num(self, e: tuple) -> tuple[str, str]:
        text = e[1]
        if re.fullmatch(r"\d+[uU]?", text):
            if text[-1] in "uU":
                return f"{text[:-1]}u", "uint"
            return text, "int"
        return _float_literal(float(text.rstrip("fF"))), "float"

    def expr_bool(self, e: tuple) -> tuple[str, str]:
        return e[1], "bool"

    def expr_id(self, e: tuple) -> tuple[str, str]:
        symbol = self.lookup(e[1])
        if symbol.kind in ("data", "uniform") and "[" in symbol.type:
            raise OcioTranslationError(f"table {e[1]!r} must be indexed")
        if symbol.kind == "uniform":
            return self.uniform_read(symbol, "0"), symbol.type
        if symbol.kind in ("sampler", "function"):
            raise OcioTranslationError(f"{e[1]!r} used as a value")
        return symbol.wgsl, symbol.type

    def uniform_read(self, symbol: _Symbol, index: str) -> str:
        self.uses_data = True
        base = _base(symbol.type.split("[")[0])
        if symbol.type.startswith("vec3"):
            start = f"{symbol.wgsl}_OFFSET + 3 * ({index})"
            return f"vec3<f32>({', '.join(f'{self.data}[{start} + {k}]' for k in range(3))})"
        slot = f"{self.data}[{symbol.wgsl}_OFFSET + {index}]"
        return {"float": slot, "int": f"i32({slot})", "bool": f"({slot} != 0.0)"}[base]

    def expr_idx(self, e: tuple) -> tuple[str, str]:
        index = self.coerce(self.expr(e[2]), "int")
        if e[1][0] == "id":
            symbol = self.lookup(e[1][1])
            if symbol.kind == "uniform":
                return self.uniform_read(symbol, index), _element_type(symbol.type)
            if symbol.kind == "data":
                self.uses_data = True
                element = _element_type(symbol.type)
                slot = f"{self.data}[{symbol.wgsl}_OFFSET + {index}]"
                return (slot if element == "float" else f"i32({slot})"), element
        code, type_name = self.expr(e[1])
        return f"{code}[{index}]", _element_type(type_name)

    def expr_field(self, e: tuple) -> tuple[str, str]:
        code, type_name = self.expr(e[1])
        components = _swizzle_indices(e[2])
        n = _size(type_name)
        if n == 0 or max(components) >= n:
            raise OcioTranslationError(f"bad swizzle .{e[2]} on {type_name}")
        result = _make(_base(type_name), len(components))
        if n == 1:
            return (code if len(components) == 1 else f"{_wgsl_type(result)}({code})"), result
        return f"{code}.{''.join('xyzw'[c] for c in components)}", result

    def expr_un(self, e: tuple) -> tuple[str, str]:
        op = e[1]
        if op in ("++", "--"):
            raise OcioTranslationError("++/-- inside an expression is not supported")
        code, type_name = self.expr(e[2])
        if op == "+":
            return code, type_name
        if op == "!":
            return f"!({self.coerce((code, type_name), 'bool')})", "bool"
        return f"({op}{code})", type_name

    def expr_post(self, e: tuple) -> tuple[str, str]:
        raise OcioTranslationError("++/-- inside an expression is not supported")

    def expr_bin(self, e: tuple) -> tuple[str, str]:
        op, left, right = e[1], self.expr(e[2]), self.expr(e[3])
        if op in ("&&", "||"):
            return f"({self.coerce(left, 'bool')} {op} {self.coerce(right, 'bool')})", "bool"
        if _is_matrix(left[1]) or _is_matrix(right[1]):
            return self.matrix_product(op, left, right)
        base = _common_base(left[1], right[1])
        n = max(_size(left[1]), _size(right[1]))
        if op in ("==", "!=", "<", ">", "<=", ">="):
            a = self.coerce(left, _make(base, n))
            b = self.coerce(right, _make(base, n))
            if n > 1:  # GLSL compares whole vectors
                return f"{'all' if op == '==' else 'any'}({a} {op} {b})", "bool"
            return f"({a} {op} {b})", "bool"
        a = self.coerce(left, _make(base, _size(left[1])))
        b = self.coerce(right, _make(base, _size(right[1])))
        return f"({a} {op} {b})", _make(base, n)

    def matrix_product(self, op: str, left: tuple, right: tuple) -> tuple[str, str]:
        lt, rt = left[1], right[1]
        if op not in ("*", "+", "-", "/"):
            raise OcioTranslationError(f"operator {op} on matrices")
        a = self.coerce(left, lt if _is_matrix(lt) else _make("float", _size(lt)))
        b = self.coerce(right, rt if _is_matrix(rt) else _make("float", _size(rt)))
        if op == "*" and _is_matrix(lt) and _size(rt) > 1:
            result = f"vec{_matrix_shape(lt)[1]}"
        elif op == "*" and _size(lt) > 1 and _is_matrix(rt):
            result = f"vec{_matrix_shape(rt)[0]}"
        elif op == "*" and _is_matrix(lt) and _is_matrix(rt):
            result = f"mat{_matrix_shape(rt)[0]}x{_matrix_shape(lt)[1]}"
        else:
            result = lt if _is_matrix(lt) else rt
            if op == "/":
                raise OcioTranslationError("matrix division")
        return f"({a} {op} {b})", result

    def expr_cond(self, e: tuple) -> tuple[str, str]:
        cond = self.coerce(self.expr(e[1]), "bool")
        then, other = self.expr(e[2]), self.expr(e[3])
        if _is_matrix(then[1]):
            result = then[1]
        else:
            n = max(_size(then[1]), _size(other[1]))
            result = _make(_common_base(then[1], other[1]), n)
        a, b = self.coerce(then, result), self.coerce(other, result)
        return f"select({b}, {a}, {cond})", result

    def expr_array(self, e: tuple) -> tuple[str, str]:
        _, elem, length, args = e
        if len(args) != length:
            raise OcioTranslationError(f"{elem}[{length}] built from {len(args)} values")
        values = ", ".join(self.coerce(self.expr(a), elem) for a in args)
        full = f"{elem}[{length}]"
        return f"{_wgsl_type(full)}({values})", full

    def expr_call(self, e: tuple) -> tuple[str, str]:
        name, args = e[1], e[2]
        if name in _TYPE_NAMES:
            return self.constructor(name, [self.expr(a) for a in args])
        if name == "texture":
            return self.texture(args)
        if name in self.functions:
            return_type, param_types = self.functions[name]
            values = [self.expr(a) for a in args]
            codes = [self.coerce(v, t) for v, t in zip(values, param_types, strict=True)]
            return f"{self.global_name(name)}({', '.join(codes)})", return_type
        return self.builtin(name, [self.expr(a) for a in args])

    def constructor(self, name: str, args: list[tuple[str, str]]) -> tuple[str, str]:
        if name in _SCALARS:
            if len(args) != 1:
                raise OcioTranslationError(f"{name}() takes one value")
            code, type_name = args[0]
            if _size(type_name) > 1:
                code, type_name = f"{code}.x", _base(type_name)
            return self.coerce((code, type_name), name), name
        if _is_matrix(name):
            return self.matrix_constructor(name, args)
        n, base = _size(name), _base(name)
        if len(args) == 1 and _size(args[0][1]) == 1:
            return f"{_wgsl_type(name)}({self.coerce(args[0], base)})", name
        if len(args) == 1 and _size(args[0][1]) > n:
            code = f"{args[0][0]}.{'xyzw'[:n]}"
            return self.coerce((code, _make(_base(args[0][1]), n)), name), name
        if len(args) == 1 and _size(args[0][1]) == n:
            return self.coerce(args[0], name), name
        parts = [self.coerce(a, _make(base, _size(a[1]))) for a in args]
        if sum(_size(a[1]) for a in args) != n:
            raise OcioTranslationError(f"{name}() built from the wrong number of components")
        return f"{_wgsl_type(name)}({', '.join(parts)})", name

    def matrix_constructor(self, name: str, args: list[tuple[str, str]]) -> tuple[str, str]:
        cols, rows = _matrix_shape(name)
        if len(args) == 1 and _is_matrix(args[0][1]):
            src_cols, src_rows = _matrix_shape(args[0][1])
            if src_cols < cols or src_rows < rows:
                raise OcioTranslationError(f"{name}() from a smaller matrix")
            columns = [f"{args[0][0]}[{c}].{'xyzw'[:rows]}" for c in range(cols)]
            return f"{_wgsl_type(name)}({', '.join(columns)})", name
        if len(args) == 1:
            value = self.coerce(args[0], "float")
            zero = "0.0"
            flat = [value if r == c else zero for c in range(cols) for r in range(rows)]
            return f"{_wgsl_type(name)}({', '.join(flat)})", name
        parts = [self.coerce(a, _make("float", _size(a[1]))) for a in args]
        return f"{_wgsl_type(name)}({', '.join(parts)})", name

    def builtin(self, name: str, args: list[tuple[str, str]]) -> tuple[str, str]:
        if name in _COMPARISONS:
            a, b = args
            n = _size(a[1])
            base = _common_base(a[1], b[1])
            op = _COMPARISONS[name]
            return f"({self.coerce(a, _make(base, n))} {op} {self.coerce(b, _make(base, n))})", (
                _make("bool", n)
            )
        if name in ("any", "all"):
            return f"{name}({args[0][0]})", "bool"
        if name == "not":
            return f"(!{args[0][0]})", args[0][1]
        if name == "isnan":
            code, type_name = args[0]
            return f"({code} != {code})", _make("bool", _size(type_name))
        if name == "mix" and _base(args[2][1]) == "bool":
            n = max(_size(args[0][1]), _size(args[1][1]))
            a, b = (self.coerce(x, _make("float", n)) for x in args[:2])
            return f"select({a}, {b}, {args[2][0]})", _make("float", n)
        if name == "atan":
            name = "atan2" if len(args) == 2 else "atan"
            return self.generic_builtin(name, args)
        if name == "mod":
            x, y = self.generic_arguments(args)
            return f"({x} - {y} * floor({x} / {y}))", self.generic_type(args)
        if name == "cross":
            return f"cross({args[0][0]}, {args[1][0]})", "vec3"
        if name in _SCALAR_RESULT_BUILTINS:
            codes = self.generic_arguments(args)
            return f"{_SCALAR_RESULT_BUILTINS[name]}({', '.join(codes)})", "float"
        if name in _COMPONENTWISE:
            return self.generic_builtin(_COMPONENTWISE[name], args)
        raise OcioTranslationError(f"unsupported GLSL function {name}()")

    def generic_type(self, args: list[tuple[str, str]]) -> str:
        base = "float"
        if all(_base(t) == "int" for _, t in args):
            base = "int"
        return _make(base, max(_size(t) for _, t in args))

    def generic_arguments(self, args: list[tuple[str, str]]) -> list[str]:
        """Arguments of a component-wise builtin, all of one type (scalars splatted)."""
        return [self.coerce(a, self.generic_type(args)) for a in args]

    def generic_builtin(self, wgsl: str, args: list[tuple[str, str]]) -> tuple[str, str]:
        return f"{wgsl}({', '.join(self.generic_arguments(args))})", self.generic_type(args)

    def texture(self, args: list[tuple]) -> tuple[str, str]:
        if len(args) != 2 or args[0][0] != "id":
            raise OcioTranslationError("texture() needs a sampler and coordinates")
        symbol = self.lookup(args[0][1])
        if symbol.kind != "sampler":
            raise OcioTranslationError(f"{args[0][1]!r} is not a sampler")
        tex = self.textures[symbol.wgsl]
        self.uses_data = True
        dims = {"1d": 1, "2d": 2, "3d": 3}[tex.kind]
        coords = self.coerce(self.expr(args[1]), _make("float", dims))
        filt = "true" if tex.linear else "false"
        p = self.prefix
        offset = f"{tex.sampler}_OFFSET"
        if tex.kind == "1d":
            call = f"{p}_tex1d({offset}, {tex.width}, {tex.channels}, {filt}, {coords})"
        elif tex.kind == "2d":
            size = f"{tex.width}, {tex.height}"
            call = f"{p}_tex2d({offset}, {size}, {tex.channels}, {filt}, {coords})"
        else:
            call = f"{p}_tex3d({offset}, {tex.width}, {filt}, {coords})"
        return call, "vec4"

    # -- conversions
    def coerce(self, value: tuple[str, str], target: str) -> str:
        """WGSL code for ``value`` converted, as GLSL would implicitly, to ``target``."""
        code, source = value
        if source == target or "[" in target:
            return code
        if _is_matrix(target) or _is_matrix(source):
            raise OcioTranslationError(f"cannot convert {source} to {target}")
        n_src, n_dst = _size(source), _size(target)
        if n_src == 1 and n_dst > 1:
            return f"{_wgsl_type(target)}({self.coerce(value, _base(target))})"
        if n_src != n_dst:
            raise OcioTranslationError(f"cannot convert {source} to {target}")
        src_base, dst_base = _base(source), _base(target)
        if src_base == dst_base:
            return code
        if src_base in ("int", "uint") and dst_base == "float" and re.fullmatch(r"\d+u?", code):
            return _float_literal(float(code.rstrip("u")))
        if src_base == "bool":
            one = {"float": "1.0", "int": "1", "uint": "1u"}[dst_base]
            zero = {"float": "0.0", "int": "0", "uint": "0u"}[dst_base]
            t = _wgsl_type(target)
            return f"select({t}({zero}), {t}({one}), {code})"
        if dst_base == "bool":
            zero = {"float": "0.0", "int": "0", "uint": "0u"}[src_base]
            return f"({code} != {_wgsl_type(source)}({zero}))"
        return f"{_wgsl_type(target)}({code})"


def _common_base(a: str, b: str) -> str:
    bases = {_base(a), _base(b)}
    if "float" in bases or _is_matrix(a) or _is_matrix(b):
        return "float"
    if "uint" in bases:
        return "uint"
    if "int" in bases:
        return "int"
    return "bool"


def _element_type(type_name: str) -> str:
    if "[" in type_name:
        return type_name.split("[")[0]
    if _is_matrix(type_name):
        return f"vec{_matrix_shape(type_name)[1]}"
    if _size(type_name) > 1:
        return _base(type_name)
    raise OcioTranslationError(f"cannot index a {type_name}")


def _swizzle_indices(letters: str) -> list[int]:
    for alphabet in _SWIZZLE_SETS:
        if all(ch in alphabet for ch in letters):
            return [alphabet.index(ch) for ch in letters]
    raise OcioTranslationError(f"unsupported field .{letters}")


def _literal_array(init: tuple) -> np.ndarray | None:
    """Values of ``float[N](1.0, -2.0, ...)`` when all are numeric literals, else None."""
    if init[0] != "array":
        return None
    values = []
    for arg in init[3]:
        sign = 1.0
        while arg[0] == "un" and arg[1] in "+-":
            sign = -sign if arg[1] == "-" else sign
            arg = arg[2]
        if arg[0] != "num":
            return None
        values.append(sign * float(arg[1].rstrip("fFuU")))
    return np.asarray(values, np.float64)


def _assigned_names(node: Any) -> set[str]:
    """Identifiers that are assigned to (or incremented) anywhere inside ``node``."""
    found: set[str] = set()

    def root(target: tuple) -> str | None:
        while target[0] in ("field", "idx"):
            target = target[1]
        return target[1] if target[0] == "id" else None

    def walk(n: Any) -> None:
        if isinstance(n, tuple) and n:
            if n[0] == "assign" or n[0] in ("un", "post") and n[1] in ("++", "--"):
                found.add(root(n[2]))
            for child in n[1:]:
                walk(child)
        elif isinstance(n, list):
            for child in n:
                walk(child)

    walk(node)
    return found - {None}


def translate_glsl(glsl: str, prefix: str) -> str:
    """Translate GLSL 4.0 in OCIO's dialect into WGSL declarations (for tests and debugging).

    Tables and uniforms stay as ``NAME_OFFSET`` placeholders, and samplers are unknown:
    :func:`build_ocio_program` is the full path from a processor.

    Raises
    ------
    OcioTranslationError
        On a GLSL construct the translator does not handle, naming the GLSL line where the
        parser found it.
    """
    return _Translator(prefix, f"{prefix}_data", {}).translate(_Parser(glsl).parse_module())


# --------------------------------------------------------------------------------------
# Building a program from a processor
# --------------------------------------------------------------------------------------


def _shader_desc(processor: OCIO.Processor, prefix: str) -> OCIO.GpuShaderDesc:
    desc = OCIO.GpuShaderDesc.CreateShaderDesc(
        language=OCIO.GPU_LANGUAGE_GLSL_4_0,
        functionName=f"{prefix}_apply",
        resourcePrefix=prefix,
        uid="",
    )
    desc.setTextureMaxWidth(_TEXTURE_MAX_WIDTH)
    processor.getDefaultGPUProcessor().extractGpuShaderInfo(desc)
    return desc


def _uniform_slots(uniform: OcioUniform, data: Any) -> np.ndarray:
    """The f32 slots of one uniform's current value (arrays padded to their declared length)."""
    kind = data.type
    if kind == OCIO.UNIFORM_DOUBLE:
        values = [data.getDouble()]
    elif kind == OCIO.UNIFORM_BOOL:
        values = [1.0 if data.getBool() else 0.0]
    elif kind == OCIO.UNIFORM_FLOAT3:
        values = list(data.getFloat3())
    elif kind == OCIO.UNIFORM_VECTOR_FLOAT:
        values = list(data.getVectorFloat())
    elif kind == OCIO.UNIFORM_VECTOR_INT:
        values = list(data.getVectorInt())
    else:
        raise OcioTranslationError(f"uniform {uniform.name!r} has an unknown type")
    slots = np.zeros(uniform.size, np.float32)
    slots[: min(len(values), uniform.size)] = values[: uniform.size]
    return slots


def _collect_textures(desc: OCIO.GpuShaderDesc) -> list[tuple[_Texture, np.ndarray, str]]:
    found = []
    for tex in desc.getTextures():
        kind = "1d" if tex.dimensions == OCIO.GpuShaderDesc.TEXTURE_1D else "2d"
        channels = 1 if tex.channel == OCIO.GpuShaderDesc.TEXTURE_RED_CHANNEL else 3
        linear = tex.interpolation != OCIO.INTERP_NEAREST
        values = np.asarray(tex.getValues(), np.float32).ravel()
        if values.size != tex.width * tex.height * channels:
            raise OcioTranslationError(f"texture {tex.textureName!r} has an unexpected size")
        t = _Texture(tex.samplerName, kind, tex.width, tex.height, channels, linear)
        found.append((t, values, tex.textureName))
    for tex in desc.get3DTextures():
        linear = tex.interpolation != OCIO.INTERP_NEAREST
        values = np.asarray(tex.getValues(), np.float32).ravel()
        if values.size != tex.edgeLen**3 * 3:
            raise OcioTranslationError(f"texture {tex.textureName!r} has an unexpected size")
        t = _Texture(tex.samplerName, "3d", tex.edgeLen, tex.edgeLen, 3, linear)
        found.append((t, values, tex.textureName))
    return found


def _layout_data(
    translator: _Translator, textures: list[tuple[_Texture, np.ndarray, str]], desc: Any
) -> tuple[np.ndarray, tuple[OcioUniform, ...], tuple[OcioLut, ...], dict[str, int]]:
    """Place uniforms, constant tables and textures in one f32 array."""
    chunks, offset, offsets = [], 0, {}
    uniforms = []
    current = dict(desc.getUniforms())
    for name, glsl_type, length in translator.uniforms:
        uniform = OcioUniform(name, glsl_type, length, offset)
        if name not in current:
            raise OcioTranslationError(f"uniform {name!r} has no OCIO value")
        chunks.append(_uniform_slots(uniform, current[name]))
        uniforms.append(uniform)
        offsets[name] = offset
        offset += uniform.size
    luts = []
    for name, glsl_type, values in translator.tables:
        table = values.astype(np.float32)
        luts.append(OcioLut(name, "table", (len(table),), 1, "nearest", offset, table))
        chunks.append(table)
        offsets[name] = offset
        offset += table.size
    for tex, values, tex_name in textures:
        shape = {"1d": (tex.width,), "2d": (tex.height, tex.width)}.get(tex.kind, (tex.width,) * 3)
        interp = "linear" if tex.linear else "nearest"
        luts.append(OcioLut(tex_name, tex.kind, shape, tex.channels, interp, offset, values))
        offsets[tex.sampler] = offset
        chunks.append(values)
        offset += values.size
    data = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return data.astype(np.float32), tuple(uniforms), tuple(luts), offsets


@functools.cache
def _template(name: str) -> string.Template:
    """One ``//! section NAME`` of ocio.wgsl, as a template over ``${prefix}``."""
    text = resources.files(__package__).joinpath("ocio.wgsl").read_text(encoding="utf-8")
    sections = dict(re.findall(r"//! section (\w+)\n(.*?)//! end", text, re.DOTALL))
    return string.Template(sections[name])


def build_ocio_program(processor: OCIO.Processor, prefix: str = "ocio0") -> OcioGpuProgram:
    """Build the WGSL program for an OCIO processor.

    Parameters
    ----------
    processor : PyOpenColorIO.Processor
        Any processor, e.g. ``config.getProcessor("ACEScg", "ACEScct")`` or one of a
        ``DisplayViewTransform``.
    prefix : str
        A WGSL identifier that starts every name the program declares, so that several
        programs can share one shader module (``"ocio0"``, ``"ocio1"``...).

    Returns
    -------
    OcioGpuProgram

    Raises
    ------
    OcioTranslationError
        When OCIO's shader uses something the translator cannot express in WGSL; such a
        processor runs on the CPU (:func:`gpu_supported` says so without raising).
    """
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", prefix):
        raise ValueError(f"prefix must be letters and digits, got {prefix!r}")
    desc = _shader_desc(processor, prefix)
    glsl = desc.getShaderText()
    textures = _collect_textures(desc)
    by_sampler = {tex.sampler: tex for tex, _, _ in textures}
    items = _Parser(glsl).parse_module()
    translator = _Translator(prefix, f"{prefix}_data", by_sampler)
    # The WGSL refers to each table as NAME_OFFSET until the data buffer is laid out.
    body = translator.translate(items)
    data, uniforms, luts, offsets = _layout_data(translator, textures, desc)
    body = re.sub(r"\b(\w+)_OFFSET\b", lambda m: str(offsets.get(m[1], m[0])), body)
    uses_data = translator.uses_data and data.size > 0
    parts = [f"// OCIO processor {processor.getCacheID()} (translated from GLSL)\n", body]
    if textures and uses_data:
        parts.append(_template("sampling").substitute(prefix=prefix))
    keeps_black = color._keeps_black(color.cpu(processor))
    parts.append(
        _template("premult").substitute(prefix=prefix, keeps_black=str(keeps_black).lower())
    )
    return OcioGpuProgram(
        key=processor.getCacheID(),
        prefix=prefix,
        language="wgsl",
        function_name=f"{prefix}_apply",
        premult_function_name=f"{prefix}_apply_premult",
        source="".join(parts),
        keeps_black=keeps_black,
        data_buffer=f"{prefix}_data" if uses_data else None,
        data=data,
        luts=luts,
        uniforms=uniforms,
        glsl=glsl,
        _shader_desc=desc,
    )


# --------------------------------------------------------------------------------------
# Which processors match the CPU within 1e-4
# --------------------------------------------------------------------------------------

#: Inverses that amplify f32 rounding: the GPU program and OCIO's CPU processor both
#: round-trip within ~4e-5, yet differ by 1e-4..1e-2 (relative) from each other on
#: in-range data, because inverting a highlight roll-off or a gamut compression stretches
#: the last bits of its input (docs/gpu-ocio.md, "Measured errors").
_ILL_CONDITIONED_INVERSES = {
    "FIXED_FUNCTION_ACES_OUTPUT_TRANSFORM_20",
    "FIXED_FUNCTION_ACES_TONESCALE_COMPRESS_20",
    "FIXED_FUNCTION_ACES_GAMUT_COMPRESS_20",
    "FIXED_FUNCTION_ACES_GAMUT_COMP_13",
    "FIXED_FUNCTION_ACES_RED_MOD_03",
    "FIXED_FUNCTION_ACES_RED_MOD_10",
    "FIXED_FUNCTION_ACES_GLOW_03",
    "FIXED_FUNCTION_ACES_GLOW_10",
    "FIXED_FUNCTION_LIN_TO_PQ",
}


def _inexact_op(transform: Any) -> str:
    """Why one transform of a processor's group is not within 1e-4 on the GPU, or ''."""
    inverse = transform.getDirection() == OCIO.TRANSFORM_DIR_INVERSE
    if isinstance(transform, OCIO.FixedFunctionTransform) and inverse:
        style = transform.getStyle().name
        if style in _ILL_CONDITIONED_INVERSES:
            return f"inverse {style} is ill-conditioned in float32 (GPU and CPU differ > 1e-4)"
    if isinstance(transform, OCIO.GradingRGBCurveTransform) and inverse:
        return "inverse ACES 1.x tone curve (inverse GradingRGBCurve) is ill-conditioned"
    return ""


def gpu_supported(processor: OCIO.Processor) -> tuple[bool, str]:
    """Whether ``processor`` runs on the GPU within 1e-4 of OCIO's CPU processor, and why not.

    Returns ``(True, "")`` when the shader translates and none of its operations is on the
    list of inverses whose float32 results drift apart (inverse ACES output transforms,
    inverse gamut compression, PQ decoding...). Otherwise ``(False, reason)``: the planner
    should then run this node on the CPU inside a GPU graph. A WGSL compile failure on a
    particular device (a translator bug) is only seen by :class:`OcioPipeline`; the backend
    treats that as a fallback too.
    """
    for transform in processor.createGroupTransform():
        reason = _inexact_op(transform)
        if reason:
            return False, reason
    try:
        build_ocio_program(processor)
    except OcioTranslationError as error:
        return False, f"OCIO's shader cannot be translated to WGSL: {error}"
    return True, ""


# --------------------------------------------------------------------------------------
# Running a program (reference runner for tests and for the backend integration)
# --------------------------------------------------------------------------------------


def _numbered(source: str) -> str:
    return "\n".join(f"{n:4d}| {line}" for n, line in enumerate(source.splitlines(), 1))


class OcioPipeline:
    """A compiled compute pipeline that applies one :class:`OcioGpuProgram` to images.

    Create it once per (device, program) and reuse it: compiling is the expensive part.
    Images are processed in place in one storage buffer, in row blocks that fit the
    device's ``max_storage_buffer_binding_size``.
    """

    def __init__(self, device: Any, program: OcioGpuProgram):
        import wgpu

        if program.language != "wgsl":
            raise ValueError(f"only WGSL programs can run, got {program.language!r}")
        self.device = device
        self.program = program
        self.source = (
            program.source
            + program.binding_declarations(0, 1)
            + _template("runner").substitute(prefix=program.prefix)
        )
        try:
            module = device.create_shader_module(label=f"ocio {program.prefix}", code=self.source)
            self.pipeline = device.create_compute_pipeline(
                layout="auto", compute={"module": module, "entry_point": "main"}
            )
        except Exception as error:
            raise OcioTranslationError(
                f"WGSL for OCIO processor {program.key} does not compile: {error}\n"
                + _numbered(self.source)
            ) from error
        self.data = None
        if program.data_buffer is not None:
            usage = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_DST
            self.data = device.create_buffer_with_data(data=program.data, usage=usage)

    def update_uniforms(self) -> None:
        """Upload the current values of the processor's dynamic properties."""
        if self.data is not None and self.program.uniforms:
            self.device.queue.write_buffer(self.data, 0, self.program.uniform_values())

    def run(self, pixels: np.ndarray) -> np.ndarray:
        """Apply the program to a float32 H×W×4 premultiplied image; return a new array."""
        pixels = np.asarray(pixels)
        if pixels.dtype != np.float32 or pixels.ndim != 3 or pixels.shape[2] != 4:
            raise ValueError(f"expected float32 H×W×4 pixels, got {pixels.dtype} {pixels.shape}")
        height, width = pixels.shape[:2]
        out = np.empty_like(pixels)
        if pixels.size == 0:
            return out
        limit = self.device.limits["max-storage-buffer-binding-size"]
        rows = max(1, min(height, limit // (width * 16)))
        for y in range(0, height, rows):
            out[y : y + rows] = self._run_block(np.ascontiguousarray(pixels[y : y + rows]))
        return out

    def _run_block(self, block: np.ndarray) -> np.ndarray:
        import wgpu

        usage = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC
        buffer = self.device.create_buffer_with_data(data=block, usage=usage)
        entries = [{"binding": 0, "resource": {"buffer": buffer}}]
        if self.data is not None:
            entries.append({"binding": 1, "resource": {"buffer": self.data}})
        layout = self.pipeline.get_bind_group_layout(0)
        bind_group = self.device.create_bind_group(layout=layout, entries=entries)
        groups = -(-(block.shape[0] * block.shape[1]) // 256)
        groups_x = min(groups, self.device.limits["max-compute-workgroups-per-dimension"])
        encoder = self.device.create_command_encoder()
        compute = encoder.begin_compute_pass()
        compute.set_pipeline(self.pipeline)
        compute.set_bind_group(0, bind_group)
        compute.dispatch_workgroups(groups_x, -(-groups // groups_x), 1)
        compute.end()
        self.device.queue.submit([encoder.finish()])
        raw = self.device.queue.read_buffer(buffer)
        return np.frombuffer(raw, np.float32).reshape(block.shape)


def create_ocio_pipeline(device: Any, program: OcioGpuProgram) -> OcioPipeline:
    """Compile ``program`` on ``device`` (a ``wgpu.GPUDevice``) for :meth:`OcioPipeline.run`."""
    return OcioPipeline(device, program)


def run_ocio_program(device: Any, program: OcioGpuProgram, pixels: np.ndarray) -> np.ndarray:
    """Apply an OCIO program to premultiplied float32 H×W×4 pixels on the GPU.

    Colour is applied to unpremultiplied colour (where alpha > 0), then premultiplied
    again; alpha is unchanged. This compiles a pipeline on every call: keep an
    :class:`OcioPipeline` to run one program many times.

    Parameters
    ----------
    device : wgpu.GPUDevice
    program : OcioGpuProgram
        From :func:`build_ocio_program`.
    pixels : numpy.ndarray
        float32, shape (height, width, 4), premultiplied alpha.

    Returns
    -------
    numpy.ndarray
        A new float32 array of the same shape.
    """
    return create_ocio_pipeline(device, program).run(pixels)
