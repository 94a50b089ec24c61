"""The diagnostics on a backend="tensor" MLP agree with the scalar MLP."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from nn import diagnostics as D


def _pair(sizes, **kw):
    scalar = nn.MLP(sizes[0], sizes[1:], activation="sigmoid", output_activation="sigmoid",
                    seed=3, **kw)
    tensor = nn.MLP(sizes[0], sizes[1:], activation="sigmoid", output_activation="sigmoid",
                    seed=3, backend="tensor", **kw)
    return scalar, tensor


def test_learning_speeds_and_gradient_norms_match_the_scalar_engine():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 12)
    y = rng.randint(0, 4, size=40)
    scalar, tensor = _pair([12, 6, 5, 4])
    s = D.learning_speeds(scalar, X, y, "binary_cross_entropy")
    t = D.learning_speeds(tensor, X, y, "binary_cross_entropy")
    assert len(s) == len(t) == 2
    np.testing.assert_allclose(t, s, rtol=1e-10)
    np.testing.assert_allclose(D.gradient_norms(tensor, X, y, "binary_cross_entropy"),
                               D.gradient_norms(scalar, X, y, "binary_cross_entropy"), rtol=1e-10)
    gs = D.layer_gradients(scalar, X, y, "binary_cross_entropy")
    gt = D.layer_gradients(tensor, X, y, "binary_cross_entropy")
    assert gt.cost == pytest.approx(gs.cost, rel=1e-12)
    np.testing.assert_allclose(np.array(gt.weights[0]), np.array(gs.weights[0]), rtol=1e-9, atol=1e-15)


def test_batchnorm_running_averages_untouched_and_monitor_runs_in_fit():
    rng = np.random.RandomState(1)
    X = rng.rand(30, 8)
    y = rng.randint(0, 3, size=30)
    _, tensor = _pair([8, 5, 3], batchnorm=True)
    bn = tensor.layers[0].bn
    before = bn.running_mean.copy()
    D.learning_speeds(tensor, X, y, "binary_cross_entropy")
    np.testing.assert_array_equal(bn.running_mean, before)
    monitor = D.GradientMonitor()
    nn.fit(tensor, X, y, loss="binary_cross_entropy", optimizer=nn.optim.SGD(tensor.parameters(), lr=0.1),
           epochs=2, batch_size=10, progress=False, seed=0, callbacks=[monitor])
    speeds = monitor.epoch_speeds()
    assert len(speeds) == 2 and all(len(e) == 1 and e[0] > 0 for e in speeds)
    scalar = nn.MLP(8, [5, 3], seed=0, batchnorm=True)
    scalar.load_state_dict(tensor.state_dict())
    before = bn.running_mean.copy()
    st, ss = D.activation_stats(tensor, X, threshold=0.5), D.activation_stats(scalar, X, threshold=0.5)
    np.testing.assert_array_equal(bn.running_mean, before)
    assert [(a.units, a.activation, a.dead) for a in st] == [(a.units, a.activation, a.dead) for a in ss]
    assert st[0].saturated == pytest.approx(ss[0].saturated, abs=1e-12)


def test_tensor_activation_stats_dead_relus_match_the_scalar_model():
    rng = np.random.RandomState(2)
    X = rng.rand(20, 6) - 0.5
    for res in (False, True):
        scalar = nn.MLP(6, [6, 6, 2], activation="relu", seed=3, residual=res)
        tensor = nn.MLP(6, [6, 6, 2], activation="relu", seed=3, residual=res, backend="tensor")
        st, ss = D.activation_stats(tensor, X), D.activation_stats(scalar, X)
        assert [a.dead for a in st] == pytest.approx([a.dead for a in ss])
