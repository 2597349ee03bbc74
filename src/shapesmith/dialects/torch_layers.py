"""PyTorch layers beyond conv and pooling: ``nn.Linear``, ``Flatten``/``Unflatten``, activations, dropout,
normalization and ``Embedding`` (registered into the torch dialect)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import ConfigError
from ..layer import WholeLayer
from ..ops.dense import Dense
from ..ops.elementwise import Elementwise
from ..ops.embedding import Embedding
from ..ops.shape import Flatten, Reshape, normalize_axis
from .base import Call, Spec, as_bool, as_int, describe
from .torch import DIALECT


def _linear(call: Call, a: dict) -> WholeLayer:
    op = Dense(as_int(a["out_features"], "out_features", minimum=0, layer="Linear"),
               as_int(a["in_features"], "in_features", minimum=0, layer="Linear"),
               as_bool(a["bias"], "bias", "Linear"), min_rank=1)
    return WholeLayer("torch", "Linear", call.text, op, name="linear")


DIALECT.register(Spec("Linear", ("in_features", "out_features", "bias", "device", "dtype"),
                      {"bias": True, "device": None, "dtype": None}, _linear))


# -- shape-only layers, activations, dropout, normalization, embedding ---------------------
class _AnyArgs(Spec):
    """``nn.Identity(*args, **kwargs)``: every argument is accepted and ignored."""

    def bind(self, call: Call) -> dict:
        return {}


def _number(value: object, name: str, layer: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{layer} {name}={describe(value)} is not a number", expected=f"a number {name}")
    return value


def _dim_arg(value: object, name: str, layer: str) -> int | None:
    if value is None:
        return None
    return as_int(value, name, layer=layer)


def _flatten(call: Call, a: dict) -> WholeLayer:
    op = Flatten(as_int(a["start_dim"], "start_dim", layer="Flatten"), as_int(a["end_dim"], "end_dim", layer="Flatten"))
    return WholeLayer("torch", "Flatten", call.text, op, name="flatten")


def _unflatten(call: Call, a: dict) -> WholeLayer:
    dim = as_int(a["dim"], "dim", layer="Unflatten")
    sizes = a["unflattened_size"]
    if not isinstance(sizes, tuple):
        raise ConfigError(f"invalid type {type(sizes).__name__} for unflattened_size",
                          expected="a tuple or list of ints (torch.Size)")
    for j, s in enumerate(sizes):
        if isinstance(s, bool) or not isinstance(s, int):
            raise ConfigError(f"unflattened_size must be tuple of ints, but found element {describe(s)} at pos {j}")
    if sizes.count(-1) > 1:
        raise ConfigError(f"unflattened_size={sizes}: only one dimension can be inferred (-1)",
                          fix="give every size but one")
    if any(s < -1 or s == 0 for s in sizes):
        raise ConfigError(f"unflattened_size={sizes} has a size {min(s for s in sizes if s < -1 or s == 0)}",
                          expected="sizes >= 1, or one -1")

    return WholeLayer("torch", "Unflatten", call.text, _Unflatten(dim, sizes), name="unflatten")


@dataclass(frozen=True)
class _Unflatten:
    """``dim`` is counted from the end when negative; the one formula is :class:`Reshape`."""

    dim: int
    sizes: tuple[int, ...]
    expects = "(N, ...)"

    def apply(self, shapes):
        (shape,) = shapes
        j = normalize_axis(self.dim, len(shape), "dim")
        return Reshape(self.sizes, j, j + 1, what="unflattened_size").apply(shapes)


def _simple(type_name: str, params: tuple[str, ...] = (), defaults: dict | None = None, *, ranks=(),
            min_rank: int = 1, check=None, note: str = "") -> Spec:
    """A shape-preserving module without parameters; ``check(a)`` validates the arguments."""
    def build(call: Call, a: dict) -> WholeLayer:
        if check is not None:
            check(a)
        least = min_rank
        if min_rank == 2 and type_name in ("Dropout2d", "FeatureAlphaDropout") and a["p"] in (0, 1):
            least = 1  # feature dropout returns early for p == 0 or 1, before its ">= 2 dims" check
        op = Elementwise(type_name, ranks=ranks, min_rank=least,
                         expects="(N, C, ...)" if ranks else "(N, ...)", notes=(note,) if note else ())
        return WholeLayer("torch", type_name, call.text, op, name=type_name.lower())
    return Spec(type_name, params, defaults or {}, build)


def _dropout_p(a: dict) -> None:
    p = _number(a["p"], "p", "Dropout")
    if p < 0 or p > 1:
        raise ConfigError(f"dropout probability has to be between 0 and 1, but got {p}", fix="use 0 <= p <= 1")


def _gelu(a: dict) -> None:
    if a["approximate"] not in ("none", "tanh"):
        raise ConfigError(f"GELU approximate={describe(a['approximate'])}: approximate argument must be either none "
                          "or tanh.", expected="'none' or 'tanh'")


def _hardtanh(a: dict) -> None:
    lo = _number(a["min_val"] if a["min_value"] is None else a["min_value"], "min_val", "Hardtanh")
    hi = _number(a["max_val"] if a["max_value"] is None else a["max_value"], "max_val", "Hardtanh")
    if hi <= lo:
        raise ConfigError(f"max_val ({hi}) must be greater than min_val ({lo})", fix="swap them")


def _softmax(type_name: str) -> Spec:
    def build(call: Call, a: dict) -> WholeLayer:
        dim = _dim_arg(a["dim"], "dim", type_name)
        if dim is None:
            op = Elementwise(type_name, notes=("dim=None: torch picks dim 0 for 0-, 1- and 3-D inputs, else 1 "
                                               "(deprecated; give dim)",))
        else:
            op = Elementwise(type_name, sizes=((dim, None),))
        return WholeLayer("torch", type_name, call.text, op, name=type_name.lower())
    return Spec(type_name, ("dim",), {"dim": None}, build)


def _prelu(call: Call, a: dict) -> WholeLayer:
    n = as_int(a["num_parameters"], "num_parameters", minimum=1, layer="PReLU")
    op = Elementwise("PReLU", params=n, sizes=((1, n),) if n > 1 else (), min_rank=2 if n > 1 else 1,
                     label=f"num_parameters={n}", expects="(N, C, ...)")
    return WholeLayer("torch", "PReLU", call.text, op, name="prelu",
                      notes=("one weight per channel (dim 1)" if n > 1 else "one weight shared by every element",))


def _batchnorm(rank: int):
    type_name = f"BatchNorm{rank}d"
    ranks = (2, 3) if rank == 1 else (rank + 2,)

    def build(call: Call, a: dict) -> WholeLayer:
        c = as_int(a["num_features"], "num_features", minimum=1, layer=type_name)
        _number(a["eps"], "eps", type_name)
        affine = as_bool(a["affine"], "affine", type_name)
        track = as_bool(a["track_running_stats"], "track_running_stats", type_name)
        notes = [f"parameters: weight and bias, {c} each" if affine else "affine=False: no parameters"]
        if track:
            notes.append(f"running_mean and running_var ({c} each) are buffers, not parameters")
        if track:
            notes.append("in training mode torch also needs more than one value per channel (batch*spatial > 1)")
        layout = "(N, C) or (N, C, L)" if rank == 1 else "(N, C, " + ", ".join(("D", "H", "W")[3 - rank:]) + ")"
        op = Elementwise(type_name, params=2 * c if affine else 0, ranks=ranks,
                         sizes=((1, c),) if affine or track else (), label=f"num_features={c}", expects=layout,
                         notes=tuple(notes), spread=None if track else (1, 0))
        return WholeLayer("torch", type_name, call.text, op, name=type_name.lower())

    return Spec(type_name, ("num_features", "eps", "momentum", "affine", "track_running_stats", "device", "dtype"),
                {"eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True, "device": None,
                 "dtype": None}, build)


def _layernorm(call: Call, a: dict) -> WholeLayer:
    ns = a["normalized_shape"]
    ns = ns if isinstance(ns, tuple) else (ns,)
    ns = tuple(as_int(n, "normalized_shape", minimum=1, layer="LayerNorm") for n in ns)
    _number(a["eps"], "eps", "LayerNorm")
    affine = as_bool(a["elementwise_affine"], "elementwise_affine", "LayerNorm")
    bias = as_bool(a["bias"], "bias", "LayerNorm")
    count = 1
    for n in ns:
        count *= n
    params = count * (1 + bias) if affine else 0
    op = Elementwise("LayerNorm", params=params, min_rank=len(ns),
                     sizes=tuple((j - len(ns), n) for j, n in enumerate(ns)),
                     label=f"normalized_shape={list(ns)}", expects=f"(*, {', '.join(map(str, ns))})")
    return WholeLayer("torch", "LayerNorm", call.text, op, name="layernorm",
                      notes=(f"normalizes over the last {len(ns)} dim(s) {list(ns)}",))


def _groupnorm(call: Call, a: dict) -> WholeLayer:
    g = as_int(a["num_groups"], "num_groups", minimum=1, layer="GroupNorm")
    c = as_int(a["num_channels"], "num_channels", minimum=1, layer="GroupNorm")
    _number(a["eps"], "eps", "GroupNorm")
    affine = as_bool(a["affine"], "affine", "GroupNorm")
    if c % g:
        raise ConfigError(f"num_channels must be divisible by num_groups (num_channels={c}, num_groups={g})",
                          fix=f"use a num_groups that divides {c}")
    op = Elementwise("GroupNorm", params=2 * c if affine else 0, min_rank=2, sizes=((1, c),) if affine else (),
                     groups=(1, g), label=f"num_channels={c}", expects="(N, C, ...)", spread=(1, g))
    return WholeLayer("torch", "GroupNorm", call.text, op, name="groupnorm")


def _embedding(call: Call, a: dict) -> WholeLayer:
    n = as_int(a["num_embeddings"], "num_embeddings", minimum=1, layer="Embedding")
    d = as_int(a["embedding_dim"], "embedding_dim", minimum=1, layer="Embedding")
    if a["padding_idx"] is not None:
        p = as_int(a["padding_idx"], "padding_idx", layer="Embedding")
        if not -n <= p < n:
            raise ConfigError(f"Embedding padding_idx={p}: Padding_idx must be within num_embeddings",
                              expected=f"padding_idx in [{-n}, {n - 1}]")
    return WholeLayer("torch", "Embedding", call.text, Embedding(n, d), name="embedding")


_ACTIVATIONS: tuple[tuple[str, tuple[str, ...], dict, object], ...] = (
    ("ReLU", ("inplace",), {"inplace": False}, None),
    ("ReLU6", ("inplace",), {"inplace": False}, None),
    ("LeakyReLU", ("negative_slope", "inplace"), {"negative_slope": 0.01, "inplace": False}, None),
    ("GELU", ("approximate",), {"approximate": "none"}, _gelu),
    ("Sigmoid", (), {}, None),
    ("Tanh", (), {}, None),
    ("ELU", ("alpha", "inplace"), {"alpha": 1.0, "inplace": False}, None),
    ("CELU", ("alpha", "inplace"), {"alpha": 1.0, "inplace": False}, None),
    ("SELU", ("inplace",), {"inplace": False}, None),
    ("SiLU", ("inplace",), {"inplace": False}, None),
    ("Mish", ("inplace",), {"inplace": False}, None),
    ("Hardswish", ("inplace",), {"inplace": False}, None),
    ("Hardsigmoid", ("inplace",), {"inplace": False}, None),
    ("Hardtanh", ("min_val", "max_val", "inplace", "min_value", "max_value"),
     {"min_val": -1.0, "max_val": 1.0, "inplace": False, "min_value": None, "max_value": None}, _hardtanh),
    ("Softplus", ("beta", "threshold"), {"beta": 1.0, "threshold": 20.0}, None),
    ("Softsign", (), {}, None),
    ("Tanhshrink", (), {}, None),
    ("LogSigmoid", (), {}, None),
    ("Hardshrink", ("lambd",), {"lambd": 0.5}, None),
    ("Softshrink", ("lambd",), {"lambd": 0.5}, None),
    ("Threshold", ("threshold", "value", "inplace"), {"inplace": False}, None),
    ("RReLU", ("lower", "upper", "inplace"), {"lower": 1 / 8, "upper": 1 / 3, "inplace": False}, None),
)

DIALECT.register(Spec("Flatten", ("start_dim", "end_dim"), {"start_dim": 1, "end_dim": -1}, _flatten))
DIALECT.register(Spec("Unflatten", ("dim", "unflattened_size"), {}, _unflatten))
DIALECT.register(_AnyArgs("Identity", (), {}, lambda call, a: WholeLayer(
    "torch", "Identity", call.text, Elementwise("Identity"), name="identity",
    notes=("Identity ignores its arguments",) if call.args or call.kwargs else ())))
for _name, _params, _defaults, _check in _ACTIVATIONS:
    DIALECT.register(_simple(_name, _params, _defaults, check=_check))
for _name in ("Softmax", "LogSoftmax", "Softmin"):
    DIALECT.register(_softmax(_name))
DIALECT.register(_simple("Softmax2d", ranks=(3, 4), note="softmax over the channels (dim -3)"))
DIALECT.register(Spec("PReLU", ("num_parameters", "init", "device", "dtype"),
                      {"num_parameters": 1, "init": 0.25, "device": None, "dtype": None}, _prelu))
for _name, _ranks, _min in (("Dropout", (), 1), ("AlphaDropout", (), 1), ("FeatureAlphaDropout", (), 2),
                            ("Dropout1d", (2, 3), 1), ("Dropout2d", (), 2), ("Dropout3d", (), 1)):
    DIALECT.register(_simple(_name, ("p", "inplace"), {"p": 0.5, "inplace": False}, ranks=_ranks, min_rank=_min,
                             check=_dropout_p))
for _rank in (1, 2, 3):
    DIALECT.register(_batchnorm(_rank))
DIALECT.register(Spec("LayerNorm", ("normalized_shape", "eps", "elementwise_affine", "bias", "device", "dtype"),
                      {"eps": 1e-5, "elementwise_affine": True, "bias": True, "device": None, "dtype": None},
                      _layernorm))
DIALECT.register(Spec("GroupNorm", ("num_groups", "num_channels", "eps", "affine", "device", "dtype"),
                      {"eps": 1e-5, "affine": True, "device": None, "dtype": None}, _groupnorm))
DIALECT.register(Spec("Embedding", ("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type",
                                    "scale_grad_by_freq", "sparse", "_weight", "_freeze", "device", "dtype"),
                      {"padding_idx": None, "max_norm": None, "norm_type": 2.0, "scale_grad_by_freq": False,
                       "sparse": False, "_weight": None, "_freeze": False, "device": None, "dtype": None},
                      _embedding))

# Names Keras 3 also has (``Flatten()``, ``ReLU()``, ``Embedding(...)``): unprefixed text means Keras
# (its specs are primary) unless a keyword only PyTorch spells appears.
for _name, _marker in (("Flatten", ("start_dim", "end_dim")), ("Dropout", ("p", "inplace")),
                       ("AlphaDropout", ("p", "inplace")), ("ReLU", ("inplace",)),
                       ("LeakyReLU", ("inplace",)), ("ELU", ("inplace",)), ("Softmax", ("dim",)),
                       ("PReLU", ("num_parameters", "init")),
                       ("Embedding", ("num_embeddings", "embedding_dim", "padding_idx"))):
    DIALECT.specs[_name] = replace(DIALECT.specs[_name], marker=_marker)
