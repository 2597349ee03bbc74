"""Exact dims: an ``int``, ``None`` (unknown) or an :class:`Expr` over integer symbols >= 1.

An ``Expr`` is kept in a normal form: a sum of integer multiples of monomials plus an
integer constant, where a monomial is a product of atoms and an atom is a symbol or
``floor(E/d)`` with ``d >= 2``. Floors are normalised when built:

* whole multiples move out: ``floor((d*A + R)/d) == A + floor(R/d)`` (R's constant in [0, d));
* common factors cancel: ``floor((g*A + r)/(g*d)) == floor((A + floor(r/g))/d)``;
* nested floors collapse: ``floor((floor(X/c) + R)/d) == floor((X + c*R)/(c*d))``;
* a numerator leads with a plus: ``floor(X/d) == -floor((d - 1 - X)/d)``.

Those four identities hold for every integer ``A``, ``R``, ``X``, so the normal form is
exact, and a conv/pool chain over ``h`` collapses to one ``floor((a*h + b)/d)`` term.
``//`` and ``%`` by a positive int work on ints and on ``Expr`` alike, so the window
arithmetic is written once for both.

>>> h = Symbol("h")
>>> str((((h - 1) // 2 + 1) - 1) // 2 + 1)
'ceiling(h/4)'
>>> str((h - 6 - 1) * 2 + 7)
'2*h - 7'
>>> ((h - 3) // 2 + 1).subs({"h": 10})
4
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable, Mapping
from typing import Union

from .errors import ParseError, ShapesmithError

MAX_INT = 2**62
MAX_NESTING = 64  # floors inside floors; conv chains whose strides divide each other collapse to one


class _Atom:
    __slots__ = ("key", "_hash")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Atom) and self.key == other.key

    def __hash__(self) -> int:
        return self._hash


class _Sym(_Atom):
    __slots__ = ("name",)
    depth = 0

    def __init__(self, name: str):
        self.name = name
        self.key = (0, name)
        self._hash = hash(self.key)

    def subs(self, env: Mapping[str, Dim]) -> Dim:
        return env.get(self.name, Expr.of_atom(self))

    def monotone(self) -> bool:
        return True

    def __str__(self) -> str:
        return self.name


class _Floor(_Atom):
    """``floor(num/den)``, built only by :meth:`Expr.__floordiv__`."""

    __slots__ = ("num", "den", "_text", "depth")

    def __init__(self, num: Expr, den: int):
        if num.depth >= MAX_NESTING:
            raise ShapesmithError(
                f"a symbolic dim nests more than {MAX_NESTING} floors (a long stack of strides that do not "
                "divide each other)", fix="give that input dim as a number, or trace the stack in parts")
        self.depth = num.depth + 1
        self.num = num
        self.den = den
        self.key = (1, num._key, den)
        self._hash = hash(self.key)
        self._text: str | None = None

    def subs(self, env: Mapping[str, Dim]) -> Dim:
        num = self.num.subs(env)
        return None if num is None else num // self.den

    def monotone(self) -> bool:
        return self.num.monotone()

    def __str__(self) -> str:
        if self._text is None:  # cached: a printed expression tries several spellings around each atom
            self._text = _format_floor(self.num, self.den)
        return self._text


_Mono = tuple  # sorted tuple of atoms


def _mono_key(mono: _Mono) -> tuple:
    return tuple(a.key for a in mono)


class Expr:
    """A symbolic dim in normal form; immutable and hashable. Never a constant (that is an int)."""

    __slots__ = ("terms", "const", "_key", "_hash", "_text", "depth")

    def __init__(self, terms: tuple[tuple[_Mono, int], ...], const: int):
        self.terms = terms
        self.const = const
        self.depth = max((a.depth for m, _ in terms for a in m), default=0)  # floors nested in floors
        self._key = (tuple((_mono_key(m), c) for m, c in terms), const)
        self._hash = hash(self._key)
        self._text: str | None = None

    # -- construction -------------------------------------------------------------
    @staticmethod
    def build(terms: Mapping[_Mono, int], const: int) -> int | Expr:
        items = [(m, c) for m, c in terms.items() if c]
        if not items:
            return const
        items.sort(key=lambda mc: _mono_key(mc[0]))
        return Expr(tuple(items), const)

    @staticmethod
    def of_atom(atom: _Atom) -> Expr:
        return Expr((((atom,), 1),), 0)

    def _as_dict(self) -> dict[_Mono, int]:
        return dict(self.terms)

    # -- arithmetic ---------------------------------------------------------------
    def __add__(self, other: int | Expr) -> int | Expr:
        if isinstance(other, int):
            return Expr.build(self._as_dict(), self.const + other) if other else self
        if not isinstance(other, Expr):
            return NotImplemented
        terms = self._as_dict()
        for m, c in other.terms:
            terms[m] = terms.get(m, 0) + c
        return Expr.build(terms, self.const + other.const)

    __radd__ = __add__

    def __neg__(self) -> Expr:
        return Expr(tuple((m, -c) for m, c in self.terms), -self.const)

    def __sub__(self, other: int | Expr) -> int | Expr:
        return self + (-other)

    def __rsub__(self, other: int) -> int | Expr:
        return (-self) + other

    def __mul__(self, other: int | Expr) -> int | Expr:
        if isinstance(other, int):
            if other == 0:
                return 0
            return Expr(tuple((m, c * other) for m, c in self.terms), self.const * other)
        if not isinstance(other, Expr):
            return NotImplemented
        terms: dict[_Mono, int] = {}
        left = list(self.terms) + [((), self.const)]
        right = list(other.terms) + [((), other.const)]
        const = 0
        for m1, c1 in left:
            for m2, c2 in right:
                if not m1 and not m2:
                    const += c1 * c2
                    continue
                mono = tuple(sorted(m1 + m2, key=lambda a: a.key))
                terms[mono] = terms.get(mono, 0) + c1 * c2
        return Expr.build(terms, const)

    __rmul__ = __mul__

    def __floordiv__(self, d: int) -> int | Expr:
        if not isinstance(d, int):
            raise TypeError("an Expr can only be floor-divided by an int")
        if d <= 0:
            if d == 0:
                raise ZeroDivisionError("floor division of a dim by zero")
            return (-self) // (-d)
        return _floordiv(self, d)

    def __mod__(self, d: int) -> int | Expr:
        return self - d * (self // d)

    # -- queries ------------------------------------------------------------------
    def symbols(self) -> set[str]:
        out: set[str] = set()
        for mono, _ in self.terms:
            for atom in mono:
                out |= {atom.name} if isinstance(atom, _Sym) else atom.num.symbols()
        return out

    def subs(self, env: Mapping[str, Dim]) -> Dim:
        """Substitute symbol values (ints or Exprs); ``None`` anywhere gives ``None``."""
        total: Dim = self.const
        for mono, c in self.terms:
            value: Dim = c
            for atom in mono:
                part = atom.subs(env)
                if part is None:
                    return None
                value = value * part
            total = total + value
        return total

    def monotone(self) -> bool:
        """True when every term is non-decreasing in every symbol (for symbols >= 1)."""
        for mono, c in self.terms:
            if c < 0:
                return False
            if len(mono) > 1 and not all(isinstance(a, _Sym) for a in mono):
                return False
            if not all(a.monotone() for a in mono):
                return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and self._key == other._key

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        if self._text is None:
            self._text = _format_expr(self)
        return self._text

    def __repr__(self) -> str:
        return f"Expr({str(self)!r})"


Dim = Union[int, None, Expr]


def Symbol(name: str) -> Expr:
    """A symbol: an unknown integer >= 1."""
    return Expr.of_atom(_Sym(name))


def _floordiv(e: Expr, d: int) -> int | Expr:
    if d == 1:
        return e
    whole: dict[_Mono, int] = {}
    rest: dict[_Mono, int] = {}
    for mono, c in e.terms:
        if c % d:
            rest[mono] = c
        else:
            whole[mono] = c // d
    q_const, r_const = divmod(e.const, d)
    outside = Expr.build(whole, q_const)
    if not rest:
        return outside
    g = math.gcd(d, *rest.values())
    if g > 1:
        rest = {m: c // g for m, c in rest.items()}
        r_const //= g
        d //= g
    for mono, c in rest.items():
        if c == 1 and len(mono) == 1 and isinstance(mono[0], _Floor):
            inner = mono[0]
            others = Expr.build({m: k for m, k in rest.items() if m != mono}, r_const)
            return outside + (inner.num + inner.den * others) // (inner.den * d)
    num = Expr.build(rest, r_const)
    if num.terms[0][1] < 0:  # floor(X/d) == -floor((d - 1 - X)/d): a floor's numerator leads with a plus
        return outside - (d - 1 - num) // d
    return outside + Expr.of_atom(_Floor(num, d))


# -- printing ---------------------------------------------------------------------
def _format_mono(mono: _Mono) -> str:
    parts: list[str] = []
    i = 0
    while i < len(mono):
        j = i
        while j < len(mono) and mono[j] == mono[i]:
            j += 1
        text = str(mono[i])
        parts.append(text if j - i == 1 else f"{text}**{j - i}")
        i = j
    return "*".join(parts)


def _join_terms(terms: Iterable[tuple[str, int]], const: int) -> str:
    """Join ``(monomial text, coefficient)`` pairs and a constant: ``2*h - w + 1``."""
    out = ""
    for text, c in list(terms) + ([("", const)] if const else []):
        body = str(abs(c)) if not text else (text if abs(c) == 1 else f"{abs(c)}*{text}")
        if not out:
            out = body if c > 0 else f"-{body}"
        else:
            out += f" + {body}" if c > 0 else f" - {body}"
    return out or "0"


def _plain(e: int | Expr) -> str:
    """An expression as its terms read, nested floors in their own spelling: no search, so printing
    stays linear in the nesting (the search for the shortest spelling is for the outer level)."""
    if isinstance(e, int):
        return str(e)
    return _join_terms([(_format_mono(m), c) for m, c in sorted(e.terms, key=_term_order)], e.const)


def _format_call(fn: str, num: int | Expr, den: int) -> str:
    """``floor(num/den)`` or ``ceiling(num/den)``, parenthesising a compound numerator."""
    text = _plain(num)
    simple = isinstance(num, int) or (num.const == 0 and len(num.terms) == 1 and num.terms[0][1] > 0)
    return f"{fn}({text if simple else f'({text})'}/{den})"


def _format_floor(num: Expr, den: int) -> str:
    """The atom alone: ``ceiling(X/d)`` when its numerator reads ``X + d - 1``, else ``floor(...)``."""
    if num.const % den == den - 1:
        return _format_call("ceiling", num - (den - 1), den)
    return _format_call("floor", num, den)


def _term_order(item: tuple[_Mono, int]) -> tuple:
    mono, _ = item
    has_floor = any(isinstance(a, _Floor) for a in mono)
    return (has_floor, -len(mono), _mono_key(mono))


def _format_expr(e: Expr) -> str:
    """The shortest of a few equal spellings: ``floor((h + 1)/2) - 1`` reads ``floor((h - 1)/2)``,
    ``h - floor(3*h/4)`` reads ``ceiling(h/4)``, ``2*h - 2*floor(h/2)`` reads ``2*ceiling(h/2)``."""
    terms = sorted(e.terms, key=_term_order)
    candidates = [(_join_terms([(_format_mono(m), c) for m, c in terms], e.const), len(terms), abs(e.const))]
    floors = [(m, c) for m, c in terms if any(isinstance(a, _Floor) for a in m)]
    if len(floors) == 1 and len(floors[0][0]) == 1:
        (atom,), c = floors[0]
        others = e - c * Expr.of_atom(atom) - e.const  # the terms besides c*floor(X/d) and the constant
        rest = [(_format_mono(m), k) for m, k in terms if m != (atom,)]
        folds = [(atom.num, rest)]
        if isinstance(others, Expr) and all(k % c == 0 for _, k in others.terms):
            folds.append((atom.num + atom.den * Expr.build({mono: k // c for mono, k in others.terms}, 0), []))
        for num, outside in folds:
            candidates += _floor_spellings(num, atom.den, c, e.const, outside)
    return min(candidates, key=lambda cand: (len(cand[0]), cand[1], cand[2], cand[0]))[0]


def _floor_spellings(num: int | Expr, den: int, c: int, const: int, outside: list) -> list[tuple[str, int, int]]:
    """``outside + c*floor(num/den) + const`` spelled ``m*G + K`` with ``m = |c|``, ``G`` a floor
    (``c > 0``) or ``ceiling(-num/den)`` (``c < 0``), shifted by whole multiples: ``G + t``."""
    m, sign = abs(c), (1 if c > 0 else -1)
    out = []
    for t in {0, const // m, -(-const // m)}:
        z = sign * num + t * den
        spellings = [("floor", z), ("ceiling", z - (den - 1))] if c > 0 else [("ceiling", z), ("floor", z + den - 1)]
        for fn, inner in spellings:
            text = _format_call(fn, inner, den)
            outer = const - m * t
            out.append((_join_terms(outside + [(text, m)], outer), len(outside) + 1, abs(outer)))
    return out


# -- dims -------------------------------------------------------------------------
def format_dim(d: Dim) -> str:
    return "None" if d is None else str(d)


def format_shape(shape: Iterable[Dim]) -> str:
    dims = [format_dim(d) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def subs(d: Dim, env: Mapping[str, Dim]) -> Dim:
    """A dim with symbol values put in (ints and ``None`` pass through)."""
    return d.subs(env) if isinstance(d, Expr) else d


def dim_to_json(d: Dim) -> int | str | None:
    return d if d is None or isinstance(d, int) else str(d)


# -- conditions -------------------------------------------------------------------
class Conditions:
    """Validity conditions ``expr >= bound`` (one-symbol monotone ones become ``h >= n``) and
    ``expr == value``."""

    def __init__(self) -> None:
        self.lower: dict[str, int] = {}
        self.other: dict[str, None] = {}

    def require(self, expr: Expr, bound: int) -> None:
        syms = expr.symbols()
        if len(syms) == 1:
            (name,) = syms
            least = least_satisfying(expr, name, bound) if expr.monotone() else _least_quasilinear(expr, name, bound)
            if least is not None:
                if least > self.lower.get(name, 1):
                    self.lower[name] = least
                return
        self.other.setdefault(f"{expr} >= {bound}", None)

    def require_equal(self, expr: Expr, value: int) -> None:
        """``expr == value`` (it pins the symbols to a set, not a bound)."""
        self.require_same(expr, value)

    def require_same(self, a: int | Expr, b: int | Expr) -> None:
        """``a == b``; of one symbol and periodic, read as residues: ``h % 2 == 0``."""
        diff = a - b
        if isinstance(diff, int):
            if diff:
                raise ParseError(f"{a} == {b} never holds")
            return
        syms = diff.symbols()
        period = _period(diff)
        if len(syms) == 1 and period and period <= 10_000:
            (name,) = syms
            base = period * 4
            if all(diff.subs({name: base + r}) == diff.subs({name: base + period + r}) for r in range(period)):
                residues = [r for r in range(period) if diff.subs({name: base + r}) == 0]
                if not residues:
                    raise ParseError(f"{a} == {b} holds for no {name}", fix="make the shapes agree")
                if len(residues) < period:
                    text = (f"{name} % {period} == {residues[0]}" if len(residues) == 1 else
                            f"{name} % {period} in {{{', '.join(map(str, residues))}}}")
                    self.other.setdefault(text, None)
                return
        self.other.setdefault(f"{a} == {b}", None)

    def merge(self, other: Conditions) -> None:
        for name, least in other.lower.items():
            if least > self.lower.get(name, 1):
                self.lower[name] = least
        for text in other.other:
            self.other.setdefault(text, None)

    def as_strings(self) -> list[str]:
        return [f"{n} >= {v}" for n, v in sorted(self.lower.items())] + list(self.other)


def _period(expr: Expr) -> int:
    """A period of the floors in ``expr`` (the product of their denominators)."""
    period = 1
    for mono, _ in expr.terms:
        for atom in mono:
            if isinstance(atom, _Floor):
                period *= atom.den * _period(atom.num) if isinstance(atom.num, Expr) else atom.den
    return period


def _least_quasilinear(expr: Expr, name: str, bound: int) -> int | None:
    """For ``expr(h + P) == expr(h) + g`` with ``g > 0`` (floors of linear terms with period P):
    the ``n`` with ``{h >= 1: expr(h) >= bound} == {h >= n}``, or None when that set has holes."""
    period = _period(expr)
    if period > 100_000:
        return None
    f = lambda v: expr.subs({name: v})  # noqa: E731
    g = f(1 + period) - f(1)
    if g <= 0 or any(f(v + period) - f(v) != g for v in (*range(1, period + 1), 10**6 + 7)):
        return None
    firsts = []  # per residue class, the first h that satisfies
    for r in range(1, period + 1):
        short = bound - f(r)
        firsts.append(r + (max(0, -(-short // g)) * period))
    least = max(1, max(h - period for h in firsts) + 1)
    return least if all(h >= least for h in firsts) else None


def least_satisfying(expr: Expr, name: str, bound: int) -> int:
    """The least integer ``v >= 1`` with ``expr(v) >= bound``, for a monotone ``expr`` of one symbol."""
    def ok(v: int) -> bool:
        return expr.subs({name: v}) >= bound

    if ok(1):
        return 1
    lo, hi = 1, 2
    while not ok(hi):
        lo, hi = hi, hi * 2
        if hi > MAX_INT:
            raise ParseError(f"{expr} >= {bound} holds for no {name} below 2**62",
                             fix="check the layer parameters; the input can never be large enough")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


# -- parsing ----------------------------------------------------------------------
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_MAX_TEXT = 2000
_MAX_DEPTH = 40


def shown(node: ast.AST, limit: int = 80) -> str:
    """A node's source for a message, cut short, and safe on deeply nested input."""
    try:
        text = ast.unparse(node)
    except RecursionError:
        return "<a deeply nested expression>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def parse_dim(text: str) -> Dim:
    """Read one dim: ``28``, ``None``, ``h``, ``2*h - 7``, ``floor((h - 1)/2) + 1``, ``h//2``."""
    return dim_from_ast(_parse_expr(text), text)


def _parse_expr(text: str) -> ast.expr:
    if len(text) > _MAX_TEXT:
        raise ParseError(f"text of {len(text)} characters is too long", expected=f"at most {_MAX_TEXT}")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ParseError(f"cannot read {text[:80]!r} ({exc.msg if isinstance(exc, SyntaxError) else 'too deeply nested'})",
                         expected="a shape such as (None, 1, h, w), 1x16x8820 or (8, 20, 3)") from None


def dim_from_ast(node: ast.AST, source: str = "", depth: int = 0) -> Dim:
    """Build a dim from an expression node; only numbers, names, + - * // % and floor/ceiling."""
    if depth > _MAX_DEPTH:
        raise ParseError(f"expression {source!r} is nested too deeply", expected=f"at most {_MAX_DEPTH} levels")
    rec = lambda n: dim_from_ast(n, text, depth + 1)  # noqa: E731
    text = source or shown(node)
    if isinstance(node, ast.Constant):
        if node.value is None:
            return None
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            if abs(node.value) > MAX_INT:
                raise ParseError(f"{node.value} is too large for a dim", expected="at most 2**62")
            return node.value
        raise ParseError(f"{node.value!r} in {text!r} is not a dim", expected="an integer, None or a symbol name")
    if isinstance(node, ast.Name):
        if not _NAME.match(node.id):
            raise ParseError(f"{node.id!r} is not a symbol name", expected="a name like h, w or seq_len")
        return Symbol(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = rec(node.operand)
        return _need(value, text) * (-1 if isinstance(node.op, ast.USub) else 1)
    if isinstance(node, ast.BinOp):
        left, right = _need(rec(node.left), text), _need(rec(node.right), text)
        op = node.op
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Pow) and isinstance(right, int) and 0 <= right <= 8:
            out: int | Expr = 1
            for _ in range(right):
                out = out * left
            return out
        if isinstance(op, (ast.FloorDiv, ast.Mod, ast.Div)):
            if not isinstance(right, int) or right <= 0:
                raise ParseError(f"cannot divide by {shown(node.right)} in {text!r}",
                                 expected="division by a positive integer")
            if isinstance(op, ast.Mod):
                return left % right
            if isinstance(op, ast.Div) and (left // right) * right != left:
                raise ParseError(f"{shown(node)} is not a whole number for every value",
                                 fix=f"write floor({shown(node)}) or ceiling({shown(node)})")
            return left // right
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        fname, args = node.func.id, node.args
        if fname in ("floor", "ceiling", "ceil") and len(args) == 1:
            arg = args[0]
            num, den = (arg.left, arg.right) if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Div) else (arg, None)
            n = _need(rec(num), text)
            d = 1 if den is None else _need(rec(den), text)
            if not isinstance(d, int) or d <= 0:
                raise ParseError(f"cannot divide by {shown(den)} in {text!r}", expected="a positive integer")
            return n // d if fname == "floor" else -((-n) // d)
        if fname == "Mod" and len(args) == 2:
            n, d = _need(rec(args[0]), text), _need(rec(args[1]), text)
            if isinstance(d, int) and d > 0:
                return n % d
    raise ParseError(f"cannot read {shown(node)!r} as a dim",
                     expected="an integer, None, a symbol, or + - * // and floor()/ceiling() of them")


def _need(value: Dim, text: str) -> int | Expr:
    if value is None:
        raise ParseError(f"None cannot take part in arithmetic in {text!r}", expected="integers and symbols")
    return value


_X_SPLIT = re.compile(r"(?<=\d)\s*[x×]\s*|\s*[x×]\s*(?=\d)|\s+[x×]\s+|×")


def parse_shape(text: str) -> tuple[Dim, ...]:
    """Read a shape, batch dim included: ``(None, 1, h, w)``, ``[8, 20, 3]``, ``1x16x8820``."""
    if not isinstance(text, str):
        raise ParseError(f"a shape must be text, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise ParseError("the shape is empty", expected="a shape such as (None, 1, h, w) or 1x16x8820")
    if not any(ch in stripped for ch in ",([") and ("x" in stripped or "×" in stripped):
        pieces = [p.strip() for p in re.split(r"[x×]", stripped)]
        if not all(p == "None" or p.isdigit() or _NAME.match(p) for p in pieces):
            pieces = _X_SPLIT.split(stripped)
        if len(pieces) > 1:
            stripped = "(" + ", ".join(pieces) + ",)"
    node = _parse_expr(stripped)
    if isinstance(node, ast.Call) and shown(node.func) in ("torch.Size", "Size", "TensorShape") \
            and len(node.args) == 1 and not node.keywords:
        node = node.args[0]
    elements = node.elts if isinstance(node, (ast.Tuple, ast.List)) else [node]
    if not elements:
        raise ParseError(f"the shape {text!r} has no dims", expected="at least the batch dim")
    return shape_from_ast(elements, text)


def shape_from_ast(elements: Iterable[ast.AST], text: str) -> tuple[Dim, ...]:
    dims = tuple(dim_from_ast(e, text) for e in elements)
    for d in dims:
        if isinstance(d, int) and d < 0:
            raise ParseError(f"the shape {text!r} has a negative size {d}", expected="sizes >= 0")
    return dims


def as_shape(value: str | Iterable[Dim | str]) -> tuple[Dim, ...]:
    """A shape from text or from a sequence of ints / None / Exprs / dim strings."""
    if isinstance(value, str):
        return parse_shape(value)
    out = []
    for d in value:
        if isinstance(d, str):
            d = parse_dim(d)
        elif isinstance(d, bool) or not (d is None or isinstance(d, (int, Expr))):
            raise ParseError(f"{d!r} is not a dim", expected="an int, None, or a symbolic dim")
        out.append(int(d) if isinstance(d, int) else d)
    return tuple(out)
