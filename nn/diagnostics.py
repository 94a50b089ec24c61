"""Diagnostics for vanishing and exploding gradients (``nn.diagnostics``).

Nielsen's *speed of learning* of a hidden layer is the Euclidean norm of the
vector of ∂C/∂b over that layer's biases, where C is the cost averaged over
the given examples. In a deep sigmoid network the early layers learn far more
slowly (∂C/∂b1 is a product of factors w_j·σ'(z_j) ≤ 1/4); with large weights
the product explodes instead.

* :func:`bias_gradients`: per layer, the vector of average ∂C/∂b;
* :func:`learning_speeds`: per hidden layer, ‖∂C/∂b‖;
* :func:`gradient_norms`: per layer, ‖∂C/∂W‖ (the weights);
* :func:`activation_stats`: per hidden layer, the fraction of saturated
  sigmoid/tanh units (|z| > 4 by default) and of dead ReLUs;
* :func:`verdict`: "vanishing" / "exploding" / "balanced" from the
  first/last speed ratio (the textbook's definition: the layers near the
  input learn much more slowly — or much faster — than those near the
  output; "much" = more than 10×, :data:`VERDICT_RULE`);
* :func:`activity_notes`: "saturated" / "dead units" when at least half of a
  hidden layer's sigmoid/tanh units are saturated or its ReLUs dead;
* :class:`GradientMonitor`: a :func:`nn.fit` callback recording all of it
  every epoch or every k mini-batches.

Layers are the :class:`~nn.Layer` modules of the model in order (an MLP's
``layers.0``, ``layers.1``, ...); the *hidden* layers are all but the last.
For a layer with BatchNorm the neurons' biases are cancelled by the
normalisation (their gradient is 0), so the layer's bias vector is BatchNorm's
shift β instead. Nothing here touches any ``.grad``: gradients come from
:func:`autograd_core.gradients` (the engine's one backward driver) on the
averaged cost, and BatchNorm's running averages are restored afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import losses as _losses
from .backends import backend_of
from .layers import Layer
from .module import Module

__all__ = [
    "hidden_layers", "model_layers", "bias_gradients", "weight_gradients", "layer_gradients",
    "LayerGradients", "learning_speeds", "gradient_norms", "activation_stats", "LayerActivity",
    "speed_ratio", "verdict", "GradientMonitor", "GradientRecord", "VANISHING", "EXPLODING",
    "SATURATION", "SATURATED_FRACTION", "DEAD_FRACTION", "VERDICT_RULE", "verdict_rule",
    "activity_notes", "LearningSpeed",
]

#: first/last speed ratio below which a record is "vanishing": the first hidden
#: layer learns more than 10× more slowly than the last (Nielsen's sigmoid
#: [784,30,30,30,10] at initialisation: about 1/23)
VANISHING = 0.1
#: first/last speed ratio above which a record is "exploding": the first hidden
#: layer learns more than 10× faster than the last
EXPLODING = 10.0
#: fraction of a hidden layer's (unit, example) pairs with |z| > SATURATION
#: from which the layer is reported "saturated"
SATURATED_FRACTION = 0.5
#: fraction of a hidden layer's ReLUs dead on every example from which the
#: layer is reported as having "dead units"
DEAD_FRACTION = 0.5
#: |z| above which a sigmoid or tanh unit counts as saturated
SATURATION = 4.0

_SATURATING = {"sigmoid", "tanh"}
_DYING = {"relu"}


# ------------------------------------------------------------------ layers

def model_layers(model: Module) -> list[tuple[str, Any]]:
    """The model's layers with their paths, in order: :class:`~nn.Layer`
    modules (a single Layer is its own only layer), or the
    :class:`~nn.Linear` layers of a ``backend="tensor"`` MLP."""
    if not isinstance(model, Module):
        raise TypeError(f"model must be an nn.Module, not {type(model).__name__}")
    return backend_of(model).model_layers(model)


def hidden_layers(model: Module) -> list[tuple[str, Layer]]:
    """All layers but the last (the output layer)."""
    return model_layers(model)[:-1]


def _grad_list(params: list[Any]) -> list[float]:
    """The gradients of ``params`` (Values or Tensors) as one flat list."""
    out: list[float] = []
    for p in params:
        g = p.grad
        if isinstance(g, (int, float)):
            out.append(float(g))
        else:
            out.extend(np.ravel(getattr(g, "data", g)).astype(float).tolist())
    return out


# ------------------------------------------------------------------ data

def _rows(X: Any) -> list[Any]:
    if isinstance(X, np.ndarray):
        if X.dtype.kind not in "iuf":
            raise TypeError(f"X must be numeric, not dtype {X.dtype}")
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        if len(X) == 0:
            return []
        return [tuple(r) for r in X.reshape(len(X), -1).astype(float).tolist()]
    if not isinstance(X, (list, tuple)):
        raise TypeError(f"X must be an array or a list of samples, not {type(X).__name__}")
    return list(X)


def _targets(y: Any, n: int) -> list[Any]:
    if isinstance(y, np.ndarray):
        y = [int(v) for v in y.tolist()] if (y.ndim == 1 and y.dtype.kind in "iu") else list(y)
    if not isinstance(y, (list, tuple)):
        raise TypeError(f"y must be an array or a list, not {type(y).__name__}")
    if len(y) != n:
        raise ValueError(f"X has {n} samples but y has {len(y)}")
    return list(y)


@dataclass
class LayerGradients:
    """Average gradients of the cost per layer (all layers, output included).

    ``names``: layer paths; ``biases[k]``: the vector of ∂C/∂b of layer k
    (β for a BatchNorm layer); ``weights[k]``: ∂C/∂w of layer k, neuron by
    neuron (row j = neuron j's incoming weights); ``cost``: the averaged cost."""

    names: list[str]
    biases: list[list[float]]
    weights: list[list[list[float]]]
    cost: float

    def bias_norms(self) -> list[float]:
        return [_norm(b) for b in self.biases]

    def weight_norms(self) -> list[float]:
        return [_norm([g for row in w for g in row]) for w in self.weights]


def _norm(xs: Sequence[float]) -> float:
    return math.sqrt(math.fsum(x * x for x in xs))


def layer_gradients(model: Module, X: Any, y: Any, loss: Any, *,
                    chunk_size: int = 100) -> LayerGradients:
    """∂C/∂b and ∂C/∂w of every layer, C = (1/N) Σ_n loss(model(x_n), y_n).

    The graph is built ``chunk_size`` examples at a time (all at once when the
    model has BatchNorm, whose statistics are over the whole batch) and
    differentiated with :func:`autograd_core.gradients`; no ``.grad`` changes.
    A ``backend="tensor"`` MLP is measured on one batched Tensor graph."""
    layers = model_layers(model)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    return backend_of(model).layer_gradients(model, layers, X, y, loss, chunk_size)


def bias_gradients(model: Module, X: Any, y: Any, loss: Any) -> list[list[float]]:
    """Per layer (output layer included), the vector of average ∂C/∂b."""
    return layer_gradients(model, X, y, loss).biases


def weight_gradients(model: Module, X: Any, y: Any, loss: Any) -> list[list[list[float]]]:
    """Per layer, the matrix of average ∂C/∂w (row j = neuron j)."""
    return layer_gradients(model, X, y, loss).weights


def learning_speeds(model: Module, X: Any, y: Any, loss: Any, *,
                    include_output: bool = False) -> list[float]:
    """Nielsen's speed of learning of each hidden layer: ‖∂C/∂b‖ over the
    layer's biases, C the cost averaged over the examples (``loss`` a name
    such as ``"binary_cross_entropy"`` or a callable ``f(output, target)``).
    ``include_output=True`` appends the output layer's speed."""
    norms = layer_gradients(model, X, y, loss).bias_norms()
    return norms if include_output else norms[:-1]


def gradient_norms(model: Module, X: Any, y: Any, loss: Any, *,
                   include_output: bool = True) -> list[float]:
    """‖∂C/∂W‖ (Euclidean norm over the layer's weights) for each layer."""
    norms = layer_gradients(model, X, y, loss).weight_norms()
    return norms if include_output else norms[:-1]


# ------------------------------------------------------------------ verdicts

def speed_ratio(speeds: Sequence[float]) -> float:
    """first/last speed (nan for fewer than one speed or 0/0; inf for x/0)."""
    if not speeds:
        return math.nan
    first, last = float(speeds[0]), float(speeds[-1])
    if last == 0.0:
        return math.nan if first == 0.0 else math.inf
    return first / last


def _check_thresholds(vanishing: float, exploding: float) -> tuple[float, float]:
    for name, v in (("vanishing", vanishing), ("exploding", exploding)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v > 0 and math.isfinite(v)):
            raise ValueError(f"{name} threshold must be a positive finite number, got {v!r}")
    if not vanishing < exploding:
        raise ValueError(f"the vanishing threshold ({vanishing}) must be below the exploding "
                         f"threshold ({exploding})")
    return float(vanishing), float(exploding)


def verdict_rule(vanishing: float = VANISHING, exploding: float = EXPLODING) -> str:
    """The verdict's definition with its thresholds, for printing under a table."""
    vanishing, exploding = _check_thresholds(vanishing, exploding)
    return (f"verdict from r = first/last hidden-layer speed: vanishing if r < {vanishing:g} "
            f"(the first layer learns more than {1 / vanishing:g}x more slowly than the last), "
            f"exploding if r > {exploding:g} (more than {exploding:g}x faster), balanced otherwise")


#: the default rule, as printed by the experiments
VERDICT_RULE = verdict_rule()


def verdict(speeds: Sequence[float], *, vanishing: float = VANISHING,
            exploding: float = EXPLODING) -> str:
    """The textbook's definition, measured: ``"vanishing"`` when the first
    hidden layer learns much more slowly than the last (first/last speed <
    ``vanishing``, default 0.1), ``"exploding"`` when much faster (>
    ``exploding``, default 10), else ``"balanced"``; ``"exploding"`` also when
    the first speed overflowed to inf (whatever the last), ``"nan gradient"``
    when the first or last speed is nan (training diverged: not "no
    gradient"), ``"no gradient"`` when there is no hidden layer or every
    speed is 0, ``"undefined"`` when the first and last speeds are 0 but
    another layer's is not (r = 0/0), and ``"one layer"`` with a single hidden
    layer (nothing to compare: r = 1 says nothing)."""
    vanishing, exploding = _check_thresholds(vanishing, exploding)
    if speeds and any(math.isnan(float(s)) for s in (speeds[0], speeds[-1])):
        return "nan gradient"
    if speeds and math.isinf(float(speeds[0])):
        return "exploding"  # inf/inf is nan, but an overflowing first layer is the lesson's case
    r = speed_ratio(speeds)
    if r != r:
        return "undefined" if any(float(s) != 0.0 for s in speeds) else "no gradient"
    if len(speeds) == 1:
        return "one layer"
    if r < vanishing:
        return "vanishing"
    if r > exploding:
        return "exploding"
    return "balanced"


def activity_notes(saturated: Sequence[float | None], dead: Sequence[float | None], *,
                   saturated_fraction: float = SATURATED_FRACTION,
                   dead_fraction: float = DEAD_FRACTION) -> list[str]:
    """``["saturated: hidden 1, 2", "dead units: hidden 3"]``: the hidden
    layers (numbered from 1) with at least ``saturated_fraction`` of their
    (unit, example) pairs saturated, and with at least ``dead_fraction`` of
    their ReLUs dead (the fractions of :func:`activation_stats`; None = not
    applicable)."""
    notes = []
    sat = [k + 1 for k, v in enumerate(saturated) if v is not None and v >= saturated_fraction]
    if sat:
        notes.append("saturated: hidden " + ", ".join(map(str, sat)))
    dd = [k + 1 for k, v in enumerate(dead) if v is not None and v >= dead_fraction]
    if dd:
        notes.append("dead units: hidden " + ", ".join(map(str, dd)))
    return notes


# ------------------------------------------------------------------ activations

@dataclass
class LayerActivity:
    """Activation statistics of one layer over a set of examples.

    ``activation``: the primitive of the layer's units; ``saturated``: the
    fraction of (unit, example) pairs with |z| > threshold for sigmoid/tanh
    units (None for others); ``dead``: the fraction of ReLU units whose input
    is ≤ 0 on every example (None for other activations); ``units``."""

    name: str
    activation: str
    units: int
    saturated: float | None
    dead: float | None


def activation_stats(model: Module, X: Any, *, threshold: float = SATURATION,
                     include_output: bool = False) -> list[LayerActivity]:
    """Per hidden layer: fraction of saturated sigmoid/tanh units and of dead
    ReLUs over the examples ``X``. z is the activation's input (after
    BatchNorm, when the layer has one)."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not threshold > 0:
        raise ValueError(f"saturation threshold must be a positive number, got {threshold!r}")
    model_layers(model)  # the type check
    return backend_of(model).activation_stats(model, X, threshold, include_output)


# ------------------------------------------------------------------ monitors

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
        """‖∂C/∂b^l‖ per layer from the biases' current ``.grad``."""
        return backend_of(model).bias_gradient_norms(model)

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


@dataclass
class GradientRecord:
    """One measurement of a :class:`GradientMonitor`.

    ``epoch`` and ``batch`` (None for an epoch record) count from 0;
    ``speeds``: ‖∂C/∂b‖ per hidden layer; ``weight_norms``: ‖∂C/∂W‖ per layer
    (output included); ``ratio``: first/last speed; ``verdict``;
    ``saturated``/``dead``: per hidden layer (None where not applicable or no
    probe set was given)."""

    epoch: int
    batch: int | None
    speeds: list[float]
    weight_norms: list[float]
    ratio: float
    verdict: str
    saturated: list[float | None] = field(default_factory=list)
    dead: list[float | None] = field(default_factory=list)

    @property
    def activity(self) -> list[str]:
        """:func:`activity_notes` of this record ("saturated: hidden 1", ...)."""
        return activity_notes(self.saturated, self.dead)

    def to_dict(self) -> dict[str, Any]:
        def f(x: Any) -> Any:
            return x if x is None or math.isfinite(x) else str(x)
        return {"epoch": self.epoch, "batch": self.batch, "speeds": list(self.speeds),
                "weight_norms": list(self.weight_norms), "ratio": f(self.ratio),
                "verdict": self.verdict, "saturated": list(self.saturated), "dead": list(self.dead),
                "activity": self.activity}


class GradientMonitor:
    """A :func:`nn.fit` callback recording per-layer learning speeds.

    ``GradientMonitor(probe=None, loss=None, every="epoch", saturation=4.0,
    vanishing=0.1, exploding=10.0)``

    * ``every="epoch"``: one record per epoch. With a ``probe=(X, y)`` set
      (and its ``loss``), the speeds are measured on it at the start of the
      epoch, before its first step (Nielsen's convention), and once more at
      the end of training; without a probe they are the norms of the epoch's
      average mini-batch gradient (for full-batch training: the same thing).
    * ``every=k`` (an int): a record every k mini-batches, from the
      mini-batch's own gradient (``.grad`` right after ``backward()``, before
      the optimizer step), or measured on the probe when one is given.

    Saturation (|z| > ``saturation`` for sigmoid/tanh) and dead-ReLU fractions
    need example inputs: they are measured on the probe set's first
    ``max_activation_examples`` examples, and are None without a probe.
    Each record gets a verdict from the first/last speed ratio (thresholds
    ``vanishing`` and ``exploding``). Results: :attr:`records`,
    :meth:`epoch_speeds`, :meth:`epoch_verdicts`, :meth:`speeds_array`."""

    def __init__(self, probe: tuple[Any, Any] | None = None, loss: Any = None, *,
                 every: str | int = "epoch", saturation: float = SATURATION,
                 vanishing: float = VANISHING, exploding: float = EXPLODING,
                 max_activation_examples: int = 200) -> None:
        self.vanishing, self.exploding = _check_thresholds(vanishing, exploding)
        if every != "epoch" and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ValueError(f"every must be 'epoch' or a positive int (mini-batches), got {every!r}")
        if isinstance(saturation, bool) or not isinstance(saturation, (int, float)) or not saturation > 0:
            raise ValueError(f"saturation must be a positive number, got {saturation!r}")
        if probe is not None:
            if not (isinstance(probe, (tuple, list)) and len(probe) == 2):
                raise ValueError("probe must be a pair (X, y)")
            if loss is None:
                raise ValueError("a probe set needs its loss (a name or a callable)")
            _losses.get(loss)
            rows = _rows(probe[0])
            probe = (rows, _targets(probe[1], len(rows)))
            if not rows:
                raise ValueError("the probe set is empty")
        self.probe = probe
        self.loss = loss
        self.every = every
        self.saturation = float(saturation)
        self.max_activation_examples = int(max_activation_examples)
        self.records: list[GradientRecord] = []
        self._acc: list[list[float]] | None = None
        self._acc_w: list[list[float]] = []
        self._acc_n = 0

    # ---- measurements
    def _record(self, epoch: int, batch: int | None, bias: list[list[float]],
                wnorms: list[float], model: Module) -> GradientRecord:
        speeds = [_norm(b) for b in bias[:-1]]
        sat: list[float | None] = []
        dead: list[float | None] = []
        if self.probe is not None:
            acts = activation_stats(model, self.probe[0][:self.max_activation_examples],
                                    threshold=self.saturation)
            sat = [a.saturated for a in acts]
            dead = [a.dead for a in acts]
        rec = GradientRecord(epoch, batch, speeds, list(wnorms), speed_ratio(speeds),
                             verdict(speeds, vanishing=self.vanishing, exploding=self.exploding),
                             sat, dead)
        self.records.append(rec)
        return rec

    def _measure_probe(self, epoch: int, batch: int | None, model: Module) -> None:
        assert self.probe is not None
        g = layer_gradients(model, self.probe[0], self.probe[1], self.loss)
        self._record(epoch, batch, g.biases, g.weight_norms(), model)

    @staticmethod
    def _grads(model: Module) -> tuple[list[list[float]], list[list[float]]]:
        layers = model_layers(model)
        backend = backend_of(model)
        bias = [_grad_list(backend.bias_params(layer)) for _, layer in layers]
        wts = [_grad_list(backend.weight_params(layer)) for _, layer in layers]
        return bias, wts

    # ---- fit hooks
    def on_train_begin(self, model: Module, history: Any) -> None:
        model_layers(model)  # fail early on a model without layers
        self.records = []

    def on_epoch_begin(self, epoch: int, model: Module, history: Any) -> None:
        if self.every == "epoch":
            if self.probe is not None:
                self._measure_probe(epoch, None, model)
            else:
                self._acc, self._acc_w, self._acc_n = None, [], 0

    def on_after_backward(self, epoch: int, batch: int, model: Module, history: Any) -> None:
        if self.every == "epoch" or (batch + 1) % self.every:
            return
        if self.probe is not None:
            self._measure_probe(epoch, batch, model)
        else:
            bias, wts = self._grads(model)
            self._record(epoch, batch, bias, [_norm(w) for w in wts], model)

    def on_batch_end(self, epoch: int, batch: int, model: Module, history: Any,
                     logs: dict[str, Any]) -> None:
        # epoch records without a probe: accumulate the mini-batch gradients
        # (still in .grad after the step), weighted by the batch size
        if self.every != "epoch" or self.probe is not None:
            return
        bias, wts = self._grads(model)
        m = int(logs.get("size", 1))
        if self._acc is None:
            self._acc = [[0.0] * len(b) for b in bias]
            self._acc_w = [[0.0] * len(w) for w in wts]  # type: ignore[list-item]
        for acc, g in zip(self._acc + self._acc_w, bias + wts):  # type: ignore[operator]
            for i, v in enumerate(g):
                acc[i] += m * v
        self._acc_n += m

    def on_epoch_end(self, epoch: int, model: Module, history: Any) -> None:
        if self.every == "epoch" and self.probe is None and self._acc is not None and self._acc_n:
            inv = 1.0 / self._acc_n
            bias = [[v * inv for v in b] for b in self._acc]
            wnorms = [_norm(w) * inv for w in self._acc_w]  # type: ignore[arg-type]
            self._record(epoch, None, bias, wnorms, model)

    def on_train_end(self, model: Module, history: Any) -> None:
        if self.every == "epoch" and self.probe is not None:
            self._measure_probe(history.epochs, None, model)  # the trained state

    # ---- results
    def speeds_array(self) -> np.ndarray:
        """Speeds of every record, shape (records, hidden layers)."""
        return np.asarray([r.speeds for r in self.records], dtype=float)

    def epoch_speeds(self) -> list[list[float]]:
        """Per epoch, the mean speed per hidden layer over that epoch's records."""
        by: dict[int, list[list[float]]] = {}
        for r in self.records:
            by.setdefault(r.epoch, []).append(r.speeds)
        return [np.mean(np.asarray(v, dtype=float), axis=0).tolist() for _, v in sorted(by.items())]

    def epoch_verdicts(self) -> list[str]:
        """Per epoch, the verdict of :meth:`epoch_speeds`."""
        return [verdict(s, vanishing=self.vanishing, exploding=self.exploding)
                for s in self.epoch_speeds()]

    @property
    def verdicts(self) -> list[str]:
        return [r.verdict for r in self.records]

    def to_dict(self) -> dict[str, Any]:
        return {"every": self.every, "vanishing": self.vanishing, "exploding": self.exploding,
                "saturation": self.saturation, "records": [r.to_dict() for r in self.records]}

