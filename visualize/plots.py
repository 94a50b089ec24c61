"""Matplotlib plots of vanishing and exploding gradients (``visualize.plots``).

* :func:`plot_learning_speeds`: one bar per hidden layer (mean over seeds,
  whiskers min–max), the textbook chapter's "speed of learning" bars;
* :func:`plot_training_speed`: speed per layer over the epochs, log scale
  (the book's figure);
* :func:`plot_activations`: the nine activations of the textbook chapter and their
  derivatives on one 3×3 grid, the derivatives computed by the engine;
* :func:`plot_gradient_flow`: per-layer gradient norms of a model;
* :func:`plot_exploding_window`: the width of the exploding window against
  |w| (formula (3) as a line, the engine's measurements as points).

Each draws on a :class:`matplotlib.figure.Figure` (no pyplot state, no
window: the Agg renderer), returns it, and writes it to ``path`` (PNG or SVG
by the extension, atomically) when one is given. The plotted numbers can be
read back from the figure (bar heights, line data) and equal the inputs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

import autograd_core as ag
from autograd_core import Value

from .training_plots import save_figure

__all__ = ["plot_learning_speeds", "plot_training_speed", "plot_activations",
           "plot_gradient_flow", "ACTIVATION_FUNCTIONS", "activation_curves",
           "plot_exploding_window"]


def _matrix(data: Any, who: str) -> np.ndarray:
    """Rows of per-layer numbers as a 2-D float array (a flat list is one row)."""
    if hasattr(data, "speeds") and not isinstance(data, (list, tuple, np.ndarray)):
        data = data.speeds
    if hasattr(data, "records"):  # a GradientMonitor
        data = [r.speeds for r in data.records]
    try:
        arr = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: expected numbers per layer (a list, a list of lists, or a result "
                        f"with .speeds), not {type(data).__name__}") from None
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{who}: need a non-empty list of per-layer numbers, got shape {arr.shape}")
    return arr


def _finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


# ------------------------------------------------------------------ speeds

def plot_learning_speeds(speeds: Any, path: str | os.PathLike[str] | None = None, *,
                         labels: Sequence[str] | None = None, reference: Sequence[float] | None = None,
                         title: str | None = None, log: bool = False,
                         ylabel: str | None = None) -> Figure:
    """Bars of the learning speed ‖∂C/∂b‖ per hidden layer.

    ``speeds``: one speed per layer, or one row per seed (bars are the mean,
    whiskers min–max), or a result with ``.speeds`` (``nn.experiments.
    vanishing``). ``reference``: values drawn as black diamonds (e.g. the
    book's). The bars are ``fig.axes[0].patches`` in layer order."""
    arr = _matrix(speeds, "plot_learning_speeds")
    mean = arr.mean(axis=0)
    n = arr.shape[1]
    labels = list(labels) if labels is not None else [f"hidden {k + 1}" for k in range(n)]
    if len(labels) != n:
        raise ValueError(f"plot_learning_speeds: {n} layers but {len(labels)} labels")
    fig = Figure(figsize=(1.2 * n + 3.0, 3.8))
    ax = fig.add_subplot()
    x = np.arange(n)
    ax.bar(x, mean, color="#4c72b0", width=0.6, label="mean" if arr.shape[0] > 1 else "speed")
    top = arr.max(axis=0)
    if arr.shape[0] > 1:
        lo, hi = arr.min(axis=0), arr.max(axis=0)
        ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], fmt="none", ecolor="black", capsize=4,
                    lw=1, label=f"min–max over {arr.shape[0]} runs")
    if reference is not None:
        ref = np.asarray(reference, dtype=float)
        if ref.shape != (n,):
            raise ValueError(f"plot_learning_speeds: reference needs {n} values, got {ref.shape}")
        ax.plot(x, ref, "D", color="black", ms=6, label="reference", zorder=3)
        top = np.maximum(top, ref)
    for xi, m, t in zip(x, mean, top):
        ax.annotate(f"{m:.3g}", (xi, t), textcoords="offset points", xytext=(0, 5),
                    ha="center", fontsize=8)
    if log:
        ax.set_yscale("log")
    elif np.all(np.isfinite(top)) and float(np.max(top)) > 0:
        ax.set_ylim(0, float(np.max(top)) * 1.12)  # room for the numbers above the bars
    ax.set_xticks(x, labels)
    ax.set_ylabel(ylabel or "speed of learning ‖∂C/∂b‖")
    ax.set_title(title or "Learning speed per hidden layer")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return _finish(fig, path)


def plot_training_speed(speeds: Any, path: str | os.PathLike[str] | None = None, *,
                        labels: Sequence[str] | None = None, title: str | None = None) -> Figure:
    """Speed per hidden layer over training, log scale: one line per layer.

    ``speeds``: rows per epoch (``speeds[e][l]``), a ``TrainingSpeedResult``
    or a ``GradientMonitor``. Line k of ``fig.axes[0].lines`` is layer k
    (x = epoch 0, 1, ...)."""
    arr = _matrix(speeds, "plot_training_speed")
    n = arr.shape[1]
    labels = list(labels) if labels is not None else [f"hidden layer {k + 1}" for k in range(n)]
    if len(labels) != n:
        raise ValueError(f"plot_training_speed: {n} layers but {len(labels)} labels")
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot()
    epochs = np.arange(arr.shape[0])
    for k in range(n):
        ax.plot(epochs, arr[:, k], marker="o" if arr.shape[0] <= 40 else None, ms=3, label=labels[k])
    if np.all(arr > 0):
        ax.set_yscale("log")
    ax.set_xlabel("epoch (full-batch steps)")
    ax.set_ylabel("speed of learning ‖∂C/∂b‖")
    ax.set_title(title or "Learning speed per layer during training")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_exploding_window(result: Any, path: str | os.PathLike[str] | None = None, *,
                          title: str | None = None, w_max: float = 100.0) -> Figure:
    """Width of the input window where |w·σ'(w·x + b)| ≥ 1 against |w|.

    ``result``: an ``nn.experiments.ExplodingWindowResult``. Line 0 of
    ``fig.axes[0].lines`` is formula (3) on a grid of |w| from 4 to ``w_max``
    (log x axis), line 1 the measured widths (x = |w| of each row with a
    window, |w| > 4; rows with |w| ≤ 4 have width 0 and no point on the log
    axis), line 2 the measured maximum (one point)."""
    from nn.experiments import window_formula
    rows = [r for r in result.rows if r.has_window]
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot()
    grid = np.geomspace(4.0 + 1e-9, max(w_max, 5.0), 400)
    ax.plot(grid, [window_formula(float(w)) for w in grid], color="#4c72b0", lw=1.5,
            label="formula (3)")
    ax.plot([abs(r.w) for r in rows], [r.width for r in rows], "o", color="#dd8452", ms=5,
            label="measured with the engine")
    ax.plot([result.max_w], [result.max_width], "*", color="black", ms=12,
            label=f"maximum {result.max_width:.4f} at |w| = {result.max_w:.3f}")
    ax.set_xscale("log")
    ax.set_xlabel("|w|")
    ax.set_ylabel("width of the window of x where |w·σ'(wx+b)| ≥ 1")
    ax.set_title(title or "Exploding gradients need |w| > 4 and x in a narrow window")
    ax.set_ylim(0, result.max_width * 1.15)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _finish(fig, path)


# ------------------------------------------------------------------ activations

def _leaky(v: Value) -> Value:
    return v.leaky_relu(0.1)


def _prelu(v: Value) -> Value:
    return ag.prelu(v, Value(0.25))


#: the nine activations of the textbook chapter (title -> f(Value)); leaky ReLU with slope
#: 0.1 and PReLU with its initial slope 0.25 so the negative side is visible
ACTIVATION_FUNCTIONS: dict[str, Callable[[Value], Value]] = {
    "sigmoid σ(x)": Value.sigmoid,
    "tanh": Value.tanh,
    "ReLU": Value.relu,
    "leaky ReLU (γ = 0.1)": _leaky,
    "PReLU (α = 0.25)": _prelu,
    "ELU (α = 1)": Value.elu,
    "softplus": Value.softplus,
    "swish (β = 1)": Value.swish,
    "GELU": Value.gelu,
}


def activation_curves(xs: Sequence[float], functions: dict[str, Callable[[Value], Value]] | None = None
                      ) -> dict[str, tuple[list[float], list[float]]]:
    """name -> (f(x), f'(x)) at each x; f' from the engine
    (:func:`autograd_core.gradients` of f at a leaf x)."""
    functions = ACTIVATION_FUNCTIONS if functions is None else functions
    out = {}
    for name, f in functions.items():
        vals, ders = [], []
        for x in xs:
            v = Value(float(x))
            y = f(v)
            vals.append(y.data)
            ders.append(float(ag.gradients(y, [v])[0]))
        out[name] = (vals, ders)
    return out


def plot_activations(path: str | os.PathLike[str] | None = None, *,
                     x_range: tuple[float, float] = (-5.0, 5.0), points: int = 201,
                     functions: dict[str, Callable[[Value], Value]] | None = None) -> Figure:
    """The textbook chapter's nine activations (sigmoid, tanh, ReLU, leaky ReLU, PReLU,
    ELU, softplus, swish, GELU) and their derivatives, one panel each on a
    3×3 grid. In each panel line 0 is f, line 1 is f' (from the engine)."""
    lo, hi = x_range
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"plot_activations: x_range must be (low, high) with low < high, got {x_range}")
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ValueError(f"plot_activations: points must be an int >= 2, got {points!r}")
    xs = np.linspace(lo, hi, points)
    curves = activation_curves(xs.tolist(), functions)
    rows = math.ceil(len(curves) / 3)
    fig = Figure(figsize=(10.5, 3.0 * rows))
    for i, (name, (vals, ders)) in enumerate(curves.items()):
        ax = fig.add_subplot(rows, 3, i + 1)
        ax.plot(xs, vals, color="#1f77b4", lw=1.8, label="f(x)")
        ax.plot(xs, ders, color="#d62728", lw=1.4, ls="--", label="f'(x) (engine)")
        ax.axhline(0, color="grey", lw=0.6)
        ax.axvline(0, color="grey", lw=0.6)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("Activation functions and their derivatives", fontsize=12)
    return _finish(fig, path)


# ------------------------------------------------------------------ gradient flow

def plot_gradient_flow(model: Any, path: str | os.PathLike[str] | None = None, *,
                       X: Any = None, y: Any = None, loss: Any = None,
                       labels: Sequence[str] | None = None, title: str | None = None) -> Figure:
    """Per-layer gradient norms on a log scale: ‖∂C/∂W‖ (weights) and ‖∂C/∂b‖
    (biases) side by side for every layer, output layer included.

    ``model``: an ``nn`` model, measured on ``X, y`` with ``loss``
    (:func:`nn.diagnostics.layer_gradients`), or, without data, read from the
    parameters' current ``.grad`` (after your own ``backward()``); or a list of
    per-layer norms (one bar per layer). Bars: ``fig.axes[0].containers``,
    weights first."""
    from nn import diagnostics as diag  # visualize does not need nn unless asked
    from nn.module import Module

    if isinstance(model, Module):
        layers = diag.model_layers(model)
        names = [name for name, _ in layers]
        if X is not None or y is not None or loss is not None:
            if X is None or y is None or loss is None:
                raise ValueError("plot_gradient_flow: give X, y and loss together")
            g = diag.layer_gradients(model, X, y, loss)
            wn, bn = g.weight_norms(), g.bias_norms()
        else:
            wn, bn = [], []
            for _, layer in layers:
                wn.append(math.sqrt(math.fsum(float(w.grad) ** 2 for n in layer.neurons for w in n.w)))
                bs = layer.bn.beta if layer.batchnorm else [n.b for n in layer.neurons]
                bn.append(math.sqrt(math.fsum(float(b.grad) ** 2 for b in bs)))
        series = [("weights ‖∂C/∂W‖", wn), ("biases ‖∂C/∂b‖", bn)]
    else:
        arr = np.asarray(model, dtype=float)
        if arr.ndim != 1 or arr.size == 0:
            raise TypeError("plot_gradient_flow: expected an nn model or a list of per-layer norms")
        names = [f"layer {k}" for k in range(arr.size)]
        series = [("‖gradient‖", arr.tolist())]
    n = len(names)
    labels = list(labels) if labels is not None else names
    if len(labels) != n:
        raise ValueError(f"plot_gradient_flow: {n} layers but {len(labels)} labels")
    fig = Figure(figsize=(1.3 * n + 3.0, 3.8))
    ax = fig.add_subplot()
    x = np.arange(n)
    width = 0.8 / len(series)
    for i, (lab, vals) in enumerate(series):
        ax.bar(x + (i - (len(series) - 1) / 2) * width, vals, width=width, label=lab)
    if all(v > 0 for _, vals in series for v in vals):
        ax.set_yscale("log")
    ax.set_xticks(x, labels)
    ax.set_ylabel("gradient norm")
    ax.set_title(title or "Gradient flow: norm per layer (input side left)")
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _finish(fig, path)
