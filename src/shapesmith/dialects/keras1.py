"""Keras 1: ``Convolution2D(nb_filter, nb_row, nb_col, border_mode=, subsample=, dim_ordering=)``.

Keras 1's rules kept here: ``conv_output_length`` (valid, same, full; ``ceil(L/s)``) and
``conv_input_length(i, k, border_mode, s) = (i - 1)*s - 2*pad + k`` (pad ``k//2`` same, 0 valid,
``k - 1`` full), from which ``Deconvolution2D`` takes its shape: its ``output_shape`` argument only
goes to the backend's gradient op. ``dim_ordering='th'`` is channels-first; ``'default'`` came
from the user's keras.json: shapesmith reads it as ``'th'`` (the Theano default) and says so.
"""

from __future__ import annotations

from .. import arith
from ..dims import Dim, format_shape
from ..errors import ConfigError
from ..layer import Input, Layer
from ..ops import SAME_UPPER, Conv, ConvTranspose, GlobalPool, Pool
from .base import Call, Dialect, Spec, as_bool, as_choice, as_int, as_ints, as_shape_value

DIALECT = Dialect("keras1", ("keras.layers", "keras.layers.convolutional", "keras.layers.pooling"), "Keras 1")

COMMON = ("input_shape", "batch_input_shape", "input_dtype", "name", "trainable", "weights", "input_dim",
          "input_length", "init", "activation", "W_regularizer", "b_regularizer", "activity_regularizer",
          "W_constraint", "b_constraint")
MARKERS = ("border_mode", "subsample", "subsample_length", "dim_ordering", "nb_filter", "nb_row", "nb_col",
           "filter_length", "pool_length", "atrous_rate", "W_regularizer", "init", "bias")
DEFAULT_NOTE = "dim_ordering='default' comes from keras.json; read as 'th' (channels first, the Theano default)"


def _ordering(value: object, layer: str) -> tuple[bool, tuple[str, ...]]:
    """(channels_last, notes) for ``dim_ordering``."""
    ordering = as_choice(value, "dim_ordering", ("default", "th", "tf"), layer)
    return ordering == "tf", (DEFAULT_NOTE,) if ordering == "default" else ()


def _declared(a: dict, layer: str, rank: int) -> tuple[Dim, ...] | None:
    if a.get("batch_input_shape") is not None:
        return as_shape_value(a["batch_input_shape"], "batch_input_shape", layer)
    if a.get("input_shape") is not None:
        return (None, *as_shape_value(a["input_shape"], "input_shape", layer))
    if rank == 1 and a.get("input_dim") is not None:
        return (None, a.get("input_length"), as_int(a["input_dim"], "input_dim", minimum=1, layer=layer))
    return None


def _border(value: object, layer: str, allowed=("valid", "same", "full")) -> str:
    if value not in allowed:
        raise ConfigError(f"Invalid border mode for {layer}: {value!r}", expected=f"one of {', '.join(allowed)}")
    return value


def _conv_pads(mode: str, kernel: tuple, dilation: tuple) -> tuple:
    effs = [arith.effective_kernel(k, d) for k, d in zip(kernel, dilation)]
    if mode == "same":
        return (SAME_UPPER,) * len(kernel)
    if mode == "full":
        return tuple((e - 1, e - 1) for e in effs)
    return ((0, 0),) * len(kernel)


def _conv(rank: int, type_name: str, kernel_params: tuple[str, ...], stride_param: str, atrous: bool = False):
    def build(call: Call, a: dict) -> Layer:
        filters = as_int(a["nb_filter"], "nb_filter", minimum=1, layer=type_name)
        kernel = tuple(as_int(a[p], p, minimum=1, layer=type_name) for p in kernel_params)
        stride = as_ints(a[stride_param], rank, stride_param, minimum=1, layer=type_name)
        dilation = as_ints(a["atrous_rate"], rank, "atrous_rate", minimum=1, layer=type_name) if atrous else (1,) * rank
        mode = _border(a["border_mode"], type_name)
        channels_last, notes = (True, ()) if rank == 1 else _ordering(a["dim_ordering"], type_name)
        op = Conv(filters, kernel, stride, dilation, _conv_pads(mode, kernel, dilation), None, 1,
                  as_bool(a["bias"], "bias", type_name))
        if mode == "full":
            notes += ("border_mode='full': d*(k - 1) cells of padding on each side",)
        return Layer("keras1", type_name, call.text, op, rank, channels_last=channels_last, notes=notes,
                     name=type_name.lower(), declared_input=_declared(a, type_name, rank))

    params = ("nb_filter", *kernel_params, "init", "activation", "weights", "border_mode", stride_param) + (
        ("atrous_rate",) if atrous else ()) + (("dim_ordering",) if rank > 1 else ()) + (
        "W_regularizer", "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint", "bias")
    extra = tuple(c for c in COMMON if c not in params)
    defaults = {**{k: None for k in params + extra if k not in ("nb_filter", *kernel_params)},
                "border_mode": "valid", stride_param: 1, "atrous_rate": 1, "dim_ordering": "default", "bias": True}
    return Spec(type_name, params + extra, defaults, build, marker=MARKERS, primary=True)


def _deconv2d():
    type_name = "Deconvolution2D"

    def build(call: Call, a: dict) -> Layer:
        filters = as_int(a["nb_filter"], "nb_filter", minimum=1, layer=type_name)
        kernel = (as_int(a["nb_row"], "nb_row", minimum=1, layer=type_name),
                  as_int(a["nb_col"], "nb_col", minimum=1, layer=type_name))
        stride = as_ints(a["subsample"], 2, "subsample", minimum=1, layer=type_name)
        mode = _border(a["border_mode"], type_name)
        channels_last, notes = _ordering(a["dim_ordering"], type_name)
        declared = as_shape_value(a["output_shape"], "output_shape", type_name)
        if len(declared) != 4:
            raise ConfigError(f"{type_name} output_shape={format_shape(declared)} has {len(declared)} dims",
                              expected="a 4-D shape, batch dim included")
        pad = {"same": [k // 2 for k in kernel], "valid": [0, 0], "full": [k - 1 for k in kernel]}[mode]
        op = ConvTranspose(filters, kernel, stride, (1, 1), tuple((p, p) for p in pad), (0, 0), None, 1,
                           as_bool(a["bias"], "bias", type_name))
        notes += (f"Keras 1 takes the shape from conv_input_length: (i - 1)*s - 2*pad + k with pad = "
                  f"{'k//2' if mode == 'same' else '0' if mode == 'valid' else 'k - 1'} (border_mode={mode!r})",)
        return Layer("keras1", type_name, call.text, op, 2, channels_last=channels_last, notes=notes,
                     adjust=(_ignored_output_shape(declared, channels_last, mode),), name="deconvolution2d",
                     declared_input=_declared(a, type_name, 2), back_sizes=_back_sizes(mode))

    params = ("nb_filter", "nb_row", "nb_col", "output_shape", "init", "activation", "weights", "border_mode",
              "subsample", "dim_ordering", "W_regularizer", "b_regularizer", "activity_regularizer",
              "W_constraint", "b_constraint", "bias")
    extra = tuple(c for c in COMMON if c not in params)
    defaults = {**{k: None for k in params + extra if k not in ("nb_filter", "nb_row", "nb_col", "output_shape")},
                "border_mode": "valid", "subsample": (1, 1), "dim_ordering": "default", "bias": True}
    return Spec(type_name, params + extra, defaults, build, marker=MARKERS)


def _forward_sizes(i: Dim, k: int, s: int, mode: str) -> list[Dim]:
    """Sizes ``o`` with ``conv_output_length(o, k, mode, s) == i``, i.e. ``ceil(L(o)/s) == i``."""
    shift = {"valid": k - 1, "same": 0, "full": -(k - 1)}[mode]  # L(o) = o - shift
    return [(i - 1) * s + 1 + shift + j for j in range(s)]


def _back_sizes(mode: str):
    def back(op: ConvTranspose, spatial: tuple) -> list[list[tuple]]:
        out = []
        for i, k, s in zip(spatial, op.kernel, op.stride):
            computed = (i - 1) * s - 2 * {"same": k // 2, "valid": 0, "full": k - 1}[mode] + k
            out.append([(o, "the size Keras 1 computes" if o == computed else "output_shape only; "
                         "the layer still reports the computed size") for o in _forward_sizes(i, k, s, mode)])
        return out
    return back


def _ignored_output_shape(declared: tuple, channels_last: bool, mode: str):
    """Warn when ``output_shape`` differs from what Keras 1 computes, and say what the backend accepts."""
    def adjust(op: ConvTranspose, seen: Input) -> ConvTranspose:
        spatial = seen.spatial
        want = declared[1:3] if channels_last else declared[2:4]
        got = [arith.transposed(i=i, k=k, s=s, d=1, pb=pb, pe=pe, op=0)
               for i, k, s, (pb, pe) in zip(spatial, op.kernel, op.stride, op.padding)]
        if all(w is None or w == g for w, g in zip(want, got)):
            return op
        accepted = [", ".join(str(o) for o in _forward_sizes(i, k, s, mode))
                    for i, k, s in zip(spatial, op.kernel, op.stride)]
        fix = _stride_hint(want, spatial, op, mode)
        warning = (f"output_shape={format_shape(declared)} is not used to compute the shape: Keras 1 computes "
                   f"conv_input_length, which gives {format_shape(tuple(got))} for the rows and cols; output_shape only "
                   f"goes to the backend's gradient op, which accepts rows in [{accepted[0]}] and cols in "
                   f"[{accepted[1]}]{fix}")
        seen.warnings.append(warning)
        return op
    return adjust


def _stride_hint(want: tuple, spatial: tuple, op: ConvTranspose, mode: str) -> str:
    """The ``subsample`` / ``border_mode`` whose conv_input_length gives ``want``, or comes nearest
    (a constant offset for every input size)."""
    best = None
    for s in range(1, 9):
        for m in ("valid", "same", "full"):
            got = [(i - 1) * s - 2 * {"same": k // 2, "valid": 0, "full": k - 1}[m] + k
                   for i, k in zip(spatial, op.kernel)]
            gaps = [w - g for w, g in zip(want, got) if w is not None]
            if all(isinstance(g, int) for g in gaps):
                score = (sum(abs(g) for g in gaps), m != mode, s)
                if best is None or score < best[0]:
                    best = (score, s, m, got)
    if best is None or (best[1], best[2]) == (op.stride[0], mode):
        return ""
    _, s, m, got = best
    how = f"subsample=({s}, {s})" + (f", border_mode={m!r}" if m != mode else "")
    if best[0][0] == 0:
        return f"; to get it, set {how}"
    return f"; no subsample gives it exactly with this kernel; nearest: {how} gives {format_shape(tuple(got))}"


def _pool(rank: int, kind: str, type_name: str):
    size_param, stride_param = ("pool_length", "stride") if rank == 1 else ("pool_size", "strides")

    def build(call: Call, a: dict) -> Layer:
        size = as_ints(a[size_param], rank, size_param, minimum=1, layer=type_name)
        stride = size if a[stride_param] is None else as_ints(a[stride_param], rank, stride_param, minimum=1,
                                                               layer=type_name)
        mode = _border(a["border_mode"], type_name, ("valid", "same"))
        channels_last, notes = (True, ()) if rank == 1 else _ordering(a["dim_ordering"], type_name)
        pads = (SAME_UPPER,) * rank if mode == "same" else ((0, 0),) * rank
        return Layer("keras1", type_name, call.text, Pool(kind, size, stride, (1,) * rank, pads), rank,
                     channels_last=channels_last, notes=notes, name=type_name.lower(),
                     declared_input=_declared(a, type_name, rank))

    params = (size_param, stride_param, "border_mode") + (("dim_ordering",) if rank > 1 else ())
    extra = ("input_shape", "batch_input_shape", "input_dtype", "name", "trainable", "input_dim", "input_length")
    defaults = {size_param: 2 if rank == 1 else (2,) * rank, stride_param: None, "border_mode": "valid",
                "dim_ordering": "default", **{k: None for k in extra}}
    return Spec(type_name, params + extra, defaults, build, marker=MARKERS)


def _global(rank: int, kind: str, type_name: str):
    def build(call: Call, a: dict) -> Layer:
        channels_last, notes = (True, ()) if rank == 1 else _ordering(a["dim_ordering"], type_name)
        return Layer("keras1", type_name, call.text, GlobalPool(kind, rank, keepdims=False), rank,
                     channels_last=channels_last, notes=notes, name=type_name.lower(),
                     declared_input=_declared(a, type_name, rank))

    params = ("dim_ordering",) if rank > 1 else ()
    extra = ("input_shape", "batch_input_shape", "input_dtype", "name", "trainable")
    return Spec(type_name, params + extra, {"dim_ordering": "default", **{k: None for k in extra}}, build,
                marker=MARKERS)


DIALECT.register(_conv(1, "Convolution1D", ("filter_length",), "subsample_length"))
DIALECT.register(_conv(1, "AtrousConvolution1D", ("filter_length",), "subsample_length", atrous=True))
DIALECT.register(_conv(2, "Convolution2D", ("nb_row", "nb_col"), "subsample"))
DIALECT.register(_conv(2, "AtrousConvolution2D", ("nb_row", "nb_col"), "subsample", atrous=True))
DIALECT.register(_conv(3, "Convolution3D", ("kernel_dim1", "kernel_dim2", "kernel_dim3"), "subsample"))
DIALECT.register(_deconv2d())
for _rank in (1, 2, 3):
    for _kind, _long in (("max", "MaxPooling"), ("avg", "AveragePooling")):
        DIALECT.register(_pool(_rank, _kind, f"{_long}{_rank}D"))
        if _rank < 3:
            DIALECT.register(_global(_rank, _kind, f"Global{_long}{_rank}D"))
