"""Keras 3 and tf.keras 2 layers beyond conv and pooling: ``Dense``, ``Flatten``/``Reshape``/``Permute``/
``RepeatVector``, dropout and noise, activations, normalizations, ``Embedding`` (registered into both dialects)."""

from __future__ import annotations

from dataclasses import dataclass

from ..dims import format_shape
from ..errors import ConfigError, ShapeMismatchError
from ..layer import WholeLayer
from ..ops.dense import Dense
from ..ops.base import ShapeResult
from ..ops.elementwise import Elementwise, PerPosition
from ..ops.embedding import Embedding
from ..ops.shape import Flatten, Permute, RepeatVector, Reshape
from .base import Call, Dialect, Ref, Spec, as_bool, describe
from .keras import COMMON, COMMON2, DIALECT, DIALECT2, IGNORED, _channels_last, _snake, declared_input


def _dense(framework: str):
    def build(call: Call, a: dict) -> WholeLayer:
        units = a["units"]
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ConfigError(f"Received an invalid value for `units`, expected a positive integer. "
                              f"Received: units={describe(units)}")
        shape, notes = declared_input(framework, a, "Dense")
        op = Dense(units, None, as_bool(a["use_bias"], "use_bias", "Dense"))
        return WholeLayer(framework, "Dense", call.text, op, notes=notes, name="dense", declared_input=shape)

    common = COMMON2 if framework == "keras2" else COMMON
    params = ("units", "activation", "use_bias") + IGNORED[1:] + ("lora_rank",) * (framework == "keras") + common
    return Spec("Dense", params, {"activation": None, "use_bias": True, **{k: None for k in IGNORED + common},
                                  "lora_rank": None}, build, marker=("batch_input_shape",) if framework == "keras2" else ())


def _register(dialect: Dialect) -> None:
    dialect.register(_dense(dialect.name))


_register(DIALECT)
_register(DIALECT2)


# -- shape-only layers, activations, dropout and noise, normalization, embedding -------------
# Keras 3 ``keras.activations.ALL_OBJECTS_DICT`` (3.15) and tf.keras 2.15 ``keras.activations``.
ACTIVATIONS = {
    "keras": ("celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
              "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu",
              "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
              "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink", "threshold"),
    "keras2": ("elu", "exponential", "gelu", "hard_sigmoid", "linear", "mish", "relu", "relu6", "selu", "sigmoid",
               "silu", "softmax", "softplus", "softsign", "swish", "tanh", "log_softmax"),
}


def _num(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"Received an invalid value for argument `{name}`: {describe(value)}", expected="a number")
    return value


def _unit_interval(value: object, name: str) -> None:
    v = _num(value, name)
    if not 0 <= v <= 1:
        raise ConfigError(f"Invalid value received for argument `{name}`. Expected a float value between 0 and 1. "
                          f"Received: {name}={v}", fix=f"use 0 <= {name} <= 1")


def _nonneg(value: object, name: str, layer: str, none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    if value is None or _num(value, name) < 0:
        raise ConfigError(f"{name} of a {layer} layer cannot be None or a negative value. "
                          f"Received: {name}={describe(value)}", fix=f"use {name} >= 0")


def _axis_int(value: object, name: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{layer}: expected an int for `{name}`. Received: {name}={describe(value)}")
    return value


def _spec(framework: str, type_name: str, own: tuple[str, ...], defaults: dict, make, *, limit: int | None = None):
    """A Keras layer ``type_name(*own, **common)``; ``make(a) -> (op, notes)``."""
    def build(call: Call, a: dict) -> WholeLayer:
        if len(call.args) > (len(own) if limit is None else limit):
            raise ConfigError(f"{type_name}.__init__() takes at most {len(own) if limit is None else limit} "
                              f"positional arguments but {len(call.args)} were given",
                              fix="pass the extra arguments by keyword")
        if "input_dim" in own:  # Embedding's own input_dim is the vocabulary size, not the input shape
            shape, notes = declared_input(framework, {**a, "input_dim": None}, type_name)
            length = a.get("input_length")
            if shape is None and framework == "keras2" and length is not None:
                shape = (None, *(length if isinstance(length, tuple) else (length,)))
        else:
            shape, notes = declared_input(framework, a, type_name)
        op, more = make(a)
        return WholeLayer(framework, type_name, call.text, op, notes=tuple(notes) + tuple(more),
                          name=_snake(type_name), declared_input=shape)
    common = COMMON2 if framework == "keras2" else COMMON
    return Spec(type_name, own + common, {**defaults, **{k: None for k in common}}, build,
                marker=("batch_input_shape",) if framework == "keras2" else (), primary=framework == "keras")


def _register_more(dialect: Dialect) -> None:
    fw = dialect.name
    reg = lambda *args, **kw: dialect.register(_spec(fw, *args, **kw))  # noqa: E731

    def flatten(a):
        _channels_last(a["data_format"], "Flatten")
        return Flatten(1, -1, pad_rank=2), ()
    reg("Flatten", ("data_format",), {"data_format": None}, flatten)

    def reshape(a):
        target = a["target_shape"]
        if not isinstance(target, tuple):
            target = (target,)
        for d in target:
            if isinstance(d, bool) or not isinstance(d, int):
                raise ConfigError(f"Reshape: target_shape={describe(a['target_shape'])} must hold integers",
                                  expected="a tuple of integers, -1 for one unknown dim")
            if d < -1:
                raise ConfigError(f"Each dimension in `target_shape` must be a non-negative integer, or `-1` for a "
                                  f"single unknown dimension. Received: target_shape={target}.")
        if target.count(-1) > 1:
            raise ConfigError(f"There must be at most one unknown dimension (-1) in `target_shape`. Received: "
                              f"target_shape={target}.")
        return Reshape(target, 1, None), ("target_shape excludes the batch dim",)
    reg("Reshape", ("target_shape",), {}, reshape)

    def permute(a):
        dims = a["dims"]
        if not isinstance(dims, tuple) or not all(isinstance(d, int) and not isinstance(d, bool) for d in dims) \
                or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ConfigError("Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                              f"must be consecutive and start from 1. Received dims={describe(dims)}",
                              fix="number the non-batch axes from 1, e.g. dims=(2, 1)")
        return Permute((0, *dims)), ()
    reg("Permute", ("dims",), {}, permute)

    def repeat(a):
        n = a["n"]
        if isinstance(n, bool) or not isinstance(n, int):
            raise ConfigError(f"Expected an integer value for `n`, got {describe(n)}.")
        if n <= 0:
            raise ConfigError(f"Argument `n` should be a positive integer. Received: n={n}")
        return RepeatVector(n), ()
    reg("RepeatVector", ("n",), {}, repeat)

    def dropout(type_name: str, arg: str = "rate", ranks: tuple[int, ...] = (), layout: str = "(N, ...)"):
        def make(a):
            _unit_interval(a[arg], arg)
            if "data_format" in a:
                _channels_last(a["data_format"], type_name)
            return Elementwise(type_name, ranks=ranks, expects=layout), ()
        return make
    reg("Dropout", ("rate", "noise_shape", "seed"), {"noise_shape": None, "seed": None}, dropout("Dropout"))
    reg("AlphaDropout", ("rate", "noise_shape", "seed"), {"noise_shape": None, "seed": None},
        dropout("AlphaDropout"))
    reg("GaussianDropout", ("rate", "seed"), {"seed": None}, dropout("GaussianDropout"))
    reg("GaussianNoise", ("stddev", "seed"), {"seed": None}, dropout("GaussianNoise", "stddev"))
    reg("SpatialDropout1D", ("rate", "seed"), {"seed": None}, dropout("SpatialDropout1D", ranks=(3,),
                                                                       layout="(N, L, C)"))
    for r, layout in ((2, "(N, H, W, C)"), (3, "(N, D, H, W, C)")):
        reg(f"SpatialDropout{r}D", ("rate", "data_format", "seed"), {"data_format": None, "seed": None},
            dropout(f"SpatialDropout{r}D", ranks=(r + 2,), layout=layout))

    def activation(a):
        act = a["activation"]
        name = act.text.rsplit(".", 1)[-1] if isinstance(act, Ref) else act
        if name is not None and name not in ACTIVATIONS[fw]:
            raise ConfigError(f"Could not interpret activation function identifier: {describe(act)}",
                              expected=f"one of {', '.join(ACTIVATIONS[fw])}")
        return Elementwise("Activation"), ()
    reg("Activation", ("activation",), {}, activation)

    def relu(a):
        _nonneg(a["max_value"], "max_value", "ReLU", none_ok=True)
        _nonneg(a["negative_slope"], "negative_slope", "ReLU")
        _nonneg(a["threshold"], "threshold", "ReLU")
        return Elementwise("ReLU"), ()
    reg("ReLU", ("max_value", "negative_slope", "threshold"),
        {"max_value": None, "negative_slope": 0.0, "threshold": 0.0}, relu)

    def leaky(a):
        slope = a["negative_slope"] if a.get("alpha") is None else a["alpha"]
        _nonneg(slope, "negative_slope", "Leaky ReLU")
        return Elementwise("LeakyReLU"), ("alpha is deprecated: use negative_slope",) if a.get("alpha") is not None \
            else ()
    reg("LeakyReLU", ("negative_slope", "alpha"), {"negative_slope": 0.3, "alpha": None}, leaky, limit=1)

    def elu(a):
        _num(a["alpha"], "alpha")
        return Elementwise("ELU"), ()
    reg("ELU", ("alpha",), {"alpha": 1.0}, elu)

    def softmax(a):
        axis = a["axis"]
        axes = axis if isinstance(axis, tuple) else (axis,)
        return Elementwise("Softmax", sizes=tuple((_axis_int(x, "axis", "Softmax"), None) for x in axes)), ()
    reg("Softmax", ("axis",), {"axis": -1}, softmax)

    def prelu(a):
        shared = a["shared_axes"]
        shared = () if shared is None else shared if isinstance(shared, tuple) else (shared,)
        shared = tuple(_axis_int(s, "shared_axes", "PReLU") for s in shared)
        if any(s < 1 for s in shared):
            raise ConfigError(f"PReLU: shared_axes={list(shared)} must be axes >= 1 (axis 0 is the batch)")
        return PerPosition("PReLU", shared), ("one alpha per input position (batch excluded), shared along "
                                              f"axes {list(shared)}" if shared else
                                              "one alpha per input position (batch excluded)",)
    reg("PReLU", ("alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"),
        {"alpha_initializer": "Zeros", "alpha_regularizer": None, "alpha_constraint": None, "shared_axes": None},
        prelu)

    norm_ignored = ("beta_initializer", "gamma_initializer", "beta_regularizer", "gamma_regularizer",
                    "beta_constraint", "gamma_constraint")

    def batchnorm(a):
        axis = a["axis"]
        if isinstance(axis, tuple) and len(axis) == 1 and fw == "keras2":
            axis = axis[0]
        axis = _axis_int(axis, "axis", "BatchNormalization")
        _num(a["epsilon"], "epsilon")
        center = as_bool(a["center"], "center", "BatchNormalization")
        scale = as_bool(a["scale"], "scale", "BatchNormalization")
        trainable = int(center) + int(scale)
        note = (f"per channel (axis {axis}): {trainable} trainable ({'gamma' * scale}{', ' * (scale and center)}"
                f"{'beta' * center}) and 2 non-trainable (moving_mean, moving_variance) weights; count_params() "
                f"counts all {trainable + 2}")
        return Elementwise("BatchNormalization", sizes=((axis, None),), per_size=trainable + 2, param_axes=(axis,),
                           min_rank=2), (note,)
    reg("BatchNormalization", ("axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
                               "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
                               "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint")
        + (("renorm", "renorm_clipping", "renorm_momentum", "synchronized") if fw == "keras" else
           ("renorm", "renorm_clipping", "renorm_momentum", "fused", "virtual_batch_size", "adjustment")),
        {"axis": -1, "momentum": 0.99, "epsilon": 1e-3, "center": True, "scale": True,
         "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones", "renorm": False,
         "renorm_clipping": None, "renorm_momentum": 0.99, "synchronized": False, "fused": None,
         "virtual_batch_size": None, "adjustment": None, **{k: None for k in norm_ignored}}, batchnorm)

    def layernorm(a):
        axis = a["axis"]
        axes = axis if isinstance(axis, tuple) else (axis,)
        axes = tuple(_axis_int(x, "axis", "LayerNormalization") for x in axes)
        _num(a["epsilon"], "epsilon")
        center = as_bool(a["center"], "center", "LayerNormalization")
        scale = as_bool(a["scale"], "scale", "LayerNormalization")
        rms = as_bool(a.get("rms_scaling", False), "rms_scaling", "LayerNormalization")
        per = int(scale or rms) + int(center and not rms)
        return _KerasLayerNorm(Elementwise("LayerNormalization", sizes=tuple((x, None) for x in axes),
                                           per_size=per, param_axes=axes)), ()
    reg("LayerNormalization", ("axis", "epsilon", "center", "scale") + (("rms_scaling",) if fw == "keras" else ())
        + norm_ignored, {"axis": -1, "epsilon": 1e-3, "center": True, "scale": True, "rms_scaling": False,
                         **{k: None for k in norm_ignored}}, layernorm, limit=4 + len(norm_ignored))

    def groupnorm(a):
        groups = a["groups"]
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ConfigError("Received an invalid value for argument `groups`, expected a positive integer (or "
                              f"`-1` for instance normalization). Received: groups={describe(groups)}")
        axis = _axis_int(a["axis"], "axis", "GroupNormalization")
        _num(a["epsilon"], "epsilon")
        center = as_bool(a["center"], "center", "GroupNormalization")
        scale = as_bool(a["scale"], "scale", "GroupNormalization")
        per = int(center) + int(scale)
        return Elementwise("GroupNormalization", sizes=((axis, None),), groups=None if groups == -1 else (axis, groups),
                           per_size=per, param_axes=(axis,) if per else (), min_rank=2,
                           label=f"groups={groups}"), ()
    reg("GroupNormalization", ("groups", "axis", "epsilon", "center", "scale") + norm_ignored,
        {"groups": 32, "axis": -1, "epsilon": 1e-3, "center": True, "scale": True, **{k: None for k in norm_ignored}},
        groupnorm)

    def embedding(a):
        for name in ("input_dim", "output_dim"):
            v = a[name]
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ConfigError(f"`{name}` must be a positive integer. Received: {name}={describe(v)}")
        op = Embedding(a["input_dim"], a["output_dim"])
        length = a.get("input_length")
        if length is None:
            return op, ()
        if fw == "keras":
            return op, ("Keras 3 ignores input_length (deprecated): remove it",)
        lengths = length if isinstance(length, tuple) else (length,)
        return _InputLength(op, tuple(lengths)), ()
    own = ("input_dim", "output_dim", "embeddings_initializer", "embeddings_regularizer", "embeddings_constraint",
           "mask_zero")
    own += ("weights", "lora_rank", "lora_alpha", "quantization_config", "input_length") if fw == "keras" else (
        "input_length", "sparse")
    reg("Embedding", own, {"embeddings_initializer": "uniform", "embeddings_regularizer": None,
                           "embeddings_constraint": None, "mask_zero": False, "weights": None, "lora_rank": None,
                           "lora_alpha": None, "quantization_config": None, "input_length": None, "sparse": False},
        embedding, limit=len(own) - (1 if fw == "keras" else 0))


@dataclass(frozen=True)
class _KerasLayerNorm:
    """Keras ``LayerNormalization``: any axes; the torch backend's ``call`` takes only trailing ones."""

    op: Elementwise
    expects = "(N, ...)"

    def apply(self, shapes):
        (shape,) = shapes
        result = self.op.apply(shapes)
        rank = len(shape)
        axes = sorted({a % rank for a in self.op.param_axes})
        if axes != list(range(rank - len(axes), rank)):
            return ShapeResult(result.outputs, params=result.params, conditions=result.conditions,
                               warnings=(f"axis={list(self.op.param_axes)} are not the trailing axes: Keras on the "
                                         "torch backend fails at call time (F.layer_norm normalizes the last dims "
                                         "only); TensorFlow and JAX backends accept it",))
        return result


@dataclass(frozen=True)
class _InputLength:
    """tf.keras 2 ``Embedding(input_length=...)``: the input's non-batch dims must match it
    (``compute_output_shape``), a ``None`` length taking the input's."""

    op: Embedding
    lengths: tuple
    expects = "(N, input_length)"

    def apply(self, shapes):
        (shape,) = shapes
        if len(self.lengths) != len(shape) - 1:
            raise ShapeMismatchError(f'"input_length" is {list(self.lengths)}, but received input has shape '
                                     f"{format_shape(shape)}", expected=f"{len(self.lengths)} dims besides the batch")
        for want, got in zip(self.lengths, shape[1:]):
            if isinstance(want, int) and isinstance(got, int) and want != got:
                raise ShapeMismatchError(f'"input_length" is {want}, but received input has shape '
                                         f"{format_shape(shape)}", fix=f"set input_length={got}")
        fixed = (shape[0], *(w if w is not None else g for w, g in zip(self.lengths, shape[1:])))
        return self.op.apply((fixed,))


_register_more(DIALECT)
_register_more(DIALECT2)
