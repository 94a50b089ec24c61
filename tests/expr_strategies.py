"""Hypothesis strategies for random formulas, shared by the parser and explain tests.

A formula is drawn as a small tree and rendered two ways: as text for
``autograd_core.parse`` and as a Python function on floats using only
Python's ``math`` (and ``/``), so the two can be compared.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from hypothesis import strategies as st

VARS = ("x", "y", "z")

# functions whose engine implementation is exactly Python's math on floats
EXACT_FUNCS: dict[str, Callable[[float], float]] = {
    "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos,
    "tanh": math.tanh, "abs": abs, "relu": lambda v: v if v > 0.0 else 0.0,
}

NUMBERS = st.one_of(
    st.integers(0, 9).map(str),
    st.sampled_from(["0.5", ".25", "1.5", "2.", "1e-1", "2.5e0", "3E-2", "10"]),
    st.floats(0.01, 9.0, allow_nan=False).map(repr),
)


def _leaf() -> st.SearchStrategy[tuple[str, Callable[[dict[str, float]], float]]]:
    var = st.sampled_from(VARS).map(lambda n: (n, lambda env, n=n: env[n]))
    number = NUMBERS.map(lambda t: (t, lambda env, v=float(t): v))
    return st.one_of(var, number)


def _pow(a: float, b: float) -> float:
    return math.pow(a, b)


_BIN: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "**": _pow, "^": _pow,
}


def _extend(children: st.SearchStrategy) -> st.SearchStrategy:
    def binary(t: tuple) -> tuple:
        op, (ta, fa), (tb, fb), spaced = t
        sep = " " if spaced else ""
        return (f"({ta}){sep}{op}{sep}({tb})", lambda env: _BIN[op](fa(env), fb(env)))

    def call(t: tuple) -> tuple:
        name, (ta, fa) = t
        return (f"{name}({ta})", lambda env: EXACT_FUNCS[name](fa(env)))

    def neg(t: tuple) -> tuple:
        ta, fa = t
        return (f"-({ta})", lambda env: -fa(env))

    return st.one_of(
        st.tuples(st.sampled_from(list(_BIN)), children, children, st.booleans()).map(binary),
        st.tuples(st.sampled_from(list(EXACT_FUNCS)), children).map(call),
        children.map(neg),
    )


EXPRESSIONS = st.recursive(_leaf(), _extend, max_leaves=12)
ENVS = st.fixed_dictionaries({v: st.floats(-3.0, 3.0, allow_nan=False) for v in VARS})


def reference(f: Callable[[dict[str, float]], float], env: dict[str, Any]) -> tuple[str, float]:
    """('ok', value), ('error', nan) for a domain/zero-division error, or
    ('overflow', nan) where Python's math overflows (the engine gives inf)."""
    try:
        return "ok", f(env)
    except OverflowError:
        return "overflow", math.nan
    except (ValueError, ZeroDivisionError):
        return "error", math.nan
