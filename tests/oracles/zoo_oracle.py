"""Oracles for the layer zoo (flatten/reshape, activations, dropout, normalization, embedding):
the real torch module, Keras 3 layer (torch backend) or one-node ONNX model is built from the same
configuration as the layer text and run on zeros (integer zeros for embeddings). Any exception is
a reject. Torch modules run in eval mode: the shapes are the inference shapes (BatchNorm's
"more than one value per channel" is a training-mode rule, noted by shapesmith)."""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field

import numpy as np

import shapesmith

os.environ.setdefault("KERAS_BACKEND", "torch")


@dataclass
class Case:
    framework: str        # torch | keras | onnx
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    input_shape: tuple = ()
    inits: dict = field(default_factory=dict)   # onnx: constant inputs given by shape (name -> shape or values)

    @property
    def text(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        prefix = "nn." if self.framework == "torch" else ""
        return f"{prefix}{self.name}({', '.join(parts)})"

    def repro(self, shape=None) -> str:
        shape = self.input_shape if shape is None else shape
        return f"shapesmith.trace({self.text!r}, input_shape={shape!r}, framework={self.framework!r})"


def ours(case: Case, shape=None):
    """``("ok", shape, params, trace)`` / ``("reject", msg)`` / ``("crash", msg)``."""
    shape = case.input_shape if shape is None else shape
    try:
        t = shapesmith.trace(case.text, input_shape=shape, framework=case.framework)
    except shapesmith.ShapesmithError as exc:
        return ("reject", str(exc)[:300])
    except Exception as exc:  # noqa: BLE001
        return ("crash", f"{type(exc).__name__}: {exc}"[:300])
    return ("ok", tuple(t.output_shape), t.params, t)


# ------------------------------------------------------------------ torch
def run_torch(case: Case):
    import torch
    from torch import nn
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = getattr(nn, case.name)(*case.args, **case.kwargs)
            # Inference shapes; dropout layers in training mode, where they act (and check ranks)
            module.train("Dropout" in case.name)
            params = sum(p.numel() for p in module.parameters())
            if case.name == "Embedding":
                x = torch.zeros(case.input_shape, dtype=torch.long)
            else:
                x = torch.zeros(case.input_shape)
            with torch.no_grad():
                y = module(x)
        except Exception as exc:  # noqa: BLE001
            return ("reject", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
    return ("ok", tuple(y.shape), params)


# ------------------------------------------------------------------ keras
_KERAS = None


def _keras():
    global _KERAS
    if _KERAS is None:
        import keras
        import torch
        torch.set_num_threads(1)
        if keras.backend.backend() != "torch":
            import pytest
            pytest.skip("these tests need KERAS_BACKEND=torch")
        _KERAS = keras
    return _KERAS


def run_keras(case: Case, shape=None, eager: bool = True):
    """Symbolic call on ``KerasTensor(shape)`` (build + compute_output_shape), then count_params."""
    k = _keras()
    shape = case.input_shape if shape is None else shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            layer = getattr(k.layers, case.name)(*case.args, **case.kwargs)
            dtype = "int32" if case.name == "Embedding" else "float32"
            y = layer(k.KerasTensor(shape, dtype=dtype))
            if any(d == 0 for d in y.shape[1:] if d is not None):
                return ("reject", f"zero-sized output {tuple(y.shape)} (shapesmith rejects zero sizes)")
            out = ("ok", tuple(y.shape), layer.count_params())
        except Exception as exc:  # noqa: BLE001
            return ("reject", f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
    if eager and all(d is not None for d in shape[1:]):
        # The symbolic call skips some checks (Softmax's axis): an eager call on zeros must work too.
        got = run_keras_eager(case, (2, *shape[1:]))
        if got[0] == "reject":
            return ("reject", "eager call: " + got[1])
    return out


def run_keras_eager(case: Case, shape):
    """An eager call on zeros, for the concrete shapes (checks the symbolic path agrees)."""
    k = _keras()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            layer = getattr(k.layers, case.name)(*case.args, **case.kwargs)
            dtype = "int32" if case.name == "Embedding" else "float32"
            y = layer(k.ops.zeros(shape, dtype=dtype))
            return ("ok", tuple(y.shape), layer.count_params())
        except Exception as exc:  # noqa: BLE001
            return ("reject", f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")


# ------------------------------------------------------------------ onnx
def run_onnx(case: Case):
    """A one-node model; ``case.inits`` maps input names to a shape (random values) or, for
    ``shape``, the int64 values. Params: the float initializers' sizes."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    from tests.oracles.onnx_oracle import _SESSION_OPTIONS, IR_VERSION, OPSET
    rng = np.random.default_rng(0)
    inputs, inits, params = ["X"], [], 0
    for name, value in case.inits.items():
        if value is None:
            inputs.append("")
            continue
        inputs.append(name)
        if name == "shape":
            inits.append(helper.make_tensor(name, TensorProto.INT64, [len(value)], list(value)))
        else:
            n = math.prod(value)
            params += n
            data = rng.uniform(0.5, 1.5, n).astype(np.float32).tolist()
            inits.append(helper.make_tensor(name, TensorProto.FLOAT, list(value), data))
    while inputs and inputs[-1] == "":
        inputs.pop()
    node = helper.make_node(case.name, inputs, ["Y"], **case.kwargs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                                           list(case.input_shape))],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    try:
        sess = ort.InferenceSession(model.SerializeToString(), _SESSION_OPTIONS, providers=["CPUExecutionProvider"])
        (y,) = sess.run(["Y"], {"X": np.zeros(case.input_shape, np.float32)})
    except Exception as exc:  # noqa: BLE001
        return ("reject", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    return ("ok", tuple(int(d) for d in y.shape), params)


def compare(case: Case, want, got, shape=None) -> str | None:
    """A description of the disagreement, or None."""
    shape = case.input_shape if shape is None else shape
    head = f"{case.text} on {shape!r}"
    if got[0] == "crash":
        return f"{head}: shapesmith crashed: {got[1]}\n    repro: {case.repro(shape)}"
    if want[0] != got[0]:
        w = f"{case.framework} {'accepts -> ' + str(want[1]) if want[0] == 'ok' else 'rejects: ' + want[1]}"
        g = f"shapesmith {'accepts -> ' + str(got[1]) if got[0] == 'ok' else 'rejects: ' + got[1]}"
        return f"{head}: {w}; {g}\n    repro: {case.repro(shape)}"
    if want[0] == "ok" and (tuple(want[1]) != tuple(got[1]) or want[2] != got[2]):
        return (f"{head}: {case.framework} gives {want[1]} with {want[2]} params, shapesmith {got[1]} with "
                f"{got[2]} params\n    repro: {case.repro(shape)}")
    return None


def report(problems: list[str], n: int, what: str) -> str:
    return f"{len(problems)} of {n} {what} configs disagree:\n  " + "\n  ".join(problems[:15])
