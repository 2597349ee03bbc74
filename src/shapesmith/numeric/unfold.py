"""The unfold / im2col view of a convolution, from the forward's own window logic.

A conv is one matrix product per sample (and group): the unfolded input ``X``, one column per
output position holding the ``C/g * prod(k)`` input values its window reads, times the weight
matrix ``W (C_out/g, C/g * prod(k))``; ``W @ X`` reshaped is the output. A transposed conv is the
adjoint: ``W^T (C_out/g * prod(k), C/g) @ X (C/g, positions)`` gives each input cell's
contributions, which col2im adds back into place (tap ``t`` of input ``i`` lands on ``i*s + t*d``).
:func:`unfold_view` lists the shapes, which input cells one output position reads (per axis, with
the padding marked), and a numpy recipe with the layer's numbers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ..dims import parse_shape
from ..errors import ShapesmithError
from ..layer import Layer
from ..ops import Conv, ConvTranspose
from ..ops.base import axis_names
from ..ops.separable import DepthwiseConv
from .conv import ScatterAxis, WindowAxis, refuse_keras1, scatter_axes, window_axes

WEIGHT_NAMES = {"torch": ("weight", "bias"), "onnx": ("W", "B"), "keras": ("kernel", "bias"),
                "keras2": ("kernel", "bias"), "tf": ("filters", None)}


@dataclass(frozen=True)
class Tap:
    """One kernel tap of one axis: conv, the input index it reads at the chosen output position (``where``:
    ``input``, ``padding before`` or ``padding after``; ``source``: the input index a reflect / replicate /
    circular padding cell copies); transposed conv, the input index that scatters into that position."""

    tap: int
    index: int
    where: str = "input"
    source: int | None = None


@dataclass(frozen=True)
class AxisView:
    axis: str
    size: int
    kernel: int
    stride: int
    dilation: int
    pad: tuple[int, int]  # conv: (begin, end); transposed: the cells cropped from the full output (begin, end)
    out: int
    position: int
    taps: tuple[Tap, ...]


@dataclass(frozen=True)
class Unfold:
    """A conv or transposed conv as matrix products, for one layer on one input shape."""

    framework: str
    layer: str
    type: str
    transposed: bool
    input_shape: tuple
    output_shape: tuple
    in_channels: int
    out_channels: int
    groups: int
    padding_mode: str
    axes: tuple[AxisView, ...]
    x_matrix: tuple[int, int]  # per sample and group; conv: the unfolded input X; transposed: the input X
    w_matrix: tuple[int, int]  # conv: W (C_out/g, C/g * prod(k)); transposed: W^T (C_out/g * prod(k), C/g)
    product: tuple[int, int]  # conv: W @ X, the output; transposed: W^T @ X, the contributions col2im adds up
    weight_shape: tuple[int, ...]  # the canonical (C_out, C/g, *k) or (C, C_out/g, *k)
    pointwise: int | None  # a separable conv's filters after the depthwise step
    recipe: str
    notes: tuple[str, ...] = ()

    @property
    def position(self) -> tuple[int, ...]:
        return tuple(a.position for a in self.axes)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["position"] = list(self.position)
        return data


def unfold_view(layer: str | Layer, input_shape: str | tuple, position: int | tuple[int, ...] | None = None,
                framework: str | None = None) -> Unfold:
    """The im2col view of a conv / transposed conv ``layer`` on ``input_shape`` (batch dim included), with the
    input cells feeding output ``position`` (spatial indices; default: the first)."""
    from ..dialects import build_layer
    built = build_layer(layer, framework) if isinstance(layer, str) else layer
    if not isinstance(built, Layer) or not isinstance(built.op, (Conv, ConvTranspose, DepthwiseConv)):
        raise ShapesmithError(f"{built.type} is not a convolution", expected="a Conv, ConvTranspose, DepthwiseConv "
                              "or SeparableConv layer", fix="the unfold view explains convolutions")
    refuse_keras1(built.framework, built.type)
    shape = parse_shape(input_shape) if isinstance(input_shape, str) else tuple(input_shape)
    result = built.infer(shape)
    op = result.op
    channels, spatial = _channels_spatial(built, tuple(result.input_shape))
    if not all(isinstance(d, int) for d in (channels, *spatial)):
        raise ShapesmithError(f"the input {shape} has symbolic sizes", expected="concrete channel and spatial sizes",
                              fix="give the input shape as numbers (the batch may stay None)")
    positions = _positions(position, len(spatial))
    if isinstance(op, ConvTranspose):
        return _transposed(built, op, result, channels, spatial, positions)
    return _conv(built, op, result, channels, spatial, positions)


def _channels_spatial(built: Layer, shape: tuple) -> tuple:
    batched = len(shape) == built.rank + 2
    rest = shape[1:] if batched else shape
    return (rest[-1], rest[:-1]) if built.channels_last else (rest[0], rest[1:])


def _positions(position, rank: int) -> tuple[int, ...]:
    if position is None:
        return (0,) * rank
    values = (position,) if isinstance(position, int) else tuple(position)
    if len(values) != rank or not all(isinstance(v, int) for v in values):
        raise ShapesmithError(f"position={position!r}", expected=f"{rank} output indices, one per spatial axis")
    return values


def _checked(position: int, out: int, axis: str) -> int:
    if not 0 <= position < out and not -out <= position < 0:
        raise ShapesmithError(f"position {position} on axis {axis} is outside the output",
                              expected=f"an index in [0, {out})")
    return position % out


def _padding_source(index: int, size: int, mode: str) -> int | None:
    if mode == "reflect":
        return -index if index < 0 else 2 * (size - 1) - index
    if mode == "replicate":
        return min(max(index, 0), size - 1)
    if mode == "circular":
        return index % size
    return None


def _conv_axis(name: str, a: WindowAxis, position: int, mode: str) -> AxisView:
    j = _checked(position, a.out, name)
    taps = []
    for t in range(a.kernel):
        i = a.index(j, t)
        if 0 <= i < a.size:
            taps.append(Tap(t, i))
        else:
            taps.append(Tap(t, i, "padding before" if i < 0 else "padding after", _padding_source(i, a.size, mode)))
    return AxisView(name, a.size, a.kernel, a.stride, a.dilation, (a.pad_begin, a.pad_end), a.out, j, tuple(taps))


def _conv(built: Layer, op, result, channels: int, spatial: tuple, positions: tuple) -> Unfold:
    depthwise = isinstance(op, DepthwiseConv)
    groups = channels if depthwise else op.groups
    out_channels = channels * op.depth_multiplier if depthwise else op.out_channels
    if out_channels is None:
        raise ShapesmithError(f"{built.type}: the output channels are unknown",
                              expected="the weight shape in the text, W=(C_out, C_in/group, *kernel)",
                              fix="add W=(...) to the ONNX op")
    mode = getattr(op, "padding_mode", "zeros")
    padding = built.config.get("padding")
    if mode != "zeros" and isinstance(padding, (tuple, list)) and len(padding) == len(op.kernel) + 1:
        raise ShapesmithError(f"{built.type}: padding={tuple(padding)} with padding_mode={mode!r} also pads the "
                              "channel dim (F.pad pads the last len(padding) dims)",
                              expected="one padding value per spatial axis", fix="the forward computes it; the "
                              "unfold view does not show a padded channel dim")
    axes = window_axes(op.padding, spatial, op.kernel, op.stride, op.dilation)
    names = axis_names(len(axes))
    views = tuple(_conv_axis(n, a, p, mode) for n, a, p in zip(names, axes, positions))
    per_in, taps, positions_out = channels // groups, math.prod(op.kernel), math.prod(a.out for a in axes)
    pointwise = op.filters if depthwise else None
    output = _output_shape(built, result, pointwise or out_channels, tuple(a.out for a in axes))
    notes = []
    if any(t.where != "input" for v in views for t in v.taps):
        notes.append("padding cells read " + ("zero" if mode == "zeros" else f"the {mode} copy of an input cell"))
    if len(views) > 1:
        notes.append(f"the window is every combination of the per-axis taps: {' x '.join(str(a.kernel) for a in axes)}"
                     f" = {taps} cells per input channel")
    if depthwise:
        notes.append(f"depthwise: groups = C = {channels}, each channel convolved with its own "
                     f"{op.depth_multiplier} kernel(s) (output channel c*{op.depth_multiplier} + j)")
        if pointwise:
            notes.append(f"then a pointwise (1x1) conv {out_channels} -> {pointwise} channels: one more product "
                         f"{pointwise} x {out_channels} per position")
    return Unfold(
        framework=built.framework, layer=built.text, type=built.type, transposed=False,
        input_shape=tuple(result.input_shape), output_shape=output, in_channels=channels,
        out_channels=out_channels, groups=groups, padding_mode=mode, axes=views,
        x_matrix=(per_in * taps, positions_out), w_matrix=(out_channels // groups, per_in * taps),
        product=(out_channels // groups, positions_out), weight_shape=(out_channels, per_in, *op.kernel),
        pointwise=pointwise, recipe=_conv_recipe(built, op, axes, channels, groups, out_channels, mode,
                            len(result.input_shape) == built.rank + 2),
        notes=tuple(notes))


def _transposed_axis(name: str, a: ScatterAxis, position: int) -> AxisView:
    j = _checked(position, a.out, name)
    full = (a.size - 1) * a.stride + a.dilation * (a.kernel - 1) + 1
    taps = tuple(Tap(t, i) for i, t in a.sources(j))
    return AxisView(name, a.size, a.kernel, a.stride, a.dilation, (a.crop, full - a.crop - a.out), a.out, j, taps)


def _transposed(built: Layer, op: ConvTranspose, result, channels: int, spatial: tuple, positions: tuple) -> Unfold:
    if op.out_channels is None:
        raise ShapesmithError(f"{built.type}: the output channels are unknown",
                              expected="the weight shape in the text, W=(C_in, C_out/group, *kernel)",
                              fix="add W=(...) to the ONNX op")
    axes = scatter_axes(op, spatial, built.framework, built.config)
    views = tuple(_transposed_axis(n, a, p) for n, a, p in zip(axis_names(len(axes)), axes, positions))
    groups = op.groups
    per_in, per_out, taps = channels // groups, op.out_channels // groups, math.prod(op.kernel)
    inputs = math.prod(spatial)
    notes = ["col2im: tap t of input cell i lands on full-output cell i*s + t*d; overlapping taps add up"]
    if any(v.pad[1] < 0 for v in views):
        notes.append("output_padding extends the output past the last tap: those cells hold the bias only")
    if not all(v.taps for v in views):
        notes.append("no tap reaches this position: it holds the bias only")
    return Unfold(
        framework=built.framework, layer=built.text, type=built.type, transposed=True,
        input_shape=tuple(result.input_shape),
        output_shape=_output_shape(built, result, op.out_channels, tuple(a.out for a in axes)),
        in_channels=channels, out_channels=op.out_channels, groups=groups, padding_mode="zeros", axes=views,
        x_matrix=(per_in, inputs), w_matrix=(per_out * taps, per_in), product=(per_out * taps, inputs),
        weight_shape=(channels, per_out, *op.kernel), pointwise=None,
        recipe=_transposed_recipe(built, op, axes, channels, groups, len(result.input_shape) == built.rank + 2),
        notes=tuple(notes))


def _output_shape(built: Layer, result, channels: int, outs: tuple) -> tuple:
    """The output in the layer's layout from the window logic; it must agree with the shape engine."""
    shape = tuple(result.input_shape)
    batched = len(shape) == built.rank + 2
    body = (*outs, channels) if built.channels_last else (channels, *outs)
    mine = ((shape[0],) if batched else ()) + body
    expected = result.output_shape
    if len(mine) != len(expected) or any(isinstance(e, int) and e != m for e, m in zip(expected, mine)):
        raise RuntimeError(f"{built.type}: the unfold windows give {mine}, the shape engine {expected}")
    return mine


# ---- numpy recipes: channels-first inside, the framework's layout at the edges ----

def _layout_lines(built: Layer, batched: bool) -> tuple[list[str], list[str]]:
    """Lines giving a batched channels-first input, and the output back in the layer's layout."""
    before, after = [], []
    if not batched:
        before.append("x = x[None]  # add the batch dim")
    if built.channels_last:
        before.append("x = np.moveaxis(x, -1, 1)  # channels last -> (N, C, *spatial)")
        after.append("y = np.moveaxis(y, 1, -1)  # back to channels last")
    if not batched:
        after.append("y = y[0]")
    return before, after


def _weight_lines(built: Layer, op, transposed: bool) -> list[str]:
    framework = built.framework
    if isinstance(op, DepthwiseConv):
        name = "kernel" if framework == "keras" and op.filters is None else "depthwise_kernel"
        rank = len(op.kernel)
        lines = [f'w = np.moveaxis(weights["{name}"].reshape(*weights["{name}"].shape[:{rank}], -1), -1, 0)[:, None]'
                 "  # (*k, C, m) -> (C*m, 1, *k)"]
        lines.append('b = weights["bias"]' if op.bias and op.filters is None else "b = None")
        return lines
    weight, bias = WEIGHT_NAMES[framework]
    if framework in ("keras", "keras2", "tf"):
        layout = "(*k, C_out, C_in) -> (C_in, C_out, *k)" if transposed else "(*k, C_in, C_out) -> (C_out, C_in, *k)"
        lines = [f'w = np.moveaxis(weights["{weight}"], (-1, -2), (0, 1))  # {layout}']
    else:
        lines = [f'w = weights["{weight}"]']
    if bias is None or not op.bias and framework != "onnx":
        lines.append("b = None")
    elif framework == "onnx":
        lines.append(f'b = weights.get("{bias}")')
    else:
        lines.append(f'b = weights["{bias}"]')
    return lines


def _scatter_slice(j: int, a: ScatterAxis, shift: int) -> str:
    """``start:start + (i - 1)*s + 1:s`` with ``start = shift + t*d``, written short."""
    start = f"t{j}" if a.dilation == 1 else f"{a.dilation}*t{j}"
    if shift:
        start = f"{shift} + {start}"
    step = f":{a.stride}" if a.stride > 1 else ""
    return f"{start}:{start} + {(a.size - 1) * a.stride + 1}{step}"


def _bias_line(rank: int) -> str:
    return f"y = y if b is None else y + b.reshape(-1{', 1' * rank})"


def _conv_recipe(built: Layer, op, axes: tuple[WindowAxis, ...], channels: int, groups: int, out_channels: int,
                 mode: str, batched: bool) -> str:
    rank = len(axes)
    spatial = list(range(2, rank + 2))
    before, after = _layout_lines(built, batched)
    lines = ["import numpy as np", "from numpy.lib.stride_tricks import sliding_window_view",
             "# x: the input; weights: the layer's tensors by name", *before, *_weight_lines(built, op, False)]
    pads = [(a.pad_begin, a.pad_end) for a in axes]
    if any(pb < 0 or pe < 0 for pb, pe in pads):
        keep = ", ".join(f"{max(-pb, 0)}:{a.size - max(-pe, 0)}" for a, (pb, pe) in zip(axes, pads))
        lines.append(f"x = x[:, :, {keep}]                           # negative padding crops")
    if any(max(pb, 0) or max(pe, 0) for pb, pe in pads):
        np_mode = {"zeros": "", "reflect": ', mode="reflect"', "replicate": ', mode="edge"',
                   "circular": ', mode="wrap"'}[mode]
        widths = ", ".join(f"({max(pb, 0)}, {max(pe, 0)})" for pb, pe in pads)
        lines.append(f"x = np.pad(x, [(0, 0), (0, 0), {widths}]{np_mode})")
    effs = tuple(a.effective for a in axes)
    steps = ", ".join([":", ":"] + [f"::{a.stride}" if a.stride > 1 else ":" for a in axes]
                      + [f"::{a.dilation}" if a.dilation > 1 else ":" for a in axes])
    pick = "" if all(a.stride == 1 and a.dilation == 1 for a in axes) else f"[{steps}]"
    outs = tuple(a.out for a in axes)
    taps = math.prod(a.kernel for a in axes)
    per_in, positions = channels // groups, math.prod(outs)
    lines.append(f"windows = sliding_window_view(x, {effs}, axis={tuple(spatial)}){pick}"
                 f"  # (N, {channels}, {', '.join(map(str, outs))}, {', '.join(str(a.kernel) for a in axes)})")
    order = (0, 1, *range(rank + 2, 2 * rank + 2), *range(2, rank + 2))
    group = "" if groups == 1 else f"{groups}, "
    lines.append(f"X = windows.transpose{order}.reshape(-1, {group}{per_in * taps}, {positions})"
                 f"  # unfolded: {per_in * taps} x {positions} per sample" + (" and group" if group else ""))
    lines.append(f"W = w.reshape({group}{out_channels // groups}, {per_in * taps})")
    lines.append(f"y = (W @ X).reshape(-1, {out_channels}, {', '.join(map(str, outs))})")
    lines.append(_bias_line(rank))
    if isinstance(op, DepthwiseConv) and op.filters:
        lines.append('pw = weights["pointwise_kernel"].reshape(-1, weights["pointwise_kernel"].shape[-1])'
                     "  # (C*m, filters)")
        lines.append("y = np.moveaxis(np.moveaxis(y, 1, -1) @ pw, -1, 1)  # the pointwise 1x1 conv")
        if op.bias:
            lines.append(f'y = y + weights["bias"].reshape(-1{", 1" * rank})')
    lines += after
    return "\n".join(lines)


def _transposed_recipe(built: Layer, op: ConvTranspose, axes: tuple[ScatterAxis, ...], channels: int,
                       groups: int, batched: bool) -> str:
    rank = len(axes)
    before, after = _layout_lines(built, batched)
    letters = "dhw"[3 - rank:] if rank <= 3 else None
    kernels = "ijk"[:rank]
    per_in, per_out = channels // groups, op.out_channels // groups
    lines = ["import numpy as np", "# x: the input; weights: the layer's tensors by name", *before,
             *_weight_lines(built, op, True)]
    if groups == 1:
        lines.append(f'Z = np.einsum("nc{letters},co{kernels}->no{kernels}{letters}", x, w)'
                     "  # W^T @ X: every input cell's contribution through every tap")
    else:
        lines.append(f"xg = x.reshape(x.shape[0], {groups}, {per_in}, *x.shape[2:])")
        lines.append(f"wg = w.reshape({groups}, {per_in}, {per_out}, *w.shape[2:])")
        lines.append(f'Z = np.einsum("ngc{letters},gco{kernels}->ngo{kernels}{letters}", xg, wg)'
                     "  # W^T @ X: every input cell's contribution through every tap")
        lines.append(f"Z = Z.reshape(x.shape[0], {op.out_channels}, *Z.shape[3:])")
    shift = [max(-a.crop, 0) for a in axes]  # a negative crop: the output starts before the first tap
    full = [max((a.size - 1) * a.stride + a.dilation * (a.kernel - 1) + 1, a.crop + a.out) + s
            for a, s in zip(axes, shift)]
    lines.append(f"full = np.zeros((x.shape[0], {op.out_channels}, {', '.join(map(str, full))}), dtype=Z.dtype)")
    taps = ", ".join(f"t{j}" for j in range(rank))
    kernel_sizes = ", ".join(str(a.kernel) for a in axes)
    loop = f"range({kernel_sizes})" if rank == 1 else f"np.ndindex({kernel_sizes})"
    lines.append(f"for {taps} in {loop}:  # col2im: tap t of input i lands on i*s + t*d")
    dest = ", ".join(_scatter_slice(j, a, s) for j, (a, s) in enumerate(zip(axes, shift)))
    lines.append(f"    full[:, :, {dest}] += Z[:, :, {taps}]")
    crop = ", ".join(f"{a.crop + s}:{a.crop + s + a.out}" for a, s in zip(axes, shift))
    lines.append(f"y = full[:, :, {crop}]")
    lines.append(_bias_line(rank))
    lines += after
    return "\n".join(lines)
