"""Plain math for the primitive rules, kept apart from the autodiff machinery.

Every function here is *total* on Python floats: it follows IEEE 754 and never
raises (``exp(1000)`` is ``inf``, ``log(-1)`` is ``nan``, ``1/0`` is ``inf``).
Domain errors are the primitives' business (see :mod:`autograd_core.core.primitives`),
not this module's.

On anything that is not a float (a :class:`~autograd_core.Value`, a symbolic
expression used by the step-through tools, ...) each function calls the
method of the same name, so one rule written with these functions can be
evaluated on floats (the fast path), on Values (to build a derivative's own
graph) and on symbols (to print it).
"""

from __future__ import annotations

import math
from typing import Any

inf = math.inf
nan = math.nan
SQRT2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def value_of(x: Any) -> float:
    """The number behind ``x`` (a float, or anything with ``.data``)."""
    return x if type(x) is float else x.data


def neg(x: Any) -> Any:
    return -x


#: ``a / b`` as a graph node without the domain check (set by primitives.py,
#: which this module does not import): the ``div`` primitive's own rule
div_node: Any = None


def div(a: Any, b: Any) -> Any:
    """``a / b`` with IEEE results for a zero divisor on floats -- and on a
    graph node holding 0 (a Value, whose own ``/`` raises): a node with the
    IEEE value and the div rule's IEEE local derivatives (:data:`div_node`),
    so a rule's infinite derivative (sqrt at 0) is inf under
    ``create_graph`` as it is in plain backward, not a ZeroDivisionError,
    and its own derivative is the one-sided limit (-inf for sqrt at 0), not
    the 0 of a constant."""
    if type(b) is float and b == 0.0 and type(a) is float:
        if a != a or a == 0.0:
            return nan
        return math.copysign(inf, a) * math.copysign(1.0, b)
    if type(b) is not float and hasattr(b, "_parents") and type(b.data) is float and b.data == 0.0:
        av = a.data if hasattr(a, "_parents") else a
        if type(av) is float or isinstance(av, int):
            if div_node is not None:
                return div_node(a, b)
            return div(float(av), b.data)
    return a / b


def pow(a: Any, b: Any) -> Any:  # noqa: A001 - the math name is the clearest one
    """``a ** b``; on floats: inf on overflow or a zero base with b < 0, nan for
    a negative base with a non-integer exponent (never complex, never raises)."""
    if type(a) is float and type(b) is float:
        try:
            return math.pow(a, b)
        except OverflowError:
            if a < 0.0 and b == math.floor(b) and math.fmod(b, 2.0) != 0.0:
                return -inf
            return inf
        except ValueError:
            if a == 0.0:  # 0 ** negative
                odd = b == math.floor(b) and math.fmod(b, 2.0) != 0.0
                return math.copysign(inf, a) if odd else inf
            return nan
    return a ** b


def exp(x: Any) -> Any:
    if type(x) is float:
        try:
            return math.exp(x)
        except OverflowError:
            return inf
    return x.exp()


def expm1(x: Any) -> Any:
    if type(x) is float:
        try:
            return math.expm1(x)
        except OverflowError:
            return inf
    return x.expm1()


def log(x: Any) -> Any:
    if type(x) is float:
        if x > 0.0:
            return math.log(x)
        return -inf if x == 0.0 else nan
    return x.log()


def log1p(x: Any) -> Any:
    if type(x) is float:
        if x > -1.0:
            return math.log1p(x)
        return -inf if x == -1.0 else nan
    return x.log1p()


def sqrt(x: Any) -> Any:
    if type(x) is float:
        return math.sqrt(x) if x >= 0.0 else nan
    return x.sqrt()


def sin(x: Any) -> Any:
    if type(x) is float:
        return math.sin(x) if math.isfinite(x) else nan
    return x.sin()


def cos(x: Any) -> Any:
    if type(x) is float:
        return math.cos(x) if math.isfinite(x) else nan
    return x.cos()


def tanh(x: Any) -> Any:
    return math.tanh(x) if type(x) is float else x.tanh()


def erf(x: Any) -> Any:
    return math.erf(x) if type(x) is float else x.erf()


def erfc(x: Any) -> Any:
    return math.erfc(x) if type(x) is float else x.erfc()


def sigmoid(x: Any) -> Any:
    """Logistic function, stable for any float (no overflow)."""
    if type(x) is float:
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        e = exp(x)
        return e / (1.0 + e)
    return x.sigmoid()


def softplus(x: Any) -> Any:
    """log(1 + exp(x)) computed as max(x, 0) + log1p(exp(-|x|))."""
    if type(x) is float:
        if x != x:
            return nan
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
    return x.softplus()


# ------------------------------------------------- the wider function set
# (each is total on floats: IEEE results, inf on overflow, nan outside the domain)

LN2 = math.log(2.0)
LN10 = math.log(10.0)


def _total(f: Any, x: float, overflow: float = inf) -> float:
    try:
        return f(x)
    except OverflowError:
        return math.copysign(overflow, x) if overflow != inf else inf
    except ValueError:
        return nan


def tan(x: Any) -> Any:
    if type(x) is float:
        return math.tan(x) if math.isfinite(x) else nan
    return x.tan()


def sinh(x: Any) -> Any:
    if type(x) is float:
        try:
            return math.sinh(x)
        except OverflowError:
            return math.copysign(inf, x)
    return x.sinh()


def cosh(x: Any) -> Any:
    if type(x) is float:
        try:
            return math.cosh(x)
        except OverflowError:
            return inf
    return x.cosh()


def arcsin(x: Any) -> Any:
    if type(x) is float:
        return math.asin(x) if -1.0 <= x <= 1.0 else nan
    return x.arcsin()


def arccos(x: Any) -> Any:
    if type(x) is float:
        return math.acos(x) if -1.0 <= x <= 1.0 else nan
    return x.arccos()


def arctan(x: Any) -> Any:
    return math.atan(x) if type(x) is float else x.arctan()


def arcsinh(x: Any) -> Any:
    return math.asinh(x) if type(x) is float else x.arcsinh()


def arccosh(x: Any) -> Any:
    if type(x) is float:
        return math.acosh(x) if x >= 1.0 else nan
    return x.arccosh()


def arctanh(x: Any) -> Any:
    if type(x) is float:
        if -1.0 < x < 1.0:
            return math.atanh(x)
        return math.copysign(inf, x) if abs(x) == 1.0 else nan
    return x.arctanh()


def log2(x: Any) -> Any:
    if type(x) is float:
        if x > 0.0:
            return math.log2(x)
        return -inf if x == 0.0 else nan
    return x.log2()


def log10(x: Any) -> Any:
    if type(x) is float:
        if x > 0.0:
            return math.log10(x)
        return -inf if x == 0.0 else nan
    return x.log10()


def sign(x: Any) -> Any:
    """-1, 0 or 1 (nan for nan; the sign of zero is dropped: sign(-0.0) is 0.0)."""
    if type(x) is float:
        if x > 0.0:
            return 1.0
        if x < 0.0:
            return -1.0
        return 0.0 if x == 0.0 else nan
    return x.sign()


def floor(x: Any) -> Any:
    if type(x) is float:
        return float(math.floor(x)) if math.isfinite(x) else x
    return x.floor()


def ceil(x: Any) -> Any:
    if type(x) is float:
        return float(math.ceil(x)) if math.isfinite(x) else x
    return x.ceil()


def hypot(a: Any, b: Any) -> Any:
    """sqrt(a² + b²) without overflow or underflow."""
    if type(a) is float and type(b) is float:
        return math.hypot(a, b)
    return a.hypot(b) if type(a) is not float else b.hypot(a)


def arctan2(y: Any, x: Any) -> Any:
    """The angle of the point (x, y), in [-π, π]."""
    if type(y) is float and type(x) is float:
        return math.atan2(y, x)
    return y.arctan2(x)
