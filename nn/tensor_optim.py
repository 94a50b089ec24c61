"""The optimizers of :mod:`nn.optim` on Tensor parameters.

The update formulas are those documented in :mod:`nn.optim` (the textbook chapter's),
applied to whole arrays: ``SGD`` (momentum, Nesterov, weight decay),
``AdaGrad``, ``RMSProp``, ``Adam``; and the two clipping functions. The
optimizer classes call :func:`array_step` when their parameters are
Tensors; their buffers are then arrays of the parameters' shapes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_core import Tensor

__all__ = ["array_step", "clip_grad_norm", "clip_grad_value", "zero_buffers", "load_buffers"]


def zero_buffers(opt: Any) -> None:
    for b in opt._buffers:
        setattr(opt, b, [np.zeros_like(p._data) for p in opt.params])


def load_buffers(opt: Any, buffers: dict[str, list[Any]]) -> dict[str, list[np.ndarray]]:
    """Buffers from a state dict (nested lists) as arrays of the parameters'
    shapes; ValueError naming the buffer on a shape mismatch."""
    out = {}
    for b, vals in buffers.items():
        arrs = []
        for i, (v, p) in enumerate(zip(vals, opt.params)):
            try:
                a = np.array(v, dtype=float)
            except (TypeError, ValueError):
                raise ValueError(f"{type(opt).__name__}.load_state_dict: buffer {b!r}[{i}] "
                                 "is not an array of numbers") from None
            if a.shape != p.shape and a.shape != ():
                raise ValueError(f"{type(opt).__name__}.load_state_dict: buffer {b!r}[{i}] has "
                                 f"shape {a.shape}, parameter has {p.shape}")
            arrs.append(np.broadcast_to(a, p.shape).astype(p.dtype))
        out[b] = arrs
    return out


def _grad(p: Tensor) -> np.ndarray:
    g = p._grad
    if g is None:
        return np.zeros_like(p._data)
    return g._data if isinstance(g, Tensor) else g


def _safe_div(a: np.ndarray, d: np.ndarray) -> np.ndarray:
    """a / d where d != 0, else 0 (the scalar optimizers skip such updates)."""
    return np.divide(a, d, out=np.zeros_like(a), where=d != 0.0)


def array_step(opt: Any) -> None:
    """One ``step()`` of ``opt`` (an nn.optim optimizer) on Tensor parameters."""
    name = type(opt).__name__
    wd = opt.weight_decay
    opt.t += 1
    if name == "Adam":
        c1 = 1.0 - opt.rho1 ** opt.t
        c2 = 1.0 - opt.rho2 ** opt.t
    for i, p in enumerate(opt.params):
        g = _grad(p)
        if wd:
            g = g + wd * p._data
        if name == "SGD":
            if opt.momentum == 0.0:
                p._data = p._data - opt.lr * g
                continue
            v = opt.momentum * opt.v[i] - opt.lr * g
            opt.v[i] = v
            p._data = p._data + (opt.momentum * v - opt.lr * g if opt.nesterov else v)
        elif name == "AdaGrad":
            r = opt.r[i] + g * g
            opt.r[i] = r
            p._data = p._data - opt.lr * _safe_div(g, opt.eps + np.sqrt(r))
        elif name == "RMSProp":
            r = opt.rho * opt.r[i] + (1.0 - opt.rho) * g * g
            opt.r[i] = r
            p._data = p._data - opt.lr * _safe_div(g, np.sqrt(opt.eps + r))
        elif name == "Adam":
            s = opt.rho1 * opt.s[i] + (1.0 - opt.rho1) * g
            r = opt.rho2 * opt.r[i] + (1.0 - opt.rho2) * g * g
            opt.s[i], opt.r[i] = s, r
            p._data = p._data - opt.lr * _safe_div(s / c1, np.sqrt(r / c2) + opt.eps)
        else:  # pragma: no cover - a user subclass without an array step
            raise TypeError(f"{name} has no array version for Tensor parameters")


def clip_grad_norm(params: list[Tensor], max_norm: float) -> float:
    """Global-norm clipping over Tensor gradients (see nn.optim.clip_grad_norm)."""
    gs = [_grad(p) for p in params]
    total = math.sqrt(math.fsum(float(np.dot(g.ravel(), g.ravel())) for g in gs))
    if math.isfinite(total) and total > max_norm:
        scale = max_norm / total
        for p, g in zip(params, gs):
            p.grad = g * scale
    return total


def clip_grad_value(params: list[Tensor], clip: float) -> None:
    for p in params:
        p.grad = np.clip(_grad(p), -clip, clip)
