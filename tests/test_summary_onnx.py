"""``shapesmith.summary`` on ONNX files (PyTorch models exported here, and graphs built with
``onnx.helper``), checked against onnxruntime: output shapes, parameter counts (the initializers),
and every valid-input box (the model run at sizes inside and just outside it)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

from onnx import TensorProto, helper  # noqa: E402

from shapesmith import summarize as S
from shapesmith import ShapesmithError  # noqa: E402
from shapesmith.dims import Expr  # noqa: E402
from tests.models import torch_models as tm  # noqa: E402


def _export(model, shape, path, dynamic: dict | None = None, dtype=torch.float32) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), torch.zeros(shape, dtype=dtype), str(path), input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": dynamic} if dynamic else None, dynamo=False)
    return str(path)


def _free(path: str, axes: dict[int, str], out) -> str:
    """The model with input axes made dynamic (so onnxruntime takes other sizes) and no stale value_info."""
    model = onnx.load(path)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for j, name in axes.items():
        dims[j].Clear()
        dims[j].dim_param = name
    for value in list(model.graph.output):
        for d in value.type.tensor_type.shape.dim:
            d.Clear()
            d.dim_param = "any"
    del model.graph.value_info[:]
    onnx.save(model, str(out))
    return str(out)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("onnx")
    return {
        "resnet18": _export(tm.resnet18(), (1, 3, 32, 32), root / "resnet18.onnx", {2: "h", 3: "w"}),
        "unet": _export(tm.UNet(), (1, 3, 16, 16), root / "unet.onnx", {2: "h", 3: "w"}),
        "vgg": _export(tm.VGG(), (1, 3, 224, 224), root / "vgg.onnx"),
        "functional": _export(tm.FunctionalNet(), (2, 3, 8, 8), root / "functional.onnx", {0: "batch"}),
        "tagger": _export(tm.LSTMTagger(), (1, 6), root / "tagger.onnx", {1: "L"}, torch.long),
        "root": root,
    }


def _run(path: str, shape: tuple, dtype=np.float32):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: np.zeros(shape, dtype=dtype)})


def _runs(path: str, shape: tuple, dtype=np.float32) -> bool:
    """onnxruntime takes the input, per the ONNX spec. Where a pooling window is larger than its padded
    input, the spec's ``floor((i + pads - k)/s) + 1`` is 0 but onnxruntime divides truncating toward
    zero and returns 1 (reading past the input): such a run counts as refused. Every node output is
    made a graph output to see the pools' inputs."""
    probe = _probe(path)
    try:
        values = _run(probe, shape, dtype)
    except Exception:  # noqa: BLE001 -- onnxruntime's failures (Fail, InvalidArgument, RuntimeException)
        return False
    model = onnx.load(probe)
    sizes = dict(zip([o.name for o in model.graph.output], [np.shape(v) for v in values]))
    sizes[model.graph.input[0].name] = shape
    for node in model.graph.node:
        if node.op_type in ("MaxPool", "AveragePool"):
            attrs = {a.name: list(a.ints) for a in node.attribute}
            kernel = attrs["kernel_shape"]
            pads = attrs.get("pads", [0] * 2 * len(kernel))
            spatial = sizes[node.input[0]][2:]
            if any(i + pads[j] + pads[j + len(kernel)] < k for j, (i, k) in enumerate(zip(spatial, kernel))):
                return False
    return all(0 not in s for s in sizes.values())


def _probe(path: str) -> str:
    out = path.replace(".onnx", "_probe.onnx")
    if out not in _PROBES:
        model = onnx.load(path)
        known = {o.name for o in model.graph.output}
        for node in model.graph.node:
            for name in node.output:
                if name and name not in known and node.op_type not in ("Constant", "Shape"):
                    model.graph.output.append(helper.make_empty_tensor_value_info(name))
        onnx.save(model, out)
        _PROBES.add(out)
    return out


_PROBES: set[str] = set()


def _initializer_count(path: str) -> int:
    model = onnx.load(path)
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer
               if t.data_type == TensorProto.FLOAT and len(t.dims) > 0)


@pytest.mark.parametrize("key, shape, dtype", [("resnet18", (1, 3, 40, 56), np.float32),
                                                ("unet", (1, 3, 24, 32), np.float32),
                                                ("vgg", (1, 3, 224, 224), np.float32),
                                                ("functional", (3, 3, 8, 8), np.float32),
                                                ("tagger", (1, 9), np.int64)])
def test_shapes_and_params_equal_onnxruntime(exported, key, shape, dtype):
    path = exported[key]
    s = S.summary(path, input_shape=shape)
    (y,) = _run(path, shape, dtype)
    assert s.output_shape == y.shape
    assert s.params == _initializer_count(path)
    assert not any(r.gap for r in s.rows) and s.warnings == ()


def check_valid_inputs(path: str, dtype=np.float32) -> S.Summary:
    s = S.summary(path, valid_inputs=True)
    assert s.valid_inputs, s.notes
    symbols = list(s.valid_inputs[0].dims)
    for box in s.valid_inputs:
        inside = {n: box.dims[n].min for n in symbols}
        for n in symbols:
            r = box.dims[n]
            top = r.max if r.max is not None else r.min + 2 * r.step
            for v in {r.min - 1, r.min, r.min + 1, top, top + 1}:
                if v < 1:
                    continue
                point = {**inside, n: v}
                shape = tuple(point[str(d)] if isinstance(d, Expr) else (1 if d is None else d) for d in s.input_shape)
                expected = any(point in b for b in s.valid_inputs)
                assert _runs(path, shape, dtype) == expected, (shape, expected, [b.text() for b in s.valid_inputs])
    return s


def test_declared_sizes_are_checked(exported):
    s = S.summary(exported["resnet18"], input_shape=(2, 3, 40, 56))
    assert s.output_shape == (2, 1000) and "declared (1, 3, h, w)" in s.warnings[0]
    assert not _runs(exported["resnet18"], (2, 3, 40, 56))


def test_valid_inputs_dynamic_exports(exported):
    assert [b.text() for b in check_valid_inputs(exported["resnet18"]).valid_inputs] == ["h, w >= 1"]
    (box,) = check_valid_inputs(exported["unet"]).valid_inputs
    assert box.text() == "h, w in 8.., multiple of 8" and any("/Concat_2" in r for r in box.reason)


def test_valid_inputs_of_a_fixed_export_with_its_sizes_set_free(exported):
    path = _free(exported["vgg"], {2: "h", 3: "w"}, exported["root"] / "vgg_free.onnx")
    s = check_valid_inputs(path)
    assert "h, w in 224..255" in [b.text() for b in s.valid_inputs]
    declared = S.summary(exported["vgg"], valid_inputs=True)
    assert declared.size_origin.startswith("the architecture fixes the input size")


def test_failing_input(exported):
    path = _free(exported["vgg"], {2: "h", 3: "w"}, exported["root"] / "vgg_free2.onnx")
    with pytest.raises(S.InputRejected) as caught:
        S.summary(path, input_shape=(1, 3, 260, 224))
    assert "Gemm" in caught.value.layer and "nearest valid input (1, 3, 255, 224)" in str(caught.value)
    assert not _runs(path, (1, 3, 260, 224)) and _runs(path, (1, 3, 255, 224))


def _graph_file(tmp_path, nodes, inputs, outputs, initializers=()) -> str:
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "g.onnx"
    onnx.save(model, str(path))
    return str(path)


def test_unsupported_op_is_a_named_gap(tmp_path):
    w = helper.make_tensor("W", TensorProto.FLOAT, (4, 3, 3, 3), np.zeros(108, np.float32))
    k = helper.make_tensor("K", TensorProto.INT64, (1,), [2])
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], name="conv"),
             helper.make_node("TopK", ["c", "K"], ["v", "i"], name="topk", axis=3),
             helper.make_node("Relu", ["v"], ["y"], name="relu")]
    path = _graph_file(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, (1, 3, 8, 8))],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w, k])
    s = S.summary(path)
    gaps = {r.name: r.gap for r in s.rows if r.gap}
    assert gaps == {"topk": "ONNX TopK: no shapesmith mapping"}
    assert s.rows[0].output_shape == (1, 4, 6, 6) and s.output_shape is None and s.params == 108


def test_bad_files(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage that is not a protobuf \xff\xff")
    with pytest.raises(ShapesmithError, match="cannot read .* as ONNX|has no graph nodes"):
        S.summary(str(bad))
    with pytest.raises(ShapesmithError, match="no such file"):
        S.summary(str(tmp_path / "missing.onnx"))
