"""`shapesmith forward`: read the input and the weights, run the numpy forward, write and describe the result."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import ShapesmithError
from ..trace import shape_json

SEED = 0


@dataclass(frozen=True)
class ForwardResult:
    layer: str
    framework: str
    inputs: tuple[tuple[int, ...], ...]
    random_input: bool
    weights: tuple[tuple[str, tuple[int, ...]], ...]
    outputs: tuple[np.ndarray, ...]  # none when only the unfold view was asked for, without weights
    names: tuple[str, ...]
    written: str | None
    unfold: object | None = None

    def to_dict(self) -> dict:
        out = {"framework": self.framework, "layer": self.layer,
               "input_shape": [list(s) for s in self.inputs] if len(self.inputs) > 1 else list(self.inputs[0]),
               "random_input": self.random_input,
               "weights": {name: list(shape) for name, shape in self.weights},
               "outputs": [{"name": n, "shape": shape_json(tuple(y.shape)), "dtype": str(y.dtype),
                            **_stats(y)} for n, y in zip(self.names, self.outputs)],
               "written": self.written}
        if self.unfold is not None:
            out["unfold"] = self.unfold.to_dict()
        return out

    def render(self) -> str:
        from ..render.text import TITLES
        shown = ", ".join(str(s) for s in self.inputs)
        lines = [f"{TITLES[self.framework]}: {self.layer}",
                 f"  input    {shown}" + (f" (random normal values, seed {SEED})" if self.random_input and self.outputs else "")]
        if self.weights:
            lines.append("  weights  " + ", ".join(f"{n} {s}" for n, s in self.weights))
        for name, y in zip(self.names, self.outputs):
            st = _stats(y)
            lines.append(f"  {name:<8} {tuple(y.shape)} {y.dtype}  values in [{st['min']:.3g}, {st['max']:.3g}]")
        if not self.outputs:
            lines.append("  (no weights given: the unfold view only)")
        if self.written:
            lines.append(f"  written to {self.written}")
        text = "\n".join(lines) + "\n"
        if self.unfold is not None:
            from ..render.unfold import render_unfold
            text += render_unfold(self.unfold)
        return text


def _stats(y: np.ndarray) -> dict:
    if y.size == 0 or y.dtype.kind not in "fiu":
        return {"min": 0.0, "max": 0.0, "mean": 0.0}
    return {"min": float(y.min()), "max": float(y.max()), "mean": float(y.mean())}


def _load_array_file(path: str) -> list[np.ndarray]:
    """A .npy (one input) or .npz (several, in file order), never unpickled."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise ShapesmithError(f"cannot read {path!r} as a numpy array: {str(err).splitlines()[0][:120]}",
                              expected="a .npy or .npz file of numbers", fix="save it with numpy.save") from None
    if isinstance(data, np.ndarray):
        return [data]
    with data:
        return [data[k] for k in data.files]


def _inputs(given: str) -> tuple[list[np.ndarray], bool]:
    """The input arrays, or seeded random ones of a shape (``(1, 16, 8820)``), for a quick look."""
    if os.path.exists(given):
        return _load_array_file(given), False
    from ..dims import parse_shape
    try:
        shape = parse_shape(given)
    except ShapesmithError:
        raise ShapesmithError(f"--input {given!r} is neither a file nor a shape",
                              expected="a .npy / .npz file, or a concrete shape such as (1, 16, 8820)") from None
    if not all(isinstance(d, int) and d >= 1 for d in shape) or int(np.prod(shape)) > 50_000_000:
        raise ShapesmithError(f"--input {given}: random values need concrete sizes >= 1, at most 5e7 in all",
                              fix="give numbers for every dim, batch included")
    return [np.random.default_rng(SEED).standard_normal(shape, dtype=np.float32)], True


def run_forward(layer: str, given: str, *, weights: str | None, prefix: str | None, output: str | None,
                framework: str | None, explain: bool, position: str | None) -> ForwardResult:
    from ..dialects import build_layer
    from ..layer import WholeLayer
    from . import forward
    from .weights import load_weights

    built = build_layer(layer, framework)
    arrays, random_input = _inputs(given)
    tensors = load_weights(weights, prefix=prefix, layer=built) if weights else {}
    x = arrays if isinstance(built, WholeLayer) and built.multi_input else arrays[0]
    if len(arrays) > 1 and x is arrays[0]:
        raise ShapesmithError(f"{given} holds {len(arrays)} arrays but {built.type} takes one input",
                              fix="save the one input as .npy")
    if weights is None and explain:  # the unfold view needs shapes only
        outputs: tuple[np.ndarray, ...] = ()
    else:
        y = forward(built, x, tensors)
        outputs = y if isinstance(y, tuple) else (y,)
    names = built.infer(*(tuple(a.shape) for a in arrays)).output_names or ("output",) * len(outputs)
    if len(outputs) > 1 and names == ("output",) * len(outputs):
        names = tuple(f"output_{j}" for j in range(len(outputs)))
    if output and outputs:
        _write(output, outputs, names)
    unfold = None
    if explain:
        from .unfold import unfold_view
        at = tuple(int(v) for v in position.split(",")) if position else None
        unfold = unfold_view(built, tuple(arrays[0].shape), position=at)
    return ForwardResult(built.text, built.framework, tuple(tuple(a.shape) for a in arrays), random_input,
                         tuple((k, tuple(np.shape(v))) for k, v in tensors.items()), tuple(outputs), tuple(names),
                         output, unfold)


def _write(path: str, outputs: tuple[np.ndarray, ...], names: tuple[str, ...]) -> None:
    if path.endswith(".npz"):
        np.savez(path, **dict(zip(names, outputs)))
    elif path.endswith(".npy"):
        if len(outputs) > 1:
            raise ShapesmithError(f"the layer gives {len(outputs)} outputs ({', '.join(names)})",
                                  expected="an .npz output file for several arrays", fix=f"write {path[:-4]}.npz")
        np.save(path, outputs[0])
    else:
        raise ShapesmithError(f"--output {path!r}", expected="a .npy or .npz file name")
