"""Fuzzed weight files, model files and web requests: the only failure allowed is a ShapesmithError (a 4xx on the
page), never a crash, a hang or a file written. Real files from the frameworks are cut and bit-flipped."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shapesmith import ShapesmithError
from shapesmith.numeric.weights import load_weights
from shapesmith.summarize import run_summary

EXAMPLES = int(os.environ.get("SHAPESMITH_FUZZ_EXAMPLES", "400")) // 8
FUZZ = settings(max_examples=max(EXAMPLES, 20), deadline=None, derandomize="SHAPESMITH_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=list(HealthCheck))


def _pt() -> bytes:
    buffer = io.BytesIO()
    torch.save(torch.nn.Conv1d(2, 3, 3).state_dict(), buffer)
    return buffer.getvalue()


def _npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, weight=np.ones((3, 2, 3), np.float32), bias=np.zeros(3, np.float32))
    return buffer.getvalue()


def _safetensors() -> bytes:
    from safetensors.numpy import save
    return save({"weight": np.ones((3, 2, 3), np.float32), "bias": np.zeros(3, np.float32)})


def _onnx() -> bytes:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.ones((3, 2, 3), np.float32), "W")
    node = helper.make_node("Conv", ["X", "W"], ["Y"], kernel_shape=[3], name="conv")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 2, 8])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 3, 6])], [w])
    return onnx.helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def _keras_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("config.json", '{"class_name": "Sequential", "config": {"layers": []}}')
        z.writestr("metadata.json", "{}")
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 32)
    return buffer.getvalue()


SEEDS = {".pt": _pt(), ".npz": _npz(), ".safetensors": _safetensors(), ".onnx": _onnx(), ".keras": _keras_zip(),
         ".weights.h5": b"\x89HDF\r\n\x1a\n" + b"\0" * 64}


@st.composite
def damaged(draw):
    ext = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[ext])
    how = draw(st.sampled_from(["cut", "flip", "random", "swap"]))
    if how == "cut":
        data = data[:draw(st.integers(0, len(data)))]
    elif how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] ^= 1 << draw(st.integers(0, 7))
    elif how == "random":
        data = bytearray(draw(st.binary(max_size=200)))
    else:
        data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])  # another format under this name
    return ext, bytes(data)


@FUZZ
@given(damaged())
def test_damaged_weight_files(tmp_path_factory, case):
    ext, data = case
    folder = tmp_path_factory.mktemp("w")
    path = folder / f"w{ext}"
    path.write_bytes(data)
    try:
        tensors = load_weights(path)
    except ShapesmithError as err:
        assert str(err) and "\n" not in str(err)
    else:
        assert all(isinstance(v, np.ndarray) for v in tensors.values())
    assert sorted(p.name for p in folder.iterdir()) == [path.name]  # nothing else was written


@settings(FUZZ, max_examples=max(EXAMPLES // 2, 10))
@given(damaged())
def test_damaged_model_files(tmp_path_factory, case):
    ext, data = case
    if ext not in (".onnx", ".keras"):
        return
    path = tmp_path_factory.mktemp("m") / f"m{ext}"
    path.write_bytes(data)
    try:
        run_summary(str(path), input_shape="(1, 2, 8)" if ext == ".onnx" else None)
    except ShapesmithError as err:
        assert str(err)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
              st.text(max_size=40),
              st.sampled_from(["nn.Conv2d(3, 8, 3)", "(1, 3, 9, 9)", "Conv2D(8, 3, strides=?)", "(None, 9, 9, 3)",
                               "torch", "keras", "window", "scatter", "(1, 3, 10**9, 9)", "?", "kernel_size"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=10)
bodies = st.dictionaries(st.sampled_from(["code", "input", "framework", "kind", "position", "target", "search",
                                          "arg", "index", "value", "layer", "axes"]), json_values, max_size=6)


@FUZZ
@given(st.sampled_from(["/api/trace", "/api/draw", "/api/solve", "/api/set"]), bodies)
def test_web_requests_are_answered_or_refused(path, body):
    pytest.importorskip("starlette")
    from shapesmith.web.app import ENDPOINTS, _answer
    status, payload = _answer(ENDPOINTS[path], body)
    assert status < 500, payload
    assert status == 200 or payload["error"]
