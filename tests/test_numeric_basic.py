"""The numpy forward of dense, shape, embedding, activation, normalization, padding, resizing and merge layers,
against the frameworks themselves: torch, Keras 3 on the torch backend, onnxruntime (models built in memory).

Every case is a random configuration with random weights (seeded); float32 agrees within 1e-5 relative (of the
largest output), float64 within 1e-10.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keras
import onnxruntime as ort
import torch
from onnx import helper, numpy_helper

from shapesmith import ShapesmithError
from shapesmith.dialects import build_layer
from shapesmith.dialects.keras_layers import ACTIVATIONS
from shapesmith.numeric import forward
from shapesmith.numeric.basic import activate

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
TOL = {np.float32: 1e-5, np.float64: 1e-10}
F32, F64 = np.float32, np.float64
ort.set_default_logger_severity(3)


def close(got, ref, dtype=F32) -> None:
    ref = np.asarray(ref)
    got = np.asarray(got)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    scale = float(np.max(np.abs(ref))) if ref.size else 1.0
    rtol = TOL[dtype]
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * max(scale, 1e-30))


def rng(seed) -> np.random.Generator:
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- torch
def torch_eval(text: str) -> torch.nn.Module:
    return eval(text, {"nn": torch.nn}).eval()  # noqa: S307 (test oracle: our own texts)


def torch_check(text: str, x: np.ndarray, randomize=True, seed=0) -> None:
    module = torch_eval(text).to(torch.float64 if x.dtype == F64 else torch.float32)
    if randomize:
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, t in module.state_dict().items():
                if t.dtype.is_floating_point:
                    t.copy_(torch.rand(t.shape, generator=g, dtype=t.dtype) * 2 - 1)
                    if "running_var" in name:
                        t.abs_().add_(0.1)
    state = {k: v.numpy() for k, v in module.state_dict().items()}
    with torch.no_grad():
        ref = module(torch.from_numpy(x)).numpy()
    close(forward(text, x, state, framework="torch"), ref, x.dtype.type)


@pytest.mark.parametrize("dtype", [F32, F64])
@settings(max_examples=25, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.booleans(), st.sampled_from([(), (3,), (2, 4)]), st.integers(0, 99))
def test_torch_linear(dtype, n_in, n_out, bias, lead, seed):
    x = rng(seed).standard_normal((*lead, n_in)).astype(dtype)
    torch_check(f"nn.Linear({n_in}, {n_out}, bias={bias})", x, seed=seed)


TORCH_ACTIVATIONS = [
    "nn.ReLU()", "nn.ReLU6()", "nn.LeakyReLU(0.07)", "nn.GELU()", "nn.GELU(approximate='tanh')", "nn.Sigmoid()",
    "nn.Tanh()", "nn.ELU(alpha=0.7)", "nn.CELU(alpha=1.3)", "nn.SELU()", "nn.SiLU()", "nn.Mish()", "nn.Hardswish()",
    "nn.Hardsigmoid()", "nn.Hardtanh(-0.5, 2.0)", "nn.Hardtanh(min_val=-2.0)", "nn.Softplus(beta=2.0, threshold=3.0)",
    "nn.Softplus()", "nn.Softsign()", "nn.Tanhshrink()", "nn.LogSigmoid()", "nn.Hardshrink(0.3)",
    "nn.Softshrink(0.7)", "nn.Threshold(0.1, -3.0)", "nn.RReLU(0.1, 0.3)", "nn.Softmax(dim=1)",
    "nn.Softmax(dim=-1)", "nn.Softmax()", "nn.LogSoftmax(dim=2)", "nn.Softmin(dim=0)", "nn.Softmax2d()",
    "nn.Identity(3, k=2)", "nn.Dropout(0.4)", "nn.Dropout2d()", "nn.AlphaDropout(0.2)", "nn.PReLU()",
    "nn.PReLU(3)",
]


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("text", TORCH_ACTIVATIONS)
def test_torch_activations(text, dtype):
    x = (rng(len(text)).standard_normal((2, 3, 4, 5)) * 3).astype(dtype)
    x.flat[:6] = [0, 0.5, -0.5, 3, -3, 25]  # the kinks and thresholds
    torch_check(text, x)


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("text,shape", [
    ("nn.BatchNorm1d(3)", (4, 3)), ("nn.BatchNorm1d(3, eps=0.1)", (2, 3, 5)),
    ("nn.BatchNorm2d(3, affine=False)", (2, 3, 4, 4)), ("nn.BatchNorm3d(2, momentum=0.3)", (2, 2, 3, 2, 4)),
    ("nn.BatchNorm2d(3, track_running_stats=False)", (2, 3, 2, 2)),
    ("nn.LayerNorm(5)", (2, 3, 5)), ("nn.LayerNorm((3, 5), eps=1e-3)", (2, 3, 5)),
    ("nn.LayerNorm(5, elementwise_affine=False)", (4, 5)), ("nn.LayerNorm(5, bias=False)", (3, 5)),
    ("nn.GroupNorm(2, 4)", (2, 4, 3)), ("nn.GroupNorm(1, 6, eps=0.01)", (2, 6, 2, 3)),
    ("nn.GroupNorm(3, 3, affine=False)", (2, 3, 4, 2, 2)),
])
def test_torch_normalization(text, shape, dtype):
    x = (rng(len(text)).standard_normal(shape) * 2 + 0.5).astype(dtype)
    torch_check(text, x)


@pytest.mark.parametrize("text", ["nn.Embedding(7, 3)", "nn.Embedding(7, 4, padding_idx=0)",
                                  "nn.Embedding(6, 5, max_norm=0.8)",
                                  "nn.Embedding(6, 5, max_norm=1.0, norm_type=1.0)"])
def test_torch_embedding(text):
    x = rng(1).integers(0, 6, (3, 4))
    module = torch_eval(text)
    state = {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}
    with torch.no_grad():
        ref = module(torch.from_numpy(x)).numpy()
    close(forward(text, x, state), ref)


@pytest.mark.parametrize("text,shape", [
    ("nn.Flatten()", (2, 3, 4)), ("nn.Flatten(0, -1)", (2, 3)), ("nn.Flatten(-3, -2)", (2, 3, 4, 5)),
    ("nn.Unflatten(1, (2, 6))", (3, 12, 2)), ("nn.Unflatten(-1, (2, -1))", (3, 4)),
])
def test_torch_shape_layers(text, shape):
    x = rng(0).standard_normal(shape).astype(F32)
    torch_check(text, x, randomize=False)


UPSAMPLES = [
    ("nn.Upsample(scale_factor=2)", (1, 2, 5)), ("nn.Upsample(size=7)", (1, 2, 5)),
    ("nn.Upsample(scale_factor=1.7, mode='nearest')", (2, 1, 5, 6)),
    ("nn.Upsample(scale_factor=0.6, mode='nearest')", (2, 1, 9, 7)),
    ("nn.Upsample(size=(4, 11), mode='nearest-exact')", (1, 2, 5, 6)),
    ("nn.Upsample(scale_factor=2.3, mode='nearest-exact')", (1, 2, 5, 3)),
    ("nn.Upsample(scale_factor=2, mode='bilinear')", (1, 2, 4, 5)),
    ("nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)", (1, 2, 4, 5)),
    ("nn.Upsample(size=(3, 9), mode='bilinear', align_corners=False)", (2, 2, 4, 5)),
    ("nn.Upsample(size=(1, 9), mode='bilinear', align_corners=True)", (2, 2, 4, 5)),
    ("nn.Upsample(scale_factor=1.45, mode='bilinear')", (1, 1, 6, 7)),
    ("nn.Upsample(scale_factor=1.45, mode='bilinear', recompute_scale_factor=True)", (1, 1, 6, 7)),
    ("nn.Upsample(scale_factor=(0.5, 3), mode='bilinear')", (1, 3, 7, 3)),
    ("nn.Upsample(scale_factor=3, mode='linear', align_corners=True)", (2, 3, 4)),
    ("nn.Upsample(size=6, mode='linear')", (2, 3, 4)),
    ("nn.Upsample(scale_factor=2, mode='trilinear')", (1, 2, 3, 2, 4)),
    ("nn.Upsample(size=(5, 3, 7), mode='trilinear', align_corners=True)", (1, 2, 3, 2, 4)),
    ("nn.Upsample(scale_factor=2, mode='bicubic')", (1, 2, 4, 5)),
    ("nn.Upsample(size=(7, 3), mode='bicubic', align_corners=True)", (1, 2, 4, 5)),
    ("nn.Upsample(scale_factor=1.3, mode='bicubic')", (1, 1, 6, 5)),
    ("nn.Upsample(size=(3, 5), mode='area')", (1, 2, 7, 9)), ("nn.Upsample(size=7, mode='area')", (1, 2, 4)),
    ("nn.UpsamplingNearest2d(scale_factor=3)", (1, 2, 3, 4)), ("nn.UpsamplingBilinear2d(size=(5, 8))", (1, 2, 3, 4)),
]


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("text,shape", UPSAMPLES)
def test_torch_upsample(text, shape, dtype):
    torch_check(text, rng(len(text)).standard_normal(shape).astype(dtype), randomize=False)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9), st.sampled_from(["nearest", "nearest-exact", "linear",
                                                                                 "bicubic", "area"]),
       st.booleans(), st.floats(0.3, 3.5), st.booleans(), st.sampled_from([F32, F64]))
def test_torch_upsample_random(rank, h, w, mode, align, scale, by_size, dtype):
    if mode == "bicubic":
        rank = 2
    if mode == "linear":
        mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[rank]
    extra = f", align_corners={align}" if mode in ("linear", "bilinear", "trilinear", "bicubic") else ""
    shape = (1, 2, *((h, w, 3)[:rank] if rank < 3 else (h, 2, w)))
    if by_size:
        size = tuple(max(1, round(d * scale * (0.8 if j else 1))) for j, d in enumerate(shape[2:]))
        text = f"nn.Upsample(size={size}, mode='{mode}'{extra})"
    else:
        if min(int(d * scale) for d in shape[2:]) < 1 or mode == "area":
            return
        text = f"nn.Upsample(scale_factor={scale!r}, mode='{mode}'{extra})"
    torch_check(text, rng(h * w).standard_normal(shape).astype(dtype), randomize=False)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_torch_nearest_indices(rank, mode):
    """Every source index torch picks, on a grid of sizes and scale factors (nearest is not continuous:
    each rounding must be torch's own)."""
    wrong = []
    for dtype in (F32, F64):
        for n_in in range(1, 15):
            x = np.arange(n_in, dtype=dtype).reshape((1, 1) + (1,) * (rank - 1) + (n_in,))
            ones = (1,) * (rank - 1)
            cases = [dict(size=n if rank == 1 else (*ones, n)) for n in range(1, 41)]
            cases += [dict(scale_factor=s if rank == 1 else (*map(float, ones), s))
                      for s in (0.3, 0.55, 0.7, 0.9, 1.1, 1.25, 1.5, 1.7, 1.9, 2.0, 2.3, 2.5, 2.75, 3.0, 3.3)
                      if int(n_in * s) >= 1]
            for kw in cases:
                ref = torch.nn.functional.interpolate(torch.from_numpy(x), mode=mode, **kw).numpy()
                key, value = next(iter(kw.items()))
                got = forward(f"nn.Upsample({key}={value}, mode='{mode}')", x)
                if got.shape != ref.shape or (got != ref).any():
                    wrong.append((dtype.__name__, n_in, kw))
    assert not wrong, wrong[:10]


PADS = [
    "nn.ZeroPad2d((1, 2, 0, 3))", "nn.ZeroPad1d(2)", "nn.ConstantPad1d((2, -1), 3.5)", "nn.ConstantPad2d(-1, 1.0)",
    "nn.ConstantPad3d((1, 0, -1, 2, 0, 1), -2.0)", "nn.ReflectionPad1d((3, 1))", "nn.ReflectionPad2d((1, 2, 2, 0))",
    "nn.ReflectionPad1d((-3, 3))", "nn.ReflectionPad2d((2, -1, -2, 3))", "nn.ReflectionPad3d(1)",
    "nn.ReplicationPad1d((4, 0))", "nn.ReplicationPad2d((3, -1, 2, 2))", "nn.ReplicationPad3d((1, 2, 0, 1, 2, 0))",
    "nn.CircularPad1d((2, 3))", "nn.CircularPad1d((-1, 2))", "nn.CircularPad2d((2, -1, 1, 4))",
    "nn.CircularPad3d((1, 1, 0, 2, 1, 0))",
]


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("text", PADS)
def test_torch_pad(text, dtype):
    rank = int(text.split("Pad")[1][0])
    shape = (2, 3, 5, 4, 6)[-rank - 2:]
    torch_check(text, rng(len(text)).standard_normal(shape).astype(dtype), randomize=False)


# ----------------------------------------------------------------------------- keras
def keras_layer(text: str):
    return eval(text, vars(keras.layers))  # noqa: S307 (test oracle: our own texts)


def keras_check(text: str, x, seed=0, positive=("moving_variance",)):
    """Build the Keras layer from ``text``, give it random weights, compare (float32)."""
    inputs = x if isinstance(x, list) else [x]
    layer = keras_layer(text)
    layer(*([inputs] if isinstance(x, list) else inputs))  # builds
    g = rng(seed)
    values = []
    for v in layer.weights:
        value = g.uniform(-1, 1, tuple(v.shape)).astype(F32)
        if v.name in positive:
            value = np.abs(value) + 0.1
        values.append(value)
    layer.set_weights(values)
    weights = {v.name: np.asarray(keras.ops.convert_to_numpy(v.value)) for v in layer.weights}
    ref = keras.ops.convert_to_numpy(layer(*([inputs] if isinstance(x, list) else inputs)))
    close(forward(text, x, weights, framework="keras"), ref)


# Keras on the torch backend computes float64 layers in float32 (``result_type`` maps 64-bit types to 32-bit,
# as JAX does), so the Keras layers are checked in float32; the activations themselves also in float64.
KERAS_NAMES = [a for a in ACTIVATIONS["keras"] if a != "threshold"]


@pytest.mark.parametrize("name", [a for a in KERAS_NAMES if a != "glu"])
def test_keras_dense_activations(name):
    x = (rng(len(name)).standard_normal((3, 2, 5)) * 2).astype(F32)
    keras_check(f"Dense(6, activation={name!r})", x)


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("name", KERAS_NAMES)
def test_keras_activations(name, dtype):
    x = (rng(len(name)).standard_normal((2, 4, 6)) * 4).astype(dtype)
    x.flat[:8] = [0, 0.5, -0.5, 1, -1, 3, -3, 30]
    ref = keras.ops.convert_to_numpy(getattr(keras.activations, name)(torch.from_numpy(x)))
    if ref.dtype != dtype:
        pytest.skip(f"keras.activations.{name} computes {dtype.__name__} in {ref.dtype}")
    close(activate(name, x), ref, dtype)
    if name != "glu":  # glu halves the last axis: the shape engine keeps it (see the report)
        close(forward(f"Activation({name!r})", x, framework="keras"), ref, dtype)


def test_activation_refs_and_refusals():
    x = rng(0).standard_normal((2, 5)).astype(F32)
    close(activate(build_layer("Dense(3, activation=tf.nn.relu)").config["activation"], x), np.maximum(x, 0))
    close(activate(build_layer("Dense(3, activation=keras.activations.gelu)").config["activation"], x),
          keras.ops.convert_to_numpy(keras.activations.gelu(x)))
    close(activate("hard_sigmoid", x, framework="keras2"), np.clip(0.2 * x + 0.5, 0, 1))
    assert activate(None, x) is x
    for bad in ("threshold", "no_such", build_layer("Dense(3, activation=LeakyReLU(0.1))").config["activation"]):
        with pytest.raises(ShapesmithError):
            activate(bad, x)


@pytest.mark.parametrize("text", ["Dense(4)", "Dense(3, use_bias=False)", "Dense(7, activation='tanh')"])
def test_keras_dense(text):
    keras_check(text, rng(2).standard_normal((4, 5)).astype(F32))


@pytest.mark.parametrize("text,shape", [
    ("BatchNormalization()", (4, 3)), ("BatchNormalization(axis=1, epsilon=0.01)", (2, 3, 4, 5)),
    ("BatchNormalization(center=False)", (2, 5, 3)), ("BatchNormalization(renorm=True)", (4, 3)),
    ("BatchNormalization(scale=False, axis=-2)", (2, 4, 3)),
    ("LayerNormalization()", (3, 6)), ("LayerNormalization(axis=(1, 2), epsilon=1e-5)", (2, 3, 4)),
    ("LayerNormalization(axis=(-2, -1), center=False)", (2, 3, 4, 5)), ("LayerNormalization(scale=False)", (2, 7)),
    ("LayerNormalization(rms_scaling=True)", (2, 3, 5)),
    ("GroupNormalization(groups=2)", (2, 5, 4)), ("GroupNormalization(groups=3, axis=1)", (2, 6, 3, 2)),
    ("GroupNormalization(groups=-1, center=False)", (2, 3, 4)), ("GroupNormalization(groups=1, scale=False)", (3, 4)),
])
def test_keras_normalization(text, shape):
    keras_check(text, (rng(len(text)).standard_normal(shape) * 2 + 1).astype(F32))


@pytest.mark.parametrize("text,shape", [
    ("UpSampling1D(3)", (2, 4, 3)), ("UpSampling2D((2, 3))", (2, 3, 4, 2)),
    ("UpSampling2D(2, data_format='channels_first')", (1, 2, 3, 4)),
    ("UpSampling2D((3, 2), interpolation='bilinear')", (2, 3, 4, 2)),
    ("UpSampling2D(2, data_format='channels_first', interpolation='bilinear')", (1, 2, 3, 4)),
    ("UpSampling3D((1, 2, 3))", (1, 2, 3, 2, 2)), ("UpSampling3D(2, data_format='channels_first')", (1, 2, 2, 3, 2)),
    ("ZeroPadding1D((1, 3))", (2, 4, 3)), ("ZeroPadding2D(((1, 0), (2, 3)))", (2, 3, 4, 2)),
    ("ZeroPadding2D(2, data_format='channels_first')", (1, 2, 3, 4)), ("ZeroPadding3D(((0, 1), 2, (1, 0)))",
                                                                        (1, 2, 3, 2, 2)),
    ("Cropping1D((1, 2))", (2, 6, 3)), ("Cropping2D(((1, 0), (2, 1)))", (2, 4, 5, 2)),
    ("Cropping2D(1, data_format='channels_first')", (1, 2, 4, 5)), ("Cropping3D(((1, 0), (0, 1), 1))", (1, 3, 3, 4, 2)),
    ("Flatten()", (2, 3, 4, 5)), ("Flatten(data_format='channels_first')", (2, 3, 4, 5)), ("Flatten()", (4,)),
    ("Reshape((4, -1))", (2, 3, 4)), ("Reshape((2, 3, 2))", (2, 12)), ("Permute((2, 1))", (2, 3, 4)),
    ("Permute((3, 1, 2))", (2, 3, 4, 5)), ("RepeatVector(3)", (2, 4)),
    ("ReLU()", (2, 7)), ("ReLU(max_value=1.5)", (2, 7)), ("ReLU(negative_slope=0.1, threshold=0.3)", (2, 7)),
    ("ReLU(max_value=6.0, negative_slope=0.2)", (2, 7)), ("ReLU(threshold=0.2)", (2, 7)),
    ("LeakyReLU()", (2, 7)), ("LeakyReLU(negative_slope=0.05)", (2, 7)), ("ELU(alpha=0.4)", (2, 7)),
    ("Softmax()", (2, 3, 4)), ("Softmax(axis=1)", (2, 3, 4)), ("Softmax(axis=(1, 2))", (2, 3, 4)),
    ("PReLU()", (2, 3, 4)), ("PReLU(shared_axes=[1])", (2, 3, 4)), ("Rescaling(1 / 255, offset=-0.5)", (2, 3)),
    ("Dropout(0.5)", (2, 3)), ("GaussianNoise(0.3)", (2, 3)), ("SpatialDropout1D(0.2)", (2, 3, 4)),
])
def test_keras_layers(text, shape):
    x = (rng(len(text)).standard_normal(shape) * 3).astype(F32)
    keras_check(text, x)


@pytest.mark.parametrize("text", ["Embedding(9, 4)", "Embedding(5, 2, mask_zero=True)"])
def test_keras_embedding(text):
    keras_check(text, rng(0).integers(0, 5, (3, 6)))


@pytest.mark.parametrize("text,shapes", [
    ("Add()", [(2, 3), (2, 3), (2, 3)]), ("Subtract()", [(2, 3, 4), (2, 3, 4)]), ("Multiply()", [(2, 4), (2, 1)]),
    ("Average()", [(2, 5), (2, 5), (2, 5)]), ("Maximum()", [(3, 2), (3, 2)]), ("Minimum()", [(3, 2, 2), (3, 2, 2)]),
    ("Concatenate()", [(2, 3), (2, 4)]), ("Concatenate(axis=1)", [(2, 3, 4), (2, 1, 4)]),
    ("Add()", [(2, 3), (2, 2, 3)]), ("Maximum()", [(2, 2, 3), (2, 3)]),
])
def test_keras_merges(text, shapes):
    xs = [rng(j).standard_normal(s).astype(F32) for j, s in enumerate(shapes)]
    layer = keras_layer(text)
    try:
        ref = keras.ops.convert_to_numpy(layer(xs))
    except Exception as exc:  # Keras refuses it: so must the shape engine or the forward
        with pytest.raises(ShapesmithError):
            forward(text, xs, framework="keras")
        pytest.skip(f"Keras refuses: {exc}")
    close(forward(text, xs, framework="keras"), ref)


@pytest.mark.parametrize("keras3,other,framework,names", [
    ("Dense(4, activation='tanh')", "Dense(4, activation='tanh')", "keras2", {}),
    ("BatchNormalization(epsilon=0.01)", "BatchNormalization(epsilon=0.01)", "keras2", {}),
    ("Dense(4, activation='relu')", "Dense(4, activation='relu')", "keras1", {"kernel": "W", "bias": "b"}),
    ("Dense(3, use_bias=False)", "Dense(3, bias=False)", "keras1", {"kernel": "W"}),
    ("BatchNormalization(epsilon=0.01)", "BatchNormalization(epsilon=0.01, mode=0)", "keras1",
     {"moving_mean": "running_mean", "moving_variance": "running_std"}),  # Keras 1.2's running_std holds variances
    ("UpSampling1D(3)", "UpSampling1D(length=3)", "keras1", {}),
    ("ZeroPadding2D(((1, 1), (2, 2)))", "ZeroPadding2D((1, 2), dim_ordering='tf')", "keras1", {}),
    ("Flatten()", "Flatten()", "keras1", {}), ("Permute((2, 1))", "Permute((2, 1))", "keras1", {}),
])
def test_keras1_and_keras2_like_keras3(keras3, other, framework, names):
    """The same layer in tf.keras 2 / Keras 1 spelling computes what Keras 3 does (Keras 1 names its weights
    W, b, running_std)."""
    shape = (2, 3, 4, 5) if "Padding2D" in keras3 else (3, 4, 5) if "1D" in keras3 or "Permute" in keras3 \
        or "Flatten" in keras3 else (3, 5)
    x = rng(len(keras3)).standard_normal(shape).astype(F32)
    layer = keras_layer(keras3)
    layer(x)
    for v in layer.weights:
        v.assign(rng(len(v.name)).uniform(0.5, 1.5, tuple(v.shape)).astype(F32))
    weights = {names.get(v.name, v.name): keras.ops.convert_to_numpy(v.value) for v in layer.weights}
    close(forward(other, x, weights, framework=framework), keras.ops.convert_to_numpy(layer(x)))


def test_keras1_embedding():
    layer = keras.layers.Embedding(9, 4)
    ids = rng(0).integers(0, 9, (2, 5))
    layer(ids)
    close(forward("Embedding(9, 4, input_length=5)", ids, {"W": keras.ops.convert_to_numpy(layer.embeddings)},
                  framework="keras1"), keras.ops.convert_to_numpy(layer(ids)))


# ----------------------------------------------------------------------------- onnx
def onnx_run(op_type: str, x, attrs: dict, inits: dict[str, np.ndarray] | None = None, extra_inputs=(),
             opset: int = 20, inputs=None):
    """One node ``op_type(X, *inputs)``; ``inputs`` names initializers (``""`` for an absent optional input)."""
    xs = x if isinstance(x, list) else [x]
    names = [f"X{j}" for j in range(len(xs))]
    inits = inits or {}
    graph_inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
                    for n, a in zip(names, xs)]
    node = helper.make_node(op_type, names + list(inputs or inits), ["Y"], **attrs)
    out = helper.make_tensor_value_info("Y", helper.np_dtype_to_tensor_dtype(xs[0].dtype), None)
    graph = helper.make_graph([node], "g", graph_inputs, [out],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 9
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, dict(zip(names, xs)))[0]


@pytest.mark.parametrize("dtype", [F32, F64])
@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 6), st.integers(1, 5), st.booleans(), st.booleans(),
       st.sampled_from([None, "N", "MN", "1", "scalar"]), st.floats(-2, 2), st.floats(-2, 2), st.integers(0, 99))
def test_onnx_gemm(dtype, m, k, n, ta, tb, c_kind, alpha, beta, seed):
    g = rng(seed)
    x = g.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = g.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    c = {None: None, "N": (n,), "MN": (m, n), "1": (1,), "scalar": ()}[c_kind]
    inits = {"B": b} if c is None else {"B": b, "C": g.standard_normal(c).astype(dtype)}
    attrs = {"transA": int(ta), "transB": int(tb), "alpha": alpha, "beta": beta}
    ref = onnx_run("Gemm", x, attrs, inits, opset=13)
    c_text = "" if c is None else f", C={c}"
    text = f"Gemm(B={b.shape}{c_text}, transA={int(ta)}, transB={int(tb)}, alpha={alpha!r}, beta={beta!r})"
    close(forward(text, x, inits, framework="onnx"), ref, dtype)


ONNX_ACTIVATIONS = [
    ("Relu", {}), ("Sigmoid", {}), ("Tanh", {}), ("LeakyRelu", {}), ("LeakyRelu", {"alpha": 0.3}), ("Elu", {}),
    ("Elu", {"alpha": 0.5}), ("Selu", {}), ("Selu", {"alpha": 1.2, "gamma": 0.9}), ("Softplus", {}),
    ("Softsign", {}), ("HardSigmoid", {}), ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}), ("HardSwish", {}),
    ("Gelu", {}), ("Gelu", {"approximate": "tanh"}), ("Mish", {}), ("Identity", {}), ("Softmax", {}),
    ("Softmax", {"axis": 1}), ("LogSoftmax", {"axis": 0}), ("Hardmax", {"axis": -2}), ("Dropout", {}),
]


@pytest.mark.parametrize("op_type,attrs", ONNX_ACTIVATIONS)
def test_onnx_activations(op_type, attrs):
    x = (rng(len(op_type)).standard_normal((2, 3, 4)) * 3).astype(F32)
    ref = onnx_run(op_type, x, attrs)
    text = f"{op_type}(" + ", ".join(f"{k}={v!r}" for k, v in attrs.items()) + ")"
    close(forward(text, x, framework="onnx"), ref)


@pytest.mark.parametrize("shape,eps", [((2, 3), 1e-5), ((2, 3, 4, 5), 0.1), ((1, 2, 3), 1e-3)])
def test_onnx_batchnorm_layernorm(shape, eps):
    g = rng(len(shape))
    x = g.standard_normal(shape).astype(F32)
    c = shape[1]
    bn = {"scale": g.standard_normal(c), "B": g.standard_normal(c), "input_mean": g.standard_normal(c),
          "input_var": g.uniform(0.1, 2, c)}
    bn = {k: v.astype(F32) for k, v in bn.items()}
    ref = onnx_run("BatchNormalization", x, {"epsilon": eps}, bn, opset=15)
    close(forward(f"BatchNormalization(scale=({c},), epsilon={eps})", x, bn, framework="onnx"), ref)
    axis = -1 if len(shape) < 3 else 1
    ln = {"Scale": g.standard_normal(x.shape[axis:]).astype(F32), "B": g.standard_normal(x.shape[axis:]).astype(F32)}
    ref = onnx_run("LayerNormalization", x, {"axis": axis, "epsilon": eps}, ln, opset=17)
    close(forward(f"LayerNormalization(axis={axis}, epsilon={eps})", x, ln, framework="onnx"), ref)


@pytest.mark.parametrize("text,shape", [
    ("Flatten()", (2, 3, 4)), ("Flatten(axis=0)", (2, 3)), ("Flatten(axis=-1)", (2, 3, 4)), ("Flatten(axis=3)",
                                                                                             (2, 3, 4)),
    ("Reshape(shape=[0, -1])", (2, 3, 4)), ("Reshape(shape=[4, 0, 2])", (2, 3, 4)), ("Transpose()", (2, 3, 4)),
    ("Transpose(perm=[1, 2, 0])", (2, 3, 4)), ("Squeeze(axes=[1])", (2, 1, 3)), ("Squeeze()", (1, 3, 1)),
    ("Unsqueeze(axes=[0, -1])", (2, 3)),
])
def test_onnx_shape_ops(text, shape):
    x = rng(0).standard_normal(shape).astype(F32)
    op_type = text.split("(")[0]
    attrs = {"axis": int(text.split("=")[1][:-1])} if "axis=" in text else {}
    if "perm" in text:
        attrs = {"perm": [1, 2, 0]}
    inits, inputs = {}, None
    if op_type in ("Reshape", "Squeeze", "Unsqueeze") and "[" in text:
        values = eval(text.split("=", 1)[1][:-1])  # noqa: S307
        inits = {"S": np.array(values, dtype=np.int64)}
    ref = onnx_run(op_type, x, attrs, inits, opset=13, inputs=inputs)
    close(forward(text, x, framework="onnx"), ref)


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge", "wrap"])
@pytest.mark.parametrize("pads", [[0, 1, 2, 0, 0, 2, 1, 0], [0, 0, -1, 2, 0, 0, 2, -1], [0, 1, 0, 3, 1, 0, 0, 4],
                                  [0, 0, 1, -2, 0, 0, -1, 2]])
def test_onnx_pad(mode, pads):
    x = rng(1).standard_normal((2, 3, 4, 5)).astype(F32)
    inits = {"pads": np.array(pads, dtype=np.int64), "value": np.array(1.5, dtype=F32)}
    try:
        ref = onnx_run("Pad", x, {"mode": mode}, inits, opset=18)
    except Exception:
        with pytest.raises(ShapesmithError):
            forward(f"Pad(pads={pads}, mode={mode!r}, constant_value=1.5)", x, framework="onnx")
        return
    close(forward(f"Pad(pads={pads}, mode={mode!r}, constant_value=1.5)", x, framework="onnx"), ref)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["nearest", "linear", "cubic"]),
       st.sampled_from(["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "half_pixel_symmetric"]),
       st.sampled_from(["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]), st.booleans(),
       st.integers(1, 7), st.integers(1, 7), st.floats(0.3, 3.2), st.floats(0.3, 3.2), st.booleans(), st.booleans())
def test_onnx_resize(mode, transform, rounding, by_sizes, h, w, sh, sw, exclude, a_default):
    x = rng(h * 10 + w).standard_normal((1, 2, h, w)).astype(F32)
    attrs = {"mode": mode, "coordinate_transformation_mode": transform, "nearest_mode": rounding}
    if mode == "cubic":
        attrs["exclude_outside"] = int(exclude)
        if not a_default:
            attrs["cubic_coeff_a"] = -0.5
    if by_sizes:
        sizes = [1, 2, max(1, round(h * sh)), max(1, round(w * sw))]
        inits, inputs, given_ = {"sizes": np.array(sizes, np.int64)}, ["", "", "sizes"], f"sizes={sizes}"
    else:
        scales = [1.0, 1.0, sh, sw]
        if min(int(np.float32(sh) * h), int(np.float32(sw) * w)) < 1:
            return
        inits, inputs, given_ = {"scales": np.array(scales, F32)}, ["", "scales"], f"scales={scales}"
    ref = onnx_run("Resize", x, attrs, inits, opset=19, inputs=inputs)
    text = f"Resize({given_}, " + ", ".join(f"{k}={v!r}" for k, v in attrs.items()) + ")"
    close(forward(text, x, framework="onnx"), ref)


@pytest.mark.parametrize("op_type,shapes", [("Add", [(2, 3), (3,)]), ("Sub", [(2, 1, 3), (4, 1)]),
                                            ("Mul", [(2, 3), (2, 3)]), ("Div", [(3,), (2, 3)])])
def test_onnx_binary(op_type, shapes):
    xs = [rng(j).standard_normal(s).astype(F32) + 3 for j, s in enumerate(shapes)]
    close(forward(f"{op_type}(A=1, B=2)", xs, framework="onnx"), onnx_run(op_type, xs, {}))


def test_onnx_gemm_weight_named_w():
    x, w = rng(0).standard_normal((2, 3)).astype(F32), rng(1).standard_normal((4, 3)).astype(F32)
    close(forward("Gemm(W=(4, 3), transB=1)", x, {"W": w}, framework="onnx"), onnx_run("Gemm", x, {"transB": 1},
                                                                                     {"B": w}, opset=13))


def test_onnx_concat():
    xs = [rng(j).standard_normal((2, j + 1, 3)).astype(F32) for j in range(3)]
    close(forward("Concat(axis=1)", xs, framework="onnx"), onnx_run("Concat", xs, {"axis": 1}))


# ----------------------------------------------------------------------------- refusals
def test_refusals():
    x = rng(0).standard_normal((2, 3)).astype(F32)
    with pytest.raises(ShapesmithError, match="indices"):
        forward("nn.Embedding(4, 2)", np.array([[0, 4]]), {"weight": np.zeros((4, 2), F32)})
    with pytest.raises(ShapesmithError, match="integer"):
        forward("nn.Embedding(4, 2)", x, {"weight": np.zeros((4, 2), F32)})
    with pytest.raises(ShapesmithError, match="weight"):
        forward("nn.Linear(3, 2)", x, {"weight": np.zeros((3, 2), F32), "bias": np.zeros(2, F32)})
    with pytest.raises(ShapesmithError, match="mode=1"):
        forward("BatchNormalization(mode=1)", x, {k: np.ones(3, F32) for k in
                                                  ("gamma", "beta", "running_mean", "running_std")},
                framework="keras1")
    with pytest.raises(ShapesmithError, match="antialias"):
        forward("Resize(scales=[1, 1, 2], antialias=1)", x[None], framework="onnx")
