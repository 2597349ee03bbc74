"""Pooling, canonical form: the same windows as a convolution, reduced by max or average."""

from __future__ import annotations

from dataclasses import dataclass

from .. import arith
from ..dims import Conditions, Dim
from ..errors import ShapeMismatchError
from .base import OpResult, Step, axis_names, positive_output
from .conv import same_step


@dataclass(frozen=True)
class Pool:
    """Max or average over windows; channels pass through, no parameters.

    ``ceil_mode`` (PyTorch, ONNX) counts a partial last window, but never one that would start
    in the right padding. ``count_include_pad`` changes the average's divisor, not the shape.
    """

    kind: str  # "max" | "avg"
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple
    ceil_mode: bool = False
    count_include_pad: bool = True

    @property
    def rank(self) -> int:
        return len(self.kernel)

    def param_count(self, in_channels: int) -> int:
        return 0

    def infer(self, channels: Dim, spatial: tuple[Dim, ...]) -> OpResult:
        conditions = Conditions()
        steps = []
        for axis, i, k, s, d, pad in zip(axis_names(self.rank), spatial, self.kernel, self.stride,
                                         self.dilation, self.padding):
            if isinstance(pad, str):
                step = same_step(axis, i, k, s, d, pad)
            else:
                pb, pe = pad
                values = (("i", i), ("pb", pb), ("pe", pe), ("d", d), ("k", k), ("s", s))
                step = self._ceil_step(axis, values) if self.ceil_mode else Step(
                    axis, arith.windows, values, arith.windows(**dict(values)))
            positive_output(step, conditions, "the pooling window does not fit in the padded input",
                            fix="use a larger input, more padding or a smaller window")
            steps.append(step)
        return OpResult(channels, tuple(st.result for st in steps), tuple(steps), conditions=conditions)

    @staticmethod
    def _ceil_step(axis: str, values: tuple) -> Step:
        kw = dict(values)
        o = arith.windows_ceil(**kw)
        if not isinstance(kw["i"], int):
            return Step(axis, arith.windows_ceil, values, o)
        raw = arith.windows_ceil_raw(**kw)
        if raw == o:
            return Step(axis, arith.windows_ceil_raw, values, o)
        last = (raw - 1) * kw["s"]
        note = (f"ceil mode: the last window would start at {raw - 1}*{kw['s']} = {last}, in the right padding "
                f"(>= i + pb = {kw['i'] + kw['pb']}), so it is dropped: {raw} - 1 = {o}")
        return Step(axis, arith.windows_ceil_raw, values, o, (note,))


@dataclass(frozen=True)
class GlobalPool:
    """Max or average over all spatial positions; ``keepdims`` leaves size-1 axes."""

    kind: str
    rank: int | None = None
    keepdims: bool = True

    def param_count(self, in_channels: int) -> int:
        return 0

    def infer(self, channels: Dim, spatial: tuple[Dim, ...]) -> OpResult:
        if self.rank is not None and len(spatial) != self.rank:
            raise ShapeMismatchError(f"global pooling over {len(spatial)} spatial axes",
                                     expected=f"{self.rank} spatial axes")
        if not spatial:
            raise ShapeMismatchError("the input has no spatial axes", expected="at least one spatial axis")
        out = tuple(1 for _ in spatial) if self.keepdims else ()
        return OpResult(channels, out, notes=(f"{self.kind} over every position of {len(spatial)} spatial axes",))
