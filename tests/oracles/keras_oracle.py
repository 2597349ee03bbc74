"""Oracles for shapesmith's ``keras`` (Keras 3) and ``keras2`` (tf.keras 2.15) dialects.

* Keras 3 (torch backend) is its own oracle: the layer text shapesmith reads is evaluated with
  ``keras.layers`` in scope (the texts are generated here, never user input), then called on a
  symbolic ``keras.KerasTensor`` (construction, ``build`` with its input spec and channel checks,
  ``compute_output_shape``: what a functional/Sequential model does), and optionally on a small
  ``keras.ops.zeros`` tensor. Any exception is a reject.
* tf.keras 2 cannot run without TensorFlow. Its shape helpers are plain Python, so the real
  ``keras/src/utils/conv_utils.py`` of the keras==2.15.0 wheel is loaded (directory in
  ``$SHAPESMITH_KERAS2_SRC``) with stub ``tensorflow`` / ``keras.src.backend`` modules seen only
  by that file. ``conv_output_length`` / ``deconv_output_length`` give the lengths, and
  ``normalize_tuple`` / ``normalize_padding`` / ``normalize_data_format`` validate arguments; the
  few checks written inline in the 2.15 layer classes are mirrored in :func:`keras2_outcome`,
  each citing its source file.

A Keras output with a zero-sized axis (Keras 3 accepts e.g. ``Conv1DTranspose(1, 2,
padding="same", output_padding=0)`` on length 1 and returns an empty tensor) is reported as
``zero``: shapesmith's documented policy is that every output size is >= 1, so it must reject.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib.util
import os
import random
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import shapesmith  # noqa: E402

KERAS2_ENV = "SHAPESMITH_KERAS2_SRC"
KERAS2_VERSION = "2.15.0"
# keras/src/utils/conv_utils.py in keras-2.15.0-py3-none-any.whl
# (wheel sha256 2dcc6d2e30cf9c951064b63c1f4c404b966c59caf09e01f3549138ec8ee0dd1f)
CONV_UTILS_SHA256 = "1cc4558869af0b03f679c051deb35d290d5a6155f4932249ac4907154fd47e55"

FAMILIES = ("conv", "conv_transpose", "pool", "global_pool")
AXES = {1: ("t",), 2: ("h", "w"), 3: ("d", "h", "w")}

# Positional order of the constructor arguments we generate, per framework. The Keras 3 lists
# are checked against inspect.signature in the tests; the tf.keras 2.15 ones were read from
# keras/src/layers/convolutional/conv*.py and pooling/*.py of the wheel (Keras 3 moved
# Conv3DTranspose's data_format before output_padding; 2.15 has output_padding first).
CONV_ORDER = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups",
              "activation", "use_bias")
TRANSPOSE_ORDER = ("filters", "kernel_size", "strides", "padding", "output_padding", "data_format",
                   "dilation_rate", "activation", "use_bias")
TRANSPOSE3_ORDER_K3 = ("filters", "kernel_size", "strides", "padding", "data_format", "output_padding",
                       "dilation_rate", "activation", "use_bias")
POOL_ORDER = ("pool_size", "strides", "padding", "data_format")
GLOBAL_ORDER = ("data_format", "keepdims")


def positional_order(framework: str, family: str, rank: int) -> tuple[str, ...]:
    if family == "conv":
        return CONV_ORDER
    if family == "conv_transpose":
        return TRANSPOSE3_ORDER_K3 if (rank == 3 and framework == "keras") else TRANSPOSE_ORDER
    return POOL_ORDER if family == "pool" else GLOBAL_ORDER


# ------------------------------------------------------------------------------ cases

@dataclass
class Case:
    framework: str          # "keras" | "keras2"
    family: str
    rank: int
    type: str               # class name as written (aliases included)
    args: dict              # argument name -> value, only those written
    input_shape: tuple
    positional: int = 0     # how many leading arguments are written positionally
    prefix: str = ""
    quote: str = '"'
    raw: str | None = None  # the text as given, when not rendered from ``args``

    @property
    def text(self) -> str:
        if self.raw is not None:
            return self.raw
        order = positional_order(self.framework, self.family, self.rank)
        parts: list[str] = []
        pos = 0
        for name in order:
            if pos >= self.positional or name not in self.args:
                break
            parts.append(_fmt(self.args[name], self.quote))
            pos += 1
        written = set(order[:pos])
        parts += [f"{k}={_fmt(v, self.quote)}" for k, v in self.args.items() if k not in written]
        return f"{self.prefix}{self.type}({', '.join(parts)})"

    def repro(self, shape: tuple | str | None = None) -> str:
        shape = self.input_shape if shape is None else shape
        return f"shapesmith.trace({self.text!r}, input_shape={shape!r}, framework={self.framework!r})"

    @property
    def channels_last(self) -> bool:
        fmt = self.args.get("data_format")
        return not (isinstance(fmt, str) and fmt.lower() == "channels_first")

    def spatial_axes(self) -> list[int]:
        n = len(self.input_shape)
        return list(range(1, n - 1)) if self.channels_last else list(range(2, n))


def _fmt(v, quote: str = '"') -> str:
    if isinstance(v, str):
        return f"{quote}{v}{quote}"
    if isinstance(v, tuple):
        return "(" + ", ".join(_fmt(x, quote) for x in v) + ("," if len(v) == 1 else "") + ")"
    return repr(v)


def _per_axis(rng: random.Random, rank: int, values, *, p_tuple=0.5, p_bad=0.0, bad=(0,), p_len=0.0):
    """An int or a tuple of ``rank`` values; sometimes a bad value or a tuple of the wrong length."""
    vals = [rng.choice(values) for _ in range(rank)]
    if rng.random() < p_bad:
        vals[rng.randrange(rank)] = rng.choice(bad)
    if rng.random() < p_len:
        n = rng.choice([m for m in (1, 2, 3, 4) if m != rank])
        return tuple(rng.choice(values) for _ in range(n))
    if len(set(vals)) == 1 and rng.random() > p_tuple:
        return vals[0]
    return tuple(vals)


def _axes(v, rank: int) -> tuple:
    return v if isinstance(v, tuple) else (v,) * rank


def gen_case(rng: random.Random, family: str, framework: str = "keras", *, rank: int | None = None,
             strict_rank: bool = False) -> Case:
    """One random layer config and input shape, valid or not (mostly valid)."""
    rank = rank or rng.choice((1, 1, 2, 2, 2, 3))
    args: dict = {}
    k2 = framework == "keras2"
    if family in ("conv", "conv_transpose"):
        t = family == "conv_transpose"
        kmax = 3 if rank == 3 else 5
        args["filters"] = rng.choice((1, 2, 3, 4, 6)) if rng.random() > 0.03 else rng.choice((0, -1))
        args["kernel_size"] = _per_axis(rng, rank, range(1, kmax + 1), p_bad=0.03, bad=(0, -1), p_len=0.02)
        strided = rng.random() < (0.6 if t else 0.45)
        if strided:
            args["strides"] = _per_axis(rng, rank, (1, 2, 3), p_bad=0.03, bad=(0, -1), p_len=0.02)
        if rng.random() < (0.45 if not strided else 0.12):  # strides>1 with dilation>1 is refused
            args["dilation_rate"] = _per_axis(rng, rank, (1, 2, 3), p_bad=0.02, bad=(0,))
        r = rng.random()
        if t:
            paddings = ("valid", "same")
        elif rank == 1:
            paddings = ("valid", "same", "causal")
        else:
            paddings = ("valid", "same") * 8 + ("causal",)  # refused outside Conv1D
        if r < 0.85:
            args["padding"] = rng.choice(paddings)
        elif r < 0.92:
            args["padding"] = rng.choice(("SAME", "Valid", "Causal" if rank == 1 and not t else "same"))
        elif r < 0.96:
            args["padding"] = rng.choice(("full", "causal", "bogus"))
        if t:
            strides = args.get("strides", 1)
            strides = _axes(strides, rank) if isinstance(strides, (int, tuple)) else (1,) * rank
            r = rng.random()
            if r < 0.15:
                args["output_padding"] = None
            elif r < 0.7:
                # mostly below the stride (valid), sometimes at or above it (refused)
                ops = tuple(rng.randrange(max(s, 1)) if rng.random() < 0.93 else max(s, 0) + rng.randrange(2)
                            for s in (strides if len(strides) == rank else (1,) * rank))
                if len(set(ops)) == 1 and rng.random() < 0.5:
                    args["output_padding"] = ops[0]
                elif rng.random() < 0.02:
                    args["output_padding"] = ops + (0,)
                else:
                    args["output_padding"] = ops
            if rng.random() < 0.02:
                args["groups"] = 2  # not a transposed-conv argument: both must refuse
        else:
            if rng.random() < 0.35:
                g = rng.choice((1, 2, 3))
                if rng.random() < 0.8:
                    args["filters"] = g * rng.choice((1, 2))
                args["groups"] = g
            if rng.random() < 0.02:
                args["groups"] = 0 if k2 else rng.choice((0, -2))  # tf.keras 2: `groups or 1`
    elif family == "pool":
        if rng.random() < 0.85:
            args["pool_size"] = _per_axis(rng, rank, (1, 2, 3, 4), p_bad=0.02, bad=(0,), p_len=0.02)
        r = rng.random()
        if r < 0.15:
            args["strides"] = None
        elif r < 0.65:
            args["strides"] = _per_axis(rng, rank, (1, 2, 3), p_bad=0.03, bad=(0,), p_len=0.02)
        r = rng.random()
        if r < 0.88:
            args["padding"] = rng.choice(("valid", "same"))
        elif r < 0.96:
            args["padding"] = rng.choice(("SAME", "Valid"))
        else:
            args["padding"] = rng.choice(("causal", "full"))
    else:
        if rng.random() < 0.6:
            args["keepdims"] = rng.choice((True, False))
    r = rng.random()
    if r < 0.3:
        args["data_format"] = "channels_last"
    elif r < 0.62:
        args["data_format"] = "channels_first"
    elif r < 0.66:
        args["data_format"] = rng.choice(("Channels_First", "CHANNELS_LAST"))
    elif r < 0.67:
        args["data_format"] = "channels_middle"
    if family in ("conv", "conv_transpose") and rng.random() < 0.5:
        args["use_bias"] = rng.choice((True, False))

    if family == "pool":
        kind, alias = rng.choice(("Max", "Average")), rng.random() < 0.3
        type_name = f"{kind[:3] if kind == 'Average' and alias else kind}{'Pool' if alias else 'Pooling'}{rank}D"
        type_name = type_name.replace("AvePool", "AvgPool")
    elif family == "global_pool":
        kind, alias = rng.choice(("Max", "Average")), rng.random() < 0.3
        type_name = f"Global{'Avg' if kind == 'Average' and alias else kind}{'Pool' if alias else 'Pooling'}{rank}D"
    else:
        type_name = f"Conv{rank}D" + ("Transpose" if family == "conv_transpose" else "")

    input_shape = gen_input(rng, family, rank, args, strict_rank=strict_rank)
    case = Case(framework, family, rank, type_name, args, input_shape,
                prefix=rng.choice(("", "", "layers.", "keras.layers.") if not k2 else
                                  ("", "", "tf.keras.layers.", "layers.", "keras.layers.")),
                quote=rng.choice(('"', "'")))
    order = positional_order(framework, family, rank)
    lead = 0
    while lead < len(order) and order[lead] in args:
        lead += 1
    case.positional = rng.randint(0, lead) if lead else 0
    return case


def effective(args: dict, rank: int, key: str) -> tuple:
    k = args.get(key, 2 if key == "pool_size" else 1)
    d = args.get("dilation_rate", 1) if key == "kernel_size" else 1
    if not isinstance(k, (int, tuple)) or not isinstance(d, (int, tuple)):
        return (3,) * rank
    ks, ds = _axes(k, rank), _axes(d, rank)
    if len(ks) != rank or len(ds) != rank:
        return (3,) * rank
    return tuple(max(dd, 1) * (max(kk, 1) - 1) + 1 for kk, dd in zip(ks, ds))  # d*(k - 1) + 1


def gen_input(rng: random.Random, family: str, rank: int, args: dict, *, strict_rank: bool = False) -> tuple:
    """Spatial sizes biased to straddle the smallest size the window needs."""
    effs = effective(args, rank, "pool_size" if family == "pool" else "kernel_size")
    cap = 9 if rank == 3 else 16
    spatial = []
    for e in effs:
        if rng.random() < 0.6:
            spatial.append(max(1, min(cap, e + rng.randint(-2, 2))))
        else:
            spatial.append(rng.randint(1, cap))
    channels = rng.choice((1, 2, 3, 4, 6)) if rng.random() > 0.02 else None
    batch = rng.choice((None, None, None, 1, 2))
    if not strict_rank and rng.random() < 0.04:
        spatial = spatial[:-1] if (rng.random() < 0.5 and len(spatial) > 1) else spatial + [rng.randint(1, 6)]
    fmt = args.get("data_format")
    first = isinstance(fmt, str) and fmt.lower() == "channels_first"
    return (batch, channels, *spatial) if first else (batch, *spatial, channels)


# ------------------------------------------------------------------------------ outcomes

@dataclass
class Outcome:
    status: str                       # "ok" | "reject" | "zero" (accepted with a zero-sized axis)
    shape: tuple | None = None
    params: int | None = None
    message: str = ""
    notes: list[str] = field(default_factory=list)   # oracle-internal inconsistencies

    def describe(self) -> str:
        if self.status == "reject":
            return f"rejects: {self.message}"
        extra = f", {self.params} params" if self.params is not None else ""
        zero = " (a zero-sized axis: shapesmith's policy is to reject)" if self.status == "zero" else ""
        return f"accepts -> {self.shape}{extra}{zero}"


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = text.replace("\x1b[1m", "").replace("\x1b[0m", "")
    return f"{type(exc).__name__}: {text[:240]}"


def _classify(shape: tuple, params: int | None) -> Outcome:
    shape = tuple(None if d is None else int(d) for d in shape)
    status = "zero" if any(d == 0 for d in shape) else "ok"
    return Outcome(status, shape, params)


_KERAS = None


def keras():
    """Keras 3 on the torch backend (skips the caller if another backend is active)."""
    global _KERAS
    if _KERAS is None:
        import keras as k
        if k.backend.backend() != "torch":
            import pytest
            pytest.skip(f"Keras runs on {k.backend.backend()!r}; these tests need KERAS_BACKEND=torch")
        import torch
        torch.set_num_threads(1)
        _KERAS = k
    return _KERAS


def _namespace() -> dict:
    k = keras()
    return {**vars(k.layers), "layers": k.layers, "keras": k, "__builtins__": {}}


def keras3_layer(text: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eval(text, _namespace())  # noqa: S307 - texts are generated by the tests


def keras3_outcome(case_or_text, input_shape: tuple | None = None, *, eager: bool = False) -> Outcome:
    """Keras 3: construct, call on a symbolic tensor (build + compute_output_shape), count params;
    with ``eager``, also call a fresh layer on zeros and note any disagreement with the above."""
    k = keras()
    text = case_or_text if isinstance(case_or_text, str) else case_or_text.text
    shape = input_shape if input_shape is not None else case_or_text.input_shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            layer = keras3_layer(text)
        except Exception as exc:  # noqa: BLE001
            return Outcome("reject", message="constructor: " + _first_line(exc))
        try:
            y = layer(k.KerasTensor(shape, dtype="float32"))
            out = _classify(tuple(y.shape), layer.count_params())
        except Exception as exc:  # noqa: BLE001
            out = Outcome("reject", message="symbolic call: " + _first_line(exc))
        if out.status != "reject":
            cos = tuple(layer.compute_output_shape(shape))
            if tuple(cos) != out.shape:
                out.notes.append(f"compute_output_shape {cos} != symbolic call {out.shape}")
        if eager and all(d is not None for d in shape[1:]):
            concrete = (shape[0] or 1, *shape[1:])
            try:
                layer2 = keras3_layer(text)
                y = layer2(k.ops.zeros(concrete))
                got = _classify((shape[0], *tuple(y.shape)[1:]), layer2.count_params())
            except Exception as exc:  # noqa: BLE001
                got = Outcome("reject", message="eager call: " + _first_line(exc))
            if got.status != out.status or got.shape != out.shape or (
                    got.status != "reject" and got.params != out.params):
                out.notes.append(f"eager call on zeros{concrete} {got.describe()}; symbolic call {out.describe()}")
    return out


def keras3_params(case: Case, channels: int) -> int | None:
    """Parameter count of the Keras 3 layer with the same arguments (keyword form, no keras2-only
    kwargs), built for ``channels`` input channels; None when Keras 3 refuses it."""
    args = {k: v for k, v in case.args.items() if k not in ("batch_input_shape", "batch_size")}
    if isinstance(args.get("groups"), int) and args["groups"] == 0:
        args["groups"] = 1  # tf.keras 2: groups or 1
    c3 = Case("keras", case.family, case.rank, case.type, args, case.input_shape)
    shape = [None] * (case.rank + 2)
    shape[-1 if case.channels_last else 1] = channels
    for j in range(case.rank):
        shape[(1 if case.channels_last else 2) + j] = 64
    out = keras3_outcome(c3.text, tuple(shape))
    return out.params if out.status == "ok" else None


def shapesmith_outcome(text: str, input_shape, framework: str):
    """``(Outcome, trace)``; a non-ShapesmithError exception is returned as status "crash"."""
    try:
        t = shapesmith.trace(text, input_shape=input_shape, framework=framework)
    except shapesmith.ShapesmithError as exc:
        return Outcome("reject", message=str(exc)), None
    except Exception as exc:  # noqa: BLE001 - anything else is a shapesmith bug
        return Outcome("crash", message=_first_line(exc)), None
    return Outcome("ok", tuple(t.output_shape), t.params), t


def compare(case: Case, want: Outcome, got: Outcome, oracle: str, shape=None) -> str | None:
    """A description of the disagreement, or None when shapesmith agrees with the oracle."""
    shape = case.input_shape if shape is None else shape
    bad = None
    if got.status == "crash":
        bad = "shapesmith crashed instead of raising ShapesmithError"
    elif want.status == "ok" and got.status != "ok":
        bad = "accept/reject differ"
    elif want.status in ("reject", "zero") and got.status != "reject":
        bad = "accept/reject differ"
    elif want.status == "ok":
        if got.shape != want.shape:
            bad = "output shapes differ"
        elif want.params is not None and got.params != want.params:
            bad = "params differ"
    elif got.status == "reject" and ("\n" in got.message or not got.message):
        bad = "rejection message is not one line"
    if bad is None:
        return None
    return (f"[{case.framework}] {bad}: {case.text} on input {shape}\n"
            f"    {oracle}: {want.describe()}\n"
            f"    shapesmith: {got.describe() if got.status != 'crash' else got.message}\n"
            f"    repro: {case.repro(shape)}")


# ------------------------------------------------------------------------------ tf.keras 2.15

def keras2_root() -> Path | None:
    value = os.environ.get(KERAS2_ENV)
    return Path(value) if value else None


def load_conv_utils(root: Path) -> types.ModuleType:
    """Import tf.keras 2.15's ``keras/src/utils/conv_utils.py`` from an extracted wheel.

    Its module-level imports are ``numpy``, ``itertools``, ``tensorflow.compat.v2`` and
    ``keras.src.backend`` (only ``image_data_format`` is used by the helpers we call). The two
    last are stubs handed to this module alone through its own ``__import__``; ``sys.modules``
    (where ``keras`` is Keras 3) is left untouched.
    """
    path = root / "keras" / "src" / "utils" / "conv_utils.py"
    if not path.is_file():
        raise FileNotFoundError(f"${KERAS2_ENV}={root} has no keras/src/utils/conv_utils.py; "
                                f"extract keras=={KERAS2_VERSION} there (see tests/test_diff_keras.py)")
    dist = root / f"keras-{KERAS2_VERSION}.dist-info"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if not dist.is_dir() or digest != CONV_UTILS_SHA256:
        raise FileNotFoundError(f"${KERAS2_ENV}={root} is not keras=={KERAS2_VERSION}: {dist.name} "
                                f"{'present' if dist.is_dir() else 'missing'}, conv_utils.py sha256 {digest}")

    def unavailable(*_a, **_k):
        raise RuntimeError("tensorflow is stubbed in the keras2 oracle")

    tf = types.ModuleType("tensorflow")
    tf.compat = types.ModuleType("tensorflow.compat")
    tf.compat.v2 = types.ModuleType("tensorflow.compat.v2")
    tf.compat.v2.__getattr__ = lambda name: unavailable  # only used by helpers we never call
    backend = types.ModuleType("keras.src.backend")
    backend.image_data_format = lambda: "channels_last"  # the default ~/.keras/keras.json value
    keras_src = types.ModuleType("keras.src")
    keras_src.backend = backend
    keras_pkg = types.ModuleType("keras")
    keras_pkg.src = keras_src
    stubs = {"tensorflow.compat.v2": tf, "tensorflow": tf, "keras.src": keras_src, "keras": keras_pkg}

    def isolated_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name in stubs:
            if fromlist and name == "keras.src":
                return keras_src
            return stubs[name]
        return builtins.__import__(name, globals, locals, fromlist, level)

    spec = importlib.util.spec_from_file_location("_shapesmith_oracle_tf_keras_2_15_conv_utils", path)
    module = importlib.util.module_from_spec(spec)
    module.__dict__["__builtins__"] = {**vars(builtins), "__import__": isolated_import}
    spec.loader.exec_module(module)
    for name in ("conv_output_length", "deconv_output_length", "normalize_tuple", "normalize_padding",
                 "normalize_data_format"):
        assert callable(getattr(module, name)), name
    return module


def keras2_signatures(root: Path) -> dict[str, list[tuple[str, str | None]]]:
    """``{class or alias name: [(parameter, default as source text or None), ...]}`` for tf.keras 2.15's conv and
    pooling layers, read with ``ast`` from the wheel's sources (``__init__`` up the base classes
    of the same package; ``**kwargs`` excluded, so the list is also the positional limit)."""
    import ast
    classes: dict[str, ast.ClassDef] = {}
    aliases: dict[str, str] = {}
    for sub in ("convolutional", "pooling"):
        for path in sorted((root / "keras" / "src" / "layers" / sub).glob("*.py")):
            tree = ast.parse(path.read_text())
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    classes[node.name] = node
                elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and \
                        len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    aliases[node.targets[0].id] = node.value.id

    def init_of(name: str):
        node = classes.get(name)
        while node is not None:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    return item
            base = node.bases[0] if node.bases else None
            node = classes.get(base.id) if isinstance(base, ast.Name) else None
        return None

    out = {}
    for name in list(classes) + list(aliases):
        init = init_of(aliases.get(name, name))
        if init is None:
            continue
        args = init.args.args[1:]
        defaults = [None] * (len(args) - len(init.args.defaults)) + [ast.unparse(d) for d in init.args.defaults]
        out[name] = [(a.arg, default) for a, default in zip(args, defaults)]
    return out


def signatures(cu: types.ModuleType) -> dict:
    """The tf.keras 2.15 signatures of the wheel conv_utils was loaded from (cached on it)."""
    if not hasattr(cu, "_tf_keras_signatures"):
        cu._tf_keras_signatures = keras2_signatures(Path(cu.__file__).parents[3])
    return cu._tf_keras_signatures


def _n_positional(text: str) -> int:
    import ast
    return len(ast.parse(text, mode="eval").body.args)


class Keras2Reject(Exception):
    pass


def keras2_outcome(cu: types.ModuleType, case: Case, shape: tuple | None = None, *,
                   with_params: bool = True) -> Outcome:
    """tf.keras 2.15 semantics for ``case`` on ``shape``: argument checks and lengths from
    conv_utils; inline checks mirrored from the 2.15 layer sources (cited per line)."""
    shape = case.input_shape if shape is None else shape
    a, rank, fam = case.args, case.rank, case.family
    try:
        sig = signatures(cu).get(case.type)
        if sig is not None and _n_positional(case.text) > len(sig):
            raise Keras2Reject(f"{case.type}() takes {len(sig)} positional arguments")
        if "groups" in a and fam != "conv":
            raise Keras2Reject("groups is not an argument of this layer")  # Conv*Transpose(**kwargs) -> Layer
        fmt = cu.normalize_data_format(a.get("data_format"))
        first = fmt == "channels_first"
        if len(shape) != rank + 2:
            # InputSpec(min_ndim=rank+2) for Conv (extra batch dims are not generated), ndim= for the rest
            raise Keras2Reject(f"input rank {len(shape)} != {rank + 2}")
        channels = shape[1] if first else shape[-1]
        spatial = shape[2:] if first else shape[1:-1]
        if fam in ("conv", "conv_transpose"):
            filters = a["filters"]
            if isinstance(filters, float):
                filters = int(filters)
            if filters <= 0:  # base_conv.py Conv.__init__
                raise Keras2Reject("filters <= 0")
            groups = (a.get("groups", 1) or 1) if fam == "conv" else 1  # base_conv.py: groups or 1
            kernel = cu.normalize_tuple(a["kernel_size"], rank, "kernel_size")
            strides = cu.normalize_tuple(a.get("strides", 1), rank, "strides", allow_zero=True)
            padding = cu.normalize_padding(a.get("padding", "valid"))
            dilation = cu.normalize_tuple(a.get("dilation_rate", 1), rank, "dilation_rate")
            # base_conv.py Conv._validate_init
            if filters % groups:
                raise Keras2Reject("filters % groups")
            if not all(strides):
                raise Keras2Reject("strides contain 0")
            if padding == "causal" and rank != 1:  # Conv1D and its subclass Conv1DTranspose pass here
                raise Keras2Reject("causal only for Conv1D")
            if max(strides) > 1 and max(dilation) > 1:
                raise Keras2Reject("strides > 1 with dilation_rate > 1")
            op = None
            if fam == "conv_transpose":
                if a.get("output_padding") is not None:  # conv{1,2,3}d_transpose.py __init__
                    op = cu.normalize_tuple(a["output_padding"], rank, "output_padding", allow_zero=True)
                    if any(p >= s for p, s in zip(op, strides)):
                        raise Keras2Reject("output_padding >= strides")
            # build(): the channel dim must be known and divisible by groups
            if channels is None:
                raise Keras2Reject("channel dim is None")
            if channels % groups:
                raise Keras2Reject("channels % groups")
            out = []
            for j, i in enumerate(spatial):
                if fam == "conv":
                    o = cu.conv_output_length(i, kernel[j], padding, strides[j], dilation[j])
                else:
                    # conv3d_transpose.py passes no dilation to deconv_output_length (nor to
                    # tf.nn.conv3d_transpose): tf.keras 2.15 Conv3DTranspose ignores dilation_rate.
                    d = 1 if rank == 3 else dilation[j]
                    o = cu.deconv_output_length(i, kernel[j], padding,  # asserts on "causal"
                                                output_padding=None if op is None else op[j],
                                                stride=strides[j], dilation=d)
                if o is not None and o < 0:  # tf.TensorShape refuses negative dims
                    raise Keras2Reject(f"negative output length {o}")
                out.append(o)
            params = keras3_params(case, channels) if with_params else None
            out_channels = filters
        elif fam == "pool":
            pool = cu.normalize_tuple(a.get("pool_size", 2), rank, "pool_size")
            strides = a.get("strides")
            strides = cu.normalize_tuple(pool if strides is None else strides, rank, "strides", allow_zero=True)
            padding = cu.normalize_padding(a.get("padding", "valid"))
            if padding not in ("valid", "same"):  # tf.nn pooling ops take VALID/SAME only
                raise Keras2Reject(f"pooling padding {padding!r}")
            out = []
            for j, i in enumerate(spatial):
                o = cu.conv_output_length(i, pool[j], padding, strides[j])  # ZeroDivisionError on 0
                if o is not None and o < 0:
                    raise Keras2Reject(f"negative output length {o}")
                out.append(o)
            params, out_channels = 0, channels
        else:
            keepdims = a.get("keepdims", False)
            out = [1] * rank if keepdims else []
            params, out_channels = 0, channels
            if not keepdims:
                return _classify((shape[0], channels), 0)
    except (Keras2Reject, ValueError, AssertionError, ZeroDivisionError, TypeError) as exc:
        return Outcome("reject", message=_first_line(exc))
    full = (shape[0], out_channels, *out) if first else (shape[0], *out, out_channels)
    return _classify(full, params)


# ------------------------------------------------------------------------------ symbolic

def symbolic_input(case: Case, rng: random.Random) -> tuple[str, list[int], list[str]]:
    """The input shape as text with some spatial dims replaced by symbols."""
    dims = ["None" if d is None else str(d) for d in case.input_shape]
    axes = case.spatial_axes()
    names = list(AXES[case.rank])
    symbolic = [j for j in range(len(axes)) if rng.random() < 0.8] or [0]
    for j in symbolic:
        dims[axes[j]] = names[j]
    return "(" + ", ".join(dims) + ")", [axes[j] for j in symbolic], [names[j] for j in symbolic]
