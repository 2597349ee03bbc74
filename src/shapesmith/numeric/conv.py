"""Convolution kernels: a strided window view plus one BLAS product; transposed conv as its adjoint.

Conv, per sample: pad into a reused buffer, take the window view
(``sliding_window_view`` stepped by the stride, the window stepped by the dilation), copy it
chunk by chunk into an im2col matrix laid out ``(C/g * prod(k), positions)`` so that
``W (C_out/g, C/g * prod(k)) @ cols`` writes straight into the channels-first output.

Transposed conv, per sample: ``Z = W^T @ x`` gives every kernel tap's contribution; tap ``t``
lands on output ``i*s + t*d``. Taps are grouped by their phase ``(t*d) mod s``: within a phase the
contributions are plain shifts by ``(t*d) // s``, added contiguously into a per-phase grid (the
input is embedded in that grid's row width, so every shift is one flat offset), and each phase
grid is then written once, strided, into the output (col2im without strided adds).

The window geometry here (:class:`WindowAxis`, SAME resolved from the input size) is the
numeric module's own: it never calls the shape formulas, and pooling and the unfold view use it.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from itertools import product

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ShapesmithError
from ..ops import SAME_LOWER, Conv, ConvTranspose
from ..ops.separable import DepthwiseConv
from .registry import Weights, WeightError, kernel

CHUNK_BYTES = 1 << 20  # im2col / tap-product chunks stay in a 1 MiB L2
NUMPY_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
_SCRATCH = threading.local()


def scratch(role: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A per-thread work buffer kept between calls: a fresh large array costs a page fault per 4 KiB on first
    touch, as much as the whole im2col copy of a small conv. Contents are stale: the caller fills it."""
    store = _SCRATCH.__dict__
    count = math.prod(shape)
    held = store.get((role, np.dtype(dtype)))
    if held is None or held.size < count:
        held = store[(role, np.dtype(dtype))] = np.empty(max(count, 1), dtype=dtype)
    return held[:count].reshape(shape)


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
    pads = []
    for pad, i, k, s, d in zip(padding, spatial, kernel_, stride, dilation):
        pads.append(same_pads(i, k, s, d, lower=pad == SAME_LOWER) if isinstance(pad, str) else tuple(pad))
    return pads


def window_axes(padding: tuple, spatial: tuple[int, ...], kernel_: tuple, stride: tuple, dilation: tuple,
                ceil_mode: bool = False) -> tuple[WindowAxis, ...]:
    """The windows of a conv or pool: ``o = floor((i + pb + pe - eff)/s) + 1``; ``ceil_mode`` rounds up
    but drops a last window that would start past the input and the left padding (PyTorch, ONNX)."""
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
    output ``j`` is full cell ``j + crop`` (``crop`` = the padding at the beginning; the end is cut at ``out``)."""

    size: int
    kernel: int
    stride: int
    dilation: int
    crop: int
    out: int

    def sources(self, j: int) -> list[tuple[int, int]]:
        """``(input index, tap)`` pairs that scatter into output ``j``."""
        f = j + self.crop
        pairs = []
        for t in range(self.kernel):
            q, r = divmod(f - t * self.dilation, self.stride)
            if r == 0 and 0 <= q < self.size:
                pairs.append((q, t))
        return pairs


def scatter_axes(op: ConvTranspose, spatial: tuple[int, ...], framework: str,
                 config: dict | None = None) -> tuple[ScatterAxis, ...]:
    """``o = (i - 1)*s - pb - pe + d*(k - 1) + 1 + op``. Keras 3 / tf.keras 2 ``padding='same'`` places the
    output as TF does, as the forward SAME conv of the output size would: crop ``max((i - 1)*s + eff - o, 0)//2``."""
    tf_same = framework in ("keras", "keras2") and str((config or {}).get("padding", "")).lower() == "same"
    axes = []
    for i, k, s, d, (pb, pe), extra in zip(spatial, op.kernel, op.stride, op.dilation, op.padding,
                                            op.output_padding):
        eff = d * (k - 1) + 1
        o = (i - 1) * s - pb - pe + eff + extra
        crop = max((i - 1) * s + eff - o, 0) // 2 if tf_same else pb
        axes.append(ScatterAxis(i, k, s, d, crop, o))
    return tuple(axes)


def compute_dtype(x: np.ndarray, *weights: np.ndarray) -> np.dtype:
    """Float32 and float64 inputs keep their dtype; float16 computes in float32; integers take the
    weights' float type (float64 without weights)."""
    if x.dtype.kind == "f":
        return np.dtype(np.float32) if x.dtype.itemsize < 4 else x.dtype
    floats = [w.dtype for w in weights if w is not None and w.dtype.kind == "f"]
    return np.result_type(*floats) if floats else np.dtype(np.float64)


def convolve(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, axes: tuple[WindowAxis, ...], groups: int = 1,
             padding_mode: str = "zeros") -> np.ndarray:
    """``(N, C, *S)`` with ``w (C_out, C/g, *k)`` -> ``(N, C_out, *O)``: ``out[n, o, j] = b[o] +
    sum_{c, t} w[o, c, t] * xpad[n, g(o)*C/g + c, j*s + t*d]``."""
    n_batch, channels = x.shape[:2]
    c_out = w.shape[0]
    outs = tuple(a.out for a in axes)
    rank = len(axes)
    taps = math.prod(a.kernel for a in axes)
    w_groups = w.reshape(groups, c_out // groups, (channels // groups) * taps)
    out = np.empty((n_batch, c_out, *outs), dtype=w.dtype)
    b = None if bias is None else bias.reshape(c_out, *(1,) * rank)
    x = _cropped(x, axes)
    pads = [(max(a.pad_begin, 0), max(a.pad_end, 0)) for a in axes]
    if taps == 1 and all(a.stride == 1 for a in axes) and not any(map(any, pads)):
        flat = out.reshape(n_batch, groups, c_out // groups, -1)
        np.matmul(w_groups, x.reshape(n_batch, groups, channels // groups, -1), out=flat)  # 1x1: no im2col
        if b is not None:
            out += b
    elif rank > 1 and all(a.stride == 1 for a in axes):
        _convolve_rows(x, w_groups, b, axes, pads, padding_mode, out)
    else:
        _convolve_windows(x, w_groups, b, axes, pads, padding_mode, out)
    return out


def _convolve_windows(x: np.ndarray, w_groups: np.ndarray, b: np.ndarray | None, axes: tuple[WindowAxis, ...],
                      pads: list, padding_mode: str, out: np.ndarray) -> None:
    """Any stride: im2col ``(C, *k, rows, *O[1:])`` copied from the strided window view, chunk by chunk."""
    n_batch, channels = x.shape[:2]
    groups, rank = w_groups.shape[0], len(axes)
    kernel_, outs = tuple(a.kernel for a in axes), tuple(a.out for a in axes)
    taps, rest = math.prod(kernel_), math.prod(outs[1:])
    rows = max(1, min(outs[0], CHUNK_BYTES // (channels * taps * rest * w_groups.itemsize)))
    buffer = scratch("im2col", (channels * taps * rows * rest,), w_groups.dtype)
    order = (0, *range(rank + 1, 2 * rank + 1), *range(1, rank + 1))  # (C, *k, *O)
    pick = (slice(None), *(slice(None, None, a.stride) for a in axes), *(slice(None, None, a.dilation) for a in axes))
    flat = out.reshape(n_batch, groups, -1, math.prod(outs))
    padded = _SamplePadder(x, pads, padding_mode)
    for n in range(n_batch):
        view = sliding_window_view(padded(n), tuple(a.effective for a in axes), axis=tuple(range(1, rank + 1)))
        view = view[pick].transpose(order)
        for r0 in range(0, outs[0], rows):
            r1 = min(r0 + rows, outs[0])
            cols = buffer[:channels * taps * (r1 - r0) * rest].reshape(channels, *kernel_, r1 - r0, *outs[1:])
            np.copyto(cols, view[(Ellipsis, slice(r0, r1), *(slice(None),) * (rank - 1))])
            dest = flat[n, :, :, r0 * rest:r1 * rest]
            np.matmul(w_groups, cols.reshape(groups, -1, (r1 - r0) * rest), out=dest)
            if b is not None:
                dest += b.reshape(groups, -1, 1)


def _convolve_rows(x: np.ndarray, w_groups: np.ndarray, b: np.ndarray | None, axes: tuple[WindowAxis, ...],
                   pads: list, padding_mode: str, out: np.ndarray) -> None:
    """Stride 1, rank >= 2: output cell ``p`` of the padded grid reads flat cell ``p + offset(t)``, so each im2col
    row is one contiguous slice of the flattened padded sample. The product covers whole padded rows; the cells
    past the last window of a row are dropped when the rows are copied out (with the bias)."""
    n_batch, channels = x.shape[:2]
    groups, rank, itemsize = w_groups.shape[0], len(axes), w_groups.itemsize
    kernel_, outs = tuple(a.kernel for a in axes), tuple(a.out for a in axes)
    taps = math.prod(kernel_)
    padded_sizes = tuple(a.size + pb + pe for a, (pb, pe) in zip(axes, pads))
    steps = [math.prod(padded_sizes[j + 1:]) for j in range(rank)]  # flat distance of one step along each axis
    row = steps[0]
    slack = sum((a.kernel - 1) * a.dilation * step for a, step in zip(axes[1:], steps[1:]))
    rows = max(1, min(outs[0], CHUNK_BYTES // (channels * taps * row * itemsize)))
    buffer = scratch("im2col", (channels * taps * rows * row,), w_groups.dtype)
    product_ = scratch("rows", (w_groups.shape[0] * w_groups.shape[1] * rows * row,), w_groups.dtype)
    padded = _SamplePadder(x, pads, padding_mode, slack)
    keep = (slice(None), slice(None), *(slice(0, o) for o in outs[1:]))
    tap_strides = tuple(a.dilation * step * itemsize for a, step in zip(axes, steps))
    for n in range(n_batch):
        sample = padded.flat(n)
        for r0 in range(0, outs[0], rows):
            r1 = min(r0 + rows, outs[0])
            span = (r1 - r0) * row
            view = np.lib.stride_tricks.as_strided(sample[:, r0 * row:], (channels, *kernel_, span),
                                                   (sample.strides[0], *tap_strides, itemsize), writeable=False)
            cols = buffer[:channels * taps * span].reshape(channels, *kernel_, span)
            np.copyto(cols, view)
            wide = product_[:w_groups.shape[0] * w_groups.shape[1] * span].reshape(groups, -1, span)
            np.matmul(w_groups, cols.reshape(groups, -1, span), out=wide)
            wide = wide.reshape(-1, r1 - r0, *padded_sizes[1:])[keep]
            dest = out[n, :, r0:r1]
            if b is None:
                np.copyto(dest, wide)
            else:
                np.add(wide, b, out=dest)


def _cropped(x: np.ndarray, axes: tuple[WindowAxis, ...]) -> np.ndarray:
    """A negative pad crops the input."""
    if all(a.pad_begin >= 0 and a.pad_end >= 0 for a in axes):
        return x
    keep = tuple(slice(max(-a.pad_begin, 0), x.shape[2 + j] - max(-a.pad_end, 0)) for j, a in enumerate(axes))
    return x[(slice(None), slice(None), *keep)]


class _SamplePadder:
    """One padded sample at a time, in a reused buffer ``(C, prod(padded sizes) + slack)`` whose padding
    (zeros mode) and slack stay zero; reflect / replicate / circular come from ``np.pad``."""

    def __init__(self, x: np.ndarray, pads: list[tuple[int, int]], mode: str, slack: int = 0):
        self.x, self.pads, self.mode = x, pads, NUMPY_PAD_MODES.get(mode)
        self.sizes = tuple(size + pb + pe for size, (pb, pe) in zip(x.shape[2:], pads))
        self.inner = (slice(None), *(slice(pb, pb + size) for size, (pb, _) in zip(x.shape[2:], pads)))
        self.direct = not any(map(any, pads)) and slack == 0
        if not self.direct:
            self.buffer = scratch("padded", (x.shape[1], math.prod(self.sizes) + slack), x.dtype)
            self.buffer.fill(0)

    def flat(self, n: int) -> np.ndarray:
        """The padded sample ``n`` flattened, with the zero slack after it."""
        view = self.buffer[:, :math.prod(self.sizes)].reshape(self.x.shape[1], *self.sizes)
        if self.mode is None:
            view[self.inner] = self.x[n]
        else:
            view[...] = np.pad(self.x[n], [(0, 0), *self.pads], mode=self.mode)
        return self.buffer

    def __call__(self, n: int) -> np.ndarray:
        """The padded sample ``n``, ``(C, *padded sizes)``."""
        if self.direct:
            return self.x[n]
        return self.flat(n)[:, :math.prod(self.sizes)].reshape(self.x.shape[1], *self.sizes)


def convolve_transpose(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, axes: tuple[ScatterAxis, ...],
                       groups: int = 1) -> np.ndarray:
    """``(N, C, *I)`` with ``w (C, C_out/g, *k)`` -> ``(N, C_out, *O)``, the adjoint of :func:`convolve`:
    ``full[n, o, i*s + t*d] += w[c, o, t] * x[n, c, i]``, then ``out = full[crop : crop + o]`` (+ bias)."""
    n_batch, channels = x.shape[:2]
    per_out = w.shape[1]
    c_out = per_out * groups
    rank = len(axes)
    sizes = tuple(a.size for a in axes)
    outs = tuple(a.out for a in axes)
    shifts = [[(t * a.dilation) // a.stride for t in range(a.kernel)] for a in axes]
    # the phase grid: every contribution lands at grid index i + shift < size + max shift
    grid = tuple(a.size + s[-1] for a, s in zip(axes, shifts))
    row = math.prod(grid[1:])  # the flat length of one grid row (axis 0 index)
    span = sizes[0] * row  # the flat length of the input embedded in the grid rows
    cells = (grid[0] + 1) * row  # one row of slack for the shifts within a row
    phases: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
    for tap in product(*(range(a.kernel) for a in axes)):
        phases.setdefault(tuple((t * a.dilation) % a.stride for t, a in zip(tap, axes)), []).append(tap)
    per_in = channels // groups
    # W^T rows per phase: (g, taps * C_out/g, C/g), tap-major
    wt = np.moveaxis(w.reshape(groups, per_in, per_out, *w.shape[2:]), 1, -1)  # (g, C_out/g, *k, C/g)
    plans = []
    for phase, taps in phases.items():
        rows = np.stack([wt[(slice(None), slice(None), *tap)] for tap in taps], axis=1)
        offsets = [sum(shifts[a][t] * math.prod(grid[a + 1:]) for a, t in enumerate(tap)) for tap in taps]
        plans.append((phase, np.ascontiguousarray(rows.reshape(groups, len(taps) * per_out, per_in)), offsets))
    out = np.zeros((n_batch, c_out, *outs), dtype=w.dtype)
    embedded = None
    if grid[1:] != sizes[1:]:
        embedded = scratch("embedded", (channels, sizes[0], *grid[1:]), w.dtype)
        embedded.fill(0)
    acc = scratch("phase", (groups, per_out, cells), w.dtype)
    most = max(len(taps) for taps in phases.values())
    chunk = max(1, min(sizes[0], CHUNK_BYTES // (most * c_out * row * w.itemsize)))
    for n in range(n_batch):
        if embedded is None:
            xs = x[n].reshape(groups, per_in, span)
        else:
            embedded[(slice(None), slice(None), *(slice(0, i) for i in sizes[1:]))] = x[n]
            xs = embedded.reshape(groups, per_in, span)
        for phase, rows, offsets in plans:
            acc.fill(0)
            for a0 in range(0, sizes[0], chunk):
                lo, hi = a0 * row, min(a0 + chunk, sizes[0]) * row
                z = np.matmul(rows, xs[:, :, lo:hi], out=scratch("taps", (groups, rows.shape[1], hi - lo), w.dtype))
                z = z.reshape(groups, len(offsets), per_out, hi - lo)
                for m, off in enumerate(offsets):
                    dest = acc[:, :, off + lo:off + hi]
                    np.add(dest, z[:, m], out=dest)
            _place(out[n], acc.reshape(c_out, grid[0] + 1, *grid[1:]), phase, axes, grid)
    if bias is not None:
        out += bias.reshape(c_out, *(1,) * rank)
    return out


def _place(out: np.ndarray, acc: np.ndarray, phase: tuple[int, ...], axes: tuple[ScatterAxis, ...],
           grid: tuple[int, ...]) -> None:
    """Write one phase grid into the output: output ``j`` is full cell ``j + crop = q*s + r``."""
    dest, src = [slice(None)], [slice(None)]
    for a, r, g in zip(axes, phase, grid):
        j0 = (r - a.crop) % a.stride
        q0 = (j0 + a.crop - r) // a.stride
        if q0 < 0:  # a negative crop: the first outputs lie before the full output
            j0, q0 = j0 - q0 * a.stride, 0
        count = min(len(range(j0, a.out, a.stride)), g - q0)
        if count <= 0:
            return
        dest.append(slice(j0, j0 + (count - 1) * a.stride + 1, a.stride))
        src.append(slice(q0, q0 + count))
    out[tuple(dest)] = acc[tuple(src)]


# ---- weights, per framework ----

def _refuse_keras1(framework: str, layer: str) -> None:
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
    _refuse_keras1(framework, weights.layer)
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
    _refuse_keras1(framework, weights.layer)
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


def depthwise_weights(op: DepthwiseConv, channels: int, weights: Weights) -> tuple:
    """Keras ``depthwise_kernel (*k, C, m)`` as a grouped ``(C*m, 1, *k)`` (output ``c*m + j``), and the
    separable ``pointwise_kernel (1, .., C*m, filters)`` as ``(filters, C*m, 1, ..)``."""
    rank, m = len(op.kernel), op.depth_multiplier
    raw = weights.take("depthwise_kernel", (*op.kernel, channels, m))
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
    depthwise, pointwise, b = depthwise_weights(op, channels, weights)
    axes = window_axes(op.padding, _spatial_of(x), op.kernel, op.stride, op.dilation)
    x, depthwise, pointwise, b = _in_dtype(compute_dtype(x, depthwise, pointwise, b), x, depthwise, pointwise, b)
    y = convolve(x, depthwise, None if pointwise is not None else b, axes, channels)
    if pointwise is not None:
        ones = tuple(WindowAxis(size, 1, 1, 1, 0, 0, size) for size in y.shape[2:])
        y = convolve(y, pointwise, b, ones)
    return _as_input_dtype(y, source)
