"""What every op returns: output channels and sizes, and the derivation per axis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..arith import Rule
from ..dims import Conditions, Dim, Expr, format_shape
from ..errors import ShapeMismatchError

SAME_UPPER = "SAME_UPPER"  # TF/Keras 'same', ONNX SAME_UPPER: the odd padding cell goes at the end
SAME_LOWER = "SAME_LOWER"  # ONNX SAME_LOWER: the odd cell goes at the beginning


def axis_names(rank: int) -> tuple[str, ...]:
    return {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}.get(rank, tuple(f"S{j}" for j in range(rank)))


@dataclass(frozen=True)
class Step:
    """One axis of a derivation: ``rule`` with ``values`` filled in gives ``result``."""

    axis: str
    rule: Rule
    values: tuple[tuple[str, Dim], ...]
    result: Dim
    notes: tuple[str, ...] = ()

    @property
    def formula(self) -> str:
        return self.rule.formula

    @property
    def filled(self) -> str:
        return self.rule.filled(**dict(self.values))

    def to_dict(self) -> dict:
        from ..dims import dim_to_json
        return {"axis": self.axis, "rule": self.rule.name, "formula": self.formula,
                "filled": self.filled, "result": dim_to_json(self.result), "notes": list(self.notes)}


@dataclass(frozen=True)
class OpResult:
    channels: Dim
    spatial: tuple[Dim, ...]
    steps: tuple[Step, ...] = ()
    notes: tuple[str, ...] = ()
    conditions: Conditions = field(default_factory=Conditions, compare=False)


def positive_output(step: Step, conditions: Conditions, what: str, fix: str) -> None:
    """Every output size must be >= 1: an int is checked now, a symbolic one becomes a condition."""
    o = step.result
    if isinstance(o, int):
        if o < 1:
            raise ShapeMismatchError(
                f"axis {step.axis}: {step.rule.name}: {step.filled} = {o}, {what}",
                expected="an output size >= 1", fix=fix)
    elif isinstance(o, Expr):
        conditions.require(o, 1)


@dataclass(frozen=True)
class ShapeResult:
    """What a whole-shape op (dense, reshape, recurrent, merge, ...) returns: one or more output
    shapes, batch included, with names when there are several."""

    outputs: tuple[tuple[Dim, ...], ...]
    names: tuple[str, ...] = ()
    params: int | Expr = 0
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    conditions: Conditions = field(default_factory=Conditions, compare=False)


def features_for_weights(features: Dim, fixed: int | None, shape: tuple[Dim, ...], conditions: Conditions,
                         mismatch: Callable[[int], ShapeMismatchError], hint: str = "") -> tuple[Dim, tuple[str, ...]]:
    """The feature count a layer's weights are built for, and warnings.

    A layer that fixes it (``fixed``: PyTorch ``in_features``, an ONNX weight) takes only that many
    (``mismatch(features)`` is the framework's error; a symbolic count becomes a condition). Otherwise
    the weights are built from the input, whose count must be known; a symbolic one pins the input size.
    """
    if fixed is not None:
        if isinstance(features, int) and features != fixed:
            raise mismatch(features)
        if isinstance(features, Expr):
            conditions.require_equal(features, fixed)
        return fixed, ()
    if features is None:
        raise ShapeMismatchError(f"the features dim of {format_shape(shape)} is unknown",
                                 expected="a known number of features to build the weights",
                                 fix="give the feature dim as a number")
    if isinstance(features, Expr):
        return features, (f"the weights are built for {features} features: once built, only inputs giving that "
                          f"many fit{hint}",)
    return features, ()
