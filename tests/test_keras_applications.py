"""``keras.applications`` models (``weights=None``) written out as functional code by
:mod:`tests.oracles.keras_applications` trace to Keras' own per-layer output shapes and
parameter counts: at the default input size with the top, and without the top on a
``(None, None, 3)`` input traced as ``(h, w, 3)``, whose dims, substituted, must match models
Keras builds at those sizes.

Each model is built once per process (InceptionResNetV2 has 782 layers).
"""

from __future__ import annotations

import functools

import pytest

keras = pytest.importorskip("keras")

import shapesmith  # noqa: E402
from shapesmith.dims import subs  # noqa: E402
from tests.oracles.keras_applications import Unmapped, functional_code  # noqa: E402

from keras.src.applications.inception_resnet_v2 import CustomScaleLayer  # noqa: E402

MODELS = ("VGG16", "ResNet50", "MobileNetV2", "InceptionResNetV2")
SIZES = ((75, 99), (160, 131))  # (h, w) substituted into the symbolic traces; IRv2 needs >= 75
SHOW = 12


@functools.lru_cache(maxsize=None)
def _model(name: str, include_top: bool, size: tuple | None = None):
    kwargs = {} if include_top else {"input_shape": (*(size or (None, None)), 3)}
    return getattr(keras.applications, name)(weights=None, include_top=include_top, **kwargs)


@functools.lru_cache(maxsize=None)
def _traced(name: str, include_top: bool):
    code, substituted = functional_code(_model(name, include_top))
    return code, substituted, shapesmith.trace(code)


def _by_name(trace) -> dict:
    assert len(set(trace.names)) == len(trace.names), "layer names repeat"
    return dict(zip(trace.names, trace.layers))


def _fail(title: str, problems: list[str]) -> None:
    if problems:
        more = f"\n... and {len(problems) - SHOW} more" if len(problems) > SHOW else ""
        pytest.fail(f"{title}: {len(problems)} disagreements\n" + "\n".join(problems[:SHOW]) + more, pytrace=False)


def _substitution_check(name: str, substituted: list[str]) -> None:
    # only InceptionResNetV2's private CustomScaleLayer is written as another layer (Add)
    if name == "InceptionResNetV2":
        assert len(substituted) == 40 and all("CustomScaleLayer written as Add" in s for s in substituted)
    else:
        assert substituted == []


@pytest.mark.parametrize("name", MODELS)
def test_default_size_with_top(name):
    model = _model(name, True)
    code, substituted, trace = _traced(name, True)
    _substitution_check(name, substituted)
    got = _by_name(trace)
    problems = []
    for layer in model.layers[1:]:
        r = got[layer.name]
        want_shape, want_params = tuple(layer.output.shape), layer.count_params()
        if tuple(r.output_shape) != want_shape or r.params != want_params:
            problems.append(f"{layer.name} ({type(layer).__name__}): shapesmith {r.output_shape}, {r.params} params; "
                            f"keras {want_shape}, {want_params} params")
    _fail(name, problems)
    assert len(trace.layers) == len(model.layers) - 1
    assert tuple(trace.output_shape) == tuple(model.output.shape)
    assert trace.params == model.count_params()
    assert trace.warnings == ()


@pytest.mark.parametrize("name", MODELS)
def test_symbolic_input_without_top(name):
    model = _model(name, False)
    code, substituted, trace = _traced(name, False)
    _substitution_check(name, substituted)
    assert "keras.Input(shape=(h, w, 3,)" in code
    got = _by_name(trace)
    problems = []
    for layer in model.layers[1:]:  # Keras' None spatial dims are shapesmith's expressions in h, w
        r = got[layer.name]
        want = tuple(layer.output.shape)
        same_known = len(r.output_shape) == len(want) and all(
            (w is None and not isinstance(d, int)) or d == w for d, w in zip(r.output_shape, want))
        if not same_known or r.params != layer.count_params():
            problems.append(f"{layer.name}: shapesmith {r.output_shape}, {r.params} params; keras {want}, "
                            f"{layer.count_params()} params")
    _fail(f"{name} on (None, None, 3)", problems)
    assert trace.params == model.count_params()


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("h, w", SIZES)
def test_symbolic_trace_substituted_matches_the_same_model_rebuilt_at_that_size(name, h, w):
    """The (None, None, 3) model's own config rebuilt on an (h, w) input: the architecture stays
    the one traced (MobileNetV2's correct_pad depends on the size it is built at, see below)."""
    *_, trace = _traced(name, False)
    got = _by_name(trace)
    config = _model(name, False).get_config()
    config["layers"][0]["config"]["batch_shape"] = [None, h, w, 3]
    sized = keras.Model.from_config(config, custom_objects={"CustomScaleLayer": CustomScaleLayer})
    _compare_substituted(f"{name} rebuilt at (h, w) = ({h}, {w})", trace, got, sized, {"h": h, "w": w}, by_name=True)


@pytest.mark.parametrize("name, h, w", [("VGG16", 75, 99), ("ResNet50", 75, 99), ("InceptionResNetV2", 75, 99),
                                        ("MobileNetV2", 96, 128)])
def test_symbolic_trace_substituted_matches_keras_applications_built_at_that_size(name, h, w):
    """``keras.applications`` built at (h, w): the same architecture as the (None, None) one except
    MobileNetV2, whose ``correct_pad`` pads ((0, 1), (0, 1)) for a None or even size and ((1, 1), (1, 1))
    for an odd one: compared where every padded size is even (h, w multiples of 32)."""
    *_, trace = _traced(name, False)
    sized = _model(name, False, (h, w))
    _compare_substituted(f"{name} built at (h, w) = ({h}, {w})", trace, _by_name(trace), sized, {"h": h, "w": w},
                         by_name=False)


def _compare_substituted(title: str, trace, got: dict, sized, env: dict, by_name: bool) -> None:
    problems = []
    assert len(trace.layers) == len(sized.layers) - 1
    for j, layer in enumerate(sized.layers[1:]):  # auto-named layers (IRv2's) are renamed on each build
        r = got[layer.name] if by_name else trace.layers[j]
        shape = tuple(subs(d, env) for d in r.output_shape)
        if shape != tuple(layer.output.shape) or r.params != layer.count_params():
            problems.append(f"{layer.name}: shapesmith {r.output_shape} -> {shape}, {r.params} params; "
                            f"keras {tuple(layer.output.shape)}, {layer.count_params()} params")
    _fail(title, problems)
    assert tuple(subs(d, env) for d in trace.output_shape) == tuple(sized.output.shape)
    assert sized.count_params() == trace.params
    for condition in trace.constraints:  # every reported condition holds at a size Keras accepts
        lhs, op, rhs = condition.split(" ", 2)
        if op == ">=" and lhs in env:
            assert env[lhs] >= int(rhs), condition


def test_symbolic_constraints_are_the_smallest_input():
    """The reported constraints of the symbolic traces: IRv2's valid convs need h, w >= 75."""
    *_, trace = _traced("InceptionResNetV2", False)
    assert {"h >= 75", "w >= 75"} <= set(trace.constraints), trace.constraints
    *_, trace = _traced("VGG16", False)
    assert {"h >= 32", "w >= 32"} <= set(trace.constraints), trace.constraints


def test_unmapped_layer_type_fails_loudly():
    inputs = keras.Input(shape=(8, 8, 3))
    x = keras.layers.Lambda(lambda t: t * 2, name="double")(inputs)
    x = keras.layers.Conv2D(4, 3, name="conv")(x)
    with pytest.raises(Unmapped, match="'double' of type Lambda"):
        functional_code(keras.Model(inputs, x))
