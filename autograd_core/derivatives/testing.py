"""Helpers for testing derivatives in your own pytest suite.

>>> from autograd_core.testing import assert_gradients_match
>>> assert_gradients_match(lambda x, y: (x * y).tanh(), [0.3, -1.2], order=2)
<GradcheckReport ok: 12 rows, 0 failed, 0 at kinks>

``primitive_cases()`` lists, for every primitive in
:data:`autograd_core.PRIMITIVES`, a function applying it (with typical
parameters), moderate points away from its kinks and the points at its
kinks; the package's own tests and ``benchmarks/bench_gradcheck.py`` sweep it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..core.engine import Value, apply, enable_grad, gradients, no_grad, topological_order
from .gradcheck import GradcheckReport, _param_names, _row, culprits_of, gradcheck
from .numerical import METHODS, _jacobian
from .._report import check_tolerances
from ..core.primitives import PRIMITIVES, Primitive
from ..tensor import Tensor
from ..tensor import gradients as tensor_gradients

__all__ = ["assert_gradients_match", "assert_module_gradients", "check_grad",
           "gradients_match_everywhere", "PrimitiveCase", "primitive_cases"]


def assert_gradients_match(f: Callable[..., Any], inputs: Sequence[Any], *,
                           allow_unused: bool = False, allow_zero: bool = False,
                           **kwargs: Any) -> GradcheckReport:
    """Run :func:`~autograd_core.gradcheck` and raise ``AssertionError`` (its
    message is the report table) unless every derivative matches.

    An input that ``f`` does not use (no path to the output: its rows would
    check nothing) is a failure unless ``allow_unused=True``; so is a check in
    which every derivative, analytic and numeric, is exactly 0 (it compared
    nothing: a rule returning 0 passes too) unless ``allow_zero=True``.
    Keyword arguments go to ``gradcheck`` (``order``, ``modes``, ``method``,
    ``atol``, ``rtol``, ``eps``). Returns the report when it passes."""
    __tracebackhide__ = True  # pytest shows the failure at the caller
    report = gradcheck(f, inputs, allow_unused=allow_unused, **kwargs)
    if not report:
        raise AssertionError(_headline(report) + "\n" + str(report))
    _refuse_vacuous(report, allow_zero)
    return report


def _refuse_vacuous(report: Any, allow_zero: bool, where: str = "at this point") -> None:
    """AssertionError for a passing check that compared only zeros."""
    __tracebackhide__ = True
    if not allow_zero and getattr(report, "vacuous", False):
        raise AssertionError(
            f"vacuous check: every derivative is exactly 0 {where} (analytic and numeric) or "
            "has no one-sided limit there (f jumps), so it compared nothing (a rule returning 0 "
            "would pass as well); check where the derivative is not 0, or pass allow_zero=True "
            "if intended\n" + str(report))


def _check_tols(atol: Any, rtol: Any, method: str) -> None:
    if atol is None or rtol is None:
        raise ValueError(f"atol and rtol must be numbers, not {atol!r} and {rtol!r}")
    check_tolerances(atol, rtol)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, not {method!r}")


def _report(rows: list[Any], xs: list[float], names: list[str], method: str, atol: float,
            rtol: float, mode: str, value: float, unused: list[str],
            sample: str = "") -> GradcheckReport:
    zero = [r.name for r in rows if r.analytic == 0.0 and r.numeric == 0.0
            and r.name.split("[")[0] not in unused]
    return GradcheckReport(rows=rows, inputs=xs, names=names, method=method, atol=float(atol),
                           rtol=float(rtol), order=1, modes=(mode,), value=float(value),
                           unused=unused, zero=zero, allow_unused=False, sample=sample)


def check_grad(f: Callable[[Any], Any], grad_f: Callable[[Any], Any], x: Any, *,
               method: str = "richardson", atol: float = 1e-8,
               rtol: float = 1e-6) -> GradcheckReport:
    """Check a hand-written gradient function against finite differences.

    ``f(x)`` returns a number and ``grad_f(x)`` its gradient, for ``x`` a float
    or a numpy array (what people write for numpy models): every component of
    ``grad_f(x)`` is compared with the finite difference of ``f`` (``method``
    as in :func:`~autograd_core.numerical_grad`). Returns the same report as
    :func:`~autograd_core.gradcheck` (truthy when every component matches;
    ``str(report)`` is the table, one row per component ``x[i, j]``)."""
    if not callable(f) or not callable(grad_f):
        raise TypeError("check_grad needs two callables, f(x) and grad_f(x)")
    _check_tols(atol, rtol, method)
    scalar = isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
    try:
        x0 = np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"x must be a number or an array of numbers, not {type(x).__name__}") from None
    if x0.size == 0 or not np.all(np.isfinite(x0)):
        raise ValueError("x must be a non-empty array of finite numbers")
    shape = x0.shape

    def arg(flat: Sequence[float]) -> Any:
        return float(flat[0]) if scalar else np.array(flat, dtype=np.float64).reshape(shape)

    def F(flat: list[float]) -> np.ndarray:
        y = f(arg(flat))
        y = np.asarray(y, dtype=np.float64)
        if y.size != 1:
            raise TypeError(f"f must return one number, got an array of shape {y.shape}")
        return y.reshape(1)

    xs = x0.ravel().tolist()
    value = float(F(xs)[0])
    g = np.asarray(grad_f(arg(xs)), dtype=np.float64)
    if g.size != x0.size:
        raise ValueError(f"grad_f(x) has {g.size} components for an x of {x0.size}")
    g = g.ravel()
    J, _ = _jacobian(F, xs, method, [None] * len(xs), 1)
    if scalar:
        names = _param_names(f, 1) or ["x"]
    else:
        names = [f"x[{', '.join(map(str, np.unravel_index(k, shape)))}]" for k in range(len(xs))]
    rows = [_row(k, names[k], "grad_f", 1, g[k], J[0, k], False, math.nan, math.nan, atol, rtol)
            for k in range(len(xs))]
    return _report(rows, xs, names, method, atol, rtol, "grad_f", value, [])


def _samples(X: Any) -> list[Any]:
    if isinstance(X, np.ndarray):
        X = X.reshape(-1, 1) if X.ndim == 1 else X.reshape(len(X), -1)
        return [tuple(r) for r in X.astype(float).tolist()]
    if not isinstance(X, (list, tuple)):
        raise TypeError(f"X must be an array or a list of samples, not {type(X).__name__}")
    return list(X)


def assert_module_gradients(model: Any, X: Any, y: Any, *, loss: Callable[[Any, Any], Any],
                            samples: int | None = 64, seed: int = 0,
                            method: str = "richardson", atol: float = 1e-7,
                            rtol: float = 1e-5, allow_zero: bool = False) -> GradcheckReport:
    """Check ∂L/∂p of every parameter ``p`` of ``model`` (an ``nn.Module``:
    ``model.parameters()`` and ``model(x)``; Value parameters, or Tensor ones
    checked element by element), ``L`` the mean of ``loss(model(x_i), y_i)``
    over the samples, against finite differences (each parameter moved in
    place and put back).

    A model with more than ``samples`` parameters is checked on a seeded
    random sample of that many (the report says how many of how many;
    ``samples=None`` checks all). A parameter the loss does not depend on is
    a failure, and so is a check where every gradient is exactly 0 (unless
    ``allow_zero=True``). Raises ``AssertionError`` (its message is the
    report table) unless everything matches; returns the report."""
    __tracebackhide__ = True
    if not callable(loss):
        raise TypeError(f"loss must be a callable loss(output, target), not {type(loss).__name__}")
    _check_tols(atol, rtol, method)
    named = (model.named_parameters() if hasattr(model, "named_parameters")
             else [("", p) for p in model.parameters()])
    params = [p for _, p in named]
    if not params or not (all(isinstance(p, Value) for p in params)
                          or all(isinstance(p, Tensor) for p in params)):
        raise TypeError("model.parameters() must be a non-empty list of Values (or of Tensors)")
    # one entry per scalar checked: (name, parameter, flat element index or None for a Value)
    elements: list[tuple[str, Any, int | None]] = []
    for i, (nm, p) in enumerate(named):
        nm = nm or p.label or f"p{i}"
        if isinstance(p, Value):
            elements.append((nm, p, None))
        else:
            shape = p.data.shape
            elements.extend((f"{nm}[{', '.join(map(str, np.unravel_index(k, shape)))}]", p, k)
                            for k in range(p.data.size))
    Xs = _samples(X)
    ys = list(y) if not isinstance(y, np.ndarray) else list(y.tolist() if y.ndim == 1 else y)
    if len(Xs) != len(ys) or not Xs:
        raise ValueError(f"X has {len(Xs)} samples but y has {len(ys)} (need at least one)")
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int)
                                or samples < 1):
        raise ValueError(f"samples must be a positive int or None, not {samples!r}")
    idx = list(range(len(elements)))
    sample = ""
    what = "parameters" if elements[0][2] is None else "parameter elements"
    if samples is not None and samples < len(elements):
        idx = sorted(np.random.default_rng(seed).choice(len(elements), samples,
                                                        replace=False).tolist())
        sample = (f"checked a seeded random sample of {samples} of the {len(elements)} {what} "
                  f"(seed={seed}; samples=None checks all)")

    def objective() -> Any:
        terms = [loss(model(xi), yi) for xi, yi in zip(Xs, ys)]
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total * (1.0 / len(terms))

    def get(p: Any, k: int | None) -> float:
        return p.data if k is None else float(p.data.flat[k])

    def put(p: Any, k: int | None, v: float) -> None:
        if k is None:
            p.assign(v)
        else:
            a = p.data.copy()
            a.flat[k] = v
            p.assign(a)

    with enable_grad():
        obj = objective()
    if isinstance(params[0], Value):
        if not isinstance(obj, Value):
            raise TypeError(f"loss must return a Value, not {type(obj).__name__}")
        grads = dict(zip(map(id, params), gradients(obj, params)))
    else:
        if not isinstance(obj, Tensor) or obj.data.size != 1:
            raise TypeError("loss must return a one-element Tensor for a model with Tensor "
                            f"parameters, not {type(obj).__name__}")
        grads = dict(zip(map(id, params), tensor_gradients(obj, params)))
    reached = set(map(id, topological_order(obj)))
    rows = []
    for i in idx:
        name, p, k = elements[i]
        g = grads[id(p)]
        analytic = float(g) if k is None else float(np.asarray(g).flat[k])
        original = get(p, k)

        def F(a: list[float], p: Any = p, k: int | None = k) -> np.ndarray:
            put(p, k, a[0])
            with no_grad():
                return np.array([float(np.asarray(objective().data).reshape(-1)[0])])
        try:
            J, _ = _jacobian(F, [original], method, [None], 1)
        finally:
            put(p, k, original)
        rows.append(_row(i, name, "rev", 1, analytic, J[0, 0], False, math.nan, math.nan,
                         atol, rtol))
    unused = list(dict.fromkeys(elements[i][0].split("[")[0] if elements[i][2] is not None
                                else elements[i][0]
                                for i in idx if id(elements[i][1]) not in reached))
    value = float(np.asarray(obj.data).reshape(-1)[0])
    report = _report(rows, [get(elements[i][1], elements[i][2]) for i in idx],
                     [elements[i][0] for i in idx], method, atol, rtol, "rev", value, unused,
                     sample)
    if report.failures and isinstance(params[0], Tensor):  # which operation is wrong
        from ..tensor.check import graph_culprits
        report.culprits, report.culprit_note, report.graph = graph_culprits(
            objective, params, atol=atol, rtol=rtol, seed=seed)
    elif report.failures:
        report.culprits, report.culprit_note, report.graph = culprits_of(objective)
    if not report:
        raise AssertionError(_headline(report) + "\n" + str(report))
    _refuse_vacuous(report, allow_zero)
    return report


def _domains(f: Callable[..., Any], domain: Any) -> list[tuple[float, float]]:
    def pair(d: Any) -> tuple[float, float]:
        if not (isinstance(d, Sequence) and len(d) == 2):
            raise TypeError(f"a domain is a (low, high) pair, not {d!r}")
        lo, hi = float(d[0]), float(d[1])
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"domain ({lo!r}, {hi!r}) must be finite with low < high")
        return lo, hi
    if isinstance(domain, Sequence) and domain and all(isinstance(d, Sequence) for d in domain):
        return [pair(d) for d in domain]
    lo_hi = pair(domain)
    n = len(_param_names(f, 10**6))
    if n == 0:
        raise TypeError("cannot read how many inputs f takes: pass one (low, high) per input")
    return [lo_hi] * n


def _badness(report: GradcheckReport) -> float:
    worst = 0.0
    for r in report.rows:
        if r.kink and r.ok:
            continue
        if not r.ok:
            worst = max(worst, math.inf if math.isnan(r.abs_error) else
                        1.0 + r.abs_error / (report.atol + report.rtol * abs(r.numeric) or 1.0))
        else:
            tol = report.atol + report.rtol * abs(r.numeric)
            worst = max(worst, r.abs_error / tol if tol > 0 else 0.0)
    return worst


def gradients_match_everywhere(f: Callable[..., Any], domain: Any, *, examples: int = 50,
                               seed: int = 0, allow_unused: bool = False,
                               allow_zero: bool = False, **kwargs: Any) -> GradcheckReport:
    """Run :func:`~autograd_core.gradcheck` at ``examples`` points sampled from
    ``domain`` and raise ``AssertionError`` with the report of the worst point
    unless every point passes; return the worst point's report otherwise.

    ``domain``: one ``(low, high)`` for every input (their number read from
    ``f``'s parameters) or a list of one pair per input. Points come from
    hypothesis (derandomized, so every run checks the same points) when it is
    installed, else from a numpy generator seeded with ``seed``. ``report.zero``
    lists the inputs whose derivatives were exactly 0 at every point; when
    every derivative was 0 at every point the check compared nothing and
    fails unless ``allow_zero=True``. Other keyword arguments go to
    ``gradcheck``."""
    __tracebackhide__ = True
    if not callable(f):
        raise TypeError(f"f must be callable, not {type(f).__name__}")
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise ValueError(f"examples must be a positive int, not {examples!r}")
    doms = _domains(f, domain)
    seen: list[tuple[float, GradcheckReport]] = []

    def check(point: Sequence[float]) -> None:
        rep = gradcheck(f, list(point), allow_unused=allow_unused, **kwargs)
        seen.append((_badness(rep) + (0.0 if rep else 1.0), rep))

    try:
        import hypothesis
        from hypothesis import strategies as st
    except ImportError:
        hypothesis = None
    if hypothesis is not None:
        strat = st.tuples(*[st.floats(lo, hi, exclude_min=True, exclude_max=True)
                            for lo, hi in doms])
        runner = hypothesis.settings(max_examples=examples, derandomize=True, database=None,
                                     deadline=None, phases=[hypothesis.Phase.generate],
                                     suppress_health_check=list(hypothesis.HealthCheck))(
            hypothesis.given(strat)(check))
        runner()
        source = f"{len(seen)} points from hypothesis (derandomized)"
    else:
        rng = np.random.default_rng(seed)
        for _ in range(examples):
            check([float(rng.uniform(lo, hi)) for lo, hi in doms])
        source = f"{len(seen)} points from numpy (seed={seed})"
    bad = [rep for _, rep in seen if not rep]
    worst = max(seen, key=lambda t: t[0])[1]
    names = worst.names
    zero = [nm for i, nm in enumerate(names)
            if all(r.analytic == 0.0 and r.numeric == 0.0
                   for _, rep in seen for r in rep.rows if r.order == 1 and r.input == i)]
    worst.zero = zero
    worst.sample = (f"checked {source} in {', '.join(f'[{lo:g}, {hi:g}]' for lo, hi in doms)}; "
                    f"{len(bad)} failed; this is the worst point")
    if bad:
        raise AssertionError(f"derivatives do not match at {len(bad)} of {len(seen)} points; "
                             "the worst:\n" + str(worst))
    if all(rep.vacuous for _, rep in seen):
        _refuse_vacuous(worst, allow_zero, f"at all {len(seen)} points")
    return worst


def _headline(report: Any) -> str:
    if report.failures:
        return "derivatives do not match finite differences"
    return (f"vacuous check: f does not use input(s) {', '.join(map(str, report.unused))} "
            "(allow_unused=True if intended)")


# ------------------------------------------------------------------ primitive cases

@dataclass(frozen=True)
class PrimitiveCase:
    """One primitive with one parameter choice.

    ``fn`` takes one Value per operand; ``points`` are moderate points away
    from kinks and domain edges; ``kink_points`` are points at a kink and
    ``kink_order`` the derivative order at which the kink shows (1: the
    function has a corner, 2: only its gradient does, like ``elu`` with
    ``alpha=1``)."""

    name: str
    label: str
    fn: Callable[..., Value]
    points: tuple[tuple[float, ...], ...]
    kink_points: tuple[tuple[float, ...], ...] = ()
    kink_order: int = 1

    @property
    def primitive(self) -> Primitive:
        return PRIMITIVES[self.name]


#: moderate inputs on the real line, away from 0 (the kinks) and from zeros
#: of the derivatives
GRID = (-2.3, -1.1, -0.45, 0.3, 0.8, 1.6, 2.7)
POSITIVE = (0.3, 0.8, 1.6, 2.7, 4.1)
NONZERO = (-2.3, -0.7, 0.45, 1.6, 2.7)


def _pts(xs: Sequence[float]) -> tuple[tuple[float, ...], ...]:
    return tuple((x,) for x in xs)


def _apply(prim: Primitive, param: Any = None) -> Callable[..., Value]:
    if param is None:
        return lambda *xs: apply(prim, *xs)
    return lambda *xs: apply(prim, *xs, param=param)


def _pairs(a: Sequence[float], b: Sequence[float]) -> tuple[tuple[float, ...], ...]:
    return tuple(zip(a, b))


def primitive_cases() -> list[PrimitiveCase]:
    """Test cases covering every primitive of ``PRIMITIVES``.

    A unary primitive without a parameter and without a specific case gets
    the generic grid; a primitive that needs more (a parameter, several
    operands, a restricted domain) and has no case here is missing from the
    list, which the package's tests report."""
    P = PRIMITIVES
    cases: list[PrimitiveCase] = []

    def add(name: str, points: Any, param: Any = None, label: str = "",
            kink_points: Any = (), kink_order: int = 1) -> None:
        if name not in P:
            return
        cases.append(PrimitiveCase(name, label or name, _apply(P[name], param), tuple(points),
                                   tuple(kink_points), kink_order))

    xs2 = (-1.7, 0.6, 2.2, -0.35, 1.3)
    ys2 = (0.9, -1.4, 0.75, 2.1, -0.55)
    add("add", _pairs(xs2, ys2))
    add("sub", _pairs(xs2, ys2))
    add("mul", _pairs(xs2, ys2))
    add("div", _pairs(xs2, ys2))
    add("pow", _pairs(POSITIVE, (2.5, -1.3, 0.7, 1.9, -0.4)))
    for c in (2.5, -1.25):
        for name in ("add_const", "sub_const", "rsub_const", "mul_const", "div_const"):
            add(name, _pts(GRID), c, f"{name}(c={c:g})")
    for c in (1.5, -2.0):
        add("rdiv_const", _pts(NONZERO), c, f"rdiv_const(c={c:g})")
    add("pow_const", _pts(GRID), 3.0, "pow_const(c=3)")
    add("pow_const", _pts(NONZERO), -2.0, "pow_const(c=-2)")
    for c in (0.5, -1.5, 2.7):
        add("pow_const", _pts(POSITIVE), c, f"pow_const(c={c:g})")
    for c in (2.0, 0.5, 3.7):
        add("rpow_const", _pts(GRID), c, f"rpow_const(c={c:g})")
    add("log", _pts(POSITIVE))
    add("sqrt", _pts(POSITIVE))
    add("log1p", _pts((-0.6, -0.2) + POSITIVE))
    add("abs", _pts(GRID), kink_points=[(0.0,)])
    add("relu", _pts(GRID), kink_points=[(0.0,)])
    for s in (0.01, 0.2):
        add("leaky_relu", _pts(GRID), s, f"leaky_relu(negative_slope={s:g})",
            kink_points=[(0.0,)])
    add("prelu", _pairs(GRID, (0.25, -0.3, 0.1, 0.25, 0.5, 1.5, 0.2)),
        kink_points=[(0.0, 0.25), (0.0, -0.5)])
    add("elu", _pts(GRID), 0.5, "elu(alpha=0.5)", kink_points=[(0.0,)])
    add("elu", _pts(GRID), 1.0, "elu(alpha=1)", kink_points=[(0.0,)], kink_order=2)
    for b in (1.0, 1.702, 0.5):
        add("swish", _pts(GRID), b, f"swish(beta={b:g})")
    add("sum", [(0.3, -1.2, 2.5), (-0.7, 0.4)])
    add("dot", [(0.3, -1.2, 2.5, 0.8), (-0.7, 0.4, 1.1, -2.0, 0.6, 1.3)])
    add("dot_const", [(0.3, -1.2, 2.5), (-0.7, 0.4, 1.1)], (0.5, -1.5, 2.0),
        "dot_const(xs=(0.5, -1.5, 2))")
    # the wider function set
    unit = (-0.8, -0.45, 0.3, 0.7, 0.9)
    for name in ("arcsin", "arccos", "arctanh"):
        add(name, _pts(unit))
    add("arccosh", _pts((1.2, 1.6, 2.7, 4.1)))
    add("tan", _pts((-1.2, -0.45, 0.3, 0.8, 1.3)))
    add("log2", _pts(POSITIVE))
    add("log10", _pts(POSITIVE))
    add("hypot", _pairs(xs2, ys2), kink_points=[(0.0, 0.0)])
    add("arctan2", _pairs(ys2, xs2))
    for name in ("maximum", "minimum"):
        add(name, _pairs(xs2, ys2), kink_points=[(0.5, 0.5)])
    add("logaddexp", _pairs(xs2, ys2) + ((0.5, 0.5), (3.0, -2.0)))
    for lo, hi in ((-1.0, 2.0), (0.0, 0.5)):
        add("clip", _pts(GRID), (lo, hi), f"clip(bounds=({lo:g}, {hi:g}))",
            kink_points=[(lo,), (hi,)])
        add("hardtanh", _pts(GRID), (lo, hi), f"hardtanh(bounds=({lo:g}, {hi:g}))",
            kink_points=[(lo,), (hi,)])
    wide = (-4.0, -2.3, -0.45, 0.3, 2.7, 4.1, 7.5)
    add("relu6", _pts(wide), kink_points=[(0.0,), (6.0,)])
    add("hardsigmoid", _pts(wide), kink_points=[(-3.0,), (3.0,)])
    add("hardswish", _pts(wide), kink_points=[(-3.0,), (3.0,)])
    for a in (1.0, 0.5):
        add("celu", _pts(GRID), a, f"celu(alpha={a:g})", kink_points=[(0.0,)], kink_order=2)
    add("softsign", _pts(GRID), kink_points=[(0.0,)], kink_order=2)
    for b in (2.0, 0.5):
        add("softplus_beta", _pts(GRID), b, f"softplus_beta(beta={b:g})")

    covered = {c.name for c in cases}
    for name, prim in P.items():  # generic: unary, no parameter, whole real line
        if name not in covered and prim.arity == 1 and not prim.has_param:
            cases.append(PrimitiveCase(name, name, _apply(prim), _pts(GRID),
                                       _pts(prim.kinks)))
    return cases
