"""Convolution and transposed convolution, canonical form."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import arith
from ..dims import Conditions, Dim
from ..errors import ShapeMismatchError
from .base import SAME_LOWER, OpResult, Step, axis_names, positive_output


def check_channels(kind: str, expected: int | None, got: Dim, groups: int, known: bool = True) -> int:
    """The input's channel count must be known and match the layer's (when the layer names one).
    ``known=False``: the layer's channels are unknown (an ONNX op without its weight), so is the check."""
    if not isinstance(got, int):
        if not known:
            return got
        raise ShapeMismatchError(f"{kind} needs a known channel count, got {got if got is not None else 'None'}",
                                 expected="an integer channel dim", fix="give the channel dim as a number")
    if expected is not None and got != expected:
        raise ShapeMismatchError(f"the input has {got} channels but the layer was built for {expected}",
                                 expected=f"{expected} input channels",
                                 fix=f"set in_channels={got} or feed an input with {expected} channels")
    if got % groups:
        raise ShapeMismatchError(f"{got} input channels are not divisible by groups={groups}",
                                 expected=f"a multiple of {groups} channels")
    return got


def check_pad_fits(mode: str, axis: str, size: Dim, pad: int, conditions: Conditions) -> None:
    """Reflect padding needs ``pad < size``; circular ``pad <= size``."""
    need = pad + 1 if mode == "reflect" else pad
    if isinstance(size, int):
        if size < need:
            rel = "less than" if mode == "reflect" else "at most"
            raise ShapeMismatchError(f"axis {axis}: padding_mode={mode!r} with padding {pad} on an axis of size {size}",
                                     expected=f"padding {rel} the input size",
                                     fix="use a smaller padding or padding_mode='zeros'")
    elif need > 1:
        conditions.require(size, need)


def same_step(axis: str, i: Dim, k: int, s: int, d: int, pad_mode: str) -> Step:
    """TF-SAME: ``ceiling(i/s)``; with a concrete ``i`` the split padding is shown."""
    o = arith.same(i=i, s=s)
    notes: tuple[str, ...] = ()
    if isinstance(i, int):
        total = arith.same_total_pad(i=i, k=k, s=s, d=d)
        pb, pe = arith.split_pad(total, lower=pad_mode == SAME_LOWER)
        side = "beginning" if pad_mode == SAME_LOWER else "end"
        notes = (f"SAME pads {total} in all: {pb} before, {pe} after"
                 + (f" (the odd cell goes at the {side}; PyTorch's integer padding is symmetric: port it as "
                    f"F.pad / nn.ZeroPad of ({pb}, {pe}) and padding=0)" if pb != pe else ""),)
    elif i is not None and s > 1:
        notes = (f"SAME padding depends on {i} mod {s}; the output size does not",)
    return Step(axis, arith.same, (("i", i), ("s", s)), o, notes)


@dataclass(frozen=True)
class Conv:
    """``out[c, o] = sum over window`` of a dilated kernel stepped by ``stride`` over the padded input.

    ``padding`` per axis is ``(begin, end)`` or :data:`SAME_UPPER` / :data:`SAME_LOWER`; negative
    crops. ``padding_mode`` says what the padded cells hold: zeros, or a reflection (which needs
    pad < size), a replica, or a circular wrap (pad <= size: it wraps around once at most).
    Weight shape ``(out_channels, in_channels/groups, *kernel)``.
    """

    out_channels: int | None  # None: unknown (an ONNX op given without its weight)
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple
    in_channels: int | None = None
    groups: int = 1
    bias: bool = True
    padding_mode: str = "zeros"

    @property
    def rank(self) -> int:
        return len(self.kernel)

    def param_count(self, in_channels: int) -> int:
        if self.out_channels is None:
            return 0
        return self.out_channels * (in_channels // self.groups) * math.prod(self.kernel) + (
            self.out_channels if self.bias else 0)

    def infer(self, channels: Dim, spatial: tuple[Dim, ...]) -> OpResult:
        check_channels("a convolution", self.in_channels, channels, self.groups, known=self.out_channels is not None)
        conditions = Conditions()
        if self.padding_mode in ("reflect", "circular"):
            for axis, i, pad in zip(axis_names(self.rank), spatial, self.padding):
                check_pad_fits(self.padding_mode, axis, i, max(pad), conditions)
        steps = []
        for axis, i, k, s, d, pad in zip(axis_names(self.rank), spatial, self.kernel, self.stride,
                                         self.dilation, self.padding):
            if isinstance(pad, str):
                step = same_step(axis, i, k, s, d, pad)
            else:
                pb, pe = pad
                o = arith.windows(i=i, k=k, s=s, d=d, pb=pb, pe=pe)
                step = Step(axis, arith.windows, (("i", i), ("pb", pb), ("pe", pe), ("d", d), ("k", k), ("s", s)), o)
            positive_output(step, conditions, "the window does not fit in the padded input",
                            fix="use a larger input, more padding or a smaller kernel/dilation")
            steps.append(step)
        return OpResult(self.out_channels, tuple(st.result for st in steps), tuple(steps), conditions=conditions)


@dataclass(frozen=True)
class ConvTranspose:
    """The adjoint of :class:`Conv`: each input cell scatters a kernel into the output.

    ``o = (i - 1)*s - pb - pe + d*(k - 1) + 1 + op``. Weight ``(in_channels, out_channels/groups, *kernel)``.
    """

    out_channels: int | None  # None: unknown (an ONNX op given without its weight)
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[Dim, Dim], ...]
    output_padding: tuple[Dim, ...]
    in_channels: int | None = None
    groups: int = 1
    bias: bool = True

    @property
    def rank(self) -> int:
        return len(self.kernel)

    def param_count(self, in_channels: int) -> int:
        if self.out_channels is None:
            return 0
        return in_channels * (self.out_channels // self.groups) * math.prod(self.kernel) + (
            self.out_channels if self.bias else 0)

    def infer(self, channels: Dim, spatial: tuple[Dim, ...]) -> OpResult:
        check_channels("a transposed convolution", self.in_channels, channels, self.groups, known=self.out_channels is not None)
        conditions = Conditions()
        steps = []
        for axis, i, k, s, d, (pb, pe), op in zip(axis_names(self.rank), spatial, self.kernel, self.stride,
                                                  self.dilation, self.padding, self.output_padding):
            values = (("i", i), ("s", s), ("pb", pb), ("pe", pe), ("d", d), ("k", k), ("op", op))
            step = Step(axis, arith.transposed, values, arith.transposed(**dict(values)))
            positive_output(step, conditions, "the padding crops away the whole output",
                            fix="use less padding or a larger kernel")
            steps.append(step)
        return OpResult(self.out_channels, tuple(st.result for st in steps), tuple(steps), conditions=conditions)

    def sizes_mapping_back(self, spatial: tuple[Dim, ...]) -> list[list[Dim]]:
        """Per axis, every size the forward conv maps to the input size: ``o(op=0) + j``, ``j < s``."""
        return [arith.transposed_sizes(i=i, k=k, s=s, d=d, pb=pb, pe=pe)
                for i, k, s, d, (pb, pe) in zip(spatial, self.kernel, self.stride, self.dilation, self.padding)]
