"""Kernels keyed by canonical op type, and the weights a kernel takes by its framework's names.

A kernel is ``fn(op, x, weights, *, framework, config) -> ndarray | tuple[ndarray, ...]``:

* ``op``: the canonical op (after the dialect's input-dependent rules);
* ``x``: for a spatial layer, channels-first and batched ``(N, C, *spatial)``; for a whole-shape
  layer, the array as the framework takes it (a list for several inputs);
* ``weights``: a :class:`Weights`, tensors named and laid out as the framework stores them; the
  kernel converts layouts explicitly;
* ``framework``: the dialect (``torch``, ``keras``, ``keras2``, ``keras1``, ``tf``, ``onnx``);
* ``config``: the layer's bound constructor arguments (activation, eps, interpolation, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..errors import ShapesmithError

KERNELS: dict[type, Callable] = {}
OWN_ACTIVATION: set[type] = set()  # kernels that apply config["activation"] themselves (recurrent cells)


def kernel(*op_types: type, own_activation: bool = False) -> Callable:
    def register(fn: Callable) -> Callable:
        for t in op_types:
            KERNELS[t] = fn
            if own_activation:
                OWN_ACTIVATION.add(t)
        return fn
    return register


class WeightError(ShapesmithError):
    """Weights missing, extra, or of the wrong shape or dtype."""


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join("*" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _fits(got: tuple, want: tuple) -> bool:
    return len(got) == len(want) and all(w is None or g == w for g, w in zip(got, want))


class Weights:
    """The tensors given for one layer; :meth:`take` each by name, then :meth:`finish` rejects the rest."""

    def __init__(self, tensors: Mapping[str, np.ndarray] | None, layer: str):
        self.tensors = dict(tensors or {})
        self.layer = layer
        self.used: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name in self.tensors

    def take(self, name: str, shape: tuple[int | None, ...]) -> np.ndarray:
        """The tensor ``name``, which must have ``shape`` (``None``: any size on that axis)."""
        if name not in self.tensors:
            have = ", ".join(sorted(self.tensors)[:12]) or "none"
            fitting = [k[:-len(name)] for k, v in sorted(self.tensors.items())
                       if k.endswith("." + name) and _fits(np.shape(v), shape)]
            fix = (f"pick the layer with --prefix {fitting[0]!r} ({', '.join(map(repr, fitting))} fit)" if fitting
                   else f"pass {name!r} (with --prefix when the file holds a whole model)")
            raise WeightError(f"{self.layer} needs the weight {name!r} of shape {_shape_text(shape)}; given: {have}",
                              expected=f"{name} {_shape_text(shape)}", fix=fix)
        return self._checked(name, shape)

    def optional(self, name: str, shape: tuple[int | None, ...]) -> np.ndarray | None:
        return self._checked(name, shape) if name in self.tensors else None

    def _checked(self, name: str, shape: tuple[int | None, ...]) -> np.ndarray:
        value = np.asarray(self.tensors[name])
        if value.dtype.kind not in "fiu" or value.dtype.itemsize > 8:
            raise WeightError(f"{self.layer}: weight {name!r} has dtype {value.dtype}",
                              expected="a float or integer array", fix="convert it to float32 or float64")
        if not _fits(value.shape, shape):
            raise WeightError(f"{self.layer}: weight {name!r} has shape {_shape_text(value.shape)}",
                              expected=f"shape {_shape_text(shape)}",
                              fix="check the layer's arguments against the weights (in/out channels, kernel size)")
        self.used.add(name)
        return value

    def finish(self) -> None:
        extra = sorted(set(self.tensors) - self.used)
        if extra:
            raise WeightError(f"{self.layer} does not use the weight(s) {', '.join(map(repr, extra))}",
                              expected=f"only {', '.join(sorted(self.used)) or 'no weights'}",
                              fix="remove them, or select one layer's tensors with --prefix")
