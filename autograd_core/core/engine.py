"""The tracing core: ``Value`` nodes, the topological order and the backward driver.

A ``Value`` records, when it is made by a primitive, its parents (operands in
order, repeated when an operand is used twice), the primitive, its parameter,
and the local derivatives the primitive's rule computed in the forward pass.
Derivative formulas live only in :mod:`autograd_core.core.primitives`.

Memory and speed: a node is one ``__slots__`` object, two small tuples and a
float; there is no global tape and no reference cycle, so a graph the user
drops is freed at once by reference counting. Where ``setup.py`` could build
it, ``autograd_core.core._speedups`` does the bookkeeping in C (node creation,
the topological order, adding up gradients): the same order and the same
additions as the Python code here, which stays the reference and the
fallback. Its nodes are not tracked by the cyclic garbage collector, which
then has nothing to walk. It keeps one set of walk buffers for the next
backward (at most 64 MiB; ``_speedups.scratch(release=True)`` frees them).

Thread and generator safety: a backward pass keeps its gradients in a dict
of its own (nothing is written on the nodes until the final ``.grad``
accumulation, done under a lock), and the grad mode is a context variable
that a suspended generator cannot leak (see :class:`no_grad`).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import itertools
import math
import numbers
import sys
import threading
import types
from collections.abc import Iterable, Sequence
from typing import Any, Callable

from numpy import bool_ as np_bool, isfinite as np_isfinite, ndarray as np_ndarray

from .primitives import HOOKS as _HOOKS, PRIMITIVES, Primitive

__all__ = [
    "Node", "Value", "no_grad", "enable_grad", "is_grad_enabled", "zero_grad",
    "topological_order", "gradients", "push_tangents", "prelu", "dot", "sum", "apply",
    "arctan2", "hypot", "maximum", "minimum", "logaddexp", "clip",
]

_grad_enabled: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "autograd_core_grad_enabled", default=True)
#: ``True``/``False``, or a ``_FrameMode`` (truthy when recording) when a
#: ``no_grad``/``enable_grad`` block is open inside a generator or coroutine.
_grad_get = _grad_enabled.get

#: Held only while a backward pass adds its results into ``.grad``: two threads
#: accumulating into a shared leaf lose nothing. Re-entrant, so that a
#: finalizer run by a garbage collection inside that step cannot deadlock.
_accumulate_lock = threading.RLock()

#: Called as ``hook(value, other, op, result)`` after a comparison of Values
#: (``<``, ``<=``, ``>``, ``>=``) when set; static capture uses it to record
#: data-dependent Python decisions.
comparison_hook: contextvars.ContextVar[Callable[..., None] | None] = contextvars.ContextVar(
    "autograd_core_comparison_hook", default=None)

#: Called as ``hook(node)`` for every computed node made while set (grad mode
#: on); static capture uses it to replay operations in creation order.
#: ``_creation_watchers`` counts the hooks set anywhere, so ``_node`` reads the
#: ContextVar only while some capture is running.
creation_hook: contextvars.ContextVar[Callable[[Any], None] | None] = contextvars.ContextVar(
    "autograd_core_creation_hook", default=None)
_creation_watchers = 0

_number_types = (int, float)


def _as_float(x: Any, what: str) -> float:
    """``x`` as a float if it is a real number, else a TypeError naming its type
    (a ValueError when it is too large for a float)."""
    t = type(x)
    if t is float:
        return x
    if t is bool or not isinstance(x, numbers.Real) or isinstance(x, bool):
        raise TypeError(f"{what} must be a real number (int, float or numpy real scalar), "
                        f"not {t.__name__}")
    try:
        f = float(x)
    except OverflowError:
        f = None
    if f is None or (f in (_INF, -_INF) and x == x and not (x in (_INF, -_INF))):
        raise ValueError(f"{what} is too large for a float: {_short(x)}") from None
    return f


_INF = float("inf")


def _short(x: Any) -> str:
    """A number for an error message, cut short (10**400 has 401 digits)."""
    try:
        text = repr(x)
    except ValueError:  # int too large to print
        return f"an int of about {int(x.bit_length() * 0.30103)} digits"
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


#: What a Value combines with, for error messages.
ACCEPTS = "a Value or a real number (int, float, numpy real scalar)"

#: The reflected method Python tries after ours returns NotImplemented.
_REFLECTED = {"+": "__radd__", "-": "__rsub__", "*": "__rmul__", "/": "__rtruediv__",
              "**": "__rpow__"}


def _bad_operand(symbol: str, other: Any, reflected: bool) -> Any:
    """NotImplemented when ``other`` may handle the operation itself (a Tensor,
    a user type with the reflected method), else a TypeError saying what a
    Value accepts."""
    t = type(other)
    if not reflected and not isinstance(other, (str, bytes, list, tuple, dict, set, complex,
                                                bool, np_bool, np_ndarray)) and (
            isinstance(other, Node) or hasattr(t, _REFLECTED.get(symbol, "__radd__"))):
        return NotImplemented
    hint = ""
    if isinstance(other, (list, tuple, np_ndarray)):
        hint = " (for arrays use autograd_core.Tensor)"
    elif isinstance(other, (bool, np_bool)):
        hint = " (bool is not a number here: use 0.0 or 1.0)"
    left, right = ("a Value", t.__name__) if not reflected else (t.__name__, "a Value")
    raise TypeError(f"unsupported operand for {symbol}: {left} and {right}; a Value combines "
                    f"with {ACCEPTS}{hint}")


def _is_number(x: Any) -> bool:
    t = type(x)
    return t is float or t is int or (t is not bool and isinstance(x, numbers.Real)
                                        and not isinstance(x, bool))


_new = object.__new__

#: Creation numbers (PyTorch's sequence_nr, in blocks): every node gets the
#: current number when it is made, and the number only grows, so a node is
#: never numbered below a node made before it, in particular below its
#: parents. A node numbered below every input of :func:`gradients` was made
#: before all of them and cannot depend on any: the walk does not go behind it.
#: The number grows by one every ``_SEQ_BLOCK`` nodes (one int object shared by
#: a block: a node costs 8 bytes more, not an int of its own). The compiled
#: node maker keeps the same counter (``_speedups.seq``) and then replaces this.
_SEQ_BLOCK = 64
_seq_ticks = itertools.count()
_seq_now = 1
_seq_lock = threading.RLock()  # bumps only (re-entrant: a finalizer may make a node)


def _next_seq() -> int:
    """The creation number of a node being made (>= 1; thread-safe: ``next``
    on a count is atomic, and the shared number is only raised, under a lock)."""
    global _seq_now
    k = next(_seq_ticks)
    if not k % _SEQ_BLOCK:
        with _seq_lock:
            b = k // _SEQ_BLOCK + 1
            if b > _seq_now:
                _seq_now = b
    return _seq_now



class Node:
    """What every graph node has, scalar :class:`Value` or array
    :class:`~autograd_core.Tensor`: the number(s) it holds, its label, and, when
    a primitive made it, its parents, the primitive, its parameter and the
    local derivatives. The backward and forward-mode drivers, the topological
    order, naming, explain and drawing read only these."""

    # _seq: the creation number (see _next_seq); a node is never older than a parent
    __slots__ = ("_data", "label", "_parents", "_local", "_prim", "_param", "_seq")

    @property
    def data(self) -> Any:
        """What this node holds (read-only; see ``assign``)."""
        return self._data

    @property
    def op(self) -> str:
        """The primitive's name (``"mul"``, ``"exp"``, ...); ``""`` for a leaf."""
        return self._prim.name if self._prim is not None else ""

    @property
    def primitive(self) -> Primitive | None:
        """The :class:`Primitive` that made this node (``None`` for a leaf)."""
        return self._prim

    @property
    def param(self) -> Any:
        """The primitive's parameter (the constant of ``x + 2``, the slope of
        ``leaky_relu``, ...), or ``None``."""
        return self._param

    @property
    def parents(self) -> tuple[Any, ...]:
        """Operands in order, repeated when used twice (``x*x`` -> ``(x, x)``)."""
        return self._parents

    @property
    def local_grads(self) -> tuple[Any, ...]:
        """∂self/∂parent for each parent, evaluated in the forward pass."""
        return self._local

    @property
    def is_leaf(self) -> bool:
        return not self._parents


_EQ_NUMBER = ("Value {op} number: == and != on Values compare node identity (a Value is a "
              "graph node; Values are dict keys), so this would never compare numbers; "
              "compare x.data instead (< <= > >= compare the numbers)")


class Value(Node):
    """A scalar node of the computation graph.

    ``Value(data, label="")``: ``data`` is a real number (stored as a float).
    Read-only: ``data``, ``op``, ``parents``, ``local_grads``, ``param``.
    Writable: ``grad`` (0.0 at creation) and ``label``.
    """

    __slots__ = ("grad",)
    __array_ufunc__ = None  # numpy defers to our reflected operators

    def __init__(self, data: Any, label: str = "") -> None:
        if type(label) is not str:
            raise TypeError(f"Value label must be a str, not {type(label).__name__}")
        self._data = _as_float(data, "Value data")
        self.grad: Any = 0.0
        self.label = label
        self._parents: tuple[Value, ...] = ()
        self._local: tuple[Any, ...] = ()
        self._prim: Primitive | None = None
        self._param: Any = None
        self._seq = _next_seq()

    @property
    def data(self) -> float:
        """The number this node holds (read-only; see :meth:`assign`)."""
        return self._data

    def assign(self, data: Any) -> None:
        """Replace a leaf's number in place (what optimizers do to parameters)."""
        if self._parents:
            raise ValueError("assign() is for leaves only: this node was computed by "
                             f"{self.op!r} and its local derivatives would go stale")
        self._data = _as_float(data, "assigned data")

    def detach(self) -> Value:
        """A new leaf with the same data and label, cut from the graph."""
        v = Value.__new__(Value)
        _init_node(v, self._data, (), (), None, None)
        v.label = self.label
        return v

    def __repr__(self) -> str:
        lab = f"label={self.label!r}, " if self.label else ""
        return f"Value({lab}data={self._data!r}, grad={self.grad!r})"

    def __float__(self) -> float:
        return self._data

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter shows a Value as its graph once ``visualize`` is imported
        (it registers a display hook), else as text."""
        return display_bundle(self)

    # ------------------------------------------------------------ backward
    def backward(self, grad: Any = 1.0, *, create_graph: bool = False) -> None:
        """Accumulate ∂self/∂node * grad into ``.grad`` of every node of the graph.

        Reverse topological order, found without recursion; each node is
        processed once. With ``create_graph=True`` the gradients are Values with
        graphs of their own (for higher derivatives). A ``.grad`` of ``None``
        counts as 0 (as in PyTorch); if some ``.grad`` cannot take its gradient,
        a TypeError names the node and no ``.grad`` is changed."""
        seed = grad if (create_graph and isinstance(grad, Value)) else _as_float(grad, "backward grad")
        if _speedups is not None and not create_graph and _backprop is _plain_backprop:
            # the common case (every .grad a float) compiled, in one pass; it
            # changes nothing when the graph is not that case (not while
            # anomaly mode wraps the driver)
            if _speedups.backward(self, seed, _accumulate_lock):
                return
        order, grads = _backprop(self, seed, create_graph)
        with _accumulate_lock:  # the only step that writes on shared nodes
            # every new .grad is computed before any is written: an error
            # leaves every .grad as it was. A .grad of None counts as 0.
            if not create_graph:  # every node of order is in grads
                # (a list of numbers, not of pairs: no tuple per node for the
                # cyclic collector to count)
                new = [(n.grad + g) if type(n.grad) is float else _added(n, g)
                       for n, g in grads.items()]
                for n, v in zip(grads, new):
                    n.grad = v
                return
            get = grads.get
            new = []
            for n in order:
                g = get(n, 0.0)
                old = n.grad
                new.append(g if (type(old) is float and old == 0.0 and type(g) is not float)
                           else _added(n, g))
            made = []
            for n, v in zip(order, new):
                n.grad = v
                if isinstance(v, Node):
                    made.append(v)
            if made and _speedups is not None:
                # x.grad now holds a graph that may lead back to x: a reference
                # cycle, which the cyclic collector must be able to see.
                _speedups.track(made)

    # ------------------------------------------------------------ comparisons
    def _compare(self, other: Any, op: str) -> bool:
        o = other._data if isinstance(other, Value) else _as_float(other, f"operand of {op}")
        a = self._data
        result = (a < o if op == "<" else a <= o if op == "<=" else a > o if op == ">" else a >= o)
        hook = comparison_hook.get()
        if hook is not None:
            hook(self, other, op, result)
        return result

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        """Node identity: ``a == b`` is ``a is b`` for Values (so Values are
        dict keys and set members). ``Value == number`` raises TypeError: it
        would always be False; compare ``x.data`` (or use ``< <= > >=``)."""
        if isinstance(other, Node):
            return self is other
        if _is_number(other) or isinstance(other, (bool, np_bool)):
            raise TypeError(_EQ_NUMBER.format(op="=="))
        return NotImplemented

    def __ne__(self, other: object) -> bool:  # type: ignore[override]
        if isinstance(other, Node):
            return self is not other
        if _is_number(other) or isinstance(other, (bool, np_bool)):
            raise TypeError(_EQ_NUMBER.format(op="!="))
        return NotImplemented

    __hash__ = object.__hash__

    def __lt__(self, other: Any) -> bool:
        return self._compare(other, "<")

    def __le__(self, other: Any) -> bool:
        return self._compare(other, "<=")

    def __gt__(self, other: Any) -> bool:
        return self._compare(other, ">")

    def __ge__(self, other: Any) -> bool:
        return self._compare(other, ">=")

    # ------------------------------------------------------------ operators
    def __add__(self, other: Any) -> Value:
        if type(other) is Value:
            out, local = _ADD_RULE(self._data, other._data)
            return _node(out, (self, other), local, _ADD, None)
        return _const_op(_ADD_CONST, self, other)

    def __radd__(self, other: Any) -> Value:
        return _const_op(_ADD_CONST, self, other, True)

    def __sub__(self, other: Any) -> Value:
        if type(other) is Value:
            out, local = _SUB_RULE(self._data, other._data)
            return _node(out, (self, other), local, _SUB, None)
        return _const_op(_SUB_CONST, self, other)

    def __rsub__(self, other: Any) -> Value:
        return _const_op(_RSUB_CONST, self, other, True)

    def __mul__(self, other: Any) -> Value:
        if type(other) is Value:
            out, local = _MUL_RULE(self._data, other._data)
            return _node(out, (self, other), local, _MUL, None)
        return _const_op(_MUL_CONST, self, other)

    def __rmul__(self, other: Any) -> Value:
        return _const_op(_MUL_CONST, self, other, True)

    def __truediv__(self, other: Any) -> Value:
        if isinstance(other, Value):
            return apply(PRIMITIVES["div"], self, other)
        return _const_op(_DIV_CONST, self, other)

    def __rtruediv__(self, other: Any) -> Value:
        return _const_op(_RDIV_CONST, self, other, True)

    def __pow__(self, other: Any) -> Value:
        if isinstance(other, Value):
            return apply(PRIMITIVES["pow"], self, other)
        return _const_op(_POW_CONST, self, other)

    def __rpow__(self, other: Any) -> Value:
        return _const_op(_RPOW_CONST, self, other, True)

    def __neg__(self) -> Value:
        return _unary(_NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _unary(PRIMITIVES["abs"], self)

    # ------------------------------------------------------------ functions
    def exp(self) -> Value:
        """e ** x; ``inf`` past the float range."""
        return _unary(PRIMITIVES["exp"], self)

    def expm1(self) -> Value:
        """e ** x - 1, accurate near 0."""
        return _unary(PRIMITIVES["expm1"], self)

    def log(self) -> Value:
        """Natural logarithm; ValueError for x <= 0."""
        return _unary(PRIMITIVES["log"], self)

    def log1p(self) -> Value:
        """log(1 + x), accurate near 0; ValueError for x <= -1."""
        return _unary(PRIMITIVES["log1p"], self)

    def sqrt(self) -> Value:
        """Square root; ValueError for x < 0."""
        return _unary(PRIMITIVES["sqrt"], self)

    def sin(self) -> Value:
        return _unary(PRIMITIVES["sin"], self)

    def cos(self) -> Value:
        return _unary(PRIMITIVES["cos"], self)

    def erf(self) -> Value:
        return _unary(PRIMITIVES["erf"], self)

    def erfc(self) -> Value:
        return _unary(PRIMITIVES["erfc"], self)

    def tanh(self) -> Value:
        return _unary(PRIMITIVES["tanh"], self)

    def sigmoid(self) -> Value:
        """σ(x) = 1 / (1 + exp(-x)), stable for any x."""
        return _unary(_SIGMOID, self)

    def relu(self) -> Value:
        """max(0, x); relu'(0) = 0."""
        return _unary(_RELU, self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Value:
        """x if x > 0 else negative_slope * x."""
        return _unary(PRIMITIVES["leaky_relu"], self,
                      _as_float(negative_slope, "leaky_relu negative_slope"))

    def elu(self, alpha: float = 1.0) -> Value:
        """x if x > 0 else alpha * (exp(x) - 1)."""
        return _unary(PRIMITIVES["elu"], self, _as_float(alpha, "elu alpha"))

    def softplus(self, beta: float = 1.0) -> Value:
        """log(1 + exp(beta * x)) / beta, stable for any x (beta must not be 0;
        no linear cut-off: exact also where PyTorch returns x)."""
        beta = _as_float(beta, "softplus beta")
        if beta == 1.0:
            return _unary(PRIMITIVES["softplus"], self)
        if beta == 0.0:
            raise ValueError("softplus beta must not be 0")
        return _unary(PRIMITIVES["softplus_beta"], self, beta)

    def swish(self, beta: float = 1.0) -> Value:
        """x * σ(beta * x)."""
        return _unary(PRIMITIVES["swish"], self, _as_float(beta, "swish beta"))

    def gelu(self, approximate: str = "none") -> Value:
        """x * Φ(x). ``approximate``: ``"none"`` (exact, erf), ``"tanh"``
        (0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))) or ``"sigmoid"`` (x * σ(1.702x))."""
        if approximate == "none":
            return _unary(PRIMITIVES["gelu"], self)
        if approximate == "tanh":
            return _unary(PRIMITIVES["gelu_tanh"], self)
        if approximate == "sigmoid":
            return _unary(PRIMITIVES["swish"], self, 1.702)
        raise ValueError(f"gelu approximate must be 'none', 'tanh' or 'sigmoid', not {approximate!r}")

    # the wider function set (README "The engine"; conventions in primitives.py)
    def tan(self) -> Value:
        """Tangent."""
        return _unary(PRIMITIVES["tan"], self)

    def sinh(self) -> Value:
        """Hyperbolic sine (±inf past the float range)."""
        return _unary(PRIMITIVES["sinh"], self)

    def cosh(self) -> Value:
        """Hyperbolic cosine (inf past the float range)."""
        return _unary(PRIMITIVES["cosh"], self)

    def arcsin(self) -> Value:
        """Inverse sine; ValueError outside [-1, 1]."""
        return _unary(PRIMITIVES["arcsin"], self)

    def arccos(self) -> Value:
        """Inverse cosine; ValueError outside [-1, 1]."""
        return _unary(PRIMITIVES["arccos"], self)

    def arctan(self) -> Value:
        """Inverse tangent."""
        return _unary(PRIMITIVES["arctan"], self)

    def arcsinh(self) -> Value:
        """Inverse hyperbolic sine."""
        return _unary(PRIMITIVES["arcsinh"], self)

    def arccosh(self) -> Value:
        """Inverse hyperbolic cosine; ValueError for x < 1."""
        return _unary(PRIMITIVES["arccosh"], self)

    def arctanh(self) -> Value:
        """Inverse hyperbolic tangent; ValueError outside (-1, 1)."""
        return _unary(PRIMITIVES["arctanh"], self)

    def log2(self) -> Value:
        """Logarithm in base 2; ValueError for x <= 0."""
        return _unary(PRIMITIVES["log2"], self)

    def log10(self) -> Value:
        """Logarithm in base 10; ValueError for x <= 0."""
        return _unary(PRIMITIVES["log10"], self)

    def sign(self) -> Value:
        """-1, 0 or 1; derivative 0."""
        return _unary(PRIMITIVES["sign"], self)

    def floor(self) -> Value:
        """Round down; derivative 0."""
        return _unary(PRIMITIVES["floor"], self)

    def ceil(self) -> Value:
        """Round up; derivative 0."""
        return _unary(PRIMITIVES["ceil"], self)

    def selu(self) -> Value:
        """scale * elu(x, alpha), the self-normalising constants."""
        return _unary(PRIMITIVES["selu"], self)

    def relu6(self) -> Value:
        """min(max(0, x), 6)."""
        return _unary(PRIMITIVES["relu6"], self)

    def hardsigmoid(self) -> Value:
        """relu6(x + 3) / 6."""
        return _unary(PRIMITIVES["hardsigmoid"], self)

    def hardswish(self) -> Value:
        """x * relu6(x + 3) / 6."""
        return _unary(PRIMITIVES["hardswish"], self)

    def mish(self) -> Value:
        """x * tanh(softplus(x))."""
        return _unary(PRIMITIVES["mish"], self)

    def softsign(self) -> Value:
        """x / (1 + |x|)."""
        return _unary(PRIMITIVES["softsign"], self)

    def logsigmoid(self) -> Value:
        """log σ(x), stable for any x."""
        return _unary(PRIMITIVES["logsigmoid"], self)

    def celu(self, alpha: float = 1.0) -> Value:
        """x if x > 0 else alpha * (exp(x / alpha) - 1); alpha must not be 0."""
        alpha = _as_float(alpha, "celu alpha")
        if alpha == 0.0:
            raise ValueError("celu alpha must not be 0")
        return _unary(PRIMITIVES["celu"], self, alpha)

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Value:
        """x limited to [min_val, max_val]; derivative 0 at the two bounds."""
        return _unary(PRIMITIVES["hardtanh"], self, _bounds(min_val, max_val, "hardtanh"))

    def clip(self, lo: float, hi: float) -> Value:
        """x limited to [lo, hi] (constants); derivative 1 at the two bounds."""
        return _unary(PRIMITIVES["clip"], self, _bounds(lo, hi, "clip"))

    def hypot(self, other: Any) -> Value:
        """sqrt(self² + other²) (see :func:`hypot`)."""
        return apply(PRIMITIVES["hypot"], self, other)

    def arctan2(self, other: Any) -> Value:
        """The angle of the point (other, self): ``arctan2(self, other)``."""
        return apply(PRIMITIVES["arctan2"], self, other)

    def maximum(self, other: Any) -> Value:
        """The larger of self and other (½ each at a tie)."""
        return apply(PRIMITIVES["maximum"], self, other)

    def minimum(self, other: Any) -> Value:
        """The smaller of self and other (½ each at a tie)."""
        return apply(PRIMITIVES["minimum"], self, other)

    def logaddexp(self, other: Any) -> Value:
        """log(exp(self) + exp(other)), stable."""
        return apply(PRIMITIVES["logaddexp"], self, other)


def _bounds(lo: Any, hi: Any, name: str) -> tuple[float, float]:
    """(lo, hi) as floats for clip/hardtanh; ValueError unless lo <= hi."""
    lo = _as_float(lo, f"{name} lower bound")
    hi = _as_float(hi, f"{name} upper bound")
    if not lo <= hi:
        raise ValueError(f"{name}: the lower bound {lo:g} must not exceed the upper bound {hi:g}")
    return (lo, hi)


# ---------------------------------------------------------------- node making

def _init_node(v: Value, data: float, parents: tuple, local: tuple,
               prim: Primitive | None, param: Any) -> None:
    v._data = data
    v.grad = 0.0
    v.label = ""
    v._parents = parents
    v._local = local
    v._prim = prim
    v._param = param
    v._seq = _next_seq()


def _node(data: float, parents: tuple, local: tuple, prim: Primitive, param: Any) -> Value:
    v = _new(Value)
    v._data = data
    v.grad = 0.0
    v.label = ""
    v._seq = _next_seq()
    if _grad_get():
        v._parents = parents
        v._local = local
        v._prim = prim
        v._param = param
        if _creation_watchers:
            hook = creation_hook.get()
            if hook is not None:
                hook(v)
    else:
        v._parents = ()
        v._local = ()
        v._prim = None
        v._param = None
    return v


def _operand(x: Any, where: str) -> Value:
    """``x`` if it is a Value, else a constant leaf holding the number ``x``."""
    if isinstance(x, Value):
        return x
    if not _is_number(x):
        hint = " (for arrays use autograd_core.Tensor)" if isinstance(
            x, (list, tuple, np_ndarray, Node)) else ""
        raise TypeError(f"{where} must be {ACCEPTS}, not {type(x).__name__}{hint}")
    return Value(_as_float(x, where))


def _unary(prim: Primitive, x: Value, param: Any = None) -> Value:
    d = x._data
    if param is None and not prim.has_param:
        if prim.check is not None:
            err = prim.check(d)
            if err is not None:
                raise err
        out, local = prim.rule(d)
    else:
        if prim.check is not None:
            err = prim.check(d, param)
            if err is not None:
                raise err
        out, local = prim.rule(d, param)
    return _node(out, (x,), local, prim, param)


def _const_op(prim: Primitive, x: Value, c: Any, reflected: bool = False) -> Value:
    t = type(c)
    if t is float:
        pass
    elif t is int:
        try:
            c = float(c)
        except OverflowError:
            raise ValueError(f"the number in {prim.symbol} is too large for a float: "
                             f"{_short(c)}") from None
    elif _is_number(c):
        c = _as_float(c, f"the number in {prim.symbol}")  # ValueError past the float range
    elif isinstance(c, Value):  # a Value subclass (Python tries its reflected method first)
        binary = PRIMITIVES[prim.name.removeprefix("r").removesuffix("_const")]
        return apply(binary, c, x) if reflected else apply(binary, x, c)
    else:
        return _bad_operand(prim.symbol, c, reflected)
    return _unary(prim, x, c)


def apply(prim: Primitive | str, *operands: Any, param: Any = None) -> Value:
    """Apply a primitive (or its name) to operands (Values or numbers).

    The general entry point; the operators and methods of :class:`Value` are
    shortcuts to it. Numbers given as operands become constant leaves."""
    if isinstance(prim, str):
        try:
            prim = PRIMITIVES[prim]
        except KeyError:
            raise ValueError(f"unknown primitive {prim!r}; known: {', '.join(sorted(PRIMITIVES))}") from None
    if prim.arity is not None and len(operands) != prim.arity:
        raise TypeError(f"{prim.name} takes {prim.arity} operand(s), got {len(operands)}")
    if not operands:
        raise ValueError(f"{prim.name} needs at least one operand")
    if prim.has_param and param is None:
        raise TypeError(f"{prim.name} needs its parameter {prim.param!r}")
    if not prim.has_param and param is not None:
        raise TypeError(f"{prim.name} takes no parameter, got param={_short(param)}")
    args = tuple(_operand(x, f"operand {i} of {prim.name}") for i, x in enumerate(operands))
    datas = [a._data for a in args]
    extra = (param,) if prim.has_param else ()
    try:
        if prim.check is not None:
            err = prim.check(*datas, *extra)
            if err is not None:
                raise err
        out, local = prim.rule(*datas, *extra)
    except TypeError as e:
        if not prim.has_param or _is_number(param):
            raise
        raise TypeError(f"{prim.name}: its parameter {prim.param!r} = {_short(param)} "
                        f"({type(param).__name__}) does not work with it: {e}") from None
    return _node(out, args, tuple(local), prim, param)


_HOOKS["apply"] = apply  # Primitive.__call__ makes nodes through this

_ADD = PRIMITIVES["add"]
_SUB = PRIMITIVES["sub"]
_MUL = PRIMITIVES["mul"]
_ADD_RULE, _SUB_RULE, _MUL_RULE = _ADD.rule, _SUB.rule, _MUL.rule
_ADD_CONST = PRIMITIVES["add_const"]
_SUB_CONST = PRIMITIVES["sub_const"]
_RSUB_CONST = PRIMITIVES["rsub_const"]
_MUL_CONST = PRIMITIVES["mul_const"]
_DIV_CONST = PRIMITIVES["div_const"]
_RDIV_CONST = PRIMITIVES["rdiv_const"]
_POW_CONST = PRIMITIVES["pow_const"]
_RPOW_CONST = PRIMITIVES["rpow_const"]
_NEG = PRIMITIVES["neg"]
_SIGMOID = PRIMITIVES["sigmoid"]
_RELU = PRIMITIVES["relu"]
_SUM = PRIMITIVES["sum"]
_DOT = PRIMITIVES["dot"]
_DOT_CONST = PRIMITIVES["dot_const"]


# ------------------------------------------------------------ n-ary functions

def prelu(x: Any, alpha: Any) -> Value:
    """x if x > 0 else alpha * x. With ``alpha`` a Value (a learnable slope)
    both operands get gradients; with a number it is ``leaky_relu(alpha)``."""
    x = _operand(x, "prelu x")
    if isinstance(alpha, Value):
        return apply(PRIMITIVES["prelu"], x, alpha)
    return x.leaky_relu(_as_float(alpha, "prelu alpha"))


def _binary_fn(name: str, a: Any, b: Any) -> Any:
    """A two-operand primitive on Values and numbers; on Tensors, the Tensor method."""
    for t in (a, b):
        if isinstance(t, Node) and not isinstance(t, Value):
            left = a if t is a else type(t)(a)  # a number/array on the left of a Tensor
            return getattr(left, name)(b)
    if not isinstance(a, Value) and not isinstance(b, Value):
        return apply(PRIMITIVES[name], a, b).data  # two numbers: a number
    return apply(PRIMITIVES[name], a, b)


def arctan2(y: Any, x: Any) -> Any:
    """The angle of the point (x, y), in [-pi, pi] (numpy's argument order).
    At (0, 0) both partial derivatives are 0."""
    return _binary_fn("arctan2", y, x)


def hypot(x: Any, y: Any) -> Any:
    """sqrt(x² + y²) without overflow; at (0, 0) both partial derivatives are 0."""
    return _binary_fn("hypot", x, y)


def maximum(x: Any, y: Any) -> Any:
    """The larger of x and y; at a tie each gets derivative 1/2 (as PyTorch)."""
    return _binary_fn("maximum", x, y)


def minimum(x: Any, y: Any) -> Any:
    """The smaller of x and y; at a tie each gets derivative 1/2 (as PyTorch)."""
    return _binary_fn("minimum", x, y)


def logaddexp(x: Any, y: Any) -> Any:
    """log(exp(x) + exp(y)), stable for any x and y."""
    return _binary_fn("logaddexp", x, y)


def clip(x: Any, lo: float, hi: float) -> Any:
    """x limited to [lo, hi] (lo, hi numbers); derivative 1 inside the closed
    interval, 0 outside (as torch.clamp)."""
    if isinstance(x, Node):
        return x.clip(lo, hi)
    return _operand(x, "clip x").clip(lo, hi).data


def sum(values: Iterable[Any]) -> Value:  # noqa: A001 - mirrors the builtin on purpose
    """One n-ary node for v1 + v2 + ... + vn (left to right); numbers become
    constant leaves. An empty iterable gives a leaf 0.0."""
    vals = tuple(values)
    if not vals:
        return Value(0.0)
    args = tuple(_operand(v, f"element {i} of sum") for i, v in enumerate(vals))
    out, local = _SUM.rule(*[a._data for a in args])
    return _node(out, args, local, _SUM, None)


def dot(ws: Sequence[Any], xs: Sequence[Any]) -> Value:
    """One n-ary node for w1*x1 + ... + wn*xn, exact local derivatives per
    operand (∂/∂w_i = x_i, ∂/∂x_i = w_i).

    When all of one side are plain numbers (input data), they are kept as a
    constant parameter of the node instead of becoming leaves."""
    ws = tuple(ws)
    xs = tuple(xs)
    if len(ws) != len(xs):
        raise ValueError(f"dot needs two sequences of the same length, got {len(ws)} and {len(xs)}")
    if not ws:
        return Value(0.0)
    ws_values = all(type(w) is Value for w in ws)
    if ws_values and not any(isinstance(x, Value) for x in xs):
        consts = tuple(x if type(x) is float else _as_float(x, f"element {i} of dot xs")
                       for i, x in enumerate(xs))
        out, local = _DOT_CONST.rule(*[w._data for w in ws], consts)
        return _node(out, ws, local, _DOT_CONST, consts)
    if not ws_values and not any(isinstance(w, Value) for w in ws) and all(
            type(x) is Value for x in xs):
        return dot(xs, ws)
    args = tuple(_operand(v, f"element {i} of dot") for i, v in enumerate(ws + xs))
    out, local = _DOT.rule(*[a._data for a in args])
    return _node(out, args, local, _DOT, None)


# ------------------------------------------------------------ grad mode

_SUSPENDABLE = (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
                | inspect.CO_ITERABLE_COROUTINE)


class _FrameMode:
    """One open ``no_grad``/``enable_grad`` block, in the chain the context
    variable holds while a block is open inside a generator or coroutine body.

    Generators run in their caller's context, so a plain context variable set
    in a generator would still be set in the caller after it yields. Here each
    entry knows the frame of its ``with`` statement: an entry of a suspended
    generator (its frame has no ``f_back``) is skipped, and when several
    entries are running the one of the innermost frame on the call stack
    applies. Without generator blocks the variable holds a plain bool (the
    fast path of node creation)."""

    __slots__ = ("enabled", "frame", "suspendable", "prev", "closed")

    def __init__(self, enabled: bool, frame: Any, suspendable: bool, prev: Any) -> None:
        self.enabled = enabled
        self.frame = frame
        self.suspendable = suspendable
        self.prev = prev
        self.closed = False

    def __bool__(self) -> bool:
        running = []
        m: Any = self
        mixed = False
        while type(m) is _FrameMode:
            if not m.closed and (not m.suspendable or m.frame.f_back is not None):
                running.append(m)
                mixed = mixed or m.suspendable
            m = m.prev
        if not running:
            return m
        if len(running) == 1 or not mixed:
            return running[0].enabled  # the latest block: plain blocks nest in time
        owner = {e.frame: e for e in reversed(running)}  # latest block of each frame
        f = sys._getframe(1)
        while f is not None:
            e = owner.get(f)
            if e is not None:
                return e.enabled
            f = f.f_back
        return running[0].enabled


def _open_entries(m: Any) -> Any:
    """``m`` without the closed entries on top (a bool once none is left)."""
    while type(m) is _FrameMode and m.closed:
        m = m.prev
    return m


class _GradMode:
    """Sets the grad mode inside a ``with`` block or a decorated function.

    As a decorator it also works on generator functions, ``async def``
    functions and async generators: the mode applies while their body runs
    and not while they are suspended (after a ``yield``, or at an ``await``
    that gives control back to the event loop), so it never leaks into the
    code that drives them. A bare ``with`` block inside a generator or
    coroutine body behaves the same way: it applies whenever that body runs
    inside the block (also after it is resumed), never in the caller while it
    is suspended. Thread- and asyncio-safe (a context variable: each thread
    and each asyncio task has its own mode). One instance may be entered
    again (nested), but not by two threads at once; decorated functions
    make a fresh instance per call."""

    _enabled = True

    def __new__(cls, func: Any = None) -> Any:
        self = super().__new__(cls)
        self._saved = []
        if func is None:
            return self
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments (or a function to "
                            f"decorate), not {type(func).__name__}")
        return self(func)

    def __enter__(self) -> None:
        frame = sys._getframe(1)
        prev = _grad_get()
        suspendable = bool(frame.f_code.co_flags & _SUSPENDABLE)
        if suspendable or type(prev) is _FrameMode:
            entry = _FrameMode(self._enabled, frame, suspendable, prev)
            _grad_enabled.set(entry)
            self._saved.append(entry)
        else:
            self._saved.append(_grad_enabled.set(self._enabled))

    def __exit__(self, *exc: Any) -> None:
        saved = self._saved.pop()
        top = _grad_get()
        if type(saved) is _FrameMode:
            saved.closed = True  # skipped wherever it is still in a chain
            if top is saved:
                _grad_enabled.set(_open_entries(saved.prev))
        elif type(top) is _FrameMode:
            # A generator opened a block during this one and is suspended in
            # it: keep its entries, now on top of what this block replaced.
            m = top
            while type(m.prev) is _FrameMode:
                m = m.prev
            old = saved.old_value
            m.prev = True if old is contextvars.Token.MISSING else old
            _grad_enabled.set(_open_entries(top))
        else:
            _grad_enabled.reset(saved)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate ``func`` (plain, generator, ``async def`` or async generator)."""
        if not callable(func):
            raise TypeError(f"{type(self).__name__} decorates functions, not {type(func).__name__}")
        mode = type(self)
        if inspect.isasyncgenfunction(func):
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                agen = func(*args, **kwargs)
                with mode():
                    try:
                        value = await agen.asend(None)
                        while True:
                            try:
                                sent = yield value
                            except GeneratorExit:
                                await agen.aclose()
                                raise
                            except BaseException as e:  # athrow: pass it on
                                value = await agen.athrow(e)
                            else:
                                value = await agen.asend(sent)
                    except StopAsyncIteration:
                        return
        elif inspect.iscoroutinefunction(func):
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                return await _drive_coroutine(func(*args, **kwargs), mode)
        elif inspect.isgeneratorfunction(func):
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return (yield from _drive(func(*args, **kwargs), mode))
        else:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                with mode():
                    return func(*args, **kwargs)
        return functools.wraps(func)(wrapper)


def _drive(gen: Any, mode: type[_GradMode]) -> Any:
    """Run the generator (or coroutine) ``gen`` step by step with ``mode``
    set during each step, also when the caller throws in or closes it (a
    ``yield from`` would hand those to ``gen`` without this frame running)."""
    with mode():
        try:
            value = gen.send(None)
        except StopIteration as stop:
            return stop.value
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                gen.close()
                raise
            except BaseException as e:  # noqa: BLE001 - passed on to gen
                try:
                    value = gen.throw(e)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = gen.send(sent)
                except StopIteration as stop:
                    return stop.value


@types.coroutine
def _drive_coroutine(coro: Any, mode: type[_GradMode]) -> Any:
    return (yield from _drive(coro, mode))


class no_grad(_GradMode):  # noqa: N801 - a context manager used like a function
    """Inside, results record no parents (they are leaves).

    ``with no_grad(): ...``, ``@no_grad()`` or ``@no_grad`` on a function, a
    generator function, an ``async def`` or an async generator. On generators
    and coroutines the mode applies while their body runs, never while they
    are suspended: a generator suspended inside ``with no_grad():`` (bare or
    decorated) does not switch recording off in the code that drives it, and
    its block applies again when it is resumed. Each thread and each asyncio
    task has its own mode (a context variable)."""

    _enabled = False


class enable_grad(_GradMode):  # noqa: N801
    """Record graphs again inside a ``no_grad`` block (same uses as
    :class:`no_grad`)."""

    _enabled = True


def is_grad_enabled() -> bool:
    """Whether operations record their parents here and now."""
    return bool(_grad_get())


def zero_grad(values: Iterable[Value]) -> None:
    """Reset ``.grad`` of each Value to 0.0."""
    for v in values:
        if not isinstance(v, Node):
            raise TypeError(f"zero_grad needs Values, got {type(v).__name__}")
        v.grad = 0.0


# ------------------------------------------------------------ Jupyter display

#: Functions ``hook(obj) -> dict | None`` that turn a Value or a Trace into a
#: Jupyter mime bundle. The drawing layer registers one when it is imported
#: (``import visualize``); the core imports nothing above it, so without a
#: hook Values and Traces show as text.
display_hooks: list[Callable[[Any], dict[str, str] | None]] = []


def display_bundle(obj: Any) -> dict[str, str]:
    """The mime bundle of the last registered display hook that gives one,
    else ``{"text/plain": repr(obj)}``."""
    for hook in reversed(display_hooks):
        bundle = hook(obj)
        if bundle is not None:
            return bundle
    return {"text/plain": repr(obj)}


# ------------------------------------------------------------ graph walking

class LocalMap:
    """Base of local derivatives that are linear maps rather than numbers
    (array operations of :class:`autograd_core.Tensor`: matmul, reshape,
    broadcasting, ...). ``l * g`` applies the map's transpose to a gradient
    (the backward driver's vector-Jacobian product); ``l.jvp(t)`` applies the
    map to a tangent (forward mode, :func:`push_tangents`)."""

    __slots__ = ()

    def __mul__(self, g: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def jvp(self, t: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


def _added(n: Value, g: Any) -> Any:
    """``n.grad + g`` for backward (``None`` counts as 0), or a TypeError
    naming the node and what its ``.grad`` holds."""
    old = n.grad
    if old is None:
        return g
    try:
        return old + g
    except TypeError:
        who = repr(n.label) if n.label else f"a {n._prim.name} node" if n._prim else "a leaf"
        raise TypeError(f"backward: cannot add a gradient to the .grad of {who}, which holds "
                        f"{_short(old)} ({type(old).__name__}); set .grad to 0.0 (or None) "
                        "first; no .grad was changed") from None


def topological_order(root: Value) -> list[Value]:
    """Every node reachable from ``root`` (leaves included), each once,
    parents before children. Iterative: works for graphs of any depth."""
    if not isinstance(root, Node):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    return _order(root, None) if _speedups is None else _speedups.order(root, None)


def _order(root: Node, stop: Any, limit: int = 0) -> list[Node]:
    """:func:`topological_order`, not walking behind the nodes in ``stop`` (a
    set or ``None``) nor behind the nodes whose creation number is below
    ``limit`` (0: no limit): they are emitted as if they were leaves. All
    state is local to the call (thread-safe)."""
    order: list[Node] = []
    emit = order.append
    state: dict[Node, bool] = {}  # False: parents being visited; True: emitted
    get = state.get
    stack = [root]
    push, pop = stack.append, stack.pop
    while stack:
        n = pop()
        s = get(n)
        if s:  # emitted already (pushed twice before it was reached)
            continue
        ps = n._parents
        if (s is not None or not ps or (limit and getattr(n, "_seq", limit) < limit)
                or (stop is not None and n in stop)):
            state[n] = True  # its parents are done, or a leaf (or a cut)
            emit(n)
            continue
        state[n] = False
        push(n)
        # first operand first (evaluation order); a node in state is emitted
        # or (in a DAG) on this path
        if len(ps) == 2:  # the common case, unrolled
            p, q = ps
            if q not in state:
                push(q)
            if p not in state:
                push(p)
        else:
            for p in reversed(ps):
                if p not in state:
                    push(p)
    return order


def _backprop(root: Node, seed: Any, create_graph: bool,
              inputs: Sequence[Node] | None = None) -> tuple[list[Node], dict[Node, Any]]:
    """The one backward driver (``Value.backward``, :func:`gradients`, and the
    Tensor versions call it): ``(order, grads)`` where ``order`` is the
    topological order walked and ``grads`` maps each node of it to
    seed * ∂root/∂node (a node missing from ``grads`` has gradient 0).

    Nothing is written on the nodes: every call has its own ``grads``, so
    calls from several threads on graphs sharing nodes do not interfere.

    ``inputs`` (for :func:`gradients`): only their gradients are wanted. With
    one input the walk does not go behind it (its gradient cannot depend on
    its history), so the cost is that of the graph between the input and
    ``root``, not of the history the input was computed from. Leaf inputs
    have no history. With several inputs, another input may lie behind a
    computed one, so the walk cannot stop at them; it stops instead at every
    node made before all the inputs (creation number below theirs, see
    :func:`_next_seq`): such a node cannot depend on any input. Those cut
    nodes are in ``order`` as leaves, with their gradient, which is not
    passed on to their parents. The inputs' gradients are those of the
    whole-graph walk, bit for bit (the same additions in the same order)."""
    stop = None
    limit = 0
    if inputs:
        limit = min(getattr(x, "_seq", 0) for x in inputs)  # 0 (no cut) for a node without one
        if len(inputs) == 1 and inputs[0]._parents:
            stop = {inputs[0]}
    if _speedups is not None and not create_graph:
        return _speedups.backprop(root, seed, stop, limit)  # the same steps, compiled
    order = _order(root, stop, limit) if _speedups is None else _speedups.order(root, stop, limit)
    grads: dict[Node, Any] = {root: seed}
    get = grads.get
    if not create_graph:
        for n in reversed(order):
            parents = n._parents
            if parents and not ((limit and getattr(n, "_seq", limit) < limit)
                                or (stop is not None and n in stop)):  # not a cut
                g = grads[n]
                k = len(parents)
                if k == 2:  # unrolled: the same additions as the loop below
                    p, q = parents
                    a, b = n._local
                    grads[p] = get(p, 0.0) + a * g
                    grads[q] = get(q, 0.0) + b * g
                elif k == 1:
                    (p,), (a,) = parents, n._local
                    grads[p] = get(p, 0.0) + a * g
                else:
                    for p, l in zip(parents, n._local):
                        grads[p] = get(p, 0.0) + l * g
        return order, grads
    with enable_grad():
        for n in reversed(order):
            parents = n._parents
            if (not parents or n not in grads
                    or (limit and getattr(n, "_seq", limit) < limit)
                    or (stop is not None and n in stop)):
                continue  # a leaf, nothing passed to it, or a cut
            g = grads[n]
            extra = (n._param,) if n._prim.has_param else ()
            locals_ = n._prim.rule(*parents, *extra)[1]
            for p, l in zip(parents, locals_):
                old = get(p)
                if type(l) is float:
                    if l == 0.0 and type(g) is not float and _finite_value(g):
                        if old is None:  # 0 * a finite gradient: no node made, but p is
                            grads[p] = 0.0  # reached (a computed 0, not a structural one)
                        continue
                    c = g if l == 1.0 else l * g
                else:
                    c = l * g
                grads[p] = c if (old is None or (type(old) is float and old == 0.0)) else old + c
    return order, grads


def push_tangents(root: Value, seeds: dict[Value, Any],
                  order: list[Value] | None = None, *,
                  create_graph: bool = False) -> dict[Value, Any]:
    """Forward mode: the tangent of every node reachable from ``root``.

    ``seeds`` maps input nodes to their tangents (others start at 0). Tangents
    are pushed in topological order, each node's tangent being
    Σ local_grad_i × tangent(parent_i): the same local derivatives backward
    uses, read the other way round. The one forward-mode driver.

    With ``create_graph=True`` the tangents are Values with graphs of their
    own (seeds may be Values): each node's local derivatives are recomputed
    by running its primitive's rule on the parent Values, as the backward
    driver does for ``create_graph``, so a tangent can be differentiated
    again (forward over reverse, grad of jvp, jvp of jvp)."""
    if order is None:
        order = topological_order(root)
    tan: dict[Value, Any] = {}
    # A node none of whose ancestors is seeded has tangent 0 by structure: it
    # adds nothing to its children. Every other term is computed, also when
    # its tangent happens to be 0 (0 * inf is nan, as in reverse mode and
    # PyTorch's forward AD).
    live: set[Value] = set()
    if not create_graph:
        for s in seeds.values():
            if isinstance(s, Node):
                raise TypeError("push_tangents: a tangent seed that is a "
                                f"{type(s).__name__} needs create_graph=True")
        for n in order:
            parents = n._parents
            if not parents:  # a leaf: its seed as it is, or 0 by structure
                if n in seeds:
                    tan[n] = seeds[n]
                    live.add(n)
                else:
                    tan[n] = 0.0
                continue
            t = 0.0
            reached = False
            for p, l in zip(parents, n._local):
                if p in live:
                    tp = tan[p]
                    t = t + (l.jvp(tp) if isinstance(l, LocalMap) else l * tp)
                    reached = True
            if n in seeds:
                t = t + seeds[n]
                reached = True
            if reached:
                live.add(n)
            tan[n] = t
        return tan
    with enable_grad():
        for n in order:
            parents = n._parents
            t: Any = None  # nothing added yet
            reached = any(p in live for p in parents)
            if reached:
                extra = (n._param,) if n._prim.has_param else ()
                locals_ = n._prim.rule(*parents, *extra)[1]
                for p, l in zip(parents, locals_):
                    if p not in live:
                        continue
                    tp = tan[p]
                    if isinstance(l, LocalMap):
                        c = l.jvp(tp)
                    elif type(l) is float:
                        if l == 0.0 and type(tp) is not float and _finite_value(tp):
                            continue  # 0 * a finite tangent: nothing to add, no node made
                        c = tp if l == 1.0 else l * tp
                    else:
                        c = l * tp
                    t = c if t is None else t + c
            if n in seeds:
                s = seeds[n]
                t = s if t is None else t + s
                reached = True
            tan[n] = 0.0 if t is None else t  # (every term 0 · a finite tangent: 0)
            if reached:  # a computed tangent, also when it is 0
                live.add(n)
    return tan


def _finite_value(x: Any) -> bool:
    """Whether a tangent or gradient that is a Value (or a Tensor) holds only
    finite numbers: then multiplying it by the constant 0.0 gives zeros and
    the term can be left out."""
    d = getattr(x, "_data", None)
    if d is None:
        return False
    if type(d) is float:
        return math.isfinite(d)
    try:
        return bool(np_isfinite(d).all())
    except TypeError:
        return False


def gradients(output: Value, inputs: Sequence[Value], *, grad: Any = 1.0,
              create_graph: bool = False) -> list[Any]:
    """∂output/∂input for each input, without touching any ``.grad``.

    Like ``torch.autograd.grad``: composable, for higher derivatives use
    ``create_graph=True`` (results are Values). An input the output does not
    depend on gets 0.0. The walk does not go behind the nodes made before
    all the inputs (with one input it stops at it), so the cost does not grow
    with the history the inputs were computed from. Safe to call
    from several threads on graphs that share nodes."""
    if not isinstance(output, Value):
        raise TypeError(f"output must be a Value, got {type(output).__name__}")
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"input {i} must be a Value, got {type(x).__name__}")
    seed = grad if (create_graph and isinstance(grad, Value)) else _as_float(grad, "grad")
    grads = _backprop(output, seed, create_graph, inputs)[1]
    return [grads.get(x, 0.0) for x in inputs]


# ------------------------------------------------------------ compiled bookkeeping

def _load_speedups() -> Any:
    """The optional compiled driver bookkeeping (``setup.py`` builds it where a
    C compiler is present), or ``None``: then the pure-Python code above runs.
    ``AUTOGRAD_CORE_PURE_PYTHON=1`` forces the pure-Python driver."""
    import os
    if os.environ.get("AUTOGRAD_CORE_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _speedups as mod
    except ImportError:
        return None
    slots = [Node.__dict__[k] for k in ("_data", "label", "_parents", "_local", "_prim", "_param",
                                        "_seq")]
    # its creation numbers go on from this module's (nodes made so far keep theirs)
    try:
        mod.setup(Node, Value, _grad_enabled, (*slots, Value.__dict__["grad"]), _seq_now + 1)
    except (TypeError, AttributeError):  # a stale build from an older source: rebuild with
        return None                      # `pip install -e .`; the pure-Python driver runs
    return mod


_speedups = _load_speedups()


def _watch_creation(delta: int) -> None:
    """Count a capture that starts (+1) or ends (-1) watching node creation
    through ``creation_hook`` (static replay order); both node makers, the
    Python reference and the compiled one, call the hook only while the count
    is positive. Callers hold their own lock."""
    global _creation_watchers
    _creation_watchers += delta
    if _speedups is not None:
        _speedups.watch_creation(creation_hook, _creation_watchers)


_py_node = _node  # the reference
_plain_backprop = _backprop  # anomaly mode swaps in a checking driver; backward() then uses it
if _speedups is not None:
    # Node creation compiled: the same slots, and the new Value is not tracked
    # by the cyclic garbage collector (a graph has no reference cycle and is
    # freed by reference counting), so building big graphs costs no full
    # collections. backward(create_graph=True) tracks graphs it stores in .grad.
    _node = _speedups.node  # noqa: F811
    _next_seq = _speedups.seq  # noqa: F811  one counter for both node makers
