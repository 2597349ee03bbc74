"""PyTorch ``nn.Module`` -> :class:`~shapesmith.models.Graph`, captured with ``torch.fx``; nothing is run.

torch.fx records the model's forward as nodes: ``call_module`` nodes are mapped through
:data:`MODULES` (the module's own ``repr`` text, read by the torch dialect, for most of
``torch.nn``), ``call_function`` / ``call_method`` nodes through :data:`FUNCTIONS` and
:data:`METHODS` (``torch.cat``, ``+``, ``view``, ``flatten``, ``F.interpolate``, ``mean``, ...),
the functional ops torchinfo's hooks never see. Anything else becomes a node with a ``gap``.

Leaves: every ``torch.nn`` module without children, and the ``torch.nn`` containers shapesmith
knows as one layer (``MultiheadAttention``, ``TransformerEncoderLayer``, ``LSTM``); other modules
are traced through. A module whose forward fx cannot trace (data-dependent control flow) is made
a leaf and retried; unmapped, it is a gap naming the reason.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field

from ..dialects import build_layer
from ..dims import Conditions, Dim, Expr, Symbol, format_shape
from ..errors import ShapeMismatchError, ShapesmithError
from ..layer import WholeLayer
from ..ops.base import ShapeResult
from ..ops.elementwise import Elementwise
from ..ops.merge import Broadcast, Concatenate
from ..ops.shape import Flatten, Permute, Reshape, Squeeze, Unsqueeze, normalize_axis, product
from . import Applied, Graph, Node, Ref, TensorShape, literal

MAX_RETRIES = 32  # modules made leaves after fx fails inside them
SPATIAL_SYMBOLS = {1: ("L",), 2: ("h", "w"), 3: ("d", "h", "w")}
_LAYERS: dict[str, object] = {}  # module text -> built layer (layers are immutable; ResNet repeats its texts)


def _layer(text: str):
    layer = _LAYERS.get(text)
    if layer is None:
        layer = _LAYERS[text] = build_layer(text, "torch")
    return layer


# -- module registry -----------------------------------------------------------------------
def _repr_text(m) -> str:
    """``Conv2d(3, 64, kernel_size=(7, 7), ...)``: torch's own ``repr`` of a leaf is dialect text.
    Keywords newer torch versions print that the dialect does not take are dropped
    (``BatchNorm2d(..., bias=True)`` in torch 2.13); a dropped keyword that changes the parameter
    count shows up as a mismatch warning against the module's own count."""
    from ..dialects import DIALECTS
    from ..dialects.base import Ref as TextRef
    from ..dialects.base import parse_call

    name = type(m).__name__
    text = f"{name}({m.extra_repr()})"
    known = _TEXTS.get(text)
    if known is not None:
        return known
    spec = DIALECTS["torch"].specs.get(name)
    call = parse_call(text) if spec is not None else None
    if call is None or all(k in spec.params for k in call.kwargs):
        _TEXTS[text] = text
        return text

    def lit(v) -> str:
        return v.text if isinstance(v, TextRef) else literal(v)

    parts = [lit(a) for a in call.args] + [f"{k}={lit(v)}" for k, v in call.kwargs.items() if k in spec.params]
    _TEXTS[text] = f"{name}({', '.join(parts)})"
    return _TEXTS[text]


_TEXTS: dict[str, str] = {}  # a module's repr -> the text the torch dialect reads


def _mha_text(m) -> str:
    return (f"MultiheadAttention({m.embed_dim}, {m.num_heads}, dropout={m.dropout}, "
            f"bias={m.in_proj_bias is not None}, add_bias_kv={m.bias_k is not None}, "
            f"add_zero_attn={m.add_zero_attn}, kdim={m.kdim}, vdim={m.vdim}, batch_first={m.batch_first})")


def _encoder_layer_text(m) -> str:
    return (f"TransformerEncoderLayer({m.self_attn.embed_dim}, {m.self_attn.num_heads}, "
            f"dim_feedforward={m.linear1.out_features}, batch_first={m.self_attn.batch_first}, "
            f"norm_first={m.norm_first}, bias={m.linear1.bias is not None}, layer_norm_eps={m.norm1.eps})")


def _avg_pool_text(m) -> str:
    """``AvgPool2d``'s repr leaves out ``ceil_mode``, ``count_include_pad`` and ``divisor_override``."""
    extra = f", divisor_override={m.divisor_override}" if getattr(m, "divisor_override", None) is not None else ""
    return (f"{type(m).__name__}({literal(m.kernel_size)}, stride={literal(m.stride)}, padding={literal(m.padding)}, "
            f"ceil_mode={m.ceil_mode}, count_include_pad={m.count_include_pad}{extra})")


MODULES: dict[str, Callable] = {"MultiheadAttention": _mha_text, "TransformerEncoderLayer": _encoder_layer_text,
                                "AvgPool1d": _avg_pool_text, "AvgPool2d": _avg_pool_text,
                                "AvgPool3d": _avg_pool_text}
EXPANDED = ("TransformerEncoder",)  # containers whose forward fx cannot trace: their children run in order
RECURRENT = ("LSTM", "GRU", "RNN")


def _is_torch_nn(m) -> bool:
    return type(m).__module__.startswith("torch.nn.")


def _known_leaf(m) -> bool:
    import torch.nn as nn
    if not _is_torch_nn(m) or isinstance(m, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
        return False
    name = type(m).__name__
    return name in MODULES or name in EXPANDED or name in RECURRENT or not any(True for _ in m.children())


# -- capture -------------------------------------------------------------------------------
def capture_module(model) -> Graph:
    import torch.fx

    forced: set[str] = set()
    reasons: dict[str, str] = {}

    class Tracer(torch.fx.Tracer):
        failed: str | None = None

        def is_leaf_module(self, m, qualname: str) -> bool:
            return qualname in forced or _known_leaf(m)

        def call_module(self, m, forward, args, kwargs):
            try:
                return super().call_module(m, forward, args, kwargs)
            except Exception:
                if self.failed is None:
                    self.failed = self.path_of_module(m)
                raise

    for _ in range(MAX_RETRIES):
        tracer = Tracer()
        try:
            graph = tracer.trace(model)
            break
        except Exception as exc:  # noqa: BLE001 -- the user's forward: any failure is explained
            path = tracer.failed
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
            if not path or path in forced:
                raise ShapesmithError(
                    f"torch.fx cannot trace {type(model).__name__}.forward ({reason})",
                    fix="make forward traceable (no if/for on tensor values), or export the model to ONNX "
                        "and give the .onnx file") from None
            forced.add(path)
            reasons[path] = reason
    else:
        raise ShapesmithError(f"torch.fx cannot trace {type(model).__name__}: more than {MAX_RETRIES} modules fail",
                              fix="export the model to ONNX and give the .onnx file")
    modules = {path: module for module, path in tracer.submodule_paths.items()} if tracer.submodule_paths else \
        dict(model.named_modules())
    return _Builder(model, reasons, modules).build(graph)


@dataclass
class _Builder:
    model: object
    untraceable: dict[str, str]
    modules: dict

    def build(self, fx_graph) -> Graph:
        self.nodes: list[Node] = []
        self.refs: dict[str, object] = {}  # fx node name -> Ref / constant
        self.inputs: list[tuple[str, tuple | None]] = []
        self.containers: dict[str, str] = {}
        self.seen_params: dict[int, str] = {}  # parameter id -> the node that counts it
        outputs = None
        for fx_node in fx_graph.nodes:
            if fx_node.op == "placeholder":
                if fx_node.args:  # forward(x, mask=None): a default, not an input
                    self.refs[fx_node.name] = fx_node.args[0]
                    continue
                self.refs[fx_node.name] = Ref(None, len(self.inputs))
                self.inputs.append((fx_node.name, None))
            elif fx_node.op == "get_attr":
                self._get_attr(fx_node)
            elif fx_node.op == "call_module":
                self._call_module(fx_node)
            elif fx_node.op in ("call_function", "call_method"):
                self._call(fx_node)
            elif fx_node.op == "output":
                outputs = self._refs(fx_node.args[0])
        params = sum(p.numel() for p in self.model.parameters())
        trainable = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        unused = [(name, p) for name, p in self.model.named_parameters() if id(p) not in self.seen_params]
        notes = []
        if unused:
            notes.append(f"parameters not used by forward (counted in the totals, as torch counts them): "
                         f"{', '.join(n for n, _ in unused[:8])}{' ...' if len(unused) > 8 else ''}")
            self.nodes.append(Node("(unused parameters)", "Parameter", None, row=True, owner=("unused",),
                                   held=sum(p.numel() for _, p in unused),
                                   frozen=sum(p.numel() for _, p in unused if not p.requires_grad),
                                   gap=None, text=""))
        inputs = self._default_inputs(fx_graph)
        return Graph("torch", type(self.model).__name__, inputs, tuple(self.nodes), outputs,
                     containers=self.containers, params=params, trainable=trainable, notes=tuple(notes))

    # -- pieces ------------------------------------------------------------------------
    def _refs(self, obj):
        """fx arguments with nodes replaced by Refs (or the constants they stand for)."""
        import torch.fx
        if isinstance(obj, torch.fx.Node):
            return self.refs[obj.name]
        if isinstance(obj, (tuple, list)):
            out = [self._refs(o) for o in obj]
            return tuple(out) if isinstance(obj, tuple) else out
        if isinstance(obj, dict):
            return {k: self._refs(v) for k, v in obj.items()}
        if isinstance(obj, slice):
            return slice(self._refs(obj.start), self._refs(obj.stop), self._refs(obj.step))
        return obj

    def _path(self, fx_node, qualname: str | None = None) -> tuple[str, ...]:
        stack = fx_node.meta.get("nn_module_stack") or {}
        out = []
        for path, kind in stack.values():
            if path and path != qualname and path not in out:
                out.append(path)
                self.containers.setdefault(path, getattr(kind, "__name__", str(kind)))
        return tuple(out)

    def _add(self, fx_node, node: Node) -> None:
        self.refs[fx_node.name] = Ref(len(self.nodes))
        self.nodes.append(node)

    def _count(self, params, name: str) -> tuple[int, int, int]:
        """(held, frozen, already counted elsewhere) for a module's or attribute's parameters."""
        held = frozen = shared = 0
        for p in params:
            held += p.numel()
            frozen += 0 if p.requires_grad else p.numel()
            if id(p) in self.seen_params:
                shared += p.numel()
            else:
                self.seen_params[id(p)] = name
        return held, frozen, shared

    def _get_attr(self, fx_node) -> None:
        import torch
        value = self.model
        for part in fx_node.target.split("."):
            value = getattr(value, part)
        if not isinstance(value, torch.Tensor):
            self.refs[fx_node.name] = value
            return
        shape = TensorShape(tuple(value.shape))
        if isinstance(value, torch.nn.Parameter):
            held, frozen, shared = self._count([value], fx_node.target)
            self._add(fx_node, Node(fx_node.target, "Parameter", _constant(shape, held - shared), (),
                                    path=self._path(fx_node), owner=("param", id(value)), frozen=frozen,
                                    held=held - shared, text=f"Parameter{format_shape(shape)}"))
        else:
            self.nodes.append(Node(fx_node.target, "buffer", _constant(shape, 0), row=False))
            self.refs[fx_node.name] = Ref(len(self.nodes) - 1)

    def _call_module(self, fx_node) -> None:
        qualname = fx_node.target
        module = self.modules[qualname]
        path = self._path(fx_node, qualname)
        kind = type(module).__name__
        args, kwargs = self._refs(fx_node.args), self._refs(fx_node.kwargs)
        if kind in EXPANDED:
            self._expand(fx_node, qualname, module, path, args)
            return
        held, frozen, shared = self._count(module.parameters(), qualname)
        common = dict(path=path, owner=("module", id(module)), frozen=frozen, held=held)
        if qualname in self.untraceable and not (_is_torch_nn(module) and (kind in MODULES or kind in RECURRENT
                                                                          or kind in _dialect_names())):
            self._add(fx_node, Node(qualname, kind, None, args, kwargs, gap=f"torch.fx cannot trace "
                                    f"{kind}.forward ({self.untraceable[qualname]})", **common))
            return
        text = None
        if _is_torch_nn(module):
            if kind in MODULES:
                text = MODULES[kind](module)
            elif kind in _dialect_names():
                text = _repr_text(module)
        if text is None:
            self._add(fx_node, Node(qualname, kind, None, args, kwargs, text=_safe_repr(module),
                                    gap=f"{type(module).__module__}.{kind}: no shapesmith mapping", **common))
            return
        try:
            layer = _layer(text)
        except ShapesmithError as err:
            self._add(fx_node, Node(qualname, kind, None, args, kwargs, text=text,
                                    gap=f"{kind}: shapesmith cannot read {text} ({err})", **common))
            return
        self._add(fx_node, Node(qualname, kind, _module_runner(layer, kind, shared), args, kwargs, layer=layer,
                                text=text, **common))

    def _expand(self, fx_node, qualname: str, module, path: tuple, args: tuple) -> None:
        """``TransformerEncoder``: its layers, then its norm, in order (masks do not change shapes)."""
        self.containers.setdefault(qualname, type(module).__name__)
        current = args[0]
        children = [(f"{qualname}.layers.{j}", layer) for j, layer in enumerate(module.layers)]
        if module.norm is not None:
            children.append((f"{qualname}.norm", module.norm))
        for child_name, child in children:
            kind = type(child).__name__
            text = MODULES[kind](child) if kind in MODULES else _repr_text(child)
            held, frozen, shared = self._count(child.parameters(), child_name)
            layer = _layer(text)
            self.nodes.append(Node(child_name, kind, _module_runner(layer, kind, shared), (current,), {},
                                   path=(*path, qualname), layer=layer, text=text, owner=("module", id(child)),
                                   frozen=frozen, held=held))
            current = Ref(len(self.nodes) - 1)
        self.refs[fx_node.name] = current

    def _call(self, fx_node) -> None:
        args, kwargs = self._refs(fx_node.args), self._refs(fx_node.kwargs)
        path = self._path(fx_node)
        if fx_node.op == "call_method":
            key, handler = fx_node.target, METHODS.get(fx_node.target)
            shown = f"Tensor.{key}"
        else:
            key = _function_key(fx_node.target)
            handler = _functions().get(key)
            shown = key
        name = fx_node.name if not path else f"{path[-1]}.{fx_node.name}"
        if handler is None:
            self._add(fx_node, Node(name, shown.rsplit(".", 1)[-1], None, args, kwargs, path=path,
                                    gap=f"{shown}: no shapesmith mapping"))
            return
        run, row = handler
        self._add(fx_node, Node(name, shown.rsplit(".", 1)[-1], run, args, kwargs, path=path, row=row, text=shown))

    def _default_inputs(self, fx_graph) -> tuple:
        """The first consumer of each input says its layout: ``Conv2d(3, ...)`` takes ``(1, 3, h, w)``."""
        out = []
        for k, (name, _) in enumerate(self.inputs):
            out.append((name, self._guess(Ref(None, k))))
        return tuple(out)

    def _guess(self, ref: Ref) -> tuple | None:
        for node in self.nodes:
            if ref not in node.args[:1]:
                continue
            layer = node.layer
            if layer is None:
                return None
            op = layer.op
            config = layer.config
            if node.type.startswith(("Conv", "BatchNorm")) and getattr(layer, "rank", None):
                channels = config.get("in_channels", config.get("num_features"))
                return (1, channels, *(Symbol(s) for s in SPATIAL_SYMBOLS[layer.rank]))
            if node.type == "Linear":
                return (1, op.in_features)
            if node.type == "Embedding":
                return (1, Symbol("L"))
            if node.type in RECURRENT:
                return (1, Symbol("L"), op.input_size) if op.batch_first else (Symbol("L"), 1, op.input_size)
            if node.type in ("MultiheadAttention", "TransformerEncoderLayer"):
                d = config.get("embed_dim", config.get("d_model"))
                return (1, Symbol("L"), d) if config.get("batch_first") else (Symbol("L"), 1, d)
            return None
        return None


def _constant(shape: TensorShape, params: int) -> Callable:
    def run(args, kwargs) -> Applied:
        return Applied(shape, _ParamResult(shape, params))
    return run


@dataclass(frozen=True)
class _ParamResult:
    """A parameter used directly in forward (``x + self.pos``): a row with its size."""

    output_shape: TensorShape
    params: int
    input_shape: tuple = ()
    notes: tuple = ()
    warnings: tuple = ()
    conditions: Conditions = field(default_factory=Conditions)
    op: object = None
    layer: object = None


def _dialect_names():
    from ..dialects import DIALECTS
    return DIALECTS["torch"].specs


def _safe_repr(module) -> str:
    try:
        return _repr_text(module)[:200]
    except Exception:  # noqa: BLE001 -- a user's extra_repr
        return type(module).__name__


def _module_runner(layer, kind: str, shared: int) -> Callable:
    """Apply the layer to the module's tensor arguments; recurrent modules return torch's structure
    ``(output, (h_n, c_n))``; attention ``(output, weights or None)``."""
    from dataclasses import replace

    def run(args, kwargs) -> Applied:
        tensors = [a for a in args if isinstance(a, TensorShape)]
        if kind == "MultiheadAttention":
            tensors = tensors[:3]
        elif tensors:
            tensors = tensors[:1]
        result = layer.infer(*tensors)
        if shared:
            result = replace(result, params=result.params - shared,
                             notes=result.notes + (f"{shared} of its parameters are counted at another module",))
        out = result.output_shape
        if not isinstance(out, list):
            return Applied(TensorShape(out), result)
        shapes = [TensorShape(s) for s in out]
        if kind == "LSTM":
            return Applied((shapes[0], (shapes[1], shapes[2])), result)
        if kind == "MultiheadAttention":
            need = kwargs.get("need_weights", True)
            return Applied((shapes[0], shapes[1] if need else None), result)
        return Applied(tuple(shapes), result)
    return run


# -- functions and methods -----------------------------------------------------------------
def _function_key(target) -> str:
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__name__", repr(target))
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    if module.startswith("torch.nn.functional") or module == "torch.nn.functional":
        return f"F.{name}"
    if module.startswith("torch") or module == "":
        return f"torch.{name}"
    if module == "builtins":
        return name
    return f"{module}.{name}"


def _is_t(v) -> bool:
    return isinstance(v, TensorShape)


def _whole(kind: str, op, text: str = "", multi: bool = False) -> WholeLayer:
    return WholeLayer("torch", kind, text or kind, op, multi_input=multi, name=kind)


def _apply(kind: str, op, shapes, text: str = "") -> Applied:
    layer = _whole(kind, op, text, multi=len(shapes) > 1)
    result = layer.infer(*shapes)
    return Applied(TensorShape(result.output_shape), result)


def _binary(kind: str) -> Callable:
    python = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "floordiv": operator.floordiv,
              "truediv": operator.truediv, "mod": operator.mod, "pow": operator.pow}.get(kind)

    def run(args, kwargs) -> Applied:
        a = args[0]
        b = args[1] if len(args) > 1 else kwargs.get("other")
        if _is_t(a) and _is_t(b):
            return _apply(kind, Broadcast(kind), (a, b))
        if _is_t(a) or _is_t(b):
            shape = a if _is_t(a) else b
            return _apply(kind, Elementwise(kind), (shape,))
        return Applied(_dim_arith(python, a, b))
    return run


def _dim_arith(fn, a, b):
    """``x.size(1) * 2``, ``h // 2``: Python arithmetic on sizes (ints or symbolic dims)."""
    if a is None or b is None or fn is None:
        return None
    if fn is operator.truediv:
        if isinstance(b, int) and b and isinstance(a, (int, Expr)) and (a // b) * b == a:
            return a // b
        return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
    try:
        return fn(a, b)
    except TypeError:
        return None


def _elementwise(kind: str) -> Callable:
    def run(args, kwargs) -> Applied:
        return _apply(kind, Elementwise(kind), (args[0],))
    return run


def _passthrough(args, kwargs) -> Applied:
    return Applied(args[0])


def _arg(args, kwargs, j: int, name: str, default=None):
    return args[j] if len(args) > j else kwargs.get(name, default)


def _cat(args, kwargs) -> Applied:
    tensors = list(_arg(args, kwargs, 0, "tensors"))
    dim = _arg(args, kwargs, 1, "dim", 0)
    return _apply("cat", Concatenate(dim, min_inputs=1), tuple(tensors), f"torch.cat(dim={dim})")


@dataclass(frozen=True)
class _Stack:
    dim: int
    expects = "tensors of one shape"

    def apply(self, shapes) -> ShapeResult:
        joined = Concatenate(0, min_inputs=1).apply(tuple((1, *s) for s in shapes)) if len(shapes) > 1 else None
        rank = len(shapes[0]) + 1
        at = normalize_axis(self.dim, rank, "dim")
        base = list(shapes[0])
        base.insert(at, len(shapes))
        return ShapeResult((tuple(base),), conditions=joined.conditions if joined else Conditions())


def _stack(args, kwargs) -> Applied:
    tensors = tuple(_arg(args, kwargs, 0, "tensors"))
    return _apply("stack", _Stack(_arg(args, kwargs, 1, "dim", 0)), tensors)


def _flatten(default_start: int) -> Callable:
    def run(args, kwargs) -> Applied:
        start, end = _arg(args, kwargs, 1, "start_dim", default_start), _arg(args, kwargs, 2, "end_dim", -1)
        return _apply("flatten", Flatten(start, end), (args[0],), f"flatten(start_dim={start}, end_dim={end})")
    return run


def _sizes(args) -> tuple:
    rest = args[1:]
    return tuple(rest[0]) if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else tuple(rest)


def _reshape(kind: str) -> Callable:
    def run(args, kwargs) -> Applied:
        target = _sizes(args) if len(args) > 1 else tuple(kwargs.get("shape", kwargs.get("size", ())))
        if any(t is None for t in target):
            raise ShapeMismatchError(f"{kind} to {target}: a size is unknown", fix="give the sizes as numbers")
        shape = args[0]
        op = Reshape(tuple(target), 0, None, what="shape")
        if any(isinstance(t, Expr) for t in target) and -1 in target:
            j = target.index(-1)
            known = product(t for t in target if t != -1)
            total = product(shape)
            rest = total // known if isinstance(known, int) else _quotient(total, known)
            op = Reshape(tuple(rest if k == j else t for k, t in enumerate(target)), 0, None, what="shape")
        return _apply(kind, op, (shape,), f"{kind}{format_shape(target)}")
    return run


def _quotient(total: Dim, known: Dim) -> Dim:
    """``total / known`` when every term of ``total`` carries ``known``'s one term
    (``x.view(b, l, heads, -1)`` of ``(b, l, e)``): exact, else an error."""
    if isinstance(known, Expr) and isinstance(total, Expr) and len(known.terms) == 1 and not known.const \
            and not total.const:
        (mono, c), = known.terms
        parts: dict = {}
        for tmono, tc in total.terms:
            rest = list(tmono)
            for atom in mono:
                if atom not in rest:
                    break
                rest.remove(atom)
            else:
                if tc % c == 0:
                    key = tuple(rest)
                    parts[key] = parts.get(key, 0) + tc // c
                    continue
            break
        else:
            return Expr.build({m: v for m, v in parts.items() if m}, parts.get((), 0))
    raise ShapeMismatchError(f"-1 beside the symbolic size {known} cannot be computed",
                             fix="give those input dims as numbers")


def _permute(args, kwargs) -> Applied:
    dims = _sizes(args) if len(args) > 1 else tuple(kwargs["dims"])
    rank = len(args[0])
    return _apply("permute", Permute(tuple(normalize_axis(d, rank) for d in dims)), (args[0],),
                  f"permute{tuple(dims)}")


def _transpose(args, kwargs) -> Applied:
    shape = args[0]
    rank = len(shape)
    if len(args) == 1 and rank <= 2:  # .t()
        a, b = 0, max(rank - 1, 0)
    else:
        a, b = normalize_axis(_arg(args, kwargs, 1, "dim0"), rank), normalize_axis(_arg(args, kwargs, 2, "dim1"), rank)
    perm = list(range(rank))
    perm[a], perm[b] = perm[b], perm[a]
    return _apply("transpose", Permute(tuple(perm)), (shape,), f"transpose({a}, {b})")


def _unsqueeze(args, kwargs) -> Applied:
    dim = _arg(args, kwargs, 1, "dim")
    return _apply("unsqueeze", Unsqueeze((dim,)), (args[0],), f"unsqueeze({dim})")


def _squeeze(args, kwargs) -> Applied:
    dim = _arg(args, kwargs, 1, "dim")
    axes = None if dim is None else (tuple(dim) if isinstance(dim, (tuple, list)) else (dim,))
    if axes is not None:  # torch keeps an axis that is not 1 instead of failing
        axes = tuple(a for a in axes if args[0][normalize_axis(a, len(args[0]))] == 1)
    return _apply("squeeze", Squeeze(axes), (args[0],), f"squeeze({dim})")


@dataclass(frozen=True)
class _Reduce:
    """``mean(dim, keepdim)`` / ``sum`` / ``amax``: the reduced axes go (or stay as 1)."""

    kind: str
    dims: tuple[int, ...] | None
    keepdim: bool
    expects = "(d0, d1, ...)"

    def apply(self, shapes) -> ShapeResult:
        (shape,) = shapes
        rank = len(shape)
        axes = set(range(rank)) if self.dims is None else {normalize_axis(d, rank) for d in self.dims}
        out = tuple(1 if j in axes else d for j, d in enumerate(shape)) if self.keepdim else tuple(
            d for j, d in enumerate(shape) if j not in axes)
        return ShapeResult((out,))


def _reduce(kind: str) -> Callable:
    def run(args, kwargs) -> Applied:
        dim = _arg(args, kwargs, 1, "dim")
        keep = _arg(args, kwargs, 2, "keepdim", False)
        dims = None if dim is None else (tuple(dim) if isinstance(dim, (tuple, list)) else (dim,))
        return _apply(kind, _Reduce(kind, dims, bool(keep)), (args[0],), f"{kind}(dim={dim}, keepdim={keep})")
    return run




def _module_call(name: str, params: tuple[str, ...]) -> Callable:
    """``F.max_pool2d(x, 3, 2)`` and friends: the module's text with the same arguments."""
    def run(args, kwargs) -> Applied:
        values = dict(zip(params, args[1:]))
        values.update({k: v for k, v in kwargs.items() if k in params})
        text = f"{name}({', '.join(f'{k}={literal(v)}' for k, v in values.items() if v is not None)})"
        layer = _layer(text)
        result = layer.infer(args[0])
        return Applied(TensorShape(result.output_shape), result)
    return run


def _interpolate(args, kwargs) -> Applied:
    params = ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor")
    values = dict(zip(params, args[1:]))
    values.update({k: v for k, v in kwargs.items() if k in params})
    if isinstance(values.get("size"), (tuple, list)):
        values["size"] = tuple(values["size"])
    text = f"Upsample({', '.join(f'{k}={literal(v)}' for k, v in values.items() if v is not None)})"
    layer = build_layer(text, "torch")
    result = layer.infer(args[0])
    return Applied(TensorShape(result.output_shape), result)


def _adaptive(kind: str) -> Callable:
    def run(args, kwargs) -> Applied:
        rank = len(args[0]) - 2
        out = _arg(args, kwargs, 1, "output_size")
        layer = _layer(f"Adaptive{kind}Pool{rank}d({literal(out)})")
        result = layer.infer(args[0])
        return Applied(TensorShape(result.output_shape), result)
    return run


def _pool(kind: str) -> Callable:
    def run(args, kwargs) -> Applied:
        rank = len(args[0]) - 2
        params = ("kernel_size", "stride", "padding", "dilation", "ceil_mode") if kind == "Max" else (
            "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")
        return _module_call(f"{kind}Pool{rank}d", params)(args, kwargs)
    return run


@dataclass(frozen=True)
class _Pad:
    """``F.pad(x, pad)``: ``pad`` pairs from the last dim backwards; a negative pad crops."""

    pad: tuple[int, ...]
    expects = "(d0, d1, ...)"

    def apply(self, shapes) -> ShapeResult:
        (shape,) = shapes
        out = list(shape)
        conditions = Conditions()
        for k in range(len(self.pad) // 2):
            j = len(shape) - 1 - k
            if j < 0:
                raise ShapeMismatchError(f"F.pad with {len(self.pad)} values on the {len(shape)}-D input "
                                         f"{format_shape(shape)}", expected=f"at least {len(self.pad) // 2} dims")
            size = out[j] if out[j] is None else out[j] + self.pad[2 * k] + self.pad[2 * k + 1]
            if isinstance(size, int) and size < 0:
                raise ShapeMismatchError(f"F.pad crops dim {j} of {format_shape(shape)} below 0")
            if isinstance(size, Expr):
                conditions.require(size, 0)
            out[j] = size
        return ShapeResult((tuple(out),), conditions=conditions)


def _fpad(args, kwargs) -> Applied:
    pad = tuple(_arg(args, kwargs, 1, "pad"))
    return _apply("pad", _Pad(pad), (args[0],), f"F.pad({pad})")


@dataclass(frozen=True)
class _MatMul:
    """``a @ b``: batch dims broadcast, ``(..., n, k) @ (..., k, m) -> (..., n, m)``."""

    expects = "(..., n, k) and (..., k, m)"

    def apply(self, shapes) -> ShapeResult:
        a, b = shapes
        conditions = Conditions()
        va, vb = len(a) == 1, len(b) == 1
        a2 = (1, *a) if va else a
        b2 = (*b, 1) if vb else b
        k1, k2 = a2[-1], b2[-2]
        if isinstance(k1, int) and isinstance(k2, int) and k1 != k2:
            raise ShapeMismatchError(f"matmul of {format_shape(a)} and {format_shape(b)}: {k1} vs {k2}",
                                     expected="the last dim of the first equal to the second-to-last of the second")
        if isinstance(k1, Expr) or isinstance(k2, Expr):
            conditions.require_same(k1, k2)
        batch = Broadcast("matmul").apply((tuple(a2[:-2]), tuple(b2[:-2]))).outputs[0] if (
            len(a2) > 2 or len(b2) > 2) else ()
        out = (*batch, *(() if va else (a2[-2],)), *(() if vb else (b2[-1],)))
        return ShapeResult((tuple(out),), conditions=conditions)


def _matmul(args, kwargs) -> Applied:
    return _apply("matmul", _MatMul(), (args[0], args[1]))


def _size(args, kwargs) -> Applied:
    shape = args[0]
    dim = _arg(args, kwargs, 1, "dim")
    return Applied(tuple(shape) if dim is None else shape[normalize_axis(dim, len(shape))])


def _getattr(args, kwargs) -> Applied:
    obj, attr = args[0], args[1]
    if _is_t(obj) and attr == "shape":
        return Applied(tuple(obj))
    if _is_t(obj) and attr in ("T", "mT"):
        return _transpose((obj, -2, -1), {}) if attr == "mT" else _apply(
            "T", Permute(tuple(reversed(range(len(obj))))), (obj,))
    if _is_t(obj) and attr in ("dtype", "device"):
        return Applied(None)
    raise ShapeMismatchError(f"getattr(tensor, {attr!r}) is not something shapesmith follows",
                             fix="use x.shape, x.size(), or the sizes directly")


@dataclass(frozen=True)
class _Index:
    """``x[...]`` with ints, slices, ``None`` and ``...``: the shape that indexing gives."""

    index: tuple
    expects = "(d0, d1, ...)"

    def apply(self, shapes) -> ShapeResult:
        (shape,) = shapes
        items = list(self.index)
        explicit = sum(1 for i in items if i is not None and i is not Ellipsis)
        if Ellipsis in items:
            at = items.index(Ellipsis)
            items[at:at + 1] = [slice(None)] * (len(shape) - explicit)
        items += [slice(None)] * (len(shape) - sum(1 for i in items if i is not None))
        out: list[Dim] = []
        conditions = Conditions()
        axis = 0
        for item in items:
            if item is None:
                out.append(1)
                continue
            size = shape[axis]
            axis += 1
            if isinstance(item, slice):
                out.append(_slice_size(size, item, conditions))
            elif isinstance(item, int):
                if isinstance(size, int) and not -size <= item < size:
                    raise ShapeMismatchError(f"index {item} is out of range for size {size} in {format_shape(shape)}")
            else:
                raise ShapeMismatchError(f"indexing with {item!r} is not followed by shapesmith",
                                         fix="index with ints, slices, None or ...")
        return ShapeResult((tuple(out),), conditions=conditions)


def _slice_size(size: Dim, item: slice, conditions: Conditions) -> Dim:
    start, stop, step = item.start, item.stop, item.step or 1
    if size is None:
        return None
    if isinstance(size, int) and all(v is None or isinstance(v, int) for v in (start, stop)):
        return len(range(size)[slice(start, stop, step)])
    if step != 1 or (start is not None and not isinstance(start, int)) or (start or 0) < 0:
        raise ShapeMismatchError(f"the slice {item} of a symbolic size {size} is not followed by shapesmith",
                                 fix="give that input dim as a number")
    begin = start or 0
    end = size if stop is None else (size + stop if isinstance(stop, int) and stop < 0 else stop)
    if stop is not None and not (isinstance(stop, int) and stop < 0):
        conditions.require(size - stop, 0)  # the slice stays inside the dim (beyond it torch clips)
    length = end - begin
    if isinstance(length, Expr):
        conditions.require(length, 0)
    return length


def _getitem(args, kwargs) -> Applied:
    obj, index = args[0], args[1]
    if _is_t(obj):
        items = index if isinstance(index, tuple) else (index,)
        return _apply("getitem", _Index(items), (obj,), "x[...]")
    return Applied(obj[index])


FUNCTION_TABLE: dict[str, tuple[Callable, bool]] = {}
METHODS: dict[str, tuple[Callable, bool]] = {}


def _register() -> None:
    row, plumbing = True, False
    for kind in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
        FUNCTION_TABLE[f"operator.{kind}"] = (_binary(kind), row)
        FUNCTION_TABLE[f"operator.i{kind}"] = (_binary(kind), row)
    for kind, alias in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("div", "truediv"), ("maximum", None),
                        ("minimum", None)):
        FUNCTION_TABLE[f"torch.{kind}"] = (_binary(alias or kind), row)
        METHODS[kind] = METHODS[f"{kind}_"] = (_binary(alias or kind), row)
    FUNCTION_TABLE["operator.matmul"] = FUNCTION_TABLE["torch.matmul"] = FUNCTION_TABLE["torch.bmm"] = (_matmul, row)
    METHODS["matmul"] = METHODS["bmm"] = (_matmul, row)
    FUNCTION_TABLE["operator.getitem"] = (_getitem, plumbing)
    FUNCTION_TABLE["getattr"] = (_getattr, plumbing)
    for name in ("cat", "concat", "concatenate"):
        FUNCTION_TABLE[f"torch.{name}"] = (_cat, row)
    FUNCTION_TABLE["torch.stack"] = (_stack, row)
    FUNCTION_TABLE["torch.flatten"] = (_flatten(0), row)
    METHODS["flatten"] = (_flatten(0), row)
    FUNCTION_TABLE["torch.reshape"] = (_reshape("reshape"), row)
    METHODS["view"] = (_reshape("view"), row)
    METHODS["reshape"] = (_reshape("reshape"), row)
    METHODS["permute"] = FUNCTION_TABLE["torch.permute"] = (_permute, row)
    METHODS["transpose"] = FUNCTION_TABLE["torch.transpose"] = (_transpose, row)
    METHODS["t"] = (_transpose, row)
    METHODS["unsqueeze"] = FUNCTION_TABLE["torch.unsqueeze"] = (_unsqueeze, row)
    METHODS["squeeze"] = FUNCTION_TABLE["torch.squeeze"] = (_squeeze, row)
    for kind in ("mean", "sum", "amax", "amin", "prod", "std", "var", "logsumexp"):
        METHODS[kind] = FUNCTION_TABLE[f"torch.{kind}"] = (_reduce(kind), row)
    METHODS["size"] = (_size, plumbing)
    METHODS["dim"] = (lambda args, kwargs: Applied(len(args[0])), plumbing)
    METHODS["numel"] = (lambda args, kwargs: Applied(product(args[0])), plumbing)
    for kind in ("contiguous", "clone", "detach", "float", "double", "half", "bfloat16", "to", "type_as", "cpu",
                 "cuda", "requires_grad_"):
        METHODS[kind] = (_passthrough, plumbing)
    FUNCTION_TABLE["torch.clone"] = (_passthrough, plumbing)
    for kind in ("relu", "relu6", "gelu", "silu", "mish", "elu", "selu", "celu", "leaky_relu", "hardswish",
                 "hardsigmoid", "hardtanh", "softplus", "softsign", "sigmoid", "tanh", "softmax", "log_softmax",
                 "softmin", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "normalize",
                 "logsigmoid", "layer_norm", "group_norm", "batch_norm", "instance_norm"):
        FUNCTION_TABLE[f"F.{kind}"] = (_elementwise(kind), row)
    for kind in ("relu", "sigmoid", "tanh", "exp", "log", "sqrt", "rsqrt", "abs", "neg", "softmax", "log_softmax",
                 "clamp", "clip", "sin", "cos", "square", "reciprocal", "sign", "erf", "floor", "ceil", "round"):
        FUNCTION_TABLE[f"torch.{kind}"] = (_elementwise(kind), row)
        METHODS[kind] = METHODS[f"{kind}_"] = (_elementwise(kind), row)
    FUNCTION_TABLE["F.interpolate"] = FUNCTION_TABLE["F.upsample"] = (_interpolate, row)
    for rank in (1, 2, 3):
        FUNCTION_TABLE[f"F.adaptive_avg_pool{rank}d"] = (_adaptive("Avg"), row)
        FUNCTION_TABLE[f"F.adaptive_max_pool{rank}d"] = (_adaptive("Max"), row)
        FUNCTION_TABLE[f"F.max_pool{rank}d"] = FUNCTION_TABLE[f"torch.max_pool{rank}d"] = (_pool("Max"), row)
        FUNCTION_TABLE[f"F.avg_pool{rank}d"] = FUNCTION_TABLE[f"torch.avg_pool{rank}d"] = (_pool("Avg"), row)
    FUNCTION_TABLE["F.pad"] = (_fpad, row)


_register()
_FUNCTIONS: dict[str, tuple[Callable, bool]] = {}


def _functions() -> dict[str, tuple[Callable, bool]]:
    """The function table, with the names torch's builtins report (``torch._C._nn.gelu`` is
    ``F.gelu``; ``torch.nn.functional._max_pool2d`` is ``F.max_pool2d``)."""
    if not _FUNCTIONS:
        _FUNCTIONS.update(FUNCTION_TABLE)
        for key, value in FUNCTION_TABLE.items():
            if key.startswith("F."):
                _FUNCTIONS[f"torch.{key[2:]}"] = _FUNCTIONS.get(f"torch.{key[2:]}", value)
                _FUNCTIONS[f"F._{key[2:]}"] = value
                _FUNCTIONS[f"F.{key[2:]}_with_indices"] = value
        _FUNCTIONS["F._max_pool2d"] = FUNCTION_TABLE["F.max_pool2d"]
    return _FUNCTIONS


__all__ = ["EXPANDED", "FUNCTION_TABLE", "METHODS", "MODULES", "capture_module"]
