"""The window arithmetic, once. Every size shapesmith reports comes from a rule here.

A :class:`Rule` carries its formula as text and as code; a test holds the two equal on
random integers, so a derivation can never drift from the computation. Each rule works on
ints and on symbolic dims (:mod:`shapesmith.dims`) alike.

Notation per spatial axis: ``i`` input size, ``k`` kernel, ``s`` stride, ``d`` dilation,
``pb``/``pe`` padding at begin/end, ``op`` output padding, ``o`` output size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from .dims import Dim, Expr


@dataclass(frozen=True)
class Rule:
    name: str
    formula: str
    fn: Callable[..., Dim]

    def __call__(self, **values: Dim) -> Dim:
        """The rule's value; an unknown (``None``) input gives an unknown output."""
        if any(v is None for v in values.values()):
            return None
        return self.fn(**values)

    def filled(self, **values: Dim) -> str:
        """The formula with numbers (or symbolic dims) in place of the names."""
        def put(match: re.Match) -> str:
            name = match.group(0)
            if name not in values:
                return name
            text = str(values[name])
            return text if re.fullmatch(r"\w+", text) else f"({text})"
        return re.sub(r"\b[a-z]+\b", put, self.formula)


def rule(name: str, formula: str) -> Callable[[Callable[..., Dim]], Rule]:
    return lambda fn: Rule(name, formula, fn)


def effective_kernel(k: int, d: int) -> int:
    """``d*(k - 1) + 1``: the span of a dilated window."""
    return d * (k - 1) + 1


def ceil_div(a: int | Expr, b: int) -> int | Expr:
    return -((-a) // b)


@rule("windows", "floor((i + pb + pe - d*(k - 1) - 1)/s) + 1")
def windows(*, i: Dim, k: int, s: int, d: int, pb: Dim, pe: Dim) -> Dim:
    """How many windows of span ``d*(k-1)+1``, stepping by ``s``, fit in the padded input."""
    return (i + pb + pe - effective_kernel(k, d)) // s + 1


@rule("windows, ceil mode", "floor((i + pb + pe - d*(k - 1) - 1 + s - 1)/s) + 1")
def windows_ceil_raw(*, i: Dim, k: int, s: int, d: int, pb: Dim, pe: Dim) -> Dim:
    """Ceil mode before the last-window rule: a partial last window counts."""
    return (i + pb + pe - effective_kernel(k, d) + s - 1) // s + 1


@rule("windows, ceil mode, last window inside",
      "floor((i + min(pb + pe - d*(k - 1) - 1 + s - 1, pb - 1))/s) + 1")
def windows_ceil(*, i: Dim, k: int, s: int, d: int, pb: int, pe: int) -> Dim:
    """PyTorch/ONNX ceil mode: windows ``j*s`` that start before ``i + pb`` (in the input or the
    left padding) and overlap the padded input. The documented ``ceil((...)/s) + 1`` is one too
    many exactly when the last window would start in the right padding; counting starts
    ``j*s <= min(i + pb + pe - eff + s - 1, i + pb - 1)`` gives the framework's answer in one floor."""
    return (i + min(pb + pe - effective_kernel(k, d) + s - 1, pb - 1)) // s + 1


@rule("TF SAME", "ceiling(i/s)")
def same(*, i: Dim, s: int) -> Dim:
    return ceil_div(i, s)


@rule("TF SAME padding", "max((ceiling(i/s) - 1)*s + d*(k - 1) + 1 - i, 0)")
def same_total_pad(*, i: int, k: int, s: int, d: int) -> int:
    """Total padding TF-SAME adds; ``i`` must be concrete (it depends on ``i mod s``)."""
    return max((ceil_div(i, s) - 1) * s + effective_kernel(k, d) - i, 0)


def split_pad(total: int, lower: bool = False) -> tuple[int, int]:
    """TF/ONNX SAME_UPPER puts the odd cell at the end; SAME_LOWER at the beginning."""
    small, big = total // 2, total - total // 2
    return (big, small) if lower else (small, big)


@rule("transposed", "(i - 1)*s - pb - pe + d*(k - 1) + 1 + op")
def transposed(*, i: Dim, k: int, s: int, d: int, pb: Dim, pe: Dim, op: Dim) -> Dim:
    """The size whose forward conv (same k, s, d, pads) has ``i`` windows, plus ``op`` cells."""
    return (i - 1) * s - pb - pe + effective_kernel(k, d) + op


def transposed_sizes(*, i: Dim, k: int, s: int, d: int, pb: Dim, pe: Dim) -> list[Dim]:
    """All sizes a forward conv maps to ``i``: ``transposed(op=0) + j`` for ``j`` in ``0..s-1``.

    That is the transposed-conv ambiguity: ``floor`` in :func:`windows` maps ``s`` consecutive
    sizes to one.
    """
    low = transposed(i=i, k=k, s=s, d=d, pb=pb, pe=pe, op=0)
    return [low + j for j in range(s)]


# -- padding and resizing (shapesmith.ops.spatial) ------------------------------------
@rule("padded", "i + pb + pe")
def padded(*, i: Dim, pb: int, pe: int) -> Dim:
    """Pad ``pb`` cells before and ``pe`` after; a negative pad crops."""
    return i + pb + pe


@rule("scaled", "floor(i*s)")
def scaled(*, i: Dim, s: int | float) -> Dim:
    """Resize by a scale factor: ``floor(i*s)``, in double precision as PyTorch computes it; a symbolic
    ``i`` with a fractional ``s`` reads ``s`` as the decimal it is written as."""
    if isinstance(i, int):
        return math.floor(float(i) * s) if isinstance(s, float) else i * s
    if isinstance(s, int):
        return i * s
    q = Fraction(repr(float(s)))
    return (i * q.numerator) // q.denominator


RULES = (windows, windows_ceil_raw, windows_ceil, same, same_total_pad, transposed, padded, scaled)
