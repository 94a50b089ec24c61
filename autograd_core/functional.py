"""Function transformations: forward-mode ``jvp``, composable ``grad``,
``value_and_grad`` and ``hessian``.

All of them trace ``f`` on fresh leaf Values and then reuse the engine's two
drivers: :func:`~autograd_core.push_tangents` (forward mode) and
:func:`~autograd_core.gradients` (reverse mode, ``create_graph=True`` for
derivatives of derivatives). None of them touches any ``.grad``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Callable

from .engine import Value, enable_grad, gradients, push_tangents

__all__ = ["jvp", "grad", "value_and_grad", "hessian"]


def _number(x: Any, where: str) -> float:
    data = x.data if isinstance(x, Value) else x
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(f"{where} must be a real number, not {type(x).__name__}")
    return float(data)


def _numbers(xs: Any, what: str) -> list[float]:
    if isinstance(xs, (str, bytes)) or not isinstance(xs, Sequence):
        try:
            xs = list(xs)
        except TypeError:
            raise TypeError(f"{what} must be a sequence of numbers, not {type(xs).__name__}") from None
    return [_number(x, f"{what}[{i}]") for i, x in enumerate(xs)]


def _trace(f: Callable[..., Any], args: Sequence[Value], who: str) -> Any:
    """``f(*args)`` with recording on; the result must be a Value or a number."""
    with enable_grad():
        out = f(*args)
    if isinstance(out, Value):
        return out
    if isinstance(out, bool) or not isinstance(out, numbers.Real):
        raise TypeError(f"{who}: f must return a Value (or a number), not {type(out).__name__}")
    return float(out)


def _check_callable(f: Any) -> None:
    if not callable(f):
        raise TypeError(f"f must be callable, not {type(f).__name__}")


# ------------------------------------------------------------------ forward mode

def jvp(f: Callable[..., Any], primals: Sequence[float], tangents: Sequence[float]
        ) -> tuple[float, float]:
    """Value and directional derivative of ``f`` at ``primals`` along ``tangents``.

    ``f`` takes one Value per primal and returns a Value. The tangents are
    pushed forward through the recorded graph in topological order, each
    node's tangent being Σ ∂node/∂parent · tangent(parent), read from the
    same local derivatives backward uses (forward mode, not reverse mode).

    >>> jvp(lambda x, y: x * y, [3.0, 5.0], [1.0, 0.0])
    (15.0, 5.0)
    """
    _check_callable(f)
    xs = _numbers(primals, "primals")
    ts = _numbers(tangents, "tangents")
    if len(xs) != len(ts):
        raise ValueError(f"jvp needs one tangent per primal: got {len(xs)} primals "
                         f"and {len(ts)} tangents")
    leaves = [Value(x) for x in xs]
    out = _trace(f, leaves, "jvp")
    if not isinstance(out, Value):
        return out, 0.0
    seeds: dict[Value, float] = {}
    for leaf, t in zip(leaves, ts):
        if t != 0.0 or math.isnan(t):
            seeds[leaf] = t
    tan = push_tangents(out, seeds)
    return out.data, float(tan.get(out, 0.0))


# ------------------------------------------------------------------ reverse mode

def _argnums(argnums: Any) -> int | tuple[int, ...] | None:
    if argnums is None:
        return None
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        return argnums
    if isinstance(argnums, Sequence) and not isinstance(argnums, (str, bytes)) and all(
            isinstance(a, int) and not isinstance(a, bool) for a in argnums):
        if not argnums:
            raise ValueError("argnums must not be empty")
        return tuple(argnums)
    raise TypeError(f"argnums must be None, an int or a sequence of ints, not {argnums!r}")


def _value_and_grad(f: Callable[..., Any], argnums: Any, who: str
                    ) -> Callable[..., tuple[Any, Any]]:
    _check_callable(f)
    an = _argnums(argnums)

    def run(*args: Any) -> tuple[Any, Any]:
        if not args:
            raise TypeError(f"{who}: call the function with at least one argument")
        n = len(args)
        if an is None:
            idx: tuple[int, ...] = tuple(range(n))
        else:
            idx = (an,) if isinstance(an, int) else an
        for a in idx:
            if not -n <= a < n:
                raise ValueError(f"{who}: argnums {a} is out of range for {n} argument(s)")
        idx = tuple(a % n for a in idx)
        traced = any(isinstance(a, Value) for a in args)
        vals = [a if isinstance(a, Value) else Value(_number(a, f"argument {k}"))
                for k, a in enumerate(args)]
        out = _trace(f, vals, who)
        wrt = [vals[k] for k in idx]
        if isinstance(out, Value):
            gs = gradients(out, wrt, create_graph=traced)
            if not traced:
                gs = [float(g) for g in gs]
            value = out if traced else out.data
        else:
            gs = [0.0] * len(wrt)
            value = out
        single = isinstance(an, int) or (an is None and n == 1)
        return value, (gs[0] if single else tuple(gs))

    return run


def value_and_grad(f: Callable[..., Any], argnums: int | Sequence[int] | None = None
                   ) -> Callable[..., tuple[Any, Any]]:
    """Like :func:`grad`, but the function returns ``(f(*args), gradient)``."""
    return _value_and_grad(f, argnums, "value_and_grad")


def grad(f: Callable[..., Any], argnums: int | Sequence[int] | None = None
         ) -> Callable[..., Any]:
    """The gradient of ``f`` as a function.

    ``argnums``: an int (that argument's derivative), a sequence of ints (a
    tuple of derivatives) or ``None`` (every argument: one number when
    called with one argument, else a tuple). Called with numbers it returns
    floats; called with Values (as happens inside another ``grad``) it
    returns Values that carry their own graph (``create_graph=True``), so
    it composes:

    >>> d3 = grad(grad(lambda x: x ** 3))
    >>> d3(2.0)
    12.0
    """
    vg = _value_and_grad(f, argnums, "grad")

    def g(*args: Any) -> Any:
        return vg(*args)[1]

    g.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    g.__doc__ = f"Gradient of {getattr(f, '__name__', 'f')}."
    return g


def hessian(f: Callable[..., Any], inputs: Sequence[float]) -> list[list[float]]:
    """Every second derivative ∂²f/∂x_i∂x_j at ``inputs``, as a list of rows.

    ``f`` takes one Value per input. Reverse over reverse: the gradient is
    built with ``create_graph=True`` and each of its entries is
    differentiated again.

    >>> hessian(lambda x, y: x * x * y, [3.0, 5.0])
    [[10.0, 6.0], [6.0, 0.0]]
    """
    _check_callable(f)
    xs = _numbers(inputs, "inputs")
    if not xs:
        raise ValueError("hessian needs at least one input")
    n = len(xs)
    leaves = [Value(x) for x in xs]
    out = _trace(f, leaves, "hessian")
    if not isinstance(out, Value):
        return [[0.0] * n for _ in range(n)]
    gs = gradients(out, leaves, create_graph=True)
    return [[float(h) for h in gradients(g, leaves)] if isinstance(g, Value) else [0.0] * n
            for g in gs]
