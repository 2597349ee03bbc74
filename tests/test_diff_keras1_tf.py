"""Differential tests: shapesmith's keras1 and tf dialects against the frameworks' own shape code.

Oracles (both from PyPI, no TensorFlow or Theano needed):

- Keras 1.2.2's layer classes (``get_output_shape_for``) and ``np_utils.conv_input_length``,
  loaded from the unpacked sdist named by ``SHAPESMITH_KERAS1_SRC`` (see tests/oracles/keras1_oracle.py).
  A Keras 1 size <= 0, or a constructor error, counts as a reject.
- jax (CPU) for TF semantics: ``lax.conv_general_dilated`` ('SAME' / 'VALID' / explicit pairs, dilation)
  and ``lax.reduce_window`` evaluated with ``jax.eval_shape`` (no compilation). TF's
  ``conv*_transpose`` accepts ``output_shape`` exactly when the forward conv of ``output_shape`` gives the
  input shape. A size <= 0 counts as a reject.

Configs come from seeded ``random.Random`` grids (deterministic); each family runs in chunks so
``pytest -n 2`` can balance them. Every chunk collects all disagreements and reports the first few.
"""

from __future__ import annotations

import functools
import random
import sys
from pathlib import Path

import pytest
import sympy

import shapesmith
from shapesmith.dims import subs as subs_dim

sys.path.insert(0, str(Path(__file__).parent))
from oracles import keras1_oracle  # noqa: E402

jax = pytest.importorskip("jax", reason="jax (CPU) is the TF oracle; install the test extra")
jnp = pytest.importorskip("jax.numpy")
from jax import lax  # noqa: E402

needs_keras1 = pytest.mark.skipif(keras1_oracle.source_dir() is None, reason=keras1_oracle.skip_reason())

REJECT = "reject"
STATS: dict[str, int] = {"accept": 0, "reject": 0}
CHUNKS = 4
MAX_REPORT = 8


# ----------------------------------------------------------------------------------------------- helpers

def run_shapesmith(text: str, input_shape: tuple, framework: str):
    """(output_shape, warnings, constraints) or REJECT."""
    try:
        t = shapesmith.trace(text, input_shape=input_shape, framework=framework)
    except shapesmith.ShapesmithError:
        return REJECT
    return tuple(t.output_shape), tuple(t.warnings), tuple(t.constraints)


def positive(shape, spatial_axes) -> bool:
    return all(shape[a] is None or shape[a] >= 1 for a in spatial_axes)


def compare(text, input_shape, framework, expected, failures, *, expect_warning=None):
    got = run_shapesmith(text, input_shape, framework)
    got_shape = got if got == REJECT else got[0]
    STATS["reject" if expected == REJECT else "accept"] += 1
    if got_shape != expected:
        failures.append(f"{framework}: {text} on {input_shape}: shapesmith {got_shape}, oracle {expected}")
        return
    if expect_warning is not None and got != REJECT and bool(got[1]) != expect_warning:
        failures.append(f"{framework}: {text} on {input_shape}: warning expected={expect_warning}, got {got[1]}")


def finish(failures: list[str], count: int, *, min_accept: float = 0.2) -> None:
    """Fail on disagreements; also guard against vacuous grids (too few accepted configs)."""
    assert count > 0
    accepted, STATS["accept"], STATS["reject"] = STATS["accept"], 0, 0
    assert accepted >= min_accept * count, f"only {accepted}/{count} configs accepted by the oracle"
    if failures:
        head = "\n".join(failures[:MAX_REPORT])
        pytest.fail(f"{len(failures)}/{count} configs disagree:\n{head}")


def chunked(n_total: int):
    return pytest.mark.parametrize("chunk", range(CHUNKS), ids=lambda c: f"chunk{c}")


def rng_for(name: str, chunk: int) -> random.Random:
    return random.Random(f"{name}-{chunk}")


def _layout(channels_last: bool, batch, channels, spatial: tuple) -> tuple:
    return (batch, *spatial, channels) if channels_last else (batch, channels, *spatial)


def _spatial_axes(rank: int, channels_last: bool) -> range:
    return range(1, rank + 1) if channels_last else range(2, rank + 2)


# ----------------------------------------------------------------------------------------------- Keras 1

def keras1_shape(module, cls, args, kwargs, input_shape, rank, channels_last):
    try:
        out = keras1_oracle.layer_output_shape(module, cls, args, kwargs, input_shape)
    except Exception:  # constructor or shape code rejected the config
        return REJECT
    return out if positive(out, _spatial_axes(rank, channels_last)) else REJECT


def kw_text(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _k1_conv_config(rng: random.Random, rank: int, atrous: bool):
    kernel = tuple(rng.randint(1, 7) for _ in range(rank))
    mode = rng.choice(["valid", "same", "full"])
    stride = tuple(rng.randint(1, 4) for _ in range(rank))
    rate = tuple(rng.randint(1, 3) for _ in range(rank)) if atrous else None
    spatial = tuple(rng.randint(1, 24) for _ in range(rank))
    filters, channels = rng.randint(1, 6), rng.randint(1, 4)
    return kernel, mode, stride, rate, spatial, filters, channels


@needs_keras1
@chunked(0)
@pytest.mark.parametrize("cls", ["Convolution1D", "AtrousConvolution1D", "Convolution2D",
                                 "AtrousConvolution2D", "Convolution3D"])
def test_keras1_conv(cls, chunk):
    rng = rng_for(cls, chunk)
    rank = int(cls[-2])
    atrous = cls.startswith("Atrous")
    failures, n = [], 0
    for _ in range(150):
        kernel, mode, stride, rate, spatial, filters, channels = _k1_conv_config(rng, rank, atrous)
        kwargs: dict = {"border_mode": mode}
        if rank == 1:
            args = (filters, kernel[0])
            kwargs["subsample_length"] = stride[0]
            if atrous:
                kwargs["atrous_rate"] = rate[0]
            channels_last = True
        else:
            args = (filters, *kernel)
            kwargs["subsample"] = stride
            if atrous:
                kwargs["atrous_rate"] = rate
            channels_last = rng.random() < 0.5
            kwargs["dim_ordering"] = "tf" if channels_last else "th"
        inp = _layout(channels_last, None, channels, spatial)
        text = f"{cls}({', '.join(map(str, args))}, {kw_text(kwargs)})"
        expected = keras1_shape("conv", cls, args, kwargs, inp, rank, channels_last)
        compare(text, inp, "keras1", expected, failures)
        n += 1
    finish(failures, n)


@needs_keras1
@chunked(0)
@pytest.mark.parametrize("cls", ["MaxPooling1D", "AveragePooling1D", "MaxPooling2D", "AveragePooling2D",
                                 "MaxPooling3D", "AveragePooling3D"])
def test_keras1_pool(cls, chunk):
    rng = rng_for(cls, chunk)
    rank = int(cls[-2])
    failures, n = [], 0
    for _ in range(150):
        size = tuple(rng.randint(1, 5) for _ in range(rank))
        stride = None if rng.random() < 0.25 else tuple(rng.randint(1, 4) for _ in range(rank))
        mode = rng.choice(["valid", "same"])
        spatial = tuple(rng.randint(1, 20) for _ in range(rank))
        channels = rng.randint(1, 4)
        if rank == 1:
            kwargs = {"pool_length": size[0], "stride": None if stride is None else stride[0], "border_mode": mode}
            channels_last = True
        else:
            channels_last = rng.random() < 0.5
            kwargs = {"pool_size": size, "strides": stride, "border_mode": mode,
                      "dim_ordering": "tf" if channels_last else "th"}
        inp = _layout(channels_last, None, channels, spatial)
        text = f"{cls}({kw_text(kwargs)})"
        expected = keras1_shape("pool", cls, (), kwargs, inp, rank, channels_last)
        compare(text, inp, "keras1", expected, failures)
        n += 1
    finish(failures, n)


@needs_keras1
@pytest.mark.parametrize("cls", ["GlobalMaxPooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling2D",
                                 "GlobalAveragePooling2D"])
def test_keras1_global_pool(cls):
    rng = rng_for(cls, 0)
    rank = int(cls[-2])
    failures, n = [], 0
    for _ in range(60):
        spatial = tuple(rng.randint(1, 20) for _ in range(rank))
        channels = rng.randint(1, 9)
        channels_last = True if rank == 1 else rng.random() < 0.5
        kwargs = {} if rank == 1 else {"dim_ordering": "tf" if channels_last else "th"}
        inp = _layout(channels_last, rng.choice([None, 4]), channels, spatial)
        text = f"{cls}({kw_text(kwargs)})"
        expected = keras1_shape("pool", cls, (), kwargs, inp, 0, channels_last)
        compare(text, inp, "keras1", expected, failures)
        n += 1
    finish(failures, n)


@needs_keras1
@chunked(0)
def test_keras1_deconv2d(chunk):
    """Shape = Keras 1's own conv_input_length (the 1.0/1.1 behaviour shapesmith follows); a warning
    exactly when output_shape's spatial dims differ from it."""
    rng = rng_for("Deconvolution2D", chunk)
    conv_input_length = keras1_oracle.load().np_utils.conv_input_length
    failures, n = [], 0
    for _ in range(200):
        kernel = (rng.randint(1, 7), rng.randint(1, 7))
        stride = (rng.randint(1, 4), rng.randint(1, 4))
        mode = rng.choice(["valid", "same", "full"])
        spatial = (rng.randint(1, 16), rng.randint(1, 16))
        filters, channels = rng.randint(1, 6), rng.randint(1, 4)
        channels_last = rng.random() < 0.5
        computed = tuple(conv_input_length(i, k, mode, s) for i, k, s in zip(spatial, kernel, stride))
        declared = tuple(c + (rng.choice([-1, 0, 1, 2]) if rng.random() < 0.5 else 0) for c in computed)
        out_decl = _layout(channels_last, None, filters, declared)
        kwargs = {"output_shape": out_decl, "subsample": stride, "border_mode": mode,
                  "dim_ordering": "tf" if channels_last else "th"}
        inp = _layout(channels_last, None, channels, spatial)
        text = f"Deconvolution2D({filters}, {kernel[0]}, {kernel[1]}, {kw_text(kwargs)})"
        # the constructor must accept the config too
        try:
            keras1_oracle.layer_output_shape("conv", "Deconvolution2D", (filters, *kernel), kwargs, inp)
            ok = all(c >= 1 for c in computed)
        except Exception:
            ok = False
        expected = _layout(channels_last, None, filters, computed) if ok else REJECT
        compare(text, inp, "keras1", expected, failures, expect_warning=declared != computed)
        n += 1
    finish(failures, n)


# ----------------------------------------------------------------------------------------------- TF (jax)

DN = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC"), 3: ("NDHWC", "DHWIO", "NDHWC")}
DN_CF = {1: ("NCW", "WIO", "NCW"), 2: ("NCHW", "HWIO", "NCHW"), 3: ("NCDHW", "DHWIO", "NCDHW")}


@functools.lru_cache(maxsize=None)
def jax_conv_shape(lhs: tuple, rhs: tuple, strides: tuple, padding, dilation: tuple, channels_last: bool):
    rank = len(rhs) - 2
    try:
        out = jax.eval_shape(
            lambda a, b: lax.conv_general_dilated(a, b, strides, padding, rhs_dilation=dilation,
                                                  dimension_numbers=(DN if channels_last else DN_CF)[rank]),
            jax.ShapeDtypeStruct(lhs, jnp.float32), jax.ShapeDtypeStruct(rhs, jnp.float32)).shape
    except Exception:  # channel mismatch and the like
        return REJECT
    return tuple(out)


@functools.lru_cache(maxsize=None)
def jax_pool_shape(x: tuple, window: tuple, strides: tuple, padding, kind: str):
    init, op = (-jnp.inf, lax.max) if kind == "max" else (0.0, lax.add)
    try:
        out = jax.eval_shape(lambda a: lax.reduce_window(a, init, op, window, strides, padding),
                             jax.ShapeDtypeStruct(x, jnp.float32)).shape
    except Exception:
        return REJECT
    return tuple(out)


def fmt_pad_tf(padding, rank, channels_last):
    """TF's padding argument text: a string, or rank + 2 [begin, end] pairs."""
    if isinstance(padding, str):
        return repr(padding)
    pairs = [[0, 0]] + [list(p) for p in padding] + [[0, 0]] if channels_last else \
        [[0, 0], [0, 0]] + [list(p) for p in padding]
    return repr(pairs)


def _tf_strides_text(stride, rank, channels_last, rng):
    form = rng.random()
    if len(set(stride)) == 1 and form < 0.3:
        return str(stride[0])
    if form < 0.6:
        return repr(list(stride))
    return repr([1, *stride, 1] if channels_last else [1, 1, *stride])


def _tf_conv_config(rng, rank, explicit_ok):
    kernel = tuple(rng.randint(1, 6) for _ in range(rank))
    stride = tuple(rng.randint(1, 4) for _ in range(rank))
    dilation = tuple(rng.randint(1, 3) for _ in range(rank)) if rng.random() < 0.4 else (1,) * rank
    if dilation != (1,) * rank:
        stride = (1,) * rank  # tf.nn.convolution: strides must be 1 when any dilation > 1
    roll = rng.random()
    if roll < 0.4:
        padding = "SAME"
    elif roll < 0.8 or not explicit_ok:
        padding = "VALID"
    else:
        padding = tuple((rng.randint(0, 4), rng.randint(0, 4)) for _ in range(rank))
    spatial = tuple(rng.randint(1, 24) for _ in range(rank))
    return kernel, stride, dilation, padding, spatial


@chunked(0)
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_tf_conv(rank, chunk):
    rng = rng_for(f"conv{rank}d", chunk)
    failures, n = [], 0
    for _ in range(200):
        kernel, stride, dilation, padding, spatial = _tf_conv_config(rng, rank, explicit_ok=rank == 2)
        cin, cout, batch = rng.randint(1, 4), rng.randint(1, 6), rng.randint(1, 3)
        channels_last = rank != 2 or rng.random() < 0.6
        fed_c = cin if rng.random() < 0.9 else cin + 1
        inp = _layout(channels_last, batch, fed_c, spatial)
        filt = (*kernel, cin, cout)
        parts = [f"x, filters={filt!r}"]
        parts.append(("stride=" if rank == 1 else "strides=") + _tf_strides_text(stride, rank, channels_last, rng))
        parts.append(f"padding={fmt_pad_tf(padding, rank, channels_last)}")
        if dilation != (1,) * rank or rng.random() < 0.2:
            parts.append(f"dilations={list(dilation)!r}")
        if not channels_last:
            parts.append(f"data_format={DN_CF[rank][0]!r}")
        text = f"tf.nn.conv{rank}d({', '.join(parts)})"
        pad = padding if isinstance(padding, str) else tuple(padding)
        expected = jax_conv_shape(inp, filt, stride, pad, dilation, channels_last)
        if expected != REJECT and not positive(expected, _spatial_axes(rank, channels_last)):
            expected = REJECT
        compare(text, inp, "tf", expected, failures)
        n += 1
    finish(failures, n)


@chunked(0)
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_tf_conv_transpose(rank, chunk):
    """output_shape is accepted exactly when the forward conv of output_shape gives the input."""
    rng = rng_for(f"conv{rank}d_transpose", chunk)
    failures, n = [], 0
    for _ in range(200):
        kernel, stride, dilation, padding, spatial = _tf_conv_config(rng, rank, explicit_ok=rank == 2)
        cin, cout, batch = rng.randint(1, 4), rng.randint(1, 6), rng.randint(1, 3)
        channels_last = rank != 2 or rng.random() < 0.7
        inp = _layout(channels_last, batch, cin, spatial)
        filt = (*kernel, cout, cin)
        # candidate output sizes around the valid range: base = a size whose forward conv could give i
        eff = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
        if padding == "SAME":
            lo = [(i - 1) * s + 1 for i, s in zip(spatial, stride)]
        elif padding == "VALID":
            lo = [(i - 1) * s + e for i, s, e in zip(spatial, stride, eff)]
        else:
            lo = [(i - 1) * s + e - pb - pe for i, s, e, (pb, pe) in zip(spatial, stride, eff, padding)]
        in_range = rng.random() < 0.6
        target = tuple(max(1, l + (rng.randint(0, s - 1) if in_range else rng.randint(-2, s + 1)))
                       for l, s in zip(lo, stride))
        out_c = cout if rng.random() < 0.95 else cout + 1
        out_b = batch if rng.random() < 0.95 else batch + 1
        out_shape = _layout(channels_last, out_b, out_c, target)
        parts = [f"x, filters={filt!r}", f"output_shape={out_shape!r}",
                 "strides=" + _tf_strides_text(stride, rank, channels_last, rng),
                 f"padding={fmt_pad_tf(padding, rank, channels_last)}"]
        if dilation != (1,) * rank:
            parts.append(f"dilations={list(dilation)!r}")
        if not channels_last:
            parts.append(f"data_format={DN_CF[rank][0]!r}")
        text = f"tf.nn.conv{rank}d_transpose({', '.join(parts)})"
        pad = padding if isinstance(padding, str) else tuple(padding)
        fwd = jax_conv_shape(out_shape, filt, stride, pad, dilation, channels_last)
        expected = out_shape if fwd == inp else REJECT
        compare(text, inp, "tf", expected, failures)
        n += 1
    finish(failures, n)


@chunked(0)
@pytest.mark.parametrize("op", ["max_pool1d", "avg_pool1d", "max_pool2d", "avg_pool2d", "max_pool3d",
                                "avg_pool3d"])
def test_tf_pool(op, chunk):
    rng = rng_for(op, chunk)
    kind, rank = op[:3], int(op[-2])
    failures, n = [], 0
    for _ in range(150):
        size = tuple(rng.randint(1, 5) for _ in range(rank))
        stride = tuple(rng.randint(1, 4) for _ in range(rank))
        roll = rng.random()
        explicit_ok = kind == "max" and rank < 3
        if roll < 0.45:
            padding = "SAME"
        elif roll < 0.85 or not explicit_ok:
            padding = "VALID"
        else:  # TF requires explicit pool pads smaller than the window
            padding = tuple((rng.randint(0, k - 1), rng.randint(0, k - 1)) for k in size)
        spatial = tuple(rng.randint(1, 20) for _ in range(rank))
        channels, batch = rng.randint(1, 4), rng.randint(1, 3)
        channels_last = rank != 2 or rng.random() < 0.7
        inp = _layout(channels_last, batch, channels, spatial)
        ksize = str(size[0]) if len(set(size)) == 1 and rng.random() < 0.5 else repr(list(size))
        parts = [f"x, ksize={ksize}", "strides=" + _tf_strides_text(stride, rank, channels_last, rng),
                 f"padding={fmt_pad_tf(padding, rank, channels_last)}"]
        if not channels_last:
            parts.append(f"data_format={DN_CF[rank][0]!r}")
        text = f"tf.nn.{op}({', '.join(parts)})"
        window = _layout(channels_last, 1, 1, size)
        strides = _layout(channels_last, 1, 1, stride)
        pad = padding if isinstance(padding, str) else tuple(_layout(channels_last, (0, 0), (0, 0), padding))
        expected = jax_pool_shape(inp, window, strides, pad, kind)
        if expected != REJECT and not positive(expected, _spatial_axes(rank, channels_last)):
            expected = REJECT
        compare(text, inp, "tf", expected, failures)
        n += 1
    finish(failures, n)


# ----------------------------------------------------------------------------------------------- symbolic

def _constraints_hold(constraints, env) -> bool:
    """Constraints are text such as ``h >= 3`` or ``ceiling(h/3) >= 1``; evaluated exactly with sympy."""
    values = {name: sympy.Integer(v) for name, v in env.items()}
    return all(bool(sympy.sympify(c, locals={"floor": sympy.floor, "ceiling": sympy.ceiling}).subs(values))
               for c in constraints)


def _symbolic_family(rng):
    """(framework, text, shape builder(h, w)) for 2-D layers with symbolic spatial dims."""
    fam = rng.choice(["k1conv", "k1atrous", "k1pool", "k1deconv", "tfconv", "tfpool"])
    k = (rng.randint(1, 6), rng.randint(1, 6))
    s = (rng.randint(1, 4), rng.randint(1, 4))
    if fam in ("k1conv", "k1atrous"):
        mode = rng.choice(["valid", "same", "full"])
        cls = "Convolution2D" if fam == "k1conv" else "AtrousConvolution2D"
        extra = f", atrous_rate=({rng.randint(1, 3)}, {rng.randint(1, 3)})" if fam == "k1atrous" else ""
        return ("keras1", f"{cls}(4, {k[0]}, {k[1]}, border_mode={mode!r}, subsample={s}{extra}, "
                f"dim_ordering='th')", lambda h, w: (None, 1, h, w))
    if fam == "k1pool":
        mode = rng.choice(["valid", "same"])
        return ("keras1", f"{rng.choice(['Max', 'Average'])}Pooling2D(pool_size={k}, strides={s}, "
                f"border_mode={mode!r}, dim_ordering='tf')", lambda h, w: (None, h, w, 1))
    if fam == "k1deconv":
        mode = rng.choice(["valid", "same", "full"])
        return ("keras1", f"Deconvolution2D(4, {k[0]}, {k[1]}, output_shape=(None, 4, None, None), subsample={s}, "
                f"border_mode={mode!r}, dim_ordering='th')", lambda h, w: (None, 1, h, w))
    if fam == "tfconv":
        roll = rng.random()
        pad = '"SAME"' if roll < 0.4 else '"VALID"' if roll < 0.8 else \
            repr([[0, 0], [rng.randint(0, 3), rng.randint(0, 3)], [rng.randint(0, 3), rng.randint(0, 3)], [0, 0]])
        d = (rng.randint(1, 3), rng.randint(1, 3)) if rng.random() < 0.3 else (1, 1)
        st = (1, 1) if d != (1, 1) else s
        return ("tf", f"tf.nn.conv2d(x, filters=({k[0]}, {k[1]}, 1, 3), strides={list(st)}, padding={pad}, "
                f"dilations={list(d)})", lambda h, w: (2, h, w, 1))
    pad = rng.choice(['"SAME"', '"VALID"'])
    return ("tf", f"tf.nn.{rng.choice(['max', 'avg'])}_pool2d(x, ksize={list(k)}, strides={list(s)}, "
            f"padding={pad})", lambda h, w: (2, h, w, 1))


def test_symbolic_matches_concrete():
    """Symbolic spatial dims, substituted at many values, equal the concrete results (and the reported
    constraints hold exactly when the concrete trace accepts)."""
    rng = random.Random("symbolic")
    failures, n = [], 0
    for _ in range(120):
        framework, text, shape = _symbolic_family(rng)
        sym = run_shapesmith(text, shape("h", "w"), framework)
        if sym == REJECT:
            failures.append(f"{framework}: {text}: symbolic trace rejected")
            continue
        sym_out, _, constraints = sym
        for _ in range(12):
            env = {"h": rng.randint(1, 40), "w": rng.randint(1, 40)}
            conc = run_shapesmith(text, shape(env["h"], env["w"]), framework)
            holds = _constraints_hold(constraints, env)
            n += 1
            if conc == REJECT:
                if holds:
                    failures.append(f"{framework}: {text} at {env}: concrete rejects, constraints {constraints} hold")
                continue
            if not holds:
                failures.append(f"{framework}: {text} at {env}: concrete accepts, constraints {constraints} fail")
                continue
            substituted = tuple(subs_dim(d, env) for d in sym_out)
            if substituted != conc[0]:
                failures.append(f"{framework}: {text} at {env}: symbolic {sym_out} -> {substituted}, "
                                f"concrete {conc[0]}")
    finish(failures, n, min_accept=0)


# ----------------------------------------------------------------------------------------------- TF op rules
# Rules TF enforces that jax has no notion of (from TF's op definitions and docs):
# EXPLICIT padding exists for Conv2D, Conv2DBackpropInput (conv2d_transpose) and MaxPool (1-D and 2-D);
# Conv3D, Conv3DBackpropInputV2, conv1d / conv1d_transpose, MaxPool3D and AvgPool take "SAME"/"VALID" only.
# Explicit pool pads "cannot be greater than the sliding window size".

EXPLICIT_OK = {"conv2d": True, "conv2d_transpose": True, "max_pool1d": True, "max_pool2d": True,
               "conv1d": False, "conv3d": False, "conv1d_transpose": False, "conv3d_transpose": False,
               "max_pool3d": False, "avg_pool1d": False, "avg_pool2d": False, "avg_pool3d": False}


def _explicit_text(op: str, pairs) -> tuple[str, tuple]:
    rank = int(op[-2]) if op[-1] == "d" else int(op.split("_")[0][-2])
    pad = repr([[0, 0], *[list(p) for p in pairs], [0, 0]])
    spatial = (9,) * rank
    if op.startswith("conv") and op.endswith("transpose"):
        out = tuple(9 + 3 - 1 - b - e for b, e in pairs)
        return (f"tf.nn.{op}(x, filters={(3,) * rank + (2, 1)!r}, output_shape={(1, *out, 2)!r}, strides=1, "
                f"padding={pad})", (1, *spatial, 1))
    if op.startswith("conv"):
        stride = "stride" if rank == 1 else "strides"
        return f"tf.nn.{op}(x, filters={(3,) * rank + (1, 2)!r}, {stride}=1, padding={pad})", (1, *spatial, 1)
    return f"tf.nn.{op}(x, ksize=3, strides=1, padding={pad})", (1, *spatial, 1)


@pytest.mark.parametrize("op", sorted(EXPLICIT_OK))
def test_tf_explicit_padding_support(op):
    rank = int(op.replace("_transpose", "")[-2])
    text, inp = _explicit_text(op, [(1, 1)] * rank)
    got = run_shapesmith(text, inp, "tf")
    assert (got != REJECT) == EXPLICIT_OK[op], f"{text}: {got}"


@pytest.mark.parametrize("op", ["max_pool1d", "max_pool2d"])
def test_tf_explicit_pool_pad_not_above_window(op):
    rank = int(op[-2])
    rng = random.Random(op)
    for _ in range(100):
        k = rng.randint(1, 4)
        pads = [(rng.randint(0, k + 3), rng.randint(0, k + 3)) for _ in range(rank)]
        if any(p == k for pair in pads for p in pair):
            continue  # pad == window: TF's doc wording ("cannot be greater") is the only source; untested
        text = f"tf.nn.{op}(x, ksize={k}, strides=1, padding={[[0, 0], *[list(p) for p in pads], [0, 0]]!r})"
        got = run_shapesmith(text, (1, *(9,) * rank, 1), "tf")
        assert (got == REJECT) == any(p > k for pair in pads for p in pair), f"{text}: {got}"
