"""Check the engine's derivatives against finite differences, input by input.

``gradcheck(f, inputs)`` computes ∂f/∂x_i for *every* input (not a random
projection) in reverse mode (``"rev"``, :func:`~autograd_core.gradients`)
and in forward mode (``"fwd"``, :func:`~autograd_core.push_tangents`), and
compares each one with a Richardson-extrapolated finite difference
(:mod:`autograd_core.derivatives.numerical`). With ``order=2`` it also checks every
entry of the Hessian: ∂²f/∂x_j∂x_i from reverse-over-reverse (``"rev"``) or
forward-over-reverse (``"fwd"``) against finite differences of the analytic
gradient.

A row passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.

Kinks: for each input the one-sided (left and right) derivatives are also
estimated. Where they disagree, or do not converge because the function or
its gradient jumps there, the point is not differentiable: the row is
marked as a kink, is not held to the tolerance and the report says so.
"""

from __future__ import annotations

import ast
import inspect
import math
import numbers
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core import primitives as _primitives
from .._report import CheckReport, check_tolerances
from ..core.engine import Value, apply, enable_grad, gradients, push_tangents, topological_order
from .numerical import (
    METHODS,
    default_step,
    _as_number,
    _check_inputs,
    _jacobian,
    _one_sided,
    _steps,
)

__all__ = ["gradcheck", "GradcheckReport", "GradcheckRow", "Culprit", "MODES", "validate_primitive"]

MODES = ("rev", "fwd")
_DIVERGED_RTOL = 1e-3   # a one-sided estimate this uncertain has no limit: a jump


@dataclass(frozen=True)
class GradcheckRow:
    """One checked derivative.

    ``input`` is the input's index (``i`` for ∂f/∂x_i at order 1, ``(i, j)``
    for ∂²f/∂x_i∂x_j at order 2) and ``name`` how the table shows it.
    ``one_sided`` holds the (left, right) numerical derivatives; ``compared``
    is False where they have no limit (f jumps or its slope diverges): the
    row was not compared with anything."""

    input: int | tuple[int, int]
    name: str
    mode: str
    order: int
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    ok: bool
    kink: bool
    one_sided: tuple[float, float] = (math.nan, math.nan)
    note: str = ""
    compared: bool = True


@dataclass(frozen=True)
class Culprit:
    """A node whose recorded local derivative disagrees with finite differences
    of its own primitive at its recorded operands.

    ``node`` is the node (of the graph gradcheck recorded; pass
    ``report.culprits`` to ``draw_graph(..., highlight=...)``), ``operand``
    the operand index (``(i, j)`` for a second derivative), ``expected`` the
    finite difference, ``got`` the rule's value, ``source`` the ``file:line``
    of the user's code that made the node (``None`` if unknown)."""

    node: Any
    primitive: str
    operands: tuple[float, ...]
    param: Any
    operand: int | tuple[int, int]
    order: int
    expected: float
    got: float
    source: str | None = None

    def __str__(self) -> str:
        ops = ", ".join(_fmt(x) for x in self.operands)
        if self.param is not None:
            ops += f"; param={self.param!r}"
        which = (f"d/d(operand {self.operand})" if self.order == 1
                 else f"d2/d(operands {self.operand[0]},{self.operand[1]})")  # type: ignore[index]
        at = f" at {self.source}" if self.source else ""
        return (f"{self.primitive}({ops}){at}: {which} is {_fmt(self.got)}, "
                f"finite differences give {_fmt(self.expected)}")


@dataclass
class GradcheckReport(CheckReport):
    """The result of :func:`gradcheck`: truthy when every row passes.

    ``rows`` lists every checked derivative; ``failures`` and ``kinks`` the
    rows that failed or sit on a kink. ``str(report)`` is an aligned table."""

    rows: list[GradcheckRow]
    inputs: list[float]
    names: list[str]
    method: str
    atol: float
    rtol: float
    order: int
    modes: tuple[str, ...]
    value: float = math.nan
    unused: list[str] = field(default_factory=list)
    zero: list[str] = field(default_factory=list)
    allow_unused: bool = True
    culprits: list[Culprit] = field(default_factory=list)
    culprit_note: str = ""
    sample: str = ""
    #: the output node of the graph the culprits belong to (draw it with
    #: ``draw_graph(report.graph, highlight=report.culprits)``); None if none
    graph: Any = None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows) and (self.allow_unused or not self.unused)

    @property
    def kinks(self) -> list[GradcheckRow]:
        return [r for r in self.rows if r.kink]

    @property
    def vacuous(self) -> bool:
        """Every row of the inputs ``f`` uses has analytic and numeric
        derivatives exactly 0: the check compared nothing (a rule returning 0
        would pass as well). Inputs without a path to the output are
        ``unused`` (their own verdict, ``allow_unused``)."""
        unused = set(self.unused)
        rows = [r for r in self.rows
                if not all(p in unused or p.split("[")[0] in unused for p in r.name.split(","))]
        return bool(rows) and all((r.analytic == 0.0 and r.numeric == 0.0) or not r.compared
                                  for r in rows)

    @property
    def weak(self) -> list[GradcheckRow]:
        """Rows that pass only through ``atol``: analytic and numeric differ by
        more than 0.1 % (and by more than ``100 · rtol``) but both are so small
        that ``|analytic - numeric| <= atol`` -- those rows check little (a
        derivative off by a factor of 2 passes). Scale ``f`` up or lower ``atol``."""
        lim = max(1e-3, 100.0 * self.rtol)
        return [r for r in self.rows if r.ok and not r.kink and r.numeric != 0.0
                and r.abs_error > lim * abs(r.numeric)]

    def summary(self) -> str:
        """The one-line verdict at the top of the table."""
        n = len(self.rows)
        bad = len(self.failures)
        verdict = "PASSED" if self.ok else "FAILED"
        if self.ok and self.vacuous:
            verdict = "PASSED (vacuous: every derivative is exactly 0 or not compared here)"
        skipped = sum(not r.compared for r in self.rows)
        match = (f"{n - bad - skipped} of {n} derivatives match, {skipped} not compared "
                 "(no one-sided limit)") if skipped else f"{n - bad} of {n} derivatives match"
        head = (f"gradcheck {verdict}: {match} "
                f"(method={self.method}, atol={self.atol:g}, rtol={self.rtol:g}, "
                f"order={self.order}, modes={','.join(self.modes)})")
        return head

    def _warnings(self) -> list[str]:
        lines = []
        if self.sample:
            lines.append(self.sample)
        if self.unused:
            verdict = "" if self.allow_unused else " (a FAILURE: pass allow_unused=True if intended)"
            lines.append(f"f does not use input(s) {', '.join(self.unused)}: no path from them to "
                         f"the output, so their rows check nothing{verdict}")
        if self.zero:
            lines.append(f"input(s) {', '.join(self.zero)}: analytic and numeric derivatives are "
                         "both exactly 0 here, so their rows check nothing at this point")
        weak = self.weak
        if weak:
            worst = max(weak, key=lambda r: r.rel_error)
            rows = ", ".join(dict.fromkeys(r.name for r in weak))
            lines.append(f"WARNING: row(s) {rows} pass only through atol={self.atol:g}: analytic and "
                         f"numeric differ by up to {100 * worst.rel_error:.3g}% but both are tiny, "
                         "so these rows check little (scale f up or lower atol)")
        if self.culprits:
            lines.append("culprit node(s), local derivatives that disagree with finite "
                         "differences of their primitive:")
            lines.extend(f"  {c}" for c in self.culprits)
        elif self.culprit_note:
            lines.append(self.culprit_note)
        return lines

    def __str__(self) -> str:
        point = ", ".join(f"{nm} = {x!r}" for nm, x in zip(self.names, self.inputs))
        lines = [self.summary(), f"at {point}; f = {_fmt(self.value)}"]
        lines.extend(self._warnings())
        kinks = self.kinks
        if kinks:
            lines.append(f"{len(kinks)} row(s) at a kink: the one-sided derivatives disagree "
                         "(or the gradient jumps), so those rows are marked 'kink' and only "
                         "held to lying between the one-sided derivatives (where both exist)")
        if self.failures:
            lines.append("a row passes when |analytic - numeric| <= atol + rtol * |numeric|")
        header = ("input", "mode", "order", "analytic", "numeric", "abs err", "rel err",
                  "ok", "kink", "note")
        body = [(r.name, r.mode, str(r.order), _fmt(r.analytic), _fmt(r.numeric),
                 _efmt(r.abs_error), _efmt(r.rel_error), "ok" if r.ok else "FAIL",
                 "kink" if r.kink else "", r.note) for r in self.rows]
        right = {2, 3, 4, 5, 6}
        widths = [max(len(h), *(len(b[c]) for b in body)) if body else len(h)
                  for c, h in enumerate(header)]

        def line(cells: Sequence[str]) -> str:
            out = [c.rjust(w) if k in right else c.ljust(w)
                   for k, (c, w) in enumerate(zip(cells, widths))]
            return "  ".join(out).rstrip()

        lines.append(line(header))
        lines.append(line(["-" * w for w in widths]))
        lines.extend(line(b) for b in body)
        return "\n".join(lines)

    def __repr__(self) -> str:
        extra = f", {len(self.unused)} unused" if self.unused else ""
        return (f"<GradcheckReport {'ok' if self.ok else 'FAILED'}: {len(self.rows)} rows, "
                f"{len(self.failures)} failed, {len(self.kinks)} at kinks{extra}>")


def _fmt(x: float) -> str:
    return f"{x:.12g}"


def _efmt(x: float) -> str:
    return f"{x:.2e}" if x != 0.0 else "0"


# ------------------------------------------------------------------ helpers

def _call(f: Callable[..., Any], args: Sequence[Value]) -> Any:
    """``f(*args)`` with graph recording on; the result must be a Value or a number."""
    with enable_grad():
        out = f(*args)
    if isinstance(out, Value):
        return out
    _as_number(out, "gradcheck: f")  # TypeError for anything that is not a number
    return float(getattr(out, "data", out))


def _leaves(xs: Sequence[float], names: Sequence[str]) -> list[Value]:
    return [Value(x, nm) for x, nm in zip(xs, names)]


def _rev_grad(f: Callable[..., Any], xs: Sequence[float], names: Sequence[str]) -> list[float]:
    leaves = _leaves(xs, names)
    out = _call(f, leaves)
    if not isinstance(out, Value):
        return [0.0] * len(xs)
    return [float(g) for g in gradients(out, leaves)]


def _compare(analytic: float, numeric: float, atol: float, rtol: float) -> tuple[float, float, bool]:
    if math.isnan(analytic) or math.isnan(numeric):
        return math.nan, math.nan, False
    if math.isinf(analytic) or math.isinf(numeric):
        same = analytic == numeric
        return (0.0, 0.0, True) if same else (math.inf, math.inf, False)
    err = abs(analytic - numeric)
    scale = max(abs(analytic), abs(numeric))
    rel = err / scale if scale > 0.0 else 0.0
    return err, rel, err <= atol + rtol * abs(numeric)


def _kinks(F: Callable[[list[float]], np.ndarray], xs: list[float], m: int,
           atol: float, rtol: float, steps: list[float | None], J: np.ndarray,
           E: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output (m) and input (n): (is_kink, left, right) from extrapolated
    one-sided derivatives.

    Also refines ``J`` in place: where the central estimate's error estimate
    ``E`` is worse than that of the mean of agreeing one-sided derivatives
    (a point where f is differentiable but not smooth, like elu(alpha=1) at
    0), the mean is the better estimate and replaces it."""
    n = len(xs)
    kink = np.zeros((m, n), dtype=np.int8)  # 1: the one-sided limits differ, 2: no limit
    left = np.full((m, n), np.nan)
    right = np.full((m, n), np.nan)
    f0 = F(list(xs))
    for i in range(n):
        L, eL = _one_sided(F, xs, i, -1, m, f0, steps[i])
        R, eR = _one_sided(F, xs, i, +1, m, f0, steps[i])
        left[:, i], right[:, i] = L, R
        for k in range(m):
            lk, rk, el, er = L[k], R[k], eL[k], eR[k]
            if math.isnan(lk) or math.isnan(rk):
                continue  # one side is outside the domain: cannot tell
            scale = max(abs(lk), abs(rk))
            tol = atol + rtol * scale
            disagree = abs(lk - rk) > max(tol, el + er)
            diverged = max(el, er) > _DIVERGED_RTOL * scale + 1e3 * atol
            kink[k, i] = 2 if diverged else 1 if disagree else 0
            if not kink[k, i]:
                mean_err = max(el, er) + 0.5 * abs(lk - rk)
                if mean_err < E[k, i]:
                    J[k, i] = 0.5 * (lk + rk)
                    E[k, i] = mean_err
    return kink, left, right


def _param_names(f: Callable[..., Any], n: int) -> list[str]:
    """The names of ``f``'s first ``n`` positional parameters, where readable."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return []
    names = []
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        names.append(p.name)
    return names[:n]


def _names(inputs: Sequence[Any], f: Callable[..., Any] | None = None) -> list[str]:
    """Row names: the input's label, else ``f``'s parameter name, else ``x<i>``."""
    pnames = _param_names(f, len(inputs)) if f is not None else []
    names = []
    for i, x in enumerate(inputs):
        lab = x.label if isinstance(x, Value) else ""
        names.append(lab or (pnames[i] if i < len(pnames) else f"x{i}"))
    return names


def _kink_note(left: float, right: float, analytic: float, tol: float) -> str:
    lo, hi = min(left, right), max(left, right)
    note = f"one-sided {_fmt(left)} | {_fmt(right)}"
    if not (lo - tol <= analytic <= hi + tol):
        note += "; analytic is outside them"
    return note


# ------------------------------------------------------------------ gradcheck

def gradcheck(f: Callable[..., Any], inputs: Sequence[Any], *, order: int = 1,
              modes: Sequence[str] = MODES, method: str | None = None,
              atol: float | None = None, rtol: float | None = None,
              eps: float | Sequence[float] | None = None,
              samples: int | None = None, allow_unused: bool = True,
              culprits: bool = True) -> GradcheckReport:
    """Check every first (and with ``order=2`` every second) derivative of ``f``.

    ``f`` takes one Value per input and returns a Value; ``inputs`` are
    numbers (or Values: their data and labels are used, they are not
    modified). ``modes``: ``"rev"`` (reverse mode) and/or ``"fwd"`` (forward
    mode). ``method``/``eps``: see :func:`~autograd_core.numerical_grad`.
    Returns a :class:`GradcheckReport`, truthy when every row passes.

    Vacuous rows are flagged: ``report.unused`` lists the inputs with no path
    to the output (the report fails on them unless ``allow_unused``, True
    here, False in :func:`~autograd_core.testing.assert_gradients_match`), and
    ``report.zero`` those whose analytic and numeric derivatives are both
    exactly 0. Rows are named by the input's label, else ``f``'s parameter
    name. When a row fails, each node of ``f``'s graph is checked against
    finite differences of its own primitive and ``report.culprits`` names the
    first disagreeing node(s), with the user's source line (``culprits=False``
    skips this).

    Array inputs (numpy arrays or Tensors; ``f`` then takes Tensors and
    returns a Tensor) are checked element by element in both modes by
    :func:`~autograd_core.tensor.check.tensor_gradcheck` (central differences;
    ``samples=k`` checks k random elements per input of a large array).

    Defaults: ``method="richardson"``, ``atol=1e-8``, ``rtol=1e-6`` for
    numbers; central differences, ``atol=1e-6``, ``rtol=1e-5``, ``eps=1e-6``
    for arrays (where ``atol``, ``rtol`` and one ``eps`` are used as given and
    a ``method`` other than ``"central"`` is refused: never silently dropped)."""
    if not callable(f):
        raise TypeError(f"f must be callable, not {type(f).__name__}")
    if isinstance(modes, str):
        modes = (modes,)
    modes = tuple(modes)
    if not modes or any(md not in MODES for md in modes):
        raise ValueError(f"modes must be a non-empty selection of {MODES}, not {modes!r}")
    check_tolerances(atol, rtol)
    if any(isinstance(x, np.ndarray) or type(x).__name__ == "Tensor" for x in inputs):
        from ..tensor.check import tensor_gradcheck
        if order != 1:
            raise ValueError("gradcheck of array inputs supports order=1 only")
        if method not in (None, "central"):
            raise ValueError(f"gradcheck of array inputs uses central differences; "
                             f"method={method!r} is not supported (leave it out or pass 'central')")
        given: dict[str, Any] = {k: v for k, v in (("atol", atol), ("rtol", rtol)) if v is not None}
        if eps is not None:
            if (isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating))
                    or not (0.0 < eps < math.inf)):
                raise ValueError("gradcheck of array inputs takes one eps, a positive finite "
                                 f"number, not {eps!r}")
            given["eps"] = float(eps)
        return tensor_gradcheck(f, inputs, samples=samples,  # type: ignore[return-value]
                                allow_unused=allow_unused, culprits=culprits, **given)
    method = "richardson" if method is None else method
    atol = 1e-8 if atol is None else atol
    rtol = 1e-6 if rtol is None else rtol
    if isinstance(order, bool) or order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, not {order!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, not {method!r}")
    xs = _check_inputs(inputs)
    if not xs:
        raise ValueError("gradcheck needs at least one input")
    names = _names(inputs, f)
    steps = _steps(eps, xs, method)
    n = len(xs)

    # analytic, order 1
    leaves = _leaves(xs, names)
    out = _call(f, leaves)
    value = out.data if isinstance(out, Value) else out
    reached = set(map(id, topological_order(out))) if isinstance(out, Value) else set()
    unused = [names[i] for i, leaf in enumerate(leaves) if id(leaf) not in reached]
    analytic1: dict[str, list[float]] = {}
    if "rev" in modes:
        analytic1["rev"] = ([float(g) for g in gradients(out, leaves)]
                            if isinstance(out, Value) else [0.0] * n)
    if "fwd" in modes:
        if isinstance(out, Value):
            topo = topological_order(out)
            analytic1["fwd"] = [float(push_tangents(out, {leaf: 1.0}, topo)[out])
                                for leaf in leaves]
        else:
            analytic1["fwd"] = [0.0] * n

    # numeric, order 1
    def F(args: list[float]) -> np.ndarray:
        r = _call(f, _leaves(args, names))
        return np.array([r.data if isinstance(r, Value) else r])

    J, E = _jacobian(F, xs, method, steps, 1)
    kink1, left1, right1 = _kinks(F, xs, 1, atol, rtol, steps, J, E)

    rows: list[GradcheckRow] = []
    for i in range(n):
        for md in modes:
            rows.append(_row(i, names[i], md, 1, analytic1[md][i], J[0, i], kink1[0, i],
                             left1[0, i], right1[0, i], atol, rtol))

    if order == 2:
        hess = _analytic_hessians(f, xs, names, modes)

        def G(args: list[float]) -> np.ndarray:
            return np.array(_rev_grad(f, args, names))

        H, EH = _jacobian(G, xs, method, steps, n)     # H[i, j] = ∂(∂f/∂x_i)/∂x_j
        kink2, left2, right2 = _kinks(G, xs, n, atol, rtol, steps, H, EH)
        for i in range(n):
            for j in range(n):
                for md in modes:
                    rows.append(_row((i, j), f"{names[i]},{names[j]}", md, 2, hess[md][i][j],
                                     H[i, j], kink2[i, j], left2[i, j], right2[i, j], atol, rtol))
    unused_set = set(unused)
    zero = [names[i] for i in range(n) if names[i] not in unused_set and all(
        r.analytic == 0.0 and r.numeric == 0.0 for r in rows if r.order == 1 and r.input == i)]
    report = GradcheckReport(rows=rows, inputs=xs, names=names, method=method, atol=float(atol),
                             rtol=float(rtol), order=order, modes=modes, value=float(value),
                             unused=unused, zero=zero, allow_unused=bool(allow_unused))
    if culprits and report.failures:
        report.culprits, report.culprit_note, report.graph = find_culprits(f, xs, names, order)
    return report


# ------------------------------------------------------------------ culprits

def _node_report(node: Value, order: int) -> GradcheckReport | None:
    """gradcheck of ``node``'s primitive alone, at its recorded operands."""
    prim = node._prim
    param = node._param
    datas = [p._data for p in node._parents]
    try:
        if prim.has_param:
            return gradcheck(lambda *v: apply(prim, *v, param=param), datas, order=order,
                             modes=("rev",), atol=1e-9, rtol=1e-7, culprits=False)
        return gradcheck(lambda *v: apply(prim, *v), datas, order=order, modes=("rev",),
                         atol=1e-9, rtol=1e-7, culprits=False)
    except (ArithmeticError, ValueError, TypeError):
        return None


def find_culprits(f: Callable[..., Any], xs: Sequence[float], names: Sequence[str],
                  order: int = 1, limit: int = 3) -> tuple[list[Culprit], str, Any]:
    """The first nodes of ``f``'s graph at ``xs`` whose local derivatives
    (``order`` 1, or 1 and 2) disagree with finite differences of their own
    primitive at their recorded operands; a note when none does; the graph's
    output node."""
    return culprits_of(lambda: _call(f, _leaves(xs, names)), order, limit)


def culprits_of(build: Callable[[], Any], order: int = 1,
                limit: int = 3) -> tuple[list[Culprit], str, Any]:
    """:func:`find_culprits` on the graph ``build()`` makes (a Value; called
    once, with source lines recorded): the first nodes whose local derivatives
    disagree with finite differences of their own primitive, a note when
    none does, and the output node."""
    from .anomaly import record_sources, source_of
    found: list[Culprit] = []
    with record_sources():
        out = build()
        if not isinstance(out, Value):
            return [], "", None
        seen: set[Any] = set()
        for node in topological_order(out):
            if not node._parents or node._prim is None:
                continue
            key = (node._prim.name, tuple(p._data for p in node._parents), repr(node._param))
            if key in seen:
                continue
            seen.add(key)
            rep = _node_report(node, order)
            if rep is None or rep.ok:
                continue
            bad = rep.failures[0]
            found.append(Culprit(node=node, primitive=node._prim.name,
                                 operands=tuple(p._data for p in node._parents),
                                 param=node._param, operand=bad.input, order=bad.order,
                                 expected=bad.numeric, got=bad.analytic,
                                 source=source_of(node)))
            if len(found) >= limit:
                break
    if found:
        return found, "", out
    return [], ("every node's local derivatives agree with finite differences of its "
                "primitive: the graph itself is wrong (a value taken out with .data or "
                "float() and put back as a constant?) or f is not differentiable here"), out


def _row(index: Any, name: str, mode: str, order: int, analytic: float, numeric: float,
         kink: bool, left: float, right: float, atol: float, rtol: float) -> GradcheckRow:
    analytic, numeric = float(analytic), float(numeric)
    err, rel, ok = _compare(analytic, numeric, atol, rtol)
    note = ""
    compared = True
    if kink == 2:  # the one-sided estimates did not converge: no limits to hold it to
        note = (f"no one-sided limit (f jumps or its slope diverges here; estimates "
                f"{_fmt(left)} | {_fmt(right)}): not compared")
        ok, compared = True, False
    elif kink:
        note = _kink_note(left, right, analytic, atol + rtol * max(abs(left), abs(right)))
        # a kink convention must lie between the one-sided limits (where both exist)
        ok = "outside" not in note
    elif not ok and math.isnan(numeric):
        note = "no finite difference (f fails or is not finite near this point)"
    return GradcheckRow(input=index, name=name, mode=mode, order=order, analytic=analytic,
                        numeric=numeric, abs_error=err, rel_error=rel, ok=ok, kink=bool(kink),
                        one_sided=(float(left), float(right)), note=note, compared=compared)


def _analytic_hessians(f: Callable[..., Any], xs: list[float], names: list[str],
                       modes: Sequence[str]) -> dict[str, list[list[float]]]:
    """Hessian by reverse-over-reverse ("rev") and forward-over-reverse ("fwd").

    Both differentiate the gradient graph that ``gradients(create_graph=True)``
    builds from the primitives' rules evaluated on Values."""
    n = len(xs)
    leaves = _leaves(xs, names)
    out = _call(f, leaves)
    result: dict[str, list[list[float]]] = {}
    if not isinstance(out, Value):
        return {md: [[0.0] * n for _ in range(n)] for md in modes}
    gs = gradients(out, leaves, create_graph=True)
    if "rev" in modes:
        result["rev"] = [[float(h) for h in gradients(g, leaves)] if isinstance(g, Value)
                         else [0.0] * n for g in gs]
    if "fwd" in modes:
        rows = []
        for g in gs:
            if not isinstance(g, Value):
                rows.append([0.0] * n)
                continue
            topo = topological_order(g)
            rows.append([float(push_tangents(g, {leaf: 1.0}, topo)[g]) for leaf in leaves])
        result["fwd"] = rows
    return result


# ------------------------------------------------------------------ primitive validation

_GRID = (-1.7, 0.9, -0.6, 2.3, 0.35, -2.6, 1.4, -5.5, 4.5, 0.047)
_MAX_POINTS = 12          # order-2 checks at up to this many points of the grid
_SCAN = np.linspace(-10.0, 10.0, 2001) + 0.00123  # the dense first-order scan (off the integers)
_STEP = 1e-4


def _rule_where(rule: Callable[..., Any]) -> str:
    code = getattr(rule, "__code__", None)
    name = getattr(rule, "__qualname__", repr(rule))
    return f"{name} ({code.co_filename}:{code.co_firstlineno})" if code is not None else name


def _float_calls(rule: Callable[..., Any]) -> list[str]:
    """Calls in the rule's source that turn their argument into a plain float:
    ``math.*`` / ``cmath.*`` functions and ``float()``, with their lines."""
    import builtins
    try:
        src = textwrap.dedent(inspect.getsource(rule))
        tree = ast.parse(src)
        first = rule.__code__.co_firstlineno
    except (OSError, TypeError, SyntaxError, AttributeError):
        return []
    env = dict(vars(builtins))
    env.update(getattr(rule, "__globals__", {}))
    for name, cell in zip(rule.__code__.co_freevars, rule.__closure__ or ()):
        try:
            env[name] = cell.cell_contents
        except ValueError:
            pass

    def resolve(node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            return env.get(node.id)
        if isinstance(node, ast.Attribute):
            base = resolve(node.value)
            return getattr(base, node.attr, None) if base is not None else None
        return None

    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = resolve(node.func)
        mod = getattr(fn, "__module__", None) or getattr(getattr(fn, "__self__", None), "__name__", "")
        if fn is float or mod in ("math", "cmath"):
            if node.args and all(isinstance(a, ast.Constant) for a in node.args):
                continue  # math.sqrt(2.0): a constant, fine
            found.append(f"`{ast.unparse(node)}` at line {first + node.lineno - 1}")
    return found


def _refusal(prim: Any, what: str) -> str:
    calls = _float_calls(prim.rule)
    hint = ""
    if calls:
        hint = (f"; offending call(s): {', '.join(calls)} turn a Value or symbol into a plain "
                "float (use the functions of autograd_core.math instead)")
    return f"primitive {prim.name!r}: rule {_rule_where(prim.rule)} {what}{hint}"


def _rule_names(prim: Any, k: int) -> list[str]:
    names = _param_names(prim.rule, k)
    return [names[i] if i < len(names) and not names[i].startswith("*") else f"x{i}"
            for i in range(k)]


def _check_contract(prim: Any, pt: tuple[float, ...], extra: tuple[Any, ...]) -> None:
    """Run the rule on symbols and on Values at ``pt``: every result that depends
    on an operand must come back as a symbol / Value, not a plain number."""
    from ..stepthrough.symbolic import Sym
    k = len(pt)
    names = _rule_names(prim, k)
    base_val, base_loc = prim.rule(*pt, *extra)
    moved = []
    for i in range(k):
        q = list(pt)
        q[i] += _STEP * max(1.0, abs(q[i]))
        moved.append(prim.rule(*q, *extra))
    for kind, make in (("symbols", lambda x, nm: Sym(nm, x)), ("Values", lambda x, nm: Value(x, nm))):
        ops = [make(x, nm) for x, nm in zip(pt, names)]
        try:
            with enable_grad():
                val, loc = prim.rule(*ops, *extra)
        except Exception as e:  # the rule cannot run on this kind: it escapes the contract
            raise TypeError(_refusal(prim, f"fails on {kind} ({type(e).__name__}: {e})")) from None
        loc = tuple(loc)
        if len(loc) != k:
            raise TypeError(_refusal(prim, f"returns {len(loc)} local derivative(s) on {kind} "
                                           f"for {k} operand(s)"))
        results = [("its value", val, base_val, [mv[0] for mv in moved])]
        results += [(f"its derivative d/d{names[j]}", loc[j], base_loc[j],
                     [mv[1][j] for mv in moved]) for j in range(k)]
        for what, r, r0, rs in results:
            if isinstance(r, (Sym, Value)):
                continue
            if not isinstance(r, (int, float)) or isinstance(r, bool):
                raise TypeError(_refusal(prim, f"returns {type(r).__name__} for {what} on {kind}"))
            for i, ri in enumerate(rs):
                r0f, rif = float(r0), float(ri)
                if abs(rif - r0f) > 1e-12 * (1.0 + abs(r0f)):
                    raise TypeError(_refusal(
                        prim, f"escapes the rule contract: on {kind}, {what} is the plain float "
                              f"{float(r)!r} although it depends on {names[i]} (so derivatives "
                              "of it, e.g. the second derivative, would silently be 0)"))


def _check_arrays(prim: Any, pts: list[tuple[float, ...]], extra: tuple[Any, ...]) -> None:
    """Run the rule elementwise on arrays of the points (the Tensor path) and
    compare with the float results."""
    if prim.arity is None:
        return  # n-ary primitives have no elementwise Tensor version
    from ..tensor._vectorize import run_rule
    ops = tuple(np.array([pt[i] for pt in pts]) for i in range(len(pts[0])))
    try:
        val, loc = run_rule(prim.rule, ops, extra, lambda mask, a, b: np.where(mask, a, b))
    except Exception as e:  # the rule cannot run on arrays: it escapes the contract
        raise TypeError(_refusal(prim, f"fails on arrays, the Tensor path ({type(e).__name__}: "
                                       f"{e}); write it with arithmetic, comparisons and "
                                       "autograd_core.math")) from None
    names = _rule_names(prim, len(pts[0]))
    for j, pt in enumerate(pts):
        fv, floc = prim.rule(*pt, *extra)
        got = [np.broadcast_to(np.asarray(val, dtype=float), (len(pts),))[j]]
        got += [np.broadcast_to(np.asarray(d, dtype=float), (len(pts),))[j] for d in loc]
        for what, a, b in zip(["its value"] + [f"its derivative d/d{nm}" for nm in names],
                              got, [fv, *floc]):
            if not abs(float(a) - float(b)) <= 1e-12 * (1.0 + abs(float(b))):
                raise TypeError(_refusal(prim, f"gives {float(a)!r} on arrays but {float(b)!r} "
                                               f"on floats for {what} at {pt!r}"))


def _scan_rule(prim: Any, base: tuple[float, ...], extra: tuple[Any, ...],
               fn: Callable[..., Any], labeled: Callable[[tuple[float, ...]], list[Value]],
               atol: float, rtol: float) -> None:
    """A dense first-order scan of the rule along each operand (the others at
    ``base``) over [-10, 10], on arrays: its derivative against central
    differences of its value at each point, and against the difference
    quotient between neighbouring points (a corner or jump between them).
    Suspects are confirmed by :func:`gradcheck` at the point (after bisecting
    an interval down to the corner) before a refusal, so a steep but smooth
    rule is not refused. Catches a rule wrong only in part of its domain and
    an undeclared corner or jump away from 0."""
    if prim.arity is None:
        return
    from ..tensor._vectorize import NotVectorisable, run_rule
    k = len(base)
    names = _rule_names(prim, k)

    def ev(i: int, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ops = tuple(xs if j == i else np.full(xs.shape, base[j]) for j in range(k))
        with np.errstate(all="ignore"):
            v, loc = run_rule(prim.rule, ops, extra, lambda mask, a, b: np.where(mask, a, b))
        return (np.broadcast_to(np.asarray(v, dtype=float), xs.shape),
                np.broadcast_to(np.asarray(loc[i], dtype=float), xs.shape))

    def inside(i: int, x: float) -> bool:
        pt = base[:i] + (x,) + base[i + 1:]
        if any(abs(x - kk) <= 1e-6 * max(1.0, abs(kk)) for kk in prim.kinks) and i == 0:
            return False
        return prim.check is None or prim.check(*pt, *extra) is None

    # kinks can be declared for a unary primitive without a parameter only
    # (a corner of maximum(x, y) is at x = y, of clip at its bounds): elsewhere a
    # corner found is accepted when the rule's derivative lies between the one-sided ones
    declarable = k == 1 and not prim.has_param

    def verdict(pt: tuple[float, ...], i: int, shrink: float) -> tuple[str, Any] | None:
        eps = [default_step(x) * shrink for x in pt]
        try:
            rep = gradcheck(fn, labeled(pt), order=1, atol=atol, rtol=rtol, culprits=False,
                            eps=eps)
        except (ArithmeticError, ValueError):
            return None
        for r in rep.rows:
            if r.input != i:
                continue
            if not max(abs(r.one_sided[0]), abs(r.one_sided[1]), abs(r.numeric)) < 1e10:
                continue  # a pole (tan at pi/2), not a corner: no derivative to check
            near_declared = any(abs(pt[i] - kk) < 1e-3 for kk in prim.kinks)
            if r.kink and declarable and not near_declared:
                return "kink", r
            if not r.ok:
                return "wrong", rep
        return None

    def confirm(i: int, x: float) -> None:
        pt = base[:i] + (float(x),) + base[i + 1:]
        if not inside(i, pt[i]):
            return
        first = verdict(pt, i, 1.0)
        # again with 1000 times smaller steps: a steep but smooth rule (near a pole)
        # passes there, a corner, a jump or a wrong derivative does not
        if first is None or verdict(pt, i, 1e-3) is None:
            return
        kind, what = first
        if kind == "kink":
            raise ValueError(_refusal(prim, f"is not differentiable at {names[i]} = "
                                            f"{pt[i]:.6g} ({what.note}) but kinks= does not "
                                            "declare it"))
        raise ValueError(_refusal(prim, f"disagrees with finite differences at "
                                        f"{names[i]} = {pt[i]:.6g}:\n{what}"))

    for i in range(k):
        xs = _SCAN
        try:
            h = 1e-4 * np.maximum(1.0, np.abs(xs))
            f0, d0 = ev(i, xs)
            fp, _ = ev(i, xs + h)
            fm, _ = ev(i, xs - h)
            fp2, _ = ev(i, xs + 0.5 * h)
            fm2, _ = ev(i, xs - 0.5 * h)
        except (NotVectorisable, ArithmeticError, ValueError):
            return
        ok_pt = np.isfinite(f0) & np.isfinite(d0) & np.isfinite(fp) & np.isfinite(fm)
        ok_pt &= np.isfinite(fp2) & np.isfinite(fm2)
        ok_pt &= np.array([inside(i, float(x)) for x in xs])
        with np.errstate(all="ignore"):  # central differences, Richardson-extrapolated: O(h^4)
            fd = (4.0 * (fp2 - fm2) / h - (fp - fm) / (2.0 * h)) / 3.0
            noise = 8 * np.finfo(float).eps * (np.abs(fp) + np.abs(fm)) / h
            ratio = np.abs(fd - d0) / (1e-5 * (1.0 + np.abs(d0)) + noise)
        bad = ok_pt & (ratio > 1.0)
        for j in np.flatnonzero(bad)[np.argsort(-ratio[bad], kind="stable")][:4]:  # the worst
            confirm(i, float(xs[j]))
        # between neighbours: the difference quotient against the mean derivative
        dx = np.diff(xs)
        q = np.diff(f0) / dx
        both = ok_pt[1:] & ok_pt[:-1]
        lo, hi = np.minimum(d0[1:], d0[:-1]), np.maximum(d0[1:], d0[:-1])
        scale = 1.0 + np.abs(d0[1:]) + np.abs(d0[:-1])
        # smooth: q is the derivative at some point between (near the mean of the ends);
        # a corner or a jump puts q away from it
        off = both & (np.abs(q - 0.5 * (d0[1:] + d0[:-1])) > 1e-3 * scale + 0.25 * (hi - lo))
        for j in np.flatnonzero(off)[:4]:
            a, b = float(xs[j]), float(xs[j + 1])
            fa, fb = f0[j], f0[j + 1]
            for _ in range(60):  # bisect to where the quotient misbehaves most
                mid = 0.5 * (a + b)
                if not a < mid < b:
                    break
                (fmv,), (dmv,) = ev(i, np.array([mid]))
                if not (math.isfinite(fmv) and math.isfinite(dmv)):
                    break
                (_,), (da,) = ev(i, np.array([a]))
                (_,), (db,) = ev(i, np.array([b]))
                left = abs((fmv - fa) / (mid - a) - 0.5 * (da + dmv))
                right = abs((fb - fmv) / (b - mid) - 0.5 * (dmv + db))
                if left >= right:
                    b, fb = mid, fmv
                else:
                    a, fa = mid, fmv
            mid = 0.5 * (a + b)
            for nice in [0.0] + [round(mid, d) for d in range(10)]:  # 1, not 0.9999999999
                if a <= nice <= b:
                    mid = nice
                    break
            confirm(i, mid)


def _candidates(prim: Any, points: Sequence[Sequence[float]] | None) -> list[tuple[float, ...]]:
    k = prim.arity if prim.arity is not None else 2
    if points is not None:
        out = []
        for p in points:
            p = tuple(float(x) for x in (p if isinstance(p, Sequence) else (p,)))
            if prim.arity is not None and len(p) != prim.arity:
                raise ValueError(f"primitive {prim.name!r}: point {p!r} has {len(p)} operand(s), "
                                 f"the primitive takes {prim.arity}")
            out.append(p)
        return out
    g = len(_GRID)
    signed = [tuple(_GRID[(j + 3 * i) % g] for i in range(k)) for j in range(g)]
    return signed + [tuple(abs(x) for x in p) for p in signed]


def validate_primitive(prim: Any, *, points: Sequence[Sequence[float]] | None = None,
                       example_param: Any = None, atol: float = 1e-9,
                       rtol: float = 1e-7) -> None:
    """Refuse a primitive whose rule escapes the rule contract (``TypeError``)
    or whose derivatives disagree with finite differences (``ValueError``);
    see :func:`autograd_core.primitive`."""
    if prim.has_param and example_param is None:
        raise TypeError(f"primitive {prim.name!r} has the parameter {prim.param!r}: pass "
                        "example_param=<a typical value> so that its rule can be validated "
                        "(or validate=False)")
    extra = (example_param,) if prim.has_param else ()
    usable: list[tuple[float, ...]] = []
    for pt in _candidates(prim, points):
        if any(abs(pt[0] - kk) < 1e-3 for kk in prim.kinks):
            continue
        if prim.check is not None and prim.check(*pt, *extra) is not None:
            continue
        try:
            val, loc = prim.rule(*pt, *extra)
            loc = tuple(loc)
        except (ArithmeticError, ValueError):
            continue
        except Exception as e:
            raise TypeError(_refusal(prim, f"fails on floats at {pt!r} ({type(e).__name__}: {e})")) from None
        if len(loc) != len(pt):
            raise TypeError(_refusal(prim, f"returns {len(loc)} local derivative(s) for "
                                           f"{len(pt)} operand(s)"))
        if all(math.isfinite(float(x)) for x in (val, *loc)):
            usable.append(pt)
        if len(usable) >= _MAX_POINTS:
            break
    if not usable:
        raise ValueError(f"primitive {prim.name!r}: no point of the default grid is inside its "
                         "domain (or its values there are not finite); pass points=[...]")
    _check_contract(prim, usable[0], extra)
    _check_arrays(prim, usable, extra)

    def fn(*v: Value) -> Value:
        return apply(prim, *v, param=example_param) if prim.has_param else apply(prim, *v)

    names = _rule_names(prim, len(usable[0]))

    def labeled(pt: tuple[float, ...]) -> list[Value]:
        return [Value(x, nm) for x, nm in zip(pt, names)]

    for pt in usable:
        rep = gradcheck(fn, labeled(pt), order=2, atol=atol, rtol=rtol, culprits=False)
        if not rep:
            what = "order 2 (its local derivatives, run on Values)" if all(
                r.order == 2 for r in rep.failures) else "order 1"
            raise ValueError(_refusal(prim, f"disagrees with finite differences at {what}:\n"
                                            + str(rep)))
    # kinks: declared ones must carry a convention between the one-sided derivatives;
    # an undeclared corner at 0 is refused (then anywhere, by the scan below)
    if prim.kinks and not prim.convention:
        raise ValueError(f"primitive {prim.name!r} declares kinks {prim.kinks} but no "
                         "convention= saying which derivative the rule takes there")
    for kk in sorted(set(prim.kinks) | {0.0}):
        pt = (kk,) + usable[0][1:]
        if prim.check is not None and any(
                prim.check(kk + d, *pt[1:], *extra) is not None for d in (-1e-3, 0.0, 1e-3)):
            continue  # outside, or at an edge of, the domain (sqrt at 0): no two-sided limit
        try:
            rep = gradcheck(fn, labeled(pt), order=1, atol=atol, rtol=rtol, culprits=False)
        except (ArithmeticError, ValueError):
            continue
        for r in rep.rows:
            if r.input != 0:
                continue
            if r.kink and kk not in prim.kinks:
                raise ValueError(_refusal(prim, f"is not differentiable at {r.name} = {kk:g} "
                                                f"({r.note}) but kinks= does not declare it"))
            if not r.ok:
                what = ("takes a derivative outside the one-sided ones at its kink"
                        if r.kink else "disagrees with finite differences")
                raise ValueError(_refusal(prim, f"{what} at {r.name} = {kk:g}:\n{rep}"))
    _scan_rule(prim, usable[0], extra, fn, labeled, atol, rtol)
    _check_other_params(prim, points, example_param, labeled, atol, rtol)


def _other_params(example_param: Any) -> list[float]:
    """Two more parameter values for a numeric ``example_param``: a rule that
    gets how the parameter enters wrong (a for 1/a, a² for a, ...) can agree
    with finite differences at one value (1.0 above all), not at three."""
    if isinstance(example_param, bool) or not isinstance(example_param, numbers.Real):
        return []
    p0 = float(example_param)
    if not math.isfinite(p0):
        return []
    return [p0 * 1.7, p0 * 0.6] if p0 != 0.0 else [0.5, 1.5]


def _check_other_params(prim: Any, points: Sequence[Sequence[float]] | None, example_param: Any,
                        labeled: Callable[..., list[Value]], atol: float, rtol: float) -> None:
    """The first and second derivatives at a few points with the parameter
    at the values of :func:`_other_params` (where they are in its domain)."""
    if not prim.has_param:
        return
    for q in _other_params(example_param):
        usable = []
        for pt in _candidates(prim, points):
            if any(abs(pt[0] - kk) < 1e-3 for kk in prim.kinks):
                continue
            try:
                if prim.check is not None and prim.check(*pt, q) is not None:
                    continue
                val, loc = prim.rule(*pt, q)
                if not all(math.isfinite(float(x)) for x in (val, *tuple(loc))):
                    continue
            except (ArithmeticError, ValueError, TypeError):
                continue
            usable.append(pt)
            if len(usable) >= 4:
                break

        def fn(*v: Value, q: float = q) -> Value:
            return apply(prim, *v, param=q)

        for pt in usable:
            try:
                rep = gradcheck(fn, labeled(pt), order=2, atol=atol, rtol=rtol, culprits=False)
            except (ArithmeticError, ValueError):
                continue
            if not rep:
                raise ValueError(_refusal(prim, f"disagrees with finite differences with its "
                                                f"parameter {prim.param} = {q:g} (it agrees at "
                                                f"example_param = {example_param!r}: check how "
                                                f"the parameter enters the derivatives):\n"
                                                + str(rep)))


# @primitive validates new rules with this (primitives.py imports nothing above it)
_primitives.HOOKS["validate_primitive"] = validate_primitive
