from .base import Dialect

DIALECT = Dialect("onnx", (), "ONNX")
