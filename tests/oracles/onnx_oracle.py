"""One-node ONNX models run with onnxruntime (CPU) as the shape oracle, plus onnx shape inference."""

from __future__ import annotations

import math
import warnings

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

OPSET = 21
IR_VERSION = 10

_SESSION_OPTIONS = ort.SessionOptions()
_SESSION_OPTIONS.intra_op_num_threads = 1
_SESSION_OPTIONS.inter_op_num_threads = 1
_SESSION_OPTIONS.log_severity_level = 4
_SESSION_OPTIONS.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL

_RNG = np.random.default_rng(0)


def build_model(op: str, x_shape: tuple, attrs: dict, W: tuple | None = None, B: tuple | None = None):
    """A model ``Y = op(X[, W[, B]])``; W and B are initializers of the given shapes."""
    inputs = ["X"]
    inits = []
    if W is not None:
        inputs.append("W")
        inits.append(helper.make_tensor("W", TensorProto.FLOAT, list(W),
                                        _RNG.standard_normal(math.prod(W)).astype(np.float32).tolist()))
        if B is not None:
            inputs.append("B")
            inits.append(helper.make_tensor("B", TensorProto.FLOAT, list(B),
                                            _RNG.standard_normal(math.prod(B)).astype(np.float32).tolist()))
    attrs = {k: v for k, v in attrs.items() if v is not None}
    node = helper.make_node(op, inputs, ["Y"], **attrs)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
        initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)


def run_ort(model, x_shape: tuple):
    """The output shape from onnxruntime, or ``("reject", message)``."""
    try:
        sess = ort.InferenceSession(model.SerializeToString(), _SESSION_OPTIONS, providers=["CPUExecutionProvider"])
        (y,) = sess.run(["Y"], {"X": np.zeros(x_shape, np.float32)})
    except Exception as exc:  # noqa: BLE001 - any failure is a rejection
        return ("reject", f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
    return tuple(int(d) for d in y.shape)


def run_infer(model):
    """The output shape from ``onnx.shape_inference`` (strict), ``None`` if unknown, or ``("reject", msg)``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as exc:  # noqa: BLE001
        return ("reject", f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
    for vi in list(inferred.graph.output) + list(inferred.graph.value_info):
        if vi.name == "Y":
            t = vi.type.tensor_type
            if not t.HasField("shape"):
                return None
            dims = tuple(d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim)
            return dims
    return None


def oracle(op: str, x_shape: tuple, attrs: dict, W=None, B=None):
    model = build_model(op, x_shape, attrs, W, B)
    return run_ort(model, x_shape), model


def is_reject(result) -> bool:
    return isinstance(result, tuple) and len(result) == 2 and result[0] == "reject"
