"""Padding, cropping, upsampling / resizing, adaptive pooling and ONNX merges, against the frameworks.

Seeded random grids; each config runs in the real framework (a torch module, a Keras layer on the
torch backend, a one-node ONNX model under onnxruntime) on zeros, and in shapesmith: accept/reject,
output shape(s) and parameters must agree. Accepted configs are also traced with symbolic spatial
dims; substituted back, they must give the concrete answer, with every reported condition holding.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

from tests.oracles.spatial_oracle import (  # noqa: E402
    agree, check_symbolic, explain, run_keras, run_onnx, run_shapesmith, run_torch)


def _check(cases, run, framework: str, *, least_ok: int, symbolic_every: int = 3):
    """``cases``: (text, shape, symbolic axes) triples."""
    failures, accepted = [], 0
    for n, (text, shape, axes) in enumerate(cases):
        want = run(text, shape)
        got = run_shapesmith(text, [shape], framework)
        if not agree(want, got):
            failures.append(explain(want, got, text, [shape], framework))
            continue
        if want[0] == "ok":
            accepted += 1
            if axes and n % symbolic_every == 0:
                problem = check_symbolic(text, shape, axes, framework, want[1])
                if problem:
                    failures.append(problem)
    assert not failures, f"{len(failures)} of {len(cases)} disagree:" + "".join(failures[:8])
    assert accepted >= least_ok, (accepted, len(cases))


# ----------------------------------------------------------------------------- Keras
def _keras_amount(rng: random.Random, rank: int, crop: bool):
    form = rng.choice(["int", "ints", "pairs", "pairs", "bad"] if rank > 1 else ["int", "pair", "pair", "bad"])
    hi = 4
    if form == "int":
        return rng.randint(-1 if rng.random() < 0.1 else 0, hi)
    if form == "ints":
        return tuple(rng.randint(0, hi) for _ in range(rank))
    if form == "pair":
        return (rng.randint(0, hi), rng.randint(0, hi))
    if form == "pairs":
        return tuple((rng.randint(0, hi), rng.randint(0, hi)) for _ in range(rank))
    return rng.choice([(1, 2, 3), ((1, 2),), (-1, 1), ((1, -1),) * rank, "2", ((1, 2, 3),) * rank, 1.5])


def _keras_cases(seed: str, n: int):
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        rank = rng.randint(1, 3)
        kind = rng.choice(["ZeroPadding", "Cropping", "UpSampling"])
        first = rng.random() < 0.3
        kw = {}
        if kind == "UpSampling":
            if rank == 1:
                kw["size"] = rng.choice([0, 1, 2, 3, -1, (2,)])
            else:
                kw["size"] = rng.choice([1, 2, 3, tuple(rng.randint(1, 3) for _ in range(rank)), 0, (2,) * (rank + 1)])
            if rank == 2 and rng.random() < 0.4:
                kw["interpolation"] = rng.choice(["nearest", "bilinear", "bicubic", "NEAREST", "cubic"])
        else:
            kw["cropping" if kind == "Cropping" else "padding"] = _keras_amount(rng, rank, kind == "Cropping")
        has_format = not (rank == 1 and kind != "ZeroPadding") or False
        if rank == 1 and kind == "UpSampling":
            has_format = False
        if first and has_format:
            kw["data_format"] = "channels_first"
        spatial = tuple(rng.randint(1, 9) for _ in range(rank))
        c = rng.randint(1, 3)
        shape = (2, c, *spatial) if kw.get("data_format") == "channels_first" else (2, *spatial, c)
        if rng.random() < 0.05:
            shape = shape[:-1]  # wrong rank
        text = f"layers.{kind}{rank}D({', '.join(f'{k}={v!r}' for k, v in kw.items())})"
        off = 2 if kw.get("data_format") == "channels_first" else 1
        cases.append((text, shape, list(range(off, off + rank)) if len(shape) == rank + 2 else []))
    return cases


@pytest.mark.parametrize("part", range(3))
def test_keras_padding_cropping_upsampling(part):
    _check(_keras_cases(f"keras-spatial-{part}", 250), run_keras, "keras", least_ok=120)


def test_keras_backend_only_interpolations_are_noted():
    import shapesmith
    import keras
    t = shapesmith.trace("layers.UpSampling2D(3, interpolation='area')", input_shape=(2, 7, 6, 1))
    want = keras.layers.UpSampling2D(3, interpolation="area").compute_output_shape((2, 7, 6, 1))
    assert t.output_shape == tuple(want)
    assert any("torch backend" in n for n in t.layers[0].notes)


# ----------------------------------------------------------------------------- PyTorch
def _torch_pad_cases(seed: str, n: int):
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        rank = rng.randint(1, 3)
        prefix = rng.choice(["ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"])
        form = rng.random()
        lo = -3 if rng.random() < 0.4 else 0
        if form < 0.3:
            padding = rng.randint(lo, 4)
        elif form < 0.9:
            padding = tuple(rng.randint(lo, 4) for _ in range(2 * rank))
        else:
            padding = tuple(rng.randint(lo, 3) for _ in range(rng.choice([2, 4, 6, 3, 8])))
        args = f"{padding!r}" + (f", {rng.choice([0.0, 1, 2.5])}" if prefix == "ConstantPad" else "")
        text = f"nn.{prefix}{rank}d({args})"
        ndim = rank + rng.choice([1, 2, 2, 2, 0, 3])
        shape = tuple(rng.randint(1, 3) for _ in range(max(ndim - rank, 0))) + tuple(
            rng.randint(1, 7) for _ in range(min(rank, ndim)))
        if not shape:
            shape = (3,)
        m = len(padding) // 2 if isinstance(padding, tuple) else rank
        axes = list(range(len(shape) - min(m, len(shape)), len(shape)))
        cases.append((text, shape, axes))
    return cases


def _torch_adaptive_cases(seed: str, n: int):
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        rank = rng.randint(1, 3)
        kind = rng.choice(["Avg", "Max"])
        r = rng.random()
        if r < 0.3:
            out = rng.randint(0, 6)
        elif r < 0.9:
            out = tuple(rng.choice([None, 1, 2, 3, 5, 7]) if rank > 1 else rng.randint(1, 5) for _ in range(rank))
        else:
            out = rng.choice([(2, 2, 2, 2), (2,), None, -1, (1, -2)])
        kw = ", return_indices=True" if kind == "Max" and rng.random() < 0.4 else ""
        text = f"nn.Adaptive{kind}Pool{rank}d({out!r}{kw})"
        ndim = rank + rng.choice([1, 2, 2, 0, 3])
        shape = tuple(rng.randint(1, 3) for _ in range(max(ndim - rank, 0))) + tuple(
            rng.randint(1, 9) for _ in range(min(rank, ndim)))
        cases.append((text, shape, list(range(len(shape) - rank, len(shape))) if len(shape) >= rank + 1 else []))
    return cases


def _torch_upsample_cases(seed: str, n: int):
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        name = rng.choice(["Upsample", "Upsample", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"])
        nsp = rng.choice([1, 2, 2, 3]) if name == "Upsample" else rng.choice([2, 2, 2, 1])
        kw = {}
        r = rng.random()
        if r < 0.45:
            kw["scale_factor"] = rng.choice([2, 3, 0.5, 1.5, 0.7, 2.25, 1.3, 0.1, 0.33,
                                             tuple(rng.choice([1, 2, 0.5, 1.7]) for _ in range(nsp))])
        elif r < 0.9:
            kw["size"] = rng.choice([rng.randint(1, 12), tuple(rng.randint(1, 9) for _ in range(nsp)), 0])
        elif r < 0.95:
            kw["size"], kw["scale_factor"] = 4, 2
        if name == "Upsample":
            kw["mode"] = rng.choice(["nearest", "nearest", "linear", "bilinear", "bicubic", "trilinear", "area",
                                     "nearest-exact"])
            if rng.random() < 0.3:
                kw["align_corners"] = rng.choice([True, False])
            if rng.random() < 0.2 and "scale_factor" in kw:
                kw["recompute_scale_factor"] = True
        text = f"nn.{name}({', '.join(f'{k}={v!r}' for k, v in kw.items())})"
        shape = (rng.randint(1, 2), rng.randint(1, 3), *(rng.randint(1, 9) for _ in range(nsp)))
        cases.append((text, shape, list(range(2, len(shape)))))
    return cases


@pytest.mark.parametrize("part", range(3))
def test_torch_padding(part):
    _check(_torch_pad_cases(f"torch-pad-{part}", 400), run_torch, "torch", least_ok=150)


@pytest.mark.parametrize("part", range(2))
def test_torch_adaptive_pooling(part):
    _check(_torch_adaptive_cases(f"torch-adaptive-{part}", 300), run_torch, "torch", least_ok=120)


@pytest.mark.parametrize("part", range(2))
def test_torch_upsample(part):
    _check(_torch_upsample_cases(f"torch-upsample-{part}", 300), run_torch, "torch", least_ok=100)


# ----------------------------------------------------------------------------- ONNX
def _onnx_check(cases, least_ok: int):
    """``cases``: (text, op, onnx inputs, attrs, shapes) with the ONNX side built from the same values."""
    failures, accepted = [], 0
    for text, op, inputs, attrs, shapes in cases:
        want = run_onnx(op, inputs, attrs)
        got = run_shapesmith(text, shapes, "onnx")
        if not agree(want, got):
            failures.append(explain(want, got, text, shapes, "onnx"))
        accepted += want[0] == "ok"
    assert not failures, f"{len(failures)} of {len(cases)} disagree:" + "".join(failures[:8])
    assert accepted >= least_ok, (accepted, len(cases))


def _onnx_pad_cases(seed: str, n: int):
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        rank = rng.randint(1, 4)
        shape = tuple(rng.randint(1, 6) for _ in range(rank))
        lo = -3 if rng.random() < 0.4 else 0
        npads = 2 * rank if rng.random() < 0.93 else rng.choice([2, 2 * rank + 2])
        pads = [rng.randint(lo, 4) for _ in range(npads)]
        mode = rng.choice(["constant", "reflect", "edge", "wrap"])
        text = f"Pad(pads={pads}, mode={mode!r})"
        inputs = [("X", shape, None), ("pads", None, np.array(pads, np.int64))]
        cases.append((text, "Pad", inputs, {"mode": mode}, [shape]))
    return cases


def _onnx_resize_cases(seed: str, n: int):
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        rank = rng.randint(3, 5)
        shape = tuple(rng.randint(1, 9) for _ in range(rank))
        if rng.random() < 0.6:
            scales = [1.0, 1.0] + [rng.choice([2.0, 0.5, 1.5, 0.7, 1.3, 3.0, 0.1, 0.33, 2.25]) for _ in range(rank - 2)]
            if rng.random() < 0.05:
                scales = scales[:-1]
            text = f"Resize(scales={scales})"
            inputs = [("X", shape, None), ("", None, None), ("scales", None, np.array(scales, np.float32))]
        else:
            sizes = list(shape[:2]) + [rng.randint(1, 12) for _ in range(rank - 2)]
            text = f"Resize(sizes={sizes})"
            inputs = [("X", shape, None), ("", None, None), ("", None, None), ("sizes", None, np.array(sizes, np.int64))]
        cases.append((text, "Resize", inputs, {"mode": "nearest"}, [shape]))
    return cases


def _onnx_merge_cases(seed: str, n: int):
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        op = rng.choice(["Concat", "Concat", "Add", "Sub", "Mul", "Div"])
        rank = rng.randint(1, 4)
        base = [rng.randint(1, 5) for _ in range(rank)]
        if op == "Concat":
            axis = rng.randint(-rank - 1, rank)
            k = rng.choice([1, 2, 2, 3])
            shapes = []
            for _ in range(k):
                s = list(base)
                if -rank <= axis < rank:
                    s[axis] = rng.randint(1, 4)
                if rng.random() < 0.1:
                    s[rng.randrange(rank)] += 1
                shapes.append(tuple(s))
            text, attrs = f"Concat(axis={axis})", {"axis": axis}
        else:
            a = tuple(base)
            b = [rng.choice([d, d, 1, d + 1]) for d in base][rng.randint(0, rank - 1):]
            if rng.random() < 0.3:
                a, b = tuple(b), list(a)
            shapes, text, attrs = [tuple(a), tuple(b)], f"{op}()", {}
        inputs = [(f"x{j}", s, None) for j, s in enumerate(shapes)]
        cases.append((text, op, inputs, attrs, shapes))
    return cases


def test_onnx_pad():
    _onnx_check(_onnx_pad_cases("onnx-pad", 500), least_ok=150)


def test_onnx_resize():
    _onnx_check(_onnx_resize_cases("onnx-resize", 400), least_ok=250)


def test_onnx_merges():
    _onnx_check(_onnx_merge_cases("onnx-merge", 500), least_ok=200)
