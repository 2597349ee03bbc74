"""Random stacks, checked layer by layer against the framework running them."""

from __future__ import annotations

import os
import random

import pytest

import shapesmith
from shapesmith import ShapesmithError
from shapesmith.dims import Expr

os.environ.setdefault("KERAS_BACKEND", "torch")


def torch_stack(rng: random.Random) -> tuple[str, int]:
    channels, lines = rng.randint(1, 4), []
    first = channels
    for _ in range(rng.randint(2, 7)):
        kind = rng.choice(["conv", "convt", "pool", "avg", "relu", "bn", "drop", "pad", "up", "adaptive"])
        if kind == "conv":
            out = rng.randint(1, 6)
            lines.append(f"nn.Conv2d({channels}, {out}, {rng.randint(1, 4)}, stride={rng.randint(1, 2)}, "
                         f"padding={rng.randint(0, 2)}, dilation={rng.randint(1, 2)})")
            channels = out
        elif kind == "convt":
            out, s = rng.randint(1, 6), rng.randint(1, 3)
            lines.append(f"nn.ConvTranspose2d({channels}, {out}, {rng.randint(1, 4)}, stride={s}, "
                         f"output_padding={rng.randint(0, s - 1)})")
            channels = out
        elif kind == "pool":
            k = rng.randint(1, 3)
            lines.append(f"nn.MaxPool2d({k}, stride={rng.randint(1, 3)}, padding={rng.randint(0, k // 2)}, "
                         f"ceil_mode={rng.random() < 0.5})")
        elif kind == "avg":
            k = rng.randint(1, 3)
            lines.append(f"nn.AvgPool2d({k}, padding={rng.randint(0, k // 2)}, ceil_mode={rng.random() < 0.5})")
        elif kind == "relu":
            lines.append("nn.ReLU()")
        elif kind == "bn":
            lines.append(f"nn.BatchNorm2d({channels})")
        elif kind == "drop":
            lines.append("nn.Dropout2d(0.1)")
        elif kind == "pad":
            lines.append(f"nn.ZeroPad2d({rng.randint(0, 2)})")
        elif kind == "up":
            lines.append(f"nn.Upsample(scale_factor={rng.randint(1, 2)})")
        else:
            lines.append(f"nn.AdaptiveAvgPool2d(({rng.randint(1, 4)}, {rng.randint(1, 4)}))")
    return "nn.Sequential(\n    " + ",\n    ".join(lines) + ",\n)", first


@pytest.mark.parametrize("seed", range(4))
def test_random_torch_stacks(seed):
    import torch
    from torch import nn
    rng = random.Random(f"torch-stack-{seed}")
    agreed = 0
    for _ in range(60):
        code, channels = torch_stack(rng)
        model = eval(code, {"nn": nn}).eval()  # test oracle: our own stack text, built by torch
        h, w = rng.randint(1, 20), rng.randint(1, 20)
        seen = []
        hooks = [m.register_forward_hook(lambda m, i, o, seen=seen: seen.append(tuple(o.shape))) for m in model]
        try:
            with torch.no_grad():
                model(torch.zeros(2, channels, h, w))
            want = seen
        except RuntimeError:
            want = None
        for hook in hooks:
            hook.remove()
        try:
            t = shapesmith.trace(code, input_shape=(2, channels, h, w))
            got = [tuple(r.output_shape) for r in t.layers]
        except ShapesmithError:
            got = None
        assert got == want, (code, (2, channels, h, w))
        if want is not None:
            agreed += 1
            assert t.params == sum(p.numel() for p in model.parameters()), code
            symbolic = shapesmith.trace(code, input_shape=(2, channels, "h", "w"))
            out = tuple(d.subs({"h": h, "w": w}) if isinstance(d, Expr) else d for d in symbolic.output_shape)
            assert out == want[-1], code
    assert agreed >= 10


def keras_stack(rng: random.Random) -> str:
    lines = [f"keras.Input(shape=(h, w, {rng.randint(1, 3)}))"]
    for _ in range(rng.randint(2, 7)):
        kind = rng.choice(["conv", "convt", "pool", "bn", "act", "pad", "crop", "up", "drop"])
        if kind == "conv":
            lines.append(f"layers.Conv2D({rng.randint(1, 5)}, {rng.randint(1, 4)}, strides={rng.randint(1, 2)}, "
                         f"padding={rng.choice(['valid', 'same'])!r})")
        elif kind == "convt":
            s = rng.randint(1, 3)
            op = rng.choice([None, rng.randint(0, s - 1)])
            lines.append(f"layers.Conv2DTranspose({rng.randint(1, 5)}, {rng.randint(1, 4)}, strides={s}, "
                         f"padding={rng.choice(['valid', 'same'])!r}, output_padding={op})")
        elif kind == "pool":
            lines.append(f"layers.MaxPooling2D({rng.randint(1, 3)}, padding={rng.choice(['valid', 'same'])!r})")
        elif kind == "bn":
            lines.append("layers.BatchNormalization()")
        elif kind == "act":
            lines.append("layers.Activation('relu')")
        elif kind == "pad":
            lines.append(f"layers.ZeroPadding2D({rng.randint(0, 2)})")
        elif kind == "crop":
            lines.append(f"layers.Cropping2D({rng.randint(0, 1)})")
        elif kind == "up":
            lines.append(f"layers.UpSampling2D({rng.randint(1, 2)})")
        else:
            lines.append("layers.Dropout(0.2)")
    return "model = keras.Sequential([\n    " + ",\n    ".join(lines) + ",\n])"


@pytest.mark.parametrize("seed", range(2))
def test_random_keras_stacks(seed):
    import keras
    from keras import layers
    rng = random.Random(f"keras-stack-{seed}")
    agreed = 0
    for _ in range(25):
        code = keras_stack(rng)
        h, w = rng.randint(1, 20), rng.randint(1, 20)
        namespace = {"keras": keras, "layers": layers, "h": h, "w": w}
        try:
            exec(compile(code, "<stack>", "exec"), namespace)  # test oracle: our own stack text, run by Keras
            model = namespace["model"]
            want = [tuple(layer.output.shape) for layer in model.layers], model.count_params()
        except ValueError:
            want = None
        try:
            t = shapesmith.trace(code.replace("shape=(h, w,", f"shape=({h}, {w},"))
            got = [tuple(r.output_shape) for r in t.layers], t.params
        except ShapesmithError:
            got = None
        assert got == want, (code, h, w)
        agreed += want is not None
    assert agreed >= 5
