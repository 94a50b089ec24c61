"""Finite-difference checks of Tensor derivatives, element by element.

``tensor_gradcheck(f, inputs)`` differentiates the scalar ``L = Σ f(*inputs) · r``
(``r`` a fixed random array of the output's shape, so every output element
counts; ``r = 1`` for a one-element output) with respect to every element of
every input, in reverse mode (``backward``) and in forward mode (the
engine's ``push_tangents``, one tangent per element), and compares both with
a central difference ``(L(x + h e_i) - L(x - h e_i)) / 2h`` computed in
float64. For large inputs, ``samples=k`` checks ``k`` randomly chosen
elements per input instead of all of them.

When an element fails, :func:`find_tensor_culprits` checks every node of
``f``'s graph on its own: the node's primitive is run again on fresh Tensors
holding its recorded operands, and the engine's vector-Jacobian product along
a random cotangent ``u`` is compared, for each operand ``j`` that depends on
the inputs, with a Richardson-extrapolated central difference along a random
direction ``v_j``: ``Σ grad_j(Σ out·u) · v_j`` against
``d/dh Σ rerun(p_j + h v_j) · u``. ``report.culprits`` lists the first
disagreeing nodes (:class:`TensorCulprit`, with the user's source line).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core.engine import enable_grad, no_grad, topological_order
from ..core.primitives import HOOKS as _HOOKS
from .._report import CheckReport, check_tolerances
from . import TENSOR_PRIMITIVES, _ELEMENTWISE, Tensor, _apply, _apply_ew, gradients, jvp

__all__ = ["tensor_gradcheck", "TensorCheckReport", "TensorCheckRow", "TensorCulprit",
           "find_tensor_culprits", "graph_culprits"]


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


def _shape_text(a: Any) -> str:
    return f"shape {tuple(np.shape(a))}"


def _param_text(p: Any) -> str:
    """A parameter, short: arrays by their shape, long reprs cut."""
    if isinstance(p, np.ndarray):
        return f"array of {_shape_text(p)}" if p.size > 4 else np.array2string(p, precision=6)
    if isinstance(p, (tuple, list)):
        inner = ", ".join(_param_text(e) for e in p)
        return f"({inner}{',' if len(p) == 1 else ''})" if isinstance(p, tuple) else f"[{inner}]"
    text = repr(p)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class TensorCulprit:
    """A Tensor node whose engine derivative disagrees with finite differences
    of its own operation, re-run at its recorded operands.

    The fields are those of the scalar :class:`~autograd_core.derivatives.gradcheck.Culprit`:
    ``node`` (of the graph ``report.graph``; ``draw_graph(report.graph,
    highlight=report.culprits)`` marks it), ``primitive``, ``operands`` (copies
    of the recorded operand arrays; the text shows their shapes), ``param``,
    ``operand`` (the operand index), ``order`` (1), ``expected`` (the finite
    difference) and ``got`` (the engine's value), both the derivative along a
    random direction: ``Σ (∂(Σ out·u)/∂operand) · v`` for seeded random ``u``
    and ``v``, and ``source``, the ``file:line`` of the user's code that made
    the node (``None`` if unknown)."""

    node: Any
    primitive: str
    operands: tuple[np.ndarray, ...]
    param: Any
    operand: int
    order: int
    expected: float
    got: float
    source: str | None = None

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """The operands' shapes."""
        return tuple(a.shape for a in self.operands)

    def __str__(self) -> str:
        ops = ", ".join(_shape_text(a) for a in self.operands)
        if self.param is not None:
            ops += f"; param={_param_text(self.param)}"
        at = f" at {self.source}" if self.source else ""
        return (f"{self.primitive}({ops}){at}: d/d(operand {self.operand}) along a random "
                f"direction is {self.got:.12g}, finite differences give {self.expected:.12g}")


@dataclass
class TensorCheckReport(CheckReport):
    rows: list[TensorCheckRow] = field(default_factory=list)
    atol: float = 0.0
    rtol: float = 0.0
    #: positions of the inputs with no path to the output (their rows check nothing)
    unused: list[int] = field(default_factory=list)
    allow_unused: bool = True
    #: nodes whose derivative disagrees with finite differences of their own
    #: operation (searched when an element fails; see :func:`find_tensor_culprits`)
    culprits: list[TensorCulprit] = field(default_factory=list)
    #: said when every node agrees (the graph itself is wrong) or no node could be checked
    culprit_note: str = ""
    #: the output node of the graph the culprits belong to (draw it with
    #: ``draw_graph(report.graph, highlight=report.culprits)``); None if none
    graph: Any = None

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
        lines = [self.summary()]
        if self.culprits:
            lines.append("culprit node(s), local derivatives that disagree with finite "
                         "differences of their operation:")
            lines.extend(f"  {c}" for c in self.culprits)
        elif self.culprit_note:
            lines.append(self.culprit_note)
        return "\n".join(lines)


def tensor_gradcheck(f: Callable[..., Tensor], inputs: Sequence[Any], *, eps: float = 1e-6,
                     atol: float = 1e-6, rtol: float = 1e-5, samples: int | None = None,
                     seed: int = 0, allow_unused: bool = True,
                     culprits: bool = True) -> TensorCheckReport:
    """Check ∂f/∂x of every element of every input (or ``samples`` random
    elements per input) against central differences; see the module doc.
    When an element fails, ``report.culprits`` names the first nodes whose
    own derivative is wrong (:func:`find_tensor_culprits`; ``culprits=False``
    skips the search)."""
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
    if culprits and report.failures:
        report.culprits, report.culprit_note, report.graph = find_tensor_culprits(
            f, base, atol=atol, rtol=rtol, seed=seed)
    return report


# ------------------------------------------------------------------ culprits

def _key(x: Any) -> Any:
    """A hashable stand-in for operands/parameters (arrays by their bytes)."""
    if isinstance(x, np.ndarray):
        return ("array", x.shape, x.dtype.str, x.tobytes())
    if isinstance(x, (tuple, list)):
        return (type(x).__name__, tuple(_key(e) for e in x))
    try:
        hash(x)
        return x
    except TypeError:
        return ("repr", repr(x))


def _runner(prim: Any) -> Callable[..., Tensor] | None:
    """How a node of ``prim`` was made: ``_apply_ew`` for an elementwise
    primitive (a scalar rule run on arrays), ``_apply`` for an array
    primitive of the Tensor table; None for anything else (not re-run)."""
    if prim is None:
        return None
    if _ELEMENTWISE.get(prim.name) is prim:
        return _apply_ew
    if TENSOR_PRIMITIVES.get(prim.name) is prim:
        return _apply
    return None


#: the steps along a direction (whose elements are scaled by max(1, |element|), so
#: each element moves relative to its size); the estimate with the smallest error
#: estimate wins (a step that leaves the domain, log near 0, or straddles a kink
#: is not used)
_STEPS = (1e-3, 1e-5, 1e-7, 1e-9)
_EPS = float(np.finfo(np.float64).eps)


def _directional(value: Callable[[list[np.ndarray]], np.ndarray], datas: list[np.ndarray],
                 j: int, v: np.ndarray, u: np.ndarray, atol: float,
                 rtol: float) -> tuple[float, float] | None:
    """(d/dh Σ value(p_j + h v) · u at h = 0, its error estimate): central
    differences at h and h/2, Richardson-extrapolated, at the step of
    ``_STEPS`` with the smallest error estimate (truncation: the change from
    the h/2 estimate; rounding: ε·Σ|out·u|/h), if the estimate of another step
    agrees with it. None where no two steps give agreeing estimates in the
    domain with agreeing one-sided derivatives (a kink)."""
    def at(t: float) -> np.ndarray:
        moved = list(datas)
        moved[j] = datas[j] + t * v
        return value(moved)

    try:
        with np.errstate(all="ignore"):
            o0 = value(list(datas))
    except (ArithmeticError, ValueError, TypeError):
        return None
    size = float(np.sum(np.abs(o0 * u)))
    found: list[tuple[float, float]] = []
    for h in _STEPS:
        try:
            with np.errstate(all="ignore"):
                outs = {t: at(t) for t in (h, -h, h / 2, -h / 2)}
        except (ArithmeticError, ValueError, TypeError):
            continue
        if not all(np.all(np.isfinite(o)) for o in (o0, *outs.values())):
            continue

        # per output element (weighted by u), so that errors of different
        # elements cannot cancel in the sums that judge the estimate
        half = (outs[h / 2] - outs[-h / 2]) * u / h
        central = (4.0 * half - (outs[h] - outs[-h]) * u / (2 * h)) / 3.0
        right = (4.0 * (outs[h / 2] - o0) - (outs[h] - o0)) * u / h
        left = (4.0 * (o0 - outs[-h / 2]) - (o0 - outs[-h])) * u / h
        rounding = 16.0 * _EPS * size / h
        change = float(np.sum(np.abs(central - half)))
        err = change + rounding
        # smooth: the extrapolated one-sided derivatives agree to O(h²), about the
        # change of the central estimate from h to h/2; a kink between p - h v and
        # p + h v (abs at 0, a tie of max) makes them differ: no derivative there
        total = float(np.sum(central))
        if float(np.sum(np.abs(right - left))) > (atol + rtol * abs(total)
                                                  + 4.0 * change + 2.0 * rounding):
            continue
        found.append((total, err))
    # the most precise estimate, confirmed by another step's (a kink met at one
    # step only can fool the test above: one estimate alone is not trusted)
    found.sort(key=lambda e: e[1])
    for total, err in found[:1]:
        if any(abs(total - t2) <= err + e2 + atol + rtol * abs(total) for t2, e2 in found[1:]):
            return total, err
    return None


def _check_node(node: Any, operands: list[int], rng: np.random.Generator, atol: float,
                rtol: float, trials: int = 2) -> tuple[int, float, float] | None:
    """(operand, numeric, analytic) of the first operand of ``node`` whose
    engine derivative disagrees with finite differences of the node's
    operation re-run at its recorded operands; None if all agree."""
    run = _runner(node._prim)
    prim, param = node._prim, node._param
    datas = [np.array(p._data, dtype=np.float64) for p in node._parents]

    def value(arrays: list[np.ndarray]) -> np.ndarray:
        with no_grad():
            return run(prim, tuple(Tensor(a) for a in arrays), param)._data  # type: ignore[misc]

    try:
        with enable_grad():
            ins = [Tensor(a) for a in datas]
            out = run(prim, tuple(ins), param)  # type: ignore[misc]
        u = rng.standard_normal(out.shape)
        grads = gradients(out, ins, grad=u)
    except (ArithmeticError, ValueError, TypeError):
        return None
    for j in operands:
        for _ in range(trials):
            v = rng.standard_normal(datas[j].shape) * np.maximum(1.0, np.abs(datas[j]))
            est = _directional(value, datas, j, v, u, atol, rtol)
            if est is None:
                continue
            numeric, err = est
            got = float(np.sum(np.asarray(grads[j], dtype=np.float64) * v))
            # beyond the check's tolerance and the finite difference's own error (NaN fails too)
            if not (abs(got - numeric) <= atol + rtol * abs(numeric) + err):
                return j, numeric, got
    return None


def find_tensor_culprits(f: Callable[..., Tensor], inputs: Sequence[Any], *, atol: float = 1e-6,
                         rtol: float = 1e-5, seed: int = 0,
                         limit: int = 3) -> tuple[list[TensorCulprit], str, Any]:
    """The first nodes (in topological order, at most ``limit``) of ``f``'s
    graph at ``inputs`` whose engine derivative disagrees with finite
    differences of their own operation, a note when none does, and the
    graph's output node.

    Each node made by a Tensor primitive (elementwise or array) is re-run on
    fresh Tensors holding its recorded operands (its parameter held fixed)
    and, for every operand that depends on the inputs, the engine's
    vector-Jacobian product along a random cotangent is compared with a
    Richardson-extrapolated central difference along a random direction
    (seeded by ``seed``; a node agrees when ``|got - expected| <= atol +
    rtol * |expected|`` plus the difference's own error estimate, and only an
    estimate two step sizes agree on is used). Nodes of other operations are
    not checked; neither are
    nodes with the same operation, operands and parameter as one checked
    before, nor operands at a kink."""
    base = [np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]
    ts = [Tensor(a) for a in base]
    return graph_culprits(lambda: f(*ts), ts, atol=atol, rtol=rtol, seed=seed, limit=limit)


def graph_culprits(build: Callable[[], Any], leaves: Sequence[Tensor], *, atol: float = 1e-6,
                   rtol: float = 1e-5, seed: int = 0,
                   limit: int = 3) -> tuple[list[TensorCulprit], str, Any]:
    """:func:`find_tensor_culprits` of the graph ``build()`` records (with
    the source lines of its nodes), the operands that depend on ``leaves``
    checked (``assert_module_gradients`` passes a model's parameters)."""
    # derivatives.anomaly (a layer above) registers these: the nodes' source lines
    record_sources = _HOOKS.get("record_sources", contextlib.nullcontext)
    source_of = _HOOKS.get("source_of", lambda node: None)
    with record_sources():
        with enable_grad():
            out = build()
        if not isinstance(out, Tensor):
            return [], "", None
        order = topological_order(out)
        sources = {id(n): source_of(n) for n in order if n._parents}
    live = set(map(id, leaves))  # the nodes that depend on the leaves
    for n in order:
        if n._parents and any(id(p) in live for p in n._parents):
            live.add(id(n))
    rng = np.random.default_rng(seed)
    found: list[TensorCulprit] = []
    seen: set[Any] = set()
    skipped: set[str] = set()
    for node in order:
        if not node._parents or id(node) not in live:
            continue
        if _runner(node._prim) is None:
            skipped.add(node._prim.name if node._prim is not None else "?")
            continue
        operands = [j for j, p in enumerate(node._parents) if id(p) in live]
        key = (node._prim.name, _key(tuple(p._data for p in node._parents)), _key(node._param))
        if key in seen:
            continue
        seen.add(key)
        bad = _check_node(node, operands, rng, atol, rtol)
        if bad is None:
            continue
        j, expected, got = bad
        found.append(TensorCulprit(node=node, primitive=node._prim.name,
                                   operands=tuple(np.array(p._data) for p in node._parents),
                                   param=node._param, operand=j, order=1, expected=expected,
                                   got=got, source=sources.get(id(node))))
        if len(found) >= limit:
            break
    if found:
        return found, "", out
    note = ("every node's local derivatives agree with finite differences of its operation "
            "(along random directions): the graph itself is wrong (a value taken out with "
            ".data or float() and put back as a constant?) or f is not differentiable here")
    if skipped:
        note += f"; node(s) of {', '.join(sorted(skipped))} could not be re-run and were not checked"
    return [], note, out
