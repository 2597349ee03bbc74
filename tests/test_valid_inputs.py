"""The valid-input solver: random conv / pool / transposed-conv / upsample stacks with skip merges and
Flatten -> Linear heads, each answer checked by torch on the meta device over a grid of sizes (a size
is accepted iff it lies in a box); and the pieces (per-symbol sets, compression, joint conditions)
checked against brute force over the conditions themselves."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from shapesmith import summarize as S
from shapesmith.dims import Symbol  # noqa: E402

CHANNELS = 2


class _Net(nn.Module):
    """``body``; with ``skip``: ``merge(x, up(down(x)))``; then an optional Flatten -> Linear head."""

    def __init__(self, body, down, up, merge: str | None, head: int | None):
        super().__init__()
        self.body, self.down, self.up = nn.Sequential(*body), nn.Sequential(*down), nn.Sequential(*up)
        self.merge = merge
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(head, 3)) if head else None

    def forward(self, x):
        x = self.body(x)
        if self.merge == "add":
            x = x + self.up(self.down(x))
        elif self.merge == "cat":
            x = torch.cat([x, self.up(self.down(x))], dim=1)
        return self.head(x) if self.head is not None else x


def _window(draw):
    kind = draw(st.sampled_from(["conv", "max", "avg", "convT", "up"]))
    k = draw(st.integers(1, 5))
    s = draw(st.integers(1, 3))
    if kind == "conv":
        d = draw(st.integers(1, 2))
        return nn.Conv2d(CHANNELS, CHANNELS, k, stride=s, padding=draw(st.integers(0, 2)), dilation=d)
    if kind in ("max", "avg"):
        pad = draw(st.integers(0, k // 2))
        ceil = draw(st.booleans())
        pool = nn.MaxPool2d if kind == "max" else nn.AvgPool2d
        return pool(k, stride=s, padding=pad, ceil_mode=ceil)
    if kind == "convT":
        return nn.ConvTranspose2d(CHANNELS, CHANNELS, k, stride=s, padding=draw(st.integers(0, (k - 1) // 2)),
                                  output_padding=draw(st.integers(0, s - 1)))
    return nn.Upsample(scale_factor=draw(st.sampled_from([2, 3])))


@st.composite
def nets(draw):
    body = [_window(draw) for _ in range(draw(st.integers(1, 3)))]
    merge = draw(st.sampled_from([None, "add", "cat"]))
    down, up = [], []
    if merge:
        s = draw(st.integers(2, 3))
        down = [nn.Conv2d(CHANNELS, CHANNELS, draw(st.sampled_from([1, 3])), stride=s,
                          padding=draw(st.integers(0, 1)))]
        up = [nn.Upsample(scale_factor=s)] if draw(st.booleans()) else [nn.ConvTranspose2d(CHANNELS, CHANNELS, s, s)]
    head_at = draw(st.one_of(st.none(), st.integers(4, 40)))
    return body, down, up, merge, head_at


def _accepts(model, h: int, w: int) -> bool:
    """torch on the CPU (the meta device skips some checks: a 2x2 pool on a 1x1 input passes there)."""
    try:
        with torch.no_grad():
            model(torch.zeros(1, CHANNELS, h, w))
        return True
    except (RuntimeError, ValueError):
        return False


def _features(model_no_head, h: int, w: int) -> int | None:
    try:
        with torch.no_grad():
            return model_no_head(torch.zeros(1, CHANNELS, h, w)).numel()
    except (RuntimeError, ValueError):
        return None


@settings(max_examples=30, deadline=None, print_blob=True)
@given(spec=nets(), square=st.booleans())
def test_random_nets_against_torch(spec, square):
    body, down, up, merge, head_at = spec
    features = None
    if head_at is not None:  # a Linear sized for some input that works
        plain = _Net(body, down, up, merge, None)
        features = next((f for size in range(head_at, head_at + 40) if (f := _features(plain, size, size))), None)
        if features is None:
            return
    model = _Net(body, down, up, merge, features).eval()
    shape = "(1, 2, s, s)" if square else "(1, 2, h, w)"
    s = S.summary(model, input_shape=shape, valid_inputs=True)
    assert s.valid_inputs is not None, s.notes
    sizes = range(1, 72)
    if square:
        for v in sizes:
            assert _accepts(model, v, v) == any({"s": v} in b for b in s.valid_inputs), (v, s.valid_inputs)
        return
    for box in s.valid_inputs[:3]:  # each axis swept with the other inside a box
        w = box.dims["w"].min
        for h in sizes:
            assert _accepts(model, h, w) == any({"h": h, "w": w} in b for b in s.valid_inputs), (h, w, s.valid_inputs)
        h = box.dims["h"].min
        for w in sizes:
            assert _accepts(model, h, w) == any({"h": h, "w": w} in b for b in s.valid_inputs), (h, w, s.valid_inputs)
    if not s.valid_inputs:
        assert not any(_accepts(model, h, h) for h in range(1, 40, 3))


# -- pieces against brute force ---------------------------------------------------------------
def _holds(c: S._Cond, env: dict[str, int]) -> bool:
    value = c.expr.subs(env) if not isinstance(c.expr, int) else c.expr
    if c.rel == "in":
        return value % c.mod in c.residues
    return value == 0 if c.rel == "eq" else value >= 0


@st.composite
def quasi(draw):
    """A random condition of one symbol: a sum of c*floor((a*h + b)/d) terms (maybe a product of two)."""
    h = Symbol("h")
    expr = 0
    for _ in range(draw(st.integers(1, 3))):
        a, b, d = draw(st.integers(1, 3)), draw(st.integers(-6, 6)), draw(st.integers(1, 8))
        term = (a * h + b) // d
        if draw(st.booleans()) and draw(st.booleans()):
            term = term * ((h + draw(st.integers(0, 4))) // draw(st.integers(1, 4)))
        expr = expr + draw(st.integers(1, 3)) * term
    rel = draw(st.sampled_from(["ge", "eq"]))
    target = draw(st.integers(-4, 60))
    return S._Cond(expr - target, rel, 0, "random")


@settings(max_examples=60, deadline=None)
@given(conds=st.lists(quasi(), min_size=1, max_size=3), lower=st.integers(1, 20))
def test_symbol_set_and_compress_equal_brute_force(conds, lower):
    conds = conds + [S._Cond(Symbol("h") - lower, "ge", 0, f"h >= {lower}", lower=("h", lower))]
    try:
        period, sets = S._symbol_set("h", conds)
    except S.ShapesmithError:  # not monotone per residue: the solver says so instead of answering
        return
    ranges = S._compress(period, sets)
    for v in range(1, 400):
        want = all(_holds(c, {"h": v}) for c in conds)
        assert any(v in r for r in ranges) == want, (v, ranges, [str(c.expr) for c in conds])


@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 16), a=st.integers(1, 8), b=st.integers(1, 8), k=st.integers(1, 200),
       ha=st.integers(0, 4), wb=st.integers(0, 4))
def test_joint_condition_equals_brute_force(c, a, b, k, ha, wb):
    h, w = Symbol("h"), Symbol("w")
    cond = S._Cond(c * ((h - ha) // a) * ((w - wb) // b) - c * k, "eq", 0, "flatten")
    lows = [S._Cond(h - (ha + a), "ge", 0, "", lower=("h", ha + a)), S._Cond(w - (wb + b), "ge", 0, "",
                                                                               lower=("w", wb + b))]
    singles = {"h": S._symbol_set("h", [lows[0]]), "w": S._symbol_set("w", [lows[1]])}
    solved = S._solve_joint(["h", "w"], [cond], singles)
    assert solved is not None
    boxes = [dict(zip(choice, combo)) for choice in solved for combo in _product(choice)]
    for hv in range(1, 60):
        for wv in random.Random(hv).sample(range(1, 1700), 40) + list(range(1, 30)):
            env = {"h": hv, "w": wv}
            want = all(_holds(x, env) for x in [cond] + lows)
            got = any(hv in box["h"] and wv in box["w"] for box in boxes)
            assert got == want, (env, boxes)


def _product(choice):
    import itertools
    return itertools.product(*choice.values())


def test_range_and_box_behaviour():
    r = S.Range(8, None, 8, 0)
    assert 16 in r and 12 not in r and 0 not in r and r.text() == "in 8.., multiple of 8"
    assert r.nearest(60) == 56 and r.nearest(61) == 64 and r.nearest(3) == 8
    assert S.Range(224, 255).text() == "in 224..255" and S.Range(5, 5).text() == "= 5"
    assert S.Range(3, None, 4, 3).text() == "in 3.., = 3 mod 4"
    box = S.Box({"h": S.Range(224, 255), "w": S.Range(224, 255)}, ("why",))
    assert box.text() == "h, w in 224..255" and {"h": 230, "w": 255} in box
    assert box.to_dict() == {"h": {"min": 224, "max": 255, "step": 1, "offset": 0},
                             "w": {"min": 224, "max": 255, "step": 1, "offset": 0}, "reason": ["why"]}


def test_broadcast_of_one_is_a_valid_size():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.Conv2d(2, 2, 3, stride=2, padding=1)
            self.up = nn.Upsample(scale_factor=2)

        def forward(self, x):
            return x + self.up(self.down(x))

    model = Residual()
    s = S.summary(model, input_shape="(1, 2, h, w)", valid_inputs=True)
    for h in range(1, 12):
        for w in range(1, 12):
            assert _accepts(model, h, w) == any({"h": h, "w": w} in b for b in s.valid_inputs), (h, w)
    assert any("broadcasts a size of 1" in r for b in s.valid_inputs for r in b.reason)
