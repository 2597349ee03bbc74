"""ONNX model -> :class:`~shapesmith.models.Graph`: the graph's nodes, written as the ONNX dialect's
text (``Conv(kernel_shape=[3, 3], ..., W=(64, 3, 3, 3), B=(64,))``), with the initializers' shapes
feeding the weights and their values feeding ``Reshape``'s shape, ``Pad``'s pads, ``Resize``'s scales.

``onnx.load`` reads the file without its external data (only shapes are needed); nothing in the file
is executed. Small shape computations exported from PyTorch (``Shape`` -> ``Gather`` -> ``Concat`` ->
``Reshape``) are followed as integer vectors, so ``x.view(x.size(0), -1)`` keeps its meaning.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..dialects import DIALECTS, build_layer
from ..dims import Symbol
from ..errors import ShapeMismatchError, ShapesmithError
from . import Applied, Graph, Node, Pick, Ref, TensorShape, literal

MAX_FILE = 4 << 30
VALUE_INPUTS = {"Reshape": ("shape",), "Resize": ("scales", "sizes", "roi"), "Pad": ("pads", "constant_value", "axes"),
                "Squeeze": ("axes",), "Unsqueeze": ("axes",)}  # inputs the dialect takes by value, not by shape
FLOAT_TYPES = (1, 10, 11, 16)  # FLOAT, FLOAT16, DOUBLE, BFLOAT16: weights
_LAYERS: dict[str, object] = {}


@dataclass(frozen=True)
class IntVector:
    """A small integer tensor computed from shapes (``Shape(x)``, ``Gather``, ``Concat``): its values."""

    values: tuple


@dataclass(frozen=True)
class _Initializer:
    name: str
    dims: tuple[int, ...]
    proto: object = None

    def values(self) -> tuple:
        from onnx import numpy_helper
        return tuple(numpy_helper.to_array(self.proto).reshape(-1).tolist())


def capture_onnx_file(path: str) -> Graph:
    import onnx
    if not os.path.isfile(path):
        raise ShapesmithError(f"{path}: no such file", fix="give the path of a .onnx file")
    if os.path.getsize(path) > MAX_FILE:
        raise ShapesmithError(f"{path} is larger than 4 GiB", fix="save the weights as external data")
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as exc:  # noqa: BLE001 -- a corrupt or hostile file: one clear line
        raise ShapesmithError(f"cannot read {path} as ONNX: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
                              expected="a model saved by onnx.save / torch.onnx.export") from None
    if not model.graph.node:
        raise ShapesmithError(f"{path} has no graph nodes", expected="an ONNX model")
    return capture_onnx_proto(model, os.path.basename(path))


def capture_onnx_proto(model, name: str) -> Graph:
    graph = model.graph
    consts: dict[str, object] = {t.name: _Initializer(t.name, tuple(t.dims), t) for t in graph.initializer}
    refs: dict[str, object] = {}
    inputs = []
    for value in graph.input:
        if value.name in consts:
            continue
        refs[value.name] = Ref(None, len(inputs))
        inputs.append((value.name, _declared(value)))
    nodes: list[Node] = []
    counted: set[str] = set()
    total = 0
    for j, onode in enumerate(graph.node):
        label = onode.name or f"{onode.op_type}_{j}"
        if onode.op_type == "Constant":
            for attr in onode.attribute:
                if attr.name == "value":
                    consts[onode.output[0]] = _Initializer(onode.output[0], tuple(attr.t.dims), attr.t)
            continue
        if onode.op_type in ("Identity", "Cast") and onode.input and onode.input[0] in consts and \
                onode.op_type == "Identity":
            consts[onode.output[0]] = consts[onode.input[0]]  # an exporter's copy of a weight
            continue
        unknown = [i for i in onode.input if i and i not in refs and i not in consts]
        if unknown:
            raise ShapesmithError(f"ONNX node {label} reads {unknown[0]!r} before any node makes it",
                                  expected="a graph whose nodes are in topological order (as onnx.checker requires)")
        args = tuple(refs.get(i, consts.get(i)) if i else None for i in onode.input)
        weights = {consts[i].name: consts[i] for i in onode.input
                   if i in consts and _is_weight(onode.op_type, consts[i], onode, i)}
        fresh = [c for key, c in weights.items() if key not in counted]
        counted.update(weights)
        held = sum(_size(c.dims) for c in fresh)
        total += held
        run, gap = _runner(onode, held)
        nodes.append(Node(label, onode.op_type, run, args, gap=gap, held=held, text=_attrs_text(onode),
                          owner=("node", j), row=onode.op_type not in _PLUMBING or bool(fresh),
                          layer=_static_layer(onode, args)))
        outs = [o for o in onode.output]
        for k, out in enumerate(outs):
            if out:
                refs[out] = Ref(len(nodes) - 1) if len(outs) == 1 else Pick(Ref(len(nodes) - 1), k)
    outputs = [refs.get(o.name) for o in graph.output]
    missing = [o.name for o, r in zip(graph.output, outputs) if r is None]
    if missing:
        raise ShapesmithError(f"graph outputs {missing} are not computed by any node", expected="a valid ONNX graph")
    if not inputs:
        raise ShapesmithError("the ONNX graph has no inputs besides initializers", expected="at least one input")
    return Graph("onnx", name, tuple(inputs), tuple(nodes), outputs[0] if len(outputs) == 1 else tuple(outputs),
                 params=total, trainable=total, checks_input=True)


def _size(dims) -> int:
    out = 1
    for d in dims:
        out *= d
    return out


def _is_weight(op_type: str, const: _Initializer, onode, name: str) -> bool:
    """A float initializer that is not a value input (Reshape's shape, Resize's scales)."""
    if const.proto is None or const.proto.data_type not in FLOAT_TYPES or not const.dims:
        return False  # a scalar (``x + 1.0``) is a constant, not a weight
    schema_names = _input_names(onode.op_type)
    position = list(onode.input).index(name)
    slot = schema_names[position] if position < len(schema_names) else ""
    return slot not in VALUE_INPUTS.get(op_type, ())


def _input_names(op_type: str) -> list[str]:
    import onnx
    try:
        schema = onnx.defs.get_schema(op_type)
    except Exception:  # noqa: BLE001 -- an unknown or custom op
        return []
    names = [i.name for i in schema.inputs]
    if schema.inputs and schema.inputs[-1].option == onnx.defs.OpSchema.FormalParameterOption.Variadic:
        names += [names[-1]] * 64
    return names


def _declared(value) -> tuple:
    """A graph input's shape: ``dim_value`` sizes, the first ``dim_param`` the batch (None), the
    others symbols (named by their ``dim_param`` when it is a plain name)."""
    dims = []
    used = set()
    for j, d in enumerate(value.type.tensor_type.shape.dim):
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif j == 0:
            dims.append(None)
        else:
            name = d.dim_param if d.dim_param.isidentifier() and d.dim_param.isascii() else ""
            name = name or ("h", "w", "d")[len(used) % 3] + ("" if len(used) < 3 else str(len(used)))
            used.add(name)
            dims.append(Symbol(name))
    return tuple(dims)


def _attrs_text(onode) -> str:
    from onnx import helper
    parts = []
    for attr in onode.attribute:
        value = helper.get_attribute_value(attr)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list):
            value = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
        if not isinstance(value, (int, float, str, list)):
            continue  # tensors and graphs are not layer arguments
        parts.append(f"{attr.name}={value!r}")
    return ", ".join(parts)




# -- running a node -------------------------------------------------------------------------------
_PLUMBING = ("Shape", "Gather", "Cast", "Identity", "ConstantOfShape")


def _runner(onode, held: int) -> tuple[Callable | None, str | None]:
    if onode.op_type in _SPECIAL_OPS:
        return _SPECIAL_OPS[onode.op_type](onode), None
    return _layer_runner(onode, held)


def _layer_runner(onode, held: int) -> tuple[Callable | None, str | None]:
    """The node as an ONNX dialect layer, its text written when its inputs are known."""
    kind = onode.op_type
    spec = DIALECTS["onnx"].specs.get(kind)
    if spec is None:
        return None, f"ONNX {kind}: no shapesmith mapping"
    names = _input_names(kind)
    attrs = _attrs_text(onode)

    def run(args, kwargs) -> Applied:
        text, tensors = _text(kind, spec, names, attrs, args)
        layer = _LAYERS.get(text)
        if layer is None:
            layer = _LAYERS[text] = build_layer(text, "onnx")
        result = layer.infer(*tensors)
        if result.params != held:  # ONNX's parameters are the initializers the node reads
            result = replace(result, params=held)
        out = result.output_shape
        return Applied([TensorShape(s) for s in out] if isinstance(out, list) else TensorShape(out), result)
    return run, None


def _static_layer(onode, args: tuple):
    """The node's layer when its constant inputs alone define it (a Conv with its W): for the input
    layout questions asked before evaluating (which axes are sizes)."""
    spec = DIALECTS["onnx"].specs.get(onode.op_type)
    if spec is None or onode.op_type in _SPECIAL_OPS:
        return None
    try:
        text, _ = _text(onode.op_type, spec, _input_names(onode.op_type), _attrs_text(onode), args)
        return build_layer(text, "onnx")
    except ShapesmithError:
        return None


def _text(kind: str, spec, names: list[str], attrs: str, args: tuple) -> tuple[str, list]:
    """The dialect text of a node from its resolved inputs, and the tensors it is applied to."""
    parts = [attrs] if attrs else []
    tensors = []
    multi = kind in ("Add", "Sub", "Mul", "Div", "Concat")
    for k, value in enumerate(args):
        if value is None:
            continue
        slot = names[k] if k < len(names) else f"input_{k}"
        if isinstance(value, TensorShape) and (k == 0 or multi):
            tensors.append(value)
            continue
        if isinstance(value, (_Initializer, IntVector, TensorShape)):
            if multi:
                tensors.append(TensorShape(value.dims if isinstance(value, _Initializer) else value))
            elif slot in VALUE_INPUTS.get(kind, ()):
                values = value.values() if isinstance(value, _Initializer) else value.values \
                    if isinstance(value, IntVector) else None
                if values is None:
                    raise ShapeMismatchError(f"{kind}: input {slot} is computed at run time",
                                             fix="export with constant shapes (do_constant_folding=True)")
                shown = repr(values[0]) if slot == "constant_value" and len(values) == 1 else literal(list(values))
                parts.append(f"{slot}={shown}")
            elif slot in spec.params:
                dims = value.dims if isinstance(value, _Initializer) else tuple(value)
                parts.append(f"{slot}={literal(tuple(dims))}")
    return f"{kind}({', '.join(parts)})", tensors


def _vector(value) -> tuple:
    if isinstance(value, IntVector):
        return value.values
    if isinstance(value, _Initializer):
        return value.values()
    raise ShapeMismatchError("a shape computation reads a tensor's values, not its shape",
                             fix="export with constant folding so shapes are constants")


def _shape_op(onode):
    start = next((a.i for a in onode.attribute if a.name == "start"), 0)
    end = next((a.i for a in onode.attribute if a.name == "end"), None)

    def run(args, kwargs) -> Applied:
        return Applied(IntVector(tuple(args[0])[start:end]))
    return run


@dataclass(frozen=True)
class _Take:
    """``Gather(data, indices, axis)`` on tensors: ``data.shape[:axis] + indices.shape + data.shape[axis+1:]``
    (an embedding lookup when ``data`` is a weight); ``params`` the weight's size."""

    data: tuple
    axis: int
    params: int
    expects = "indices (any shape)"

    def apply(self, shapes):
        from ..ops.base import ShapeResult
        (indices,) = shapes
        axis = self.axis % len(self.data)
        return ShapeResult(((*self.data[:axis], *indices, *self.data[axis + 1:]),), params=self.params)


def _gather_op(onode):
    axis = next((a.i for a in onode.attribute if a.name == "axis"), 0)

    def run(args, kwargs) -> Applied:
        data, index = args[0], args[1]
        if isinstance(index, TensorShape) or isinstance(data, TensorShape):
            from ..layer import WholeLayer
            dims = data.dims if isinstance(data, _Initializer) else tuple(data)
            indices = index if isinstance(index, TensorShape) else TensorShape(index.dims)
            params = _size(dims) if isinstance(data, _Initializer) else 0
            layer = WholeLayer("onnx", "Gather", f"Gather(axis={axis})", _Take(tuple(dims), axis, params),
                               name="Gather")
            result = layer.infer(indices)
            return Applied(TensorShape(result.output_shape), result)
        if axis != 0:
            raise ShapeMismatchError("Gather on a tensor's values is not followed", fix="export with constant folding")
        values = _vector(data)
        picked = _vector(index)
        scalar = isinstance(index, _Initializer) and not index.dims
        out = tuple(values[i] for i in picked)
        return Applied(IntVector(out if not scalar else out[:1]))
    return run


def _concat_op(onode):
    def run(args, kwargs) -> Applied:
        if all(not isinstance(a, TensorShape) for a in args if a is not None):
            return Applied(IntVector(tuple(v for a in args if a is not None for v in _vector(a))))
        return _runner_for(onode)(args, kwargs)
    return run


def _passthrough_op(onode):
    def run(args, kwargs) -> Applied:
        return Applied(args[0] if not isinstance(args[0], _Initializer) else TensorShape(args[0].dims))
    return run


def _unsqueeze_op(onode):
    def run(args, kwargs) -> Applied:
        if isinstance(args[0], IntVector):
            return Applied(args[0])
        return _runner_for(onode)(args, kwargs)
    return run


def _runner_for(onode):
    run, gap = _layer_runner(onode, 0)
    if run is None:
        raise ShapeMismatchError(gap)
    return run


def _constant_of_shape_op(onode):
    def run(args, kwargs) -> Applied:
        return Applied(TensorShape(_vector(args[0])))
    return run


def _slice_op(onode):
    """``Slice(data, starts, ends, axes, steps)``: Python slicing per axis (ends past the size clip)."""
    def run(args, kwargs) -> Applied:
        from ..layer import WholeLayer
        from .torch_graph import _Index
        data = args[0]
        starts, ends = _vector(args[1]), _vector(args[2])
        axes = _vector(args[3]) if len(args) > 3 and args[3] is not None else tuple(range(len(starts)))
        steps = _vector(args[4]) if len(args) > 4 and args[4] is not None else (1,) * len(starts)
        if isinstance(data, (IntVector, _Initializer)) and len(starts) == 1:
            values = _vector(data)
            return Applied(IntVector(values[slice(starts[0], None if ends[0] >= 1 << 62 else ends[0], steps[0])]))
        shape = data if isinstance(data, TensorShape) else TensorShape(data.dims)
        index = [slice(None)] * len(shape)
        for start, end, axis, step in zip(starts, ends, axes, steps):
            index[axis % len(shape)] = slice(start, None if end >= 1 << 62 else end, step)
        layer = WholeLayer("onnx", "Slice", "Slice", _Index(tuple(index)), name="Slice")
        result = layer.infer(shape)
        return Applied(TensorShape(result.output_shape), result)
    return run


def _matmul_op(onode):
    def run(args, kwargs) -> Applied:
        from ..layer import WholeLayer
        from .torch_graph import _MatMul
        a, b = (TensorShape(v.dims) if isinstance(v, _Initializer) else v for v in args[:2])
        held = sum(_size(v.dims) for v in args[:2] if isinstance(v, _Initializer) and v.dims)
        result = WholeLayer("onnx", "MatMul", "MatMul", _MatMul(), multi_input=True, name="MatMul").infer(a, b)
        return Applied(TensorShape(result.output_shape), replace(result, params=held))
    return run


_SPECIAL_OPS: dict[str, Callable] = {"Shape": _shape_op, "Gather": _gather_op, "Concat": _concat_op,
                                     "Cast": _passthrough_op, "Unsqueeze": _unsqueeze_op,
                                     "ConstantOfShape": _constant_of_shape_op, "Slice": _slice_op,
                                     "MatMul": _matmul_op}

__all__ = ["IntVector", "capture_onnx_file", "capture_onnx_proto"]
