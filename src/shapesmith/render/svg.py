"""Pictures of the arithmetic, as SVG: a conv or pool's sliding window, a transposed conv's scatter and
overlap, the im2col matrix, and a stack's shape flow.

The shapes come from the shape engine (:func:`shapesmith.trace`); the cells of a window or a scatter come
from the numeric module's own window geometry (:mod:`shapesmith.numeric.conv`), so a picture is a second,
independent account of the same arithmetic (the tests hold the two equal, and both equal to torch).

Every cell carries a class (``cell input pad asym``, ``cell output chosen``) and data- attributes
(``data-index="2,3"``, ``data-count="2"``); the root carries the geometry as JSON (``data-geometry``), from
which the web page lights up the inputs of the output cell under the mouse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..dims import format_dim
from ..errors import ShapesmithError
from ..layer import Layer, LayerResult
from ..ops import Conv, ConvTranspose, Pool
from ..ops.separable import DepthwiseConv

KINDS = ("auto", "window", "scatter", "unfold", "flow")
MAX_LISTED_STRIDE = 4096  # the sizes a transposed conv's forward conv maps back: one per stride step
WINDOWED = (Conv, Pool, DepthwiseConv)


@dataclass(frozen=True)
class Picture:
    """An SVG picture; ``svg`` is the document. Shown inline in a notebook."""

    kind: str
    svg: str
    width: int
    height: int
    notes: tuple[str, ...] = ()

    def _repr_svg_(self) -> str:
        return self.svg

    def to_dict(self) -> dict:
        return {"kind": self.kind, "svg": self.svg, "width": self.width, "height": self.height,
                "notes": list(self.notes)}

    def save(self, path: str | os.PathLike) -> None:
        """Write ``.svg`` as text, ``.png`` through :meth:`to_png`."""
        if str(path).lower().endswith(".png"):
            self.to_png(path)
            return
        if not str(path).lower().endswith(".svg"):
            raise ShapesmithError(f"cannot tell the picture format of {str(path)!r}", expected="a .svg or .png file")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.svg)

    def to_png(self, path: str | os.PathLike | None = None, scale: float = 2.0) -> bytes:
        """The picture as PNG (written to ``path`` when given), rendered by CairoSVG (``pip install cairosvg``;
        it needs the system's libcairo, which Debian and most desktops have)."""
        try:
            import cairosvg
        except (ImportError, OSError) as err:  # OSError: the package is there but libcairo is not
            raise ShapesmithError(f"PNG output needs CairoSVG and libcairo ({err})",
                                  fix="pip install cairosvg (and the system's libcairo2), or write .svg") from None
        png = cairosvg.svg2png(bytestring=self.svg.encode("utf-8"), scale=scale)
        if path is not None:
            with open(path, "wb") as f:
                f.write(png)
        return png


def draw(layer_text: str, input_shape, *, framework: str | None = None, kind: str = "auto",
         position: tuple[int, ...] | int | str | None = None, axes: tuple[int, ...] | int | str | None = None
         ) -> Picture:
    """A picture of ``layer_text`` applied to ``input_shape`` (batch dim included).

    ``kind``: ``window`` (a conv or pool: padding, the window of one output position with its dilation gaps,
    the stride step, the output grid), ``scatter`` (a transposed conv: where one input cell lands, the
    overlap count of every output cell, output padding, the sizes the forward conv maps back), ``unfold``
    (the im2col matrix and the weight matrix it meets), ``flow`` (a stack: each layer's output shape);
    ``auto`` picks by the layer. ``position``: the output position (``window``, ``unfold``) or the input
    position (``scatter``) to follow, per drawn axis, default the first. ``axes``: the one or two spatial
    axes to draw (0-based among the spatial axes), default the last two.
    """
    from ..trace import trace

    if kind not in KINDS:
        raise ShapesmithError(f"unknown picture kind {kind!r}", expected=f"one of {', '.join(KINDS)}")
    t = trace(layer_text, input_shape=input_shape, framework=framework)
    if kind == "flow" or (kind == "auto" and (len(t.layers) != 1 or not _drawable(t.layers[0]))):
        from .svg_flow import flow_picture
        return flow_picture(t)
    if len(t.layers) != 1:
        raise ShapesmithError(f"kind={kind!r} draws one layer; got a stack of {len(t.layers)}",
                              fix="draw one layer, or the stack with kind='flow'")
    result = t.layers[0]
    transposed = isinstance(result.op, ConvTranspose)
    if kind == "auto":
        kind = "scatter" if transposed else "window"
    if kind == "scatter" and not transposed:
        raise ShapesmithError(f"kind='scatter' draws a transposed convolution; {result.layer.type} is not one",
                              fix="use kind='window' or kind='unfold'")
    if kind in ("window", "unfold") and not isinstance(result.op, WINDOWED):
        what = "a transposed convolution: its picture is kind='scatter'" if transposed else \
            f"a {type(result.op).__name__}, which has no sliding window"
        raise ShapesmithError(f"kind={kind!r} draws a convolution or pooling; {result.layer.type} is {what}")
    spatial = spatial_input(result)
    if kind == "unfold" and axes is not None:
        raise ShapesmithError("the unfold matrix covers every spatial axis; axes= does not apply",
                              fix="leave axes out")
    drawn = tuple(range(len(spatial))) if kind == "unfold" else drawn_axes(axes, len(spatial))
    for a in drawn:
        if not isinstance(spatial[a], int):
            raise ShapesmithError(f"the picture needs concrete sizes; spatial axis {a} is {format_dim(spatial[a])}",
                                  fix="give numbers in the input shape, e.g. (1, 3, 8, 8)")
    chosen = parse_position(position, len(drawn))
    if kind == "scatter":
        from .svg_scatter import scatter_picture
        return scatter_picture(result, spatial, drawn, chosen)
    if kind == "unfold":
        from .svg_unfold import unfold_picture
        return unfold_picture(result, spatial, drawn, chosen)
    from .svg_window import window_picture
    return window_picture(result, spatial, drawn, chosen)


def draw_trace(t) -> Picture:
    """A :class:`~shapesmith.trace.Trace` as a shape flow (for ``Trace._repr_svg_``)."""
    from .svg_flow import flow_picture
    return flow_picture(t)


def _drawable(result: LayerResult) -> bool:
    return isinstance(result.layer, Layer) and isinstance(result.op, (*WINDOWED, ConvTranspose))


def spatial_input(result: LayerResult) -> tuple:
    """The spatial sizes of the layer's input, in the layer's axis order."""
    rank, shape = result.op.rank, result.input_shape
    return tuple(shape[-rank - 1:-1] if result.layer.channels_last else shape[-rank:])


def drawn_axes(axes, rank: int) -> tuple[int, ...]:
    """The spatial axes to draw: one or two, default the last two."""
    if axes is None:
        return tuple(range(max(rank - 2, 0), rank))
    chosen = _ints(axes, "axes")
    if not 1 <= len(chosen) <= 2 or len(set(chosen)) != len(chosen) or any(not 0 <= a < rank for a in chosen):
        raise ShapesmithError(f"axes={axes!r} for a layer with {rank} spatial axes",
                              expected=f"one or two different axes among 0..{rank - 1}")
    return tuple(sorted(chosen))


def parse_position(position, count: int) -> tuple[int, ...]:
    """``None`` (the first position), an int, a tuple, or text ``"2,3"``: one index per drawn axis."""
    if position is None:
        return (0,) * count
    chosen = _ints(position, "position")
    if len(chosen) != count:
        raise ShapesmithError(f"position {position!r} has {len(chosen)} indices",
                              expected=f"{count} ({'one per drawn axis' if count > 1 else 'one index'})")
    return chosen


def _ints(value, what: str) -> tuple[int, ...]:
    if isinstance(value, str):
        pieces = [p.strip() for p in value.strip().strip("()[]").split(",") if p.strip()]
        try:
            return tuple(int(p) for p in pieces)
        except ValueError:
            raise ShapesmithError(f"cannot read {what} {value!r}", expected="integers such as 2,3") from None
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise ShapesmithError(f"cannot read {what} {value!r}", expected="integers such as (2, 3)")


def check_index(j: int, size: int, axis: str, what: str) -> None:
    if not 0 <= j < size:
        raise ShapesmithError(f"{what} {j} on axis {axis} is outside 0..{size - 1}",
                              fix=f"choose a {what} between 0 and {size - 1}")


def sizes_mapping_back(result: LayerResult) -> list[list[tuple]] | None:
    """Per axis, the sizes a transposed conv's forward conv maps back to its input, each with the argument that
    picks it (:meth:`Layer.alternatives`); ``None`` when a stride is too large to list them one by one."""
    if max(getattr(result.op, "stride", ()), default=1) > MAX_LISTED_STRIDE:
        return None
    return result.layer.alternatives(result)


def derivation_lines(result: LayerResult, drawn: tuple[int, ...]) -> list[str]:
    """The shape engine's derivation of the drawn axes, numbers filled in."""
    lines = []
    for a in drawn:
        step = result.steps[a]
        lines.append(f"{step.axis}: {step.rule.name}: o = {step.formula} = {step.filled} = {format_dim(step.result)}")
        lines += [f"   {note}" for note in step.notes]
    return lines
