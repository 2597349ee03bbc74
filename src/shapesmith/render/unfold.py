"""The unfold / im2col view as text for people (``shapesmith forward|layer ... --explain``)."""

from __future__ import annotations

import math

from ..dims import format_shape
from ..numeric.unfold import AxisView, Tap, Unfold
from .text import TITLES


def _matrix(shape: tuple[int, int]) -> str:
    return f"{shape[0]} x {shape[1]}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _per_group(u: Unfold) -> str:
    return " per sample" if u.groups == 1 else f" per sample and group ({u.groups} groups)"


def _conv_tap(t: Tap, mode: str) -> str:
    if t.where == "input":
        return f"tap {t.tap} -> input {t.index}"
    held = "zero" if t.source is None else f"{mode} copy of input {t.source}"
    return f"tap {t.tap} -> {t.index} ({t.where}: {held})"


def _axis_line(v: AxisView, transposed: bool) -> str:
    what = (f"i={v.size} k={v.kernel} s={v.stride} d={v.dilation} "
            + (f"crop={v.pad}" if transposed else f"pad={v.pad}") + f" -> {v.out}")
    return f"  {v.axis}: {what}"


def render_unfold(u: Unfold) -> str:
    """Shapes of the matrix products, the input cells one output position uses, and a numpy recipe."""
    lines = [f"{TITLES.get(u.framework, u.framework)}: {u.layer} on {format_shape(u.input_shape)}"]
    k = math.prod(v.kernel for v in u.axes)
    per_in = u.in_channels // u.groups
    positions = ", ".join(f"{v.axis}={v.position}" for v in u.axes)
    if not u.transposed:
        lines.append("im2col (unfold): each output position is one column of the input values its window reads")
        lines += [_axis_line(v, False) for v in u.axes]
        rows = f"{_count(per_in, 'channel')} x {_count(k, 'tap')}"
        lines.append(f"  X        {_matrix(u.x_matrix)}{_per_group(u)}: rows = {rows}, one column per output position")
        lines.append(f"  W        {_matrix(u.w_matrix)}: the weight {format_shape(u.weight_shape)} flattened per "
                     f"output channel")
        lines.append(f"  W @ X    {_matrix(u.product)}, + bias, reshaped to the output {format_shape(u.output_shape)}")
        lines.append(f"output position ({positions}) reads, in every input channel c of its group "
                     f"(times weight[o, c, taps]):")
        for v in u.axes:
            lines.append(f"  {v.axis}: " + "; ".join(_conv_tap(t, u.padding_mode) for t in v.taps))
    else:
        lines.append("col2im (the adjoint of unfold): each input position times the weights gives a column of "
                     "output contributions, added back into place")
        lines += [_axis_line(v, True) for v in u.axes]
        lines.append(f"  X        {_matrix(u.x_matrix)}{_per_group(u)}: the input, one column per input position")
        rows = f"({_count(u.out_channels // u.groups, 'channel')} x {_count(k, 'tap')})"
        lines.append(f"  W^T      {_matrix(u.w_matrix)}: the weight {format_shape(u.weight_shape)} as "
                     f"{rows} x {_count(per_in, 'input channel')}")
        lines.append(f"  W^T @ X  {_matrix(u.product)}: then tap t of input i is added at output i*s + t*d, "
                     f"cropped, + bias: {format_shape(u.output_shape)}")
        lines.append(f"output position ({positions}) receives, from every input channel c of its group "
                     f"(times weight[c, o, taps]):")
        for v in u.axes:
            sources = "; ".join(f"input {t.index} via tap {t.tap}" for t in v.taps) or "nothing (bias only)"
            lines.append(f"  {v.axis}: {sources}")
    lines += [f"  note: {n}" for n in u.notes]
    lines.append("numpy:")
    lines += [f"  {line}" for line in u.recipe.splitlines()]
    return "\n".join(lines) + "\n"
