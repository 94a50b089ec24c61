"""Finite-difference checks of Tensor derivatives, element by element.

``tensor_gradcheck(f, inputs)`` differentiates the scalar ``L = Σ f(*inputs) · r``
(``r`` a fixed random array of the output's shape, so every output element
counts; ``r = 1`` for a one-element output) with respect to every element of
every input, in reverse mode (``backward``) and in forward mode (the
engine's ``push_tangents``, one tangent per element), and compares both with
a central difference ``(L(x + h e_i) - L(x - h e_i)) / 2h`` computed in
float64. For large inputs, ``samples=k`` checks ``k`` randomly chosen
elements per input instead of all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core.engine import no_grad, topological_order
from .._report import CheckReport, check_tolerances
from . import Tensor, gradients, jvp

__all__ = ["tensor_gradcheck", "TensorCheckReport", "TensorCheckRow"]


@dataclass(frozen=True)
class TensorCheckRow:
    """One checked element: ``input`` (position), ``index`` (element),
    reverse- and forward-mode derivatives, the finite difference, ok."""

    input: int
    index: tuple[int, ...]
    rev: float
    fwd: float
    numeric: float
    ok: bool


@dataclass
class TensorCheckReport(CheckReport):
    rows: list[TensorCheckRow] = field(default_factory=list)
    atol: float = 0.0
    rtol: float = 0.0
    #: positions of the inputs with no path to the output (their rows check nothing)
    unused: list[int] = field(default_factory=list)
    allow_unused: bool = True

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows) and (self.allow_unused or not self.unused)

    @property
    def vacuous(self) -> bool:
        """Every checked element of the used inputs has reverse, forward and
        numeric derivatives exactly 0: the check compared nothing."""
        rows = [r for r in self.rows if r.input not in self.unused]
        return bool(rows) and all(r.rev == 0.0 and r.fwd == 0.0 and r.numeric == 0.0 for r in rows)

    def summary(self) -> str:
        bad = self.failures
        worst = max((max(abs(r.rev - r.numeric), abs(r.fwd - r.numeric)) for r in self.rows),
                    default=0.0)
        head = f"{len(self.rows)} elements checked, {len(bad)} failed, max |error| {worst:.3g}"
        if self.ok and self.vacuous:
            head += " (vacuous: every derivative is exactly 0 here)"
        if self.unused:
            head += (f"; f does not use input(s) {', '.join(map(str, self.unused))} (no path to "
                     "the output)" + ("" if self.allow_unused else ": a FAILURE"))
        if bad:
            r = bad[0]
            head += (f"; first: input {r.input} element {r.index}: rev {r.rev:.10g}, "
                     f"fwd {r.fwd:.10g}, numeric {r.numeric:.10g}")
        return head

    def __str__(self) -> str:
        return self.summary()


def tensor_gradcheck(f: Callable[..., Tensor], inputs: Sequence[Any], *, eps: float = 1e-6,
                     atol: float = 1e-6, rtol: float = 1e-5, samples: int | None = None,
                     seed: int = 0, allow_unused: bool = True) -> TensorCheckReport:
    """Check ∂f/∂x of every element of every input (or ``samples`` random
    elements per input) against central differences; see the module doc."""
    if not callable(f):
        raise TypeError(f"f must be callable, not {type(f).__name__}")
    if samples is not None and (not isinstance(samples, int) or samples < 1):
        raise ValueError(f"samples must be a positive int or None, not {samples!r}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0.0 < eps < float("inf"):
        raise ValueError(f"eps must be a positive finite number, not {eps!r}")
    check_tolerances(atol, rtol)
    base = [np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]
    empty = [i for i, a in enumerate(base) if a.size == 0]
    if empty or not base:  # a report of 0 checked elements would PASS having checked nothing
        raise ValueError(f"gradcheck: array input(s) {empty} are empty: nothing to check"
                         if base else "gradcheck needs at least one input")
    rng = np.random.default_rng(seed)

    def run(arrays: list[np.ndarray]) -> tuple[list[Tensor], Tensor]:
        ts = [Tensor(a) for a in arrays]
        out = f(*ts)
        if not isinstance(out, Tensor):
            raise TypeError(f"f must return a Tensor, not {type(out).__name__}")
        return ts, out

    ts, out = run(base)
    r = np.ones(out.shape) if out.size == 1 else rng.standard_normal(out.shape)
    loss = (out * r).sum()
    rev = gradients(loss, ts)

    def value(arrays: list[np.ndarray]) -> float:
        with no_grad():
            o = run(arrays)[1]
        return float(np.sum(o.data * r))

    reached = set(map(id, topological_order(loss)))
    report = TensorCheckReport(atol=atol, rtol=rtol, allow_unused=bool(allow_unused),
                               unused=[i for i, t in enumerate(ts) if id(t) not in reached])
    for i, a in enumerate(base):
        n = a.size
        flat = range(n) if samples is None or samples >= n else \
            sorted(rng.choice(n, size=samples, replace=False).tolist())
        for k in flat:
            idx = np.unravel_index(k, a.shape) if a.shape else ()
            plus = [b.copy() for b in base]
            minus = [b.copy() for b in base]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            numeric = (value(plus) - value(minus)) / (2 * eps)
            tangent = np.zeros_like(a)
            tangent[idx] = 1.0
            fwd = float(jvp(loss, {ts[i]: tangent}))
            rv = float(np.asarray(rev[i])[idx])
            tol = atol + rtol * abs(numeric)
            ok = abs(rv - numeric) <= tol and abs(fwd - numeric) <= tol
            report.rows.append(TensorCheckRow(i, tuple(int(j) for j in idx), rv, fwd, numeric, ok))
    return report
