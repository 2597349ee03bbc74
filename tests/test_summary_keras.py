"""``shapesmith.summary`` on Keras 3 models (keras.applications with ``weights=None``, and functional,
Sequential and nested models built here), checked against Keras: per-layer output shapes and
parameter counts, totals (trainable and not), and every valid-input box checked by calling the
model's own built layers on inputs inside and just outside it (Keras refuses a Dense built for
other features, a window that does not fit, an Add of unequal shapes)."""

from __future__ import annotations

import functools
import math
import os

import pytest

keras = pytest.importorskip("keras")

from shapesmith import summarize as S
from shapesmith import ShapesmithError  # noqa: E402
from shapesmith.dims import Expr  # noqa: E402
from shapesmith.render.summary import render_summary  # noqa: E402
from tests.models import keras_models as km  # noqa: E402

APPLICATIONS = {
    "VGG16-top": ("VGG16", {"include_top": True}),
    "VGG16-notop": ("VGG16", {"include_top": False, "input_shape": (None, None, 3)}),
    "ResNet50-top": ("ResNet50", {"include_top": True}),
    "MobileNetV2-0.35": ("MobileNetV2", {"include_top": True, "alpha": 0.35}),
}


@functools.lru_cache(maxsize=None)
def _application(key: str):
    name, kwargs = APPLICATIONS[key]
    return getattr(keras.applications, name)(weights=None, **kwargs)


def _same_dims(ours: tuple, theirs: tuple) -> bool:
    """Equal, a symbolic dim standing for Keras' None."""
    return len(ours) == len(theirs) and all(
        t is None and (o is None or isinstance(o, Expr)) or o == t for o, t in zip(ours, theirs))


def _check_against_keras(model, s: S.Summary) -> None:
    rows = {r.name: r for r in s.rows}
    compared = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer) or len(layer._inbound_nodes) != 1 or layer.name not in rows:
            continue
        row = rows[layer.name]
        outs = layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]
        ours = row.output_shape if isinstance(row.output_shape, list) else [row.output_shape]
        assert all(_same_dims(tuple(o), tuple(t.shape)) for o, t in zip(ours, outs)), (layer.name, ours)
        assert row.params == layer.count_params(), layer.name
        compared += 1
    assert compared
    assert s.params == model.count_params()
    assert s.trainable == sum(math.prod(w.shape) for w in model.trainable_weights)
    assert s.non_trainable == sum(math.prod(w.shape) for w in model.non_trainable_weights)
    outs = model.outputs
    ours = s.output_shape if isinstance(s.output_shape, list) else [s.output_shape]
    assert all(_same_dims(tuple(o), tuple(t.shape)) for o, t in zip(ours, outs))
    assert not any(r.gap for r in s.rows)


@pytest.mark.parametrize("key", list(APPLICATIONS))
def test_applications_match_keras(key):
    model = _application(key)
    _check_against_keras(model, S.summary(model))


def _accepts(model, shape: tuple, real: bool = False) -> bool:
    try:
        km.call_on(model, shape, real)
        return True
    except (ValueError, RuntimeError, TypeError, IndexError):
        return False


def check_valid_inputs(model, extra: list | None = None, real: bool = False) -> S.Summary:
    """Every box checked by Keras: a probe point is accepted iff it is in some box."""
    s = S.summary(model, valid_inputs=True)
    assert s.valid_inputs, s.notes
    symbols = list(s.valid_inputs[0].dims)
    template = s.input_shape
    points = []
    for box in s.valid_inputs:
        inside = {n: box.dims[n].min for n in symbols}
        for n in symbols:
            r = box.dims[n]
            top = r.max if r.max is not None else r.min + 2 * r.step
            points += [{**inside, n: v} for v in {r.min - 1, r.min, r.min + 1, top, top + 1} if v >= 1]
    for point in points + (extra or []):
        shape = tuple(1 if d is None else point[str(d)] if isinstance(d, Expr) else d for d in template)
        expected = any(point in box for box in s.valid_inputs)
        assert _accepts(model, shape, real) == expected, (shape, expected, [b.text() for b in s.valid_inputs])
    return s


def test_vgg16_top_size_comes_from_flatten_dense():
    s = check_valid_inputs(_application("VGG16-top"))
    assert "h, w in 224..255" in [b.text() for b in s.valid_inputs]
    assert s.size_origin.startswith("the architecture fixes the input size: flatten -> fc1 needs 7*7*512 features")


def test_resnet50_top_size_comes_only_from_the_declaration():
    s = check_valid_inputs(_application("ResNet50-top"), extra=[{"h": 300, "w": 97}])
    assert s.size_origin.startswith("only the declared input fixes h=224, w=224")


def test_mobilenet_and_vgg_without_top():
    s = check_valid_inputs(_application("MobileNetV2-0.35"))
    assert any("depthwise conv needs >= 3" in r for r in s.valid_inputs[0].reason)
    s = check_valid_inputs(_application("VGG16-notop"))
    assert [b.text() for b in s.valid_inputs] == ["h, w >= 32"]
    assert s.size_origin is None  # nothing declared fixed


def test_failing_input_on_an_application():
    model = _application("VGG16-top")
    with pytest.raises(S.InputRejected) as caught:
        S.summary(model, input_shape=(None, 230, 300, 3))
    err = caught.value
    assert err.layer == "fc1" and "25088" in str(err)
    assert any("include_top=False" in f for f in err.fixes) and any("GlobalAveragePooling2D" in f for f in err.fixes)
    assert any("nearest valid input (None, 230, 255, 3)" in f for f in err.fixes)
    assert _accepts(model, (1, 230, 255, 3)) and not _accepts(model, (1, 230, 300, 3))


@pytest.mark.parametrize("build", [km.nested_model, km.lstm_tagger, km.transformer_block, km.small_cnn_flatten])
def test_models_built_here(build):
    model = build()
    s = S.summary(model)
    _check_against_keras(model, s)
    check_valid_inputs(model, real=True)
    render_summary(s)


def test_nested_and_shared_layers():
    s = S.summary(km.nested_model())
    assert s.containers == {"stem": "Sequential", "block": "Functional"}
    shared = [r for r in s.rows if r.name == "conv2d" or r.name.endswith("/conv2d")]
    assert [r.params for r in s.rows if r.type == "Conv2D" and r.path == ()][-1] == 0 or shared
    text = render_summary(s, depth=1)
    assert "stem (Sequential)" in text and "└─" not in text


def test_keras_file_round_trip_and_refusals(tmp_path):
    model = km.saved_model()
    path = tmp_path / "saved.keras"
    model.save(path)
    assert S.summary(str(path)).to_dict()["layers"] == S.summary(model).to_dict()["layers"]
    x = keras.Input((4,))
    lam = keras.Model(x, keras.layers.Lambda(lambda t: t * 2)(x))
    lam_path = tmp_path / "lambda.keras"
    lam.save(lam_path)
    with pytest.raises(ShapesmithError, match="Lambda layer .*safe mode"):
        S.summary(str(lam_path))
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(ShapesmithError, match="not a .keras archive"):
        S.summary(str(bad))
    with pytest.raises(ShapesmithError, match="does not load models from this kind of file"):
        S.summary(os.fspath(tmp_path / "weights.h5"))


class _Custom(keras.layers.Layer):
    def call(self, x):
        return x * 2


def test_unmapped_layer_is_a_gap():
    x = keras.Input((8, 8, 3))
    y = keras.layers.Conv2D(4, 3)(_Custom(name="mine")(x))
    s = S.summary(keras.Model(x, y))
    (gap,) = [r for r in s.rows if r.gap]
    assert gap.name == "mine" and "_Custom" in gap.gap
    assert s.output_shape is None
