"""Spatial ops on whole shapes: padding / cropping, resizing (upsampling) and adaptive pooling.

Each resizes some axes of the input and keeps the rest; the axes are ``first .. first + n - 1``
(``first`` counted from the start: 2 for channels-first with a batch dim, 1 for channels-last,
0 for ONNX, which names every axis), or the last ``n`` axes when ``first`` is None (PyTorch's
padding and adaptive pooling, which take unbatched inputs). The sizes come from
:mod:`shapesmith.arith` (``padded``, ``scaled``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .. import arith
from ..dims import Conditions, Dim, Expr, format_shape
from ..errors import ShapeMismatchError
from .base import ShapeResult, axis_names
from .conv import check_pad_fits


def _axes(shape: tuple, n: int, first: int | None, ranks: tuple[int, ...], expects: str, who: str) -> range:
    rank = len(shape)
    if ranks and rank not in ranks:
        alts = " or ".join(f"{r}-D" for r in ranks)
        raise ShapeMismatchError(f"{who} received a {rank}-D input {format_shape(shape)}",
                                 expected=f"a {alts} input {expects}",
                                 fix=f"give the shape as {expects}, batch dim included")
    start = rank - n if first is None else first
    if start < 0 or start + n > rank:
        raise ShapeMismatchError(f"{who} resizes {n} axes but received the {rank}-D input {format_shape(shape)}",
                                 expected=f"an input {expects}")
    return range(start, start + n)


def _names(shape: tuple, axes: range) -> list[str]:
    return list(axis_names(len(axes))) if len(axes) <= 3 else [f"dim {j}" for j in axes]


@dataclass(frozen=True)
class Pad:
    """``o = i + pb + pe`` per padded axis (a negative pad crops).

    ``mode`` sets the limits: ``reflect`` needs each pad ``< i`` (``reflect_le``: ``<= i - 1`` the same,
    ``reflect_max`` = ``i - 1``), ``circular`` ``<= i``; ``least`` is the smallest output size the
    framework takes (0 for torch's constant pad, 1 for a Keras crop).
    """

    pads: tuple[tuple[int, int], ...]
    mode: str = "constant"  # constant | reflect | replicate | circular (edge = replicate, wrap = circular)
    first: int | None = None
    ranks: tuple[int, ...] = ()
    least: int = 0
    expects: str = "(N, C, ...)"
    who: str = "Pad"
    label: str = "padding"
    crop: bool = False  # the values are crops: show them as such
    crop_first: bool = False  # torch's constant pad narrows first: ``i + min(pb, 0) + min(pe, 0) >= kept_least``
    kept_least: int = 0
    limits: bool = True  # reflect pad < i, circular pad <= i (torch); onnxruntime's wrap has no limit

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        axes = _axes(shape, len(self.pads), self.first, self.ranks, self.expects, self.who)
        out = list(shape)
        conditions = Conditions()
        notes = []
        for name, j, (pb, pe) in zip(_names(shape, axes), axes, self.pads):
            i = shape[j]
            if self.crop:
                pb, pe = -pb, -pe
            if self.mode in ("reflect", "circular") and i is not None and self.limits and not self.crop_first:
                check_pad_fits(self.mode, name, i, max(pb, pe), conditions)
            elif self.mode in ("reflect", "circular") and i is not None and self.limits:
                # onnxruntime slices first: the pads are bounded by what is left
                need = max(pb, pe, 0) + 1 - min(pb, 0) - min(pe, 0) if max(pb, pe) > 0 else 0
                if isinstance(i, int) and i < need:
                    rel = "less than" if self.mode == "reflect" else "at most"
                    raise ShapeMismatchError(
                        f"axis {name} (dim {j}): {self.mode} padding ({pb}, {pe}) on a size {i}",
                        expected=f"each pad {rel} the input size ({i})",
                        fix=f"use pads {rel} {i}, a larger input, or constant padding")
                if isinstance(i, Expr) and need > 1:
                    conditions.require(i, need)
            if self.crop_first and (pb < 0 or pe < 0) and i is not None:
                kept = i + min(pb, 0) + min(pe, 0)
                if isinstance(kept, int) and kept < self.kept_least:
                    raise ShapeMismatchError(
                        f"axis {name} (dim {j}): padding ({pb}, {pe}) crops {-min(pb, 0) - min(pe, 0)} cells of a "
                        f"size {i} before padding (narrow(): length must be non-negative)",
                        expected=f"the negative pads to leave at least {self.kept_least} of the input size ({i})",
                        fix="crop less, or give a larger input")
                if isinstance(kept, Expr):
                    conditions.require(kept, self.kept_least)
            o = arith.padded(i=i, pb=pb, pe=pe)
            if isinstance(o, int) and o < self.least:
                what = "cropping" if self.crop else "padding"
                raise ShapeMismatchError(
                    f"axis {name} (dim {j}): {what} {(-pb, -pe) if self.crop else (pb, pe)} leaves "
                    f"{arith.padded.filled(i=i, pb=pb, pe=pe)} = {o}",
                    expected=f"an output size >= {self.least}",
                    fix=f"{'crop less' if self.crop else 'use smaller negative pads'} or give a larger input")
            if isinstance(o, Expr) and (pb < 0 or pe < 0):
                conditions.require(o, self.least)
            if i is not None and (pb or pe):
                notes.append(f"axis {name}: {arith.padded.formula} = {arith.padded.filled(i=i, pb=pb, pe=pe)} = {o}")
            out[j] = o
        return ShapeResult((tuple(out),), notes=tuple(notes), conditions=conditions)


def _f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


@dataclass(frozen=True)
class Resize:
    """Per resized axis, a target ``size`` (None keeps the input size) or a ``scale``:
    ``o = floor(i*s)`` (``float32``: the product rounded to single precision first, as onnxruntime)."""

    scales: tuple[float, ...] | None = None
    sizes: tuple[int | None, ...] | None = None
    first: int | None = 2
    ranks: tuple[int, ...] = ()
    least: int = 1
    float32: bool = False
    expects: str = "(N, C, ...)"
    who: str = "Resize"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        n = len(self.scales if self.scales is not None else self.sizes)
        axes = _axes(shape, n, self.first, self.ranks, self.expects, self.who)
        out = list(shape)
        conditions = Conditions()
        notes = []
        for k, (name, j) in enumerate(zip(_names(shape, axes), axes)):
            i = shape[j]
            if self.sizes is not None:
                o = i if self.sizes[k] is None else self.sizes[k]
            else:
                s = self.scales[k]
                if s == 1 or i is None:
                    o = i
                elif self.float32 and isinstance(i, int):
                    o = int(_f32(_f32(float(s)) * float(i)))
                else:
                    o = arith.scaled(i=i, s=s)
                    notes.append(f"axis {name}: {arith.scaled.formula} = {arith.scaled.filled(i=i, s=s)} = {o}")
            if isinstance(o, int) and o < self.least:
                raise ShapeMismatchError(
                    f"axis {name} (dim {j}): {self.who} gives an output size {o} from the input size {i}",
                    expected=f"output sizes >= {self.least}", fix="use a larger scale or input")
            if isinstance(o, Expr) and self.least > 0:
                conditions.require(o, self.least)
            out[j] = o
        return ShapeResult((tuple(out),), notes=tuple(notes), conditions=conditions)


@dataclass(frozen=True)
class AdaptivePool:
    """The last ``len(output_size)`` axes become ``output_size`` (None keeps the input size); window
    ``j`` of an axis spans ``[floor(j*i/o), ceil((j+1)*i/o))``. ``indices``: a second output of the same
    shape (PyTorch ``return_indices=True``)."""

    output_size: tuple[int | None, ...]
    kind: str = "avg"  # "max" | "avg"
    ranks: tuple[int, ...] = ()
    indices: bool = False
    expects: str = "(N, C, ...)"
    who: str = "AdaptivePool"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        axes = _axes(shape, len(self.output_size), None, self.ranks, self.expects, self.who)
        for j in range(axes.start):
            if j > 0 or axes.start == 1:  # the non-batch dims before the pooled ones
                d = shape[j]
                if isinstance(d, int) and d < 1:
                    raise ShapeMismatchError(f"{self.who}: dim {j} of {format_shape(shape)} is {d}",
                                             expected="non-zero sizes for the non-batch dims")
        out = list(shape)
        notes = []
        for name, j, o in zip(_names(shape, axes), axes, self.output_size):
            i = shape[j]
            if isinstance(i, int) and i < 1:
                raise ShapeMismatchError(f"{self.who}: axis {name} of {format_shape(shape)} has size {i}",
                                         expected="non-zero sizes for the non-batch dims")
            if o is None:
                continue
            out[j] = o
            if isinstance(i, int) and o:
                notes.append(f"axis {name}: {o} windows over {i}, window j spans [floor(j*{i}/{o}), "
                             f"ceil((j + 1)*{i}/{o})), size {-(-i // o)} or less"
                             + ("" if i % o == 0 else " (windows overlap or differ in size)"))
        result = tuple(out)
        if self.indices:
            return ShapeResult((result, result), names=("output", "indices"), notes=tuple(notes))
        return ShapeResult((result,), notes=tuple(notes))
