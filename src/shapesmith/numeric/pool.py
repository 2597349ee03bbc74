"""Pooling kernels: the conv module's windows, reduced by max or average.

The padded input is read tap by tap (``xpad[..., t*d : ... : s]`` per axis) and folded with
``maximum`` or ``add``; padding holds ``-inf`` (the lowest integer) so it never wins a max. An
average divides by the taps counted per axis: with ``count_include_pad`` those inside the padded
input (a ceil-mode window's overhang past the right padding never counts), else those inside the
input; ``divisor_override`` replaces the divisor. Adaptive pooling (PyTorch) reduces window
``j`` of each axis, ``[floor(j*i/o), ceil((j+1)*i/o))``, axis by axis.
"""

from __future__ import annotations

from itertools import product

import numpy as np

from ..errors import ShapesmithError
from ..ops import GlobalPool, Pool
from ..ops.spatial import AdaptivePool
from .conv import WindowAxis, window_axes
from .registry import Weights, kernel


def _lowest(dtype: np.dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _float(x: np.ndarray) -> np.ndarray:
    """Averages of integers are float64; float16 averages in float32."""
    if x.dtype.kind != "f":
        return x.astype(np.float64)
    return x.astype(np.float32) if x.dtype.itemsize < 4 else x


def _padded(x: np.ndarray, axes: tuple[WindowAxis, ...], fill) -> np.ndarray:
    """The input with each axis padded by ``(pb, pe)`` plus the ceil-mode overhang past the right padding
    (negative pads crop)."""
    keep = [slice(None), slice(None)]
    pads = [(0, 0), (0, 0)]
    for a in axes:
        end = max(a.size + a.pad_end, (a.out - 1) * a.stride + a.effective - a.pad_begin)
        keep.append(slice(max(-a.pad_begin, 0), min(a.size, end)))
        pads.append((max(a.pad_begin, 0), max(end - a.size, 0)))
    cropped = x[tuple(keep)]
    if not any(map(any, pads)):
        return cropped
    return np.pad(cropped, pads, constant_values=fill)


def _taps(padded: np.ndarray, axes: tuple[WindowAxis, ...]):
    """Each kernel tap's view of the padded input: ``(N, C, *O)`` strided slices."""
    for tap in product(*(range(a.kernel) for a in axes)):
        yield padded[(slice(None), slice(None), *(slice(t * a.dilation, t * a.dilation + (a.out - 1) * a.stride + 1,
                                                         a.stride) for t, a in zip(tap, axes)))]


def _counts(axes: tuple[WindowAxis, ...], include_pad: bool) -> np.ndarray:
    """The divisor per output cell: the product over axes of the taps counted (broadcast ``(1, 1, *O)``)."""
    divisor = np.ones((1, 1) + (1,) * len(axes))
    for j, a in enumerate(axes):
        cells = np.arange(a.out)[:, None] * a.stride + np.arange(a.kernel)[None, :] * a.dilation - a.pad_begin
        inside = cells < a.size + a.pad_end if include_pad else (cells >= 0) & (cells < a.size)
        shape = [1] * (len(axes) + 2)
        shape[j + 2] = a.out
        divisor = divisor * inside.sum(axis=1).reshape(shape)
    return divisor


def _refuse_keras1_same(op: Pool, framework: str, layer: str) -> None:
    if framework == "keras1" and any(isinstance(p, str) for p in op.padding):
        raise ShapesmithError(
            f"{layer}: Keras 1 border_mode='same' pooling is not computed: the Theano backend padded "
            "(k - 1 or k - 2 cells on each side) and cropped the output, the TensorFlow backend used TF SAME, and "
            "the layer text does not say which backend ran it",
            expected="border_mode='valid', or a Keras 3 / PyTorch / ONNX layer",
            fix="write the layer for Keras 3 (padding='same' is TF SAME)")


@kernel(Pool)
def pool_forward(op: Pool, x: np.ndarray, weights: Weights, *, framework: str, config: dict) -> np.ndarray:
    """Max or average over each window of the padded input (integers stay integers for a max)."""
    _refuse_keras1_same(op, framework, weights.layer)
    if config.get("return_indices"):
        raise ShapesmithError(f"{weights.layer}: return_indices=True is not computed by the numpy forward",
                              expected="return_indices=False",
                              fix="drop return_indices (AdaptiveMaxPool*d computes its indices)")
    axes = window_axes(op.padding, tuple(x.shape[2:]), op.kernel, op.stride, op.dilation, op.ceil_mode)
    if op.kind == "max":
        taps = _taps(_padded(x, axes, _lowest(x.dtype)), axes)
        out = next(taps).copy()
        for view in taps:
            np.maximum(out, view, out=out)
        return out
    values = _float(x)
    taps = _taps(_padded(values, axes, 0), axes)
    total = next(taps).copy()
    for view in taps:
        np.add(total, view, out=total)
    override = config.get("divisor_override")
    divisor = override if override else _counts(axes, op.count_include_pad)
    total /= np.asarray(divisor, dtype=total.dtype)
    return total.astype(x.dtype, copy=False) if x.dtype.kind == "f" else total


@kernel(GlobalPool)
def global_pool_forward(op: GlobalPool, x: np.ndarray, weights: Weights, *, framework: str,
                        config: dict) -> np.ndarray:
    """Max or mean over every spatial position; ``keepdims`` leaves size-1 axes."""
    spatial = tuple(range(2, x.ndim))
    if op.kind == "max":
        return x.max(axis=spatial, keepdims=op.keepdims)
    y = _float(x).mean(axis=spatial, keepdims=op.keepdims)
    return y.astype(x.dtype, copy=False) if x.dtype.kind == "f" else y


def adaptive_windows(i: int, o: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive windows: ``[floor(j*i/o), ceil((j + 1)*i/o))``."""
    return [(j * i // o, -(-(j + 1) * i // o)) for j in range(o)]


@kernel(AdaptivePool)
def adaptive_pool_forward(op: AdaptivePool, x: np.ndarray, weights: Weights, *, framework: str,
                          config: dict) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Average or max per adaptive window, one pooled axis at a time (both reductions separate over the
    axes); with ``indices``, the argmax as a flat index into the pooled axes (the first maximum in row-major
    order, as PyTorch's scan finds it)."""
    kind = op.kind
    first = x.ndim - len(op.output_size)
    values = x if kind == "max" else _float(x)
    if 0 in op.output_size:  # an empty output
        shape = (*x.shape[:first], *(i if o is None else o for i, o in zip(x.shape[first:], op.output_size)))
        empty = np.zeros(shape, dtype=x.dtype if kind == "max" or x.dtype.kind == "f" else values.dtype)
        return (empty, np.zeros(shape, dtype=np.int64)) if op.indices else empty
    where: list[np.ndarray] = []  # max with indices: per pooled axis reduced so far (the last ones), the winner
    for axis, o in reversed(list(zip(range(first, x.ndim), op.output_size))):
        if o is None and not op.indices:
            continue
        size = values.shape[axis]
        windows = adaptive_windows(size, size if o is None else o)
        parts = [values[(slice(None),) * axis + (slice(lo, hi),)] for lo, hi in windows]
        if kind == "avg":
            values = np.stack([p.mean(axis=axis) for p in parts], axis=axis)
            continue
        if op.indices:
            picks = [np.expand_dims(p.argmax(axis=axis), axis) for p in parts]
            carried = [np.concatenate([np.take_along_axis(w[(slice(None),) * axis + (slice(lo, hi),)], pick, axis)
                                       for pick, (lo, hi) in zip(picks, windows)], axis=axis) for w in where]
            where = [np.concatenate([pick + lo for pick, (lo, _) in zip(picks, windows)], axis=axis), *carried]
        values = np.stack([p.max(axis=axis) for p in parts], axis=axis)
    if kind == "avg":
        return values.astype(x.dtype, copy=False) if x.dtype.kind == "f" else values
    if not op.indices:
        return values
    flat = np.zeros(values.shape, dtype=np.int64)
    for index, size in zip(where, x.shape[first:]):
        flat = flat * size + index
    return values, flat
