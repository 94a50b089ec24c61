"""Symbols that carry a text and a value, to print derivatives from the rules.

A :class:`Sym` behaves like a number for the primitive rules of
:mod:`autograd_core.core.primitives`: it supports ``+ - * / **`` (with Syms or
plain numbers on either side), unary ``-``, the comparisons ``< <= > >=``
(answered from its value, so a kink rule such as ``relu`` picks the same
branch it picked in the forward pass) and the functions of
:mod:`autograd_core.core._math` (``exp``, ``log``, ``sigmoid``, ...). Each result is
a new Sym whose ``text`` is the formula and whose ``value`` is the number.

Evaluating a rule on Syms named after a node's parents gives its local
derivatives as formulas::

    >>> from autograd_core.core.primitives import PRIMITIVES
    >>> h5 = Sym("h5", 2.0)
    >>> value, (d,) = PRIMITIVES["rdiv_const"].rule(h5, 1.0)
    >>> value.text, d.text, d.value
    ('1/h5', '-1/h5^2', -0.25)

No formula is written here: the derivative comes from the same rule that
fills ``Value.local_grads``. This module only prints, with the obvious
simplifications (``1·x`` is ``x``, ``x^1`` is ``x``, ``0 + x`` is ``x``,
``-1·x`` is ``-x``, numbers fold). Simplification can be switched off with
:func:`literal` (used to print what a node computes, ``x·1`` as written).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
from collections.abc import Iterator
from typing import Any

from ..core import _math as m

__all__ = ["Sym", "Expr", "expr_scope", "fmt_number", "literal"]

# Binding strength, loosest first.
ADD, MUL, NEG, POW, ATOM = 1, 2, 3, 4, 5

_simplify: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "autograd_core_sym_simplify", default=True)


@contextlib.contextmanager
def literal() -> Iterator[None]:
    """Inside, Sym arithmetic keeps every operand (``x·1`` stays ``x·1``);
    only numbers with numbers still fold."""
    token = _simplify.set(False)
    try:
        yield
    finally:
        _simplify.reset(token)


_NAMED = {math.e: "e", math.pi: "pi"}


def fmt_number(x: float) -> str:
    """A number as a formula shows it: ``1``, ``-1``, ``0.25``, ``1e-10``,
    ``inf``; Euler's number and π (exactly the floats ``math.e``, ``math.pi``)
    as ``e`` and ``pi``."""
    x = float(x)
    if x != x:
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0.0:
        return "0"
    if abs(x) in _NAMED:  # the parser's constants e and pi, by name
        return ("-" if x < 0 else "") + _NAMED[abs(x)]
    if x == math.floor(x) and abs(x) < 1e15:
        return str(int(x))
    s = repr(x)
    if len(s) > 9:
        s = f"{x:.6g}"
    return s


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


class Sym:
    """A formula ``text`` with its numeric ``value``.

    ``Sym(text, value)`` makes a named symbol (a node's name); :meth:`number`
    makes a constant. ``prec`` is how tightly the text binds (for
    parentheses); ``num`` is the value when the Sym is a plain number.
    """

    __slots__ = ("text", "value", "prec", "num", "inner", "coef", "quot")

    def __init__(self, text: str, value: Any, prec: int | None = None, *,
                 num: float | None = None, inner: Sym | None = None) -> None:
        if type(text) is not str:
            raise TypeError(f"Sym text must be a str, not {type(text).__name__}")
        if not _is_real(value):
            raise TypeError(f"Sym value must be a real number, not {type(value).__name__}")
        self.text = text
        self.value = float(value)
        if prec is None:
            prec = NEG if text.startswith("-") else ATOM
        self.prec = prec
        self.num = num
        self.inner = inner  # for -a: the a (so a + -b prints a - b)
        self.coef: tuple[float, Sym] | None = None  # for c·a: (c, a) (so 2·(3·x) is 6·x)
        self.quot: tuple[Sym, Sym] | None = None  # for a/b: (a, b) (so a/b/b is a/b^2)

    @classmethod
    def number(cls, x: Any) -> Sym:
        """A constant: its text is the number."""
        x = float(x)
        text = fmt_number(x)
        return cls(text, x, NEG if text.startswith("-") else ATOM, num=x)

    # ------------------------------------------------------------ basics
    @property
    def data(self) -> float:
        """The value (so ``_math.value_of`` works on a Sym)."""
        return self.value

    @property
    def is_number(self) -> bool:
        return self.num is not None

    def __repr__(self) -> str:
        return f"Sym({self.text!r}, {self.value!r})"

    def __str__(self) -> str:
        return self.text

    def __float__(self) -> float:
        return self.value

    def wrap(self, prec: int) -> str:
        """The text, in parentheses if it binds looser than ``prec``."""
        return f"({self.text})" if self.prec < prec else self.text

    def _wrap_right(self, prec: int) -> str:
        if self.prec < prec or self.text.startswith("-"):
            return f"({self.text})"
        return self.text

    # ------------------------------------------------------------ comparisons
    def _other_value(self, other: Any) -> float:
        if isinstance(other, Sym):
            return other.value
        if _is_real(other):
            return float(other)
        raise TypeError(f"cannot compare a Sym with {type(other).__name__}")

    def __lt__(self, other: Any) -> bool:
        return self.value < self._other_value(other)

    def __le__(self, other: Any) -> bool:
        return self.value <= self._other_value(other)

    def __gt__(self, other: Any) -> bool:
        return self.value > self._other_value(other)

    def __ge__(self, other: Any) -> bool:
        return self.value >= self._other_value(other)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sym) or _is_real(other):
            return self.value == self._other_value(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = object.__hash__

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other: Any) -> Sym:
        o = _sym(other)
        return NotImplemented if o is None else _add(self, o)

    def __radd__(self, other: Any) -> Sym:
        o = _sym(other)
        return NotImplemented if o is None else _add(o, self)

    def __sub__(self, other: Any) -> Sym:
        o = _sym(other)
        return NotImplemented if o is None else _sub(self, o)

    def __rsub__(self, other: Any) -> Sym:
        o = _sym(other)
        return NotImplemented if o is None else _sub(o, self)

    def __mul__(self, other: Any) -> Sym:
        o = _sym(other)
        return NotImplemented if o is None else _mul(self, o)

    def __rmul__(self, other: Any) -> Sym:
        o = _sym(other)
        return NotImplemented if o is None else _mul(o, self)

    def __truediv__(self, other: Any) -> Sym:
        o = _sym(other)
        return NotImplemented if o is None else _div(self, o)

    def __rtruediv__(self, other: Any) -> Sym:
        o = _sym(other)
        return NotImplemented if o is None else _div(o, self)

    def __pow__(self, other: Any) -> Sym:
        o = _sym(other)
        return NotImplemented if o is None else _pow(self, o)

    def __rpow__(self, other: Any) -> Sym:
        o = _sym(other)
        return NotImplemented if o is None else _pow(o, self)

    def __neg__(self) -> Sym:
        return _neg(self)

    def __pos__(self) -> Sym:
        return self

    def __abs__(self) -> Sym:
        return _call("abs", self, abs(self.value))

    # ------------------------------------------------------------ functions
    def exp(self) -> Sym:
        return _call("exp", self, m.exp(self.value))

    def expm1(self) -> Sym:
        return _call("expm1", self, m.expm1(self.value))

    def log(self) -> Sym:
        return _call("log", self, m.log(self.value))

    def log1p(self) -> Sym:
        return _call("log1p", self, m.log1p(self.value))

    def sqrt(self) -> Sym:
        return _call("sqrt", self, m.sqrt(self.value))

    def sin(self) -> Sym:
        return _call("sin", self, m.sin(self.value))

    def cos(self) -> Sym:
        return _call("cos", self, m.cos(self.value))

    def tanh(self) -> Sym:
        return _call("tanh", self, m.tanh(self.value))

    def sigmoid(self) -> Sym:
        return _call("σ", self, m.sigmoid(self.value))

    def softplus(self) -> Sym:
        return _call("softplus", self, m.softplus(self.value))

    def erf(self) -> Sym:
        return _call("erf", self, m.erf(self.value))

    def erfc(self) -> Sym:
        return _call("erfc", self, m.erfc(self.value))

    def tan(self) -> Sym:
        return _call("tan", self, m.tan(self.value))

    def sinh(self) -> Sym:
        return _call("sinh", self, m.sinh(self.value))

    def cosh(self) -> Sym:
        return _call("cosh", self, m.cosh(self.value))

    def arcsin(self) -> Sym:
        return _call("arcsin", self, m.arcsin(self.value))

    def arccos(self) -> Sym:
        return _call("arccos", self, m.arccos(self.value))

    def arctan(self) -> Sym:
        return _call("arctan", self, m.arctan(self.value))

    def arcsinh(self) -> Sym:
        return _call("arcsinh", self, m.arcsinh(self.value))

    def arccosh(self) -> Sym:
        return _call("arccosh", self, m.arccosh(self.value))

    def arctanh(self) -> Sym:
        return _call("arctanh", self, m.arctanh(self.value))

    def log2(self) -> Sym:
        return _call("log2", self, m.log2(self.value))

    def log10(self) -> Sym:
        return _call("log10", self, m.log10(self.value))

    def sign(self) -> Sym:
        return _call("sign", self, m.sign(self.value))

    def floor(self) -> Sym:
        return _call("floor", self, m.floor(self.value))

    def ceil(self) -> Sym:
        return _call("ceil", self, m.ceil(self.value))

    def hypot(self, other: Any) -> Sym:
        o = _sym(other)
        return NotImplemented if o is None else _call2("hypot", self, o, m.hypot(self.value, o.value))

    def arctan2(self, other: Any) -> Sym:
        o = _sym(other)
        return NotImplemented if o is None else _call2("arctan2", self, o, m.arctan2(self.value, o.value))


# ---------------------------------------------------------------- helpers

def _sym(x: Any) -> Sym | None:
    if isinstance(x, Sym):
        return x
    if _is_real(x):
        return Sym.number(x)
    return None


def _call(name: str, a: Sym, value: float) -> Sym:
    return Sym(f"{name}({a.text})", value, ATOM)


def _call2(name: str, a: Sym, b: Sym, value: float) -> Sym:
    return Sym(f"{name}({a.text}, {b.text})", value, ATOM)


def _add(a: Sym, b: Sym) -> Sym:
    value = a.value + b.value
    if a.num is not None and b.num is not None:
        return Sym.number(value)
    if _simplify.get():
        if a.num == 0.0:
            return b
        if b.num == 0.0:
            return a
        if b.num is not None and b.num < 0.0:
            return _sub(a, Sym.number(-b.num))
        if b.inner is not None:
            return _sub(a, b.inner)
    return Sym(f"{a.wrap(ADD)} + {b._wrap_right(ADD)}", value, ADD)


def _sub(a: Sym, b: Sym) -> Sym:
    value = a.value - b.value
    if a.num is not None and b.num is not None:
        return Sym.number(value)
    if _simplify.get():
        if b.num == 0.0:
            return a
        if a.num == 0.0:
            return _neg(b)
        if b.num is not None and b.num < 0.0:
            return _add(a, Sym.number(-b.num))
        if b.inner is not None:
            return _add(a, b.inner)
    return Sym(f"{a.wrap(ADD)} - {b._wrap_right(MUL)}", value, ADD)


def _mul(a: Sym, b: Sym) -> Sym:
    value = a.value * b.value
    if a.num is not None and b.num is not None:
        return Sym.number(value)
    if _simplify.get():
        if b.num is not None:  # numbers first: 3·x
            a, b = b, a
        if a.num == 1.0:
            return b
        if a.num == -1.0:
            return _neg(b)
        if a.num == 0.0:
            return Sym("0", value, ATOM, num=0.0)
        if a.inner is not None:
            return _neg(_mul(a.inner, b))
        if b.inner is not None:
            return _neg(_mul(a, b.inner))
        if a.num is not None and b.coef is not None:
            return _mul(Sym.number(a.num * b.coef[0]), b.coef[1])
        if a.text == b.text:
            return _pow(a, Sym.number(2.0))
    out = Sym(f"{a.wrap(MUL)}·{b._wrap_right(MUL)}", value, MUL)
    if a.num is not None:
        out.coef = (a.num, b)
    return out


def _div(a: Sym, b: Sym) -> Sym:
    value = m.div(a.value, b.value)
    if a.num is not None and b.num is not None:
        return Sym.number(value)
    if _simplify.get():
        if b.num == 1.0:
            return a
        if b.num == -1.0:
            return _neg(a)
        if a.num == 0.0:
            return Sym("0", value, ATOM, num=0.0)
        if a.quot is not None and a.quot[1].text == b.text:  # (u/b)/b is u/b^2
            out = _div(a.quot[0], _pow(b, Sym.number(2.0)))
            out.value = value
            return out
    out = Sym(f"{a.wrap(MUL)}/{b._wrap_right(NEG)}", value, MUL)
    out.quot = (a, b)
    return out


def _pow(a: Sym, b: Sym) -> Sym:
    value = m.pow(a.value, b.value)
    if a.num is not None and b.num is not None:
        return Sym.number(value)
    if _simplify.get():
        if b.num == 1.0:
            return a
        if b.num == 0.0:
            return Sym.number(value)
    exponent = b.text if (b.prec == ATOM and not b.text.startswith("-")) else f"({b.text})"
    base = a.text if a.prec > POW else f"({a.text})"
    return Sym(f"{base}^{exponent}", value, POW)


def _neg(a: Sym) -> Sym:
    value = -a.value
    if a.num is not None:
        return Sym.number(value)
    if _simplify.get() and a.inner is not None:
        return a.inner
    return Sym(f"-{a.wrap(MUL)}", value, NEG, inner=a)


# ---------------------------------------------------------------- simplified formulas

class Expr:
    """A formula in a small canonical form, for whole derivatives in terms of
    the inputs: a sum of terms ``coef · Π base^exponent``. Like terms merge
    (``x·w + x·w`` is ``2·x·w``), equal bases multiply into one power
    (``x·x`` is ``x^2``, ``2·x·0.5·(x^2 + y^2)^(-0.5)`` is
    ``x/sqrt(x^2 + y^2)``), numbers fold, ``sqrt(u)`` is ``u^0.5``. A base is
    an input's name, a function call (``exp(-x·w - b)``) or a sum of several
    terms. Like :class:`Sym` it carries its value and works with the rules of
    :mod:`autograd_core.core.primitives` (comparisons answer from the value).
    Build one with :meth:`symbol` or :meth:`number`; read :attr:`text`."""

    __slots__ = ("terms", "value", "_text")

    def __init__(self, terms: dict[tuple[tuple[str, float], ...], float], value: float,
                 bases: dict[str, Expr | None] | None = None) -> None:
        self.terms = {k: c for k, c in terms.items() if c != 0.0}
        self.value = float(value)
        self._text: str | None = None
        if bases:
            _bases().update(bases)

    # ------------------------------------------------------------ construction
    @classmethod
    def symbol(cls, name: str, value: Any) -> Expr:
        """An input called ``name`` with its value."""
        _bases().setdefault(name, None)
        _note_value(name, float(value))
        return cls({((name, 1.0),): 1.0}, float(value))

    @classmethod
    def number(cls, x: Any) -> Expr:
        x = float(x)
        return cls({(): x} if x != 0.0 else {}, x)

    @property
    def data(self) -> float:
        return self.value

    @property
    def num(self) -> float | None:
        """The number, when the formula is a plain number."""
        if not self.terms:
            return 0.0
        if len(self.terms) == 1 and () in self.terms:
            return self.terms[()]
        return None

    def __float__(self) -> float:
        return self.value

    def holds(self) -> bool:
        """Whether the formula, evaluated as printed at the point (the values
        its bases had there), equals :attr:`value`, the chain rule's number.
        Not where a simplification cancelled a 0·inf or an overflow that the
        chain rule meets (``(x^0.5)^2`` is ``x``, but the chain rule at x = 0
        gives 0.5/sqrt(0)·2·sqrt(0) = nan)."""
        got, scale = _at_point(self, 0)
        want = self.value
        if math.isnan(got) or math.isnan(want):
            return math.isnan(got) and math.isnan(want)
        if math.isinf(got) or math.isinf(want) or math.isinf(scale):
            return got == want
        return abs(got - want) <= 1e-9 * max(scale, abs(want), 1e-300)

    def __repr__(self) -> str:
        return f"Expr({self.text!r}, {self.value!r})"

    def __str__(self) -> str:
        return self.text

    # ------------------------------------------------------------ printing
    @property
    def text(self) -> str:
        if self._text is None:
            self._text = _expr_text(self)
        return self._text

    @property
    def prec(self) -> int:
        if len(self.terms) > 1:
            return ADD
        if not self.terms:
            return ATOM
        (key, c), = self.terms.items()
        if c < 0:
            return NEG
        if not key or (len(key) == 1 and key[0][1] == 1.0 and c == 1.0):
            return ATOM
        return MUL

    # ------------------------------------------------------------ comparisons
    def _v(self, other: Any) -> float:
        if isinstance(other, (Expr, Sym)):
            return other.value
        if _is_real(other):
            return float(other)
        raise TypeError(f"cannot compare an Expr with {type(other).__name__}")

    def __lt__(self, o: Any) -> bool:
        return self.value < self._v(o)

    def __le__(self, o: Any) -> bool:
        return self.value <= self._v(o)

    def __gt__(self, o: Any) -> bool:
        return self.value > self._v(o)

    def __ge__(self, o: Any) -> bool:
        return self.value >= self._v(o)

    def __eq__(self, o: object) -> bool:
        if isinstance(o, (Expr, Sym)) or _is_real(o):
            return self.value == self._v(o)
        return NotImplemented

    def __ne__(self, o: object) -> bool:
        eq = self.__eq__(o)
        return eq if eq is NotImplemented else not eq

    __hash__ = object.__hash__

    # ------------------------------------------------------------ arithmetic
    def __add__(self, o: Any) -> Expr:
        b = _expr(o)
        return NotImplemented if b is None else _e_add(self, b)

    def __radd__(self, o: Any) -> Expr:
        b = _expr(o)
        return NotImplemented if b is None else _e_add(b, self)

    def __sub__(self, o: Any) -> Expr:
        b = _expr(o)
        return NotImplemented if b is None else _e_add(self, _e_scale(b, -1.0))

    def __rsub__(self, o: Any) -> Expr:
        b = _expr(o)
        return NotImplemented if b is None else _e_add(b, _e_scale(self, -1.0))

    def __mul__(self, o: Any) -> Expr:
        b = _expr(o)
        return NotImplemented if b is None else _e_mul(self, b)

    def __rmul__(self, o: Any) -> Expr:
        b = _expr(o)
        return NotImplemented if b is None else _e_mul(b, self)

    def __truediv__(self, o: Any) -> Expr:
        b = _expr(o)
        return NotImplemented if b is None else _e_mul(self, _e_pow(b, Expr.number(-1.0)))

    def __rtruediv__(self, o: Any) -> Expr:
        b = _expr(o)
        return NotImplemented if b is None else _e_mul(b, _e_pow(self, Expr.number(-1.0)))

    def __pow__(self, o: Any) -> Expr:
        b = _expr(o)
        return NotImplemented if b is None else _e_pow(self, b)

    def __rpow__(self, o: Any) -> Expr:
        b = _expr(o)
        return NotImplemented if b is None else _e_pow(b, self)

    def __neg__(self) -> Expr:
        return _e_scale(self, -1.0)

    def __pos__(self) -> Expr:
        return self

    def __abs__(self) -> Expr:
        return _e_call("abs", self, abs(self.value))

    # ------------------------------------------------------------ functions
    def sqrt(self) -> Expr:
        return _e_pow(self, Expr.number(0.5))

    def exp(self) -> Expr:
        return _e_call("exp", self, m.exp(self.value))

    def expm1(self) -> Expr:
        return _e_call("expm1", self, m.expm1(self.value))

    def log(self) -> Expr:
        return _e_call("log", self, m.log(self.value))

    def log1p(self) -> Expr:
        return _e_call("log1p", self, m.log1p(self.value))

    def sin(self) -> Expr:
        return _e_call("sin", self, m.sin(self.value))

    def cos(self) -> Expr:
        return _e_call("cos", self, m.cos(self.value))

    def tanh(self) -> Expr:
        return _e_call("tanh", self, m.tanh(self.value))

    def sigmoid(self) -> Expr:
        return _e_call("σ", self, m.sigmoid(self.value))

    def softplus(self) -> Expr:
        return _e_call("softplus", self, m.softplus(self.value))

    def erf(self) -> Expr:
        return _e_call("erf", self, m.erf(self.value))

    def erfc(self) -> Expr:
        return _e_call("erfc", self, m.erfc(self.value))


#: base text -> the sum it stands for (None for a name or a function call),
#: per context (thread/generator safe)
_BASES: contextvars.ContextVar[dict[str, Expr | None]] = contextvars.ContextVar(
    "autograd_core_expr_bases")


def _bases() -> dict[str, Expr | None]:
    try:
        return _BASES.get()
    except LookupError:
        _BASES.set({})
        return _BASES.get()


#: base text -> its value at the point (to know where (u·v)^p = u^p·v^p holds)
_BASE_VALUES: contextvars.ContextVar[dict[str, float]] = contextvars.ContextVar(
    "autograd_core_expr_base_values")


def _base_values() -> dict[str, float]:
    try:
        return _BASE_VALUES.get()
    except LookupError:
        _BASE_VALUES.set({})
        return _BASE_VALUES.get()


def _at_point(a: Expr, depth: int) -> tuple[float, float]:
    """``a`` evaluated term by term as printed (a sum used as a base is itself
    evaluated so), with the sum of the terms' magnitudes (the scale of the
    rounding error)."""
    bases, vals = _bases(), _base_values()
    total, scale = 0.0, 0.0
    for key, c in a.terms.items():
        t = c
        for base, e in key:
            inner = bases.get(base)
            v = (_at_point(inner, depth + 1)[0] if inner is not None and depth < 50
                 else vals.get(base, math.nan))
            t = t * (v if e == 1.0 else m.pow(v, e))
        total += t
        scale += abs(t)
    return total, scale


def _note_value(base: str, value: float) -> None:
    _base_values().setdefault(base, value)


@contextlib.contextmanager
def expr_scope() -> Iterator[None]:
    """A fresh table of the bases :class:`Expr` formulas refer to."""
    token = _BASES.set({})
    vtoken = _BASE_VALUES.set({})
    try:
        yield
    finally:
        _BASES.reset(token)
        _BASE_VALUES.reset(vtoken)


#: an Expr stops (ValueError) beyond this many terms or characters in one base
EXPR_MAX_TERMS = 200
EXPR_MAX_CHARS = 2000


def _check_size(n_terms: int, text: str = "") -> None:
    if n_terms > EXPR_MAX_TERMS or len(text) > EXPR_MAX_CHARS:
        raise ValueError("formula too large to print")


def _expr(x: Any) -> Expr | None:
    if isinstance(x, Expr):
        return x
    if _is_real(x):
        return Expr.number(x)
    return None


def _key(factors: dict[str, float]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((b, e) for b, e in factors.items() if e != 0.0))


def _e_add(a: Expr, b: Expr) -> Expr:
    terms = dict(a.terms)
    for k, c in b.terms.items():
        terms[k] = terms.get(k, 0.0) + c
    _check_size(len(terms))
    return Expr(terms, a.value + b.value)


def _e_scale(a: Expr, c: float) -> Expr:
    return Expr({k: v * c for k, v in a.terms.items()}, a.value * c)


def _as_base(a: Expr) -> str:
    """A sum of several terms used as one factor: its text names it."""
    text = a.text
    _check_size(0, text)
    _bases()[text] = a
    _note_value(text, a.value)
    return text


def _monomials(a: Expr) -> list[tuple[float, dict[str, float]]]:
    """``a`` as terms to multiply: itself as one base when it is a sum of several."""
    if len(a.terms) > 1:
        return [(1.0, {_as_base(a): 1.0})]
    return [(c, dict(k)) for k, c in a.terms.items()]


def _e_mul(a: Expr, b: Expr) -> Expr:
    value = a.value * b.value
    na, nb = a.num, b.num
    # the value is the product of the values (a number 1 standing for 0.5/0·2·0 = nan
    # keeps its nan), not the scaled formula's
    if na is not None:
        return Expr({k: c * na for k, c in b.terms.items()}, value) if na != 0.0 else Expr({}, value)
    if nb is not None:
        return Expr({k: c * nb for k, c in a.terms.items()}, value) if nb != 0.0 else Expr({}, value)
    (ca, fa), = _monomials(a)
    (cb, fb), = _monomials(b)
    f = dict(fa)
    for base, e in fb.items():
        f[base] = f.get(base, 0.0) + e
    return Expr({_key(f): ca * cb}, value)


def _e_pow(a: Expr, b: Expr) -> Expr:
    value = m.pow(a.value, b.value)
    n = b.num
    if a.num is not None and n is not None:
        return Expr.number(value)
    if n is None:  # a symbolic exponent: one opaque base
        base = f"{_pow_base_text(a)}^{_wrap_expr(b, ATOM)}"
        _bases().setdefault(base, None)
        _note_value(base, value)
        return Expr({((base, 1.0),): 1.0}, value)
    if n == 0.0:
        return Expr.number(1.0)
    if n == 1.0:
        return a
    if len(a.terms) == 1:
        (k, c), = a.terms.items()
        # (c·Π u^e)^n = c^n·Π u^(e·n) holds for an integer n, or where c and every
        # base u are positive (at the point, so near it): not (x^2)^0.5 = x at x < 0
        vals = _base_values()
        if float(n).is_integer() or (c > 0 and all(vals.get(u, math.nan) > 0.0 for u, _ in k)):
            return Expr({_key({base: e * n for base, e in k}): c ** n}, value)
    return Expr({((_as_base(a), n),): 1.0}, value)


def _e_call(name: str, a: Expr, value: float) -> Expr:
    base = f"{name}({a.text})"
    _check_size(0, base)
    _bases().setdefault(base, None)
    _note_value(base, value)
    return Expr({((base, 1.0),): 1.0}, value)


def _pow_base_text(a: Expr) -> str:
    """``a`` as the base of a power: parenthesised unless a name, a number or
    a call (``(y^y)^y``, not ``y^y^y``, which reads as ``y^(y^y)``)."""
    text = a.text
    if len(a.terms) == 1:
        (k, c), = a.terms.items()
        if c == 1.0 and len(k) == 1 and k[0][1] == 1.0:
            return _base_text(k[0][0], True)
        if not k and c >= 0:
            return text
    return f"({text})"


def _wrap_expr(a: Expr, prec: int) -> str:
    return f"({a.text})" if a.prec < prec else a.text


def _base_text(base: str, for_power: bool) -> str:
    inner = _bases().get(base)
    if inner is not None and (len(inner.terms) > 1 or inner.prec < ATOM):
        return f"({base})"  # a sum, or a product/negation kept whole: (x·y)^0.5 over 1/(x·y)
    if for_power and not (base.replace("_", "").isalnum() or base.endswith(")")):
        return f"({base})"
    return base


def _factor_text(base: str, e: float) -> str:
    if e == 1.0:
        return _base_text(base, False)
    if e == 0.5:
        return f"sqrt({base})"
    ex = fmt_number(e)
    return f"{_base_text(base, True)}^{ex if e > 0 else '(' + ex + ')'}"


def _order(item: tuple[str, float]) -> tuple[int, str]:
    """Factors in the order their bases first appeared (the graph's
    evaluation order: ``x·w`` as the textbook chapter's table writes it)."""
    base = item[0]
    keys = list(_bases())
    return (keys.index(base) if base in keys else len(keys), base)


def _term_text(c: float, key: tuple[tuple[str, float], ...]) -> tuple[bool, str]:
    """(negative, text without the sign) of ``c · Π base^e``."""
    neg = c < 0
    c = abs(c)
    factors = sorted(key, key=_order)
    num = [_factor_text(b, e) for b, e in factors if e > 0]
    den = [_factor_text(b, -e) for b, e in factors if e < 0]
    if c != 1.0 or not num:
        num.insert(0, fmt_number(c))
    text = "·".join(num)
    if den:
        d = "·".join(den)
        text += "/" + (f"({d})" if len(den) > 1 else d)
    return neg, text


def _expr_text(a: Expr) -> str:
    if not a.terms:
        return "0"
    items = sorted(a.terms.items(),
                   key=lambda kc: (len(kc[0]) == 0, sorted(_order(f) for f in kc[0])))
    if items[0][1] < 0:  # lead with a positive term: 1 - σ(z), not -σ(z) + 1
        pos = next((i for i, (_, c) in enumerate(items) if c > 0), None)
        if pos is not None:
            items.insert(0, items.pop(pos))
    out = ""
    for i, (k, c) in enumerate(items):
        neg, t = _term_text(c, k)
        if i == 0:
            out = f"-{t}" if neg else t
        else:
            out += f" - {t}" if neg else f" + {t}"
    return out
