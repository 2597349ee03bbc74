"""Traces: a layer or a stack of layers applied to an input shape, as an immutable result."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .dialects import detect_program, dialect
from .dialects.base import Call, call_from_node
from .dims import Conditions, Dim, Expr, as_shape, dim_to_json, format_shape
from .errors import ParseError, ShapeMismatchError, ShapesmithError
from .layer import LayerResult
from .program import Node, Program, Value, parse_program


@dataclass(frozen=True)
class Trace:
    framework: str
    input_shape: tuple[Dim, ...] | list[tuple[Dim, ...]]
    output_shape: tuple[Dim, ...] | list[tuple[Dim, ...]]
    layers: tuple[LayerResult, ...]
    names: tuple[str, ...]
    params: int | Expr
    constraints: tuple[str, ...]
    warnings: tuple[str, ...]

    def _repr_svg_(self) -> str:
        """Notebooks show a trace as its shape flow."""
        from .render.svg import draw_trace
        return draw_trace(self).svg

    def to_dict(self) -> dict:
        return {
            "framework": self.framework,
            "input_shape": shape_json(self.input_shape),
            "output_shape": shape_json(self.output_shape),
            "layers": [layer_dict(j, name, r) for j, (name, r) in enumerate(zip(self.names, self.layers))],
            "params": dim_to_json(self.params),
            "constraints": list(self.constraints),
            "warnings": list(self.warnings),
        }


def shape_json(shape: tuple[Dim, ...] | list[tuple[Dim, ...]]) -> list:
    """A shape as JSON; several shapes (a multi-output layer) as a list of them."""
    if isinstance(shape, list):
        return [shape_json(s) for s in shape]
    return [dim_to_json(d) for d in shape]


def layer_dict(index: int, name: str, r: LayerResult) -> dict:
    out = {
        "index": index, "name": name, "type": r.layer.type, "text": r.layer.text,
        "input_shape": shape_json(r.input_shape), "output_shape": shape_json(r.output_shape),
        "params": dim_to_json(r.params), "notes": list(r.notes), "warnings": list(r.warnings),
        "derivation": [step.to_dict() for step in r.steps],
    }
    if r.output_names:
        out["output_names"] = list(r.output_names)
    return out


def trace(code: str, *, input_shape: str | tuple | list | None = None, framework: str | None = None) -> Trace:
    """Shapes through a layer or a whole stack: one layer per line, ``Sequential([...])``,
    ``nn.Sequential(...)``, ``model.add(...)`` or Keras functional code.

    >>> trace("nn.Conv2d(3, 8, 3, stride=2, padding=1)", input_shape="(1, 3, h, w)").output_shape
    (1, 8, Expr('ceiling(h/2)'), Expr('ceiling(w/2)'))
    """
    program, calls = read_program(code)
    chosen = dialect(framework) if framework else detect_program(calls)
    layers: list = []
    for node, call in zip(program.nodes, calls):
        try:
            layers.append(chosen.build(call))
        except ShapesmithError as err:
            raise err.located(_where(program, node)) from None
    given = _given_shapes(input_shape)
    if given and len(given) > 1 and len(program.nodes) == 1 and len(program.inputs) == 1:
        # one merge layer and several --input shapes: the layer takes them all
        program.inputs = [(f"input_{k}", None) for k in range(len(given))]
        program.nodes[0] = replace(program.nodes[0], inputs=tuple(Value(None, k) for k in range(len(given))))
    inputs = _input_shapes(program, layers, given)
    names = _names(layers, calls, program.nodes)
    results: list[LayerResult] = []
    owner: dict[int, int] = {}  # shared layer -> its first call
    conditions = Conditions()
    warnings: list[str] = []
    for j, (node, layer) in enumerate(zip(program.nodes, layers)):
        shapes = [_shape_of(v, inputs, results, layer) for v in node.inputs]
        try:
            result = layer.infer(*shapes)
        except ShapesmithError as err:
            shown = format_shape(shapes[0]) if len(shapes) == 1 else ", ".join(format_shape(s) for s in shapes)
            shown = shown if len(shown) <= 200 else shown[:197] + "..."
            raise err.located(f"{layer.type} (layer {j}, {names[j]}) on input {shown}") from None
        if node.shared is not None and owner.setdefault(node.shared, j) != j:  # a shared layer's weights count once
            result = replace(result, params=0, notes=result.notes + (f"shares its weights with {names[j]}",))
        results.append(result)
        conditions.merge(result.conditions)
        warnings += [f"{layer.type} ({names[j]}): {w}" for w in result.warnings]
    if program.outputs:
        out_shapes = [_shape_of(v, inputs, results, None) for v in program.outputs]
    else:  # the last layer's output(s)
        last = results[-1].output_shape
        out_shapes = last if isinstance(last, list) else [last]
    params = sum((r.params for r in results), 0)
    return Trace(layers[0].framework, inputs[0] if len(inputs) == 1 else list(inputs),
                 out_shapes[0] if len(out_shapes) == 1 else out_shapes, tuple(results), tuple(names), params,
                 tuple(conditions.as_strings()), tuple(warnings))


def read_program(code: str) -> tuple[Program, list[Call]]:
    """The program's statements and each layer call, read (never run); errors name the line."""
    if not isinstance(code, str):
        raise ParseError(f"code must be text, got {type(code).__name__}")
    program = parse_program(code)
    if not program.nodes:
        raise ParseError("no layer given", expected="a layer call such as nn.Conv2d(3, 8, 3)")
    calls = []
    for node in program.nodes:
        try:
            calls.append(call_from_node(node.call, node.text))
        except ShapesmithError as err:
            raise err.located(_where(program, node)) from None
    return program, calls


def _where(program: Program, node: Node) -> str:
    return node.text if len(program.nodes) == 1 else f"line {node.line} ({node.text})"


def _shape_of(value: Value, inputs: list, results: list[LayerResult], consumer) -> tuple[Dim, ...]:
    if value.node is None:
        return inputs[value.index]
    out = results[value.node].output_shape
    if isinstance(out, list):
        if value.output is None:
            names = results[value.node].output_names
            raise ShapeMismatchError(
                f"{results[value.node].layer.type} returns {len(out)} outputs ({', '.join(names)})"
                + (f" and {consumer.type} takes one" if consumer is not None else ""),
                fix=f"unpack them ({', '.join(names)} = ...) and pass one on")
        return out[value.output]
    if value.output not in (None, 0):
        raise ShapeMismatchError(f"{results[value.node].layer.type} has one output; index {value.output} is out of range")
    return out


def _given_shapes(given) -> list[tuple[Dim, ...]] | None:
    """``input_shape``: one shape (text, or a sequence of dims), or a list of them for several inputs."""
    if given is None:
        return None
    if isinstance(given, list) and given and all(isinstance(g, (str, tuple, list)) for g in given):
        return [as_shape(g) for g in given]
    return [as_shape(given)]


def _input_shapes(program: Program, layers: list, given) -> list[tuple[Dim, ...]]:
    """The declared inputs; ``given`` (``--input``, one shape per input) overrides them in order;
    else the first layer's ``input_shape=`` / ``batch_input_shape=`` / ``input_dim=``."""
    if given and len(given) > len(program.inputs):
        raise ParseError(f"{len(given)} input shapes for {len(program.inputs)} input(s)",
                         fix="give one --input per input")
    shapes = []
    for k, (name, declared) in enumerate(program.inputs):
        if given and k < len(given):
            declared = given[k]
        first = next((layers[j] for j, n in enumerate(program.nodes) if Value(None, k) in n.inputs), None)
        if declared is None and first is not None:
            declared = first.declared_input
        if declared is None:
            layout = first.layout() if first is not None else "(N, ...)"
            raise ParseError(f"no input shape for {first.type if first else name}",
                             expected=f"an input shape {layout}, batch dim included",
                             fix="pass --input, e.g. --input '(None, 3, h, w)', or write Input(shape=...)")
        shapes.append(tuple(declared))
    return shapes


def _names(layers: list, calls: list, nodes: list[Node]) -> list[str]:
    """Names as the framework gives them: a ``name=`` argument; Keras ``conv2d``, ``conv2d_1``;
    Keras 1 from ``_1``; torch the index; ONNX type and index. A shared layer keeps its name."""
    names: list[str] = []
    counts: dict[str, int] = {}
    first_call: dict[int, int] = {}  # a shared layer's first node
    for j, (layer, call) in enumerate(zip(layers, calls)):
        if nodes[j].shared is not None:
            if nodes[j].shared in first_call:
                names.append(names[first_call[nodes[j].shared]])
                continue
            first_call[nodes[j].shared] = j
        given = call.kwargs.get("name")
        if isinstance(given, str):
            names.append(given)
            continue
        if layer.framework == "torch":
            names.append(str(j))
        elif layer.framework == "onnx":
            names.append(f"{layer.type}_{j}")
        else:
            n = counts.get(layer.name, 0)
            counts[layer.name] = n + 1
            if layer.framework == "keras1":
                names.append(f"{layer.name}_{n + 1}")
            else:
                names.append(layer.name if n == 0 else f"{layer.name}_{n}")
    return names
