"""Keras 3 model -> :class:`~shapesmith.models.Graph`: functional, Sequential and nested models, or a
``.keras`` file loaded in safe mode. Nothing is run; no Python code from a file is ever executed.

Each layer is written as the Keras dialect's text from its own ``get_config()`` (the arguments that
matter for shapes), and keeps the weights it was built with: a ``Dense`` built for 25088 features
takes only 25088 (a model's weights stay as built, so a Flatten before it pins the input size).
Layers shapesmith has no mapping for are gaps, named; :data:`LAYERS` maps a few private Keras
layers (InceptionResNetV2's ``CustomScaleLayer``).
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Callable
from dataclasses import fields, replace

from ..dialects import build_layer
from ..dims import Symbol
from ..errors import ShapesmithError
from ..layer import WholeLayer
from ..ops.merge import Broadcast
from . import Applied, Graph, Node, Pick, Ref, TensorShape, layer_runner

SKIPPED_SUFFIXES = ("_initializer", "_regularizer", "_constraint")
SKIPPED_KEYS = ("dtype", "trainable", "autocast", "quantization_config", "seed", "name", "build_config")
APPLICATIONS = ("vgg16", "vgg19", "resnet50", "resnet101", "resnet152", "resnet50v2", "resnet101v2", "resnet152v2",
                "inception_v3", "inception_resnet_v2", "xception", "mobilenet", "mobilenetv2", "mobilenetv3",
                "densenet121", "densenet169", "densenet201", "nasnet", "efficientnet", "convnext")
_LAYERS_BY_TEXT: dict[str, object] = {}
DEFAULTS = {("MultiHeadAttention", "attention_axes"): lambda v: v is None or tuple(v) == (1,)}  # config values
# a built layer reports that mean the default


def _scale_layer(layer) -> WholeLayer:
    """InceptionResNetV2's ``CustomScaleLayer``: ``inputs[0] + inputs[1]*scale``, two same-shaped
    tensors, no weights."""
    return WholeLayer("keras", "CustomScaleLayer", f"CustomScaleLayer(scale={layer.scale})", Broadcast("add"),
                      multi_input=True, name=layer.name)


LAYERS: dict[str, Callable] = {"CustomScaleLayer": _scale_layer}  # private Keras layers, by class name
OPERATIONS = {"Add": "add", "Subtract": "subtract", "Multiply": "multiply", "Divide": "divide",
              "Maximum": "maximum", "Minimum": "minimum"}  # keras.ops used on tensors in functional code


def load_keras_file(path: str) -> Graph:
    """``keras.saving.load_model(path, safe_mode=True)``: a Lambda layer's code is refused, not run."""
    if not os.path.isfile(path):
        raise ShapesmithError(f"{path}: no such file", fix="give the path of a .keras file")
    if not zipfile.is_zipfile(path):
        raise ShapesmithError(f"{path} is not a .keras archive (a zip file)",
                              expected="a file written by model.save('model.keras')")
    import keras
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # noqa: BLE001 -- a corrupt or hostile file: one clear line
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "lambda" in message.lower() or "safe_mode" in message.lower():
            raise ShapesmithError(f"{path} holds a Lambda layer (Python code): Keras safe mode refuses to load it, and "
                                  "shapesmith never runs code from a model file",
                                  fix="replace the Lambda by a built-in layer, or summarize the model object in "
                                      "Python (module.path:factory)") from None
        raise ShapesmithError(f"cannot load {path}: {type(exc).__name__}: {message}",
                              expected="a .keras file saved by Keras 3") from None
    return capture_keras(model)


def capture_keras(model) -> Graph:
    builder = _Builder()
    inputs = builder.model(model, prefix=(), feeds=None)
    declared = tuple(inputs)
    name = model.name
    application = name if name.split("_")[0].lower() in APPLICATIONS or name.lower().startswith(APPLICATIONS) else None
    params = model.count_params() if model.built else None
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights) if model.built else None
    return Graph("keras", name, declared, tuple(builder.nodes), builder.outputs, containers=builder.containers,
                 params=params, trainable=trainable, channels_last=True,
                 checks_input=True,
                 hints={"application": application} if application else {})


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.containers: dict[str, str] = {}
        self.outputs: object = None

    def model(self, model, prefix: tuple[str, ...], feeds: list | None) -> list:
        """Add the model's nodes; ``feeds`` are the refs its inputs take (None: the graph's own inputs,
        returned with their declared shapes)."""
        import keras
        declared: list = []
        if isinstance(model, keras.Sequential) and not hasattr(model, "_nodes_by_depth"):
            return self._sequential(model, prefix, feeds)
        functional = getattr(model, "_functional", None) if isinstance(model, keras.Sequential) else model
        if functional is None or not hasattr(functional, "_nodes_by_depth"):
            return self._sequential(model, prefix, feeds)
        tensors: dict[int, object] = {}
        for k, tensor in enumerate(functional.inputs):
            if feeds is None:
                tensors[id(tensor)] = Ref(None, k)
                declared.append((tensor.name if hasattr(tensor, "name") else f"input_{k}", _declared(tensor.shape)))
            else:
                tensors[id(tensor)] = feeds[k]
        depths = sorted(functional._nodes_by_depth, reverse=True)
        for depth in depths:
            for knode in functional._nodes_by_depth[depth]:
                if knode.is_input:
                    continue
                self._node(knode, tensors, prefix)
        outputs = [tensors[id(t)] for t in functional.outputs]
        result = outputs[0] if len(outputs) == 1 else tuple(outputs)
        if feeds is None:
            self.outputs = result
            return declared
        return outputs

    def _sequential(self, model, prefix: tuple[str, ...], feeds: list | None) -> list:
        """A Sequential without a functional graph (no input given yet): its layers in order."""
        layers = [layer for layer in model.layers]
        declared = []
        if feeds is None:
            shape = None
            if model.built and getattr(model, "inputs", None):
                shape = _declared(model.inputs[0].shape)
            declared.append(("input", shape))
            current = Ref(None, 0)
        else:
            current = feeds[0]
        for layer in layers:
            current = self._layer(layer, [current], prefix, 1)[0]
        if feeds is None:
            self.outputs = current
            return declared
        return [current]

    def _node(self, knode, tensors: dict, prefix: tuple[str, ...]) -> None:
        op = knode.operation
        flat = [tensors[id(t)] for t in knode.arguments.keras_tensors]
        outs = self._layer(op, flat, prefix, len(knode.outputs))
        for tensor, ref in zip(knode.outputs, outs):
            tensors[id(tensor)] = ref

    def _layer(self, op, flat: list, prefix: tuple[str, ...], count: int) -> list:
        """Add one operation; return a ref per output."""
        import keras
        name = "/".join((*prefix, op.name))
        if isinstance(op, keras.Model):
            self.containers[name] = type(op).__name__
            return self.model(op, (*prefix, op.name), flat)
        held = op.count_params() if isinstance(op, keras.layers.Layer) and op.built else None
        frozen = sum(math.prod(w.shape) for w in op.non_trainable_weights) if held else 0
        common = dict(path=tuple("/".join(prefix[:j + 1]) for j in range(len(prefix))), owner=("layer", id(op)),
                      frozen=frozen, held=held)
        kind = type(op).__name__
        if not isinstance(op, keras.layers.Layer):
            if kind in OPERATIONS:
                layer = WholeLayer("keras", kind, f"keras.ops.{OPERATIONS[kind]}", Broadcast(OPERATIONS[kind]),
                                   multi_input=True, name=op.name)
                self.nodes.append(Node(name, kind, _flat_runner(layer), tuple(flat), layer=layer, text=layer.text,
                                       **common))
            else:
                self.nodes.append(Node(name, kind, None, tuple(flat), gap=f"keras operation {kind}: no shapesmith "
                                       "mapping", **common))
            return self._outputs(count)
        try:
            layer = LAYERS[kind](op) if kind in LAYERS else _built(_build(op), op)
        except ShapesmithError as err:
            gap = "Lambda layer: arbitrary Python code, not followed" if kind == "Lambda" else (
                f"{type(op).__module__}.{kind}: {err}")
            self.nodes.append(Node(name, kind, None, tuple(flat), gap=gap, text=kind, **common))
            return self._outputs(count)
        self.nodes.append(Node(name, kind, _flat_runner(layer), tuple(flat), layer=layer, text=layer.text, **common))
        return self._outputs(count)

    def _outputs(self, count: int) -> list:
        j = len(self.nodes) - 1
        return [Ref(j)] if count == 1 else [Pick(Ref(j), k) for k in range(count)]


def _declared(shape) -> tuple:
    """A Keras input shape with its unknown sizes as symbols (``(None, None, None, 3)`` ->
    ``(None, h, w, 3)``); the batch stays None."""
    dims = list(shape)
    free = [j for j in range(1, len(dims)) if dims[j] is None]
    names = {1: ["L"], 2: ["h", "w"], 3: ["d", "h", "w"]}.get(len(free), [f"s{j}" for j in range(len(free))])
    for j, n in zip(free, names):
        dims[j] = Symbol(n)
    return tuple(dims)


def _flat_runner(layer) -> Callable:
    run = layer_runner(layer)

    def flat_run(args, kwargs) -> Applied:
        return run(tuple(a for a in args if isinstance(a, TensorShape)), {})
    return flat_run


def _build(op):
    """The layer's text from its config, read by the Keras dialect (one build per distinct text)."""
    text = _text(type(op).__name__, op.get_config())
    layer = _LAYERS_BY_TEXT.get(text)
    if layer is None:
        layer = _LAYERS_BY_TEXT[text] = build_layer(text, "keras")
    return layer


def _text(kind: str, config: dict) -> str:
    from ..dialects import DIALECTS
    spec = DIALECTS["keras"].specs.get(kind)
    if spec is None:
        raise ShapesmithError(f"no shapesmith mapping for {kind}")
    parts = []
    for key, value in config.items():
        if key in SKIPPED_KEYS or key.endswith(SKIPPED_SUFFIXES) or key not in spec.params:
            continue
        if DEFAULTS.get((kind, key), lambda v: False)(value):
            continue
        parts.append(f"{key}={_literal(value)}")
    return f"{kind}({', '.join(parts)})"


def _literal(value) -> str:
    """A config value as dialect text; a nested layer config (Bidirectional's ``layer``) as its call."""
    if isinstance(value, dict) and "class_name" in value and isinstance(value.get("config"), dict):
        return _text(value["class_name"], value["config"])
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _built(layer, op):
    """The layer with the sizes its weights were built for: a built ``Dense`` takes only its kernel's
    input size, a conv its kernel's channels, a recurrent layer its kernel's features."""
    kernel = getattr(op, "kernel", None) if op.built else None
    if kernel is None or not hasattr(kernel, "shape"):
        return layer
    shape = tuple(kernel.shape)
    names = {f.name for f in fields(layer.op)} if hasattr(layer.op, "__dataclass_fields__") else set()
    if "in_features" in names and layer.op.in_features is None and len(shape) == 2:
        return replace(layer, op=replace(layer.op, in_features=shape[0]))
    if "in_channels" in names and layer.op.in_channels is None and len(shape) >= 3:
        groups = getattr(layer.op, "groups", 1)
        return replace(layer, op=replace(layer.op, in_channels=shape[-2] * groups))
    if "input_size" in names and layer.op.input_size is None and len(shape) == 2:
        return replace(layer, op=replace(layer.op, input_size=shape[0]))
    return layer


__all__ = ["LAYERS", "OPERATIONS", "capture_keras", "load_keras_file"]
