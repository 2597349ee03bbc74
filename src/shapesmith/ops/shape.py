"""Shape-only ops: Flatten, Reshape (Keras ``Reshape``, torch ``Unflatten``, ONNX ``Reshape``),
Permute / Transpose, RepeatVector. No parameters; sizes are products and copies of input dims.

The element-count rule lives once, in :func:`product` and :class:`Reshape`: the dims of a span
of the input are replaced by a target whose product must match (one ``-1`` takes the rest).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..dims import Conditions, Dim, Expr, format_dim, format_shape
from ..errors import ShapeMismatchError
from .base import ShapeResult


def product(dims: Iterable[Dim]) -> Dim:
    """The number of elements: ``None`` if any dim is unknown, an ``Expr`` if any is symbolic."""
    out: Dim = 1
    for d in dims:
        if d is None:
            return None
        out = out * d
    return out


def normalize_axis(axis: int, rank: int, what: str = "dim") -> int:
    """``axis`` in ``[-rank, rank)`` as a non-negative index (PyTorch's "Dimension out of range")."""
    if not -rank <= axis < rank:
        raise ShapeMismatchError(
            f"{what}={axis} is out of range for a {rank}-D input",
            expected=f"{what} in [{-rank}, {rank - 1}]",
            fix=f"use a {what} between {-rank} and {rank - 1}, or give an input with more dims")
    return axis % rank


@dataclass(frozen=True)
class Flatten:
    """Merge axes ``start..end`` (inclusive, negative counts from the end) into one.

    torch ``nn.Flatten(start_dim=1, end_dim=-1)``; Keras ``Flatten`` is ``start=1, end=-1`` with
    ``pad_rank=2`` (a ``(N,)`` input gives ``(N, 1)``).
    """

    start: int = 1
    end: int = -1
    pad_rank: int = 0  # Keras: inputs of fewer dims are read with trailing 1s up to this rank
    expects = "(N, ...)"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        if len(shape) < self.pad_rank:
            shape = (*shape, *(1,) * (self.pad_rank - len(shape)))
        rank = max(len(shape), 1)  # torch treats a 0-d tensor as 1-d here
        start = normalize_axis(self.start, rank, "start_dim")
        end = normalize_axis(self.end, rank, "end_dim")
        if start > end:
            raise ShapeMismatchError(
                f"start_dim={self.start} (axis {start}) comes after end_dim={self.end} (axis {end}) "
                f"for the {len(shape)}-D input {format_shape(shape)}",
                expected="start_dim <= end_dim once negative dims are counted from the end",
                fix="swap them, or give an input with more dims")
        if not shape:
            return ShapeResult(((1,),))
        merged = product(shape[start:end + 1])
        return ShapeResult(((*shape[:start], merged, *shape[end + 1:]),))


@dataclass(frozen=True)
class FlattenTo2D:
    """ONNX ``Flatten(axis)``: ``(prod(shape[:axis]), prod(shape[axis:]))``, ``axis`` in ``[-r, r]``."""

    axis: int = 1
    expects = "(d0, d1, ...)"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        rank = len(shape)
        if not -rank <= self.axis <= rank:
            raise ShapeMismatchError(f"axis={self.axis} is out of range for the {rank}-D input {format_shape(shape)}",
                                     expected=f"axis in [{-rank}, {rank}]")
        axis = self.axis % rank if self.axis < 0 else self.axis
        return ShapeResult(((product(shape[:axis]), product(shape[axis:])),))


@dataclass(frozen=True)
class Reshape:
    """Replace the input dims ``[start:end]`` by ``target``.

    ``-1`` (at most one) takes the remaining elements; with ``copy_zero`` (ONNX ``allowzero=0``)
    a ``0`` copies the input dim at the same index. Keras ``Reshape``: ``start=1``; torch
    ``Unflatten(dim, sizes)``: ``start=dim, end=dim + 1``; ONNX ``Reshape``: ``start=0``.
    """

    target: tuple[int, ...]
    start: int = 1
    end: int | None = None
    copy_zero: bool = False
    what: str = "target_shape"
    expects = "(N, ...)"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        rank = len(shape)
        start = self.start
        end = rank if self.end is None else self.end
        if start > rank or end > rank:
            raise ShapeMismatchError(f"the {rank}-D input {format_shape(shape)} has no dim {start}",
                                     expected=f"at least {max(start, end - 1) + 1} dims")
        span = shape[start:end]
        target: list[Dim] = list(self.target)
        if self.copy_zero:
            for j, t in enumerate(self.target):
                if t == 0:
                    if start + j >= rank:
                        raise ShapeMismatchError(
                            f"{self.what}={list(self.target)}: 0 at index {j} copies input dim {start + j}, "
                            f"but the input {format_shape(shape)} has {rank} dims",
                            expected=f"0 only at indices below {rank}")
                    target[j] = shape[start + j]
        copied = {j for j, t in enumerate(self.target) if self.copy_zero and t == 0}
        total = product(d for j, d in enumerate(span) if j not in copied)  # a copied dim cancels itself
        known = product(t for j, t in enumerate(target) if t != -1 and j not in copied)
        conditions = Conditions()
        wanted = format_shape(tuple("-1" if t == -1 else t for t in self.target))  # type: ignore[misc]
        if -1 in target:
            j = target.index(-1)
            if known == 0:
                raise ShapeMismatchError(f"{self.what}={wanted} has -1 beside a 0-sized dim: -1 is undetermined",
                                         fix="give every size")
            if total is None or known is None:
                rest: Dim = None
            elif isinstance(total, int) and isinstance(known, int):
                if total % known:
                    raise ShapeMismatchError(
                        f"{self.what}={wanted}: the {total} elements of {format_shape(span)} do not split into "
                        f"{known}*k for a whole k", expected=f"an element count divisible by {known}",
                        fix=f"change {self.what} so the known sizes divide {total}")
                rest = total // known
            elif isinstance(known, int):
                if known > 1:
                    conditions.require_equal(total % known, 0)
                rest = total // known
            else:
                raise ShapeMismatchError(f"{self.what}={wanted}: -1 beside symbolic sizes cannot be computed",
                                         fix="write the sizes out")
            target[j] = rest
        elif total is not None and known is not None:
            if isinstance(total, int) and isinstance(known, int):
                if total != known:
                    raise ShapeMismatchError(
                        f"{self.what}={wanted} has {known} elements but {format_shape(span)} has {total}",
                        expected="the same number of elements (the total size must be unchanged)",
                        fix=f"use sizes whose product is {total}, or -1 for one of them")
            elif isinstance(total - known, Expr):
                conditions.require_equal(total - known, 0)
            elif total != known:
                raise ShapeMismatchError(f"{self.what}={wanted} has {known} elements but {format_shape(span)} has "
                                         f"{total}", expected="the same number of elements")
        out = (*shape[:start], *target, *shape[end:])
        return ShapeResult((out,), conditions=conditions)


@dataclass(frozen=True)
class Permute:
    """Reorder all axes: output axis ``j`` is input axis ``perm[j]`` (batch included)."""

    perm: tuple[int, ...]
    expects = "(N, ...)"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        if len(shape) != len(self.perm):
            raise ShapeMismatchError(
                f"the permutation {list(self.perm)} has {len(self.perm)} axes but the input {format_shape(shape)} "
                f"has {len(shape)}", expected=f"a {len(self.perm)}-D input",
                fix="give one axis per input dim")
        return ShapeResult((tuple(shape[p] for p in self.perm),))


@dataclass(frozen=True)
class RepeatVector:
    """``(N, F) -> (N, n, F)``."""

    n: int
    expects = "(N, features)"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        if len(shape) != 2:
            raise ShapeMismatchError(f"received a {len(shape)}-D input {format_shape(shape)}",
                                     expected="a 2-D input (N, features)", fix="Flatten the input first")
        return ShapeResult(((shape[0], self.n, shape[1]),))


@dataclass(frozen=True)
class Squeeze:
    """Drop size-1 axes: the ``axes`` given (each must be 1), or every axis known to be 1."""

    axes: tuple[int, ...] | None = None
    expects = "(d0, d1, ...)"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        if self.axes is None:
            if any(not isinstance(d, int) for d in shape):
                raise ShapeMismatchError(f"cannot tell which dims of {format_shape(shape)} are 1",
                                         fix="give axes=[...] explicitly")
            return ShapeResult((tuple(d for d in shape if d != 1),))
        drop = {normalize_axis(a, len(shape), "axis") for a in self.axes}
        for j in sorted(drop):
            if shape[j] != 1:
                raise ShapeMismatchError(f"axis {j} of {format_shape(shape)} has size {format_dim(shape[j])}",
                                         expected="size 1 on every squeezed axis", fix="squeeze only size-1 axes")
        return ShapeResult((tuple(d for j, d in enumerate(shape) if j not in drop),))


@dataclass(frozen=True)
class Unsqueeze:
    """Insert size-1 axes at ``axes``, counted in the output's rank."""

    axes: tuple[int, ...]
    expects = "(d0, d1, ...)"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        rank = len(shape) + len(self.axes)
        at = {normalize_axis(a, rank, "axis") for a in self.axes}
        if len(at) != len(self.axes):
            raise ShapeMismatchError(f"axes={list(self.axes)} repeat an axis", expected="distinct axes")
        rest = iter(shape)
        return ShapeResult((tuple(1 if j in at else next(rest) for j in range(rank)),))
