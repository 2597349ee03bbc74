from .base import Dialect

DIALECT = Dialect("tf", (), "TensorFlow")
