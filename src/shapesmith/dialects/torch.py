"""PyTorch: ``nn.Conv2d(3, 8, 3, stride=2)``, channels-first, unbatched input allowed.

PyTorch's own rules kept here: ``padding='same'`` (left ``total//2``, extra on the right,
refused with a stride), ``padding_mode`` limits, ``output_padding < stride or < dilation``,
``forward(x, output_size=...)`` and its valid range, and the pooling pad limits.
"""

from __future__ import annotations

from .. import arith
from ..dims import Expr, format_shape
from ..errors import ConfigError, ShapeMismatchError
from ..layer import Layer
from ..ops import Conv, ConvTranspose, Pool
from .base import Call, Dialect, Spec, as_bool, as_choice, as_int, as_ints, describe

DIALECT = Dialect("torch", ("torch.nn", "nn", "torch.nn.modules"), "PyTorch")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _padding(value: object, rank: int, kernel: tuple, dilation: tuple, stride: tuple, layer: str
             ) -> tuple[tuple[int, int], ...]:
    if isinstance(value, str):
        if value not in ("same", "valid"):
            raise ConfigError(f"Invalid padding string {value!r}, should be one of {{'same', 'valid'}}")
        if value == "valid":
            return ((0, 0),) * rank
        if any(s != 1 for s in stride):
            raise ConfigError("padding='same' is not supported for strided convolutions",
                              fix="use stride=1, or give the padding as numbers")
        pads = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    pads = as_ints(value, rank, "padding", layer=layer)
    if any(p < 0 for p in pads):
        raise ConfigError(f"{layer} padding={describe(value)}: negative padding is not supported",
                          expected="padding >= 0")
    return tuple((p, p) for p in pads)


def _conv(rank: int, transposed: bool):
    type_name = f"ConvTranspose{rank}d" if transposed else f"Conv{rank}d"

    def build(call: Call, a: dict) -> Layer:
        in_ch = as_int(a["in_channels"], "in_channels", minimum=1, layer=type_name)
        out_ch = as_int(a["out_channels"], "out_channels", minimum=1, layer=type_name)
        groups = a["groups"]
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ConfigError(f"groups must be a positive integer, got groups={describe(groups)}")
        if in_ch % groups:
            raise ConfigError(f"in_channels must be divisible by groups (in_channels={in_ch}, groups={groups})")
        if out_ch % groups:
            raise ConfigError(f"out_channels must be divisible by groups (out_channels={out_ch}, groups={groups})")
        kernel = as_ints(a["kernel_size"], rank, "kernel_size", minimum=1, layer=type_name)
        stride = as_ints(a["stride"], rank, "stride", minimum=1, layer=type_name)
        dilation = as_ints(a["dilation"], rank, "dilation", minimum=1, layer=type_name)
        mode = a["padding_mode"]
        if mode not in PADDING_MODES:
            raise ConfigError(f"padding_mode must be one of {{{', '.join(repr(m) for m in sorted(PADDING_MODES))}}}, "
                              f"but got padding_mode={describe(mode)}")
        bias = as_bool(a["bias"], "bias", type_name)
        notes: list[str] = []
        if transposed:
            if mode != "zeros":
                raise ConfigError(f'Only "zeros" padding mode is supported for {type_name}')
            if isinstance(a["padding"], str):
                raise ConfigError(f"{type_name} has no padding={a['padding']!r}",
                                  expected="padding as integers", fix="use shapesmith solve to find the padding")
            pads = _padding(a["padding"], rank, kernel, dilation, stride, type_name)
            out_pad = as_ints(a["output_padding"], rank, "output_padding", minimum=0, layer=type_name)
            op = ConvTranspose(out_ch, kernel, stride, dilation, pads, out_pad, in_ch, groups, bias)
            adjust = (_output_size(call.applied_kwargs.get("output_size"), type_name),)
            if "output_size" not in call.applied_kwargs:
                _check_output_padding(out_pad, stride, dilation)
        else:
            pads = _padding(a["padding"], rank, kernel, dilation, stride, type_name)
            if a["padding"] == "same":
                uneven = [f"{b}/{e}" for b, e in pads if b != e]
                notes.append("padding='same': total d*(k-1) split left total//2, the extra on the right"
                             + (f" ({', '.join(uneven)})" if uneven else ""))
            op = Conv(out_ch, kernel, stride, dilation, pads, in_ch, groups, bias)
            adjust = (_padding_mode_limit(mode, pads),) if mode in ("reflect", "circular") else ()
            if mode != "zeros":
                notes.append(f"padding_mode={mode!r} changes the padded values, not the shape")
        return Layer("torch", type_name, call.text, op, rank, allow_unbatched=True, adjust=adjust,
                     notes=tuple(notes), name=type_name.lower(), back_sizes=_back_sizes if transposed else None)

    build.takes_call_kwargs = transposed
    if transposed:
        params = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups",
                  "bias", "dilation", "padding_mode", "device", "dtype")
        defaults = dict(stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1,
                        padding_mode="zeros", device=None, dtype=None)
    else:
        params = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
                  "padding_mode", "device", "dtype")
        defaults = dict(stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros",
                        device=None, dtype=None)
    return Spec(type_name, params, defaults, build)


def _check_output_padding(out_pad: tuple, stride: tuple, dilation: tuple) -> None:
    for op, s, d in zip(out_pad, stride, dilation):
        if not (op < s or op < d):
            raise ConfigError(
                f"output padding must be smaller than either stride or dilation, but got output_padding={out_pad}, "
                f"stride={stride}, dilation={dilation}",
                fix="lower output_padding, or pass output_size=... to forward to pick the size")


def _padding_mode_limit(mode: str, pads: tuple):
    """reflect needs pad < size; circular pad <= size (it may wrap around only once)."""
    def adjust(op, batch, spatial):
        for (pb, pe), i in zip(pads, spatial):
            if not isinstance(i, int):
                continue
            pad = max(pb, pe)
            if (mode == "reflect" and pad >= i) or (mode == "circular" and pad > i):
                rel = "less than" if mode == "reflect" else "at most"
                raise ShapeMismatchError(
                    f"padding_mode={mode!r} with padding {pad} on an axis of size {i}",
                    expected=f"padding {rel} the input size", fix="use a smaller padding or padding_mode='zeros'")
        return op, (), ()
    return adjust


def _output_size(requested: object, type_name: str):
    """``forward(x, output_size=...)``: any size in ``[min, min + s - 1]`` picks ``output_padding``."""
    def adjust(op: ConvTranspose, batch, spatial):
        if requested is None:
            return op, (), ()
        sizes = tuple(requested) if isinstance(requested, tuple) else (requested,)
        if len(sizes) == op.rank + 2:
            sizes = sizes[2:]
        if len(sizes) != op.rank:
            raise ConfigError(f"output_size must have {op.rank} or {op.rank + 2} elements (got {len(sizes)})")
        mins = [arith.transposed(i=i, k=k, s=s, d=d, pb=pb, pe=pe, op=0)
                for i, k, s, d, (pb, pe) in zip(spatial, op.kernel, op.stride, op.dilation, op.padding)]
        out_pad = []
        for o, lo, s in zip(sizes, mins, op.stride):
            extra = o - lo if isinstance(o, (int, Expr)) else None
            if not isinstance(extra, int) or not 0 <= extra < s:
                his = [m + s - 1 for m, s in zip(mins, op.stride)]
                raise ShapeMismatchError(
                    f"requested an output size of {format_shape(sizes)}, but valid sizes range from "
                    f"{format_shape(mins)} to {format_shape(his)} (for an input of {format_shape(spatial)})",
                    fix="pick output_size in that range, or change stride/padding (shapesmith solve finds them)")
            out_pad.append(extra)
        note = f"output_size={format_shape(sizes)} sets output_padding={tuple(out_pad)}"
        return ConvTranspose(op.out_channels, op.kernel, op.stride, op.dilation, op.padding, tuple(out_pad),
                             op.in_channels, op.groups, op.bias), (note,), ()
    return adjust


def _back_sizes(op: ConvTranspose, spatial: tuple) -> list[list[tuple]]:
    """Each size in ``[min, min + s - 1]`` is picked by ``output_padding=j`` (if ``j < s or j < d``) or ``output_size``."""
    out = []
    for sizes, s, d in zip(op.sizes_mapping_back(spatial), op.stride, op.dilation):
        out.append([(o, f"output_padding={j}" + (f" or output_size={o}" if j else "")) for j, o in enumerate(sizes)])
    return out


def _pool(rank: int, kind: str):
    type_name = f"{'Max' if kind == 'max' else 'Avg'}Pool{rank}d"

    def build(call: Call, a: dict) -> Layer:
        kernel = as_ints(a["kernel_size"], rank, "kernel_size", minimum=1, layer=type_name)
        stride = kernel if a["stride"] is None or a["stride"] == () else as_ints(
            a["stride"], rank, "stride", minimum=1, layer=type_name)
        dilation = as_ints(a.get("dilation", 1), rank, "dilation", minimum=1, layer=type_name)
        pads = as_ints(a["padding"], rank, "padding", minimum=0, layer=type_name)
        for p, k, d in zip(pads, kernel, dilation):
            if kind == "max" and 2 * p > arith.effective_kernel(k, d):
                raise ConfigError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                                  f"kernel_size={k} and dilation={d}", expected=f"padding <= {arith.effective_kernel(k, d) // 2}")
            if kind == "avg" and 2 * p > k:
                raise ConfigError(f"pad should be smaller than or equal to half of kernel size, but got pad={p}, "
                                  f"kernel_size={k}", expected=f"padding <= {k // 2}")
        ceil_mode = as_bool(a["ceil_mode"], "ceil_mode", type_name)
        notes = []
        if kind == "avg":
            include = as_bool(a["count_include_pad"], "count_include_pad", type_name)
            if a.get("divisor_override") is not None:
                as_int(a["divisor_override"], "divisor_override", minimum=1, layer=type_name)
                notes.append("divisor_override changes the average's divisor, not the shape")
        else:
            include = True
            as_bool(a["return_indices"], "return_indices", type_name)
            if a["return_indices"]:
                notes.append("return_indices=True also returns the argmax indices, of the same shape")
        op = Pool(kind, kernel, stride, dilation, tuple((p, p) for p in pads), ceil_mode, include)
        return Layer("torch", type_name, call.text, op, rank, allow_unbatched=True, notes=tuple(notes),
                     name=type_name.lower())

    if kind == "max":
        params = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")
        defaults = dict(stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)
    else:
        params = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad") + (
            ("divisor_override",) if rank > 1 else ())
        defaults = dict(stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None)
    return Spec(type_name, params, defaults, build)


for _rank in (1, 2, 3):
    DIALECT.register(_conv(_rank, transposed=False))
    DIALECT.register(_conv(_rank, transposed=True))
    DIALECT.register(_pool(_rank, "max"))
    DIALECT.register(_pool(_rank, "avg"))
