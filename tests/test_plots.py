"""visualize.plots: files are written, and the plotted numbers are the computed ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
import visualize
from nn import diagnostics as diag
from nn.experiments import synthetic_digits
from visualize import plots

PNG = b"\x89PNG\r\n\x1a\n"


def _bars(ax):
    return [p.get_height() for p in ax.patches]


@pytest.mark.parametrize("ext", ["png", "svg"])
def test_learning_speeds_bars_are_the_means(tmp_path, ext):
    rows = [[0.01, 0.06, 0.3], [0.02, 0.07, 0.25], [0.015, 0.05, 0.28]]
    path = tmp_path / f"speeds.{ext}"
    fig = visualize.plot_learning_speeds(rows, path, reference=[0.012, 0.060, 0.283])
    data = path.read_bytes()
    assert len(data) > 1000
    assert data.startswith(PNG) if ext == "png" else b"<svg" in data
    ax = fig.axes[0]
    assert _bars(ax) == pytest.approx(np.mean(rows, axis=0).tolist(), rel=1e-15)
    ref = [line for line in ax.lines if line.get_marker() == "D"][0]
    assert list(ref.get_ydata()) == [0.012, 0.060, 0.283]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["hidden 1", "hidden 2", "hidden 3"]


def test_learning_speeds_from_a_result_and_a_flat_list():
    X, y = synthetic_digits(10, seed=0, size=16)
    model = nn.MLP(16, [4, 4, 10], seed=0)
    sp = diag.learning_speeds(model, X, y, "binary_cross_entropy")
    fig = plots.plot_learning_speeds(sp)
    assert _bars(fig.axes[0]) == sp

    class R:
        speeds = [sp, [2 * v for v in sp]]

    assert _bars(plots.plot_learning_speeds(R()).axes[0]) == pytest.approx([1.5 * v for v in sp])


def test_training_speed_lines_log_scale(tmp_path):
    rows = [[0.01 * (k + 1), 0.05 * (k + 1), 0.3] for k in range(5)]
    fig = visualize.plot_training_speed(rows, tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes().startswith(PNG)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert len(ax.lines) == 3
    for k, line in enumerate(ax.lines):
        assert list(line.get_xdata()) == list(range(5))
        assert list(line.get_ydata()) == [r[k] for r in rows]


def test_training_speed_from_a_monitor():
    X, y = synthetic_digits(8, seed=1, size=16)
    model = nn.MLP(16, [4, 4, 10], seed=1)
    mon = diag.GradientMonitor(every=1)
    nn.fit(model, X, y, loss="binary_cross_entropy", optimizer="sgd", epochs=3, batch_size=8,
           callbacks=[mon], progress=False)
    fig = plots.plot_training_speed(mon)
    for k, line in enumerate(fig.axes[0].lines):
        assert list(line.get_ydata()) == [r.speeds[k] for r in mon.records]


def _sig(x):
    return 1 / (1 + math.exp(-x))


def _phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


# independent closed forms (not the engine's rules): f and f'
CLOSED = {
    "sigmoid σ(x)": (_sig, lambda x: _sig(x) * (1 - _sig(x))),
    "tanh": (math.tanh, lambda x: 1 - math.tanh(x) ** 2),
    "ReLU": (lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0),
    "leaky ReLU (γ = 0.1)": (lambda x: x if x > 0 else 0.1 * x, lambda x: 1.0 if x > 0 else 0.1),
    "PReLU (α = 0.25)": (lambda x: x if x > 0 else 0.25 * x, lambda x: 1.0 if x > 0 else 0.25),
    "ELU (α = 1)": (lambda x: x if x > 0 else math.expm1(x), lambda x: 1.0 if x > 0 else math.exp(x)),
    "softplus": (lambda x: math.log1p(math.exp(x)), _sig),
    "swish (β = 1)": (lambda x: x * _sig(x), lambda x: _sig(x) + x * _sig(x) * (1 - _sig(x))),
    "GELU": (lambda x: x * _phi(x),
             lambda x: _phi(x) + x * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)),
}


def test_activations_grid_values_and_engine_derivatives(tmp_path):
    fig = visualize.plot_activations(tmp_path / "act.svg", points=41)
    assert b"<svg" in (tmp_path / "act.svg").read_bytes()
    axes = fig.axes
    assert len(axes) == 9
    assert [ax.get_title() for ax in axes] == list(CLOSED)
    for ax in axes:
        f, df = CLOSED[ax.get_title()]
        value_line, deriv_line = ax.lines[0], ax.lines[1]
        xs = value_line.get_xdata()
        assert len(xs) == 41 and xs[0] == -5.0 and xs[-1] == 5.0
        for x, v, d in zip(xs, value_line.get_ydata(), deriv_line.get_ydata()):
            assert v == pytest.approx(f(x), rel=1e-12, abs=1e-15)
            assert d == pytest.approx(df(x), rel=1e-12, abs=1e-15)


def test_activation_curves_use_the_engine_kink_conventions():
    curves = plots.activation_curves([0.0])
    assert curves["ReLU"][1] == [0.0]               # relu'(0) = 0
    assert curves["leaky ReLU (γ = 0.1)"][1] == [0.1]  # the x <= 0 branch
    assert curves["sigmoid σ(x)"] == ([0.5], [0.25])


def test_gradient_flow_from_data_and_from_grads(tmp_path):
    X, y = synthetic_digits(10, seed=2, size=16)
    model = nn.MLP(16, [5, 5, 10], seed=2)
    g = diag.layer_gradients(model, X, y, "binary_cross_entropy")
    fig = visualize.plot_gradient_flow(model, tmp_path / "gf.png", X=X, y=y,
                                       loss="binary_cross_entropy")
    assert (tmp_path / "gf.png").read_bytes().startswith(PNG)
    ax = fig.axes[0]
    weights, biases = ax.containers[0], ax.containers[1]
    assert [b.get_height() for b in weights] == g.weight_norms()
    assert [b.get_height() for b in biases] == g.bias_norms()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["layers.0", "layers.1", "layers.2"]
    # from .grad after the user's own backward: the same norms (cost averaged the same way)
    import autograd_core as ag
    outs = model.forward_batch([tuple(r) for r in X.tolist()])
    loss = ag.sum([nn.losses.binary_cross_entropy(o, int(t)) for o, t in zip(outs, y)]) * (1 / len(X))
    loss.backward()
    fig2 = plots.plot_gradient_flow(model)
    got = [b.get_height() for b in fig2.axes[0].containers[0]]
    assert got == pytest.approx(g.weight_norms(), rel=1e-10)
    fig3 = plots.plot_gradient_flow([1.0, 0.1, 0.01])
    assert [b.get_height() for b in fig3.axes[0].containers[0]] == [1.0, 0.1, 0.01]


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match=".png or .svg"):
        plots.plot_learning_speeds([1.0, 2.0], tmp_path / "x.jpg")
    with pytest.raises(FileNotFoundError):
        plots.plot_learning_speeds([1.0, 2.0], tmp_path / "missing" / "x.png")
    with pytest.raises(ValueError, match="labels"):
        plots.plot_learning_speeds([1.0, 2.0], labels=["a"])
    with pytest.raises(ValueError, match="reference"):
        plots.plot_learning_speeds([1.0, 2.0], reference=[1.0])
    with pytest.raises(TypeError):
        plots.plot_training_speed("speeds")
    with pytest.raises(ValueError, match="non-empty"):
        plots.plot_training_speed([])
    with pytest.raises(ValueError, match="x_range"):
        plots.plot_activations(x_range=(1.0, -1.0))
    with pytest.raises(ValueError, match="together"):
        plots.plot_gradient_flow(nn.MLP(2, [2, 2], seed=0), X=np.zeros((1, 2)))
    assert not list(tmp_path.iterdir())
