"""What every picture shares: an SVG canvas that escapes all text, the palette, and the choice of which
cells of a long axis to draw (the rest are shown as one elided cell that says how many it stands for)."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

CELL = 24  # px, one grid cell
CAP = 32  # cells drawn per axis at most; a longer axis is drawn around the cells that matter
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"

# Presentation attributes carry the look, so the SVG renders alike in a notebook, a slide or a PNG; the
# classes and data- attributes carry the meaning (tests and the web page's hover read them, and its CSS
# overrides the colours).
INPUT = {"fill": "#dce6f2", "stroke": "#7c8da6"}
PAD = {"fill": "#ffffff", "stroke": "#9aa5b1", "stroke-dasharray": "3 2"}
ASYM = {"fill": "#fde2c8", "stroke": "#d9822b", "stroke-dasharray": "3 2"}
CROPPED = {"fill": "#eeeeee", "stroke": "#bbbbbb", "stroke-dasharray": "1 2", "opacity": "0.7"}
TAP = {"fill": "#3b7ddd", "stroke": "#1c4f9c"}
GAP = {"fill": "#b9d0f2", "stroke": "#7c8da6"}
OUTPUT = {"fill": "#dff0d8", "stroke": "#6a9a5b"}
CHOSEN = {"fill": "#2e8b3a", "stroke": "#1d5a25"}
OUTPAD = {"fill": "#fff3b0", "stroke": "#b39500"}
ELIDED = {"fill": "#f6f6f6", "stroke": "#cccccc"}
INK = "#222222"
MUTED = "#666666"


@dataclass(frozen=True)
class Elided:
    """``count`` consecutive indices from ``start`` that are not drawn."""

    start: int
    count: int


Item = int | Elided


def visible(lo: int, hi: int, keep: Iterable[int], cap: int = CAP) -> list[Item]:
    """The indices ``lo <= v < hi`` to draw: all of them when there are at most ``cap``; else the two at
    each end and each kept index with its neighbours, a run of hidden ones becoming one :class:`Elided`."""
    if hi - lo <= cap:
        return list(range(lo, hi))
    wanted = {lo, lo + 1, hi - 2, hi - 1}
    for k in keep:
        wanted.update((k - 1, k, k + 1))
    items: list[Item] = []
    previous = None
    for v in sorted(w for w in wanted if lo <= w < hi):
        if previous is not None and v - previous > 1:
            gap = v - previous - 1
            items.append(previous + 1 if gap == 1 else Elided(previous + 1, gap))
        items.append(v)
        previous = v
    return items


def few(count: int, limit: int = 8) -> list[int]:
    """Indices ``0 .. count-1``, or the first and last few of them when there are many (a huge kernel)."""
    if count <= limit:
        return list(range(count))
    half = limit // 2
    return [*range(half), *range(count - half, count)]


def number(n: int) -> str:
    return f"{n:,}"


class Canvas:
    """Collects SVG elements, escaping every text and attribute, and grows to fit them."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.right = 0.0
        self.bottom = 0.0
        self.classes: set[str] = set()  # every class token used, so a legend shows only what is drawn

    def _grow(self, x: float, y: float) -> None:
        self.right = max(self.right, x)
        self.bottom = max(self.bottom, y)

    def rect(self, x: float, y: float, w: float, h: float, cls: str, style: Mapping[str, str],
             data: Mapping[str, object] | None = None, title: str | None = None, rx: float = 0) -> None:
        self._grow(x + w, y + h)
        self.classes.update(cls.split())
        inner = f"<title>{_text(title)}</title>" if title else ""
        attrs = _attrs({"class": cls, "x": _n(x), "y": _n(y), "width": _n(w), "height": _n(h),
                        "rx": _n(rx) if rx else None, **style}, data)
        self.parts.append(f"<rect{attrs}>{inner}</rect>" if inner else f"<rect{attrs}/>")

    def text(self, x: float, y: float, content: str, cls: str, *, size: float = 12, anchor: str = "start",
             weight: str | None = None, fill: str = INK, mono: bool = False,
             data: Mapping[str, object] | None = None, width_hint: float | None = None) -> None:
        width = width_hint if width_hint is not None else len(content) * size * (0.62 if mono else 0.58)
        left = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
        self._grow(left + width, y + size * 0.3)
        attrs = _attrs({"class": cls, "x": _n(x), "y": _n(y), "font-size": _n(size),
                        "font-family": MONO if mono else FONT, "text-anchor": anchor if anchor != "start" else None,
                        "font-weight": weight, "fill": fill}, data)
        self.parts.append(f"<text{attrs}>{_text(content)}</text>")

    def rich_text(self, x: float, y: float, pieces: list[tuple[str, str, Mapping[str, object] | None]], cls: str,
                  *, size: float = 12, mono: bool = True) -> None:
        """One line of text made of pieces ``(text, class, data)``, each a ``<tspan>`` (a shape's dims)."""
        width = sum(len(t) for t, _, _ in pieces) * size * (0.62 if mono else 0.58)
        self._grow(x + width, y + size * 0.3)
        spans = "".join(f"<tspan{_attrs({'class': c or None, 'font-weight': 'bold' if 'changed' in c else None}, d)}>"
                        f"{_text(t)}</tspan>" for t, c, d in pieces)
        attrs = _attrs({"class": cls, "x": _n(x), "y": _n(y), "font-size": _n(size),
                        "font-family": MONO if mono else FONT, "fill": INK}, None)
        self.parts.append(f"<text{attrs}>{spans}</text>")

    def line(self, x1: float, y1: float, x2: float, y2: float, cls: str, stroke: str = MUTED, width: float = 1,
             dash: str | None = None, arrow: bool = False, data: Mapping[str, object] | None = None) -> None:
        self._grow(max(x1, x2), max(y1, y2))
        attrs = _attrs({"class": cls, "x1": _n(x1), "y1": _n(y1), "x2": _n(x2), "y2": _n(y2), "stroke": stroke,
                        "stroke-width": _n(width), "stroke-dasharray": dash,
                        "marker-end": "url(#arrow)" if arrow else None}, data)
        self.parts.append(f"<line{attrs}/>")

    def outline(self, x: float, y: float, w: float, h: float, cls: str, stroke: str, width: float = 2,
                dash: str | None = None, data: Mapping[str, object] | None = None) -> None:
        self.rect(x, y, w, h, cls, {"fill": "none", "stroke": stroke, "stroke-width": _n(width),
                                    "stroke-dasharray": dash} if dash else
                  {"fill": "none", "stroke": stroke, "stroke-width": _n(width)}, data)

    def open_group(self, cls: str, data: Mapping[str, object] | None = None) -> None:
        self.parts.append(f"<g{_attrs({'class': cls}, data)}>")

    def close_group(self) -> None:
        self.parts.append("</g>")

    def svg(self, kind: str, data: Mapping[str, object], margin: float = 12) -> tuple[str, int, int]:
        """The document, and its width and height in px."""
        width, height = int(self.right + margin), int(self.bottom + margin)
        root = _attrs({"xmlns": "http://www.w3.org/2000/svg", "class": f"shapesmith {kind}", "width": str(width),
                       "height": str(height), "viewBox": f"0 0 {width} {height}"}, {"kind": kind, **data})
        defs = ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                f'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{MUTED}"/></marker></defs>')
        background = f'<rect class="background" x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>'
        return f"<svg{root}>{defs}{background}{''.join(self.parts)}</svg>\n", width, height


def _n(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def _text(s: str) -> str:
    return html.escape(s, quote=False)


def _attrs(attrs: Mapping[str, object | None], data: Mapping[str, object] | None) -> str:
    out = [f' {k}="{html.escape(str(v), quote=True)}"' for k, v in attrs.items() if v is not None]
    for k, v in (data or {}).items():
        if v is None:
            continue
        value = v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) if isinstance(v, (dict, list)) \
            else str(v)
        out.append(f' data-{k}="{html.escape(value, quote=True)}"')
    return "".join(out)


def index_text(index: tuple[int, ...]) -> str:
    """A cell's ``data-index``: ``3`` along one axis, ``2,3`` along two."""
    return ",".join(map(str, index))


def swatch_legend(canvas: Canvas, x: float, y: float, entries: list[tuple[str, Mapping[str, str], str]]) -> float:
    """A row of coloured squares with their meaning, for the classes drawn; returns the y below it."""
    at = x
    for cls, style, label in entries:
        if cls not in canvas.classes:
            continue
        canvas.rect(at, y, 12, 12, f"legend {cls}", style)
        canvas.text(at + 16, y + 10, label, "legend-label", size=11, fill=MUTED)
        at += 16 + len(label) * 11 * 0.58 + 14
    return y + 20


@dataclass(frozen=True)
class Cell:
    """How one grid cell looks and what it means."""

    cls: str
    style: Mapping[str, str]
    data: Mapping[str, object]
    title: str
    label: str = ""


@dataclass(frozen=True)
class Grid:
    """Where a drawn grid's cells sit: ``x[col]``, ``y[row]`` (a one-axis grid has the single row ``None``)."""

    x: dict[int, float]
    y: dict[int | None, float]
    left: float
    top: float
    width: float
    height: float

    def at(self, index: tuple[int, ...]) -> tuple[float, float]:
        """The top-left corner of the cell at ``index``."""
        return (self.x[index[-1]], self.y[index[0] if len(index) == 2 else None])


def input_and_output(canvas: Canvas, top: float, inputs: list[list[Item]], outputs: list[list[Item]],
                     names: tuple[str, ...], input_cell: Callable, output_cell: Callable, *, gap: float,
                     centered: bool = False) -> tuple[Grid, Grid]:
    """The input grid and the output grid: one axis, the output ``gap`` below the input; two axes, side by
    side (the output ``centered`` on the input's height)."""
    if len(inputs) == 1:
        canvas.text(10, top + 16, "input", "axis-label", size=11, fill=MUTED)
        canvas.open_group("input-grid")
        grid_in = draw_grid(canvas, 70, top, inputs, names, input_cell)
        canvas.close_group()
        out_top = top + CELL + gap
        canvas.text(10, out_top + 16, "output", "axis-label", size=11, fill=MUTED)
        canvas.open_group("output-grid")
        grid_out = draw_grid(canvas, 70, out_top, outputs, names, output_cell, ticks="below")
        canvas.close_group()
        return grid_in, grid_out
    left = 56
    canvas.text(left, top - 20, f"{names[1]} →", "axis-label", size=11, fill=MUTED)
    canvas.text(8, top + 14, f"{names[0]} ↓", "axis-label", size=11, fill=MUTED)
    canvas.open_group("input-grid")
    grid_in = draw_grid(canvas, left, top, inputs, names, input_cell)
    canvas.close_group()
    out_top = top + max((grid_in.height - len(outputs[0]) * CELL) / 2, 0) if centered else top
    canvas.open_group("output-grid")
    grid_out = draw_grid(canvas, left + grid_in.width + 90, out_top, outputs, names, output_cell)
    canvas.close_group()
    return grid_in, grid_out


def draw_grid(canvas: Canvas, left: float, top: float, items: list[list[Item]], names: tuple[str, ...],
              cell: Callable[[tuple[int, ...]], Cell], ticks: str | None = "above", size: float = CELL) -> Grid:
    """A row of cells (one axis) or rows x columns (two axes); ``cell(index) -> Cell``. An elided run is one
    band across the grid saying how many rows or columns it stands for. Column numbers go ``ticks``
    (above or below), row numbers to the left."""
    rows: list[Item | None] = items[0] if len(items) == 2 else [None]
    cols = items[-1]
    xs, ys = _positions(cols, left, size), _positions(rows, top, size)
    width, height = len(cols) * size, len(rows) * size
    for r, y in zip(rows, ys):
        if isinstance(r, Elided):
            continue
        for c, x in zip(cols, xs):
            if isinstance(c, Elided):
                continue
            index = (c,) if r is None else (r, c)
            spec = cell(index)
            canvas.rect(x, y, size, size, spec.cls, spec.style, {"index": index_text(index), **spec.data},
                        spec.title)
            if spec.label:
                canvas.text(x + size / 2, y + size / 2 + 4, spec.label, "cell-label", size=10 if len(spec.label) < 3
                            else 8, anchor="middle", fill=INK if "chosen" not in spec.cls else "#ffffff",
                            width_hint=size)
    for c, x in zip(cols, xs):
        if isinstance(c, Elided):
            _band(canvas, x, top, size, height, names[-1], c, "columns" if len(items) == 2 else "cells")
        elif ticks:
            y = top - 5 if ticks == "above" else top + height + 12
            canvas.text(x + size / 2, y, str(c), "tick", size=9, anchor="middle", fill=MUTED)
    for r, y in zip(rows, ys):
        if isinstance(r, Elided):
            _band(canvas, left, y, width, size, names[0], r, "rows")
        elif ticks and r is not None:
            canvas.text(left - 5, y + size / 2 + 3, str(r), "tick", size=9, anchor="end", fill=MUTED)
    x_at = {c: x for c, x in zip(cols, xs) if isinstance(c, int)}
    y_at = {r: y for r, y in zip(rows, ys) if not isinstance(r, Elided)}
    return Grid(x_at, y_at, left, top, width, height)


def _positions(items: list, start: float, size: float) -> list[float]:
    return [start + j * size for j in range(len(items))]


def _band(canvas: Canvas, x: float, y: float, w: float, h: float, axis: str, run: Elided, what: str) -> None:
    canvas.rect(x, y, w, h, "cell elided", ELIDED, {"axis": axis, "start": run.start, "count": run.count},
                f"{number(run.count)} {what} not drawn ({run.start} .. {run.start + run.count - 1})")
    canvas.text(x + w / 2, y + h / 2 + 4, "…", "elided-label", size=12, anchor="middle", fill=MUTED, width_hint=w)


def text_lines(canvas: Canvas, y: float, derivation: list[str], notes: list[str], x: float = 12) -> float:
    """The derivation (monospace) and the notes under a picture; returns the y below them."""
    for line in derivation:
        canvas.text(x, y, line, "derivation" if not line.startswith(" ") else "derivation-note", size=11, mono=True)
        y += 16
    for line in notes:
        canvas.text(x, y, line, "note", size=11, fill=MUTED)
        y += 16
    return y
