"""Differential tests: shapesmith's ``torch`` dialect against PyTorch itself (CPU).

PyTorch is the oracle: the module is built from the same arguments as the layer text and run on
a tiny zeros tensor (CPU, not meta: meta skips the output_padding check); any exception at
construction or in forward is a reject. No expected number is typed by hand.

* ``test_random_configs``: seeded random configurations per family and rank (kernel/stride/
  padding incl. 'same'/'valid'/bad strings and tuples of wrong length, dilation, groups, bias,
  padding_mode, output_padding incl. invalid ones, output_size incl. out-of-range and with the
  leading dims, ceil_mode, count_include_pad, divisor_override, batched and unbatched inputs,
  inputs smaller than the kernel, channel mismatches). Same verdict, shape and parameter count.
* ``test_symbolic_matches_concrete``: a symbolic trace substituted at many sizes equals torch,
  and the reported constraints hold exactly for the sizes torch accepts.
* Targeted tests for the documented gotchas.

Failures list every disagreement with the layer text, the input shape and a repro line.
"""

from __future__ import annotations

import ast
import functools
import itertools
import random

import pytest
import sympy
import torch
from torch import nn

import shapesmith
from tests.oracles.torch_oracle import (GENERATORS, MAX_SIZE, Config, compare, report, run_shapesmith, run_torch,
                                         torch_quirk)

RANKS = (1, 2, 3)
# configs per (family, rank); ~0.5 ms (conv) to ~0.15 ms (pool) each
COUNTS = {"conv": 3000, "conv_transpose": 3000, "maxpool": 4000, "avgpool": 4000}


# ---------------------------------------------------------------- 1. random configurations

@pytest.mark.parametrize("rank", RANKS)
@pytest.mark.parametrize("family", sorted(GENERATORS))
def test_random_configs(family: str, rank: int):
    rng = random.Random(f"torch-diff-{family}-{rank}")
    problems, quirks = [], []
    n = COUNTS[family]
    for _ in range(n):
        cfg = GENERATORS[family](rng, rank)
        status, text = compare(cfg)
        if status == "disagree":
            problems.append(text)
        elif status == "quirk":
            quirks.append(text)
    print(f"{family} rank {rank}: {n} configs, {len(quirks)} torch backend quirks (shapesmith rejects):",
          *quirks[:5], sep="\n  ")
    assert not problems, report(problems, n, f"{family} rank-{rank}")


# ---------------------------------------------------------------- 2. symbolic vs concrete

SYMBOLS = {1: ("l",), 2: ("h", "w"), 3: ("d", "h", "w")}
SYMPY_NS = {name: sympy.Symbol(name, integer=True, positive=True) for name in ("l", "d", "h", "w")}


@functools.lru_cache(maxsize=None)
def _sympy(text: str):
    return sympy.sympify(text, locals=dict(SYMPY_NS))


def constraint_holds(text: str, env: dict[str, int]) -> bool:
    """A constraint string (``h >= 7``, ``floor((h - 3)/2) + 1 >= 1``) read by sympy, at ``env``."""
    value = _sympy(text).subs({SYMPY_NS[k]: v for k, v in env.items()})
    assert value in (sympy.true, sympy.false), f"constraint {text!r} does not evaluate at {env}: {value}"
    return bool(value)


def dim_at(d, env: dict[str, int]):
    return d.subs(env) if isinstance(d, shapesmith.Expr) else d


def sample_points(rng: random.Random, rank: int) -> list[dict[str, int]]:
    names = SYMBOLS[rank]
    if rank == 1:
        return [{"l": n} for n in range(1, 2 * MAX_SIZE[1] + 1)]
    grid = list(itertools.product(range(1, MAX_SIZE[rank] + 1), repeat=rank))
    picks = rng.sample(grid, min(len(grid), 40 if rank == 2 else 30))
    picks += [(n,) * rank for n in range(1, MAX_SIZE[rank] + 1)]
    return [dict(zip(names, p)) for p in picks]


def symbolic_problems(cfg: Config, rng: random.Random) -> tuple[list[str], bool]:
    """Check one config's symbolic trace against torch at many sizes. Returns (problems, checked)."""
    rank = int(cfg.name[-2])  # "Conv2d" -> 2
    lead = cfg.input_shape[:-rank]
    names = SYMBOLS[rank]
    sym_shape = "(" + ", ".join([*map(str, lead), *names]) + ")"
    got = run_shapesmith(cfg, sym_shape)
    points = sample_points(rng, rank)
    where = f"{cfg.text} on {sym_shape}"
    problems = []
    if got[0] == "crash":
        return [f"{where}: shapesmith crashed: {got[1]}"], True
    if got[0] == "reject":
        if cfg.output_size is not None:  # output_size can't be checked against a symbolic input
            return [], False
        for env in points:
            concrete = (*lead, *(env[k] for k in names))
            want = run_torch(cfg, concrete)
            if want[0] == "ok" and torch_quirk(cfg, want) is None:
                problems.append(f"{where}: symbolic trace rejects ({got[1][:150]}) but torch accepts {concrete} "
                                f"-> {want[1]}")
                break
        return problems, True
    _, out, params, t = got
    constraints = list(t.constraints)
    json_out = t.to_dict()["output_shape"]
    steps = tuple(st.result for st in t.layers[0].steps)
    if steps != tuple(out[-rank:]):
        problems.append(f"{where}: derivation results {steps} != output spatial dims {out[-rank:]}")
    for env in points:
        concrete = (*lead, *(env[k] for k in names))
        want = run_torch(cfg, concrete)
        holds = all(constraint_holds(c, env) for c in constraints)
        accepted = want[0] == "ok" and torch_quirk(cfg, want) is None
        if accepted != holds:
            problems.append(f"{where}: at {env} torch {'accepts' if accepted else 'rejects: ' + want[1]} but the "
                            f"constraints {constraints} {'hold' if holds else 'fail'}")
            break  # one problem per config is enough
        if not accepted:
            continue
        sub = tuple(dim_at(d, env) for d in out)
        via_json = tuple(d if not isinstance(d, str) else int(_sympy(d).subs(
            {SYMPY_NS[k]: v for k, v in env.items()})) for d in json_out)
        conc = run_shapesmith(cfg, concrete)
        if sub != want[1] or via_json != want[1] or params != want[2]:
            problems.append(f"{where}: at {env} symbolic {out} gives {sub} (JSON {via_json}), params {params}; "
                            f"torch {want[1]} params {want[2]}")
            break
        if conc[0] != "ok" or conc[1] != sub:
            problems.append(f"{where}: at {env} symbolic gives {sub} but the concrete trace gives {conc[:2]}")
            break
    return problems, True


SYMBOLIC_COUNTS = {1: 60, 2: 60, 3: 40}


@pytest.mark.parametrize("rank", RANKS)
@pytest.mark.parametrize("family", sorted(GENERATORS))
def test_symbolic_matches_concrete(family: str, rank: int):
    rng = random.Random(f"torch-symbolic-{family}-{rank}")
    problems, checked, tries = [], 0, 0
    while checked < SYMBOLIC_COUNTS[rank] and tries < 20 * SYMBOLIC_COUNTS[rank]:
        tries += 1
        cfg = GENERATORS[family](rng, rank)
        # only configs shapesmith builds and whose channels match: the spatial sizes are the variable
        if run_shapesmith(cfg, cfg.input_shape)[0] == "crash":
            problems.append(f"{cfg.text} on {cfg.input_shape}: shapesmith crashed")
            continue
        try:
            shapesmith.trace(cfg.text, input_shape=(*cfg.input_shape[:-rank], *(50,) * rank), framework="torch")
        except shapesmith.ShapesmithError as exc:
            if "channel" in str(exc) or "output_size" in str(exc) or "requested an output size" in str(exc):
                continue
        found, did = symbolic_problems(cfg, rng)
        problems += found
        checked += did
    print(f"{family} rank {rank}: {checked} symbolic configs checked")
    assert checked >= SYMBOLIC_COUNTS[rank] // 2
    assert not problems, report(problems, checked, f"symbolic {family} rank-{rank}")


# ---------------------------------------------------------------- 3. targeted gotchas

def agree(text: str, shape) -> tuple:
    """Assert shapesmith agrees with torch on ``text`` and ``shape``; return torch's verdict."""
    cfg = config_from_text(text, shape)
    status, problem = compare(cfg)
    assert status != "disagree", problem
    return run_torch(cfg)


def config_from_text(text: str, shape) -> Config:
    """``nn.Name(args...)`` or ``nn.Name(args...)(x, output_size=...)`` -> a Config (literal args only)."""
    node = ast.parse(text, mode="eval").body
    output_size = None
    if isinstance(node.func, ast.Call):
        output_size = next(ast.literal_eval(kw.value) for kw in node.keywords if kw.arg == "output_size")
        node = node.func
    return Config(node.func.attr, tuple(ast.literal_eval(a) for a in node.args),
                  {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}, tuple(shape), output_size)



def test_avgpool_ceil_mode_drops_window_in_padding():
    """FORMULAS: AvgPool2d(4, stride=4, padding=2, ceil_mode=True) on 9x9 gives 3, not 4."""
    text = "nn.AvgPool2d(4, stride=4, padding=2, ceil_mode=True)"
    want = agree(text, (1, 1, 9, 9))
    assert want[0] == "ok"
    t = shapesmith.trace(text, input_shape=(1, 1, 9, 9), framework="torch")
    assert t.output_shape == want[1]
    notes = [n for st in t.layers[0].steps for n in st.notes]
    assert any("dropped" in n for n in notes), notes
    # and the same rule over a range of sizes and strides, symbolic included
    for s in (2, 3, 4):
        t = shapesmith.trace(f"nn.AvgPool1d(4, stride={s}, padding=2, ceil_mode=True)", input_shape="(1, 1, l)",
                             framework="torch")
        for n in range(1, 30):
            want = agree(f"nn.AvgPool1d(4, stride={s}, padding=2, ceil_mode=True)", (1, 1, n))
            ok = all(constraint_holds(c, {"l": n}) for c in t.constraints)
            assert ok == (want[0] == "ok"), (s, n, t.constraints, want)
            if ok:
                assert dim_at(t.output_shape[-1], {"l": n}) == want[1][-1], (s, n)


def test_conv_transpose_output_size_range():
    """output_size picks output_padding inside [min, min + s - 1]; outside, the framework's range error."""
    base = "nn.ConvTranspose2d(16, 1, 7, stride=2)"
    lo = (22 - 1) * 2 + 7
    verdicts = {}
    for o in range(lo - 3, lo + 5):
        text = f"{base}(x, output_size=({o}, {o}))"
        verdicts[o] = agree(text, (1, 16, 22, 22))[0]
        got = run_shapesmith(config_from_text(text, (1, 16, 22, 22)))
        if got[0] == "reject":
            assert "valid sizes range from" in got[1] and f"({lo}, {lo})" in got[1], got[1]
    assert [o for o, v in verdicts.items() if v == "ok"] == [lo, lo + 1]
    # the leading dims may be given: (N, C, H, W) batched, (C, H, W) unbatched, not the other way round
    for text, shape in [(f"{base}(x, output_size=(1, 1, {lo}, {lo}))", (1, 16, 22, 22)),
                        (f"{base}(x, output_size=(1, {lo}, {lo}))", (16, 22, 22)),
                        (f"{base}(x, output_size=(1, {lo}, {lo}))", (1, 16, 22, 22)),
                        (f"{base}(x, output_size=(1, 1, {lo}, {lo}))", (16, 22, 22)),
                        (f"{base}(x, output_size=[{lo}, {lo + 1}])", (1, 16, 22, 22))]:
        agree(text, shape)
    # output_size overrides an invalid output_padding; without it the constructor's value is checked
    assert agree("nn.ConvTranspose1d(1, 1, 3, stride=2, output_padding=5)(x, output_size=(10,))", (1, 1, 4))[0] == "ok"
    assert agree("nn.ConvTranspose1d(1, 1, 3, stride=2, output_padding=2)", (1, 1, 4))[0] == "reject"
    assert agree("nn.ConvTranspose1d(1, 1, 3, stride=2, output_padding=2, dilation=3)", (1, 1, 4))[0] == "ok"


def test_same_padding_with_stride_rejected():
    for text, shape in [("nn.Conv2d(3, 8, 3, stride=2, padding='same')", (1, 3, 8, 8)),
                        ("nn.Conv1d(3, 8, 4, stride=(2,), padding='same')", (3, 8)),
                        ("nn.Conv3d(3, 8, 3, stride=(1, 1, 2), padding='same')", (1, 3, 8, 8, 8))]:
        assert agree(text, shape)[0] == "reject"
        with pytest.raises(shapesmith.ShapesmithError, match="strided"):
            shapesmith.trace(text, input_shape=shape, framework="torch")


def _torch_left_pad_same(k: int, d: int, n: int) -> int:
    """torch's left padding for padding='same', read from values: a delta kernel copies x_padded."""
    conv = nn.Conv1d(1, 1, k, padding="same", dilation=d, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 0] = 1.0
        y = conv(torch.arange(1.0, n + 1).reshape(1, 1, n))[0, 0]
    return int((y == 0).sum().item()) if y[0] == 0 else 0


@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_same_padding_even_kernel_split(mode: str):
    """'same' pads d*(k-1) in all, total//2 on the left and the extra on the right."""
    for k, d, extra in itertools.product(range(1, 7), (1, 2, 3), (-3, 1, 4)):
        n = max(d * (k - 1) + extra, 1)  # from smaller than the padding (reflect rejects) to larger
        text = f"nn.Conv1d(1, 1, {k}, padding='same', dilation={d}, padding_mode='{mode}')"
        want = agree(text, (1, 1, n))
        if want[0] != "ok":
            assert mode == "reflect"  # reflect needs each pad < n
            continue
        assert want[1] == (1, 1, n)
        t = shapesmith.trace(text, input_shape=(1, 1, n), framework="torch")
        (pb, pe), = t.layers[0].op.padding
        assert pb + pe == d * (k - 1)
        if mode == "zeros" and pb < n:  # the left pad shows in the values while it is < n
            assert pb == _torch_left_pad_same(k, d, n), (k, d, n)
        else:
            module = nn.Conv1d(1, 1, k, padding="same", dilation=d, padding_mode="reflect")
            assert [pb, pe] == list(module._reversed_padding_repeated_twice)
        if pb != pe:
            assert any(f"{pb}/{pe}" in note for note in t.layers[0].notes), t.layers[0].notes
    # 2-D: per axis
    text = "nn.Conv2d(2, 4, (3, 4), padding='same', dilation=(1, 3))"
    assert agree(text, (1, 2, 9, 10))[1] == (1, 4, 9, 10)
    t = shapesmith.trace(text, input_shape="(1, 2, h, w)", framework="torch")
    assert [str(d) for d in t.output_shape] == ["1", "4", "h", "w"] and not t.constraints


def test_reflect_and_circular_limits_are_constraints():
    """reflect: pad < size; circular: pad <= size; symbolic traces report them as constraints."""
    for mode, pad in itertools.product(("reflect", "circular", "replicate"), (1, 2, 3)):
        text = f"nn.Conv1d(1, 2, 3, padding={pad}, padding_mode='{mode}')"
        t = shapesmith.trace(text, input_shape="(1, 1, l)", framework="torch")
        for n in range(1, 10):
            want = agree(text, (1, 1, n))
            assert (want[0] == "ok") == all(constraint_holds(c, {"l": n}) for c in t.constraints), (text, n)


def test_unbatched_and_params():
    for text, shape in [("nn.Conv2d(4, 6, 3, groups=2, bias=False)", (4, 7, 7)),
                        ("nn.ConvTranspose3d(4, 6, 2, stride=2, groups=2)", (4, 3, 3, 3)),
                        ("nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True)", (3, 10)),
                        ("nn.AvgPool1d(4, stride=3, padding=2, ceil_mode=True, count_include_pad=False)", (2, 11))]:
        want = agree(text, shape)
        assert want[0] == "ok" and len(want[1]) == len(shape)
