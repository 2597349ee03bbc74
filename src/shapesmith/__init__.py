"""shapesmith: exact neural-network layer shapes, for PyTorch, Keras, TensorFlow and ONNX."""

from .dims import Expr, Symbol, parse_dim, parse_shape
from .errors import ShapesmithError
from .trace import Trace, trace

__all__ = ["Expr", "ShapesmithError", "Symbol", "Trace", "parse_dim", "parse_shape", "trace"]
__version__ = "0.1.0"
