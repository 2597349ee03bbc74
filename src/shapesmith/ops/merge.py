"""Merges of several tensors: elementwise (add, multiply, ...) with broadcasting, and concatenation."""

from __future__ import annotations

from dataclasses import dataclass

from ..dims import Conditions, Dim, format_shape
from ..errors import ShapeMismatchError
from .base import ShapeResult


def _shapes_text(shapes) -> str:
    return ", ".join(format_shape(s) for s in shapes)


@dataclass(frozen=True)
class Broadcast:
    """``out = a + b`` (or ``*``, max, mean, ...) with broadcasting: aligned from the last dim, a dim
    of 1 stretches, unknown stays unknown; two symbolic dims must be equal, which becomes a condition
    (``h == 2*floor(h/2)``, read ``h % 2 == 0``)."""

    kind: str
    min_inputs: int = 2
    max_inputs: int | None = None
    expects = "two or more tensors of the same shape"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        n = len(shapes)
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            want = self.min_inputs if self.max_inputs == self.min_inputs else f"at least {self.min_inputs}"
            raise ShapeMismatchError(f"{self.kind} received {n} input(s)", expected=f"{want} inputs",
                                     fix="pass a list of tensors: Layer()([a, b])")
        conditions = Conditions()
        out = list(shapes[0])
        for shape in shapes[1:]:
            out = broadcast(out, list(shape), shapes, conditions)
        return ShapeResult((tuple(out),), conditions=conditions)


def broadcast(a: list[Dim], b: list[Dim], shapes, conditions: Conditions) -> list[Dim]:
    if len(a) < len(b):
        a, b = b, a
    out = list(a)
    for k in range(1, len(b) + 1):
        x, y = a[-k], b[-k]
        if x is None or y is None:
            out[-k] = None
        elif y == 1 or x == y:
            continue
        elif x == 1:
            out[-k] = y
        elif isinstance(x, int) and isinstance(y, int):
            raise ShapeMismatchError(f"inputs have incompatible shapes: {_shapes_text(shapes)} ({x} vs {y})",
                                     expected="equal dims (or 1) from the last dim on",
                                     fix="make the branches agree, e.g. with padding or a cropping layer")
        else:
            conditions.require_same(x, y)
    return out


@dataclass(frozen=True)
class Concatenate:
    """Joins tensors along ``axis``; every other dim must agree (equal symbolic dims become conditions)."""

    axis: int = -1
    min_inputs: int = 2  # ONNX Concat takes one input too
    expects = "two or more tensors equal except along the axis"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        if len(shapes) < self.min_inputs:
            raise ShapeMismatchError(f"Concatenate received {len(shapes)} input(s)",
                                     expected=f"at least {self.min_inputs} inputs",
                                     fix="pass a list of tensors: Concatenate()([a, b])")
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise ShapeMismatchError(f"inputs of different ranks: {_shapes_text(shapes)}", expected="the same rank")
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 0 <= axis < rank:
            raise ShapeMismatchError(f"axis={self.axis} for {rank}-D inputs", expected=f"an axis in [-{rank}, {rank})")
        conditions = Conditions()
        out = list(shapes[0])
        for shape in shapes[1:]:
            for k in range(rank):
                x, y = out[k], shape[k]
                if k == axis:
                    out[k] = None if x is None or y is None else x + y
                elif x is None or y is None or x == y:
                    out[k] = x if y is None else y
                elif isinstance(x, int) and isinstance(y, int):
                    raise ShapeMismatchError(
                        f"inputs differ on axis {k}, which is not the concatenation axis {axis}: {_shapes_text(shapes)}",
                        expected=f"equal dims except on axis {axis}",
                        fix="crop or pad one branch, or concatenate on another axis")
                else:
                    conditions.require_same(x, y)
        return ShapeResult((tuple(out),), conditions=conditions)
