"""Matplotlib pictures of a training run: the loss curve and a 2-D decision boundary.

Both draw on a :class:`matplotlib.figure.Figure` (no pyplot state, no window),
return the figure, and write it to ``path`` (PNG or SVG by the extension,
atomically) when one is given.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .graph import write_atomic

__all__ = ["plot_loss_curve", "plot_decision_boundary", "save_figure"]

_FORMATS = ("png", "svg")


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` (``.png`` or ``.svg``) atomically; returns the path."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        raise ValueError(f"cannot tell the picture format of {str(path)!r}: use .png or .svg")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"directory {str(path.parent)!r} does not exist (for {str(path)!r})")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
    write_atomic(path, buf.getvalue())
    return path


def _series(history: Any, name: str) -> list[float]:
    values = history[name] if not hasattr(history, name) else getattr(history, name)
    return [float(v) for v in values if v is not None]


def plot_loss_curve(history: Any, path: str | os.PathLike[str] | None = None, *,
                    title: str = "Training loss", log: bool = False, ax: Any = None) -> Figure:
    """Loss per epoch of an ``nn.fit`` :class:`~nn.History` (or a dict / list of
    losses), with the validation loss and the training accuracy when present.
    ``ax``: draw into this matplotlib Axes instead of a new figure."""
    if isinstance(history, Sequence) and not isinstance(history, str):
        loss, val, acc = [float(v) for v in history], [], []
    elif isinstance(history, dict) or hasattr(history, "loss"):
        loss = _series(history, "loss")
        val = _series(history, "val_loss") if _has(history, "val_loss") else []
        acc = _series(history, "accuracy") if _has(history, "accuracy") else []
    else:
        raise TypeError(f"plot_loss_curve: expected an nn.History, a dict or a list of losses, "
                        f"not {type(history).__name__}")
    if not loss:
        raise ValueError("plot_loss_curve: the history has no loss values")
    own = ax is None
    fig, ax = _figure_and_axes(ax, (6.0, 3.6))
    epochs = np.arange(1, len(loss) + 1)
    ax.plot(epochs, loss, marker="o", ms=3, color="#1f77b4", label="training loss")
    if val:
        ax.plot(np.arange(1, len(val) + 1), val, marker="s", ms=3, color="#ff7f0e",
                label="validation loss")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(acc) == len(loss):
        ax2 = ax.twinx()
        ax2.plot(epochs, acc, color="#2ca02c", ls="--", label="training accuracy")
        ax2.set_ylabel("accuracy")
        ax2.set_ylim(0, 1.02)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="center right")
    else:
        ax.legend(loc="upper right")
    if own:
        fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def _figure_and_axes(ax: Any, size: tuple[float, float]) -> tuple[Any, Any]:
    if ax is None:
        fig = Figure(figsize=size)
        return fig, fig.add_subplot()
    if not hasattr(ax, "get_figure"):
        raise TypeError(f"ax must be a matplotlib Axes, not {type(ax).__name__}")
    return ax.get_figure(), ax


def _has(history: Any, name: str) -> bool:
    if isinstance(history, dict):
        return name in history
    return hasattr(history, name)


def plot_decision_boundary(model: Any, X: Any, y: Any, path: str | os.PathLike[str] | None = None, *,
                           resolution: int = 80, margin: float = 0.5, threshold: float = 0.5,
                           title: str = "Decision boundary", ax: Any = None) -> Figure:
    """The model's output over a grid around 2-D data ``X`` (n, 2) with labels
    ``y``: filled contours of the predicted probability of class 1 (the first
    output), the ``threshold`` contour as the boundary, and the samples on top.
    ``model`` is an ``nn`` model (evaluated with :func:`nn.predict`) or a
    callable taking an (m, 2) array and returning m scores. ``ax``: draw into
    this matplotlib Axes instead of a new figure."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (n, 2), got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"plot_decision_boundary: {len(X)} samples but {len(y)} labels")
    if not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"plot_decision_boundary: resolution must be an int >= 2, got {resolution!r}")
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.c_[gx.ravel(), gy.ravel()]
    zs = _scores(model, grid).reshape(gx.shape)
    own = ax is None
    fig, ax = _figure_and_axes(ax, (5.2, 4.2))
    cs = ax.contourf(gx, gy, zs, levels=20, cmap="RdBu_r", alpha=0.75)
    if zs.min() < threshold < zs.max():
        ax.contour(gx, gy, zs, levels=[threshold], colors="k", linewidths=1.5)
    fig.colorbar(cs, ax=ax, label="model output")
    for cls, colour, marker in ((0, "#08519c", "o"), (1, "#a50f15", "^")):
        pts = X[y == cls]
        ax.scatter(pts[:, 0], pts[:, 1], s=14, c=colour, marker=marker, edgecolors="white",
                   linewidths=0.4, label=f"class {cls}")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    if own:
        fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def _scores(model: Any, grid: np.ndarray) -> np.ndarray:
    try:
        from nn.module import Module
    except ImportError:  # pragma: no cover - nn ships with the package
        Module = ()  # type: ignore[assignment]
    if isinstance(model, Module):
        from nn.train import predict
        out = predict(model, grid)
    elif callable(model):
        out = model(grid)
        out = np.asarray(getattr(out, "data", out) if type(out).__name__ == "Tensor" else out,
                         dtype=float)  # a Tensor's numbers on purpose: np.asarray(Tensor) raises
    else:
        raise TypeError(f"plot_decision_boundary: model must be an nn model or a callable, "
                        f"not {type(model).__name__}")
    out = np.asarray(out, dtype=float)
    if out.ndim == 2:
        out = out[:, 0]
    if out.shape != (len(grid),):
        raise ValueError(f"plot_decision_boundary: the model gave {out.shape} scores for "
                         f"{len(grid)} grid points")
    return out
