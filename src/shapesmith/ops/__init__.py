"""Canonical ops: channels-first, explicit per-axis padding, frozen and hashable.

Dialects translate framework text into these; the shape of every op comes from
:mod:`shapesmith.arith`.
"""

from .base import SAME_LOWER, SAME_UPPER, OpResult, ShapeResult, Step, axis_names
from .conv import Conv, ConvTranspose
from .pool import GlobalPool, Pool

__all__ = ["SAME_LOWER", "SAME_UPPER", "OpResult", "ShapeResult", "Step", "axis_names", "Conv", "ConvTranspose",
           "Pool", "GlobalPool"]
