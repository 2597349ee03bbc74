"""Shape-preserving layers: activations, dropout and noise, normalizations.

The output shape is the input shape; what differs is which inputs a layer takes (ranks, a
channel size fixed by the weights, a size divisible by the groups, an axis that must exist)
and how many parameters it has (a fixed count, or a count per element of some axes that the
layer builds from its first input, as Keras does).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..dims import Conditions, Dim, Expr, format_shape
from ..errors import ShapeMismatchError
from .base import ShapeResult
from .shape import normalize_axis, product


def _known(d: Dim, axis: int, shape: tuple, why: str) -> int | Expr:
    if d is None:
        raise ShapeMismatchError(f"axis {axis} of {format_shape(shape)} is unknown (None)",
                                 expected=f"a known size on axis {axis} ({why})",
                                 fix=f"give axis {axis} of the input shape as a number or a symbol")
    return d


@dataclass(frozen=True)
class Elementwise:
    """``y.shape == x.shape``.

    ``ranks``: accepted input ranks, batch included (empty: any rank >= ``min_rank``).
    ``sizes``: ``(axis, size)`` pairs the input must match (``size=None``: the axis must exist).
    ``groups``: ``(axis, g)``: that size must be a multiple of ``g`` (and at least ``g``).
    Parameters: ``params + per_size * prod(shape[a] for a in param_axes)``.
    ``label`` names the constructor argument the sizes come from, for messages.
    """

    kind: str
    params: int = 0
    ranks: tuple[int, ...] = ()
    min_rank: int = 1
    sizes: tuple[tuple[int, int | None], ...] = ()
    groups: tuple[int, int] | None = None
    per_size: int = 0
    param_axes: tuple[int, ...] = ()
    label: str = ""
    expects: str = "(N, ...)"
    notes: tuple[str, ...] = ()
    spread: tuple[int, int] | None = None  # (axis, g): statistics over batch: > 1 value per unit (g groups of
    # the axis, or each index of it when g == 0), as torch's batch/group norm require


    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        rank = len(shape)
        if self.ranks and rank not in self.ranks:
            want = " or ".join(f"{r}-D" for r in self.ranks)
            raise ShapeMismatchError(f"{self.kind} received a {rank}-D input {format_shape(shape)}",
                                     expected=f"a {want} input {self.expects}")
        if rank < self.min_rank:
            raise ShapeMismatchError(f"{self.kind} received a {rank}-D input {format_shape(shape)}",
                                     expected=f"at least {self.min_rank} dims {self.expects}")
        conditions = Conditions()
        named = [normalize_axis(a, rank, "axis") for a, _ in self.sizes]
        if len(set(named)) != len(named):  # Keras builds the weights, then the call fails
            raise ShapeMismatchError(f"{self.kind}: axis={[a for a, _ in self.sizes]} names an axis twice for the "
                                     f"{rank}-D input {format_shape(shape)}", expected="distinct axes")
        for axis, size in self.sizes:
            j = normalize_axis(axis, rank, "axis")
            d = shape[j]
            if size is None:
                continue
            if isinstance(d, int) and d != size:
                raise ShapeMismatchError(
                    f"{self.kind}: axis {j} of the input {format_shape(shape)} has size {d}, but the layer was "
                    f"built for {size}" + (f" ({self.label})" if self.label else ""),
                    expected=f"size {size} on axis {j}",
                    fix=f"set {self.label.split('=')[0] if self.label else 'the size'}={d}, or give an input with "
                        f"{size} there")
            if isinstance(d, Expr):
                conditions.require_equal(d, size)
        if self.groups is not None:
            axis, g = self.groups
            j = normalize_axis(axis, rank, "axis")
            d = shape[j]
            if isinstance(d, int) and (d % g or d < g):
                raise ShapeMismatchError(f"{self.kind}: axis {j} of {format_shape(shape)} has {d} channels, which "
                                         f"{g} groups do not divide", expected=f"a multiple of {g} channels",
                                         fix=f"use a number of groups that divides {d}")
            if isinstance(d, Expr):
                conditions.require_equal(d % g, 0)
        if self.spread is not None:
            axis, g = self.spread
            j = normalize_axis(axis, rank, "axis")
            units = g if g else shape[j]
            total = product(shape) if units is not None else None
            if isinstance(total, int) and isinstance(units, int) and total // units <= 1:
                raise ShapeMismatchError(
                    f"{self.kind}: the input {format_shape(shape)} has 1 value per "
                    f"{'group' if g else 'channel'} to compute statistics over",
                    expected="more than 1 value per " + ("group (N*C/groups*spatial > 1)" if g else
                                                          "channel (batch * spatial > 1)"),
                    fix="use a larger batch or spatial size" + ("" if g else ", or track_running_stats=True and eval()"))
            if isinstance(total, Expr) and isinstance(units, int):
                conditions.require(total, 2 * units)
        params: int | Expr = self.params
        if self.per_size:
            axes = [normalize_axis(a, rank, "axis") for a in self.param_axes]
            sizes = [_known(shape[a], a, shape, "it sets the number of weights") for a in axes]
            params = params + self.per_size * product(sizes)
        return ShapeResult((tuple(shape),), params=params, notes=self.notes, conditions=conditions)


@dataclass(frozen=True)
class PerPosition:
    """Keras ``PReLU``: one weight per input position (batch excluded), 1 along ``shared`` axes."""

    kind: str
    shared: tuple[int, ...] = ()
    expects = "(N, ...)"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        rest = list(shape[1:])
        for a in self.shared:
            if not 1 <= a <= len(rest):
                raise ShapeMismatchError(f"{self.kind}: shared_axes has {a}, but the input {format_shape(shape)} "
                                         f"has axes 1..{len(rest)} besides the batch",
                                         expected=f"shared axes in 1..{len(rest)}")
            rest[a - 1] = 1
        sizes = [_known(d, j + 1, shape, "PReLU builds one weight per position") for j, d in enumerate(rest)]
        return ShapeResult((tuple(shape),), params=product(sizes))
