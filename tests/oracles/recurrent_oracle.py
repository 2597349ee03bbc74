"""Oracles for recurrent layers: Keras 3 (torch backend), PyTorch and onnxruntime themselves.

Each generator returns a :class:`Case`: the layer text shapesmith reads (generated here, never
user input), the input shape, and what the framework needs to build the same layer. The
framework builds the layer and runs it on a small zeros tensor (Keras: a symbolic
``KerasTensor`` when the shape has ``None``); any exception is a reject. Outputs are flattened
(torch nests ``(output, (h_n, c_n))``) and compared one by one with shapesmith's, and so is the
parameter count (torch ``sum(p.numel())``, Keras ``count_params()``, ONNX initializer sizes).
"""

from __future__ import annotations

import math
import os
import random
import warnings
from dataclasses import dataclass, field

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

import shapesmith  # noqa: E402
from shapesmith.dialects import build_layer  # noqa: E402


@dataclass
class Case:
    framework: str
    text: str
    input_shape: tuple
    onnx: dict = field(default_factory=dict)  # op, attrs, initializers

    def repro(self) -> str:
        return (f"shapesmith.trace({self.text!r}, input_shape={str(tuple(self.input_shape))!r}, "
                f"framework={self.framework!r})")


@dataclass
class Outcome:
    status: str  # ok | reject
    shapes: list = field(default_factory=list)  # every output shape, in order
    params: int | None = None
    message: str = ""

    def describe(self) -> str:
        if self.status == "reject":
            return f"reject ({self.message[:200]})"
        return f"{self.shapes} params={self.params}"


# ------------------------------------------------------------------ shapesmith

def shapesmith_outcome(case: Case, env: dict | None = None) -> Outcome:
    try:
        result = build_layer(case.text, case.framework).infer(tuple(case.input_shape))
    except shapesmith.ShapesmithError as err:
        return Outcome("reject", message=str(err))
    out = result.output_shape
    shapes = [tuple(s) for s in out] if isinstance(out, list) else [tuple(out)]
    params = result.params
    if env is not None:
        from shapesmith.dims import subs
        shapes = [tuple(subs(d, env) for d in s) for s in shapes]
        params = subs(params, env)
    return Outcome("ok", shapes, params)


def compare(case: Case, want: Outcome, got: Outcome, who: str) -> str | None:
    problem = None
    if want.status != got.status:
        problem = f"{who} {want.status}s, shapesmith {got.status}s"
    elif want.status == "ok":
        if len(want.shapes) != len(got.shapes):
            problem = f"{who} returns {len(want.shapes)} outputs, shapesmith {len(got.shapes)}"
        elif [tuple(s) for s in want.shapes] != [tuple(s) for s in got.shapes]:
            problem = "output shapes differ"
        elif want.params != got.params:
            problem = f"parameter counts differ ({want.params} vs {got.params})"
    if problem is None:
        return None
    return (f"[{case.framework}] {problem}: {case.text} on input {tuple(case.input_shape)}\n"
            f"    {who}: {want.describe()}\n    shapesmith: {got.describe()}\n    repro: {case.repro()}")


# ------------------------------------------------------------------ Keras 3

_KERAS = None


def keras():
    global _KERAS
    if _KERAS is None:
        import keras as k
        _KERAS = k
    return _KERAS


def keras_outcome(case: Case, symbolic: bool | None = None) -> Outcome:
    k = keras()
    shape = tuple(case.input_shape)
    if symbolic is None:
        symbolic = any(d is None for d in shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = eval(case.text, {"__builtins__": {}}, dict(vars(k.layers)))  # noqa: S307 - generated text
            x = k.KerasTensor(shape) if symbolic else k.ops.zeros(shape)
            y = layer(x)
    except Exception as exc:  # noqa: BLE001 - any failure is a reject
        return Outcome("reject", message=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    return Outcome("ok", [tuple(None if d is None else int(d) for d in t.shape) for t in ys], layer.count_params())


KERAS_TYPES = ("SimpleRNN", "LSTM", "GRU")


def _keras_inner(rng: random.Random, type_name: str, flags: dict | None = None) -> str:
    args = [str(rng.choice([1, 2, 3, 5, 8]) if rng.random() > 0.03 else rng.choice([0, -1]))]
    kw = dict(flags or {})
    if flags is None:
        for name in ("return_sequences", "return_state"):
            if rng.random() < 0.5:
                kw[name] = rng.random() < 0.6
        if rng.random() < 0.1:
            kw["go_backwards"] = rng.random() < 0.5
    if rng.random() < 0.25:
        kw["use_bias"] = rng.random() < 0.5
    if type_name == "GRU" and rng.random() < 0.4:
        kw["reset_after"] = rng.random() < 0.5
    if rng.random() < 0.15:
        kw["dropout"] = rng.choice([0.0, 0.2])
    if rng.random() < 0.1:
        kw["unroll"] = True
    if rng.random() < 0.05:
        kw["stateful"] = True
    return f"{type_name}({', '.join(args + [f'{k}={v!r}' for k, v in kw.items()])})"


def _keras_input(rng: random.Random) -> tuple:
    roll = rng.random()
    batch = rng.choice([None, 1, 2])
    steps = rng.choice([None, 1, 2, 4, 7]) if roll > 0.1 else rng.choice([1, 3])
    feats = rng.choice([1, 2, 3, 6])
    if roll < 0.06:
        return (batch, feats)  # no time axis
    if roll < 0.09:
        return (batch, steps, feats, 2)
    return (batch, steps, feats)


def gen_keras(rng: random.Random) -> Case:
    type_name = rng.choice(KERAS_TYPES)
    if rng.random() < 0.3:
        inner = _keras_inner(rng, type_name)
        kw = []
        if rng.random() < 0.6:
            kw.append(f"merge_mode={rng.choice(['concat', 'sum', 'mul', 'ave', None, 'avg'])!r}")
        if rng.random() < 0.15:
            flags = {"go_backwards": rng.random() < 0.8}
            for name in ("return_sequences", "return_state"):
                m = __import__("re").search(name + r"=(True|False)", inner)
                flags[name] = (m.group(1) == "True") if m else False
            if rng.random() < 0.1:
                flags["return_sequences"] = not flags["return_sequences"]
            back_type = type_name if rng.random() < 0.7 else rng.choice(KERAS_TYPES)
            back = _keras_inner(rng, back_type, flags)
            kw.append(f"backward_layer={back}")
        text = f"Bidirectional({', '.join([inner] + kw)})"
    else:
        text = _keras_inner(rng, type_name)
    return Case("keras", text, _keras_input(rng))


# ------------------------------------------------------------------ PyTorch

def torch_outcome(case: Case) -> Outcome:
    import torch
    from torch import nn
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = eval(case.text, {"__builtins__": {}}, {"nn": nn})  # noqa: S307 - generated text
            with torch.no_grad():
                out = module(torch.zeros(case.input_shape))
    except Exception as exc:  # noqa: BLE001
        return Outcome("reject", message=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    y, h = out
    flat = [y] + (list(h) if isinstance(h, tuple) else [h])
    return Outcome("ok", [tuple(t.shape) for t in flat], sum(p.numel() for p in module.parameters()))


def gen_torch(rng: random.Random) -> Case:
    type_name = rng.choice(("RNN", "LSTM", "GRU"))
    inp, hidden = rng.choice([1, 2, 3, 5]), rng.choice([1, 2, 3, 4, 6])
    if rng.random() < 0.03:
        hidden = rng.choice([0, -2])
    args = [str(inp), str(hidden)]
    kw: dict = {}
    if rng.random() < 0.5:
        kw["num_layers"] = rng.choice([1, 2, 3]) if rng.random() > 0.03 else 0
    if rng.random() < 0.5:
        kw["bidirectional"] = rng.random() < 0.6
    if rng.random() < 0.5:
        kw["batch_first"] = rng.random() < 0.6
    if rng.random() < 0.25:
        kw["bias"] = rng.random() < 0.5
    if rng.random() < 0.15:
        kw["dropout"] = rng.choice([0.0, 0.5, 1.0, 1.5, -0.1])
    if type_name == "LSTM" and rng.random() < 0.4:
        kw["proj_size"] = rng.choice([0, 1, 2, 3, hidden, hidden + 1])
    elif rng.random() < 0.03:
        kw["proj_size"] = 1
    if type_name == "RNN" and rng.random() < 0.3:
        kw["nonlinearity"] = rng.choice(["tanh", "relu", "sigmoid"])
    if rng.random() < 0.3:  # some arguments positionally, in torch's order
        order = ["num_layers"] + (["nonlinearity"] if type_name == "RNN" else []) + ["bias", "batch_first"]
        for name in order:
            if name not in kw:
                break
            args.append(repr(kw.pop(name)))
    text = f"nn.{type_name}({', '.join(args + [f'{k}={v!r}' for k, v in kw.items()])})"
    steps, batch = rng.choice([1, 2, 5]), rng.choice([1, 2, 3])
    feats = inp if rng.random() > 0.1 else inp + 1
    roll = rng.random()
    shape = (steps, feats) if roll < 0.2 else (steps, batch, feats, 1) if roll < 0.23 else (steps, batch, feats)
    return Case("torch", text, shape)


# ------------------------------------------------------------------ ONNX

def _onnx_model(case: Case):
    from onnx import TensorProto, helper

    spec = case.onnx
    op, attrs, inits = spec["op"], spec["attrs"], spec["inits"]
    names = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
    inputs = ["X"] + [n if n in inits else "" for n in ("W", "R", "B")]
    while inputs and inputs[-1] == "":
        inputs.pop()
    tensors = [helper.make_tensor(n, TensorProto.FLOAT, list(s), np.zeros(math.prod(s), np.float32).tolist())
               for n, s in inits.items()]
    node = helper.make_node(op, inputs, names, **{k: v for k, v in attrs.items() if v is not None})
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                                          list(case.input_shape))],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in names],
                              initializer=tensors)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10), names, inits


def onnx_outcome(case: Case) -> Outcome:
    """onnxruntime's verdict. Its CPU kernels refuse ``layout=1``, which the ONNX spec allows: such a
    case is run by onnxruntime as its ``layout=0`` twin (batch and sequence swapped), and the shapes
    are onnx shape inference's for the ``layout=1`` model."""
    import onnx
    import onnxruntime as ort

    if case.onnx["attrs"].get("layout") == 1 and len(case.input_shape) == 3:
        s = case.input_shape
        twin = Case("onnx", case.text, (s[1], s[0], s[2]),
                    {**case.onnx, "attrs": {**case.onnx["attrs"], "layout": 0}})
        verdict = onnx_outcome(twin)
        if verdict.status == "reject":
            return verdict
        model, names, _ = _onnx_model(case)
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        dims = {vi.name: tuple(d.dim_value for d in vi.type.tensor_type.shape.dim) for vi in inferred.graph.output}
        return Outcome("ok", [dims[n] for n in names], verdict.params)
    model, names, inits = _onnx_model(case)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 4
    try:
        sess = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        ys = sess.run(names, {"X": np.zeros(case.input_shape, np.float32)})
    except Exception as exc:  # noqa: BLE001
        return Outcome("reject", message=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
    return Outcome("ok", [tuple(int(d) for d in y.shape) for y in ys], sum(math.prod(s) for s in inits.values()))


def gen_onnx(rng: random.Random) -> Case:
    op = rng.choice(("RNN", "LSTM", "GRU"))
    g = {"RNN": 1, "LSTM": 4, "GRU": 3}[op]
    hidden, inp = rng.choice([1, 2, 3, 5]), rng.choice([1, 2, 4])
    direction = rng.choice([None, "forward", "reverse", "bidirectional"])
    d = 2 if direction == "bidirectional" else 1
    layout = rng.choice([None, 0, 1])
    wd = d if rng.random() > 0.05 else 3 - d
    wg = g if rng.random() > 0.05 else g + 1
    inits = {"W": (wd, wg * hidden, inp), "R": (d, g * hidden, hidden if rng.random() > 0.04 else hidden + 1)}
    if rng.random() < 0.6:
        inits["B"] = (d, 2 * g * hidden if rng.random() > 0.04 else g * hidden)
    attrs = {"hidden_size": hidden, "direction": direction, "layout": layout}
    kw = [f"W={inits['W']}", f"R={inits['R']}"] + ([f"B={inits['B']}"] if "B" in inits else [])
    kw += [f"{k}={v!r}" for k, v in attrs.items() if v is not None]
    steps, batch = rng.choice([1, 2, 5]), rng.choice([1, 2, 3])
    feats = inp if rng.random() > 0.08 else inp + 1
    shape = (batch, steps, feats) if layout == 1 else (steps, batch, feats)
    if rng.random() < 0.03:
        shape = shape[1:]
    return Case("onnx", f"{op}({', '.join(kw)})", shape, {"op": op, "attrs": attrs, "inits": inits})


def keras_check(case: Case) -> tuple[Outcome, str | None]:
    """Keras' verdict and the disagreement, if any. With a ``backward_layer`` of other units Keras
    disagrees with itself (``compute_output_shape`` reports the forward's units twice, the tensor
    has both), so such cases run eagerly, ``None`` dims replaced by 3."""
    if "backward_layer" in case.text and any(d is None for d in case.input_shape):
        case = Case(case.framework, case.text, tuple(3 if d is None else d for d in case.input_shape))
    want = keras_outcome(case)
    return want, compare(case, want, shapesmith_outcome(case), "keras")
