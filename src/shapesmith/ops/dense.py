"""Dense / Linear / Gemm: ``y = x @ W + b`` over the last axis."""

from __future__ import annotations

from dataclasses import dataclass

from ..dims import Conditions, Dim, format_shape
from ..errors import ShapeMismatchError
from .base import ShapeResult, features_for_weights


@dataclass(frozen=True)
class Dense:
    """``(..., in) -> (..., units)``; params ``in*units + units`` (bias).

    ``in_features`` is fixed by PyTorch's ``Linear`` and ONNX's weight; Keras builds it from the
    first input it sees. ``min_rank`` is the least input rank the framework takes (Keras 2: the
    batch dim and the features; PyTorch 1: an unbatched vector).
    """

    units: int
    in_features: int | None = None
    bias: bool = True
    min_rank: int = 2
    expects = "(N, ..., features)"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        if len(shape) < self.min_rank:
            raise ShapeMismatchError(f"received a {len(shape)}-D input {format_shape(shape)}",
                                     expected=f"at least {self.min_rank} dims, the last one the features")
        conditions = Conditions()
        features, warnings = features_for_weights(
            shape[-1], self.in_features, shape, conditions,
            lambda got: ShapeMismatchError(
                f"the input has {got} features (last dim of {format_shape(shape)}) but the layer takes "
                f"{self.in_features}", expected=f"a last dim of {self.in_features}",
                fix=f"set in_features={got}, or reshape the input to end in {self.in_features}"),
            hint=" (a Flatten before a Dense pins the spatial size)")
        params = features * self.units + (self.units if self.bias else 0)
        return ShapeResult(((*shape[:-1], self.units),), params=params, warnings=warnings, conditions=conditions)
