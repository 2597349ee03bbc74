"""What every dialect shares: reading constructor text with ``ast``, binding it to the
framework's signature, and checking argument values with the framework's wording."""

from __future__ import annotations

import ast
import dataclasses
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..dims import MAX_INT, Dim, Expr, dim_from_ast, shown
from ..errors import ConfigError, ParseError
from ..layer import Layer

MAX_LAYER_TEXT = 10_000


@dataclass(frozen=True)
class Ref:
    """A name or call we keep as text and never evaluate (``nn.ReLU()``, ``tf.float32``)."""

    text: str


@dataclass(frozen=True)
class Call:
    """``Name(args, kwargs)``, optionally applied: ``Name(...)(x, output_size=...)``."""

    name: str
    args: tuple
    kwargs: Mapping[str, object]
    text: str
    applied_kwargs: Mapping[str, object] = field(default_factory=dict)

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]


def parse_call(text: str) -> Call:
    """Read one layer: a call such as ``nn.Conv2d(3, 8, 3)``. Never evaluated."""
    if not isinstance(text, str):
        raise ParseError(f"a layer must be text, got {type(text).__name__}")
    if len(text) > MAX_LAYER_TEXT:
        raise ParseError(f"layer text of {len(text)} characters", expected=f"at most {MAX_LAYER_TEXT}")
    source = text.strip()
    try:
        node = ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ParseError(f"cannot read {source[:80]!r}: {getattr(exc, 'msg', 'too deeply nested')}",
                         expected="a layer call such as nn.Conv2d(3, 8, 3) or Conv2D(8, 3, padding='same')") from None
    return call_from_node(node, source)


def call_from_node(node: ast.expr, source: str) -> Call:
    """A :class:`Call` from an already parsed expression (``source`` is its text)."""
    applied: dict[str, object] = {}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Call):
        applied = {kw.arg: value_from_ast(kw.value) for kw in node.keywords if kw.arg}
        node = node.func
    if not isinstance(node, ast.Call):
        raise ParseError(f"{source!r} is not a layer call",
                         expected="a call such as nn.Conv2d(3, 8, 3) or Conv2D(8, 3, padding='same')")
    name = dotted_name(node.func)
    if name is None:
        raise ParseError(f"cannot read the layer name in {source!r}", expected="a name such as Conv2d or nn.Conv2d")
    for kw in node.keywords:
        if kw.arg is None:
            raise ParseError(f"**{shown(kw.value)} in {source!r} cannot be read without running code",
                             fix="write the keyword arguments out")
    if any(isinstance(a, ast.Starred) for a in node.args):
        raise ParseError(f"*args in {source!r} cannot be read without running code", fix="write the arguments out")
    args = tuple(value_from_ast(a) for a in node.args)
    kwargs: dict[str, object] = {}
    for kw in node.keywords:
        kwargs[kw.arg] = value_from_ast(kw.value)
    return Call(name, args, kwargs, source, applied)


def dotted_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def value_from_ast(node: ast.AST, depth: int = 0) -> object:
    """Literals become Python values, dim arithmetic becomes a dim, anything else a :class:`Ref`."""
    if depth > 20:
        raise ParseError("an argument is nested too deeply", expected="at most 20 levels")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, int) and not isinstance(node.value, bool) and abs(node.value) > MAX_INT:
            raise ParseError(f"{node.value} is too large", expected="integers below 2**62")
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(value_from_ast(e, depth + 1) for e in node.elts)
    if isinstance(node, ast.Dict):
        return {value_from_ast(k, depth + 1) if k is not None else None: value_from_ast(v, depth + 1)
                for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return -node.operand.value
    number = _float_arithmetic(node)
    if number is not None:
        return number
    if isinstance(node, (ast.Name, ast.BinOp, ast.UnaryOp)) or (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("floor", "ceiling")):
        try:
            return dim_from_ast(node)
        except ParseError:
            if isinstance(node, ast.Name):
                return Ref(node.id)
            raise
    if isinstance(node, (ast.Attribute, ast.Call)):
        text = shown(node, limit=10_000)
        if len(text) > 500:
            raise ParseError("an argument is too long", expected="at most 500 characters")
        return Ref(text)
    raise ParseError(f"cannot read the argument {shown(node)!r} without running code",
                     expected="numbers, strings, tuples, None, True/False or symbolic dims")


_FLOAT_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
              ast.Div: lambda a, b: a / b}


def _float_arithmetic(node: ast.AST, depth: int = 0) -> float | None:
    """``1./255`` or ``-1 / 127.5``: arithmetic on number literals with a float among them is a
    float (a scale, a rate), computed here; integer arithmetic and symbols stay dims."""
    def value(n: ast.AST, d: int) -> tuple[float, bool] | None:  # (value, has a float)
        if d > 20:
            return None
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool):
            return n.value, isinstance(n.value, float)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
            inner = value(n.operand, d + 1)
            return None if inner is None else (-inner[0] if isinstance(n.op, ast.USub) else inner[0], inner[1])
        if isinstance(n, ast.BinOp) and type(n.op) in _FLOAT_OPS:
            left, right = value(n.left, d + 1), value(n.right, d + 1)
            if left is None or right is None or (isinstance(n.op, ast.Div) and right[0] == 0):
                return None
            return _FLOAT_OPS[type(n.op)](left[0], right[0]), left[1] or right[1] or isinstance(n.op, ast.Div)
        return None
    if not isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return None
    result = value(node, depth)
    return float(result[0]) if result is not None and result[1] else None


@dataclass(frozen=True)
class Spec:
    """A constructor signature: parameter names in positional order and their defaults."""

    type: str
    params: tuple[str, ...]
    defaults: Mapping[str, object]
    build: Callable[[Call, dict], Layer]
    marker: tuple[str, ...] = ()  # keywords that only this framework's spelling uses
    primary: bool = False  # the name means this framework's layer unless the text says otherwise

    def bind(self, call: Call) -> dict:
        if len(call.args) > len(self.params):
            raise ConfigError(f"{self.type} takes at most {len(self.params)} positional arguments, "
                              f"got {len(call.args)}", expected=f"{self.type}({', '.join(self.params)})")
        bound = dict(zip(self.params, call.args))
        for key, value in call.kwargs.items():
            if key not in self.params:
                close = difflib.get_close_matches(key, self.params, n=1)
                raise ConfigError(f"{self.type} got an unexpected keyword argument {key!r}",
                                  expected=f"one of {', '.join(self.params)}",
                                  fix=f"did you mean {close[0]!r}?" if close else f"remove {key!r}")
            if key in bound:
                raise ConfigError(f"{self.type} got multiple values for argument {key!r}",
                                  fix=f"give {key} once")
            bound[key] = value
        missing = [p for p in self.params if p not in bound and p not in self.defaults]
        if missing:
            raise ConfigError(f"{self.type} is missing the required argument(s) {', '.join(missing)}",
                              expected=f"{self.type}({', '.join(self.params)})")
        return {**self.defaults, **bound}


# -- value checks ---------------------------------------------------------------------
def describe(value: object) -> str:
    return value.text if isinstance(value, Ref) else repr(value) if not isinstance(value, Expr) else str(value)


def as_int(value: object, name: str, *, minimum: int | None = None, layer: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{layer} {name}={describe(value)} is not an integer".strip(), expected=f"an integer {name}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{layer} {name}={value}".strip() + f" is less than {minimum}",
                          expected=f"{name} >= {minimum}")
    return value


def as_ints(value: object, n: int, name: str, *, minimum: int | None = None, layer: str = "") -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints, as frameworks accept for kernel sizes and strides."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ConfigError(f"{layer} {name}={describe(tuple(value))} has {len(value)} values".strip(),
                              expected=f"an integer or {n} integers")
        return tuple(as_int(v, name, minimum=minimum, layer=layer) for v in value)
    return (as_int(value, name, minimum=minimum, layer=layer),) * n


def as_bool(value: object, name: str, layer: str = "") -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{layer} {name}={describe(value)} is not True or False".strip(), expected="a bool")
    return value


def as_choice(value: object, name: str, choices: tuple[str, ...], layer: str = "", *, fold_case: bool = False) -> str:
    text = value.lower() if fold_case and isinstance(value, str) else value
    if text not in choices:
        raise ConfigError(f"{layer} {name}={describe(value)} is not supported".strip(),
                          expected=f"one of {', '.join(repr(c) for c in choices)}")
    return text


def as_shape_value(value: object, name: str, layer: str = "") -> tuple[Dim, ...]:
    if not isinstance(value, tuple) or not all(v is None or isinstance(v, (int, Expr)) for v in value):
        raise ConfigError(f"{layer} {name}={describe(value)} is not a shape".strip(),
                          expected="a tuple of integers, None or symbolic dims")
    return value


# -- registry ---------------------------------------------------------------------
class Dialect:
    """A framework's names for layers, each with its :class:`Spec`."""

    def __init__(self, name: str, prefixes: tuple[str, ...], title: str, removed: dict[str, str] | None = None):
        self.name = name
        self.prefixes = prefixes
        self.title = title
        self.specs: dict[str, Spec] = {}
        self.removed = removed or {}  # keywords older versions took, with what to write instead
        self._longest_first = sorted(prefixes, key=len, reverse=True)

    def register(self, spec: Spec) -> Spec:
        self.specs[spec.type] = spec
        return spec

    def lookup(self, call: Call) -> Spec | None:
        name = call.name
        for prefix in self._longest_first:
            if name.startswith(prefix + "."):
                name = name[len(prefix) + 1:]
                break
        return self.specs.get(name)

    def owns_prefix(self, call: Call) -> bool:
        return any(call.name.startswith(p + ".") for p in self.prefixes)

    def build(self, call: Call) -> Layer:
        spec = self.lookup(call)
        if spec is None:
            names = sorted(self.specs)
            close = difflib.get_close_matches(call.short, names, n=3)
            raise ParseError(f"{call.name} is not a {self.title} layer shapesmith knows",
                             expected=f"one of {', '.join(names)}",
                             fix=f"did you mean {' or '.join(close)}?" if close else "check the layer name")
        if call.applied_kwargs and not getattr(spec.build, "takes_call_kwargs", False):
            raise ConfigError(f"{spec.type}(...)(x, {', '.join(call.applied_kwargs)}=...) is not accepted",
                              fix="remove the keyword arguments of the call")
        for key in call.kwargs:
            if key in self.removed and key not in spec.params:
                raise ConfigError(f"{spec.type} got an unexpected keyword argument {key!r}: {self.title} removed it",
                                  fix=self.removed[key])
        bound = spec.bind(call)
        return dataclasses.replace(spec.build(call, bound), config=MappingProxyType(bound))
