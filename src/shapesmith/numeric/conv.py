"""Convolution kernels: a strided window view plus one BLAS product; transposed conv as its adjoint.

Conv, per sample: pad into a reused buffer, take the window view (``sliding_window_view`` stepped by
the stride, the window stepped by the dilation) and copy it, a chunk of output rows at a time, into
an im2col matrix ``(C/g * prod(k) + 1, positions)`` whose last row is ones, so that
``[W | b] (C_out/g, C/g * prod(k) + 1) @ cols`` is the channels-first output, bias included. With
stride 1 every im2col row is one contiguous slice of the flattened sample: for zero padding that
keeps the sizes (``'same'``) the output has the input's own layout (zeros around the sample stand
for the padding rows, taps that would wrap into the next row are zeroed); otherwise the product
covers whole padded rows and the cells past a row's last window are dropped.

Transposed conv, the adjoint: tap ``t`` of input ``i`` lands on output ``i*s + t*d``. Split by phase
(output cells ``q*s + r``), each phase is a stride-1 correlation of the input with the taps of
residue ``(t*d) mod s`` at offsets ``(t*d)//s`` (a sub-pixel convolution), so it is the same
im2col product, one for all phases when they share their offsets, each phase written once,
strided, into the output: no scatter-add.

The window geometry (:class:`WindowAxis`, :class:`ScatterAxis`, SAME resolved from the input size)
is the numeric module's own: it never calls the shape formulas; pooling and the unfold view use it.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace
from itertools import product

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from ..errors import ShapesmithError
from ..ops import SAME_LOWER, Conv, ConvTranspose
from ..ops.separable import DepthwiseConv
from .registry import Weights, WeightError, kernel

CHUNK_BYTES = 4 << 20  # an im2col chunk: ~1-2k columns, where BLAS runs fastest, and still in the L3 cache
SCRATCH_KEPT = 64 << 20  # larger work buffers are not kept between calls
NUMPY_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
_SCRATCH = threading.local()


def scratch(role: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A per-thread work buffer kept between calls (a fresh large array page-faults on first touch, which
    costs as much as a small conv's whole im2col copy). Its contents are stale: the caller fills it."""
    store, key = _SCRATCH.__dict__, (role, np.dtype(dtype))
    count = math.prod(shape)
    held = store.get(key)
    if held is None or held.size < count:
        held = np.empty(max(count, 1), dtype=dtype)
        if held.nbytes <= SCRATCH_KEPT:
            store[key] = held
    return held[:count].reshape(shape)


def _view_as(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` reshaped without a copy (raises if that is impossible: writing into a copy would be lost)."""
    view = a.view()
    view.shape = shape
    return view


# ---- window geometry ----

@dataclass(frozen=True)
class WindowAxis:
    """One spatial axis of a sliding window: output ``j`` reads padded cell ``j*s + t*d`` for tap ``t``,
    which is input index ``j*s + t*d - pad_begin`` (outside ``[0, size)``: padding)."""

    size: int
    kernel: int
    stride: int
    dilation: int
    pad_begin: int
    pad_end: int
    out: int

    @property
    def effective(self) -> int:
        return self.dilation * (self.kernel - 1) + 1

    def index(self, j: int, t: int) -> int:
        return j * self.stride + t * self.dilation - self.pad_begin


def same_pads(i: int, k: int, s: int, d: int, lower: bool = False) -> tuple[int, int]:
    """TF SAME: ``o = ceil(i/s)``, total pad ``max((o - 1)*s + d*(k - 1) + 1 - i, 0)``; the odd cell
    goes at the end (SAME_UPPER) or the beginning (SAME_LOWER)."""
    o = -(-i // s)
    total = max((o - 1) * s + d * (k - 1) + 1 - i, 0)
    small = total // 2
    return (total - small, small) if lower else (small, total - small)


def resolve_pads(padding: tuple, spatial: tuple[int, ...], kernel_: tuple, stride: tuple,
                 dilation: tuple) -> list[tuple[int, int]]:
    """Per axis ``(begin, end)``, the SAME forms resolved from the input size."""
    return [same_pads(i, k, s, d, lower=pad == SAME_LOWER) if isinstance(pad, str) else tuple(pad)
            for pad, i, k, s, d in zip(padding, spatial, kernel_, stride, dilation)]


def window_axes(padding: tuple, spatial: tuple[int, ...], kernel_: tuple, stride: tuple, dilation: tuple,
                ceil_mode: bool = False) -> tuple[WindowAxis, ...]:
    """The windows of a conv or pool: ``o = floor((i + pb + pe - eff)/s) + 1``; ``ceil_mode`` rounds up but
    drops a last window that would start past the input and its left padding (PyTorch, ONNX)."""
    axes = []
    for (pb, pe), i, k, s, d in zip(resolve_pads(padding, spatial, kernel_, stride, dilation), spatial, kernel_,
                                    stride, dilation):
        span = i + pb + pe - (d * (k - 1) + 1)
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= i + pb:
            o -= 1
        axes.append(WindowAxis(i, k, s, d, pb, pe, o))
    return tuple(axes)


@dataclass(frozen=True)
class ScatterAxis:
    """One axis of a transposed conv: input ``i`` through tap ``t`` lands on full-output cell ``i*s + t*d``;
    output ``j`` is full cell ``j + crop`` (``crop``: the padding at the beginning; the end is cut at ``out``)."""

    size: int
    kernel: int
    stride: int
    dilation: int
    crop: int
    out: int

    @property
    def shift(self) -> int:
        """The largest input offset of a tap within its phase, ``(k - 1)*d // s``."""
        return (self.kernel - 1) * self.dilation // self.stride

    def sources(self, j: int) -> list[tuple[int, int]]:
        """``(input index, tap)`` pairs that scatter into output ``j``."""
        pairs = []
        for t in range(self.kernel):
            q, r = divmod(j + self.crop - t * self.dilation, self.stride)
            if r == 0 and 0 <= q < self.size:
                pairs.append((q, t))
        return pairs


def scatter_axes(op: ConvTranspose, spatial: tuple[int, ...], framework: str,
                 config: dict | None = None) -> tuple[ScatterAxis, ...]:
    """``o = (i - 1)*s - pb - pe + d*(k - 1) + 1 + op``, output ``j`` = full cell ``j + pb``, except:

    * Keras 3 / tf.keras 2 ``padding='same'`` place the output as TensorFlow does, as the forward SAME conv of
      the output size pads it: crop ``max((i - 1)*s + eff - o, 0)//2``;
    * an ONNX ``output_shape`` past the last tap gives a negative total padding, which onnxruntime clamps to 0:
      the extra cells come at the end (crop 0)."""
    tf_same = framework in ("keras", "keras2") and str((config or {}).get("padding", "")).lower() == "same"
    axes = []
    for i, k, s, d, (pb, pe), extra in zip(spatial, op.kernel, op.stride, op.dilation, op.padding,
                                            op.output_padding):
        eff = d * (k - 1) + 1
        o = (i - 1) * s - pb - pe + eff + extra
        if tf_same:
            crop = max((i - 1) * s + eff - o, 0) // 2
        elif framework == "onnx":
            crop = max(pb, 0)
        else:
            crop = pb
        axes.append(ScatterAxis(i, k, s, d, crop, o))
    return tuple(axes)


def compute_dtype(x: np.ndarray, *weights: np.ndarray | None) -> np.dtype:
    """Float32 and float64 inputs keep their dtype; float16 computes in float32; integers take the
    weights' float type (float64 without float weights)."""
    if x.dtype.kind == "f":
        return np.dtype(np.float32) if x.dtype.itemsize < 4 else x.dtype
    floats = [w.dtype for w in weights if w is not None and w.dtype.kind == "f"]
    return np.result_type(*floats) if floats else np.dtype(np.float64)


# ---- conv ----

def _with_bias(w_groups: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """``[W | b]``: the product with an im2col matrix whose last row is ones adds the bias."""
    if bias is None:
        return w_groups
    return np.concatenate([w_groups, bias.reshape(*w_groups.shape[:2], 1).astype(w_groups.dtype)], axis=2)


def _columns(body: tuple[int, ...], span: int, biased: bool, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """The im2col buffer ``(n, g, K (+ a ones row), span)`` and its first ``K`` rows viewed as ``body``
    ``(n, g, C/g, *taps, *span dims)``, for a window view to be copied into."""
    rows = math.prod(body[2:]) // span
    cols = scratch("im2col", (*body[:2], rows + biased, span), dtype)
    if biased:
        cols[:, :, rows] = 1
    return cols, _view_as(cols[:, :, :rows], body)


def _blocks(n_batch: int, rows: tuple[int, int], row_bytes: int):
    """``(n0, n1, r0, r1)``: whole samples together while their im2col fits :data:`CHUNK_BYTES` (fewer, larger
    calls for small images), else one sample at a time in chunks of output rows; chunks split evenly."""
    count = rows[1] - rows[0]
    if count * row_bytes <= CHUNK_BYTES:
        per, chunk = _even(n_batch, count * row_bytes), count
    else:
        per, chunk = 1, _even(count, row_bytes)
    for n0 in range(0, n_batch, per):
        for r0 in range(rows[0], rows[1], chunk):
            yield n0, min(n0 + per, n_batch), r0, min(r0 + chunk, rows[1])


def _even(items: int, item_bytes: int) -> int:
    """Items per chunk within :data:`CHUNK_BYTES`, split evenly (no short last chunk)."""
    chunks = max(1, -(-items * item_bytes // CHUNK_BYTES))
    return max(1, -(-items // chunks))


def _flat_steps(sizes: tuple[int, ...]) -> list[int]:
    """The flat distance of one step along each axis of a C-ordered grid."""
    return [math.prod(sizes[j + 1:]) for j in range(len(sizes))]


def convolve(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, axes: tuple[WindowAxis, ...], groups: int = 1,
             padding_mode: str = "zeros") -> np.ndarray:
    """``(N, C, *S)`` with ``w (C_out, C/g, *k)`` -> ``(N, C_out, *O)``: ``out[n, o, j] = b[o] +
    sum_{c, t} w[o, c, t] * xpad[n, g(o)*C/g + c, j*s + t*d]``."""
    n_batch, channels = x.shape[:2]
    c_out, rank = w.shape[0], len(axes)
    w_groups = w.reshape(groups, c_out // groups, -1)
    out = np.empty((n_batch, c_out, *(a.out for a in axes)), dtype=w.dtype)
    x, axes = _cropped(x, axes)
    unit = all(a.stride == 1 for a in axes)
    if n_batch == 0:
        return out
    if unit and all(a.kernel == 1 and a.pad_begin == a.pad_end == 0 for a in axes):  # 1x1: x is the im2col
        np.matmul(w_groups, x.reshape(n_batch, groups, channels // groups, -1),
                  out=out.reshape(n_batch, groups, c_out // groups, -1))
        if bias is not None:
            out += bias.reshape(c_out, *(1,) * rank)
    elif unit and padding_mode == "zeros" and all(a.out == a.size for a in axes[1:]):
        _convolve_aligned(x, _with_bias(w_groups, bias), bias is not None, axes, out)
    elif unit:
        _convolve_rows(x, _with_bias(w_groups, bias), bias is not None, axes, padding_mode, out)
    else:
        _convolve_windows(x, _with_bias(w_groups, bias), bias is not None, axes, padding_mode, out)
    return out


def _convolve_windows(x: np.ndarray, w_aug: np.ndarray, biased: bool, axes: tuple[WindowAxis, ...],
                      padding_mode: str, out: np.ndarray) -> None:
    """Any stride: im2col ``(C, *k, rows, *O[1:])`` copied from the strided window view, the product written
    straight into the output."""
    n_batch, channels = x.shape[:2]
    groups, rank = w_aug.shape[0], len(axes)
    kernel_, outs = tuple(a.kernel for a in axes), tuple(a.out for a in axes)
    rest = math.prod(outs[1:])
    order = (0, 1, *range(rank + 2, 2 * rank + 2), *range(2, rank + 2))  # (N, C, *k, *O)
    pick = (slice(None), slice(None), *(slice(None, None, a.stride) for a in axes),
            *(slice(None, None, a.dilation) for a in axes))
    flat = out.reshape(n_batch, groups, -1, math.prod(outs))
    blocks = list(_blocks(n_batch, (0, outs[0]), channels * math.prod(kernel_) * rest * w_aug.itemsize))
    padded = _Padded(x, [(a.pad_begin, a.pad_end) for a in axes], padding_mode, most=blocks[0][1] - blocks[0][0])
    for n0, n1, r0, r1 in blocks:
        if r0 == 0:
            view = sliding_window_view(padded.grid(n0, n1), tuple(a.effective for a in axes),
                                       axis=tuple(range(2, rank + 2)))[pick].transpose(order)
        body = (n1 - n0, groups, channels // groups, *kernel_, r1 - r0, *outs[1:])
        cols, dest = _columns(body, (r1 - r0) * rest, biased, w_aug.dtype)
        np.copyto(dest, _view_as(view[(Ellipsis, slice(r0, r1), *(slice(None),) * (rank - 1))], body))
        np.matmul(w_aug, cols, out=flat[n0:n1, :, :, r0 * rest:r1 * rest])


def _row_columns(flat: np.ndarray, groups: int, counts: tuple[int, ...], tap_steps: tuple[int, ...], start: int,
                 span: int, biased: bool) -> tuple[np.ndarray, np.ndarray]:
    """The im2col of a block of flattened samples ``flat (n, C, L)``: ``cols[n, (c, t), p] =
    flat[n, c, start + p + sum_a t_a*tap_steps[a]]`` for ``p < span``, each row one contiguous slice."""
    n_block, channels = flat.shape[:2]
    itemsize = flat.itemsize
    body = (n_block, groups, channels // groups, *counts, span)
    view = as_strided(flat[:, :, start:], (n_block, channels, *counts, span),
                      (*flat.strides[:2], *(s * itemsize for s in tap_steps), itemsize), writeable=False)
    cols, dest = _columns(body, span, biased, flat.dtype)
    np.copyto(dest, _view_as(view, body))
    return cols, dest


def _convolve_aligned(x: np.ndarray, w_aug: np.ndarray, biased: bool, axes: tuple[WindowAxis, ...],
                      out: np.ndarray) -> None:
    """Stride 1, zero padding that keeps every axis but the first (``'same'``-like): the output has the input's
    flat layout, and output cell ``p`` reads flat input cell ``p + sum_j (t_j*d_j - pb_j)*step_j``. Zero rows
    around the sample are the first axis' padding; a tap reading past the edge of another axis (which lands on
    the neighbouring row) is zeroed in the im2col. The product goes straight into the output."""
    n_batch, channels = x.shape[:2]
    groups, rank = w_aug.shape[0], len(axes)
    kernel_, sizes = tuple(a.kernel for a in axes), tuple(a.size for a in axes)
    steps = _flat_steps(sizes)
    row = steps[0]
    inner = list(zip(axes[1:], steps[1:]))
    edges = [(j, t, cells) for j, a in enumerate(axes) if j > 0 for t in range(a.kernel)
             for cells in (slice(0, max(0, a.pad_begin - t * a.dilation)),
                           slice(min(a.size, max(0, a.size + a.pad_begin - t * a.dilation)), None))]
    tap_steps = tuple(a.dilation * step for a, step in zip(axes, steps))
    flat = out.reshape(n_batch, groups, -1, axes[0].out * row)
    blocks = list(_blocks(n_batch, (0, axes[0].out), channels * math.prod(kernel_) * row * w_aug.itemsize))
    padded = _Padded(x, [(axes[0].pad_begin, axes[0].pad_end)] + [(0, 0)] * (rank - 1), "zeros",
                     lead=sum(a.pad_begin * step for a, step in inner),
                     slack=max(0, sum(((a.kernel - 1) * a.dilation - a.pad_begin) * step for a, step in inner)),
                     most=blocks[0][1] - blocks[0][0])
    for n0, n1, r0, r1 in blocks:
        if r0 == 0:  # a new block of samples (row chunks of one sample reuse it)
            block = padded.flat(n0, n1)
        cols, dest = _row_columns(block, groups, kernel_, tap_steps, r0 * row, (r1 - r0) * row, biased)
        grid = _view_as(dest, (*dest.shape[:-1], r1 - r0, *sizes[1:]))
        for j, t, cells in edges:
            grid[(Ellipsis, *_at(rank, j, t, cells))] = 0
        np.matmul(w_aug, cols, out=flat[n0:n1, :, :, r0 * row:r1 * row])


def _at(rank: int, axis: int, tap: int, cells: slice) -> tuple:
    """Index of an im2col grid ``(..., *k, rows, *inner)``: tap ``tap`` of ``axis`` and output ``cells`` on it."""
    return (*(tap if j == axis else slice(None) for j in range(rank)),
            *(cells if j == axis else slice(None) for j in range(rank)))


def _convolve_rows(x: np.ndarray, w_aug: np.ndarray, biased: bool, axes: tuple[WindowAxis, ...],
                   padding_mode: str, out: np.ndarray) -> None:
    """Stride 1, any padding: output cell ``p`` of the padded grid reads flat cell ``p + offset(t)``; the product
    covers whole padded rows and the cells past a row's last window are dropped."""
    n_batch, channels = x.shape[:2]
    groups = w_aug.shape[0]
    kernel_ = tuple(a.kernel for a in axes)
    pads = [(a.pad_begin, a.pad_end) for a in axes]
    sizes = tuple(a.size + pb + pe for a, (pb, pe) in zip(axes, pads))
    steps = _flat_steps(sizes)
    row = steps[0]
    keep = (slice(None), slice(None), slice(None), *(slice(0, a.out) for a in axes[1:]))
    tap_steps = tuple(a.dilation * step for a, step in zip(axes, steps))
    blocks = list(_blocks(n_batch, (0, axes[0].out), channels * math.prod(kernel_) * row * w_aug.itemsize))
    padded = _Padded(x, pads, padding_mode, most=blocks[0][1] - blocks[0][0],
                     slack=sum((a.kernel - 1) * a.dilation * step for a, step in zip(axes[1:], steps[1:])))
    for n0, n1, r0, r1 in blocks:
        if r0 == 0:
            block = padded.flat(n0, n1)
        cols, _ = _row_columns(block, groups, kernel_, tap_steps, r0 * row, (r1 - r0) * row, biased)
        product_ = scratch("product", (n1 - n0, groups, w_aug.shape[1], (r1 - r0) * row), w_aug.dtype)
        np.matmul(w_aug, cols, out=product_)
        np.copyto(out[n0:n1, :, r0:r1], product_.reshape(n1 - n0, -1, r1 - r0, *sizes[1:])[keep])


def _cropped(x: np.ndarray, axes: tuple[WindowAxis, ...]) -> tuple[np.ndarray, tuple[WindowAxis, ...]]:
    """A negative pad crops the input: the cropped input and its windows, every pad >= 0."""
    if all(a.pad_begin >= 0 and a.pad_end >= 0 for a in axes):
        return x, axes
    keep = tuple(slice(max(-a.pad_begin, 0), a.size - max(-a.pad_end, 0)) for a in axes)
    cropped = tuple(replace(a, size=a.size - max(-a.pad_begin, 0) - max(-a.pad_end, 0),
                            pad_begin=max(a.pad_begin, 0), pad_end=max(a.pad_end, 0)) for a in axes)
    return x[(slice(None), slice(None), *keep)], cropped


class _Padded:
    """Blocks of padded samples in a reused buffer ``(n, C, lead + prod(padded sizes) + slack)``: the lead and
    slack (and, for zero padding, the padding) are zeroed once per call, each block writes only the inside;
    reflect / replicate / circular padding come from ``np.pad``."""

    def __init__(self, x: np.ndarray, pads: list[tuple[int, int]], mode: str, lead: int = 0, slack: int = 0,
                 most: int = 1):
        self.x, self.pads, self.mode = x, pads, NUMPY_PAD_MODES.get(mode)
        self.sizes = tuple(size + pb + pe for size, (pb, pe) in zip(x.shape[2:], pads))
        self.lead, self.slack = lead, slack
        self.inner = (slice(None), slice(None), *(slice(pb, pb + size) for size, (pb, _) in zip(x.shape[2:], pads)))
        self.direct = not any(map(any, pads)) and lead == slack == 0
        if self.direct:
            return
        length = math.prod(self.sizes)
        self.buffer = scratch("padded", (most, self.x.shape[1], self.lead + length + self.slack), self.x.dtype)
        self.buffer[:, :, :self.lead] = 0
        self.buffer[:, :, self.lead + length:] = 0
        if self.mode is None:  # zero the padding once: each block only writes the inside
            grid = self._grid(most)
            for j, (pb, pe) in enumerate(self.pads):
                grid[(slice(None),) * (j + 2) + (slice(0, pb),)] = 0
                grid[(slice(None),) * (j + 2) + (slice(grid.shape[j + 2] - pe, None),)] = 0

    def _grid(self, count: int) -> np.ndarray:
        length = math.prod(self.sizes)
        return self.buffer[:count, :, self.lead:self.lead + length].reshape(count, self.x.shape[1], *self.sizes)

    def flat(self, n0: int, n1: int) -> np.ndarray:
        """Samples ``n0 <= n < n1`` padded and flattened, between the zero lead and slack."""
        if self.direct:
            return np.ascontiguousarray(self.x[n0:n1]).reshape(n1 - n0, self.x.shape[1], -1)
        grid = self._grid(n1 - n0)
        if self.mode is None:
            grid[self.inner] = self.x[n0:n1]
        else:
            grid[...] = np.pad(self.x[n0:n1], [(0, 0), (0, 0), *self.pads], mode=self.mode)
        return self.buffer[:n1 - n0]

    def grid(self, n0: int, n1: int) -> np.ndarray:
        """Samples ``n0 <= n < n1`` padded, ``(n, C, *padded sizes)``."""
        if self.direct:
            return self.x[n0:n1]
        self.flat(n0, n1)
        return self._grid(n1 - n0)


# ---- transposed conv ----

@dataclass(frozen=True)
class _Phase:
    """The kernel taps ``t`` of one residue ``r = (t*d) mod s`` per axis, and the grid cells ``q`` they fill:
    ``phase[q] = sum_t w_t^T x[q - (t*d)//s]``, output ``j = q*s + r - crop``."""

    residue: tuple[int, ...]
    taps: tuple[tuple[int, ...], ...]  # per axis
    first: tuple[int, ...]  # per axis, the grid range [first, last) that lands in the output
    last: tuple[int, ...]


def _phase_options(a: ScatterAxis) -> list[tuple[int, tuple[int, ...], int, int]]:
    """Per residue with taps and with cells in the output: ``(r, taps, first, last)``."""
    options = []
    for r in range(a.stride):
        taps = tuple(t for t in range(a.kernel) if (t * a.dilation) % a.stride == r)
        first = max(0, -((r - a.crop) // a.stride))
        last = min(a.size + a.shift, (a.out - 1 + a.crop - r) // a.stride + 1)
        if taps and last > first:
            options.append((r, taps, first, last))
    return options


def _offsets(phases: list[_Phase], axes: tuple[ScatterAxis, ...]) -> list[list[int]] | None:
    """Per axis, the input offsets ``shift - (t*d)//s`` the phases read, if they are evenly spaced (one strided
    im2col view covers them) and the phases use at least half of the product they would share."""
    offsets = []
    for j, a in enumerate(axes):
        values = sorted({a.shift - (t * a.dilation) // a.stride for p in phases for t in p.taps[j]})
        if len({hi - lo for lo, hi in zip(values, values[1:])}) > 1:
            return None
        offsets.append(values)
    used = sum(math.prod(len(t) for t in p.taps) for p in phases)
    return offsets if 2 * used >= len(phases) * math.prod(len(v) for v in offsets) else None


@dataclass(frozen=True)
class _PhasePlan:
    """Phases computed by one product: ``[W | b] (g, phases*C_out/g, C/g * prod(offsets) (+ 1))`` against the
    im2col of the input at the offsets they share (zero weights where a phase has no tap at an offset)."""

    phases: tuple[_Phase, ...]
    weights: np.ndarray
    counts: tuple[int, ...]
    tap_steps: tuple[int, ...]
    base: int
    rows: tuple[int, int]


def _plans(w: np.ndarray, bias: np.ndarray | None, axes: tuple[ScatterAxis, ...], groups: int,
           steps: list[int]) -> list[_PhasePlan]:
    phases = [_Phase(*(tuple(o[j] for o in combo) for j in range(4)))
              for combo in product(*(_phase_options(a) for a in axes))]
    if not phases:  # no tap reaches the output: the bias only
        return []
    together = _offsets(phases, axes)
    batches = [(phases, together)] if together else [([p], _offsets([p], axes)) for p in phases]
    per_in, per_out = w.shape[0] // groups, w.shape[1]
    w_split = np.moveaxis(w.reshape(groups, per_in, per_out, *w.shape[2:]), 2, 1)  # (g, C_out/g, C/g, *k)
    plans = []
    for batch, offsets in batches:
        big = np.zeros((groups, len(batch), per_out, per_in, *map(len, offsets)), dtype=w.dtype)
        for i, phase in enumerate(batch):
            places = [[offsets[j].index(a.shift - (t * a.dilation) // a.stride) for t in taps]
                      for j, (a, taps) in enumerate(zip(axes, phase.taps))]
            big[:, i][(Ellipsis, *np.ix_(*places))] = w_split[(Ellipsis, *np.ix_(*phase.taps))]
        w_groups = big.reshape(groups, len(batch) * per_out, -1)
        b = None if bias is None else np.broadcast_to(bias.reshape(groups, 1, per_out), (groups, len(batch), per_out))
        gaps = [v[1] - v[0] if len(v) > 1 else 1 for v in offsets]
        plans.append(_PhasePlan(tuple(batch), _with_bias(w_groups, b), tuple(map(len, offsets)),
                                tuple(g * step for g, step in zip(gaps, steps)),
                                sum(v[0] * step for v, step in zip(offsets, steps)),
                                (min(p.first[0] for p in batch), max(p.last[0] for p in batch))))
    return plans


def convolve_transpose(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, axes: tuple[ScatterAxis, ...],
                       groups: int = 1) -> np.ndarray:
    """``(N, C, *I)`` with ``w (C, C_out/g, *k)`` -> ``(N, C_out, *O)``, the adjoint of :func:`convolve`:
    ``full[n, o, i*s + t*d] += w[c, o, t] * x[n, c, i]``, ``out = full[crop : crop + o]`` (+ bias)."""
    n_batch, channels = x.shape[:2]
    per_out, rank = w.shape[1], len(axes)
    sizes = tuple(a.size + 2 * a.shift for a in axes)  # the input padded by the largest tap offset
    steps = _flat_steps(sizes)
    row = steps[0]
    plans = _plans(w, bias, axes, groups, steps)
    covered = all(sum(last - first for _, _, first, last in _phase_options(a)) == a.out for a in axes)
    out = (np.empty if covered else np.zeros)((n_batch, groups * per_out, *(a.out for a in axes)), dtype=w.dtype)
    if not covered and bias is not None:  # cells no tap reaches hold the bias only
        out += bias.reshape(-1, *(1,) * rank)
    split = out.reshape(n_batch, groups, per_out, *out.shape[2:])
    if n_batch == 0:
        return out
    sample_bytes = max((channels * math.prod(p.counts) * (p.rows[1] - p.rows[0]) * row * w.itemsize for p in plans),
                       default=1)
    per = _even(n_batch, sample_bytes)
    padded = _Padded(x, [(a.shift, a.shift) for a in axes], "zeros", most=per,
                     slack=sum(a.shift * step for a, step in zip(axes[1:], steps[1:])))
    for n0 in range(0, n_batch, per):
        n1 = min(n0 + per, n_batch)
        block = padded.flat(n0, n1)
        for plan in plans:
            for m0, m1, r0, r1 in _blocks(n1 - n0, plan.rows, channels * math.prod(plan.counts) * row * w.itemsize):
                cols, _ = _row_columns(block[m0:m1], groups, plan.counts, plan.tap_steps, plan.base + r0 * row,
                                       (r1 - r0) * row, bias is not None)
                product_ = scratch("product", (m1 - m0, groups, plan.weights.shape[1], (r1 - r0) * row), w.dtype)
                np.matmul(plan.weights, cols, out=product_)
                grid = product_.reshape(m1 - m0, groups, len(plan.phases), per_out, r1 - r0, *sizes[1:])
                for i, phase in enumerate(plan.phases):
                    _place(split[n0 + m0:n0 + m1], grid[:, :, i], phase, axes, r0, r1)
    return out


def _place(dest: np.ndarray, grid: np.ndarray, phase: _Phase, axes: tuple[ScatterAxis, ...], r0: int,
           r1: int) -> None:
    """Write one phase's grid rows ``r0 <= q < r1`` into the output cells ``j = q*s + r - crop``."""
    q0, q1 = max(r0, phase.first[0]), min(r1, phase.last[0])
    if q1 <= q0:
        return
    to, of = [slice(None), slice(None), slice(None)], [slice(None), slice(None), slice(None)]
    for j, a in enumerate(axes):
        lo, hi = (q0, q1) if j == 0 else (phase.first[j], phase.last[j])
        start = lo * a.stride + phase.residue[j] - a.crop
        to.append(slice(start, start + (hi - lo - 1) * a.stride + 1, a.stride))
        of.append(slice(lo - r0, hi - r0) if j == 0 else slice(lo, hi))
    np.copyto(dest[tuple(to)], grid[tuple(of)])


# ---- weights, per framework ----

def refuse_keras1(framework: str, layer: str) -> None:
    if framework == "keras1":
        raise ShapesmithError(
            f"{layer}: Keras 1 convolution weights are not computed: the Theano backend flipped the kernel "
            "(a true convolution) and the TensorFlow backend did not, so the same weights give different outputs "
            "depending on a backend the layer text does not name",
            expected="a PyTorch, Keras 3, tf.keras 2, TensorFlow or ONNX layer",
            fix="write the layer for Keras 3 (kernel (*k, C_in, C_out)); for Theano-trained kernels flip the "
                "spatial axes first (Keras 1's convert_kernel)")


def _bias(weights: Weights, framework: str, wanted: bool, c_out: int) -> np.ndarray | None:
    name = {"torch": "bias", "onnx": "B", "keras": "bias", "keras2": "bias"}.get(framework)
    if name is None:
        return None
    if framework == "onnx" and not wanted:
        return weights.optional(name, (c_out,))  # B is an optional graph input, written in the text or not
    return weights.take(name, (c_out,)) if wanted else None


def conv_weights(op: Conv, channels: int, weights: Weights, framework: str) -> tuple:
    """``(w (C_out, C/g, *k), bias or None)`` from the framework's own names and layout."""
    refuse_keras1(framework, weights.layer)
    rank, g = len(op.kernel), op.groups
    if framework in ("keras", "keras2", "tf"):
        name = "filters" if framework == "tf" else "kernel"
        raw = weights.take(name, (*op.kernel, channels // g, op.out_channels))
        w = np.moveaxis(raw, (rank, rank + 1), (1, 0))
    else:
        name = "W" if framework == "onnx" else "weight"
        w = weights.take(name, (op.out_channels, channels // g, *op.kernel))
    c_out = w.shape[0]
    if c_out % g:
        raise WeightError(f"{weights.layer}: weight {name!r} has {c_out} output channels, not divisible by groups={g}",
                          expected=f"a multiple of {g} output channels")
    return w, _bias(weights, framework, op.bias, c_out)


def transpose_weights(op: ConvTranspose, channels: int, weights: Weights, framework: str) -> tuple:
    """``(w (C, C_out/g, *k), bias or None)``; Keras and TF store ``(*k, C_out, C)``."""
    refuse_keras1(framework, weights.layer)
    rank, g = len(op.kernel), op.groups
    per_out = None if op.out_channels is None else op.out_channels // g
    if framework in ("keras", "keras2", "tf"):
        raw = weights.take("filters" if framework == "tf" else "kernel", (*op.kernel, per_out, channels))
        w = np.moveaxis(raw, (rank + 1, rank), (0, 1))
    else:
        w = weights.take("W" if framework == "onnx" else "weight", (channels, per_out, *op.kernel))
    return w, _bias(weights, framework, op.bias, w.shape[1] * g)


# ---- kernels ----

def _spatial_of(x: np.ndarray) -> tuple[int, ...]:
    return tuple(int(d) for d in x.shape[2:])


def _torch_channel_pad(x: np.ndarray, op: Conv, framework: str, config: dict) -> np.ndarray:
    """PyTorch's F.pad with one more padding value than spatial axes also pads the channel dim."""
    padding = config.get("padding")
    if framework != "torch" or op.padding_mode == "zeros" or not isinstance(padding, (tuple, list)) \
            or len(padding) != len(op.kernel) + 1:
        return x
    p = int(padding[0])
    return np.pad(x, [(0, 0), (p, p)] + [(0, 0)] * len(op.kernel), mode=NUMPY_PAD_MODES[op.padding_mode])


def _in_dtype(dtype: np.dtype, x: np.ndarray, *arrays: np.ndarray | None) -> list:
    return [None if a is None else a.astype(dtype, copy=False) for a in (x, *arrays)]


def _as_input_dtype(y: np.ndarray, like: np.ndarray) -> np.ndarray:
    return y.astype(like.dtype, copy=False) if like.dtype.kind == "f" else y


@kernel(Conv)
def conv_forward(op: Conv, x: np.ndarray, weights: Weights, *, framework: str, config: dict) -> np.ndarray:
    source = x
    x = _torch_channel_pad(x, op, framework, config)
    w, b = conv_weights(op, x.shape[1], weights, framework)
    axes = window_axes(op.padding, _spatial_of(x), op.kernel, op.stride, op.dilation)
    x, w, b = _in_dtype(compute_dtype(x, w, b), x, w, b)
    return _as_input_dtype(convolve(x, w, b, axes, op.groups, op.padding_mode), source)


@kernel(ConvTranspose)
def conv_transpose_forward(op: ConvTranspose, x: np.ndarray, weights: Weights, *, framework: str,
                           config: dict) -> np.ndarray:
    source = x
    w, b = transpose_weights(op, x.shape[1], weights, framework)
    axes = scatter_axes(op, _spatial_of(x), framework, config)
    x, w, b = _in_dtype(compute_dtype(x, w, b), x, w, b)
    return _as_input_dtype(convolve_transpose(x, w, b, axes, op.groups), source)


def depthwise_weights(op: DepthwiseConv, channels: int, weights: Weights, framework: str) -> tuple:
    """The depthwise kernel ``(*k, C, m)`` as a grouped ``(C*m, 1, *k)`` (output ``c*m + j``), and the separable
    ``pointwise_kernel (1, .., C*m, filters)`` as ``(filters, C*m, 1, ..)``. Keras 3 names a DepthwiseConv's
    kernel ``kernel``; tf.keras 2 and both SeparableConvs ``depthwise_kernel``."""
    rank, m = len(op.kernel), op.depth_multiplier
    name = "kernel" if framework == "keras" and op.filters is None else "depthwise_kernel"
    raw = weights.take(name, (*op.kernel, channels, m))
    depthwise = np.moveaxis(raw.reshape(*op.kernel, channels * m), -1, 0)[:, None]
    pointwise = None
    if op.filters is not None:
        raw = weights.take("pointwise_kernel", (*(1,) * rank, channels * m, op.filters))
        pointwise = np.moveaxis(raw, (rank, rank + 1), (1, 0))
    bias = weights.take("bias", (op.filters or channels * m,)) if op.bias else None
    return depthwise, pointwise, bias


@kernel(DepthwiseConv)
def depthwise_forward(op: DepthwiseConv, x: np.ndarray, weights: Weights, *, framework: str,
                      config: dict) -> np.ndarray:
    """Keras DepthwiseConv / SeparableConv: a conv with ``groups = C``, then (separable) a 1x1 conv."""
    source, channels = x, x.shape[1]
    depthwise, pointwise, b = depthwise_weights(op, channels, weights, framework)
    axes = window_axes(op.padding, _spatial_of(x), op.kernel, op.stride, op.dilation)
    x, depthwise, pointwise, b = _in_dtype(compute_dtype(x, depthwise, pointwise, b), x, depthwise, pointwise, b)
    y = convolve(x, depthwise, None if pointwise is not None else b, axes, channels)
    if pointwise is not None:
        ones = tuple(WindowAxis(size, 1, 1, 1, 0, 0, size) for size in y.shape[2:])
        y = convolve(y, pointwise, b, ones)
    return _as_input_dtype(y, source)
