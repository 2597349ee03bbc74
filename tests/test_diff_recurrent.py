"""Differential tests for recurrent layers: the frameworks are the oracles.

* Keras 3 (torch backend): ``SimpleRNN``, ``LSTM``, ``GRU``, ``Bidirectional`` (merge modes,
  ``backward_layer``), built from the same text and called on a small zeros tensor, or on a
  symbolic ``KerasTensor`` when the shape has ``None``; ``count_params()``.
* PyTorch: ``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` run on zeros (batched and unbatched); ``sum(p.numel())``.
* ONNX: one-node ``RNN``/``LSTM``/``GRU`` models run by onnxruntime; initializer sizes.

Accept/reject, every output shape, the number of outputs and the parameter count must agree.
Failures print each disagreement with a copy-paste ``shapesmith.trace(...)`` repro. Helpers:
tests/oracles/recurrent_oracle.py.
"""

from __future__ import annotations

import os
import random

os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import shapesmith  # noqa: E402
from shapesmith.dialects import build_layer  # noqa: E402
from shapesmith.dims import Symbol  # noqa: E402
from tests.oracles.recurrent_oracle import (  # noqa: E402
    Case, compare, gen_keras, gen_onnx, gen_torch, keras_check, keras_outcome, onnx_outcome, shapesmith_outcome,
    torch_outcome)

SHOW = 10
KERAS_CHUNKS, KERAS_N = 4, 250
TORCH_CHUNKS, TORCH_N = 3, 1000
ONNX_CHUNKS, ONNX_N = 2, 1000


def _fail(title: str, problems: list[str], total: int, counts: dict) -> None:
    if problems:
        shown = "\n\n".join(problems[:SHOW])
        more = f"\n\n... and {len(problems) - SHOW} more" if len(problems) > SHOW else ""
        pytest.fail(f"{title}: {len(problems)} of {total} configs disagree ({counts})\n\n{shown}{more}", pytrace=False)


def _sweep(framework: str, chunk: int, n: int, gen, check) -> None:
    rng = random.Random(f"recurrent-{framework}-{chunk}")
    problems, counts = [], {"ok": 0, "reject": 0}
    for _ in range(n):
        case = gen(rng)
        want, bad = check(case)
        counts[want.status] += 1
        if bad:
            problems.append(bad)
    _fail(f"{framework} recurrent sweep {chunk}", problems, n, counts)
    assert counts["ok"] > 0.5 * n and counts["reject"] > 0.05 * n, counts  # both sides exercised


def _plain(oracle, who):
    def check(case):
        want = oracle(case)
        return want, compare(case, want, shapesmith_outcome(case), who)
    return check


@pytest.mark.parametrize("chunk", range(KERAS_CHUNKS))
def test_keras_differential(chunk):
    _sweep("keras", chunk, KERAS_N, gen_keras, keras_check)


@pytest.mark.parametrize("chunk", range(TORCH_CHUNKS))
def test_torch_differential(chunk):
    _sweep("torch", chunk, TORCH_N, gen_torch, _plain(torch_outcome, "torch"))


@pytest.mark.parametrize("chunk", range(ONNX_CHUNKS))
def test_onnx_differential(chunk):
    _sweep("onnx", chunk, ONNX_N, gen_onnx, _plain(onnx_outcome, "onnx"))


@settings(max_examples=120, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(framework=st.sampled_from(["torch", "onnx", "keras"]), rng=st.randoms(use_true_random=False))
def test_hypothesis(framework, rng):
    """The same comparison driven by hypothesis, so a failure shrinks."""
    case = {"torch": gen_torch, "onnx": gen_onnx, "keras": gen_keras}[framework](rng)
    if framework == "keras":
        _, bad = keras_check(case)
    else:
        want = (torch_outcome if framework == "torch" else onnx_outcome)(case)
        bad = compare(case, want, shapesmith_outcome(case), framework)
    assert bad is None, bad


# ------------------------------------------------------------------ symbolic dims

KERAS_SYMBOLIC = ["LSTM(4)", "LSTM(4, return_sequences=True, return_state=True)", "GRU(3, return_sequences=True)",
                  "SimpleRNN(2, return_state=True)", "GRU(5, reset_after=False, use_bias=True)",
                  "Bidirectional(LSTM(4, return_sequences=True))",
                  "Bidirectional(GRU(3, return_state=True), merge_mode=None)",
                  "Bidirectional(SimpleRNN(2, return_sequences=True), merge_mode='sum')"]


@pytest.mark.parametrize("text", KERAS_SYMBOLIC)
def test_keras_symbolic_steps(text):
    """``(None, t, 8)`` with ``t`` substituted equals Keras on ``(None, t, 8)``; no constraint beyond t >= 1."""
    result = build_layer(text, "keras").infer((None, Symbol("t"), 8))
    assert not result.conditions.as_strings(), result.conditions.as_strings()
    for t in (1, 2, 5):
        case = Case("keras", text, (None, t, 8))
        bad = compare(case, keras_outcome(case), shapesmith_outcome(Case("keras", text, (None, Symbol("t"), 8)),
                                                                     {"t": t}), "keras")
        assert bad is None, bad


@pytest.mark.parametrize("text", ["LSTM(4)", "GRU(3, return_sequences=True, return_state=True)"])
def test_keras_symbolic_features(text):
    """Symbolic features: the parameter count is an expression that equals Keras' once substituted."""
    sym = (2, 3, Symbol("f"))
    got = shapesmith_outcome(Case("keras", text, sym))
    assert not isinstance(got.params, int)
    for f in (1, 4, 7):
        case = Case("keras", text, (2, 3, f))
        assert compare(case, keras_outcome(case), shapesmith_outcome(Case("keras", text, sym), {"f": f}),
                       "keras") is None


@pytest.mark.parametrize("text", ["nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2)",
                                  "nn.GRU(3, 4, batch_first=True)", "nn.RNN(3, 2, num_layers=3)"])
def test_torch_symbolic(text):
    for shape in [("L", "N", 3), ("L", 3)]:
        if "batch_first" in text and len(shape) == 3:
            shape = ("N", "L", 3)
        sym = tuple(Symbol(d) if isinstance(d, str) else d for d in shape)
        for env in ({"L": 1, "N": 2}, {"L": 4, "N": 1}, {"L": 7, "N": 3}):
            concrete = tuple(env[d] if isinstance(d, str) else d for d in shape)
            case = Case("torch", text, concrete)
            assert compare(case, torch_outcome(case), shapesmith_outcome(Case("torch", text, sym), env),
                           "torch") is None


# ------------------------------------------------------------------ the contract and the gotchas

def test_seed_lstm_input_longer_than_output():
    """The seed question: LSTM(units=10) on 20 steps processes all 20 steps; Keras is the oracle."""
    import keras
    for seq in (False, True):
        want = tuple(keras.layers.LSTM(units=10, return_sequences=seq)(keras.ops.zeros((2, 20, 1))).shape)
        result = build_layer(f"LSTM(units=10, return_sequences={seq})", "keras").infer((2, 20, 1))
        assert result.output_shape == want
        assert any("not a number of time steps: all 20 steps" in n for n in result.notes), result.notes


def test_keras_2d_input_error():
    with pytest.raises(shapesmith.ShapesmithError) as err:
        shapesmith.trace("LSTM(10)", input_shape="(None, 20)", framework="keras")
    msg = str(err.value)
    assert "LSTM expects (batch, timesteps, features)" in msg and "fix:" in msg and "Reshape" in msg, msg


def test_torch_feature_mismatch_wording():
    with pytest.raises(shapesmith.ShapesmithError) as err:
        shapesmith.trace("nn.LSTM(10, 20)", input_shape="(5, 3, 8)")
    assert "input.size(-1) must be equal to input_size. Expected 10, got 8" in str(err.value)


def test_multi_output_json():
    """A layer with several outputs gives output_shape as a list with output_names beside it; the
    shapes are the framework's own."""
    import keras
    import torch
    out, (h, c) = torch.nn.LSTM(10, 20, 2)(torch.zeros(5, 3, 10))
    keras_state = keras.layers.LSTM(10, return_state=True)(keras.ops.zeros((2, 7, 3)))
    bidirectional = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True), merge_mode=None)(
        keras.ops.zeros((2, 6, 3)))
    cases = [("nn.LSTM(10, 20, 2)", "(5, 3, 10)", None, [out, h, c], ["output", "h_n", "c_n"]),
             ("LSTM(10, return_state=True)", "(2, 7, 3)", "keras", keras_state, ["output", "h", "c"]),
             ("Bidirectional(GRU(4, return_sequences=True), merge_mode=None)", "(2, 6, 3)", "keras",
              bidirectional, ["forward", "backward"])]
    for text, shape, framework, tensors, names in cases:
        outputs = [list(t.shape) for t in tensors]
        result = build_layer(text, framework).infer(shapesmith.dims.as_shape(shape))
        assert [list(s) for s in result.output_shape] == outputs and list(result.output_names) == names
        d = shapesmith.trace(text, input_shape=shape, framework=framework).to_dict()
        layer = d["layers"][0]
        assert layer["output_shape"] == outputs and layer["output_names"] == names, layer
        assert d["output_shape"] == outputs


def test_detection():
    """Unprefixed LSTM(...) is Keras; torch and ONNX keywords pick theirs."""
    assert shapesmith.trace("LSTM(10)", input_shape="(None, 5, 3)").framework == "keras"
    assert build_layer("nn.LSTM(3, 4)").framework == "torch"
    assert build_layer("LSTM(input_size=3, hidden_size=4)").framework == "torch"
    assert build_layer("LSTM(W=(1, 16, 3), R=(1, 16, 4), hidden_size=4)").framework == "onnx"
    assert build_layer("LSTM(10, time_major=True)").framework == "keras2"


def test_keras2_time_major():
    r = build_layer("LSTM(8, return_sequences=True, return_state=True, time_major=True)", "keras2").infer((5, 2, 3))
    assert r.output_shape == [(5, 2, 8), (2, 8), (2, 8)]
