"""The training loop ``nn.fit``, its ``History`` and the callback protocol.

Callback protocol
-----------------
A callback is any object with some of these methods (missing ones are
skipped; :class:`Callback` has them all as no-ops to subclass). ``epoch`` and
``batch`` count from 0.

``on_train_begin(model, history)``
    once, before the first epoch.
``on_epoch_begin(epoch, model, history)``
    before each epoch's first mini-batch.
``on_after_backward(epoch, batch, model, history)``
    after the mini-batch's ``backward()`` (and clipping), **before** the
    optimizer step: every parameter's ``.grad`` holds the gradient of this
    batch's objective at the current parameters. (A gradient monitor
    measuring per-layer speeds hooks in here.)
``on_batch_end(epoch, batch, model, history, logs)``
    after the optimizer step. ``.grad`` still holds this batch's gradients
    (they are zeroed at the start of the next batch). ``logs`` is a dict with
    ``loss`` (the batch objective incl. regularisation), ``size`` and,
    when clipping by norm, ``grad_norm`` (before clipping).
``on_epoch_end(epoch, model, history)``
    after the epoch's numbers (and validation) are appended to ``history``.
``on_train_end(model, history)``
    once, at the end (also after an early stop).

Setting ``history.stop_training = True`` in any hook ends training after the
current epoch. A plain function is taken as ``on_epoch_end``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import losses as _losses
from . import optim as _optim
from . import backends as _backends
from .backends import backend_of
from .init import make_rng
from .module import Module

#: the backend objects by name (the same dict as nn.backends.BACKENDS; their
#: modules register them, so that this module imports neither)
BACKENDS = _backends.BACKENDS

__all__ = ["fit", "History", "Callback", "evaluate", "predict"]


class Callback:
    """Base class with every hook of the protocol as a no-op."""

    def on_train_begin(self, model: Module, history: History) -> None: ...
    def on_epoch_begin(self, epoch: int, model: Module, history: History) -> None: ...
    def on_after_backward(self, epoch: int, batch: int, model: Module, history: History) -> None: ...
    def on_batch_end(self, epoch: int, batch: int, model: Module, history: History,
                     logs: dict[str, Any]) -> None: ...
    def on_epoch_end(self, epoch: int, model: Module, history: History) -> None: ...
    def on_train_end(self, model: Module, history: History) -> None: ...


class History:
    """Per-epoch numbers of a ``fit`` run.

    ``loss`` (mean training objective over the epoch's mini-batches, weighted
    by batch size, incl. regularisation), ``accuracy`` (training accuracy of
    the predictions made during the epoch; ``None`` for non-class targets),
    ``val_loss``/``val_accuracy`` (after each epoch, eval mode, no
    regularisation) when ``validation`` is given, ``batch_loss`` (every
    mini-batch), and ``epochs`` run. ``history["loss"]`` works too."""

    def __init__(self) -> None:
        self.epochs = 0
        self.loss: list[float] = []
        self.accuracy: list[float | None] = []
        self.val_loss: list[float] = []
        self.val_accuracy: list[float | None] = []
        self.batch_loss: list[float] = []
        self.stop_training = False

    def __getitem__(self, key: str) -> list[Any]:
        if key not in ("loss", "accuracy", "val_loss", "val_accuracy", "batch_loss"):
            raise KeyError(key)
        return getattr(self, key)

    def to_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "loss": list(self.loss), "accuracy": list(self.accuracy),
                "val_loss": list(self.val_loss), "val_accuracy": list(self.val_accuracy)}

    def __repr__(self) -> str:
        last = f", loss={self.loss[-1]:.4g}" if self.loss else ""
        acc = f", accuracy={self.accuracy[-1]:.4g}" if self.accuracy and self.accuracy[-1] is not None else ""
        return f"History(epochs={self.epochs}{last}{acc})"


_HOOKS = ("on_train_begin", "on_epoch_begin", "on_after_backward", "on_batch_end",
          "on_epoch_end", "on_train_end")


def _hooks(callbacks: Sequence[Any]) -> dict[str, list[Callable[..., Any]]]:
    table: dict[str, list[Callable[..., Any]]] = {h: [] for h in _HOOKS}
    for i, cb in enumerate(callbacks):
        found = False
        for h in _HOOKS:
            f = getattr(cb, h, None)
            if callable(f):
                table[h].append(f)
                found = True
        if not found:
            if callable(cb):
                table["on_epoch_end"].append(cb)
            else:
                raise TypeError(f"callback {i} ({type(cb).__name__}) has none of the hooks "
                                f"{', '.join(_HOOKS)} and is not callable")
    return table


def _check_finite(data: Any, who: str, what: str) -> None:
    """ValueError naming the first sample of ``data`` (X or y) that holds nan
    or ±inf: one such number makes every weight nan after the first step (or
    a prediction nan), silently. Data that is not a rectangular array of
    numbers is left to the backends' own checks."""
    if data is None:
        return
    try:
        arr = np.asarray(getattr(data, "data", data), dtype=float)
    except (TypeError, ValueError):
        return
    if arr.ndim == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(arr, axis=None)  # nan or inf anywhere: not finite (and no
    if np.isfinite(total):                     # boolean array as big as the data)
        return
    found = np.argwhere(~np.isfinite(arr.reshape(len(arr), -1)))
    if not len(found):
        return  # finite numbers whose sum overflowed
    bad = found[0]
    value = arr.reshape(len(arr), -1)[bad[0], bad[1]]
    raise ValueError(f"{who}: {what} sample {int(bad[0])} holds {value} (not a finite number); "
                     "remove or impute it first")


def _rows(X: Any, who: str) -> list[Any]:
    if isinstance(X, np.ndarray):
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        if X.dtype.kind not in "iuf":
            raise TypeError(f"{who}: X must be numeric, not dtype {X.dtype}")
        return [tuple(r) for r in X.reshape(len(X), -1).astype(float).tolist()]
    if not isinstance(X, (list, tuple)):
        raise TypeError(f"{who}: X must be an array or a list of samples, not {type(X).__name__}")
    return list(X)


def _targets(y: Any, n: int, who: str) -> list[Any]:
    if isinstance(y, np.ndarray):
        y = [int(v) if y.dtype.kind in "iu" else v for v in (y.tolist() if y.ndim == 1 else list(y))]
    if not isinstance(y, (list, tuple)):
        raise TypeError(f"{who}: y must be an array or a list, not {type(y).__name__}")
    if len(y) != n:
        raise ValueError(f"{who}: X has {n} samples but y has {len(y)}")
    return list(y)


def _is_class_target(t: Any) -> bool:
    """An int label, a single 0/1 target, or a one-hot vector."""
    if isinstance(t, (int, np.integer)) and not isinstance(t, bool):
        return True
    try:
        arr = np.asarray(t, dtype=float).ravel()
    except (TypeError, ValueError):
        return False
    if arr.size == 1:
        return bool(arr[0] in (0.0, 1.0))
    return bool(np.all((arr == 0.0) | (arr == 1.0)) and arr.sum() == 1.0)


def _threshold(loss: Any) -> float:
    return 0.0 if loss in ("binary_cross_entropy_with_logits",
                           _losses.binary_cross_entropy_with_logits) else 0.5


def evaluate(model: Module, X: Any, y: Any, loss: Any = "quadratic", *, batch_size: int = 256,
             threshold: float | None = None) -> tuple[float, float | None]:
    """(mean loss, accuracy) of ``model`` on ``(X, y)`` in eval mode; accuracy
    is ``None`` when the targets are not classes. (Graphs are built per batch
    and dropped at once: the stable cross-entropy of a saturated sigmoid
    output needs to see the sigmoid's logit.)"""
    _check_finite(X, "evaluate", "X")
    _check_finite(y, "evaluate", "y")
    return backend_of(model, "evaluate").evaluate(model, X, y, loss, batch_size=batch_size, threshold=threshold)


def predict(model: Module, X: Any, *, batch_size: int = 256) -> np.ndarray:
    """Model outputs as a float array (n, n_outputs), eval mode, no graphs."""
    _check_finite(X, "predict", "X")
    return backend_of(model, "predict").predict(model, X, batch_size=batch_size)


def fit(model: Module, X: Any, y: Any, *, loss: Any, optimizer: Any, epochs: int, batch_size: int,
        l2: float = 0.0, l1: float = 0.0, clip: Any = None, validation: Any = None,
        callbacks: Sequence[Any] = (), progress: bool = True, seed: int | None = None) -> History:
    """Train ``model`` with mini-batch gradient descent; returns a :class:`History`.

    Each epoch shuffles the samples (``RandomState(seed)``, reproducible),
    and for each mini-batch of ``batch_size``: zero the gradients, build the
    objective R = (1/m) Σ C(model(x), y) + (λ₂/2N)‖W‖² + (λ₁/N)Σ|w| (N =
    ``len(X)``, W the weights only), ``backward()``, clip (``clip`` a number:
    :func:`clip_grad_norm` with that max norm; ``{"norm": c}`` or
    ``{"value": c}``), then ``optimizer.step()``. ``loss`` is a name
    (``"quadratic"``, ``"binary_cross_entropy"``, ``"cross_entropy"``, ...) or
    a callable ``f(output, target) -> Value``; ``optimizer`` an instance from
    :mod:`nn.optim` or a name (default hyper-parameters). ``validation`` is
    ``(X_val, y_val)``. A tqdm bar is shown only when ``progress`` and stderr
    is a terminal. See the module docstring for the callback protocol."""
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be an nn.Module, not {type(model).__name__}")
    for name, v in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"fit: {name} must be a positive int, got {v!r}")
    for name, v in (("l2", l2), ("l1", l1)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
            raise ValueError(f"fit: {name} must be a number >= 0, got {v!r}")
    clip_norm = clip_value = None
    if clip is not None:
        if isinstance(clip, dict) and len(clip) == 1 and next(iter(clip)) in ("norm", "value"):
            (kind, c), = clip.items()
            clip_norm, clip_value = (c, None) if kind == "norm" else (None, c)
        elif isinstance(clip, (int, float)) and not isinstance(clip, bool):
            clip_norm = clip
        else:
            raise ValueError(f"fit: clip must be a number (max norm), {{'norm': c}} or {{'value': c}}, got {clip!r}")
        c = clip_norm if clip_norm is not None else clip_value
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not c > 0:
            raise ValueError(f"fit: clip threshold must be a positive number, got {c!r}")
    if validation is not None and not (isinstance(validation, (tuple, list)) and len(validation) == 2):
        raise ValueError("fit: validation must be a pair (X_val, y_val)")
    _check_finite(X, "fit", "X")
    _check_finite(y, "fit", "y")
    if validation is not None:
        _check_finite(validation[0], "fit", "validation X")
        _check_finite(validation[1], "fit", "validation y")
    return backend_of(model, "fit").fit(model, X, y, loss=loss, optimizer=optimizer, epochs=int(epochs),
                                        batch_size=int(batch_size), l2=l2, l1=l1, clip=(clip_norm, clip_value),
                                        validation=validation, callbacks=callbacks, progress=progress, seed=seed)


def train_loop(model: Any, n: int, batch: Callable[[np.ndarray], tuple[float, int | None]], *,
               params: list[Any], optimizer: Any, epochs: int, batch_size: int,
               clip: tuple[float | None, float | None], callbacks: Sequence[Any], progress: bool,
               seed: Any, validate: Callable[[], tuple[float, float | None]] | None) -> History:
    """The one training loop behind :func:`fit` (scalar and Tensor models).

    Each epoch shuffles ``range(n)`` with the seeded generator and walks it in
    mini-batches; ``batch(indices)`` zeroes the gradients, runs the forward
    pass and ``backward`` and returns (batch loss, number classified right or
    None). The loop then clips (``clip = (max_norm, max_value)``), calls the
    ``on_after_backward`` hooks, steps the optimizer, and keeps the history,
    the callbacks and the progress bar."""
    clip_norm, clip_value = clip
    hooks = _hooks(callbacks)
    rng = make_rng(seed)
    history = History()
    bar = None
    if progress and hasattr(sys.stderr, "isatty") and sys.stderr.isatty():
        from tqdm import tqdm
        bar = tqdm(total=epochs * math.ceil(n / batch_size), unit="batch", leave=False)
    model.train()
    for f in hooks["on_train_begin"]:
        f(model, history)
    try:
        for epoch in range(epochs):
            for f in hooks["on_epoch_begin"]:
                f(epoch, model, history)
            order = rng.permutation(n)
            total, correct, counted = 0.0, 0, True
            for bi, start in enumerate(range(0, n, batch_size)):
                idx = order[start:start + batch_size]
                value, right = batch(idx)
                logs: dict[str, Any] = {"loss": value, "size": len(idx)}
                if clip_norm is not None:
                    logs["grad_norm"] = _optim.clip_grad_norm(params, clip_norm)
                elif clip_value is not None:
                    _optim.clip_grad_value(params, clip_value)
                for f in hooks["on_after_backward"]:
                    f(epoch, bi, model, history)
                optimizer.step()
                total += value * len(idx)
                history.batch_loss.append(value)
                if right is None:
                    counted = False
                else:
                    correct += right
                for f in hooks["on_batch_end"]:
                    f(epoch, bi, model, history, logs)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(epoch=epoch + 1, loss=f"{value:.4g}")
            history.epochs = epoch + 1
            history.loss.append(total / n)
            history.accuracy.append(correct / n if counted else None)
            if validate is not None:
                vl, va = validate()
                history.val_loss.append(vl)
                history.val_accuracy.append(va)
                model.train()
            for f in hooks["on_epoch_end"]:
                f(epoch, model, history)
            if history.stop_training:
                break
    finally:
        if bar is not None:
            bar.close()
    for f in hooks["on_train_end"]:
        f(model, history)
    return history
