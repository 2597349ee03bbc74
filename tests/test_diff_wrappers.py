"""Keras TimeDistributed against Keras: shapes and parameters for random inner layers."""

from __future__ import annotations

import os
import random

import shapesmith
from shapesmith import ShapesmithError

os.environ.setdefault("KERAS_BACKEND", "torch")


def test_time_distributed_matches_keras():
    import keras
    rng = random.Random("time-distributed")
    checked = 0
    for _ in range(120):
        kind = rng.choice(["dense", "conv", "pool"])
        steps = rng.randint(1, 4)
        if kind == "dense":
            inner, shape = f"layers.Dense({rng.randint(1, 9)})", (2, steps, rng.randint(1, 7))
        elif kind == "conv":
            inner = f"layers.Conv2D({rng.randint(1, 4)}, {rng.randint(1, 4)}, strides={rng.randint(1, 3)})"
            shape = (2, steps, rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 3))
        else:
            inner = f"layers.MaxPooling2D({rng.randint(1, 3)}, padding={rng.choice(['valid', 'same'])!r})"
            shape = (2, steps, rng.randint(1, 9), rng.randint(1, 9), 2)
        text = f"layers.TimeDistributed({inner})"
        try:
            layer = eval(text, {"layers": keras.layers})  # test oracle: our own layer text, built by Keras
            want = tuple(layer(keras.ops.zeros(shape)).shape), layer.count_params()
        except (ValueError, RuntimeError):  # Keras' own check, or torch's kernel refusing the window
            want = None
        try:
            t = shapesmith.trace(text, input_shape=shape)
            got = t.output_shape, t.params
        except ShapesmithError:
            got = None
        assert got == want, (text, shape)
        checked += want is not None
    assert checked > 60
