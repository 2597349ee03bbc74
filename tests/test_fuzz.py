"""Fuzzed layer text and shapes: the only failure allowed is a ShapesmithError (bounded run;
`make fuzz` runs longer)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shapesmith
from shapesmith import ShapesmithError

EXAMPLES = int(os.environ.get("SHAPESMITH_FUZZ_EXAMPLES", "400"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="SHAPESMITH_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=list(HealthCheck))

NAMES = ["nn.Conv1d", "nn.Conv2d", "nn.ConvTranspose2d", "nn.ConvTranspose3d", "nn.MaxPool2d", "nn.AvgPool1d",
         "Conv2D", "Conv1D", "Conv2DTranspose", "MaxPooling2D", "AveragePooling3D", "GlobalAveragePooling2D",
         "Convolution2D", "Deconvolution2D", "MaxPooling1D", "tf.nn.conv2d", "tf.nn.conv2d_transpose",
         "tf.nn.max_pool2d", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalMaxPool", "Bogus"]
KEYWORDS = ["stride", "strides", "padding", "dilation", "dilation_rate", "groups", "output_padding", "kernel_size",
            "padding_mode", "ceil_mode", "border_mode", "subsample", "dim_ordering", "data_format", "filters",
            "output_shape", "pads", "auto_pad", "kernel_shape", "W", "B", "use_bias", "bias", "keepdims",
            "input_shape", "batch_input_shape", "count_include_pad", "ksize"]
atoms = st.one_of(
    st.integers(-3, 12).map(str),
    st.sampled_from(["None", "True", "False", "'same'", "'valid'", "'causal'", "'full'", "'SAME'", "'VALID'",
                     "'reflect'", "'circular'", "'th'", "'tf'", "'SAME_UPPER'", "'SAME_LOWER'", "'NCHW'", "h",
                     "2*h", "h - 1", "10**30", "1.5", "x", "lambda: 0", "__import__('os')", "[]", "()"]),
)
values = st.recursive(atoms, lambda inner: st.lists(inner, max_size=5).map(lambda xs: "(" + ", ".join(xs) + ",)"),
                      max_leaves=8)
calls = st.builds(
    lambda name, args, kwargs, applied: f"{name}({', '.join(args + [f'{k}={v}' for k, v in kwargs])})" + (
        f"(x, output_size={applied})" if applied else ""),
    st.sampled_from(NAMES), st.lists(values, max_size=5), st.lists(st.tuples(st.sampled_from(KEYWORDS), values),
                                                                      max_size=4, unique_by=lambda kv: kv[0]),
    st.one_of(st.none(), values))
dims = st.one_of(st.integers(-2, 40).map(str), st.sampled_from(["None", "h", "w", "2*h", "h - 6", "floor(h/2)",
                                                                 "0", "10**40"]))
shapes = st.lists(dims, min_size=0, max_size=6).map(lambda ds: "(" + ", ".join(ds) + ",)")
frameworks = st.sampled_from([None, "torch", "keras", "keras2", "keras1", "tf", "onnx"])


def only_shapesmith_errors(text: str, shape: str, framework: str | None) -> None:
    try:
        result = shapesmith.trace(text, input_shape=shape, framework=framework)
    except ShapesmithError as err:
        assert str(err) and "\n" not in str(err)
        return
    result.to_dict()


@FUZZ
@given(calls, shapes, frameworks)
def test_generated_layers(text, shape, framework):
    only_shapesmith_errors(text, shape, framework)


@FUZZ
@given(st.text(max_size=80), st.text(max_size=30))
def test_arbitrary_text(text, shape):
    only_shapesmith_errors(text, shape, None)


@FUZZ
@given(calls, st.integers(0, 40), st.integers(0, 3))
def test_mutated_layers(text, cut, span):
    only_shapesmith_errors(text[:cut] + text[cut + span:], "(1, 3, 9, 9)", None)


statements = st.one_of(
    calls,
    calls.map(lambda c: f"x = {c}(x)"),
    calls.map(lambda c: f"y = {c}([x, y])"),
    calls.map(lambda c: f"model.add({c})"),
    calls.map(lambda c: f"layer = {c}"),
    st.sampled_from(["x = keras.Input(shape=(h, w, 3))", "y = x", "a, b = x", "model = Sequential()",
                     "model = keras.Model(x, y)", "import keras", "x = layer(x)", "out = x[0]", "del x",
                     "model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())", "print(model)", "if x: pass"]),
)


@FUZZ
@given(st.lists(statements, min_size=1, max_size=6), shapes)
def test_generated_programs(lines, shape):
    only_shapesmith_errors("\n".join(lines), shape, None)


unknown_atoms = st.one_of(atoms, st.sampled_from(["?", "1..3", "0..2", "{1, 2}", "{'same', 'valid'}", "5..2", "?..?",
                                                  "1..", "(?, ?)", "(?, 2)", "{}", "{?}", "'?'", "1..10**9"]))
unknown_values = st.recursive(unknown_atoms, lambda inner: st.lists(inner, max_size=3).map(
    lambda xs: "(" + ", ".join(xs) + ",)"), max_leaves=4)
templates = st.builds(
    lambda name, args, kwargs: f"{name}({', '.join(args + [f'{k}={v}' for k, v in kwargs])})",
    st.sampled_from(NAMES), st.lists(unknown_values, max_size=4),
    st.lists(st.tuples(st.sampled_from(KEYWORDS), unknown_values), max_size=3, unique_by=lambda kv: kv[0]))


@settings(FUZZ, max_examples=max(EXAMPLES // 4, 20))
@given(templates, shapes, shapes, frameworks)
def test_solver_queries(template, shape, target, framework):
    try:
        shapesmith.solve(template, input_shape=shape, output_shape=target, framework=framework).to_dict()
    except ShapesmithError as err:
        assert str(err) and "\n" not in str(err)


@settings(FUZZ, max_examples=max(EXAMPLES // 8, 10))
@given(st.lists(templates, min_size=1, max_size=3), shapes, shapes)
def test_chain_queries(layers, shape, target):
    try:
        shapesmith.solve_chain(layers, input_shape=shape, output_shape=target).to_dict()
    except ShapesmithError as err:
        assert str(err) and "\n" not in str(err)
