"""Keras 3 (``keras``) and tf.keras 2 (``keras2``): ``Conv2D(8, 3, strides=2, padding="same")``.

Channels-last by default. Keras' own rules kept here: ``valid``/``same``/``causal``
(causal: Conv1D only, ``d*(k-1)`` cells on the left), strides > 1 with dilation > 1 refused,
and the transposed conv's two branches: ``output_padding=None`` gives ``i*s`` (same) or
``i*s + max(eff - s, 0)`` (valid); an int gives ``(i-1)*s + eff + op`` (valid) or
``(i-1)*s + eff - 2*(eff//2) + op`` (same), with ``op < strides``.
"""

from __future__ import annotations

import re

from .. import arith
from ..dims import Dim
from ..errors import ConfigError
from ..layer import Layer
from ..ops import SAME_UPPER, Conv, ConvTranspose, GlobalPool, Pool
from .base import Call, Dialect, Spec, as_bool, as_choice, as_int, as_ints, as_shape_value, describe

DIALECT = Dialect("keras", ("keras.layers", "layers", "keras.src.layers"), "Keras 3", removed={
    "batch_input_shape": "start with keras.Input(batch_shape=(...)) (batch dim included), or "
                         "keras.Input(shape=(...)) without it; for tf.keras 2 code pass --framework keras2",
    "input_length": "start with keras.Input(shape=(length,)); for tf.keras 2 code pass --framework keras2"})
# tf.keras 2 code also reads ``from tensorflow.keras import layers`` and, with standalone Keras 2,
# ``keras.layers.Conv2D``: those prefixes are shared with Keras 3, which detection prefers.
DIALECT2 = Dialect("keras2", ("tf.keras.layers", "tensorflow.keras.layers", "tf_keras.layers", "keras.layers",
                              "layers"), "tf.keras 2")

# Keyword arguments every Keras layer takes besides its own.
COMMON = ("name", "dtype", "trainable", "autocast", "input_shape", "input_dim")
COMMON2 = COMMON + ("batch_input_shape", "batch_size", "weights", "dynamic")
IGNORED = ("activation", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
           "activity_regularizer", "kernel_constraint", "bias_constraint")


def _tuple(value: object, rank: int, name: str, layer: str) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)) and len(value) != rank:
        raise ConfigError(f"The `{name}` argument must be a tuple of {rank} integers. Received {name}={describe(value)}")
    values = as_ints(value, rank, name, layer=layer)
    if any(v <= 0 for v in values):
        raise ConfigError(f"The `{name}` argument must be a tuple of {rank} integers. Received {name}={describe(value)}, "
                          f"including values that do not satisfy `value > 0`", expected=f"{name} > 0")
    return values


def _channels_last(value: object, layer: str) -> bool:
    """Keras 2 and 3 lower-case ``data_format`` (``standardize_data_format`` / ``normalize_data_format``)."""
    if value is None:
        return True
    return as_choice(value, "data_format", ("channels_last", "channels_first"), layer,
                     fold_case=True) == "channels_last"


def declared_input(framework: str, a: dict, type_name: str) -> tuple[tuple[Dim, ...] | None, tuple[str, ...]]:
    """``input_shape=`` (batch excluded), ``input_dim=`` and, in Keras 2, ``batch_input_shape=``."""
    if a.get("batch_input_shape") is not None:
        return as_shape_value(a["batch_input_shape"], "batch_input_shape", type_name), ()
    if a.get("input_shape") is not None:
        shape = as_shape_value(a["input_shape"], "input_shape", type_name)
        note = "input_shape excludes the batch dim: the layer sees (None, " + ", ".join(
            "None" if d is None else str(d) for d in shape) + ")"
        if framework == "keras":
            note += "; Keras 3 prefers keras.Input(shape=...) as the first layer"
        batch = a.get("batch_size")
        return (batch if isinstance(batch, int) else None, *shape), (note,)
    if a.get("input_dim") is not None:
        return (None, as_int(a["input_dim"], "input_dim", minimum=1, layer=type_name)), ()
    return None, ()


def _conv(framework: str, rank: int, transposed: bool):
    type_name = f"Conv{rank}DTranspose" if transposed else f"Conv{rank}D"

    def build(call: Call, a: dict) -> Layer:
        _positional(call, type_name, len(params))
        filters = a["filters"]
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ConfigError(f"Invalid value for argument `filters`. Expected a strictly positive value. "
                              f"Received filters={describe(filters)}.")
        kernel = _tuple(a["kernel_size"], rank, "kernel_size", type_name)
        stride = _tuple(a["strides"], rank, "strides", type_name)
        dilation = _tuple(a["dilation_rate"], rank, "dilation_rate", type_name)
        allowed = ("valid", "same", "causal") if rank == 1 and not transposed else ("valid", "same")
        padding = a["padding"].lower() if isinstance(a["padding"], str) else a["padding"]
        if padding not in allowed:
            raise ConfigError(f"The `padding` argument must be one of {set(allowed)}. Received: {describe(a['padding'])}")
        if transposed:
            groups = 1
        elif framework == "keras2" and a["groups"] in (0, None):
            groups = 1  # tf.keras 2 Conv.__init__: ``self.groups = groups or 1``
        else:
            groups = as_int(a["groups"], "groups", minimum=1, layer=type_name)
        if filters % groups:
            raise ConfigError(f"The number of filters must be evenly divisible by the number of groups. "
                              f"Received: groups={groups}, filters={filters}.")
        check_strides_dilation(stride, dilation)
        bias = as_bool(a["use_bias"], "use_bias", type_name)
        channels_last = _channels_last(a["data_format"], type_name)
        shape, notes = declared_input(framework, a, type_name)
        notes = list(notes)
        if transposed:
            if framework == "keras2" and rank == 3 and any(d > 1 for d in dilation):
                # tf.keras 2.15 Conv3DTranspose passes no dilation to deconv_output_length nor to
                # tf.nn.conv3d_transpose: the layer is computed as if dilation_rate were 1.
                notes.append(f"tf.keras 2 Conv3DTranspose ignores dilation_rate={dilation}: the shape (and the "
                             f"computation) use dilation_rate=(1, 1, 1)")
                dilation = (1,) * rank
            op, more = _transposed(a["output_padding"], filters, kernel, stride, dilation, padding, bias)
            notes += more
        else:
            pads = conv_pads(padding, kernel, dilation, notes)
            op = Conv(filters, kernel, stride, dilation, pads, None, groups, bias)
        return Layer(framework, type_name, call.text, op, rank, channels_last=channels_last, notes=tuple(notes),
                     name=_snake(type_name), declared_input=shape,
                     back_sizes=_back_sizes(kernel, stride, dilation, padding) if transposed else None)

    if not transposed:
        middle: tuple[str, ...] = ("data_format", "dilation_rate", "groups")
    elif rank == 3 and framework == "keras":
        middle = ("data_format", "output_padding", "dilation_rate")  # Keras 3 moved data_format first here
    else:
        middle = ("output_padding", "data_format", "dilation_rate")
    params = ("filters", "kernel_size", "strides", "padding") + middle + ("activation", "use_bias") + IGNORED[1:]
    defaults = dict(strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1, groups=1,
                    use_bias=True, **{k: None for k in IGNORED})
    common = COMMON2 if framework == "keras2" else COMMON
    return Spec(type_name, params + common, {**defaults, **{k: None for k in common}}, build,
                marker=_marker(framework))


def check_strides_dilation(stride: tuple, dilation: tuple) -> None:
    if any(s > 1 for s in stride) and any(d > 1 for d in dilation):
        raise ConfigError(f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                          f"Received: strides={stride} and dilation_rate={dilation}",
                          fix="use strides=1 with dilation, or dilation_rate=1 with strides")


def conv_pads(padding: str, kernel: tuple, dilation: tuple, notes: list[str]) -> tuple:
    """Keras' valid / same (TF-SAME) / causal (``d*(k - 1)`` on the left) as canonical padding."""
    if padding == "same":
        return (SAME_UPPER,) * len(kernel)
    if padding == "causal":
        left = arith.effective_kernel(kernel[0], dilation[0]) - 1
        notes.append(f"causal: d*(k - 1) = {left} cells of padding on the left only")
        return ((left, 0),)
    return ((0, 0),) * len(kernel)


def _transposed(output_padding: object, filters: int, kernel: tuple, stride: tuple, dilation: tuple,
                padding: str, bias: bool) -> tuple[ConvTranspose, list[str]]:
    rank = len(kernel)
    effs = [arith.effective_kernel(k, d) for k, d in zip(kernel, dilation)]
    if output_padding is None:
        pads, out_pad = [], []
        for eff, s in zip(effs, stride):
            total = max(eff - s, 0) if padding == "same" else 0
            pads.append((total // 2, total - total // 2))
            out_pad.append(max(s - eff, 0))
        rule = "o = i*s" if padding == "same" else "o = i*s + max(d*(k - 1) + 1 - s, 0)"
        note = (f"output_padding=None, padding={padding!r}: Keras takes {rule} "
                f"(output_padding={tuple(out_pad)}, padding={tuple(pads)} in the general formula)")
        return ConvTranspose(filters, kernel, stride, dilation, tuple(pads), tuple(out_pad), None, 1, bias), [note]
    out_pad = as_ints(output_padding, rank, "output_padding", minimum=0)
    for axis, (op, s) in enumerate(zip(out_pad, stride)):
        if op >= s:
            raise ConfigError(f"`output_padding` must be strictly less than `strides` for all dimensions. "
                              f"At dimension {axis}, `output_padding` is {op} but `strides` is {s}. "
                              f"Received: output_padding={out_pad}, strides={stride}",
                              fix="lower output_padding, or use output_padding=None")
    # 'same' crops 2*(eff//2) cells in all; TF places the output as the gradient of a SAME conv of that size:
    # the crop before is (2*(eff//2) - op)//2, the rest after (the output_padding cells come out of it).
    pads = tuple(((2 * (eff // 2) - op) // 2, 2 * (eff // 2) - (2 * (eff // 2) - op) // 2) if padding == "same"
                 else (0, 0) for eff, op in zip(effs, out_pad))
    note = (f"output_padding={out_pad}, padding={padding!r}: Keras takes "
            + ("o = (i - 1)*s + eff - 2*(eff//2) + op" if padding == "same" else "o = (i - 1)*s + eff + op"))
    notes = [note]
    if padding == "same" and any(eff % 2 == 0 and op == 0 and s > 1 for eff, op, s in zip(effs, out_pad, stride)):
        notes.append("an even kernel with output_padding=0 gives (i - 1)*s, which a 'same' conv maps back to "
                     "i - 1, not i: output_padding=None gives i*s")
    return ConvTranspose(filters, kernel, stride, dilation, pads, out_pad, None, 1, bias), notes


def _back_sizes(kernel: tuple, stride: tuple, dilation: tuple, padding: str):
    """Sizes ``o`` whose Keras forward conv gives ``i`` (same: ``ceil(o/s) == i``; valid:
    ``ceil((o - eff + 1)/s) == i``), each with the ``output_padding`` that yields it, if any."""
    def back(op, spatial: tuple) -> list[list[tuple]]:
        out = []
        for i, k, s, d in zip(spatial, kernel, stride, dilation):
            eff = arith.effective_kernel(k, d)
            first = (i - 1) * s + 1 if padding == "same" else (i - 1) * s + eff
            base = (i - 1) * s + (eff % 2 if padding == "same" else eff)  # the output_padding=0 size
            none = i * s if padding == "same" else i * s + max(eff - s, 0)
            axis = []
            for j in range(s):
                o = first + j
                how = [f"output_padding={o - base}"] if isinstance(o - base, int) and 0 <= o - base < s else []
                how += ["output_padding=None"] if o == none else []
                axis.append((o, " or ".join(how)))
            out.append(axis)
        return out
    return back


def _pool(framework: str, rank: int, kind: str, type_name: str):
    def build(call: Call, a: dict) -> Layer:
        _positional(call, type_name, 5 if framework == "keras" else 4)  # Keras 3 added `name`
        size = _tuple(a["pool_size"], rank, "pool_size", type_name)
        stride = size if a["strides"] is None else _tuple(a["strides"], rank, "strides", type_name)
        # Keras 3 keeps ``padding`` as written: compute_output_shape (so every functional or
        # Sequential model) refuses "SAME"; tf.keras 2's normalize_padding lower-cases it.
        if framework == "keras" and isinstance(a["padding"], str) and a["padding"].lower() in ("valid", "same") \
                and a["padding"] != a["padding"].lower():
            raise ConfigError(f"Argument `padding` must be either 'valid' or 'same'. Received: padding={a['padding']}",
                              fix=f"write padding={a['padding'].lower()!r} (Keras 3 pooling layers are case-sensitive)")
        padding = as_choice(a["padding"], "padding", ("valid", "same"), type_name, fold_case=True)
        pads = (SAME_UPPER,) * rank if padding == "same" else ((0, 0),) * rank
        op = Pool(kind, size, stride, (1,) * rank, pads, count_include_pad=False)
        shape, notes = declared_input(framework, a, type_name)
        if padding == "same":
            notes += ("padded cells are ignored (max over real cells, average divides by the real count)",)
        return Layer(framework, type_name, call.text, op, rank, channels_last=_channels_last(a["data_format"], type_name),
                     notes=notes, name=_snake(type_name), declared_input=shape)

    common = COMMON2 if framework == "keras2" else COMMON
    default_size = 2 if rank == 1 else (2,) * rank
    params = ("pool_size", "strides", "padding", "data_format") + common
    defaults = {"strides": None, "padding": "valid", "data_format": None, **{k: None for k in common}}
    if not (framework == "keras" and kind == "avg"):  # Keras 3 AveragePoolingND has no default pool_size
        defaults["pool_size"] = default_size
    return Spec(type_name, params, defaults, build, marker=_marker(framework))


def _global(framework: str, rank: int, kind: str, type_name: str):
    # tf.keras 2.15 GlobalAveragePooling1D.__init__(self, data_format="channels_last", **kwargs):
    # keepdims is keyword-only there
    limit = 1 if (framework == "keras2" and rank == 1 and kind == "avg") else 2

    def build(call: Call, a: dict) -> Layer:
        _positional(call, type_name, limit)
        keepdims = as_bool(a["keepdims"], "keepdims", type_name)
        shape, notes = declared_input(framework, a, type_name)
        return Layer(framework, type_name, call.text, GlobalPool(kind, rank, keepdims), rank,
                     channels_last=_channels_last(a["data_format"], type_name), notes=notes,
                     name=_snake(type_name), declared_input=shape)

    common = COMMON2 if framework == "keras2" else COMMON
    return Spec(type_name, ("data_format", "keepdims") + common,
                {"data_format": None, "keepdims": False, **{k: None for k in common}}, build,
                marker=_marker(framework))


def _positional(call: Call, type_name: str, limit: int) -> None:
    """The constructors end in ``**kwargs``: only their named parameters can be positional
    (``name`` and the other common arguments are keyword-only, except Keras 3 pooling's ``name``)."""
    if len(call.args) > limit:
        raise ConfigError(f"{type_name}.__init__() takes at most {limit} positional arguments but "
                          f"{len(call.args)} were given", fix="pass the extra arguments by keyword")


def _marker(framework: str) -> tuple[str, ...]:
    """Keywords that only tf.keras 2 spells: they pick keras2 when the framework is detected."""
    return ("batch_input_shape",) if framework == "keras2" else ()


def _snake(type_name: str) -> str:
    """Keras' default layer name, ``keras.src.utils.naming.to_snake_case`` (also tf.keras 2's
    ``generic_utils.to_snake_case``): ``Conv2DTranspose`` -> ``conv2d_transpose``."""
    name = re.sub(r"\W+", "", type_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _register(dialect: Dialect) -> None:
    framework = dialect.name
    for rank in (1, 2, 3):
        for transposed in (False, True):
            spec = dialect.register(_conv(framework, rank, transposed))
            dialect.specs[f"Convolution{rank}D" + ("Transpose" if transposed else "")] = spec
        for kind, long, short in (("max", "MaxPooling", "MaxPool"), ("avg", "AveragePooling", "AvgPool")):
            spec = dialect.register(_pool(framework, rank, kind, f"{long}{rank}D"))
            dialect.specs[f"{short}{rank}D"] = spec
            glob = dialect.register(_global(framework, rank, kind, f"Global{long}{rank}D"))
            dialect.specs[f"Global{short}{rank}D"] = glob


_register(DIALECT)
_register(DIALECT2)
