"""TensorFlow ops: ``tf.nn.conv2d(input, filters, strides, padding)`` with tensors replaced by shapes.

``filters`` is the filter's shape ``(*k, C_in, C_out)`` (transposed: ``(*k, C_out, C_in)``);
``input`` may be given as a shape or left to ``--input``. TF's own rules kept here: strides,
ksize and dilations as 1, N or N+2 values; padding ``"SAME"``/``"VALID"`` or an explicit list of
pairs; and ``conv*_transpose``'s required ``output_shape``, which must be a size whose forward
conv gives the input: SAME ``[(i-1)*s + 1, i*s]``, VALID ``[(i-1)*s + eff, i*s + eff - 1]``.
"""

from __future__ import annotations

from .. import arith
from ..dims import Dim, format_shape
from ..errors import ConfigError, ShapeMismatchError
from ..layer import Input, Layer
from ..ops import SAME_UPPER, Conv, ConvTranspose, Pool
from .base import Call, Dialect, Spec, as_int, as_shape_value, describe

DIALECT = Dialect("tf", ("tf.nn", "tensorflow.nn", "tf.compat.v1.nn"), "TensorFlow")
FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


def _per_axis(value: object, rank: int, name: str, op: str, channels_last: bool) -> tuple[int, ...]:
    """An int, or 1, N or N+2 values (the N+2 form must be 1 on the batch and channel dims)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    for v in values:
        as_int(v, name, minimum=1, layer=op)
    if len(values) == 1:
        return values * rank
    if len(values) == rank:
        return values
    if len(values) == rank + 2:
        outer = (values[0], values[-1]) if channels_last else (values[0], values[1])
        if outer != (1, 1):
            raise ConfigError(f"{op}: {name}={describe(value)} moves along the batch or channel dim",
                              expected=f"1 for the batch and channel entries of {name}")
        return values[1:-1] if channels_last else values[2:]
    raise ConfigError(f"{op}: {name}={describe(value)} has {len(values)} values",
                      expected=f"1, {rank} or {rank + 2} values")


def _padding(value: object, rank: int, op: str, channels_last: bool, allow_explicit: bool = True):
    if isinstance(value, str):
        if value not in ("SAME", "VALID"):
            raise ConfigError(f"{op}: value for attr 'padding' of {value!r} is not in the list of allowed values: "
                              f'"SAME", "VALID"' + (', "EXPLICIT"' if allow_explicit else ""),
                              fix=f"write padding={value.upper()!r}" if value.upper() in ("SAME", "VALID") else None)
        return (SAME_UPPER,) * rank if value == "SAME" else ((0, 0),) * rank
    if allow_explicit and isinstance(value, tuple) and len(value) in (rank, rank + 2) and all(
            isinstance(p, tuple) and len(p) == 2 for p in value):
        pairs = value
        if len(pairs) == rank + 2:
            outer = (pairs[0], pairs[-1]) if channels_last else (pairs[0], pairs[1])
            if outer != ((0, 0), (0, 0)):
                raise ConfigError(f"{op}: padding={describe(value)} pads the batch or channel dim",
                                  expected="[0, 0] for the batch and channel entries")
            pairs = pairs[1:-1] if channels_last else pairs[2:]
        return tuple((as_int(b, "padding", minimum=0, layer=op), as_int(e, "padding", minimum=0, layer=op))
                     for b, e in pairs)
    raise ConfigError(f"{op}: padding={describe(value)} is not supported",
                      expected='"SAME", "VALID"' + (f" or {rank + 2} [begin, end] pairs" if allow_explicit else ""))


def _layout(a: dict, rank: int, op: str) -> bool:
    fmt = a["data_format"] or FORMATS[rank][0]
    if fmt not in FORMATS[rank]:
        raise ConfigError(f"{op}: data_format={fmt!r}", expected=f"one of {', '.join(FORMATS[rank])}")
    return fmt == FORMATS[rank][0]


def _filter_shape(value: object, rank: int, op: str) -> tuple[int, ...]:
    shape = as_shape_value(value, "filters", op)
    if len(shape) != rank + 2 or not all(isinstance(d, int) and d >= 1 for d in shape):
        raise ConfigError(f"{op}: filters={describe(value)} is not a {rank + 2}-D filter shape",
                          expected=f"(*kernel, C_in, C_out) with {rank + 2} positive integers")
    return shape


def _declared(a: dict, op: str) -> tuple[Dim, ...] | None:
    """``input`` written as a shape sets the input; a tensor's name (``x``) leaves it to ``--input``."""
    return as_shape_value(a["input"], "input", op) if isinstance(a["input"], tuple) else None


def _conv(rank: int):
    op_name = f"conv{rank}d"

    def build(call: Call, a: dict) -> Layer:
        channels_last = _layout(a, rank, op_name)
        filt = _filter_shape(a["filters"], rank, op_name)
        kernel, c_in, c_out = filt[:rank], filt[rank], filt[rank + 1]
        stride = _per_axis(a["strides" if rank > 1 else "stride"], rank, "strides", op_name, channels_last)
        dilation = _per_axis(a["dilations"] or 1, rank, "dilations", op_name, channels_last)
        # Only the Conv2D op takes EXPLICIT padding (Conv3D's attr is "SAME"/"VALID"; conv1d passes a string)
        pads = _padding(a["padding"], rank, op_name, channels_last, allow_explicit=rank == 2)
        conv = Conv(c_out, kernel, stride, dilation, pads, c_in, 1, bias=False)
        return Layer("tf", op_name, call.text, conv, rank, channels_last=channels_last, name=op_name,
                     declared_input=_declared(a, op_name), notes=("filters are (*kernel, C_in, C_out); no bias",))

    stride_name = "strides" if rank > 1 else "stride"
    params = ("input", "filters", stride_name, "padding", "data_format", "dilations", "name")
    return Spec(f"{op_name}", params, {"input": None, "data_format": None, "dilations": None, "name": None}, build)


def _conv_transpose(rank: int):
    op_name = f"conv{rank}d_transpose"

    def build(call: Call, a: dict) -> Layer:
        channels_last = _layout(a, rank, op_name)
        filt = _filter_shape(a["filters"], rank, op_name)
        kernel, c_out, c_in = filt[:rank], filt[rank], filt[rank + 1]
        stride = _per_axis(a["strides"], rank, "strides", op_name, channels_last)
        dilation = _per_axis(a["dilations"] or 1, rank, "dilations", op_name, channels_last)
        # conv2d_transpose converts explicit pads for Conv2DBackpropInput; conv1d_transpose and
        # Conv3DBackpropInputV2 take only "SAME"/"VALID"
        pads = _padding(a["padding"], rank, op_name, channels_last, allow_explicit=rank == 2)
        target = as_shape_value(a["output_shape"], "output_shape", op_name)
        if len(target) != rank + 2:
            raise ConfigError(f"{op_name}: output_shape={format_shape(target)} has {len(target)} dims",
                              expected=f"the full {rank + 2}-D output shape, batch and channels included")
        out_channels = target[-1] if channels_last else target[1]
        if out_channels != c_out:
            raise ConfigError(f"{op_name}: output_shape has {out_channels} channels but filters has {c_out}",
                              expected="output_shape's channel dim == filters.shape[-2]")
        spatial_target = target[1:-1] if channels_last else target[2:]
        adjusts = (_output_shape(spatial_target, pads, op_name),)
        if isinstance(target[0], int):
            adjusts = (_same_batch(target[0], op_name),) + adjusts
        op = ConvTranspose(c_out, kernel, stride, dilation, ((0, 0),) * rank, (0,) * rank, c_in, 1, bias=False)
        return Layer("tf", op_name, call.text, op, rank, channels_last=channels_last, name=op_name,
                     declared_input=_declared(a, op_name), adjust=adjusts,
                     notes=("filters are (*kernel, C_out, C_in); no bias",),
                     back_sizes=_back_sizes(pads))

    params = ("input", "filters", "output_shape", "strides", "padding", "data_format", "dilations", "name")
    return Spec(op_name, params, {"input": None, "padding": "SAME", "data_format": None, "dilations": None,
                                  "name": None}, build)


def _same_batch(target_batch: int, op_name: str):
    """TF's backprop-input ops need output_shape's batch to equal the input's; the output takes it."""
    def adjust(op: ConvTranspose, seen: Input) -> ConvTranspose:
        batch = seen.batch
        if isinstance(batch, int) and batch != target_batch:
            raise ShapeMismatchError(
                f"{op_name}: output_shape has batch {target_batch} but the input has batch {batch}; TF fails "
                f"(input and out_backprop must have the same batch size)",
                expected=f"output_shape[0] == {batch}", fix=f"set output_shape's batch dim to {batch}")
        seen.batch = target_batch
        return op
    return adjust


def forward_range(i: Dim, k: int, s: int, d: int, pad) -> tuple[Dim, Dim]:
    """The sizes ``o`` whose forward conv gives ``i``: ``[lo, lo + s - 1]``."""
    eff = arith.effective_kernel(k, d)
    if pad == SAME_UPPER:
        lo = (i - 1) * s + 1
    else:
        pb, pe = pad
        lo = (i - 1) * s + eff - pb - pe
    return lo, lo + s - 1


def _back_sizes(pads: tuple):
    def back(op: ConvTranspose, spatial: tuple) -> list[list[tuple]]:
        out = []
        for i, k, s, d, pad in zip(spatial, op.kernel, op.stride, op.dilation, pads):
            lo, _ = forward_range(i, k, s, d, pad)
            out.append([(lo + j, f"output_shape with {lo + j}") for j in range(s)])
        return out
    return back


def _output_shape(target: tuple, pads: tuple, op_name: str):
    """Check ``output_shape`` is one of the sizes the forward conv maps to the input, then fix the pads."""
    def adjust(op: ConvTranspose, seen: Input) -> ConvTranspose:
        new_pads, out_pad = [], []
        for axis, (o, i, k, s, d, pad) in enumerate(zip(target, seen.spatial, op.kernel, op.stride, op.dilation,
                                                        pads)):
            lo, hi = forward_range(i, k, s, d, pad)
            gap = None if o is None else o - lo
            if not isinstance(gap, int) or not 0 <= gap < s:
                raise ShapeMismatchError(
                    f"{op_name}: output_shape size {o if o is not None else 'None'} on spatial axis {axis} does not "
                    f"map back to the input size {i}; TF fails at run time (Conv2DCustomBackpropInput: Size of "
                    f"out_backprop doesn't match computed)",
                    expected=f"a size in [{lo}, {hi}] (the sizes whose forward conv gives {i})",
                    fix=f"set output_shape's axis {axis} to one of {', '.join(str(lo + j) for j in range(s))}")
            eff = arith.effective_kernel(k, d)
            if pad == SAME_UPPER:
                if not isinstance(o, int):
                    total = (i - 1) * s + eff - o
                    if not isinstance(total, int):
                        raise ShapeMismatchError(f"{op_name}: SAME padding for output size {o} depends on {o}",
                                                 fix="give output_shape as numbers")
                else:
                    total = max((i - 1) * s + eff - o, 0)
                pb, pe = arith.split_pad(total)
                seen.notes.append(f"axis {axis}: SAME: the forward conv of {o} pads {pb} before and {pe} after")
            else:
                pb, pe = pad
            new_pads.append((pb, pe))
            out_pad.append(o - arith.transposed(i=i, k=k, s=s, d=d, pb=pb, pe=pe, op=0))
        new = ConvTranspose(op.out_channels, op.kernel, op.stride, op.dilation, tuple(new_pads), tuple(out_pad),
                            op.in_channels, op.groups, op.bias)
        return new
    return adjust


def _pool(rank: int | None, kind: str, op_name: str):
    def build(call: Call, a: dict) -> Layer:
        declared = _declared(a, op_name)
        r = rank
        if r is None:
            shape = declared
            ksize = a["ksize"]
            r = len(shape) - 2 if shape else len(ksize) - 2 if isinstance(ksize, tuple) and len(ksize) > 2 else (
                len(ksize) if isinstance(ksize, tuple) else None)
            if r is None or r not in (1, 2, 3):
                raise ConfigError(f"{op_name}: cannot tell the number of spatial dims",
                                  fix=f"use {kind}_pool2d (or 1d/3d), or give input= or ksize as N+2 values")
        channels_last = _layout(a, r, op_name)
        size = _per_axis(a["ksize"], r, "ksize", op_name, channels_last)
        stride = _per_axis(a["strides"], r, "strides", op_name, channels_last)
        pads = _padding(a["padding"], r, op_name, channels_last, allow_explicit=kind == "max" and r < 3)
        for axis, (k, pad) in enumerate(zip(size, pads)):
            if pad != SAME_UPPER and max(pad) > k:
                raise ConfigError(f"{op_name}: explicit padding {pad} on spatial axis {axis} is larger than the "
                                  f"window {k}; TF: the size of the paddings cannot be greater than the sliding "
                                  f"window size", expected=f"pads <= {k}")
        notes = ("SAME: padded cells are ignored",) if pads and pads[0] == SAME_UPPER else ()
        return Layer("tf", op_name, call.text, Pool(kind, size, stride, (1,) * r, pads, count_include_pad=False), r,
                     channels_last=channels_last, name=op_name, declared_input=declared, notes=notes)

    params = ("input", "ksize", "strides", "padding", "data_format", "name")
    return Spec(op_name, params, {"input": None, "data_format": None, "name": None}, build)


for _rank in (1, 2, 3):
    DIALECT.register(_conv(_rank))
    DIALECT.register(_conv_transpose(_rank))
    for _kind in ("max", "avg"):
        DIALECT.register(_pool(_rank, _kind, f"{_kind}_pool{_rank}d"))
for _kind in ("max", "avg"):
    DIALECT.register(_pool(None, _kind, f"{_kind}_pool"))
