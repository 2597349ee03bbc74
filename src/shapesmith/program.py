"""Reading a model the way people paste it: one layer per line, ``Sequential([...])``,
``nn.Sequential(...)``, ``model.add(...)``, or Keras functional code (``x = Conv2D(...)(x)``,
``Input(shape=...)``, ``Add()([a, b])``, ``Model(inputs, x)``). Read with ``ast``; nothing runs.
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass, field

from .dialects.base import MAX_LAYER_TEXT, dotted_name, value_from_ast
from .dims import Dim, shown
from .errors import ParseError

MAX_PROGRAM_TEXT = 2_000_000
CONTAINERS = ("Sequential",)
INPUTS = ("Input", "InputLayer")
MODELS = ("Model", "Functional")
TENSOR_KEYWORDS = ("query", "value", "key", "inputs")  # tensors passed by keyword: attention(query=q, value=v)
MODEL = "model"  # what a name bound to a Sequential or Model holds
HARMLESS_METHODS = ("summary", "compile", "fit", "build", "evaluate", "predict", "to", "eval", "train", "cuda",
                    "cpu", "print")


@dataclass(frozen=True)
class Value:
    """A tensor in the program: input ``k`` (``node`` is None) or output ``output`` of a node
    (``output`` None: the node's only output)."""

    node: int | None
    index: int = 0
    output: int | None = None


@dataclass(frozen=True)
class Node:
    text: str  # the layer's constructor, as written (applied form kept: ``L(...)(x, output_size=...)``)
    call: ast.expr  # ... and parsed
    inputs: tuple[Value, ...]
    line: int
    multi: bool = False  # applied to a list of tensors: a merge
    shared: int | None = None  # the layer defined once (``conv = Conv2D(...)``) and called here again


@dataclass
class Program:
    inputs: list[tuple[str, tuple[Dim, ...] | None]] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    outputs: list[Value] | None = None


def parse_program(code: str) -> Program:
    if len(code) > MAX_PROGRAM_TEXT:
        raise ParseError(f"code of {len(code)} characters", expected=f"at most {MAX_PROGRAM_TEXT}")
    try:
        module = ast.parse(code)
    except SyntaxError as exc:
        raise ParseError(f"cannot read line {exc.lineno}: {exc.msg} ({(exc.text or '').strip()!r})",
                         expected="layer calls, Sequential([...]), nn.Sequential(...) or Keras functional code") \
            from None
    except (ValueError, RecursionError, MemoryError):
        raise ParseError("cannot read the code", expected="plain Python layer calls") from None
    reader = _Reader(code)
    for stmt in module.body:
        reader.statement(stmt)
    return reader.program


class _Reader:
    def __init__(self, source: str):
        self.lines = [line.encode() for line in source.splitlines(keepends=True)]  # offsets are UTF-8 bytes
        self.program = Program()
        self.env: dict[str, object] = {}  # name -> Value | _LayerDef | MODEL
        self.chain: Value | None = None  # the running output of a sequential stack
        self.keys = itertools.count()
        self.functional = False

    # -- statements -----------------------------------------------------------------------
    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Pass)):
            return
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            return  # a docstring
        if isinstance(stmt, ast.Expr):
            self.expression(stmt.value, stmt)
            return
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            self.assign(stmt.targets[0], stmt.value, stmt)
            return
        raise self.error(stmt, "is not something shapesmith reads",
                         "layer calls, Sequential([...]), model.add(...), x = Layer(...)(x), Input(...), Model(...)")

    def expression(self, node: ast.expr, stmt: ast.stmt) -> None:
        if not isinstance(node, ast.Call):
            if isinstance(node, (ast.List, ast.Tuple)):
                for element in node.elts:
                    self.chain_item(element, stmt)
                return
            raise self.error(stmt, "is not a layer call", "a call such as Conv2D(8, 3)")
        name = self.callee(node)
        if name and name.rsplit(".", 1)[-1] in CONTAINERS:
            self.sequential(node, stmt)
        elif name and "." in name and name.rsplit(".", 1)[-1] == "add" and name.split(".")[0] in self.env:
            if len(node.args) != 1:
                raise self.error(stmt, "adds more than one layer", "model.add(Layer(...))")
            self.chain_item(node.args[0], stmt)
        elif name and "." in name and name.rsplit(".", 1)[-1] in HARMLESS_METHODS or name == "print":
            return
        elif isinstance(node.func, ast.Call) or (isinstance(node.func, ast.Name) and node.func.id in self.env):
            self.apply(node, stmt)
        else:
            self.chain_item(node, stmt)

    def assign(self, target: ast.expr, value: ast.expr, stmt: ast.stmt) -> None:
        if isinstance(value, ast.Call):
            name = self.callee(value) or ""
            short = name.rsplit(".", 1)[-1]
            if short in CONTAINERS:
                self.sequential(value, stmt)
                return self.bind(target, MODEL, stmt)
            if short == "Input":
                return self.bind(target, self.new_input(target, value, stmt), stmt)
            if short in MODELS:
                self.model(value, stmt)
                return self.bind(target, MODEL, stmt)
            if isinstance(value.func, ast.Call) or (isinstance(value.func, ast.Name) and value.func.id in self.env):
                return self.bind(target, self.apply(value, stmt), stmt)
            definition = _LayerDef(self.segment(value), value, next(self.keys))  # a layer kept to be called later
            return self.bind(target, definition, stmt)
        if isinstance(value, ast.Name):
            return self.bind(target, self.lookup(value, stmt), stmt)
        if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
            base = self.lookup(value.value, stmt)
            index = value_from_ast(value.slice)
            if isinstance(base, Value) and isinstance(index, int) and not isinstance(index, bool):
                return self.bind(target, Value(base.node, base.index, index), stmt)
        raise self.error(stmt, "is not something shapesmith reads", "x = Layer(...)(x), x = Input(...), or a name")

    def bind(self, target: ast.expr, value: object, stmt: ast.stmt) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, Value) and all(
                isinstance(t, ast.Name) for t in target.elts):
            for j, t in enumerate(target.elts):
                self.env[t.id] = Value(value.node, value.index, j)
        else:
            raise self.error(stmt, "assigns to something other than names", "x = ... or a, b = ...")

    # -- pieces ---------------------------------------------------------------------------
    def sequential(self, call: ast.Call, stmt: ast.stmt) -> None:
        items = list(call.args)
        for kw in call.keywords:
            if kw.arg == "layers":
                items.append(kw.value)
        if len(items) == 1 and isinstance(items[0], (ast.List, ast.Tuple)):
            items = list(items[0].elts)
        for item in items:
            self.chain_item(item, stmt)

    def chain_item(self, node: ast.expr, stmt: ast.stmt) -> None:
        if self.functional:
            raise self.error(stmt, "mixes a sequential stack with functional code",
                             "either one layer per line / Sequential([...]), or x = Layer(...)(x) throughout")
        if not isinstance(node, ast.Call):
            raise self.error(stmt, f"has {shown(node)!r} where a layer call should be", "Layer(...)")
        name = (self.callee(node) or "").rsplit(".", 1)[-1]
        if name in CONTAINERS:
            return self.sequential(node, stmt)
        if name in INPUTS:
            if self.chain is not None:
                raise self.error(stmt, f"has {name} after the first layer", f"{name} first")
            self.chain = self.new_input(None, node, stmt)
            return
        if self.chain is None:
            self.chain = self.new_input(None, None, stmt)
        self.program.nodes.append(Node(self.segment(node), node, (self.chain,), stmt.lineno))
        self.chain = Value(len(self.program.nodes) - 1)

    def apply(self, call: ast.Call, stmt: ast.stmt) -> Value:
        """``Layer(...)(x)``, ``Layer(...)([a, b])`` or ``layer(x)`` for a layer defined earlier."""
        if self.chain is not None and not self.functional and self.program.nodes:
            raise self.error(stmt, "mixes a sequential stack with functional code",
                             "either one layer per line / Sequential([...]), or x = Layer(...)(x) throughout")
        self.functional = True
        tensors = [a for a in call.args] + [kw.value for kw in call.keywords if kw.arg in TENSOR_KEYWORDS]
        if not tensors:
            raise self.error(stmt, "applies a layer to nothing", "Layer(...)(x)")
        multi = len(tensors) > 1 or isinstance(tensors[0], (ast.List, ast.Tuple))
        if len(tensors) == 1 and multi:
            tensors = list(tensors[0].elts)
        inputs = tuple(self.tensor(a, stmt) for a in tensors)
        shared = None
        if isinstance(call.func, ast.Call):
            text, parsed = self.segment(call), call
        else:
            definition = self.env[call.func.id]
            if not isinstance(definition, _LayerDef):
                raise self.error(stmt, f"calls {call.func.id}, which is not a layer", "Layer(...)(x)")
            text, parsed, shared = definition.text, definition.call, definition.key
            options = [self.segment(kw) for kw in call.keywords if kw.arg not in TENSOR_KEYWORDS]
            if options:  # keyword arguments of the call (need_weights=False) go with the layer
                text = f"{text}(x, {', '.join(options)})"
                parsed = ast.parse(text, mode="eval").body
        self.program.nodes.append(Node(text, parsed, inputs, stmt.lineno, multi, shared))
        return Value(len(self.program.nodes) - 1)

    def tensor(self, node: ast.expr, stmt: ast.stmt) -> Value:
        if isinstance(node, ast.Name):
            if node.id not in self.env:  # an undeclared input: its shape comes from --input
                self.env[node.id] = self.new_input(node, None, stmt)
            value = self.env[node.id]
            if isinstance(value, Value):
                return value
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            base = self.tensor(node.value, stmt)
            index = value_from_ast(node.slice)
            if isinstance(index, int):
                return Value(base.node, base.index, index)
        raise self.error(stmt, f"uses {shown(node)!r} as a tensor", "the name of an input or a layer's output")

    def new_input(self, target: ast.expr | None, call: ast.Call | None, stmt: ast.stmt) -> Value:
        shape = None if call is None else self.input_shape(call, stmt)
        name = target.id if isinstance(target, ast.Name) else "input"
        self.program.inputs.append((name, shape))
        return Value(None, len(self.program.inputs) - 1)

    def input_shape(self, call: ast.Call, stmt: ast.stmt) -> tuple[Dim, ...] | None:
        """``Input(shape=...)`` (batch excluded), ``batch_shape=``, ``batch_size=``, and
        ``InputLayer``'s ``input_shape=`` / ``batch_input_shape=``."""
        kwargs = {kw.arg: value_from_ast(kw.value) for kw in call.keywords if kw.arg}
        args = [value_from_ast(a) for a in call.args]
        shape = kwargs.get("shape", kwargs.get("input_shape", args[0] if args else None))
        batch_shape = kwargs.get("batch_shape", kwargs.get("batch_input_shape"))
        if batch_shape is not None:
            return self.as_shape(batch_shape, stmt)
        if shape is None:
            return None
        batch = kwargs.get("batch_size")
        return (batch if isinstance(batch, int) else None, *self.as_shape(shape, stmt))

    def as_shape(self, value: object, stmt: ast.stmt) -> tuple[Dim, ...]:
        from .dims import Expr
        if not isinstance(value, tuple) or not all(v is None or isinstance(v, (int, Expr)) for v in value):
            raise self.error(stmt, f"gives the shape {value!r}", "a tuple of integers, None or symbols")
        return value

    def model(self, call: ast.Call, stmt: ast.stmt) -> None:
        kwargs = {kw.arg: kw.value for kw in call.keywords}
        outputs = kwargs.get("outputs", kwargs.get("output", call.args[1] if len(call.args) > 1 else None))
        if outputs is None:
            raise self.error(stmt, "builds a Model without outputs", "Model(inputs, outputs)")
        items = outputs.elts if isinstance(outputs, (ast.List, ast.Tuple)) else [outputs]
        self.program.outputs = [self.tensor(item, stmt) for item in items]

    def lookup(self, node: ast.Name, stmt: ast.stmt) -> object:
        if node.id not in self.env:
            raise self.error(stmt, f"uses {node.id}, which is not defined above", f"define {node.id} first")
        return self.env[node.id]

    def callee(self, call: ast.Call) -> str | None:
        return dotted_name(call.func) if not isinstance(call.func, ast.Call) else None

    def source_of(self, node: ast.AST) -> str:
        """The node's text as written (``ast.get_source_segment`` re-splits the source on every call)."""
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:
            return self.lines[first][node.col_offset:node.end_col_offset].decode()
        middle = b"".join(self.lines[first + 1:last])
        return (self.lines[first][node.col_offset:] + middle + self.lines[last][:node.end_col_offset]).decode()

    def segment(self, node: ast.expr) -> str:
        text = self.source_of(node)
        if len(text) > MAX_LAYER_TEXT:
            raise ParseError(f"a layer call of {len(text)} characters", expected=f"at most {MAX_LAYER_TEXT}")
        return " ".join(text.split()) if "\n" in text else text

    def error(self, stmt: ast.stmt, what: str, expected: str) -> ParseError:
        text = " ".join(self.source_of(stmt).split())
        if len(text) > 80:
            text = text[:77] + "..."
        return ParseError(f"line {stmt.lineno} ({text}) {what}", expected=expected)


@dataclass(frozen=True)
class _LayerDef:
    """``layer = Conv2D(...)``: a layer defined to be called later, maybe more than once."""

    text: str
    call: ast.Call
    key: int
