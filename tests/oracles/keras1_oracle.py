"""Keras 1.2.2's own shape code, loaded from its unpacked sdist without Theano or TensorFlow.

``make test`` unpacks ``keras==1.2.2`` (PyPI sdist) into ``.venv/oracles/Keras-1.2.2`` and points
``SHAPESMITH_KERAS1_SRC`` at it. Only ``engine/topology.py``, ``utils/np_utils.py``,
``layers/convolutional.py``, ``layers/pooling.py``, ``layers/core.py``, ``layers/recurrent.py``,
``layers/embeddings.py`` and ``layers/normalization.py`` are imported, under the package name
``keras1_oracle_pkg`` (so an installed Keras 3 is untouched), with a stub ``backend`` module that
provides the few functions their constructors call. Shape methods (``get_output_shape_for``) and
``np_utils.conv_output_length`` / ``conv_input_length`` are Keras 1's real code.
"""

from __future__ import annotations

import collections
import importlib
import os
import sys
import types
from pathlib import Path

ENV = "SHAPESMITH_KERAS1_SRC"
PKG = "keras1_oracle_pkg"


def source_dir() -> Path | None:
    """The Keras 1.2.2 source root (the dir holding ``keras/``), or None when not configured."""
    value = os.environ.get(ENV)
    if not value:
        return None
    root = Path(value)
    if (root / "keras" / "layers" / "convolutional.py").is_file():
        return root
    if (root / "layers" / "convolutional.py").is_file():
        return root.parent
    raise RuntimeError(f"{ENV}={value} does not hold Keras 1 sources (keras/layers/convolutional.py)")


def skip_reason() -> str:
    return (f"{ENV} is not set: Keras 1.2.2 oracle unavailable (`make test` downloads the keras==1.2.2 sdist "
            f"into .venv/oracles/ and sets it)")


def _six_shim() -> None:
    try:
        import six  # noqa: F401
        return
    except ImportError:
        pass
    six = types.ModuleType("six")
    moves = types.ModuleType("six.moves")
    moves.zip, moves.range, moves.map = zip, range, map
    six.moves, six.PY2, six.PY3 = moves, False, True
    six.string_types, six.integer_types = (str,), (int,)
    six.iteritems = lambda d: iter(d.items())
    sys.modules["six"], sys.modules["six.moves"] = six, moves


def _stub_backend() -> types.ModuleType:
    """Only what layer constructors touch; any tensor op would raise AttributeError (none is called)."""
    K = types.ModuleType(PKG + ".backend")
    uids: dict[str, int] = collections.defaultdict(int)

    def get_uid(prefix=""):
        uids[prefix] += 1
        return uids[prefix]

    K.image_dim_ordering = lambda: "th"
    K.floatx = lambda: "float32"
    K.epsilon = lambda: 1e-7
    K.get_uid = get_uid
    K.backend = lambda: "tensorflow"
    K.concatenate = lambda tensors, axis=-1: None  # LSTM/GRU build (consume_less='cpu') joins its gate weights
    return K


_CACHE: types.SimpleNamespace | None = None


def load() -> types.SimpleNamespace:
    """``SimpleNamespace(np_utils, conv, pool)`` with Keras 1's modules (cached)."""
    global _CACHE
    if _CACHE is not None:
        return _CACHE
    root = source_dir()
    if root is None:
        raise RuntimeError(skip_reason())
    _six_shim()
    pkg_root = root / "keras"
    # Package shells: set __path__ without running keras/__init__.py (which imports the backend).
    for sub in ("", ".engine", ".utils", ".layers"):
        shell = types.ModuleType(PKG + sub)
        shell.__path__ = [str(pkg_root / sub[1:])] if sub else [str(pkg_root)]
        sys.modules[PKG + sub] = shell
    K = _stub_backend()
    sys.modules[PKG + ".backend"] = K
    sys.modules[PKG].backend = K
    topology = importlib.import_module(PKG + ".engine.topology")
    engine = sys.modules[PKG + ".engine"]
    for attr in ("Layer", "InputSpec", "Input", "InputLayer", "Merge"):
        setattr(engine, attr, getattr(topology, attr))
    _CACHE = types.SimpleNamespace(
        np_utils=importlib.import_module(PKG + ".utils.np_utils"),
        conv=importlib.import_module(PKG + ".layers.convolutional"),
        pool=importlib.import_module(PKG + ".layers.pooling"),
        core=importlib.import_module(PKG + ".layers.core"),
        recurrent=importlib.import_module(PKG + ".layers.recurrent"),
        embeddings=importlib.import_module(PKG + ".layers.embeddings"),
        normalization=importlib.import_module(PKG + ".layers.normalization"),
    )
    return _CACHE


def layer_output_shape(module: str, cls: str, args: tuple, kwargs: dict, input_shape: tuple):
    """``cls(*args, **kwargs).get_output_shape_for(input_shape)`` from Keras 1 (module: an attribute of
    :func:`load`: 'conv', 'pool', 'core', 'recurrent', 'embeddings', 'normalization')."""
    keras1 = load()
    layer = getattr(getattr(keras1, module), cls)(*args, **kwargs)
    return tuple(layer.get_output_shape_for(tuple(input_shape)))


def layer_result(module: str, cls: str, args: tuple, kwargs: dict, input_shape: tuple):
    """``(output_shape, trainable, non_trainable)`` the way Keras 1's ``Layer.__call__`` gets them: the
    constructor's ``input_spec`` ndim check (``assert_input_compatibility``'s rule), then its own
    ``build(input_shape)`` with ``add_weight`` replaced by a recorder of the weight shapes (no backend
    variable is made), then ``get_output_shape_for``."""
    keras1 = load()
    layer = getattr(getattr(keras1, module), cls)(*args, **kwargs)
    input_shape = tuple(input_shape)
    for spec in layer.input_spec or ():
        if spec is not None and spec.ndim is not None:
            if isinstance(spec.ndim, str):
                if len(input_shape) < int(spec.ndim[:-1]):
                    raise ValueError(f"{cls}: expected ndim>={spec.ndim[:-1]}, found ndim={len(input_shape)}")
            elif len(input_shape) != spec.ndim:
                raise ValueError(f"{cls}: expected ndim={spec.ndim}, found ndim={len(input_shape)}")
    counts = [0, 0]

    def add_weight(shape, initializer=None, name=None, trainable=True, regularizer=None, constraint=None):
        size = 1
        for d in shape:
            size *= d
        counts[0 if trainable else 1] += size

    layer.add_weight = add_weight
    layer.build(input_shape)
    return tuple(layer.get_output_shape_for(input_shape)), counts[0], counts[1]
