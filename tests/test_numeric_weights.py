"""Weight files: round trips from each framework's own save functions into ``forward``, names checked against the
framework's own, and hostile files (code in a pickle, wrong content, truncation) refused without running anything.
"""

from __future__ import annotations

import os
import pickle
import sys
import zipfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import keras
import onnx
import onnxruntime as ort
import safetensors.numpy
import safetensors.torch
import torch
from onnx import helper, numpy_helper

from shapesmith import ShapesmithError
from shapesmith.dialects import build_layer
from shapesmith.numeric import forward
from shapesmith.numeric.weights import load_weights

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
F32 = np.float32


def close(got, ref) -> None:
    ref = np.asarray(ref)
    assert got.shape == ref.shape and got.dtype == ref.dtype, (got.shape, ref.shape, got.dtype, ref.dtype)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * max(float(np.max(np.abs(ref))), 1e-30))


def same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        np.testing.assert_array_equal(a[k], b[k])


@pytest.fixture
def no_torch(monkeypatch):
    """``import torch`` fails, as where torch is not installed."""
    monkeypatch.setitem(sys.modules, "torch", None)


def torch_model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4), torch.nn.LayerNorm(4),
                                torch.nn.Embedding(9, 3))
    with torch.no_grad():
        model[1].running_mean.uniform_(-1, 1)
        model[1].running_var.uniform_(0.5, 2)
        model[1].weight.uniform_(-1, 1)
    return model.eval()


# ----------------------------------------------------------------------------- torch
def test_torch_state_dict_into_forward(tmp_path):
    model = torch_model()
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(F32)
    with torch.no_grad():
        h = model[0](torch.from_numpy(x))
        refs = [h.numpy(), model[1](h).numpy(), model[2](h).numpy()]
    h_np = forward("nn.Linear(5, 4)", x, load_weights(path, prefix="0."))
    close(h_np, refs[0])
    close(forward("nn.BatchNorm1d(4)", h_np, load_weights(path, prefix="1")), refs[1])
    close(forward("nn.LayerNorm(4)", h_np, load_weights(path, prefix="2.")), refs[2])
    ids = np.array([[0, 8, 3]])
    with torch.no_grad():
        ref = model[3](torch.from_numpy(ids)).numpy()
    close(forward("nn.Embedding(9, 3)", ids, load_weights(path, prefix="3")), ref)


def test_one_layer_files_without_prefix(tmp_path):
    """Given the layer and no prefix, a file holding one layer's weights gives them without its path."""
    linear = torch.nn.Sequential(torch.nn.Linear(3, 2))
    path = _saved(tmp_path / "one.pt", linear.state_dict())
    assert sorted(load_weights(path)) == ["0.bias", "0.weight"]
    assert sorted(load_weights(path, layer=build_layer("nn.Linear(3, 2)"))) == ["bias", "weight"]
    x = np.ones((1, 3), F32)
    with torch.no_grad():
        close(forward("nn.Linear(3, 2)", x, load_weights(path, layer=build_layer("nn.Linear(3, 2)"))),
              linear(torch.from_numpy(x)).numpy())
    two = _saved(tmp_path / "two.pt", torch_model().state_dict())
    assert "0.weight" in load_weights(two, layer=build_layer("nn.Linear(5, 4)"))  # several layers: all, by path
    graph = helper.make_graph([helper.make_node("Gemm", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", 1, (1, 3))],
                              [helper.make_tensor_value_info("y", 1, None)],
                              [numpy_helper.from_array(np.ones((3, 2), F32), "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "one.onnx")
    assert sorted(load_weights(tmp_path / "one.onnx", layer=build_layer("Gemm()", "onnx"))) == ["B"]


def test_torch_checkpoints(tmp_path):
    state = torch_model().state_dict()
    plain = load_weights(_saved(tmp_path / "a.pt", state))
    assert set(plain) == set(state)
    same(load_weights(_saved(tmp_path / "b.pth", {"epoch": 3, "state_dict": state, "lr": 0.1})), plain)
    same(load_weights(_saved(tmp_path / "c.pt", {"model": {"net": state}, "step": 7})), plain)
    both = load_weights(_saved(tmp_path / "d.pt", {"model": state, "ema": state}))  # ambiguous: full paths
    assert "model.0.weight" in both and "ema.0.weight" in both
    same(load_weights(tmp_path / "d.pt", prefix="ema"), plain)
    with pytest.raises(ShapesmithError, match="no weights under the prefix 'nope'.*0, 1, 2, 3"):
        load_weights(tmp_path / "a.pt", prefix="nope")


def _saved(path, obj):
    torch.save(obj, path)
    return path


def test_torch_zip_read_without_torch(tmp_path, monkeypatch):
    """The archive's own reader agrees with torch.load, dtype for dtype (bfloat16 widened, views copied)."""
    state = torch_model().state_dict()
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    state.update({"half": torch.ones(3, dtype=torch.float16) / 3, "bf16": torch.randn(5).to(torch.bfloat16),
                  "int": torch.arange(4, dtype=torch.int32), "view": base.t(), "slice": base[1:, 2:4],
                  "scalar": torch.tensor(2.5), "empty": torch.zeros(0, 3)})
    path = _saved(tmp_path / "all.pt", {"state_dict": state, "epoch": 1})
    with_torch = load_weights(path)
    assert with_torch["bf16"].dtype == np.float32 and with_torch["view"].shape == (6, 4)
    monkeypatch.setitem(sys.modules, "torch", None)
    same(load_weights(path), with_torch)


class _CreatesFile:
    """A pickle payload that, if ever unpickled, creates a file."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return open, (self.target, "w")


@pytest.mark.parametrize("torch_present", [True, False])
@pytest.mark.parametrize("legacy", [False, True])
def test_torch_pickle_with_code_is_refused(tmp_path, monkeypatch, torch_present, legacy):
    target = tmp_path / "created_by_pickle"
    path = tmp_path / "evil.pt"
    payload = {"weight": torch.ones(2), "evil": _CreatesFile(target)}
    if legacy:  # a plain pickle, as torch's legacy format starts
        path.write_bytes(pickle.dumps({"evil": payload["evil"]}, protocol=2))
    else:
        torch.save(payload, path)
    if not torch_present:
        monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ShapesmithError, match="io.open|legacy"):
        load_weights(path)
    assert not target.exists()


def test_torch_file_that_is_not_one(tmp_path, no_torch):
    text = tmp_path / "model.pt"
    text.write_text("these are not weights\n")
    with pytest.raises(ShapesmithError, match="content does not match its extension"):
        load_weights(text)
    truncated = tmp_path / "cut.pt"
    truncated.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(ShapesmithError):
        load_weights(truncated)


def test_torch_truncated_archive(tmp_path, monkeypatch):
    path = _saved(tmp_path / "m.pt", torch_model().state_dict())
    data = path.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ShapesmithError):
        load_weights(cut)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ShapesmithError):
        load_weights(cut)
    # a storage missing from an otherwise valid archive
    broken = tmp_path / "broken.pt"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            if not item.filename.endswith("/data/0"):
                dst.writestr(item, src.read(item))
    with pytest.raises(ShapesmithError, match="missing"):
        load_weights(broken)


# ----------------------------------------------------------------------------- safetensors, npz
def test_safetensors(tmp_path):
    state = {k: v.contiguous() for k, v in torch_model().state_dict().items()}
    state["bf16"] = torch.randn(2, 3).to(torch.bfloat16)
    path = tmp_path / "m.safetensors"
    safetensors.torch.save_file(state, path)
    loaded = load_weights(path)
    for k, v in state.items():
        expected = v.float().numpy() if v.dtype == torch.bfloat16 else v.numpy()
        np.testing.assert_array_equal(loaded[k], expected)
        assert loaded[k].dtype == expected.dtype
    x = np.random.default_rng(1).standard_normal((2, 5)).astype(F32)
    with torch.no_grad():
        ref = torch_model()[0](torch.from_numpy(x)).numpy()
    close(forward("nn.Linear(5, 4)", x, load_weights(path, prefix="0")), ref)
    data = path.read_bytes()
    for cut in (len(data) - 7, 12, 5):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(ShapesmithError, match="truncated|does not match"):
            load_weights(bad)
    garbage = tmp_path / "g.safetensors"
    garbage.write_bytes(b"\xff" * 64)
    with pytest.raises(ShapesmithError, match="does not match"):
        load_weights(garbage)


def test_npz(tmp_path):
    arrays = {"kernel": np.ones((3, 2), F32), "bias": np.arange(2, dtype=F32)}
    np.savez(tmp_path / "w.npz", **arrays)
    same(load_weights(tmp_path / "w.npz"), arrays)
    np.savez(tmp_path / "obj.npz", kernel=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(ShapesmithError, match="unpickling"):
        load_weights(tmp_path / "obj.npz")
    np.savez(tmp_path / "str.npz", names=np.array(["a", "b"]))
    with pytest.raises(ShapesmithError, match="dtype"):
        load_weights(tmp_path / "str.npz")
    (tmp_path / "fake.npz").write_text("not a zip")
    with pytest.raises(ShapesmithError, match="does not match"):
        load_weights(tmp_path / "fake.npz")


# ----------------------------------------------------------------------------- keras
def keras_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 6))
    x = keras.layers.Dense(5, name="proj")(inputs)
    x = keras.layers.BatchNormalization(center=False, name="bn")(x)
    x = keras.layers.LayerNormalization(scale=False, name="ln")(x)
    inner = keras.Sequential([keras.layers.Dense(3, name="d1"), keras.layers.Dense(2, use_bias=False, name="d2")],
                             name="inner")
    x = inner(x)
    x = keras.layers.LSTM(3, return_sequences=True, name="lstm")(x)
    x = keras.layers.Bidirectional(keras.layers.GRU(2, name="gru"), name="bidi")(x)
    model = keras.Model(inputs, x)
    for v in model.weights:  # not the initial values: ones and zeros would hide a mix-up
        v.assign(np.random.default_rng(len(v.path)).uniform(0.5, 1.5, tuple(v.shape)).astype(F32))
    return model


def keras_names(model: keras.Model) -> dict[str, np.ndarray]:
    """The model's weights by the names shapesmith gives them: the layer's name, then Keras' variable name."""
    out = {}
    for layer in model.layers:
        sub = layer.layers if isinstance(layer, keras.Model) else [layer]
        for inner in sub:
            path = f"{layer.name}.{inner.name}." if inner is not layer else f"{layer.name}."
            if isinstance(inner, keras.layers.Bidirectional):
                for side in ("forward", "backward"):
                    for v in getattr(inner, f"{side}_layer").weights:
                        out[f"{path}{side}_{v.name}"] = keras.ops.convert_to_numpy(v.value)
                continue
            for v in inner.weights:
                out[path + v.name] = keras.ops.convert_to_numpy(v.value)
    return out


@pytest.mark.parametrize("kind", ["keras", "legacy_h5", "weights_h5"])
def test_keras_files(tmp_path, kind):
    model = keras_model()
    expected = keras_names(model)
    if kind == "keras":
        model.save(tmp_path / "m.keras")
        loaded = load_weights(tmp_path / "m.keras")
    elif kind == "legacy_h5":
        model.save(tmp_path / "m.h5")
        loaded = load_weights(tmp_path / "m.h5")
    else:  # no config: a layer's arguments only by the caller's layer, else its variable count
        model.save_weights(tmp_path / "m.weights.h5")
        with pytest.raises(ShapesmithError, match="layer bn: 3 stored variable"):
            load_weights(tmp_path / "m.weights.h5")
        with pytest.raises(ShapesmithError, match="layer ln: 1 stored variable"):
            load_weights(tmp_path / "m.weights.h5", prefix="ln")
        loaded = {}
        for prefix, text in (("bn", "BatchNormalization(center=False)"), ("ln", "LayerNormalization(scale=False)")):
            chosen = load_weights(tmp_path / "m.weights.h5", prefix=prefix, layer=build_layer(text))
            loaded.update({f"{prefix}.{k}": v for k, v in chosen.items()})
        for prefix in ("proj", "inner", "lstm", "bidi"):
            chosen = load_weights(tmp_path / "m.weights.h5", prefix=prefix)
            loaded.update({f"{prefix}.{k}": v for k, v in chosen.items()})
    same(loaded, expected)


def test_keras_weights_into_forward(tmp_path):
    model = keras_model()
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    x = np.random.default_rng(2).standard_normal((2, 4, 6)).astype(F32)
    dense = model.get_layer("proj")
    h = keras.ops.convert_to_numpy(dense(x))
    ref = keras.ops.convert_to_numpy(model.get_layer("bn")(h))
    for path in (tmp_path / "m.keras", tmp_path / "m.weights.h5"):
        close(forward("Dense(5)", x, load_weights(path, prefix="proj")), h)
        text = "BatchNormalization(center=False)"
        close(forward(text, h, load_weights(path, prefix="bn", layer=build_layer(text))), ref)


def test_keras_single_layer_file(tmp_path):
    """One layer with weights: the layer given names its variables without a prefix."""
    layer = keras.layers.BatchNormalization(scale=False, epsilon=0.01)
    model = keras.Sequential([keras.Input((3,)), layer])
    for v in model.weights:
        v.assign(np.random.default_rng(3).uniform(0.5, 1.5, tuple(v.shape)).astype(F32))
    model.save_weights(tmp_path / "bn.weights.h5")
    text = "BatchNormalization(scale=False, epsilon=0.01)"
    weights = load_weights(tmp_path / "bn.weights.h5", layer=build_layer(text))
    assert sorted(weights) == ["beta", "moving_mean", "moving_variance"]
    x = np.random.default_rng(4).standard_normal((5, 3)).astype(F32)
    close(forward(text, x, weights), keras.ops.convert_to_numpy(layer(x)))


def test_keras_h5_reading_other_files_is_refused(tmp_path):
    """An HDF5 dataset can name another file's bytes (external storage) or link to another file: refused."""
    import h5py
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(4, dtype=F32).tobytes())
    with h5py.File(tmp_path / "ext.weights.h5", "w") as f:
        f.create_dataset("layers/dense/vars/0", shape=(4,), dtype=F32, external=[(str(secret), 0, 16)])
        f["layers/dense/vars"].attrs["name"] = "dense"
    with pytest.raises(ShapesmithError, match="not a dataset stored in the file"):
        load_weights(tmp_path / "ext.weights.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_dataset("w", data=np.ones(2, F32))
    with h5py.File(tmp_path / "link.h5", "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        f["dense"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/")
    with pytest.raises(ShapesmithError, match="links to another file"):
        load_weights(tmp_path / "link.h5")


def test_keras_files_that_are_not(tmp_path):
    (tmp_path / "m.weights.h5").write_text("text")
    with pytest.raises(ShapesmithError, match="HDF5"):
        load_weights(tmp_path / "m.weights.h5")
    with zipfile.ZipFile(tmp_path / "m.keras", "w") as z:
        z.writestr("config.json", "{}")
    with pytest.raises(ShapesmithError, match="without model.weights.h5"):
        load_weights(tmp_path / "m.keras")


# ----------------------------------------------------------------------------- onnx
def test_onnx_initializers_by_node(tmp_path):
    g = np.random.default_rng(5)
    b, c = g.standard_normal((6, 4)).astype(F32), g.standard_normal(4).astype(F32)
    bn = {"scale": g.standard_normal(4), "bias": g.standard_normal(4), "mean": g.standard_normal(4),
          "var": g.uniform(0.5, 2, 4)}
    inits = {"fc.weight": b, "fc.bias": c, **{f"bn.{k}": v.astype(F32) for k, v in bn.items()}}
    nodes = [helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], name="fc", alpha=0.5),
             helper.make_node("BatchNormalization", ["h", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["y"],
                              name="bn", epsilon=0.01)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", 1, (3, 6))],
                              [helper.make_tensor_value_info("y", 1, None)],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    model.ir_version = 8
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    same(load_weights(path), inits)
    same(load_weights(path, prefix="fc"), {"B": b, "C": c})
    x = g.standard_normal((3, 6)).astype(F32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ref = session.run(None, {"x": x})[0]
    h = forward("Gemm(B=(6, 4), C=(4,), alpha=0.5)", x, load_weights(path, prefix="fc"), framework="onnx")
    y = forward("BatchNormalization(scale=(4,), epsilon=0.01)", h, load_weights(path, prefix="bn"),
                framework="onnx")
    close(y, ref)
    same(load_weights(path, prefix="bn."), {k: v.astype(F32) for k, v in bn.items()})  # by initializer names
    assert sorted(load_weights(path, layer=build_layer("Gemm()", "onnx"))) == sorted(inits)  # two nodes: all
    with pytest.raises(ShapesmithError, match="no node named 'conv'.*fc, bn"):
        load_weights(path, prefix="conv")


def test_onnx_external_data_outside_is_refused(tmp_path):
    tensor = numpy_helper.from_array(np.ones(4, F32), "w")
    tensor.ClearField("raw_data")
    tensor.data_location = onnx.TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="../outside.bin")
    graph = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "g", [],
                              [helper.make_tensor_value_info("y", 1, None)], [tensor])
    model = helper.make_model(graph)
    (tmp_path / "sub").mkdir()
    onnx.save(model, tmp_path / "sub" / "m.onnx")
    (tmp_path / "outside.bin").write_bytes(np.ones(4, F32).tobytes())
    with pytest.raises(ShapesmithError, match="outside the model's directory"):
        load_weights(tmp_path / "sub" / "m.onnx")


def test_onnx_file_that_is_not(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"\xff\xfe not a protobuf")
    with pytest.raises(ShapesmithError, match="ONNX"):
        load_weights(tmp_path / "m.onnx")


# ----------------------------------------------------------------------------- paths
def test_paths(tmp_path):
    with pytest.raises(ShapesmithError, match="does not exist"):
        load_weights(tmp_path / "missing.pt")
    with pytest.raises(ShapesmithError, match="not a file"):
        load_weights(tmp_path)
    (tmp_path / "w.txt").write_text("x")
    with pytest.raises(ShapesmithError, match="unknown weight file extension '.txt'"):
        load_weights(tmp_path / "w.txt")
