"""Anomaly mode: stop at the first operation that makes a NaN or an infinity.

>>> import autograd_core as ac
>>> x = ac.Value(700.0, "x")
>>> with ac.detect_anomaly():
...     y = (x + 10.0).exp()             # doctest: +SKIP
AnomalyError: anomaly in forward: exp(710) = inf from finite operands, made at example.py:3

Inside ``with detect_anomaly():``

* forward: the first operation whose result is NaN or ±inf although its
  operands (and parameter) are finite raises :class:`AnomalyError`, naming the
  primitive, the operands and the line of the user's code that made the node;
* backward (``Value.backward``, :func:`~autograd_core.gradients`, Tensor
  backward): the first node, in the order backward processes them, whose
  gradient becomes NaN or ±inf raises, naming the operation whose local
  derivative made it so (e.g. ``sqrt`` at 0: ``∂/∂x = inf``), its operands and
  its source line.

Overhead only when enabled: while no anomaly context is active anywhere, the
engine runs its own node constructor and backward driver untouched. Entering
the first context swaps in checking versions (which defer to the originals in
threads and contexts where the mode is off); leaving the last one puts the
originals back. Source lines are captured only inside such a context (and by
:func:`record_sources`, which ``gradcheck`` uses to name the culprit node).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core import engine as _engine
from ..core.primitives import HOOKS as _HOOKS

__all__ = ["detect_anomaly", "AnomalyError", "record_sources", "source_of"]


class AnomalyError(FloatingPointError):
    """A NaN or an infinity appeared (raised by :func:`detect_anomaly`).

    ``node`` is the node that produced it (forward) or whose backward rule did
    (backward); ``source`` its ``file:line`` in the user's code, if known."""

    def __init__(self, message: str, node: Any = None, source: str | None = None) -> None:
        super().__init__(message)
        self.node = node
        self.source = source


@dataclass
class _Mode:
    check: bool                                    # raise on NaN/inf
    sources: dict[int, tuple[Any, str]] = field(default_factory=dict)


_mode: contextvars.ContextVar[_Mode | None] = contextvars.ContextVar(
    "autograd_core_anomaly", default=None)
_lock = threading.Lock()
_active = 0
_saved: list[tuple[Any, str, Any]] = []

_HERE = os.path.dirname(os.path.abspath(__file__))
_INTERNAL = tuple(os.path.join(os.path.dirname(os.path.dirname(_HERE)), d) + os.sep
                  for d in ("autograd_core", "nn", "visualize"))


# ------------------------------------------------------------------ sources

def _user_line() -> str:
    """``file:line`` of the innermost frame outside this package (and nn, visualize)."""
    f = sys._getframe(2)
    while f is not None:
        fn = f.f_code.co_filename
        if not (fn.startswith(_INTERNAL) or fn == contextlib.__file__):
            try:
                rel = os.path.relpath(fn)
                if not rel.startswith(".."):
                    fn = rel
            except ValueError:
                pass
            return f"{fn}:{f.f_lineno}"
        f = f.f_back
    return "?"


def source_of(node: Any) -> str | None:
    """Where ``node`` was made (``file:line``), if it was made inside
    :func:`detect_anomaly` or :func:`record_sources` (the current one)."""
    md = _mode.get()
    if md is None:
        return None
    got = md.sources.get(id(node))
    return got[1] if got is not None and got[0] is node else None


# ------------------------------------------------------------------ checks

def _finite(x: Any) -> bool:
    if type(x) is float:
        return math.isfinite(x)
    if not isinstance(x, (np.ndarray, np.generic)):
        x = getattr(x, "_data", x)
    if isinstance(x, (np.ndarray, np.generic)):
        return bool(np.all(np.isfinite(x)))
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return True  # not a number (a local map): judged by its product


def _short(x: Any) -> str:
    if not isinstance(x, (np.ndarray, np.generic)):
        x = getattr(x, "_data", x)
    if isinstance(x, np.ndarray):
        return f"array{list(x.shape)}" if x.size > 4 else np.array2string(x, precision=6)
    if isinstance(x, (tuple, list)):
        return "(" + ", ".join(_short(e) for e in x) + ")"
    try:
        return f"{float(x):.6g}"
    except (TypeError, ValueError):
        return type(x).__name__


def describe(node: Any) -> str:
    """``name(operand, ...; param)`` for a node made by a primitive."""
    prim = node._prim
    ops = ", ".join(_short(p) for p in node._parents)
    if node._param is not None and prim is not None and prim.has_param:
        ops += f"; {prim.param}={_short(node._param)}"
    return f"{prim.name if prim is not None else 'leaf'}({ops})"


def _on_forward(md: _Mode, v: Any, data: Any, parents: tuple, param: Any) -> None:
    if not md.check:
        md.sources[id(v)] = (v, _user_line())
        return
    where = _user_line()
    md.sources[id(v)] = (v, where)
    if parents and not _finite(data) and all(_finite(p._data) for p in parents) and (
            param is None or not isinstance(param, (int, float)) or _finite(param)):
        raise AnomalyError(f"anomaly in forward: {describe(v)} = {_short(data)} from "
                           f"finite operands, made at {where}", v, where)


def _grad_value(g: Any) -> Any:
    return g._data if hasattr(g, "_data") else g


def _check_backward(md: _Mode, order: list[Any], grads: dict[Any, Any], root: Any) -> None:
    """The first node (in backward's order) whose gradient (``grads``, the
    driver's per-call table) is not finite, and why."""
    consumers: dict[int, list[tuple[Any, int]]] = {}
    for c in order:
        for k, p in enumerate(c._parents):
            consumers.setdefault(id(p), []).append((c, k))
    for n in reversed(order):
        g = _grad_value(grads.get(n, 0.0))
        if _finite(g):
            continue
        if n is root:
            raise AnomalyError(f"anomaly in backward: the starting gradient is {_short(g)}", n,
                               source_of(n))
        for c, k in consumers.get(id(n), ()):
            local = c._local[k] if k < len(c._local) else None
            gc = _grad_value(grads.get(c, 0.0))
            with np.errstate(all="ignore"):
                contrib = local * gc
            if _finite(contrib):
                continue
            where = md.sources.get(id(c), (None, None))[1]
            at = f", made at {where}" if where else ""
            raise AnomalyError(
                f"anomaly in backward: the gradient of operand {k} of {describe(c)}{at} became "
                f"{_short(contrib)}: its local derivative is {_short(local)}, times the "
                f"incoming gradient {_short(gc)}", c, where)
        raise AnomalyError(f"anomaly in backward: the gradient of {describe(n)} became "
                           f"{_short(g)}", n, md.sources.get(id(n), (None, None))[1])


# ------------------------------------------------------------------ patching

def _checking_node(orig: Callable[..., Any]) -> Callable[..., Any]:
    def node(data: Any, parents: tuple, local: tuple, prim: Any, param: Any, *rest: Any) -> Any:
        v = orig(data, parents, local, prim, param, *rest)
        md = _mode.get()
        if md is not None and prim is not None:
            _on_forward(md, v, data, parents, param)
        return v
    node.__wrapped__ = orig  # type: ignore[attr-defined]
    return node


def _checking_backprop(orig: Callable[..., Any]) -> Callable[..., Any]:
    def backprop(root: Any, *args: Any, **kwargs: Any) -> Any:
        order, grads = orig(root, *args, **kwargs)
        md = _mode.get()
        if md is not None and md.check:
            _check_backward(md, order, grads, root)  # the driver keeps no state on nodes
        return order, grads
    backprop.__wrapped__ = orig  # type: ignore[attr-defined]
    return backprop


def _targets() -> list[tuple[Any, str, Callable[..., Any]]]:
    """Where the engine's node constructor and backward driver are looked up."""
    from .. import tensor as _tensor
    out = [(_engine, "_node", _checking_node), (_engine, "_backprop", _checking_backprop),
           (_tensor, "_node", _checking_node), (_tensor, "_backprop", _checking_backprop)]
    layers = sys.modules.get("nn.layers")
    if layers is not None and hasattr(layers, "_make_node"):
        out.append((layers, "_make_node", _checking_node))
    return out


def _enter() -> None:
    global _active
    with _lock:
        if _active == 0:
            for mod, name, wrap in _targets():
                orig = getattr(mod, name)
                _saved.append((mod, name, orig))
                setattr(mod, name, wrap(orig))
        _active += 1


def _exit() -> None:
    global _active
    with _lock:
        _active -= 1
        if _active == 0:
            while _saved:
                mod, name, orig = _saved.pop()
                setattr(mod, name, orig)


@contextlib.contextmanager
def _mode_ctx(check: bool) -> Iterator[_Mode]:
    outer = _mode.get()
    md = _Mode(check=check or (outer is not None and outer.check))
    _enter()
    token = _mode.set(md)
    try:
        yield md
    finally:
        _mode.reset(token)
        _exit()
        md.sources.clear()


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise :class:`AnomalyError` at the first forward operation that makes NaN
    or ±inf from finite operands, and in backward at the first node whose
    gradient becomes NaN or ±inf, naming the primitive, its operands and the
    ``file:line`` of the user's code that made the node. Thread- and
    context-safe (a context variable); usable as a decorator."""
    with _mode_ctx(True):
        yield


@contextlib.contextmanager
def record_sources() -> Iterator[None]:
    """Remember where each node made inside is created (see :func:`source_of`),
    without raising; ``gradcheck`` uses it to name culprit nodes."""
    with _mode_ctx(False):
        yield


# the Tensor check (a layer below, which cannot import this module) names its
# culprit nodes' source lines through these
_HOOKS["record_sources"] = record_sources
_HOOKS["source_of"] = source_of
