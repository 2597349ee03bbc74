"""Dialects: each framework's text -> canonical ops. Detection picks the one that knows the name."""

from __future__ import annotations

import difflib

from ..errors import ParseError
from ..layer import Layer
from . import attention, keras, keras1, keras_layers, keras_merge, keras_wrappers, onnx, tf, torch, torch_layers  # noqa: F401 (registration)
from . import recurrent  # noqa: F401,E402 (registration)
from . import keras_conv_extra  # noqa: F401,E402 (registration)
from . import onnx_layers  # noqa: F401,E402 (registration)
from . import spatial  # noqa: F401,E402 (registration)
from . import keras1_layers  # noqa: F401,E402 (registration)
from .base import Call, Dialect, parse_call

DIALECTS: dict[str, Dialect] = {d.name: d for d in (torch.DIALECT, keras.DIALECT, keras.DIALECT2, keras1.DIALECT,
                                                     tf.DIALECT, onnx.DIALECT)}


def detect(call: Call) -> Dialect:
    """The dialect a call is written in: its prefix (``nn.``, ``tf.nn.``), else the one that knows
    the name, preferring one whose own keywords appear (Keras 1's ``border_mode``), then the one
    the name mostly means (``Convolution2D(16, 3, 3)`` is Keras 1's, though Keras 3 kept the alias)."""
    return _detection(call)[0]


def detect_program(calls: list[Call]) -> Dialect:
    """One dialect for a whole stack: the most certain detection among its calls, the first on a tie
    (``MaxPooling2D((2, 2))`` beside ``Convolution2D(8, 3, 3, border_mode='same')`` is Keras 1)."""
    best = max(((_detection(c), -j) for j, c in enumerate(calls)), key=lambda item: (item[0][1], item[1]))
    return best[0][0]


def _detection(call: Call) -> tuple[Dialect, int]:
    """The dialect and how sure: 2 by prefix or own keyword, 1 by the name's usual meaning, 0 by order."""
    known = [d for d in DIALECTS.values() if d.lookup(call) is not None]
    prefixed = [d for d in known if d.owns_prefix(call)]
    if prefixed:
        known = prefixed
    marked = [d for d in known if set(call.kwargs) & set(d.lookup(call).marker)]
    if marked:
        return marked[0], 2
    primary = [d for d in known if d.lookup(call).primary]
    if primary:
        return primary[0], 1
    if known:
        return known[0], 2 if len(known) == 1 else 0
    names = sorted({n for d in DIALECTS.values() for n in d.specs})
    close = difflib.get_close_matches(call.short, names, n=3)
    raise ParseError(f"{call.name} is not a layer shapesmith knows",
                     expected="a layer of PyTorch, Keras, Keras 1, TensorFlow or ONNX",
                     fix=f"did you mean {' or '.join(close)}?" if close else "check the name, or pass --framework")


def dialect(name: str) -> Dialect:
    if name not in DIALECTS:
        raise ParseError(f"unknown framework {name!r}", expected=f"one of {', '.join(DIALECTS)}")
    return DIALECTS[name]


def build_layer(text: str, framework: str | None = None) -> Layer:
    call = parse_call(text)
    return (dialect(framework) if framework else detect(call)).build(call)


__all__ = ["DIALECTS", "build_layer", "detect", "detect_program", "dialect", "parse_call"]
