"""Finite-difference derivatives: forward, central and Richardson-extrapolated.

``numerical_grad(f, inputs)`` estimates ∂f/∂x_i for every input by evaluating
``f`` on numbers only; it never looks at the computation graph, so it is an
independent witness for the derivatives the engine computes.

Methods (``h`` is the step, ``ε`` the float machine epsilon, 2.2e-16):

* ``"forward"``: (f(x+h) - f(x)) / h, truncation error O(h), default
  h = √ε · max(1, |x|).
* ``"central"``: (f(x+h) - f(x-h)) / 2h, truncation error O(h²), default
  h = ∛ε · max(1, |x|).
* ``"richardson"`` (default): central differences at h, h/2, h/4, ...
  combined by Richardson extrapolation in a Neville tableau (each column
  cancels the next even power of h: O(h⁴), O(h⁶), ...). The entry with the
  smallest estimated error is returned and the sequence stops once rounding
  error starts to dominate (Ridders' scheme). Starting step
  h = 2⁻³ · max(1, |x|); where ``f`` fails or is not finite at a probe point
  (a domain edge such as log near 0) the step is halved until it works.

The same machinery gives one-sided extrapolated derivatives, which
:mod:`autograd_core.derivatives.gradcheck` compares to detect kinks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

__all__ = ["numerical_grad", "default_step", "METHODS"]

METHODS = ("forward", "central", "richardson")

_EPS = float(np.finfo(float).eps)
_BASE_STEP = {
    "forward": math.sqrt(_EPS),          # balances O(h) truncation and ε/h rounding
    "central": _EPS ** (1.0 / 3.0),      # balances O(h²) truncation and ε/h rounding
    "richardson": 2.0 ** -3,             # the largest step of the tableau
    "one-sided": 2.0 ** -3,
}
_MAX_ROWS = 12        # tableau rows (steps h0 .. h0/2^11)
_MAX_SHRINK = 40      # halvings allowed to get inside the domain of f
_SAFE = 2.0           # stop once the diagonal error grows past SAFE * best error ...
_STOP_BELOW = 1e-9    # ... provided the best error is below this (relative)
_PROBE_ERRORS = (ArithmeticError, ValueError)


class _ProbeFailed(Exception):
    """``f`` raised or returned a non-finite number at a probe point."""


def default_step(x: float, method: str = "richardson") -> float:
    """The default finite-difference step for an input equal to ``x``.

    It scales with the input's magnitude (``base · max(1, |x|)``) so that
    ``x + h`` differs from ``x`` in a fixed number of digits."""
    _check_method(method)
    return _BASE_STEP[method] * max(1.0, abs(float(x)))


def _check_method(method: Any) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, not {method!r}")


def _as_number(y: Any, where: str) -> float:
    """A function result (a number or a Value) as a float."""
    data = getattr(y, "data", y)
    if isinstance(data, bool) or not isinstance(data, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where} must return a number or a Value, not {type(y).__name__}")
    return float(data)


def _check_inputs(inputs: Any, what: str = "inputs") -> list[float]:
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        try:
            inputs = list(inputs)
        except TypeError:
            raise TypeError(f"{what} must be a sequence of numbers, not "
                            f"{type(inputs).__name__}") from None
    xs = []
    for i, x in enumerate(inputs):
        data = getattr(x, "data", x)
        if isinstance(data, bool) or not isinstance(data, (int, float, np.integer, np.floating)):
            raise TypeError(f"{what}[{i}] must be a real number, not {type(x).__name__}")
        v = float(data)
        if not math.isfinite(v):
            raise ValueError(f"{what}[{i}] is {v}: finite differences need a finite point")
        xs.append(v)
    return xs


def _steps(eps: Any, xs: list[float], method: str) -> list[float | None]:
    """Per-input step: ``None`` means the scaled default."""
    if eps is None:
        return [None] * len(xs)
    if isinstance(eps, (int, float, np.integer, np.floating)) and not isinstance(eps, bool):
        steps = [float(eps)] * len(xs)
    elif isinstance(eps, Sequence) and not isinstance(eps, (str, bytes)):
        if len(eps) != len(xs):
            raise ValueError(f"eps has {len(eps)} steps for {len(xs)} inputs")
        steps = [float(e) if isinstance(e, (int, float, np.integer, np.floating))
                 and not isinstance(e, bool) else math.nan for e in eps]
    else:
        raise TypeError(f"eps must be None, a positive number or a sequence of them, "
                        f"not {type(eps).__name__}")
    for i, h in enumerate(steps):
        if not (h > 0.0 and math.isfinite(h)):
            raise ValueError(f"eps for input {i} must be a positive finite number, got {eps!r}")
    return steps


# ------------------------------------------------------------------ core

def _probe(F: Callable[[list[float]], np.ndarray], xs: list[float], i: int,
           t: float) -> np.ndarray:
    """F at ``xs`` with input ``i`` moved to ``t``; _ProbeFailed on a domain error."""
    args = list(xs)
    args[i] = float(t)
    try:
        y = F(args)
    except _PROBE_ERRORS as e:
        raise _ProbeFailed(f"{type(e).__name__}: {e}") from e
    if not np.all(np.isfinite(y)):
        raise _ProbeFailed(f"not finite at input {i} = {t!r}")
    return y


def _exact_step(x: float, h: float) -> float:
    """Round the step so that x + h and x - h are exactly x ± h in floats."""
    return (x + h) - x


def _simple(F, xs, i, f0, method, h) -> np.ndarray:
    """One forward or central difference for input ``i``."""
    x = xs[i]
    h = _exact_step(x, h)
    if method == "forward":
        return (_probe(F, xs, i, x + h) - f0) / h
    return (_probe(F, xs, i, x + h) - _probe(F, xs, i, x - h)) / (2.0 * h)


def _extrapolate(diff: Callable[[float], np.ndarray], h0: float, power: int,
                 m: int) -> tuple[np.ndarray, np.ndarray]:
    """Richardson extrapolation (Ridders' scheme) of ``diff(h)`` for h -> 0.

    ``diff(h) = D + c1 h^power + c2 h^(2 power) + ...`` (power 2 for central,
    1 for one-sided differences), vector valued with ``m`` components. Returns
    the best estimate of each component and its estimated error."""
    best = np.full(m, np.nan)
    err = np.full(m, np.inf)
    active = np.ones(m, dtype=bool)
    prev: list[np.ndarray] | None = None
    h = h0
    shrinks = 0
    rows = 0
    ratio = 2.0 ** power
    while rows < _MAX_ROWS and active.any():
        try:
            d0 = np.asarray(diff(h), dtype=float)
        except _ProbeFailed:
            if prev is not None or shrinks >= _MAX_SHRINK:
                break  # keep what the finer steps gave so far
            h *= 0.5
            shrinks += 1
            continue
        row = [d0]
        if prev is None:
            upd = active & (err == np.inf)
            best[upd] = d0[upd]
        fac = ratio
        for j in range(1, len(prev) + 1 if prev is not None else 1):
            t = (fac * row[j - 1] - prev[j - 1]) / (fac - 1.0)
            row.append(t)
            e = np.maximum(np.abs(t - row[j - 1]), np.abs(t - prev[j - 1]))
            upd = active & (e <= err)
            best[upd] = t[upd]
            err[upd] = e[upd]
            fac *= ratio
        if prev is not None:
            # higher orders getting worse while the error is already tiny:
            # rounding error has taken over (early on, for one-sided
            # differences, the tableau is not yet converged: keep going)
            worse = (np.abs(row[-1] - prev[-1]) >= _SAFE * err) & (err < _STOP_BELOW * np.abs(best))
            active &= ~worse
        prev = row
        h *= 0.5
        rows += 1
    return best, err


def _jacobian(F: Callable[[list[float]], np.ndarray], xs: list[float], method: str,
              steps: list[float | None], m: int) -> tuple[np.ndarray, np.ndarray]:
    """Numerical Jacobian of vector function ``F`` (``m`` outputs) at ``xs``.

    Returns ``(J, E)``, both ``m × n``: the estimates and (for Richardson) the
    estimated errors (NaN for the simple methods)."""
    n = len(xs)
    J = np.zeros((m, n))
    E = np.full((m, n), np.nan)
    f0 = None
    if method == "forward":
        f0 = F(list(xs))
    for i in range(n):
        x = xs[i]
        h0 = steps[i] if steps[i] is not None else default_step(x, method)
        if method == "richardson":
            def diff(h: float, i: int = i, x: float = x) -> np.ndarray:
                return _simple(F, xs, i, None, "central", h)
            J[:, i], E[:, i] = _extrapolate(diff, h0, 2, m)
        else:
            try:
                J[:, i] = _simple(F, xs, i, f0, method, h0)
            except _ProbeFailed as e:
                raise ValueError(f"numerical_grad: f failed at a probe point of input {i} "
                                 f"(x = {x!r}, step {h0:.3g}): {e}; pass a smaller eps "
                                 "or use method='richardson', which shrinks the step") from None
    return J, E


def _one_sided(F: Callable[[list[float]], np.ndarray], xs: list[float], i: int, side: int,
               m: int, f0: np.ndarray, h0: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Extrapolated one-sided derivative (side +1: right, -1: left) for input ``i``."""
    x = xs[i]
    if h0 is None:
        h0 = default_step(x, "richardson")

    def diff(h: float) -> np.ndarray:
        h = _exact_step(x, h)
        return side * (_probe(F, xs, i, x + side * h) - f0) / h

    return _extrapolate(diff, h0, 1, m)


def _vector_fn(f: Callable[..., Any], where: str) -> Callable[[list[float]], np.ndarray]:
    def F(args: list[float]) -> np.ndarray:
        return np.array([_as_number(f(*args), where)])
    return F


def numerical_grad(f: Callable[..., Any], inputs: Sequence[float], *,
                   method: str = "richardson", eps: float | Sequence[float] | None = None
                   ) -> list[float]:
    """Finite-difference gradient of ``f`` at ``inputs``: one float per input.

    ``f`` takes numbers (one per input) and returns a number or a Value.
    ``method``: ``"forward"``, ``"central"`` or ``"richardson"`` (default,
    Richardson extrapolation of central differences). ``eps``: the step (the
    largest one for Richardson), a number or one per input; by default it
    scales with each input's magnitude (:func:`default_step`). If ``f`` is
    not finite at ``inputs`` every estimate is NaN.

    Examples:
        >>> [round(d, 12) for d in numerical_grad(lambda x, y: x * x * y, [3.0, 5.0])]
        [30.0, 9.0]
    """
    if not callable(f):
        raise TypeError(f"f must be callable, not {type(f).__name__}")
    _check_method(method)
    xs = _check_inputs(inputs)
    steps = _steps(eps, xs, method)
    F = _vector_fn(f, "f")
    y0 = F(list(xs))  # errors at the point itself are the caller's: let them propagate
    if not np.all(np.isfinite(y0)):
        return [math.nan] * len(xs)
    J, _ = _jacobian(F, xs, method, steps, 1)
    return [float(v) for v in J[0]]
