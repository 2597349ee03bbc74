"""Write a built Keras 3 functional model out as the functional code shapesmith reads.

One ``t_k = layers.Type(args..., name="...")(inputs...)`` line per layer, in the model's
(topological) order, the constructor arguments taken from ``layer.get_config()`` -- only those
shapesmith reads that matter for shapes and parameter counts. A layer type without a mapping
raises :class:`Unmapped`, naming it, so gaps are visible rather than papered over.

One substitution, declared in :data:`SUBSTITUTES`: InceptionResNetV2's private
``CustomScaleLayer`` (``inputs[0] + inputs[1] * scale``, two same-shaped tensors, no weights) is
written as ``layers.Add`` -- shapesmith has no such layer (it is not a public Keras layer).
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402

# type -> the config keys written, in order (all by keyword)
ARGS: dict[str, tuple[str, ...]] = {
    "Conv1D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "use_bias"),
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "use_bias"),
    "DepthwiseConv2D": ("kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate",
                        "use_bias"),
    "SeparableConv2D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                        "depth_multiplier", "use_bias"),
    "MaxPooling2D": ("pool_size", "strides", "padding", "data_format"),
    "AveragePooling2D": ("pool_size", "strides", "padding", "data_format"),
    "GlobalAveragePooling2D": ("data_format", "keepdims"),
    "GlobalMaxPooling2D": ("data_format", "keepdims"),
    "ZeroPadding2D": ("padding", "data_format"),
    "Dense": ("units", "use_bias"),
    "Flatten": ("data_format",),
    "Dropout": ("rate",),
    "BatchNormalization": ("axis", "center", "scale"),
    "Activation": ("activation",),
    "ReLU": ("max_value", "negative_slope", "threshold"),
    "Add": (),
    "Concatenate": ("axis",),
    "Rescaling": ("scale", "offset"),
}
SUBSTITUTES = {"CustomScaleLayer": "Add"}


class Unmapped(Exception):
    """A layer type the writer has no mapping for (a gap to report, not to hide)."""


def _literal(value: object) -> str:
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _history(obj: object, out: list) -> None:
    """The ``keras_history`` entries (layer name, node, tensor) in an ``inbound_nodes`` args tree."""
    if isinstance(obj, dict):
        if obj.get("class_name") == "__keras_tensor__":
            out.append(tuple(obj["config"]["keras_history"]))
            return
        for v in obj.values():
            _history(v, out)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _history(v, out)


def _dim(d, symbol: str) -> str:
    return symbol if d is None else str(d)


def functional_code(model: keras.Model, symbols: tuple[str, ...] = ("h", "w")) -> tuple[str, list[str]]:
    """The model as shapesmith functional code (``None`` spatial input dims become ``symbols``),
    and the layers written through a :data:`SUBSTITUTES` entry."""
    config = model.get_config()
    var: dict[str, str] = {}
    lines = ["import keras", "from keras import layers"]
    substituted = []
    for j, entry in enumerate(config["layers"]):
        cls, name, cfg = entry["class_name"], entry["config"]["name"], entry["config"]
        v = f"t_{j}"
        if cls == "InputLayer":
            shape = cfg["batch_shape"][1:]
            spatial = iter(symbols)
            dims = [_dim(d, next(spatial)) if k < len(shape) - 1 else str(d) for k, d in enumerate(shape)]
            lines.append(f"{v} = keras.Input(shape=({', '.join(dims)},), name={name!r})")
            var[name] = v
            continue
        written = SUBSTITUTES.get(cls, cls)
        if written not in ARGS:
            raise Unmapped(f"layer {name!r} of type {cls} (module {entry.get('module')}): no mapping to "
                           f"shapesmith functional code")
        if written != cls:
            substituted.append(f"{name} ({cls} written as {written})")
        args = [f"{k}={_literal(cfg[k])}" for k in ARGS[written] if k in cfg]
        args.append(f"name={name!r}")
        (node,) = entry["inbound_nodes"]  # applications call each layer once
        sources: list = []
        _history(node["args"], sources)
        ins = [var[s[0]] for s in sources]
        if any(s[2] != 0 for s in sources):
            raise Unmapped(f"layer {name!r} takes a non-first output of a layer: not written")
        call = f"[{', '.join(ins)}]" if written in ("Add", "Concatenate") else ins[0]
        if len(ins) != 1 and written not in ("Add", "Concatenate"):
            raise Unmapped(f"layer {name!r} of type {cls} takes {len(ins)} inputs")
        lines.append(f"{v} = layers.{written}({', '.join(args)})({call})")
        var[name] = v
    outs = []
    _history(config["output_layers"], outs)
    if not outs:  # Keras 3 stores output_layers as [name, node, tensor] lists
        outs = [tuple(x) for x in config["output_layers"]] if isinstance(config["output_layers"][0], list) \
            else [tuple(config["output_layers"])]
    ins = [tuple(x) for x in config["input_layers"]] if isinstance(config["input_layers"][0], list) \
        else [tuple(config["input_layers"])]
    lines.append(f"model = keras.Model({var[ins[0][0]]}, {var[outs[0][0]]})")
    return "\n".join(lines) + "\n", substituted
