"""Text for people: solutions of the inverse problem, chain designs, and the transposed conv's ambiguity."""

from __future__ import annotations

from ..dims import format_shape
from ..solver import Designs, Inverse, Solutions, values_text
from .text import TITLES, _shape


def render_solutions(s: Solutions, limit: int = 20) -> str:
    lines = [f"{TITLES[s.framework]}: {s.layer}",
             f"  from {format_shape(s.input_shape)} to {format_shape(s.output_shape)}",
             "  unknowns: " + "; ".join(f"{u.label} in {values_text(u.values)}" for u in s.unknowns)]
    if s.solutions:
        n = len(s.solutions)
        lines.append(f"  {n} solution{'s' * (n != 1)}, simplest first"
                     + (f" (first {limit} shown; --limit 0 shows all)" if 0 < limit < n else "") + ":")
        for j, sol in enumerate(s.solutions[:limit] if limit else s.solutions, 1):
            params = ", ".join(f"{k}={v!r}" for k, v in sol.params)
            lines.append(f"  {j:>3}. {sol.layer}")
            lines.append(f"       {params} -> {_shape(sol.output_shape)}")
            if sol.constraints:
                lines.append(f"       valid when: {', '.join(sol.constraints)}")
            lines += [f"       {note}" for note in sol.notes]
    else:
        lines += ["  no solution:", *(f"  - {r}" for r in s.reasons)]
    return _closed(lines, s.searched)


def render_designs(d: Designs, limit: int = 20) -> str:
    lines = [f"{TITLES[d.framework]}: {len(d.layers)} layers from {format_shape(d.input_shape)} "
             f"to {format_shape(d.output_shape)}"]
    if any(t is not None for t in d.through):
        lines.append("  through: " + ", ".join("any" if t is None else format_shape(t) for t in d.through))
    if d.designs:
        shown = d.designs[:limit] if limit else d.designs
        lines.append(f"  {d.total} design{'s' * (d.total != 1)}, simplest first"
                     + (f" ({len(shown)} shown)" if len(shown) < d.total else "") + ":")
        for j, design in enumerate(shown, 1):
            lines.append(f"  {j}.")
            for text, shape in zip(design.layers, design.shapes):
                lines.append(f"     {text:<60} -> {format_shape(shape)}")
            if design.constraints:
                lines.append(f"     valid when: {', '.join(design.constraints)}")
    else:
        lines += ["  no design:", *(f"  - {r}" for r in d.reasons)]
    return _closed(lines, d.searched)


def _closed(lines: list[str], searched: int) -> str:
    return "\n".join([*lines, f"  ({searched} candidate layers checked)"]) + "\n"


def render_inverse(v: Inverse) -> str:
    lines = [f"{TITLES[v.framework]}: {v.layer}",
             f"  input   {format_shape(v.input_shape)}",
             f"  output  {format_shape(v.output_shape)}",
             "  the same output comes from these input sizes (integer division forgets which):"]
    lines += [f"    {axis}: {', '.join(map(str, sizes))}" for axis, sizes in v.per_axis]
    lines.append("  the transposed layer that gives each one back:")
    for r in v.recoveries:
        sizes = " x ".join(map(str, r.sizes))
        if r.layers:
            lines.append(f"    {sizes}:  {r.layers[0]}")
            lines += [f"    {' ' * len(sizes)}   or {alt}" for alt in r.layers[1:]]
        else:
            lines.append(f"    {sizes}:  (not with these settings)")
    lines += [f"  note: {n}" for n in v.notes]
    return "\n".join(lines) + "\n"
