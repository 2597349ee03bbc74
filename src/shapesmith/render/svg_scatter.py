"""A transposed conv along one or two axes: input cell ``i`` scatters its kernel onto output cells
``i*s + t*d - crop`` (tap ``t``), so each output cell sums a number of contributions, its overlap count,
uneven when ``s`` does not divide ``k*d`` (the checkerboard). The padding crops the full result at both ends,
``output_padding`` adds cells at the end, and the forward conv maps ``s`` sizes back to the same input."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..dims import format_dim, format_shape
from ..layer import LayerResult
from ..numeric.conv import ScatterAxis, scatter_axes
from .svg import Picture, check_index, derivation_lines, sizes_mapping_back
from .svg_base import (CELL, CHOSEN, CROPPED, INPUT, MUTED, OUTPAD, TAP, Canvas, Cell, Elided, Grid, few,
                       index_text, input_and_output, swatch_legend, text_lines, visible)

HOT = (232, 116, 59)  # the colour of the highest overlap count
LISTED = 6  # sizes mapping back, listed per axis


@dataclass(frozen=True)
class ScatterView:
    """One drawn axis: its geometry, the output padding, and the chosen input cell ``p``."""

    name: str
    geo: ScatterAxis
    extra: int  # output_padding
    p: int

    @property
    def full(self) -> int:
        """Cells the kernels reach before cropping: ``(i - 1)*s + d*(k - 1) + 1``."""
        g = self.geo
        return (g.size - 1) * g.stride + g.dilation * (g.kernel - 1) + 1

    @property
    def lo(self) -> int:
        return min(0, -self.geo.crop)

    @property
    def hi(self) -> int:
        return max(self.full - self.geo.crop, self.geo.out)

    def tap(self, p: int, j: int) -> int | None:
        """The tap through which input ``p`` lands on output ``j``, if any."""
        g = self.geo
        t, rest = divmod(j + g.crop - p * g.stride, g.dilation)
        return t if rest == 0 and 0 <= t < g.kernel else None

    def count(self, j: int) -> int:
        """How many (input, tap) pairs land on output ``j``: taps ``t`` in ``[lo, hi]`` (those whose input
        ``(f - t*d)/s`` would lie in ``0 .. size-1``, ``f = j + crop``) with ``t*d = f (mod s)``, which holds for
        one residue of ``t`` modulo ``s/gcd(d, s)``, or none."""
        g = self.geo
        f = j + g.crop
        lo = max(0, -(-(f - (g.size - 1) * g.stride) // g.dilation))
        hi = min(g.kernel - 1, f // g.dilation) if f >= 0 else -1
        common = math.gcd(g.dilation, g.stride)
        if hi < lo or f % common:
            return 0
        period = g.stride // common
        residue = (f // common) * pow(g.dilation // common, -1, period) % period
        first = lo + (residue - lo) % period
        return 0 if first > hi else (hi - first) // period + 1

    def role(self, j: int) -> str:
        if j < 0:
            return "crop-begin"
        if j >= self.geo.out:
            return "crop-end"
        return "outpad" if j >= self.geo.out - self.extra else "in"

    def input_items(self) -> list:
        return visible(0, self.geo.size, (self.p,))

    def output_items(self) -> list:
        g = self.geo
        keep = [self.p * g.stride + t * g.dilation - g.crop for t in few(g.kernel)]
        keep += [-1, 0, g.out - 1 - self.extra, g.out - 1, g.out, self.full - g.crop - 1]
        return visible(self.lo, self.hi, keep)

    def to_dict(self) -> dict:
        g = self.geo
        return {"name": self.name, "size": g.size, "kernel": g.kernel, "stride": g.stride, "dilation": g.dilation,
                "crop": g.crop, "out": g.out, "output_padding": self.extra, "full": self.full, "lo": self.lo,
                "hi": self.hi}


def scatter_views(result: LayerResult, spatial: tuple, drawn: tuple[int, ...], chosen: tuple[int, ...]
                  ) -> list[ScatterView]:
    op = result.op
    geos = scatter_axes(op, tuple(spatial), result.layer.framework, dict(result.layer.config))
    views = [ScatterView(result.steps[a].axis, geos[a], op.output_padding[a], p) for a, p in zip(drawn, chosen)]
    for v in views:
        check_index(v.p, v.geo.size, v.name, "input position")
    return views


def scatter_picture(result: LayerResult, spatial: tuple, drawn: tuple[int, ...], chosen: tuple[int, ...]) -> Picture:
    views = scatter_views(result, spatial, drawn, chosen)
    names = tuple(v.name for v in views)
    canvas = Canvas()
    canvas.text(12, 20, result.layer.text, "title", size=13, mono=True, weight="bold")
    canvas.text(12, 38, f"input {format_shape(result.input_shape)}  →  output {format_shape(result.output_shape)}",
                "shapes", size=12, mono=True)
    canvas.text(12, 55, f"transposed conv along {' × '.join(names)}: input cell ({index_text(chosen)}) scatters its "
                "kernel onto the outlined cells; each number counts the contributions a cell sums", "caption",
                size=11, fill=MUTED)
    inputs = [v.input_items() for v in views]
    outputs = [v.output_items() for v in views]
    peak = max([_count(views, index) for index in _indices(outputs)] + [1])

    def input_cell(index: tuple[int, ...]) -> Cell:
        if index == chosen:
            return Cell("cell input chosen", CHOSEN, {}, f"input[{index_text(index)}]: the chosen cell")
        return Cell("cell input", INPUT, {}, f"input[{index_text(index)}]")

    def output_cell(index: tuple[int, ...]) -> Cell:
        return _output_cell(views, index, peak)

    top = 92
    grid_in, grid_out = input_and_output(canvas, top, inputs, outputs, names, input_cell, output_cell, gap=70)
    if len(views) == 1:
        x = grid_in.x[chosen[0]] + CELL / 2
        for j in grid_out.x:
            if views[0].tap(chosen[0], j) is not None:
                canvas.line(x, top + CELL, grid_out.x[j] + CELL / 2, grid_out.top, "link", stroke="#8fb4ec")
        bottom = grid_out.top + CELL + 14
    else:
        _links_2d(canvas, views, chosen, grid_in, grid_out)
        bottom = top + max(grid_in.height, grid_out.height)
    notes = _notes(views, outputs)
    y = text_lines(canvas, bottom + 28, derivation_lines(result, drawn), [])
    y = _alternatives(canvas, y, result, drawn)
    y = text_lines(canvas, y, [], notes)
    swatch_legend(canvas, 12, y + 4, [
        ("chosen", CHOSEN, "chosen input"), ("scatter", {**INPUT, "stroke": TAP["stroke"]}, "where it lands"),
        ("cropped", CROPPED, "cropped by padding"),
        ("outpad", {**OUTPAD, "fill": "#ffffff", "stroke-width": "2", "stroke-dasharray": "4 2"},
         "output_padding cell")])
    geometry = {"kind": "scatter", "axes": [v.to_dict() for v in views], "position": list(chosen)}
    svg, width, height = canvas.svg("scatter", {"geometry": geometry})
    return Picture("scatter", svg, width, height, tuple(notes))


def _indices(items: list[list]) -> list[tuple[int, ...]]:
    rows = [r for r in items[0] if isinstance(r, int)]
    if len(items) == 1:
        return [(r,) for r in rows]
    return [(r, c) for r in rows for c in items[1] if isinstance(c, int)]


def _count(views: list[ScatterView], index: tuple[int, ...]) -> int:
    """The overlap count of a cell: the per-axis counts multiply (the taps combine independently)."""
    total = 1
    for v, j in zip(views, index):
        total *= v.count(j)
    return total


def _heat(count: int, peak: int) -> str:
    share = count / peak
    return "#" + "".join(f"{round(255 + (c - 255) * share):02x}" for c in HOT)


def _output_cell(views: list[ScatterView], index: tuple[int, ...], peak: int) -> Cell:
    roles = [v.role(j) for v, j in zip(views, index)]
    count = _count(views, index)
    cls, data = "cell output", {"count": count}
    style: dict[str, str] = {"fill": _heat(count, peak), "stroke": "#9a8a80"}
    title = f"output[{index_text(index)}]: {count} contribution{'s' * (count != 1)}"
    if any(r.startswith("crop") for r in roles):
        cls = "cell output cropped " + " ".join(sorted({r for r in roles if r.startswith("crop")}))
        style = {**CROPPED}
        title += ", cropped away by the padding"
    elif "outpad" in roles:
        cls += " outpad"
        style = {**style, "stroke": OUTPAD["stroke"], "stroke-width": "2", "stroke-dasharray": "4 2"}
        title += ", added by output_padding" + (": nothing lands here, it holds the bias only" if count == 0 else "")
    taps = [v.tap(v.p, j) for v, j in zip(views, index)]
    if all(t is not None for t in taps):
        cls += " scatter"
        data["tap"] = index_text(tuple(taps))
        style = {**style, "stroke": TAP["stroke"], "stroke-width": "3", "stroke-dasharray": "none"}
        title += f"; the chosen input lands here through tap ({index_text(tuple(taps))})"
    return Cell(cls, style, data, title, str(count))


def _links_2d(canvas: Canvas, views: list[ScatterView], chosen: tuple[int, ...], grid_in: Grid,
              grid_out: Grid) -> None:
    rows, cols = ([j for j in (grid_out.y if a == 0 else grid_out.x) if v.tap(v.p, j) is not None]
                  for a, v in enumerate(views))
    if not rows or not cols:
        return
    x0, x1 = grid_out.x[min(cols)], grid_out.x[max(cols)] + CELL
    y0, y1 = grid_out.y[min(rows)], grid_out.y[max(rows)] + CELL
    canvas.outline(x0 - 2, y0 - 2, x1 - x0 + 4, y1 - y0 + 4, "scatter-outline", TAP["stroke"], 1.5, "5 3")
    ix, iy = grid_in.at(chosen)
    canvas.line(ix + CELL, iy, x0 - 2, y0 - 2, "link", stroke="#8fb4ec")
    canvas.line(ix + CELL, iy + CELL, x0 - 2, y1 + 2, "link", stroke="#8fb4ec")


def _alternatives(canvas: Canvas, y: float, result: LayerResult, drawn: tuple[int, ...]) -> float:
    """The sizes the forward conv (same kernel, stride, dilation, padding) maps back to the input size, and
    the argument that picks each in this framework."""
    per_axis = sizes_mapping_back(result)
    for a in drawn:
        step = result.steps[a]
        i = dict(step.values)["i"]
        if per_axis is None or a >= len(per_axis):
            s = result.op.stride[a]
            canvas.text(12, y, f"{step.axis}: the forward conv maps {s:,} sizes (one per stride step) back to "
                        f"{format_dim(i)}: too many to list", "alternatives", size=11, mono=True)
            y += 16
            continue
        pieces = [(f"{step.axis}: the forward conv maps ", "", None)]
        sizes = per_axis[a]
        for k, (size, how) in enumerate(sizes[:LISTED]):
            pieces.append((", " if k else "", "", None))
            pieces.append((format_dim(size), "alternative", {"axis": step.axis, "size": format_dim(size),
                                                             "how": how or "cannot be picked"}))
            pieces.append((f" ({how or 'cannot be picked'})", "", None))
        if len(sizes) > LISTED:
            pieces.append((f", … ({len(sizes):,} sizes in all, up to {format_dim(sizes[-1][0])})", "", None))
        pieces.append((f" back to {format_dim(i)}", "", None))
        canvas.rich_text(12, y, pieces, "alternatives", size=11)
        y += 16
    return y


def _notes(views: list[ScatterView], outputs: list[list]) -> list[str]:
    notes = []
    for v in views:
        g = v.geo
        reached = range(max(0, -g.crop), min(g.out, v.full - g.crop, 4 * g.stride + 2 * g.kernel * g.dilation, 4096))
        counts = {v.count(j) for j in reached}
        if len(counts) > 1:
            notes.append(f"{v.name}: overlap counts {', '.join(map(str, sorted(counts)))} alternate: stride {g.stride} "
                         f"does not divide the kernel's span, hence the checkerboard")
        cut = v.full - g.crop - (g.out - v.extra)
        if g.crop or cut or v.extra:
            extra = f"; output_padding adds {v.extra} at the end (dashed yellow)" if v.extra else ""
            notes.append(f"{v.name}: the kernels reach {v.full} cells; padding cuts {g.crop} at the start and {cut} at "
                         f"the end{extra}")
    if any(isinstance(i, Elided) for items in outputs for i in items):
        notes.append("long axes are drawn around the chosen cell; … stands for the cells not drawn")
    return notes
