"""Whole models as graphs of shapesmith layers: captured once from a PyTorch module, a Keras model,
an ONNX file or trace code, then evaluated on any input shape without running the framework.

A :class:`Graph` is the capture: inputs, nodes in execution order, outputs. A node holds how to
compute its output from its inputs' shapes (``run``), usually a shapesmith layer built from the
framework's own constructor text; an op shapesmith has no mapping for is kept as a node with a
``gap`` saying what it is, so the summary names it instead of skipping it.

Frameworks are imported lazily: :func:`capture` looks at what it is given first.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..dims import Dim, Expr
from ..errors import ShapesmithError


class TensorShape(tuple):
    """A tensor's shape as a value in the graph (a plain tuple is a Python tuple, e.g. ``x.size()``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"TensorShape({tuple.__repr__(self)})"


@dataclass(frozen=True)
class Ref:
    """A value in the graph: graph input ``index`` (``node`` None) or node ``node``'s output."""

    node: int | None
    index: int = 0


@dataclass(frozen=True)
class Pick:
    """Element ``index`` of a structured value (output 1 of an LSTM with its states)."""

    ref: Ref
    index: int


UNKNOWN = object()  # the output of a gap, and of everything computed from it


@dataclass(frozen=True)
class Applied:
    """A node evaluated: its output value, and the layer result when the node is a layer (a row)."""

    value: object
    result: object = None  # layer.LayerResult, or None for plumbing (getitem, size(), ...)


@dataclass(frozen=True)
class Node:
    """One operation of the model.

    ``run(args, kwargs)`` gets the node's arguments with every :class:`Ref` replaced by its value
    (tensors as :class:`TensorShape`) and returns an :class:`Applied`. ``row`` says whether the
    node is shown in the table (layers and functional ops are; ``getitem`` and ``size()`` are not).
    ``owner`` keys the weights: a module or layer called twice counts its parameters once.
    ``frozen`` is how many of its parameters the framework marks non-trainable.
    """

    name: str
    type: str
    run: Callable[[tuple, Mapping], Applied] | None
    args: tuple = ()
    kwargs: Mapping = field(default_factory=dict)
    path: tuple[str, ...] = ()  # enclosing containers, outermost first
    layer: object = None  # the shapesmith Layer / WholeLayer, when the node is one
    text: str = ""
    gap: str | None = None
    row: bool = True
    owner: object = None
    frozen: int = 0
    held: int | None = None  # parameters the framework holds for this node (a cross-check)


@dataclass(frozen=True)
class Graph:
    framework: str  # torch | keras | onnx (or the trace file's dialect)
    name: str
    inputs: tuple[tuple[str, tuple[Dim, ...] | None], ...]  # declared shapes (None: not declared)
    nodes: tuple[Node, ...]
    outputs: object  # a structure of Refs
    containers: Mapping[str, str] = field(default_factory=dict)  # container path -> its type name
    params: int | None = None  # the framework's own totals, when it has them
    trainable: int | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    channels_last: bool = False  # the input's channel axis is the last (Keras)
    checks_input: bool = False  # the framework refuses inputs unlike the declared shape (Keras, onnxruntime)
    hints: Mapping[str, object] = field(default_factory=dict)  # e.g. keras application name, include_top
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # what depends only on the graph


def capture(model: object) -> Graph:
    """A model object or path as a :class:`Graph`: a torch ``nn.Module``, a Keras model, a ``.onnx`` /
    ``.keras`` file, ``module.path:factory``, or a file of trace code. No compute runs."""
    if isinstance(model, Graph):
        return model
    if isinstance(model, (str, os.PathLike)):
        return _capture_path(os.fspath(model))
    if _is_torch_module(model):
        from .torch_graph import capture_module
        return capture_module(model)
    if _is_keras_model(model):
        from .keras_graph import capture_keras
        return capture_keras(model)
    if _is_onnx_model(model):
        from .onnx_graph import capture_onnx_proto
        return capture_onnx_proto(model, getattr(model.graph, "name", "") or "model")
    raise ShapesmithError(f"cannot read a model of type {type(model).__name__}",
                          expected="a torch nn.Module, a Keras model, an ONNX ModelProto, or a path "
                                   "(.onnx, .keras, module.path:factory, a trace file)")


def _is_torch_module(obj: object) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module) and not _is_keras_model(obj)


def _is_keras_model(obj: object) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.Model)


def _is_onnx_model(obj: object) -> bool:
    onnx = sys.modules.get("onnx")
    return onnx is not None and isinstance(obj, onnx.ModelProto)


def _capture_path(text: str) -> Graph:
    lowered = text.lower()
    if lowered.endswith(".onnx"):
        from .onnx_graph import capture_onnx_file
        return capture_onnx_file(text)
    if lowered.endswith(".keras"):
        from .keras_graph import load_keras_file
        return load_keras_file(text)
    if lowered.endswith((".h5", ".hdf5", ".pt", ".pth", ".pkl", ".pickle", ".safetensors")):
        raise ShapesmithError(f"{text}: shapesmith does not load models from this kind of file",
                              expected="a .onnx file, a .keras file (safe mode), module.path:factory or a trace file",
                              fix="save the model as .keras or export it to .onnx, or name its factory: "
                                  "my_package.models:build")
    if os.path.isfile(text):
        return _capture_trace_file(text)
    if ":" in text and not os.path.exists(text):
        return _capture_factory(text)
    raise ShapesmithError(f"{text!r} is not a file and not module.path:factory",
                          expected="a .onnx file, a .keras file, module.path:factory, or a trace file")


def _capture_factory(spec: str) -> Graph:
    """``package.module:factory``: import the module, call the factory, capture what it returns."""
    import importlib

    module_name, _, attr = spec.rpartition(":")
    if not module_name or not attr.replace(".", "_").isidentifier() or not all(
            part.isidentifier() for part in module_name.split(".")):
        raise ShapesmithError(f"{spec!r} is not module.path:factory", expected="e.g. my_package.models:build")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # like python -m: modules next to the caller import
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:  # noqa: BLE001 -- the user's module: any failure becomes one clear line
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ShapesmithError(f"cannot import {module_name}: {type(exc).__name__}: {exc}",
                              fix="check the module path (run from the directory that holds it) and that it imports "
                                  "without errors") from None
    target = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ShapesmithError(f"module {module_name} has no attribute {attr!r}",
                                  fix=f"name a function or class defined in {module_name}")
        target = getattr(target, part)
    if not callable(target):
        return capture(target)
    try:
        model = target()
    except BaseException as exc:  # noqa: BLE001 -- the user's factory
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ShapesmithError(f"{spec}() raised {type(exc).__name__}: {exc}",
                              fix="make the factory callable without arguments and returning the model") from None
    if isinstance(model, (str, os.PathLike)) or not (_is_torch_module(model) or _is_keras_model(model)
                                                      or _is_onnx_model(model)):
        raise ShapesmithError(f"{spec}() returned a {type(model).__name__}",
                              expected="a torch nn.Module, a Keras model or an ONNX ModelProto")
    return capture(model)


MAX_TRACE_FILE = 2_000_000


def _capture_trace_file(path: str) -> Graph:
    """A file of trace code (one layer per line, ``Sequential([...])``, Keras functional code)."""
    if os.path.getsize(path) > MAX_TRACE_FILE:
        raise ShapesmithError(f"{path} is {os.path.getsize(path)} bytes", expected=f"trace code under {MAX_TRACE_FILE}")
    try:
        with open(path, encoding="utf-8") as handle:
            code = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ShapesmithError(f"cannot read {path}: {exc}", expected="a text file of layer calls") from None
    return graph_from_code(code, os.path.basename(path))


def graph_from_code(code: str, name: str = "trace", framework: str | None = None) -> Graph:
    """Trace code (what ``shapesmith trace`` reads) as a graph: each layer call a node."""
    from ..dialects import detect_program, dialect
    from ..trace import read_program

    program, calls = read_program(code)
    chosen = dialect(framework) if framework else detect_program(calls)
    nodes: list[Node] = []
    counts: dict[str, int] = {}
    for j, (pnode, call) in enumerate(zip(program.nodes, calls)):
        try:
            layer = chosen.build(call)
        except ShapesmithError as err:
            raise err.located(f"line {pnode.line} ({pnode.text})") from None
        given = call.kwargs.get("name")
        if not isinstance(given, str):
            n = counts.get(layer.name, 0)
            counts[layer.name] = n + 1
            given = str(j) if layer.framework == "torch" else (layer.name if n == 0 else f"{layer.name}_{n}")
        args = tuple(Ref(v.node, v.index) if v.output is None else Pick(Ref(v.node, v.index), v.output)
                     for v in pnode.inputs)
        nodes.append(Node(given, layer.type, layer_runner(layer), args, layer=layer, text=layer.text,
                          owner=("shared", pnode.shared) if pnode.shared is not None else ("node", j)))
    inputs = tuple((n, shape) for n, shape in program.inputs)
    if not inputs and nodes:
        inputs = (("input", None),)
    first = nodes[0].layer
    if inputs[0][1] is None and getattr(first, "declared_input", None) is not None:
        inputs = ((inputs[0][0], tuple(first.declared_input)),) + inputs[1:]
    outputs = ([Ref(v.node, v.index) if v.output is None else Pick(Ref(v.node, v.index), v.output)
                for v in program.outputs] if program.outputs else [Ref(len(nodes) - 1)])
    return Graph(chosen.name, name, inputs, tuple(nodes), outputs[0] if len(outputs) == 1 else tuple(outputs),
                 channels_last=bool(getattr(first, "channels_last", False)))


def literal(value) -> str:
    """A value as dialect text: symbolic dims as their expressions (``2*h``), never ``Expr(...)``."""
    if isinstance(value, (tuple, list)):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, Expr):
        return str(value)
    return repr(value)


def layer_runner(layer) -> Callable[[tuple, Mapping], Applied]:
    """``run`` for a node that is one shapesmith layer applied to its tensor arguments."""
    def run(args: tuple, kwargs: Mapping) -> Applied:
        result = layer.infer(*args)
        out = result.output_shape
        value = [TensorShape(s) for s in out] if isinstance(out, list) else TensorShape(out)
        return Applied(value, result)
    return run


__all__ = ["UNKNOWN", "Applied", "Graph", "Node", "Pick", "Ref", "TensorShape", "capture", "graph_from_code"]
