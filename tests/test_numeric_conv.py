"""The numpy conv / transposed conv / depthwise forward against the frameworks themselves.

Oracles: torch (F.conv*, ConvTranspose* incl. ``output_size=``), Keras 3 on the torch backend, JAX
for TensorFlow semantics (``tf.nn.conv*`` is ``lax.conv_general_dilated``; a SAME transposed conv
is the gradient of the SAME conv of its output size, which Keras' torch backend only approximates),
and onnxruntime with models built by ``onnx.helper``. Random configurations and weights; float32
within 1e-5, float64 within 1e-10.
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shapesmith import ShapesmithError
from shapesmith.numeric import forward
from shapesmith.numeric.registry import WeightError
from tests.oracles.values import close

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def numpy_state(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def per_axis(draw, strategy, rank: int) -> tuple[int, ...]:
    return tuple(draw(strategy) for _ in range(rank))


# ---- PyTorch ----

@st.composite
def torch_convs(draw):
    rank = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = per_axis(draw, st.integers(1, 4), rank)
    stride = per_axis(draw, st.integers(1, 3), rank)
    dilation = per_axis(draw, st.integers(1, 3), rank)
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    if all(s == 1 for s in stride) and draw(st.booleans()):
        padding = draw(st.sampled_from(["same", "valid"]))
    else:
        padding = per_axis(draw, st.integers(0, 2), rank)
    sizes = tuple(d * (k - 1) + draw(st.integers(3, 7)) for k, d in zip(kernel, dilation))
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=draw(st.booleans()),
                  padding_mode=mode)
    batched = draw(st.booleans()) or rank == 3
    return rank, cin, cout, kernel, kwargs, ((2,) if batched else ()) + (cin, *sizes), draw(st.integers(0, 2**31))


def _torch_text(name: str, args: tuple, kwargs: dict) -> str:
    return f"nn.{name}({', '.join(map(repr, args))}, {', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


@SETTINGS
@given(torch_convs(), st.sampled_from([np.float32, np.float32, np.float64]))
def test_torch_conv(case, dtype):
    rank, cin, cout, kernel, kwargs, shape, seed = case
    torch.manual_seed(seed)
    module = getattr(torch.nn, f"Conv{rank}d")(cin, cout, kernel, **kwargs)
    module = module.double() if dtype == np.float64 else module
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    with torch.no_grad():
        ref = module(torch.from_numpy(x)).numpy()
    close(forward(_torch_text(f"Conv{rank}d", (cin, cout, kernel), kwargs), x, numpy_state(module)), ref)


@st.composite
def torch_transposed(draw):
    rank = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = per_axis(draw, st.integers(1, 4), rank)
    stride = per_axis(draw, st.integers(1, 3), rank)
    dilation = per_axis(draw, st.integers(1, 2), rank)
    padding = tuple(draw(st.integers(0, (d * (k - 1)) // 2)) for k, d in zip(kernel, dilation))
    extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    sizes = per_axis(draw, st.integers(1, 6), rank)
    kwargs = dict(stride=stride, padding=padding, output_padding=extra, groups=groups, dilation=dilation,
                  bias=draw(st.booleans()))
    return rank, cin, cout, kernel, kwargs, (2, cin, *sizes), draw(st.integers(0, 2**31))


@SETTINGS
@given(torch_transposed(), st.sampled_from([np.float32, np.float32, np.float64]))
def test_torch_conv_transpose(case, dtype):
    rank, cin, cout, kernel, kwargs, shape, seed = case
    torch.manual_seed(seed)
    module = getattr(torch.nn, f"ConvTranspose{rank}d")(cin, cout, kernel, **kwargs)
    module = module.double() if dtype == np.float64 else module
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    with torch.no_grad():
        ref = module(torch.from_numpy(x)).numpy()
    close(forward(_torch_text(f"ConvTranspose{rank}d", (cin, cout, kernel), kwargs), x, numpy_state(module)), ref)


@FEW
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 4), st.integers(0, 1), st.integers(0, 2**31))
def test_torch_conv_transpose_output_size(rank, stride, kernel, padding, seed):
    """``forward(x, output_size=...)``: any size in ``[min, min + s - 1]`` (the dialect's output_padding)."""
    rng = np.random.default_rng(seed)
    padding = min(padding, (kernel - 1) // 2)
    torch.manual_seed(seed)
    module = getattr(torch.nn, f"ConvTranspose{rank}d")(3, 2, kernel, stride=stride, padding=padding)
    sizes = tuple(int(v) for v in rng.integers(2, 6, rank))
    smallest = [(i - 1) * stride - 2 * padding + kernel for i in sizes]
    target = tuple(int(o + rng.integers(0, stride)) for o in smallest)
    x = rng.standard_normal((1, 3, *sizes)).astype(np.float32)
    with torch.no_grad():
        ref = module(torch.from_numpy(x), output_size=target).numpy()
    text = f"nn.ConvTranspose{rank}d(3, 2, {kernel}, stride={stride}, padding={padding})(x, output_size={target})"
    close(forward(text, x, numpy_state(module)), ref)


def test_torch_padding_mode_pads_the_channel_dim_too():
    """One more padding value than spatial axes: PyTorch's F.pad pads the channel dim as well."""
    torch.manual_seed(0)
    module = torch.nn.Conv1d(5, 4, 3, padding=(1, 2), padding_mode="reflect")
    x = np.random.default_rng(0).standard_normal((2, 3, 9)).astype(np.float32)
    with torch.no_grad():
        ref = module(torch.from_numpy(x)).numpy()
    close(forward('nn.Conv1d(5, 4, 3, padding=(1, 2), padding_mode="reflect")', x, numpy_state(module)), ref)


@pytest.mark.parametrize("chunk", [100, 700, 5000, 40000])
@pytest.mark.parametrize("text", ["nn.Conv2d(4, 6, 3, padding=1)", "nn.Conv2d(4, 6, (3, 2), stride=(2, 1), groups=2)",
                                  "nn.Conv2d(4, 6, 3, padding=2, padding_mode='reflect')", "nn.Conv1d(4, 6, 3)",
                                  "nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)"])
def test_chunks_of_samples_and_rows(monkeypatch, chunk, text):
    """Blocks of several samples, or one sample in chunks of rows: the same result."""
    from shapesmith.numeric import conv
    monkeypatch.setattr(conv, "CHUNK_BYTES", chunk)
    torch.manual_seed(0)
    module = eval("torch." + text)  # noqa: S307 - the texts above
    x = np.random.default_rng(0).standard_normal((7, 4, 9, 8)[:module.weight.dim()])
    with torch.no_grad():
        ref = module.double()(torch.from_numpy(x)).numpy()
    close(forward(text, x, numpy_state(module)), ref)


@pytest.mark.parametrize("pads", [((-1, 2), (0, -2)), ((-2, -1), (1, 1))])
def test_negative_padding_crops(pads):
    """The kernel takes any (begin, end) pads: a negative one crops the input (torch: crop, then F.pad)."""
    from shapesmith.numeric.conv import convolve, window_axes
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    axes = window_axes(pads, (9, 8), (3, 2), (1, 2), (1, 1))
    cropped = x[:, :, max(-pads[0][0], 0):9 - max(-pads[0][1], 0), max(-pads[1][0], 0):8 - max(-pads[1][1], 0)]
    padded = torch.nn.functional.pad(torch.from_numpy(cropped),
                                     (max(pads[1][0], 0), max(pads[1][1], 0), max(pads[0][0], 0), max(pads[0][1], 0)))
    ref = torch.nn.functional.conv2d(padded, torch.from_numpy(w), torch.from_numpy(b), stride=(1, 2)).numpy()
    close(convolve(x, w, b, axes), ref)


def test_dtypes_are_kept():
    torch.manual_seed(0)
    module = torch.nn.Conv2d(2, 3, 3)
    weights = numpy_state(module)
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    assert forward("nn.Conv2d(2, 3, 3)", x.astype(np.float32), weights).dtype == np.float32
    assert forward("nn.Conv2d(2, 3, 3)", x, weights).dtype == np.float64
    integers = forward("nn.Conv2d(2, 3, 3)", np.arange(50).reshape(1, 2, 5, 5), weights)
    with torch.no_grad():
        ref = module(torch.arange(50.0).reshape(1, 2, 5, 5)).numpy()
    close(integers, ref)


# ---- Keras 3 (torch backend), TensorFlow semantics through JAX ----

def keras_weights(layer) -> dict[str, np.ndarray]:
    import keras
    return {v.path.split("/")[-1]: keras.ops.convert_to_numpy(v.value) for v in layer.weights}


def keras_call(layer, x: np.ndarray) -> tuple[np.ndarray, bool]:
    """The layer's output, and whether Keras warned that its torch backend differs from TensorFlow here."""
    import keras
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = keras.ops.convert_to_numpy(layer(x))
    return y, any("inconsistencies across backends" in str(w.message) for w in caught)


def tf_conv(x: np.ndarray, kernel: np.ndarray, stride, padding, dilation) -> np.ndarray:
    """``tf.nn.convolution`` on channels-last input: JAX's conv_general_dilated with TF's SAME."""
    import jax
    rank = x.ndim - 2
    spatial = "DHW"[3 - rank:]
    numbers = ("N" + spatial + "C", spatial + "IO", "N" + spatial + "C")
    y = jax.lax.conv_general_dilated(x, kernel, stride, padding, rhs_dilation=dilation, dimension_numbers=numbers)
    return np.asarray(y)


def tf_conv_transpose(x: np.ndarray, kernel: np.ndarray, out_sizes, stride, padding, dilation) -> np.ndarray:
    """``tf.nn.conv_transpose`` (kernel ``(*k, C_out, C_in)``): the gradient of the forward conv of the output size."""
    import jax
    rank = x.ndim - 2
    forward_kernel = np.swapaxes(kernel, -1, -2)  # (*k, C_in of the forward conv = C_out here, ...)
    probe = np.zeros((x.shape[0], *out_sizes, kernel.shape[-2]), dtype=x.dtype)
    _, back = jax.vjp(lambda z: jax.numpy.asarray(
        jax.lax.conv_general_dilated(z, forward_kernel, stride, padding, rhs_dilation=dilation,
                                     dimension_numbers=("N" + "DHW"[3 - rank:] + "C", "DHW"[3 - rank:] + "OI",
                                                        "N" + "DHW"[3 - rank:] + "C"))), probe)
    return np.asarray(back(x)[0])


@st.composite
def keras_convs(draw):
    rank = draw(st.integers(1, 3))
    kernel = per_axis(draw, st.integers(1, 4), rank)
    stride = per_axis(draw, st.integers(1, 3), rank)
    dilation = (1,) * rank if any(s > 1 for s in stride) else per_axis(draw, st.integers(1, 2), rank)
    padding = draw(st.sampled_from(["valid", "same"] + (["causal"] if rank == 1 else [])))
    groups = draw(st.sampled_from([1, 1, 2]))
    sizes = tuple(d * (k - 1) + draw(st.integers(1, 6)) for k, d in zip(kernel, dilation))
    return rank, kernel, stride, dilation, padding, groups, sizes, draw(st.booleans()), draw(st.integers(0, 2**31))


@SETTINGS
@given(keras_convs())
def test_keras_conv(case):
    import keras
    rank, kernel, stride, dilation, padding, groups, sizes, bias, seed = case
    keras.utils.set_random_seed(seed % 2**31)
    text = (f"Conv{rank}D({2 * groups}, {kernel}, strides={stride}, padding={padding!r}, dilation_rate={dilation}, "
            f"groups={groups}, use_bias={bias}, bias_initializer='glorot_uniform')")
    layer = getattr(keras.layers, f"Conv{rank}D")(2 * groups, kernel, strides=stride, padding=padding,
                                                  dilation_rate=dilation, groups=groups, use_bias=bias,
                                                  bias_initializer="glorot_uniform")
    x = np.random.default_rng(seed).standard_normal((2, *sizes, 2 * groups)).astype(np.float32)
    ref, _ = keras_call(layer, x)
    close(forward(text, x, keras_weights(layer), framework="keras"), ref)


def test_keras_conv_channels_first():
    import keras
    keras.utils.set_random_seed(1)
    layer = keras.layers.Conv2D(4, (3, 2), strides=2, padding="same", data_format="channels_first")
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 6)).astype(np.float32)
    ref, _ = keras_call(layer, x)
    text = 'Conv2D(4, (3, 2), strides=2, padding="same", data_format="channels_first")'
    close(forward(text, x, keras_weights(layer), framework="keras"), ref)


@st.composite
def keras_transposed(draw):
    rank = draw(st.integers(1, 3))
    kernel = per_axis(draw, st.integers(1, 4), rank)
    stride = per_axis(draw, st.integers(1, 3), rank)
    dilation = (1,) * rank if any(s > 1 for s in stride) else per_axis(draw, st.integers(1, 2), rank)
    padding = draw(st.sampled_from(["valid", "same"]))
    extra = None if draw(st.booleans()) else tuple(draw(st.integers(0, s - 1)) for s in stride)
    sizes = per_axis(draw, st.integers(1, 5), rank)
    return rank, kernel, stride, dilation, padding, extra, sizes, draw(st.integers(0, 2**31))


@SETTINGS
@given(keras_transposed())
def test_keras_conv_transpose(case):
    """Keras' own output where its torch backend agrees with TensorFlow; TensorFlow's (through JAX) always."""
    import keras
    rank, kernel, stride, dilation, padding, extra, sizes, seed = case
    keras.utils.set_random_seed(seed % 2**31)
    layer = getattr(keras.layers, f"Conv{rank}DTranspose")(3, kernel, strides=stride, padding=padding,
                                                           output_padding=extra, dilation_rate=dilation,
                                                           bias_initializer="glorot_uniform")
    x = np.random.default_rng(seed).standard_normal((2, *sizes, 2)).astype(np.float32)
    ref, differs = keras_call(layer, x)
    assume(min(ref.shape) > 0)  # an even kernel, 'same' and output_padding=0 on one cell: an empty output
    weights = keras_weights(layer)
    text = (f"Conv{rank}DTranspose(3, {kernel}, strides={stride}, padding={padding!r}, output_padding={extra}, "
            f"dilation_rate={dilation})")
    y = forward(text, x, weights, framework="keras")
    if not differs:
        close(y, ref)
    effective = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    back = [-(-o // s) if padding == "same" else -(-(o - e + 1) // s)
            for o, s, e in zip(y.shape[1:-1], stride, effective)]
    if back == list(sizes):  # else TensorFlow itself fails: the forward conv of the output is not the input
        tf_padding = "SAME" if padding == "same" else [(0, 0)] * rank
        tf_ref = tf_conv_transpose(x, weights["kernel"], y.shape[1:-1], stride, tf_padding, dilation)
        close(y, tf_ref + weights["bias"])


@FEW
@given(st.integers(1, 2), st.booleans(), st.integers(1, 4), st.integers(1, 2), st.integers(1, 2),
       st.sampled_from(["valid", "same"]), st.integers(0, 2**31))
def test_keras_depthwise_and_separable(rank, separable, kernel, stride, multiplier, padding, seed):
    import keras
    keras.utils.set_random_seed(seed % 2**31)
    name = f"SeparableConv{rank}D" if separable else f"DepthwiseConv{rank}D"
    args = (5, kernel) if separable else (kernel,)
    layer = getattr(keras.layers, name)(*args, strides=stride, padding=padding, depth_multiplier=multiplier,
                                        bias_initializer="glorot_uniform")
    x = np.random.default_rng(seed).standard_normal((2, *(kernel + 3,) * rank, 3)).astype(np.float32)
    ref, _ = keras_call(layer, x)
    text = f"{name}({', '.join(map(str, args))}, strides={stride}, padding={padding!r}, depth_multiplier={multiplier})"
    close(forward(text, x, keras_weights(layer), framework="keras"), ref)


@FEW
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.sampled_from(["SAME", "VALID"]),
       st.integers(0, 2**31))
def test_tf_conv_ops(rank, kernel, stride, padding, seed):
    """``tf.nn.conv{1,2,3}d`` and ``conv2d_transpose``: filters ``(*k, C_in, C_out)`` / ``(*k, C_out, C_in)``."""
    rng = np.random.default_rng(seed)
    sizes = tuple(int(v) for v in rng.integers(kernel, kernel + 5, rank))
    x = rng.standard_normal((2, *sizes, 3)).astype(np.float32)
    filters = rng.standard_normal((*(kernel,) * rank, 3, 4)).astype(np.float32)
    stride_arg = "stride" if rank == 1 else "strides"
    text = f"tf.nn.conv{rank}d(filters={filters.shape}, {stride_arg}={stride}, padding={padding!r})"
    close(forward(text, x, {"filters": filters}, framework="tf"), tf_conv(x, filters, (stride,) * rank, padding,
                                                                         (1,) * rank))
    if rank == 2:
        out = tuple(int((i - 1) * stride + (1 if padding == "SAME" else kernel) + rng.integers(0, stride))
                    for i in sizes)
        back = rng.standard_normal((*(kernel,) * 2, 4, 3)).astype(np.float32)
        text = (f"tf.nn.conv2d_transpose(filters={back.shape}, output_shape=(2, {out[0]}, {out[1]}, 4), "
                f"strides={stride}, padding={padding!r})")
        ref = tf_conv_transpose(x, back, out, (stride,) * 2, padding, (1, 1))
        close(forward(text, x, {"filters": back}, framework="tf"), ref)


# ---- ONNX (onnxruntime) ----

def run_onnx(op_type: str, attrs: dict, x: np.ndarray, inits: dict[str, np.ndarray]) -> np.ndarray:
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper
    node = helper.make_node(op_type, ["X", *inits], ["Y"], **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": x})[0]


def onnx_text(op_type: str, attrs: dict, inits: dict) -> str:
    parts = [f"{k}={list(v) if isinstance(v, (list, tuple)) else v!r}" for k, v in attrs.items()]
    return f"{op_type}({', '.join(parts + [f'{k}={tuple(v.shape)}' for k, v in inits.items()])})"


@st.composite
def onnx_convs(draw):
    rank = draw(st.integers(1, 3))
    transposed = draw(st.booleans())
    group = draw(st.sampled_from([1, 1, 2]))
    cin, cout = group * draw(st.integers(1, 2)), group * draw(st.integers(1, 2))
    kernel = list(per_axis(draw, st.integers(1, 4), rank))
    stride = list(per_axis(draw, st.integers(1, 3), rank))
    pad_form = draw(st.sampled_from(["pads", "SAME_UPPER", "SAME_LOWER", "VALID"]
                                    + (["output_shape"] if transposed else [])))
    # onnxruntime refuses dilations with SAME_*
    dilation = [1] * rank if pad_form.startswith("SAME") else list(per_axis(draw, st.integers(1, 2), rank))
    attrs = dict(kernel_shape=kernel, strides=stride, dilations=dilation, group=group)
    sizes = [draw(st.integers(1, 5)) + (0 if transposed else d * (k - 1)) for k, d in zip(kernel, dilation)]
    if pad_form == "pads":
        limit = [max(0, (d * (k - 1)) // 2) if transposed else 2 for k, d in zip(kernel, dilation)]
        attrs["pads"] = [draw(st.integers(0, lim)) for lim in limit + limit]
    elif pad_form == "output_shape":
        # up to s - 1 past the last tap: a negative total padding, which onnxruntime clamps to 0
        attrs["output_shape"] = [max(1, (i - 1) * s + d * (k - 1) + 1 - draw(st.integers(0, 1))
                                     + draw(st.integers(0, s - 1)))
                                 for i, k, s, d in zip(sizes, kernel, stride, dilation)]
    else:
        attrs["auto_pad"] = pad_form
    if transposed and pad_form != "output_shape" and draw(st.booleans()):
        attrs["output_padding"] = [draw(st.integers(0, s - 1)) for s in stride]
    return transposed, cin, cout, attrs, sizes, draw(st.booleans()), draw(st.integers(0, 2**31))


@SETTINGS
@given(onnx_convs())
def test_onnx_conv(case):
    transposed, cin, cout, attrs, sizes, bias, seed = case
    rng = np.random.default_rng(seed)
    group = attrs["group"]
    w_shape = (cin, cout // group) if transposed else (cout, cin // group)
    inits = {"W": rng.standard_normal((*w_shape, *attrs["kernel_shape"])).astype(np.float32)}
    if bias:
        inits["B"] = rng.standard_normal(cout).astype(np.float32)
    x = rng.standard_normal((2, cin, *sizes)).astype(np.float32)
    op_type = "ConvTranspose" if transposed else "Conv"
    ref = run_onnx(op_type, attrs, x, inits)
    close(forward(onnx_text(op_type, attrs, inits), x, inits, framework="onnx"), ref)


def test_onnx_bias_given_without_b_in_the_text():
    """``B`` is an optional graph input: a text without ``B=`` still takes it from the weights."""
    rng = np.random.default_rng(3)
    inits = {"W": rng.standard_normal((4, 2, 3, 3)).astype(np.float32), "B": rng.standard_normal(4).astype(np.float32)}
    x = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
    ref = run_onnx("Conv", {"kernel_shape": [3, 3]}, x, inits)
    close(forward("Conv(kernel_shape=[3, 3])", x, inits, framework="onnx"), ref)


# ---- errors ----

def test_wrong_weight_shape_names_the_expected_shape():
    x = np.zeros((1, 3, 8, 8), np.float32)
    with pytest.raises(WeightError, match=r"\(8, 3, 3, 3\)"):
        forward("nn.Conv2d(3, 8, 3)", x, {"weight": np.zeros((8, 3, 5, 5)), "bias": np.zeros(8)})
    with pytest.raises(WeightError, match=r"\(3, 3, 3, 8\)"):
        forward("Conv2D(8, 3)", np.zeros((1, 8, 8, 3), np.float32), {"kernel": np.zeros((3, 3, 8, 3)),
                                                                     "bias": np.zeros(8)}, framework="keras")
    with pytest.raises(WeightError, match=r"\(3, 4, 2, 2\)"):
        forward("nn.ConvTranspose2d(3, 4, 2)", x, {"weight": np.zeros((4, 3, 2, 2)), "bias": np.zeros(4)})


def test_missing_and_extra_weights():
    x = np.zeros((1, 3, 8), np.float32)
    with pytest.raises(WeightError, match="'bias'"):
        forward("nn.Conv1d(3, 8, 3)", x, {"weight": np.zeros((8, 3, 3))})
    with pytest.raises(WeightError, match="'scale'"):
        forward("nn.Conv1d(3, 8, 3)", x, {"weight": np.zeros((8, 3, 3)), "bias": np.zeros(8), "scale": np.ones(8)})
    with pytest.raises(WeightError, match="'bias'"):  # bias=False: a bias is one tensor too many
        forward("nn.Conv1d(3, 8, 3, bias=False)", x, {"weight": np.zeros((8, 3, 3)), "bias": np.zeros(8)})
    with pytest.raises(WeightError, match="'depthwise_kernel'"):
        forward("SeparableConv1D(4, 3)", np.zeros((1, 8, 3), np.float32), {"kernel": np.zeros((3, 3, 1))},
                framework="keras")


def test_wrong_channel_count():
    with pytest.raises(ShapesmithError, match="4 channels"):
        forward("nn.Conv2d(3, 8, 3)", np.zeros((1, 4, 8, 8), np.float32),
                {"weight": np.zeros((8, 3, 3, 3)), "bias": np.zeros(8)})


def test_onnx_weight_not_divisible_by_group():
    with pytest.raises(WeightError, match="groups=2"):
        forward("Conv(kernel_shape=[3], group=2)", np.zeros((1, 4, 8), np.float32), {"W": np.zeros((3, 2, 3))},
                framework="onnx")


def test_keras1_convolution_weights_are_refused():
    x = np.zeros((1, 1, 8, 8), np.float32)
    with pytest.raises(ShapesmithError, match="Keras 1"):
        forward("Convolution2D(4, 3, 3, dim_ordering='th')", x, {"W": np.zeros((4, 1, 3, 3)), "b": np.zeros(4)},
                framework="keras1")
