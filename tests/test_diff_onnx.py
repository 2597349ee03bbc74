"""Differential tests: shapesmith's ONNX dialect against onnxruntime (CPU) on one-node models.

onnxruntime is the oracle (session creation or run failing = reject). Each test draws a seeded,
deterministic batch of random configs, runs both sides and fails with a list of the mismatches,
each with a copy-pasteable ``shapesmith.trace(...)`` repro.
"""

from __future__ import annotations

import math
import random

import pytest

import shapesmith
from tests.oracles.onnx_oracle import build_model, is_reject, run_infer, run_ort

MAX_SIZE = {1: 12, 2: 12, 3: 6}
AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


# ---------------------------------------------------------------- text + comparison helpers

def fmt(v) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, tuple):
        return "(" + ", ".join(map(str, v)) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v)


def layer_text(op: str, attrs: dict, W=None, B=None) -> str:
    parts = []
    if W is not None:
        parts.append(f"W={fmt(tuple(W))}")
    if B is not None:
        parts.append(f"B={fmt(tuple(B))}")
    parts += [f"{k}={fmt(v)}" for k, v in attrs.items() if v is not None]
    return f"{op}({', '.join(parts)})"


def ss_trace(text: str, shape):
    """(output_shape, params) or ("reject", msg) or ("crash", msg) for a non-Shapesmith exception."""
    try:
        t = shapesmith.trace(text, input_shape=shape, framework="onnx")
    except shapesmith.ShapesmithError as exc:
        return ("reject", str(exc).splitlines()[0][:200])
    except Exception as exc:  # noqa: BLE001
        return ("crash", f"{type(exc).__name__}: {exc}"[:300])
    return (tuple(t.output_shape), t.params)


# Known onnxruntime deviations from the ONNX spec (and from onnx.shape_inference). For these the test
# uses onnx shape inference as the oracle, or lets shapesmith reject what onnxruntime runs.
QUIRK_HITS: dict[str, int] = {}


def _has(attrs, key, pred) -> bool:
    return attrs.get(key) is not None and any(pred(v) for v in attrs[key])


def _eff(k, d):
    return d * (k - 1) + 1


def ort_quirk(op: str, x_shape: tuple, attrs: dict, expected) -> str | None:
    """Name of the known onnxruntime quirk this config hits, or None."""
    auto = attrs.get("auto_pad") or "NOTSET"
    same = auto.startswith("SAME")
    msg = expected[1] if is_reject(expected) else ""
    if op == "Conv" and same and "Dilation not supported" in msg:
        return "ort-conv-same-dilation-unsupported"  # spec allows it; onnxruntime's CPU Conv refuses
    if op in ("MaxPool", "AveragePool"):
        if same and "padding values must be non-negative" in msg:
            return "ort-pool-same-negative-pad"  # spec/shape inference clamp the total pad at 0
        if op == "MaxPool" and same and _has(attrs, "dilations", lambda d: d > 1):
            return "ort-maxpool-same-ignores-dilation"
        if not is_reject(expected) and 0 in expected[2:]:
            return "ort-pool-empty-output"  # onnxruntime returns a 0-size dim; shapesmith may reject
        if not is_reject(expected) and auto != "VALID" and not same:
            rank = len(x_shape) - 2
            pads = attrs.get("pads") or [0] * (2 * rank)
            dil = attrs.get("dilations") or [1] * rank
            for j, (i, k, d) in enumerate(zip(x_shape[2:], attrs["kernel_shape"], dil)):
                if i + pads[j] + pads[j + rank] < _eff(k, d):
                    return "ort-pool-window-larger-than-input"  # C++ truncating division gives 1 window
        if not is_reject(expected) and auto == "VALID":
            dil = attrs.get("dilations") or [1] * (len(x_shape) - 2)
            if any(i < _eff(k, d) for i, k, d in zip(x_shape[2:], attrs["kernel_shape"], dil)):
                return "ort-pool-window-larger-than-input"
    return None


def check_one(op: str, x_shape: tuple, attrs: dict, W=None, B=None, *, give_w: bool = True):
    """Compare shapesmith to onnxruntime for one config; return a mismatch description or None."""
    text = layer_text(op, attrs, W if give_w else None, B if give_w else None)
    model = build_model(op, x_shape, attrs, W, B)
    expected = run_ort(model, x_shape)
    got = ss_trace(text, x_shape)
    repro = f"shapesmith.trace({text!r}, input_shape={x_shape}, framework='onnx')"
    if got[0] == "crash":
        return f"CRASH {repro}\n    {got[1]}\n    onnxruntime: {expected}"
    quirk = ort_quirk(op, x_shape, attrs, expected)
    if quirk:
        QUIRK_HITS[quirk] = QUIRK_HITS.get(quirk, 0) + 1
        if quirk in ("ort-pool-empty-output", "ort-pool-window-larger-than-input"):
            if got[0] == "reject":
                return None
        elif quirk in ("ort-pool-same-negative-pad", "ort-maxpool-same-ignores-dilation"):
            # the spec: SAME_* gives ceil(i / s) whatever ceil_mode (onnx shape inference is off with ceil_mode=1)
            strides = attrs.get("strides") or [1] * (len(x_shape) - 2)
            expected = x_shape[:2] + tuple(-(-i // s) for i, s in zip(x_shape[2:], strides))
        else:
            inferred = run_infer(model)
            if inferred is None or is_reject(inferred):
                return None
            expected = inferred
    if is_reject(expected) or got[0] == "reject":
        if is_reject(expected) and got[0] == "reject":
            return None
        if is_reject(expected):
            return f"ACCEPTED but onnxruntime rejects: {repro}\n    shapesmith -> {got}\n    ort: {expected[1]}"
        return f"REJECTED but onnxruntime gives {expected}: {repro}\n    shapesmith: {got[1]}"
    shape, params = got
    want = expected
    if not give_w:  # the channel dim is unknown without W
        want = (expected[0], None) + expected[2:]
    if shape != want:
        return f"SHAPE {shape} != onnxruntime {want}: {repro}"
    if give_w and W is not None:
        want_params = math.prod(W) + (math.prod(B) if B is not None else 0)
        if params != want_params:
            return f"PARAMS {params} != {want_params} (W numel + B numel): {repro}"
    return None


def run_batch(configs, label: str):
    fails = []
    n = 0
    for cfg in configs:
        n += 1
        msg = check_one(**cfg)
        if msg:
            fails.append(msg)
    assert n > 0
    assert not fails, (f"{label}: {len(fails)}/{n} configs disagree with onnxruntime; first ones:\n"
                       + "\n".join(fails[:12]))


# ---------------------------------------------------------------- config generators

def _rank(r: random.Random) -> int:
    return r.choice((1, 2, 2, 2, 3))


def _spatial(r: random.Random, rank: int, lo: int = 1) -> tuple:
    return tuple(r.randint(lo, MAX_SIZE[rank]) for _ in range(rank))


def _pads(r: random.Random, rank: int, hi: int) -> list:
    return [r.randint(0, hi) for _ in range(2 * rank)]


def _maybe(r: random.Random, p: float, value):
    return value if r.random() < p else None


def conv_configs(seed: int, n: int):
    r = random.Random(seed)
    for _ in range(n):
        rank = _rank(r)
        kmax = 3 if rank == 3 else 4
        kernel = [r.randint(1, kmax) for _ in range(rank)]
        group = r.choice((1, 1, 1, 2, 3))
        c_in = r.choice([c for c in range(1, 5) if c % group == 0] or [group]) if r.random() < 0.9 else r.randint(1, 4)
        c_out = group * r.randint(1, max(1, 4 // group)) if r.random() < 0.95 else r.randint(1, 4)
        w_cin = c_in // group if r.random() < 0.93 else r.randint(1, 4)
        W = (c_out, max(1, w_cin), *kernel)
        B = _maybe(r, 0.5, (c_out,))
        auto = r.choice(AUTO_PADS) if r.random() < 0.35 else "NOTSET"
        attrs = {
            "kernel_shape": _maybe(r, 0.7, list(kernel) if r.random() < 0.97 else [k + 1 for k in kernel]),
            "strides": _maybe(r, 0.8, [r.randint(1, 3) for _ in range(rank)]),
            "pads": _pads(r, rank, 3) if auto == "NOTSET" and r.random() < 0.8 else None,
            "dilations": _maybe(r, 0.5, [r.randint(1, 2) for _ in range(rank)]),
            "group": group if group > 1 or r.random() < 0.3 else None,
            "auto_pad": auto if auto != "NOTSET" or r.random() < 0.2 else None,
        }
        x = (1, c_in, *_spatial(r, rank))
        yield dict(op="Conv", x_shape=x, attrs=attrs, W=W, B=B)


def conv_transpose_configs(seed: int, n: int):
    r = random.Random(seed)
    for _ in range(n):
        rank = _rank(r)
        kmax = 3 if rank == 3 else 4
        kernel = [r.randint(1, kmax) for _ in range(rank)]
        group = r.choice((1, 1, 1, 2))
        c_in = group * r.randint(1, 4 // group) if r.random() < 0.95 else r.randint(1, 4)
        c_out_g = r.randint(1, 3)
        W = (c_in if r.random() < 0.95 else r.randint(1, 4), c_out_g, *kernel)
        B = _maybe(r, 0.4, (c_out_g * group,))
        strides = [r.randint(1, 3) for _ in range(rank)]
        dil = [r.randint(1, 2) for _ in range(rank)]
        x_sp = _spatial(r, rank, 1)
        mode = r.choice(("pads", "pads", "output_shape", "auto", "plain"))
        attrs = {"kernel_shape": _maybe(r, 0.6, list(kernel)),
                 "strides": strides if r.random() < 0.9 else None,
                 "dilations": dil if r.random() < 0.5 else None}
        s_eff = strides if attrs["strides"] else [1] * rank
        d_eff = dil if attrs["dilations"] else [1] * rank
        if r.random() < 0.5:
            attrs["output_padding"] = [r.randint(0, max(s, d) - 1) if r.random() < 0.9 else r.randint(0, 3)
                                       for s, d in zip(s_eff, d_eff)]
        if mode == "pads":
            attrs["pads"] = _pads(r, rank, 3)
        elif mode == "output_shape":
            base = [s * (i - 1) + 1 for s, i in zip(s_eff, x_sp)]
            attrs["output_shape"] = [max(1, b + r.randint(-2, 2 * s + 2)) for b, s in zip(base, s_eff)]
            if r.random() < 0.6:
                attrs["auto_pad"] = r.choice(("SAME_UPPER", "SAME_LOWER"))
        elif mode == "auto":
            attrs["auto_pad"] = r.choice(("SAME_UPPER", "SAME_LOWER", "SAME_UPPER", "SAME_LOWER", "VALID"))
        if group > 1 or r.random() < 0.2:
            attrs["group"] = group
        yield dict(op="ConvTranspose", x_shape=(1, c_in, *x_sp), attrs=attrs, W=W, B=B)


def pool_configs(seed: int, n: int, op: str):
    r = random.Random(seed)
    for _ in range(n):
        rank = _rank(r)
        kmax = 3 if rank == 3 else 4
        kernel = [r.randint(1, kmax) for _ in range(rank)]
        auto = r.choice(AUTO_PADS) if r.random() < 0.25 else "NOTSET"
        attrs = {"kernel_shape": kernel,
                 "strides": _maybe(r, 0.85, [r.randint(1, 3) for _ in range(rank)]),
                 "pads": [r.randint(0, max(0, k - 1) if r.random() < 0.9 else k) for k in kernel * 2]
                 if auto == "NOTSET" and r.random() < 0.8 else None,
                 "ceil_mode": r.choice((0, 1, 1)) if r.random() < 0.9 else None,
                 "auto_pad": auto if auto != "NOTSET" or r.random() < 0.1 else None}
        if op == "MaxPool":
            attrs["dilations"] = _maybe(r, 0.5, [r.randint(1, 2) for _ in range(rank)])
        else:
            attrs["count_include_pad"] = _maybe(r, 0.4, r.randint(0, 1))
        x = (1, r.randint(1, 4), *_spatial(r, rank))
        yield dict(op=op, x_shape=x, attrs=attrs)


# ---------------------------------------------------------------- tests

SEEDS = range(4)


def no_w_configs(seed: int, n: int):
    """Conv / ConvTranspose configs with valid channels, traced without W (channel dim None)."""
    for cfg in conv_configs(seed, n) if seed % 2 else conv_transpose_configs(seed, n):
        W = cfg["W"]
        if cfg["op"] == "Conv":
            group = cfg["attrs"].get("group") or 1
            if W[0] % group or W[1] * group != cfg["x_shape"][1]:
                continue
        elif W[0] != cfg["x_shape"][1]:
            continue
        attrs = dict(cfg["attrs"], kernel_shape=list(W[2:]))
        yield dict(cfg, attrs=attrs, give_w=False)


def global_configs(seed: int, n: int):
    r = random.Random(seed)
    for _ in range(n):
        rank = _rank(r)
        yield dict(op=r.choice(("GlobalAveragePool", "GlobalMaxPool")), x_shape=(1, r.randint(1, 4), *_spatial(r, rank)),
                   attrs={})


@pytest.mark.parametrize("seed", SEEDS)
def test_conv_vs_onnxruntime(seed):
    run_batch(conv_configs(1000 + seed, 1000), "Conv")


@pytest.mark.parametrize("seed", SEEDS)
def test_conv_transpose_vs_onnxruntime(seed):
    run_batch(conv_transpose_configs(2000 + seed, 1000), "ConvTranspose")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
def test_pool_vs_onnxruntime(op, seed):
    run_batch(pool_configs(3000 + seed, 800, op), op)


@pytest.mark.parametrize("seed", range(2))
def test_conv_without_weight_vs_onnxruntime(seed):
    run_batch(no_w_configs(4000 + seed, 600), "no-W Conv/ConvTranspose")


def test_global_pools_vs_onnxruntime():
    run_batch(global_configs(5000, 200), "GlobalPool")


# ---------------------------------------------------------------- symbolic vs concrete

SYMBOLIC_CASES = [
    'Conv(W=(4, 2, 3, 3), B=(4,), strides=[2, 2], pads=[1, 0, 1, 1])',
    'Conv(W=(4, 2, 3, 3), strides=[3, 1], pads=[0, 2, 1, 0], dilations=[2, 1])',
    'Conv(W=(4, 2, 2, 3), strides=[2, 2], auto_pad="SAME_UPPER")',
    'Conv(W=(4, 2, 3, 3), strides=[3, 2], auto_pad="SAME_LOWER")',
    'Conv(W=(4, 1, 3, 3), strides=[2, 2], auto_pad="VALID", group=2)',
    'ConvTranspose(W=(2, 3, 3, 3), strides=[2, 2], pads=[1, 0, 0, 1], output_padding=[1, 0])',
    'ConvTranspose(W=(2, 3, 2, 3), strides=[3, 2], dilations=[2, 1], pads=[0, 1, 2, 0])',
    'MaxPool(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 0, 2], ceil_mode=1)',
    'MaxPool(kernel_shape=[3, 2], strides=[3, 2], pads=[2, 1, 0, 0], dilations=[2, 1], ceil_mode=1)',
    'MaxPool(kernel_shape=[2, 2], strides=[2, 2])',
    'MaxPool(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")',
    'AveragePool(kernel_shape=[4, 4], strides=[4, 4], pads=[2, 2, 2, 2], ceil_mode=1)',
    'AveragePool(kernel_shape=[3, 2], strides=[2, 3], pads=[0, 1, 2, 1], ceil_mode=1, count_include_pad=1)',
    'AveragePool(kernel_shape=[3, 3], strides=[2, 1], auto_pad="SAME_LOWER")',
    'GlobalAveragePool()',
]


def _constraints_hold(constraints, env) -> bool | None:
    ok = True
    for c in constraints:
        try:
            ok = ok and bool(eval(c, {"__builtins__": {}, "min": min, "max": max}, dict(env)))  # noqa: S307
        except Exception:  # noqa: BLE001 - a constraint we cannot evaluate
            return None
    return ok


@pytest.mark.parametrize("text", SYMBOLIC_CASES)
def test_symbolic_matches_concrete(text):
    # a layer with W needs a known channel count, so C is symbolic only for pools
    sym = shapesmith.trace(text, input_shape="(1, 2, h, w)" if "W=" in text else "(1, C, h, w)", framework="onnx")
    fails = []
    for h in range(1, 30):
        w = (h * 7) % 23 + 1
        env = {"h": h, "w": w, "C": 2}
        got = ss_trace(text, (1, 2, h, w))
        subst = tuple(d.subs(env) if hasattr(d, "subs") else d for d in sym.output_shape)
        holds = _constraints_hold(sym.constraints, env)
        if got[0] == "reject":
            if holds is True and all(isinstance(d, int) and d >= 1 for d in subst[2:]):
                fails.append(f"h={h}, w={w}: concrete rejects ({got[1]}) but symbolic {sym.output_shape} gives "
                             f"{subst} with constraints {sym.constraints} satisfied")
            continue
        if subst[0] != got[0][0] or subst[2:] != got[0][2:]:
            fails.append(f"h={h}, w={w}: symbolic {sym.output_shape} -> {subst} != concrete {got[0]}")
        if holds is False:
            fails.append(f"h={h}, w={w}: concrete accepts {got[0]} but constraints {sym.constraints} fail")
        # and the concrete value against onnxruntime, for the sizes onnxruntime runs
    assert not fails, f"{text}:\n" + "\n".join(fails[:10])
