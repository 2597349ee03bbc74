"""The im2col (unfold) view of a conv or pool: each output position's window, flattened channel-major into
one column of ``X_col`` (``(C_in/g * prod(k)) x prod(out)``, the layout of ``torch.nn.functional.unfold``),
met by the weight matrix ``W`` (``C_out/g x C_in/g * prod(k)``); ``W @ X_col`` is the output, one row per
output channel. A pool reduces each column instead. Big matrices are drawn as labelled blocks with a capped
number of cells; the chosen output position's column is always among them."""

from __future__ import annotations

import math

from ..dims import format_shape
from ..layer import LayerResult
from ..ops import Pool
from ..ops.separable import DepthwiseConv
from .svg import Picture
from .svg_base import (CHOSEN, INK, INPUT, MUTED, OUTPUT, PAD, TAP, Canvas, Cell, Elided, draw_grid, index_text, number,
                       swatch_legend, text_lines, visible)
from .svg_window import WindowView, window_views

SMALL = 16  # px, one matrix cell
WEIGHT = {"fill": "#e6dcf2", "stroke": "#8a74a8"}


def unfold_picture(result: LayerResult, spatial: tuple, drawn: tuple[int, ...], chosen: tuple[int, ...]) -> Picture:
    views = window_views(result, spatial, drawn, chosen)
    op = result.op
    channels = result.input_shape[-1] if result.layer.channels_last else result.input_shape[-len(spatial) - 1]
    pool = isinstance(op, Pool)
    if pool:
        groups, per_group, per_out = channels, 1, 1
    elif isinstance(op, DepthwiseConv):
        groups, per_group, per_out = channels, 1, op.depth_multiplier
    else:
        groups = op.groups
        per_group = channels // groups
        per_out = (op.out_channels or groups) // groups
    kernels = tuple(v.geo.kernel for v in views)
    outs = tuple(v.geo.out for v in views)
    taps, positions = math.prod(kernels), math.prod(outs)
    rows = per_group * taps
    column = ravel(chosen, outs)
    row_items = visible(0, rows, range(min(taps, 12)))
    col_items = visible(0, positions, (column,))
    out_items = visible(0, per_out, (0,), cap=12)

    def x_cell(index: tuple[int, ...]) -> Cell:
        return _column_cell(views, kernels, outs, taps, index, column)

    def w_cell(index: tuple[int, ...]) -> Cell:
        o, r = index
        c, t = divmod(r, taps)
        tap = unravel(t, kernels)
        return Cell("cell weight", WEIGHT, {"row": o, "col": r},
                    f"W[{o}, {r}] = weight[out {o}, in {c}, tap ({index_text(tap)})]")

    def y_cell(index: tuple[int, ...]) -> Cell:
        o, col = index
        at = index_text(unravel(col, outs))
        if col == column:
            return Cell("cell result chosen", CHOSEN, {"row": o, "col": col}, f"output channel {o} at ({at})")
        return Cell("cell result", OUTPUT, {"row": o, "col": col}, f"output channel {o} at ({at})")

    canvas = Canvas()
    canvas.text(12, 20, result.layer.text, "title", size=13, mono=True, weight="bold")
    canvas.text(12, 38, f"input {format_shape(result.input_shape)}  →  output {format_shape(result.output_shape)}",
                "shapes", size=12, mono=True)
    canvas.text(12, 55, f"im2col: column {number(column)} is output position ({index_text(chosen)})'s window, "
                f"flattened; {'the pool reduces each column' if pool else 'W times each column is that position'}",
                "caption", size=11, fill=MUTED)
    tap_names = "·".join(f"k{v.name}" for v in views)
    out_names = "·".join(f"{v.name}out" for v in views)
    left_w = 60 + len(row_items) * SMALL
    x0, y0 = (60 if pool else left_w + 40), 110
    x_label = f"X_col  ({'C' if pool else 'C_in/g'}·{tap_names} = {number(rows)}) × ({out_names} = {number(positions)})"
    canvas.text(x0, y0 - 24, x_label, "block-label", size=11, mono=True)
    canvas.open_group("block x-col", {"rows": rows, "cols": positions})
    grid_x = draw_grid(canvas, x0, y0, [row_items, col_items], ("row", "column"), x_cell, ticks=None, size=SMALL)
    canvas.close_group()
    canvas.outline(x0 - 2, y0 - 2, grid_x.width + 4, grid_x.height + 4, "block-outline", INK, 1)
    y1 = y0 + grid_x.height + 56
    if pool:
        canvas.text(x0, y1 - 22, f"Y  (1 × {number(positions)}): the {op.kind} of each column, per channel",
                    "block-label", size=11, mono=True)
        canvas.open_group("block y", {"rows": 1, "cols": positions})
        grid_y = draw_grid(canvas, x0, y1, [[0], col_items], ("channel", "column"), y_cell, ticks=None, size=SMALL)
        canvas.close_group()
    else:
        canvas.text(60, y1 - 22, f"W  (C_out/g = {number(per_out)}) × {number(rows)}", "block-label", size=11,
                    mono=True)
        canvas.open_group("block weight", {"rows": per_out, "cols": rows})
        grid_w = draw_grid(canvas, 60, y1, [out_items, row_items], ("out", "row"), w_cell, ticks=None, size=SMALL)
        canvas.close_group()
        canvas.outline(58, y1 - 2, grid_w.width + 4, grid_w.height + 4, "block-outline", INK, 1)
        canvas.text(x0, y1 - 22, f"Y = W · X_col  ({number(per_out)} × {number(positions)}), "
                    f"reshaped to ({number(per_out)}, {', '.join(map(str, outs))})", "block-label", size=11, mono=True)
        canvas.open_group("block y", {"rows": per_out, "cols": positions})
        grid_y = draw_grid(canvas, x0, y1, [out_items, col_items], ("out", "column"), y_cell, ticks=None, size=SMALL)
        canvas.close_group()
    canvas.outline(x0 - 2, y1 - 2, grid_y.width + 4, grid_y.height + 4, "block-outline", INK, 1)
    notes = _notes(views, rows, positions, row_items, col_items, groups, pool, channels)
    y = text_lines(canvas, y1 + grid_y.height + 30, [], notes)
    swatch_legend(canvas, 12, y + 4, [("col", INPUT, "an input value"), ("pad", PAD, "padding (0)"),
                                      ("chosen", CHOSEN, "chosen position"), ("weight", WEIGHT, "weight")])
    geometry = {"kind": "unfold", "axes": [v.to_dict() for v in views], "position": list(chosen),
                "column": column, "rows": rows, "columns": positions, "out_channels": per_out, "groups": groups}
    svg, width, height = canvas.svg("unfold", {"geometry": geometry})
    return Picture("unfold", svg, width, height, tuple(notes))


def _column_cell(views: list[WindowView], kernels: tuple, outs: tuple, taps: int, index: tuple[int, ...],
                 column: int) -> Cell:
    """Row ``r = c*prod(k) + tap``, column ``l`` (an output position): the input cell that window tap reads."""
    r, col = index
    c, t = divmod(r, taps)
    tap = unravel(t, kernels)
    source = tuple(v.geo.index(j, k) for v, j, k in zip(views, unravel(col, outs), tap))
    chosen = " chosen" if col == column else ""
    where = f"row {r} (channel {c}, tap {index_text(tap)}), column {col}"
    if any(not 0 <= i < v.geo.size for v, i in zip(views, source)):
        style = {**TAP, "fill": "#8fb4ec", "stroke-dasharray": "3 2"} if chosen else PAD
        return Cell("cell col pad" + chosen, style, {"row": r, "col": col}, f"{where}: padding, 0")
    data = {"row": r, "col": col, "source": index_text((c, *source))}
    return Cell("cell col" + chosen, TAP if chosen else INPUT, data, f"{where}: input[{index_text((c, *source))}]")


def ravel(index: tuple[int, ...], sizes: tuple[int, ...]) -> int:
    """Row-major flat index (Python ints: a product of sizes may pass 2**63)."""
    flat = 0
    for i, n in zip(index, sizes):
        flat = flat * n + i
    return flat


def unravel(flat: int, sizes: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for n in reversed(sizes):
        flat, i = divmod(flat, n)
        out.append(i)
    return tuple(reversed(out))


def _notes(views: list[WindowView], rows: int, positions: int, row_items: list, col_items: list, groups: int,
           pool: bool, channels: int) -> list[str]:
    notes = []
    size = math.prod(v.geo.size for v in views) * (channels // groups if not pool else 1)
    notes.append(f"X_col holds {number(rows * positions)} numbers copied from {number(size)} input values"
                 + (" per group" if groups > 1 and not pool else " per channel" if pool else "")
                 + ": each input value is repeated once per window that reads it (hover a cell)")
    if groups > 1 and not pool:
        notes.append(f"{groups} groups: each has its own X_col (its C_in/g = {channels // groups} channels) and W")
    shown_rows = sum(1 for r in row_items if not isinstance(r, Elided))
    shown_cols = sum(1 for c in col_items if not isinstance(c, Elided))
    if shown_rows < rows or shown_cols < positions:
        notes.append(f"drawn: {shown_rows} of {number(rows)} rows and {shown_cols} of {number(positions)} columns; "
                     "… stands for the rest")
    return notes
