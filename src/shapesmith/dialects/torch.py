"""PyTorch: ``nn.Conv2d(3, 8, 3, stride=2)``, channels-first, unbatched input allowed.

PyTorch's own rules kept here: ``padding='same'`` (left ``total//2``, extra on the right,
refused with a stride), ``padding_mode`` (``F.pad`` then an unpadded conv: reflect needs
pad < size, circular pad <= size, negative pads crop), ``output_padding < stride or < dilation``,
``forward(x, output_size=...)`` and its valid range, the pooling pad limit (``pad <= kernel//2``),
and the one-element sequences torch's C++ ops expand to every axis (``stride=(2,)``).
"""

from __future__ import annotations

from dataclasses import replace

from .. import arith
from ..dims import Expr, format_shape
from ..errors import ConfigError, ShapeMismatchError
from ..layer import Input, Layer
from ..ops import Conv, ConvTranspose, Pool
from ..ops.base import axis_names
from ..ops.conv import check_pad_fits
from .base import Call, Dialect, Spec, as_bool, as_int, as_ints, describe

DIALECT = Dialect("torch", ("torch.nn", "nn", "torch.nn.modules"), "PyTorch")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _avg_pool3d_input(op: Pool, seen: Input) -> Pool:
    """``avg_pool3d`` also needs every input size >= the kernel size, padding or not
    ("input image (T: 2 H: 3 W: 3) smaller than kernel size (kT: 3 kH: 3 kW: 3)")."""
    for axis, i, k in zip(axis_names(op.rank), seen.spatial, op.kernel):
        if isinstance(i, int) and i < k:
            raise ShapeMismatchError(f"axis {axis}: AvgPool3d input size {i} is smaller than kernel size {k} "
                                     "(avg_pool3d checks the unpadded input)",
                                     expected=f"input size >= {k}", fix="use a larger input or a smaller kernel")
        if isinstance(i, Expr) and k > 1:
            seen.conditions.require(i, k)
    return op


def _ints(value: object, rank: int, name: str, *, minimum: int | None = None, layer: str = "") -> tuple[int, ...]:
    """An int, ``rank`` ints, or one int in a sequence: torch's C++ ops expand ``(2,)`` to every axis."""
    if isinstance(value, (tuple, list)) and len(value) == 1 and rank > 1:
        value = tuple(value) * rank
    return as_ints(value, rank, name, minimum=minimum, layer=layer)


def _seq_len(value: object) -> int | None:
    return len(value) if isinstance(value, (tuple, list)) else None


def _same_pads(kernel: tuple, dilation: tuple) -> tuple[tuple[int, int], ...]:
    pads = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _check_padding_string(value: str, stride: tuple) -> None:
    if value not in ("same", "valid"):
        raise ConfigError(f"Invalid padding string {value!r}, should be one of {{'same', 'valid'}}")
    if value == "same" and any(s != 1 for s in stride):
        raise ConfigError("padding='same' is not supported for strided convolutions",
                          fix="use stride=1, or give the padding as numbers")


def _fpad_pairs(value: object, rank: int, kernel: tuple, dilation_raw: object, layer: str) -> list[tuple[int, int]]:
    """The ``(begin, end)`` pads ``F.pad`` gets for a non-zeros ``padding_mode``, one per trailing
    input dim (the last pair pads the last dim), exactly as ``_ConvNd`` builds them."""
    if isinstance(value, str):
        pairs = [(0, 0)] * rank
        if value == "same":
            dilations = dilation_raw if isinstance(dilation_raw, (tuple, list)) else (dilation_raw,) * rank
            # _ConvNd zips dilation with kernel_size: a one-element dilation pads only the first axis.
            for j, (d, k) in enumerate(zip(dilations, kernel)):
                pairs[j] = _same_pads((k,), (d,))[0]
        return pairs
    if isinstance(value, (tuple, list)):
        if not value:
            raise ConfigError(f"{layer} padding=() is empty", expected=f"an integer or {rank} integers")
        return [(p, p) for p in (as_int(v, "padding", layer=layer) for v in value)]
    p = as_int(value, "padding", layer=layer)
    return [(p, p)] * rank


def _fpad_rule(mode: str, pairs: list, rank: int):
    """``F.pad`` on the raw input, then a conv without padding."""
    def rule(op: Conv, seen: Input) -> Conv:
        ndim, n = rank + (2 if seen.batched else 1), len(pairs)
        if n > 3 or ndim not in (n + 1, n + 2):
            raise ConfigError(f"padding_mode={mode!r} with {n} padding value(s) on a {ndim}-D input: "
                              f"F.pad pads {n} trailing dims only of a {n + 1}-D or {n + 2}-D input",
                              expected=f"{rank} padding values", fix=f"give padding as one int or {rank} ints")
        # n == rank + 1 pads the channel dim as well (n == rank + 2 would need ndim >= n + 1 > rank + 2)
        if n > rank:
            channel_pad = pairs[0][0]
            check_pad_fits(mode, "C", seen.channels, channel_pad, seen.conditions)
            seen.channels = seen.channels + 2 * channel_pad
            seen.notes.append(f"padding={tuple(p for p, _ in pairs)} has {n} values: F.pad pads the channel dim by "
                              f"{channel_pad} too")
        if n < rank:
            seen.notes.append(f"padding_mode={mode!r} with {n} padding value(s): F.pad pads only the last "
                              f"{'axis' if n == 1 else f'{n} axes'}")
        return op
    return rule


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
        mode = a["padding_mode"]
        if transposed and mode != "zeros":
            raise ConfigError(f'Only "zeros" padding mode is supported for {type_name}')
        kernel = as_ints(a["kernel_size"], rank, "kernel_size", minimum=1, layer=type_name)
        stride = _ints(a["stride"], rank, "stride", minimum=1, layer=type_name)
        dilation = _ints(a["dilation"], rank, "dilation", minimum=1, layer=type_name)
        if mode not in PADDING_MODES:
            raise ConfigError(f"padding_mode must be one of {{{', '.join(repr(m) for m in sorted(PADDING_MODES))}}}, "
                              f"but got padding_mode={describe(mode)}")
        bias = as_bool(a["bias"], "bias", type_name)
        notes: list[str] = []
        rules: tuple = ()
        if transposed:
            if isinstance(a["padding"], str):
                raise ConfigError(f"{type_name} has no padding={a['padding']!r}",
                                  expected="padding as integers", fix="use shapesmith solve to find the padding")
            padding = _ints(a["padding"], rank, "padding", layer=type_name)
            if any(p < 0 for p in padding):
                raise ConfigError(f"{type_name} padding={describe(a['padding'])}: negative padding is not supported",
                                  expected="padding >= 0")
            pads = tuple((p, p) for p in padding)
            requested = call.applied_kwargs.get("output_size")
            if requested is None:
                # forward(x) uses the constructor's output_padding; with output_size it is ignored.
                out_pad = _ints(a["output_padding"], rank, "output_padding", minimum=0, layer=type_name)
                _check_output_padding(out_pad, stride, dilation)
            else:
                out_pad = (0,) * rank
                short = [n for n in ("kernel_size", "stride", "padding", "dilation")
                         if (_seq_len(a[n]) or rank) < rank]
                if short:
                    raise ConfigError(f"{type_name}(...)(x, output_size=...) with a one-element "
                                      f"{', '.join(short)}: torch's output_size code reads one value per axis",
                                      expected=f"{rank} values or a single int", fix=f"write {short[0]} out per axis")
                rules = (_output_size(requested, rank),)
            op = ConvTranspose(out_ch, kernel, stride, dilation, pads, out_pad, in_ch, groups, bias)
        else:
            padding = a["padding"]
            if isinstance(padding, str):
                _check_padding_string(padding, stride)
            if mode == "zeros":
                if isinstance(padding, str):
                    pads = _same_pads(kernel, dilation) if padding == "same" else ((0, 0),) * rank
                else:
                    values = _ints(padding, rank, "padding", layer=type_name)
                    if any(p < 0 for p in values):
                        raise ConfigError(f"{type_name} padding={describe(padding)}: negative padding is not "
                                          "supported", expected="padding >= 0")
                    pads = tuple((p, p) for p in values)
            else:
                pairs = _fpad_pairs(padding, rank, kernel, a["dilation"], type_name)
                pads = tuple(pairs[-rank:]) if len(pairs) >= rank else ((0, 0),) * (rank - len(pairs)) + tuple(pairs)
                rules = (_fpad_rule(mode, pairs, rank),)
                notes.append(f"padding_mode={mode!r} changes the padded values, not the shape")
            if padding == "same":
                uneven = [f"{b}/{e}" for b, e in pads if b != e]
                notes.insert(0, "padding='same': total d*(k-1) split left total//2, the extra on the right"
                             + (f" ({', '.join(uneven)})" if uneven else ""))
            op = Conv(out_ch, kernel, stride, dilation, pads, in_ch, groups, bias, padding_mode=mode)
        return Layer("torch", type_name, call.text, op, rank, allow_unbatched=True, notes=tuple(notes),
                     name=type_name.lower(), back_sizes=_back_sizes if transposed else None, adjust=rules)

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


def _output_size(requested: object, rank: int):
    """``forward(x, output_size=...)``: a sequence of ``rank`` sizes, or with the leading dims
    (batch and channels, or channels for an unbatched input); any size in ``[min, min + s - 1]``
    picks ``output_padding``."""
    def rule(op: ConvTranspose, seen: Input) -> ConvTranspose:
        spatial = seen.spatial
        if not isinstance(requested, tuple):
            raise ConfigError(f"output_size={describe(requested)} is not a sequence",
                              expected=f"a tuple of {rank} sizes", fix=f"write output_size=({describe(requested)},)")
        lead = 2 if seen.batched else 1
        sizes = requested[lead:] if len(requested) == lead + rank else requested
        if len(sizes) != rank:
            raise ConfigError(f"for a {rank + lead}-D input, output_size must have {rank} or {rank + lead} "
                              f"elements (got {len(requested)})")
        mins = [arith.transposed(i=i, k=k, s=s, d=d, pb=pb, pe=pe, op=0)
                for i, k, s, d, (pb, pe) in zip(spatial, op.kernel, op.stride, op.dilation, op.padding)]
        out_pad = []
        for o, lo, s in zip(sizes, mins, op.stride):
            extra = o - lo if isinstance(o, (int, Expr)) and not isinstance(o, bool) else None
            if not isinstance(extra, int) or not 0 <= extra < s:
                his = [m + s - 1 for m, s in zip(mins, op.stride)]
                raise ShapeMismatchError(
                    f"requested an output size of {format_shape(sizes)}, but valid sizes range from "
                    f"{format_shape(mins)} to {format_shape(his)} (for an input of {format_shape(spatial)})",
                    fix="pick output_size in that range, or change stride/padding (shapesmith solve finds them)")
            out_pad.append(extra)
        seen.notes.append(f"output_size={format_shape(sizes)} sets output_padding={tuple(out_pad)}")
        return replace(op, output_padding=tuple(out_pad))
    return rule


def _back_sizes(op: ConvTranspose, spatial: tuple) -> list[list[tuple]]:
    """Size ``min + j`` (``j < s``) is picked by ``output_padding=j`` or ``forward(x, output_size=...)``."""
    return [[(o, f"output_padding={j}" + (f" or output_size={o}" if j else "")) for j, o in enumerate(sizes)]
            for sizes in op.sizes_mapping_back(spatial)]


def _pool(rank: int, kind: str):
    type_name = f"{'Max' if kind == 'max' else 'Avg'}Pool{rank}d"

    def build(call: Call, a: dict) -> Layer:
        kernel = _ints(a["kernel_size"], rank, "kernel_size", minimum=1, layer=type_name)
        stride = kernel if a["stride"] is None or a["stride"] == () else _ints(
            a["stride"], rank, "stride", minimum=1, layer=type_name)
        dilation = _ints(a.get("dilation", 1), rank, "dilation", minimum=1, layer=type_name)
        pads = _ints(a["padding"], rank, "padding", minimum=0, layer=type_name)
        for p, k, d in zip(pads, kernel, dilation):
            # torch checks pad <= effective_kernel/2, then (max pool with dilation) pad <= kernel_size/2.
            if 2 * p > arith.effective_kernel(k, d):
                raise ConfigError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                                  f"kernel_size={k} and dilation={d}", expected=f"padding <= {k // 2}")
            if 2 * p > k:
                raise ConfigError(f"pad should be smaller than or equal to half of kernel size, but got pad={p}, "
                                  f"kernel_size={k} (the dilation does not count here)",
                                  expected=f"padding <= {k // 2}")
        ceil_mode = as_bool(a["ceil_mode"], "ceil_mode", type_name)
        notes = []
        if kind == "avg":
            include = as_bool(a["count_include_pad"], "count_include_pad", type_name)
            if a.get("divisor_override") is not None:
                if as_int(a["divisor_override"], "divisor_override", layer=type_name) == 0:
                    raise ConfigError(f"{type_name} divisor_override=0: divisor must be not zero",
                                      expected="a non-zero divisor_override, or None")
                notes.append("divisor_override changes the average's divisor, not the shape")
        else:
            include = True
            as_bool(a["return_indices"], "return_indices", type_name)
            if a["return_indices"]:
                notes.append("return_indices=True also returns the argmax indices, of the same shape")
        op = Pool(kind, kernel, stride, dilation, tuple((p, p) for p in pads), ceil_mode, include)
        rules = (_avg_pool3d_input,) if kind == "avg" and rank == 3 else ()
        return Layer("torch", type_name, call.text, op, rank, allow_unbatched=True, notes=tuple(notes),
                     name=type_name.lower(), adjust=rules)

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
