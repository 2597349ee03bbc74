"""PyTorch layers beyond conv and pooling: ``nn.Linear``, ... (registered into the torch dialect)."""

from __future__ import annotations

from ..layer import WholeLayer
from ..ops.dense import Dense
from .base import Call, Spec, as_bool, as_int
from .torch import DIALECT


def _linear(call: Call, a: dict) -> WholeLayer:
    op = Dense(as_int(a["out_features"], "out_features", minimum=0, layer="Linear"),
               as_int(a["in_features"], "in_features", minimum=0, layer="Linear"),
               as_bool(a["bias"], "bias", "Linear"), min_rank=1)
    return WholeLayer("torch", "Linear", call.text, op, name="linear")


DIALECT.register(Spec("Linear", ("in_features", "out_features", "bias", "device", "dtype"),
                      {"bias": True, "device": None, "dtype": None}, _linear))
