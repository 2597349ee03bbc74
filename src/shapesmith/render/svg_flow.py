"""A stack or model as a shape flow: the input, then one box per layer with its output shape (symbolic dims
as formulas, the dims the layer changed in bold), its parameters, and the conditions under which it holds."""

from __future__ import annotations

from ..dims import Dim, Expr, format_dim, format_shape
from ..layer import LayerResult
from .svg import Picture
from .svg_base import MUTED, Canvas, number, text_lines

MAX_BOXES = 120  # a longer stack shows its first and last layers around one elided box
HEAD, TAIL = 100, 10
BOX_H, GAP, LEFT = 56, 26, 16
LAYER = {"fill": "#f3f6fb", "stroke": "#7c8da6"}
INPUT_BOX = {"fill": "#eef7ec", "stroke": "#6a9a5b"}


def flow_picture(t) -> Picture:
    from .text import TITLES

    canvas = Canvas()
    canvas.text(LEFT, 20, f"{TITLES.get(t.framework, t.framework)}: {len(t.layers)} layer{'s' * (len(t.layers) != 1)}, "
                f"{_count(t.params)} parameters", "title", size=13, weight="bold")
    entries = list(enumerate(zip(t.names, t.layers)))
    hidden = 0
    if len(entries) > MAX_BOXES:
        hidden = len(entries) - HEAD - TAIL
        entries = entries[:HEAD] + [None] + entries[-TAIL:]
    texts = [format_shape_any(t.input_shape)] + [_line(e) for e in entries if e is not None]
    width = min(max(len(s) for s in texts) * 12 * 0.62 + 28, 900)
    y = 36
    canvas.rect(LEFT, y, width, 34, "box input", INPUT_BOX, {"shape": _json(t.input_shape)}, rx=6)
    canvas.text(LEFT + 10, y + 22, "input  " + format_shape_any(t.input_shape), "box-shape", size=12, mono=True)
    y += 34
    for entry in entries:
        canvas.line(LEFT + 30, y + 2, LEFT + 30, y + GAP - 2, "edge", arrow=True)
        y += GAP
        if entry is None:
            canvas.rect(LEFT, y, width, 30, "box elided", {"fill": "#f6f6f6", "stroke": "#cccccc"},
                        {"count": hidden}, rx=6)
            canvas.text(LEFT + 10, y + 20, f"… {number(hidden)} more layers …", "elided-label", size=12, fill=MUTED)
            y += 30
            continue
        j, (name, r) = entry
        _box(canvas, y, width, j, name, r)
        y += BOX_H
    lines = []
    if t.constraints:
        lines.append("valid when: " + ", ".join(t.constraints))
    lines += [f"warning: {w}" for w in t.warnings[:5]]
    text_lines(canvas, y + 26, [], lines, x=LEFT)
    svg, w, h = canvas.svg("flow", {"layers": len(t.layers), "output-shape": _json(t.output_shape)})
    return Picture("flow", svg, w, h, tuple(lines))


def _box(canvas: Canvas, y: float, width: float, j: int, name: str, r: LayerResult) -> None:
    data = {"index": j, "name": name, "type": r.layer.type, "shape": _json(r.output_shape)}
    canvas.rect(LEFT, y, width, BOX_H, "box layer", LAYER, data, rx=6,
                title=f"{r.layer.text}\n{format_shape_any(r.input_shape)} → {format_shape_any(r.output_shape)}")
    canvas.text(LEFT + 10, y + 16, f"{name} ({r.layer.type})", "box-name", size=12, weight="bold")
    params = f"{_count(r.params)} params" if r.params else ""
    if params:
        canvas.text(LEFT + width - 10, y + 16, params, "box-params", size=11, anchor="end", fill=MUTED)
    text = r.layer.text if len(r.layer.text) <= 90 else r.layer.text[:87] + "..."
    canvas.text(LEFT + 10, y + 31, text, "box-text", size=10, mono=True, fill=MUTED)
    canvas.rich_text(LEFT + 10, y + 48, [("→ ", "", None), *_dims(r.input_shape, r.output_shape)], "box-shape",
                     size=12)


def _dims(before, after) -> list[tuple[str, str, dict | None]]:
    """The output shape as pieces: each dim a tspan, bold where the layer changed it, marked when symbolic."""
    if isinstance(after, list):
        return [(", ".join(format_shape(s) for s in after), "dim changed", None)]
    same_rank = not isinstance(before, list) and len(before) == len(after)
    pieces: list[tuple[str, str, dict | None]] = [("(", "", None)]
    for k, d in enumerate(after):
        changed = not same_rank or before[k] != d
        cls = "dim" + (" changed" if changed else "") + (" symbolic" if isinstance(d, Expr) else "")
        pieces.append((format_dim(d), cls, {"axis": k}))
        pieces.append((", " if k < len(after) - 1 else (",)" if len(after) == 1 else ")"), "", None))
    return pieces


def _line(entry: tuple[int, tuple[str, LayerResult]]) -> str:
    """The longest line a box shows, for its width."""
    _, (name, r) = entry
    return max(f"{name} ({r.layer.type})   {_count(r.params)} params", "→ " + format_shape_any(r.output_shape),
               r.layer.text[:90], key=len)


def format_shape_any(shape) -> str:
    return ", ".join(format_shape(s) for s in shape) if isinstance(shape, list) else format_shape(shape)


def _json(shape) -> list:
    from ..trace import shape_json
    return shape_json(shape)


def _count(params: int | Dim) -> str:
    return number(params) if isinstance(params, int) else str(params)
