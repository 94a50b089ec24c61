"""The table of primitives: each operation's value and derivative, side by side.

A primitive's ``rule`` takes its operands (and its one parameter, if it has
one) and returns ``(value, local_derivatives)``: the result and the tuple of
partial derivatives of the result with respect to each operand, in operand
order. Rules are written with :mod:`autograd_core._math`, so the same rule runs

* on floats, in the forward pass, to fill ``Value.local_grads`` (fast path);
* on Values, for ``backward(create_graph=True)`` (derivatives with graphs);
* on symbols, to print the derivative (``exp(h3)``, ``-1/h5^2``).

Nothing else in the package knows a derivative formula: backward, forward
mode, step-through, drawing and static replay all read this table.

``check`` runs on the float operands before the rule and returns the
exception for a domain error (``log(0)``, ``x / 0``), so no node is ever made
for an operation that fails.

Kink conventions (the derivative chosen where the function has a corner) are
listed in ``convention`` and in the README.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from operator import mul as _mul
from typing import Any, Callable

from . import _math as m

__all__ = ["Primitive", "PRIMITIVES", "primitive", "EXPORTS", "export_as"]


@dataclass(frozen=True, eq=False)
class Primitive:
    """One differentiable operation.

    ``arity`` is the number of Value operands (``None`` for n-ary ones),
    ``param`` the name of its one non-differentiable parameter (or ``None``),
    ``symbol`` how it is written (``"+"`` for infix operators, else a
    function name), ``kinks`` the points where it is not differentiable.
    """

    name: str
    rule: Callable[..., tuple[Any, tuple[Any, ...]]]
    arity: int | None = 1
    param: str | None = None
    symbol: str = ""
    check: Callable[..., BaseException | None] | None = None
    kinks: tuple[float, ...] = ()
    convention: str = ""
    doc: str = field(default="", repr=False)

    @property
    def has_param(self) -> bool:
        return self.param is not None

    @property
    def infix(self) -> bool:
        return self.symbol in ("+", "-", "*", "/", "**")


PRIMITIVES: dict[str, Primitive] = {}


def primitive(name: str, **spec: Any) -> Callable[[Callable[..., Any]], Primitive]:
    """Register the decorated rule as a primitive called ``name``."""

    def register(rule: Callable[..., Any]) -> Primitive:
        if name in PRIMITIVES:
            raise ValueError(f"primitive {name!r} is defined twice")
        spec.setdefault("symbol", name)
        prim = Primitive(name=name, rule=rule, doc=(rule.__doc__ or "").strip(), **spec)
        PRIMITIVES[name] = prim
        return prim

    return register


#: primitive name -> its exported form (see :func:`export_as`)
EXPORTS: dict[str, Callable[..., Any]] = {}


def export_as(prim: Primitive, form: Callable[..., Any]) -> Primitive:
    """Register how ``prim`` is written in other frameworks (ONNX, JAX, PyTorch).

    ``form(F, *operands[, param])`` computes the primitive's value with the
    vocabulary ``F`` of :mod:`autograd_core.export` (``F.exp``, ``F.where``,
    operators on the operands, ...); each exporter supplies its own ``F``, so
    one form serves every framework, and the frameworks' own autodiff gives
    the derivatives (the forms are written so that it picks the same kink
    conventions as ``rule``). Kept right below each rule: one place per
    primitive. A primitive without a form cannot be exported (the exporters
    say so by name)."""
    if prim.name in EXPORTS:
        raise ValueError(f"primitive {prim.name!r} has two exported forms")
    EXPORTS[prim.name] = form
    return prim


def fmt(x: float) -> str:
    """A number as a person writes it in an error message: 0, -8, 0.5."""
    return f"{x:g}" if x == x else "nan"


# --------------------------------------------------------------- domain checks

def _divisor_check(x: float, y: float) -> BaseException | None:
    if y == 0.0:
        return ZeroDivisionError(f"division by zero in {fmt(x)} / {fmt(y)}")
    return None


def _pow_check(x: float, y: float) -> BaseException | None:
    if x == 0.0 and y < 0.0:
        return ZeroDivisionError(f"division by zero in {fmt(x)} ** {fmt(y)}: zero to a negative power")
    if x < 0.0 and math.isfinite(y) and y != math.floor(y):
        return ValueError(f"({fmt(x)}) ** {fmt(y)}: a negative base with a non-integer exponent "
                          "has no real value")
    return None


def _log_check(x: float) -> BaseException | None:
    if x <= 0.0:
        what = "zero" if x == 0.0 else "a negative number"
        return ValueError(f"log({fmt(x)}): logarithm of {what} is undefined")
    return None


def _log1p_check(x: float) -> BaseException | None:
    if x <= -1.0:
        return ValueError(f"log1p({fmt(x)}): argument must be greater than -1")
    return None


def _sqrt_check(x: float) -> BaseException | None:
    if x < 0.0:
        return ValueError(f"sqrt({fmt(x)}): square root of a negative number")
    return None


# ------------------------------------------------------------- binary operators

@primitive("add", arity=2, symbol="+")
def _add(x, y):
    """x + y"""
    return x + y, (1.0, 1.0)


export_as(_add, lambda F, x, y: x + y)


@primitive("sub", arity=2, symbol="-")
def _sub(x, y):
    """x - y"""
    return x - y, (1.0, -1.0)


export_as(_sub, lambda F, x, y: x - y)


@primitive("mul", arity=2, symbol="*")
def _mul_rule(x, y):
    """x * y"""
    return x * y, (y, x)


export_as(_mul_rule, lambda F, x, y: x * y)


@primitive("div", arity=2, symbol="/", check=_divisor_check)
def _div(x, y):
    """x / y"""
    return m.div(x, y), (m.div(1.0, y), m.neg(m.div(x, m.pow(y, 2.0))))


export_as(_div, lambda F, x, y: x / y)


@primitive("pow", arity=2, symbol="**", check=_pow_check)
def _pow(x, y):
    """x ** y, differentiable in both; d/dy is 0 where the result is 0."""
    out = m.pow(x, y)
    d_base = m.pow(x, y - 1.0) * y
    d_exp = out * m.log(x) if m.value_of(out) != 0.0 else 0.0
    return out, (d_base, d_exp)


export_as(_pow, lambda F, x, y: F.pow(x, y))


# ---------------------------------------- operators with a constant (a number)

@primitive("add_const", param="c", symbol="+")
def _add_const(x, c):
    """x + c"""
    return x + c, (1.0,)


export_as(_add_const, lambda F, x, c: x + c)


@primitive("sub_const", param="c", symbol="-")
def _sub_const(x, c):
    """x - c"""
    return x - c, (1.0,)


export_as(_sub_const, lambda F, x, c: x - c)


@primitive("rsub_const", param="c", symbol="-")
def _rsub_const(x, c):
    """c - x"""
    return c - x, (-1.0,)


export_as(_rsub_const, lambda F, x, c: c - x)


@primitive("mul_const", param="c", symbol="*")
def _mul_const(x, c):
    """x * c"""
    return x * c, (c,)


export_as(_mul_const, lambda F, x, c: x * c)


@primitive("div_const", param="c", symbol="/",
           check=lambda x, c: _divisor_check(x, c))
def _div_const(x, c):
    """x / c"""
    return m.div(x, c), (m.div(1.0, c),)


export_as(_div_const, lambda F, x, c: x / c)


@primitive("rdiv_const", param="c", symbol="/",
           check=lambda x, c: _divisor_check(c, x))
def _rdiv_const(x, c):
    """c / x"""
    return m.div(c, x), (m.div(-c, m.pow(x, 2.0)),)


export_as(_rdiv_const, lambda F, x, c: c / x)


@primitive("pow_const", param="c", symbol="**",
           check=lambda x, c: _pow_check(x, c))
def _pow_const(x, c):
    """x ** c"""
    d = c * m.pow(x, c - 1.0) if c != 0.0 else 0.0
    return m.pow(x, c), (d,)


export_as(_pow_const, lambda F, x, c: F.pow(x, c))


@primitive("rpow_const", param="c", symbol="**",
           check=lambda x, c: _pow_check(c, x))
def _rpow_const(x, c):
    """c ** x; the derivative is 0 where the result is 0."""
    out = m.pow(c, x)
    d = out * m.log(c) if m.value_of(out) != 0.0 else 0.0
    return out, (d,)


export_as(_rpow_const, lambda F, x, c: F.pow(c, x))


# --------------------------------------------------------------- unary functions

@primitive("neg", symbol="-")
def _neg(x):
    """-x"""
    return -x, (-1.0,)


export_as(_neg, lambda F, x: -x)


@primitive("abs", kinks=(0.0,), convention="abs'(0) = 0")
def _abs(x):
    """|x|"""
    if x > 0.0:
        return x, (1.0,)
    if x < 0.0:
        return -x, (-1.0,)
    return (0.0 if x == 0.0 else x), (0.0,)  # |±0| = 0; nan stays nan


# the frameworks' own abs has the derivative 1 (jax) or 0 (torch) at 0: spell out abs'(0) = 0
export_as(_abs, lambda F, x: F.where(x > 0.0, x, F.where(x < 0.0, -x, 0.0 * x)))


@primitive("exp")
def _exp(x):
    """e ** x (inf past the float range, no exception)"""
    y = m.exp(x)
    return y, (y,)


export_as(_exp, lambda F, x: F.exp(x))


@primitive("expm1")
def _expm1(x):
    """e ** x - 1, accurate near 0"""
    return m.expm1(x), (m.exp(x),)


export_as(_expm1, lambda F, x: F.expm1(x))


@primitive("log", check=_log_check)
def _log(x):
    """natural logarithm"""
    return m.log(x), (m.div(1.0, x),)


export_as(_log, lambda F, x: F.log(x))


@primitive("log1p", check=_log1p_check)
def _log1p(x):
    """log(1 + x), accurate near 0"""
    return m.log1p(x), (m.div(1.0, x + 1.0),)


export_as(_log1p, lambda F, x: F.log1p(x))


@primitive("sqrt", check=_sqrt_check)
def _sqrt(x):
    """square root; the derivative at 0 is inf"""
    y = m.sqrt(x)
    return y, (m.div(0.5, y),)


export_as(_sqrt, lambda F, x: F.sqrt(x))


@primitive("sin")
def _sin(x):
    """sine"""
    return m.sin(x), (m.cos(x),)


export_as(_sin, lambda F, x: F.sin(x))


@primitive("cos")
def _cos(x):
    """cosine"""
    return m.cos(x), (-m.sin(x),)


export_as(_cos, lambda F, x: F.cos(x))


@primitive("erf")
def _erf(x):
    """error function"""
    return m.erf(x), (m.TWO_OVER_SQRT_PI * m.exp(-(x * x)),)


export_as(_erf, lambda F, x: F.erf(x))


@primitive("erfc")
def _erfc(x):
    """complementary error function 1 - erf(x), accurate for large x"""
    return m.erfc(x), (-m.TWO_OVER_SQRT_PI * m.exp(-(x * x)),)


export_as(_erfc, lambda F, x: F.erfc(x))


@primitive("tanh")
def _tanh(x):
    """hyperbolic tangent"""
    t = m.tanh(x)
    return t, (1.0 - t * t,)


export_as(_tanh, lambda F, x: F.tanh(x))


@primitive("sigmoid", symbol="σ")
def _sigmoid(x):
    """logistic σ(x) = 1 / (1 + exp(-x)), stable for any x"""
    s = m.sigmoid(x)
    return s, (s * (1.0 - s),)


export_as(_sigmoid, lambda F, x: F.sigmoid(x))


@primitive("softplus")
def _softplus(x):
    """log(1 + exp(x)), stable for any x"""
    return m.softplus(x), (m.sigmoid(x),)


export_as(_softplus, lambda F, x: F.softplus(x))


@primitive("relu", kinks=(0.0,), convention="relu'(0) = 0")
def _relu(x):
    """max(0, x)"""
    if x > 0.0:
        return x, (1.0,)
    return (0.0 if x <= 0.0 else x), (0.0,)  # 0 for x <= 0; nan stays nan


export_as(_relu, lambda F, x: F.where(x > 0.0, x, 0.0 * x))


@primitive("leaky_relu", param="negative_slope", kinks=(0.0,),
           convention="leaky_relu'(0) = negative_slope (the x <= 0 branch, as in the seed)")
def _leaky_relu(x, slope):
    """x if x > 0 else negative_slope * x"""
    if x > 0.0:
        return x, (1.0,)
    return x * slope, (slope,)


export_as(_leaky_relu, lambda F, x, slope: F.where(x > 0.0, x, x * slope))


@primitive("prelu", arity=2, kinks=(0.0,),
           convention="prelu'(0) = alpha (the x <= 0 branch); d/dalpha(0) = 0")
def _prelu(x, alpha):
    """x if x > 0 else alpha * x, with a learnable slope alpha"""
    if x > 0.0:
        return x, (1.0, 0.0)
    return alpha * x, (alpha, x)


export_as(_prelu, lambda F, x, alpha: F.where(x > 0.0, x, alpha * x))


@primitive("elu", param="alpha", kinks=(0.0,),
           convention="elu'(0) = alpha (the x <= 0 branch; continuous when alpha = 1)")
def _elu(x, alpha):
    """x if x > 0 else alpha * (exp(x) - 1)"""
    if x > 0.0:
        return x, (1.0,)
    return alpha * m.expm1(x), (alpha * m.exp(x),)


export_as(_elu, lambda F, x, alpha: F.where(x > 0.0, x, alpha * F.expm1(F.where(x > 0.0, 0.0 * x, x))))


@primitive("swish", param="beta")
def _swish(x, beta):
    """x * σ(beta * x)  (gelu(approximate="sigmoid") is swish with beta = 1.702)"""
    s = m.sigmoid(x * beta)
    y = x * s
    return y, (s + beta * y * (1.0 - s),)


export_as(_swish, lambda F, x, beta: x * F.sigmoid(x * beta))


@primitive("gelu")
def _gelu(x):
    """x * Φ(x), Φ the standard normal CDF (exact, with erfc)"""
    cdf = 0.5 * m.erfc(-x / m.SQRT2)
    pdf = m.INV_SQRT_2PI * m.exp(-0.5 * (x * x))
    return x * cdf, (cdf + x * pdf,)


export_as(_gelu, lambda F, x: x * (0.5 * F.erfc(-x / m.SQRT2)))


_GELU_C = 0.044715


@primitive("gelu_tanh")
def _gelu_tanh(x):
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))"""
    t = m.tanh(m.SQRT_2_OVER_PI * (x + _GELU_C * (x * x * x)))
    dt = m.SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_C * (x * x))
    return 0.5 * x * (1.0 + t), (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dt,)


export_as(_gelu_tanh, lambda F, x: 0.5 * x * (1.0 + F.tanh(m.SQRT_2_OVER_PI * (x + _GELU_C * (x * x * x)))))


# ------------------------------------------------------------- n-ary operations

@primitive("sum", arity=None, symbol="sum")
def _sum(*xs):
    """x1 + x2 + ... + xn (one node, summed left to right)"""
    return sum(xs[1:], xs[0]), (1.0,) * len(xs)


export_as(_sum, lambda F, *xs: F.sum(xs))


@primitive("dot", arity=None, symbol="dot")
def _dot(*wx):
    """w1*x1 + ... + wn*xn over operands (w1..wn, x1..xn)"""
    n = len(wx) // 2
    ws, xs = wx[:n], wx[n:]
    return sum(map(_mul, ws[1:], xs[1:]), ws[0] * xs[0]), xs + ws


export_as(_dot, lambda F, *wx: F.sum([w * x for w, x in zip(wx[:len(wx) // 2], wx[len(wx) // 2:])]))


@primitive("dot_const", arity=None, param="xs", symbol="dot")
def _dot_const(*args):
    """w1*x1 + ... + wn*xn where the xs are constants (e.g. input pixels)"""
    ws, xs = args[:-1], args[-1]
    return sum(map(_mul, ws[1:], xs[1:]), ws[0] * xs[0]), xs


export_as(_dot_const, lambda F, *args: F.sum([w * x for w, x in zip(args[:-1], args[-1])]))