"""Keras 1.2 layers beyond conv and pooling, with their Keras 1 signatures (keras 1.2.2, ``keras/layers/*.py``).

``Dense(output_dim, init, activation, weights, W_regularizer, ..., bias, input_dim)``, ``Activation``,
``Dropout(p)``, ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``, ``Embedding(input_dim, output_dim, init,
input_length, ...)``, ``SimpleRNN``/``LSTM``/``GRU(output_dim, ..., dropout_W, dropout_U)`` plus the keyword-only
``Recurrent`` arguments (``return_sequences``, ``consume_less``, ``input_dim``, ``input_length``...),
``BatchNormalization(epsilon, mode, axis, momentum, ...)``, ``ZeroPadding1D/2D``, ``UpSampling1D(length)``,
``UpSampling2D(size, dim_ordering)``, ``Cropping1D/2D``. The shapes and weight counts come from the shared ops;
this module holds Keras 1's argument rules. Names Keras 3 also has read as Keras 3 unless a Keras-1-only keyword
appears (``output_dim``, ``p``, ``init``, ``consume_less``, ``dim_ordering``...).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from ..dims import Dim, format_shape
from ..errors import ConfigError, ShapeMismatchError
from ..layer import WholeLayer
from ..ops.dense import Dense
from ..ops.elementwise import Elementwise
from ..ops.embedding import Embedding
from ..ops.recurrent import Recurrent
from ..ops.shape import Flatten, Permute, RepeatVector, Reshape
from ..ops.spatial import Pad, Resize
from .base import Call, Ref, Spec, as_bool, as_choice, as_int, describe
from .keras1 import DIALECT, MARKERS, _declared, _ordering

BASE = ("input_shape", "batch_input_shape", "input_dtype", "name", "trainable")
# Keywords only Keras 1 spells this way (never in Keras 3 / tf.keras 2 signatures of the same names).
KERAS1_ONLY = MARKERS + ("output_dim", "p", "consume_less", "dropout_W", "dropout_U", "inner_init",
                         "inner_activation", "U_regularizer", "forget_bias_init", "b_regularizer", "W_constraint",
                         "b_constraint", "mode", "beta_init", "gamma_init", "length", "input_dtype")
# keras/activations.py of 1.2.2
ACTIVATIONS = ("softmax", "elu", "softplus", "softsign", "relu", "tanh", "sigmoid", "hard_sigmoid", "linear")
NOTE_CF = {1: "(N, L, C)", 2: "(N, H, W, C)"}
NOTE_TH = {2: "(N, C, H, W)"}


@dataclass(frozen=True)
class _Checked:
    """Keras 1's ``InputSpec(ndim=...)`` (and Flatten's fully-defined check) before the shared op."""

    op: object
    who: str
    ndim: int | None = None
    min_ndim: int = 0
    known: bool = False  # every non-batch dim must be known (Flatten, Reshape: np.prod of the input shape)

    @property
    def expects(self) -> str:
        return getattr(self.op, "expects", "(N, ...)")

    def apply(self, shapes):
        (shape,) = shapes
        rank = len(shape)
        if self.ndim is not None and rank != self.ndim:
            raise ShapeMismatchError(f"Input 0 is incompatible with layer {self.who}: expected ndim={self.ndim}, "
                                     f"found ndim={rank} (input {format_shape(shape)})",
                                     expected=f"a {self.ndim}-D input {self.expects}")
        if rank < self.min_ndim:
            raise ShapeMismatchError(f"Input 0 is incompatible with layer {self.who}: expected ndim>={self.min_ndim}, "
                                     f"found ndim={rank} (input {format_shape(shape)})",
                                     expected=f"at least {self.min_ndim} dims")
        if self.known and any(d is None for d in shape[1:]):
            raise ShapeMismatchError(f'The shape of the input to "{self.who}" is not fully defined (got '
                                     f"{format_shape(shape[1:])})",
                                     fix='pass a complete "input_shape" or "batch_input_shape" to the first layer')
        return self.op.apply(shapes)


def _whole_declared(a: dict, layer: str, input_dim_means: str = "") -> tuple[Dim, ...] | None:
    """``batch_input_shape`` wins over ``input_shape`` (``Layer.__init__``); ``input_dim`` replaces
    ``input_shape`` for Dense (``(input_dim,)``) and the recurrent layers (``(input_length, input_dim)``)."""
    if input_dim_means == "dense" and a.get("batch_input_shape") is None and a.get("input_dim"):
        return (None, as_int(a["input_dim"], "input_dim", minimum=1, layer=layer))
    if input_dim_means == "recurrent":
        return _declared(a, layer, 1)
    return _declared({k: v for k, v in a.items() if k != "input_dim"}, layer, 0)


def _spec(type_name: str, own: tuple[str, ...], defaults: dict, make, *, kw_only: tuple[str, ...] = (),
          marker: tuple[str, ...] = (), input_dim: str = "") -> Spec:
    """``type_name(*own, **kwargs)``; ``kw_only`` are keywords a base class takes (``Recurrent``'s)."""
    extra = tuple(k for k in BASE if k not in own + kw_only)
    params = own + kw_only + extra

    def build(call: Call, a: dict) -> WholeLayer:
        if len(call.args) > len(own):
            raise ConfigError(f"{type_name}.__init__() takes at most {len(own)} positional arguments but "
                              f"{len(call.args)} were given", expected=f"{type_name}({', '.join(own)}, **kwargs)",
                              fix="pass the extra arguments by keyword")
        op, notes = make(a)
        return WholeLayer("keras1", type_name, call.text, op, notes=tuple(notes), name=type_name.lower(),
                          declared_input=_whole_declared(a, type_name, input_dim))

    return Spec(type_name, params, {**{k: None for k in params}, **defaults}, build,
                marker=tuple(m for m in marker if m in params))


def _pos_int(value: object, name: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{layer}: {name}={describe(value)}", expected=f"{name} a positive integer")
    return value


def _int_tuple(value: object, name: str, layer: str, n: int | None = None, minimum: int = 0) -> tuple[int, ...]:
    """Keras 1 does ``tuple(value)``: an int is refused."""
    if not isinstance(value, tuple) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"{layer}: {name}={describe(value)} is not a tuple of integers",
                          expected=f"a tuple of {n} ints" if n else "a tuple of ints")
    if n is not None and len(value) != n:
        raise ConfigError(f"{layer}: `{name}` must be a tuple length of {n}. Found: {name}={describe(value)}")
    if any(v < minimum for v in value):
        raise ConfigError(f"{layer}: {name}={describe(value)}", expected=f"values >= {minimum}")
    return value


def _activation(value: object, layer: str) -> None:
    name = value.text.rsplit(".", 1)[-1] if isinstance(value, Ref) else value
    if name is not None and name not in ACTIVATIONS:
        raise ConfigError(f"Invalid activation function: {describe(value)}", expected=f"one of {', '.join(ACTIVATIONS)}")


# ----------------------------------------------------------------------------- core
def _dense(a):
    units = _pos_int(a["output_dim"], "output_dim", "Dense")
    _activation(a["activation"], "Dense")
    return _Checked(Dense(units, None, as_bool(a["bias"], "bias", "Dense")), "Dense", min_ndim=2), ()


DIALECT.register(_spec(
    "Dense", ("output_dim", "init", "activation", "weights", "W_regularizer", "b_regularizer",
              "activity_regularizer", "W_constraint", "b_constraint", "bias", "input_dim"),
    {"init": "glorot_uniform", "bias": True}, _dense, marker=KERAS1_ONLY, input_dim="dense"))


def _activation_layer(a):
    _activation(a["activation"], "Activation")
    return Elementwise("Activation"), ()


DIALECT.register(_spec("Activation", ("activation",), {}, _activation_layer, marker=KERAS1_ONLY))


def _dropout(a):
    p = a["p"]
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise ConfigError(f"Dropout: p={describe(p)} is not a number", expected="a float in [0, 1)")
    notes = () if 0 < p < 1 else (f"p={p}: Keras 1 drops only when 0 < p < 1; the layer passes its input through",)
    return Elementwise("Dropout"), notes


DIALECT.register(_spec("Dropout", ("p", "noise_shape", "seed"), {}, _dropout, marker=KERAS1_ONLY))
DIALECT.register(_spec("Flatten", (), {}, lambda a: (_Checked(Flatten(1, -1, pad_rank=2), "Flatten", min_ndim=3,
                                                                known=True), ()), marker=KERAS1_ONLY))


def _reshape(a):
    target = a["target_shape"]
    if isinstance(target, list):
        target = tuple(target)
    target = _int_tuple(target, "target_shape", "Reshape", minimum=-1)
    if target.count(-1) > 1:
        raise ConfigError("Reshape: Can only specify one unknown dimension.", fix="use -1 once")
    return _Checked(Reshape(target, 1, None), "Reshape", known=True), ("target_shape excludes the batch dim",)


DIALECT.register(_spec("Reshape", ("target_shape",), {}, _reshape, marker=KERAS1_ONLY))


def _permute(a):
    dims = a["dims"]
    if not isinstance(dims, tuple) or not all(isinstance(d, int) and not isinstance(d, bool) for d in dims) \
            or sorted(dims) != list(range(1, len(dims) + 1)):
        raise ConfigError(f"Permute: dims={describe(dims)} is not a permutation of 1..n (Keras 1 does not check, "
                          "and indexes the input shape with it)", fix="number the non-batch axes from 1, e.g. dims=(2, 1)")
    return _Checked(Permute((0, *dims)), "Permute", ndim=len(dims) + 1), ()


DIALECT.register(_spec("Permute", ("dims",), {}, _permute, marker=KERAS1_ONLY))
DIALECT.register(_spec("RepeatVector", ("n",), {}, lambda a: (
    _Checked(RepeatVector(_pos_int(a["n"], "n", "RepeatVector")), "RepeatVector", ndim=2), ()), marker=KERAS1_ONLY))


# ----------------------------------------------------------------------------- embedding
@dataclass(frozen=True)
class _Embedding1:
    """Keras 1 ``Embedding``: ``(N, T) -> (N, input_length or T, output_dim)`` (``get_output_shape_for``)."""

    op: Embedding
    length: int | None
    expects = "(N, input_length) of integer indices"

    def apply(self, shapes):
        (shape,) = shapes
        if len(shape) != 2:
            raise ShapeMismatchError(f"Embedding received a {len(shape)}-D input {format_shape(shape)}",
                                     expected=f"a 2-D input {self.expects}")
        steps = shape[1]
        if self.length is not None:
            if isinstance(steps, int) and steps != self.length:
                raise ShapeMismatchError(f"Embedding: input_length={self.length} but the input is {format_shape(shape)}",
                                         fix=f"set input_length={steps}")
            steps = self.length
        return self.op.apply(((shape[0], steps),))


def _embedding(a):
    num = _pos_int(a["input_dim"], "input_dim", "Embedding")
    dim = _pos_int(a["output_dim"], "output_dim", "Embedding")
    length = a["input_length"]
    if length is not None:
        length = _pos_int(length, "input_length", "Embedding")
    return _Embedding1(Embedding(num, dim), length), ()


_EMB = _spec("Embedding", ("input_dim", "output_dim", "init", "input_length", "W_regularizer", "activity_regularizer",
                           "W_constraint", "mask_zero", "weights", "dropout"),
             {"init": "uniform", "mask_zero": False, "dropout": 0.0}, _embedding,
             marker=("init", "W_regularizer", "W_constraint", "dropout", "input_dtype"))
_emb_build = _EMB.build


def _emb_with_length(call: Call, a: dict) -> WholeLayer:
    layer = _emb_build(call, a)
    if layer.declared_input is None:  # kwargs['input_shape'] = (input_length,): always a declared (N, T) input
        from dataclasses import replace
        layer = replace(layer, declared_input=(None, a["input_length"]))
    return layer


DIALECT.register(Spec(_EMB.type, _EMB.params, _EMB.defaults, _emb_with_length, marker=_EMB.marker))


# ----------------------------------------------------------------------------- recurrent
_RNN_OWN = {
    "SimpleRNN": ("output_dim", "init", "inner_init", "activation", "W_regularizer", "U_regularizer",
                  "b_regularizer", "dropout_W", "dropout_U"),
    "GRU": ("output_dim", "init", "inner_init", "activation", "inner_activation", "W_regularizer", "U_regularizer",
            "b_regularizer", "dropout_W", "dropout_U"),
    "LSTM": ("output_dim", "init", "inner_init", "forget_bias_init", "activation", "inner_activation",
             "W_regularizer", "U_regularizer", "b_regularizer", "dropout_W", "dropout_U"),
}
_RECURRENT = ("weights", "return_sequences", "go_backwards", "stateful", "unroll", "consume_less", "input_dim",
              "input_length")
_CELL = {"SimpleRNN": "simple", "LSTM": "lstm", "GRU": "gru"}


def _rnn(type_name: str) -> Spec:
    def make(a):
        units = _pos_int(a["output_dim"], "output_dim", type_name)
        for name in ("dropout_W", "dropout_U"):
            if isinstance(a[name], bool) or not isinstance(a[name], numbers.Real):
                raise ConfigError(f"{type_name} {name}={describe(a[name])} is not a number", expected="a float in [0, 1]")
        as_choice(a["consume_less"], "consume_less", ("cpu", "mem", "gpu"), type_name)
        flags = {k: as_bool(a[k], k, type_name) for k in ("return_sequences", "go_backwards", "stateful", "unroll")}
        op = Recurrent(_CELL[type_name], units, "keras", type_name, return_sequences=flags["return_sequences"],
                       bias_vectors=1, stateful=flags["stateful"], unroll=flags["unroll"], unroll_strict=True,
                       go_backwards=flags["go_backwards"])
        gates = {"simple": 1, "lstm": 4, "gru": 3}[_CELL[type_name]]
        notes = (f"Keras 1 builds one bias vector of {gates * units} ({gates} x output_dim); the weights are the same "
                 "whatever consume_less",) if gates > 1 else ()
        return op, notes

    defaults = {"init": "glorot_uniform", "inner_init": "orthogonal", "forget_bias_init": "one", "activation": "tanh",
                "inner_activation": "hard_sigmoid", "dropout_W": 0.0, "dropout_U": 0.0, "return_sequences": False,
                "go_backwards": False, "stateful": False, "unroll": False, "consume_less": "cpu"}
    return _spec(type_name, _RNN_OWN[type_name], defaults, make, kw_only=_RECURRENT, marker=KERAS1_ONLY,
                 input_dim="recurrent")


for _name in _RNN_OWN:
    DIALECT.register(_rnn(_name))


# ----------------------------------------------------------------------------- normalization
def _batchnorm(a):
    axis = a["axis"]
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ConfigError(f"BatchNormalization: axis={describe(axis)}", expected="an int")
    if isinstance(a["epsilon"], bool) or not isinstance(a["epsilon"], numbers.Real):
        raise ConfigError(f"BatchNormalization: epsilon={describe(a['epsilon'])}", expected="a number")
    mode = a["mode"]
    if mode not in (0, 1, 2) or isinstance(mode, bool):
        raise ConfigError(f"BatchNormalization: mode={describe(mode)}", expected="0 (feature-wise), 1 (sample-wise) "
                          "or 2 (feature-wise, batch statistics at test time too)")
    note = (f"per channel (axis {axis}): 2 trainable (gamma, beta) and 2 non-trainable (running_mean, running_std) "
            "weights; count_params() counts all 4")
    notes = (note,) + (("mode=1 normalizes each sample over axis -1 (a 2-D input)",) if mode == 1 else ())
    op = Elementwise("BatchNormalization", sizes=((axis, None),), per_size=4, param_axes=(axis,), min_rank=2)
    return (_Checked(op, "BatchNormalization", ndim=2) if mode == 1 else op), notes


DIALECT.register(_spec("BatchNormalization", ("epsilon", "mode", "axis", "momentum", "weights", "beta_init",
                                              "gamma_init", "gamma_regularizer", "beta_regularizer"),
                       {"epsilon": 1e-3, "mode": 0, "axis": -1, "momentum": 0.99, "beta_init": "zero",
                        "gamma_init": "one"}, _batchnorm, marker=KERAS1_ONLY))


# ----------------------------------------------------------------------------- padding, upsampling, cropping
def _spatial_op(cls, values, rank: int, channels_last: bool, who: str, **kw):
    expects = NOTE_CF[rank] if channels_last else NOTE_TH[rank]
    return cls(values, first=1 if channels_last else 2, ranks=(rank + 2,), expects=expects, who=who, **kw)


def _zeropad1d(a):
    value = a["padding"]
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    pads = _int_tuple(value, "padding", "ZeroPadding1D", 2)
    return _spatial_op(Pad, (pads,), 1, True, "ZeroPadding1D", least=0), ()


def _zeropad2d(a):
    last, notes = _ordering(a["dim_ordering"], "ZeroPadding2D")
    value = a["padding"]
    if isinstance(value, tuple) and len(value) == 2:
        value = _int_tuple(value, "padding", "ZeroPadding2D", 2)
        pads = ((value[0], value[0]), (value[1], value[1]))
    elif isinstance(value, tuple) and len(value) == 4:
        value = _int_tuple(value, "padding", "ZeroPadding2D", 4)
        pads = ((value[0], value[1]), (value[2], value[3]))
    else:
        raise ConfigError(f"ZeroPadding2D: `padding` should be tuple of int of length 2 or 4. Found: {describe(value)}",
                          expected="(rows, cols) or (top, bottom, left, right)")
    return _spatial_op(Pad, pads, 2, last, "ZeroPadding2D", least=0), notes


def _crop1d(a):
    crops = _int_tuple(a["cropping"], "cropping", "Cropping1D", 2)
    return _spatial_op(Pad, (crops,), 1, True, "Cropping1D", least=1, label="cropping", crop=True), ()


def _crop2d(a):
    last, notes = _ordering(a["dim_ordering"], "Cropping2D")
    value = a["cropping"]
    if not isinstance(value, tuple) or len(value) != 2:
        raise ConfigError(f"Cropping2D: `cropping` must be a tuple length of 2. Found: {describe(value)}",
                          expected="((top, bottom), (left, right))")
    crops = tuple(_int_tuple(v, f"cropping[{j}]", "Cropping2D", 2) for j, v in enumerate(value))
    return _spatial_op(Pad, crops, 2, last, "Cropping2D", least=1, label="cropping", crop=True), notes


def _up1d(a):
    length = _pos_int(a["length"], "length", "UpSampling1D")
    return Resize(scales=(length,), first=1, ranks=(3,), least=0, expects=NOTE_CF[1], who="UpSampling1D"), (
        "the steps are repeated `length` times",)


def _up2d(a):
    last, notes = _ordering(a["dim_ordering"], "UpSampling2D")
    size = _int_tuple(a["size"], "size", "UpSampling2D", 2, minimum=1)
    return Resize(scales=size, first=1 if last else 2, ranks=(4,), least=0,
                  expects=NOTE_CF[2] if last else NOTE_TH[2], who="UpSampling2D"), notes + (
        "rows and cols repeated size[0] and size[1] times",)


DIALECT.register(_spec("ZeroPadding1D", ("padding",), {"padding": 1}, _zeropad1d, marker=KERAS1_ONLY))
DIALECT.register(_spec("ZeroPadding2D", ("padding", "dim_ordering"), {"padding": (1, 1), "dim_ordering": "default"},
                       _zeropad2d, marker=KERAS1_ONLY))
DIALECT.register(_spec("Cropping1D", ("cropping",), {"cropping": (1, 1)}, _crop1d, marker=KERAS1_ONLY))
DIALECT.register(_spec("Cropping2D", ("cropping", "dim_ordering"),
                       {"cropping": ((0, 0), (0, 0)), "dim_ordering": "default"}, _crop2d, marker=KERAS1_ONLY))
DIALECT.register(_spec("UpSampling1D", ("length",), {"length": 2}, _up1d, marker=KERAS1_ONLY))
DIALECT.register(_spec("UpSampling2D", ("size", "dim_ordering"), {"size": (2, 2), "dim_ordering": "default"}, _up2d,
                       marker=KERAS1_ONLY))
