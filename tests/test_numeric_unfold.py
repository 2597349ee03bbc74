"""The unfold / im2col view: its shapes equal the forward's, the input cells it lists for a position
reproduce torch's value there, and its numpy recipe runs and gives torch's output."""

from __future__ import annotations

import itertools
import json
import math
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shapesmith import ShapesmithError
from shapesmith.numeric import forward
from shapesmith.numeric.unfold import unfold_view
from shapesmith.render.unfold import render_unfold

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def per_axis(draw, strategy, rank: int) -> tuple[int, ...]:
    return tuple(draw(strategy) for _ in range(rank))


@st.composite
def torch_layers(draw):
    """A random torch conv or transposed conv, its text, an input and the chosen output position."""
    rank = draw(st.integers(1, 3))
    transposed = draw(st.booleans())
    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = per_axis(draw, st.integers(1, 4), rank)
    stride = per_axis(draw, st.integers(1, 3), rank)
    dilation = per_axis(draw, st.integers(1, 2), rank)
    if transposed:
        padding = tuple(draw(st.integers(0, (d * (k - 1)) // 2)) for k, d in zip(kernel, dilation))
        extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        kwargs = dict(stride=stride, padding=padding, output_padding=extra, groups=groups, dilation=dilation)
        sizes = per_axis(draw, st.integers(1, 5), rank)
    else:
        kwargs = dict(stride=stride, padding=per_axis(draw, st.integers(0, 2), rank), dilation=dilation, groups=groups,
                      padding_mode=draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"])))
        sizes = tuple(d * (k - 1) + draw(st.integers(3, 6)) for k, d in zip(kernel, dilation))
    name = f"{'ConvTranspose' if transposed else 'Conv'}{rank}d"
    torch.manual_seed(draw(st.integers(0, 2**31)))
    module = getattr(torch.nn, name)(cin, cout, kernel, **kwargs)
    text = f"nn.{name}({cin}, {cout}, {kernel}, {', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    x = np.random.default_rng(draw(st.integers(0, 2**31))).standard_normal((2, cin, *sizes))
    return module.double(), text, x, draw(st.floats(0, 1))


def _value_from_taps(u, x: np.ndarray, w: np.ndarray, b: np.ndarray, n: int, o: int) -> float:
    """Output channel ``o`` of sample ``n`` at ``u.position``, summed over exactly the cells the view lists."""
    group = o // (u.out_channels // u.groups)
    per_in = u.in_channels // u.groups
    total = float(b[o])
    for combo in itertools.product(*(v.taps for v in u.axes)):
        for c in range(group * per_in, (group + 1) * per_in):
            if u.transposed:
                weight = w[(c, o - group * (u.out_channels // u.groups), *(t.tap for t in combo))]
                total += weight * x[(n, c, *(t.index for t in combo))]
            else:
                if any(t.where != "input" and t.source is None for t in combo):
                    continue  # a zero padding cell
                cell = tuple(t.index if t.source is None else t.source for t in combo)
                total += w[(o, c - group * per_in, *(t.tap for t in combo))] * x[(n, c, *cell)]
    return total


@SETTINGS
@given(torch_layers())
def test_listed_cells_reproduce_torch_at_the_position(case):
    module, text, x, where = case
    with torch.no_grad():
        ref = module(torch.from_numpy(x)).numpy()
    first = unfold_view(text, x.shape)
    position = tuple(int(where * (v.out - 1)) for v in first.axes)
    u = unfold_view(text, x.shape, position=position)
    assert u.output_shape == ref.shape == forward(text, x, {k: v.numpy() for k, v in module.state_dict().items()}).shape
    w, b = module.weight.detach().numpy(), module.bias.detach().numpy()
    for o in range(u.out_channels):
        value = _value_from_taps(u, x, w, b, 1, o)
        assert value == pytest.approx(ref[(1, o, *position)], rel=1e-10, abs=1e-10)


@SETTINGS
@given(torch_layers())
def test_recipe_reproduces_torch(case):
    module, text, x, _ = case
    with torch.no_grad():
        ref = module(torch.from_numpy(x)).numpy()
    u = unfold_view(text, x.shape)
    space = {"x": x, "weights": {k: v.numpy() for k, v in module.state_dict().items()}}
    exec(u.recipe, space)
    np.testing.assert_allclose(space["y"], ref, rtol=1e-10, atol=1e-10)
    columns = math.prod(x.shape[2:]) if u.transposed else math.prod(ref.shape[2:])  # one per position
    assert u.x_matrix[1] == u.product[1] == columns


def test_seed_conv1d_shapes():
    """How would I apply a nn.Conv1d manually? (1, 16, 8820) unfolds to 48 x 8820 per sample."""
    u = unfold_view("nn.Conv1d(16, 16, 3, padding=1)", "(1, 16, 8820)")
    assert u.x_matrix == (48, 8820)
    assert u.w_matrix == (16, 48)
    assert u.product == (16, 8820)
    assert u.output_shape == (1, 16, 8820)
    assert [(t.tap, t.index, t.where) for t in u.axes[0].taps] == [(0, -1, "padding before"), (1, 0, "input"),
                                                                   (2, 1, "input")]
    text = render_unfold(u)
    assert "48 x 8820" in text and "16 x 48" in text and "padding before" in text
    dilated = unfold_view("nn.Conv1d(16, 16, 3, dilation=2, padding=2)", "(1, 16, 8820)", position=5)
    assert [t.index for t in dilated.axes[0].taps] == [3, 5, 7]
    json.dumps(u.to_dict())


@pytest.mark.parametrize("text, shape", [
    ('Conv1D(8, 3, padding="causal", dilation_rate=2, bias_initializer="glorot_uniform")', (2, 9, 3)),
    ('Conv2D(4, 3, strides=2, padding="same", bias_initializer="glorot_uniform")', (2, 7, 6, 3)),
    ('Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1, bias_initializer="glorot_uniform")',
     (2, 4, 5, 3)),
    ('DepthwiseConv2D(3, depth_multiplier=2, padding="same", bias_initializer="glorot_uniform")', (2, 5, 5, 3)),
    ('SeparableConv1D(5, 3, depth_multiplier=2, bias_initializer="glorot_uniform")', (2, 7, 3)),
])
def test_keras_recipe_and_shapes(text, shape):
    import keras
    keras.utils.set_random_seed(0)
    layer = eval("keras.layers." + text)  # the Keras constructor the text spells
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float64)
    ref = keras.ops.convert_to_numpy(layer(x.astype(np.float32)))
    weights = {v.path.split("/")[-1]: keras.ops.convert_to_numpy(v.value).astype(np.float64) for v in layer.weights}
    u = unfold_view(text, shape, framework="keras")
    assert u.output_shape == ref.shape == forward(text, x, weights, framework="keras").shape
    space = {"x": x, "weights": weights}
    exec(u.recipe, space)
    np.testing.assert_allclose(space["y"], ref, rtol=1e-5, atol=1e-5)
    assert render_unfold(u)


def test_onnx_and_tf_recipes():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((6, 2, 3, 3))
    b = rng.standard_normal(6)
    x = rng.standard_normal((1, 4, 7, 7))
    text = "Conv(kernel_shape=[3, 3], strides=[2, 2], auto_pad='SAME_LOWER', group=2, W=(6, 2, 3, 3), B=(6,))"
    space = {"x": x, "weights": {"W": w, "B": b}}
    exec(unfold_view(text, x.shape, framework="onnx").recipe, space)
    np.testing.assert_allclose(space["y"], forward(text, x, {"W": w, "B": b}, framework="onnx"), rtol=1e-10)
    filters = rng.standard_normal((3, 3, 2, 4))
    xt = rng.standard_normal((1, 5, 5, 4))
    text = "tf.nn.conv2d_transpose(filters=(3, 3, 2, 4), output_shape=(1, 10, 10, 2), strides=2, padding='SAME')"
    space = {"x": xt, "weights": {"filters": filters}}
    exec(unfold_view(text, xt.shape, framework="tf").recipe, space)
    np.testing.assert_allclose(space["y"], forward(text, xt, {"filters": filters}, framework="tf"), rtol=1e-10)


def test_errors():
    with pytest.raises(ShapesmithError, match="outside the output"):
        unfold_view("nn.Conv1d(2, 2, 3)", "(1, 2, 10)", position=8)
    with pytest.raises(ShapesmithError, match="not a convolution"):
        unfold_view("nn.MaxPool2d(2)", "(1, 2, 10, 10)")
    with pytest.raises(ShapesmithError, match="concrete"):
        unfold_view("nn.Conv1d(2, 2, 3)", "(1, 2, h)")
    with pytest.raises(ShapesmithError, match="2 output indices"):
        unfold_view("nn.Conv2d(2, 2, 3)", "(1, 2, 8, 8)", position=3)
    with pytest.raises(ShapesmithError, match="Keras 1"):
        unfold_view("Convolution2D(4, 3, 3, dim_ordering='th')", "(1, 1, 8, 8)", framework="keras1")
