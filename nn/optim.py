"""Optimizers (``nn.optim``) with the textbook chapter's update formulas, and gradient clipping.

For every parameter θ with gradient g (``θ.grad``; with ``weight_decay`` λ,
g ← g + λθ first), one ``step()`` does:

* ``SGD``:       v ← αv − εg,  θ ← θ + v   (α = momentum; α = 0 is plain θ ← θ − εg).
  Nesterov:     v ← αv − εg,  θ ← θ + αv − εg  (the look-ahead form that needs
  only the gradient at θ; equal to PyTorch's ``nesterov=True`` for constant ε).
* ``AdaGrad``:   r ← r + g²,  θ ← θ − ε g / (δ + √r).
* ``RMSProp``:   r ← ρr + (1 − ρ)g²,  θ ← θ − ε g / √(δ + r).
* ``Adam``:      t ← t + 1, s ← ρ₁s + (1 − ρ₁)g, r ← ρ₂r + (1 − ρ₂)g²,
  ŝ = s / (1 − ρ₁ᵗ), r̂ = r / (1 − ρ₂ᵗ),  θ ← θ − ε ŝ / (√r̂ + δ).
  (The textbook chapter's slide misprints the last line as ε ŝ/√s · g.)

ε is ``lr``, δ is ``eps``. Parameters are changed with ``Value.assign``.
``state_dict()`` returns plain JSON-able data (hyper-parameters, step count,
per-parameter buffers); ``load_state_dict`` checks the type and sizes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from autograd_core import Value

from .backends import backend_of_params

__all__ = ["Optimizer", "SGD", "AdaGrad", "RMSProp", "Adam", "clip_grad_norm", "clip_grad_value",
           "get"]


def _grad(p: Value) -> float:
    g = p.grad
    if type(g) is float:
        return g
    if isinstance(g, Value):
        return g.data
    return float(g)


def _positive(x: Any, what: str, allow_zero: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) \
            or x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{what} must be a {'non-negative' if allow_zero else 'positive'} "
                         f"finite number, got {x!r}")
    return float(x)


class Optimizer:
    """Base class. ``params``: the parameters (e.g. ``model.parameters()``)."""

    _buffers: tuple[str, ...] = ()
    _hyper: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        ps = list(params)
        if not ps:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        # the backend of the parameters (nn.backends) holds the buffers and does the step;
        # TypeError for a parameter of no backend or a mix of backends
        self._backend = backend_of_params(ps, type(self).__name__)
        for i, p in enumerate(ps):
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: parameter {i} ({p.label or p.op}) is not "
                                 "a leaf; only leaves can be updated")
        self.params = ps
        self.lr = _positive(lr, "lr")
        self.t = 0
        self._backend.zero_buffers(self)  # zeros: floats for Values, arrays for Tensors

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """One update of every parameter (the formula of the class, on Values
        or on whole arrays by the parameters' backend)."""
        self._backend.optimizer_step(self)

    def _scalar_step(self) -> None:  # pragma: no cover - abstract
        """The update on Value parameters (each optimizer class defines it)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Type, hyper-parameters, step count and buffers as plain data."""
        return {"type": type(self).__name__, "n_params": len(self.params), "t": self.t,
                "hyper": {h: getattr(self, h) for h in ("lr",) + self._hyper},
                "buffers": {b: [v.tolist() if hasattr(v, "tolist") else v  # arrays: Tensor params
                              for v in getattr(self, b)] for b in self._buffers}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; ValueError on a mismatch
        (other optimizer type, other number of parameters, missing buffers)."""
        name = type(self).__name__
        if not isinstance(state, dict):
            raise TypeError(f"{name}.load_state_dict needs a dict, not {type(state).__name__}")
        if state.get("type") != name:
            raise ValueError(f"{name}.load_state_dict: state is for {state.get('type')!r}, not {name!r}")
        if state.get("n_params") != len(self.params):
            raise ValueError(f"{name}.load_state_dict: state has {state.get('n_params')} parameters, "
                             f"this optimizer has {len(self.params)}")
        hyper, buffers = state.get("hyper"), state.get("buffers")
        if not isinstance(hyper, dict) or not isinstance(buffers, dict):
            raise ValueError(f"{name}.load_state_dict: 'hyper' and 'buffers' must be objects")
        want_h = ("lr",) + self._hyper
        if sorted(hyper) != sorted(want_h):
            raise ValueError(f"{name}.load_state_dict: hyper-parameters {sorted(hyper)}, "
                             f"expected {sorted(want_h)}")
        if sorted(buffers) != sorted(self._buffers):
            raise ValueError(f"{name}.load_state_dict: buffers {sorted(buffers)}, "
                             f"expected {sorted(self._buffers)}")
        for b, vals in buffers.items():
            if not isinstance(vals, list) or len(vals) != len(self.params):
                raise ValueError(f"{name}.load_state_dict: buffer {b!r} must be a list of "
                                 f"{len(self.params)} numbers")
        t = state.get("t")
        if isinstance(t, bool) or not isinstance(t, int) or t < 0:
            raise ValueError(f"{name}.load_state_dict: step count t must be an int >= 0, got {t!r}")
        new_buffers = self._backend.load_buffers(self, buffers)  # floats, or arrays for Tensors
        for h, v in hyper.items():
            setattr(self, h, v)
        for b, vals in new_buffers.items():
            setattr(self, b, vals)
        self.t = t

    def __repr__(self) -> str:
        hp = ", ".join(f"{h}={getattr(self, h)}" for h in ("lr",) + self._hyper)
        return f"{type(self).__name__}({len(self.params)} params, {hp})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (v ← αv − εg, θ ← θ + v),
    Nesterov momentum and weight decay."""

    _buffers = ("v",)
    _hyper = ("momentum", "nesterov", "weight_decay")

    def __init__(self, params: Iterable[Value], lr: float = 0.1, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _positive(momentum, "momentum", allow_zero=True)
        if self.momentum >= 1.0:
            raise ValueError(f"momentum must be < 1, got {momentum}")
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs a momentum > 0")
        self.nesterov = bool(nesterov)
        self.weight_decay = _positive(weight_decay, "weight_decay", allow_zero=True)

    def _scalar_step(self) -> None:
        lr, a, wd = self.lr, self.momentum, self.weight_decay
        v = self.v
        self.t += 1
        for i, p in enumerate(self.params):
            g = _grad(p)
            if wd:
                g += wd * p._data
            if a == 0.0:
                p.assign(p._data - lr * g)
                continue
            vi = a * v[i] - lr * g
            v[i] = vi
            p.assign(p._data + (a * vi - lr * g if self.nesterov else vi))


class AdaGrad(Optimizer):
    """r ← r + g², θ ← θ − ε g / (δ + √r)."""

    _buffers = ("r",)
    _hyper = ("eps", "weight_decay")

    def __init__(self, params: Iterable[Value], lr: float = 0.01, eps: float = 1e-7,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.eps = _positive(eps, "eps", allow_zero=True)
        self.weight_decay = _positive(weight_decay, "weight_decay", allow_zero=True)

    def _scalar_step(self) -> None:
        lr, eps, wd, r = self.lr, self.eps, self.weight_decay, self.r
        self.t += 1
        for i, p in enumerate(self.params):
            g = _grad(p)
            if wd:
                g += wd * p._data
            ri = r[i] + g * g
            r[i] = ri
            denom = eps + math.sqrt(ri)
            if denom != 0.0:
                p.assign(p._data - lr * g / denom)


class RMSProp(Optimizer):
    """r ← ρr + (1 − ρ)g², θ ← θ − ε g / √(δ + r)."""

    _buffers = ("r",)
    _hyper = ("rho", "eps", "weight_decay")

    def __init__(self, params: Iterable[Value], lr: float = 0.001, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.rho = _positive(rho, "rho", allow_zero=True)
        if self.rho >= 1.0:
            raise ValueError(f"rho must be < 1, got {rho}")
        self.eps = _positive(eps, "eps", allow_zero=True)
        self.weight_decay = _positive(weight_decay, "weight_decay", allow_zero=True)

    def _scalar_step(self) -> None:
        lr, rho, eps, wd, r = self.lr, self.rho, self.eps, self.weight_decay, self.r
        self.t += 1
        for i, p in enumerate(self.params):
            g = _grad(p)
            if wd:
                g += wd * p._data
            ri = rho * r[i] + (1.0 - rho) * g * g
            r[i] = ri
            denom = math.sqrt(eps + ri)
            if denom != 0.0:
                p.assign(p._data - lr * g / denom)


class Adam(Optimizer):
    """Adam with bias correction: θ ← θ − ε ŝ / (√r̂ + δ)."""

    _buffers = ("s", "r")
    _hyper = ("rho1", "rho2", "eps", "weight_decay")

    def __init__(self, params: Iterable[Value], lr: float = 0.001, rho1: float = 0.9,
                 rho2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        for name, v in (("rho1", rho1), ("rho2", rho2)):
            if _positive(v, name, allow_zero=True) >= 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {v}")
        self.rho1, self.rho2 = float(rho1), float(rho2)
        self.eps = _positive(eps, "eps", allow_zero=True)
        self.weight_decay = _positive(weight_decay, "weight_decay", allow_zero=True)

    def _scalar_step(self) -> None:
        lr, r1, r2, eps, wd = self.lr, self.rho1, self.rho2, self.eps, self.weight_decay
        s, r = self.s, self.r
        self.t += 1
        c1 = 1.0 - r1 ** self.t
        c2 = 1.0 - r2 ** self.t
        for i, p in enumerate(self.params):
            g = _grad(p)
            if wd:
                g += wd * p._data
            si = r1 * s[i] + (1.0 - r1) * g
            ri = r2 * r[i] + (1.0 - r2) * g * g
            s[i], r[i] = si, ri
            denom = math.sqrt(ri / c2) + eps
            if denom != 0.0:
                p.assign(p._data - lr * (si / c1) / denom)


_OPTIMIZERS = {"sgd": SGD, "adagrad": AdaGrad, "rmsprop": RMSProp, "adam": Adam}


def get(optimizer: Any, params: list[Value]) -> Optimizer:
    """An optimizer instance, or a name (``"sgd"``, ``"adagrad"``, ``"rmsprop"``,
    ``"adam"``) built on ``params`` with its default hyper-parameters."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in _OPTIMIZERS:
        return _OPTIMIZERS[optimizer.lower()](params)
    raise ValueError(f"optimizer must be an Optimizer or one of {', '.join(_OPTIMIZERS)}; "
                     f"got {optimizer!r}")


def clip_grad_norm(params: Iterable[Value], max_norm: float) -> float:
    """Scale all gradients by max_norm / ‖g‖ when the global norm ‖g‖ (over
    all parameters) exceeds ``max_norm``. Returns ‖g‖ before clipping. A
    non-finite norm is returned and the gradients are left unchanged."""
    max_norm = _positive(max_norm, "max_norm")
    ps = list(params)
    return backend_of_params(ps, "clip_grad_norm").clip_grad_norm(ps, max_norm)


def clip_grad_value(params: Iterable[Value], clip: float) -> None:
    """Clamp every gradient to [−clip, clip]."""
    clip = _positive(clip, "clip")
    params = list(params)
    backend_of_params(params, "clip_grad_value").clip_grad_value(params, clip)
