"""Keras wrappers written around a layer call: ``TimeDistributed(Dense(8))``."""

from __future__ import annotations

from ..errors import ConfigError
from ..layer import WholeLayer
from ..ops.wrappers import TimeDistributed
from .base import Call, Dialect, Ref, Spec, parse_call
from .keras import COMMON, COMMON2, DIALECT, DIALECT2, declared_input
from .keras1 import DIALECT as KERAS1


def inner_layer(dialect: Dialect, value: object, wrapper: str):
    """The layer a wrapper takes, written inline as a call (``Dense(8)``) and built in the same dialect."""
    if not isinstance(value, Ref) or "(" not in value.text:
        raise ConfigError(f"{wrapper} needs a layer written as a call, got {getattr(value, 'text', value)!r}",
                          fix=f"write it inline: {wrapper}(Dense(8))")
    return dialect.build(parse_call(value.text))


def _time_distributed(dialect: Dialect):
    def build(call: Call, a: dict) -> WholeLayer:
        inner = inner_layer(dialect, a["layer"], "TimeDistributed")
        shape, notes = declared_input(dialect.name if dialect.name != "keras1" else "keras2", a, "TimeDistributed")
        return WholeLayer(dialect.name, "TimeDistributed", call.text, TimeDistributed(inner), notes=notes,
                          name="time_distributed" if dialect.name != "keras1" else "timedistributed",
                          declared_input=shape)

    common = COMMON if dialect.name == "keras" else COMMON2
    return Spec("TimeDistributed", ("layer",) + common, {k: None for k in common}, build)


for _dialect in (DIALECT, DIALECT2, KERAS1):
    _dialect.register(_time_distributed(_dialect))
