"""Embedding: integer indices of any shape -> that shape + ``(dim,)``; ``num*dim`` parameters."""

from __future__ import annotations

from dataclasses import dataclass

from ..dims import Dim
from .base import ShapeResult


@dataclass(frozen=True)
class Embedding:
    num: int
    dim: int
    expects = "(N, ...) of integer indices"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        return ShapeResult(((*shape, self.dim),), params=self.num * self.dim,
                           notes=(f"the input holds indices in [0, {self.num}); each becomes a vector of "
                                  f"{self.dim}",))
