"""Whole-model summaries computed without running the model: per-layer shapes, parameters, multiply-adds
and receptive fields; the exact set of input sizes the model accepts; and, for an input it rejects,
the first layer that breaks and how to fix it.

The model is captured once (:func:`shapesmith.models.capture`) and evaluated on shapes: the graph's
nodes are shapesmith layers, so a summary at another input size only binds new shapes
(``summary(s.graph, input_shape=...)``).

Valid inputs. With the free input dims symbolic, every layer reports the conditions under which it
works (``h >= 75``, ``h % 32 == 0``, ``512*floor(h/32)*floor(w/32) == 25088``). Each condition is a
quasi-polynomial in the symbols: with ``P`` a multiple of every floor's denominator, ``h = r + P*k``
turns it into a polynomial in ``k`` for each residue ``r``, so the set of ``h`` it accepts is, per
residue, an interval of ``k`` found exactly by search on a monotone polynomial. Conditions joining
several symbols (a Flatten feeding a Dense) are solved over classes of equal floor values, each
symbol bounded where the condition stops changing. The union of boxes is then exactly the accepted
set; each box names the layers that bound it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction

from .dims import Conditions, Dim, Expr, Symbol, as_shape, dim_to_json, format_dim, format_shape, parse_dim
from .errors import ParseError, ShapesmithError
from .models import UNKNOWN, Graph, Pick, Ref, TensorShape, capture
from .ops.shape import product

MAX_POINTS = 20_000  # finite parts of a valid set listed point by point before compressing
MAX_COMBOS = 200_000  # classes tried when a condition joins several symbols
MAX_SCAN = 1 << 16  # a symbol's values scanned below the bound where joint conditions stop changing
_AUTO_NAME = re.compile(r"[a-z0-9_]*[a-z]_\d+|[a-z][a-z0-9]*")  # Keras' conv2d_162, add; not mixed_6a
MAX_SHIFT = 4096  # steps tried to reach the side of a polynomial's vertex where it is monotone


# -- results -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One layer (or functional op) of the model as evaluated."""

    index: int
    name: str
    type: str
    path: tuple[str, ...]
    input_shape: object
    output_shape: object
    params: int | Expr
    trainable: int | Expr
    macs: int | Expr | None
    receptive_field: tuple | None
    text: str = ""
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    gap: str | None = None

    def to_dict(self) -> dict:
        out = {"index": self.index, "name": self.name, "path": list(self.path), "type": self.type,
               "input_shape": _shape_json(self.input_shape), "output_shape": _shape_json(self.output_shape),
               "params": dim_to_json(self.params), "trainable": dim_to_json(self.trainable),
               "macs": dim_to_json(self.macs), "notes": list(self.notes), "warnings": list(self.warnings)}
        if self.receptive_field is not None:
            out["receptive_field"] = list(self.receptive_field)
        if self.text:
            out["text"] = self.text
        if self.gap:
            out["gap"] = self.gap
        return out


@dataclass(frozen=True)
class Range:
    """``min <= v <= max`` (``max`` None: no upper bound) and ``v % step == offset % step``."""

    min: int
    max: int | None
    step: int = 1
    offset: int = 0

    def __contains__(self, v: int) -> bool:
        return v >= self.min and (self.max is None or v <= self.max) and (v - self.offset) % self.step == 0

    def to_dict(self) -> dict:
        return {"min": self.min, "max": self.max, "step": self.step, "offset": self.offset % self.step}

    def text(self) -> str:
        top = "" if self.max is None else str(self.max)
        if self.max is None and self.step == 1:
            span = f">= {self.min}"
        elif self.max == self.min:
            return f"= {self.min}"
        else:
            span = f"in {self.min}..{top}"
        return span + (f", multiple of {self.step}" if self.step > 1 and self.offset % self.step == 0 else
                       f", = {self.offset % self.step} mod {self.step}" if self.step > 1 else "")

    def nearest(self, v: int) -> int:
        if v <= self.min:
            return self.min
        if self.max is not None and v >= self.max:
            return self.max
        below = v - (v - self.offset) % self.step
        above = below + self.step if below != v else v
        if self.max is not None and above > self.max:
            return below
        return below if v - below <= above - v else above


@dataclass(frozen=True)
class Box:
    dims: Mapping[str, Range]
    reason: tuple[str, ...]

    def __contains__(self, point: Mapping[str, int]) -> bool:
        return all(point[s] in r for s, r in self.dims.items())

    def to_dict(self) -> dict:
        return {**{s: r.to_dict() for s, r in self.dims.items()}, "reason": list(self.reason)}

    def text(self) -> str:
        groups: dict[Range, list[str]] = {}
        for s, r in self.dims.items():
            groups.setdefault(r, []).append(s)
        return "; ".join(f"{', '.join(names)} {r.text()}" for r, names in groups.items())


@dataclass(frozen=True)
class Summary:
    framework: str
    name: str
    input_shape: object
    output_shape: object
    rows: tuple[Row, ...]
    params: int | Expr
    trainable: int | Expr
    non_trainable: int | Expr
    macs: int | Expr
    constraints: tuple[str, ...]
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    containers: Mapping[str, str]
    valid_inputs: tuple[Box, ...] | None = None
    size_origin: str | None = None  # keras applications with a top: what fixes the input size
    depth: int | None = None
    graph: Graph | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict:
        out = {"framework": self.framework, "model": self.name, "input_shape": _shape_json(self.input_shape),
               "output_shape": _shape_json(self.output_shape), "layers": [r.to_dict() for r in self.rows],
               "params": dim_to_json(self.params), "trainable_params": dim_to_json(self.trainable),
               "non_trainable_params": dim_to_json(self.non_trainable), "macs": dim_to_json(self.macs),
               "containers": dict(self.containers), "constraints": list(self.constraints),
               "warnings": list(self.warnings), "notes": list(self.notes)}
        if self.valid_inputs is not None:
            out["valid_inputs"] = [b.to_dict() for b in self.valid_inputs]
        if self.size_origin:
            out["input_size_origin"] = self.size_origin
        return out


class InputRejected(ShapesmithError):
    """An input the model does not accept: ``layer`` is the first layer that breaks, ``summary`` the
    table up to it, ``fixes`` the concrete changes that make it work."""

    def __init__(self, what: str, *, expected: str | None, fixes: list[str], layer: str, partial: Summary):
        super().__init__(what, expected=expected, fix="; or ".join(fixes) if fixes else None)
        self.fixes = fixes
        self.layer = layer
        self.summary = partial


def _shape_json(shape) -> object:
    if shape is None or shape is UNKNOWN:
        return None
    if isinstance(shape, list):
        return [_shape_json(s) for s in shape]
    if isinstance(shape, tuple) and shape and isinstance(shape[0], tuple):
        return [_shape_json(s) for s in shape]
    return [dim_to_json(d) for d in shape]


# -- public entry points ---------------------------------------------------------------------
def summary(model: object, *, input_shape: object = None, valid_inputs: bool = False,
            depth: int | None = None) -> Summary:
    """The summary of a model (an ``nn.Module``, a Keras model, a path, or a captured
    :class:`~shapesmith.models.Graph`) at ``input_shape`` (batch included; symbols such as ``h`` keep
    dims free). Raises :class:`InputRejected` for an input the model does not take."""
    graph = capture(model)
    given = _given(input_shape, graph)
    shapes, freed = _input_shapes(graph, given, symbolic=valid_inputs)
    run = _evaluate(graph, shapes)
    if run.failure is not None:
        if valid_inputs and _merged_shapes(graph, run) and any(isinstance(d, Expr) for sh in shapes for d in sh):
            return _nothing_in_general(graph, shapes, run, depth)
        raise _rejected(graph, shapes, run)
    result = _summarize(graph, shapes, run, depth)
    if given and graph.checks_input:
        result = replace(result, warnings=result.warnings + tuple(_declared_mismatch(graph, given)))
    if valid_inputs:
        boxes, notes, origin = _valid_inputs(graph, shapes, run, freed)
        result = replace(result, valid_inputs=boxes, notes=result.notes + tuple(notes), size_origin=origin)
    return result


def _nothing_in_general(graph: Graph, shapes: list, run: _Run, depth: int | None) -> Summary:
    """A merge whose sizes never agree symbolically: only sizes where it broadcasts a 1 can work."""
    j, err, _ = run.failure
    node = graph.nodes[j]
    notes = [f"valid inputs: {node.name} ({node.type}) fails for every size in general ({err.what}); only sizes "
             "where it broadcasts a 1 are left"]
    boxes = _broadcast_points(graph, shapes, run, (), notes)
    partial = _summarize(graph, shapes, run, depth)
    rows = tuple(r for r in partial.rows if r.index < j)
    return replace(partial, rows=rows, output_shape=None, valid_inputs=boxes, notes=partial.notes + tuple(notes))


def run_summary(model_arg: str, *, input_shape: str | None = None, valid_inputs: bool = False,
                depth: int | None = None) -> Summary:
    """What ``shapesmith summary MODEL [--input SHAPE] [--valid-inputs] [--depth N]`` computes."""
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
        raise ShapesmithError(f"--depth {depth!r}", expected="a whole number >= 0")
    return summary(model_arg, input_shape=input_shape, valid_inputs=valid_inputs, depth=depth)


def _given(input_shape, graph: Graph) -> list | None:
    if input_shape is None:
        return None
    if isinstance(input_shape, list) and input_shape and all(isinstance(s, (str, tuple, list)) for s in input_shape):
        shapes = [as_shape(s) for s in input_shape]
    else:
        shapes = [as_shape(input_shape)]
    if len(shapes) != len(graph.inputs):
        raise ShapesmithError(f"{len(shapes)} input shape(s) for a model with {len(graph.inputs)} input(s) "
                              f"({', '.join(n for n, _ in graph.inputs)})", fix="give one shape per input")
    return shapes


def _input_shapes(graph: Graph, given: list | None, symbolic: bool) -> tuple[list, list[tuple[str, int]]]:
    """The shapes to evaluate, and the dims freed for the valid-input question (declared fixed
    spatial sizes become symbols when ``symbolic``)."""
    shapes = []
    freed: list[tuple[str, int]] = []
    for k, (name, declared) in enumerate(graph.inputs):
        shape = given[k] if given else declared
        if shape is None:
            raise ShapesmithError(f"no input shape for {name!r}: the model does not declare one",
                                  expected="an input shape, batch dim included",
                                  fix="pass input_shape (--input), e.g. '(1, 3, h, w)' or '(1, 3, 224, 224)'")
        if symbolic and not any(isinstance(d, Expr) for d in shape):
            axes = _free_axes(graph, k, shape)
            names = _symbol_names(len(axes), taken={n for s in shapes for d in s if isinstance(d, Expr)
                                                    for n in d.symbols()})
            fixed = [(names[j], shape[a]) for j, a in enumerate(axes) if isinstance(shape[a], int)]
            shape = tuple(Symbol(names[axes.index(j)]) if j in axes else d for j, d in enumerate(shape))
            if fixed:
                freed += fixed
        shapes.append(tuple(shape))
    return shapes, freed


def _declared_mismatch(graph: Graph, given: list) -> list[str]:
    """A given input whose fixed sizes differ from the ones the model declares: the layers may take it,
    but Keras' input check and onnxruntime refuse it for this model object or file."""
    out = []
    for (name, declared), shape in zip(graph.inputs, given):
        if declared is None or len(declared) != len(shape):
            continue
        wrong = [j for j, (d, g) in enumerate(zip(declared, shape)) if isinstance(d, int) and isinstance(g, int)
                 and d != g]
        if wrong:
            how = {"keras": "build the model with those sizes as None (input_shape=(None, None, 3))",
                   "onnx": "export it with those axes dynamic (dynamic_axes)"}.get(graph.framework, "")
            out.append(f"input {name!r} is declared {format_shape(declared)}: {graph.framework} refuses other sizes "
                       f"on axes {wrong} for this model as saved, though its layers take {format_shape(shape)}"
                       + (f"; {how}" if how else ""))
    return out


def _symbol_names(n: int, taken: set[str]) -> list[str]:
    base = {1: ["L"], 2: ["h", "w"], 3: ["d", "h", "w"]}.get(n, [f"s{j}" for j in range(n)])
    return [b if b not in taken else f"{b}{k + 2}" for k, b in enumerate(base)]


def _free_axes(graph: Graph, k: int, shape: tuple) -> list[int]:
    """The input's size axes (not batch, not channels) as its first layer lays them out."""
    layer = _first_layer(graph, k)
    rank = getattr(layer, "rank", None)
    if rank and len(shape) >= rank + 1:
        if getattr(layer, "channels_last", False):
            return list(range(len(shape) - 1 - rank, len(shape) - 1))
        return list(range(len(shape) - rank, len(shape)))
    kind = getattr(layer, "type", "")
    if kind == "Embedding":
        return list(range(1, len(shape)))
    op = getattr(layer, "op", None)
    if hasattr(op, "batch_first") and len(shape) == 3:
        return [1] if op.batch_first else [0]
    if len(shape) >= 3:
        return list(range(1, len(shape) - 1))
    return []


def _first_layer(graph: Graph, k: int):
    target = Ref(None, k)
    for node in graph.nodes:
        if target in node.args or any(isinstance(a, (list, tuple)) and target in a for a in node.args):
            return node.layer
    return None


# -- evaluation ------------------------------------------------------------------------------
@dataclass
class _Run:
    inputs: list
    values: list
    results: list
    errors: dict  # node -> text (a mapping bug: treated as a gap)
    failure: tuple | None = None  # (node index, error, argument shapes)


def _resolve(obj, inputs: list, values: list):
    kind = type(obj)
    if kind is Ref:
        return inputs[obj.index] if obj.node is None else values[obj.node]
    if kind is tuple:
        return tuple(_resolve(o, inputs, values) for o in obj)
    if kind is list:
        return [_resolve(o, inputs, values) for o in obj]
    if kind is Pick:
        value = _resolve(obj.ref, inputs, values)
        return UNKNOWN if value is UNKNOWN else value[obj.index]
    if kind is dict:
        return {k: _resolve(v, inputs, values) for k, v in obj.items()}
    if kind is slice:
        return slice(_resolve(obj.start, inputs, values), _resolve(obj.stop, inputs, values),
                     _resolve(obj.step, inputs, values))
    return obj


def _unknown(obj) -> bool:
    if obj is UNKNOWN:
        return True
    if type(obj) in (tuple, list):
        return any(_unknown(o) for o in obj)
    if type(obj) is dict:
        return any(_unknown(o) for o in obj.values())
    return False


def _evaluate(graph: Graph, shapes: list) -> _Run:
    inputs = [TensorShape(s) for s in shapes]
    n = len(graph.nodes)
    values: list = [UNKNOWN] * n
    results: list = [None] * n
    errors: dict = {}
    run = _Run(inputs, values, results, errors)
    for j, node in enumerate(graph.nodes):
        if node.run is None:
            continue
        args = _resolve(node.args, inputs, values)
        kwargs = _resolve(node.kwargs, inputs, values) if node.kwargs else {}
        if _unknown(args) or _unknown(kwargs):
            continue
        try:
            applied = node.run(args, kwargs)
        except ShapesmithError as err:
            run.failure = (j, err, args)
            return run
        except Exception as exc:  # noqa: BLE001 -- an op shapesmith follows badly: a named gap, never a traceback
            errors[j] = f"shapesmith cannot follow {node.type} here ({type(exc).__name__}: {exc})"
            continue
        values[j] = applied.value
        results[j] = applied.result
    return run


def _output_value(graph: Graph, run: _Run):
    out = _resolve(graph.outputs, run.inputs, run.values)
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (tuple, list)) and not isinstance(out, TensorShape):
        flat = [o for o in out if isinstance(o, TensorShape)]
        return tuple(flat[0]) if len(flat) == 1 else [tuple(o) for o in flat]
    return tuple(out) if isinstance(out, TensorShape) else UNKNOWN


def _summarize(graph: Graph, shapes: list, run: _Run, depth: int | None) -> Summary:
    rows: list[Row] = []
    owners: dict = {}
    params: int | Expr = 0
    frozen_total = 0
    macs_total: int | Expr = 0
    fields = _receptive_fields(graph, run)
    conditions = Conditions()
    warnings = list(graph.warnings)
    for j, node in enumerate(graph.nodes):
        result = run.results[j]
        if not node.row and node.gap is None and j not in run.errors:
            continue
        gap = node.gap or run.errors.get(j)
        after_gap = result is None and gap is None and node.run is not None
        shared_with = owners.get(node.owner) if node.owner is not None else None
        if node.owner is not None and shared_with is None:
            owners[node.owner] = node.name
        if result is not None:
            count = result.params if shared_with is None else 0
            notes = tuple(result.notes)
            if shared_with is not None and result.params:
                notes += (f"shares its weights with {shared_with}",)
            conditions.merge(result.conditions)
            warnings += [f"{node.name} ({node.type}): {w}" for w in result.warnings]
            macs = _macs(result)
            inp, out = result.input_shape, _row_shape(result.output_shape)
        else:
            count = (node.held or 0) if shared_with is None else 0
            notes = ("not computed: it follows a gap",) if after_gap else ()
            macs, inp, out = None, None, None
        frozen = node.frozen if shared_with is None else 0
        params = params + count
        frozen_total += frozen
        if isinstance(macs, (int, Expr)):
            macs_total = macs_total + macs
        rows.append(Row(j, node.name, node.type, node.path, inp, out, count, count - frozen, macs,
                        fields.get(j), node.text, notes, (), gap))
    gaps = [r for r in rows if r.gap]
    if gaps:
        warnings.append(f"{len(gaps)} op(s) shapesmith does not follow (gaps, shown in the table): "
                        + ", ".join(f"{r.name} ({r.type})" for r in gaps[:6]) + (" ..." if len(gaps) > 6 else ""))
    if graph.params is not None and isinstance(params, int) and params != graph.params:
        warnings.append(f"shapesmith counts {params} parameters; {graph.framework} holds {graph.params}")
    notes = list(graph.notes)
    if any(s and s[0] is None for s in shapes):
        notes.append("multiply-adds are for a batch of 1 (the batch dim is None)")
    output = _output_value(graph, run)
    output = None if output is UNKNOWN else output
    return Summary(graph.framework, graph.name, shapes[0] if len(shapes) == 1 else list(shapes), output,
                   tuple(rows), params, params - frozen_total, frozen_total, macs_total,
                   tuple(conditions.as_strings()), tuple(warnings), tuple(notes), dict(graph.containers),
                   depth=depth, graph=graph)


def _row_shape(out):
    if isinstance(out, list):
        return [tuple(o) for o in out]
    return tuple(out)


# -- multiply-adds and receptive fields -------------------------------------------------------
def _batch_and_spatial(shape: tuple, layer) -> tuple[Dim, Dim, tuple]:
    """(batch, channels, spatial) of a spatial layer's shape (batch 1 when unbatched or None)."""
    rank = layer.rank if layer.rank is not None else len(shape) - 2
    batched = len(shape) == rank + 2
    body = shape[1:] if batched else shape
    batch = (shape[0] if batched else 1) or 1
    channels, spatial = (body[-1], body[:-1]) if layer.channels_last else (body[0], body[1:])
    return batch, channels, tuple(spatial)


def _macs(result) -> int | Expr | None:
    """Multiply-adds of the layers that multiply by weights (conv, dense, recurrent, attention); bias
    additions and elementwise layers count 0, as torchinfo does."""
    op = result.op
    kind = type(op).__name__
    try:
        if kind in ("Conv", "ConvTranspose", "DepthwiseConv"):
            layer = result.layer
            n, c_in, sp_in = _batch_and_spatial(result.input_shape, layer)
            _, c_out, sp_out = _batch_and_spatial(result.output_shape, layer)
            k = math.prod(op.kernel)
            if kind == "Conv":
                return product((n, product(sp_out), c_out, c_in // op.groups, k))
            if kind == "ConvTranspose":
                return product((n, product(sp_in), c_in, c_out // op.groups, k))
            depthwise = product((n, product(sp_out), c_in * op.depth_multiplier, k))
            return depthwise + (product((n, product(sp_out), c_in * op.depth_multiplier, op.filters)) if op.filters else 0)
        if kind in ("Dense", "_Gemm"):
            shape = result.input_shape
            out = result.output_shape
            lead = [d or 1 for d in out[:-1]]
            return product((*lead, shape[-1] if kind == "Dense" else (shape[0] if op.trans_a else shape[1]), out[-1]))
        if kind == "Recurrent":
            shape = result.input_shape
            steps, features, batch = (shape[1], shape[2], shape[0]) if op.batch_first and len(shape) == 3 else (
                (shape[0], shape[2], shape[1]) if len(shape) == 3 else (shape[0], shape[1], 1))
            g = {"simple": 1, "lstm": 4, "gru": 3}[op.cell]
            p = op.proj_size or op.units
            per_step: Dim = 0
            for layer in range(op.layers):
                i = features if layer == 0 else op.directions * p
                per_step = per_step + op.directions * g * op.units * (i + p)
            return product((batch or 1, steps, per_step))
        if kind == "MultiHeadAttention":
            shapes = result.input_shape if isinstance(result.input_shape, list) else [result.input_shape]
            q = shapes[0]
            k_ = shapes[1] if len(shapes) > 1 else q
            v = shapes[2] if len(shapes) > 2 else k_
            if not op.batch_first:
                q, k_, v = [(s[1], s[0], s[2]) if len(s) == 3 else s for s in (q, k_, v)]
            n = (q[0] if len(q) == 3 else 1) or 1
            tq, tk = q[-2], k_[-2]
            h, kd, vd = op.heads, op.key_dim, op.value_dim
            out_dim = op.output_dim or q[-1]
            proj = tq * q[-1] * h * kd + tk * k_[-1] * h * kd + tk * v[-1] * h * vd + tq * h * vd * out_dim
            return product((n, proj + tq * tk * h * (kd + vd)))
        if kind == "TransformerEncoderLayer":
            shape = result.input_shape
            steps, batch = (shape[-2], shape[0]) if op.batch_first or len(shape) == 2 else (shape[0], shape[1])
            batch = batch if len(shape) == 3 else 1
            e, f = op.d_model, op.dim_feedforward
            return product((batch or 1, steps * (4 * e * e + 2 * e * f) + 2 * steps * steps * e))
    except (TypeError, AttributeError, IndexError, KeyError, ValueError):
        return None
    return 0


_WINDOWED = ("Conv", "Pool", "DepthwiseConv")
_KEEPS = ("Elementwise", "Broadcast", "Concatenate", "Pad", "_OnnxPad", "_BatchNorm", "_LayerNorm", "_Pad")


def _receptive_fields(graph: Graph, run: _Run) -> dict[int, tuple]:
    """Receptive field (in input cells, per spatial axis) of each spatial layer's output, on the first
    input: ``r' = r + d*(k - 1)*j``, ``j' = j*s`` (transposed: ``j' = j/s`` first); merges take the
    largest; global pooling, flatten and dense end it."""
    if not run.inputs:
        return {}
    key = ("fields", tuple(len(s) for s in run.inputs))
    if key in graph.memo:
        return graph.memo[key]
    fields = _fields(graph, run)
    if run.failure is None and not run.errors:  # a complete run: the same for every input size
        graph.memo[key] = fields
    return fields


def _fields(graph: Graph, run: _Run) -> dict[int, tuple]:
    first = run.inputs[0]
    rank = getattr(_first_layer(graph, 0), "rank", None) or len(first) - 2
    if rank < 1 or len(first) < rank + 2:
        return {}
    track: dict = {Ref(None, 0): ((1,) * rank, (1,) * rank)}
    out: dict[int, tuple] = {}
    for j, node in enumerate(graph.nodes):
        result = run.results[j]
        if result is None:
            continue
        sources = [track[a] for a in _tensor_refs(node.args) if a in track]
        if not sources:
            continue
        field_ = tuple(max(s[0][a] for s in sources) for a in range(rank))
        jump = tuple(max(s[1][a] for s in sources) for a in range(rank))
        op = result.op
        kind = type(op).__name__
        layer = result.layer
        if kind in _WINDOWED or kind == "ConvTranspose":
            if getattr(layer, "rank", None) != rank or len(getattr(op, "kernel", ())) != rank:
                continue
            dilation = getattr(op, "dilation", (1,) * rank)
            if kind == "ConvTranspose":
                jump = tuple(Fraction(jv) / s for jv, s in zip(jump, op.stride))
            field_ = tuple(f + d * (k - 1) * jv for f, d, k, jv in zip(field_, dilation, op.kernel, jump))
            if kind != "ConvTranspose":
                jump = tuple(jv * s for jv, s in zip(jump, op.stride))
            out[j] = tuple(math.ceil(f) for f in field_)
        elif kind == "Resize" and op.scales is not None and len(op.scales) >= rank:
            jump = tuple(Fraction(jv) / Fraction(s).limit_denominator(1000) for jv, s in zip(jump, op.scales[-rank:]))
        elif kind not in _KEEPS and not _same_rank(result):
            continue
        track[Ref(j)] = (field_, jump)
    return out


def _same_rank(result) -> bool:
    """Layers that keep the shape (BatchNorm, activations): the field passes through."""
    return result.input_shape == result.output_shape


def _tensor_refs(args) -> list[Ref]:
    out = []
    for a in args:
        if type(a) is Ref:
            out.append(a)
        elif type(a) in (tuple, list):
            out += _tensor_refs(a)
    return out


# -- conditions --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cond:
    """``expr >= 0`` (``ge``), ``expr == 0`` (``eq``) or ``expr % mod in residues`` (``in``), from node ``node``;
    ``lower``: it came as a plain lower bound ``sym >= bound``."""

    expr: int | Expr
    rel: str
    node: int
    text: str
    residues: frozenset = frozenset()
    mod: int = 0
    lower: tuple | None = None  # (symbol, bound)

    @property
    def symbols(self) -> set[str]:
        return self.expr.symbols() if isinstance(self.expr, Expr) else set()


def _conditions_of(j: int, conditions: Conditions) -> list[_Cond]:
    out = []
    for name, bound in conditions.lower.items():
        out.append(_Cond(Symbol(name) - bound, "ge", j, f"{name} >= {bound}", lower=(name, bound)))
    for text in conditions.other:
        out.append(_parse_condition(j, text))
    return out


def _parse_condition(j: int, text: str) -> _Cond:
    try:
        if " in {" in text:
            left, right = text.split(" in {")
            residues = frozenset(int(v) for v in right.rstrip("}").split(","))
            name, mod = left.split(" % ")
            return _Cond(Symbol(name.strip()), "in", j, text, residues, int(mod))
        for token, rel in ((" >= ", "ge"), (" == ", "eq")):
            if token in text:
                left, right = text.split(token)
                return _Cond(parse_dim(left) - parse_dim(right), rel, j, text)
    except (ParseError, ValueError, TypeError):
        pass
    raise ShapesmithError(f"cannot read the condition {text!r}")


# -- the valid set of one symbol: per residue mod P, runs of k (h = r + P*k) -----------------------
Runs = list  # [(lo, hi)], disjoint and increasing; hi None: unbounded


def _poly_runs(poly: int | Expr, rel: str, k: str, start: int = 0) -> Runs:
    """``{k >= start : poly(k) >= 0}`` (or ``== 0``) as runs of ``k``. ``poly`` is monotone from some
    ``t >= start`` on (its coefficients of one sign once written in ``k - t``: past a quadratic's
    vertex); the ``k`` before ``t`` are tried one by one."""
    if isinstance(poly, int):
        ok = poly >= 0 if rel == "ge" else poly == 0
        return [(start, None)] if ok else []
    t = start
    shifted = poly if not start else poly.subs({k: Symbol(k) + start})
    while isinstance(shifted, Expr) and not _one_sign(shifted):
        t += 1
        if t >= start + MAX_SHIFT:
            raise ShapesmithError(f"{poly} is not monotone")
        shifted = poly.subs({k: Symbol(k) + t})
    head = [v for v in range(start, t) if (poly.subs({k: v}) >= 0 if rel == "ge" else poly.subs({k: v}) == 0)]
    runs = _merge_runs([(v, v) for v in head] + [(lo + t, None if hi is None else hi + t)
                                                  for lo, hi in _monotone_runs(shifted, rel, k)])
    return runs


def _monotone_runs(poly: int | Expr, rel: str, k: str) -> Runs:
    """``{k >= 0 : poly(k) >= 0}`` (or ``== 0``) for ``poly`` with coefficients of one sign."""
    if isinstance(poly, int):
        ok = poly >= 0 if rel == "ge" else poly == 0
        return [(0, None)] if ok else []
    rising = all(c >= 0 for _, c in poly.terms)

    def f(v: int) -> int:
        return poly.subs({k: v})

    if rising:
        first = _first_at_least(lambda v: f(v) >= 0)
        if first is None:
            return []
        if rel == "ge":
            return [(first, None)]
        return [(first, first)] if f(first) == 0 else []
    first = _first_at_least(lambda v: f(v) < 0)  # falling: true up to the last k with poly >= 0
    last = None if first is None else first - 1
    if last is not None and last < 0:
        return []
    if rel == "ge":
        return [(0, last)]
    if last is None:
        return []
    return [(last, last)] if f(last) == 0 else []


def _merge_runs(runs: Runs) -> Runs:
    out: Runs = []
    for lo, hi in sorted(runs, key=lambda r: r[0]):
        if out and (out[-1][1] is None or lo <= out[-1][1] + 1):
            top = out[-1][1]
            out[-1] = (out[-1][0], None if top is None or hi is None else max(top, hi))
        else:
            out.append((lo, hi))
    return out


def _intersect_runs(a: Runs, b: Runs) -> Runs:
    out = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo = max(lo1, lo2)
            hi = hi1 if hi2 is None else hi2 if hi1 is None else min(hi1, hi2)
            if hi is None or lo <= hi:
                out.append((lo, hi))
    return _merge_runs(out)


def _one_sign(poly: Expr) -> bool:
    signs = {c > 0 for _, c in poly.terms}
    return len(signs) == 1


def _first_at_least(ok) -> int | None:
    """The least ``v >= 0`` with ``ok(v)`` for a monotone predicate (None if none below 2**62)."""
    if ok(0):
        return 0
    lo, hi = 0, 1
    while not ok(hi):
        lo, hi = hi, hi * 2
        if hi > 1 << 62:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def _symbol_set(sym: str, conds: list[_Cond]) -> tuple[int, dict[int, Runs]]:
    """``(P, {r: runs})``: the values ``r + P*k`` with ``k`` in the runs (residues ``r`` in 1..P).
    Plain lower bounds ``h >= n`` are one bound (the largest), the rest solved per residue."""
    least = max((c.lower[1] for c in conds if c.lower), default=1)
    others = _unique([c for c in conds if not c.lower])
    period = 1
    for c in others:
        p = c.mod if c.rel == "in" else (_period(c.expr) if isinstance(c.expr, Expr) else 1)
        period = period * p // math.gcd(period, p)
    k = "_k"
    sets: dict[int, Runs] = {}
    for r in range(1, period + 1):
        runs: Runs = [(max(0, -(-(least - r) // period)), None)]
        value = r + period * Symbol(k)
        for c in others:
            if c.rel == "in":
                runs = runs if r % c.mod in c.residues else []
            else:
                runs = _intersect_runs(runs, _poly_runs(c.expr.subs({sym: value}), c.rel, k, runs[0][0]))
            if not runs:
                break
        if runs:
            sets[r] = runs
    return period, sets


def _period(expr: int | Expr) -> int:
    """A period of the floors in ``expr``: every floor's denominator divides it (nested: times the
    inner period), so ``h -> h + P`` shifts each floor by a whole number."""
    if isinstance(expr, int):
        return 1
    period = 1
    for mono, _ in expr.terms:
        for atom in mono:
            if hasattr(atom, "den"):
                p = atom.den * _period(atom.num)
                period = period * p // math.gcd(period, p)
    return period


def _unique(conds: list[_Cond]) -> list[_Cond]:
    """One condition per distinct constraint (the first layer that states it)."""
    seen: dict = {}
    for c in conds:
        key = (c.rel, c.expr, c.mod, c.residues)
        seen.setdefault(key, c)
    return list(seen.values())


def _compress(period: int, sets: dict[int, Runs]) -> list[Range]:
    """The union of ``{r + P*k : k in runs}`` as few ranges as possible (exactly the same set)."""
    ranges: list[Range] = []
    endless = {r for r, runs in sets.items() if runs[-1][1] is None}
    covered_from: dict[int, int] = {}  # residue -> first value covered by an endless range
    if endless:
        step = next(q for q in range(1, period + 1) if period % q == 0 and all(
            ((r - 1 + q) % period + 1 in endless) for r in endless))
        for c in sorted({r % step for r in endless}):
            members = [r for r in endless if r % step == c]
            start = max(r + period * sets[r][-1][0] for r in members)
            while start - step >= 1 and _member(period, sets, start - step):
                start -= step
            ranges.append(Range(start, None, step, start % step))
            for r in range(1, period + 1):
                if r % step == c:
                    covered_from[r] = start
    points: list[int] | None = []
    spans = []
    for r, runs in sorted(sets.items()):
        for lo, hi in runs:
            first = r + period * lo
            last = r + period * hi if hi is not None else None
            if r in covered_from:
                last = covered_from[r] - 1 if last is None else min(last, covered_from[r] - 1)
            if last is None or last < first:
                continue
            spans.append((first, last, r))
            if points is not None:
                if len(points) + (last - first) // period + 1 > MAX_POINTS:
                    points = None
                else:
                    points.extend(range(first, last + 1, period))
    if points is None:
        ranges += [Range(first, last - (last - first) % period, period, r % period) for first, last, r in spans]
    else:
        ranges += _runs(sorted(set(points)))
    return sorted(ranges, key=lambda g: (g.min, g.step))


def _runs(points: list[int]) -> list[Range]:
    """Sorted points as ranges: maximal runs of consecutive values, then equal-stepped singles."""
    out: list[Range] = []
    singles: list[int] = []
    j = 0
    while j < len(points):
        k = j
        while k + 1 < len(points) and points[k + 1] == points[k] + 1:
            k += 1
        if k > j:
            out.append(Range(points[j], points[k], 1, 0))
        else:
            singles.append(points[j])
        j = k + 1
    j = 0
    while j < len(singles):
        if j + 1 < len(singles):
            d = singles[j + 1] - singles[j]
            k = j + 1
            while k + 1 < len(singles) and singles[k + 1] - singles[k] == d:
                k += 1
            out.append(Range(singles[j], singles[k], d, singles[j] % d))
            j = k + 1
        else:
            out.append(Range(singles[j], singles[j], 1, 0))
            j += 1
    return out


# -- conditions joining several symbols -----------------------------------------------------------
def _atoms_of(expr: Expr) -> set:
    return {atom for mono, _ in expr.terms for atom in mono}


def _atom_symbols(atom) -> set[str]:
    return {atom.name} if hasattr(atom, "name") else atom.num.symbols()


def _solve_joint(symbols: list[str], conds: list[_Cond], singles: dict[str, tuple[int, dict]]) \
        -> list[dict[str, list[Range]]] | None:
    """Conditions over several symbols: each symbol's values (already limited by its own conditions)
    split into classes on which every condition's atoms are constant, up to a bound past which the
    conditions no longer change; every combination of classes is checked. None: not solvable here."""
    atoms: dict[str, list] = {s: [] for s in symbols}
    ranges = {s: _compress(*singles[s]) for s in symbols}
    if any(not ranges[s] for s in symbols):
        return []
    least = {s: min(r.min for r in ranges[s]) for s in symbols}
    conds = _unique(conds)
    for c in conds:
        if c.rel == "in" or not isinstance(c.expr, Expr) or not _rising(c.expr, least):
            return None
        for atom in _atoms_of(c.expr):
            owners = _atom_symbols(atom)
            if len(owners) != 1:
                return None
            (owner,) = owners
            if atom not in atoms[owner]:
                atoms[owner].append(atom)
    bound = {}
    for s in symbols:
        top = least[s]
        for c in conds:
            if s not in c.symbols:
                continue
            env = {t: least[t] for t in c.symbols if t != s}
            partial = c.expr.subs(env)
            strict = c.rel == "eq"
            first = _first_at_least(lambda v: (partial.subs({s: v + 1}) if isinstance(partial, Expr) else partial)
                                    > (0 if strict else -1))
            if first is None:
                return None
            top = max(top, first + 1)
        bound[s] = top
    classes: dict[str, list[tuple[list[int] | None, int]]] = {}
    for s in symbols:
        period, sets = singles[s]
        members = [v for v in range(least[s], bound[s]) if _member(period, sets, v)]
        if len(members) > MAX_SCAN:
            return None
        groups: dict[tuple, list[int]] = {}
        for v in members:
            key = tuple(atom.subs({s: v}) for atom in atoms[s])
            groups.setdefault(key, []).append(v)
        found = [(values, values[0]) for values in groups.values()]  # in increasing order: atoms rise
        tail = next((v for v in _values_from(ranges[s], bound[s])), None)
        if tail is not None:
            found.append((None, tail))  # every value from the bound on
        classes[s] = found
    *heads, last = symbols
    if math.prod(len(classes[s]) for s in heads) > MAX_COMBOS:
        return None
    import itertools
    out = []
    options = classes[last]
    for combo in itertools.product(*(classes[s] for s in heads)):
        env = {s: rep for s, (_, rep) in zip(heads, combo)}
        lo, hi = 0, len(options)
        for c in conds:  # each condition rises along the last symbol's classes: two bisections
            part = c.expr.subs(env)
            value = (lambda k, part=part: part.subs({last: options[k][1]})) if isinstance(part, Expr) else \
                (lambda k, part=part: part)
            lo = max(lo, _first_index(lambda k: value(k) >= 0, len(options)))
            if c.rel == "eq":
                hi = min(hi, _first_index(lambda k: value(k) > 0, len(options)))
        for values, _ in options[lo:hi]:
            choice = {s: (_runs(v) if v is not None else _clip(ranges[s], bound[s])) for s, (v, _) in zip(heads, combo)}
            choice[last] = _runs(values) if values is not None else _clip(ranges[last], bound[last])
            out.append(choice)
    return out


def _first_index(ok, n: int) -> int:
    """The first index in ``[0, n)`` where a monotone predicate holds (``n`` if none)."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _rising(expr: Expr, least: dict[str, int]) -> bool:
    """Non-decreasing in every symbol from its least valid value on: non-negative coefficients over
    products of non-decreasing atoms that are >= 0 there (a Flatten's ``C*floor(h/32)*floor(w/32)``),
    directly or once each symbol is written ``least + t`` (``8*(floor(h/4) - 1)*(floor(w/4) - 1)``),
    or each step ``expr(s + 1) - expr(s)`` so (``2*(2*h - 1)*(2*w - 1)``)."""
    if _positive_form(expr, least):
        return True
    for s in expr.symbols():
        step = expr.subs({s: Symbol(s) + 1}) - expr
        if isinstance(step, int):
            if step < 0:
                return False
        elif not (_positive_form(step, least) and step.subs(least) >= 0):
            return False
    return True


def _positive_form(expr: Expr, least: dict[str, int]) -> bool:
    if _rising_terms(expr, least):
        return True
    shifted = expr.subs({s: Symbol(f"_{s}") + (v - 1) for s, v in least.items()})
    return isinstance(shifted, Expr) and _rising_terms(shifted, {f"_{s}": 1 for s in least})


def _rising_terms(expr: Expr, least: dict[str, int]) -> bool:
    for mono, c in expr.terms:
        if c < 0:
            return False
        for atom in mono:
            if not atom.monotone():
                return False
            if len(mono) > 1 and atom.subs(least) < 0:
                return False
    return True


def _member(period: int, sets: dict[int, Runs], v: int) -> bool:
    if v < 1:
        return False
    r = (v - 1) % period + 1
    kk = (v - r) // period
    return any(kk >= lo and (hi is None or kk <= hi) for lo, hi in sets.get(r, ()))


def _values_from(ranges: list[Range], start: int):
    """The least value >= start in the ranges (a generator of one)."""
    best = None
    for r in ranges:
        v = max(r.min, start)
        v += (r.offset - v) % r.step
        if r.max is None or v <= r.max:
            best = v if best is None else min(best, v)
    if best is not None:
        yield best


def _clip(ranges: list[Range], start: int) -> list[Range]:
    out = []
    for r in ranges:
        v = max(r.min, start)
        v += (r.offset - v) % r.step
        if r.max is None or v <= r.max:
            out.append(Range(v, r.max, r.step, r.offset % r.step))
    return out


# -- valid inputs --------------------------------------------------------------------------------
def _valid_inputs(graph: Graph, shapes: list, run: _Run, freed: list[tuple[str, int]]) \
        -> tuple[tuple[Box, ...] | None, list, str | None]:
    symbols: list[str] = []
    for shape in shapes:
        for d in shape:
            if isinstance(d, Expr):
                symbols += [s for s in sorted(d.symbols()) if s not in symbols]
    notes = []
    if freed:
        notes.append(f"valid inputs: the declared sizes ({_pairs(freed)}) are set free to find every size "
                     "the model accepts")
    if not symbols:
        return None, notes + ["valid inputs: the input has no free size (give symbols, e.g. (1, 3, h, w))"], None
    gaps = [graph.nodes[j].name for j, r in enumerate(run.results) if r is None and graph.nodes[j].row
            and graph.nodes[j].type != "Parameter"]
    conds: list[_Cond] = []
    for j, result in enumerate(run.results):
        if result is not None:
            conds += _conditions_of(j, result.conditions)
    solver = _Solver(graph, run, symbols, conds)
    boxes = solver.boxes()
    if boxes is not None:
        boxes = boxes + _broadcast_points(graph, shapes, run, boxes, notes)
    if gaps:
        notes.append(f"valid inputs: {len(gaps)} op(s) are not followed ({', '.join(gaps[:4])}): the sizes they "
                     "need are not in the answer")
    notes += solver.notes
    origin = solver.origin(freed) if boxes is not None else None
    return boxes, notes, origin


MAX_ONES = 64  # sizes per symbol where a merge broadcasts a 1, each solved again with that size fixed


def _merged_shapes(graph: Graph, run: _Run) -> list[list[tuple]]:
    """The inputs of every elementwise (broadcasting) merge evaluated, and of the one that failed."""
    out = [list(r.input_shape) for r in run.results if r is not None and type(r.op).__name__ == "Broadcast"
           and isinstance(r.input_shape, list)]
    if run.failure is not None:
        layer = graph.nodes[run.failure[0]].layer
        args = _flat_tensors(run.failure[2])
        if (layer is None or type(layer.op).__name__ == "Broadcast") and len(args) > 1:
            out.append(args)
    return out


def _broadcast_points(graph: Graph, shapes: list, run: _Run, boxes: tuple, notes: list) -> tuple[Box, ...]:
    """Sizes where an elementwise merge sees a 1 on one side: it broadcasts instead of needing equal
    sizes, which the symbolic answer (equal sizes) leaves out. Each such size is solved again with it
    fixed, the model evaluated as it is there."""
    ones: dict[str, set[int]] = {}
    for merged in _merged_shapes(graph, run):
        first = merged[0]
        for other in merged[1:]:
            for x, y in zip(reversed(first), reversed(other)):
                if x == y:
                    continue
                for d in (x, y):
                    if isinstance(d, Expr) and len(d.symbols()) == 1:
                        (name,) = d.symbols()
                        ones.setdefault(name, set()).update(_where_one(d, name))
    extra: list[Box] = []
    for name, points in sorted(ones.items()):
        for p in sorted(points)[:MAX_ONES]:
            fixed = [tuple(d.subs({name: p}) if isinstance(d, Expr) else d for d in shape) for shape in shapes]
            for box in _solve_fixed(graph, fixed):
                dims = {name: Range(p, p)}
                dims.update(box.dims)
                candidate = Box(dims, box.reason + (f"{name} = {p}: an elementwise merge broadcasts a size of 1",))
                if not any(_covers(b, candidate) for b in boxes + tuple(extra)):
                    extra.append(candidate)
    if len(points if ones else ()) > MAX_ONES:
        notes.append(f"valid inputs: only the first {MAX_ONES} sizes where a merge broadcasts a 1 are checked")
    return tuple(extra)


def _solve_fixed(graph: Graph, shapes: list) -> tuple[Box, ...]:
    """The valid boxes of the remaining symbols once some are fixed (all fixed: the point, if it works)."""
    run = _evaluate(graph, shapes)
    if not any(isinstance(d, Expr) for shape in shapes for d in shape):
        return (Box({}, ()),) if run.failure is None else ()
    if run.failure is not None:
        return _broadcast_points(graph, shapes, run, (), []) if _merged_shapes(graph, run) else ()
    found, _, _ = _valid_inputs(graph, shapes, run, [])
    return found or ()


def _where_one(d: Expr, name: str) -> list[int]:
    """The sizes where a non-decreasing dim of one symbol equals 1."""
    if not d.monotone():
        return []
    out = []
    v = 1
    while v <= 1 << 16:
        value = d.subs({name: v})
        if value > 1:
            break
        if value == 1:
            out.append(v)
        v += 1
    return out


def _covers(big: Box, small: Box) -> bool:
    return all(s in big.dims and _range_within(r, big.dims[s]) for s, r in small.dims.items()) and \
        all(s in small.dims for s in big.dims)


def _range_within(a: Range, b: Range) -> bool:
    if a.min == a.max:
        return a.min in b
    top_ok = b.max is None or (a.max is not None and a.max <= b.max)
    return a.min >= b.min and top_ok and a.step % b.step == 0 and (a.min - b.offset) % b.step == 0


class _Solver:
    def __init__(self, graph: Graph, run: _Run, symbols: list[str], conds: list[_Cond]):
        self.graph, self.run, self.symbols, self.conds = graph, run, symbols, conds
        self.notes: list[str] = []
        self.result: tuple[Box, ...] | None = None

    def boxes(self) -> tuple[Box, ...] | None:
        per: dict[str, list[_Cond]] = {s: [] for s in self.symbols}
        joint: list[_Cond] = []
        for c in self.conds:
            syms = c.symbols
            if len(syms) == 1:
                (s,) = syms
                per.setdefault(s, []).append(c)
            elif syms:
                joint.append(c)
        singles = {}
        try:
            for s in per:
                singles[s] = _symbol_set(s, per[s])
        except ShapesmithError:
            self.notes.append(f"valid inputs: a condition on {s} is not monotone per residue; not solved")
            return None
        self.binding = {s: self._binding(s, per[s], singles[s]) for s in per}
        self.lowers = {s: [c for c in per[s] if c.lower] for s in per}
        parts: list[list[tuple[dict[str, Range], list[str]]]] = []
        done: set[str] = set()
        for syms, group in _components(joint):
            solved = _solve_joint(syms, group, singles)
            if solved is None:
                self.notes.append("valid inputs: cannot solve " + "; ".join(c.text for c in group[:3]))
                return None
            parts.append([(ranges, self._reasons(ranges, group)) for choice in solved
                          for ranges in _product_dicts(choice)])
            done |= set(syms)
        for s in per:
            if s not in done:
                parts.append([({s: r}, self._reasons({s: r}, [])) for r in _compress(*singles[s])])
        import itertools
        boxes = []
        for combo in itertools.product(*parts):
            dims: dict[str, Range] = {}
            reasons: list[str] = []
            for ranges, why in combo:
                dims.update(ranges)
                reasons += [w for w in why if w not in reasons]
            boxes.append(Box({s: dims[s] for s in self.symbols if s in dims}, tuple(reasons)))
        if not boxes:
            self.notes.append("valid inputs: no input size works")
        self.result = tuple(boxes)
        return self.result

    def _binding(self, s: str, conds: list[_Cond], full: tuple) -> list[_Cond]:
        """The conditions (besides plain lower bounds) without which the set of ``s`` would grow."""
        others = _unique([c for c in conds if not c.lower])
        if not others:
            return []
        want = _compress(*full)
        lowers = [c for c in conds if c.lower]
        needed = [c for c in others if _compress(*_symbol_set(s, lowers + [o for o in others if o is not c])) != want]
        if needed or _compress(*_symbol_set(s, lowers)) == want:
            return needed
        return others

    # -- words -------------------------------------------------------------------------------
    def _reasons(self, ranges: dict[str, Range], joint: list[_Cond]) -> list[str]:
        out = []
        point = {s: r.min for s, r in ranges.items()}
        for s, r in ranges.items():
            lows = self.lowers.get(s, [])
            top = max((c.lower[1] for c in lows), default=1)
            if lows and r.min < top + r.step:
                binding = next(c for c in lows if c.lower[1] == top)
                out.append(f"{s} >= {top} ({self._why(binding, point, s)})")
            for c in self.binding.get(s, []):
                out.append(f"{_phrase(s, c)} ({self._why(c, point, s)})")
            if not out and not joint:
                out.append(f"no layer limits {s}")
        for c in _unique(joint):
            groups: dict[Range, list[str]] = {}
            for s in sorted(c.symbols, key=self.symbols.index):
                groups.setdefault(ranges[s], []).append(s)
            spans = "; ".join(f"{', '.join(names)} {r.text()}" for r, names in groups.items())
            out.append(f"{spans} ({self._why(c, point, None)})")
        return out

    def _why(self, c: _Cond, point: dict[str, int], sym: str | None) -> str:
        node = self.graph.nodes[c.node]
        result = self.run.results[c.node]
        kind = type(result.op).__name__ if result is not None else ""
        if c.lower:
            need = _local_need(result, c.lower[0])
            if need is not None:
                return f"{self._named(c.node)}: {_describe_window(result)} needs >= {need}"
            return f"{node.name} ({node.type})"
        if kind in ("Dense", "_Gemm", "Recurrent", "MultiHeadAttention"):
            producer = self._producer(c.node)
            features = self._features(producer, point)
            source = f"{self.graph.nodes[producer].name} -> " if producer is not None else ""
            return f"{source}{node.name} needs {features} features"
        if kind in ("Broadcast", "Concatenate", "_MatMul", "_Stack"):
            a, b = _differing(result.input_shape, sym)
            verb = {"add": "adds", "Add": "adds", "Concatenate": "concatenates", "mul": "multiplies",
                    "Multiply": "multiplies"}.get(getattr(result.op, "kind", kind), "joins")
            if a is not None:
                return f"the skip connection at {node.name} {verb} {a} to {b}"
        return f"{node.name} ({node.type})"

    def _named(self, j: int) -> str:
        """A layer's name; an auto-numbered one (``conv2d_162``) with the named block it feeds
        (``conv2d_162 (in mixed_6a)``), found through its consumers up to the first merge."""
        name = self.graph.nodes[j].name
        if not _AUTO_NAME.fullmatch(name.rsplit("/", 1)[-1]):
            return name
        frontier = {j}
        for _ in range(12):
            frontier = {k for k, node in enumerate(self.graph.nodes) if k > min(frontier)
                        and any(r.node in frontier for r in _tensor_refs(node.args))}
            merges = [k for k in sorted(frontier) if getattr(self.graph.nodes[k].layer, "multi_input", False)]
            if merges:
                block = self.graph.nodes[merges[0]].name
                return name if _AUTO_NAME.fullmatch(block.rsplit("/", 1)[-1]) else f"{name} (in {block})"
            if not frontier:
                break
        return name

    def _producer(self, j: int) -> int | None:
        """The row feeding node j (through plumbing nodes)."""
        refs = _tensor_refs(self.graph.nodes[j].args)
        while refs and refs[0].node is not None:
            k = refs[0].node
            if self.graph.nodes[k].row:
                return k
            refs = _tensor_refs(self.graph.nodes[k].args)
        return None

    def _features(self, producer: int | None, point: dict[str, int]) -> str:
        result = self.run.results[producer] if producer is not None else None
        if result is None:
            return "its"
        shape = result.input_shape
        if isinstance(shape, list) or not shape:
            return "its"
        dims = [d.subs(point) if isinstance(d, Expr) else d for d in shape[1:]]
        if any(not isinstance(d, int) for d in dims):
            return "its"
        return "*".join(str(d) for d in dims) if len(dims) > 1 else str(dims[0])

    def origin(self, freed: list[tuple[str, int]]) -> str | None:
        """Why a declared fixed size is fixed: the architecture (Flatten -> Dense) or only the declaration."""
        if not freed or self.result is None:
            return None
        pinned = [c for c in self.conds if c.rel == "eq" and self.run.results[c.node] is not None
                  and type(self.run.results[c.node].op).__name__ in ("Dense", "_Gemm")]
        if pinned:
            c = pinned[0]
            producer = self._producer(c.node)
            declared = dict(freed)
            home = next((b for b in self.result if declared.keys() <= b.dims.keys() and declared in b),
                        self.result[0] if self.result else None)
            point = {s: r.min for s, r in home.dims.items()} if home else {}
            ordered = ([home] if home else []) + [b for b in self.result if b is not home]
            flat = self.graph.nodes[producer].name if producer is not None else "the input"
            return (f"the architecture fixes the input size: {flat} -> {self.graph.nodes[c.node].name} needs "
                    f"{self._features(producer, point)} features (Flatten -> Dense); valid: "
                    + " | ".join(b.text() for b in ordered[:3]))
        valid = " | ".join(b.text() for b in self.result[:3]) if self.result else "none"
        return (f"only the declared input fixes {_pairs(freed)}: the architecture takes other sizes (global "
                f"pooling before the classifier): {valid}; the fixed size comes from the pretrained weights "
                "(Keras applications: include_top=False, or input_shape with other sizes when weights=None)")


def _pairs(freed: list[tuple[str, int]]) -> str:
    return ", ".join(f"{name}={value}" for name, value in freed)


def _components(conds: list[_Cond]) -> list[tuple[list[str], list[_Cond]]]:
    """Joint conditions grouped by shared symbols."""
    groups: list[tuple[set[str], list[_Cond]]] = []
    for c in conds:
        merged = (set(c.symbols), [c])
        rest = []
        for syms, group in groups:
            if syms & merged[0]:
                merged = (syms | merged[0], group + merged[1])
            else:
                rest.append((syms, group))
        groups = rest + [merged]
    return [(sorted(syms), group) for syms, group in groups]


def _product_dicts(choice: dict[str, list[Range]]) -> list[dict[str, Range]]:
    import itertools
    names = list(choice)
    return [dict(zip(names, combo)) for combo in itertools.product(*(choice[n] for n in names))]


def _differing(shapes, sym: str | None) -> tuple[object, object]:
    """The two sizes a merge must make equal (on the axis that carries ``sym``)."""
    if not isinstance(shapes, list) or len(shapes) < 2:
        return None, None
    for b in shapes[1:]:
        for x, y in zip(reversed(shapes[0]), reversed(b)):
            carries = sym is None or any(isinstance(d, Expr) and sym in d.symbols() for d in (x, y))
            if x != y and x != 1 and y != 1 and carries:
                return format_dim(y), format_dim(x)
    return None, None


def _phrase(s: str, c: _Cond) -> str:
    """One condition on ``s`` as the sizes it allows: ``h % 8 == 0``, ``h in 224..255``."""
    ranges = _compress(*_symbol_set(s, [c]))
    if ranges and all(r.max is None for r in ranges) and len({r.step for r in ranges}) == 1 and ranges[0].step > 1:
        step = ranges[0].step
        offsets = sorted({r.offset % step for r in ranges})
        return f"{s} % {step} == {offsets[0]}" if len(offsets) == 1 else \
            f"{s} % {step} in {{{', '.join(map(str, offsets))}}}"
    if ranges and c.rel == "eq":
        return f"{s} " + " or ".join(r.text() for r in ranges[:4])
    return c.text


def _describe_window(result) -> str:
    """``3x3 stride-2 valid conv``: a windowed layer in words."""
    op = result.op
    kind = type(op).__name__
    kernel = getattr(op, "kernel", None)
    if kernel is None:
        return result.layer.type
    stride = getattr(op, "stride", (1,))
    pads = getattr(op, "padding", ())
    if any(isinstance(p, str) for p in pads):
        pad = "same"
    elif all(tuple(p) == (0, 0) for p in pads):
        pad = "valid"
    else:
        pad = "padding " + ",".join(str(p[0]) if p[0] == p[1] else f"{p[0]}/{p[1]}" for p in pads)
    name = {"Conv": "conv", "ConvTranspose": "transposed conv", "DepthwiseConv": "depthwise conv"}.get(kind)
    if name is None:
        name = f"{getattr(op, 'kind', '')} pool".strip()
    strides = set(stride)
    step = f" stride-{stride[0]}" if len(strides) == 1 and stride[0] != 1 else (
        f" stride-{'x'.join(map(str, stride))}" if len(strides) > 1 else "")
    return f"{'x'.join(map(str, kernel))}{step} {pad} {name}"


def _local_need(result, sym: str) -> int | None:
    """The least size the layer takes on the axis that carries ``sym``: tried on the layer itself."""
    if result is None or not hasattr(result.op, "kernel"):
        return None
    shape = result.input_shape
    if isinstance(shape, list):
        return None
    axes = [j for j, d in enumerate(shape) if isinstance(d, Expr) and sym in d.symbols()]
    if not axes:
        return None
    axis = axes[0]
    base = [d if isinstance(d, int) or d is None else 4096 for d in shape]
    for size in range(1, 4097):
        trial = list(base)
        trial[axis] = size
        try:
            result.layer.infer(tuple(trial))
        except ShapesmithError:
            continue
        return size
    return None


# -- an input the model rejects ------------------------------------------------------------------
_FLATTENS = ("Flatten", "flatten", "view", "reshape", "Reshape")


def _rejected(graph: Graph, shapes: list, run: _Run) -> InputRejected:
    j, err, args = run.failure
    node = graph.nodes[j]
    got = [a for a in _flat_tensors(args)]
    shown = ", ".join(format_shape(s) for s in got) if got else "its arguments"
    partial = _summarize(graph, shapes, run, None)
    partial = replace(partial, rows=tuple(r for r in partial.rows if r.index < j))
    fixes = _nearest(graph, shapes)
    solver_view = _Solver(graph, run, [], [])
    producer = solver_view._producer(j)
    kind = node.layer.op.__class__.__name__ if node.layer is not None else node.type
    feeding = graph.nodes[producer].type if producer is not None else ""
    if kind in ("Dense", "_Gemm") and feeding in _FLATTENS:
        flatten = graph.nodes[producer].name
        if graph.framework == "torch":
            fixes.append(f"replace the flatten ({flatten}) before {node.name} by global pooling: "
                         "nn.AdaptiveAvgPool2d(1) with a Linear of C inputs, or put nn.AdaptiveAvgPool2d((H, W)) "
                         "with the trained H, W before the flatten")
        else:
            fixes.append(f"replace Flatten ({flatten}) by GlobalAveragePooling2D so {node.name} takes any size")
        if graph.hints.get("application"):
            fixes.append(f"build {graph.hints['application']} with include_top=False (pooling='avg') to take "
                         "other sizes")
    elif node.layer is not None and hasattr(node.layer.op, "kernel") and "window" in str(err):
        fixes.append(f"a padding change at {node.name}: " + (
            "padding='same'" if graph.framework.startswith("keras") else
            f"more padding (padding={max(k // 2 for k in node.layer.op.kernel)})"))
    what = f"{node.name} ({node.type}) cannot take {shown}: {err.what}"
    return InputRejected(what, expected=err.expected, fixes=fixes, layer=node.name, partial=partial)


def _flat_tensors(args) -> list[tuple]:
    out = []
    for a in args:
        if isinstance(a, TensorShape):
            out.append(tuple(a))
        elif isinstance(a, (tuple, list)):
            out += _flat_tensors(a)
    return out


def _nearest(graph: Graph, shapes: list) -> list[str]:
    """The nearest sizes the model accepts, from the valid-input boxes with the size dims set free."""
    try:
        sym_shapes, _ = _input_shapes(graph, [tuple(s) for s in shapes], symbolic=True)
        run = _evaluate(graph, sym_shapes)
        if run.failure is not None:
            return []
        boxes, _, _ = _valid_inputs(graph, sym_shapes, run, [])
    except ShapesmithError:
        return []
    if not boxes:
        return ["no input size works for this model" if boxes == () else ""][:1 if boxes == () else 0]
    first = sym_shapes[0]
    given = {str(d): shapes[0][j] for j, d in enumerate(first) if isinstance(d, Expr) and isinstance(shapes[0][j], int)}
    if not given:
        return []
    best = None
    for box in boxes:
        point = {s: box.dims[s].nearest(v) if s in box.dims else v for s, v in given.items()}
        distance = sum(abs(point[s] - given[s]) for s in given)
        if best is None or distance < best[0]:
            best = (distance, point, box)
    _, point, box = best
    shape = tuple(point.get(str(d), shapes[0][j]) if isinstance(d, Expr) else d for j, d in enumerate(first))
    listed = " | ".join(b.text() for b in boxes[:3]) + (" | ..." if len(boxes) > 3 else "")
    why = [r for r in box.reason if " >= " not in r.split(" (")[0]] or list(box.reason)
    return [f"nearest valid input {format_shape(shape)}; valid sizes: {listed} (because "
            + "; ".join(why[:2]) + ")"]
