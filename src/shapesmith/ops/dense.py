"""Dense / Linear / Gemm: ``y = x @ W + b`` over the last axis."""

from __future__ import annotations

from dataclasses import dataclass

from ..dims import Conditions, Dim, Expr, format_shape
from ..errors import ShapeMismatchError
from .base import ShapeResult


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
        features = shape[-1]
        conditions = Conditions()
        warnings: tuple[str, ...] = ()
        if self.in_features is not None:
            if isinstance(features, int) and features != self.in_features:
                raise ShapeMismatchError(
                    f"the input has {features} features (last dim of {format_shape(shape)}) but the layer takes "
                    f"{self.in_features}", expected=f"a last dim of {self.in_features}",
                    fix=f"set in_features={features}, or reshape the input to end in {self.in_features}")
            if isinstance(features, Expr):
                conditions.require_equal(features, self.in_features)
            features = self.in_features
        elif features is None:
            raise ShapeMismatchError(f"the last dim of {format_shape(shape)} is unknown",
                                     expected="a known number of features to build the weights",
                                     fix="give the feature dim as a number")
        elif isinstance(features, Expr):
            warnings = (f"the weights are built for {features} features: once built, only inputs giving that "
                        f"many fit (a Flatten before a Dense pins the spatial size)",)
        params = features * self.units + (self.units if self.bias else 0)
        return ShapeResult(((*shape[:-1], self.units),), params=params, warnings=warnings, conditions=conditions)
