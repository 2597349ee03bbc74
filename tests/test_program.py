"""Whole programs as users paste them, checked against the framework running the same code."""

from __future__ import annotations

import os

import pytest

import shapesmith
from shapesmith.dims import Expr

os.environ.setdefault("KERAS_BACKEND", "torch")

KERAS_PROGRAMS = {
    "sequential list": """
model = keras.Sequential([
    keras.Input(shape=(h, w, 3)),
    layers.Conv2D(8, 3, strides=2, padding="same"),
    layers.MaxPooling2D(),
    layers.Conv2D(4, 3),
])
""",
    "model.add with input_shape": """
model = keras.Sequential()
model.add(layers.Conv1D(8, 5, padding="causal", dilation_rate=2, input_shape=(h, 3)))
model.add(layers.Conv1D(4, 3, strides=2))
model.add(layers.Dense(10))
""",
    "functional with a skip connection": """
inputs = keras.Input(shape=(h, w, 3))
x = layers.Conv2D(16, 3, padding="same")(inputs)
skip = x
x = layers.Conv2D(16, 3, strides=2, padding="same")(x)
x = layers.Conv2DTranspose(16, 3, strides=2, padding="same")(x)
x = layers.Add()([x, skip])
x = layers.Concatenate()([x, skip])
model = keras.Model(inputs, x)
""",
    "shared layer and two outputs": """
inputs = keras.Input(shape=(h, w, 4))
conv = layers.Conv2D(4, 3, padding="same")
a = conv(inputs)
b = conv(a)
c = layers.MaxPooling2D(2)(b)
model = keras.Model(inputs=inputs, outputs=[b, c])
""",
}
SIZES = [(8, 8), (9, 12), (16, 10), (32, 32), (7, 15)]


def keras_run(code: str, h: int, w: int):
    import keras
    from keras import layers
    namespace = {"keras": keras, "layers": layers, "h": h, "w": w}
    exec(compile(code, "<program>", "exec"), namespace)  # test oracle: our own program text, run by Keras
    model = namespace["model"]
    shapes = [tuple(layer.output.shape) for layer in model.layers if type(layer).__name__ != "InputLayer"]
    outputs = [tuple(t.shape) for t in model.outputs]
    return shapes, outputs, model.count_params()


def at(shape, env):
    return tuple(d.subs(env) if isinstance(d, Expr) else d for d in shape)


@pytest.mark.parametrize("name", sorted(KERAS_PROGRAMS))
def test_keras_programs_match_keras(name):
    code = KERAS_PROGRAMS[name]
    symbolic = shapesmith.trace(code)
    for h, w in SIZES:
        env = {"h": h, "w": w}
        try:
            shapes, outputs, params = keras_run(code, h, w)
        except ValueError:
            concrete = None
        else:
            concrete = shapesmith.trace(code.replace("(h, w,", f"({h}, {w},").replace("(h, 3)", f"({h}, 3)"))
        if concrete is None:
            continue
        first = {}  # a shared layer's output as Keras reports it: its first call's
        for layer_name, r in zip(concrete.names, concrete.layers):
            first.setdefault(layer_name, tuple(r.output_shape))
        assert list(first.values()) == shapes, (name, h, w)
        got_out = concrete.output_shape if isinstance(concrete.output_shape, list) else [concrete.output_shape]
        assert [tuple(s) for s in got_out] == outputs, (name, h, w)
        assert concrete.params == params, (name, h, w)
        sym_out = symbolic.output_shape if isinstance(symbolic.output_shape, list) else [symbolic.output_shape]
        assert [at(s, env) for s in sym_out] == outputs, (name, h, w)


def test_skip_connection_condition_is_exact():
    code = KERAS_PROGRAMS["functional with a skip connection"]
    t = shapesmith.trace(code)
    assert set(t.constraints) == {"h % 2 == 0", "w % 2 == 0"}
    for h in range(2, 12):
        try:
            keras_run(code, h, 8)
            accepted = True
        except ValueError:
            accepted = False
        assert accepted == (h % 2 == 0), h


TORCH_PROGRAMS = {
    "nn.Sequential": """
model = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1),
    nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, stride=2, padding=1),
    nn.ConvTranspose2d(32, 8, 4, stride=2, padding=1),
    nn.Conv1d(8, 4, 3) if False else nn.MaxPool2d(3, stride=2, ceil_mode=True),
    nn.Linear(7, 5),
)
""",
}


def test_torch_sequential_matches_torch():
    import torch
    from torch import nn
    code = TORCH_PROGRAMS["nn.Sequential"].replace("nn.Conv1d(8, 4, 3) if False else ", "")
    namespace = {"nn": nn}
    exec(compile(code, "<program>", "exec"), namespace)  # test oracle: our own program text, run by torch
    model = namespace["model"]
    for h, w in [(28, 28), (29, 30), (16, 33)]:
        seen = []
        hooks = [m.register_forward_hook(lambda m, i, o, seen=seen: seen.append(tuple(o.shape))) for m in model]
        try:
            model(torch.zeros(2, 3, h, w))
            ok = True
        except RuntimeError:
            ok = False
        for hook in hooks:
            hook.remove()
        try:
            t = shapesmith.trace(code, input_shape=(2, 3, h, w))
        except shapesmith.ShapesmithError:
            assert not ok, (h, w)
            continue
        assert ok and [tuple(r.output_shape) for r in t.layers] == seen, (h, w)
        assert t.params == sum(p.numel() for p in model.parameters())
