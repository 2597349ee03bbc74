"""What a layer computes: a numpy forward from the framework's own weights.

The kernels never call the shape formulas; the shape engine only checks the input first, so a
wrong input gets the same explained error as ``shapesmith layer``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import ShapesmithError
from ..layer import Layer, WholeLayer
from .registry import KERNELS, OWN_ACTIVATION, Weights

FLOATS = (np.float32, np.float64)


def _kernels_loaded() -> None:
    from . import basic, conv, pool, recurrent  # noqa: F401  (register their kernels)


def _as_input(x: object) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype.kind not in "fiub" or a.dtype.itemsize > 8:
        raise ShapesmithError(f"the input has dtype {a.dtype}", expected="a float or integer array",
                              fix="convert it to float32 or float64")
    return a


def forward(layer: str | Layer | WholeLayer, x: object, weights: Mapping[str, object] | None = None, *,
            framework: str | None = None) -> np.ndarray | tuple[np.ndarray, ...]:
    """Apply ``layer`` to ``x`` with ``weights`` named as its framework names them.

    Float inputs keep their dtype (float32 or float64); integer inputs (token ids) are taken as they are.
    """
    from ..dialects import build_layer
    _kernels_loaded()
    built = build_layer(layer, framework) if isinstance(layer, str) else layer
    fn = KERNELS.get(type(built.op))
    if fn is None:
        raise ShapesmithError(f"{built.type} has no numpy forward yet", expected="a layer with a forward",
                              fix="see `shapesmith forward --help` for the layers it computes")
    if built.config.get("activation") == "glu" and built.type != "Activation":
        raise ShapesmithError(f"{built.type}(activation='glu') halves the last axis when run, though Keras' own "
                              "output shape does not", expected="another activation",
                              fix="use a separate Activation('glu') layer or another activation")
    inputs = [_as_input(a) for a in x] if isinstance(built, WholeLayer) and built.multi_input else [_as_input(x)]
    result = built.infer(*(tuple(a.shape) for a in inputs))
    given = Weights({k: np.asarray(v) for k, v in (weights or {}).items()}, built.type)
    common = {"framework": built.framework, "config": built.config}
    if isinstance(built, Layer):
        y = _spatial(fn, built, result.op, inputs[0], given, common)
    else:
        y = fn(result.op, inputs if built.multi_input else inputs[0], given, **common)
    given.finish()
    activation = built.config.get("activation")
    if activation is not None and type(built.op) not in OWN_ACTIVATION:
        from .basic import activate
        y = activate(activation, y, built.framework)
    _check_shapes(built, result.output_shape, y)
    return y


def _spatial(fn, built: Layer, op: object, x: np.ndarray, weights: Weights, common: dict) -> np.ndarray:
    """Channels-first and batched for the kernel; back to the layer's own layout after."""
    batched = x.ndim == built.rank + 2 if built.rank is not None else True
    a = x if batched else x[None]
    if built.channels_last:
        a = np.moveaxis(a, -1, 1)
    y = fn(op, a, weights, **common)
    if built.channels_last:
        y = np.moveaxis(y, 1, -1)
    return np.ascontiguousarray(y if batched else y[0])


def _check_shapes(built, expected, y) -> None:
    """The forward and the shape formula are independent: they must agree (else it is our bug)."""
    outs = y if isinstance(y, tuple) else (y,)
    shapes = expected if isinstance(expected, list) else [expected]
    if len(outs) != len(shapes):
        raise RuntimeError(f"{built.type}: the forward gave {len(outs)} outputs, the shape engine {len(shapes)}")
    for want, got in zip(shapes, outs):
        if len(want) != got.ndim or any(isinstance(w, int) and w != g for w, g in zip(want, got.shape)):
            raise RuntimeError(f"{built.type}: the forward gave {got.shape}, the shape engine {want}")


__all__ = ["forward"]
