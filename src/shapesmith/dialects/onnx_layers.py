"""ONNX ops beyond conv and pooling: ``Gemm``, ``Flatten``, ``Reshape``, ``Transpose``, activations,
``Dropout``, ``BatchNormalization``, ``LayerNormalization`` (registered into the onnx dialect).

Inputs that are constant tensors in the graph are given by shape or value, as for ``Conv``'s
``W=(...)``: ``Gemm(B=(K, N), C=(N,), transB=0)``; ``Reshape(shape=[0, -1])`` takes the ``shape``
input's values as an attribute-like keyword. Parameters are the initializers' sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..dims import Conditions, Dim, Expr, format_shape
from ..errors import ConfigError, ShapeMismatchError
from ..layer import WholeLayer
from ..ops.base import ShapeResult
from ..ops.elementwise import Elementwise
from ..ops.shape import FlattenTo2D, Permute, Reshape, Squeeze, Unsqueeze, normalize_axis, product
from .base import Call, Spec, as_int, as_shape_value, describe
from .onnx import DIALECT


def _flag(value: object, name: str, op: str) -> bool:
    v = as_int(value, name, minimum=0, layer=op)
    if v > 1:
        raise ConfigError(f"{op}: {name}={v}", expected=f"{name} 0 or 1")
    return bool(v)


def _const_shape(value: object, name: str, op: str) -> tuple[int, ...] | None:
    if value is None:
        return None
    shape = as_shape_value(value if isinstance(value, tuple) else (value,), name, op)
    if not all(isinstance(d, int) and d >= 1 for d in shape):
        raise ConfigError(f"{op}: {name}={describe(value)} is not a constant's shape", expected="positive integers")
    return shape


@dataclass(frozen=True)
class _Gemm:
    """``Y = alpha*A'B' + beta*C``: ``A'`` is ``(M, K)`` (``transA`` swaps), ``B'`` is ``(K, N)``,
    ``C`` broadcasts to ``(M, N)``."""

    b: tuple[int, int] | None
    c: tuple[int, ...] | None
    trans_a: bool
    trans_b: bool
    expects = "(M, K)"

    def apply(self, shapes):
        (shape,) = shapes
        if len(shape) != 2:
            raise ShapeMismatchError(f"Gemm received a {len(shape)}-D input {format_shape(shape)}",
                                     expected="a 2-D input A (M, K)", fix="Flatten the input first")
        m, k = (shape[1], shape[0]) if self.trans_a else shape
        conditions = Conditions()
        n: Dim = None
        if self.b is not None:
            bk, n = (self.b[1], self.b[0]) if self.trans_b else self.b
            if isinstance(k, int) and k != bk:
                raise ShapeMismatchError(
                    f"Gemm: A has K={k} (input {format_shape(shape)}, transA={int(self.trans_a)}) but B="
                    f"{format_shape(self.b)} has K={bk} (transB={int(self.trans_b)})",
                    expected=f"K == {bk}", fix="check transA/transB, or the weight's shape")
            if isinstance(k, Expr):
                conditions.require_equal(k, bk)
        if self.c is not None:
            out = (m, n)
            if len(self.c) > 2:
                raise ShapeMismatchError(f"Gemm: C={format_shape(self.c)} has {len(self.c)} dims",
                                         expected="C broadcastable to (M, N)")
            for want, got in zip(reversed(out), reversed(self.c)):
                if got != 1 and isinstance(want, int) and want != got:
                    raise ShapeMismatchError(f"Gemm: C={format_shape(self.c)} does not broadcast to (M, N)="
                                             f"{format_shape(out)}", expected="C of shape (N,), (M, N), (1,) or ()")
                if got != 1 and isinstance(want, Expr):
                    conditions.require_equal(want, got)
        params = (product(self.b) if self.b else 0) + (product(self.c) if self.c else 0)
        return ShapeResult(((m, n),), params=params, conditions=conditions)


def _gemm(call: Call, a: dict) -> WholeLayer:
    b = _const_shape(a["B"] if a["B"] is not None else a["W"], "B", "Gemm")
    if a["B"] is not None and a["W"] is not None:
        raise ConfigError("Gemm: give the weight once, as B=(K, N)", fix="remove W")
    if b is not None and len(b) != 2:
        raise ConfigError(f"Gemm: B={format_shape(b)}", expected="a 2-D weight (K, N), or (N, K) with transB=1")
    c = _const_shape(a["C"], "C", "Gemm") if a["C"] != () else ()
    notes = [] if b is not None else ["the output features come from B; give B=(K, N) to know them"]
    return WholeLayer("onnx", "Gemm", call.text,
                      _Gemm(b, c, _flag(a["transA"], "transA", "Gemm"), _flag(a["transB"], "transB", "Gemm")),
                      notes=tuple(notes), name="Gemm")


def _flatten(call: Call, a: dict) -> WholeLayer:
    return WholeLayer("onnx", "Flatten", call.text, FlattenTo2D(as_int(a["axis"], "axis", layer="Flatten")),
                      name="Flatten")


def _reshape(call: Call, a: dict) -> WholeLayer:
    shape = a["shape"]
    if shape is None:
        raise ConfigError("Reshape needs the target, shape=[...] (the values of its 'shape' input)",
                          fix="add shape=[0, -1]")
    shape = shape if isinstance(shape, tuple) else (shape,)
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, int) or d < -1:
            raise ConfigError(f"Reshape: shape={describe(a['shape'])}", expected="integers >= -1")
    if shape.count(-1) > 1:
        raise ConfigError(f"Reshape: shape={list(shape)} has more than one -1", fix="give every size but one")
    allowzero = _flag(a["allowzero"], "allowzero", "Reshape")
    if allowzero and 0 in shape and -1 in shape:
        raise ConfigError(f"Reshape: shape={list(shape)} with allowzero=1 has both 0 and -1",
                          expected="not both when allowzero=1")
    notes = ("0 copies the input dim at the same index (allowzero=0)",) if 0 in shape and not allowzero else ()
    return WholeLayer("onnx", "Reshape", call.text, Reshape(shape, 0, None, copy_zero=not allowzero, what="shape"),
                      notes=notes, name="Reshape")


@dataclass(frozen=True)
class _Transpose:
    perm: tuple[int, ...] | None
    expects = "(d0, d1, ...)"

    def apply(self, shapes):
        (shape,) = shapes
        perm = tuple(range(len(shape) - 1, -1, -1)) if self.perm is None else self.perm
        return Permute(perm).apply(shapes)


def _transpose(call: Call, a: dict) -> WholeLayer:
    perm = a["perm"]
    if perm is not None:
        perm = perm if isinstance(perm, tuple) else (perm,)
        if sorted(perm) != list(range(len(perm))) or not all(isinstance(p, int) for p in perm):
            raise ConfigError(f"Transpose: perm={describe(a['perm'])} is not a permutation",
                              expected=f"each of 0..{len(perm) - 1} once")
    return WholeLayer("onnx", "Transpose", call.text, _Transpose(perm), name="Transpose",
                      notes=() if perm is not None else ("no perm: the axes are reversed",))


def _axis_op(op_name: str, default: int | None):
    def build(call: Call, a: dict) -> WholeLayer:
        sizes = ()
        if default is not None:
            sizes = ((as_int(a["axis"], "axis", layer=op_name), None),)
        return WholeLayer("onnx", op_name, call.text, Elementwise(op_name, sizes=sizes), name=op_name)
    return build


def _batchnorm(call: Call, a: dict) -> WholeLayer:
    if _flag(a["training_mode"], "training_mode", "BatchNormalization"):
        raise ConfigError("BatchNormalization training_mode=1 has extra outputs (running mean and var)",
                          fix="use training_mode=0 for inference")
    c = _const_shape(a["scale"], "scale", "BatchNormalization")
    if c is not None and len(c) != 1:
        raise ConfigError(f"BatchNormalization: scale={format_shape(c)}", expected="a 1-D shape (C,)")
    return WholeLayer("onnx", "BatchNormalization", call.text, _BatchNorm(c[0] if c else None),
                      name="BatchNormalization")


@dataclass(frozen=True)
class _BatchNorm:
    """onnxruntime reads a 1-D input as ``(N,)`` with one channel."""

    channels: int | None
    expects = "(N, C, ...)"

    def apply(self, shapes):
        (shape,) = shapes
        note = "4 initializers of C values each: scale, B, input_mean, input_var"
        c = self.channels
        if len(shape) == 1:
            note += "; a 1-D input is read as (N,) with C = 1"
            shape = (*shape, 1)
        op = Elementwise("BatchNormalization", min_rank=2, sizes=((1, c),) if c else (), per_size=4,
                         param_axes=(1,), expects="(N, C, ...)", label=f"scale=({c},)" if c else "", notes=(note,))
        result = op.apply((shape,))
        return ShapeResult(shapes, params=result.params, notes=result.notes, conditions=result.conditions)


@dataclass(frozen=True)
class _LayerNorm:
    """ONNX ``LayerNormalization(axis)``: Scale and B have the shape ``x.shape[axis:]``."""

    axis: int
    bias: bool
    expects = "(d0, d1, ...)"

    def apply(self, shapes):
        (shape,) = shapes
        j = normalize_axis(self.axis, len(shape), "axis")
        axes = tuple(range(j, len(shape)))
        return Elementwise("LayerNormalization", per_size=1 + self.bias, param_axes=axes).apply(shapes)


def _layernorm(call: Call, a: dict) -> WholeLayer:
    bias = _flag(a["bias"], "bias", "LayerNormalization")
    return WholeLayer("onnx", "LayerNormalization", call.text,
                      _LayerNorm(as_int(a["axis"], "axis", layer="LayerNormalization"), bias),
                      name="LayerNormalization",
                      notes=("Scale" + (" and B" if bias else "") + " initializers of shape x.shape[axis:]",))


def _dropout(call: Call, a: dict) -> WholeLayer:
    ratio = a["ratio"]
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio < 1:
        raise ConfigError(f"Dropout: ratio={describe(ratio)}", expected="0 <= ratio < 1")
    return WholeLayer("onnx", "Dropout", call.text, Elementwise("Dropout"), name="Dropout",
                      notes=("an identity at inference; the optional mask output has the same shape",))


DIALECT.register(Spec("Gemm", ("A", "B", "C", "alpha", "beta", "transA", "transB", "W"),
                      {"A": None, "B": None, "C": None, "alpha": 1.0, "beta": 1.0, "transA": 0, "transB": 0,
                       "W": None}, _gemm))
DIALECT.register(Spec("Flatten", ("input", "axis"), {"input": None, "axis": 1}, _flatten))
DIALECT.register(Spec("Reshape", ("data", "shape", "allowzero"), {"data": None, "shape": None, "allowzero": 0},
                      _reshape))
DIALECT.register(Spec("Transpose", ("data", "perm"), {"data": None, "perm": None}, _transpose))


def _axes_op(op_name: str, op_class, required: bool):
    """``Squeeze(axes=[...])`` / ``Unsqueeze(axes=[...])``: the axes input written as a keyword."""
    def build(call: Call, a: dict) -> WholeLayer:
        axes = a["axes"]
        if axes is None and required:
            raise ConfigError(f"{op_name} needs axes=[...]", fix=f"write {op_name}(axes=[0])")
        if axes is not None:
            if not isinstance(axes, tuple) or not axes:
                raise ConfigError(f"{op_name}: axes={describe(axes)}", expected="a non-empty list of integers")
            axes = tuple(as_int(v, "axes", layer=op_name) for v in axes)
        return WholeLayer("onnx", op_name, call.text, op_class(axes), name=op_name)
    return Spec(op_name, ("data", "axes"), {"data": None, "axes": None}, build)


DIALECT.register(_axes_op("Squeeze", Squeeze, required=False))
DIALECT.register(_axes_op("Unsqueeze", Unsqueeze, required=True))
for _name, _params in (("Relu", ()), ("Sigmoid", ()), ("Tanh", ()), ("LeakyRelu", ("alpha",)), ("Elu", ("alpha",)),
                       ("Selu", ("alpha", "gamma")), ("Softplus", ()), ("Softsign", ()), ("HardSigmoid", ("alpha", "beta")),
                       ("HardSwish", ()), ("Gelu", ("approximate",)), ("Identity", ()), ("Mish", ())):
    DIALECT.register(Spec(_name, ("X",) + _params, {"X": None, **{p: None for p in _params}}, _axis_op(_name, None)))
for _name in ("Softmax", "LogSoftmax", "Hardmax"):
    DIALECT.register(Spec(_name, ("input", "axis"), {"input": None, "axis": -1}, _axis_op(_name, -1)))
DIALECT.register(Spec("Dropout", ("data", "ratio", "training_mode", "seed"),
                      {"data": None, "ratio": 0.5, "training_mode": None, "seed": None}, _dropout))
DIALECT.register(Spec("BatchNormalization", ("X", "scale", "B", "input_mean", "input_var", "epsilon", "momentum",
                                             "training_mode"),
                      {"X": None, "scale": None, "B": None, "input_mean": None, "input_var": None, "epsilon": 1e-5,
                       "momentum": 0.9, "training_mode": 0}, _batchnorm))
DIALECT.register(Spec("LayerNormalization", ("X", "axis", "epsilon", "stash_type", "bias"),
                      {"X": None, "axis": -1, "epsilon": 1e-5, "stash_type": 1, "bias": 1}, _layernorm))

# Names Keras 3 also has: unprefixed text means Keras unless a keyword only ONNX spells appears.
for _name, _marker in (("Flatten", ("input",)), ("Reshape", ("shape", "allowzero", "data")),
                       ("Dropout", ("ratio", "training_mode")),
                       ("BatchNormalization", ("training_mode", "input_mean", "input_var", "X")),
                       ("LayerNormalization", ("stash_type", "X", "bias")), ("Softmax", ("input",))):
    DIALECT.specs[_name] = replace(DIALECT.specs[_name], marker=_marker)
