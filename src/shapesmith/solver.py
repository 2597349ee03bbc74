"""The inverse problem: every setting of a layer's unknown parameters that maps an input shape to a target.

Unknowns are written in the layer text: ``?`` (searched over its parameter's default bounds,
:data:`BOUNDS`), a range ``a..b``, or a set ``{3, 5, 7}``. The dialect is the judge: every candidate
is built and inferred exactly as ``shapesmith layer`` would, so an answer obeys that framework's own
rules (Keras ``output_padding < strides``, PyTorch ``output_padding < max(stride, dilation)``, ...)
and holds for every valid value of a symbolic input. The window formulas treat axes independently,
so unknowns written per axis (``(?, ?)``) are searched one axis at a time (the other axes made equal
to it), and each combination is checked once more as a whole.
"""

from __future__ import annotations

import ast
import functools
import heapq
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from .dialects import DIALECTS, detect
from .dialects.base import Call, call_from_node
from .dims import Dim, as_shape, dim_to_json, format_shape
from .errors import ParseError, ShapesmithError
from .layer import Layer, LayerResult
from .ops import Conv, ConvTranspose, Pool

MAX_EVALUATIONS = 200_000  # candidate layers built per solve: beyond it, narrow the ranges
MAX_RANGE = 10_000

_KERNEL = tuple(range(1, 8))
_STRIDE = tuple(range(1, 5))
_SMALL = tuple(range(0, 4))
_FLAGS = (False, True)
# Default search bounds of ``?``, per parameter name; ``(family, name)`` where dialects differ.
BOUNDS: dict[str | tuple[str, str], tuple] = {
    **dict.fromkeys(("kernel_size", "kernel_shape", "pool_size", "nb_row", "nb_col", "filter_length",
                     "pool_length", "kernel_dim1", "kernel_dim2", "kernel_dim3", "ksize"), _KERNEL),
    **dict.fromkeys(("stride", "strides", "subsample", "subsample_length"), _STRIDE),
    **dict.fromkeys(("dilation", "dilation_rate", "dilations", "atrous_rate"), tuple(range(1, 4))),
    **dict.fromkeys(("padding", "pads", "output_padding"), _SMALL),
    **dict.fromkeys(("ceil_mode", "count_include_pad", "bias", "use_bias"), _FLAGS),
    ("keras", "padding"): ("valid", "same"),
    ("keras", "output_padding"): (None, *_SMALL),
    ("keras1", "border_mode"): ("valid", "same", "full"),
    ("tf", "padding"): ("VALID", "SAME"),
    ("onnx", "auto_pad"): ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"),
    ("onnx", "W"): _KERNEL,  # the kernel entries of the weight's shape
    ("tf", "filters"): _KERNEL,
    ("torch", "padding_mode"): ("zeros", "reflect", "replicate", "circular"),
}
# Unknown sizes taken from the shapes themselves: the target's dims, or the input's.
FROM_TARGET = ("out_channels", "filters", "nb_filter", "units", "out_features", "hidden_size", "output_dim",
               "num_heads", "output_shape", "output_size")
FROM_INPUT = ("in_channels", "in_features", "input_size", "input_dim", "num_features", "normalized_shape")


def _family(framework: str) -> str:
    return "keras" if framework == "keras2" else framework


@dataclass(frozen=True)
class Unknown:
    """One searched value: ``label`` is its parameter and position (``kernel_size[1]``)."""

    label: str
    param: str
    index: tuple[int, ...]
    values: tuple
    span: tuple[int, int]  # where its marker sits in the marked text (bytes)
    axis: int | None = None


@dataclass(frozen=True)
class Solution:
    params: tuple[tuple[str, object], ...]
    layer: str
    output_shape: tuple[Dim, ...] | list[tuple[Dim, ...]]
    constraints: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        from .trace import shape_json
        return {"params": {k: _json_value(v) for k, v in self.params}, "layer": self.layer,
                "output_shape": shape_json(self.output_shape), "constraints": list(self.constraints),
                "notes": list(self.notes)}


@dataclass(frozen=True)
class Solutions:
    """Every solution, simplest first; when there is none, ``reasons`` say why and what to relax."""

    framework: str
    layer: str
    input_shape: tuple[Dim, ...]
    output_shape: tuple[Dim, ...]
    unknowns: tuple[Unknown, ...]
    solutions: tuple[Solution, ...]
    reachable: tuple[tuple[Dim, ...], ...]
    reasons: tuple[str, ...] = ()
    searched: int = 0

    def to_dict(self) -> dict:
        return {
            "framework": self.framework, "layer": self.layer,
            "input_shape": [dim_to_json(d) for d in self.input_shape],
            "output_shape": [dim_to_json(d) for d in self.output_shape],
            "unknowns": [{"name": u.label, "values": [_json_value(v) for v in u.values]} for u in self.unknowns],
            "solutions": [s.to_dict() for s in self.solutions],
            "reachable": [[dim_to_json(d) for d in shape] for shape in self.reachable],
            "reasons": list(self.reasons), "searched": self.searched,
        }


def _json_value(v: object) -> object:
    if isinstance(v, tuple):
        return [_json_value(x) for x in v]
    return v if v is None or isinstance(v, (bool, int, float, str)) else str(v)


# -- reading the template ------------------------------------------------------------------------
_RANGE = re.compile(r"(-?\d+)\s*\.\.\s*(-?\d+)")


def _mark(text: str) -> str:
    """``?`` becomes ``__unknown__()`` and ``a..b`` becomes ``__range__(a, b)``, outside string literals."""
    out, i, quote = [], 0, None
    while i < len(text):
        c = text[i]
        if quote:
            out.append(text[i:i + 2] if c == "\\" else c)
            quote = None if c == quote else quote
            i += 2 if c == "\\" else 1
            continue
        m = _RANGE.match(text, i)
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_.")):
            out.append(f"__range__({m[1]}, {m[2]})")
            i = m.end()
            continue
        out.append("__unknown__()" if c == "?" else c)
        quote = c if c in "'\"" else None
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class _Slot:
    n: int


def _literal(node: ast.expr) -> object:
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ParseError(f"cannot read {ast.unparse(node)!r} as a value to search",
                         expected="a set of literals such as {3, 5, 7}") from None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**31:
        raise ParseError(f"{value} is too large to search", expected="values below 2**31")
    return value


def _domain(node: ast.expr, text: str) -> tuple | None:
    """The values a marker stands for: ``()`` for ``?`` (bounds come later), ``None`` if not a marker."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__unknown__":
        return ()
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__range__":
        a, b = (_literal(x) for x in node.args)
        if b < a:
            raise ParseError(f"the range {a}..{b} is empty", expected="a..b with a <= b", fix=f"write {b}..{a}")
        if b - a >= MAX_RANGE:
            raise ShapesmithError(f"the range {a}..{b} has {b - a + 1} values",
                                  expected=f"at most {MAX_RANGE} values per unknown", fix="narrow the range")
        return tuple(range(a, b + 1))
    if isinstance(node, ast.Set):
        values = tuple(dict.fromkeys(_literal(e) for e in node.elts))
        if not all(v is None or isinstance(v, (int, str)) for v in values):
            raise ParseError(f"cannot search {ast.unparse(node)} in {text!r}", expected="a set of integers or strings")
        return values
    return None


class _Template:
    """A layer with markers: the dialect's signature tells each marker's parameter name."""

    def __init__(self, text: str, framework: str | None):
        if not isinstance(text, str):
            raise ParseError(f"a layer must be text, got {type(text).__name__}")
        self.marked = _mark(text.strip())
        try:
            tree = ast.parse(self.marked, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise ParseError(f"cannot read {text.strip()[:80]!r}: {getattr(exc, 'msg', 'too deeply nested')}",
                             expected="a layer call with unknowns, such as nn.Conv2d(3, 8, ?, stride=1..3)") from None
        line_starts = [0]
        for line in self.marked.encode().splitlines(keepends=True):
            line_starts.append(line_starts[-1] + len(line))
        found: list[tuple[tuple, tuple, tuple[int, int]]] = []  # (where, domain, span)

        def visit(node: ast.expr, where: tuple) -> ast.expr:
            domain = _domain(node, text)
            if domain is not None:
                span = (line_starts[node.lineno - 1] + node.col_offset,
                        line_starts[node.end_lineno - 1] + node.end_col_offset)
                found.append((where, domain, span))
                return ast.Constant(value=_Slot(len(found) - 1))
            if isinstance(node, (ast.Tuple, ast.List)):
                node.elts = [visit(e, (*where, j)) for j, e in enumerate(node.elts)]
            return node

        call_node = tree.func if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Call) else tree
        if isinstance(call_node, ast.Call):
            call_node.args = [visit(a, ("arg", j)) for j, a in enumerate(call_node.args)]
            for kw in call_node.keywords:
                kw.value = visit(kw.value, ("kw", kw.arg))
        if call_node is not tree and isinstance(tree, ast.Call):
            for kw in tree.keywords:
                kw.value = visit(kw.value, ("applied", kw.arg))
        self.call: Call = call_from_node(tree, self.marked)
        self.dialect = DIALECTS[framework] if framework else detect(self.call)
        self.spec = self.dialect.lookup(self.call)
        if self.spec is None:
            self.dialect.build(self.call)  # the dialect's own "unknown layer" error
        self.spec.bind(self.call)  # unknown keyword names fail here, with the dialect's suggestion
        self.found = found
        self.rank, self.channels_last = 0, False  # the layer's, once a candidate has been built

    def unknowns(self, input_shape: tuple[Dim, ...], target: tuple[Dim, ...]) -> tuple[Unknown, ...]:
        out = []
        family = _family(self.dialect.name)
        for where, domain, span in self.found:
            kind, key, *index = where
            param = self.spec.params[key] if kind == "arg" and key < len(self.spec.params) else str(key)
            label = param + "".join(f"[{j}]" for j in index)
            if not domain and not index and param in ("output_shape", "output_size"):
                domain = (tuple(target),)  # the size a transposed conv is asked for is the target itself
            values = domain or _default_bounds(family, param, label, input_shape, target)
            if family == "keras" and param == "padding" and not domain and self.spec.type.endswith("Conv1D"):
                values = (*values, "causal")
            out.append(Unknown(label, param, tuple(index), values, span))
        return tuple(out)

    def call_with(self, values: Sequence[object], tie: int | None = None) -> Call:
        """The call with every slot filled; ``tie=axis`` sets every per-axis argument to that axis's values."""
        def fill(v: object) -> object:
            if isinstance(v, _Slot):
                return values[v.n]
            return tuple(fill(x) for x in v) if isinstance(v, tuple) else v

        def top(name: str, v: object) -> object:
            if not isinstance(v, (tuple, _Slot)):
                return v
            v = fill(v)
            if tie is not None and isinstance(v, tuple):
                positions = _axis_positions(name, len(v), self.rank, self.channels_last)
                return _tied(v, positions, tie) if positions else v
            return v
        c, params = self.call, self.spec.params
        return Call(c.name, tuple(top(params[j] if j < len(params) else "", a) for j, a in enumerate(c.args)),
                    {k: top(k, v) for k, v in c.kwargs.items()}, c.text,
                    {k: top(k, v) for k, v in c.applied_kwargs.items()} if c.applied_kwargs else c.applied_kwargs)

    def arguments(self) -> list[tuple[str, object]]:
        c, params = self.call, self.spec.params
        return ([(params[j] if j < len(params) else "", a) for j, a in enumerate(c.args)]
                + list(c.kwargs.items()) + list(c.applied_kwargs.items()))

    def text_with(self, values: Sequence[object]) -> str:
        data = self.marked.encode()
        for (_, _, (a, b)), v in sorted(zip(self.found, values), key=lambda item: -item[0][2][0]):
            data = data[:a] + repr(v).encode() + data[b:]
        return data.decode()


def _axis_positions(name: str, n: int, rank: int, channels_last: bool) -> list[tuple[int, ...]] | None:
    """Where each axis's entries sit in a sequence argument of length ``n``; ``None``: not per axis.

    ``rank`` values; ONNX ``pads`` (all begins, then all ends); a full shape (``output_shape``, in the
    layer's layout); ONNX ``W`` ``(C_out, C_in/g, *k)``; TF ``filters`` ``(*k, C_in, C_out)``.
    """
    if n == rank:
        return [(a,) for a in range(rank)]
    if name == "pads" and n == 2 * rank:
        return [(a, rank + a) for a in range(rank)]
    if n == rank + 2:
        first = {"W": 2, "filters": 0, "output_shape": 1 if channels_last else 2,
                 "output_size": 1 if channels_last else 2}.get(name)
        if first is not None:
            return [(first + a,) for a in range(rank)]
    return None


def _tied(value: tuple, positions: list[tuple[int, ...]], axis: int) -> tuple:
    """A per-axis argument with every axis's entries set to ``axis``'s."""
    out = list(value)
    for where in positions:
        for p, q in zip(where, positions[axis]):
            out[p] = value[q]
    return tuple(out)


def _default_bounds(family: str, param: str, label: str, input_shape: tuple, target: tuple) -> tuple:
    if (family, param) not in BOUNDS and (param in FROM_TARGET or param in FROM_INPUT):
        shape = target if param in FROM_TARGET else input_shape
        values = tuple(dict.fromkeys(d for d in shape if isinstance(d, int)))
        if values:
            return values
    bounds = BOUNDS.get((family, param), BOUNDS.get(param))
    if bounds is None:
        raise ShapesmithError(f"{label}=? has no default search bounds",
                              expected=f"one of {', '.join(sorted(k for k in BOUNDS if isinstance(k, str)))} "
                                       "for a bare ?",
                              fix=f"write a range ({label}=1..8) or a set ({label}={{1, 2, 4}})")
    return bounds


# -- searching -----------------------------------------------------------------------------------
class _Search:
    def __init__(self, template: _Template, unknowns: tuple[Unknown, ...], input_shape, target):
        self.t = template
        self.unknowns = unknowns
        self.input_shape = input_shape
        self.target = target
        self.evaluations = 0
        self.rejected: Counter[str] = Counter()
        self.example: dict[str, tuple[str, str]] = {}  # rule -> (a refused layer, its message)
        self.by_axes = False
        self.built: dict[tuple, Layer | ShapesmithError] = {}
        self.reached: dict[tuple, list | None] = {}  # output shape -> the first values that gave it
        self.reached_on_axis: list[dict[Dim, None]] = []
        self.spatial_at: list[int] = []

    def evaluate(self, values: Sequence[object], shape=None, tie: int | None = None) -> LayerResult | None:
        """The layer with these values applied to ``shape``; ``None`` when the framework refuses it."""
        self.evaluations += 1
        if self.evaluations > MAX_EVALUATIONS:
            raise ShapesmithError(f"the search passed {MAX_EVALUATIONS} candidate layers",
                                  expected="fewer combinations of unknowns",
                                  fix="narrow the ranges, or write one ? for all axes instead of (?, ?)")
        layer = self.layer_for(values, tie)
        try:
            if isinstance(layer, ShapesmithError):
                raise layer
            return layer.infer(shape or self.input_shape)
        except ShapesmithError as err:
            reason = _reason(err)
            self.rejected[reason] += 1
            self.example.setdefault(reason, (self.t.text_with(values), err.what))
            return None

    def layer_for(self, values: Sequence[object], tie: int | None) -> Layer | ShapesmithError:
        """The layer these values build (cached), or the framework's refusal."""
        key = (tuple(values), tie)
        if key not in self.built:
            call = self.t.call_with(values, tie)
            try:
                self.built[key] = self.t.spec.build(call, self.t.spec.bind(call))
            except ShapesmithError as err:
                self.built[key] = err
        return self.built[key]

    def monotone(self, values: Sequence[object], tie: int | None) -> bool:
        """Whether this layer's output size grows with its input size, and refuses only too-small inputs:
        convolutions and pools with no input-dependent rule (torch ``output_size``, TF ``output_shape``)."""
        layer = self.layer_for(values, tie)
        return isinstance(layer, Layer) and not layer.adjust and isinstance(layer.op, (Conv, ConvTranspose, Pool))

    def values_for_axis(self, assign: dict[int, object], axis: int, rank: int) -> list[object]:
        """Every unknown's value with all axes alike: each axis's unknowns take ``axis``'s values."""
        values = {j: u.values[0] for j, u in enumerate(self.unknowns)} | assign
        mine = [j for j, u in enumerate(self.unknowns) if u.axis == axis]
        for b in range(rank):
            for jb, ja in zip((j for j, u in enumerate(self.unknowns) if u.axis == b), mine):
                values[jb] = values[ja]
        return [values[j] for j in range(len(self.unknowns))]

    def axis_unknowns(self, axis: int | None) -> list[int]:
        """The unknowns one axis's search sets: the shared ones and that axis's (all when not by axis)."""
        return [j for j, u in enumerate(self.unknowns) if axis is None or u.axis in (None, axis)]

    def matches(self, result: LayerResult, target, axis: int | None = None, values: list | None = None) -> bool:
        """Does the (first) output equal ``target`` (``None`` there: any)? Records what was reached."""
        out = result.output_shape[0] if isinstance(result.output_shape, list) else result.output_shape
        if axis is None:
            self.reached.setdefault(tuple(out), values)
        elif len(out) == len(target):
            self.reached_on_axis[axis].setdefault(out[self.spatial_at[axis]], None)
        return len(out) == len(target) and all(t is None or o == t for o, t in zip(out, target))

    def all_values(self, unknowns: Iterable[int]) -> Iterator[dict[int, object]]:
        idx = list(unknowns)
        for combo in itertools.product(*(self.unknowns[j].values for j in idx)):
            yield dict(zip(idx, combo))

    def brute(self) -> list[tuple[dict[int, object], LayerResult]]:
        found = []
        for assign in self.all_values(range(len(self.unknowns))):
            values = [assign[j] for j in range(len(self.unknowns))]
            r = self.evaluate(values)
            if r is not None and self.matches(r, self.target, values=values):
                found.append((assign, r))
        return found

    def by_axis(self, rank: int, channels_last: bool) -> list[tuple[dict[int, object], LayerResult]]:
        """Solve each axis with all axes made equal to it, then check every combination whole."""
        shared = [j for j, u in enumerate(self.unknowns) if u.axis is None]
        spatial_at = self.spatial_at = _spatial_positions(len(self.input_shape), rank, channels_last)
        self.reached_on_axis = [{} for _ in range(rank)]
        partial: list[dict[tuple, list[dict[int, object]]]] = []
        for a in range(rank):
            shape = _tied_shape(self.input_shape, spatial_at, a)
            target = _tied_shape(self.target, spatial_at, a)
            sols: dict[tuple, list[dict[int, object]]] = {}
            for assign in self.all_values(self.axis_unknowns(a)):
                r = self.evaluate(self.values_for_axis(assign, a, rank), shape, a)
                if r is not None and self.matches(r, target, a):
                    sols.setdefault(tuple(assign[j] for j in shared), []).append(assign)
            partial.append(sols)
        found = []
        for key in partial[0]:
            if not all(key in p for p in partial):
                continue
            for parts in itertools.product(*(p[key] for p in partial)):
                assign = {k: v for part in parts for k, v in part.items()}
                r = self.evaluate([assign[j] for j in range(len(self.unknowns))])
                if r is not None and self.matches(r, self.target):
                    found.append((assign, r))
        return found


def _reason(err: ShapesmithError) -> str:
    """An error's gist without its numbers, so rejections group by the rule that fired."""
    return re.sub(r"-?\d+", "N", err.what.split(";")[0])[:160]


def _spatial_positions(ndim: int, rank: int, channels_last: bool) -> list[int]:
    start = ndim - rank - (1 if channels_last else 0)
    return list(range(start, start + rank))


def _tied_shape(shape: tuple, spatial_at: list[int], axis: int) -> tuple:
    out = list(shape)
    for p in spatial_at:
        out[p] = shape[spatial_at[axis]]
    return tuple(out)


def _probe(search: _Search) -> LayerResult | None:
    """A layer built from the first values that build: its rank and layout decide the strategy."""
    for n, assign in enumerate(search.all_values(range(len(search.unknowns)))):
        if n >= 64:
            return None
        call = search.t.call_with([assign[j] for j in range(len(search.unknowns))])
        try:
            return search.t.spec.build(call, search.t.spec.bind(call))
        except ShapesmithError:
            continue
    return None


def _with_axes(unknowns: tuple[Unknown, ...], template: _Template) -> tuple[Unknown, ...]:
    """Mark each unknown that sits at one axis's position of a per-axis argument."""
    def axis(u: Unknown) -> int | None:
        value = dict(template.arguments()).get(u.param)
        positions = _axis_positions(u.param, len(value), template.rank, template.channels_last) \
            if isinstance(value, tuple) and u.index else None
        return next((a for a, where in enumerate(positions or ()) if u.index[0] in where), None)
    return tuple(Unknown(u.label, u.param, u.index, u.values, u.span, axis(u)) for u in unknowns)


def _tieable(template: _Template) -> bool:
    """Every sequence argument is per axis, so all axes can be made alike."""
    return all(not isinstance(v, tuple) or _axis_positions(name, len(v), template.rank, template.channels_last)
               for name, v in template.arguments())


def _simplicity(assign: dict[int, object], unknowns: tuple[Unknown, ...], result: LayerResult) -> tuple[int, ...]:
    """Lower is simpler: no window that skips inputs or leaves output cells unreached (``d*(k-1)+1 < s``),
    no output_padding, symmetric padding, smaller kernels, less padding; then each value's place in its
    domain. Costs add up along a chain."""
    op = result.op
    kernel = getattr(op, "kernel", None) or ()
    gaps = sum(1 for k, s, d in zip(kernel, getattr(op, "stride", ()), getattr(op, "dilation", ()))
               if d * (k - 1) + 1 < s)
    out_pad = sum(1 for p in getattr(op, "output_padding", ()) if p)
    pads = [p for p in getattr(op, "padding", ()) if isinstance(p, tuple) and len(p) == 2]
    asymmetric = sum(1 for b, e in pads if b != e)
    padding = sum(b + e for b, e in pads if isinstance(b, int) and isinstance(e, int))
    order = sum(unknowns[j].values.index(v) for j, v in assign.items())
    return (gaps, out_pad, asymmetric, sum(kernel), padding, order)


def _add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b))


def _prepared(template: _Template, unknowns: tuple[Unknown, ...], shape, target) -> _Search:
    """A search over ``template``'s unknowns; by axis when the layer is spatial and its arguments allow."""
    search = _Search(template, unknowns, shape, target)
    probe = _probe(search)
    if isinstance(probe, Layer) and probe.rank and probe.rank > 1:
        template.rank, template.channels_last = probe.rank, probe.channels_last
        if _tieable(template):
            search.unknowns = _with_axes(unknowns, template)
            search.by_axes = any(u.axis is not None for u in search.unknowns)
    return search


def solve(layer: str, *, input_shape, output_shape, framework: str | None = None) -> Solutions:
    """Every value of the unknowns in ``layer`` for which ``input_shape`` becomes ``output_shape``.

    >>> s = solve("nn.Conv2d(1, 8, kernel_size=?, stride=2)", input_shape="(1, 1, 28, 28)",
    ...           output_shape="(1, 8, 13, 13)")
    >>> [x.layer for x in s.solutions]
    ['nn.Conv2d(1, 8, kernel_size=3, stride=2)', 'nn.Conv2d(1, 8, kernel_size=4, stride=2)']
    """
    template = _Template(layer, framework)
    shape, target = as_shape(input_shape), as_shape(output_shape)
    unknowns = template.unknowns(shape, target)
    if not unknowns:
        raise ShapesmithError(f"{layer.strip()[:80]!r} has no unknowns",
                              expected="parameters written ?, a range a..b or a set {a, b}",
                              fix="e.g. kernel_size=?, stride=1..4, padding={0, 1}; or use `shapesmith layer`")
    search = _prepared(template, unknowns, shape, target)
    unknowns = search.unknowns
    size = (sum(math.prod(len(u.values) for u in unknowns if u.axis in (None, a)) for a in range(template.rank))
            if search.by_axes else math.prod(len(u.values) for u in unknowns))
    if size > MAX_EVALUATIONS:
        raise ShapesmithError(f"{size} combinations of unknowns to try", expected=f"at most {MAX_EVALUATIONS}",
                              fix="narrow the ranges, or write one ? for all axes instead of (?, ?)")
    found = search.by_axis(template.rank, template.channels_last) if search.by_axes else search.brute()
    found.sort(key=lambda item: _simplicity(item[0], unknowns, item[1]))
    solutions = tuple(_solution(template, unknowns, assign, r, search) for assign, r in found)
    reachable = _nearest(search, target)
    if found:
        _check_rank(reachable, target, layer)
    reasons = () if found else _why_not(search, reachable, target, layer)
    return Solutions(template.dialect.name, layer.strip(), shape, target, unknowns, solutions, reachable, reasons,
                     search.evaluations)


def _solution(template: _Template, unknowns, assign: dict[int, object], r: LayerResult, search: _Search) -> Solution:
    values = [assign[j] for j in range(len(unknowns))]
    notes = []
    if template.dialect.name == "torch" and any(getattr(r.op, "output_padding", ())) and \
            any(u.param == "output_padding" for u in unknowns) and not template.call.applied_kwargs:
        zero = [0 if u.param == "output_padding" else v for u, v in zip(unknowns, values)]
        spatial = r.output_shape[-len(r.op.kernel):]
        alt = f"{template.text_with(zero)}(x, output_size={list(spatial)})"
        notes.append(f"or keep output_padding=0 and pick the size when calling: {alt}")
    return Solution(tuple((u.label, v) for u, v in zip(unknowns, values)), template.text_with(values),
                    r.output_shape, tuple(r.conditions.as_strings()), tuple(notes))


def _distance(shape: tuple, target: tuple) -> tuple:
    if len(shape) != len(target):
        return (1, 0)
    gap = 0
    for o, t in zip(shape, target):
        if t is None or o == t:
            continue
        diff = o - t if o is not None else None
        gap += abs(diff) if isinstance(diff, int) else 10**9
    return (0, gap)


def _nearest(search: _Search, target: tuple, n: int = 8) -> tuple[tuple[Dim, ...], ...]:
    """The reached output shapes nearest the target; searched by axis, the nearest sizes per axis combined."""
    reached = list(search.reached)
    if not reached and any(search.reached_on_axis):
        def near(axis: int) -> list:
            t = target[search.spatial_at[axis]]
            return sorted(search.reached_on_axis[axis], key=lambda v: _distance((v,), (t,)))[:3]
        for sizes in itertools.product(*(near(a) for a in range(len(search.spatial_at)))):
            shape = list(target)
            for p, v in zip(search.spatial_at, sizes):
                shape[p] = v
            reached.append(tuple(shape))
    return tuple(sorted(reached, key=lambda s: _distance(s, target))[:n])


def _check_rank(reachable, target, layer) -> None:
    if reachable and all(len(s) != len(target) for s in reachable):
        raise ShapesmithError(f"the target {format_shape(target)} has {len(target)} dims but {layer.strip()[:60]} "
                              f"gives {len(reachable[0])}", expected=f"a {len(reachable[0])}-D target",
                              fix="write the target with the batch dim, in the layer's layout")


def _why_not(search: _Search, reachable, target, layer) -> tuple[str, ...]:
    _check_rank(reachable, target, layer)
    reasons = []
    if reachable:
        def example(shape: tuple) -> str:
            values = search.reached.get(shape)
            return f"{format_shape(shape)} by {search.t.text_with(values)}" if values else format_shape(shape)
        shown = "; ".join(example(s) for s in reachable[:3])
        reasons.append(f"no setting within the bounds gives {format_shape(target)}; the nearest reached: {shown}")
    else:
        reasons.append(f"no setting within the bounds gives any output for input {format_shape(search.input_shape)}")
    for reason, count in search.rejected.most_common(3):
        text, message = search.example[reason]
        reasons.append(f"{count} setting(s) refused by {search.t.dialect.title}, e.g. {text}: {message}")
    reasons.append("relax: widen the ranges (" + ", ".join(
        f"{u.label} in {values_text(u.values)}" for u in search.unknowns) + "), or make more parameters unknown")
    return tuple(reasons)


def values_text(values: tuple) -> str:
    """A search domain for people: ``1..7`` when it is a run of integers, else the set ``{'valid', 'same'}``."""
    ints = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    if ints and len(ints) == len(values) and ints == list(range(ints[0], ints[-1] + 1)):
        return f"{ints[0]}..{ints[-1]}"
    return "{" + ", ".join(map(repr, values)) + "}"


# -- chains ------------------------------------------------------------------------------------
MAX_PATHS = 20_000  # designs enumerated per axis before ranking


@dataclass(frozen=True)
class Design:
    """One chain of layers: each layer's text, its unknowns' values and the shape after it."""

    layers: tuple[str, ...]
    params: tuple[tuple[tuple[str, object], ...], ...]
    shapes: tuple[tuple[Dim, ...], ...]
    constraints: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        from .trace import shape_json
        return {"layers": list(self.layers),
                "params": [{k: _json_value(v) for k, v in p} for p in self.params],
                "shapes": [shape_json(x) for x in self.shapes], "constraints": list(self.constraints)}


@dataclass(frozen=True)
class Designs:
    """Chains from ``input_shape`` to ``output_shape`` (through ``through`` after each layer), simplest first."""

    framework: str
    layers: tuple[str, ...]
    input_shape: tuple[Dim, ...]
    output_shape: tuple[Dim, ...]
    through: tuple[tuple[Dim, ...] | None, ...]
    designs: tuple[Design, ...]
    total: int
    reasons: tuple[str, ...] = ()
    searched: int = 0

    def to_dict(self) -> dict:
        def js(shape):
            return None if shape is None else [dim_to_json(d) for d in shape]
        return {"framework": self.framework, "layers": list(self.layers), "input_shape": js(self.input_shape),
                "output_shape": js(self.output_shape), "through": [js(t) for t in self.through],
                "designs": [d.to_dict() for d in self.designs], "total": self.total,
                "reasons": list(self.reasons), "searched": self.searched}


def _fits(out: tuple, target: tuple | None) -> bool:
    return target is None or (len(out) == len(target) and all(t is None or o == t for o, t in zip(out, target)))


def _first_output(r: LayerResult) -> tuple:
    return tuple(r.output_shape[0] if isinstance(r.output_shape, list) else r.output_shape)


class _Chain:
    def __init__(self, searches: list[_Search], shape: tuple, targets: list[tuple | None], spatial_at: list[int]):
        self.searches, self.shape, self.targets, self.spatial_at = searches, shape, targets, spatial_at
        self.levels: list[dict[tuple, list]] = []
        self.dead: tuple | None = None  # (layer, shapes before it, its target, shapes it reached)
        self.total = 0

    def tie(self, shape: tuple | None, axis: int | None) -> tuple | None:
        return shape if shape is None or axis is None else _tied_shape(shape, self.spatial_at, axis)

    def paths(self, axis: int | None, rank: int, limit: int) -> list[tuple[tuple[dict[int, object], LayerResult], ...]]:
        """The cheapest ``limit`` sequences of per-layer (values, result) that meet the targets, for one axis
        (or whole); ``self.total`` counts them all."""
        frontier = [self.tie(self.shape, axis)]
        levels = []
        for i, search in enumerate(self.searches):
            target = self.tie(self.targets[i], axis)
            level: dict[tuple, list] = {}
            reached: dict[tuple, None] = {}
            groups = self.ordered(frontier) if target is not None else None
            for assign in search.all_values(search.axis_unknowns(axis)):
                values = (search.values_for_axis(assign, axis, rank) if axis is not None
                          else [assign[j] for j in range(len(search.unknowns))])
                hits = (self.bisect(search, values, axis, groups, target, reached)
                        if groups is not None and search.monotone(values, axis) else
                        self.scan(search, values, axis, frontier, target, reached))
                for st, r in hits:
                    level.setdefault(_first_output(r), []).append(
                        (st, assign, r, _simplicity(assign, search.unknowns, r)))
            levels.append(level)
            if not level:
                self.dead = (i, list(frontier), target, list(reached))
                return []
            frontier = list(level)
        return self.best_paths(levels, limit)

    def best_paths(self, levels: list[dict[tuple, list]], limit: int) -> list:
        """The ``limit`` cheapest paths, in order: the cheapest cost to reach each shape going forward, then
        a best-first walk back from the end (exact: costs only add up)."""
        zero = (0,) * 6
        best: list[dict[tuple, tuple]] = []
        counts: list[dict[tuple, int]] = []
        for i, level in enumerate(levels):
            best.append({})
            counts.append({})
            for shape, entries in level.items():
                costs, n = [], 0
                for prev, _, _, cost in entries:
                    costs.append(_add(best[i - 1][prev] if i else zero, cost))
                    n += counts[i - 1][prev] if i else 1
                best[i][shape], counts[i][shape] = min(costs), n
        self.total = sum(counts[-1].values())
        heap = [(best[-1][shape], n, len(levels) - 1, shape, zero, ()) for n, shape in enumerate(levels[-1])]
        heapq.heapify(heap)
        out, tick = [], len(heap)
        while heap and len(out) < limit:
            _, _, i, shape, suffix_cost, suffix = heapq.heappop(heap)
            if i < 0:
                out.append(suffix)
                continue
            for prev, assign, r, cost in levels[i][shape]:
                tick += 1
                c = _add(suffix_cost, cost)
                heapq.heappush(heap, (_add(best[i - 1][prev] if i else zero, c), tick, i - 1, prev, c,
                                      ((assign, r), *suffix)))
        return out

    @staticmethod
    def scan(search: _Search, values, axis, frontier, target, reached) -> list[tuple[tuple, LayerResult]]:
        hits = []
        for st in frontier:
            r = search.evaluate(values, st, axis)
            if r is not None:
                out = _first_output(r)
                reached.setdefault(out, None)
                if _fits(out, target):
                    hits.append((st, r))
        return hits

    def ordered(self, frontier: list[tuple]) -> list[list[tuple]] | None:
        """The shapes grouped by their non-spatial dims and sorted by size, when every one is square."""
        groups: dict[tuple, list[tuple]] = {}
        for st in frontier:
            sizes = {st[p] for p in self.spatial_at}
            if len(sizes) != 1 or not isinstance(st[self.spatial_at[0]], int):
                return None
            groups.setdefault(tuple(d for p, d in enumerate(st) if p not in self.spatial_at), []).append(st)
        return [sorted(g, key=lambda st: st[self.spatial_at[0]]) for g in groups.values()]

    def bisect(self, search: _Search, values, axis, groups, target, reached) -> list[tuple[tuple, LayerResult]]:
        """Output sizes never decrease with the input size (and a refused input is a too-small one), so the
        inputs that give the target are found by bisection and a short scan."""
        want = target[self.spatial_at[0]]
        hits = []
        for states in groups:
            def size(j: int, states: list[tuple] = states) -> int | None:
                r = search.evaluate(values, states[j], axis)
                if r is None:
                    return None
                out = _first_output(r)
                reached.setdefault(out, None)
                return out[self.spatial_at[0]] if len(out) == len(target) else None
            lo, hi = 0, len(states)
            while lo < hi:
                mid = (lo + hi) // 2
                got = size(mid)
                if got is None or got < want:
                    lo = mid + 1
                else:
                    hi = mid
            for st in states[lo:]:
                r = search.evaluate(values, st, axis)
                if r is None or not _fits(_first_output(r), target):
                    break
                hits.append((st, r))
        return hits

    def check(self, assigns: Sequence[dict[int, object]]) -> list[LayerResult] | None:
        """The whole chain with these values, from the real input: every target met?"""
        shape, results = self.shape, []
        for search, assign, target in zip(self.searches, assigns, self.targets):
            r = search.evaluate([assign[j] for j in range(len(search.unknowns))], shape)
            if r is None or not _fits(_first_output(r), target):
                return None
            results.append(r)
            shape = _first_output(r)
        return results


def solve_chain(layers: Sequence[str], *, input_shape, output_shape, through: Sequence | None = None,
                mirror: str | None = None, framework: str | None = None, limit: int = 20) -> Designs:
    """Design a chain: values for every layer's unknowns taking ``input_shape`` to ``output_shape``.

    ``through`` fixes the shape after each layer but the last (``None``: free); ``mirror`` is an encoder
    (a stack in the same dialect) that the chain must invert: after each layer, the spatial sizes the
    encoder had at that depth, read backwards.
    """
    texts = [t.strip() for t in layers if t.strip()]
    if not texts:
        raise ParseError("no layers to design", expected="one layer per line, with unknowns")
    first = _Template(texts[0], framework)
    framework = first.dialect.name
    templates = [first] + [_Template(t, framework) for t in texts[1:]]
    shape, target = as_shape(input_shape), as_shape(output_shape)
    if mirror is not None and through is not None:
        raise ShapesmithError("both mirror and through were given", fix="give one")
    steps = [None if t is None else as_shape(t) for t in (through or [None] * (len(texts) - 1))]
    if len(steps) != len(texts) - 1:
        raise ShapesmithError(f"{len(steps)} intermediate shapes for {len(texts)} layers",
                              expected=f"{len(texts) - 1} (one after each layer but the last)")
    searches = []
    for i, t in enumerate(templates):
        goal = steps[i] if i < len(steps) else target
        searches.append(_prepared(t, t.unknowns(shape, goal or target), shape, goal or target))
    rank = templates[0].rank
    by_axes = any(s.by_axes for s in searches) and all(
        t.rank == rank and t.channels_last == templates[0].channels_last and _tieable(t) for t in templates)
    spatial_at = _spatial_positions(len(shape), rank, templates[0].channels_last) if rank else []
    if mirror is not None:
        steps = _mirrored(mirror, target, framework, len(texts), spatial_at)
    chain = _Chain(searches, shape, [*steps, target], spatial_at)
    designs, total = _designs(chain, rank, by_axes, searches, limit)
    ranked = tuple(_design(templates, searches, assigns, results) for assigns, results in designs)
    reasons = () if designs else _chain_reasons(chain, templates)
    return Designs(framework, tuple(texts), shape, target, tuple(steps), ranked, total, reasons,
                   sum(s.evaluations for s in searches))


def _designs(chain: _Chain, rank: int, by_axes: bool, searches: list[_Search], limit: int) -> tuple[list, int]:
    """The simplest designs, ranked, and how many there are; by axis, the per-axis paths that agree on the
    values written once for all axes are combined and checked whole (counted up to MAX_PATHS)."""
    if not by_axes:
        paths = chain.paths(None, rank, limit)
        return [([a for a, _ in p], [r for _, r in p]) for p in paths], chain.total
    per_axis = []
    for a in range(rank):
        grouped: dict[tuple, list] = {}
        for path in chain.paths(a, rank, MAX_PATHS):
            key = tuple(tuple(assign[j] for j, u in enumerate(s.unknowns) if u.axis is None)
                        for s, (assign, _) in zip(searches, path))
            grouped.setdefault(key, []).append(path)
        per_axis.append(grouped)
    found = []
    for key in per_axis[0]:
        if not all(key in g for g in per_axis):
            continue
        for parts in itertools.product(*(g[key] for g in per_axis)):
            assigns = [{k: v for (p, _) in layer_parts for k, v in p.items()} for layer_parts in zip(*parts)]
            results = chain.check(assigns)
            if results is not None:
                cost = functools.reduce(_add, (_simplicity(a, s.unknowns, r)
                                               for a, s, r in zip(assigns, searches, results)))
                found.append((cost, assigns, results))
            if len(found) >= MAX_PATHS:
                break
    found.sort(key=lambda item: item[0])
    return [(a, r) for _, a, r in found[:limit]], len(found)


def _design(templates, searches, assigns, results) -> Design:
    conditions: dict[str, None] = {}
    for r in results:
        conditions.update(dict.fromkeys(r.conditions.as_strings()))
    values = [[a[j] for j in range(len(s.unknowns))] for s, a in zip(searches, assigns)]
    return Design(tuple(t.text_with(v) for t, v in zip(templates, values)),
                  tuple(tuple((u.label, x) for u, x in zip(s.unknowns, v)) for s, v in zip(searches, values)),
                  tuple(_first_output(r) for r in results), tuple(conditions))


def _mirrored(encoder: str, output_shape: tuple, framework: str, n: int, spatial_at: list[int]) -> list[tuple]:
    """The spatial sizes an encoder has at each depth, read backwards: what a decoder must go through."""
    from .trace import trace
    t = trace(encoder, input_shape=output_shape, framework=framework)
    if len(t.layers) != n:
        raise ShapesmithError(f"the encoder has {len(t.layers)} layers and the decoder {n}",
                              expected="as many decoder layers as encoder layers", fix="add or remove decoder layers")
    shapes = [tuple(r.output_shape) for r in t.layers][:-1][::-1]
    return [tuple(d if p in spatial_at else None for p, d in enumerate(s)) for s in shapes]


def _chain_reasons(chain: _Chain, templates: list[_Template]) -> tuple[str, ...]:
    if chain.dead is None:
        shared = sorted({u.label for s in chain.searches for u in s.unknowns if u.axis is None})
        return (f"each axis alone has designs, but none agree on the values written once for all axes "
                f"({', '.join(shared)})", "relax: write those per axis, e.g. kernel_size=(?, ?)")
    i, frontier, target, reached = chain.dead
    shown = ", ".join(format_shape(s) for s in frontier[:6])
    reasons = [f"layer {i + 1} ({templates[i].text_with([u.values[0] for u in chain.searches[i].unknowns])[:60]}...) "
               f"cannot go on from the shapes reached before it: {shown}"
               if not reached else
               f"after layer {i + 1} no design reaches {format_shape(target)}; nearest reached: "
               + ", ".join(format_shape(s) for s in sorted(reached, key=lambda s: _distance(s, target))[:5])]
    for reason, count in chain.searches[i].rejected.most_common(2):
        text, message = chain.searches[i].example[reason]
        reasons.append(f"{count} setting(s) of layer {i + 1} refused, e.g. {text}: {message}")
    reasons.append("relax: widen the menus (ranges or sets), or add a layer")
    return tuple(reasons)


# -- the transposed conv's ambiguity ---------------------------------------------------------------
@dataclass(frozen=True)
class Recovery:
    """One input size the forward conv maps to its output, and the transposed layers that give it back."""

    sizes: tuple[Dim, ...]
    layers: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"sizes": [dim_to_json(d) for d in self.sizes], "layers": list(self.layers)}


@dataclass(frozen=True)
class Inverse:
    """A forward conv: every input size giving the same output, and how the transposed conv recovers each."""

    framework: str
    layer: str
    input_shape: tuple[Dim, ...]
    output_shape: tuple[Dim, ...]
    per_axis: tuple[tuple[str, tuple[Dim, ...]], ...]
    recoveries: tuple[Recovery, ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"framework": self.framework, "layer": self.layer,
                "input_shape": [dim_to_json(d) for d in self.input_shape],
                "output_shape": [dim_to_json(d) for d in self.output_shape],
                "same_output": {axis: [dim_to_json(d) for d in sizes] for axis, sizes in self.per_axis},
                "recoveries": [r.to_dict() for r in self.recoveries], "notes": list(self.notes)}


def _one(values: Sequence) -> object:
    return values[0] if len(set(values)) == 1 else tuple(values)


def _transposed_candidates(layer: Layer, c_in: int, sizes: tuple[int, ...], batch: Dim) -> list[str]:
    """The transposed convs, in ``layer``'s dialect, that could undo it toward spatial ``sizes``: same
    kernel, stride, dilation and padding, channels swapped, each way the dialect picks the size."""
    op, r = layer.op, layer.op.rank
    k, st, d = _one(op.kernel), _one(op.stride), _one(op.dilation)
    paddings = [tuple(range(max(s_, d_))) for s_, d_ in zip(op.stride, op.dilation)]
    combos = [_one(c) for c in itertools.product(*paddings)]
    same = isinstance(op.padding[0], str)
    fw = layer.framework
    if fw == "torch":
        if same or any(b != e for b, e in op.padding):
            return []
        p = _one([b for b, _ in op.padding])
        groups = f", groups={op.groups}" if op.groups > 1 else ""
        dil = f", dilation={d}" if d != 1 else ""
        head = f"nn.ConvTranspose{r}d({op.out_channels}, {c_in}, {k}, stride={st}, padding={p}{dil}{groups}"
        return [f"{head}, output_padding={c})" for c in combos] + [f"{head})(x, output_size={list(sizes)})"]
    if fw in ("keras", "keras2"):
        fmt = layer.config.get("data_format")
        tail = f", data_format={fmt!r}" if fmt else ""
        head = (f"Conv{r}DTranspose({c_in}, {k}, strides={st}, padding={'same' if same else 'valid'!r}"
                + (f", dilation_rate={d}" if d != 1 else ""))
        return [f"{head}, output_padding={c}{tail})" for c in (None, *combos)]
    if fw == "onnx":
        if same:
            return []
        pads = [b for b, _ in op.padding] + [e for _, e in op.padding]
        head = (f"ConvTranspose(kernel_shape={list(op.kernel)}, strides={list(op.stride)}, pads={pads}, "
                f"dilations={list(op.dilation)}, W={(op.out_channels, c_in // op.groups, *op.kernel)}"
                + (f", group={op.groups}" if op.groups > 1 else ""))
        return ([f"{head}, output_padding={list(c) if isinstance(c, tuple) else [c] * r})" for c in combos]
                + [f"{head}, output_shape={list(sizes)})"])
    if fw == "tf":
        full = (batch, *sizes, c_in) if layer.channels_last else (batch, c_in, *sizes)
        fmt = layer.config.get("data_format")
        return [f"tf.nn.conv{r}d_transpose(filters={(*op.kernel, c_in, op.out_channels)}, "
                f"output_shape={full}, strides={st}, padding={'SAME' if same else 'VALID'!r}, dilations={d}"
                + (f", data_format={fmt!r}" if fmt else "") + ")"]
    if fw == "keras1" and r == 2:
        full = (None, *sizes, c_in) if layer.channels_last else (None, c_in, *sizes)
        fmt = layer.config.get("dim_ordering")
        fmt = None if fmt == "default" else fmt
        return [f"Deconvolution2D({c_in}, {op.kernel[0]}, {op.kernel[1]}, output_shape={full}, "
                f"subsample={op.stride}, border_mode={'same' if same else 'valid'!r}"
                + (f", dim_ordering={fmt!r}" if fmt else "") + ")"]
    return []


def inverse(layer: str, *, input_shape, framework: str | None = None) -> Inverse:
    """For a forward conv: the input sizes that give the same output (integer division forgets which),
    and for each, the transposed convs of the same dialect that map the output back to it.

    The forward layer itself decides which sizes share an output (every size within one stride of the
    input is tried), and each transposed candidate is built and inferred by its dialect.
    """
    from .dialects import build_layer
    built = build_layer(layer, framework)
    if not isinstance(built, Layer) or not isinstance(built.op, Conv):
        raise ShapesmithError(f"{built.type} is not a convolution",
                              expected="a forward conv such as nn.Conv2d(...) or Conv2D(...)",
                              fix="for unknown parameters, give --output and write them as ?")
    shape = as_shape(input_shape)
    result = built.infer(shape)
    spatial_at = _spatial_positions(len(shape), built.rank, built.channels_last)
    if not all(isinstance(shape[p], int) for p in spatial_at):
        raise ShapesmithError(f"the input {format_shape(shape)} has symbolic sizes",
                              expected="concrete spatial sizes", fix="give numbers for the spatial dims")
    per_axis = []
    for a, p in enumerate(spatial_at):
        sizes = []
        for n in range(max(1, shape[p] - built.op.stride[a] + 1), shape[p] + built.op.stride[a]):
            trial = list(shape)
            trial[p] = n
            try:
                if built.infer(tuple(trial)).output_shape[p] == result.output_shape[p]:
                    sizes.append(n)
            except ShapesmithError:
                continue
        per_axis.append(tuple(sizes))
    c_in = shape[1 if not built.channels_last else -1] if len(shape) == built.rank + 2 else shape[0]
    recoveries = []
    for sizes in itertools.product(*per_axis):
        wanted = list(result.output_shape)
        wanted[1 if not built.channels_last else -1] = c_in
        for p, n in zip(spatial_at, sizes):
            wanted[p] = n
        ok = []
        for text in _transposed_candidates(built, c_in, sizes, shape[0]):
            try:
                back = build_layer(text, built.framework).infer(tuple(result.output_shape))
            except ShapesmithError:
                continue
            if tuple(back.output_shape) == tuple(wanted):
                ok.append(text)
        recoveries.append(Recovery(sizes, tuple(ok)))
    names = [step.axis for step in result.steps]
    notes = []
    if any(not r.layers for r in recoveries):
        notes.append(f"{built.framework} cannot give back every size with these settings: the sizes with no layer "
                     "listed need another padding or kernel (shapesmith solve finds one)")
    return Inverse(built.framework, built.text, shape, tuple(result.output_shape),
                   tuple(zip(names, per_axis)), tuple(recoveries), tuple(notes))


__all__ = ["BOUNDS", "Inverse", "Recovery", "inverse", "Design", "Designs", "Solution", "Solutions", "solve", "solve_chain"]
