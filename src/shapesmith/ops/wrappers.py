"""Wrappers that apply another layer in a new way."""

from __future__ import annotations

from dataclasses import dataclass

from ..dims import Dim, format_shape
from ..errors import ShapeMismatchError
from .base import ShapeResult


@dataclass(frozen=True)
class TimeDistributed:
    """The inner layer on every time step: ``(B, T, ...) -> (B, T, ...inner output)``; its weights
    are shared across steps, so the parameters are the inner layer's."""

    inner: object  # a Layer or WholeLayer
    expects = "(batch, time, ...)"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        if len(shape) < 3:
            raise ShapeMismatchError(f"received a {len(shape)}-D input {format_shape(shape)}",
                                     expected="at least 3 dims (batch, time, ...)",
                                     fix="add a time axis, or drop TimeDistributed")
        result = self.inner.infer((shape[0], *shape[2:]))
        if isinstance(result.output_shape, list):
            raise ShapeMismatchError(f"{self.inner.type} returns several outputs", expected="a layer with one output")
        out = (shape[0], shape[1], *result.output_shape[1:])
        notes = (f"{self.inner.type} sees {format_shape((shape[0], *shape[2:]))} at each of the {shape[1]} steps",)
        return ShapeResult((out,), params=result.params, notes=notes + result.notes, warnings=result.warnings,
                           conditions=result.conditions)
