"""Recurrent layers for every dialect, all on :class:`~shapesmith.ops.recurrent.Recurrent`.

* Keras 3 / tf.keras 2: ``SimpleRNN``, ``LSTM``, ``GRU`` and ``Bidirectional(LSTM(...), merge_mode=...)``
  (the wrapped layer is written inline and built with the same dialect).
* PyTorch: ``nn.RNN``, ``nn.LSTM``, ``nn.GRU``: ``(output, h_n)``, an LSTM ``(output, (h_n, c_n))``.
* ONNX: ``RNN``, ``LSTM``, ``GRU`` with the weight shapes ``W=(...)``, ``R=(...)``, ``B=(...)``: ``Y, Y_h[, Y_c]``.
"""

from __future__ import annotations

import math
import numbers

from ..dims import format_shape
from ..errors import ConfigError, ParseError
from ..layer import WholeLayer
from ..ops.recurrent import GATES, Bidirectional, Recurrent
from .base import Call, Dialect, Ref, Spec, as_bool, as_choice, as_int, as_shape_value, describe, parse_call
from .keras import COMMON, COMMON2, DIALECT as KERAS, DIALECT2 as KERAS2, _positional, declared_input
from .onnx import DIALECT as ONNX
from .torch import DIALECT as TORCH

CELLS = {"SimpleRNN": "simple", "LSTM": "lstm", "GRU": "gru"}
TORCH_CELLS = {"RNN": "simple", "LSTM": "lstm", "GRU": "gru"}
SNAKE = {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}

# -- Keras ---------------------------------------------------------------------------
_INIT = ("kernel_initializer", "recurrent_initializer", "bias_initializer")
_REG = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "recurrent_constraint", "bias_constraint")
_FLAGS = ("return_sequences", "return_state", "go_backwards", "stateful")

# Positional order: Keras 3.15 (inspect.signature) and tf.keras 2.15 (keras/src/layers/rnn/*.py of the wheel).
KERAS3_ORDER = {
    "SimpleRNN": ("units", "activation", "use_bias") + _INIT + _REG + ("dropout", "recurrent_dropout") + _FLAGS
                 + ("unroll", "seed"),
    "LSTM": ("units", "activation", "recurrent_activation", "use_bias") + _INIT + ("unit_forget_bias",) + _REG
            + ("dropout", "recurrent_dropout", "seed") + _FLAGS + ("unroll", "use_cudnn"),
    "GRU": ("units", "activation", "recurrent_activation", "use_bias") + _INIT + _REG
           + ("dropout", "recurrent_dropout", "seed") + _FLAGS + ("unroll", "reset_after", "use_cudnn"),
}
KERAS2_ORDER = {
    "SimpleRNN": ("units", "activation", "use_bias") + _INIT + _REG + ("dropout", "recurrent_dropout") + _FLAGS
                 + ("unroll",),
    "LSTM": ("units", "activation", "recurrent_activation", "use_bias") + _INIT + ("unit_forget_bias",) + _REG
            + ("dropout", "recurrent_dropout") + _FLAGS + ("time_major", "unroll"),
    "GRU": ("units", "activation", "recurrent_activation", "use_bias") + _INIT + _REG
           + ("dropout", "recurrent_dropout") + _FLAGS + ("unroll", "time_major", "reset_after"),
}
_KERAS_DEFAULTS = {"activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
                   "unit_forget_bias": True, "dropout": 0.0, "recurrent_dropout": 0.0, "seed": None,
                   "return_sequences": False, "return_state": False, "go_backwards": False, "stateful": False,
                   "unroll": False, "use_cudnn": "auto", "reset_after": True, "time_major": False,
                   "implementation": 2, "zero_output_for_mask": False,
                   **{k: None for k in _INIT + _REG}}


def _keras_flag(a: dict, name: str, type_name: str) -> bool:
    return as_bool(a[name], name, type_name)


def _keras_rnn(framework: str, type_name: str):
    order = (KERAS2_ORDER if framework == "keras2" else KERAS3_ORDER)[type_name]

    def build(call: Call, a: dict) -> WholeLayer:
        _positional(call, type_name, len(order))
        units = a["units"]
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ConfigError(f"{type_name}: Received an invalid value for argument `units`, expected a positive "
                              f"integer, got {describe(units)}.", fix="units=<number of output features>, e.g. units=32")
        if framework == "keras" and a.get("use_cudnn", "auto") not in ("auto", True, False):
            raise ConfigError(f"Invalid valid received for argument `use_cudnn`. Expected one of {{'auto', True, False}}. "
                              f"Received: use_cudnn={describe(a['use_cudnn'])}")
        for name in ("dropout", "recurrent_dropout"):
            if isinstance(a[name], bool) or not isinstance(a[name], numbers.Real):
                raise ConfigError(f"{type_name} {name}={describe(a[name])} is not a number", expected="a float in [0, 1]")
        cell = CELLS[type_name]
        bias = as_bool(a["use_bias"], "use_bias", type_name)
        reset_after = cell == "gru" and as_bool(a["reset_after"], "reset_after", type_name)
        flags = {k: _keras_flag(a, k, type_name) for k in _FLAGS + ("unroll",)}
        time_major = framework == "keras2" and as_bool(a["time_major"], "time_major", type_name)
        op = Recurrent(cell, units, "keras", type_name, batch_first=not time_major,
                       return_sequences=flags["return_sequences"], return_state=flags["return_state"],
                       bias_vectors=(2 if reset_after else 1) if bias else 0,
                       stateful=flags["stateful"], unroll=flags["unroll"],
                       unroll_strict=framework == "keras2", go_backwards=flags["go_backwards"])
        shape, notes = declared_input(framework, a, type_name)
        if time_major:
            notes += ("time_major=True: the input is (timesteps, batch, features), the sequence output "
                      "(timesteps, batch, units)",)
        if cell == "gru" and bias:
            notes += ((f"reset_after=True: two bias vectors (input and recurrent), bias shape (2, {3 * units})",)
                      if reset_after else (f"reset_after=False: one bias vector of {3 * units}",))
        return WholeLayer(framework, type_name, call.text, op, notes=notes, name=SNAKE[type_name],
                          declared_input=shape)

    common = COMMON2 if framework == "keras2" else COMMON
    extra = ("implementation",) if type_name != "SimpleRNN" else ()
    extra += ("zero_output_for_mask",) if framework == "keras" else ("time_major",) * (type_name != "LSTM")
    params = order + extra + common
    return Spec(type_name, params, {**{k: v for k, v in _KERAS_DEFAULTS.items() if k in params},
                                    **{k: None for k in common}}, build,
                marker=("batch_input_shape", "time_major") if framework == "keras2" else (), primary=framework == "keras")


def _inner(dialect: Dialect, value: object, what: str) -> WholeLayer:
    """The layer ``Bidirectional`` wraps, written inline: ``Bidirectional(LSTM(10))``."""
    if not isinstance(value, Ref):
        raise ConfigError(f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. "
                          f"Received: {describe(value)}", fix="write the layer inline: Bidirectional(LSTM(10))")
    try:
        call = parse_call(value.text)
    except ParseError:
        call = None
    spec = dialect.lookup(call) if call is not None and value.text.rstrip().endswith(")") else None
    if spec is None or spec.type not in CELLS:
        raise ConfigError(f"Bidirectional: {what}={value.text} is not a recurrent layer shapesmith can read",
                          expected="an inline SimpleRNN(...), LSTM(...) or GRU(...) call",
                          fix="write the layer inline, e.g. Bidirectional(LSTM(10, return_sequences=True))")
    return spec.build(call, spec.bind(call))


def _bidirectional(framework: str):
    dialect = KERAS2 if framework == "keras2" else KERAS

    def build(call: Call, a: dict) -> WholeLayer:
        if len(call.args) > 4:
            raise ConfigError(f"Bidirectional.__init__() takes at most 4 positional arguments but {len(call.args)} "
                              "were given", fix="pass the extra arguments by keyword")
        merge = a["merge_mode"]
        if merge not in ("sum", "mul", "ave", "concat", None):
            raise ConfigError(f"Invalid merge mode. Received: {describe(merge)}. Merge mode should be one of "
                              '{"sum", "mul", "ave", "concat", None}')
        inner = _inner(dialect, a["layer"], "layer")
        fwd: Recurrent = inner.op
        go_back = fwd.go_backwards
        if a["backward_layer"] is None:
            back_layer, back, back_go = inner, fwd, True
        else:
            back_layer = _inner(dialect, a["backward_layer"], "backward_layer")
            back = back_layer.op
            back_go = back.go_backwards
        if go_back == back_go:
            raise ConfigError(f"Forward layer and backward layer should have different `go_backwards` value. "
                              f"Received: forward_layer.go_backwards {go_back}, backward_layer.go_backwards={back_go}",
                              fix="give the backward layer go_backwards=True (and the forward layer False)"
                              if a["backward_layer"] is not None else
                              "remove go_backwards=True from the wrapped layer: Bidirectional runs a reversed copy")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(fwd, attr) != getattr(back, attr):
                raise ConfigError(f"Forward layer and backward layer are expected to have the same value for "
                                  f'attribute "{attr}", got "{getattr(fwd, attr)}" for forward layer and '
                                  f'"{getattr(back, attr)}" for backward layer', fix=f"give both layers the same {attr}")
        if framework == "keras" and fwd.stateful and fwd.return_state:
            raise ConfigError("Keras 3 Bidirectional fails with stateful=True and return_state=True together "
                              "(Bidirectional.compute_mask: TypeError: unsupported operand type(s) for *: "
                              "'generator' and 'int')", fix="use stateful=False or return_state=False in the wrapped layer")
        shape, notes = declared_input(framework, a, "Bidirectional")
        if shape is None:
            shape = inner.declared_input
        notes = notes + inner.notes + (
            f"Bidirectional runs the {inner.type} twice, forward and on the reversed sequence (its own weights)",)
        if back.units != fwd.units:
            notes += (f"the backward layer has {back.units} units, the forward {fwd.units}: Keras' "
                      "compute_output_shape assumes equal units (it reports the forward's twice)",)
        op = Bidirectional(fwd, back, merge)
        return WholeLayer(framework, "Bidirectional", call.text, op, notes=notes, name="bidirectional",
                          declared_input=shape)

    common = COMMON2 if framework == "keras2" else COMMON
    return Spec("Bidirectional", ("layer", "merge_mode", "weights", "backward_layer") + common,
                {"merge_mode": "concat", "weights": None, "backward_layer": None, **{k: None for k in common}},
                build, marker=("batch_input_shape",) if framework == "keras2" else (), primary=framework == "keras")


for _d in (KERAS, KERAS2):
    for _t in CELLS:
        _d.register(_keras_rnn(_d.name, _t))
    _d.register(_bidirectional(_d.name))


# -- PyTorch -------------------------------------------------------------------------
def _torch_rnn(type_name: str):
    cell = TORCH_CELLS[type_name]

    def build(call: Call, a: dict) -> WholeLayer:
        if cell != "lstm" and ("proj_size" in call.kwargs):
            raise ConfigError("proj_size argument is only supported for LSTM, not RNN or GRU",
                              fix="remove proj_size, or use nn.LSTM")
        if cell == "simple" and a["nonlinearity"] not in ("tanh", "relu"):
            raise ConfigError(f"Unknown nonlinearity '{describe(a['nonlinearity']).strip(chr(39))}'. "
                              "Select from 'tanh' or 'relu'.")
        dropout = a["dropout"]
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ConfigError("dropout should be a number in range [0, 1] representing the probability of an "
                              f"element being zeroed (got dropout={describe(dropout)})")
        for name in ("bias", "batch_first"):
            if not isinstance(a[name], bool):
                raise ConfigError(f"{name} should be of type bool, got: {type(a[name]).__name__}")
        for name in ("input_size", "hidden_size"):
            if isinstance(a[name], bool) or not isinstance(a[name], int):
                raise ConfigError(f"{name} should be of type int, got: {type(a[name]).__name__}")
            if a[name] <= 0:
                raise ConfigError(f"{name} must be greater than zero (got {name}={a[name]})")
        layers = as_int(a["num_layers"], "num_layers", layer=type_name)
        if layers <= 0:
            raise ConfigError(f"num_layers must be greater than zero (got num_layers={layers})")
        proj = as_int(a.get("proj_size", 0), "proj_size", layer=type_name)
        if proj < 0:
            raise ConfigError("proj_size should be a positive integer or zero to disable projections")
        hidden = a["hidden_size"]
        if proj >= hidden:
            raise ConfigError(f"proj_size has to be smaller than hidden_size (got proj_size={proj}, "
                              f"hidden_size={hidden})", fix=f"use proj_size < {hidden}, or 0 for no projection")
        bidir = bool(a["bidirectional"]) if isinstance(a["bidirectional"], (bool, int)) else \
            as_bool(a["bidirectional"], "bidirectional", type_name)
        notes = ["hidden_size is the size of each output vector, not a number of steps: every step is processed"]
        if cell == "lstm":
            notes.append("nn.LSTM returns (output, (h_n, c_n)): h_n and c_n are nested in a tuple")
        else:
            notes.append(f"nn.{type_name} returns (output, h_n)")
        if proj:
            notes.append(f"proj_size={proj}: output and h_n have {proj} features, c_n keeps hidden_size={hidden}")
        warnings = []
        if dropout > 0 and layers == 1:
            warnings.append(f"dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                            f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={layers}")
        op = Recurrent(cell, hidden, "torch", type_name, input_size=a["input_size"], directions=2 if bidir else 1,
                       layers=layers, proj_size=proj, batch_first=a["batch_first"],
                       bias_vectors=2 if a["bias"] else 0)
        return WholeLayer("torch", type_name, call.text, op, notes=tuple(notes), warnings=tuple(warnings),
                          name=type_name.lower())

    middle = ("num_layers", "nonlinearity") if cell == "simple" else ("num_layers",)
    params = ("input_size", "hidden_size") + middle + ("bias", "batch_first", "dropout", "bidirectional")
    params += ("proj_size", "device", "dtype") if cell == "lstm" else ("device", "dtype", "proj_size")
    defaults = {"num_layers": 1, "nonlinearity": "tanh", "bias": True, "batch_first": False, "dropout": 0.0,
                "bidirectional": False, "proj_size": 0, "device": None, "dtype": None}
    return Spec(type_name, params, defaults, build,
                marker=("input_size", "num_layers", "batch_first", "bidirectional", "proj_size", "nonlinearity"))


for _t in TORCH_CELLS:
    TORCH.register(_torch_rnn(_t))


# -- ONNX ----------------------------------------------------------------------------
def _onnx_shape(a: dict, name: str, op: str, rank: int) -> tuple[int, ...] | None:
    if a[name] is None:
        return None
    shape = as_shape_value(a[name], name, op)
    if len(shape) != rank or not all(isinstance(d, int) and d >= 1 for d in shape):
        raise ConfigError(f"{op}: {name}={describe(a[name])} is not a {rank}-D weight shape",
                          expected=f"{rank} positive integers")
    return shape


def _onnx_rnn(op_name: str):
    cell = TORCH_CELLS[op_name]
    g = GATES[cell]

    def build(call: Call, a: dict) -> WholeLayer:
        direction = as_choice(a["direction"], "direction", ("forward", "reverse", "bidirectional"), op_name)
        d = 2 if direction == "bidirectional" else 1
        if a["hidden_size"] is None:
            raise ConfigError(f"{op_name} needs the hidden_size attribute (onnxruntime requires it)",
                              fix="add hidden_size=<R.shape[2]>")
        hidden = as_int(a["hidden_size"], "hidden_size", minimum=1, layer=op_name)
        layout = as_int(a["layout"], "layout", minimum=0, layer=op_name)
        if layout not in (0, 1):
            raise ConfigError(f"{op_name}: layout={layout} is not supported", expected="0 or 1")
        w, r, b = (_onnx_shape(a, "W", op_name, 3), _onnx_shape(a, "R", op_name, 3), _onnx_shape(a, "B", op_name, 2))
        p = _onnx_shape(a, "P", op_name, 2) if cell == "lstm" else None
        want = {"W": (d, g * hidden, w[2] if w else "input_size"), "R": (d, g * hidden, hidden),
                "B": (d, 2 * g * hidden), "P": (d, 3 * hidden)}
        for name, shape in (("W", w), ("R", r), ("B", b), ("P", p)):
            if shape is not None and shape != want[name]:
                raise ConfigError(
                    f"{op_name}: Input {name} must have shape {{{', '.join(map(str, want[name]))}}}; "
                    f"got {name}={format_shape(shape)}",
                    expected=f"{name} = (num_directions={d}, " + {
                        "W": f"{g}*hidden_size={g * hidden}, input_size)", "R": f"{g}*hidden_size={g * hidden}, "
                        f"hidden_size={hidden})", "B": f"2*{g}*hidden_size={2 * g * hidden})",
                        "P": f"3*hidden_size={3 * hidden})"}[name],
                    fix="make the weight shapes agree with direction and hidden_size")
        notes = [f"outputs Y, Y_h{', Y_c' if cell == 'lstm' else ''} ({'batch first' if layout else 'sequence first'}, "
                 f"layout={layout})"]
        warnings = ()
        if layout == 1:
            warnings = ("layout=1 (batch first) is ONNX's spec, but onnxruntime's CPU kernels implement layout=0 "
                        "only and refuse this node",)
        params = None
        if w is not None:
            params = sum(math.prod(x) for x in (w, r or want["R"], b, p) if x)
            if r is None:
                notes.append(f"R not given: counted as {format_shape(want['R'])}")
        else:
            notes.append("W not given: the input size is read from X")
        if w is None and p is not None:
            notes.append("P (peepholes) not counted without W")
        op = Recurrent(cell, hidden, "onnx", op_name, input_size=w[2] if w else None, directions=d,
                       batch_first=layout == 1, bias_vectors=2 if b is not None else 0, params=params)
        return WholeLayer("onnx", op_name, call.text, op, notes=tuple(notes), warnings=warnings, name=op_name)

    params = ("X", "W", "R", "B", "sequence_lens", "initial_h") + (("initial_c", "P") if cell == "lstm" else ()) + (
        "activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size") + (
        ("input_forget",) if cell == "lstm" else ("linear_before_reset",) if cell == "gru" else ()) + ("layout",)
    defaults = {k: None for k in params}
    defaults.update(direction="forward", layout=0, input_forget=0, linear_before_reset=0)
    return Spec(op_name, params, defaults, build,
                marker=("W", "R", "B", "direction", "layout", "linear_before_reset", "input_forget", "clip"))


for _t in TORCH_CELLS:
    ONNX.register(_onnx_rnn(_t))
