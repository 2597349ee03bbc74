"""ONNX Squeeze / Unsqueeze against onnxruntime."""

from __future__ import annotations

import random

import numpy as np
import pytest

import shapesmith
from shapesmith import ShapesmithError


def run_onnx(op: str, shape: tuple, axes):
    import onnxruntime
    from onnx import TensorProto, helper
    inputs = ["x"] + (["axes"] if axes is not None else [])
    inits = [helper.make_tensor("axes", TensorProto.INT64, [len(axes)], list(axes))] if axes is not None else []
    node = helper.make_node(op, inputs, ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    try:
        sess = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        return tuple(sess.run(None, {"x": np.zeros(shape, np.float32)})[0].shape)
    except Exception:  # noqa: BLE001 - any refusal by onnxruntime is a reject
        return None


@pytest.mark.parametrize("op", ["Squeeze", "Unsqueeze"])
def test_against_onnxruntime(op):
    rng = random.Random(op)
    for _ in range(300):
        shape = tuple(rng.choice([1, 1, 2, 3]) for _ in range(rng.randint(1, 4)))
        n = rng.randint(0 if op == "Squeeze" else 1, 3)
        span = len(shape) + (n if op == "Unsqueeze" else 0)
        axes = None if n == 0 else tuple(rng.randint(-span - 1, span) for _ in range(n))
        want = run_onnx(op, shape, axes)
        text = f"{op}(axes={list(axes)})" if axes is not None else f"{op}()"
        try:
            got = shapesmith.trace(text, input_shape=shape, framework="onnx").output_shape
        except ShapesmithError:
            got = None
        assert got == want, (text, shape)
