"""Recurrent layers (simple RNN, LSTM, GRU) of PyTorch, Keras 3 / tf.keras 2 / Keras 1 and ONNX: one cell loop.

Each framework's weights are first converted to one canonical :class:`Cell` per layer and direction:

* gates stacked on the first axis, in the order LSTM ``(i, f, o, g)``, GRU ``(z, r, n)``, RNN ``(h)``: the gates
  that share the gate activation come first, so one call activates them (PyTorch LSTM ``i,f,g,o`` / GRU ``r,z,n``,
  Keras LSTM ``i,f,c,o`` / GRU ``z,r,h``, ONNX LSTM ``i,o,f,c`` / GRU ``z,r,h`` are regrouped);
* ``kernel (G*H, F)`` and ``recurrent (G*H, P)`` (``P``: the size of ``h``, PyTorch's ``proj_size`` or ``H``);
* one ``bias (G*H,)`` holding every bias that adds to a gate sum (PyTorch ``b_ih + b_hh``, ONNX ``Wb + Rb``); only a
  reset-after GRU's recurrent candidate bias (PyTorch ``b_hn``, Keras ``bias[1]``'s last third, ONNX ``Rbh`` with
  ``linear_before_reset=1``) stays apart, inside ``r * (R_n h + b)``.

The input projection of every step is one matmul; each step is then one matmul (two for a reset-before GRU) and
elementwise work done in place. The state is kept transposed, ``(H, N)``, so each gate is a contiguous block of rows.

Cells, with ``x_t`` the projected input plus bias::

    RNN   h = g(x_t + R h)
    LSTM  i, f, o = f(x_t + R h + P_iof * c) (o peeps at the new c), g = g(...), c' = f*c + i*g, h' = o * h(c')
          (PyTorch proj_size: h' = W_hr (o * h(c')))
    GRU   z, r = f(x_z + R_zr h); reset after: n = g(x_n + r * (R_n h + b_hn)); before: n = g(x_n + R_n (r * h))
          h' = (1 - z) * n + z * h

Keras ``Bidirectional`` takes the two layers' weights as ``forward_kernel``, ``forward_recurrent_kernel``,
``forward_bias``, ``backward_kernel``, ... (Keras 3 paths ``<bidirectional>/forward_<lstm>/<lstm_cell>/kernel``,
``.weights.h5`` entries ``forward_layer/cell/vars/0..2``). PyTorch initial states may be given as the weights
``h0`` and ``c0`` (the shapes of ``h_n`` and ``c_n``); ONNX takes ``initial_h``, ``initial_c``, ``sequence_lens``
and the peepholes ``P``. Keras starts from zeros.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ShapesmithError
from ..ops.recurrent import GATES, Bidirectional, Recurrent
from .registry import Weights, WeightError, kernel

Activation = Callable[[np.ndarray], None]  # applied in place


def _sigmoid(a: np.ndarray) -> None:
    """1 / (1 + exp(-a)); exp overflows to inf for very negative a, which gives the exact limit 0."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)


def _tanh(a: np.ndarray) -> None:
    np.tanh(a, out=a)


def _relu(a: np.ndarray) -> None:
    np.maximum(a, 0, out=a)


def _linear(a: np.ndarray) -> None:
    pass


def _in_place(fn: Callable[[np.ndarray], np.ndarray]) -> Activation:
    def run(a: np.ndarray) -> None:
        a[...] = fn(a)
    return run


# -- the canonical cell and its loop ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Cell:
    """One layer and direction in canonical form (see the module docstring); ``candidate`` is the RNN's only
    activation; ``projection (P, H)``, ``peepholes (3, H)`` in the order ``i, f, o``."""

    kind: str  # simple | lstm | gru
    kernel: np.ndarray
    recurrent: np.ndarray
    bias: np.ndarray | None
    gate: Activation = _sigmoid
    candidate: Activation = _tanh
    cell_output: Activation = _tanh
    reset_after: bool = True
    candidate_bias: np.ndarray | None = None
    projection: np.ndarray | None = None
    peepholes: np.ndarray | None = None
    clip: float | None = None
    couple_input_forget: bool = False

    @property
    def hidden(self) -> int:
        return self.recurrent.shape[0] // GATES[self.kind]

    def clipped(self, a: np.ndarray) -> np.ndarray:
        if self.clip is not None:
            np.clip(a, -self.clip, self.clip, out=a)
        return a


def _simple_step(cell: Cell, x_t, h, c, gates, out) -> None:
    np.matmul(cell.recurrent, h, out=out)
    out += x_t
    cell.candidate(cell.clipped(out))


def _lstm_step(cell: Cell, x_t, h, c, gates, out):
    H = cell.hidden
    np.matmul(cell.recurrent, h, out=gates)
    gates += x_t
    i, f, o, g = gates[:H], gates[H:2 * H], gates[2 * H:3 * H], gates[3 * H:]
    peep = cell.peepholes
    if peep is not None:
        i += peep[0][:, None] * c
        f += peep[1][:, None] * c
    early = gates[:2 * H] if peep is not None else gates[:3 * H]  # a peeping output gate waits for the new c
    cell.gate(cell.clipped(early))
    if cell.couple_input_forget:
        np.subtract(1, i, out=f)
    cell.candidate(cell.clipped(g))
    g *= i
    c_new = f * c
    c_new += g
    if peep is not None:
        o += peep[2][:, None] * c_new
        cell.gate(cell.clipped(o))
    shown = out if cell.projection is None else np.empty_like(c_new)
    np.copyto(shown, c_new)
    cell.cell_output(shown)
    shown *= o
    if cell.projection is not None:
        np.matmul(cell.projection, shown, out=out)
    return c_new


def _gru_step(cell: Cell, x_t, h, c, gates, out) -> None:
    H = cell.hidden
    zr, n = gates[:2 * H], gates[2 * H:]
    if cell.reset_after:
        np.matmul(cell.recurrent, h, out=gates)
        if cell.candidate_bias is not None:
            n += cell.candidate_bias[:, None]
        zr += x_t[:2 * H]
        cell.gate(cell.clipped(zr))
        n *= zr[H:]
    else:
        np.matmul(cell.recurrent[:2 * H], h, out=zr)
        zr += x_t[:2 * H]
        cell.gate(cell.clipped(zr))
        np.matmul(cell.recurrent[2 * H:], zr[H:] * h, out=n)
    n += x_t[2 * H:]
    cell.candidate(cell.clipped(n))
    np.subtract(h, n, out=out)  # h' = n + z * (h - n)
    out *= zr[:H]
    out += n


STEPS = {"simple": _simple_step, "lstm": _lstm_step, "gru": _gru_step}


def _run(cell: Cell, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None,
         lengths: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``x (T, N, F)`` in the order the cell reads it, states ``h0 (N, P)``, ``c0 (N, H)`` ->
    ``ys (T, N, P)``, final ``h (N, P)``, ``c (N, H)``. Past a sequence's length (ONNX ``sequence_lens``) the
    output is 0 and the state is kept."""
    steps, batch, features = x.shape
    width = cell.recurrent.shape[1]
    projected = cell.kernel @ x.reshape(steps * batch, features).T  # (G*H, T*N): step t is columns t*N:(t+1)*N
    # the bias is added step by step, into a small buffer: cheaper than a pass over the whole projection
    bias = np.zeros(len(projected), x.dtype) if cell.bias is None else cell.bias
    x_t = np.empty((len(projected), batch), x.dtype)
    h = np.ascontiguousarray(h0.T)
    c = None if c0 is None else np.ascontiguousarray(c0.T)
    ys = np.empty((steps, width, batch), x.dtype)
    gates = np.empty((cell.recurrent.shape[0], batch), x.dtype)
    step = STEPS[cell.kind]
    with np.errstate(over="ignore"):
        for t in range(steps):
            np.add(projected[:, t * batch:(t + 1) * batch], bias[:, None], out=x_t)
            c_new = step(cell, x_t, h, c, gates, ys[t])
            if lengths is None:
                h, c = ys[t], c_new
            else:
                done = t >= lengths
                h = np.where(done, h, ys[t])
                c = None if c is None else np.where(done, c, c_new)
                ys[t][:, done] = 0
    return ys.transpose(0, 2, 1), h.T, None if c is None else c.T


def _reverse(a: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
    """The steps of ``a (T, N, ...)`` reversed, each sequence within its own length (self-inverse)."""
    if lengths is None:
        return a[::-1]
    t = np.arange(a.shape[0])[:, None]
    index = np.where(t < lengths, lengths - 1 - t, t)
    return np.take_along_axis(a, index.reshape(index.shape + (1,) * (a.ndim - 2)), axis=0)


def _regroup(w: np.ndarray, order: tuple[int, ...], dtype) -> np.ndarray:
    """``w``'s gate blocks (stacked on axis 0) in the canonical order: block k is ``w``'s block ``order[k]``."""
    blocks = np.split(np.asarray(w, dtype), len(order), axis=0)
    return np.ascontiguousarray(np.concatenate([blocks[k] for k in order]))


def _fold(input_bias: np.ndarray, recurrent_bias: np.ndarray, candidate_apart: bool):
    """Both biases (canonical order) summed, except a reset-after GRU's recurrent candidate bias, returned apart."""
    if not candidate_apart:
        return input_bias + recurrent_bias, None
    hidden = len(recurrent_bias) // 3
    return input_bias + np.concatenate([recurrent_bias[:2 * hidden], np.zeros_like(recurrent_bias[:hidden])]), \
        recurrent_bias[2 * hidden:]


def _dtype(x: np.ndarray):
    """Float inputs keep their precision; integers compute in float32 (int32/int64: float64)."""
    return np.result_type(x.dtype, np.float32)


def _zeros(batch: int, size: int, dtype) -> np.ndarray:
    return np.zeros((batch, size), dtype)


# -- PyTorch -----------------------------------------------------------------------------------------------------
TORCH_ORDER = {"simple": (0,), "lstm": (0, 1, 3, 2), "gru": (1, 0, 2)}  # i,f,g,o -> i,f,o,g; r,z,n -> z,r,n


def _torch_cell(op: Recurrent, config, weights: Weights, suffix: str, features: int, dtype) -> Cell:
    g, hidden = GATES[op.cell], op.units
    width = op.proj_size or hidden
    order = TORCH_ORDER[op.cell]
    w_ih = _regroup(weights.take(f"weight_ih{suffix}", (g * hidden, features)), order, dtype)
    w_hh = _regroup(weights.take(f"weight_hh{suffix}", (g * hidden, width)), order, dtype)
    bias = candidate_bias = None
    if op.bias_vectors:
        bias, candidate_bias = _fold(_regroup(weights.take(f"bias_ih{suffix}", (g * hidden,)), order, dtype),
                                     _regroup(weights.take(f"bias_hh{suffix}", (g * hidden,)), order, dtype),
                                     op.cell == "gru")
    projection = None
    if op.proj_size:
        projection = np.asarray(weights.take(f"weight_hr{suffix}", (width, hidden)), dtype)
    activation = _relu if config.get("nonlinearity") == "relu" else _tanh
    return Cell(op.cell, w_ih, w_hh, bias, candidate=activation, candidate_bias=candidate_bias,
                projection=projection)


def _torch(op: Recurrent, x: np.ndarray, weights: Weights, config) -> tuple[np.ndarray, ...]:
    """``output, h_n[, c_n]``: layer by layer, each direction's outputs joined on the features for the next."""
    dtype = _dtype(x)
    batched = x.ndim == 3
    seq = np.asarray(x, dtype)
    seq = (seq.swapaxes(0, 1) if op.batch_first else seq) if batched else seq[:, None]
    batch = seq.shape[1]
    hidden, width, count = op.units, op.proj_size or op.units, op.directions * op.layers
    lead = (count, batch) if batched else (count,)
    h0 = weights.optional("h0", (*lead, width))
    c0 = weights.optional("c0", (*lead, hidden)) if op.cell == "lstm" else None
    h0 = np.zeros((count, batch, width), dtype) if h0 is None else np.asarray(h0, dtype).reshape(count, batch, width)
    if op.cell == "lstm":
        c0 = np.zeros((count, batch, hidden), dtype) if c0 is None else np.asarray(c0, dtype).reshape(
            count, batch, hidden)
    finals_h, finals_c = [], []
    for layer in range(op.layers):
        outputs = []
        for direction in range(op.directions):
            k = layer * op.directions + direction
            cell = _torch_cell(op, config, weights, f"_l{layer}" + "_reverse" * direction, seq.shape[2], dtype)
            reverse = direction == 1
            ys, h, c = _run(cell, seq[::-1] if reverse else seq, h0[k], None if c0 is None else c0[k])
            outputs.append(ys[::-1] if reverse else ys)
            finals_h.append(h)
            finals_c.append(c)
        seq = np.concatenate(outputs, axis=2) if op.directions > 1 else outputs[0]
    output = (seq.swapaxes(0, 1) if op.batch_first else seq) if batched else seq[:, 0]
    states = [np.stack(finals_h)] + ([np.stack(finals_c)] if op.cell == "lstm" else [])
    if not batched:
        states = [s[:, 0] for s in states]
    return tuple(np.ascontiguousarray(a) for a in (output, *states))


# -- Keras -------------------------------------------------------------------------------------------------------
KERAS_ORDER = {"simple": (0,), "lstm": (0, 1, 3, 2), "gru": (0, 1, 2)}  # i,f,c,o -> i,f,o,g; z,r,h as is
KERAS1_GATES = {"lstm": "ifco", "gru": "zrh"}  # Keras 1 consume_less='cpu'/'mem': W_i, U_i, b_i, W_f, ...


def _keras_activation(value: object, framework: str) -> Activation:
    """A Keras activation (``'tanh'``, ``None``, ``keras.activations.relu``...): the common ones in place, the rest
    through :func:`numeric.basic.activate` (which knows that ``hard_sigmoid`` differs between Keras versions)."""
    if value in (None, "linear"):
        return _linear
    fast = {"tanh": _tanh, "sigmoid": _sigmoid, "relu": _relu}
    if isinstance(value, str) and value in fast:
        return fast[value]
    from .basic import activate
    return _in_place(lambda a: activate(value, a, framework))


def _keras1_weights(op: Recurrent, config, weights: Weights, prefix: str, features: int, dtype):
    """Keras 1 names: ``W (F, G*H)``, ``U (H, G*H)``, ``b (G*H,)`` with consume_less='gpu' (and SimpleRNN),
    else one ``W_x``, ``U_x``, ``b_x`` per gate (LSTM ``i, f, c, o``, GRU ``z, r, h``)."""
    g, hidden = GATES[op.cell], op.units
    if op.cell == "simple" or config.get("consume_less") == "gpu":
        return (weights.take(prefix + "W", (features, g * hidden)), weights.take(prefix + "U", (hidden, g * hidden)),
                weights.take(prefix + "b", (g * hidden,)))
    gates = KERAS1_GATES[op.cell]
    return tuple(np.concatenate([np.asarray(weights.take(f"{prefix}{kind}_{gate}", shape), dtype) for gate in gates],
                                axis=-1)
                 for kind, shape in (("W", (features, hidden)), ("U", (hidden, hidden)), ("b", (hidden,))))


def _keras_cell(op: Recurrent, config, weights: Weights, prefix: str, features: int, dtype,
                framework: str) -> Cell:
    g, hidden = GATES[op.cell], op.units
    order = KERAS_ORDER[op.cell]
    if framework == "keras1":
        w, u, b = _keras1_weights(op, config, weights, prefix, features, dtype)
        gate_activation = config.get("inner_activation")
    else:
        w = weights.take(prefix + "kernel", (features, g * hidden))
        u = weights.take(prefix + "recurrent_kernel", (hidden, g * hidden))
        b = weights.take(prefix + "bias", (2, g * hidden) if op.bias_vectors == 2 else (g * hidden,)) \
            if op.bias_vectors else None
        gate_activation = config.get("recurrent_activation")
    bias = candidate_bias = None
    if b is not None and np.ndim(b) == 2:  # GRU reset_after: the input bias, the recurrent bias (z, r, h)
        bias, candidate_bias = _fold(*np.asarray(b, dtype), candidate_apart=True)
    elif b is not None:
        bias = _regroup(b, order, dtype)
    activation = _keras_activation(config.get("activation"), framework)
    return Cell(op.cell, _regroup(np.asarray(w).T, order, dtype), _regroup(np.asarray(u).T, order, dtype), bias,
                gate=_keras_activation(gate_activation, framework), candidate=activation, cell_output=activation,
                reset_after=bool(config.get("reset_after", False)), candidate_bias=candidate_bias)


def _keras_layer(op: Recurrent, config, x: np.ndarray, weights: Weights, framework: str, prefix: str = "",
                 go_backwards: bool | None = None) -> list[np.ndarray]:
    """``[output, *states]``: ``go_backwards`` reads the steps last to first and keeps the outputs in that order."""
    dtype = _dtype(x)
    seq = np.asarray(x, dtype)
    seq = seq.swapaxes(0, 1) if op.batch_first else seq
    batch = seq.shape[1]
    cell = _keras_cell(op, config, weights, prefix, seq.shape[2], dtype, framework)
    backwards = config.get("go_backwards", False) if go_backwards is None else go_backwards
    ys, h, c = _run(cell, seq[::-1] if backwards else seq, _zeros(batch, op.units, dtype),
                    _zeros(batch, op.units, dtype) if op.cell == "lstm" else None)
    output = (ys.swapaxes(0, 1) if op.batch_first else ys) if op.return_sequences else h
    states = ([h] + ([c] if c is not None else [])) if op.return_state else []
    return [np.ascontiguousarray(a) for a in (output, *states)]


@kernel(Bidirectional, own_activation=True)
def bidirectional(op: Bidirectional, x, weights: Weights, *, framework: str, config) -> tuple | np.ndarray:
    """Keras ``Bidirectional``: the forward layer, the backward layer (by default the wrapped layer reading the
    steps backwards), its sequence output flipped back in time, then merged (``concat``/``sum``/``mul``/``ave``,
    or both returned with ``merge_mode=None``); with ``return_state`` the forward then the backward states."""
    from ..dialects import build_layer
    forward_config = build_layer(config["layer"].text, framework).config
    if config.get("backward_layer") is None:
        backward_config = {**forward_config, "go_backwards": not forward_config.get("go_backwards", False)}
    else:
        backward_config = build_layer(config["backward_layer"].text, framework).config
    y, *forward_states = _keras_layer(op.forward, forward_config, x, weights, framework, "forward_")
    y_rev, *backward_states = _keras_layer(op.backward, backward_config, x, weights, framework, "backward_",
                                           go_backwards=backward_config.get("go_backwards", False))
    if op.forward.return_sequences:
        y_rev = np.ascontiguousarray(np.flip(y_rev, axis=1 if op.backward.batch_first else 0))
    merged = {"concat": lambda: (np.concatenate([y, y_rev], axis=-1),), "sum": lambda: (y + y_rev,),
              "mul": lambda: (y * y_rev,), "ave": lambda: ((y + y_rev) / 2,), None: lambda: (y, y_rev)}
    outputs = (*merged[op.merge_mode](), *forward_states, *backward_states)
    return outputs if len(outputs) > 1 else outputs[0]


# -- ONNX ------------------------------------------------------------------------------------------------------
ONNX_ORDER = {"simple": (0,), "lstm": (0, 2, 1, 3), "gru": (0, 1, 2)}  # i,o,f,c -> i,f,o,g; z,r,h as is
ONNX_DEFAULTS = {"simple": ("Tanh",), "lstm": ("Sigmoid", "Tanh", "Tanh"), "gru": ("Sigmoid", "Tanh")}
# name: (takes alpha, takes beta, default alpha, default beta, the function); onnxruntime's defaults
ONNX_ACTIVATIONS: dict[str, tuple[bool, bool, float, float, Callable]] = {
    "relu": (False, False, 0.0, 0.0, lambda a, b: _relu),
    "tanh": (False, False, 0.0, 0.0, lambda a, b: _tanh),
    "sigmoid": (False, False, 0.0, 0.0, lambda a, b: _sigmoid),
    "affine": (True, True, 0.0, 0.0, lambda a, b: _in_place(lambda v: a * v + b)),
    "leakyrelu": (True, False, 0.01, 0.0, lambda a, b: _in_place(lambda v: np.where(v >= 0, v, a * v))),
    "thresholdedrelu": (True, False, 0.0, 0.0, lambda a, b: _in_place(lambda v: np.where(v > a, v, 0))),
    "scaledtanh": (True, True, 0.0, 0.0, lambda a, b: _in_place(lambda v: a * np.tanh(b * v))),
    "hardsigmoid": (True, True, 0.2, 0.5, lambda a, b: _in_place(lambda v: np.clip(a * v + b, 0, 1))),
    "elu": (True, False, 1.0, 0.0, lambda a, b: _in_place(lambda v: np.where(v >= 0, v, a * np.expm1(v)))),
    "softsign": (False, False, 0.0, 0.0, lambda a, b: _in_place(lambda v: v / (1 + np.abs(v)))),
    "softplus": (False, False, 0.0, 0.0, lambda a, b: _in_place(lambda v: np.logaddexp(0, v))),
}


def _onnx_activations(op: Recurrent, config) -> list[tuple[Activation, ...]]:
    """The activations of each direction (``f, g, h`` for an LSTM, ``f, g`` for a GRU, ``f`` for an RNN);
    ``activation_alpha``/``activation_beta`` are consumed in order by the functions that take them."""
    per_direction = len(ONNX_DEFAULTS[op.cell])
    names = config.get("activations") or ONNX_DEFAULTS[op.cell] * op.directions
    if len(names) != per_direction * op.directions:
        raise ShapesmithError(f"{op.type}: activations={list(names)} has {len(names)} names",
                              expected=f"{per_direction} per direction ({per_direction * op.directions})",
                              fix=f"list {', '.join(ONNX_DEFAULTS[op.cell])} (the defaults) for each direction")
    alphas, betas = list(config.get("activation_alpha") or ()), list(config.get("activation_beta") or ())
    functions = []
    for name in names:
        entry = ONNX_ACTIVATIONS.get(str(name).lower())
        if entry is None:
            raise ShapesmithError(f"{op.type}: activation {name!r} is not an ONNX recurrent activation",
                                  expected="one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, "
                                           "ScaledTanh, HardSigmoid, Elu, Softsign, Softplus")
        takes_alpha, takes_beta, alpha, beta, make = entry
        alpha = float(alphas.pop(0)) if takes_alpha and alphas else alpha
        beta = float(betas.pop(0)) if takes_beta and betas else beta
        functions.append(make(alpha, beta))
    return [tuple(functions[d * per_direction:(d + 1) * per_direction]) for d in range(op.directions)]


def _onnx_cell(op: Recurrent, config, direction: int, w, r, b, p, activations, dtype) -> Cell:
    hidden, order = op.units, ONNX_ORDER[op.cell]
    bias = candidate_bias = None
    reset_after = bool(config.get("linear_before_reset"))
    if b is not None:  # Wb then Rb
        bias, candidate_bias = _fold(*(_regroup(half, order, dtype) for half in np.split(b[direction], 2)),
                                     candidate_apart=op.cell == "gru" and reset_after)
    peepholes = None
    if p is not None:
        peepholes = np.asarray(p[direction], dtype).reshape(3, hidden)[[0, 2, 1]]  # i, o, f -> i, f, o
    roles = ("candidate",) if op.cell == "simple" else ("gate", "candidate", "cell_output")
    clip = config.get("clip")
    return Cell(op.cell, _regroup(w[direction], order, dtype), _regroup(r[direction], order, dtype), bias,
                **dict(zip(roles, activations)), reset_after=reset_after, candidate_bias=candidate_bias,
                peepholes=peepholes, clip=None if clip is None else float(clip),
                couple_input_forget=bool(config.get("input_forget")))


def _declared_or_optional(weights: Weights, config, name: str, shape: tuple) -> np.ndarray | None:
    """An optional ONNX input, required when the layer text gives its shape (``B=(1, 24)``)."""
    return weights.take(name, shape) if config.get(name) is not None else weights.optional(name, shape)


def _onnx(op: Recurrent, x: np.ndarray, weights: Weights, config) -> tuple[np.ndarray, ...]:
    """``Y (T, D, N, H)``, ``Y_h (D, N, H)``[, ``Y_c``]; ``layout=1``: ``(N, T, D, H)`` and ``(N, D, H)``."""
    dtype = _dtype(x)
    seq = np.asarray(x, dtype)
    seq = seq.swapaxes(0, 1) if op.batch_first else seq
    steps, batch, features = seq.shape
    g, hidden, d = GATES[op.cell], op.units, op.directions
    w = weights.take("W", (d, g * hidden, features))
    r = weights.take("R", (d, g * hidden, hidden))
    b = _declared_or_optional(weights, config, "B", (d, 2 * g * hidden))
    state_shape = (batch, d, hidden) if op.batch_first else (d, batch, hidden)
    initial = {}
    for name in ("initial_h", "initial_c") if op.cell == "lstm" else ("initial_h",):
        given = weights.optional(name, state_shape)
        given = np.zeros(state_shape, dtype) if given is None else np.asarray(given, dtype)
        initial[name] = given.swapaxes(0, 1) if op.batch_first else given  # (D, N, H)
    p = _declared_or_optional(weights, config, "P", (d, 3 * hidden)) if op.cell == "lstm" else None
    lengths = weights.optional("sequence_lens", (batch,))
    if lengths is not None:
        if lengths.dtype.kind not in "iu" or lengths.min() < 1 or lengths.max() > steps:
            raise WeightError(f"{op.type}: sequence_lens={lengths.tolist()} must be whole numbers in [1, {steps}]",
                              expected=f"int32 lengths between 1 and the {steps} steps",
                              fix="give each sequence's length, or leave sequence_lens out")
        if np.all(lengths == steps):
            lengths = None
    activations = _onnx_activations(op, config)
    reverse_only = config.get("direction") == "reverse"
    ys_all, hs, cs = [], [], []
    for direction in range(d):
        cell = _onnx_cell(op, config, direction, w, r, b, p, activations[direction], dtype)
        reverse = reverse_only or direction == 1
        ys, h, c = _run(cell, _reverse(seq, lengths) if reverse else seq, initial["initial_h"][direction],
                        initial["initial_c"][direction] if op.cell == "lstm" else None, lengths)
        ys_all.append(_reverse(ys, lengths) if reverse else ys)
        hs.append(h)
        cs.append(c)
    y = np.stack(ys_all, axis=1)  # (T, D, N, H)
    states = [np.stack(hs)] + ([np.stack(cs)] if op.cell == "lstm" else [])  # (D, N, H)
    if op.batch_first:
        y = y.transpose(2, 0, 1, 3)
        states = [s.swapaxes(0, 1) for s in states]
    return tuple(np.ascontiguousarray(a) for a in (y, *states))


@kernel(Recurrent, own_activation=True)
def recurrent(op: Recurrent, x, weights: Weights, *, framework: str, config) -> tuple | np.ndarray:
    """A recurrent layer with its framework's weights, outputs in the order the shape engine names them."""
    if op.style == "torch":
        return _torch(op, x, weights, config)
    if op.style == "onnx":
        return _onnx(op, x, weights, config)
    outputs = _keras_layer(op, config, x, weights, framework)
    return tuple(outputs) if len(outputs) > 1 else outputs[0]
