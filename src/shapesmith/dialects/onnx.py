"""ONNX: an op type with its attributes, ``Conv(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])``.

Channels-first. The weight's shape, which sets the channels, is given as the input it is in the
graph: ``W=(16, 3, 3, 3)`` (and ``B=(16,)`` for a bias). ONNX's own rules kept here: ``pads`` as
``[x1_begin, x2_begin, ..., x1_end, x2_end]``, ``auto_pad`` NOTSET / SAME_UPPER / SAME_LOWER /
VALID (not together with ``pads``), ``ConvTranspose``'s ``output_shape`` (the total padding
``s*(i-1) + op + eff - o`` split by ``auto_pad``), and pooling's ``ceil_mode``.
"""

from __future__ import annotations

from .. import arith
from ..dims import format_shape
from ..errors import ConfigError, ShapeMismatchError
from ..layer import Input, Layer
from ..ops import SAME_LOWER, SAME_UPPER, Conv, ConvTranspose, GlobalPool, Pool
from .base import Call, Dialect, Spec, as_choice, as_int, as_shape_value, describe

DIALECT = Dialect("onnx", ("onnx", "ai.onnx"), "ONNX")
AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


def _ints(value: object, n: int, name: str, op: str, minimum: int | None = 1) -> tuple[int, ...]:
    values = tuple(value) if isinstance(value, (tuple, list)) else None
    if values is None or len(values) != n:
        raise ConfigError(f"{op}: {name}={describe(value)}", expected=f"a list of {n} integers")
    return tuple(as_int(v, name, minimum=minimum, layer=op) for v in values)


def _weight(a: dict, op: str) -> tuple[int, ...] | None:
    if a["W"] is None:
        return None
    shape = as_shape_value(a["W"], "W", op)
    if len(shape) < 3 or not all(isinstance(d, int) and d >= 1 for d in shape):
        raise ConfigError(f"{op}: W={describe(a['W'])} is not a weight shape",
                          expected="(C_out, C_in/group, *kernel) for Conv, (C_in, C_out/group, *kernel) for ConvTranspose")
    return shape


def _rank(a: dict, weight: tuple | None, op: str) -> int:
    if a["kernel_shape"] is not None:
        if not isinstance(a["kernel_shape"], tuple) or not a["kernel_shape"]:
            raise ConfigError(f"{op}: kernel_shape={describe(a['kernel_shape'])}", expected="a list of integers")
        return len(a["kernel_shape"])
    if weight is not None:
        return len(weight) - 2
    raise ConfigError(f"{op} needs kernel_shape=[...] or the weight shape W=(...)",
                      fix="add kernel_shape=[3, 3] (or W=(C_out, C_in, 3, 3))")


def _pads(a: dict, rank: int, op: str) -> tuple:
    auto = as_choice(a["auto_pad"], "auto_pad", AUTO_PADS, op)
    if auto != "NOTSET" and a["pads"] is not None:
        raise ConfigError(f"{op}: auto_pad={auto!r} and pads cannot be used together",
                          fix="remove pads, or set auto_pad='NOTSET'")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        return (SAME_UPPER if auto == "SAME_UPPER" else SAME_LOWER,) * rank
    if auto == "VALID" or a["pads"] is None:
        return ((0, 0),) * rank
    pads = _ints(a["pads"], 2 * rank, "pads", op, minimum=0)
    return tuple(zip(pads[:rank], pads[rank:]))


def _common(a: dict, rank: int, op: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    kernel = _ints(a["kernel_shape"], rank, "kernel_shape", op)
    strides = (1,) * rank if a["strides"] is None else _ints(a["strides"], rank, "strides", op)
    dilations = (1,) * rank if a.get("dilations") is None else _ints(a["dilations"], rank, "dilations", op)
    return kernel, strides, dilations


def _conv(transposed: bool):
    op_name = "ConvTranspose" if transposed else "Conv"

    def build(call: Call, a: dict) -> Layer:
        weight = _weight(a, op_name)
        rank = _rank(a, weight, op_name)
        group = as_int(a["group"], "group", minimum=1, layer=op_name)
        if a["kernel_shape"] is None:
            a = {**a, "kernel_shape": weight[2:]}
        kernel, strides, dilations = _common(a, rank, op_name)
        if weight is not None and tuple(weight[2:]) != kernel:
            raise ConfigError(f"{op_name}: kernel_shape={list(kernel)} but W has kernel {list(weight[2:])}",
                              expected="kernel_shape == W.shape[2:]")
        pads = _pads(a, rank, op_name)
        bias = a["B"] is not None
        notes = [] if weight is not None else ["the channels come from W; give W=(...) to know them"]
        if not transposed:
            c_out, c_in = (weight[0], weight[1] * group) if weight else (None, None)
            if c_out is not None and c_out % group:
                raise ConfigError(f"{op_name}: W={format_shape(weight)} has {c_out} output channels, not divisible by "
                                  f"group={group}", expected="W.shape[0] % group == 0")
            op = Conv(c_out, kernel, strides, dilations, pads, c_in, group, bias)
            return Layer("onnx", op_name, call.text, op, rank,
                         notes=tuple(notes), name=op_name)
        out_pad = (0,) * rank if a["output_padding"] is None else _ints(
            a["output_padding"], rank, "output_padding", op_name, minimum=0)
        for j, (p, s_) in enumerate(zip(out_pad, strides)):
            # onnxruntime checks output_padding < max(stride, dilation), and then that the forward conv of the
            # output gives back the input, which holds only for output_padding < stride.
            if p >= s_:
                raise ConfigError(f"{op_name}: output_padding[{j}]={p} must be smaller than strides[{j}]={s_}",
                                  fix=f"use output_padding in 0..{s_ - 1} (or output_shape=[...])")
        c_in, c_out = (weight[0], weight[1] * group) if weight else (None, None)
        target = a["output_shape"]
        if target is not None:
            target = as_shape_value(target, "output_shape", op_name)
            if len(target) == rank + 2:
                target = target[2:]
            if len(target) != rank:
                raise ConfigError(f"{op_name}: output_shape={format_shape(target)}",
                                  expected=f"{rank} spatial sizes (or {rank + 2} with batch and channels)")
        explicit = tuple(p if not isinstance(p, str) else (0, 0) for p in pads)
        op = ConvTranspose(c_out, kernel, strides, dilations, explicit, out_pad, c_in, group, bias)
        auto = pads[0] if isinstance(pads[0], str) else None
        adjust = (_resolve_transposed(target, auto),) if target is not None or auto else ()
        return Layer("onnx", op_name, call.text, op, rank, adjust=adjust,
                     notes=tuple(notes), name=op_name, back_sizes=None if auto or target else _back_sizes)

    params = ("X", "W", "B", "auto_pad", "dilations", "group", "kernel_shape") + (
        ("output_padding", "output_shape") if transposed else ()) + ("pads", "strides")
    defaults = {"X": None, "W": None, "B": None, "auto_pad": "NOTSET", "dilations": None, "group": 1,
                "kernel_shape": None, "output_padding": None, "output_shape": None, "pads": None, "strides": None}
    return Spec(op_name, params, defaults, build)


def _back_sizes(op: ConvTranspose, spatial: tuple) -> list[list[tuple]]:
    return [[(o, f"output_padding={j}" if j < max(s, d) else "output_shape") for j, o in enumerate(sizes)]
            for sizes, s, d in zip(op.sizes_mapping_back(spatial), op.stride, op.dilation)]


def _resolve_transposed(target: tuple | None, auto: str | None):
    """``output_shape`` (or SAME_*, which means ``output_shape = i*s``) fixes the total padding
    ``s*(i - 1) + op + eff - o``; SAME_UPPER puts the odd cell at the end, otherwise at the beginning."""
    def adjust(op, seen: Input):
        spatial = seen.spatial
        inner = op
        sizes = target if target is not None else tuple(i * s for i, s in zip(spatial, inner.stride))
        pads = []
        for o, i, k, s, d, op_ in zip(sizes, spatial, inner.kernel, inner.stride, inner.dilation, inner.output_padding):
            total = s * (i - 1) + op_ + arith.effective_kernel(k, d) - o
            if not isinstance(total, int):
                raise ShapeMismatchError(f"the padding for output size {o} depends on the input size {i}",
                                         fix="give the input size or output_shape as numbers")
            if target is not None and o - arith.effective_kernel(k, d) >= i * s:
                raise ShapeMismatchError(
                    f"output_shape {o} is too large for input size {i}: a forward conv of it gives "
                    f"{(o - arith.effective_kernel(k, d)) // s + 1}, not {i}",
                    fix=f"use output_shape <= {i * s + arith.effective_kernel(k, d) - 1}")
            if target is None:  # SAME_*: onnxruntime and onnx shape inference clamp a negative total pad to 0,
                total = max(total, 0)  # so the output is min(i*s, s*(i - 1) + op + eff)
            small, big = total // 2, total - total // 2
            pads.append((small, big) if auto == "SAME_UPPER" else (big, small))
        new = ConvTranspose(inner.out_channels, inner.kernel, inner.stride, inner.dilation, tuple(pads),
                            inner.output_padding, inner.in_channels, inner.groups, inner.bias)
        seen.notes.append(f"output size {format_shape(sizes)} sets pads {tuple(pads)} "
                          "(total s*(i - 1) + op + eff - o)")
        return new
    return adjust


def _pool(kind: str):
    op_name = "MaxPool" if kind == "max" else "AveragePool"

    def build(call: Call, a: dict) -> Layer:
        if a["kernel_shape"] is None:
            raise ConfigError(f"{op_name} needs kernel_shape=[...]", fix="add kernel_shape=[2, 2]")
        rank = _rank(a, None, op_name)
        kernel, strides, dilations = _common(a, rank, op_name)
        pads = _pads(a, rank, op_name)
        for p, k in zip(pads, kernel):
            if not isinstance(p, str) and max(p) >= k:
                raise ConfigError(f"{op_name}: pads={list(a['pads'])} has a pad >= kernel_shape={list(kernel)}",
                                  expected="each pad smaller than its kernel size (onnxruntime: pad < kernel)")
        ceil_mode = bool(as_int(a["ceil_mode"], "ceil_mode", minimum=0, layer=op_name))
        include = bool(as_int(a.get("count_include_pad", 0), "count_include_pad", minimum=0, layer=op_name))
        notes = ("a second output, Indices, has the same shape",) if kind == "max" else ()
        return Layer("onnx", op_name, call.text, Pool(kind, kernel, strides, dilations, pads, ceil_mode, include),
                     rank, name=op_name, notes=notes)

    params = ("X", "auto_pad", "ceil_mode") + (("count_include_pad",) if kind == "avg" else ()) + (
        "dilations", "kernel_shape", "pads") + (("storage_order",) if kind == "max" else ()) + ("strides",)
    defaults = {"X": None, "auto_pad": "NOTSET", "ceil_mode": 0, "count_include_pad": 0, "dilations": None,
                "kernel_shape": None, "pads": None, "storage_order": 0, "strides": None}
    return Spec(op_name, params, defaults, build)


def _global(kind: str):
    op_name = "GlobalMaxPool" if kind == "max" else "GlobalAveragePool"

    def build(call: Call, a: dict) -> Layer:
        return Layer("onnx", op_name, call.text, GlobalPool(kind, None, keepdims=True), None, name=op_name)

    return Spec(op_name, ("X",), {"X": None}, build)


DIALECT.register(_conv(False))
DIALECT.register(_conv(True))
DIALECT.register(_pool("max"))
DIALECT.register(_pool("avg"))
DIALECT.register(_global("max"))
DIALECT.register(_global("avg"))
