"""The numpy forward of the layers that are not conv, pooling or recurrent: dense, shape ops, embedding,
activations and normalizations, padding and resizing, merges.

Each kernel follows its own framework's definition where frameworks differ: Keras 3's ``hard_sigmoid`` is
``relu6(x + 3)/6``, tf.keras 2's and Keras 1's ``clip(0.2*x + 0.5, 0, 1)``; torch reflects a pad before it
crops and wraps a circular pad after, onnxruntime crops first; torch's resampling index arithmetic runs in
the input's float type, onnxruntime's in float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..dialects.base import Ref
from ..dialects.keras1_layers import _Checked, _Embedding1
from ..dialects.keras_layers import _InputLength, _KerasLayerNorm
from ..dialects.onnx_layers import _BatchNorm, _Gemm, _LayerNorm, _Transpose
from ..dialects.spatial import _Interpolate, _OnnxPad, _OnnxResize
from ..dialects.torch_layers import _Unflatten
from ..errors import ShapesmithError
from ..ops.dense import Dense
from ..ops.elementwise import Elementwise, PerPosition
from ..ops.embedding import Embedding
from ..ops.merge import Broadcast, Concatenate
from ..ops.shape import Flatten, FlattenTo2D, Permute, RepeatVector, Reshape, Squeeze, Unsqueeze
from ..ops.spatial import Pad, Resize
from .registry import KERNELS, Weights, kernel

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
ONNX_SELU_ALPHA = 1.67326319217681884765625  # the ONNX defaults are these float32 values
ONNX_SELU_GAMMA = 1.05070102214813232421875


def _floating(x: np.ndarray) -> np.ndarray:
    """Float input keeps its dtype; integer or bool input is computed in float32 (the frameworks' default)."""
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def _cast(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.asarray(w, dtype=x.dtype)


def _along(v: np.ndarray, axis: int, rank: int) -> np.ndarray:
    """A per-channel vector shaped to broadcast along ``axis`` of a ``rank``-D array."""
    shape = [1] * rank
    shape[axis] = -1
    return v.reshape(shape)


def _refuse(what: str, fix: str, expected: str | None = None) -> ShapesmithError:
    return ShapesmithError(what, expected=expected, fix=fix)


def _f32(value: float) -> float:
    """ONNX keeps float attributes in single precision: a float64 model computes with those values."""
    return float(np.float32(value))


# ----------------------------------------------------------------------------- activations
_erf = np.frompyfunc(math.erf, 1, 1)


def _sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))  # no overflow on either side


def _softplus(x, beta=1.0, threshold=20.0):
    """torch's: ``x`` where ``beta*x > threshold``, else ``log(1 + exp(beta*x))/beta``."""
    bx = x * beta
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta)


def _gelu(x):
    """``x/2 * (1 + erf(x/sqrt(2)))``."""
    return x * 0.5 * (1 + _erf(x * (1 / math.sqrt(2))).astype(x.dtype))


def _gelu_tanh(x):
    """``x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715*x**3)))``."""
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)))


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x))


def _celu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x / alpha))


def _selu(x, alpha=SELU_ALPHA, scale=SELU_SCALE):
    return scale * np.where(x > 0, x, alpha * np.expm1(x))


def _leaky(x, slope):
    return np.where(x > 0, x, x * slope)


def _hardsigmoid(x):
    """Keras 3 / torch: ``min(max(x + 3, 0), 6)/6``."""
    return np.clip(x + 3, 0, 6) / 6


def _hardswish(x):
    return x * np.clip(x + 3, 0, 6) / 6


def _hardsigmoid_legacy(x):
    """tf.keras 2 and Keras 1: ``clip(0.2*x + 0.5, 0, 1)``."""
    return np.clip(0.2 * x + 0.5, 0, 1)


def _softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _hardshrink(x, lambd=0.5):
    return np.where((x >= -lambd) & (x <= lambd), 0, x).astype(x.dtype)


def _softshrink(x, lambd=0.5):
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0)).astype(x.dtype)


def _mish(x):
    return x * np.tanh(_softplus(x))


def _glu(x, axis=-1):
    a, b = np.split(x, 2, axis=axis)
    return a * _sigmoid(b)


def _sparse_plus(x):
    return np.where(x <= -1, 0, np.where(x < 1, 0.25 * (x + 1) ** 2, x)).astype(x.dtype)


def _sparse_sigmoid(x):
    return np.where(x <= -1, 0, np.where(x >= 1, 1, 0.5 * (x + 1))).astype(x.dtype)


def _sparsemax(x, axis=-1):
    """The projection onto the simplex: ``max(x - tau, 0)``, ``tau`` from the sorted cumulative sums."""
    z = np.moveaxis(x, axis, -1)
    s = -np.sort(-z, axis=-1)
    cumsum = np.cumsum(s, axis=-1)
    r = np.arange(1, z.shape[-1] + 1, dtype=x.dtype)
    support = s - (cumsum - 1) / r > 0
    k = support.sum(axis=-1, keepdims=True)
    tau = (np.sum(np.where(support, cumsum, 0), axis=-1, keepdims=True) - 1) / k
    return np.moveaxis(np.maximum(z - tau.astype(x.dtype), 0), -1, axis)


def _squareplus(x, b=4):
    return (x + np.sqrt(x * x + b)) / 2


# Keras 3 ``keras.activations`` by name (the names of ``dialects.keras_layers.ACTIVATIONS``).
KERAS_ACTIVATIONS: dict[str, Callable] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "softplus": _softplus,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "elu": _elu,
    "celu": _celu,
    "selu": _selu,
    "gelu": _gelu,  # keras.activations.gelu(x, approximate=False)
    "exponential": np.exp,
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "mish": _mish,
    "hard_sigmoid": _hardsigmoid,
    "hard_silu": _hardswish,
    "hard_swish": _hardswish,
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "hard_shrink": _hardshrink,
    "soft_shrink": _softshrink,
    "tanh_shrink": lambda x: x - np.tanh(x),
    "leaky_relu": lambda x: _leaky(x, 0.2),
    "log_sigmoid": lambda x: -np.logaddexp(0, -x),
    "glu": _glu,
    "sparse_plus": _sparse_plus,
    "sparse_sigmoid": _sparse_sigmoid,
    "sparsemax": _sparsemax,
    "squareplus": _squareplus,
}
# TensorFlow functions passed as ``activation=tf.nn.relu``: the Keras activation they equal.
TF_FUNCTIONS = {"tf.nn.relu": "relu", "tf.nn.relu6": "relu6", "tf.nn.elu": "elu", "tf.nn.selu": "selu",
                "tf.nn.gelu": "gelu", "tf.nn.silu": "silu", "tf.nn.swish": "silu", "tf.nn.softmax": "softmax",
                "tf.nn.log_softmax": "log_softmax", "tf.nn.softplus": "softplus", "tf.math.softplus": "softplus",
                "tf.nn.softsign": "softsign", "tf.nn.sigmoid": "sigmoid", "tf.sigmoid": "sigmoid",
                "tf.math.sigmoid": "sigmoid", "tf.nn.tanh": "tanh", "tf.tanh": "tanh", "tf.math.tanh": "tanh",
                "tf.nn.leaky_relu": "leaky_relu", "tf.exp": "exponential", "tf.math.exp": "exponential",
                "tf.identity": "linear"}
ACTIVATION_MODULES = ("keras.activations.", "tf.keras.activations.", "keras.src.activations.", "activations.")


def _activation_name(name: object) -> str:
    """The Keras activation a string or a reference such as ``tf.nn.relu`` names."""
    if isinstance(name, str):
        text = name
    elif isinstance(name, Ref):
        text = name.text
        if text in TF_FUNCTIONS:
            return TF_FUNCTIONS[text]
        module = next((m for m in ACTIVATION_MODULES if text.startswith(m)), None)
        if module is None or "(" in text:
            raise _refuse(f"activation={text} is not a function shapesmith can compute",
                          expected="an activation name such as 'relu', keras.activations.relu or tf.nn.relu",
                          fix="write the activation's name as a string, or apply the layer without it")
        text = text[len(module):]
    else:
        raise _refuse(f"activation={name!r} is not an activation name", expected="a string such as 'relu'",
                      fix="write the activation's name as a string")
    if text == "threshold":
        raise _refuse("activation='threshold' needs the arguments threshold and default_value, which Keras does "
                      "not pass (calling the layer fails)", fix="use a ReLU(threshold=...) layer instead")
    if text not in KERAS_ACTIVATIONS:
        raise _refuse(f"activation={text!r} is not an activation shapesmith computes",
                      expected=f"one of {', '.join(sorted(KERAS_ACTIVATIONS))}", fix="check the name")
    return text


def activate(name: object, y: np.ndarray, framework: str = "keras") -> np.ndarray:
    """Apply the activation a layer's ``activation=`` names; ``None`` and ``'linear'`` are the identity.

    ``framework`` picks the definition where Keras versions differ (``hard_sigmoid``).
    """
    if name is None:
        return y
    key = _activation_name(name)
    y = _floating(np.asarray(y))
    if key == "hard_sigmoid" and framework in ("keras2", "keras1", "tf"):
        return _hardsigmoid_legacy(y)
    return np.asarray(KERAS_ACTIVATIONS[key](y), dtype=y.dtype)


# ----------------------------------------------------------------------------- dense
@kernel(Dense, own_activation=True)
def dense(op: Dense, x, weights: Weights, *, framework, config):
    """``y = x W + b`` over the last axis: torch ``weight (out, in)``, Keras ``kernel (in, out)``, Keras 1 ``W``."""
    x = _floating(x)
    features = x.shape[-1]
    if framework == "torch":
        w = _cast(weights.take("weight", (op.units, features)), x).T
        b = weights.take("bias", (op.units,)) if op.bias else None
    else:
        names = ("W", "b") if framework == "keras1" else ("kernel", "bias")
        w = _cast(weights.take(names[0], (features, op.units)), x)
        b = weights.take(names[1], (op.units,)) if op.bias else None
    y = x @ w
    if b is not None:
        y = y + _cast(b, x)
    return activate(config.get("activation"), y, framework)


@kernel(_Gemm)
def gemm(op: _Gemm, x, weights: Weights, *, framework, config):
    """ONNX ``Y = alpha * A' B' + beta * C`` (``'``: transposed when ``transA``/``transB``)."""
    x = _floating(x)
    name = "W" if config.get("W") is not None else "B"
    b = _cast(weights.take(name, op.b or (None, None)), x)
    a = x.T if op.trans_a else x
    b = b.T if op.trans_b else b
    if a.shape[1] != b.shape[0]:
        raise _refuse(f"Gemm: A' is {a.shape} but B' is {b.shape}", expected=f"B' with {a.shape[1]} rows",
                      fix="check transA/transB against the weight")
    y = (_f32(config.get("alpha", 1.0)) * (a @ b)).astype(x.dtype)
    if op.c is not None:
        c = weights.take("C", op.c)
    else:  # C not declared in the text: any shape that broadcasts to (M, N)
        c = weights.optional("C", (None,) * np.ndim(weights.tensors["C"])) if "C" in weights else None
    if c is not None:
        y = y + _f32(config.get("beta", 1.0)) * _cast(c, x)
    return y


# ----------------------------------------------------------------------------- shape ops
@kernel(Flatten)
def flatten(op: Flatten, x, weights, *, framework, config):
    """Merge axes ``start..end``; Keras with ``channels_first`` moves the channels last first (as Keras does)."""
    if x.ndim < op.pad_rank:
        x = x.reshape(x.shape + (1,) * (op.pad_rank - x.ndim))
    if framework in ("keras", "keras2") and config.get("data_format") == "channels_first" and x.ndim > 2:
        x = np.moveaxis(x, 1, -1)
    if x.ndim == 0:
        return x.reshape(1)
    start, end = op.start % x.ndim, op.end % x.ndim
    return x.reshape(x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


@kernel(FlattenTo2D)
def flatten_2d(op: FlattenTo2D, x, weights, *, framework, config):
    axis = op.axis % x.ndim if op.axis < 0 else op.axis
    return x.reshape(math.prod(x.shape[:axis]), math.prod(x.shape[axis:]))


@kernel(Reshape)
def reshape(op: Reshape, x, weights, *, framework, config):
    """The dims ``[start:end]`` become ``target`` (ONNX ``0`` copies the input dim; one ``-1`` takes the rest)."""
    end = x.ndim if op.end is None else op.end
    target = [x.shape[op.start + j] if op.copy_zero and t == 0 else t for j, t in enumerate(op.target)]
    return x.reshape(x.shape[:op.start] + tuple(target) + x.shape[end:])


@kernel(_Unflatten)
def unflatten(op: _Unflatten, x, weights, *, framework, config):
    dim = op.dim % x.ndim
    return x.reshape(x.shape[:dim] + op.sizes + x.shape[dim + 1:])


@kernel(Permute)
def permute(op: Permute, x, weights, *, framework, config):
    return np.transpose(x, op.perm)


@kernel(_Transpose)
def transpose(op: _Transpose, x, weights, *, framework, config):
    return np.transpose(x, op.perm)  # None reverses the axes, as ONNX's default


@kernel(RepeatVector)
def repeat_vector(op: RepeatVector, x, weights, *, framework, config):
    return np.repeat(x[:, None, :], op.n, axis=1)


@kernel(Squeeze)
def squeeze(op: Squeeze, x, weights, *, framework, config):
    if op.axes is None:
        return x.reshape(tuple(d for d in x.shape if d != 1))
    return np.squeeze(x, axis=tuple(a % x.ndim for a in op.axes))


@kernel(Unsqueeze)
def unsqueeze(op: Unsqueeze, x, weights, *, framework, config):
    rank = x.ndim + len(op.axes)
    return np.expand_dims(x, tuple(sorted(a % rank for a in op.axes)))


@kernel(_Checked, own_activation=True)
def keras1_checked(op: _Checked, x, weights, *, framework, config):
    """Keras 1's input checks are the shape engine's; the values are the wrapped op's."""
    return KERNELS[type(op.op)](op.op, x, weights, framework=framework, config=config)


# ----------------------------------------------------------------------------- embedding
@kernel(Embedding)
def embedding(op: Embedding, x, weights: Weights, *, framework, config):
    """Row ``i`` of the table for each index ``i``; torch ``max_norm`` rescales the rows it looks up."""
    name = {"torch": "weight", "keras1": "W"}.get(framework, "embeddings")
    table = weights.take(name, (op.num, op.dim))
    if x.dtype.kind not in "iu":
        if framework == "torch" or x.dtype.kind != "f":
            raise _refuse(f"Embedding received {x.dtype} indices", expected="an integer array (torch.long)",
                          fix="convert the indices with x.astype(np.int64)")
        x = x.astype(np.int32)  # Keras casts float indices to int32 (truncation)
    if x.size and (x.min() < 0 or x.max() >= op.num):
        raise _refuse(f"Embedding: the indices range over [{x.min()}, {x.max()}]",
                      expected=f"indices in [0, {op.num - 1}]", fix="check the vocabulary size (num_embeddings)")
    rows = table[x.astype(np.intp)]
    if framework == "torch" and config.get("max_norm") is not None:
        p = config.get("norm_type", 2.0)
        norms = np.linalg.norm(rows, ord=p, axis=-1, keepdims=True) if p not in (np.inf, -np.inf) else \
            np.max(np.abs(rows), axis=-1, keepdims=True)
        max_norm = config["max_norm"]
        rows = np.where(norms > max_norm, rows * (max_norm / (norms + 1e-7)), rows).astype(table.dtype)
    return rows


@kernel(_InputLength, _Embedding1)
def embedding_wrapped(op, x, weights, *, framework, config):
    """``input_length`` only checks shapes."""
    return embedding(op.op, x, weights, framework=framework, config=config)


# ----------------------------------------------------------------------------- normalization
def _normalize(x, mean, var, eps, gamma=None, beta=None):
    """``(x - mean)/sqrt(var + eps) * gamma + beta``."""
    y = (x - mean) / np.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y.astype(x.dtype)


def _moments(x, axes):
    """Mean and biased variance over ``axes``, kept for broadcasting."""
    mean = np.mean(x, axis=axes, keepdims=True)
    return mean, np.mean(np.square(x - mean), axis=axes, keepdims=True)


def _torch_batchnorm(op, x, w: Weights, config):
    """Eval mode: the running statistics; without them (``track_running_stats=False``), the batch's."""
    x = _floating(x)
    c = x.shape[1]
    gamma = beta = None
    if config["affine"]:
        gamma, beta = (_along(_cast(w.take(n, (c,)), x), 1, x.ndim) for n in ("weight", "bias"))
    if config["track_running_stats"]:
        mean, var = (_along(_cast(w.take(n, (c,)), x), 1, x.ndim) for n in ("running_mean", "running_var"))
        w.optional("num_batches_tracked", ())
    else:
        mean, var = _moments(x, tuple(a for a in range(x.ndim) if a != 1))
    return _normalize(x, mean, var, config["eps"], gamma, beta)


def _torch_layernorm(op, x, w: Weights, config):
    x = _floating(x)
    ns = config["normalized_shape"]
    ns = tuple(ns) if isinstance(ns, tuple) else (ns,)
    gamma = beta = None
    if config["elementwise_affine"]:
        gamma = _cast(w.take("weight", ns), x)
        beta = _cast(w.take("bias", ns), x) if config["bias"] else None
    mean, var = _moments(x, tuple(range(x.ndim - len(ns), x.ndim)))
    return _normalize(x, mean, var, config["eps"], gamma, beta)


def _group_stats(x, axis: int, groups: int):
    """Per sample and group of channels (on ``axis``): the mean and biased variance, broadcast to ``x``."""
    shape = x.shape
    grouped = x.reshape(shape[:axis] + (groups, shape[axis] // groups) + shape[axis + 1:])
    axes = tuple(a for a in range(1, grouped.ndim) if a != axis)
    mean, var = _moments(grouped, axes)
    expand = lambda v: np.broadcast_to(v, grouped.shape).reshape(shape)  # noqa: E731
    return expand(mean), expand(var)


def _torch_groupnorm(op, x, w: Weights, config):
    x = _floating(x)
    c = config["num_channels"]
    mean, var = _group_stats(x, 1, config["num_groups"])
    gamma = beta = None
    if config["affine"]:
        gamma, beta = (_along(_cast(w.take(n, (c,)), x), 1, x.ndim) for n in ("weight", "bias"))
    return _normalize(x, mean, var, config["eps"], gamma, beta)


def _keras_batchnorm(op, x, w: Weights, config, framework):
    """Inference: the moving statistics (Keras 1 calls the variance ``running_std``)."""
    x = _floating(x)
    axis = config["axis"]
    axis = (axis[0] if isinstance(axis, tuple) else axis) % x.ndim
    c = x.shape[axis]
    keras1 = framework == "keras1"
    if keras1 and config["mode"] != 0:
        raise _refuse(f"Keras 1 BatchNormalization mode={config['mode']} normalizes with statistics of the input "
                      "itself, which shapesmith does not compute", fix="use mode=0 (the running statistics)")
    if not keras1 and config.get("renorm"):
        for name in ("moving_stddev", "renorm_mean", "renorm_stddev"):  # training-only statistics
            w.optional(name, (c,))
    vec = lambda name: _along(_cast(w.take(name, (c,)), x), axis, x.ndim)  # noqa: E731
    gamma = vec("gamma") if keras1 or config["scale"] else None
    beta = vec("beta") if keras1 or config["center"] else None
    names = ("running_mean", "running_std") if keras1 else ("moving_mean", "moving_variance")
    return _normalize(x, vec(names[0]), vec(names[1]), config["epsilon"], gamma, beta)


def _keras_groupnorm(op, x, w: Weights, config):
    x = _floating(x)
    axis = config["axis"] % x.ndim
    c = x.shape[axis]
    groups = c if config["groups"] == -1 else config["groups"]
    mean, var = _group_stats(x, axis, groups)
    gamma = _along(_cast(w.take("gamma", (c,)), x), axis, x.ndim) if config["scale"] else None
    beta = _along(_cast(w.take("beta", (c,)), x), axis, x.ndim) if config["center"] else None
    return _normalize(x, mean, var, config["epsilon"], gamma, beta)


@kernel(_KerasLayerNorm)
def keras_layernorm(op: _KerasLayerNorm, x, weights: Weights, *, framework, config):
    """Over ``axis``: gamma and beta have the shape of those axes; ``rms_scaling`` divides by
    ``sqrt(var + eps)`` without centering (Keras' own definition) and has no beta."""
    x = _floating(x)
    axis = config["axis"]
    axes = tuple(sorted(a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,))))
    shape = tuple(x.shape[a] for a in axes)
    full = tuple(x.shape[a] if a in axes else 1 for a in range(x.ndim))
    rms = config.get("rms_scaling", False)
    gamma = _cast(weights.take("gamma", shape), x).reshape(full) if config["scale"] or rms else None
    beta = _cast(weights.take("beta", shape), x).reshape(full) if config["center"] and not rms else None
    mean, var = _moments(x, axes)
    if rms:
        y = x / np.sqrt(var + config["epsilon"])
        return (y if gamma is None else y * gamma).astype(x.dtype)
    return _normalize(x, mean, var, config["epsilon"], gamma, beta)


@kernel(_BatchNorm)
def onnx_batchnorm(op: _BatchNorm, x, weights: Weights, *, framework, config):
    """``(X - input_mean)/sqrt(input_var + epsilon) * scale + B`` per channel (axis 1; a 1-D input is one channel)."""
    x = _floating(x)
    a = x if x.ndim > 1 else x[:, None]
    c = a.shape[1]
    scale, bias, mean, var = (_along(_cast(weights.take(n, (c,)), a), 1, a.ndim)
                              for n in ("scale", "B", "input_mean", "input_var"))
    return _normalize(a, mean, var, _f32(config["epsilon"]), scale, bias).reshape(x.shape)


@kernel(_LayerNorm)
def onnx_layernorm(op: _LayerNorm, x, weights: Weights, *, framework, config):
    x = _floating(x)
    j = op.axis % x.ndim
    shape = x.shape[j:]
    scale = _cast(weights.take("Scale", shape), x)
    bias = _cast(weights.take("B", shape), x) if op.bias else None
    mean, var = _moments(x, tuple(range(j, x.ndim)))
    return _normalize(x, mean, var, _f32(config["epsilon"]), scale, bias)


# ----------------------------------------------------------------------------- elementwise layers
def _identity(op, x, w, config):
    return x


def _torch_softmax(fn):
    def apply(op, x, w, config):
        x = _floating(x)
        dim = config.get("dim")
        if op.kind == "Softmax2d":
            dim = -3
        elif dim is None:  # torch's legacy implicit dim
            dim = 0 if x.ndim in (0, 1, 3) else 1
        return fn(x, dim % x.ndim)
    return apply


def _torch_prelu(op, x, w: Weights, config):
    x = _floating(x)
    n = config["num_parameters"]
    slope = _cast(w.take("weight", (n,)), x)
    if n > 1:
        slope = _along(slope, 1, x.ndim)
    return np.where(x > 0, x, slope * x).astype(x.dtype)


def _hardtanh(x, config):
    lo = config["min_val"] if config["min_value"] is None else config["min_value"]
    hi = config["max_val"] if config["max_value"] is None else config["max_value"]
    return np.clip(x, lo, hi)


def _act(fn):
    """An elementwise layer ``fn(x, config)`` on float input."""
    def apply(op, x, w, config):
        x = _floating(x)
        return np.asarray(fn(x, config), dtype=x.dtype)
    return apply


TORCH_LAYERS: dict[str, Callable] = {
    "ReLU": _act(lambda x, a: np.maximum(x, 0)),
    "ReLU6": _act(lambda x, a: np.clip(x, 0, 6)),
    "LeakyReLU": _act(lambda x, a: _leaky(x, a["negative_slope"])),
    "GELU": _act(lambda x, a: _gelu_tanh(x) if a["approximate"] == "tanh" else _gelu(x)),
    "Sigmoid": _act(lambda x, a: _sigmoid(x)),
    "Tanh": _act(lambda x, a: np.tanh(x)),
    "ELU": _act(lambda x, a: _elu(x, a["alpha"])),
    "CELU": _act(lambda x, a: _celu(x, a["alpha"])),
    "SELU": _act(lambda x, a: _selu(x)),
    "SiLU": _act(lambda x, a: x * _sigmoid(x)),
    "Mish": _act(lambda x, a: _mish(x)),
    "Hardswish": _act(lambda x, a: _hardswish(x)),
    "Hardsigmoid": _act(lambda x, a: _hardsigmoid(x)),
    "Hardtanh": _act(_hardtanh),
    "Softplus": _act(lambda x, a: _softplus(x, a["beta"], a["threshold"])),
    "Softsign": _act(lambda x, a: x / (1 + np.abs(x))),
    "Tanhshrink": _act(lambda x, a: x - np.tanh(x)),
    "LogSigmoid": _act(lambda x, a: -np.logaddexp(0, -x)),
    "Hardshrink": _act(lambda x, a: _hardshrink(x, a["lambd"])),
    "Softshrink": _act(lambda x, a: _softshrink(x, a["lambd"])),
    "Threshold": _act(lambda x, a: np.where(x > a["threshold"], x, a["value"])),
    "RReLU": _act(lambda x, a: np.where(x >= 0, x, x * ((a["lower"] + a["upper"]) / 2))),  # eval: the mean slope
    "Softmax": _torch_softmax(_softmax),
    "LogSoftmax": _torch_softmax(_log_softmax),
    "Softmin": _torch_softmax(lambda x, dim: _softmax(-x, dim)),
    "Softmax2d": _torch_softmax(_softmax),
    "PReLU": _torch_prelu,
    "BatchNorm1d": _torch_batchnorm,
    "BatchNorm2d": _torch_batchnorm,
    "BatchNorm3d": _torch_batchnorm,
    "LayerNorm": _torch_layernorm,
    "GroupNorm": _torch_groupnorm,
    **dict.fromkeys(("Identity", "Dropout", "AlphaDropout", "FeatureAlphaDropout", "Dropout1d", "Dropout2d",
                     "Dropout3d"), _identity),  # dropout is the identity at inference
}


def _keras_relu(x, a):
    """``keras.activations.relu(x, negative_slope, max_value, threshold)``, step for step."""
    slope, top, threshold = a["negative_slope"], a["max_value"], a["threshold"]
    if slope != 0 and top is None and threshold == 0:
        return _leaky(x, slope)
    negative = np.maximum(-x + threshold, 0) if slope != 0 else 0
    y = np.where(x > threshold, x, 0) if threshold != 0 else np.maximum(x, 0)
    if top is not None:
        y = np.clip(y, 0, top)
    return (y - slope * negative).astype(x.dtype)


def _keras_softmax(op, x, w, config):
    x = _floating(x)
    axis = config["axis"]
    if isinstance(axis, tuple):
        axis = tuple(a % x.ndim for a in axis)
        return np.exp(x - _logsumexp(x, axis)).astype(x.dtype)
    return _softmax(x, axis)


def _logsumexp(x, axis):
    top = np.max(x, axis=axis, keepdims=True)
    return top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))


KERAS_LAYERS: dict[str, Callable] = {
    "ReLU": _act(_keras_relu),
    "LeakyReLU": _act(lambda x, a: _leaky(x, a["negative_slope"] if a.get("alpha") is None else a["alpha"])),
    "ELU": _act(lambda x, a: _elu(x, a["alpha"])),
    "Softmax": _keras_softmax,
    "Rescaling": _act(lambda x, a: x * a["scale"] + a["offset"]),
    "Activation": _identity,  # the activation itself is applied after, as for every layer's activation=
    **dict.fromkeys(("Dropout", "AlphaDropout", "GaussianDropout", "GaussianNoise", "SpatialDropout1D",
                     "SpatialDropout2D", "SpatialDropout3D"), _identity),
}


def _onnx(name, default):
    """An ONNX float attribute (stored as float32); ``None`` in the layer's config means the operator's default."""
    return lambda a: _f32(default if a.get(name) is None else a[name])



def _hardmax(x, axis):
    axis %= x.ndim
    index = np.expand_dims(np.argmax(x, axis=axis), axis)
    out = np.zeros_like(x)
    np.put_along_axis(out, index, 1, axis=axis)
    return out


ONNX_LAYERS: dict[str, Callable] = {
    "Relu": _act(lambda x, a: np.maximum(x, 0)),
    "Sigmoid": _act(lambda x, a: _sigmoid(x)),
    "Tanh": _act(lambda x, a: np.tanh(x)),
    "LeakyRelu": _act(lambda x, a: _leaky(x, _onnx("alpha", 0.01)(a))),
    "Elu": _act(lambda x, a: _elu(x, _onnx("alpha", 1.0)(a))),
    "Selu": _act(lambda x, a: _selu(x, _onnx("alpha", ONNX_SELU_ALPHA)(a), _onnx("gamma", ONNX_SELU_GAMMA)(a))),
    "Softplus": _act(lambda x, a: np.logaddexp(0, x)),
    "Softsign": _act(lambda x, a: x / (1 + np.abs(x))),
    "HardSigmoid": _act(lambda x, a: np.clip(_onnx("alpha", 0.2)(a) * x + _onnx("beta", 0.5)(a), 0, 1)),
    "HardSwish": _act(lambda x, a: x * np.clip(x / 6 + 0.5, 0, 1)),
    "Gelu": _act(lambda x, a: _gelu_tanh(x) if a.get("approximate") == "tanh" else _gelu(x)),
    "Mish": _act(lambda x, a: _mish(x)),
    "Softmax": _act(lambda x, a: _softmax(x, a["axis"])),
    "LogSoftmax": _act(lambda x, a: _log_softmax(x, a["axis"])),
    "Hardmax": _act(lambda x, a: _hardmax(x, a["axis"])),
    "Identity": _identity,
    "Dropout": _identity,
}

KERAS1_LAYERS: dict[str, Callable] = {"Activation": _identity, "Dropout": _identity}


@kernel(Elementwise, own_activation=True)
def elementwise(op: Elementwise, x, weights: Weights, *, framework, config):
    """Activation, dropout and normalization layers, by the framework's layer type."""
    if op.kind == "BatchNormalization" and framework in ("keras", "keras2", "keras1"):
        y = _keras_batchnorm(op, x, weights, config, framework)
    elif op.kind == "GroupNormalization":
        y = _keras_groupnorm(op, x, weights, config)
    else:
        table = {"torch": TORCH_LAYERS, "keras": KERAS_LAYERS, "keras2": KERAS_LAYERS, "keras1": KERAS1_LAYERS,
                 "onnx": ONNX_LAYERS}.get(framework, {})
        if op.kind not in table:
            raise _refuse(f"{op.kind} ({framework}) has no numpy forward yet", fix="compute it in the framework")
        y = table[op.kind](op, x, weights, config)
    return activate(config.get("activation"), y, framework)


@kernel(PerPosition)
def keras_prelu(op: PerPosition, x, weights: Weights, *, framework, config):
    """``relu(x) - alpha * relu(-x)``, ``alpha`` of the input's shape without the batch, 1 on shared axes."""
    x = _floating(x)
    shape = tuple(1 if j + 1 in op.shared else d for j, d in enumerate(x.shape[1:]))
    alpha = _cast(weights.take("alpha", shape), x)
    return (np.maximum(x, 0) - alpha * np.maximum(-x, 0)).astype(x.dtype)


# ----------------------------------------------------------------------------- padding
def _pad_axis(x, axis: int, begin: int, end: int, mode: str, value: float, crop_first: bool) -> np.ndarray:
    """Pad ``begin``/``end`` cells on ``axis`` (negative: crop). ``crop_first``: crop, then pad the rest."""
    def crop(a):
        n = a.shape[axis]
        return np.take(a, np.arange(max(-begin, 0), n - max(-end, 0)), axis=axis)

    def pad(a):
        lo, hi = max(begin, 0), max(end, 0)
        if not lo and not hi:
            return a
        n = a.shape[axis]
        if mode == "constant":
            widths = [(0, 0)] * a.ndim
            widths[axis] = (lo, hi)
            return np.pad(a, widths, constant_values=np.asarray(value).astype(a.dtype))
        j = np.arange(-lo, n + hi)
        if mode == "replicate":
            j = np.clip(j, 0, n - 1)
        elif mode == "reflect":
            j = np.abs(j)
            j = np.where(j > n - 1, 2 * (n - 1) - j, j)
        else:  # circular
            j = j % n
        return np.take(a, j, axis=axis)

    return pad(crop(x)) if crop_first else crop(pad(x))


def _pad(x, pads, axes, mode, value, crop_first):
    for axis, (begin, end) in zip(axes, pads):
        x = _pad_axis(x, axis, begin, end, mode, value, crop_first)
    return x


@kernel(Pad)
def pad(op: Pad, x, weights, *, framework, config):
    """torch ``F.pad`` (the last axes; constant and circular crop first, reflect and replicate after) and
    Keras ``ZeroPadding``/``Cropping`` (zeros; the crops are given as positive amounts)."""
    n = len(op.pads)
    first = x.ndim - n if op.first is None else op.first
    pads = tuple((-b, -e) for b, e in op.pads) if op.crop else op.pads
    value = config.get("value", 0.0) if framework == "torch" else 0.0
    crop_first = op.crop_first or op.mode == "circular"
    return _pad(x, pads, range(first, first + n), op.mode, value, crop_first)


@kernel(_OnnxPad)
def onnx_pad(op: _OnnxPad, x, weights, *, framework, config):
    """``pads = [x1_begin, ..., x1_end, ...]`` over ``axes``; onnxruntime crops the negative pads first."""
    axes = [a % x.ndim for a in (op.axes if op.axes is not None else range(x.ndim))]
    n = len(axes)
    pads = [(op.pads[k], op.pads[n + k]) for k in range(n)]
    value = config.get("constant_value") or 0.0
    return _pad(x, pads, axes, op.mode, value, crop_first=True)


# ----------------------------------------------------------------------------- resizing
def _resample(x, axis: int, index: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Output ``j`` on ``axis`` is ``sum_k weight[j, k] * x[index[j, k]]`` (``weight=None``: ``x[index[j]]``)."""
    if weight is None:
        return np.take(x, index, axis=axis)
    taken = np.take(x, index, axis=axis)  # (..., out, k, ...)
    shape = weight.shape + (1,) * (x.ndim - axis - 1)
    return np.sum(taken * weight.reshape(shape).astype(x.dtype), axis=axis + 1)


def _linear_taps(src, n_in: int, dtype):
    """Two taps around each source coordinate (already clamped below at 0), as torch's ``guard_index_and_lambda``."""
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam1 = np.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    i1 = i0 + (i0 < n_in - 1)
    return np.stack([i0, i1], 1), np.stack([(1 - lam1).astype(dtype), lam1], 1)


def _cubic_weights(t, a: float, dtype):
    """Keys' cubic convolution weights of the 4 taps at offsets -1, 0, 1, 2 for the fraction ``t``."""
    def near(s):  # |s| <= 1
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):  # 1 < |s| < 2
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a
    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1).astype(dtype)


def _torch_nearest(n_in: int, n_out: int, scale: float | None, exact: bool, dtype, rank: int) -> np.ndarray:
    """The source index of each output cell of ``nearest`` / ``nearest-exact``, as torch's CPU kernels round it:
    the 2-D kernel in float32 (``nearest`` with its same-size and 2x shortcuts), the 1-D/3-D one in the input's
    type, floored in float32 (``nearest-exact``: ``s*(j + 0.5) - 0.5`` fused, then rounded half up)."""
    j = np.arange(n_out)
    f32 = np.float32
    if rank == 2:
        s = f32(1.0 / scale) if scale else f32(n_in) / f32(n_out)
        if exact:
            src = np.floor((j.astype(f32) + f32(0.5)) * s)
        elif n_out == n_in:
            return j
        elif n_out == 2 * n_in:
            return j >> 1
        else:
            src = np.floor(j.astype(f32) * s)
    else:
        f = np.dtype(dtype).type
        s = f(1.0 / scale) if scale else f(n_in) / f(n_out)
        if exact:
            r = (np.float64(s) * (j + 0.5) - 0.5).astype(dtype)  # one rounding, as the fused multiply-add
            src = np.floor((r + 0.5).astype(f32))
        else:
            src = np.floor((j.astype(dtype) * s).astype(f32))  # floorf: the product rounded to float32 first
    return np.minimum(src.astype(np.int64), n_in - 1)


def _torch_axis(n_in: int, n_out: int, scale: float | None, mode: str, align: bool, dtype):
    """Taps and weights of ``F.interpolate`` on one axis; the arithmetic in the input's float type (opmath)."""
    f = np.dtype(dtype).type
    j = np.arange(n_out)
    if mode == "area":
        starts = (j * n_in) // n_out
        ends = -((-(j + 1) * n_in) // n_out)
        width = int(np.max(ends - starts))
        taps = starts[:, None] + np.arange(width)
        inside = taps < ends[:, None]
        weight = np.where(inside, 1 / (ends - starts)[:, None], 0).astype(dtype)
        return np.minimum(taps, n_in - 1), weight
    if align:
        s = f(n_in - 1) / f(n_out - 1) if n_out > 1 else f(0)
        src = s * j.astype(dtype)
    else:
        s = f(1.0 / scale) if scale else f(n_in) / f(n_out)
        src = s * (j.astype(dtype) + f(0.5)) - f(0.5)
    if mode == "bicubic":
        i = np.floor(src).astype(np.int64)
        taps = np.clip(i[:, None] + np.arange(-1, 3), 0, n_in - 1)
        return taps, _cubic_weights(src - i.astype(dtype), -0.75, dtype)
    if n_out == n_in:
        return j[:, None], np.ones((n_out, 1), dtype)
    return _linear_taps(np.maximum(src, 0), n_in, dtype)


@kernel(_Interpolate)
def interpolate(op: _Interpolate, x, weights, *, framework, config):
    """``nn.Upsample`` / ``F.interpolate``: ``size`` or ``floor(i*scale_factor)`` per spatial axis; the
    coordinates use ``1/scale_factor`` unless ``recompute_scale_factor`` (then ``in/out``).
    ``UpsamplingBilinear2d`` aligns the corners."""
    x = _floating(x) if op.mode != "nearest" else x
    n = x.ndim - 2
    mode = "bicubic" if op.mode == "bicubic" else "linear" if op.mode in ("linear", "bilinear", "trilinear") \
        else op.mode
    sizes = op.size if isinstance(op.size, tuple) else (op.size,) * n
    scales = op.scale if isinstance(op.scale, tuple) else (op.scale,) * n
    dtype = x.dtype if x.dtype.kind == "f" else np.float32
    align = op.who == "UpsamplingBilinear2d" or bool(config.get("align_corners"))
    for k in range(n):
        axis = k + 2
        n_in = x.shape[axis]
        if op.size is not None:
            n_out, scale = sizes[k], None
        else:
            n_out = math.floor(n_in * scales[k])
            scale = None if config.get("recompute_scale_factor") else scales[k]
        if mode in ("nearest", "nearest-exact"):
            index, weight = _torch_nearest(n_in, n_out, scale, mode == "nearest-exact", dtype, n), None
        else:
            index, weight = _torch_axis(n_in, n_out, scale, mode, align, dtype)
        x = _resample(x, axis, index, weight)
    return x


@kernel(Resize)
def upsample(op: Resize, x, weights, *, framework, config):
    """Keras ``UpSampling1D/2D/3D``: ``nearest`` repeats each cell; Keras 3's ``bilinear`` is a half-pixel
    resize to ``size*i`` (``ops.image.resize``)."""
    interpolation = str(config.get("interpolation", "nearest")).lower()
    first = op.first if op.first is not None else x.ndim - len(op.scales)
    if interpolation == "nearest":
        for k, s in enumerate(op.scales):
            x = np.repeat(x, int(s), axis=first + k)
        return x
    if interpolation != "bilinear":
        raise _refuse(f"UpSampling2D interpolation={interpolation!r} is not computed by shapesmith (its definition "
                      "differs between Keras backends)", fix="use 'nearest' or 'bilinear'")
    x = _floating(x)
    for k, s in enumerate(op.scales):
        axis = first + k
        index, weight = _torch_axis(x.shape[axis], x.shape[axis] * int(s), None, "linear", False, x.dtype)
        x = _resample(x, axis, index, weight)
    return x


def _onnx_source(j, n_in: int, n_out: int, scale, mode: str):
    """onnxruntime's coordinate transform of output index ``j`` (float32 arithmetic, as its C++)."""
    f = np.float32
    j = j.astype(f)
    if mode == "half_pixel":
        return (j + f(0.5)) / scale - f(0.5)
    if mode == "pytorch_half_pixel":
        return (j + f(0.5)) / scale - f(0.5) if n_out > 1 else np.zeros_like(j)
    if mode == "align_corners":
        return np.zeros_like(j) if n_out == 1 else j * f(n_in - 1) / f(n_out - 1)
    if mode == "asymmetric":
        return j / scale
    if mode == "tf_half_pixel_for_nn":
        return (j + f(0.5)) / scale
    if mode == "half_pixel_symmetric":  # the offset in float32, the rest in double (0.5 is a double literal there)
        offset = f(n_in) / f(2) * (f(1) - f(n_out) / (scale * f(n_in)))
        return (np.float64(offset) + (j.astype(np.float64) + 0.5) / np.float64(scale) - 0.5).astype(f)
    raise _refuse(f"Resize coordinate_transformation_mode={mode!r} is not computed by shapesmith",
                  fix="use half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn or "
                      "half_pixel_symmetric")


def _round_half_away(v):
    """C's ``std::round``: halves away from zero (numpy rounds them to even)."""
    return np.sign(v) * np.floor(np.abs(v.astype(np.float64)) + 0.5)


def _onnx_round(src, rule: str):
    """onnxruntime's ``nearest_mode``."""
    if rule == "round_prefer_floor":
        return np.where(src == np.trunc(src) + np.float32(0.5), np.trunc(src), _round_half_away(src))
    if rule == "round_prefer_ceil":
        return _round_half_away(src)
    if rule == "floor":
        return np.floor(src)
    if rule == "ceil":
        return np.ceil(src)
    raise _refuse(f"Resize nearest_mode={rule!r}", expected="round_prefer_floor, round_prefer_ceil, floor or ceil",
                  fix="use one of those")


@kernel(_OnnxResize)
def onnx_resize(op: _OnnxResize, x, weights, *, framework, config):
    """ONNX ``Resize`` with onnxruntime's arithmetic: nearest (``nearest_mode``), linear (coordinates clamped
    to the input) and cubic (``cubic_coeff_a``, ``exclude_outside``), every ``coordinate_transformation_mode``
    but ``tf_crop_and_resize``."""
    if config.get("antialias"):
        raise _refuse("Resize antialias=1 is not computed by shapesmith", fix="use antialias=0")
    mode = config.get("mode", "nearest")
    transform = config.get("coordinate_transformation_mode", "half_pixel")
    x = x if mode == "nearest" else _floating(x)
    f = np.float32
    if op.scales is not None:
        sizes = [int(f(s) * f(n)) for s, n in zip(op.scales, x.shape)]
        scales = [f(s) for s in op.scales]
    else:
        sizes = list(op.sizes)
        scales = [f(o) / f(n) for o, n in zip(sizes, x.shape)]
    if tuple(sizes) == x.shape:  # onnxruntime copies the input when no size changes
        return x.copy()
    for axis, (n_out, scale) in enumerate(zip(sizes, scales)):
        n_in = x.shape[axis]
        if scale == 1:  # an axis of scale 1 is copied, whatever the transform
            continue
        src = _onnx_source(np.arange(n_out), n_in, n_out, scale, transform)
        if mode == "nearest":
            index = np.clip(_onnx_round(src, config.get("nearest_mode", "round_prefer_floor")), 0, n_in - 1)
            x = _resample(x, axis, index.astype(np.int64), None)
        elif mode == "linear":
            x = _resample(x, axis, *_linear_taps(np.clip(src, 0, n_in - 1), n_in, x.dtype))
        else:
            i = np.floor(src).astype(np.int64)
            taps = i[:, None] + np.arange(-1, 3)
            weight = _cubic_weights(src - i.astype(f), config.get("cubic_coeff_a", -0.75), np.float64)
            if config.get("exclude_outside"):
                weight = np.where((taps >= 0) & (taps < n_in), weight, 0)
                weight = weight / weight.sum(axis=1, keepdims=True)
            x = _resample(x, axis, np.clip(taps, 0, n_in - 1), weight.astype(x.dtype))
    return x


# ----------------------------------------------------------------------------- merges
def _keras_ranks(inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Keras merges give lower-rank inputs size-1 axes at position 1 (after the batch), not in front."""
    rank = max(a.ndim for a in inputs)
    return [a.reshape(a.shape[:1] + (1,) * (rank - a.ndim) + a.shape[1:]) if a.ndim < rank else a for a in inputs]


def _divide(a, b):
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        q = np.abs(a) // np.abs(b)  # ONNX integer Div truncates toward zero
        return (np.sign(a) * np.sign(b) * q).astype(np.result_type(a, b))
    return a / b


MERGES: dict[str, Callable] = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
                               "maximum": np.maximum, "minimum": np.minimum, "average": np.add,
                               "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": _divide}


@kernel(Broadcast)
def merge(op: Broadcast, inputs, weights, *, framework, config):
    """Keras ``Add``/``Subtract``/``Multiply``/``Average``/``Maximum``/``Minimum`` (left to right) and ONNX
    ``Add``/``Sub``/``Mul``/``Div`` (numpy broadcasting)."""
    arrays = _keras_ranks(list(inputs)) if framework in ("keras", "keras2") else list(inputs)
    out = arrays[0]
    for a in arrays[1:]:
        out = MERGES[op.kind](out, a)
    if op.kind == "average":
        out = out / len(arrays)
    return np.asarray(out)


@kernel(Concatenate)
def concatenate(op: Concatenate, inputs, weights, *, framework, config):
    return np.concatenate(list(inputs), axis=op.axis)
