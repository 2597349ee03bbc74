"""Traces: a layer or a stack of layers applied to an input shape, as an immutable result."""

from __future__ import annotations

from dataclasses import dataclass

from .dialects import build_layer
from .dims import Conditions, Dim, as_shape, dim_to_json, format_shape
from .errors import ParseError, ShapesmithError
from .layer import Layer, LayerResult


@dataclass(frozen=True)
class Trace:
    framework: str
    input_shape: tuple[Dim, ...]
    output_shape: tuple[Dim, ...]
    layers: tuple[LayerResult, ...]
    names: tuple[str, ...]
    params: int
    constraints: tuple[str, ...]
    warnings: tuple[str, ...]

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


def split_layers(code: str) -> list[str]:
    """One layer per line; blank lines and ``#`` comments are skipped."""
    lines = [line.split("#", 1)[0].strip() for line in code.splitlines()]
    return [line for line in lines if line]


def trace(code: str, *, input_shape: str | tuple | list | None = None, framework: str | None = None) -> Trace:
    """Shapes through a layer, or a stack written one layer per line.

    >>> trace("nn.Conv2d(3, 8, 3, stride=2, padding=1)", input_shape="(1, 3, h, w)").output_shape
    (1, 8, Expr('ceiling(h/2)'), Expr('ceiling(w/2)'))
    """
    if not isinstance(code, str):
        raise ParseError(f"code must be text, got {type(code).__name__}")
    texts = split_layers(code)
    if not texts:
        raise ParseError("no layer given", expected="a layer call such as nn.Conv2d(3, 8, 3)")
    layers: list[Layer] = []
    for j, text in enumerate(texts):
        try:
            layer = build_layer(text, framework or (layers[0].framework if layers else None))
        except ShapesmithError as err:
            raise err.located(f"layer {j} ({text})" if len(texts) > 1 else text) from None
        layers.append(layer)
    shape = _input_shape(input_shape, layers[0])
    results: list[LayerResult] = []
    names: list[str] = []
    conditions = Conditions()
    warnings: list[str] = []
    current = shape
    for j, layer in enumerate(layers):
        name = _name(layer, j, layers[:j])
        try:
            result = layer.infer(current)
        except ShapesmithError as err:
            raise err.located(f"{layer.type} (layer {j}, {name}) on input {format_shape(current)}") from None
        results.append(result)
        names.append(name)
        conditions.merge(result.conditions)
        warnings += [f"{layer.type}: {w}" for w in result.warnings]
        current = result.output_shape
    return Trace(layers[0].framework, shape, current, tuple(results), tuple(names),
                 sum(r.params for r in results), tuple(conditions.as_strings()), tuple(warnings))


def _input_shape(given: str | tuple | list | None, first: Layer) -> tuple[Dim, ...]:
    if given is not None:
        return as_shape(given)
    if first.declared_input is not None:
        return first.declared_input
    raise ParseError(f"no input shape for {first.type}",
                     expected=f"an input shape {first.layout()}, batch dim included",
                     fix="pass --input, e.g. --input '(None, 3, h, w)'")


def _name(layer: Layer, index: int, before: list[Layer]) -> str:
    """Names as the framework gives them: Keras ``conv2d``, ``conv2d_1``; Keras 1 from ``_1``; torch the index."""
    if layer.framework == "torch":
        return str(index)
    if layer.framework == "onnx":
        return f"{layer.type}_{index}"
    count = sum(1 for other in before if other.name == layer.name)
    if layer.framework == "keras1":
        return f"{layer.name}_{count + 1}"
    return layer.name if count == 0 else f"{layer.name}_{count}"
