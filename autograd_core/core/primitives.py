"""The table of primitives: each operation's value and derivative, side by side.

A primitive's ``rule`` takes its operands (and its one parameter, if it has
one) and returns ``(value, local_derivatives)``: the result and the tuple of
partial derivatives of the result with respect to each operand, in operand
order. Rules are written with :mod:`autograd_core.core._math`, so the same rule runs

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
import re
import sys
from collections.abc import Sequence
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

    Calling a primitive applies it: ``softsign(x)`` is
    ``autograd_core.apply(softsign, x)`` (a new node of the graph).
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

    def __call__(self, *operands: Any, param: Any = None) -> Any:
        """Apply the primitive to Values (or numbers) -- or elementwise to Tensors:
        a new graph node."""
        if any(type(o).__name__ == "Tensor" for o in operands):
            Tensor, _apply_ew = _hook("Tensor"), _hook("apply_tensor")
            if self.arity is None or len(operands) != self.arity:
                raise TypeError(f"{self.name} on Tensors takes {self.arity} operand(s) "
                                f"elementwise, got {len(operands)}")
            if self.has_param and param is None:
                raise TypeError(f"{self.name} needs its parameter {self.param!r}")
            ops = tuple(o if isinstance(o, Tensor) else Tensor(o) for o in operands)
            return _apply_ew(self, ops, param)
        return _hook("apply")(self, *operands, param=param)


PRIMITIVES: dict[str, Primitive] = {}

#: Filled by the modules above this one when they are imported (the package's
#: ``__init__`` imports them all): ``apply`` (engine), ``Tensor`` and
#: ``apply_tensor`` (tensor), ``validate_primitive`` (gradcheck),
#: ``record_sources`` and ``source_of`` (anomaly, for the Tensor culprit search). The table
#: of primitives sits at the bottom of the package and imports none of them.
HOOKS: dict[str, Callable[..., Any]] = {}


def _hook(name: str) -> Callable[..., Any]:
    try:
        return HOOKS[name]
    except KeyError:
        raise RuntimeError(f"autograd_core.core.primitives: {name!r} is registered when autograd_core "
                           "is imported; import autograd_core first") from None

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SYMBOLS = ("+", "-", "*", "/", "**", "σ")


def _check_name(name: Any, what: str = "primitive name") -> None:
    """Names reach generated code, DOT and HTML: a plain identifier-like word only."""
    if type(name) is not str:
        raise TypeError(f"{what} must be a str, not {type(name).__name__}")
    if not _NAME.match(name) or len(name) > 64:
        raise ValueError(f"{what} {name!r} is not a plain identifier-like word "
                         "(letters, digits and _, not starting with a digit, at most 64 characters)")


def primitive(name: str, *, arity: int | None = 1, param: str | None = None,
              symbol: str | None = None, check: Callable[..., BaseException | None] | None = None,
              kinks: Sequence[float] = (), convention: str = "", validate: bool | None = None,
              points: Sequence[Sequence[float]] | None = None, example_param: Any = None,
              **fields: Any) -> Callable[[Callable[..., Any]], Primitive]:
    """Register the decorated rule as a primitive called ``name``.

    The rule takes the operands (then the parameter, if ``param`` names one)
    and returns ``(value, local_derivatives)``: the result and the tuple of
    ∂result/∂operand, one per operand. It must be written with the functions
    of :mod:`autograd_core.math` (``exp``, ``log``, ``div``, ...) and
    arithmetic, never ``math.*`` or ``float()``: the same rule runs on floats,
    on Values (``create_graph``, second derivatives), on symbols (``explain``)
    and on arrays (Tensor). Comparisons (``x > 0``) are allowed; where the
    function has a corner list it in ``kinks`` and say which derivative the
    rule takes there in ``convention``.

    ``check(*operands[, param])`` may return an exception for a domain error
    (raised before any node is made). ``name`` and ``symbol`` must be plain
    identifier-like words.

    Validation (``validate``; on by default for operations defined outside
    this package): the rule is run on floats, Values and symbols, and a rule
    that escapes the contract (a plain float where a Value or symbol was
    expected, e.g. ``math.exp(x)``) is refused with a ``TypeError`` naming
    the rule and the offending call; its first and second derivatives are
    checked against finite differences at a few points (``points``: operand
    tuples, default a grid of the domain; ``example_param``: the parameter
    value used there), and every kink found must be declared in ``kinks``
    with a derivative between the one-sided ones (``ValueError`` otherwise).
    Other keyword arguments (``doc``, ...) are fields of :class:`Primitive`.
    """
    caller = sys._getframe(1).f_globals.get("__name__", "")
    internal = caller == __package__ or caller.startswith(f"{__package__}.")
    _check_name(name)
    if symbol is not None and symbol not in _SYMBOLS and not internal:
        _check_name(symbol, "primitive symbol")
    if arity is not None and (isinstance(arity, bool) or not isinstance(arity, int) or arity < 1):
        raise ValueError(f"arity must be a positive int or None (n-ary), not {arity!r}")
    if param is not None:
        _check_name(param, "primitive param")
    if check is not None and not callable(check):
        raise TypeError(f"check must be callable or None, not {type(check).__name__}")
    kinks = tuple(float(k) for k in kinks)
    if validate is None:  # the package's own table is swept by its tests instead
        validate = not internal

    def register(rule: Callable[..., Any]) -> Primitive:
        if not callable(rule):
            raise TypeError(f"primitive {name!r}: the rule must be callable, not {type(rule).__name__}")
        if name in PRIMITIVES:
            raise ValueError(f"primitive {name!r} is defined twice")
        fields.setdefault("doc", (rule.__doc__ or "").strip())
        prim = Primitive(name=name, rule=rule, arity=arity, param=param,
                         symbol=name if symbol is None else symbol, check=check, kinks=kinks,
                         convention=convention, **fields)
        if validate:
            _hook("validate_primitive")(prim, points=points, example_param=example_param)
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
    q = m.div(x, y)  # -x/y² as -(x/y)/y: y² under- or overflows long before the result does
    return q, (m.div(1.0, y), m.neg(m.div(q, y)))


export_as(_div, lambda F, x, y: x / y)

# For the rules' own divisions on graph nodes (create_graph): _math.div makes a / b
# with a divisor node holding 0 through this, the div primitive's rule without its
# domain check, so an infinite derivative keeps its derivative (the user's x / 0
# still raises: Value's / applies the checked primitive).
_DIV_IEEE = Primitive(name="div", rule=_div.rule, arity=2, symbol="/", doc=_div.doc)
m.div_node = lambda a, b: _hook("apply")(_DIV_IEEE, a, b)


@primitive("pow", arity=2, symbol="**", check=_pow_check,
           convention="at x = 0: d/dx as the x ** c rule (0 at y = 0), d/dy = 0 (as PyTorch); "
                      "for x < 0 (integer y) d/dy is nan (no real derivative, as PyTorch)")
def _pow(x, y):
    """x ** y, differentiable in both. At a zero base d/dy is 0 (0 ** y is 0
    for every y > 0) and at (0, 0) d/dx is 0, as the rule of ``x ** 0.0``."""
    out = m.pow(x, y)
    if m.value_of(x) == 0.0:
        yv = m.value_of(y)
        if yv == 0.0:
            d_base = 0.0
        elif yv < 1.0:  # 0 < y < 1 (y < 0 is refused): y·0^(y-1) = inf, as y / 0^(1-y)
            d_base = m.div(y, m.pow(x, 1.0 - y))  # (see pow_const)
        else:
            d_base = m.pow(x, y - 1.0) * y
        return out, (d_base, 0.0)
    if m.value_of(x) < 0.0:  # (an integer y): y -> x ** y has no real derivative, nan as
        return out, (m.pow(x, y - 1.0) * y, m.nan)  # log(x) gives (never log of a negative Value)
    d_exp = out * m.log(x) if m.value_of(out) != 0.0 else 0.0
    return out, (m.pow(x, y - 1.0) * y, d_exp)


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
    q = m.div(c, x)  # -c/x² as -(c/x)/x (no under- or overflow of x²)
    return q, (m.neg(m.div(q, x)),)


export_as(_rdiv_const, lambda F, x, c: c / x)


@primitive("pow_const", param="c", symbol="**",
           check=lambda x, c: _pow_check(x, c))
def _pow_const(x, c):
    """x ** c"""
    if c == 0.0:
        d = 0.0
    elif c < 1.0 and m.value_of(x) == 0.0:  # 0 < c < 1 (c < 0 is refused at 0): c·0^(c-1)
        # = inf, written c / 0^(1-c): on Values and Tensors (create_graph) 0 ** (c-1)
        # raises, and _math.div makes this inf a node whose derivative is the one-sided
        # limit c(c-1)·0^(c-2) = -inf (as PyTorch), not the 0 of a constant inf
        d = m.div(c, m.pow(x, 1.0 - c))
    else:
        d = c * m.pow(x, c - 1.0)
    return m.pow(x, c), (d,)


export_as(_pow_const, lambda F, x, c: F.pow(x, c))


@primitive("rpow_const", param="c", symbol="**",
           check=lambda x, c: _pow_check(c, x))
def _rpow_const(x, c):
    """c ** x; the derivative is 0 where the result is 0 and for c = 0 (0 ** 0 = 1)."""
    out = m.pow(c, x)
    d = out * m.log(c) if m.value_of(out) != 0.0 and c != 0.0 else 0.0
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
    return (0.0 if m.value_of(x) == 0.0 else x), (0.0,)  # |±0| = 0; nan stays nan


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


def _expm1_form(F, u):
    """expm1 for the exporters: the frameworks differentiate expm1 as expm1(u) + 1,
    which cancels for u << 0 (0 from u = -37 on, where exp(u) = 4e-18); below -1
    exp(u) - 1 has the same value to an ulp and the derivative exp(u). Safe
    operands: each branch sees only its own side."""
    lo = F.where(u < -1.0, u, 0.0 * u - 2.0)
    hi = F.where(u < -1.0, 0.0 * u, u)
    return F.where(u < -1.0, F.exp(lo) - 1.0, F.expm1(hi))


export_as(_expm1, lambda F, x: _expm1_form(F, x))


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
           convention="leaky_relu'(0) = negative_slope (the x <= 0 branch, as in the textbook chapter)")
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


export_as(_elu, lambda F, x, alpha: F.where(x > 0.0, x, alpha * _expm1_form(F, F.where(x > 0.0, 0.0 * x, x))))


@primitive("swish", param="beta")
def _swish(x, beta):
    """x * σ(beta * x)  (gelu(approximate="sigmoid") is swish with beta = 1.702)"""
    z = x * beta
    # past |beta·x| = 1e300, σ is exactly 1 or 0: the exact values, without the
    # inf that beta·x may overflow to (inf · 0 = nan in the second derivative)
    if z > 1e300:
        return x, (1.0,)
    if z < -1e300:
        return x * 0.0, (0.0,)
    s = m.sigmoid(z)
    y = x * s
    # y·(1 - s) first: it is bounded, while beta·y may overflow
    return y, (s + y * (1.0 - s) * beta,)


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
    """0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), computed as x σ(2u)"""
    # past |x| = 1e5 tanh is ±1 exactly (the formula gives x or -0 and 1 or 0), and
    # x³ may overflow (inf * 0 = nan): use those exact values
    if x > 1e5:
        return x, (1.0,)
    if x < -1e5:
        return x * 0.0, (0.0,)
    # (1 + tanh u)/2 = σ(2u) and (1 - tanh u)/2 = σ(-2u): no cancellation where
    # tanh u is near -1 (1 + tanh u lost all digits from x ≈ -9 on)
    u2 = 2.0 * m.SQRT_2_OVER_PI * (x + _GELU_C * (x * x * x))
    s, sm = m.sigmoid(u2), m.sigmoid(-u2)
    du = m.SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_C * (x * x))
    return x * s, (s + 2.0 * x * s * sm * du,)


def _gelu_tanh_form(F, x):
    # the rule's branches past |x| = 1e5 (x³ overflows there: (1 - tanh²)·inf = nan in
    # the frameworks' autodiff), with a safe operand inside the formula's branch
    xs = F.where(x > 1e5, 0.0 * x, F.where(x < -1e5, 0.0 * x, x))
    inner = xs * F.sigmoid(2.0 * m.SQRT_2_OVER_PI * (xs + _GELU_C * (xs * xs * xs)))
    return F.where(x > 1e5, x, F.where(x < -1e5, 0.0 * x, inner))


export_as(_gelu_tanh, _gelu_tanh_form)


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


# ============================================================ the wider function set
# Trigonometric and hyperbolic functions, logarithms in base 2 and 10, rounding,
# two-operand functions and more activations. Same conventions as above:
# domain errors are raised by ``check`` before any node is made; at a kink the
# derivative chosen is listed in ``convention`` (and in the README).

def _interval_check(name: str, lo: float, hi: float, closed: bool, why: str = ""):
    """A check refusing x outside [lo, hi] (closed) or (lo, hi) (open)."""
    def check(x: float) -> BaseException | None:
        bad = (x < lo or x > hi) if closed else (x <= lo or x >= hi)
        if bad:
            span = f"[{fmt(lo)}, {fmt(hi)}]" if closed else f"({fmt(lo)}, {fmt(hi)})"
            return ValueError(f"{name}({fmt(x)}): argument must be in {span}{why}")
        return None
    return check


def _named_log_check(name: str):
    def check(x: float) -> BaseException | None:
        err = _log_check(x)
        return None if err is None else ValueError(str(err).replace("log(", f"{name}(", 1))
    return check


def _nonzero_param_check(name: str, param: str):
    def check(x: float, p: float) -> BaseException | None:
        if p == 0.0:
            return ValueError(f"{name}: {param} must not be 0")
        return None
    return check


def _bounds_check(name: str):
    def check(x: float, bounds: tuple[float, float]) -> BaseException | None:
        lo, hi = bounds
        if not lo <= hi:
            return ValueError(f"{name}: the lower bound {fmt(lo)} must not exceed the upper "
                              f"bound {fmt(hi)}")
        return None
    return check


@primitive("tan")
def _tan(x):
    """tangent (no error near pi/2 + k*pi: floats never hit the poles exactly)"""
    t = m.tan(x)
    return t, (1.0 + t * t,)


export_as(_tan, lambda F, x: F.tan(x))


@primitive("sinh")
def _sinh(x):
    """hyperbolic sine (±inf past the float range)"""
    return m.sinh(x), (m.cosh(x),)


export_as(_sinh, lambda F, x: F.sinh(x))


@primitive("cosh")
def _cosh(x):
    """hyperbolic cosine (inf past the float range)"""
    return m.cosh(x), (m.sinh(x),)


export_as(_cosh, lambda F, x: F.cosh(x))


def _at_pm_one(x) -> bool:
    """Whether x is exactly ±1, the edge of arcsin's and arccos's domain."""
    return m.value_of(x) == 1.0 or m.value_of(x) == -1.0


# arcsin', arccos' and arccosh' are written 1/(sqrt(1 - x)·sqrt(1 + x)) for accuracy
# near the edge (1 - x² loses digits there), but at the edge itself, where the
# derivative is infinite, as 1/sqrt(1 - x²) (the same inf): the product's own derivative
# meets inf · 0 there (nan in reverse mode, ±inf in forward mode), the composition's
# is the one-sided limit ±inf in both (as PyTorch)

@primitive("arcsin", check=_interval_check("arcsin", -1.0, 1.0, True))
def _arcsin(x):
    """inverse sine on [-1, 1]; the derivative at ±1 is inf"""
    if _at_pm_one(x):
        return m.arcsin(x), (m.div(1.0, m.sqrt(1.0 - x * x)),)
    return m.arcsin(x), (m.div(1.0, m.sqrt(1.0 - x) * m.sqrt(1.0 + x)),)


export_as(_arcsin, lambda F, x: F.arcsin(x))


@primitive("arccos", check=_interval_check("arccos", -1.0, 1.0, True))
def _arccos(x):
    """inverse cosine on [-1, 1]; the derivative at ±1 is -inf"""
    if _at_pm_one(x):
        return m.arccos(x), (m.div(-1.0, m.sqrt(1.0 - x * x)),)
    return m.arccos(x), (m.div(-1.0, m.sqrt(1.0 - x) * m.sqrt(1.0 + x)),)


export_as(_arccos, lambda F, x: F.arccos(x))


@primitive("arctan")
def _arctan(x):
    """inverse tangent"""
    return m.arctan(x), (m.div(1.0, 1.0 + x * x),)


export_as(_arctan, lambda F, x: F.arctan(x))


@primitive("arcsinh")
def _arcsinh(x):
    """inverse hyperbolic sine; derivative 1 / hypot(x, 1), finite for every float"""
    return m.arcsinh(x), (m.div(1.0, m.hypot(x, 1.0)),)


export_as(_arcsinh, lambda F, x: F.arcsinh(x))


@primitive("arccosh", check=lambda x: (
    ValueError(f"arccosh({fmt(x)}): argument must be >= 1") if x < 1.0 else None))
def _arccosh(x):
    """inverse hyperbolic cosine on [1, inf); the derivative at 1 is inf"""
    if m.value_of(x) == 1.0:  # (as arcsin at ±1)
        return m.arccosh(x), (m.div(1.0, m.sqrt(x * x - 1.0)),)
    return m.arccosh(x), (m.div(1.0, m.sqrt(x - 1.0) * m.sqrt(x + 1.0)),)


export_as(_arccosh, lambda F, x: F.arccosh(x))


@primitive("arctanh", check=_interval_check("arctanh", -1.0, 1.0, False,
                                            " (arctanh(±1) is infinite)"))
def _arctanh(x):
    """inverse hyperbolic tangent on (-1, 1)"""
    return m.arctanh(x), (m.div(1.0, (1.0 - x) * (1.0 + x)),)


export_as(_arctanh, lambda F, x: F.arctanh(x))


@primitive("log2", check=_named_log_check("log2"))
def _log2(x):
    """logarithm in base 2 (exact at powers of 2)"""
    return m.log2(x), (m.div(1.0 / m.LN2, x),)


export_as(_log2, lambda F, x: F.log2(x))


@primitive("log10", check=_named_log_check("log10"))
def _log10(x):
    """logarithm in base 10 (exact at powers of 10)"""
    return m.log10(x), (m.div(1.0 / m.LN10, x),)


export_as(_log10, lambda F, x: F.log10(x))


@primitive("sign", convention="sign' = 0 everywhere, also at the jump x = 0")
def _sign(x):
    """-1, 0 or 1 (sign(0) = 0)"""
    return m.sign(x), (0.0,)


export_as(_sign, lambda F, x: F.sign(x))


@primitive("floor", convention="floor' = 0 everywhere, also at the integers where it jumps")
def _floor(x):
    """the largest integer <= x"""
    return m.floor(x), (0.0,)


export_as(_floor, lambda F, x: F.floor(x))


@primitive("ceil", convention="ceil' = 0 everywhere, also at the integers where it jumps")
def _ceil(x):
    """the smallest integer >= x"""
    return m.ceil(x), (0.0,)


export_as(_ceil, lambda F, x: F.ceil(x))


# ------------------------------------------------------------- two operands

@primitive("hypot", arity=2, kinks=(0.0,),
           convention="at (0, 0) both partial derivatives are 0 (the cone's tip)")
def _hypot(x, y):
    """sqrt(x² + y²) without overflow or underflow"""
    h = m.hypot(x, y)
    if m.value_of(h) == 0.0:
        return h, (0.0, 0.0)
    return h, (m.div(x, h), m.div(y, h))


export_as(_hypot, lambda F, x, y: F.hypot(x, y))


@primitive("arctan2", arity=2,
           convention="at (0, 0) both partial derivatives are 0; the value follows IEEE "
                      "(arctan2(0, -0.0) = pi)")
def _arctan2(y, x):
    """the angle of the point (x, y) in [-pi, pi]; operands (y, x) as numpy's"""
    out = m.arctan2(y, x)
    r = m.hypot(x, y)
    if m.value_of(r) == 0.0:
        return out, (0.0, 0.0)
    return out, (m.div(m.div(x, r), r), m.neg(m.div(m.div(y, r), r)))


export_as(_arctan2, lambda F, y, x: F.arctan2(y, x))


@primitive("maximum", arity=2, convention="at a tie x = y each operand gets 1/2 (as PyTorch)")
def _maximum(x, y):
    """the larger of x and y (nan if either is nan)"""
    if x > y:
        return x, (1.0, 0.0)
    if x < y:
        return y, (0.0, 1.0)
    if m.value_of(x) == m.value_of(y):
        return x, (0.5, 0.5)
    return x + y, (m.nan, m.nan)  # a nan operand


export_as(_maximum, lambda F, x, y: F.maximum(x, y))


@primitive("minimum", arity=2, convention="at a tie x = y each operand gets 1/2 (as PyTorch)")
def _minimum(x, y):
    """the smaller of x and y (nan if either is nan)"""
    if x < y:
        return x, (1.0, 0.0)
    if x > y:
        return y, (0.0, 1.0)
    if m.value_of(x) == m.value_of(y):
        return x, (0.5, 0.5)
    return x + y, (m.nan, m.nan)


export_as(_minimum, lambda F, x, y: F.minimum(x, y))

def _logaddexp_sorted(hi, lo):
    """log(e^hi + e^lo) for hi >= lo, and its two partial derivatives."""
    if m.value_of(hi) == m.inf or m.value_of(lo) == -m.inf:  # (inf, ·) or (·, -inf)
        return hi, (1.0, 0.0)
    d = lo - hi
    return hi + m.softplus(d), (m.sigmoid(-d), m.sigmoid(d))


@primitive("logaddexp", arity=2)
def _logaddexp(x, y):
    """log(exp(x) + exp(y)), stable for any x, y"""
    if x >= y:
        return _logaddexp_sorted(x, y)
    if x < y:
        out, (dy, dx) = _logaddexp_sorted(y, x)
        return out, (dx, dy)
    return x + y, (m.nan, m.nan)


export_as(_logaddexp, lambda F, x, y: F.logaddexp(x, y))

def _clamp(x, lo, hi, at_bound):
    """x clamped to [lo, hi] and its derivative; ``at_bound`` is the derivative
    at x = lo and x = hi (nan gives nan with derivative 0)."""
    if x < lo:
        return lo, 0.0
    if x > hi:
        return hi, 0.0
    if x > lo:
        if x < hi:
            return x, 1.0
        return x, at_bound
    if x >= lo:
        return x, at_bound
    return x, 0.0


@primitive("clip", param="bounds", check=_bounds_check("clip"),
           convention="clip'(x) = 1 at x = lo and x = hi (inside the closed interval, "
                      "as torch.clamp)")
def _clip(x, bounds):
    """x limited to [lo, hi], bounds = (lo, hi) constants"""
    v, d = _clamp(x, bounds[0], bounds[1], 1.0)
    return v, (d,)


export_as(_clip,
          lambda F, x, b: F.where(x < b[0], b[0] + 0.0 * x, F.where(x > b[1], b[1] + 0.0 * x, x)))


# ------------------------------------------------------------- activations

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@primitive("selu", kinks=(0.0,),
           convention="selu'(0) = scale * alpha (the x <= 0 branch, as elu and PyTorch)")
def _selu(x):
    """scale * elu(x, alpha) with the self-normalising constants
    alpha = 1.6732632423543772, scale = 1.0507009873554805"""
    v, (d,) = _elu.rule(x, _SELU_ALPHA)
    return _SELU_SCALE * v, (_SELU_SCALE * d,)


export_as(_selu,
          lambda F, x: _SELU_SCALE * F.where(x > 0.0, x, _SELU_ALPHA * _expm1_form(F, F.where(x > 0.0, 0.0 * x, x))))


@primitive("celu", param="alpha", kinks=(0.0,), check=_nonzero_param_check("celu", "alpha"),
           convention="celu'(0) = 1 (continuous; only the second derivative jumps)")
def _celu(x, alpha):
    """x if x > 0 else alpha * (exp(x / alpha) - 1)"""
    if x > 0.0:
        return x, (1.0,)
    u = x / alpha
    return alpha * m.expm1(u), (m.exp(u),)


export_as(_celu,
          lambda F, x, alpha: F.where(x > 0.0, x, alpha * _expm1_form(F, F.where(x > 0.0, 0.0 * x, x) / alpha)))


@primitive("hardtanh", param="bounds", check=_bounds_check("hardtanh"),
           convention="hardtanh'(x) = 0 at x = min_val and x = max_val (as PyTorch)")
def _hardtanh(x, bounds):
    """x limited to [min_val, max_val], bounds = (min_val, max_val)"""
    v, d = _clamp(x, bounds[0], bounds[1], 0.0)
    return v, (d,)


export_as(_hardtanh,
          lambda F, x, b: F.where(x <= b[0], b[0] + 0.0 * x, F.where(x >= b[1], b[1] + 0.0 * x, x)))


@primitive("relu6", kinks=(0.0, 6.0), convention="relu6'(0) = relu6'(6) = 0 (as PyTorch)")
def _relu6(x):
    """min(max(0, x), 6)"""
    v, d = _clamp(x, 0.0, 6.0, 0.0)
    return v, (d,)


export_as(_relu6, lambda F, x: F.where(x <= 0.0, 0.0 * x, F.where(x >= 6.0, 6.0 + 0.0 * x, x)))


@primitive("hardsigmoid", kinks=(-3.0, 3.0),
           convention="hardsigmoid'(±3) = 0 (as PyTorch)")
def _hardsigmoid(x):
    """relu6(x + 3) / 6"""
    v, d = _clamp(x + 3.0, 0.0, 6.0, 0.0)
    return v / 6.0, (d / 6.0,)


export_as(_hardsigmoid,
          lambda F, x: F.where(x <= -3.0, 0.0 * x, F.where(x >= 3.0, 1.0 + 0.0 * x, (x + 3.0) / 6.0)))


@primitive("hardswish", kinks=(-3.0, 3.0),
           convention="hardswish'(-3) = 0 and hardswish'(3) = 1 (the outer pieces, as PyTorch)")
def _hardswish(x):
    """x * relu6(x + 3) / 6"""
    if x <= -3.0:
        return 0.0, (0.0,)
    if x >= 3.0:
        return x, (1.0,)
    if x > -3.0:
        return x * (x + 3.0) / 6.0, (x / 3.0 + 0.5,)
    return x, (0.0,)  # nan


export_as(_hardswish,
          lambda F, x: F.where(x <= -3.0, 0.0 * x, F.where(x >= 3.0, x, x * (x + 3.0) / 6.0)))


@primitive("mish")
def _mish(x):
    """x * tanh(softplus(x))"""
    t = m.tanh(m.softplus(x))
    return x * t, (t + x * (1.0 - t * t) * m.sigmoid(x),)


export_as(_mish, lambda F, x: x * F.tanh(F.softplus(x)))


@primitive("softsign", kinks=(0.0,),
           convention="smooth at 0 to first order (softsign'(0) = 1); the second derivative jumps")
def _softsign(x):
    """x / (1 + |x|)"""
    a = (1.0 + x) if x >= 0.0 else (1.0 - x)
    return m.div(x, a), (m.div(1.0, a * a),)


def _softsign_form(F, x):
    # past |x| = 1 as sign(x)·(1 - 1/(1 + |x|)), whose autodiff is 1/(1 + |x|)² exactly
    # (that of x/(1 + |x|) cancels: 7e-7 off at 1e10, 0 from 1e16); inside, x/(1 + |x|)
    ax = F.abs(x)
    near = F.where(ax < 1.0, x, 0.0 * x)
    far = F.where(ax < 1.0, 0.0 * x + 1.0, ax)
    return F.where(ax < 1.0, near / (1.0 + F.abs(near)), F.sign(x) * (1.0 - 1.0 / (1.0 + far)))


export_as(_softsign, _softsign_form)


@primitive("logsigmoid")
def _logsigmoid(x):
    """log σ(x) = -softplus(-x), stable for any x"""
    return -m.softplus(-x), (m.sigmoid(-x),)


export_as(_logsigmoid, lambda F, x: -F.softplus(-x))


@primitive("softplus_beta", param="beta", check=_nonzero_param_check("softplus", "beta"))
def _softplus_beta(x, beta):
    """softplus(beta * x) / beta (exact: no linear cut-off past beta * x > 20)"""
    z = x * beta
    if z > 1e300:  # softplus(z) = z exactly; z/beta is x, also where beta * x overflows
        return x, (1.0,)
    return m.softplus(z) / beta, (m.sigmoid(z),)


export_as(_softplus_beta, lambda F, x, beta: F.softplus(x * beta) / beta)
