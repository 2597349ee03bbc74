"""Depthwise and depthwise-separable convolutions, built from the input's channel count.

A depthwise conv is a :class:`~shapesmith.ops.conv.Conv` with ``groups = C`` and
``C * depth_multiplier`` outputs; a separable conv follows it with a pointwise (1x1) conv to
``filters``. ``C`` comes from the input, so the :class:`Conv` is built when the input is known;
the spatial arithmetic stays the :class:`Conv`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..dims import Dim
from .base import OpResult
from .conv import Conv, check_channels


@dataclass(frozen=True)
class DepthwiseConv:
    """Keras ``DepthwiseConvND`` (``filters=None``) and ``SeparableConvND`` (``filters`` set).

    Weights: depthwise ``(*kernel, C, depth_multiplier)``; separable adds the pointwise
    ``(1, ..., C*depth_multiplier, filters)``; one bias, on the last conv, when ``bias``.
    """

    depth_multiplier: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple
    filters: int | None = None
    bias: bool = True

    @property
    def rank(self) -> int:
        return len(self.kernel)

    def depthwise(self, channels: int) -> Conv:
        """The depthwise step as a grouped conv (its bias only when nothing follows it)."""
        return Conv(channels * self.depth_multiplier, self.kernel, self.stride, self.dilation, self.padding,
                    channels, groups=channels, bias=self.bias and self.filters is None)

    def pointwise(self, channels: int) -> Conv | None:
        if self.filters is None:
            return None
        mid = channels * self.depth_multiplier
        return Conv(self.filters, (1,) * self.rank, (1,) * self.rank, (1,) * self.rank, ((0, 0),) * self.rank,
                    mid, bias=self.bias)

    def param_count(self, in_channels: int) -> int:
        total = self.depthwise(in_channels).param_count(in_channels)
        point = self.pointwise(in_channels)
        if point is not None:
            total += point.param_count(in_channels * self.depth_multiplier)
        return total

    def infer(self, channels: Dim, spatial: tuple[Dim, ...]) -> OpResult:
        kind = "a depthwise convolution" if self.filters is None else "a separable convolution"
        check_channels(kind, None, channels, 1)  # the weights are built from it: it must be known
        result = self.depthwise(channels).infer(channels, spatial)
        mid = channels * self.depth_multiplier
        note = (f"depthwise: each of the {channels} input channels convolved with its own "
                f"{self.depth_multiplier} kernel(s): {mid} channels")
        if self.filters is None:
            return replace(result, notes=result.notes + (note,))
        note += f"; then a pointwise 1x1 conv {mid} -> {self.filters} channels"
        return replace(result, channels=self.filters, notes=result.notes + (note,))
