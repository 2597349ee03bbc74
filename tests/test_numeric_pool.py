"""The numpy pooling forward against torch, Keras 3 (torch backend), JAX (TensorFlow's SAME average)
and onnxruntime, with random configurations; float32 within 1e-5, float64 within 1e-10."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shapesmith import ShapesmithError
from shapesmith.numeric import forward
from tests.oracles.values import close

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def per_axis(draw, strategy, rank: int) -> tuple[int, ...]:
    return tuple(draw(strategy) for _ in range(rank))


# ---- PyTorch ----

@st.composite
def torch_pools(draw):
    rank = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["Max", "Avg"]))
    kernel = per_axis(draw, st.integers(1, 4), rank)
    stride = per_axis(draw, st.integers(1, 3), rank)
    dilation = per_axis(draw, st.integers(1, 2), rank) if kind == "Max" else (1,) * rank
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    kwargs = dict(stride=stride, padding=padding, ceil_mode=draw(st.booleans()))
    if kind == "Max":
        kwargs["dilation"] = dilation
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
        if rank > 1:
            kwargs["divisor_override"] = draw(st.sampled_from([None, None, 3]))
    sizes = tuple(d * (k - 1) + draw(st.integers(1, 7)) for k, d in zip(kernel, dilation))
    batched = draw(st.booleans()) or rank == 3
    return f"{kind}Pool{rank}d", kernel, kwargs, ((2,) if batched else ()) + (3, *sizes), draw(st.integers(0, 2**31))


@SETTINGS
@given(torch_pools(), st.sampled_from([np.float32, np.float32, np.float64]))
def test_torch_pool(case, dtype):
    name, kernel, kwargs, shape, seed = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    ref = getattr(torch.nn, name)(kernel, **kwargs)(torch.from_numpy(x)).numpy()
    text = f"nn.{name}({kernel}, {', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    close(forward(text, x), ref)


def test_padding_never_wins_a_max():
    x = -np.abs(np.random.default_rng(0).standard_normal((1, 2, 5, 5))).astype(np.float32) - 1
    y = forward("nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)", x)
    assert (y < 0).all()
    close(y, torch.nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)(torch.from_numpy(x)).numpy())


@SETTINGS
@given(st.integers(1, 3), st.sampled_from(["Max", "Avg"]), st.booleans(), st.booleans(), st.integers(0, 2**31))
def test_torch_adaptive_pool(rank, kind, indices, batched, seed):
    rng = np.random.default_rng(seed)
    sizes = tuple(int(v) for v in rng.integers(1, 12, rank))
    out = tuple(int(v) if rng.random() < 0.8 or rank == 1 else None for v in rng.integers(1, 8, rank))
    indices = indices and kind == "Max"
    x = rng.standard_normal(((2,) if batched else ()) + (3, *sizes)).astype(np.float32)
    module = getattr(torch.nn, f"Adaptive{kind}Pool{rank}d")(out, **({"return_indices": True} if indices else {}))
    ref = module(torch.from_numpy(x))
    text = f"nn.Adaptive{kind}Pool{rank}d({out}" + (", return_indices=True)" if indices else ")")
    y = forward(text, x)
    if indices:
        close(y[0], ref[0].numpy())
        np.testing.assert_array_equal(y[1], ref[1].numpy())
        assert y[1].dtype == np.int64
    else:
        close(y, ref.numpy())


def test_max_pool_return_indices_is_refused():
    with pytest.raises(ShapesmithError, match="return_indices"):
        forward("nn.MaxPool2d(2, return_indices=True)", np.zeros((1, 1, 4, 4), np.float32))


def test_integer_max_pool_keeps_integers():
    x = np.arange(32).reshape(1, 2, 4, 4)
    y = forward("nn.MaxPool2d(3, stride=2, padding=1)", x)
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y, torch.nn.MaxPool2d(3, stride=2, padding=1)(torch.from_numpy(x)).numpy())


# ---- Keras 3 (torch backend); TensorFlow's SAME average through JAX ----

def tf_same_average(x: np.ndarray, size: tuple, stride: tuple) -> np.ndarray:
    """TensorFlow's SAME average pool: the sum over the real cells of each window over their count."""
    import jax
    window, strides = (1, *size, 1), (1, *stride, 1)
    total = jax.lax.reduce_window(x, 0.0, jax.lax.add, window, strides, "SAME")
    count = jax.lax.reduce_window(np.ones_like(x), 0.0, jax.lax.add, window, strides, "SAME")
    return np.asarray(total / count)


def _even_split(i: int, k: int, s: int) -> bool:
    """TF SAME splits the padding evenly (Keras' torch backend pads an uneven split by replicating edge cells,
    which changes an average)."""
    return max((-(-i // s) - 1) * s + k - i, 0) % 2 == 0


@SETTINGS
@given(st.integers(1, 3), st.sampled_from(["Max", "Average"]), st.sampled_from(["valid", "same"]),
       st.integers(0, 2**31))
def test_keras_pool(rank, kind, padding, seed):
    import keras
    rng = np.random.default_rng(seed)
    size = tuple(int(v) for v in rng.integers(1, 4, rank))
    stride = tuple(int(v) for v in rng.integers(1, 4, rank))
    sizes = tuple(int(k + v) for k, v in zip(size, rng.integers(0, 6, rank)))
    x = rng.standard_normal((2, *sizes, 3)).astype(np.float32)
    text = f"{kind}Pooling{rank}D({size}, strides={stride}, padding={padding!r})"
    y = forward(text, x, framework="keras")
    layer = getattr(keras.layers, f"{kind}Pooling{rank}D")(size, strides=stride, padding=padding)
    if kind == "Max" or padding == "valid" or all(_even_split(i, k, s) for i, k, s in zip(sizes, size, stride)):
        close(y, keras.ops.convert_to_numpy(layer(x)))
    if kind == "Average" and padding == "same":
        close(y, tf_same_average(x, size, stride))


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("kind", ["Max", "Average"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_keras_global_pool(rank, kind, keepdims):
    import keras
    x = np.random.default_rng(rank).standard_normal((2, *(4, 5, 3)[:rank], 3)).astype(np.float32)
    layer = getattr(keras.layers, f"Global{kind}Pooling{rank}D")(keepdims=keepdims)
    y = forward(f"Global{kind}Pooling{rank}D(keepdims={keepdims})", x, framework="keras")
    close(y, keras.ops.convert_to_numpy(layer(x)))


def test_keras1_pools():
    """Valid pooling is the same in both Keras 1 backends; border_mode='same' is not, and is refused."""
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 7)).astype(np.float32)
    y = forward("MaxPooling2D((2, 2), dim_ordering='th')", x, framework="keras1")
    close(y, torch.nn.MaxPool2d(2)(torch.from_numpy(x)).numpy())
    y = forward("AveragePooling2D((3, 3), strides=(2, 2), dim_ordering='th')", x, framework="keras1")
    close(y, torch.nn.AvgPool2d(3, 2)(torch.from_numpy(x)).numpy())
    with pytest.raises(ShapesmithError, match="Keras 1"):
        forward("MaxPooling2D((2, 2), border_mode='same', dim_ordering='th')", x, framework="keras1")


# ---- ONNX (onnxruntime) ----

def run_onnx(op_type: str, attrs: dict, x: np.ndarray) -> np.ndarray:
    import onnxruntime
    from onnx import TensorProto, helper
    node = helper.make_node(op_type, ["X"], ["Y"], **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": x})[0]


@st.composite
def onnx_pools(draw):
    rank = draw(st.integers(1, 3))
    op_type = draw(st.sampled_from(["MaxPool", "AveragePool"]))
    kernel = list(per_axis(draw, st.integers(1, 4), rank))
    attrs = dict(kernel_shape=kernel, strides=list(per_axis(draw, st.integers(1, 3), rank)),
                 ceil_mode=draw(st.integers(0, 1)))
    pad_form = draw(st.sampled_from(["pads", "SAME_UPPER", "SAME_LOWER", "VALID", "none"]))
    dilation = [1] * rank
    if not pad_form.startswith("SAME") and draw(st.booleans()):  # onnxruntime ignores dilations in SAME pads
        dilation = list(per_axis(draw, st.integers(1, 2), rank))
        attrs["dilations"] = dilation
    if pad_form == "pads":
        attrs["pads"] = [draw(st.integers(0, k - 1)) for k in kernel + kernel]
    elif pad_form != "none":
        attrs["auto_pad"] = pad_form
    if op_type == "AveragePool":
        attrs["count_include_pad"] = draw(st.integers(0, 1))
    sizes = [d * (k - 1) + draw(st.integers(1, 6)) for k, d in zip(kernel, dilation)]
    return op_type, attrs, sizes, draw(st.integers(0, 2**31))


@SETTINGS
@given(onnx_pools())
def test_onnx_pool(case):
    op_type, attrs, sizes, seed = case
    if attrs.get("auto_pad", "").startswith("SAME"):  # onnxruntime fails on a negative SAME total (TF clamps it)
        assume(all((-(-i // s) - 1) * s + k >= i for i, k, s in zip(sizes, attrs["kernel_shape"], attrs["strides"])))
    x = np.random.default_rng(seed).standard_normal((2, 3, *sizes)).astype(np.float32)
    parts = [f"{k}={list(v) if isinstance(v, list) else v!r}" for k, v in attrs.items()]
    close(forward(f"{op_type}({', '.join(parts)})", x, framework="onnx"), run_onnx(op_type, attrs, x))


@pytest.mark.parametrize("op_type", ["GlobalMaxPool", "GlobalAveragePool"])
def test_onnx_global_pool(op_type):
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5)).astype(np.float32)
    close(forward(f"{op_type}()", x, framework="onnx"), run_onnx(op_type, {}, x))
