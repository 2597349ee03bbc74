"""Keras 3 / tf.keras 2 merge layers, applied to a list: ``Add()([a, b])``, ``Concatenate(axis=1)([a, b])``."""

from __future__ import annotations

from ..layer import WholeLayer
from ..ops.merge import Broadcast, Concatenate
from .base import Call, Dialect, Spec, as_int
from .keras import COMMON, COMMON2, DIALECT, DIALECT2

ELEMENTWISE = {"Add": ("add", 2, None), "Subtract": ("subtract", 2, 2), "Multiply": ("multiply", 2, None),
               "Average": ("average", 2, None), "Maximum": ("maximum", 2, None), "Minimum": ("minimum", 2, None)}


def _elementwise(framework: str, type_name: str):
    kind, least, most = ELEMENTWISE[type_name]

    def build(call: Call, a: dict) -> WholeLayer:
        return WholeLayer(framework, type_name, call.text, Broadcast(kind, least, most), name=type_name.lower(),
                          multi_input=True)

    common = COMMON2 if framework == "keras2" else COMMON
    return Spec(type_name, common, {k: None for k in common}, build)


def _concatenate(framework: str):
    def build(call: Call, a: dict) -> WholeLayer:
        return WholeLayer(framework, "Concatenate", call.text, Concatenate(as_int(a["axis"], "axis")),
                          name="concatenate", multi_input=True)

    common = COMMON2 if framework == "keras2" else COMMON
    return Spec("Concatenate", ("axis",) + common, {"axis": -1, **{k: None for k in common}}, build)


def _register(dialect: Dialect) -> None:
    for type_name in ELEMENTWISE:
        dialect.register(_elementwise(dialect.name, type_name))
    dialect.register(_concatenate(dialect.name))


_register(DIALECT)
_register(DIALECT2)
