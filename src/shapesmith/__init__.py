"""shapesmith: exact neural-network layer shapes, for PyTorch, Keras, TensorFlow and ONNX."""

from .dims import Expr, Symbol, parse_dim, parse_shape
from .errors import ShapesmithError
from .trace import Trace, trace

# Loaded on first use, so `shapesmith layer` starts without them (the numpy forward pulls in numpy).
_LAZY = {"forward": "numeric", "inverse": "solver", "solve": "solver", "solve_chain": "solver", "summary": "summarize"}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'shapesmith' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = ["Expr", "ShapesmithError", "Symbol", "Trace", "forward", "inverse", "parse_dim", "parse_shape", "solve",
           "solve_chain", "summary", "trace"]
__version__ = "0.1.0"
