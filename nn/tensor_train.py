"""``nn.fit`` / ``nn.evaluate`` / ``nn.predict`` for Tensor-backed models.

:func:`nn.fit` hands a model with ``_tensor_backend`` to :func:`fit` here:
the same arguments, the same shuffling (``RandomState(seed).permutation`` per
epoch, so the scalar and Tensor versions of one MLP see the same batches),
the same objective R = (1/m) Σ C + (λ₂/2N)‖W‖² + (λ₁/N)Σ|w|, clipping,
callbacks and :class:`~nn.History`, but each mini-batch is one forward pass
of arrays (B, n) instead of B graphs of scalars.

Losses by name, on the batch output (B, n_out): ``"quadratic"``,
``"binary_cross_entropy"`` (computed from the last layer's logits when its
activation is the sigmoid: softplus(z) − y z, the same value, stable),
``"binary_cross_entropy_with_logits"``, ``"cross_entropy"`` (softmax, from
logits). A callable loss receives ``(output Tensor (B, n_out), targets
array (B, n_out))`` and returns the batch mean as a one-element Tensor.
"""

from __future__ import annotations

import math
import types as _types
from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from autograd_core import tensor as T

from . import losses as _losses
from . import optim as _optim
from .train import BACKENDS, History, _is_class_target, train_loop

__all__ = ["fit", "evaluate", "predict", "batch_loss", "LearningSpeed", "encode_targets"]

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
    ``clip`` is its parsed ``(max_norm, max_value)``)."""
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
    if _uses_logits(model, name):  # batch outputs are logits: σ(z) > 0.5 ⇔ z > 0
        thr = 0.0

    def batch(idx: np.ndarray) -> tuple[float, int | None]:
        xb, yb = Xa[idx], Y[idx]
        for p in params:
            p._grad = None
        out, obj = _output_and_loss(model, xb, yb, name)
        pen = _penalties(weights, l2, l1, n) if (l2 or l1) else None
        if pen is not None:
            obj = obj + pen
        obj.backward()
        right = None if labels is None else int(np.sum(_predict_classes(out.data, thr) == labels[idx]))
        return float(obj.data), right

    validate = None if validation is None else (
        lambda: evaluate(model, val_X, val_y, name, threshold=_threshold(name)))
    return train_loop(model, n, batch, params=params, optimizer=opt, epochs=epochs,
                      batch_size=batch_size, clip=clip, callbacks=callbacks,
                      progress=progress, seed=seed, validate=validate)


class LearningSpeed:
    """The textbook chapter's learning-speed monitor as a ``fit`` callback: after every
    backward pass, ‖∂C/∂b^l‖ (the norm of layer l's bias-gradient vector, the
    length of the textbook chapter's bars) for each layer; ``speeds[epoch][l]`` is its
    mean over the epoch's mini-batches. Works on scalar and Tensor MLPs."""

    def __init__(self) -> None:
        self.speeds: list[list[float]] = []
        self._acc: list[float] = []
        self._count = 0

    @staticmethod
    def bias_gradient_norms(model: Any) -> list[float]:
        out = []
        for layer in model.layers:
            if hasattr(layer, "bias"):  # Tensor layer
                g = layer.bias.grad
                g = g.data if isinstance(g, Tensor) else g
                out.append(float(np.linalg.norm(g)))
            else:  # scalar Layer: its neurons' bias Values
                out.append(math.sqrt(math.fsum(float(nr.b.grad) ** 2 for nr in layer.neurons)))
        return out

    def on_epoch_begin(self, epoch: int, model: Any, history: Any) -> None:
        self._acc = [0.0] * len(model.layers)
        self._count = 0

    def on_after_backward(self, epoch: int, batch: int, model: Any, history: Any) -> None:
        for i, v in enumerate(self.bias_gradient_norms(model)):
            self._acc[i] += v
        self._count += 1

    def on_epoch_end(self, epoch: int, model: Any, history: Any) -> None:
        c = max(self._count, 1)
        self.speeds.append([a / c for a in self._acc])


BACKENDS["tensor"] = _types.SimpleNamespace(fit=fit, evaluate=evaluate, predict=predict)
