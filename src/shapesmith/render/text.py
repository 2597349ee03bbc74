"""Text for people: a Keras-summary-like table, and per-axis derivations with the numbers in."""

from __future__ import annotations

import io

from ..dims import format_dim, format_shape
from ..layer import LayerResult
from ..trace import Trace

TITLES = {"torch": "PyTorch", "keras": "Keras 3", "keras2": "tf.keras 2", "keras1": "Keras 1",
          "tf": "TensorFlow", "onnx": "ONNX"}


MAX_LISTED_SIZES = 64  # a transposed conv of stride s has s sizes mapping back: list them up to this


def _count(params) -> str:
    """``25,120``; a symbolic count (weights built for a symbolic size) as its formula."""
    return f"{params:,}" if isinstance(params, int) else str(params)


def _shape(shape) -> str:
    if isinstance(shape, list):
        return ", ".join(format_shape(s) for s in shape)
    return format_shape(shape)


def render_layer(t: Trace, explain: bool = False) -> str:
    """One layer: input, output, params; with ``explain`` the derivation of every axis."""
    r = t.layers[0]
    lines = [f"{TITLES[t.framework]}: {r.layer.text}",
             f"  input   {_shape(r.input_shape)}",
             f"  output  {_shape(r.output_shape)}",
             f"  params  {_count(r.params)}"]
    lines += _details(r, explain, t.constraints)
    return "\n".join(lines) + "\n"


def _details(r: LayerResult, explain: bool, constraints: tuple[str, ...] = ()) -> list[str]:
    """Derivation (with ``explain``), the transposed-conv sizes, notes, conditions and warnings."""
    lines: list[str] = []
    if explain:
        for step in r.steps:
            lines.append(f"  {step.axis}: {step.rule.name}: o = {step.formula}")
            lines.append(f"     = {step.filled} = {format_dim(step.result)}")
            lines += [f"     {note}" for note in step.notes]
        strides = getattr(r.op, "stride", ())
        if strides and max(strides) > MAX_LISTED_SIZES:
            lines.append(f"  stride {max(strides)}: that many sizes map back to the same input; not listed")
        for step, sizes in zip(r.steps, r.layer.alternatives(r) if not strides or max(strides) <= MAX_LISTED_SIZES
                               else ()):
            picks = ", ".join(f"{format_dim(o)} ({how})" if how else f"{format_dim(o)} (cannot be picked)"
                              for o, how in sizes)
            i = dict(step.values)["i"]
            lines.append(f"  {step.axis}: sizes the forward conv maps back to {format_dim(i)}: {picks}")
    lines += [f"  note: {n}" for n in r.notes]
    if constraints:
        lines.append(f"  valid when: {', '.join(constraints)}")
    lines += [f"  warning: {w}" for w in r.warnings]
    return lines


def render_trace(t: Trace, explain: bool = False) -> str:
    """A table like Keras ``model.summary()``; notes, derivations and conditions under it."""
    from rich.console import Console
    from rich.table import Table
    from rich import box

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Layer (type)")
    table.add_column("Output Shape")
    table.add_column("Param #", justify="right")
    for name, r in zip(t.names, t.layers):
        table.add_row(f"{name} ({r.layer.type})", _shape(r.output_shape), _count(r.params))
    out = io.StringIO()
    console = Console(file=out, width=10_000, color_system=None, highlight=False)  # never wrap a shape
    console.print(f"{TITLES[t.framework]}, input {_shape(t.input_shape)}")
    console.print(table)
    console.print(f"Total params: {_count(t.params)}")
    text = out.getvalue()
    lines: list[str] = []
    for name, r in zip(t.names, t.layers):
        detail = _details(r, explain)
        if detail:
            lines.append(f"{name} ({r.layer.type}): {r.layer.text}")
            lines += detail
    if t.constraints:
        lines.append(f"valid when: {', '.join(t.constraints)}")
    return text + ("\n".join(lines) + "\n" if lines else "")

