from .base import Dialect

DIALECT = Dialect("keras1", (), "Keras 1")
