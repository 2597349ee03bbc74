"""``DepthwiseConv1D/2D``, ``SeparableConv1D/2D`` and ``Rescaling`` (dialects/keras_conv_extra.py)
against Keras 3 on the torch backend: a seeded sweep of configs, each layer called on a symbolic
tensor (output shape, ``count_params()``), a third of them also on zeros; symbolic inputs
substituted; and the tf.keras 2 rules read from its source (causal, strides with dilation)."""

from __future__ import annotations

import os
import random
import warnings

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import shapesmith  # noqa: E402
from shapesmith.dims import subs  # noqa: E402

CASES = 160


def _gen(rng: random.Random) -> tuple[str, tuple]:
    rank = rng.choice((1, 2))
    separable = rng.random() < 0.5
    kernel = tuple(rng.randint(1, 5) for _ in range(rank))
    args = [str(rng.randint(1, 9))] if separable else []
    args.append(str(kernel[0]) if rank == 1 or rng.random() < 0.5 else str(kernel))
    kw = {}
    if rng.random() < 0.6:
        kw["strides"] = rng.randint(1, 3)
    if rng.random() < 0.4:
        kw["dilation_rate"] = rng.randint(1, 3)
    kw["padding"] = repr(rng.choice(("valid", "same", "SAME", "Valid")))
    if rng.random() < 0.5:
        kw["depth_multiplier"] = rng.randint(1, 3)
    if rng.random() < 0.3:
        kw["use_bias"] = False
    channels_first = rng.random() < 0.25
    if channels_first:
        kw["data_format"] = "'channels_first'"
    text = f"layers.{'Separable' if separable else 'Depthwise'}Conv{rank}D(" + ", ".join(
        args + [f"{k}={v}" for k, v in kw.items()]) + ")"
    spatial = tuple(rng.randint(1, 20) for _ in range(rank))
    c = rng.randint(1, 6)
    return text, (None, c, *spatial) if channels_first else (None, *spatial, c)


def _keras(text: str, shape: tuple, eager: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            layer = eval(text, {"layers": keras.layers})  # noqa: S307 - generated above
            out = tuple(layer(keras.Input(batch_shape=shape)).shape)
            params = layer.count_params()
            if eager:
                fresh = eval(text, {"layers": keras.layers})  # noqa: S307
                real = tuple(fresh(keras.ops.zeros((1, *shape[1:]))).shape)
                assert real[1:] == out[1:], (text, shape, real, out)
            return out, params
        except (ValueError, RuntimeError) as exc:
            return "error", str(exc)[:80]


def _ours(text: str, shape: tuple):
    try:
        t = shapesmith.trace(text, input_shape=shape, framework="keras")
        return tuple(t.output_shape), t.params
    except shapesmith.ShapesmithError as exc:
        return "error", str(exc)[:80]


def test_sweep_against_keras3():
    rng = random.Random(20240611)
    problems, errors = [], 0
    for j in range(CASES):
        text, shape = _gen(rng)
        want, got = _keras(text, shape, eager=j % 3 == 0), _ours(text, shape)
        errors += want[0] == "error"
        if (want[0] == "error") != (got[0] == "error") or (want[0] != "error" and want != got):
            problems.append(f"shapesmith.trace({text!r}, input_shape={shape}): {got}; keras {want}")
    assert not problems, "\n".join(problems[:12])
    assert 10 < errors < CASES // 2  # both sides of the "window fits" boundary were exercised


@pytest.mark.parametrize("text", ["layers.DepthwiseConv2D(3, strides=2, padding='same', depth_multiplier=2)",
                                  "layers.SeparableConv2D(8, (3, 5), strides=(1, 2), dilation_rate=1)",
                                  "layers.SeparableConv1D(4, 3, strides=3, padding='valid')",
                                  "layers.DepthwiseConv2D(3, strides=2, dilation_rate=2)"])
def test_symbolic_input_substituted(text):
    rank = 1 if "1D" in text else 2
    t = shapesmith.trace(text, input_shape=(None, *("h", "w")[:rank], 5), framework="keras")
    for values in ((9, 10), (16, 7), (23, 31)):
        env = dict(zip("hw", values))
        shape = (None, *values[:rank], 5)
        assert tuple(subs(d, env) for d in t.output_shape) == _keras(text, shape, eager=True)[0]


def test_parameter_counts():
    """Depthwise k*k*C*m + C*m; separable adds the pointwise C*m*filters + filters: Keras counts them."""
    import keras
    for text in ("DepthwiseConv2D(3, depth_multiplier=2)", "SeparableConv2D(16, 3, depth_multiplier=2)",
                 "SeparableConv2D(16, 3, use_bias=False)"):
        layer = eval(f"keras.layers.{text}", {"keras": keras})  # test oracle: our own layer text, built by Keras
        layer.build((None, 9, 9, 4))
        assert shapesmith.trace(text, input_shape="(None, 9, 9, 4)").params == layer.count_params(), text


def test_keras2_rules():
    # tf.keras 2.15 Conv._validate_init: causal only for Conv1D and SeparableConv1D; strides > 1
    # with dilation_rate > 1 refused for every conv (Keras 3 accepts it for these layers)
    t = shapesmith.trace("SeparableConv1D(4, 3, dilation_rate=2, padding='causal')", input_shape="(None, 10, 2)",
                         framework="keras2")
    assert t.output_shape == (None, 10, 4) and t.params == 3 * 2 + 2 * 4 + 4
    with pytest.raises(shapesmith.ShapesmithError, match="padding"):
        shapesmith.trace("SeparableConv1D(4, 3, padding='causal')", input_shape="(None, 10, 2)", framework="keras")
    with pytest.raises(shapesmith.ShapesmithError, match="padding"):
        shapesmith.trace("DepthwiseConv1D(3, padding='causal')", input_shape="(None, 10, 2)", framework="keras2")
    with pytest.raises(shapesmith.ShapesmithError, match="strides > 1"):
        shapesmith.trace("DepthwiseConv2D(3, strides=2, dilation_rate=2)", input_shape="(None, 10, 10, 2)",
                         framework="keras2")
    t = shapesmith.trace("DepthwiseConv2D(3, strides=2, dilation_rate=2)", input_shape="(2, 10, 10, 2)",
                         framework="keras")
    import keras
    layer = keras.layers.DepthwiseConv2D(3, strides=2, dilation_rate=2)
    assert t.output_shape == tuple(layer(keras.ops.zeros((2, 10, 10, 2))).shape)
    assert shapesmith.trace("DepthwiseConv2D(3, batch_input_shape=(None, 8, 8, 3))").framework == "keras2"


def test_errors():
    for text, match in (("DepthwiseConv2D(3, depth_multiplier=0)", "depth_multiplier"),
                        ("SeparableConv2D(0, 3)", "filters"),
                        ("DepthwiseConv2D((3, 3, 3))", "kernel_size"),
                        ("DepthwiseConv2D(3, strides=0)", "strides")):
        with pytest.raises(shapesmith.ShapesmithError, match=match):
            shapesmith.trace(text, input_shape="(None, 8, 8, 3)")
    with pytest.raises(shapesmith.ShapesmithError, match="channel"):
        shapesmith.trace("DepthwiseConv2D(3)", input_shape="(None, 8, 8, None)")


def test_rescaling():
    t = shapesmith.trace("layers.Rescaling(0.5, offset=-1.0)", input_shape="(None, h, w, 3)")
    assert t.output_shape[1:] == t.input_shape[1:] and t.params == 0
    layer = keras.layers.Rescaling(0.5, offset=-1.0)
    assert tuple(layer(keras.Input((7, 9, 3))).shape) == (None, 7, 9, 3) and layer.count_params() == 0
