"""Keras 3 and tf.keras 2 layers beyond conv and pooling: ``Dense``, ... (registered into both dialects)."""

from __future__ import annotations

from ..errors import ConfigError
from ..layer import WholeLayer
from ..ops.dense import Dense
from .base import Call, Dialect, Spec, as_bool, describe
from .keras import COMMON, COMMON2, DIALECT, DIALECT2, IGNORED, declared_input


def _dense(framework: str):
    def build(call: Call, a: dict) -> WholeLayer:
        units = a["units"]
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ConfigError(f"Received an invalid value for `units`, expected a positive integer. "
                              f"Received: units={describe(units)}")
        shape, notes = declared_input(framework, a, "Dense")
        op = Dense(units, None, as_bool(a["use_bias"], "use_bias", "Dense"))
        return WholeLayer(framework, "Dense", call.text, op, notes=notes, name="dense", declared_input=shape)

    common = COMMON2 if framework == "keras2" else COMMON
    params = ("units", "activation", "use_bias") + IGNORED[1:] + ("lora_rank",) * (framework == "keras") + common
    return Spec("Dense", params, {"activation": None, "use_bias": True, **{k: None for k in IGNORED + common},
                                  "lora_rank": None}, build, marker=("batch_input_shape",) if framework == "keras2" else ())


def _register(dialect: Dialect) -> None:
    dialect.register(_dense(dialect.name))


_register(DIALECT)
_register(DIALECT2)
