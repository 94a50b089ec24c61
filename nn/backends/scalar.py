"""The scalar backend: :class:`~nn.Module` models whose parameters are
``Value`` s, one graph of scalars per sample.

``nn.fit``, ``nn.evaluate``, ``nn.predict``, the optimizers and
``nn.diagnostics`` hand scalar models (``model.backend == "scalar"``) to
:data:`SCALAR` here; the Tensor twin is :mod:`nn.backends.tensor`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Value

from .. import losses as _losses
from .. import optim as _optim
from ..diagnostics import _DYING, _SATURATING, LayerActivity, LayerGradients
from ..diagnostics import _rows as _diag_rows
from ..diagnostics import _targets as _diag_targets
from ..layers import Layer
from ..module import Module
from ..train import History, _is_class_target, _rows, _targets, _threshold, train_loop
from . import Backend, register

__all__ = ["ScalarBackend", "SCALAR"]


def _batch_objective(model: Module, xb: list[Any], yb: list[Any], loss_fn: Callable[..., Any],
                     l2: float, l1: float, n_total: int) -> tuple[Any, list[Any]]:
    outs = model.forward_batch(xb)
    terms = [loss_fn(o, t) for o, t in zip(outs, yb)]
    obj = ag.sum(terms) * (1.0 / len(xb))
    if l2:
        obj = obj + _losses.l2_penalty(model, l2, n_total)
    if l1:
        obj = obj + _losses.l1_penalty(model, l1, n_total)
    return obj, outs


class ScalarBackend(Backend):
    """:class:`~nn.backends.Backend` for models of ``Value`` s."""

    name = "scalar"
    param_type = Value

    def evaluate(self, model: Module, X: Any, y: Any, loss: Any = "quadratic", *,
                 batch_size: int = 256, threshold: float | None = None) -> tuple[float, float | None]:
        """See :func:`nn.evaluate`. (Graphs are built per batch and dropped at
        once: the stable cross-entropy of a saturated sigmoid output needs to
        see the sigmoid's logit.)"""
        loss_fn = _losses.get(loss)
        rows = _rows(X, "evaluate")
        ys = _targets(y, len(rows), "evaluate")
        if not rows:
            raise ValueError("evaluate: no samples")
        was = model.training
        model.eval()
        try:
            total = 0.0
            outs: list[Any] = []
            for s in range(0, len(rows), batch_size):
                ob = model.forward_batch(rows[s:s + batch_size])
                total += math.fsum(float(loss_fn(o, t).data) for o, t in zip(ob, ys[s:s + batch_size]))
                outs.extend([float(v) for v in (o if isinstance(o, (list, tuple)) else [o])] for o in ob)
        finally:
            model.train(was)
        acc = None
        if all(_is_class_target(t) for t in ys):
            acc = _losses.accuracy(outs, ys, _threshold(loss) if threshold is None else threshold)
        return total / len(rows), acc

    def predict(self, model: Module, X: Any, *, batch_size: int = 256) -> np.ndarray:
        """See :func:`nn.predict`."""
        rows = _rows(X, "predict")
        was = model.training
        model.eval()
        try:
            out = []
            with ag.no_grad():
                for s in range(0, len(rows), batch_size):
                    for o in model.forward_batch(rows[s:s + batch_size]):
                        o = o if isinstance(o, (list, tuple)) else [o]
                        out.append([float(v) for v in o])
        finally:
            model.train(was)
        return np.asarray(out, dtype=float)

    def fit(self, model: Module, X: Any, y: Any, *, loss: Any, optimizer: Any, epochs: int,
            batch_size: int, l2: float = 0.0, l1: float = 0.0,
            clip: tuple[float | None, float | None] = (None, None), validation: Any = None,
            callbacks: Sequence[Any] = (), progress: bool = True, seed: Any = None) -> History:
        """See :func:`nn.fit` (arguments already checked there; ``clip`` is
        its parsed ``(max_norm, max_value)``)."""
        clip_norm, clip_value = clip
        loss_fn = _losses.get(loss)
        rows = _rows(X, "fit")
        ys = _targets(y, len(rows), "fit")
        if not rows:
            raise ValueError("fit: no training samples")
        params = model.parameters()
        opt = _optim.get(optimizer, params)
        if validation is not None:
            if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
                raise ValueError("fit: validation must be a pair (X_val, y_val)")
            val_rows = _rows(validation[0], "fit validation")
            val_ys = _targets(validation[1], len(val_rows), "fit validation")
        classes = all(_is_class_target(t) for t in ys)
        thr = _threshold(loss)

        def batch(idx: np.ndarray) -> tuple[float, int | None]:
            xb = [rows[i] for i in idx]
            yb = [ys[i] for i in idx]
            for p in params:
                p.grad = 0.0
            with ag.pause_gc():  # the step's graph has no cycles; see autograd_core.core._gc
                obj, outs = _batch_objective(model, xb, yb, loss_fn, l2, l1, len(rows))
                obj.backward()
            if not classes:
                return obj.data, None
            pred = _losses.predictions(outs, thr)
            lab = [int(np.argmax(np.ravel(t))) if np.size(t) > 1 else int(np.ravel(t)[0]) for t in yb]
            return obj.data, int(np.sum(pred == np.asarray(lab)))

        validate = None if validation is None else (
            lambda: self.evaluate(model, val_rows, val_ys, loss_fn, threshold=thr))
        return train_loop(model, len(rows), batch, params=params, optimizer=opt, epochs=epochs,
                          batch_size=batch_size, clip=(clip_norm, clip_value), callbacks=callbacks,
                          progress=progress, seed=seed, validate=validate)

    # ---------------------------------------------------------- optimizers

    def zero_buffers(self, opt: Any) -> None:
        for b in opt._buffers:
            setattr(opt, b, [0.0] * len(opt.params))

    def load_buffers(self, opt: Any, buffers: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {b: [float(v) for v in vals] for b, vals in buffers.items()}

    def optimizer_step(self, opt: Any) -> None:
        opt._scalar_step()

    def clip_grad_norm(self, params: list[Any], max_norm: float) -> float:
        total = math.sqrt(math.fsum(_optim._grad(p) ** 2 for p in params))
        if math.isfinite(total) and total > max_norm:
            scale = max_norm / total
            for p in params:
                p.grad = _optim._grad(p) * scale
        return total

    def clip_grad_value(self, params: list[Any], clip: float) -> None:
        for p in params:
            g = _optim._grad(p)
            if g > clip:
                p.grad = clip
            elif g < -clip:
                p.grad = -clip

    # ---------------------------------------------------------- diagnostics

    def bias_params(self, layer: Layer) -> list[Value]:
        """The neurons' biases, or BatchNorm's shifts β when the layer has one."""
        return list(layer.bn.beta) if layer.batchnorm else [n.b for n in layer.neurons]

    def weight_params(self, layer: Layer) -> list[Value]:
        """Every weight, neuron by neuron."""
        return [w for n in layer.neurons for w in n.w]

    def bias_gradient_norms(self, model: Any) -> list[float]:
        """‖∂C/∂b‖ per layer: over its neurons' bias Values."""
        return [math.sqrt(math.fsum(float(nr.b.grad) ** 2 for nr in layer.neurons))
                for layer in model.layers]

    def model_layers(self, model: Module) -> list[tuple[str, Any]]:
        layers = [(name, m) for name, m in model.named_modules() if isinstance(m, Layer)]
        if not layers:
            raise ValueError(f"{type(model).__name__} has no nn.Layer modules to diagnose")
        return layers

    def layer_gradients(self, model: Module, layers: list[tuple[str, Any]], X: Any, y: Any,
                        loss: Any, chunk_size: int = 100) -> LayerGradients:
        loss_fn = _losses.get(loss)
        rows = _diag_rows(X)
        ys = _diag_targets(y, len(rows))
        n = len(rows)
        if n == 0:
            raise ValueError("need at least one example")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
        has_bn = any(layer.batchnorm for _, layer in layers)
        if has_bn:
            chunk_size = n
        bparams = [self.bias_params(layer) for _, layer in layers]
        wparams = [self.weight_params(layer) for _, layer in layers]
        flat = [p for ps in bparams for p in ps] + [p for ps in wparams for p in ps]
        totals = [0.0] * len(flat)
        buffers = [(m, [list(getattr(m, b)) for b in m._buffer_names]) for _, m in model.named_modules()
                   if m._buffer_names]
        cost = 0.0
        inv_n = 1.0 / n
        try:
            with ag.enable_grad():
                for s in range(0, n, chunk_size):
                    outs = model.forward_batch(rows[s:s + chunk_size])
                    obj = ag.sum([loss_fn(o, t) for o, t in zip(outs, ys[s:s + chunk_size])]) * inv_n
                    cost += obj.data
                    for i, g in enumerate(ag.gradients(obj, flat)):
                        totals[i] += g
                    del outs, obj
        finally:
            for m, saved in buffers:  # measuring must not move BatchNorm's running averages
                for b, vals in zip(m._buffer_names, saved):
                    setattr(m, b, vals)
        biases, weights = [], []
        k = 0
        for ps in bparams:
            biases.append(totals[k:k + len(ps)])
            k += len(ps)
        for (_, layer) in layers:
            rows_w = []
            for neuron in layer.neurons:
                rows_w.append(totals[k:k + neuron.nin])
                k += neuron.nin
            weights.append(rows_w)
        return LayerGradients([name for name, _ in layers], biases, weights, cost)

    def activation_stats(self, model: Module, X: Any, threshold: float,
                         include_output: bool) -> list[LayerActivity]:
        layers = self.model_layers(model)
        if not include_output:
            layers = layers[:-1]
        rows = _diag_rows(X)
        if not rows:
            raise ValueError("need at least one example")
        index = {name: k for k, (name, _) in enumerate(layers)}
        pre: list[dict[str, list[float]]] = [{} for _ in layers]
        kinds: list[str] = ["" for _ in layers]
        buffers = [(m, [list(getattr(m, b)) for b in m._buffer_names]) for _, m in model.named_modules()
                   if m._buffer_names]
        try:
            with ag.enable_grad():
                outs = model.forward_batch(rows)
                roots = [v for o in outs for v in (o if isinstance(o, (list, tuple)) else [o])
                         if isinstance(v, Value)]
                if not roots:
                    raise ValueError("the model's outputs are not Values")
                seen: set[int] = set()
                stack = list(roots)
                while stack:  # walk the graph for the neurons' labelled outputs
                    v = stack.pop()
                    if id(v) in seen:
                        continue
                    seen.add(id(v))
                    lab = v.label
                    if lab.endswith("out") and v._prim is not None and "neurons." in lab:
                        neuron = lab[:-3].rstrip(".")
                        layer_name = neuron.rsplit("neurons.", 1)[0].rstrip(".")
                        k = index.get(layer_name)
                        prim = v._prim.name
                        if k is not None and v._parents and prim not in ("dot", "dot_const", "add"):
                            kinds[k] = prim
                            pre[k].setdefault(neuron, []).append(v._parents[0]._data)
                    stack.extend(v._parents)
        finally:
            for m, saved in buffers:
                for b, vals in zip(m._buffer_names, saved):
                    setattr(m, b, vals)
        out = []
        for k, (name, layer) in enumerate(layers):
            kind = kinds[k] or (layer.activation if isinstance(layer.activation, str) else "custom")
            units = len(layer.neurons)
            sat = dead = None
            zs = pre[k]
            if kind in _SATURATING and zs:
                flat = [z for vals in zs.values() for z in vals]
                sat = sum(1 for z in flat if abs(z) > threshold) / len(flat)
            if kind in _DYING and zs:
                dead = sum(1 for vals in zs.values() if all(z <= 0.0 for z in vals)) / units
            out.append(LayerActivity(name, kind, units, sat, dead))
        return out


#: the scalar backend object
SCALAR = register(ScalarBackend())
