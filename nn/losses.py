"""Costs (losses), regularisation and accuracy (``nn.losses``, also ``nn.costs``).

For one sample with network output ``a`` (or logits ``z``) and target ``y``:

* ``quadratic``: C = ½ ‖a − y‖² = ½ Σ_k (a_k − y_k)².
* ``binary_cross_entropy`` (Nielsen's cross-entropy cost, on probabilities):
  C = −Σ_k [y_k ln a_k + (1 − y_k) ln(1 − a_k)], summed over the outputs.
  Terms with y_k = 1 or 0 use only the log that is multiplied by a non-zero
  factor (Nielsen's ``nan_to_num``). Where a log would be of 0 (a sigmoid
  output saturated at exactly 0.0 or 1.0) and the output node is a sigmoid
  σ(z), that term is computed from the logit instead, stably:
  −[y ln σ(z) + (1 − y) ln(1 − σ(z))] = softplus(z) − y z. Any other output of
  exactly 0 or 1 where the log is needed raises ValueError.
* ``binary_cross_entropy_with_logits``: the same cost from logits, always
  stable: Σ_k softplus(z_k) − y_k z_k.
* ``cross_entropy`` (softmax + categorical cross-entropy from logits):
  C = logsumexp(z) − Σ_k y_k z_k with logsumexp(z) = m + ln Σ_k exp(z_k − m),
  m = max_k z_k (a constant), stable for logits of any size.

Targets: an integer label is one-hot encoded over the outputs (for a single
output it must be 0 or 1 and is used as is); a sequence of numbers is used as
given. Averaging over a batch and regularisation:
R = (1/N) Σ_n C_n + (λ / 2N) ‖W‖² (L2, weights only unless biases are asked
for) or + (λ / N) Σ |w| (L1); see :func:`l2_penalty`, :func:`l1_penalty`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Value
from autograd_core.core.primitives import PRIMITIVES

__all__ = ["quadratic", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "softmax", "log_softmax", "l2_penalty", "l1_penalty", "accuracy",
           "get", "LOSSES", "predictions", "encode_target"]

_SIGMOID = PRIMITIVES["sigmoid"]
Loss = Callable[[Any, Any], Value]


def _outputs(output: Any, who: str) -> list[Any]:
    if isinstance(output, (Value, float, int)) and not isinstance(output, bool):
        return [output]
    if isinstance(output, np.ndarray):
        return output.ravel().tolist()
    if isinstance(output, (list, tuple)):
        if not output:
            raise ValueError(f"{who}: empty output")
        return list(output)
    raise TypeError(f"{who}: output must be a Value or a list of Values, not {type(output).__name__}")


def _is_int_label(y: Any) -> bool:
    return (isinstance(y, (int, np.integer)) and not isinstance(y, (bool, np.bool_)))


def encode_target(target: Any, n: int, who: str = "loss") -> list[float]:
    """The target as ``n`` floats: integer labels one-hot encoded (a single
    output takes the label 0 or 1 itself)."""
    if _is_int_label(target):
        k = int(target)
        if n == 1:
            if k not in (0, 1):
                raise ValueError(f"{who}: a single output needs the label 0 or 1, got {k}")
            return [float(k)]
        if not 0 <= k < n:
            raise ValueError(f"{who}: label {k} out of range for {n} outputs")
        out = [0.0] * n
        out[k] = 1.0
        return out
    if isinstance(target, np.ndarray):
        target = target.ravel().tolist()
    elif isinstance(target, (float, np.floating)):
        target = [float(target)]
    if not isinstance(target, (list, tuple)):
        raise TypeError(f"{who}: target must be an int label or a sequence of numbers, "
                        f"not {type(target).__name__}")
    if len(target) != n:
        raise ValueError(f"{who}: the output has {n} entries but the target has {len(target)}")
    vals = []
    for i, t in enumerate(target):
        if isinstance(t, Value):
            t = t.data
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, float, np.number)):
            raise TypeError(f"{who}: target entry {i} must be a number, not {type(t).__name__}")
        vals.append(float(t))
    return vals


def quadratic(output: Any, target: Any) -> Value:
    """½ ‖a − y‖² (Nielsen's quadratic cost for one sample)."""
    a = _outputs(output, "quadratic")
    y = encode_target(target, len(a), "quadratic")
    terms = []
    for ai, yi in zip(a, y):
        if isinstance(ai, Value):
            d = ai - yi
            terms.append(d * d)
        else:
            terms.append(Value((float(ai) - yi) ** 2))
    return ag.sum(terms) * 0.5


def _bce_term(a: Any, y: float) -> Value:
    """ln-likelihood term y ln a + (1 − y) ln(1 − a) (to be negated)."""
    if not isinstance(a, Value):
        a = Value(float(a))
    p = a.data
    need_pos = y != 0.0          # ln a is needed
    need_neg = y != 1.0          # ln(1 − a) is needed
    ok = (not need_pos or p > 0.0) and (not need_neg or p < 1.0)
    if not ok:
        if a._prim is _SIGMOID:
            z = a._parents[0]
            return z * y - z.softplus() if y != 0.0 else -z.softplus()
        raise ValueError(f"binary_cross_entropy: output {p!r} with target {y!r} gives an "
                         "infinite cost; pass logits to binary_cross_entropy_with_logits")
    if y == 1.0:
        return a.log()
    if y == 0.0:
        return (1.0 - a).log()
    return a.log() * y + (1.0 - a).log() * (1.0 - y)


def binary_cross_entropy(output: Any, target: Any) -> Value:
    """−Σ_k [y_k ln a_k + (1 − y_k) ln(1 − a_k)] on probabilities a (summed over outputs)."""
    a = _outputs(output, "binary_cross_entropy")
    y = encode_target(target, len(a), "binary_cross_entropy")
    for t in y:
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"binary_cross_entropy: targets must be in [0, 1], got {t}")
    return -ag.sum([_bce_term(ai, yi) for ai, yi in zip(a, y)])


def binary_cross_entropy_with_logits(output: Any, target: Any) -> Value:
    """Σ_k softplus(z_k) − y_k z_k: binary cross-entropy of σ(z), stable for any z."""
    z = _outputs(output, "binary_cross_entropy_with_logits")
    y = encode_target(target, len(z), "binary_cross_entropy_with_logits")
    terms = []
    for zi, yi in zip(z, y):
        if not isinstance(zi, Value):
            zi = Value(float(zi))
        terms.append(zi.softplus() - zi * yi if yi != 0.0 else zi.softplus())
    return ag.sum(terms)


def log_softmax(logits: Any) -> list[Value]:
    """z_k − logsumexp(z), stable."""
    z = [v if isinstance(v, Value) else Value(float(v)) for v in _outputs(logits, "log_softmax")]
    lse = _logsumexp(z)
    return [zi - lse for zi in z]


def softmax(logits: Any) -> list[Value]:
    """exp(z_k − m) / Σ_j exp(z_j − m) with m = max z (stable)."""
    z = [v if isinstance(v, Value) else Value(float(v)) for v in _outputs(logits, "softmax")]
    m = max(v.data for v in z)
    e = [(v - m).exp() for v in z]
    s = ag.sum(e)
    return [ei / s for ei in e]


def _logsumexp(z: list[Value]) -> Value:
    m = max(v.data for v in z)
    if m != m or m in (float("inf"), float("-inf")):
        m = 0.0
    return ag.sum([(v - m).exp() for v in z]).log() + m


def cross_entropy(output: Any, target: Any) -> Value:
    """Softmax cross-entropy from logits: logsumexp(z) − Σ_k y_k z_k
    (for an integer label c: logsumexp(z) − z_c)."""
    z = [v if isinstance(v, Value) else Value(float(v)) for v in _outputs(output, "cross_entropy")]
    if len(z) < 2:
        raise ValueError("cross_entropy needs at least 2 outputs (logits); for one output use "
                         "binary_cross_entropy_with_logits")
    lse = _logsumexp(z)
    if _is_int_label(target):
        k = int(target)
        if not 0 <= k < len(z):
            raise ValueError(f"cross_entropy: label {k} out of range for {len(z)} outputs")
        return lse - z[k]
    y = encode_target(target, len(z), "cross_entropy")
    picked = [(zi, yi) for zi, yi in zip(z, y) if yi != 0.0]
    if not picked:
        return lse * sum(y)
    return lse * sum(y) - ag.dot([zi for zi, _ in picked], [yi for _, yi in picked])


#: names accepted by ``fit`` and the diagnostics
LOSSES: dict[str, Loss] = {
    "quadratic": quadratic,
    "binary_cross_entropy": binary_cross_entropy,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "cross_entropy": cross_entropy,
}


def get(loss: str | Loss) -> Loss:
    """A loss function from its name or a callable ``f(output, target) -> Value``."""
    if callable(loss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]
    raise ValueError(f"unknown loss {loss!r}; use a callable or one of: {', '.join(LOSSES)}")


def _params_of(what: Any, include_biases: bool) -> list[Value]:
    from .module import Module
    if isinstance(what, Module):
        if include_biases:
            return what.parameters()
        return what.weights()
    vals = list(what)
    for i, v in enumerate(vals):
        if not isinstance(v, Value):
            raise TypeError(f"penalty: element {i} must be a Value, not {type(v).__name__}")
    return vals


def l2_penalty(weights: Any, lam: float, n: int, *, include_biases: bool = False) -> Value:
    """(λ / 2n) Σ w² over the weights of a model (or a list of Values); one dot node."""
    ws = _params_of(weights, include_biases)
    if n <= 0:
        raise ValueError(f"l2_penalty: n (the number of training samples) must be positive, got {n}")
    if not ws:
        return Value(0.0)
    return ag.dot(ws, ws) * (lam / (2.0 * n))


def l1_penalty(weights: Any, lam: float, n: int, *, include_biases: bool = False) -> Value:
    """(λ / n) Σ |w| over the weights of a model (or a list of Values)."""
    ws = _params_of(weights, include_biases)
    if n <= 0:
        raise ValueError(f"l1_penalty: n (the number of training samples) must be positive, got {n}")
    if not ws:
        return Value(0.0)
    return ag.sum([abs(w) for w in ws]) * (lam / n)


def predictions(outputs: Any, threshold: float = 0.5) -> np.ndarray:
    """Predicted class per sample: argmax over several outputs, or
    ``output > threshold`` for a single output."""
    rows = [[float(v) for v in _outputs(o, "predictions")] for o in outputs]
    arr = np.asarray(rows, dtype=float)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError("predictions: need a non-empty list of outputs")
    if arr.shape[1] == 1:
        return (arr[:, 0] > threshold).astype(np.int64)
    return np.argmax(arr, axis=1)


def accuracy(outputs: Sequence[Any], labels: Sequence[Any], threshold: float = 0.5) -> float:
    """Fraction of samples whose predicted class equals the label (labels are
    ints, or one-hot/probability vectors whose argmax is the class)."""
    pred = predictions(outputs, threshold)
    lab = np.asarray([np.argmax(np.ravel(y)) if np.ndim(y) and np.size(y) > 1 else int(np.ravel(y)[0])
                      for y in labels])
    if len(lab) != len(pred):
        raise ValueError(f"accuracy: {len(pred)} outputs but {len(lab)} labels")
    return float(np.mean(pred == lab))
