"""``Tensor``: a node of the same engine whose data is a numpy array.

A Tensor has the slots of a :class:`~autograd_core.Value` (``_data``,
``label``, ``_parents``, ``_local``, ``_prim``, ``_param`` and a
``grad``), so the engine's one topological order, backward driver
(``grads[p] += l * g``) and forward-mode driver (``Σ l · t``) walk it unchanged.
A local derivative is one of

* a number or an array of the output's shape (elementwise operations:
  ``l * g`` is the elementwise product, the same in both directions);
* a small linear map (:class:`~autograd_core.core.engine.LocalMap`) for array
  operations: ``l * g`` applies its transpose (vector-Jacobian product:
  ``g @ B.T`` for matmul, a sum back to the operand's shape for broadcasting,
  a scatter for indexing) and ``l.jvp(t)`` applies it to a tangent.

Elementwise operations have no derivative formulas here: they run the scalar
primitives' rules from :mod:`autograd_core.core.primitives` on whole arrays (see
:mod:`autograd_core.tensor._vectorize`, which also handles the rules' Python
branches at kinks). The array operations' rules live in this module's table
:data:`TENSOR_PRIMITIVES`, written once and run on arrays in the forward pass
and on Tensors for ``backward(create_graph=True)``.
"""

from __future__ import annotations

import numbers
from operator import attrgetter as _attrgetter
from collections.abc import Iterator, Sequence
from itertools import zip_longest as _zip_longest
from typing import Any

import numpy as np

from ..core import engine as _engine
from . import _vectorize
from ._vectorize import run_check, run_rule
from ..core.engine import LocalMap, Node, Value, _accumulate_lock, _backprop, _grad_get, push_tangents
from ..core.primitives import _DIV_IEEE, HOOKS as _HOOKS, PRIMITIVES, Primitive, export_as

__all__ = [
    "Tensor", "TENSOR_PRIMITIVES", "as_tensor", "zeros", "ones", "where", "matmul", "prelu",
    "log_softmax", "softmax", "cross_entropy", "binary_cross_entropy_with_logits",
    "gradients", "jvp", "describe", "linear", "vdot", "sum_of_vdots",
    "concatenate", "stack", "split", "logsumexp",
]

_ndarray = np.ndarray
_add_reduce = np.add.reduce  # what ndarray.sum calls, without its Python wrapper
_data_attr = _attrgetter("_data")
_new = object.__new__
_FLOATS = (np.float64, np.float32)


# ------------------------------------------------------------------ helpers

def _dtype(dtype: Any) -> np.dtype:
    if dtype is None:
        return np.dtype(np.float64)
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"Tensor dtype must be 'float64' or 'float32', not {dtype!r}") from None
    if d.type not in _FLOATS:
        raise ValueError(f"Tensor dtype must be float64 or float32, not {d.name}")
    return d


def _as_array(x: Any, what: str, dtype: Any = None) -> np.ndarray:
    """``x`` as a new float array (float64 unless ``dtype``), or a TypeError
    saying what was wrong."""
    if isinstance(x, Tensor):
        raise TypeError(f"{what} is already a Tensor (use .detach() for a new leaf)")
    if isinstance(x, Value):
        raise TypeError(f"{what} is a Value; a Tensor holds an array (use Tensor(v.data))")
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{what} must be an array of real numbers, not {type(x).__name__}")
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{what} is not a rectangular array of numbers: {exc}") from None
    k = a.dtype.kind
    if k == "b" or k not in "iuf":
        raise TypeError(f"{what} must hold real numbers (int or float), not {a.dtype} "
                        f"({type(x).__name__})")
    return np.array(a, dtype=np.float64 if dtype is None else dtype)


def _const(x: Any, what: str) -> Any:
    """A constant operand: a float, or a float array (kept as a parameter)."""
    t = type(x)
    if t is float:
        return x
    if t is int or (isinstance(x, numbers.Real) and not isinstance(x, bool) and t is not bool):
        return float(x)
    if t is _ndarray or isinstance(x, (list, tuple)):
        a = np.asarray(x)
        if a.dtype.kind not in "iuf":
            raise TypeError(f"{what} must hold real numbers, not {a.dtype}")
        if a.dtype.kind != "f":
            a = a.astype(np.float64)
        return a
    return None


def _shape_of(x: Any) -> tuple[int, ...]:
    return x.shape if hasattr(x, "shape") else ()


def _bshape(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    first = shapes[0]
    for s in shapes:
        if s != first:
            break
    else:
        return first
    out: list[int] = []
    ok = True
    for dims in _zip_longest(*[s[::-1] for s in shapes], fillvalue=1):
        m = max(dims)
        if any(d != 1 and d != m for d in dims):
            ok = False
            break
        out.append(0 if 0 in dims and m <= 1 else m)
    if ok:
        return tuple(out[::-1])
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{op}: shapes {' and '.join(map(str, shapes))} cannot be broadcast "
                         "together") from None


def _sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``x`` (array or Tensor) down to ``shape`` (undo broadcasting)."""
    xs = _shape_of(x)
    if xs == shape:
        return x
    if not xs:  # a number broadcast: every element gets it
        return np.full(shape, x) if not isinstance(x, Tensor) else x.broadcast_to(shape)
    lead = len(xs) - len(shape)
    if lead > 0 and xs[lead:] == shape:  # only leading axes were added (a bias row)
        return x.sum(axis=0 if lead == 1 else tuple(range(lead)))
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and xs[lead + i] != 1)
    r = x.sum(axis=axes, keepdims=True) if axes else x
    return r.reshape(shape)


def _broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    if isinstance(x, Tensor):
        return x.broadcast_to(shape)
    if _shape_of(x) == shape:
        return x
    return np.broadcast_to(x, shape)


def _swap(x: Any) -> Any:
    return x.swapaxes(-1, -2)


def _where_join(mask: Any, a: Any, b: Any) -> Any:
    """Join two branch paths' results (arrays, numbers or Tensors)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return where(mask, a, b)
    return np.where(mask, a, b)


# ------------------------------------------------------------------ local maps

class Unbroadcast(LocalMap):
    """Elementwise derivative ``l`` of an operand that was broadcast to the
    output's shape: backward multiplies then sums back to the operand's shape."""

    __slots__ = ("l", "shape", "out")

    def __init__(self, l: Any, shape: tuple[int, ...], out: tuple[int, ...]) -> None:
        self.l = l
        self.shape = shape
        self.out = out

    def __mul__(self, g: Any) -> Any:
        l = self.l
        x = g if (type(l) is float and l == 1.0) else l * g
        shape = self.shape
        if type(x) is _ndarray and x.ndim == len(shape) + 1 and x.shape[1:] == shape:
            return _add_reduce(x, axis=0)  # x.sum(axis=0) (a bias row): _sum_to's first case
        return _sum_to(x, shape)

    def jvp(self, t: Any) -> Any:
        return _broadcast_to(self.l * t, self.out)

    def __repr__(self) -> str:
        return f"Unbroadcast({self.shape} <- {self.out})"


def _promote(ashape: tuple[int, ...], bshape: tuple[int, ...]) -> tuple[tuple, tuple, tuple]:
    a2 = ashape if len(ashape) > 1 else (1,) + ashape
    b2 = bshape if len(bshape) > 1 else bshape + (1,)
    out2 = np.broadcast_shapes(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
    return a2, b2, out2


class MatmulLeft(LocalMap):
    """∂(a @ b)/∂a: backward ``g @ bᵀ`` (summed over broadcast batch axes)."""

    __slots__ = ("b", "ashape")

    def __init__(self, b: Any, ashape: tuple[int, ...]) -> None:
        self.b = b
        self.ashape = ashape

    def __mul__(self, g: Any) -> Any:
        b = self.b
        if len(self.ashape) == 2 and b.ndim == 2:  # plain matrices (a dense layer): no promotion
            return g @ b.T if not isinstance(b, Tensor) else g @ _swap(b)
        a2, b2, out2 = _promote(self.ashape, b.shape)
        ga = g.reshape(out2) @ _swap(b.reshape(b2))
        return _sum_to(ga, a2).reshape(self.ashape)

    def jvp(self, t: Any) -> Any:
        return t @ self.b

    def __repr__(self) -> str:
        return f"MatmulLeft(b: {self.b.shape})"


class MatmulRight(LocalMap):
    """∂(a @ b)/∂b: backward ``aᵀ @ g`` (summed over broadcast batch axes)."""

    __slots__ = ("a", "bshape")

    def __init__(self, a: Any, bshape: tuple[int, ...]) -> None:
        self.a = a
        self.bshape = bshape

    def __mul__(self, g: Any) -> Any:
        a = self.a
        if a.ndim == 2 and len(self.bshape) == 2:
            return a.T @ g if not isinstance(a, Tensor) else _swap(a) @ g
        a2, b2, out2 = _promote(a.shape, self.bshape)
        gb = _swap(a.reshape(a2)) @ g.reshape(out2)
        return _sum_to(gb, b2).reshape(self.bshape)

    def jvp(self, t: Any) -> Any:
        return self.a @ t

    def __repr__(self) -> str:
        return f"MatmulRight(a: {self.a.shape})"


def _norm_axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, not {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} axes")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(out))


class SumMap(LocalMap):
    """∂ sum/∂x (times ``scale``; mean uses 1/count): backward broadcasts ``g``."""

    __slots__ = ("shape", "axes", "keepdims", "scale")

    def __init__(self, shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool,
                 scale: float) -> None:
        self.shape = shape
        self.axes = axes
        self.keepdims = keepdims
        self.scale = scale

    def __mul__(self, g: Any) -> Any:
        if not self.keepdims:
            kshape = tuple(1 if i in self.axes else n for i, n in enumerate(self.shape))
            g = g.reshape(kshape)
        if self.scale != 1.0:
            g = g * self.scale
        return _broadcast_to(g, self.shape)

    def jvp(self, t: Any) -> Any:
        s = t.sum(axis=self.axes, keepdims=self.keepdims)
        return s * self.scale if self.scale != 1.0 else s


class ReshapeMap(LocalMap):
    __slots__ = ("shape", "out")

    def __init__(self, shape: tuple[int, ...], out: tuple[int, ...]) -> None:
        self.shape = shape
        self.out = out

    def __mul__(self, g: Any) -> Any:
        return g.reshape(self.shape)

    def jvp(self, t: Any) -> Any:
        return t.reshape(self.out)


class TransposeMap(LocalMap):
    __slots__ = ("axes", "inverse")

    def __init__(self, axes: tuple[int, ...]) -> None:
        self.axes = axes
        self.inverse = tuple(int(i) for i in np.argsort(axes))

    def __mul__(self, g: Any) -> Any:
        return g.transpose(self.inverse)

    def jvp(self, t: Any) -> Any:
        return t.transpose(self.axes)


class BroadcastMap(LocalMap):
    __slots__ = ("shape", "out")

    def __init__(self, shape: tuple[int, ...], out: tuple[int, ...]) -> None:
        self.shape = shape
        self.out = out

    def __mul__(self, g: Any) -> Any:
        return _sum_to(g, self.shape)

    def jvp(self, t: Any) -> Any:
        return _broadcast_to(t, self.out)


def _is_basic_index(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
               for i in items)


def _scatter_array(g: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
    z = np.zeros(shape, dtype=g.dtype)
    if _is_basic_index(index):
        z[index] += g
    else:
        np.add.at(z, index, g)
    return z


class GatherMap(LocalMap):
    """∂ x[index]/∂x: backward scatters ``g`` into zeros of x's shape
    (repeated indices add up)."""

    __slots__ = ("shape", "index")

    def __init__(self, shape: tuple[int, ...], index: Any) -> None:
        self.shape = shape
        self.index = index

    def __mul__(self, g: Any) -> Any:
        if isinstance(g, Tensor):
            return _apply(_SCATTER, (g,), (self.shape, self.index))
        return _scatter_array(np.asarray(g), self.shape, self.index)

    def jvp(self, t: Any) -> Any:
        return t[self.index]


class ScatterMap(LocalMap):
    """∂ scatter(x)/∂x: the transpose of :class:`GatherMap`."""

    __slots__ = ("shape", "index")

    def __init__(self, shape: tuple[int, ...], index: Any) -> None:
        self.shape = shape
        self.index = index

    def __mul__(self, g: Any) -> Any:
        return g[self.index]

    def jvp(self, t: Any) -> Any:
        if isinstance(t, Tensor):
            return _apply(_SCATTER, (t,), (self.shape, self.index))
        return _scatter_array(np.asarray(t), self.shape, self.index)


class LogSoftmaxMap(LocalMap):
    """∂ log_softmax(x)/∂x with s = softmax(x): backward ``g - s Σg``."""

    __slots__ = ("s", "axis")

    def __init__(self, s: Any, axis: int) -> None:
        self.s = s
        self.axis = axis

    def __mul__(self, g: Any) -> Any:
        return g - self.s * g.sum(axis=self.axis, keepdims=True)

    def jvp(self, t: Any) -> Any:
        return t - (self.s * t).sum(axis=self.axis, keepdims=True)


class ReduceMap(LocalMap):
    """The derivative ``scale · d`` (``d`` an array of the operand's shape) of a
    one-element result (losses, dot products): backward ``d · (scale g)``,
    forward ``scale Σ d t``."""

    __slots__ = ("d", "scale")

    def __init__(self, d: Any, scale: float = 1.0) -> None:
        self.d = d
        self.scale = scale

    def __mul__(self, g: Any) -> Any:
        s = self.scale
        return self.d * (g * s if s != 1.0 else g)

    def jvp(self, t: Any) -> Any:
        r = (self.d * t).sum()
        return r * self.scale if self.scale != 1.0 else r


# ------------------------------------------------------------------ the table

TENSOR_PRIMITIVES: dict[str, Primitive] = {}
_ELEMENTWISE: dict[str, Primitive] = {}


def _register(name: str, rule: Any, arity: int | None = 1, param: str | None = None,
              symbol: str = "") -> Primitive:
    prim = Primitive(name=name, rule=rule, arity=arity, param=param, symbol=symbol or name,
                     doc=(rule.__doc__ or "").strip())
    TENSOR_PRIMITIVES[name] = prim
    return prim


def _dtype_of(*xs: Any) -> Any:
    return np.result_type(*[x._data if isinstance(x, Tensor) else x for x in xs
                            if isinstance(x, (Tensor, _ndarray))])


def elementwise(prim: Primitive | str) -> Primitive:
    """The array version of a scalar primitive: the scalar rule run on every
    element (with broadcasting), derivatives summed back to operand shapes."""
    if isinstance(prim, str):
        prim = PRIMITIVES[prim]
    got = _ELEMENTWISE.get(prim.name)
    if got is not None:
        return got
    ew = _make_elementwise(prim)
    _ELEMENTWISE[prim.name] = ew
    return ew


def _make_elementwise(prim: Primitive) -> Primitive:
    """:func:`elementwise` without the table (for a primitive not registered by name)."""
    if prim.arity is None:
        raise ValueError(f"{prim.name} is n-ary; on tensors use matmul/sum instead")
    n = prim.arity
    scalar_rule = prim.rule

    def rule(*args: Any) -> tuple[Any, tuple[Any, ...]]:
        ops, extra = args[:n], args[n:]
        value, local = run_rule(scalar_rule, ops, extra, _where_join)
        shapes = [o.shape for o in ops]
        if extra and type(extra[0]) is _ndarray:
            out = _bshape(prim.name, *shapes, extra[0].shape)
        else:
            out = shapes[0] if n == 1 else _bshape(prim.name, *shapes)
        if type(value) is not _ndarray or value.shape != out:
            if not out and isinstance(value, np.generic):  # numpy scalar from 0-d operands
                value = np.asarray(value)
                if value.dtype.type not in _FLOATS:
                    value = value.astype(_dtype_of(*ops, *extra))
            elif not isinstance(value, Tensor):
                value = np.array(np.broadcast_to(value, out), dtype=_dtype_of(*ops, *extra))
        elif value.dtype.type not in _FLOATS:
            value = value.astype(_dtype_of(*ops, *extra))
        if n == 1 and shapes[0] == out:
            return value, local
        return value, tuple([l if s == out else Unbroadcast(l, s, out)
                             for l, s in zip(local, shapes)])

    rule.__doc__ = f"{prim.doc} (elementwise, the scalar rule of {prim.name!r})"
    return Primitive(name=prim.name, rule=rule, arity=n, param=prim.param, symbol=prim.symbol,
                     check=prim.check, kinks=prim.kinks, convention=prim.convention, doc=prim.doc)


def _where_rule(a: Any, b: Any, mask: Any) -> tuple[Any, tuple[Any, ...]]:
    """mask ? a : b"""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        value = where(mask, a, b)
    else:
        value = np.where(mask, a, b)
    out = _shape_of(value)
    m = np.broadcast_to(mask, out)
    return value, (SelectMap(m, _shape_of(a), out), SelectMap(~m, _shape_of(b), out))


class SelectMap(LocalMap):
    """∂(mask ? a : b)/∂a: backward *selects* ``g`` where ``mask`` (0 elsewhere)
    instead of multiplying by the mask, so a nan or inf gradient arriving at an
    element the other branch supplies stays out (0 · inf would be nan), as
    ``torch.where``; then sums back to the operand's shape."""

    __slots__ = ("m", "shape", "out")

    def __init__(self, m: Any, shape: tuple[int, ...], out: tuple[int, ...]) -> None:
        self.m = m
        self.shape = shape
        self.out = out

    def _select(self, g: Any) -> Any:
        if isinstance(g, Tensor):
            return where(self.m, _broadcast_to(g, self.out), 0.0)
        g = np.asarray(g)
        return np.where(self.m, g, np.zeros((), dtype=g.dtype if g.dtype.kind == "f" else float))

    def __mul__(self, g: Any) -> Any:
        x = self._select(g)
        return x if self.shape == self.out else _sum_to(x, self.shape)

    def jvp(self, t: Any) -> Any:
        return self._select(_broadcast_to(t, self.out))

    def __repr__(self) -> str:
        return f"SelectMap({self.shape} <- {self.out})"


_WHERE = _register("where", _where_rule, arity=2, param="mask")


def _matmul_rule(a: Any, b: Any) -> tuple[Any, tuple[Any, ...]]:
    """a @ b"""
    return a @ b, (MatmulLeft(b, a.shape), MatmulRight(a, b.shape))


def _matmul_const_rule(a: Any, c: Any) -> tuple[Any, tuple[Any, ...]]:
    """a @ c with c a constant array"""
    return a @ c, (MatmulLeft(c, a.shape),)


def _rmatmul_const_rule(b: Any, c: Any) -> tuple[Any, tuple[Any, ...]]:
    """c @ b with c a constant array"""
    return c @ b, (MatmulRight(c, b.shape),)


_MATMUL = _register("matmul", _matmul_rule, arity=2, symbol="@")
_MATMUL_CONST = _register("matmul_const", _matmul_const_rule, param="c", symbol="@")
_RMATMUL_CONST = _register("rmatmul_const", _rmatmul_const_rule, param="c", symbol="@")
export_as(_MATMUL, lambda F, a, b: F.matmul(a, b))  # exported forms: autograd_core.export
export_as(_MATMUL_CONST, lambda F, a, c: F.matmul(a, c))
export_as(_RMATMUL_CONST, lambda F, b, c: F.matmul(c, b))


def _sum_rule(x: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """sum over axes"""
    axes, keepdims = p
    return x.sum(axis=axes, keepdims=keepdims), (SumMap(x.shape, axes, keepdims, 1.0),)


def _mean_rule(x: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """mean over axes"""
    axes, keepdims = p
    count = 1
    for a in axes:
        count *= x.shape[a]
    scale = 1.0 / count if count else float("nan")
    s = x.sum(axis=axes, keepdims=keepdims)
    return s * scale, (SumMap(x.shape, axes, keepdims, scale),)


def _reshape_rule(x: Any, shape: tuple) -> tuple[Any, tuple[Any, ...]]:
    """reshape"""
    y = x.reshape(shape)
    return y, (ReshapeMap(x.shape, y.shape),)


def _transpose_rule(x: Any, axes: tuple) -> tuple[Any, tuple[Any, ...]]:
    """permute axes"""
    return x.transpose(axes), (TransposeMap(axes),)


def _broadcast_rule(x: Any, shape: tuple) -> tuple[Any, tuple[Any, ...]]:
    """broadcast to a shape"""
    if isinstance(x, Tensor):
        return x.broadcast_to(shape), (BroadcastMap(x.shape, shape),)
    return np.array(np.broadcast_to(x, shape)), (BroadcastMap(x.shape, shape),)


def _getitem_rule(x: Any, index: Any) -> tuple[Any, tuple[Any, ...]]:
    """x[index]"""
    y = x[index]
    if not isinstance(y, Tensor):
        y = np.array(y, dtype=x.dtype)
    return y, (GatherMap(x.shape, index),)


def _scatter_rule(x: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """zeros(shape) with x added at index (the transpose of indexing)"""
    shape, index = p
    if isinstance(x, Tensor):
        y = _apply(_SCATTER, (x,), p)
    else:
        y = _scatter_array(x, shape, index)
    return y, (ScatterMap(shape, index),)


def _log_softmax_rule(x: Any, axis: int) -> tuple[Any, tuple[Any, ...]]:
    """x - log Σ exp(x) along an axis (shifted by the max: stable)"""
    if isinstance(x, Tensor):
        y = x.log_softmax(axis)
        return y, (LogSoftmaxMap(y.exp(), axis),)
    with np.errstate(all="ignore"):
        z = x - np.max(x, axis=axis, keepdims=True)
        e = np.exp(z)
        se = e.sum(axis=axis, keepdims=True)
        y = z - np.log(se)
        return y, (LogSoftmaxMap(e / se, axis),)


def _ce_parts(z: Any, y: Any, scale: float, axis: int) -> tuple[Any, Any, Any]:
    """(value, log softmax(z), ∂value/∂z) of scale · -Σ y log softmax(z) along ``axis``
    (arrays, or Tensors when ``backward(create_graph=True)`` re-runs the rule)."""
    if isinstance(z, Tensor):
        logp = z.log_softmax(axis)
        value = -((logp * y).sum()) * scale
        s = logp.exp()
    else:
        with np.errstate(all="ignore"):
            zz = z - np.max(z, axis=axis, keepdims=True)
            e = np.exp(zz)
            se = e.sum(axis=axis, keepdims=True)
            logp = zz - np.log(se)
            s = e / se
            value = np.array(-np.sum(logp * y) * scale, dtype=z.dtype)
    d = (s * y.sum(axis=axis, keepdims=True) - y) * scale
    return value, logp, d


def _cross_entropy_rule(z: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """-Σ y log softmax(z) over the class axis, mean (or sum) over the rest
    (y constant: class labels or probabilities given as an array)"""
    y, scale, axis = p
    value, _, d = _ce_parts(z, y, scale, axis)
    return value, (ReduceMap(d),)


class LinearWeight(LocalMap):
    """∂(x @ Wᵀ)/∂W: backward ``gᵀ @ x``, forward ``x @ tᵀ``."""

    __slots__ = ("x",)

    def __init__(self, x: Any) -> None:
        self.x = x

    def __mul__(self, g: Any) -> Any:
        x = self.x
        if x.ndim == 1:
            return _outer(g, x)
        return _swap(g) @ x if isinstance(g, Tensor) else g.T @ x

    def jvp(self, t: Any) -> Any:
        return self.x @ _swap(t)


def _outer(a: Any, b: Any) -> Any:
    return a.reshape((-1, 1)) * b.reshape((1, -1))


def _linear_parts(x: Any, w: Any, b: Any) -> tuple[Any, Any]:
    """(x @ Wᵀ + b, Wᵀ)"""
    wt = w.swapaxes(-1, -2)  # _swap
    return x @ wt + b, wt


def _linear_rule(x: Any, w: Any, b: Any) -> tuple[Any, tuple[Any, ...]]:
    """x @ Wᵀ + b (a dense layer: W of shape (out, in), x of shape (batch, in) or (in,))"""
    y, wt = _linear_parts(x, w, b)
    return y, (MatmulLeft(wt, x.shape), LinearWeight(x), Unbroadcast(1.0, b.shape, y.shape))


def _linear_const_rule(w: Any, b: Any, x: Any) -> tuple[Any, tuple[Any, ...]]:
    """x @ Wᵀ + b with x a constant array (input data)"""
    y, _ = _linear_parts(x, w, b)
    return y, (LinearWeight(x), Unbroadcast(1.0, b.shape, y.shape))


_LINEAR = _register("linear", _linear_rule, arity=3)
_LINEAR_CONST = _register("linear_const", _linear_const_rule, arity=2, param="x")
export_as(_LINEAR, lambda F, x, w, b: F.matmul(x, F.transpose(w)) + b)
export_as(_LINEAR_CONST, lambda F, w, b, x: F.matmul(x, F.transpose(w)) + b)


def _bce_rule(z: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """Σ [softplus(z) - y z] · scale = -Σ [y log σ(z) + (1-y) log(1-σ(z))] · scale;
    value and derivative from the scalar softplus rule"""
    y, scale = p
    sp, (dsp,) = run_rule(PRIMITIVES["softplus"].rule, (z,), (), _where_join)
    value = (sp - z * y).sum() * scale
    if not isinstance(value, Tensor):
        value = np.asarray(value, dtype=z.dtype)
    return value, (ReduceMap((dsp - y) * scale),)


_BCE = _register("binary_cross_entropy", _bce_rule, param="targets")


def _sum_of_rule(x: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """scale · Σ f(x) for a scalar primitive f (its rule, run elementwise)"""
    prim, param, scale = p
    extra = (param,) if prim.param is not None else ()
    v, (d,) = run_rule(prim.rule, (x,), extra, _where_join)
    if isinstance(v, Tensor) or isinstance(d, Tensor):
        return _as_tensor_like(v, x).sum() * scale, (ReduceMap(_as_tensor_like(d, x) * scale),)
    value = np.asarray(np.sum(np.broadcast_to(v, x.shape)) * scale, dtype=x.dtype)
    return value, (ReduceMap(np.broadcast_to(np.asarray(d * scale, dtype=x.dtype), x.shape)),)


def _as_tensor_like(v: Any, x: Tensor) -> Tensor:
    return v if isinstance(v, Tensor) else Tensor(np.broadcast_to(v, x.shape), dtype=x.dtype)


_SUM_OF = _register("sum_of", _sum_of_rule, param="f", symbol="Σ")


def _vdot_rule(*args: Any) -> tuple[Any, tuple[Any, ...]]:
    """scale · Σ_i Σ a_i·b_i over operands (a1, b1, a2, b2, ...): the tensor form
    of the scalar ``dot`` (∂/∂a_i = scale·b_i, ∂/∂b_i = scale·a_i). Param
    ``(scale, squares)``: with ``squares`` the operands are (a1, a2, ...) each
    used twice (Σ a_i·a_i), and each local is the sum of its two partials."""
    *ops, (scale, squares) = args
    if squares and all([type(a) is _ndarray for a in ops]):  # the L2 term on arrays: one frame
        total = 0
        for a in ops:
            r = a.ravel()
            total = total + r.dot(r)  # ndarray.dot: np.dot without its dispatcher; sum's order
        value = np.asarray(total * scale, dtype=np.result_type(*ops))
        return value, tuple([ReduceMap(a, 2.0 * scale) for a in ops])
    pairs = [(a, a) for a in ops] if squares else list(zip(ops[0::2], ops[1::2]))
    if any([isinstance(x, Tensor) for x in ops]):
        total = None
        for a, b in pairs:
            t = (a * b).sum()
            total = t if total is None else total + t
        value = total * scale
    else:
        value = np.asarray(sum([a.ravel().dot(b.ravel()) for a, b in pairs]) * scale,
                           dtype=np.result_type(*ops))  # ndarray.dot: np.dot without its dispatcher
    if squares:  # a used twice: ReduceMap(a, scale) + ReduceMap(a, scale)
        return value, tuple([ReduceMap(a, 2.0 * scale) for a in ops])
    local = []
    for a, b in pairs:
        local += [ReduceMap(b, scale), ReduceMap(a, scale)]
    return value, tuple(local)


_VDOT = _register("vdot", _vdot_rule, arity=None, param="scale", symbol="dot")


def _plus_vdot_rule(c: Any, *args: Any) -> tuple[Any, tuple[Any, ...]]:
    """c + vdot(...): a 0-d c (a loss) plus the vdot of the other operands
    (its L2 term) in one node; ∂/∂c = 1, the other partials are vdot's."""
    value, local = _vdot_rule(*args)
    return c + value, (1.0, *local)


_PLUS_VDOT = _register("plus_vdot", _plus_vdot_rule, arity=None, param="scale", symbol="+dot")


def vdot(a: Tensor, b: Any, scale: float = 1.0) -> Tensor:
    """scale · Σ a·b over all elements, one node (``vdot(w, w)`` = ‖w‖²)."""
    return sum_of_vdots([(a, b)], scale)


def sum_of_vdots(pairs: Sequence[tuple[Tensor, Any]], scale: float = 1.0, *,
                 plus: Tensor | None = None) -> Tensor:
    """scale · Σ_i Σ a_i·b_i in ONE node: ``sum_of_vdots([(W, W) for W in
    weights], lam / (2 * n))`` is the L2 term (λ/2n)‖W‖² of a whole network.
    ``plus``: a 0-d Tensor added in the same node (``plus=loss``: the
    objective, loss + L2 term, as one node instead of three)."""
    if plus is not None:
        if not isinstance(plus, Tensor):
            raise TypeError(f"sum_of_vdots plus must be a Tensor, not {type(plus).__name__}")
        if plus.ndim != 0:
            raise ValueError(f"sum_of_vdots plus must be a 0-d Tensor, not shape {plus.shape}")
    ops, param = _vdot_operands(pairs, scale)
    if plus is None:
        return _apply(_VDOT, ops, param)
    return _apply(_PLUS_VDOT, (plus,) + ops, param)


def _vdot_operands(pairs: Sequence[tuple[Tensor, Any]], scale: float) -> tuple[tuple, tuple]:
    """(operands, param) of the vdot node of ``pairs`` (checked)."""
    ops: list[Tensor] = []
    pairs = list(pairs)
    if pairs and all([isinstance(a, Tensor) and a is b for a, b in pairs]):
        return tuple([a for a, _ in pairs]), (_engine._as_float(scale, "vdot scale"), True)
    for i, (a, b) in enumerate(pairs):
        if not isinstance(a, Tensor):
            raise TypeError(f"vdot pair {i}: the first operand must be a Tensor, not {type(a).__name__}")
        if not isinstance(b, Tensor):
            c = _const(b, "vdot operand")
            if not isinstance(c, _ndarray):
                raise TypeError(f"vdot pair {i}: operand must be a Tensor or an array, not {type(b).__name__}")
            b = Tensor(c, dtype=c.dtype)
        if a.shape != b.shape:
            raise ValueError(f"vdot: shapes {a.shape} and {b.shape} differ")
        ops += [a, b]
    if not ops:
        raise ValueError("vdot needs at least one pair")
    return tuple(ops), (_engine._as_float(scale, "vdot scale"), False)


_SUM = _register("sum_axes", _sum_rule, param="axes", symbol="sum")
_MEAN = _register("mean", _mean_rule, param="axes", symbol="mean")
_RESHAPE = _register("reshape", _reshape_rule, param="shape")
export_as(_SUM, lambda F, x, p: F.reduce_sum(x, p[0], p[1]))
export_as(_MEAN, lambda F, x, p: F.reduce_mean(x, p[0], p[1]))
export_as(_RESHAPE, lambda F, x, shape: F.reshape(x, shape))
_TRANSPOSE = _register("transpose", _transpose_rule, param="axes")
_BROADCAST = _register("broadcast_to", _broadcast_rule, param="shape")
_GETITEM = _register("getitem", _getitem_rule, param="index", symbol="[]")
_SCATTER = _register("scatter", _scatter_rule, param="index")
_LOG_SOFTMAX = _register("log_softmax", _log_softmax_rule, param="axis")
_CROSS_ENTROPY = _register("cross_entropy", _cross_entropy_rule, param="targets")


# ------------------------------------------------------------------ issue 13 §4: joins and reductions
# Joining and splitting Tensors (T.concatenate / T.stack / T.split), the
# reductions max/min/prod/var/std/logsumexp, and the cross-entropies with
# Tensor targets. Each reduction's local derivative is the array w = ∂r/∂x
# of the operand's shape, applied by ReduceAxesMap; the rules compute w with
# operations that run on arrays and on Tensors alike, so create_graph gets
# second derivatives from the same formulas.

class ReduceAxesMap(LocalMap):
    """∂ r(x)/∂x for a reduction ``r`` over ``axes`` whose derivative is the
    array ``w`` (the operand's shape): backward ``w · g`` (``g`` broadcast
    back over the reduced axes), forward ``Σ_axes w · t``."""

    __slots__ = ("w", "axes", "keepdims")

    def __init__(self, w: Any, axes: tuple[int, ...], keepdims: bool) -> None:
        self.w = w
        self.axes = axes
        self.keepdims = keepdims

    def __mul__(self, g: Any) -> Any:
        if not self.keepdims and self.axes:
            shape = _shape_of(self.w)
            g = g.reshape(tuple(1 if i in self.axes else n for i, n in enumerate(shape)))
        return self.w * g

    def jvp(self, t: Any) -> Any:
        return (self.w * t).sum(axis=self.axes, keepdims=self.keepdims)

    def __repr__(self) -> str:
        return f"ReduceAxesMap(axes={self.axes})"


class PlaceMap(ScatterMap):
    """∂ concatenate/stack(..., x, ...)/∂x: ``x`` is the block ``index`` of the
    output; backward slices that block out of ``g``, forward puts ``t`` there
    in zeros of the output's shape."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"PlaceMap({self.shape})"


def _exp(a: Any) -> Any:
    return a.exp() if isinstance(a, Tensor) else np.exp(a)


def _log(a: Any) -> Any:
    return a.log() if isinstance(a, Tensor) else np.log(a)


def _sqrt(a: Any) -> Any:
    return a.sqrt() if isinstance(a, Tensor) else np.sqrt(a)


def _cat(parts: Sequence[Any], axis: int) -> Any:
    if any(isinstance(p, Tensor) for p in parts):
        return concatenate(parts, axis)
    return np.concatenate(parts, axis=axis)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _concat_rule(*args: Any) -> tuple[Any, tuple[Any, ...]]:
    """operands joined along an existing axis"""
    *xs, axis = args
    value = _apply(_CONCAT, tuple(xs), axis) if isinstance(xs[0], Tensor) else \
        np.concatenate(xs, axis=axis)
    out = _shape_of(value)
    local, start = [], 0
    for x in xs:
        n = x.shape[axis]
        local.append(PlaceMap(out, (slice(None),) * axis + (slice(start, start + n),)))
        start += n
    return value, tuple(local)


def _stack_rule(*args: Any) -> tuple[Any, tuple[Any, ...]]:
    """operands stacked along a new axis"""
    *xs, axis = args
    value = _apply(_STACK, tuple(xs), axis) if isinstance(xs[0], Tensor) else \
        np.stack(xs, axis=axis)
    out = _shape_of(value)
    return value, tuple(PlaceMap(out, (slice(None),) * axis + (i,)) for i in range(len(xs)))


def _extreme_rule(x: Any, p: tuple, which: str) -> tuple[Any, tuple[Any, ...]]:
    axes, keepdims = p
    d = _data_of(x)
    with np.errstate(invalid="ignore"):
        m = (d.max if which == "max" else d.min)(axis=axes, keepdims=True)
        ties = d == m
        w = ties / ties.sum(axis=axes, keepdims=True, dtype=d.dtype)  # NaN in a group: NaN
    if isinstance(x, Tensor):
        value = x.max(axes, keepdims) if which == "max" else x.min(axes, keepdims)
    else:
        value = m if keepdims else m.reshape([n for i, n in enumerate(d.shape) if i not in axes])
    return value, (ReduceAxesMap(w.astype(d.dtype, copy=False), axes, keepdims),)


def _max_rule(x: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """largest element over axes; ties share the derivative equally"""
    return _extreme_rule(x, p, "max")


def _min_rule(x: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """smallest element over axes; ties share the derivative equally"""
    return _extreme_rule(x, p, "min")


def _exclusive_cumprod(a: Any) -> Any:
    """Along the last axis, element i -> a_0 · ... · a_(i-1) (1 for i = 0):
    a Hillis-Steele scan of products, no division, for arrays and Tensors."""
    n = a.shape[-1]
    lead = a.shape[:-1]
    dt = a.dtype
    p = _cat([np.ones(lead + (1,), dtype=dt), a[..., :n - 1]], -1)
    d = 1
    while d < n:
        p = p * _cat([np.ones(lead + (d,), dtype=dt), p[..., :n - d]], -1)
        d *= 2
    return p


def _prod_others(x: Any, axes: tuple[int, ...]) -> Any:
    """For every element, the product of the other elements of its reduced
    group (∂ prod/∂x, exact when x has zeros)."""
    nd = len(x.shape)
    keep = [i for i in range(nd) if i not in axes]
    perm = tuple(keep + list(axes))
    xt = x.transpose(perm) if perm != tuple(range(nd)) else x
    tshape = xt.shape
    n = _count(x.shape, axes)
    if n == 0:
        return np.zeros(x.shape, dtype=x.dtype)
    x2 = xt.reshape(tshape[:len(keep)] + (n,))
    w2 = _exclusive_cumprod(x2) * _exclusive_cumprod(x2[..., ::-1])[..., ::-1]
    w = w2.reshape(tshape)
    if perm != tuple(range(nd)):
        w = w.transpose(tuple(int(i) for i in np.argsort(perm)))
    return w


def _prod_rule(x: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """product over axes (∂/∂x_i = product of the others: right with zeros)"""
    axes, keepdims = p
    value = x.prod(axes, keepdims) if isinstance(x, Tensor) else \
        np.prod(x, axis=axes, keepdims=keepdims)
    return value, (ReduceAxesMap(_prod_others(x, axes), axes, keepdims),)


def _var_parts(x: Any, axes: tuple[int, ...], ddof: float) -> tuple[Any, Any, float]:
    dof = _count(x.shape, axes) - ddof
    c = x - x.mean(axis=axes, keepdims=True)
    v = (c * c).sum(axis=axes, keepdims=True) * (1.0 / dof)
    return c, v, dof


def _drop(v: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """A keepdims result without its reduced axes (unless ``keepdims``)."""
    if keepdims or not axes:
        return v
    return v.reshape(tuple(n for i, n in enumerate(_shape_of(v)) if i not in axes))


def _var_rule(x: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """Σ (x - mean)² / (n - ddof) over axes"""
    axes, keepdims, ddof = p
    c, v, dof = _var_parts(x, axes, ddof)
    return _drop(v, axes, keepdims), (ReduceAxesMap(c * (2.0 / dof), axes, keepdims),)


def _std_rule(x: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """√var over axes; derivative (x - mean) / ((n - ddof) std), 0 where std = 0"""
    axes, keepdims, ddof = p
    c, v, dof = _var_parts(x, axes, ddof)
    zero = _data_of(v) == 0.0
    s = _sqrt(_where_join(zero, 1.0, v)) if zero.any() else _sqrt(v)  # no 0·∞ at std = 0
    w = c / (s * dof)  # c is exactly 0 in a group of zero variance
    if zero.any():  # the convention 0 there, also for its derivative (not d(c/dof)/dx)
        w = _where_join(zero, 0.0, w)
    value = _where_join(zero, 0.0, s) if zero.any() else s
    return _drop(value, axes, keepdims), (ReduceAxesMap(w, axes, keepdims),)


def _logsumexp_rule(x: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """log Σ exp(x) over axes (shifted by the max: stable); derivative softmax(x)"""
    axes, keepdims = p
    d = _data_of(x)
    with np.errstate(all="ignore"):
        m = d.max(axis=axes, keepdims=True) if d.size else np.zeros(
            [1 if i in axes else n for i, n in enumerate(d.shape)], dtype=d.dtype)
        m = np.where(np.isfinite(m), m, 0.0).astype(d.dtype, copy=False)
        e = _exp(x - m)
        se = e.sum(axis=axes, keepdims=True)
        lse = _log(se) + m
        w = e / se
    return _drop(lse, axes, keepdims), (ReduceAxesMap(w, axes, keepdims),)


def _cross_entropy_soft_rule(z: Any, y: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """-Σ y log softmax(z) with target probabilities y a Tensor: differentiable in
    both (∂/∂y = -log softmax(z))"""
    scale, axis = p
    value, logp, d = _ce_parts(z, y, scale, axis)
    return value, (ReduceMap(d), ReduceMap(logp * -scale))


def _bce_soft_rule(z: Any, y: Any, p: tuple) -> tuple[Any, tuple[Any, ...]]:
    """Σ [softplus(z) - y z] · scale with targets y a Tensor (∂/∂y = -z · scale)"""
    value, (dz,) = _bce_rule(z, (y, p))
    return value, (dz, ReduceMap(z * -p))


_CONCAT = _register("concatenate", _concat_rule, arity=None, param="axis")
_STACK = _register("stack", _stack_rule, arity=None, param="axis")
_MAX = _register("max", _max_rule, param="axes")
_MIN = _register("min", _min_rule, param="axes")
_PROD = _register("prod", _prod_rule, param="axes")
_VAR = _register("var", _var_rule, param="axes")
_STD = _register("std", _std_rule, param="axes")
_LOGSUMEXP = _register("logsumexp", _logsumexp_rule, param="axes")
_CROSS_ENTROPY_SOFT = _register("cross_entropy_soft", _cross_entropy_soft_rule, arity=2,
                                param="axis")
_BCE_SOFT = _register("binary_cross_entropy_soft", _bce_soft_rule, arity=2, param="scale")


# ------------------------------------------------------------------ node making

def _node(data: Any, parents: tuple, local: tuple, prim: Primitive, param: Any) -> Tensor:
    t = _new(Tensor)
    t._data = data
    t._grad = None
    t.label = ""
    t._seq = _engine._next_seq()  # the engine's counter (see engine._next_seq)
    if _grad_get():
        t._parents = parents
        t._local = local
        t._prim = prim
        t._param = param
    else:
        t._parents = ()
        t._local = ()
        t._prim = None
        t._param = None
    return t


def _apply(prim: Primitive, operands: tuple, param: Any = None) -> Tensor:
    """Run a tensor primitive's rule on the operands' data and record the node."""
    datas = tuple(map(_data_attr, operands))  # no comprehension frame
    out, local = prim.rule(*datas, param) if prim.param is not None else prim.rule(*datas)
    if type(out) is not _ndarray:  # numpy reductions give scalars: keep 0-d arrays
        out = np.asarray(out)
    return _node(out, operands, local, prim, param)


def _apply_ew(prim: Primitive, operands: tuple, param: Any = None) -> Tensor:
    """An elementwise primitive on Tensors (param: a number or a constant array)."""
    ew = _ELEMENTWISE.get(prim.name) or elementwise(prim)
    datas = tuple(map(_data_attr, operands))  # no comprehension frame
    extra = (param,) if prim.param is not None else ()
    if len(datas) > 1 or type(param) is _ndarray:
        shapes = [d.shape for d in datas] + ([param.shape] if type(param) is _ndarray else [])
        _bshape(_opname(prim), *shapes)
    elif datas[0].dtype.type not in _FLOATS:  # pragma: no cover - data is always float
        raise TypeError("tensor data must be float")
    if prim.check is not None:
        bad = run_check(prim.check, datas, extra)
        if bad is not None:
            err, idx = bad
            shapes = " and ".join(str(d.shape) for d in datas)
            raise type(err)(f"{err} (at index {idx}; {prim.name} of shape {shapes})")
    out, local = ew.rule(*datas, *extra)
    return _node(out, operands, local, ew, param)


_SIGMOID = PRIMITIVES["sigmoid"]
_DIV_IEEE_EW = _make_elementwise(_DIV_IEEE)


def _div_ieee(a: Any, b: Tensor) -> Tensor:
    """``a / b`` for a rule's own division by a Tensor with zero elements
    (``create_graph``): the div rule without its domain check, as a node (IEEE
    values, and the IEEE local derivatives, so an infinite derivative such as
    sqrt's at 0 has a derivative of its own: -inf, not the nan or 0 of a
    constant); the Tensor version of ``_math.div`` on a Value holding 0."""
    if not isinstance(a, Tensor):
        a = Tensor(np.asarray(a, dtype=b._data.dtype))
    out, local = _DIV_IEEE_EW.rule(a._data, b._data)
    return _node(out, (a, b), local, _DIV_IEEE_EW, None)


_vectorize.div_node = _div_ieee


def _opname(prim: Primitive) -> str:
    return f"{prim.name} ({prim.symbol})" if prim.infix else prim.name


# ------------------------------------------------------------------ the Tensor

class Tensor(Node):
    """A node of the computation graph holding a numpy array.

    ``Tensor(data, label="", dtype=None)``: ``data`` an array-like of real
    numbers, stored as float64 (or float32 with ``dtype="float32"``).
    Read-only: ``data``, ``shape``, ``dtype``, ``op``, ``parents``,
    ``local_grads``, ``param``. Writable: ``grad`` (zeros of the data's
    shape until a backward pass writes it) and ``label``.
    """

    __slots__ = ("_grad", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data: Any, label: str = "", dtype: Any = None) -> None:
        if type(label) is not str:
            raise TypeError(f"Tensor label must be a str, not {type(label).__name__}")
        d = _dtype(dtype)
        a = _as_array(data, "Tensor data", d)
        self._data = a
        self._grad = None
        self.label = label
        self._parents = ()
        self._local = ()
        self._prim = None
        self._param = None
        self._seq = _engine._next_seq()

    # ------------------------------------------------------------ structure
    @property
    def data(self) -> np.ndarray:
        """The array this node holds (see :meth:`assign` to replace a leaf's)."""
        return self._data

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def grad(self) -> Any:
        """∂root/∂self from the last backward passes (an array of the data's
        shape; a Tensor after ``backward(create_graph=True)``)."""
        g = self._grad
        return np.zeros_like(self._data) if g is None else g

    @grad.setter
    def grad(self, g: Any) -> None:
        if g is None or (isinstance(g, (int, float)) and not isinstance(g, bool) and g == 0):
            self._grad = None
            return
        if isinstance(g, Tensor):
            gs = g.shape
        else:
            g = np.asarray(g, dtype=self._data.dtype)
            gs = g.shape
        if gs != self._data.shape:
            raise ValueError(f"grad of shape {gs} does not match the tensor's shape "
                             f"{self._data.shape}")
        self._grad = g

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def assign(self, data: Any) -> None:
        """Replace a leaf's array (same shape) in place of the old one."""
        if self._parents:
            raise ValueError("assign() is for leaves only: this node was computed by "
                             f"{self.op!r} and its local derivatives would go stale")
        a = _as_array(data, "assigned data", self._data.dtype)
        if a.shape != self._data.shape:
            raise ValueError(f"assign: new data of shape {a.shape} for a tensor of shape "
                             f"{self._data.shape}")
        self._data = a

    def detach(self) -> Tensor:
        """A new leaf sharing the data (not copied), cut from the graph."""
        t = _node(self._data, (), (), None, None)  # type: ignore[arg-type]
        t._prim = None
        t._parents = ()
        t._local = ()
        t.label = self.label
        return t

    def numpy(self) -> np.ndarray:
        """A copy of the data."""
        return self._data.copy()

    def item(self) -> float:
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, not shape {self.shape}")
        return float(self._data.reshape(()))

    def __float__(self) -> float:
        return self.item()

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self._data.reshape(()))

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    # ------------------------------------------------------------ numpy (issue 13 §4)
    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """``np.asarray(t)`` / ``np.array(t)`` raise: the array would be cut from
        the graph. Take ``t.data`` (or ``t.numpy()``, a copy) on purpose."""
        raise TypeError(_ASARRAY_MESSAGE)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy ufuncs on Tensors run through the graph (``np.exp(t)`` is
        ``t.exp()``, ``arr + t`` is ``t.__radd__(arr)``) or raise a TypeError."""
        return _numpy_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """numpy functions on Tensors (``np.concatenate``, ``np.sum``, ...) run
        the Tensor version or raise a TypeError naming it."""
        return _numpy_function(func, types, args, kwargs)

    def __repr__(self) -> str:
        lab = f"label={self.label!r}, " if self.label else ""
        body = np.array2string(self._data, precision=4, threshold=20, separator=", ")
        dt = "" if self._data.dtype == np.float64 else f", dtype={self._data.dtype}"
        op = f", op={self.op!r}" if self._prim is not None else ""
        return f"Tensor({lab}{body}{dt}{op})"

    # ------------------------------------------------------------ backward
    def backward(self, grad: Any = None, *, create_graph: bool = False) -> None:
        """Accumulate ∂self/∂node · grad into ``.grad`` of every node of the graph.

        ``grad`` defaults to 1 for a one-element tensor; otherwise give an
        array of this tensor's shape. The engine's backward driver does the work."""
        seed = _seed(self, grad, create_graph)
        grads = _backprop(self, seed, create_graph)[1]  # only nodes of its order
        with _accumulate_lock:
            for n, g in grads.items():
                if type(g) is float:
                    if g == 0.0:
                        continue
                    g = np.full(n._data.shape, g, dtype=n._data.dtype)
                old = n._grad
                n._grad = g if old is None else old + g

    # ------------------------------------------------------------ comparisons (data)
    def __lt__(self, other: Any) -> np.ndarray:
        return self._data < _data_of(other)

    def __le__(self, other: Any) -> np.ndarray:
        return self._data <= _data_of(other)

    def __gt__(self, other: Any) -> np.ndarray:
        return self._data > _data_of(other)

    def __ge__(self, other: Any) -> np.ndarray:
        return self._data >= _data_of(other)

    # ------------------------------------------------------------ arithmetic
    def _bin(self, other: Any, name: str, const: str, reflected_const: str | None,
             reflected: bool = False) -> Any:
        if type(other) is Tensor:
            ops = (other, self) if reflected else (self, other)
            return _apply_ew(PRIMITIVES[name], ops)
        if isinstance(other, Value):
            raise TypeError(f"{name}: cannot combine a Tensor with a Value; use Tensor(v.data) "
                            "or v.data")
        c = _const(other, f"operand of {name}")
        if c is None:
            return NotImplemented
        pname = reflected_const if reflected else const
        return _apply_ew(PRIMITIVES[pname], (self,), c)

    def __add__(self, o: Any) -> Tensor:
        return self._bin(o, "add", "add_const", "add_const")

    def __radd__(self, o: Any) -> Tensor:
        return self._bin(o, "add", "add_const", "add_const", True)

    def __sub__(self, o: Any) -> Tensor:
        return self._bin(o, "sub", "sub_const", "rsub_const")

    def __rsub__(self, o: Any) -> Tensor:
        return self._bin(o, "sub", "sub_const", "rsub_const", True)

    def __mul__(self, o: Any) -> Tensor:
        return self._bin(o, "mul", "mul_const", "mul_const")

    def __rmul__(self, o: Any) -> Tensor:
        return self._bin(o, "mul", "mul_const", "mul_const", True)

    def __truediv__(self, o: Any) -> Tensor:
        return self._bin(o, "div", "div_const", "rdiv_const")

    def __rtruediv__(self, o: Any) -> Tensor:
        return self._bin(o, "div", "div_const", "rdiv_const", True)

    def __pow__(self, o: Any) -> Tensor:
        return self._bin(o, "pow", "pow_const", "rpow_const")

    def __rpow__(self, o: Any) -> Tensor:
        return self._bin(o, "pow", "pow_const", "rpow_const", True)

    def __neg__(self) -> Tensor:
        return _apply_ew(PRIMITIVES["neg"], (self,))

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _apply_ew(PRIMITIVES["abs"], (self,))

    def __matmul__(self, o: Any) -> Tensor:
        return matmul(self, o)

    def __rmatmul__(self, o: Any) -> Tensor:
        return matmul(o, self)

    # ------------------------------------------------------------ elementwise functions
    def _u(self, name: str, param: Any = None) -> Tensor:
        return _apply_ew(PRIMITIVES[name], (self,), param)

    def exp(self) -> Tensor:
        return self._u("exp")

    def expm1(self) -> Tensor:
        return self._u("expm1")

    def log(self) -> Tensor:
        """Natural logarithm; ValueError naming the first element <= 0."""
        return self._u("log")

    def log1p(self) -> Tensor:
        return self._u("log1p")

    def sqrt(self) -> Tensor:
        return self._u("sqrt")

    def sin(self) -> Tensor:
        return self._u("sin")

    def cos(self) -> Tensor:
        return self._u("cos")

    def erf(self) -> Tensor:
        return self._u("erf")

    def erfc(self) -> Tensor:
        return self._u("erfc")

    def tanh(self) -> Tensor:
        return self._u("tanh")

    def sigmoid(self) -> Tensor:
        return _apply_ew(_SIGMOID, (self,))

    def relu(self) -> Tensor:
        return self._u("relu")

    def softplus(self, beta: float = 1.0) -> Tensor:
        """log(1 + exp(beta * x)) / beta, stable (beta must not be 0)."""
        beta = _engine._as_float(beta, "softplus beta")
        if beta == 0.0:
            raise ValueError("softplus beta must not be 0")
        return self._u("softplus") if beta == 1.0 else self._u("softplus_beta", beta)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return self._u("leaky_relu", _engine._as_float(negative_slope, "leaky_relu negative_slope"))

    def elu(self, alpha: float = 1.0) -> Tensor:
        return self._u("elu", _engine._as_float(alpha, "elu alpha"))

    def swish(self, beta: float = 1.0) -> Tensor:
        return self._u("swish", _engine._as_float(beta, "swish beta"))

    def gelu(self, approximate: str = "none") -> Tensor:
        if approximate == "none":
            return self._u("gelu")
        if approximate == "tanh":
            return self._u("gelu_tanh")
        if approximate == "sigmoid":
            return self._u("swish", 1.702)
        raise ValueError(f"gelu approximate must be 'none', 'tanh' or 'sigmoid', not {approximate!r}")

    # the wider function set: the scalar primitives of the same names, elementwise

    def tan(self) -> Tensor:
        return self._u("tan")

    def sinh(self) -> Tensor:
        return self._u("sinh")

    def cosh(self) -> Tensor:
        return self._u("cosh")

    def arcsin(self) -> Tensor:
        return self._u("arcsin")

    def arccos(self) -> Tensor:
        return self._u("arccos")

    def arctan(self) -> Tensor:
        return self._u("arctan")

    def arcsinh(self) -> Tensor:
        return self._u("arcsinh")

    def arccosh(self) -> Tensor:
        return self._u("arccosh")

    def arctanh(self) -> Tensor:
        return self._u("arctanh")

    def log2(self) -> Tensor:
        return self._u("log2")

    def log10(self) -> Tensor:
        return self._u("log10")

    def sign(self) -> Tensor:
        return self._u("sign")

    def floor(self) -> Tensor:
        return self._u("floor")

    def ceil(self) -> Tensor:
        return self._u("ceil")

    def selu(self) -> Tensor:
        return self._u("selu")

    def relu6(self) -> Tensor:
        return self._u("relu6")

    def hardsigmoid(self) -> Tensor:
        return self._u("hardsigmoid")

    def hardswish(self) -> Tensor:
        return self._u("hardswish")

    def mish(self) -> Tensor:
        return self._u("mish")

    def softsign(self) -> Tensor:
        return self._u("softsign")

    def logsigmoid(self) -> Tensor:
        return self._u("logsigmoid")

    def celu(self, alpha: float = 1.0) -> Tensor:
        alpha = _engine._as_float(alpha, "celu alpha")
        if alpha == 0.0:
            raise ValueError("celu alpha must not be 0")
        return self._u("celu", alpha)

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
        return self._u("hardtanh", _engine._bounds(min_val, max_val, "hardtanh"))

    def clip(self, lo: float, hi: float) -> Tensor:
        """Elements limited to [lo, hi] (numbers); derivative 1 at the bounds."""
        return self._u("clip", _engine._bounds(lo, hi, "clip"))

    def _b(self, name: str, other: Any) -> Tensor:
        return _apply_ew(PRIMITIVES[name], (self, as_tensor(other)))

    def hypot(self, other: Any) -> Tensor:
        return self._b("hypot", other)

    def arctan2(self, other: Any) -> Tensor:
        """``arctan2(self, other)``: the angle of the points (other, self)."""
        return self._b("arctan2", other)

    def maximum(self, other: Any) -> Tensor:
        return self._b("maximum", other)

    def minimum(self, other: Any) -> Tensor:
        return self._b("minimum", other)

    def logaddexp(self, other: Any) -> Tensor:
        return self._b("logaddexp", other)

    # ------------------------------------------------------------ array operations
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (an int, a tuple, or None for all)."""
        axes = _norm_axes(axis, self.ndim, "sum")
        return _apply(_SUM, (self,), (axes, bool(keepdims)))

    def sum_of(self, name: str, param: Any = None, scale: float = 1.0) -> Tensor:
        """scale · Σ f(x) over all elements in ONE node, f the scalar primitive
        ``name`` (its rule, run elementwise): ``w.sum_of("pow_const", 2.0)`` is
        Σ w² (an L2 term), ``w.sum_of("abs")`` is Σ |w|."""
        prim = PRIMITIVES.get(name) if isinstance(name, str) else None
        if prim is None or prim.arity != 1:
            raise ValueError(f"sum_of needs the name of a one-operand primitive, not {name!r}")
        if (prim.param is None) != (param is None):
            raise TypeError(f"sum_of: {name} {'needs its parameter ' + repr(prim.param) if prim.param else 'takes no parameter'}")
        if prim.param is not None:
            param = _engine._as_float(param, f"{name} {prim.param}")
        if prim.check is not None:
            bad = run_check(prim.check, (self._data,), (param,) if prim.param else ())
            if bad is not None:
                err, idx = bad
                raise type(err)(f"{err} (at index {idx}; sum_of {name} of shape {self.shape})")
        return _apply(_SUM_OF, (self,), (prim, param, _engine._as_float(scale, "sum_of scale")))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        axes = _norm_axes(axis, self.ndim, "mean")
        return _apply(_MEAN, (self,), (axes, bool(keepdims)))

    # ---- issue 13 §4: reductions (rules in the joins-and-reductions block)
    def _reduce(self, prim: Primitive, axis: Any, keepdims: Any, extra: tuple = ()) -> Tensor:
        axes = _norm_axes(axis, self.ndim, prim.name)
        if prim is _MAX or prim is _MIN:
            if _count(self.shape, axes) == 0:
                raise ValueError(f"{prim.name}: cannot reduce over an empty axis (shape "
                                 f"{self.shape}, axis {axis!r}); the result has no element to pick")
        return _apply(prim, (self,), (axes, bool(keepdims)) + extra)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Largest element over ``axis``. Ties (elements equal to the maximum)
        share the derivative equally (as torch.amax); NaN gives NaN."""
        return self._reduce(_MAX, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Smallest element over ``axis``; ties share the derivative equally."""
        return self._reduce(_MIN, axis, keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Product over ``axis``; ∂/∂x_i is the product of the other elements
        (computed without division, so right when elements are zero)."""
        return self._reduce(_PROD, axis, keepdims)

    def _ddof(self, op: str, axis: Any, ddof: Any, correction: Any) -> float:
        if correction is not None:
            if not (isinstance(ddof, (int, float)) and ddof == 0):
                raise TypeError(f"{op}: give ddof or correction (its torch name), not both")
            ddof = correction
        ddof = _engine._as_float(ddof, f"{op} ddof")
        n = _count(self.shape, _norm_axes(axis, self.ndim, op))
        if not n - ddof > 0:
            raise ValueError(f"{op}: ddof={ddof:g} leaves no degrees of freedom for {n} "
                             f"element(s) per group (needs n - ddof > 0; shape {self.shape}, "
                             f"axis {axis!r})")
        return ddof

    def var(self, axis: Any = None, keepdims: bool = False, ddof: float = 0,
            *, correction: float | None = None) -> Tensor:
        """Σ (x - mean)² / (n - ddof) over ``axis``. ``ddof=0`` (numpy's default)
        is the population variance, ``ddof=1`` (torch's default
        ``correction=1``) the sample variance."""
        d = self._ddof("var", axis, ddof, correction)
        return self._reduce(_VAR, axis, keepdims, (d,))

    def std(self, axis: Any = None, keepdims: bool = False, ddof: float = 0,
            *, correction: float | None = None) -> Tensor:
        """√var (see :meth:`var`). At zero variance the value is 0 and the
        derivative is taken as 0 (a subgradient, as torch does)."""
        d = self._ddof("std", axis, ddof, correction)
        return self._reduce(_STD, axis, keepdims, (d,))

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """log Σ exp(x) over ``axis``, stable (shifted by the max); its
        derivative is softmax(x) over the same axes."""
        return self._reduce(_LOGSUMEXP, axis, keepdims)
    # ---- end of issue 13 §4 reductions

    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            out = np.empty(self.shape, dtype=np.bool_).reshape(shape).shape
        except (ValueError, TypeError):
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} "
                             f"(size {self.size}) into shape {tuple(shape)}") from None
        return _apply(_RESHAPE, (self,), out)

    def flatten(self) -> Tensor:
        return self.reshape(-1)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(range(self.ndim))[::-1]
        if sorted(int(a) % max(self.ndim, 1) for a in axes) != list(range(self.ndim)) \
                or len(axes) != self.ndim:
            raise ValueError(f"transpose: axes {tuple(axes)} are not a permutation of the "
                             f"{self.ndim} axes of shape {self.shape}")
        axes = tuple(int(a) % self.ndim for a in axes)
        return _apply(_TRANSPOSE, (self,), axes)

    def swapaxes(self, a: int, b: int) -> Tensor:
        axes = list(range(self.ndim))
        try:
            axes[a], axes[b] = axes[b], axes[a]
        except IndexError:
            raise ValueError(f"swapaxes: axes ({a}, {b}) out of range for shape {self.shape}") from None
        return self.transpose(tuple(axes))

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        shape = tuple(int(s) for s in shape)
        try:
            np.broadcast_to(np.empty(self.shape, dtype=np.bool_), shape)
        except ValueError:
            raise ValueError(f"broadcast_to: shape {self.shape} cannot be broadcast to "
                             f"{shape}") from None
        return _apply(_BROADCAST, (self,), shape)

    def __getitem__(self, index: Any) -> Tensor:
        if isinstance(index, Tensor):
            index = index._data
        if isinstance(index, list):
            index = np.asarray(index)
        try:
            self._data[index]
        except IndexError as exc:
            raise IndexError(f"getitem: {exc} (tensor of shape {self.shape})") from None
        return _apply(_GETITEM, (self,), index)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """log softmax along ``axis``, stable (shifted by the max)."""
        if not self.ndim:
            raise ValueError("log_softmax needs at least one axis, got a 0-d tensor")
        (axis,) = _norm_axes(axis, self.ndim, "log_softmax")
        return _apply(_LOG_SOFTMAX, (self,), axis)

    def softmax(self, axis: int = -1) -> Tensor:
        return self.log_softmax(axis).exp()




def _data_of(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _seed(root: Tensor, grad: Any, create_graph: bool) -> Any:
    if grad is None:
        if root._data.size != 1:
            raise ValueError(f"backward() on a tensor of shape {root.shape} needs grad= "
                             "(an array of that shape); only one-element tensors default to 1")
        seed = np.array(1.0, dtype=root._data.dtype).reshape(root._data.shape)  # faster than ones_like
    elif isinstance(grad, Tensor):
        if grad.shape != root.shape:
            raise ValueError(f"backward grad of shape {grad.shape} does not match the "
                             f"output's shape {root.shape}")
        return grad if create_graph else grad._data
    else:
        seed = _as_array(grad, "backward grad", root._data.dtype)
        if seed.shape != root.shape:
            raise ValueError(f"backward grad of shape {seed.shape} does not match the "
                             f"output's shape {root.shape}")
        if seed is grad:
            seed = seed.copy()
    return Tensor(seed) if create_graph else seed


# ------------------------------------------------------------------ functions

def as_tensor(x: Any, dtype: Any = None) -> Tensor:
    """``x`` if it is a Tensor, else a new leaf holding it."""
    return x if isinstance(x, Tensor) else Tensor(x, dtype=dtype)


def zeros(shape: Any, label: str = "", dtype: Any = None) -> Tensor:
    return Tensor(np.zeros(shape, dtype=_dtype(dtype)), label, dtype)


def ones(shape: Any, label: str = "", dtype: Any = None) -> Tensor:
    return Tensor(np.ones(shape, dtype=_dtype(dtype)), label, dtype)


def _matmul_shapes(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    if not a or not b:
        raise ValueError(f"matmul (@): shapes {a} and {b}: operands must have at least one axis")
    ka = a[-1]
    kb = b[-2] if len(b) > 1 else b[0]
    if ka != kb:
        raise ValueError(f"matmul (@): shapes {a} and {b} are not aligned: {ka} (last axis of "
                         f"the first) != {kb} ({'second-to-last' if len(b) > 1 else 'only'} axis "
                         "of the second)")
    if len(a) > 2 or len(b) > 2:
        _bshape("matmul (@) batch axes", a[:-2], b[:-2])


def matmul(a: Any, b: Any) -> Tensor:
    """a @ b (numpy semantics). A plain array on either side is a constant
    (kept as the node's parameter, no gradient)."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if not ta and not tb:
        raise TypeError("matmul needs at least one Tensor operand")
    if ta and tb:
        _matmul_shapes(a.shape, b.shape)
        return _apply(_MATMUL, (a, b))
    if ta:
        c = _const(b, "matmul operand")
        if c is None or not isinstance(c, _ndarray):
            raise TypeError(f"matmul: cannot multiply a Tensor by {type(b).__name__}")
        _matmul_shapes(a.shape, c.shape)
        return _apply(_MATMUL_CONST, (a,), c)
    c = _const(a, "matmul operand")
    if c is None or not isinstance(c, _ndarray):
        raise TypeError(f"matmul: cannot multiply {type(a).__name__} by a Tensor")
    _matmul_shapes(c.shape, b.shape)
    return _apply(_RMATMUL_CONST, (b,), c)


def where(mask: Any, a: Any, b: Any) -> Tensor:
    """Elementwise ``a`` where ``mask`` else ``b`` (differentiable in a and b)."""
    m = np.asarray(_data_of(mask))
    if m.dtype.kind not in "biuf":  # "abc" would silently be True everywhere
        raise TypeError(f"where: mask must be an array of booleans (or numbers), not "
                        f"{type(mask).__name__} of dtype {m.dtype}")
    m = m.astype(bool)
    ta, tb = a, b
    if not isinstance(ta, Tensor):
        ta = Tensor(a, dtype=b.dtype if isinstance(b, Tensor) else None)
    if not isinstance(tb, Tensor):
        tb = Tensor(b, dtype=ta.dtype)
    _bshape("where", m.shape, ta.shape, tb.shape)
    return _apply(_WHERE, (ta, tb), m)


def prelu(x: Tensor, alpha: Any) -> Tensor:
    """x if x > 0 else alpha * x; ``alpha`` a Tensor (learnable, broadcast
    against x, e.g. one slope per channel) or a number (leaky_relu)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"prelu x must be a Tensor, not {type(x).__name__}")
    if isinstance(alpha, Tensor):
        return _apply_ew(PRIMITIVES["prelu"], (x, alpha))
    return x.leaky_relu(alpha)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    return x.log_softmax(axis)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    return x.softmax(axis)


def _targets(logits: Tensor, targets: Any, axis: int) -> np.ndarray:
    """Integer class labels (shape = logits' without the class axis) or
    probabilities (the logits' shape, a constant array) as an array of the
    logits' shape."""
    t = np.asarray(targets)
    shape = logits.shape
    rest = tuple(n for i, n in enumerate(shape) if i != axis)
    if t.dtype.kind in "iu":
        if t.shape != rest:
            raise ValueError(f"cross_entropy: class labels of shape {t.shape} for logits of "
                             f"shape {shape} with class axis {axis} (expected {rest})")
        k = shape[axis]
        if t.size and (t.min() < 0 or t.max() >= k):
            raise ValueError(f"cross_entropy: class labels must be in 0..{k - 1}, got "
                             f"{int(t.min())}..{int(t.max())}")
        y = np.zeros(shape, dtype=logits.dtype)
        np.put_along_axis(y, np.expand_dims(t, axis), 1.0, axis=axis)
        return y
    if t.dtype.kind == "f":
        if t.shape != shape:
            raise ValueError(f"cross_entropy: target probabilities of shape {t.shape} for "
                             f"logits of shape {shape}")
        return t.astype(logits.dtype, copy=False)
    raise TypeError(f"cross_entropy targets must be int labels or float probabilities, not {t.dtype}")


def cross_entropy(logits: Tensor, targets: Any, reduction: str = "mean",
                  axis: int | None = None) -> Tensor:
    """-Σ_k y_k log softmax(logits)_k over the class axis, averaged (``"mean"``)
    or summed (``"sum"``) over the other axes. Stable for any logits.

    ``axis``: the class axis; by default PyTorch's convention: axis 1 for
    logits with two or more axes ((N, C) or (N, C, d1, ...)), axis 0 for a
    1-D vector of C logits. ``targets``: int class labels (the logits' shape
    without the class axis), an array of probabilities (the logits' shape;
    a constant), or a Tensor of probabilities (differentiated too:
    ∂/∂y = -log softmax(logits), scaled like the loss)."""
    if not isinstance(logits, Tensor):
        raise TypeError(f"cross_entropy logits must be a Tensor, not {type(logits).__name__}")
    if not logits.ndim:
        raise ValueError("cross_entropy needs logits with a class axis, got a 0-d tensor")
    if axis is None:
        axis = 1 if logits.ndim >= 2 else 0
    elif not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"cross_entropy axis must be an int, not {axis!r}")
    (ax,) = _norm_axes(axis, logits.ndim, "cross_entropy")
    k = logits.shape[ax]
    rows = logits.size // k if k else 0
    if reduction == "mean":
        scale = 1.0 / rows if rows else float("nan")
    elif reduction == "sum":
        scale = 1.0
    else:
        raise ValueError(f"cross_entropy reduction must be 'mean' or 'sum', not {reduction!r}")
    if isinstance(targets, Tensor):
        if targets.shape != logits.shape:
            raise ValueError(f"cross_entropy: a Tensor of targets holds probabilities of the "
                             f"logits' shape {logits.shape}, got shape {targets.shape} (give "
                             "class labels as an int array)")
        return _apply(_CROSS_ENTROPY_SOFT, (logits, targets), (scale, ax))
    y = _targets(logits, targets, ax)
    return _apply(_CROSS_ENTROPY, (logits,), (y, scale, ax))


def binary_cross_entropy_with_logits(z: Tensor, y: Any, reduction: str = "mean") -> Tensor:
    """-[y log σ(z) + (1-y) log(1-σ(z))] = softplus(z) - y z, summed over the
    last axis, averaged (or summed) over the rest: network2's cross-entropy
    for sigmoid outputs, from the pre-activations, stable. ``y`` an array
    (constant) or a Tensor (differentiated too: ∂/∂y = -z, scaled)."""
    if not isinstance(z, Tensor):
        raise TypeError(f"binary_cross_entropy_with_logits z must be a Tensor, not {type(z).__name__}")
    ys = y.shape if isinstance(y, Tensor) else None
    yy = None if ys is not None else np.asarray(y, dtype=z.dtype)
    if (ys if ys is not None else yy.shape) != z.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: targets of shape "
                         f"{ys if ys is not None else yy.shape} for logits of shape {z.shape}")
    if reduction == "sum":
        scale = 1.0
    elif reduction == "mean":
        rows = z.size // z.shape[-1] if z.ndim and z.shape[-1] else 1
        scale = 1.0 / rows
    else:
        raise ValueError(f"reduction must be 'mean' or 'sum', not {reduction!r}")
    if ys is not None:
        return _apply(_BCE_SOFT, (z, y), scale)
    return _apply(_BCE, (z,), (yy, scale))


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weightᵀ + bias in one node (a dense layer; ``weight`` of shape
    (out, in) as in ``nn.Linear``; ``x`` of shape (batch, in) or (in,), a
    Tensor or a constant array)."""
    if not isinstance(weight, Tensor):
        raise TypeError(f"linear weight must be a Tensor, not {type(weight).__name__}")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must have 2 axes (out, in), got shape {weight.shape}")
    if bias is None:
        bias = zeros(weight.shape[0], dtype=weight.dtype)
    if not isinstance(bias, Tensor):
        raise TypeError(f"linear bias must be a Tensor, not {type(bias).__name__}")
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape} for weight of shape {weight.shape}")
    xs = x.shape if isinstance(x, Tensor) else np.shape(x)
    if len(xs) not in (1, 2) or xs[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {tuple(xs)} for weight of shape "
                         f"{weight.shape} (expected (batch, {weight.shape[1]}))")
    if isinstance(x, Tensor):
        return _apply(_LINEAR, (x, weight, bias))
    c = _const(x, "linear input")
    if not isinstance(c, _ndarray):
        raise TypeError(f"linear input must be a Tensor or an array, not {type(x).__name__}")
    return _apply(_LINEAR_CONST, (weight, bias), c)


# Unchecked entry points for a caller that validated its operands once and then
# calls in a loop (nn's Tensor backend checks an MLP's layers, inputs and
# targets once per ``fit``): the same nodes as linear(), sum_of_vdots() and
# binary_cross_entropy_with_logits() make, without re-checking each call.

def _linear_unchecked(x: Any, weight: Tensor, bias: Tensor) -> Tensor:
    """:func:`linear` of checked operands: ``x`` a Tensor or a float array
    (batch, in) of the weight's dtype, ``bias`` a Tensor (out,)."""
    if type(x) is Tensor:
        return _apply(_LINEAR, (x, weight, bias))
    return _apply(_LINEAR_CONST, (weight, bias), x)


def _sum_of_squares_unchecked(tensors: tuple[Tensor, ...], scale: float,
                              plus: Tensor | None = None) -> Tensor:
    """``sum_of_vdots([(t, t) for t in tensors], scale, plus=plus)`` of a
    non-empty tuple of Tensors, a float ``scale`` and a 0-d ``plus`` (or None)."""
    if plus is None:
        return _apply(_VDOT, tensors, (scale, True))
    return _apply(_PLUS_VDOT, (plus,) + tensors, (scale, True))


def _bce_logits_unchecked(z: Tensor, y: np.ndarray, scale: float) -> Tensor:
    """``binary_cross_entropy_with_logits`` of logits ``z`` and constant
    targets ``y`` (an array of z's shape and dtype), times ``scale``."""
    return _apply(_BCE, (z,), (y, scale))


def gradients(output: Tensor, inputs: Sequence[Tensor], *, grad: Any = None,
              create_graph: bool = False) -> list[Any]:
    """∂output/∂input for each input (arrays; Tensors with ``create_graph``),
    touching no ``.grad``. Inputs the output does not depend on get zeros."""
    if not isinstance(output, Tensor):
        raise TypeError(f"output must be a Tensor, got {type(output).__name__}")
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"input {i} must be a Tensor, got {type(x).__name__}")
    seed = _seed(output, grad, create_graph)
    grads = _backprop(output, seed, create_graph, inputs)[1]
    out = []
    for x in inputs:
        g = grads.get(x, 0.0)
        if type(g) is float:
            g = np.full(x.shape, g, dtype=x.dtype)
            if create_graph:
                g = Tensor(g)
        out.append(g)
    return out


def jvp(output: Tensor, seeds: dict[Tensor, Any]) -> np.ndarray:
    """Forward mode: the directional derivative of ``output`` along the
    tangents ``seeds`` (input Tensor -> array of its shape), with the engine's
    :func:`~autograd_core.push_tangents`."""
    if not isinstance(output, Tensor):
        raise TypeError(f"output must be a Tensor, got {type(output).__name__}")
    clean = {}
    for k, v in seeds.items():
        if not isinstance(k, Tensor):
            raise TypeError(f"jvp seeds must map Tensors to arrays, got key {type(k).__name__}")
        a = _as_array(v, "tangent", k.dtype)
        if a.shape != k.shape:
            raise ValueError(f"tangent of shape {a.shape} for a tensor of shape {k.shape}")
        clean[k] = a
    t = push_tangents(output, clean)[output]
    if type(t) is float:
        return np.full(output.shape, t, dtype=output.dtype)
    return np.asarray(_broadcast_to(t, output.shape))


def describe(node: Any, grad: bool = False) -> str:
    """A one-line summary of a Tensor for tables and drawings:
    ``"f64[10×30] ‖·‖=3.21"`` (of ``.grad`` with ``grad=True``)."""
    a = node.grad if grad else node._data
    if isinstance(a, Tensor):
        a = a._data
    a = np.asarray(a)
    dt = {"float64": "f64", "float32": "f32"}.get(a.dtype.name, a.dtype.name)
    shape = "×".join(map(str, a.shape)) if a.shape else ""
    if a.size == 1:
        return f"{dt}[{shape}] {float(a.reshape(())):.4g}"
    return f"{dt}[{shape}] ‖·‖={float(np.linalg.norm(a.ravel())):.4g}"


# ------------------------------------------------------------------ issue 13 §4: join, split, numpy
# Tensors never leave the graph silently: T.concatenate / T.stack / T.split
# are differentiable, numpy ufuncs run the Tensor operation of the same name
# or raise, numpy functions run the Tensor version or raise a TypeError
# naming it, and np.asarray(t) raises (use t.data on purpose).

def _join_operands(op: str, tensors: Any) -> list[Tensor]:
    if isinstance(tensors, (Tensor, _ndarray)) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op} takes a list or tuple of Tensors, not {type(tensors).__name__}")
    items = list(tensors)
    if not items:
        raise ValueError(f"{op} needs at least one Tensor")
    ts = [t for t in items if isinstance(t, Tensor)]
    if not ts:
        raise TypeError(f"{op} needs at least one Tensor (for plain arrays use numpy.{op})")
    dtype = np.result_type(*[t.dtype for t in ts])
    out = []
    for i, t in enumerate(items):
        if isinstance(t, Tensor):
            out.append(t)
        else:  # a constant: a leaf nobody asks a gradient of
            out.append(Tensor(_as_array(t, f"{op} operand {i}", dtype), dtype=dtype))
    return out


def _int_axis(op: str, axis: Any, ndim: int) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int, not {axis!r}")
    return _norm_axes(axis, ndim, op)[0]


def concatenate(tensors: Sequence[Any], axis: int | None = 0) -> Tensor:
    """Join Tensors along an existing ``axis`` (numpy semantics; ``axis=None``
    flattens them first), differentiable with respect to every operand (plain
    arrays among them are constants)."""
    ts = _join_operands("concatenate", tensors)
    if axis is None:
        ts = [t.reshape(-1) for t in ts]
        axis = 0
    nd = ts[0].ndim
    if nd == 0:
        raise ValueError("concatenate: 0-d tensors have no axis to join along (use T.stack)")
    ax = _int_axis("concatenate", axis, nd)
    first = ts[0].shape
    for i, t in enumerate(ts[1:], 1):
        if t.ndim != nd:
            raise ValueError(f"concatenate: operand {i} has {t.ndim} axes (shape {t.shape}), "
                             f"operand 0 has {nd} (shape {first})")
        if t.shape[:ax] + t.shape[ax + 1:] != first[:ax] + first[ax + 1:]:
            raise ValueError(f"concatenate: shapes {first} and {t.shape} (operand {i}) differ "
                             f"outside axis {ax}")
    return _apply(_CONCAT, tuple(ts), ax)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Stack Tensors of one shape along a new ``axis`` (numpy semantics),
    differentiable with respect to every operand; works for 0-d Tensors."""
    ts = _join_operands("stack", tensors)
    first = ts[0].shape
    for i, t in enumerate(ts[1:], 1):
        if t.shape != first:
            raise ValueError(f"stack: all tensors need one shape; operand 0 has {first}, "
                             f"operand {i} has {t.shape}")
    ax = _int_axis("stack", axis, len(first) + 1)
    return _apply(_STACK, tuple(ts), ax)


def split(x: Tensor, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """``x`` cut along ``axis`` into equal sections (an int) or at the given
    indices (a list), as numpy.split: a list of slices of ``x``, each
    differentiable (indexing nodes)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"split needs a Tensor, not {type(x).__name__}")
    if not x.ndim:
        raise ValueError("split: a 0-d tensor has no axis to split")
    ax = _int_axis("split", axis, x.ndim)
    n = x.shape[ax]
    ios = indices_or_sections
    if isinstance(ios, (int, np.integer)) and not isinstance(ios, bool):
        k = int(ios)
        if k < 1:
            raise ValueError(f"split: the number of sections must be >= 1, not {k}")
        if n % k:
            raise ValueError(f"split: axis {ax} of length {n} does not divide into {k} equal "
                             "sections (give a list of indices for unequal pieces)")
        cuts = [i * (n // k) for i in range(1, k)]
    elif isinstance(ios, (list, tuple, _ndarray)):
        cuts = list(np.asarray(ios).ravel()) if len(ios) else []
        if any(not isinstance(c, (int, np.integer)) or isinstance(c, (bool, np.bool_))
               for c in cuts):
            raise TypeError(f"split: indices must be ints, not {ios!r}")
    else:
        raise TypeError(f"split: indices_or_sections must be an int or a list of ints, "
                        f"not {type(ios).__name__}")
    bounds = [0] + [int(c) for c in cuts] + [n]
    lead = (slice(None),) * ax
    return [x[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:])]


def logsumexp(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """log Σ exp(x) over ``axis`` (see :meth:`Tensor.logsumexp`)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"logsumexp needs a Tensor, not {type(x).__name__}")
    return x.logsumexp(axis, keepdims)


_ASARRAY_MESSAGE = (
    "converting a Tensor to a numpy array (np.asarray / np.array / storing it into an array) "
    "would cut it from the graph and its gradient would be lost without an error; take "
    "t.data (or t.numpy(), a copy) to get the numbers on purpose, and combine Tensors with "
    "T.stack / T.concatenate")

# ufuncs that are Python operators: name -> (method, reflected method)
_UFUNC_BINARY = {
    "add": ("__add__", "__radd__"), "subtract": ("__sub__", "__rsub__"),
    "multiply": ("__mul__", "__rmul__"), "divide": ("__truediv__", "__rtruediv__"),
    "true_divide": ("__truediv__", "__rtruediv__"), "power": ("__pow__", "__rpow__"),
    "matmul": ("__matmul__", "__rmatmul__"),
}
_UFUNC_UNARY = {"negative": "__neg__", "positive": "__pos__", "absolute": "__abs__"}
# boolean-valued ufuncs: no derivative to lose, they run on the data
_UFUNC_DATA = frozenset({
    "less", "less_equal", "greater", "greater_equal", "equal", "not_equal", "isfinite",
    "isnan", "isinf", "signbit", "logical_and", "logical_or", "logical_xor", "logical_not",
})
_UFUNC_REDUCE = {"add": "t.sum(axis)", "multiply": "t.prod(axis)", "maximum": "t.max(axis)",
                 "minimum": "t.min(axis)"}


def _tensor_function(name: str) -> Any:
    """The function of this module named ``name`` (T.maximum, ...), if any."""
    f = globals().get(name)
    return f if callable(f) and getattr(f, "__module__", None) == __name__ else None


def _numpy_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    name = ufunc.__name__
    if method == "__call__" and not kwargs and len(inputs) == 2:  # arr + t, arr @ t: fast path
        ops = _UFUNC_BINARY.get(name)
        if ops is not None:
            a, b = inputs
            res = getattr(a, ops[0])(b) if isinstance(a, Tensor) else getattr(b, ops[1])(a)
            if res is NotImplemented:
                raise TypeError(f"numpy.{name}: unsupported operands {type(a).__name__} and "
                                f"{type(b).__name__}")
            return res
    if method != "__call__":
        hint = _UFUNC_REDUCE.get(name) if method == "reduce" else None
        raise TypeError(f"numpy.{name}.{method} is not supported on a Tensor (it would give a "
                        "plain array cut from the graph)" + (f"; use {hint}" if hint else ""))
    if "out" in kwargs:
        raise TypeError(f"numpy.{name} with out= (or in-place arithmetic such as arr += t) "
                        "would write a Tensor's result into a plain array, cut from the "
                        "graph; write arr = arr + t instead")
    if kwargs:
        raise TypeError(f"numpy.{name} on a Tensor takes no keyword arguments "
                        f"(got {', '.join(sorted(kwargs))})")
    if any(isinstance(x, Value) for x in inputs):
        raise TypeError(f"numpy.{name}: cannot combine a Tensor with a Value")
    if name in _UFUNC_DATA:
        return ufunc(*[_data_of(x) for x in inputs])
    if len(inputs) == 1:
        x = inputs[0]
        if name in _UFUNC_UNARY:
            return getattr(x, _UFUNC_UNARY[name])()
        if name == "square":
            return x * x
        if name == "reciprocal":
            return 1.0 / x
        meth = getattr(Tensor, name, None)
        if callable(meth):
            return meth(x)
    f = _tensor_function(name)
    if f is not None:
        return f(*inputs)
    if len(inputs) == 2 and callable(getattr(Tensor, name, None)):  # np.maximum(a, t): a.maximum(t)
        a, b = inputs
        first = a if isinstance(a, Tensor) else as_tensor(a, dtype=b.dtype)
        return getattr(first, name)(b)
    alt = f"t.{name}()" if callable(getattr(Tensor, name, None)) else None
    raise TypeError(f"numpy.{name} has no Tensor version, and on a Tensor it would give a plain "
                    "array cut from the graph" + (f"; use {alt}" if alt else
                                                  "; build it from Tensor operations, or apply "
                                                  f"numpy.{name} to t.data on purpose"))


def _no_extras(op: str, **given: Any) -> None:
    for k, v in given.items():
        if v is not None:
            raise TypeError(f"numpy.{op} on a Tensor: {k}= is not supported")


_NP_REDUCTION_ARGS = {  # numpy's positional order after the array
    "sum": ("axis", "dtype", "out", "keepdims"), "mean": ("axis", "dtype", "out", "keepdims"),
    "prod": ("axis", "dtype", "out", "keepdims"), "max": ("axis", "out", "keepdims"),
    "min": ("axis", "out", "keepdims"), "var": ("axis", "dtype", "out", "ddof", "keepdims"),
    "std": ("axis", "dtype", "out", "ddof", "keepdims"),
}


def _np_reduction(method: str) -> Any:
    names = _NP_REDUCTION_ARGS[method]

    def handler(a: Any, *args: Any, **kwargs: Any) -> Any:
        if len(args) > len(names):
            raise TypeError(f"numpy.{method}: too many positional arguments for a Tensor")
        kw = dict(zip(names, args))
        for k, v in kwargs.items():
            if k in kw:
                raise TypeError(f"numpy.{method}: got {k} twice")
            kw[k] = v
        axis, keepdims = kw.pop("axis", None), kw.pop("keepdims", False)
        ddof, correction = kw.pop("ddof", 0), kw.pop("correction", None)
        _no_extras(method, **kw)
        if not isinstance(a, Tensor):
            raise TypeError(f"numpy.{method}: the array argument must be the Tensor")
        if method in ("var", "std"):
            return getattr(a, method)(axis, keepdims, ddof, correction=correction)
        return getattr(a, method)(axis, keepdims)
    return handler


def _np_concatenate(arrays: Any, axis: Any = 0, out: Any = None, dtype: Any = None,
                    casting: Any = None) -> Tensor:
    _no_extras("concatenate", out=out, dtype=dtype, casting=casting)
    return concatenate(arrays, axis)


def _np_stack(arrays: Any, axis: int = 0, out: Any = None, dtype: Any = None,
              casting: Any = None) -> Tensor:
    _no_extras("stack", out=out, dtype=dtype, casting=casting)
    return stack(arrays, axis)


def _np_where(condition: Any, *xy: Any) -> Tensor:
    if len(xy) != 2:
        raise TypeError("numpy.where(cond) with one argument on a Tensor: use "
                        "numpy.nonzero(t.data > 0) or similar on the data")
    return where(condition, *xy)


def _np_reshape(a: Any, shape: Any = None, order: str = "C", **kw: Any) -> Tensor:
    shape = kw.pop("newshape", shape)
    _no_extras("reshape", **kw)
    if order != "C":
        raise TypeError("numpy.reshape on a Tensor supports order='C' only")
    return a.reshape(shape)


def _np_clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, **kw: Any) -> Any:
    lo, hi = kw.pop("min", a_min), kw.pop("max", a_max)
    _no_extras("clip", out=out, **kw)
    if not isinstance(a, Tensor) or not callable(getattr(Tensor, "clip", None)):
        raise TypeError("numpy.clip is not supported here: it would return a plain array cut "
                        "from the graph; use t.clip(lo, hi) on the Tensor, or T.where")
    return a.clip(lo, hi)


def _on_data(func: Any) -> Any:
    """A numpy function whose result is ints or booleans (no derivative to
    lose): run it on the data."""
    def handler(*args: Any, **kwargs: Any) -> Any:
        unwrap = lambda v: _data_of(v) if not isinstance(v, (list, tuple)) else type(v)(  # noqa: E731
            _data_of(u) for u in v)
        return func(*[unwrap(a) for a in args], **{k: unwrap(v) for k, v in kwargs.items()})
    return handler


_NP_FUNCTIONS: dict[Any, Any] = {
    np.concatenate: _np_concatenate,
    np.stack: _np_stack,
    np.split: lambda ary, indices_or_sections, axis=0: split(ary, indices_or_sections, axis),
    np.where: _np_where,
    np.sum: _np_reduction("sum"), np.mean: _np_reduction("mean"),
    np.max: _np_reduction("max"), np.amax: _np_reduction("max"),
    np.min: _np_reduction("min"), np.amin: _np_reduction("min"),
    np.prod: _np_reduction("prod"), np.var: _np_reduction("var"), np.std: _np_reduction("std"),
    np.reshape: _np_reshape,
    np.transpose: lambda a, axes=None: a.transpose(*(() if axes is None else (axes,))),
    np.swapaxes: lambda a, axis1, axis2: a.swapaxes(axis1, axis2),
    np.broadcast_to: lambda array, shape, subok=False: array.broadcast_to(shape),
    np.clip: _np_clip,
}
for _f in (np.shape, np.ndim, np.size, np.allclose, np.isclose, np.array_equal,
           np.array_equiv, np.argmax, np.argmin, np.argsort, np.nonzero, np.count_nonzero,
           np.any, np.all):
    _NP_FUNCTIONS[_f] = _on_data(_f)
del _f

_NP_HINTS = {
    "dot": "@ or T.matmul", "inner": "@ or T.matmul", "vdot": "T.vdot",
    "tensordot": "@ / T.matmul with reshape", "einsum": "@ / T.matmul with reshape and transpose",
    "outer": "a.reshape(-1, 1) * b.reshape(1, -1)",
    "vstack": "T.concatenate / T.stack", "hstack": "T.concatenate / T.stack",
    "dstack": "T.concatenate / T.stack", "column_stack": "T.stack(..., axis=1)",
    "row_stack": "T.stack", "block": "T.concatenate", "append": "T.concatenate",
    "array_split": "T.split", "hsplit": "T.split(t, k, axis=1)", "vsplit": "T.split(t, k, axis=0)",
    "squeeze": "t.reshape(...)", "expand_dims": "t.reshape(...)", "ravel": "t.flatten()",
    "moveaxis": "t.transpose(...)", "rollaxis": "t.transpose(...)",
    "tile": "t.broadcast_to(...) and reshape", "repeat": "indexing t[index] or broadcast_to",
    "average": "t.mean() or (t * w).sum() / w.sum()", "nansum": "t.sum() (NaNs propagate)",
    "linalg.norm": "(t * t).sum().sqrt() or T.vdot(t, t).sqrt()", "norm": "(t * t).sum().sqrt()",
    "copy": "t.detach() (a new leaf) or t.numpy() (a plain copy)",
    "asarray": "t.data", "array": "t.data",
    "take": "indexing t[index]",
    "diagonal": "indexing t[i, i]", "trace": "indexing and sum",
    "cumsum": "sums of slices t[..., :k].sum(-1) (no Tensor cumsum)",
    "cumprod": "products of slices t[..., :k].prod(-1) (no Tensor cumprod)",
    "softmax": "T.softmax", "amax": "t.max(axis)", "amin": "t.min(axis)",
    "ptp": "t.max(axis) - t.min(axis)", "median": "no Tensor version",
}


def _numpy_function(func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
    if not all(issubclass(t, (Tensor, _ndarray)) for t in types):
        return NotImplemented
    handler = _NP_FUNCTIONS.get(func)
    if handler is not None:
        return handler(*args, **kwargs)
    mod = getattr(func, "__module__", "") or ""
    name = func.__name__
    qual = f"linalg.{name}" if "linalg" in mod else name
    hint = _NP_HINTS.get(qual) or _NP_HINTS.get(name)
    if hint is None and callable(getattr(Tensor, name, None)):
        hint = f"t.{name}(...)"
    if hint is None and _tensor_function(name) is not None:
        hint = f"T.{name}(...)"
    raise TypeError(f"numpy.{qual} is not supported on a Tensor: it would return a plain array "
                    "cut from the graph" + (f"; use {hint}" if hint else
                                            "; build it from Tensor operations (autograd_core."
                                            "tensor), or call it on t.data on purpose"))


# a primitive called on Tensors applies elementwise (primitives.py imports nothing above it)
_HOOKS.update(Tensor=Tensor, apply_tensor=_apply_ew)
