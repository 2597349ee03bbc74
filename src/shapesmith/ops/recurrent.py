"""Recurrent layers (simple RNN, LSTM, GRU) for every framework: one op, three output layouts.

Every step of the sequence is processed whatever the number of units: ``units``/``hidden_size``
is the size of each output vector, never a number of steps.

Weights per direction and layer, ``G`` gate sets (RNN 1, GRU 3, LSTM 4), ``H`` units, ``P`` the
output size (``proj_size`` or ``H``) and ``I`` the input features::

    kernel G*H*I  +  recurrent kernel G*H*P  +  bias_vectors*G*H  (+ projection P*H)

``bias_vectors`` is the bias layout: Keras 1 (GRU ``reset_after=True``: 2), PyTorch 2 (``b_ih``
and ``b_hh``), ONNX 2 (``Wb`` and ``Rb`` in ``B``).

Output layouts (``style``):

* ``keras``: ``(N, T, H)`` with ``return_sequences`` else ``(N, H)``; ``return_state`` appends
  the final states (``h``, and ``c`` for an LSTM), each ``(N, H)``. tf.keras 2 ``time_major``
  reads ``(T, N, F)`` and writes ``(T, N, H)``.
* ``torch``: ``output (L, N, D*P)`` (``batch_first``: ``(N, L, D*P)``), ``h_n (D*layers, N, P)``,
  ``c_n (D*layers, N, H)`` for an LSTM; an unbatched ``(L, F)`` input drops ``N`` everywhere.
* ``onnx``: ``Y (T, D, N, H)``, ``Y_h``/``Y_c (D, N, H)``; ``layout=1`` puts the batch first:
  ``Y (N, T, D, H)``, ``Y_h (N, D, H)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..dims import Conditions, Dim, Expr, format_dim, format_shape
from ..errors import ShapeMismatchError
from .base import ShapeResult, features_for_weights
from .merge import Broadcast

GATES = {"simple": 1, "lstm": 4, "gru": 3}
def units_note(units: int, steps: Dim, sequences: bool) -> str:
    """The classic confusion, answered with this layer's numbers."""
    kept = ("return_sequences=True keeps the output of every step" if sequences else
            "return_sequences=False keeps only the last step's output (True keeps every step's)")
    return (f"units={units} is the size of each output vector, not a number of time steps: all "
            f"{'the' if steps is None else steps} steps of the input are processed; {kept}")


def recurrent_params(cell: str, units: int, features: Dim, *, directions: int = 1, layers: int = 1,
                     proj_size: int = 0, bias_vectors: int = 1) -> int | Expr:
    """The weight count of a (possibly stacked, bidirectional) recurrent layer."""
    g, h = GATES[cell], units
    out = proj_size or units
    total: int | Expr = 0
    for layer in range(layers):
        inputs = features if layer == 0 else directions * out
        one = inputs * (g * h) + g * h * out + bias_vectors * g * h + (out * h if proj_size else 0)
        total = total + one * directions
    return total


@dataclass(frozen=True)
class Recurrent:
    """A recurrent layer: ``cell`` (simple/lstm/gru), ``units`` (hidden size), ``directions``,
    ``layers``, ``proj_size``, the time/batch order, which outputs are returned and the bias layout.

    ``input_size`` is fixed by PyTorch and ONNX (the weights), built from the first input by Keras.
    ``params`` overrides the count (ONNX: the sizes of the weight initializers as given).
    """

    cell: str
    units: int
    style: str = "keras"  # keras | torch | onnx
    type: str = "LSTM"
    input_size: int | None = None
    directions: int = 1
    layers: int = 1
    proj_size: int = 0
    batch_first: bool = True  # keras: not time_major; torch: batch_first; onnx: layout=1
    return_sequences: bool = True
    return_state: bool = False
    bias_vectors: int = 1
    params: int | None = None
    stateful: bool = False
    unroll: bool = False
    unroll_strict: bool = True  # tf.keras 2 refuses unroll=True with unknown steps; Keras 3 builds, warns here
    go_backwards: bool = False  # Keras: shapes unchanged; Bidirectional needs the two directions to differ

    @property
    def expects(self) -> str:
        if self.style == "torch":
            return "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
        if self.style == "onnx":
            return "(batch, seq, input_size)" if self.batch_first else "(seq, batch, input_size)"
        return "(batch, timesteps, features)" if self.batch_first else "(timesteps, batch, features)"

    # -- input ---------------------------------------------------------------------
    def _split(self, shape: tuple[Dim, ...]) -> tuple[Dim, Dim, Dim, bool]:
        """(batch, steps, features, batched) with the framework's rank rules and wording."""
        rank = len(shape)
        if self.style == "torch":
            if rank not in (2, 3):
                tail = " tensor instead" if self.cell == "simple" else " instead"
                raise ShapeMismatchError(
                    f"{self.type}: Expected input to be 2D or 3D, got {rank}D{tail} (input {format_shape(shape)})",
                    expected=f"{self.expects}, or (L, H_in) unbatched",
                    fix="reshape the input to (L, N, H_in) (batch_first=True: (N, L, H_in))")
            if rank == 2:
                return None, shape[0], shape[1], False
            steps, batch = (shape[1], shape[0]) if self.batch_first else (shape[0], shape[1])
            return batch, steps, shape[2], True
        if rank != 3:
            if self.style == "onnx":
                raise ShapeMismatchError(f"{self.type}: input X {format_shape(shape)} is {rank}-D",
                                         expected=f"a 3-D input {self.expects}",
                                         fix="reshape X to (seq_length, batch_size, input_size)")
            eg = f"e.g. keras.layers.Reshape(({format_dim(shape[-1])}, 1))" if rank == 2 else "e.g. keras.layers.Reshape"
            raise ShapeMismatchError(
                f"{self.type} expects {self.expects}: received a {rank}-D input {format_shape(shape)} "
                f"(Keras: 'expected ndim=3, found ndim={rank}')",
                expected=f"a 3-D input {self.expects}",
                fix=f"give the input a time axis ({eg} to read each value as one step of 1 feature, "
                    "or keras.Input(shape=(timesteps, features)))")
        steps, batch = (shape[1], shape[0]) if self.batch_first else (shape[0], shape[1])
        return batch, steps, shape[2], True

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        batch, steps, features, batched = self._split(shape)
        conditions = Conditions()
        warnings: list[str] = []
        notes: list[str] = []
        for what, d in (("batch", batch), ("steps", steps), ("features", features)):
            if isinstance(d, int) and d < 1:
                raise ShapeMismatchError(f"{self.type}: the {what} size is {d} in {format_shape(shape)}",
                                         expected="sizes >= 1")
        features, more = features_for_weights(features, self.input_size, shape, conditions, self._mismatch(shape))
        warnings += more
        if self.style == "keras":
            if self.unroll and steps is None and not self.unroll_strict:
                warnings.append("unroll=True needs a known number of time steps to run: Keras 3 builds the layer "
                                "with timesteps None, but calling it on such a tensor (TensorFlow backend, or "
                                "tf.keras 2) fails with 'Cannot unroll a RNN if the time dimension is undefined'")
            elif self.unroll and steps is None:
                raise ShapeMismatchError(
                    f"{self.type}: Cannot unroll a RNN if the time dimension is undefined (input {format_shape(shape)})",
                    expected="a known number of time steps", fix="give the steps as a number, or unroll=False")
            if self.stateful and batch is None:
                raise ShapeMismatchError(
                    f"{self.type}: When using `stateful=True` in a RNN, the batch size must be static. "
                    f"Found dynamic batch size: sequence.shape={format_shape(shape)}",
                    expected="a fixed batch size", fix="give the batch size, e.g. keras.Input(batch_shape=(32, t, f))")
        if isinstance(steps, Expr):
            conditions.require(steps, 1)
        params = self.params if self.params is not None else recurrent_params(
            self.cell, self.units, features, directions=self.directions, layers=self.layers,
            proj_size=self.proj_size, bias_vectors=self.bias_vectors)
        outputs, names = self._outputs(batch, steps, batched)
        if self.style == "keras":
            notes.append(units_note(self.units, steps, self.return_sequences))
        return ShapeResult(outputs, names, params=params, notes=tuple(notes), warnings=tuple(warnings),
                           conditions=conditions)

    def _mismatch(self, shape: tuple[Dim, ...]):
        def error(features: int) -> ShapeMismatchError:
            if self.style == "torch":
                return ShapeMismatchError(
                    f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {features} "
                    f"(input {format_shape(shape)})", expected=f"a last dim of {self.input_size}",
                    fix=f"set input_size={features}, or give the input {self.input_size} features per step")
            return ShapeMismatchError(
                f"{self.type}: input X {format_shape(shape)} has {features} features but W takes {self.input_size}",
                expected=f"a last dim of {self.input_size}", fix=f"give W=(num_directions, G*hidden_size, {features})")
        return error

    def _outputs(self, batch: Dim, steps: Dim, batched: bool) -> tuple[tuple, tuple]:
        h, d = self.units, self.directions
        out = self.proj_size or h
        if self.style == "keras":
            if self.return_sequences:
                y = (batch, steps, h) if self.batch_first else (steps, batch, h)
            else:
                y = (batch, h)
            if not self.return_state:
                return (y,), ("output",)
            states = ("h", "c") if self.cell == "lstm" else ("h",)
            return (y, *[(batch, h)] * len(states)), ("output", *states)
        if self.style == "torch":
            if batched:
                y = (batch, steps, d * out) if self.batch_first else (steps, batch, d * out)
                hn, cn = (d * self.layers, batch, out), (d * self.layers, batch, h)
            else:
                y, hn, cn = (steps, d * out), (d * self.layers, out), (d * self.layers, h)
            if self.cell == "lstm":
                return (y, hn, cn), ("output", "h_n", "c_n")
            return (y, hn), ("output", "h_n")
        y = (batch, steps, d, h) if self.batch_first else (steps, d, batch, h)
        state = (batch, d, h) if self.batch_first else (d, batch, h)
        if self.cell == "lstm":
            return (y, state, state), ("Y", "Y_h", "Y_c")
        return (y, state), ("Y", "Y_h")


@dataclass(frozen=True)
class Bidirectional:
    """Keras ``Bidirectional``: a forward and a backward Keras recurrent op on the same input,
    merged by ``merge_mode`` (``concat`` joins the last dims, ``sum``/``mul``/``ave`` keep them,
    ``None`` returns both); with ``return_state`` the forward then the backward states follow."""

    forward: Recurrent
    backward: Recurrent
    merge_mode: str | None = "concat"
    type: str = "Bidirectional"

    @property
    def expects(self) -> str:
        return self.forward.expects

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        try:
            f = self.forward.apply(shapes)
            b = self.backward.apply(shapes)
        except ShapeMismatchError as err:
            err.what = f"Bidirectional({self.forward.type}): {err.what}"
            err.args = (err._compose(),)
            raise
        fy, by = f.outputs[0], b.outputs[0]
        notes = list(f.notes)
        conditions = Conditions()
        conditions.merge(f.conditions)
        conditions.merge(b.conditions)
        if self.merge_mode is None:
            outputs: tuple = (fy, by)
            names: tuple = ("forward", "backward")
        elif self.merge_mode == "concat":
            last = fy[-1] + by[-1]
            outputs, names = ((*fy[:-1], last),), ("output",)
            notes.append(f"merge_mode='concat': the forward and backward outputs are joined on the last axis "
                         f"({fy[-1]} + {by[-1]} = {last})")
        else:
            merged = Broadcast(f"Bidirectional merge_mode={self.merge_mode!r}", 2, 2).apply((fy, by))
            conditions.merge(merged.conditions)
            outputs, names = merged.outputs, ("output",)
            notes.append(f"merge_mode={self.merge_mode!r}: the two directions are combined element-wise, "
                         "the last axis stays")
        if self.forward.return_state:
            outputs = (*outputs, *f.outputs[1:], *b.outputs[1:])
            names = (*names, *[f"forward_{n}" for n in f.names[1:]], *[f"backward_{n}" for n in b.names[1:]])
        return ShapeResult(outputs, names, params=f.params + b.params, notes=tuple(notes),
                           warnings=tuple(dict.fromkeys(f.warnings + b.warnings)), conditions=conditions)
