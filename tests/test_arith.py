"""Each rule's formula text (shown in derivations) computes exactly what its code computes."""

from __future__ import annotations

import random

import sympy

from shapesmith import arith

NAMES = {"floor": sympy.floor, "ceiling": sympy.ceiling, "min": sympy.Min, "max": sympy.Max}


def test_formula_text_equals_code():
    rng = random.Random(0)
    for rule in arith.RULES:
        expr = sympy.sympify(rule.formula, locals=dict(NAMES))
        params = sorted(str(s) for s in expr.free_symbols)
        for _ in range(400):
            values = {"i": rng.randint(1, 60), "k": rng.randint(1, 7), "s": rng.randint(1, 5),
                      "d": rng.randint(1, 3), "pb": rng.randint(0, 3), "pe": rng.randint(0, 3),
                      "op": rng.randint(0, 3)}
            values = {p: values[p] for p in params}
            want = rule(**values)
            got = expr.subs({sympy.Symbol(p): v for p, v in values.items()})
            assert int(got) == want, (rule.name, values)
            assert str(want) in f"{rule.filled(**values)} = {want}"


def test_ceil_mode_last_window_rule_matches_the_two_step_definition():
    # PyTorch: o = ceil-mode count, then o -= 1 if (o - 1)*s >= i + pb.
    for i in range(1, 30):
        for k in range(1, 6):
            for s in range(1, 5):
                for d in range(1, 3):
                    eff = d * (k - 1) + 1
                    for pb in range(0, eff // 2 + 1):
                        for pe in range(0, eff // 2 + 1):
                            if i + pb + pe < eff:
                                continue
                            o = arith.windows_ceil_raw(i=i, k=k, s=s, d=d, pb=pb, pe=pe)
                            if (o - 1) * s >= i + pb:
                                o -= 1
                            assert arith.windows_ceil(i=i, k=k, s=s, d=d, pb=pb, pe=pe) == o


def test_transposed_sizes_are_exactly_those_the_forward_conv_maps_back():
    for i in range(1, 12):
        for k in range(1, 6):
            for s in range(1, 5):
                for d in (1, 2):
                    for p in range(0, 3):
                        sizes = arith.transposed_sizes(i=i, k=k, s=s, d=d, pb=p, pe=p)
                        back = [n for n in range(1, 80)
                                if n + 2 * p >= d * (k - 1) + 1
                                and arith.windows(i=n, k=k, s=s, d=d, pb=p, pe=p) == i]
                        assert [n for n in sizes if n >= 1] == back
