"""Padding, cropping, upsampling / resizing and adaptive pooling, per framework, plus ONNX's
multi-input ``Concat`` and ``Add``/``Sub``/``Mul``/``Div`` (registered into the dialects).

- Keras 3 / tf.keras 2: ``ZeroPadding1D/2D/3D``, ``Cropping1D/2D/3D``, ``UpSampling1D/2D/3D``.
- PyTorch: ``AdaptiveAvgPool1d/2d/3d``, ``AdaptiveMaxPool1d/2d/3d``, ``Upsample``,
  ``UpsamplingNearest2d``, ``UpsamplingBilinear2d``, ``ZeroPad``/``ConstantPad``/``ReflectionPad``/
  ``ReplicationPad``/``CircularPad`` ``1d/2d/3d`` (padding tuple last dim first: ``(left, right, top, bottom, ...)``).
- ONNX: ``Pad(pads=[...], mode=...)``, ``Resize(scales=[...] | sizes=[...])``, ``Concat(axis)``,
  ``Add``/``Sub``/``Mul``/``Div``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..layer import WholeLayer
from ..ops.merge import Broadcast, Concatenate
from ..ops.spatial import AdaptivePool, Pad, Resize
from .base import Call, Dialect, Spec, as_bool, as_choice, as_int, describe
from .keras import COMMON, COMMON2, DIALECT as KERAS, DIALECT2 as KERAS2, _channels_last, _snake, declared_input
from .onnx import DIALECT as ONNX
from .torch import DIALECT as TORCH

ORDINAL = ("1st", "2nd", "3rd")
DIMS = {1: "(N, L, C)", 2: "(N, H, W, C)", 3: "(N, D, H, W, C)"}
DIMS_FIRST = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


# ----------------------------------------------------------------------------- Keras
def _keras_pair(value: object, name: str) -> tuple[int, int]:
    """``argument_validation.standardize_tuple(value, 2, name, allow_zero=True)``."""
    msg = f"The `{name}` argument must be a tuple of 2 integers. Received {name}={describe(value)}"
    if isinstance(value, int) and not isinstance(value, bool):
        pair = (value, value)
    elif isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        pair = tuple(int(v) for v in value)
    else:
        raise ConfigError(msg, expected="an int or a tuple of 2 ints")
    bad = {v for v in pair if v < 0}
    if bad:
        raise ConfigError(f"{msg}, including values {bad} that do not satisfy `value >= 0`", expected="values >= 0")
    return pair  # type: ignore[return-value]


def _keras_amounts(value: object, rank: int, arg: str) -> tuple[tuple[int, int], ...]:
    if rank == 1:
        return (_keras_pair(value, arg),)
    if isinstance(value, int) and not isinstance(value, bool):
        if arg == "cropping" and value < 0:
            raise ConfigError(f"`cropping` cannot be negative. Received: cropping={value}.", fix="use cropping >= 0")
        return ((value, value),) * rank
    if isinstance(value, tuple):
        if len(value) != rank:
            two = "two" if rank == 2 else "3"
            raise ConfigError(f"`{arg}` should have {two} elements. Received: {arg}={describe(value)}.",
                              expected=f"an int, {rank} ints, or {rank} pairs of ints")
        return tuple(_keras_pair(v, f"{ORDINAL[j]} entry of {arg}") for j, v in enumerate(value))
    raise ConfigError(f"`{arg}` should be either an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 "
                      f"ints. Received: {arg}={describe(value)}.")


def _keras_spec(framework: str, type_name: str, own: tuple[str, ...], defaults: dict, make) -> Spec:
    """``make(a) -> (op, notes)``; the constructor's own parameters may be positional."""
    common = COMMON2 if framework == "keras2" else COMMON

    def build(call: Call, a: dict) -> WholeLayer:
        if len(call.args) > len(own):
            raise ConfigError(f"{type_name}.__init__() takes at most {len(own)} positional arguments but "
                              f"{len(call.args)} were given", fix="pass the extra arguments by keyword")
        shape, notes = declared_input(framework, a, type_name)
        op, more = make(a)
        return WholeLayer(framework, type_name, call.text, op, notes=tuple(notes) + tuple(more),
                          name=_snake(type_name), declared_input=shape)

    return Spec(type_name, own + common, {**defaults, **{k: None for k in common}}, build,
                marker=("batch_input_shape",) if framework == "keras2" else (), primary=framework == "keras")


def _keras_pad(framework: str, rank: int, crop: bool) -> Spec:
    type_name = f"Cropping{rank}D" if crop else f"ZeroPadding{rank}D"
    arg = "cropping" if crop else "padding"
    has_format = not (rank == 1 and (crop or framework == "keras2"))

    def make(a: dict):
        last = _channels_last(a["data_format"], type_name) if has_format else True
        value = a[arg]
        amounts = _keras_amounts(value, rank, arg)
        notes = []
        if not crop and rank > 1 and isinstance(value, int) and value < 0:
            notes.append(f"padding={value}: Keras does not check a negative int; the torch backend crops "
                         f"({-value} cells a side), TensorFlow's pad refuses it")
            amounts = tuple((-p, -q) for p, q in amounts)
            op = Pad(amounts, first=1 if last else 2, ranks=(rank + 2,), least=0,
                     expects=DIMS[rank] if last else DIMS_FIRST[rank], who=type_name, label=arg, crop=True)
            return op, notes
        op = Pad(amounts, first=1 if last else 2, ranks=(rank + 2,), least=1 if crop else 0,
                 expects=DIMS[rank] if last else DIMS_FIRST[rank], who=type_name, label=arg, crop=crop)
        return op, notes

    default = {1: (1, 1), 2: ((0, 0), (0, 0)) if crop else (1, 1), 3: ((1, 1),) * 3}[rank]
    if rank == 1 and not crop:
        default = 1
    own = (arg, "data_format") if has_format else (arg,)
    return _keras_spec(framework, type_name, own, {arg: default, "data_format": None}, make)


KERAS_INTERPOLATIONS = {"keras": ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area"),
                        "keras2": ("area", "bicubic", "bilinear", "gaussian", "lanczos3", "lanczos5",
                                   "mitchellcubic", "nearest")}


def _keras_upsampling(framework: str, rank: int) -> Spec:
    type_name = f"UpSampling{rank}D"

    def make(a: dict):
        size = a["size"]
        notes = []
        if rank == 1:
            if isinstance(size, bool) or not isinstance(size, int):
                raise ConfigError(f"Expected an integer value for `size`, got {describe(size)}.")
            if size <= 0:
                raise ConfigError(f"Argument `size` should be a positive integer. Received: size={size}",
                                  expected="size >= 1")
            sizes, last = (size,), True
        else:
            last = _channels_last(a["data_format"], type_name)
            if isinstance(size, tuple) and len(size) != rank or not isinstance(size, (int, tuple)) \
                    or isinstance(size, bool):
                raise ConfigError(f"The `size` argument must be a tuple of {rank} integers. Received size="
                                  f"{describe(size)}")
            sizes = (size,) * rank if isinstance(size, int) else size
            if not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes):
                raise ConfigError(f"The `size` argument must be a tuple of {rank} integers. Received size="
                                  f"{describe(size)}")
            bad = {s for s in sizes if s <= 0}
            if bad:
                raise ConfigError(f"The `size` argument must be a tuple of {rank} integers. Received size="
                                  f"{describe(size)}, including values {bad} that do not satisfy `value > 0`")
        if rank == 2:
            interp = a["interpolation"]
            text = interp.lower() if isinstance(interp, str) else interp
            allowed = KERAS_INTERPOLATIONS[framework]
            if text not in allowed:
                raise ConfigError(f"Invalid value for argument `interpolation`. Expected of one {allowed}. "
                                  f"Received: interpolation={describe(interp)}")
            if text != "nearest":
                notes.append(f"interpolation={text!r}: resized to size*input, the same shape as repeating")
                if text in ("lanczos3", "lanczos5", "area") and framework == "keras":
                    notes.append(f"interpolation={text!r} needs the TensorFlow or JAX backend: the torch backend's "
                                 "resize refuses it when the layer is called")
        notes.append("each size is the input size times the integer factor (repeat)")
        op = Resize(scales=tuple(sizes), first=1 if last else 2, ranks=(rank + 2,), least=0,
                    expects=DIMS[rank] if last else DIMS_FIRST[rank], who=type_name)
        return op, notes

    if rank == 1:
        own, defaults = ("size",), {"size": 2}
    elif rank == 2:
        own, defaults = ("size", "data_format", "interpolation"), {"size": (2, 2), "data_format": None,
                                                                   "interpolation": "nearest"}
    else:
        own, defaults = ("size", "data_format"), {"size": (2, 2, 2), "data_format": None}
    return _keras_spec(framework, type_name, own, defaults, make)


def _register_keras(dialect: Dialect) -> None:
    for rank in (1, 2, 3):
        dialect.register(_keras_pad(dialect.name, rank, False))
        dialect.register(_keras_pad(dialect.name, rank, True))
        dialect.register(_keras_upsampling(dialect.name, rank))


_register_keras(KERAS)
_register_keras(KERAS2)


# ----------------------------------------------------------------------------- PyTorch
TORCH_PAD_MODES = {"ZeroPad": "constant", "ConstantPad": "constant", "ReflectionPad": "reflect",
                   "ReplicationPad": "replicate", "CircularPad": "circular"}


def _torch_padding(value: object, rank: int, type_name: str) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * (2 * rank)
    if not isinstance(value, tuple) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"{type_name} padding={describe(value)}: pad(): argument 'pad' must be tuple of ints",
                          expected=f"an int or {2 * rank} ints (left, right{', top, bottom' if rank > 1 else ''}"
                                   f"{', front, back' if rank > 2 else ''})")
    if len(value) % 2:
        raise ConfigError(f"{type_name} padding={value}: Padding length must be divisible by 2",
                          expected=f"{2 * rank} ints, a (begin, end) pair per padded dim, last dim first")
    return value


def _torch_pad(prefix: str, rank: int) -> Spec:
    type_name = f"{prefix}{rank}d"
    mode = TORCH_PAD_MODES[prefix]

    def build(call: Call, a: dict) -> WholeLayer:
        flat = _torch_padding(a["padding"], rank, type_name)
        if prefix == "ConstantPad" and (isinstance(a["value"], bool) or not isinstance(a["value"], (int, float))):
            raise ConfigError(f"{type_name} value={describe(a['value'])} is not a number", expected="a number")
        m = len(flat) // 2
        # torch's padding tuple starts at the last dim: (left, right, top, bottom, front, back)
        pads = tuple((flat[2 * k], flat[2 * k + 1]) for k in reversed(range(m)))
        notes = []
        if mode == "constant":
            ranks: tuple[int, ...] = ()
            least = 0
            expects = f"(N, C, ...) with at least {m} dims"
        else:
            if m > 3:
                raise ConfigError(f"{type_name} padding={flat}: {mode} padding pads at most 3 dims",
                                  expected=f"{2 * rank} ints")
            ranks = (m + 1, m + 2)
            if mode == "circular":
                ranks = tuple(r for r in ranks if r in (rank + 1, rank + 2))
                if not ranks:
                    raise ConfigError(f"{type_name} padding={flat} pads {m} dim(s): F.pad's circular mode then takes "
                                      f"a {m + 1}-D or {m + 2}-D input, {type_name} only a {rank + 1}-D or "
                                      f"{rank + 2}-D one", fix=f"give {2 * rank} padding values")
            # torch's 1-D replication kernel refuses an output of 0 ("input (W: 6) is too small"); the 2-D/3-D
            # replication and all reflection kernels take a crop down to 0
            least = 1 if mode == "replicate" and m == 1 else 0
            expects = " or ".join(("(C, " if r == m + 1 else "(N, C, ") + ", ".join(("D", "H", "W")[3 - m:]) + ")"
                                  for r in ranks) if ranks else "(none)"
        if m != rank:
            notes.append(f"padding has {len(flat)} values: F.pad pads the last {m} dim(s)")
        if any(p < 0 for p in flat):
            notes.append("negative padding crops")
        op = Pad(pads, mode=mode, first=None, ranks=ranks, least=least, expects=expects, who=type_name,
                 crop_first=mode == "constant")
        return WholeLayer("torch", type_name, call.text, op, notes=tuple(notes), name=type_name.lower())

    params = ("padding", "value") if prefix == "ConstantPad" else ("padding",)
    return Spec(type_name, params, {}, build)


def _torch_adaptive(kind: str, rank: int) -> Spec:
    type_name = f"Adaptive{kind}Pool{rank}d"

    def build(call: Call, a: dict) -> WholeLayer:
        value = a["output_size"]
        if isinstance(value, tuple):
            if len(value) != rank and not (len(value) == 1 and rank == 1):
                raise ConfigError(f"{type_name}: output_size must be {rank}, but got {len(value)} values",
                                  expected=f"an int or {rank} values (int or None)")
            sizes = value
        else:
            sizes = (value,) * rank
        for s in sizes:
            if s is not None and (isinstance(s, bool) or not isinstance(s, int)):
                raise ConfigError(f"{type_name} output_size={describe(value)}", expected="ints or None")
            if s is not None and s < 0:
                raise ConfigError(f"{type_name} output_size={describe(value)}: elements of output_size must be "
                                  "greater than or equal to 0", expected="sizes >= 0")
        if value is None or (rank == 1 and sizes[0] is None):
            raise ConfigError(f"{type_name} output_size=None: object of type 'NoneType' has no len()",
                              expected="an int, or a tuple whose None entries keep the input size (2d/3d)")
        indices = kind == "Max" and as_bool(a["return_indices"], "return_indices", type_name)
        spatial = ", ".join(("D", "H", "W")[3 - rank:])
        notes = ["None keeps the input size"] if None in sizes else []
        ranks: tuple[int, ...] = (rank + 1, rank + 2)
        if kind == "Avg" and rank > 1 and all(s == 1 for s in sizes):
            ranks = ()  # torch's fast path: a mean over the last dims, any rank
            notes.append(f"output size 1: torch takes the mean over the last {rank} dims, of an input of any rank")
        op = AdaptivePool(tuple(sizes), kind.lower(), ranks=ranks, indices=indices,
                          expects=f"(N, C, {spatial}) or (C, {spatial})", who=type_name)
        notes = tuple(notes)
        return WholeLayer("torch", type_name, call.text, op, notes=notes, name=type_name.lower())

    if kind == "Max":
        return Spec(type_name, ("output_size", "return_indices"), {"return_indices": False}, build)
    return Spec(type_name, ("output_size",), {}, build)


UPSAMPLE_MODES = {"nearest": None, "linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3, "area": None,
                  "nearest-exact": None}


@dataclass(frozen=True)
class _Interpolate:
    """``F.interpolate``: input ``(N, C, *spatial)`` with 1 to 3 spatial dims (mode permitting);
    ``size`` or ``scale_factor`` (one value for all, or one per spatial dim)."""

    size: object
    scale: object
    mode: str
    who: str
    expects = "(N, C, L), (N, C, H, W) or (N, C, D, H, W)"

    def apply(self, shapes):
        from ..errors import ShapeMismatchError
        (shape,) = shapes
        n = len(shape) - 2
        if n not in (1, 2, 3):
            raise ShapeMismatchError(f"{self.who} received a {len(shape)}-D input {shape}",
                                     expected=f"a 3-D, 4-D or 5-D input {self.expects}",
                                     fix="F.interpolate takes (N, C, ...) with 1 to 3 spatial dims")
        need = UPSAMPLE_MODES[self.mode]
        if need is not None and need != n:
            raise ShapeMismatchError(f"{self.who}: Got {len(shape)}D input, but {self.mode} mode needs {need + 2}D input",
                                     expected=f"a {need + 2}-D input", fix="pick the mode for the input's rank")
        value = self.size if self.size is not None else self.scale
        what = "output size" if self.size is not None else "scale_factor"
        if isinstance(value, tuple):
            if len(value) != n:
                raise ShapeMismatchError(
                    f"{self.who}: Input and {what} must have the same number of spatial dimensions, but got input "
                    f"with spatial dimensions of {list(shape[2:])} and {what} of {list(value)}",
                    expected=f"{n} values, one per spatial dim",
                    fix=f"give {n} values or one number")
            values = value
        else:
            values = (value,) * n
        least = 0 if self.mode == "area" else 1  # area is adaptive_avg_pool, which takes an empty output
        if self.size is not None:
            op = Resize(sizes=tuple(values), first=2, least=least, expects=self.expects, who=self.who)
        else:
            op = Resize(scales=tuple(values), first=2, least=least, expects=self.expects, who=self.who)
        return op.apply(shapes)


def _torch_upsample(type_name: str) -> Spec:
    def build(call: Call, a: dict) -> WholeLayer:
        if type_name == "Upsample":
            mode = as_choice(a["mode"], "mode", tuple(UPSAMPLE_MODES), type_name)
            align = a["align_corners"]
        else:
            mode = "nearest" if type_name == "UpsamplingNearest2d" else "bilinear"
            align = True if mode == "bilinear" else None
        size, scale = a["size"], a["scale_factor"]
        if (size is None) == (scale is None):
            raise ConfigError(f"{type_name}: {'either' if size is None else 'only one of'} size or scale_factor "
                              "should be defined", fix="give size=... or scale_factor=..., not both")
        if size is not None:
            for v in size if isinstance(size, tuple) else (size,):
                if isinstance(v, bool) or not isinstance(v, int):
                    raise ConfigError(f"{type_name} size={describe(size)}", expected="ints")
        else:
            for v in scale if isinstance(scale, tuple) else (scale,):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ConfigError(f"{type_name} scale_factor={describe(scale)}", expected="numbers")
        if align is not None and mode in ("nearest", "area", "nearest-exact"):
            raise ConfigError("align_corners option can only be set with the interpolating modes: linear | bilinear "
                              "| bicubic | trilinear", fix="remove align_corners")
        notes = []
        if scale is not None:
            notes.append("output size floor(i*scale_factor), computed in double precision")
        return WholeLayer("torch", type_name, call.text, _Interpolate(size, scale, mode, type_name),
                          notes=tuple(notes), name=type_name.lower())

    if type_name == "Upsample":
        return Spec(type_name, ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"),
                    {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None,
                     "recompute_scale_factor": None}, build)
    return Spec(type_name, ("size", "scale_factor"), {"size": None, "scale_factor": None}, build)


for _rank in (1, 2, 3):
    for _prefix in TORCH_PAD_MODES:
        TORCH.register(_torch_pad(_prefix, _rank))
    TORCH.register(_torch_adaptive("Avg", _rank))
    TORCH.register(_torch_adaptive("Max", _rank))
for _name in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"):
    TORCH.register(_torch_upsample(_name))


# ----------------------------------------------------------------------------- ONNX
ONNX_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def _onnx_ints(value: object, name: str, op: str) -> tuple[int, ...]:
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(f"{op}: {name}={describe(value)}", expected="a list of integers")
    return values


@dataclass(frozen=True)
class _OnnxPad:
    """``pads = [x1_begin, x2_begin, ..., x1_end, x2_end, ...]`` over ``axes`` (default: every axis)."""

    pads: tuple[int, ...]
    axes: tuple[int, ...] | None
    mode: str
    expects = "(d0, d1, ...)"

    def apply(self, shapes):
        from ..errors import ShapeMismatchError
        (shape,) = shapes
        rank = len(shape)
        axes = tuple(range(rank)) if self.axes is None else self.axes
        if len(self.pads) != 2 * len(axes):
            raise ShapeMismatchError(
                f"Pad: pads has {len(self.pads)} values for the {rank}-D input {shape}"
                + (f" and axes={list(axes)}" if self.axes is not None else ""),
                expected=f"{2 * len(axes)} values: the begins of every axis, then the ends",
                fix="give pads=[x1_begin, x2_begin, ..., x1_end, x2_end, ...]")
        norm = []
        for a in axes:
            if not -rank <= a < rank:
                raise ShapeMismatchError(f"Pad: axes={list(axes)} has {a}, out of range for a {rank}-D input",
                                         expected=f"axes in [{-rank}, {rank - 1}]")
            norm.append(a % rank)
        n = len(axes)
        per_axis = {a: (self.pads[k], self.pads[n + k]) for k, a in enumerate(norm)}
        full = tuple(per_axis.get(j, (0, 0)) for j in range(rank))
        # onnxruntime slices the negative pads off first; edge, wrap and reflect then need a non-empty input,
        # reflect pads < the sliced size; wrap has no limit
        sliced = self.mode != "constant"
        return Pad(full, mode=self.mode, first=0, least=0, expects=self.expects, who="Pad",
                   crop_first=sliced, kept_least=1 if sliced else 0, limits=self.mode != "circular").apply(shapes)


def _onnx_pad(call: Call, a: dict) -> WholeLayer:
    if a["pads"] is None:
        raise ConfigError("Pad needs pads=[...] (the values of its 'pads' input)", fix="add pads=[0, 0, 1, 1, 0, 0, 1, 1]")
    pads = _onnx_ints(a["pads"], "pads", "Pad")
    mode = as_choice(a["mode"], "mode", tuple(ONNX_PAD_MODES), "Pad")
    axes = None if a["axes"] is None else _onnx_ints(a["axes"], "axes", "Pad")
    notes = ["pads = [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; a negative pad crops"]
    return WholeLayer("onnx", "Pad", call.text, _OnnxPad(pads, axes, ONNX_PAD_MODES[mode]), notes=tuple(notes),
                      name="Pad")


@dataclass(frozen=True)
class _OnnxResize:
    scales: tuple[float, ...] | None
    sizes: tuple[int, ...] | None
    expects = "(d0, d1, ...)"

    def apply(self, shapes):
        from ..errors import ShapeMismatchError
        (shape,) = shapes
        values = self.scales if self.scales is not None else self.sizes
        if len(values) != len(shape):
            what = "scales" if self.scales is not None else "sizes"
            raise ShapeMismatchError(f"Resize: {what} has {len(values)} values for the {len(shape)}-D input {shape}",
                                     expected=f"one value per input dim ({len(shape)})",
                                     fix="give the batch and channel dims too, e.g. scales=[1, 1, 2, 2]")
        return Resize(scales=self.scales, sizes=self.sizes, first=0, least=0, float32=True,
                      expects=self.expects, who="Resize").apply(shapes)


def _onnx_resize(call: Call, a: dict) -> WholeLayer:
    scales, sizes = a["scales"], a["sizes"]
    if (scales is None) == (sizes is None):
        raise ConfigError("Resize: give exactly one of scales=[...] and sizes=[...] (its 'scales' and 'sizes' inputs)",
                          fix="add scales=[1, 1, 2, 2] or sizes=[N, C, H, W]")
    if scales is not None:
        scales = scales if isinstance(scales, tuple) else (scales,)
        for s in scales:
            if isinstance(s, bool) or not isinstance(s, (int, float)) or s <= 0:
                raise ConfigError(f"Resize: scales={describe(a['scales'])}", expected="positive numbers")
    else:
        sizes = _onnx_ints(sizes, "sizes", "Resize")
        if any(s < 0 for s in sizes):
            raise ConfigError(f"Resize: sizes={list(sizes)}", expected="sizes >= 0")
    mode = as_choice(a["mode"], "mode", ("nearest", "linear", "cubic"), "Resize")
    policy = as_choice(a["keep_aspect_ratio_policy"], "keep_aspect_ratio_policy", ("stretch", "not_larger",
                                                                                     "not_smaller"), "Resize")
    if policy != "stretch" and sizes is not None:
        raise ConfigError(f"Resize: keep_aspect_ratio_policy={policy!r} is not computed by shapesmith",
                          fix="use the default 'stretch' (the output is sizes)")
    if a["axes"] is not None:
        raise ConfigError("Resize: axes is not computed by shapesmith", fix="give scales or sizes for every dim")
    notes = ["output size floor(i*scale), scale read as float32 (onnxruntime)"] if scales is not None else []
    if mode != "nearest":
        notes.append(f"onnxruntime's {mode} mode resizes at most the 2 (or 3) innermost dims: other scales must be 1")
    return WholeLayer("onnx", "Resize", call.text,
                      _OnnxResize(tuple(float(s) for s in scales) if scales is not None else None, sizes),
                      notes=tuple(notes), name="Resize")


def _onnx_concat(call: Call, a: dict) -> WholeLayer:
    if a["axis"] is None:
        raise ConfigError("Concat needs the axis attribute", fix="add axis=1")
    return WholeLayer("onnx", "Concat", call.text, Concatenate(as_int(a["axis"], "axis", layer="Concat"), min_inputs=1),
                      name="Concat", multi_input=True)


def _onnx_binary(op_name: str) -> Spec:
    def build(call: Call, a: dict) -> WholeLayer:
        return WholeLayer("onnx", op_name, call.text, Broadcast(op_name, 2, 2), name=op_name, multi_input=True,
                          notes=("multidirectional (numpy) broadcasting",))
    # marker: ``Add`` is a Keras name too; unprefixed text is Keras unless A=/B= appear
    return Spec(op_name, ("A", "B"), {"A": None, "B": None}, build, marker=("A", "B"))


ONNX.register(Spec("Pad", ("data", "pads", "constant_value", "axes", "mode"),
                   {"data": None, "pads": None, "constant_value": None, "axes": None, "mode": "constant"}, _onnx_pad))
ONNX.register(Spec("Resize", ("X", "roi", "scales", "sizes", "antialias", "axes", "coordinate_transformation_mode",
                              "cubic_coeff_a", "exclude_outside", "extrapolation_value", "keep_aspect_ratio_policy",
                              "mode", "nearest_mode"),
                   {"X": None, "roi": None, "scales": None, "sizes": None, "antialias": 0, "axes": None,
                    "coordinate_transformation_mode": "half_pixel", "cubic_coeff_a": -0.75, "exclude_outside": 0,
                    "extrapolation_value": 0.0, "keep_aspect_ratio_policy": "stretch", "mode": "nearest",
                    "nearest_mode": "round_prefer_floor"}, _onnx_resize))
ONNX.register(Spec("Concat", ("inputs", "axis"), {"inputs": None, "axis": None}, _onnx_concat))
for _name in ("Add", "Sub", "Mul", "Div"):
    ONNX.register(_onnx_binary(_name))
