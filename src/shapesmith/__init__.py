"""shapesmith: exact neural-network layer shapes, for PyTorch, Keras, TensorFlow and ONNX."""

from .dims import Expr, Symbol, parse_dim, parse_shape
from .errors import ShapesmithError
from .numeric import forward
from .solve import inverse, solve, solve_chain
from .summary import summary
from .trace import Trace, trace

__all__ = ["Expr", "ShapesmithError", "Symbol", "Trace", "forward", "inverse", "parse_dim", "parse_shape", "solve",
           "solve_chain", "summary", "trace"]
__version__ = "0.1.0"
