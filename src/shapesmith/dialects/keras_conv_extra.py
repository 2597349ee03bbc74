"""Keras 3 and tf.keras 2 depthwise and separable convolutions: ``DepthwiseConv2D(3, strides=2,
padding="same")``, ``SeparableConv2D(64, 3, depth_multiplier=2)`` and their 1-D forms; plus
``Rescaling`` (shape-preserving, no weights).

Keras' rules kept here: ``valid``/``same`` (case folded); tf.keras 2 also takes ``causal`` for
``SeparableConv1D`` (``d*(k - 1)`` cells on the left); tf.keras 2 refuses ``strides > 1`` with
``dilation_rate > 1`` at construction, Keras 3 accepts it for these layers (only ``Conv``/
``ConvTranspose`` check it). Parameters: depthwise ``k*C*m`` (+ ``C*m`` bias); separable
``k*C*m + C*m*filters`` (+ ``filters`` bias).
"""

from __future__ import annotations

from ..errors import ConfigError
from ..layer import Layer, WholeLayer
from ..ops.elementwise import Elementwise
from ..ops.separable import DepthwiseConv
from .base import Call, Dialect, Spec, as_bool, describe
from .keras import (COMMON, COMMON2, DIALECT, DIALECT2, _channels_last, _marker, _positional, _snake, _tuple,
                    check_strides_dilation, conv_pads, declared_input)

DEPTHWISE_IGNORED = ("depthwise_initializer", "bias_initializer", "depthwise_regularizer", "bias_regularizer",
                     "activity_regularizer", "depthwise_constraint", "bias_constraint")
SEPARABLE_IGNORED = ("depthwise_initializer", "pointwise_initializer", "bias_initializer", "depthwise_regularizer",
                     "pointwise_regularizer", "bias_regularizer", "activity_regularizer", "depthwise_constraint",
                     "pointwise_constraint", "bias_constraint")


def _positive(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"Invalid value for argument `{name}`. Expected a strictly positive value. "
                          f"Received {name}={describe(value)}.", expected=f"an integer {name} >= 1")
    return value


def _depthwise(framework: str, rank: int, separable: bool):
    type_name = f"SeparableConv{rank}D" if separable else f"DepthwiseConv{rank}D"

    def build(call: Call, a: dict) -> Layer:
        _positional(call, type_name, len(own))
        filters = _positive(a["filters"], "filters") if separable else None
        multiplier = _positive(a["depth_multiplier"], "depth_multiplier")
        kernel = _tuple(a["kernel_size"], rank, "kernel_size", type_name)
        stride = _tuple(a["strides"], rank, "strides", type_name)
        dilation = _tuple(a["dilation_rate"], rank, "dilation_rate", type_name)
        causal_ok = framework == "keras2" and separable and rank == 1
        allowed = ("valid", "same", "causal") if causal_ok else ("valid", "same")
        padding = a["padding"].lower() if isinstance(a["padding"], str) else a["padding"]
        if padding not in allowed:
            fix = "tf.keras 2 takes padding='causal' only in Conv1D and SeparableConv1D" if padding == "causal" else None
            raise ConfigError(f"The `padding` argument must be one of {set(allowed)}. Received: {describe(a['padding'])}",
                              **({"fix": fix} if fix else {}))
        if framework == "keras2":
            check_strides_dilation(stride, dilation)
        bias = as_bool(a["use_bias"], "use_bias", type_name)
        channels_last = _channels_last(a["data_format"], type_name)
        shape, notes = declared_input(framework, a, type_name)
        notes = list(notes)
        pads = conv_pads(padding, kernel, dilation, notes)
        op = DepthwiseConv(multiplier, kernel, stride, dilation, pads, filters, bias)
        return Layer(framework, type_name, call.text, op, rank, channels_last=channels_last, notes=tuple(notes),
                     name=_snake(type_name), declared_input=shape)

    if separable:
        own = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "depth_multiplier",
               "activation", "use_bias") + SEPARABLE_IGNORED
    else:
        own = ("kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate",
               "activation", "use_bias") + DEPTHWISE_IGNORED
    defaults = dict(strides=1, padding="valid", depth_multiplier=1, data_format=None, dilation_rate=1,
                    activation=None, use_bias=True, **{k: None for k in SEPARABLE_IGNORED})
    common = COMMON2 if framework == "keras2" else COMMON
    return Spec(type_name, own + common, {**defaults, **{k: None for k in common}}, build, marker=_marker(framework))


def _rescaling(framework: str):
    """``Rescaling(scale, offset=0.0)``: ``x*scale + offset``, no weights (Keras 3; tf.keras 2.6+)."""
    def build(call: Call, a: dict) -> WholeLayer:
        _positional(call, "Rescaling", 2)
        for key in ("scale", "offset"):
            value = a[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"Rescaling: {key}={describe(value)} is not a number shapesmith reads",
                                  expected="a number (an array scale broadcasts against the input: its shape "
                                           "cannot be read from the text)")
        shape, notes = declared_input(framework, a, "Rescaling")
        return WholeLayer(framework, "Rescaling", call.text, Elementwise("Rescaling"), notes=notes,
                          name="rescaling", declared_input=shape)

    common = COMMON2 if framework == "keras2" else COMMON
    return Spec("Rescaling", ("scale", "offset") + common, {"offset": 0.0, **{k: None for k in common}}, build,
                marker=_marker(framework))


def _register(dialect: Dialect) -> None:
    for rank in (1, 2):
        for separable in (False, True):
            spec = dialect.register(_depthwise(dialect.name, rank, separable))
            if separable:
                dialect.specs[f"SeparableConvolution{rank}D"] = spec
    dialect.register(_rescaling(dialect.name))


_register(DIALECT)
_register(DIALECT2)
