"""The frameworks as oracles for padding, cropping, resizing, adaptive pooling and ONNX merges.

Each ``run_*`` returns ``("ok", shapes, params)`` (``shapes`` a list: one shape per output) or
``("reject", message)``. ``run_shapesmith`` does the same for shapesmith, and raises on anything
but a ``ShapesmithError`` (a crash is a bug, never a reject).
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

import shapesmith  # noqa: E402
from shapesmith.dialects import build_layer  # noqa: E402
from shapesmith.dims import Expr, subs  # noqa: E402


def _reject(exc: Exception) -> tuple:
    return ("reject", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")


def run_torch(text: str, shape: tuple) -> tuple:
    import torch
    from torch import nn
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = eval(text, {"nn": nn})  # test oracle: our own layer text, built by torch
            params = sum(p.numel() for p in module.parameters())
            with torch.no_grad():
                y = module(torch.zeros(shape))
        except Exception as exc:  # noqa: BLE001 - every torch failure is a reject
            return _reject(exc)
    ys = list(y) if isinstance(y, tuple) else [y]
    return ("ok", [tuple(t.shape) for t in ys], params)


def run_keras(text: str, shape: tuple) -> tuple:
    import keras
    from keras import layers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            layer = eval(text, {"layers": layers})  # test oracle: our own layer text, built by Keras
            y = layer(keras.ops.zeros(shape))
            params = layer.count_params()
        except Exception as exc:  # noqa: BLE001
            return _reject(exc)
    return ("ok", [tuple(y.shape)], params)


# ----------------------------------------------------------------------------- ONNX
def onnx_model(op: str, inputs: list[tuple[str, tuple | None, object]], attrs: dict):
    """``inputs``: (name, shape of a graph input, or None for an initializer, value of the initializer);
    an empty name is an omitted optional input."""
    from onnx import TensorProto, helper
    graph_inputs, inits = [], []
    for name, shape, value in inputs:
        if not name:
            continue
        if shape is not None:
            graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
        else:
            arr = np.asarray(value)
            dtype = TensorProto.INT64 if arr.dtype.kind == "i" else TensorProto.FLOAT
            inits.append(helper.make_tensor(name, dtype, list(arr.shape), arr.flatten().tolist()))
    node = helper.make_node(op, [n for n, _, _ in inputs], ["Y"], **{k: v for k, v in attrs.items() if v is not None})
    graph = helper.make_graph([node], "g", graph_inputs, [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
                              initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)


def run_onnx(op: str, inputs: list, attrs: dict) -> tuple:
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 4
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        model = onnx_model(op, inputs, attrs)
        sess = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        feeds = {n: np.zeros(s, np.float32) for n, s, _ in inputs if n and s is not None}
        (y,) = sess.run(["Y"], feeds)
    except Exception as exc:  # noqa: BLE001
        return _reject(exc)
    return ("ok", [tuple(int(d) for d in y.shape)], 0)


# ----------------------------------------------------------------------------- shapesmith
def run_shapesmith(text: str, shapes: list[tuple], framework: str) -> tuple:
    try:
        if len(shapes) == 1:
            t = shapesmith.trace(text, input_shape=shapes[0], framework=framework)
            out, params = t.output_shape, t.params
        else:
            r = build_layer(text, framework).infer(*shapes)
            out, params = r.output_shape, r.params
    except shapesmith.ShapesmithError as exc:
        return ("reject", str(exc)[:300])
    return ("ok", list(out) if isinstance(out, list) else [tuple(out)], params)


def repro(text: str, shapes: list[tuple], framework: str) -> str:
    if len(shapes) == 1:
        return f"shapesmith.trace({text!r}, input_shape={shapes[0]!r}, framework={framework!r})"
    return (f"shapesmith.dialects.build_layer({text!r}, {framework!r})"
            f".infer({', '.join(repr(s) for s in shapes)})")


def agree(want: tuple, got: tuple) -> bool:
    if want[0] != got[0]:
        return False
    return want[0] == "reject" or (want[1] == got[1] and want[2] == got[2])


def explain(want: tuple, got: tuple, text: str, shapes: list[tuple], framework: str) -> str:
    return (f"\n  framework: {want}\n  shapesmith: {got}\n  repro: {repro(text, shapes, framework)}")


def symbolize(shape: tuple, axes: list[int]) -> tuple[tuple, dict]:
    """The shape with the dims at ``axes`` replaced by symbols; the substitution back."""
    names = ["h", "w", "d", "t", "u"]
    out, env = list(shape), {}
    for n, j in zip(names, axes):
        env[n] = shape[j]
        out[j] = shapesmith.dims.Symbol(n)
    return tuple(out), env


def check_symbolic(text: str, shape: tuple, axes: list[int], framework: str, want_shapes: list[tuple]) -> str | None:
    """shapesmith on the symbolic shape, substituted, must give the concrete answer; its conditions must hold."""
    sym, env = symbolize(shape, axes)
    try:
        t = shapesmith.trace(text, input_shape=sym, framework=framework)
    except shapesmith.ShapesmithError as exc:
        return f"symbolic input {sym} rejected: {exc}\n  repro: {repro(text, [sym], framework)}"
    outs = t.output_shape if isinstance(t.output_shape, list) else [t.output_shape]
    got = [tuple(subs(d, env) if isinstance(d, Expr) else d for d in s) for s in outs]
    if got != want_shapes:
        return (f"symbolic {outs} with {env} gives {got}, the framework {want_shapes}\n"
                f"  repro: {repro(text, [sym], framework)}")
    import sympy
    for c in t.constraints:
        if not bool(sympy.sympify(c, locals={k: sympy.Symbol(k) for k in env}).subs(env)):
            return f"condition {c} fails at {env} though the framework accepts\n  repro: {repro(text, [sym], framework)}"
    return None
