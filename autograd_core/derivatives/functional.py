"""Function transformations: forward-mode ``jvp``, composable ``grad``,
``value_and_grad`` and ``hessian``.

All of them trace ``f`` on fresh input nodes and then reuse the engine's two
drivers: :func:`~autograd_core.push_tangents` (forward mode) and
:func:`~autograd_core.gradients` (reverse mode, ``create_graph=True`` for
derivatives of derivatives). None of them touches any ``.grad``.

Nesting. Every call makes its own input nodes: a fresh leaf for a number, and
for a Value argument a fresh node ``v * 1.0`` whose parent is the caller's
Value (so an enclosing level still sees the dependency). Each call
differentiates only with respect to its own input nodes, never with respect
to the caller's Values, which is what keeps nested levels apart (no
perturbation confusion). A result is returned as a Value with a graph when it
depends on a Value from outside the call (a Value argument or tangent, a
Value the function closes over, the input of an enclosing transform), so an
enclosing level can differentiate it; otherwise it is a plain float, as for a
top-level call on numbers.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
from collections.abc import Iterator, Sequence
from typing import Any, Callable

from ..core.engine import (
    Node, Value, enable_grad, gradients, is_grad_enabled, push_tangents, topological_order,
)

__all__ = ["jvp", "grad", "value_and_grad", "hessian"]


def _number(x: Any, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{where} must be a real number or a Value, not {type(x).__name__}")
    return float(x)


def _sequence(xs: Any, what: str) -> list[Any]:
    if isinstance(xs, (str, bytes)) or not isinstance(xs, Sequence):
        try:
            xs = list(xs)
        except TypeError:
            raise TypeError(f"{what} must be a sequence of numbers, not {type(xs).__name__}") from None
    return list(xs)


def _scalar(x: Any, where: str) -> Any:
    """A Value as it is, anything else as a float (TypeError if it is not a
    real number)."""
    if isinstance(x, Value):
        return x
    if isinstance(x, Node):
        raise TypeError(f"{where} must be a real number or a scalar Value, "
                        f"not {type(x).__name__}")
    return _number(x, where)


#: ids of the fresh leaves made by the transform calls in progress, one set
#: per level, innermost last: a leaf an inner level made for a number is a
#: constant to the levels around it, not a Value from outside them.
_levels: contextvars.ContextVar[tuple[set[int], ...]] = contextvars.ContextVar(
    "autograd_core_transform_levels", default=())

class _Inputs:
    """One transform call's own input nodes, and what counts as outside.

    A number gets a fresh leaf; a Value gets a fresh node ``value * 1.0`` of
    the caller's graph (made by the engine like any node), so an enclosing
    level sees every result's dependency on that Value. f is traced on these
    nodes and differentiated with respect to them only. While this level
    runs its own backward and forward passes (:meth:`passes`), those nodes
    are held as leaves, so the passes stop there instead of running through
    the caller's history; they are reconnected before the call returns.

    ``own``: ids of the leaves made for numbers (and by inner levels) — the
    graph behind a result stops there. ``outside``: ids of the nodes standing
    for the caller's Values and of Value tangents (a result reaching one
    depends on the outside). Any other leaf a result reaches was not made by
    this call: it is outside too (a closure over a Value, an enclosing
    transform's input)."""

    __slots__ = ("nodes", "own", "outside", "recording", "_linked", "_token")

    def __init__(self, xs: Sequence[Any]) -> None:
        self.nodes: list[Value] = []
        self.own: set[int] = set()
        self.outside: set[int] = set()
        self._linked: list[Value] = []
        levels = _levels.get()
        # with recording off at the call site (no_grad) nothing is outside:
        # every result is a float
        self.recording = recording = is_grad_enabled()
        for x in xs:
            if isinstance(x, Value) and recording:  # stands for the caller's Value
                node = x * 1.0
                self._linked.append(node)
                self.outside.add(id(node))
            else:  # a constant, here and to the levels around
                node = Value(x.data if isinstance(x, Value) else x)
                self.own.add(id(node))
                for level in levels:
                    level.add(id(node))
            self.nodes.append(node)
        self._token: Any = None

    def __enter__(self) -> _Inputs:
        self._token = _levels.set(_levels.get() + (self.own,))
        return self

    def __exit__(self, *exc: Any) -> None:
        _levels.reset(self._token)

    @contextlib.contextmanager
    def passes(self) -> Iterator[None]:
        """This level's own derivative passes: its input nodes held as leaves."""
        saved = [(n, n._parents, n._local, n._prim, n._param) for n in self._linked]
        for n in self._linked:
            n._parents, n._local, n._prim, n._param = (), (), None, None
        try:
            yield
        finally:
            for n, parents, local, prim, param in saved:
                n._parents, n._local, n._prim, n._param = parents, local, prim, param

    def note_outside(self, x: Any) -> None:
        if isinstance(x, Node):
            self.outside.add(id(x))

    def reaches_outside(self, x: Any) -> bool:
        """Whether ``x`` (a result) depends on a Value from outside this call."""
        if not self.recording or not isinstance(x, Node):
            return False
        own, outside = self.own, self.outside
        seen: set[int] = set()
        add = seen.add
        stack = [x]
        pop, extend = stack.pop, stack.extend
        while stack:
            n = pop()
            i = id(n)
            if i in seen:
                continue
            add(i)
            parents = n._parents
            if parents:
                if i in outside:
                    return True
                extend(parents)
            elif i not in own:
                return True
        return False

    def settle(self, x: Any) -> Any:
        """``x`` as it is when it depends on the outside, else as a float."""
        if isinstance(x, Node):
            return x if self.reaches_outside(x) else float(x.data)
        return float(x)


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

def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
        ) -> tuple[Any, Any]:
    """Value and directional derivative of ``f`` at ``primals`` along ``tangents``.

    ``f`` takes one Value per primal and returns a Value. The tangents are
    pushed forward through the recorded graph in topological order, each
    node's tangent being Σ ∂node/∂parent · tangent(parent), read from the
    same local derivatives backward uses (forward mode, not reverse mode).
    Primals and tangents may be Values (inside another transform): then the
    results are Values that an enclosing level can differentiate.

    >>> jvp(lambda x, y: x * y, [3.0, 5.0], [1.0, 0.0])
    (15.0, 5.0)
    """
    _check_callable(f)
    xs = [_scalar(x, f"primals[{i}]") for i, x in enumerate(_sequence(primals, "primals"))]
    ts = [_scalar(t, f"tangents[{i}]") for i, t in enumerate(_sequence(tangents, "tangents"))]
    if not is_grad_enabled():  # no_grad at the call site: Value tangents are numbers
        ts = [t.data if isinstance(t, Value) else t for t in ts]
    if len(xs) != len(ts):
        raise ValueError(f"jvp needs one tangent per primal: got {len(xs)} primals "
                         f"and {len(ts)} tangents")
    inputs = _Inputs(xs)
    with inputs:
        out = _trace(f, inputs.nodes, "jvp")
    if not isinstance(out, Value):
        return out, 0.0
    seeds: dict[Value, Any] = {}
    for node, t in zip(inputs.nodes, ts):
        if isinstance(t, Value):
            seeds[node] = t
            inputs.note_outside(t)
        elif t != 0.0 or math.isnan(t):
            seeds[node] = t
    with inputs.passes():
        order = topological_order(out)
        own = inputs.own
        if not inputs.recording or not any(isinstance(t, Value) for t in ts) and all(
                n._parents or id(n) in own for n in order):  # no Value from outside
            tan = push_tangents(out, seeds, order)
            return out.data, float(tan.get(out, 0.0))
        tan = push_tangents(out, seeds, order, create_graph=True)
        return inputs.settle(out), inputs.settle(tan.get(out, 0.0))


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
        inputs = _Inputs([_scalar(a, f"argument {k}") for k, a in enumerate(args)])
        with inputs:
            out = _trace(f, inputs.nodes, who)
        wrt = [inputs.nodes[k] for k in idx]
        if not isinstance(out, Value):
            value: Any = out
            gs: list[Any] = [0.0] * len(wrt)
        else:
            with inputs.passes():
                if not inputs.reaches_outside(out):
                    value = out.data
                    gs = [float(g) for g in gradients(out, wrt)]
                else:  # an enclosing level may differentiate the results
                    value = out
                    gs = [inputs.settle(g) for g in gradients(out, wrt, create_graph=True)]
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
    floats; when a derivative depends on Values from outside the call (Value
    arguments, as inside another ``grad``, or Values ``f`` closes over) it
    is a Value that carries its own graph (``create_graph=True``), so it
    composes, each level differentiating only its own arguments:

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


def hessian(f: Callable[..., Any], inputs: Sequence[Any]) -> list[list[Any]]:
    """Every second derivative ∂²f/∂x_i∂x_j at ``inputs``, as a list of rows.

    ``f`` takes one Value per input. Reverse over reverse: the gradient is
    built with ``create_graph=True`` and each of its entries is
    differentiated again. Floats, or Values when an enclosing level may
    differentiate them (see the module docstring).

    >>> hessian(lambda x, y: x * x * y, [3.0, 5.0])
    [[10.0, 6.0], [6.0, 0.0]]
    """
    _check_callable(f)
    xs = [_scalar(x, f"inputs[{i}]") for i, x in enumerate(_sequence(inputs, "inputs"))]
    if not xs:
        raise ValueError("hessian needs at least one input")
    n = len(xs)
    ins = _Inputs(xs)
    nodes = ins.nodes
    with ins:
        out = _trace(f, nodes, "hessian")
    if not isinstance(out, Value):
        return [[0.0] * n for _ in range(n)]
    with ins.passes():
        gs = gradients(out, nodes, create_graph=True)
        if not ins.reaches_outside(out):
            return [[float(h) for h in gradients(g, nodes)] if isinstance(g, Value) else [0.0] * n
                    for g in gs]
        return [[ins.settle(h) for h in gradients(g, nodes, create_graph=True)]
                if isinstance(g, Value) else [0.0] * n for g in gs]
