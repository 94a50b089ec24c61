"""Static graphs: capture a dynamic graph once, replay it fast (静态计算图).

The engine builds a *dynamic* graph (动态计算图): every run of your Python code
records new ``Value`` nodes, so ordinary ``if``/``for`` decide the graph's shape
(PyTorch, Chainer, DyNet). A *static* graph (静态计算图, Theano, TensorFlow 1)
is built once and then evaluated many times on new numbers.

``static(f, *example_inputs)`` runs ``f`` once on fresh leaf Values, walks the
recorded graph (:func:`~autograd_core.core.engine.topological_order`) and flattens
it into node records: per node its primitive (``node._prim``, the one table of
primitives), its parameter and the indices of its operands. Replaying never
makes a ``Value``: the forward pass calls each primitive's ``rule`` on floats
(so the local derivatives come for free, exactly as the engine computes them),
and the backward pass accumulates ``local × gradient`` along the recorded
operand indices in the engine's order (reverse topological order, operands in
order), so values and gradients equal the dynamic engine's bit for bit.

By default the records are turned into one specialised Python function
(generated source, compiled once, shown by :attr:`StaticGraph.source`). Rules
made only of ``+ - *`` (add, mul, dot, sum, the ``*_const`` ops) are run once
on symbols while generating and the expression they build is written out (the
rule's own arithmetic, in its own order: a ``dot`` node becomes
``w0 * x0 + w1 * x1 + ...``); every other rule is called. The
``backend="loop"`` alternative runs a plain loop over the flat arrays.

Honest limits: Python decisions taken on data while ``f`` ran are frozen. The
comparisons of Values ``f`` makes (``if x > 0:``) are recorded and re-checked on
every replay (:class:`StaticGraphBranchError` when one would turn out
differently); decisions on ``.data``, ``float(v)`` or numbers computed under
``no_grad`` cannot be seen and are silently frozen.
"""

from __future__ import annotations

import inspect
import math
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .core import engine as _engine
from .core.engine import (Value, _as_float, apply, comparison_hook, creation_hook, enable_grad,
                     topological_order)
from .core.naming import node_names
from .core.primitives import Primitive

__all__ = ["static", "StaticGraph", "StaticGraphBranchError", "StaticGradient", "StaticNode",
           "Comparison"]

INPUT, PARAM, CONST, OP = "input", "param", "const", "op"

#: The comparisons a replay re-checks, written into generated code from this
#: table only (never from the recorded text).
_CMP_OPS = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
_watch_lock = threading.Lock()

#: Longest ``a + b + c ...`` chain put in one generated expression (the
#: compiler recurses on nested binary operations).
_TERMS_PER_STATEMENT = 200


def _numbers(xs: Sequence[Any], what: Callable[[int], str]) -> list[float]:
    """Floats for the replay: floats as they are, a Value's data, other real
    numbers converted (a TypeError naming ``what(i)`` for anything else)."""
    out = []
    for i, x in enumerate(xs):
        if type(x) is float:
            out.append(x)
        elif isinstance(x, Value):
            out.append(x._data)
        else:
            out.append(_as_float(x, what(i)))
    return out


class StaticGraphBranchError(ValueError):
    """A replay would need a different graph: a comparison of Values that
    ``f`` made at capture time comes out differently for the new numbers."""


class StaticGradient(NamedTuple):
    """What :meth:`StaticGraph.grad` returns: the output's value, the gradient
    for each input (in order) and for each parameter (in ``g.params`` order)."""

    value: float
    inputs: tuple[float, ...]
    params: tuple[float, ...]


class StaticNode(NamedTuple):
    """One node record of the flat form.

    ``kind`` is ``"input"``, ``"param"``, ``"const"`` or ``"op"``; ``slot`` the
    input or parameter number (else ``None``); ``operands`` the indices of the
    operand nodes (operand order, repeated when used twice); ``data`` the
    number a constant holds (``None`` for other kinds)."""

    index: int
    kind: str
    op: str
    operands: tuple[int, ...]
    param: Any
    label: str
    slot: int | None
    data: float | None


class Comparison(NamedTuple):
    """A comparison of Values recorded while ``f`` ran: ``node op other`` was
    ``result``. ``other`` is a node index, or ``None`` with ``constant`` set."""

    node: int
    op: str
    other: int | None
    constant: float | None
    result: bool


def _compare(a: float, op: str, b: float) -> bool:
    # the same float comparison as Value._compare
    return a < b if op == "<" else a <= b if op == "<=" else a > b if op == ">" else a >= b


# ------------------------------------------------------------------ rule tracing
#
# A rule made only of + - * (add, mul, dot, sum, the *_const ops, neg) is run
# once on symbols at code-generation time; the expression it builds is written
# into the generated function, so the replay does those float operations
# inline instead of calling the rule. It is the rule's own arithmetic, in the
# same order, so the floats are identical. Rules that do anything else
# (compare, call _math functions, divide, read .data) are simply called.
# Python 3.12 made sum() of floats compensated, which a traced chain of
# additions would not reproduce: there every rule is called.

_CAN_INLINE = sys.version_info < (3, 12)
_ADD_PREC, _MUL_PREC, _NEG_PREC, _ATOM = 1, 2, 3, 4
_MAX_DEPTH = 64  # spill deeper expressions into a temporary (compiler recursion)


class _NotTraceable(Exception):
    pass


class _Tracer:
    """Collects spilled temporaries and named constants for one rule trace."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.lines: list[str] = []
        self.consts: dict[str, float] = {}

    def literal(self, x: Any) -> _Sym:
        if type(x) is int and abs(x) < 2 ** 53:
            x = float(x)
        if type(x) is not float:
            raise _NotTraceable
        if math.isfinite(x):
            code = repr(x) if math.copysign(1.0, x) > 0 else f"({x!r})"
        else:
            code = f"{self.prefix}k{len(self.consts)}"
            self.consts[code] = x
        return _Sym(code, _ATOM, 0, self)

    def spill(self, code: str) -> _Sym:
        name = f"{self.prefix}{len(self.lines)}"
        self.lines.append(f"    {name} = {code}")
        return _Sym(name, _ATOM, 0, self)


class _Sym:
    """A symbolic float: the Python expression computing it."""

    __slots__ = ("code", "prec", "depth", "tracer")

    def __init__(self, code: str, prec: int, depth: int, tracer: _Tracer) -> None:
        self.code, self.prec, self.depth, self.tracer = code, prec, depth, tracer

    def _lift(self, x: Any) -> _Sym:
        if isinstance(x, _Sym):
            if x.tracer is not self.tracer:
                raise _NotTraceable
            return x
        return self.tracer.literal(x)

    def _bin(self, a: Any, b: Any, op: str, prec: int) -> _Sym:
        a, b = self._lift(a), self._lift(b)
        left = a.code if a.prec >= prec else f"({a.code})"
        right = b.code if b.prec > prec else f"({b.code})"
        out = _Sym(f"{left} {op} {right}", prec, max(a.depth, b.depth) + 1, self.tracer)
        return self.tracer.spill(out.code) if out.depth > _MAX_DEPTH else out

    def __add__(self, o: Any) -> _Sym:
        return self._bin(self, o, "+", _ADD_PREC)

    def __radd__(self, o: Any) -> _Sym:
        return self._bin(o, self, "+", _ADD_PREC)

    def __sub__(self, o: Any) -> _Sym:
        return self._bin(self, o, "-", _ADD_PREC)

    def __rsub__(self, o: Any) -> _Sym:
        return self._bin(o, self, "-", _ADD_PREC)

    def __mul__(self, o: Any) -> _Sym:
        return self._bin(self, o, "*", _MUL_PREC)

    def __rmul__(self, o: Any) -> _Sym:
        return self._bin(o, self, "*", _MUL_PREC)

    def __neg__(self) -> _Sym:
        inner = self.code if self.prec >= _NEG_PREC else f"({self.code})"
        return _Sym(f"-{inner}", _NEG_PREC, self.depth + 1, self.tracer)

    def _refuse(self, *_: Any) -> Any:
        raise _NotTraceable

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse  # type: ignore[assignment]
    __bool__ = __float__ = __int__ = __index__ = __hash__ = __abs__ = _refuse  # type: ignore[assignment]
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __mod__ = __floordiv__ = _refuse


def _trace(prim: Primitive, operand_codes: list[str], param: Any, prefix: str
           ) -> tuple[list[str], tuple[str, int], list[tuple[str, int]], dict[str, float]] | None:
    """Run ``prim.rule`` on symbols; None when the rule is not plain + - *."""
    tr = _Tracer(prefix)
    syms = [_Sym(c, _ATOM, 0, tr) for c in operand_codes]
    args: list[Any] = syms + ([param] if prim.has_param else [])
    try:
        out, local = prim.rule(*args)
        local = tuple(local)
        if len(local) != len(syms):
            return None
        lift = syms[0]._lift if syms else tr.literal
        res = lift(out)
        locs = [lift(x) for x in local]
    except Exception:  # anything the tracer does not model: call the rule instead
        return None
    return tr.lines, (res.code, res.prec), [(x.code, x.prec) for x in locs], tr.consts


class StaticGraph:
    """A captured graph, replayed on new numbers without building Values.

    Made by :func:`static`. Calls take the inputs positionally, in the order
    ``f`` takes them; ``params=None`` (the default) uses the current ``.data``
    of the captured parameter Values (:attr:`params`), so a training loop that
    ``assign()``s new numbers to them just works; or pass a sequence of numbers
    (one per parameter, in :attr:`params` order) to use those instead.
    """

    def __init__(self, *, kinds: list[str], prims: list[Primitive | None], params_: list[Any],
                 operands: list[tuple[int, ...]], labels: list[str], slots: list[int | None],
                 consts: list[float | None], n_root: int, input_nodes: list[int | None],
                 input_labels: list[str], param_values: list[Value], param_nodes: list[int | None],
                 comparisons: list[Comparison], names: list[str], example: list[float],
                 backend: str, eval_order: list[int] | None = None) -> None:
        self._kinds = kinds
        self._prims = prims
        self._nparams = params_
        self._operands = operands
        self._labels = labels
        self._slots = slots
        self._consts = consts
        self._n_root = n_root
        self._root = n_root - 1
        self._input_nodes = input_nodes
        self._input_labels = tuple(input_labels)
        self._param_values = tuple(param_values)
        self._param_nodes = param_nodes
        self._comparisons = tuple(comparisons)
        self._names = names
        self._example = tuple(example)
        self._backend = backend
        #: node indices in the order the forward pass evaluates them: the order
        #: f created them, so a replay fails where the dynamic program fails
        #: (indices themselves are the engine's topological order, for backward)
        self._eval = list(range(len(kinds))) if eval_order is None else eval_order
        self._cmp_at: dict[int, list[int]] | None = None
        self._need = self._needs_grad()
        self._prim_id: dict[int, int] = {}  # id(primitive) -> its number in generated names
        for prim in prims:
            if prim is not None and id(prim) not in self._prim_id:
                self._prim_id[id(prim)] = len(self._prim_id)
        self._fwd: Callable[..., float] | None = None
        self._fb: Callable[..., tuple] | None = None
        self._source: str | None = None
        self._inline = True  # write traceable rules out as + - * (False: call every rule)

    # ------------------------------------------------------------ inspection
    @property
    def params(self) -> tuple[Value, ...]:
        """The captured parameter Values (extra inputs), in slot order."""
        return self._param_values

    @property
    def param_labels(self) -> tuple[str, ...]:
        return tuple(p.label for p in self._param_values)

    @property
    def input_labels(self) -> tuple[str, ...]:
        """The inputs' names (``f``'s parameter names when it has them)."""
        return self._input_labels

    @property
    def num_inputs(self) -> int:
        return len(self._input_nodes)

    @property
    def num_nodes(self) -> int:
        """Nodes of the output's graph (leaves included)."""
        return self._n_root

    @property
    def example_inputs(self) -> tuple[float, ...]:
        return self._example

    @property
    def comparisons(self) -> tuple[Comparison, ...]:
        """The comparisons of Values ``f`` made at capture time, re-checked on replay."""
        return self._comparisons

    @property
    def backend(self) -> str:
        return self._backend

    @property
    def nodes(self) -> tuple[StaticNode, ...]:
        """The flat form: one record per node, operands before the nodes using
        them; the output is the last record of the output's graph
        (``nodes[num_nodes - 1]``); records after it are only needed to
        re-check comparisons."""
        return tuple(
            StaticNode(i, self._kinds[i], p.name if (p := self._prims[i]) is not None else "",
                       self._operands[i], self._nparams[i], self._labels[i], self._slots[i],
                       self._consts[i])
            for i in range(len(self._kinds)))

    @property
    def source(self) -> str:
        """The generated Python source of the forward+backward replay function."""
        if self._source is None:
            self._source = self._generate(grad=True)[0]
        return self._source

    def __len__(self) -> int:
        return self._n_root

    def __repr__(self) -> str:
        ops = sum(1 for k in self._kinds[:self._n_root] if k == OP)
        return (f"<StaticGraph inputs=({', '.join(self._input_labels)}) params={len(self._param_values)} "
                f"nodes={self._n_root} ops={ops} comparisons={len(self._comparisons)} "
                f"backend={self._backend!r}>")

    # ------------------------------------------------------------ arguments
    def _inputs(self, xs: Sequence[Any], where: str) -> list[float]:
        n = len(self._input_nodes)
        if len(xs) != n:
            names = ", ".join(self._input_labels)
            raise TypeError(f"{where}: this static graph takes {n} input(s) ({names}), got {len(xs)}")
        return _numbers(xs, lambda i: f"{where}: input {i} ({self._input_labels[i]})")

    def _param_data(self, params: Sequence[Any] | None, where: str) -> list[float]:
        if params is None:
            return [p._data for p in self._param_values]
        if isinstance(params, (str, bytes)) or not hasattr(params, "__len__"):
            params = list(params)  # an iterator, e.g. model.parameters() as a generator
        n = len(self._param_values)
        if len(params) != n:
            raise ValueError(f"{where}: this static graph has {n} parameter(s), "
                             f"got params with {len(params)}")
        return _numbers(params, lambda i: f"{where}: params[{i}] "
                                          f"({self._param_values[i].label or 'unlabelled'})")

    # ------------------------------------------------------------ replay
    def __call__(self, *xs: Any, params: Sequence[Any] | None = None) -> float:
        """The output's value for inputs ``xs``."""
        X = self._inputs(xs, "call")
        P = self._param_data(params, "call")
        if self._backend == "loop":
            return self._loop_forward(X, P)[0][self._root]
        if self._fwd is None:
            self._fwd = self._compile(grad=False)
        return self._fwd(X, P)

    def grad(self, *xs: Any, params: Sequence[Any] | None = None, grad: float = 1.0) -> StaticGradient:
        """Value and gradients: ``StaticGradient(value, inputs, params)`` with
        ∂output/∂input for each input and ∂output/∂param for each parameter
        (times ``grad``, as ``backward(grad)``). Equal to the dynamic engine's
        ``gradients(f(*xs), ...)`` exactly. Touches no ``.grad``."""
        X = self._inputs(xs, "grad")
        P = self._param_data(params, "grad")
        seed = _as_float(grad, "grad")
        if self._backend == "loop":
            v, gin, gpar = self._loop_grad(X, P, seed)
        else:
            if self._fb is None:
                self._fb = self._compile(grad=True)
            v, gin, gpar = self._fb(X, P, seed)
        return StaticGradient(v, gin, gpar)

    def backward(self, *xs: Any, grad: float = 1.0) -> float:
        """Like ``f(*xs).backward(grad)`` for the captured parameters: adds
        ∂output/∂param to each captured parameter Value's ``.grad`` (they
        accumulate, as in the engine) using their current ``.data``; returns the
        output's value. For training loops written against the dynamic API."""
        v, _, gpar = self.grad(*xs, grad=grad)
        for p, gp in zip(self._param_values, gpar):
            p.grad = p.grad + gp
        return v

    def jvp(self, xs: Sequence[Any], tangents: Sequence[Any], *, params: Sequence[Any] | None = None,
            param_tangents: Sequence[Any] | None = None) -> tuple[float, float]:
        """Forward mode: ``(value, directional derivative)`` along ``tangents``
        (one per input; ``param_tangents`` one per parameter, default 0).

        Pushes tangents through the flat form with the recorded local
        derivatives, exactly as :func:`~autograd_core.core.engine.push_tangents`."""
        X = self._inputs(list(xs), "jvp")
        P = self._param_data(params, "jvp")
        if len(tangents) != len(X):
            raise TypeError(f"jvp: {len(X)} input(s) need {len(X)} tangent(s), got {len(tangents)}")
        T = [_as_float(t, f"jvp: tangent {i}") for i, t in enumerate(tangents)]
        if param_tangents is None:
            PT = [0.0] * len(P)
        else:
            if len(param_tangents) != len(P):
                raise ValueError(f"jvp: {len(P)} parameter(s) need {len(P)} param_tangents, "
                                 f"got {len(param_tangents)}")
            PT = [_as_float(t, f"jvp: param_tangents[{i}]") for i, t in enumerate(param_tangents)]
        V, LOC = self._loop_forward(X, P)
        tan = [0.0] * self._n_root
        # as push_tangents: a node no seeded node reaches adds nothing; every
        # other term is computed, also a zero tangent (0 * inf is nan)
        live = [False] * self._n_root
        seed_params = param_tangents is not None
        kinds, slots, operands = self._kinds, self._slots, self._operands
        for i in range(self._n_root):
            k = kinds[i]
            if k == OP:
                t = 0.0
                for j, loc in zip(operands[i], LOC[i]):
                    if live[j]:
                        t = t + loc * tan[j]
                        live[i] = True
                tan[i] = t
            elif k == INPUT:
                tan[i] = T[slots[i]]
                live[i] = True
            elif k == PARAM:
                tan[i] = PT[slots[i]]
                live[i] = seed_params
        return V[self._root], tan[self._root]

    # ------------------------------------------------------------ back to Values
    def to_value(self, *xs: Any, params: Sequence[Any] | None = None) -> Value:
        """The dynamic graph rebuilt from the same node records at inputs ``xs``
        (fresh leaves labelled like the captured ones; the captured parameter
        Values are not touched). Draw it, explain it, call ``backward()`` on it."""
        X = self._inputs(xs, "to_value")
        P = self._param_data(params, "to_value")
        vals: list[Value | None] = [None] * len(self._kinds)
        datas = [0.0] * len(self._kinds)
        checks = self._cmp_after()
        with enable_grad():
            for i in self._eval:
                k = self._kinds[i]
                if k == OP:
                    prim = self._prims[i]
                    args = [vals[j] for j in self._operands[i]]
                    v = apply(prim, *args, param=self._nparams[i]) if prim.has_param else apply(prim, *args)
                elif k == INPUT:
                    v = Value(X[self._slots[i]], self._labels[i])
                elif k == PARAM:
                    v = Value(P[self._slots[i]], self._labels[i])
                else:
                    v = Value(self._consts[i], self._labels[i])
                vals[i] = v
                datas[i] = v._data
                for ci in checks.get(i, ()):
                    self._check(ci, datas)
        return vals[self._root]

    @property
    def graph(self) -> Value:
        """``to_value`` at the example inputs (and the parameters' current data)."""
        return self.to_value(*self._example)

    # ------------------------------------------------------------ internals
    def _check(self, ci: int, V: Sequence[float]) -> None:
        c = self._comparisons[ci]
        b = V[c.other] if c.other is not None else c.constant
        if _compare(V[c.node], c.op, b) != c.result:
            raise self._branch_error(ci, V[c.node], b)

    def _branch_error(self, ci: int, a: float, b: float) -> StaticGraphBranchError:
        c = self._comparisons[ci]
        lhs = self._names[c.node]
        rhs = self._names[c.other] if c.other is not None else f"{c.constant!r}"
        now = f"{lhs} = {a!r}" + (f", {rhs} = {b!r}" if c.other is not None else "")
        return StaticGraphBranchError(
            f"the comparison {lhs} {c.op} {rhs} was {c.result} when the graph was captured "
            f"but is {not c.result} now ({now}): f took a data-dependent branch there, so this "
            "static graph does not describe f at these numbers; capture again with static(f, ...) "
            "or use the dynamic engine")

    def _needs_grad(self) -> list[bool]:
        need = [False] * len(self._kinds)
        for i in range(self._n_root):
            k = self._kinds[i]
            if k == INPUT or k == PARAM:
                need[i] = True
            elif k == OP:
                need[i] = any(need[j] for j in self._operands[i])
        return need

    def _cmp_after(self) -> dict[int, list[int]]:
        """Comparison checks keyed by the node after which both operands exist."""
        if self._cmp_at is not None:
            return self._cmp_at
        at: dict[int, list[int]] = {}
        pos = {i: k for k, i in enumerate(self._eval)} if self._comparisons else {}
        for ci, c in enumerate(self._comparisons):  # nodes are evaluated in self._eval order
            last = c.node if c.other is None else max(c.node, c.other, key=pos.__getitem__)
            at.setdefault(last, []).append(ci)
        self._cmp_at = at
        return at

    def _loop_forward(self, X: list[float], P: list[float]) -> tuple[list[float], list[tuple]]:
        n = len(self._kinds)
        V = [0.0] * n
        LOC: list[tuple] = [()] * n
        kinds, prims, ops, nparams, slots = (self._kinds, self._prims, self._operands,
                                             self._nparams, self._slots)
        checks = self._cmp_after()
        for i in self._eval:
            k = kinds[i]
            if k == OP:
                prim = prims[i]
                args = [V[j] for j in ops[i]]
                if prim.has_param:
                    args.append(nparams[i])
                if prim.check is not None:
                    err = prim.check(*args)
                    if err is not None:
                        raise self._domain(err, i)
                V[i], LOC[i] = prim.rule(*args)
            elif k == INPUT:
                V[i] = X[slots[i]]
            elif k == PARAM:
                V[i] = P[slots[i]]
            else:
                V[i] = self._consts[i]
            if i in checks:
                for ci in checks[i]:
                    self._check(ci, V)
        return V, LOC

    def _loop_grad(self, X: list[float], P: list[float], seed: float) -> tuple:
        V, LOC = self._loop_forward(X, P)
        G = [0.0] * self._n_root
        G[self._root] = seed
        need, ops = self._need, self._operands
        for i in range(self._root, -1, -1):  # reverse topological order, as engine._backprop
            if self._kinds[i] == OP and need[i]:
                g = G[i]
                for j, loc in zip(ops[i], LOC[i]):
                    G[j] += loc * g
        gin = tuple(G[j] if j is not None and j < self._n_root else 0.0 for j in self._input_nodes)
        gpar = tuple(G[j] if j is not None and j < self._n_root else 0.0 for j in self._param_nodes)
        return V[self._root], gin, gpar

    def _domain(self, err: BaseException, i: int) -> BaseException:
        err.add_note(f"(in a static graph replay, at node {self._names[i]} = {self._prims[i].name}"
                     f"({', '.join(self._names[j] for j in self._operands[i])}))")
        return err

    # ------------------------------------------------------------ code generation
    def _generate(self, grad: bool) -> tuple[str, dict[str, Any]]:
        """Source of ``_replay(X, P[, seed])`` specialised to this graph, and the
        names it needs (rules, checks, constants)."""
        n_all = len(self._kinds)
        n_root, root = self._n_root, self._root
        need = self._need if grad else [False] * n_all
        kinds, ops = self._kinds, self._operands
        ns: dict[str, Any] = {}
        inline = self._inline and _CAN_INLINE

        def val(i: int) -> str:
            return f"c{i}" if kinds[i] == CONST else f"v{i}"

        lines = [f"def _replay(X, P{', seed' if grad else ''}):"]
        w = lines.append
        if self._input_nodes:
            targets = [f"v{j}" if j is not None else "_" for j in self._input_nodes]
            w(f"    ({', '.join(targets)},) = X")
        if self._param_nodes:
            targets = [f"v{j}" if j is not None else "_" for j in self._param_nodes]
            w(f"    ({', '.join(targets)},) = P")
        for i, k in enumerate(kinds):
            if k == CONST:
                ns[f"c{i}"] = self._consts[i]
        checks = self._cmp_after()
        loc_code: list[list[str] | None] = [None] * n_all  # how the backward reads local derivs
        for i in self._eval:
            if kinds[i] == OP:
                prim = self._prims[i]
                pid = self._prim_id[id(prim)]
                operand_codes = [val(j) for j in ops[i]]
                args = ", ".join(operand_codes)
                if prim.has_param:
                    args += f", k{i}"
                    ns[f"k{i}"] = self._nparams[i]
                if prim.check is not None:
                    ns[f"K{pid}"] = prim.check
                    w(f"    e = K{pid}({args})")
                    w(f"    if e is not None: raise _domain(e, {i})")
                traced = (_trace(prim, operand_codes, self._nparams[i], f"t{i}_")
                          if inline else None)
                if traced is not None:
                    # the rule's own + - * written out (traced on symbols): same float ops
                    spills, out, locs, consts = traced
                    ns.update(consts)
                    lines.extend(spills)
                    w(f"    v{i} = {out[0]}")
                    if need[i] and i < n_root:
                        codes = []
                        for kk, (code, prec) in enumerate(locs):
                            if prec < _ATOM:
                                w(f"    l{i}_{kk} = {code}")
                                code = f"l{i}_{kk}"
                            codes.append(code)
                        loc_code[i] = codes
                else:
                    ns[f"R{pid}"] = prim.rule
                    want = need[i] and i < n_root
                    w(f"    v{i}, {f'l{i}' if want else '_'} = R{pid}({args})")
                    if want:
                        loc_code[i] = [f"l{i}[{kk}]" for kk in range(len(ops[i]))]
            for ci in checks.get(i, ()):
                c = self._comparisons[ci]
                rhs = val(c.other) if c.other is not None else f"q{ci}"
                if c.other is None:
                    ns[f"q{ci}"] = c.constant
                cmp = _CMP_OPS[c.op]  # the generator's own operator text
                # fail when the comparison no longer gives the recorded result
                if c.result:
                    w(f"    if not ({val(c.node)} {cmp} {rhs}): raise _branch({ci}, {val(c.node)}, {rhs})")
                else:
                    w(f"    if {val(c.node)} {cmp} {rhs}: raise _branch({ci}, {val(c.node)}, {rhs})")
        if not grad:
            w(f"    return {val(root)}")
            return "\n".join(lines) + "\n", ns
        # backward, pull form: each node's gradient is 0.0 + the contributions of
        # its children in the engine's order (children in reverse topological
        # order, then operands in order): the same additions as engine._backprop.
        incoming: list[list[str]] = [[] for _ in range(n_root)]
        for i in range(root, -1, -1):
            if kinds[i] == OP and need[i]:
                codes = loc_code[i]
                for k, j in enumerate(ops[i]):
                    if need[j]:
                        lc = codes[k]
                        # 1.0 * g == g and -1.0 * g == -g exactly in IEEE arithmetic
                        incoming[j].append(f"g{i}" if lc == "1.0" else
                                           f"-g{i}" if lc == "(-1.0)" else f"{lc}*g{i}")
        if need[root]:
            w(f"    g{root} = seed")
        for j in range(root - 1, -1, -1):
            if not need[j]:
                continue
            terms = incoming[j]
            first = True
            for s in range(0, max(len(terms), 1), _TERMS_PER_STATEMENT):
                chunk = terms[s:s + _TERMS_PER_STATEMENT]
                head = "0.0" if first else f"g{j}"
                w(f"    g{j} = {' + '.join([head] + chunk)}")
                first = False

        def gname(j: int | None) -> str:
            return f"g{j}" if j is not None and j < n_root and need[j] else "0.0"

        gin = "".join(f"{gname(j)}, " for j in self._input_nodes)
        gpar = "".join(f"{gname(j)}, " for j in self._param_nodes)
        w(f"    return {val(root)}, ({gin}), ({gpar})")
        return "\n".join(lines) + "\n", ns

    def _compile(self, grad: bool) -> Callable[..., Any]:
        src, ns = self._generate(grad)
        if grad:
            self._source = src
        ns.update({"_domain": self._domain, "_branch": self._branch_error,
                   "__builtins__": {}})
        code = compile(src, f"<static graph of {self._n_root} nodes>", "exec")
        exec(code, ns)  # noqa: S102 - our own generated source, never user text
        return ns["_replay"]



def _input_labels(f: Callable[..., Any], n: int) -> list[str]:
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return [f"x{i + 1}" for i in range(n)]
    names = [p.name for p in sig.parameters.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(names) >= n:
        return names[:n]
    return [f"x{i + 1}" for i in range(n)]


def static(f: Callable[..., Value], *example_inputs: Any, params: Sequence[Value] | None = None,
           backend: str = "codegen") -> StaticGraph:
    """Capture ``f``'s graph once: run ``f`` on one fresh leaf Value per example
    input and record the graph it returns, for fast replays on new numbers.

    Leaves of the graph that are not inputs are *parameters* (extra inputs of the
    replay, e.g. an ``nn`` model's weights) when they are labelled Values, else
    *constants* (numbers ``f`` used). Pass ``params=`` (a sequence of Values) to
    choose the parameters explicitly: then exactly those, in that order, and
    every other leaf is a constant. ``backend``: ``"codegen"`` (a generated,
    compiled Python function; the fast default) or ``"loop"`` (a loop over the
    flat arrays; no compile step)."""
    if not callable(f):
        raise TypeError(f"static needs a callable f, got {type(f).__name__}")
    if backend not in ("codegen", "loop"):
        raise ValueError(f"backend must be 'codegen' or 'loop', not {backend!r}")
    labels = _input_labels(f, len(example_inputs))
    xs = []
    for i, x in enumerate(example_inputs):
        if isinstance(x, Value):
            xs.append(Value(x._data, x.label or labels[i]))
        else:
            xs.append(Value(_as_float(x, f"static: example input {i}"), labels[i]))
    explicit: list[Value] | None = None
    if params is not None:
        explicit = list(params)
        for i, p in enumerate(explicit):
            if not isinstance(p, Value):
                raise TypeError(f"static: params[{i}] must be a Value, got {type(p).__name__}")
            if p._parents:
                raise ValueError(f"static: params[{i}] is not a leaf (it was computed by {p.op!r})")
        if len(set(map(id, explicit))) != len(explicit):
            raise ValueError("static: params lists a Value twice")

    seen: list[tuple[Value, Any, str, bool]] = []
    outer = comparison_hook.get()

    def hook(value: Value, other: Any, op: str, result: bool) -> None:
        if op not in _CMP_OPS:
            raise ValueError(f"static: unknown comparison {op!r}")
        seen.append((value, other, op, result))
        if outer is not None:
            outer(value, other, op, result)

    created: list[Value] = []  # every node f makes, in creation order
    outer_create = creation_hook.get()

    def on_create(v: Value) -> None:
        created.append(v)
        if outer_create is not None:
            outer_create(v)

    token = comparison_hook.set(hook)
    ctoken = creation_hook.set(on_create)
    with _watch_lock:
        _engine._watch_creation(+1)
    try:
        with enable_grad():
            out = f(*xs)
    finally:
        with _watch_lock:
            _engine._watch_creation(-1)
        creation_hook.reset(ctoken)
        comparison_hook.reset(token)
    if not isinstance(out, Value):
        raise TypeError(f"static: f must return a Value (one scalar output), got {type(out).__name__}")

    if type(out) is not Value:
        raise TypeError(f"static: f must return a scalar Value, got {type(out).__name__}")
    order = topological_order(out)
    for n in order:
        if type(n) is not Value:
            raise TypeError(f"static: the graph holds a {type(n).__name__} node; static graphs "
                            "replay scalar Value graphs only")
    n_root = len(order)
    index = {n: i for i, n in enumerate(order)}
    # nodes only needed to re-check comparisons come after the output's graph
    for value, other, _, _ in seen:
        for v in (value, other):
            if isinstance(v, Value) and v not in index:
                for n in topological_order(v):
                    if n not in index:
                        index[n] = len(order)
                        order.append(n)

    input_slot = {v: i for i, v in enumerate(xs)}
    if explicit is not None:
        param_slot = {p: i for i, p in enumerate(explicit)}
        param_values = explicit
    else:
        param_slot = {}
        param_values = []
        for n in order:
            if not n._parents and n.label and n not in input_slot:
                param_slot[n] = len(param_values)
                param_values.append(n)

    names_root = node_names(out, order[:n_root])
    kinds, prims, nparams, operands, labels, slots, consts, names = [], [], [], [], [], [], [], []
    for i, n in enumerate(order):
        labels.append(n.label)
        names.append(names_root.get(n) or n.label or (f"{n._data:.6g}" if not n._parents
                                                     else f"({n.op} #{i})"))
        if n._parents:
            kinds.append(OP)
            prims.append(n._prim)
            nparams.append(n._param)
            operands.append(tuple(index[p] for p in n._parents))
            slots.append(None)
            consts.append(None)
            continue
        prims.append(None)
        nparams.append(None)
        operands.append(())
        if n in input_slot:
            kinds.append(INPUT)
            slots.append(input_slot[n])
            consts.append(None)
        elif n in param_slot:
            kinds.append(PARAM)
            slots.append(param_slot[n])
            consts.append(None)
        else:
            kinds.append(CONST)
            slots.append(None)
            consts.append(n._data)

    comparisons = []
    for value, other, op, result in seen:
        if isinstance(other, Value):
            comparisons.append(Comparison(index[value], op, index[other], None, bool(result)))
        else:
            comparisons.append(Comparison(index[value], op, None, _as_float(other, "comparison"),
                                          bool(result)))

    # evaluation order: leaves, then computed nodes made before f ran (in
    # topological order), then the nodes f made in the order it made them
    born = {v: k for k, v in enumerate(created)}

    def when(i: int) -> tuple[int, int]:
        n = order[i]
        if not n._parents:
            return (0, i)
        k = born.get(n)
        return (1, i) if k is None else (2, k)

    eval_order = sorted(range(len(order)), key=when)
    return StaticGraph(
        kinds=kinds, prims=prims, params_=nparams, operands=operands, labels=labels, slots=slots,
        consts=consts, n_root=n_root,
        input_nodes=[index.get(x) for x in xs], input_labels=[x.label for x in xs],
        param_values=param_values, param_nodes=[index.get(p) for p in param_values],
        comparisons=comparisons, names=names, example=[x._data for x in xs], backend=backend,
        eval_order=eval_order)

