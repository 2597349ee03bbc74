"""A :class:`~shapesmith.summarize.Summary` as a nested text table, like torchinfo's: the module tree
down to ``depth`` (deeper layers fold into their container's line), per line the output shape,
parameters, multiply-adds and receptive field; then totals, conditions, valid inputs and notes."""

from __future__ import annotations

from ..dims import Expr, format_shape
from ..summarize import Row, Summary

MAX_CELL = 48  # a shape or count longer than this is cut in the table
MAX_RULE = 100  # a symbolic multiply-add count can be a long formula: the rules stop at this width
COLUMNS = ("Layer (type)", "Output shape", "Param #", "Mult-adds", "RF")


def render_summary(s: Summary, depth: int | None = None) -> str:
    depth = s.depth if depth is None else depth
    lines = [tuple(_fit(cell, MAX_CELL) for cell in line) for line in _table(s, depth)]
    widths = [max(len(COLUMNS[k]), *(len(line[k]) for line in lines)) if lines else len(COLUMNS[k])
              for k in range(len(COLUMNS))]
    widths[0] = min(widths[0], 60)
    rule = "=" * min(sum(widths) + 2 * (len(widths) - 1), MAX_RULE)
    out = [f"Model: {s.name} ({s.framework}), input {_shape(s.input_shape)} -> output {_shape(s.output_shape)}",
           rule, _line(COLUMNS, widths), rule]
    out += [_line(line, widths) for line in lines]
    out.append(rule)
    out.append(f"Total params: {_num(s.params)}")
    out.append(f"Trainable params: {_num(s.trainable)}")
    out.append(f"Non-trainable params: {_num(s.non_trainable)}")
    out.append(f"Total mult-adds: {_num(s.macs)}")
    out.append(rule)
    gaps = [r for r in s.rows if r.gap]
    if gaps:
        out.append("Gaps (ops shapesmith does not follow; shapes after them are unknown):")
        out += [f"  {r.name} ({r.type}): {r.gap}" for r in gaps]
    if s.constraints:
        out.append("Valid when: " + ", ".join(s.constraints))
    if s.valid_inputs is not None:
        out.append("Valid inputs:" if s.valid_inputs else "Valid inputs: none")
        for box in s.valid_inputs:
            out.append(f"  {box.text()}")
            out += [f"      because {why}" for why in box.reason]
    if s.size_origin:
        out.append(f"Input size: {s.size_origin}")
    out += [f"Warning: {w}" for w in s.warnings]
    out += [f"Note: {n}" for n in s.notes]
    return "\n".join(out) + "\n"


def _table(s: Summary, depth: int | None) -> list[tuple[str, ...]]:
    """One line per row and per container, folded at ``depth`` (0: the whole model on one line)."""
    if depth == 0:
        return [(f"{s.name} ({s.framework})", _shape(s.output_shape), _num(s.params), _num(s.macs), "")]
    totals = _container_totals(s.rows)
    lines: list[tuple[str, ...]] = []
    opened: list[str] = []
    for row in s.rows:
        path = list(row.path)
        while opened and (len(opened) > len(path) or opened[-1] != path[len(opened) - 1]):
            opened.pop()
        for level in range(len(opened), len(path)):
            container = path[level]
            opened.append(container)
            if depth is None or level < depth:
                params, macs, output = totals[container]
                kind = s.containers.get(container, "")
                parent = path[level - 1] if level else ""
                lines.append((_indent(level) + f"{_short(container, parent)} ({kind})", _shape(output),
                              _num(params), _num(macs), ""))
        level = len(path)
        if depth is not None and level >= depth:
            continue
        parent = path[-1] if path else ""
        shape = "? gap" if row.gap else _shape(row.output_shape)
        lines.append((_indent(level) + f"{_short(row.name, parent)} ({row.type})", shape, _num(row.params),
                      _num(row.macs) if row.macs else "--", _field(row)))
    return lines


def _container_totals(rows: tuple[Row, ...]) -> dict[str, tuple]:
    totals: dict[str, list] = {}
    for row in rows:
        for container in row.path:
            entry = totals.setdefault(container, [0, 0, None])
            entry[0] = entry[0] + row.params
            if isinstance(row.macs, (int, Expr)):
                entry[1] = entry[1] + row.macs
            if row.output_shape is not None:
                entry[2] = row.output_shape
    return {k: tuple(v) for k, v in totals.items()}


def _short(name: str, parent: str) -> str:
    for sep in (".", "/"):
        if parent and name.startswith(parent + sep):
            return name[len(parent) + 1:]
    return name


def _indent(level: int) -> str:
    return "" if level == 0 else "│   " * (level - 1) + "└─"


def _field(row: Row) -> str:
    if row.receptive_field is None:
        return ""
    values = set(row.receptive_field)
    return str(row.receptive_field[0]) if len(values) == 1 else "x".join(map(str, row.receptive_field))


def _shape(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(_shape(s) for s in shape)
    if isinstance(shape, tuple) and shape and isinstance(shape[0], tuple):
        return ", ".join(_shape(s) for s in shape)
    return format_shape(shape)


def _num(value) -> str:
    if value is None:
        return "?"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _fit(cell: str, width: int) -> str:
    """A long symbolic count is cut in the table; the totals below and the JSON give it whole."""
    return cell if len(cell) <= width else cell[:width - 1] + "…"


def _line(cells, widths) -> str:
    first = cells[0] if len(cells[0]) <= widths[0] else cells[0][:widths[0] - 1] + "…"
    parts = [first.ljust(widths[0])] + [c.rjust(w) if k > 1 else c.ljust(w)
                                        for k, (c, w) in enumerate(zip(cells[1:], widths[1:]), start=1)]
    return "  ".join(parts).rstrip()
