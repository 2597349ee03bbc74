"""Keras 3 models written here (nested, shared, multi-output, sequence models), and the oracle that
calls a built model's own layers on inputs of other sizes."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
from keras import layers  # noqa: E402


def nested_model() -> keras.Model:
    """A functional model holding a Sequential (called twice: shared weights) and a functional block."""
    inner = keras.Sequential([layers.Conv2D(8, 3, padding="same", activation="relu"), layers.BatchNormalization()],
                             name="stem")
    x_in = keras.Input((None, None, 8), name="features")
    y = layers.Conv2D(8, 3, strides=2, padding="same")(x_in)
    y = layers.UpSampling2D()(y)
    block = keras.Model(x_in, layers.Add()([x_in, y]), name="block")
    image = keras.Input((None, None, 3), name="image")
    a = inner(image)
    b = block(a)
    c = layers.Conv2D(8, 1, name="side")(image)
    c = inner.layers[0](layers.Conv2D(3, 1, name="back")(c))  # the stem's conv again: shared weights
    merged = layers.Concatenate(name="join")([b, c])
    pooled = layers.GlobalAveragePooling2D()(merged)
    out = layers.Dense(4, name="head")(pooled)
    return keras.Model(image, [out, merged], name="nested")


def saved_model() -> keras.Model:
    """A functional model with a nested Sequential, as saved to a .keras file."""
    inner = keras.Sequential([layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D()], name="inner")
    x = keras.Input((None, None, 3))
    y = layers.GlobalMaxPooling2D()(inner(layers.Conv2D(3, 1)(x)))
    return keras.Model(x, layers.Dense(2)(y), name="saved")


def lstm_tagger() -> keras.Model:
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = layers.Embedding(50, 16)(tokens)
    x = layers.Bidirectional(layers.LSTM(12, return_sequences=True))(x)
    out = layers.TimeDistributed(layers.Dense(5, activation="softmax"))(x)
    return keras.Model(tokens, out, name="tagger")


def transformer_block() -> keras.Model:
    x_in = keras.Input((None, 16), name="sequence")
    attn = layers.MultiHeadAttention(num_heads=2, key_dim=8)(x_in, x_in)
    x = layers.LayerNormalization()(layers.Add()([x_in, attn]))
    ff = layers.Dense(16)(layers.Dense(32, activation="relu")(x))
    x = layers.LayerNormalization()(layers.Add()([x, ff]))
    return keras.Model(x_in, layers.Dense(3)(layers.GlobalAveragePooling1D()(x)), name="encoder")


def small_cnn_flatten() -> keras.Sequential:
    """Sequential with Flatten -> Dense: the built Dense pins the input size."""
    return keras.Sequential([keras.Input((32, 32, 3)), layers.Conv2D(8, 3), layers.MaxPooling2D(),
                             layers.Conv2D(8, 3, strides=2), layers.Flatten(), layers.Dense(10)], name="flat_cnn")


def call_on(model: keras.Model, shape: tuple, real: bool = False):
    """The model's own (built) layers applied to an input of ``shape``, batch included, following its
    graph: Keras checks every layer's input (a Dense built for 25088 features refuses others). Symbolic
    (a KerasTensor) unless ``real``: Keras' symbolic Concatenate accepts unequal sizes that its real
    call refuses, so merges with concatenations need ``real``. Returns the output shape(s); raises what
    Keras raises."""
    import numpy as np

    tensors = {}
    functional = getattr(model, "_functional", None) or model
    (inp,) = functional.inputs
    new = np.zeros(shape, dtype=inp.dtype) if real else keras.KerasTensor(shape, dtype=inp.dtype)
    tensors[id(inp)] = new
    for depth in sorted(functional._nodes_by_depth, reverse=True):
        for node in functional._nodes_by_depth[depth]:
            if node.is_input:
                continue
            args = _swap(node.arguments.args, tensors)
            kwargs = _swap(dict(node.arguments.kwargs), tensors)
            out = node.operation(*args, **kwargs)
            outs = out if isinstance(out, (list, tuple)) else [out]
            for old, value in zip(node.outputs, outs):
                tensors[id(old)] = value
    results = [tuple(tensors[id(t)].shape) for t in functional.outputs]
    return results[0] if len(results) == 1 else results


def _swap(obj, tensors):
    if id(obj) in tensors:
        return tensors[id(obj)]
    if isinstance(obj, (list, tuple)):
        return type(obj)(_swap(o, tensors) for o in obj)
    if isinstance(obj, dict):
        return {k: _swap(v, tensors) for k, v in obj.items()}
    return obj
