"""The Tensor backend: ``nn.MLP(..., backend="tensor")`` models
(:class:`~nn.tensor_layers.TensorModule`), one graph of arrays per mini-batch.

``nn.fit``, ``nn.evaluate``, ``nn.predict``, the optimizers and
``nn.diagnostics`` hand Tensor models (``model.backend == "tensor"``) and
Tensor parameters to :data:`TENSOR` here, an object with the interface of
:class:`nn.backends.Backend`; the scalar twin is :mod:`nn.backends.scalar`.
(The old module paths ``nn.tensor_train`` and ``nn.tensor_optim`` are this
module.)

Training: the same arguments as :func:`nn.fit`, the same shuffling
(``RandomState(seed).permutation`` per epoch, so the scalar and Tensor
versions of one MLP see the same batches), the same objective
R = (1/m) Σ C + (λ₂/2N)‖W‖² + (λ₁/N)Σ|w|, clipping, callbacks and
:class:`~nn.History`, but each mini-batch is one forward pass of arrays
(B, n) instead of B graphs of scalars.

Losses by name, on the batch output (B, n_out): ``"quadratic"``,
``"binary_cross_entropy"`` (computed from the last layer's logits when its
activation is the sigmoid: softplus(z) − y z, the same value, stable),
``"binary_cross_entropy_with_logits"``, ``"cross_entropy"`` (softmax, from
logits). A callable loss receives ``(output Tensor (B, n_out), targets
array (B, n_out))`` and returns the batch mean as a one-element Tensor.

Optimizers: the update formulas documented in :mod:`nn.optim` (the textbook
chapter's), applied to whole arrays (:func:`array_step`), and the two clipping
functions; an optimizer's buffers are then arrays of the parameters' shapes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from autograd_core import tensor as T

from .. import losses as _losses
from .. import optim as _optim
from ..diagnostics import _DYING, _SATURATING, LayerActivity, LayerGradients, LearningSpeed
from ..train import History, _is_class_target, train_loop
from . import Backend, register

__all__ = ["fit", "evaluate", "predict", "batch_loss", "LearningSpeed", "encode_targets",
           "array_step", "clip_grad_norm", "clip_grad_value", "zero_buffers", "load_buffers",
           "TensorBackend", "TENSOR"]

_LOSS_NAMES = {"quadratic", "binary_cross_entropy", "binary_cross_entropy_with_logits",
               "cross_entropy"}


def _loss_name(loss: Any) -> Any:
    if isinstance(loss, str):
        if loss not in _LOSS_NAMES:
            raise ValueError(f"unknown loss {loss!r}; use a callable or one of: "
                             f"{', '.join(sorted(_LOSS_NAMES))}")
        return loss
    for name in _LOSS_NAMES:
        if loss is getattr(_losses, name):
            return name
    if callable(loss):
        return loss
    raise ValueError(f"loss must be a name or a callable, not {loss!r}")


def _X(X: Any, nin: int, who: str, dtype: Any) -> np.ndarray:
    if isinstance(X, Tensor):
        X = X.data
    a = np.asarray(X)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{who}: X must be numeric, not dtype {a.dtype}")
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    a = a.reshape(len(a), -1)
    if a.shape[1] != nin:
        raise ValueError(f"{who}: the model takes {nin} inputs, X has {a.shape[1]} per sample")
    return a.astype(dtype, copy=False)


def encode_targets(y: Any, n: int, nout: int, who: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(targets as floats (n, nout), int labels or None): int labels are
    one-hot encoded (a single output takes the label 0/1 itself)."""
    a = np.asarray(y)
    if len(a) != n:
        raise ValueError(f"{who}: X has {n} samples but y has {len(a)}")
    if a.dtype.kind in "iu" and a.ndim == 1:
        if nout == 1:
            if np.any((a != 0) & (a != 1)):
                raise ValueError(f"{who}: a single output needs labels 0 or 1")
            return a.astype(float).reshape(n, 1), a.astype(np.int64)
        if a.size and (a.min() < 0 or a.max() >= nout):
            raise ValueError(f"{who}: labels must be in 0..{nout - 1}")
        Y = np.zeros((n, nout))
        Y[np.arange(n), a] = 1.0
        return Y, a.astype(np.int64)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{who}: y must be int labels or numbers, not dtype {a.dtype}")
    Y = a.astype(float).reshape(n, -1)
    if Y.shape[1] != nout:
        raise ValueError(f"{who}: the model has {nout} outputs but targets have {Y.shape[1]}")
    labels = None
    if all(_is_class_target(t) for t in Y):
        labels = np.argmax(Y, axis=1) if nout > 1 else Y[:, 0].astype(np.int64)
    return Y, labels


def _uses_logits(model: Any, loss: Any) -> bool:
    """binary_cross_entropy on a sigmoid output layer: computed from the logits z."""
    last = model.layers[-1] if hasattr(model, "layers") else None
    return (loss == "binary_cross_entropy" and last is not None and last.activation == "sigmoid"
            and not last.batchnorm and not last.residual)


def _output_and_loss(model: Any, X: np.ndarray, Y: np.ndarray, loss: Any) -> tuple[Tensor, Tensor]:
    """(batch output — the logits z when :func:`_uses_logits` —, mean loss over the batch)."""
    B = len(X)
    if _uses_logits(model, loss):
        z = model.logits(X)  # the loss from z (stable); accuracy from z too (σ is monotone)
        return z, T.binary_cross_entropy_with_logits(z, Y)
    out = model(X)
    return out, batch_loss(out, Y, loss, B)


def batch_loss(out: Tensor, Y: np.ndarray, loss: Any, B: int | None = None) -> Tensor:
    """The mean over the batch of the per-sample cost ``loss`` (see module doc)."""
    B = out.shape[0] if B is None else B
    if loss == "quadratic":
        d = out - Y
        return (d * d).sum() * (0.5 / B)
    if loss == "binary_cross_entropy_with_logits":
        return T.binary_cross_entropy_with_logits(out, Y)
    if loss == "cross_entropy":
        if out.shape[-1] < 2:
            raise ValueError("cross_entropy needs at least 2 outputs (logits)")
        return T.cross_entropy(out, Y)
    if loss == "binary_cross_entropy":
        if np.any((Y < 0) | (Y > 1)):
            raise ValueError("binary_cross_entropy: targets must be in [0, 1]")
        terms = _masked_log(out, Y, True) + _masked_log(out, Y, False)
        return -terms.sum() * (1.0 / B)
    r = loss(out, Y)
    if not isinstance(r, Tensor) or r.size != 1:
        raise TypeError("a callable loss on the tensor backend must return a one-element Tensor")
    return r


def _masked_log(a: Tensor, Y: np.ndarray, positive: bool) -> Tensor:
    """y ln a (positive) or (1 − y) ln(1 − a), only where the factor is non-zero."""
    w = Y if positive else 1.0 - Y
    base = a if positive else 1.0 - a
    safe = T.where(w != 0.0, base, 1.0)
    return safe.log() * w


def _penalties(weights: list[Tensor], l2: float, l1: float, n: int) -> Tensor | None:
    """(λ₂/2n) Σ‖W‖² + (λ₁/n) Σ|w| over the weight matrices (not biases)."""
    term = None
    if l2:  # one node, like the scalar l2_penalty's dot(ws, ws) * λ/2n
        term = T.sum_of_vdots([(W, W) for W in weights], l2 / (2.0 * n))
    for W in weights:
        if l1:
            t = W.sum_of("abs", None, l1 / n)
            term = t if term is None else term + t
    return term


def _checked_step(model: Any, name: Any, logits: bool, dtype: Any, Y: np.ndarray,
                  weights: list[Tensor], l2: float, l1: float, n: int) -> Any:
    """For :func:`fit`: ``f(xb, idx) -> (batch output, objective)`` building the
    same graph as :func:`_output_and_loss` plus :func:`_penalties`, with the
    model's layers, the targets and the penalty operands checked here once
    instead of on every mini-batch; None when the model is not a plain Tensor
    MLP (then each batch runs the checked functions)."""
    if not (hasattr(model, "_checked_for") and model._checked_for(dtype)):
        return None
    if l1 or any(type(W) is not Tensor for W in weights):
        return None
    ws = tuple(weights)
    l2_scale = float(l2) / (2.0 * n) if l2 else None
    forward = model._forward
    if logits:
        Yd = np.asarray(Y, dtype=dtype)  # the targets as binary_cross_entropy_with_logits takes them
        bce = T._bce_logits_unchecked

        def loss(z: Tensor, idx: np.ndarray) -> Tensor:
            return bce(z, Yd[idx], 1.0 / len(idx))
    else:
        def loss(out: Tensor, idx: np.ndarray) -> Tensor:
            return batch_loss(out, Y[idx], name, len(idx))

    def step(xb: np.ndarray, idx: np.ndarray) -> tuple[Tensor, Tensor]:
        out = forward(xb, logits)
        obj = loss(out, idx)
        if l2_scale is None:
            return out, obj
        if type(obj) is Tensor and not obj._data.ndim:  # loss + L2 term in one node
            return out, T._sum_of_squares_unchecked(ws, l2_scale, obj)
        return out, obj + T._sum_of_squares_unchecked(ws, l2_scale)

    return step


def _predict_classes(out: np.ndarray, thr: float) -> np.ndarray:
    if out.shape[1] == 1:
        return (out[:, 0] > thr).astype(np.int64)
    return np.argmax(out, axis=1)


def _threshold(loss: Any) -> float:
    return 0.0 if loss == "binary_cross_entropy_with_logits" else 0.5


def evaluate(model: Any, X: Any, y: Any, loss: Any = "quadratic", *, batch_size: int = 1000,
             threshold: float | None = None) -> tuple[float, float | None]:
    """(mean loss, accuracy) in eval mode without graphs (accuracy None when
    the targets are not classes)."""
    name = _loss_name(loss)
    Xa = _X(X, model.sizes[0], "evaluate", model.layers[0].weight.dtype)
    if not len(Xa):
        raise ValueError("evaluate: no samples")
    Y, labels = encode_targets(y, len(Xa), model.sizes[-1], "evaluate")
    was = model.training
    model.eval()
    total = 0.0
    outs = []
    try:
        with ag.no_grad():
            for s in range(0, len(Xa), batch_size):
                xb, yb = Xa[s:s + batch_size], Y[s:s + batch_size]
                out, lo = _output_and_loss(model, xb, yb, name)
                total += float(lo.data) * len(xb)
                outs.append(out.data)
        logit_scores = _uses_logits(model, name)
    finally:
        model.train(was)
    acc = None
    if labels is not None:
        thr = _threshold(name) if threshold is None else threshold
        scores = np.concatenate(outs)
        if logit_scores:  # compare probabilities σ(z) with the threshold
            scores = 1.0 / (1.0 + np.exp(-scores))
        acc = float(np.mean(_predict_classes(scores, thr) == labels))
    return total / len(Xa), acc


def predict(model: Any, X: Any, *, batch_size: int = 1000) -> np.ndarray:
    """Model outputs (n, n_out) as a float array, eval mode, no graphs."""
    Xa = _X(X, model.sizes[0], "predict", model.layers[0].weight.dtype)
    was = model.training
    model.eval()
    try:
        with ag.no_grad():
            return np.concatenate([model(Xa[s:s + batch_size]).data
                                   for s in range(0, len(Xa), batch_size)]) if len(Xa) else \
                np.zeros((0, model.sizes[-1]))
    finally:
        model.train(was)


def fit(model: Any, X: Any, y: Any, *, loss: Any, optimizer: Any, epochs: int, batch_size: int,
        l2: float = 0.0, l1: float = 0.0, clip: tuple[float | None, float | None] = (None, None),
        validation: Any = None, callbacks: Sequence[Any] = (), progress: bool = True,
        seed: int | None = None) -> History:
    """:func:`nn.fit` for Tensor models (arguments already checked by nn.fit;
    ``clip`` is its parsed ``(max_norm, max_value)``). A plain Tensor MLP is
    checked once here and each mini-batch then builds the same graph without
    re-checking (:func:`_checked_step`); other models are checked every batch."""
    name = _loss_name(loss)
    dtype = model.layers[0].weight.dtype
    Xa = _X(X, model.sizes[0], "fit", dtype)
    n = len(Xa)
    if not n:
        raise ValueError("fit: no training samples")
    Y, labels = encode_targets(y, n, model.sizes[-1], "fit")
    params = model.parameters()
    weights = model.weights()
    opt = _optim.get(optimizer, params)
    if validation is not None:
        val_X, val_y = validation
    thr = _threshold(name)
    logits = _uses_logits(model, name)
    if logits:  # batch outputs are logits: σ(z) > 0.5 ⇔ z > 0
        thr = 0.0
    step = _checked_step(model, name, logits, dtype, Y, weights, l2, l1, n)

    def batch(idx: np.ndarray) -> tuple[float, int | None]:
        for p in params:
            p._grad = None
        if step is not None:
            out, obj = step(Xa[idx], idx)
        else:
            xb, yb = Xa[idx], Y[idx]
            out, obj = _output_and_loss(model, xb, yb, name)
            pen = _penalties(weights, l2, l1, n) if (l2 or l1) else None
            if pen is not None:
                obj = obj + pen
        obj.backward()
        if labels is None:
            return float(obj._data), None
        o = out._data
        pred = (o[:, 0] > thr) if o.shape[1] == 1 else o.argmax(axis=1)  # as _predict_classes
        return float(obj._data), int((pred == labels[idx]).sum())

    validate = None if validation is None else (
        lambda: evaluate(model, val_X, val_y, name, threshold=_threshold(name)))
    return train_loop(model, n, batch, params=params, optimizer=opt, epochs=epochs,
                      batch_size=batch_size, clip=clip, callbacks=callbacks,
                      progress=progress, seed=seed, validate=validate)


# ------------------------------------------------------------------ optimizers

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


def _minus(a: np.ndarray, d: Any) -> np.ndarray:
    """``a - d`` as a new array, written into ``d`` when ``d`` is a temporary
    array of the result's shape and dtype (one allocation fewer)."""
    if type(d) is np.ndarray and d.shape == a.shape and d.dtype == a.dtype:
        return np.subtract(a, d, out=d)
    return a - d


def array_step(opt: Any) -> None:
    """One ``step()`` of ``opt`` (an nn.optim optimizer) on Tensor parameters."""
    name = type(opt).__name__
    wd = opt.weight_decay
    opt.t += 1
    if name == "SGD" and opt.momentum == 0.0:  # plain SGD (the common case): p - lr g
        lr = opt.lr
        for p in opt.params:
            g = p._grad
            if type(g) is not np.ndarray:
                g = _grad(p)
            if wd:
                g = g + wd * p._data
            d, t = p._data, lr * g
            if type(t) is np.ndarray and t.shape == d.shape and t.dtype == d.dtype:
                p._data = np.subtract(d, t, out=t)  # _minus, inlined
            else:
                p._data = d - t
        return
    if name == "Adam":
        c1 = 1.0 - opt.rho1 ** opt.t
        c2 = 1.0 - opt.rho2 ** opt.t
    for i, p in enumerate(opt.params):
        g = _grad(p)
        if wd:
            g = g + wd * p._data
        if name == "SGD":
            v = opt.momentum * opt.v[i] - opt.lr * g
            opt.v[i] = v
            p._data = p._data + (opt.momentum * v - opt.lr * g if opt.nesterov else v)
        elif name == "AdaGrad":
            r = opt.r[i] + g * g
            opt.r[i] = r
            p._data = _minus(p._data, opt.lr * _safe_div(g, opt.eps + np.sqrt(r)))
        elif name == "RMSProp":
            r = opt.rho * opt.r[i] + (1.0 - opt.rho) * g * g
            opt.r[i] = r
            p._data = _minus(p._data, opt.lr * _safe_div(g, np.sqrt(opt.eps + r)))
        elif name == "Adam":
            s = opt.rho1 * opt.s[i] + (1.0 - opt.rho1) * g
            r = opt.rho2 * opt.r[i] + (1.0 - opt.rho2) * g * g
            opt.s[i], opt.r[i] = s, r
            p._data = _minus(p._data, opt.lr * _safe_div(s / c1, np.sqrt(r / c2) + opt.eps))
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


# ------------------------------------------------------------------ diagnostics

def bias_params(layer: Any) -> list[Any]:
    """A Tensor layer's bias vector (BatchNorm's shift β when it has one), as a one-item list."""
    return [layer.bn.beta if layer.batchnorm else layer.bias]


def weight_params(layer: Any) -> list[Any]:
    """A Tensor layer's weight matrix (row j = neuron j), as a one-item list."""
    return [layer.weight]


def bias_gradient_norms(model: Any) -> list[float]:
    """‖∂C/∂b‖ per layer of a Tensor MLP from its biases' ``.grad``."""
    out = []
    for layer in model.layers:
        g = layer.bias.grad
        out.append(float(np.linalg.norm(g.data if isinstance(g, Tensor) else g)))
    return out


def model_layers(model: Any) -> list[tuple[str, Any]]:
    """The :class:`~nn.Linear` layers of a Tensor MLP with their paths."""
    layers = getattr(model, "layers", None)
    if not layers:
        raise ValueError(f"{type(model).__name__} has no layers to diagnose")
    return [(f"layers.{i}", layer) for i, layer in enumerate(layers)]


def layer_gradients(model: Any, layers: list[tuple[str, Any]], X: Any, y: Any,
                    loss: Any, chunk_size: int = 100) -> LayerGradients:
    """:func:`layer_gradients` of a Tensor MLP: the same C, the mean over the
    examples of the loss, differentiated on one batch graph."""
    Xa = _X(X, model.sizes[0], "layer_gradients", model.layers[0].weight.dtype)
    if len(Xa) == 0:
        raise ValueError("need at least one example")
    Y, _ = encode_targets(y, len(Xa), model.sizes[-1], "layer_gradients")
    bparams = [bias_params(layer)[0] for _, layer in layers]
    wparams = [weight_params(layer)[0] for _, layer in layers]
    saved = [(m, m._running_mean.copy(), m._running_var.copy())
             for _, m in model.named_modules() if hasattr(m, "_running_mean")]
    try:
        with ag.enable_grad():
            _, obj = _output_and_loss(model, Xa, Y, _loss_name(loss))
            grads = T.gradients(obj, bparams + wparams)
    finally:
        for m, mean, var in saved:  # measuring must not move BatchNorm's running averages
            m._running_mean, m._running_var = mean, var
    k = len(bparams)
    return LayerGradients([name for name, _ in layers],
                          [np.ravel(g).astype(float).tolist() for g in grads[:k]],
                          [np.asarray(g, dtype=float).tolist() for g in grads[k:]],
                          float(obj.data))


def activation_stats(model: Any, X: Any, threshold: float,
                       include_output: bool) -> list[LayerActivity]:
    """:func:`activation_stats` of a Tensor MLP: z of each layer read from its
    forward graph (the node feeding the activation), per unit and example."""
    Xa = _X(X, model.sizes[0], "activation_stats", model.layers[0].weight.dtype)
    if len(Xa) == 0:
        raise ValueError("need at least one example")
    layers = model_layers(model)
    if not include_output:
        layers = layers[:-1]
    saved = [(m, m._running_mean.copy(), m._running_var.copy())
             for _, m in model.named_modules() if hasattr(m, "_running_mean")]
    out = []
    try:
        with ag.no_grad():
            a = T.Tensor(Xa)
            for name, layer in layers:
                z = T.linear(a, layer.weight, layer.bias)
                if layer.batchnorm:
                    z = layer.bn(z)
                act = layer._activate(z)
                kind = layer.activation if isinstance(layer.activation, str) else "custom"
                zs = np.asarray(z.data, dtype=float)
                sat = dead = None
                if kind in _SATURATING:
                    sat = float(np.mean(np.abs(zs) > threshold))
                if kind in _DYING:
                    dead = float(np.mean(np.all(zs <= 0.0, axis=0)))
                out.append(LayerActivity(name, kind, layer.nout, sat, dead))
                a = act + a if layer.residual else act
    finally:
        for m, mean, var in saved:  # measuring must not move BatchNorm's running averages
            m._running_mean, m._running_var = mean, var
    return out


# ------------------------------------------------------------------ monitor


# ------------------------------------------------------------------ the backend object

class TensorBackend(Backend):
    """:class:`~nn.backends.Backend` for Tensor models: the functions of this module."""

    name = "tensor"
    param_type = Tensor
    fit = staticmethod(fit)
    evaluate = staticmethod(evaluate)
    predict = staticmethod(predict)
    zero_buffers = staticmethod(zero_buffers)
    load_buffers = staticmethod(load_buffers)
    optimizer_step = staticmethod(array_step)
    clip_grad_norm = staticmethod(clip_grad_norm)
    clip_grad_value = staticmethod(clip_grad_value)
    model_layers = staticmethod(model_layers)
    layer_gradients = staticmethod(layer_gradients)
    activation_stats = staticmethod(activation_stats)
    bias_params = staticmethod(bias_params)
    weight_params = staticmethod(weight_params)
    bias_gradient_norms = staticmethod(bias_gradient_norms)


#: the Tensor backend object
TENSOR = register(TensorBackend())
