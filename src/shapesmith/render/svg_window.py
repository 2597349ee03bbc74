"""A conv or pool's sliding window along one or two axes: the input with its padding (asymmetric padding
marked), the window of one output position with its dilation gaps, the next window one stride on, and
the output grid. Output ``j`` reads input ``j*s + t*d - pb`` for tap ``t`` (:class:`WindowAxis`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..dims import format_shape
from ..layer import LayerResult
from ..numeric.conv import WindowAxis, window_axes
from ..ops import Pool
from .svg import Picture, check_index, derivation_lines
from .svg_base import (ASYM, CELL, CHOSEN, CROPPED, GAP, INPUT, MUTED, OUTPUT, PAD, TAP, Canvas, Cell, Elided, Grid,
                       few, index_text, input_and_output, swatch_legend, text_lines, visible)

NEXT = "#d9822b"  # the next window, one stride on
PAD_TAP = {**TAP, "fill": "#8fb4ec", "stroke-dasharray": "3 2"}  # a tap that reads padding


@dataclass(frozen=True)
class WindowView:
    """One drawn axis: its geometry and the chosen output position ``j``."""

    name: str
    geo: WindowAxis
    j: int

    @property
    def lo(self) -> int:
        return min(-self.geo.pad_begin, 0)

    @property
    def hi(self) -> int:
        """Past the end padding, or past the last window where ceil mode lets it hang over."""
        g = self.geo
        return max(g.size + g.pad_end, g.size, g.index(g.out - 1, g.kernel - 1) + 1)

    @property
    def asymmetric(self) -> bool:
        return self.geo.pad_begin != self.geo.pad_end

    def tap(self, j: int, i: int) -> int | None:
        """The tap of output ``j``'s window that reads input ``i``, if any (arithmetic: kernels may be huge)."""
        offset = i - self.geo.index(j, 0)
        t, rest = divmod(offset, self.geo.dilation)
        return t if rest == 0 and 0 <= t < self.geo.kernel else None

    def window(self, j: int) -> range:
        start = self.geo.index(j, 0)
        return range(start, start + self.geo.effective)

    def role(self, i: int) -> str:
        g = self.geo
        if i < 0:
            return "pad-begin"
        if i >= g.size:
            return "pad-end" if i < g.size + g.pad_end else "beyond"
        if i < -g.pad_begin or i >= g.size + g.pad_end:
            return "cropped"
        return "in"

    def input_items(self) -> list:
        g = self.geo
        keep = [g.index(j, t) for j in (self.j, self.j + 1) if j < g.out for t in few(g.kernel)]
        keep += [*range(-min(g.pad_begin, 3), 1), *range(g.size - 1, g.size + min(max(g.pad_end, 0), 3))]
        return visible(self.lo, self.hi, keep)

    def output_items(self) -> list:
        return visible(0, self.geo.out, (self.j, self.j + 1))

    def to_dict(self) -> dict:
        g = self.geo
        return {"name": self.name, "size": g.size, "kernel": g.kernel, "stride": g.stride, "dilation": g.dilation,
                "pad_begin": g.pad_begin, "pad_end": g.pad_end, "out": g.out, "lo": self.lo, "hi": self.hi}


def window_views(result: LayerResult, spatial: tuple, drawn: tuple[int, ...], chosen: tuple[int, ...]
                 ) -> list[WindowView]:
    op = result.op

    def pick(field: str) -> tuple:
        return tuple(getattr(op, field)[a] for a in drawn)

    geos = window_axes(pick("padding"), tuple(spatial[a] for a in drawn), pick("kernel"), pick("stride"),
                       pick("dilation"), getattr(op, "ceil_mode", False))
    views = [WindowView(result.steps[a].axis, g, j) for a, g, j in zip(drawn, geos, chosen)]
    for v in views:
        check_index(v.j, v.geo.out, v.name, "output position")
    return views


def window_picture(result: LayerResult, spatial: tuple, drawn: tuple[int, ...], chosen: tuple[int, ...]) -> Picture:
    views = window_views(result, spatial, drawn, chosen)
    names = tuple(v.name for v in views)
    mode = getattr(result.op, "padding_mode", "zeros")
    canvas = Canvas()
    what = "pool" if isinstance(result.op, Pool) else "conv"
    position = index_text(tuple(v.j for v in views))
    canvas.text(12, 20, result.layer.text, "title", size=13, mono=True, weight="bold")
    canvas.text(12, 38, f"input {format_shape(result.input_shape)}  →  output {format_shape(result.output_shape)}",
                "shapes", size=12, mono=True)
    canvas.text(12, 55, f"{what} window of output position ({position}) along {' × '.join(names)}: the blue cells "
                "are what it reads; the orange outline is the next window, one stride on", "caption", size=11,
                fill=MUTED)
    top = 92
    inputs = [v.input_items() for v in views]
    outputs = [v.output_items() for v in views]

    def input_cell(index: tuple[int, ...]) -> Cell:
        return _input_cell(views, index, mode)

    def output_cell(index: tuple[int, ...]) -> Cell:
        chosen_cell = all(i == v.j for i, v in zip(index, views))
        return Cell("cell output chosen" if chosen_cell else "cell output", CHOSEN if chosen_cell else OUTPUT, {},
                    f"output[{index_text(index)}]")

    grid_in, grid_out = input_and_output(canvas, top, inputs, outputs, names, input_cell, output_cell, gap=78,
                                         centered=True)
    if len(views) == 1:
        _window_1d(canvas, views[0], grid_in, grid_out)
        bottom = grid_out.top + CELL + 14
    else:
        _window_2d(canvas, views, grid_in, grid_out)
        bottom = max(grid_in.top + grid_in.height, grid_out.top + grid_out.height)
    notes = _notes(result, views, mode)
    y = bottom + 28
    y = text_lines(canvas, y, derivation_lines(result, drawn), notes)
    swatch_legend(canvas, 12, y + 4, [("input", INPUT, "input"), ("pad", PAD, "padding"),
                                      ("asym", ASYM, "asymmetric padding"), ("window", TAP, "window tap"),
                                      ("gap", GAP, "dilation gap"), ("chosen", CHOSEN, "chosen output")])
    geometry = {"kind": "window", "axes": [v.to_dict() for v in views], "position": [v.j for v in views]}
    svg, width, height = canvas.svg("window", {"geometry": geometry})
    return Picture("window", svg, width, height, tuple(notes))


def _input_cell(views: list[WindowView], index: tuple[int, ...], mode: str) -> Cell:
    roles = [v.role(i) for v, i in zip(views, index)]
    padded = [r for r in roles if r in ("pad-begin", "pad-end", "beyond")]
    cls, style, data = "cell input", INPUT, {}
    title = f"input[{index_text(index)}]"
    if "cropped" in roles:
        cls, style, title = cls + " cropped", CROPPED, title + ": cropped away by negative padding"
    elif padded:
        asym = any(v.asymmetric for v, r in zip(views, roles) if r != "in")
        cls += " pad " + " ".join(sorted(set(padded))) + (" asym" if asym else "")
        style = ASYM if asym else PAD
        title += ": padding" + (" (asymmetric)" if asym else "")
        if mode != "zeros" and "beyond" not in padded:
            source = tuple(_padding_source(i, v.geo.size, mode) for v, i in zip(views, index))
            data["source"] = index_text(source)
            title += f", holds input[{index_text(source)}] ({mode})"
    taps = [v.tap(v.j, i) for v, i in zip(views, index)]
    if all(t is not None for t in taps):
        cls += " window"
        style = PAD_TAP if padded else TAP
        data["tap"] = index_text(tuple(taps))
        title += f"; tap ({index_text(tuple(taps))}) of the chosen window"
    elif all(i in v.window(v.j) for v, i in zip(views, index)):
        cls += " gap"
        style = GAP if not padded else {**GAP, "stroke-dasharray": "3 2"}
        title += "; inside the window but skipped (dilation)"
    return Cell(cls, style, data, title)


def _padding_source(i: int, n: int, mode: str) -> int:
    """The input cell a padding cell repeats: reflect mirrors without the edge, replicate clamps, circular wraps."""
    if mode == "reflect":
        return -i if i < 0 else 2 * (n - 1) - i
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    return i % n


def _window_1d(canvas: Canvas, v: WindowView, grid_in: Grid, grid_out: Grid) -> None:
    top, bottom = grid_in.top, grid_in.top + CELL
    span = v.window(v.j)
    x0, x1 = grid_in.x[span.start], grid_in.x[span.stop - 1] + CELL
    canvas.outline(x0 - 1, top - 1, x1 - x0 + 2, CELL + 2, "window-outline", TAP["stroke"], 2.5)
    target = grid_out.x[v.j] + CELL / 2
    for i in grid_in.x:
        if v.tap(v.j, i) is not None:
            canvas.line(grid_in.x[i] + CELL / 2, bottom, target, grid_out.top, "link", stroke="#8fb4ec")
    if v.j + 1 < v.geo.out:
        nxt = v.window(v.j + 1)
        n0, n1 = grid_in.x[nxt.start], grid_in.x[nxt.stop - 1] + CELL
        canvas.outline(n0 - 3, top - 4, n1 - n0 + 6, CELL + 8, "next-window", NEXT, 1.5, "5 3",
                       {"axis": v.name, "stride": v.geo.stride})
        y = bottom + 16
        canvas.line(x0 + 2, y, n0 + 2, y, "stride-step", stroke=NEXT, width=1.5, arrow=True,
                    data={"axis": v.name, "stride": v.geo.stride})
        canvas.text(max(n0, x0 + 30) + 8, y + 4, f"stride {v.geo.stride}", "stride-label", size=10, fill=NEXT)


def _window_2d(canvas: Canvas, views: list[WindowView], grid_in: Grid, grid_out: Grid) -> None:
    rows, cols = (v.window(v.j) for v in views)
    x0, x1 = grid_in.x[cols.start], grid_in.x[cols.stop - 1] + CELL
    y0, y1 = grid_in.y[rows.start], grid_in.y[rows.stop - 1] + CELL
    canvas.outline(x0 - 1, y0 - 1, x1 - x0 + 2, y1 - y0 + 2, "window-outline", TAP["stroke"], 2.5)
    ox, oy = grid_out.at(tuple(v.j for v in views))
    canvas.line(x1, y0, ox, oy, "link", stroke="#8fb4ec")
    canvas.line(x1, y1, ox, oy + CELL, "link", stroke="#8fb4ec")
    for axis, v in enumerate(views):
        if v.j + 1 >= v.geo.out:
            continue
        nxt = v.window(v.j + 1)
        if axis == 1:
            n0, n1 = grid_in.x[nxt.start], grid_in.x[nxt.stop - 1] + CELL
            canvas.outline(n0 - 3, y0 - 3, n1 - n0 + 6, y1 - y0 + 6, "next-window", NEXT, 1.5, "5 3",
                           {"axis": v.name, "stride": v.geo.stride})
            canvas.text(n1 + 4, y0 - 6, f"stride {v.geo.stride} →", "stride-label", size=10, fill=NEXT)
        else:
            n0, n1 = grid_in.y[nxt.start], grid_in.y[nxt.stop - 1] + CELL
            canvas.outline(x0 - 3, n0 - 3, x1 - x0 + 6, n1 - n0 + 6, "next-window", NEXT, 1.5, "5 3",
                           {"axis": v.name, "stride": v.geo.stride})
            canvas.text(x0, n1 + 14, f"stride {v.geo.stride} ↓", "stride-label", size=10, fill=NEXT)


def _notes(result: LayerResult, views: list[WindowView], mode: str) -> list[str]:
    notes = []
    for v in views:
        g = v.geo
        if g.pad_begin < 0 or g.pad_end < 0:
            notes.append(f"{v.name}: negative padding ({g.pad_begin}, {g.pad_end}) crops the input")
        elif v.asymmetric:
            notes.append(f"{v.name}: padding {g.pad_begin} before, {g.pad_end} after (asymmetric, orange)")
        if g.dilation > 1:
            notes.append(f"{v.name}: dilation {g.dilation}: the window spans {g.effective} cells, a tap every "
                         f"{g.dilation}; the light cells between are skipped")
        if v.hi > g.size + max(g.pad_end, 0):
            notes.append(f"{v.name}: ceil mode: the last window hangs past the padded input")
    if mode != "zeros":
        notes.append(f"padding_mode={mode!r}: the padding cells repeat input cells (hover to see which)")
    if any(isinstance(i, Elided) for v in views for i in (*v.input_items(), *v.output_items())):
        notes.append("long axes are drawn around the chosen window; … stands for the cells not drawn")
    return notes
