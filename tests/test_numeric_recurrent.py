"""The numpy forward of recurrent layers against the frameworks, every output compared (sequence, final h, c).

* PyTorch ``nn.RNN``/``nn.LSTM``/``nn.GRU`` modules with random configurations and weights, float32 and float64
  (the module in double), with and without initial states;
* Keras 3 layers on the torch backend (``SimpleRNN``, ``LSTM``, ``GRU``, ``Bidirectional``); tf.keras 2 and Keras 1
  spellings against the Keras 3 layer that computes the same thing (``time_major`` transposed, the 0.2-slope
  ``hard_sigmoid`` as a Keras function, Keras 1 per-gate weights concatenated);
* one-node ONNX ``RNN``/``LSTM``/``GRU`` models run by onnxruntime (``layout=1``, which onnxruntime refuses, against
  the ``layout=0`` model on the transposed input).
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from shapesmith import ShapesmithError  # noqa: E402
from shapesmith.dialects import build_layer  # noqa: E402
from shapesmith.numeric import forward  # noqa: E402

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def assert_outputs(ours, ref, text: str, shape: tuple, dtype=np.float32, framework: str | None = None) -> None:
    """Every output equal to the framework's, in the order (and number) the shape engine names them."""
    ours = ours if isinstance(ours, tuple) else (ours,)
    names = build_layer(text, framework).infer(shape).output_names or ("output",)
    assert len(ours) == len(ref) == len(names), (text, len(ours), len(ref), names)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    for name, a, b in zip(names, ours, ref):
        b = np.asarray(b)
        assert a.dtype == dtype and a.shape == b.shape, (text, name, a.dtype, a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(float(np.abs(b).max(initial=0)), 1e-30),
                                   err_msg=f"{text}: {name}")


# -- PyTorch -----------------------------------------------------------------------------------------------------
@st.composite
def torch_cases(draw):
    kind = draw(st.sampled_from(["RNN-tanh", "RNN-relu", "LSTM", "GRU"]))
    cls = kind.split("-")[0]
    hidden = draw(st.integers(1, 6))
    args = dict(input_size=draw(st.integers(1, 5)), hidden_size=hidden, num_layers=draw(st.integers(1, 3)),
                bias=draw(st.booleans()), batch_first=draw(st.booleans()), bidirectional=draw(st.booleans()))
    if cls == "RNN":
        args["nonlinearity"] = kind.split("-")[1]
    if cls == "LSTM" and draw(st.booleans()):
        args["proj_size"] = draw(st.integers(0, hidden - 1))
    steps, batch = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    unbatched = draw(st.booleans())
    return (cls, args, steps, batch, unbatched, draw(st.sampled_from([np.float32, np.float64])), draw(st.booleans()),
            draw(st.integers(0, 2 ** 32 - 1)))


@settings(max_examples=60, **SETTINGS)
@given(torch_cases())
def test_torch_matches(case):
    cls, args, steps, batch, unbatched, dtype, initial, seed = case
    rng = np.random.default_rng(seed)
    module = getattr(torch.nn, cls)(**args).to(torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-1, 1, p.shape)))
    text = f"nn.{cls}(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"
    features = args["input_size"]
    shape = (steps, features) if unbatched else ((batch, steps, features) if args["batch_first"] else
                                                 (steps, batch, features))
    x = rng.standard_normal(shape).astype(dtype)
    weights = {k: v.numpy() for k, v in module.state_dict().items()}
    count = args["num_layers"] * (2 if args["bidirectional"] else 1)
    state_lead = (count,) if unbatched else (count, batch)
    states = ()
    if initial:
        width = args.get("proj_size") or args["hidden_size"]
        h0 = rng.standard_normal((*state_lead, width)).astype(dtype)
        weights["h0"] = h0
        states = (torch.from_numpy(h0),)
        if cls == "LSTM":
            c0 = rng.standard_normal((*state_lead, args["hidden_size"])).astype(dtype)
            weights["c0"] = c0
            states = ((torch.from_numpy(h0), torch.from_numpy(c0)),)
    with torch.no_grad():
        output, state = module(torch.from_numpy(x), *states)
    ref = [output.numpy()] + [s.numpy() for s in (state if isinstance(state, tuple) else (state,))]
    assert_outputs(forward(text, x, weights), ref, text, shape, dtype)


# -- Keras 3 -----------------------------------------------------------------------------------------------------
# as written in the layer text: names, None, and a function reference
GATE_ACTIVATIONS = ["'sigmoid'", "'hard_sigmoid'", "'tanh'", "'relu'", "'linear'"]
ACTIVATIONS = ["'tanh'", "'relu'", "'sigmoid'", "'hard_sigmoid'", "'linear'", "None", "'elu'", "'softsign'", "'gelu'",
               "keras.activations.softplus"]


def _call(name: str, *args: str) -> str:
    return f"{name}(" + ", ".join(args) + ")"


@st.composite
def keras_args(draw, kind: str) -> list[str]:
    args = [str(draw(st.integers(1, 5))), f"activation={draw(st.sampled_from(ACTIVATIONS))}"]
    if kind != "SimpleRNN":
        args.append(f"recurrent_activation={draw(st.sampled_from(GATE_ACTIVATIONS))}")
    args.append(f"use_bias={draw(st.booleans())}")
    if kind == "GRU":
        args.append(f"reset_after={draw(st.booleans())}")
    return args


@st.composite
def keras_layers(draw):
    kind = draw(st.sampled_from(["SimpleRNN", "LSTM", "GRU"]))
    flags = [f"{flag}={draw(st.booleans())}" for flag in ("go_backwards", "return_sequences", "return_state")]
    return _call(f"keras.layers.{kind}", *draw(keras_args(kind)), *flags)


def _random_weights(layer, rng) -> None:
    for v in layer.weights:
        v.assign(rng.uniform(-1, 1, v.shape).astype(np.float32))


def _keras_run(text: str, x: np.ndarray, rng) -> tuple[object, list[np.ndarray]]:
    layer = eval(text, {"keras": keras})
    layer(x)  # build
    _random_weights(layer, rng)
    ref = layer(x)
    ref = ref if isinstance(ref, (list, tuple)) else [ref]
    return layer, [keras.ops.convert_to_numpy(r) for r in ref]


@settings(max_examples=40, **SETTINGS)
@given(keras_layers(), st.integers(1, 5), st.integers(1, 3), st.integers(1, 4), st.integers(0, 2 ** 32 - 1))
def test_keras_matches(text, steps, batch, features, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, features)).astype(np.float32)
    layer, ref = _keras_run(text, x, rng)
    weights = {v.name: keras.ops.convert_to_numpy(v) for v in layer.weights}
    assert_outputs(forward(text, x, weights, framework="keras"), ref, text, x.shape, framework="keras")


@st.composite
def bidirectional_layers(draw):
    kind = draw(st.sampled_from(["SimpleRNN", "LSTM", "GRU"]))
    inner = draw(keras_args(kind))
    flags = [f"return_sequences={draw(st.booleans())}", f"return_state={draw(st.booleans())}"]
    merge = draw(st.sampled_from(["concat", "sum", "mul", "ave", None]))
    parts = [_call(f"keras.layers.{kind}", *inner, *flags), f"merge_mode={merge!r}"]
    if draw(st.booleans()):  # an explicit backward layer: its own activations; the same units unless kept apart
        other = draw(keras_args(kind))
        if merge not in ("concat", None):
            other[0] = inner[0]
        parts.append("backward_layer=" + _call(f"keras.layers.{kind}", *other, "go_backwards=True", *flags))
    return _call("keras.layers.Bidirectional", *parts)


@settings(max_examples=25, **SETTINGS)
@given(bidirectional_layers(), st.integers(1, 5), st.integers(1, 3), st.integers(1, 4), st.integers(0, 2 ** 32 - 1))
def test_keras_bidirectional_matches(text, steps, batch, features, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, features)).astype(np.float32)
    layer, ref = _keras_run(text, x, rng)
    weights = {f"{side}_{v.name}": keras.ops.convert_to_numpy(v)
               for side, part in (("forward", layer.forward_layer), ("backward", layer.backward_layer))
               for v in part.weights}
    assert_outputs(forward(text, x, weights, framework="keras"), ref, text, x.shape, framework="keras")


@keras.saving.register_keras_serializable(package="shapesmith_tests")  # Bidirectional copies its layer by config
def _legacy_hard_sigmoid(v):
    """tf.keras 2 / Keras 1 ``hard_sigmoid``, computed by Keras."""
    return keras.ops.clip(0.2 * v + 0.5, 0.0, 1.0)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU", "Bidirectional"])
@pytest.mark.parametrize("time_major", [False, True])
def test_keras2_matches_keras3_computing_the_same(kind, time_major):
    """tf.keras 2: ``time_major`` reads (T, N, F) and writes (T, N, H); ``hard_sigmoid`` is 0.2x + 0.5 there."""
    rng = np.random.default_rng(len(kind) + time_major)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    cell = "GRU" if kind == "Bidirectional" else kind
    gate = ", recurrent_activation='hard_sigmoid'" if cell != "SimpleRNN" else ""
    inner = f"tf.keras.layers.{cell}(4, return_sequences=True, return_state=True, time_major={time_major}{gate})"
    text = f"tf.keras.layers.Bidirectional({inner}, merge_mode='mul')" if kind == "Bidirectional" else inner
    oracle = getattr(keras.layers, cell)(4, return_sequences=True, return_state=True,
                                         **({"recurrent_activation": _legacy_hard_sigmoid} if gate else {}))
    if kind == "Bidirectional":
        oracle = keras.layers.Bidirectional(oracle, merge_mode="mul")
    oracle(x)
    _random_weights(oracle, rng)
    ref = [keras.ops.convert_to_numpy(r) for r in oracle(x)]
    given = x.swapaxes(0, 1) if time_major else x
    if time_major:
        ref[0] = ref[0].swapaxes(0, 1)
    if kind == "Bidirectional":
        weights = {f"{side}_{v.name}": keras.ops.convert_to_numpy(v)
                   for side, part in (("forward", oracle.forward_layer), ("backward", oracle.backward_layer))
                   for v in part.weights}
    else:
        weights = {v.name: keras.ops.convert_to_numpy(v) for v in oracle.weights}
    assert_outputs(forward(text, given, weights, framework="keras2"), ref, text, given.shape, framework="keras2")


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("consume_less", ["cpu", "gpu"])
def test_keras1_matches_keras3_computing_the_same(kind, consume_less):
    """Keras 1: ``W``/``U``/``b`` (or one per gate), ``inner_activation`` default ``hard_sigmoid`` (0.2 slope),
    a GRU resetting before the recurrent product (Keras 3 ``reset_after=False``)."""
    rng = np.random.default_rng(len(kind) + len(consume_less))
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    text = f"{kind}(output_dim=4, return_sequences=True, go_backwards=True, consume_less={consume_less!r})"
    options = {} if kind == "SimpleRNN" else {"recurrent_activation": _legacy_hard_sigmoid}
    options |= {"reset_after": False} if kind == "GRU" else {}
    oracle = getattr(keras.layers, kind)(4, return_sequences=True, go_backwards=True, **options)
    oracle(x)
    _random_weights(oracle, rng)
    ref = [keras.ops.convert_to_numpy(oracle(x))]
    w, u, b = (keras.ops.convert_to_numpy(v) for v in oracle.weights)
    if kind == "SimpleRNN" or consume_less == "gpu":
        weights = {"W": w, "U": u, "b": b}
    else:
        gates = {"LSTM": "ifco", "GRU": "zrh"}[kind]
        weights = {f"{name}_{gate}": np.split(value, len(gates), axis=-1)[k]
                   for name, value in (("W", w), ("U", u), ("b", b)) for k, gate in enumerate(gates)}
    assert_outputs(forward(text, x, weights, framework="keras1"), ref, text, x.shape, framework="keras1")


# -- ONNX (onnxruntime) ----------------------------------------------------------------------------------------
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
INPUTS = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"]
ONNX_ACTIVATIONS = ["Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh", "HardSigmoid",
                    "Elu", "Softsign", "Softplus"]


def _onnxruntime(op: str, x: np.ndarray, tensors: dict, attrs: dict) -> list[np.ndarray]:
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper
    inputs = [n if n == "X" or n in tensors else "" for n in INPUTS[:8 if op == "LSTM" else 6]]
    while inputs[-1] == "":
        inputs.pop()
    outputs = ["Y", "Y_h", "Y_c"][:3 if op == "LSTM" else 2]
    graph = helper.make_graph(
        [helper.make_node(op, inputs, outputs, **attrs)], "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, x.shape)],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        [numpy_helper.from_array(v, k) for k, v in tensors.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": x})


@st.composite
def onnx_cases(draw):
    op = draw(st.sampled_from(["RNN", "GRU", "LSTM"]))
    direction = draw(st.sampled_from(["forward", "reverse", "bidirectional"]))
    d = 2 if direction == "bidirectional" else 1
    attrs = {"hidden_size": draw(st.integers(1, 5)), "direction": direction}
    if op == "GRU":
        attrs["linear_before_reset"] = draw(st.integers(0, 1))
    if draw(st.booleans()):
        attrs["clip"] = draw(st.floats(0.2, 3.0))
    if op == "LSTM" and draw(st.booleans()):
        attrs["input_forget"] = 1
    if draw(st.booleans()):
        count = {"RNN": 1, "GRU": 2, "LSTM": 3}[op] * d
        attrs["activations"] = draw(st.lists(st.sampled_from(ONNX_ACTIVATIONS), min_size=count, max_size=count))
        for name in ("activation_alpha", "activation_beta"):  # consumed in order by the functions taking them
            values = draw(st.lists(st.floats(0.1, 1.5), max_size=count))
            if values:
                attrs[name] = values
    optional = {name: draw(st.booleans()) for name in ("B", "initial_h", "initial_c", "P", "sequence_lens")}
    sizes = (draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 4)))  # steps, batch, features
    layout, declared = draw(st.integers(0, 1)), draw(st.booleans())
    return op, attrs, d, optional, sizes, layout, declared, draw(st.integers(0, 2 ** 32 - 1))


def _onnx_text(op: str, attrs: dict) -> str:
    return f"{op}(" + ", ".join(f"{k}={v!r}" for k, v in attrs.items()) + ")"


@settings(max_examples=50, **SETTINGS)
@given(onnx_cases())
def test_onnx_matches_onnxruntime(case):
    op, attrs, d, optional, (steps, batch, features), layout, declared, seed = case
    rng = np.random.default_rng(seed)
    g, hidden = GATES[op], attrs["hidden_size"]
    tensors = {"W": rng.uniform(-1, 1, (d, g * hidden, features)), "R": rng.uniform(-1, 1, (d, g * hidden, hidden))}
    if optional["B"]:
        tensors["B"] = rng.uniform(-1, 1, (d, 2 * g * hidden))
    if optional["sequence_lens"]:
        tensors["sequence_lens"] = rng.integers(1, steps + 1, batch).astype(np.int32)
    for name in ("initial_h",) + (("initial_c",) if op == "LSTM" else ()):
        if optional[name]:
            tensors[name] = rng.standard_normal((d, batch, hidden))
    if op == "LSTM" and optional["P"]:
        tensors["P"] = rng.uniform(-1, 1, (d, 3 * hidden))
    tensors = {k: v if v.dtype == np.int32 else v.astype(np.float32) for k, v in tensors.items()}
    x = rng.standard_normal((steps, batch, features)).astype(np.float32)
    ref = _onnxruntime(op, x, tensors, attrs)
    if layout:  # onnxruntime runs layout=0 only: the same model, batch first
        x = x.swapaxes(0, 1)
        ref = [ref[0].transpose(2, 0, 1, 3)] + [r.swapaxes(0, 1) for r in ref[1:]]
        tensors = {k: v.swapaxes(0, 1) if k.startswith("initial_") else v for k, v in tensors.items()}
        attrs = {**attrs, "layout": 1}
    if declared:  # the weight shapes written in the text too, as the shape engine reads them
        attrs |= {k: tuple(v.shape) for k, v in tensors.items() if k in ("W", "R", "B", "P")}
    text = _onnx_text(op, attrs)
    assert_outputs(forward(text, x, tensors, framework="onnx"), ref, text, x.shape, framework="onnx")


def test_onnx_float64_matches_float32_model():
    """onnxruntime's recurrent kernels are float32: a float64 forward keeps float64 and agrees to float32 precision."""
    rng = np.random.default_rng(1)
    tensors = {"W": rng.uniform(-1, 1, (2, 16, 3)).astype(np.float32),
               "R": rng.uniform(-1, 1, (2, 16, 4)).astype(np.float32)}
    x = rng.standard_normal((5, 2, 3)).astype(np.float32)
    ref = _onnxruntime("LSTM", x, tensors, {"hidden_size": 4, "direction": "bidirectional"})
    ours = forward("LSTM(hidden_size=4, direction='bidirectional')", x.astype(np.float64),
                   {k: v.astype(np.float64) for k, v in tensors.items()}, framework="onnx")
    assert all(a.dtype == np.float64 for a in ours)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())


# -- errors ------------------------------------------------------------------------------------------------------
def _torch_weights(text: str) -> dict:
    module = eval(text, {"nn": torch.nn})
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def test_missing_weight_names_it_and_its_shape():
    weights = _torch_weights("nn.LSTM(3, 4, bidirectional=True)")
    del weights["weight_hh_l0_reverse"]
    with pytest.raises(ShapesmithError, match=r"'weight_hh_l0_reverse' of shape \(16, 4\)"):
        forward("nn.LSTM(3, 4, bidirectional=True)", np.zeros((5, 2, 3), np.float32), weights)


def test_wrong_shape_names_the_expected_shape():
    weights = _torch_weights("nn.GRU(3, 4)")
    weights["weight_ih_l0"] = np.zeros((12, 5), np.float32)
    with pytest.raises(ShapesmithError, match=r"'weight_ih_l0' has shape \(12, 5\).*expected shape \(12, 3\)"):
        forward("nn.GRU(3, 4)", np.zeros((5, 2, 3), np.float32), weights)


def test_extra_weight_is_refused():
    weights = _torch_weights("nn.RNN(3, 4)") | {"weight_ih_l1": np.zeros((4, 4), np.float32)}
    with pytest.raises(ShapesmithError, match="does not use the weight.*weight_ih_l1"):
        forward("nn.RNN(3, 4)", np.zeros((5, 2, 3), np.float32), weights)


def test_wrong_feature_count():
    with pytest.raises(ShapesmithError, match="input_size"):
        forward("nn.LSTM(3, 4)", np.zeros((5, 2, 6), np.float32), _torch_weights("nn.LSTM(3, 4)"))
    keras_weights = {"kernel": np.zeros((3, 16)), "recurrent_kernel": np.zeros((4, 16)), "bias": np.zeros(16)}
    with pytest.raises(ShapesmithError, match=r"'kernel' has shape \(3, 16\).*expected shape \(6, 16\)"):
        forward("LSTM(4)", np.zeros((2, 5, 6), np.float32), keras_weights, framework="keras")


def test_keras_gru_bias_layout_follows_reset_after():
    weights = {"kernel": np.zeros((3, 12)), "recurrent_kernel": np.zeros((4, 12)), "bias": np.zeros(12)}
    with pytest.raises(ShapesmithError, match=r"'bias' has shape \(12,\).*expected shape \(2, 12\)"):
        forward("GRU(4)", np.zeros((2, 5, 3), np.float32), weights, framework="keras")
    assert forward("GRU(4, reset_after=False)", np.zeros((2, 5, 3), np.float32), weights,
                   framework="keras").shape == (2, 4)


def test_bidirectional_weights_are_prefixed():
    one = {"kernel": np.zeros((3, 8)), "recurrent_kernel": np.zeros((2, 8)), "bias": np.zeros(8)}
    with pytest.raises(ShapesmithError, match=r"'forward_kernel' of shape \(3, 8\)"):
        forward("Bidirectional(LSTM(2))", np.zeros((2, 5, 3), np.float32), one, framework="keras")


def test_keras1_per_gate_names():
    with pytest.raises(ShapesmithError, match=r"'W_i' of shape \(3, 4\)"):
        forward("LSTM(output_dim=4)", np.zeros((2, 5, 3), np.float32), {}, framework="keras1")


@pytest.mark.parametrize("attrs, message", [
    ({"activations": ["Tanh"]}, r"activations=\['Tanh'\] has 1 names.*2 per direction"),
    ({"activations": ["Sigmoid", "Swish"]}, "'Swish' is not an ONNX recurrent activation"),
])
def test_onnx_activation_errors(attrs, message):
    tensors = {"W": np.zeros((1, 6, 3), np.float32), "R": np.zeros((1, 6, 2), np.float32)}
    with pytest.raises(ShapesmithError, match=message):
        forward(_onnx_text("GRU", {"hidden_size": 2, **attrs}), np.zeros((4, 1, 3), np.float32), tensors,
                framework="onnx")


def test_onnx_bias_declared_in_the_text_is_required():
    tensors = {"W": np.zeros((1, 4, 3), np.float32), "R": np.zeros((1, 4, 1), np.float32)}
    with pytest.raises(ShapesmithError, match=r"needs the weight 'B' of shape \(1, 8\)"):
        forward("LSTM(hidden_size=1, B=(1, 8))", np.zeros((4, 2, 3), np.float32), tensors, framework="onnx")


def test_onnx_sequence_lens_out_of_range():
    tensors = {"W": np.zeros((1, 2, 3), np.float32), "R": np.zeros((1, 2, 2), np.float32),
               "sequence_lens": np.array([5, 0], np.int32)}
    with pytest.raises(ShapesmithError, match=r"sequence_lens=\[5, 0\] must be whole numbers in \[1, 4\]"):
        forward("RNN(hidden_size=2)", np.zeros((4, 2, 3), np.float32), tensors, framework="onnx")


def test_initial_state_shape_is_checked():
    weights = _torch_weights("nn.GRU(3, 4, num_layers=2)") | {"h0": np.zeros((1, 2, 4), np.float32)}
    with pytest.raises(ShapesmithError, match=r"'h0' has shape \(1, 2, 4\).*expected shape \(2, 2, 4\)"):
        forward("nn.GRU(3, 4, num_layers=2)", np.zeros((5, 2, 3), np.float32), weights)
