"""Run the scalar primitives' rules on whole arrays.

The rules of :mod:`autograd_core.core.primitives` are written with
:mod:`autograd_core.core._math`, whose functions call the method of the same name
on anything that is not a float. A :class:`Lane` wraps an array (an
``ndarray`` in the forward pass, a ``Tensor`` when ``backward(create_graph=True)``
re-runs a rule) and provides those methods, so a rule evaluates elementwise on
the array without a second copy of its formulas.

Some rules branch in Python (``if x > 0.0:`` for relu, abs, leaky_relu, prelu,
elu; ``value_of(out) != 0.0`` for pow). A comparison of Lanes returns a
:class:`Cond` whose truth value is decided by a :class:`Controller`:
:func:`run_rule` runs the rule once per branch path that some element takes
(depth first; a branch no element takes is never run), remembers which
elements follow each path, and stitches the paths' results together with
``where``. Every element therefore gets exactly the value and derivative the
scalar rule gives it, kink conventions included, and a rule without branches
runs once.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

__all__ = ["Lane", "Cond", "Controller", "run_rule", "run_check", "NotVectorisable"]

_ndarray = np.ndarray
_generic = np.generic


class NotVectorisable(TypeError):
    """A rule or check asked for a Python float of an array (``math.isfinite``)."""


class Controller:
    """Answers the branch decisions of one run of a rule (see module doc)."""

    __slots__ = ("script", "i", "live", "pending", "taken")

    def __init__(self, script: tuple[bool, ...]) -> None:
        self.script = script
        self.i = 0
        self.live: Any = True
        self.pending: list[tuple[bool, ...]] = []
        self.taken: list[bool] = []

    def decide(self, mask: Any) -> bool:
        mask = np.asarray(mask, dtype=bool)
        i = self.i
        self.i = i + 1
        if i < len(self.script):
            taken = self.script[i]
        else:
            yes = np.any(self.live & mask)
            no = np.any(self.live & ~mask)
            taken = bool(yes) or not bool(no)
            if yes and no:
                self.pending.append(tuple(self.taken) + (False,))
        self.taken.append(taken)
        self.live = self.live & (mask if taken else ~mask)
        return taken


class Cond:
    """The result of comparing Lanes: its truth value is a branch decision."""

    __slots__ = ("mask", "ctl")

    def __init__(self, mask: Any, ctl: Controller) -> None:
        self.mask = mask
        self.ctl = ctl

    def __bool__(self) -> bool:
        return self.ctl.decide(self.mask)


def _raw(x: Any) -> Any:
    return x.a if type(x) is Lane else x


def _mask_data(x: Any) -> Any:
    """Numbers behind ``x`` for a comparison (Tensor payloads compare by data)."""
    x = _raw(x)
    if type(x) is _ndarray or isinstance(x, (float, int)):
        return x
    return x._data


#: ``a / b`` as a node for a Tensor divisor with zero elements: the div rule
#: without its domain check (set by the tensor module, which imports this one)
div_node: Any = None


def _total_div(a: Any, b: Any) -> Any:
    """``a / b``; for a Tensor divisor (``create_graph`` on Tensors) with zero
    elements, an IEEE division node (:data:`div_node`): the array and the
    scalar rule give inf there, and its derivative is that of the scalar
    engine's IEEE division (a Tensor's own ``/`` raises)."""
    if type(b) is _ndarray or isinstance(b, (_generic, float, int)) or not hasattr(b, "_parents"):
        return a / b
    if not (b._data == 0.0).any():
        return a / b
    return div_node(a, b)


def _wrap(a: Any, ctl: Controller) -> Lane:
    v = Lane.__new__(Lane)
    v.a = a
    v.ctl = ctl
    v.e = None
    return v


class Lane:
    """An array seen by a scalar rule: arithmetic and the ``_math`` methods
    act elementwise; comparisons give :class:`Cond` branch decisions."""

    __slots__ = ("a", "ctl", "e")
    __array_ufunc__ = None

    def __init__(self, a: Any, ctl: Controller) -> None:
        self.a = a
        self.ctl = ctl
        self.e = None  # exp(-|a|) once made (see _exp_neg_abs)

    def _exp_neg_abs(self) -> np.ndarray:
        """exp(-|a|) of this Lane's array, made once: softplus's rule takes the
        sigmoid and the softplus of the same operand, which both start with it."""
        e = self.e
        if e is None:
            e = self.e = _exp_neg_abs(self.a)
        return e

    # value_of(x) reads .data: a Lane is its own data so comparisons stay Lanes
    @property
    def data(self) -> Lane:
        return self

    def __float__(self) -> float:
        raise NotVectorisable("a rule needs a Python float of an array")

    def __format__(self, spec: str) -> str:
        return "<array>"

    # arithmetic
    def __add__(self, o: Any) -> Lane:
        return _wrap(self.a + _raw(o), self.ctl)

    def __radd__(self, o: Any) -> Lane:
        return _wrap(_raw(o) + self.a, self.ctl)

    def __sub__(self, o: Any) -> Lane:
        return _wrap(self.a - _raw(o), self.ctl)

    def __rsub__(self, o: Any) -> Lane:
        return _wrap(_raw(o) - self.a, self.ctl)

    def __mul__(self, o: Any) -> Lane:
        return _wrap(self.a * _raw(o), self.ctl)

    def __rmul__(self, o: Any) -> Lane:
        return _wrap(_raw(o) * self.a, self.ctl)

    def __truediv__(self, o: Any) -> Lane:
        return _wrap(_total_div(self.a, _raw(o)), self.ctl)

    def __rtruediv__(self, o: Any) -> Lane:
        return _wrap(_total_div(_raw(o), self.a), self.ctl)

    def __pow__(self, o: Any) -> Lane:
        return _wrap(self.a ** _raw(o), self.ctl)

    def __rpow__(self, o: Any) -> Lane:
        return _wrap(_raw(o) ** self.a, self.ctl)

    def __neg__(self) -> Lane:
        return _wrap(-self.a, self.ctl)

    def __pos__(self) -> Lane:
        return self

    def __abs__(self) -> Lane:  # abs(x) works in rules on Values and symbols too
        return _wrap(abs(self.a), self.ctl)

    # comparisons -> branch decisions
    def __gt__(self, o: Any) -> Cond:
        return Cond(_mask_data(self) > _mask_data(o), self.ctl)

    def __ge__(self, o: Any) -> Cond:
        return Cond(_mask_data(self) >= _mask_data(o), self.ctl)

    def __lt__(self, o: Any) -> Cond:
        return Cond(_mask_data(self) < _mask_data(o), self.ctl)

    def __le__(self, o: Any) -> Cond:
        return Cond(_mask_data(self) <= _mask_data(o), self.ctl)

    def __eq__(self, o: Any) -> Cond:  # type: ignore[override]
        return Cond(_mask_data(self) == _mask_data(o), self.ctl)

    def __ne__(self, o: Any) -> Cond:  # type: ignore[override]
        return Cond(_mask_data(self) != _mask_data(o), self.ctl)

    __hash__ = None  # type: ignore[assignment]

    # the _math methods
    def _f(self, np_func: Callable[[Any], Any], name: str) -> Lane:
        a = self.a
        if type(a) is _ndarray or isinstance(a, _generic):  # 0-d arithmetic gives numpy scalars
            return _wrap(np_func(a), self.ctl)
        return _wrap(getattr(a, name)(), self.ctl)

    def _f2(self, o: Any, np_func: Callable[[Any, Any], Any], name: str) -> Lane:
        a, b = self.a, _raw(o)
        if (type(a) is _ndarray or isinstance(a, (_generic, float))) and (
                type(b) is _ndarray or isinstance(b, (_generic, float))):
            return _wrap(np_func(a, b), self.ctl)
        return _wrap(getattr(a, name)(b), self.ctl)

    def exp(self) -> Lane:
        return self._f(np.exp, "exp")

    def expm1(self) -> Lane:
        return self._f(np.expm1, "expm1")

    def log(self) -> Lane:
        return self._f(np.log, "log")

    def log1p(self) -> Lane:
        return self._f(np.log1p, "log1p")

    def sqrt(self) -> Lane:
        return self._f(np.sqrt, "sqrt")

    def sin(self) -> Lane:
        return self._f(np.sin, "sin")

    def cos(self) -> Lane:
        return self._f(np.cos, "cos")

    def tanh(self) -> Lane:
        return self._f(np.tanh, "tanh")

    def erf(self) -> Lane:
        return self._f(np_erf, "erf")

    def erfc(self) -> Lane:
        return self._f(np_erfc, "erfc")

    def sigmoid(self) -> Lane:
        a = self.a
        if type(a) is _ndarray and a.ndim:  # np_sigmoid(a), sharing exp(-|a|)
            return _wrap(_sigmoid_from(a, self._exp_neg_abs()), self.ctl)
        return self._f(np_sigmoid, "sigmoid")

    def softplus(self) -> Lane:
        a = self.a
        if type(a) is _ndarray and a.ndim:  # np_softplus(a), sharing exp(-|a|)
            return _wrap(_softplus_from(a, self._exp_neg_abs()), self.ctl)
        return self._f(np_softplus, "softplus")

    def tan(self) -> Lane:
        return self._f(np.tan, "tan")

    def sinh(self) -> Lane:
        return self._f(np.sinh, "sinh")

    def cosh(self) -> Lane:
        return self._f(np.cosh, "cosh")

    def arcsin(self) -> Lane:
        return self._f(np.arcsin, "arcsin")

    def arccos(self) -> Lane:
        return self._f(np.arccos, "arccos")

    def arctan(self) -> Lane:
        return self._f(np.arctan, "arctan")

    def arcsinh(self) -> Lane:
        return self._f(np.arcsinh, "arcsinh")

    def arccosh(self) -> Lane:
        return self._f(np.arccosh, "arccosh")

    def arctanh(self) -> Lane:
        return self._f(np.arctanh, "arctanh")

    def log2(self) -> Lane:
        return self._f(np.log2, "log2")

    def log10(self) -> Lane:
        return self._f(np.log10, "log10")

    def sign(self) -> Lane:
        return self._f(np.sign, "sign")

    def floor(self) -> Lane:
        return self._f(np.floor, "floor")

    def ceil(self) -> Lane:
        return self._f(np.ceil, "ceil")

    def hypot(self, o: Any) -> Lane:
        return self._f2(o, np.hypot, "hypot")

    def arctan2(self, o: Any) -> Lane:
        return self._f2(o, np.arctan2, "arctan2")


# ------------------------------------------------------------ numpy kernels

_erf_u = np.frompyfunc(math.erf, 1, 1)
_erfc_u = np.frompyfunc(math.erfc, 1, 1)


def np_erf(x: np.ndarray) -> np.ndarray:
    """erf elementwise (math.erf per element: exact to the last bit, slower)."""
    return np.asarray(_erf_u(x), dtype=x.dtype) if x.size else x.copy()


def np_erfc(x: np.ndarray) -> np.ndarray:
    return np.asarray(_erfc_u(x), dtype=x.dtype) if x.size else x.copy()


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), stable for any x (the formula of ``_math.sigmoid``):
    r = 1 / (1 + e) with e = exp(-|x|), and e·r where x < 0."""
    if type(x) is not _ndarray or not x.ndim:  # numpy scalars: ufuncs return no arrays
        e = np.exp(-np.abs(x))
        r = 1.0 / (1.0 + e)
        return np.where(x >= 0.0, r, e * r)
    return _sigmoid_from(x, _exp_neg_abs(x))


def np_softplus(x: np.ndarray) -> np.ndarray:
    """max(x, 0) + log1p(exp(-|x|)), as ``_math.softplus``."""
    if type(x) is not _ndarray or not x.ndim:
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
    return _softplus_from(x, _exp_neg_abs(x))


# The array forms of the two formulas, written into fresh arrays (the same
# operations as above); e = exp(-|x|) is only read, so one e serves both.

def _exp_neg_abs(x: np.ndarray) -> np.ndarray:
    e = np.abs(x)
    np.negative(e, out=e)
    return np.exp(e, out=e)


def _sigmoid_from(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    r = np.add(1.0, e)
    np.divide(1.0, r, out=r)
    return np.multiply(e, r, out=r, where=x < 0.0)


def _softplus_from(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    t = np.log1p(e)
    m = np.maximum(x, 0.0)
    return np.add(m, t, out=m)


# ------------------------------------------------------------ running rules

def _paths(call: Callable[[Controller], Any]) -> list[tuple[Any, Any]]:
    """Run ``call(ctl)`` once per branch path some element takes:
    a list of ``(live mask or True, result)``."""
    out = []
    pending: list[tuple[bool, ...]] = [()]
    while pending:
        ctl = Controller(pending.pop())
        res = call(ctl)
        out.append((ctl.live, res))
        pending.extend(ctl.pending)
    return out


def _ignoring_fp_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` run inside ``np.errstate(all="ignore")``. On numpy >= 2 an
    errstate is a thread-safe decorator (it sets numpy's context variable per
    call) and cheaper than entering a new ``with np.errstate(...)`` each call;
    older numpy keeps the ``with`` block."""
    if int(np.__version__.split(".")[0]) >= 2:
        return np.errstate(all="ignore")(func)

    def inner(*args: Any) -> Any:  # pragma: no cover - numpy 1.x
        with np.errstate(all="ignore"):
            return func(*args)
    return inner


def _call(rule: Callable[..., Any], operands: tuple[Any, ...], extra: tuple[Any, ...],
          ctl: Controller) -> tuple[Any, tuple[Any, ...]]:
    """One run of ``rule`` on Lanes of the operands, its branch decisions by ``ctl``."""
    value, local = rule(*[_wrap(o, ctl) for o in operands],
                        *[_wrap(e, ctl) if type(e) is _ndarray else e for e in extra])
    return _raw(value), tuple([d.a if type(d) is Lane else d for d in local])  # _raw, inlined


def run_rule(rule: Callable[..., Any], operands: tuple[Any, ...], extra: tuple[Any, ...],
             where: Callable[[Any, Any, Any], Any]) -> tuple[Any, tuple[Any, ...]]:
    """``rule`` evaluated elementwise on array (or Tensor) operands.

    Returns ``(value, locals)`` where each is an array/Tensor or a number
    (a number that is the same for every element stays a number);
    ``where(mask, a, b)`` joins two paths' results."""
    for o in operands:
        if type(o) is not _ndarray and not isinstance(o, (_generic, float, int)):
            return _run_rule_graph(lambda ctl: _call(rule, operands, extra, ctl), rule, operands,
                                   extra, where)
    return _run_rule_arrays(rule, operands, extra, where)


@_ignoring_fp_errors
def _run_rule_arrays(rule: Callable[..., Any], operands: tuple[Any, ...], extra: tuple[Any, ...],
                     where: Callable[[Any, Any, Any], Any]) -> tuple[Any, tuple[Any, ...]]:
    """:func:`run_rule` on arrays and numbers (floating-point errors ignored)."""
    ctl = Controller(())
    first = _call(rule, operands, extra, ctl)
    if not ctl.taken:  # no branch: the common case
        return first
    paths = [(ctl.live, first)]
    pending = ctl.pending
    while pending:
        ctl = Controller(pending.pop())
        res = _call(rule, operands, extra, ctl)
        paths.append((ctl.live, res))
        pending.extend(ctl.pending)
    if len(paths) == 1:
        return first
    # join: later paths are the else-branches; fold from the last one
    live, (value, local) = paths[-1]
    for mask, (v, loc) in reversed(paths[:-1]):
        value = _join(mask, v, value, where)
        local = tuple(_join(mask, a, b, where) for a, b in zip(loc, local))
    return value, local


def _run_rule_graph(call: Callable[[Controller], Any], rule: Callable[..., Any],
                    operands: tuple[Any, ...], extra: tuple[Any, ...],
                    where: Callable[[Any, Any, Any], Any]) -> tuple[Any, tuple[Any, ...]]:
    """``run_rule`` on Tensor operands (``backward(create_graph=True)``).

    The branch paths are found on the operands' numbers; each path is then
    run on operands whose elements that take another path are replaced by a
    constant copy of one element that takes it. So no path ever sees an
    element outside its own domain: no domain error raised for an element the
    scalar rule never sends there (``softsign`` at -1, ``pow`` at a zero base),
    and no inf or nan from an untaken branch leaking into the derivative of
    the join (0 · inf = nan), which the scalar rule never computes."""
    datas = tuple(_mask_data(o) for o in operands)
    xdatas = tuple(_mask_data(e) if type(e) is _ndarray else e for e in extra)
    scripts: list[tuple[Any, tuple[bool, ...]]] = []
    pending: list[tuple[bool, ...]] = [()]
    with np.errstate(all="ignore"):
        while pending:
            ctl = Controller(pending.pop())
            rule(*[_wrap(d, ctl) for d in datas],
                 *[_wrap(e, ctl) if type(e) is _ndarray else e for e in xdatas])
            scripts.append((ctl.live, tuple(ctl.taken)))
            pending.extend(ctl.pending)
    if len(scripts) == 1:
        return call(Controller(scripts[0][1]))
    shape = np.broadcast_shapes(*[np.shape(d) for d in datas],
                                *[e.shape for e in extra if type(e) is _ndarray])
    results = []
    for live, script in scripts:
        m = np.broadcast_to(live, shape)
        idx = np.unravel_index(int(np.flatnonzero(m)[0]), shape) if shape else ()
        ops = tuple(where(m, o, np.full(shape, np.broadcast_to(d, shape)[idx], dtype=np.result_type(d)))
                    for o, d in zip(operands, datas))
        ext = tuple(np.where(m, e, np.broadcast_to(e, shape)[idx]) if type(e) is _ndarray else e
                    for e in extra)

        def call_safe(ctl: Controller, ops: tuple[Any, ...] = ops, ext: tuple[Any, ...] = ext) -> Any:
            value, local = rule(*[_wrap(o, ctl) for o in ops],
                                *[_wrap(e, ctl) if type(e) is _ndarray else e for e in ext])
            return _raw(value), tuple(_raw(d) for d in local)

        with np.errstate(all="ignore"):
            results.append((m, call_safe(Controller(script))))
    _, (value, local) = results[-1]
    for mask, (v, loc) in reversed(results[:-1]):
        value = _join(mask, v, value, where)
        local = tuple(_join(mask, a, b, where) for a, b in zip(loc, local))
    return value, local


def _join(mask: Any, a: Any, b: Any, where: Callable[[Any, Any, Any], Any]) -> Any:
    if isinstance(a, float) and isinstance(b, float) and (a == b or (a != a and b != b)):
        return a
    return where(mask, a, b)


def run_check(check: Callable[..., Any], datas: tuple[Any, ...], extra: tuple[Any, ...]) -> Any:
    """The primitive's domain check over all elements: ``None`` or
    ``(exception_from_the_scalar_check, index)`` for the first bad element."""
    shape = np.broadcast_shapes(*[np.shape(d) for d in datas],
                                *[e.shape for e in extra if type(e) is _ndarray])

    def call(ctl: Controller) -> Any:
        return check(*[_wrap(d, ctl) for d in datas],
                     *[_wrap(e, ctl) if type(e) is _ndarray else e for e in extra])

    try:
        with np.errstate(all="ignore"):
            paths = _paths(call)
        bad = [np.broadcast_to(m, shape) for m, r in paths if r is not None]
        if not bad:
            return None
        anybad = bad[0]
        for b in bad[1:]:
            anybad = anybad | b
        flat = np.flatnonzero(anybad)
    except NotVectorisable:
        flat = None
    arrays = [np.broadcast_to(d, shape) for d in datas]
    extras = [np.broadcast_to(e, shape) if type(e) is _ndarray else e for e in extra]
    candidates = flat if flat is not None else range(int(np.prod(shape, dtype=np.int64)))
    for k in candidates:
        idx = np.unravel_index(int(k), shape) if shape else ()
        err = check(*[float(a[idx]) for a in arrays],
                    *[float(e[idx]) if type(e) is _ndarray else e for e in extras])
        if err is not None:
            return err, tuple(int(i) for i in idx)
    return None
