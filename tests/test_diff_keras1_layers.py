"""Differential tests: shapesmith's Keras 1 dense / recurrent / embedding / normalization / shape / padding layers
against Keras 1.2.2's own code (``get_output_shape_for``, and ``build`` with a recording ``add_weight`` for the weight
counts), loaded from the unpacked sdist named by ``SHAPESMITH_KERAS1_SRC`` (tests/oracles/keras1_oracle.py).
A Keras 1 constructor/shape error or a size <= 0 counts as a reject. Configs come from a seeded ``random.Random``."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

import shapesmith

sys.path.insert(0, str(Path(__file__).parent))
from oracles import keras1_oracle  # noqa: E402

pytestmark = pytest.mark.skipif(keras1_oracle.source_dir() is None, reason=keras1_oracle.skip_reason())
REJECT = "reject"
N = 60


def ours(text, shape):
    try:
        t = shapesmith.trace(text, input_shape=shape, framework="keras1")
    except shapesmith.ShapesmithError:
        return REJECT, None
    return tuple(t.output_shape), t.params


def theirs(module, cls, args, kwargs, shape):
    try:
        out, trainable, frozen = keras1_oracle.layer_result(module, cls, args, kwargs, shape)
        if any(d is not None and d <= 0 for d in out[1:]):
            return REJECT, None
        count = trainable + frozen
    except (ValueError, TypeError, AssertionError, IndexError):
        return REJECT, None
    return tuple(int(d) if d is not None else None for d in out), count


def text(cls, args, kwargs):
    return f"{cls}({', '.join([repr(a) for a in args] + [f'{k}={v!r}' for k, v in kwargs.items()])})"


def check(cases):
    failures = []
    for module, cls, args, kwargs, shape in cases:
        want = theirs(module, cls, args, kwargs, shape)
        got = ours(text(cls, args, kwargs), shape)
        if want[0] == REJECT and got[0] == REJECT:
            continue
        if want != got:
            failures.append(f"{text(cls, args, kwargs)} on {shape}: keras1 {want}, shapesmith {got}")
    assert not failures, "\n".join(failures[:8])


def test_dense_and_core():
    r = random.Random(1)
    cases = []
    for _ in range(N):
        shape = (None, *[r.randint(1, 6) for _ in range(r.randint(1, 3))])
        cases.append(("core", "Dense", (r.randint(1, 9),), {"bias": r.random() < .7}, shape))
        cases.append(("core", "Flatten", (), {}, shape))
        cases.append(("core", "RepeatVector", (r.randint(1, 4),), {}, shape))
        dims = list(range(1, len(shape)))
        r.shuffle(dims)
        cases.append(("core", "Permute", (tuple(dims),), {}, shape))
        total = 1
        for d in shape[1:]:
            total *= d
        target = [total] if r.random() < .5 else [-1, shape[-1]]
        if r.random() < .3:
            target = [total + 1]
        cases.append(("core", "Reshape", (tuple(target),), {}, shape))
        cases.append(("core", "Activation", (r.choice(["relu", "tanh", "softmax"]),), {}, shape))
        cases.append(("core", "Dropout", (r.choice([0.0, 0.3, 0.5]),), {}, shape))
    check(cases)


def test_recurrent():
    r = random.Random(2)
    cases = []
    for _ in range(N):
        cls = r.choice(["SimpleRNN", "LSTM", "GRU"])
        kwargs = {"return_sequences": r.random() < .5, "go_backwards": r.random() < .3,
                  "consume_less": r.choice(["cpu", "mem", "gpu"])}
        shape = (r.choice([None, 4]), r.choice([None, 3, 7]), r.randint(1, 6))
        if r.random() < .2:
            shape = shape[:2]
        cases.append(("recurrent", cls, (r.randint(1, 9),), kwargs, shape))
    check(cases)


def test_embedding_and_batchnorm():
    r = random.Random(3)
    cases = []
    for _ in range(N):
        steps = r.choice([None, 5, 9])
        length = r.choice([None, steps]) if steps else r.choice([None, 6])
        kwargs = {"input_length": length} if length else {}
        cases.append(("embeddings", "Embedding", (r.randint(2, 50), r.randint(1, 8)), kwargs, (None, steps)))
        shape = (None, *[r.randint(1, 6) for _ in range(r.randint(1, 3))])
        axis = r.choice([-1, 1, len(shape) - 1])
        cases.append(("normalization", "BatchNormalization", (), {"axis": axis, "mode": r.choice([0, 2])}, shape))
    check(cases)


def test_padding_cropping_upsampling():
    r = random.Random(4)
    cases = []
    for _ in range(N):
        order = r.choice(["th", "tf"])
        s1 = (None, r.choice([None, 3, 8]), r.randint(1, 4))
        s2 = (None, *[r.choice([None, 2, 5, 8]) if j else r.randint(1, 3) for j in range(3)])
        if order == "tf":
            s2 = (None, s2[2], s2[3], s2[1])
        pair = (r.randint(0, 3), r.randint(0, 3))
        cases.append(("conv", "ZeroPadding1D", (r.choice([r.randint(0, 3), pair]),), {}, s1))
        cases.append(("conv", "ZeroPadding2D", (r.choice([pair, (*pair, r.randint(0, 2), r.randint(0, 2))]),),
                      {"dim_ordering": order}, s2))
        cases.append(("conv", "Cropping1D", (pair,), {}, s1))
        if None not in s2:
            cases.append(("conv", "Cropping2D", ((pair, (r.randint(0, 3), r.randint(0, 3))),),
                          {"dim_ordering": order}, s2))
        cases.append(("conv", "UpSampling1D", (r.randint(1, 3),), {}, s1))
        cases.append(("conv", "UpSampling2D", ((r.randint(1, 3), r.randint(1, 3)),), {"dim_ordering": order}, s2))
    check(cases)


def test_detection():
    assert shapesmith.trace("Dense(10, input_dim=784)").layers[0].layer.framework == "keras"
    assert shapesmith.trace("LSTM(output_dim=10, return_sequences=True)",
                            input_shape=(None, 5, 3)).layers[0].layer.framework == "keras1"
    assert shapesmith.trace("Dense(10, init='normal')", input_shape=(None, 4)).layers[0].layer.framework == "keras1"
