"""A layer as a framework defines it: a canonical op plus its layout and the framework's own rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .dims import Conditions, Dim, Expr, format_shape
from .errors import ShapeMismatchError
from .ops import OpResult, ShapeResult, Step


@dataclass
class Input:
    """A layer's input split by its layout, as a dialect's input-dependent rule sees it.

    A rule may adjust the input (torch's ``F.pad`` of the channel dim) and add notes, warnings
    and conditions; it returns the op to apply. Keras 1's ignored ``output_shape``, torch's
    ``output_size`` and TF's ``output_shape`` are such rules.
    """

    batch: Dim
    batched: bool
    channels: Dim
    spatial: tuple[Dim, ...]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    conditions: Conditions = field(default_factory=Conditions)


Adjust = Callable[[object, Input], object]


@dataclass(frozen=True)
class Layer:
    framework: str
    type: str
    text: str
    op: object
    rank: int | None  # spatial axes it expects; None: any
    channels_last: bool = False
    allow_unbatched: bool = False
    adjust: tuple[Adjust, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    name: str = ""
    declared_input: tuple[Dim, ...] | None = None  # from input_shape= / batch_input_shape= / input_dim=
    # Transposed convs: (op, input spatial) -> per axis, each size the forward conv maps back to the
    # input, with the argument that picks it in this framework ("" when the framework cannot).
    back_sizes: Callable[[object, tuple], list[list[tuple[Dim, str]]]] | None = None
    config: Mapping[str, object] = field(default_factory=dict, compare=False)  # the bound arguments, defaults in

    def infer(self, *shapes: tuple[Dim, ...]) -> LayerResult:
        shape = single_input(self.type, shapes)
        batched = True
        want = None if self.rank is None else self.rank + 2
        if want is not None and len(shape) != want:
            if self.allow_unbatched and len(shape) == want - 1:
                batched = False
            else:
                layout = self.layout()
                alt = f" (or {want - 1}-D without the batch dim)" if self.allow_unbatched else ""
                raise ShapeMismatchError(
                    f"received a {len(shape)}-D input {format_shape(shape)}",
                    expected=f"a {want}-D input {layout}{alt}",
                    fix=f"give the shape as {layout}, batch dim included")
        if want is None and len(shape) < 3:
            raise ShapeMismatchError(f"received a {len(shape)}-D input {format_shape(shape)}",
                                     expected=f"a shape {self.layout()} with at least one spatial axis")
        batch, rest = (shape[0], shape[1:]) if batched else (None, shape)
        channels, spatial = (rest[-1], rest[:-1]) if self.channels_last else (rest[0], rest[1:])
        for d in spatial:
            if isinstance(d, int) and d < 1:
                raise ShapeMismatchError(f"received spatial size {d} in {format_shape(shape)}",
                                         expected="spatial sizes >= 1")
        seen = Input(batch, batched, channels, tuple(spatial), list(self.notes), list(self.warnings))
        op = self.op
        for rule in self.adjust:
            op = rule(op, seen)
        try:
            result: OpResult = op.infer(seen.channels, seen.spatial)
        except ShapeMismatchError as err:
            if not batched:
                err.what = f"read as an unbatched input {self.layout().replace('N, ', '')}: {err.what}"
                err.args = (err._compose(),)
            raise
        out_rest = (*result.spatial, result.channels) if self.channels_last else (result.channels, *result.spatial)
        out = (seen.batch, *out_rest) if batched else tuple(out_rest)
        if not batched:
            seen.notes.append("unbatched input: no batch dim in or out")
        result.conditions.merge(seen.conditions)
        params = op.param_count(seen.channels) if isinstance(seen.channels, int) else 0
        return LayerResult(
            layer=self, op=op, input_shape=tuple(shape), output_shape=out, params=params,
            steps=result.steps, notes=tuple(seen.notes) + result.notes, warnings=tuple(seen.warnings),
            conditions=result.conditions)

    def alternatives(self, result: LayerResult) -> list[list[tuple[Dim, str]]]:
        if self.back_sizes is None:
            return []
        spatial = result.input_shape[-self.rank - 1:-1] if self.channels_last else result.input_shape[-self.rank:]
        return self.back_sizes(result.op, tuple(spatial))

    def layout(self) -> str:
        spatial = {1: ["L"], 2: ["H", "W"], 3: ["D", "H", "W"]}.get(self.rank or 2, ["..."])
        dims = ["N", *spatial, "C"] if self.channels_last else ["N", "C", *spatial]
        return f"({', '.join(dims)})"


def single_input(type_name: str, shapes: tuple) -> tuple[Dim, ...]:
    if len(shapes) != 1:
        raise ShapeMismatchError(f"{type_name} received {len(shapes)} inputs", expected="one input",
                                 fix="merge the inputs first (Concatenate, Add, ...)")
    return shapes[0]


@dataclass(frozen=True)
class WholeLayer:
    """A layer whose op sees whole shapes, batch dim included (dense, reshape, recurrent, merge).

    ``op.apply(shapes) -> ShapeResult``; ``op.expects`` describes the input it takes, for messages.
    """

    framework: str
    type: str
    text: str
    op: object
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    name: str = ""
    declared_input: tuple[Dim, ...] | None = None
    multi_input: bool = False  # merges take a list of inputs
    config: Mapping[str, object] = field(default_factory=dict, compare=False)  # the bound arguments, defaults in

    def infer(self, *shapes: tuple[Dim, ...]) -> LayerResult:
        if not self.multi_input:
            single_input(self.type, shapes)
        result: ShapeResult = self.op.apply(tuple(tuple(s) for s in shapes))
        outputs = result.outputs
        return LayerResult(
            layer=self, op=self.op, input_shape=list(shapes) if self.multi_input else tuple(shapes[0]),
            output_shape=list(outputs) if len(outputs) > 1 else outputs[0], params=result.params,
            notes=self.notes + result.notes, warnings=self.warnings + result.warnings,
            conditions=result.conditions, output_names=result.names if len(outputs) > 1 else ())

    def alternatives(self, result: LayerResult) -> list:
        return []

    def layout(self) -> str:
        return getattr(self.op, "expects", "(N, ...)")


@dataclass(frozen=True)
class LayerResult:
    """One layer applied: shapes in and out (a list when there are several, with ``output_names``)."""

    layer: Layer | WholeLayer
    op: object
    input_shape: tuple[Dim, ...] | list[tuple[Dim, ...]]
    output_shape: tuple[Dim, ...] | list[tuple[Dim, ...]]
    params: int | Expr
    steps: tuple[Step, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    conditions: Conditions = field(default_factory=Conditions, compare=False)
    output_names: tuple[str, ...] = ()
