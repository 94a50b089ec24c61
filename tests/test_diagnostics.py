"""nn.diagnostics: learning speeds, gradient norms, activation statistics,
verdicts and the GradientMonitor callback, checked against an independent
numpy implementation of network2's equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from nn import diagnostics as diag
from nn.experiments import find_data, synthetic_digits

from _gradnumpy import average_gradients, model_params, network2_params, speeds as np_speeds

MNIST = find_data()
needs_mnist = pytest.mark.skipif(MNIST is None or MNIST[0] != "mnist",
                                 reason="real MNIST (../shared/data/mnist) not found")


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def _mnist(n):
    X, y = nn.load_mnist(MNIST[1], limit=n)
    return X, y


def _sigmoid_mlp(sizes, seed):
    return nn.MLP(sizes[0], sizes[1:], activation="sigmoid", output_activation="sigmoid",
                  init="nielsen", seed=seed)


# ------------------------------------------------------------------ against numpy

def test_nielsen_init_draws_exactly_as_network2():
    sizes = [784, 30, 30, 30, 10]
    model = _sigmoid_mlp(sizes, 3)
    W, B = model_params(model)
    W2, B2 = network2_params(sizes, 3)
    for a, b in zip(W + B, W2 + B2):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("seed", [0, 7])
def test_bias_gradients_match_numpy_on_synthetic(seed):
    X, y = synthetic_digits(60, seed=seed)
    model = _sigmoid_mlp([784, 30, 30, 30, 10], seed)
    g = diag.layer_gradients(model, X, y, "binary_cross_entropy", chunk_size=25)
    gb, gw = average_gradients(*model_params(model), X, y)
    assert len(g.biases) == 4
    for mine, ref in zip(g.biases, gb):
        assert _rel(mine, ref) < 1e-10
    for mine, ref in zip(g.weights, gw):
        mine = np.asarray(mine)
        # weights: relative to the layer's largest entry (single entries can be ~0)
        assert np.max(np.abs(mine - ref)) <= 1e-10 * np.max(np.abs(ref))


@needs_mnist
@pytest.mark.slow
def test_bias_gradients_match_numpy_on_mnist():
    X, y = _mnist(100)
    for sizes, seed in (([784, 30, 30, 30, 10], 0), ([784, 30, 30, 30, 30, 10], 4)):
        model = _sigmoid_mlp(sizes, seed)
        g = diag.layer_gradients(model, X, y, "binary_cross_entropy")
        gb, _ = average_gradients(*network2_params(sizes, seed), X, y)
        for m, r in zip(g.biases, gb):
            assert _rel(m, r) < 1e-10
        sp = g.bias_norms()[:-1]
        assert _rel(sp, np_speeds(*network2_params(sizes, seed), X, y)) < 1e-10
        assert all(a < b for a, b in zip(sp, sp[1:]))


def test_learning_speeds_and_gradient_norms_are_norms_of_the_vectors():
    X, y = synthetic_digits(20, seed=1, size=16, classes=3)
    model = _sigmoid_mlp([16, 5, 4, 3], 2)
    g = diag.layer_gradients(model, X, y, "binary_cross_entropy")
    sp = diag.learning_speeds(model, X, y, "binary_cross_entropy")
    assert sp == [math.sqrt(math.fsum(v * v for v in b)) for b in g.biases[:-1]]
    assert diag.learning_speeds(model, X, y, "binary_cross_entropy", include_output=True)[-1] == \
        pytest.approx(math.sqrt(sum(v * v for v in g.biases[-1])), rel=1e-15)
    wn = diag.gradient_norms(model, X, y, "binary_cross_entropy")
    assert len(wn) == 3
    for k, w in enumerate(g.weights):
        assert wn[k] == pytest.approx(math.sqrt(sum(v * v for row in w for v in row)), rel=1e-14)
    assert diag.gradient_norms(model, X, y, "binary_cross_entropy", include_output=False) == wn[:-1]
    gb, gw = average_gradients(*model_params(model), X, y)
    assert _rel(wn, [np.linalg.norm(a) for a in gw]) < 1e-10


def test_chunking_does_not_change_the_gradients():
    X, y = synthetic_digits(30, seed=2, size=16, classes=3)
    model = _sigmoid_mlp([16, 6, 6, 3], 0)
    a = diag.bias_gradients(model, X, y, "binary_cross_entropy")
    b = diag.layer_gradients(model, X, y, "binary_cross_entropy", chunk_size=7).biases
    for u, v in zip(a, b):
        assert _rel(u, v) < 1e-12


def test_other_losses_and_callables_finite_difference():
    X, y = synthetic_digits(8, seed=3, size=9, classes=3)
    model = nn.MLP(9, [4, 3], activation="tanh", output_activation="linear", seed=1)

    def cost():
        out = nn.predict(model, X)
        return float(np.mean([nn.losses.cross_entropy(list(o), int(t)).data for o, t in zip(out, y)]))

    g = diag.layer_gradients(model, X, y, nn.losses.cross_entropy)
    b = model.layers[0].neurons[1].b
    h = 1e-6
    b0 = b.data
    b.assign(b0 + h)
    up = cost()
    b.assign(b0 - h)
    down = cost()
    b.assign(b0)
    assert g.biases[0][1] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-10)
    assert g.cost == pytest.approx(cost(), rel=1e-12)


def test_no_grad_is_touched_and_batchnorm_buffers_are_restored():
    X, y = synthetic_digits(12, seed=4, size=16, classes=3)
    model = nn.MLP(16, [5, 5, 3], activation="relu", output_activation="sigmoid", seed=0,
                   batchnorm=True)
    for p in model.parameters():
        p.grad = 0.5
    before = model.named_buffers()
    sp = diag.learning_speeds(model, X, y, "binary_cross_entropy")
    assert all(p.grad == 0.5 for p in model.parameters())
    assert model.named_buffers() == before
    # BatchNorm cancels the neurons' biases: the layer's speed is measured on beta
    g = diag.layer_gradients(model, X, y, "binary_cross_entropy")
    assert sp[0] == pytest.approx(math.sqrt(sum(v * v for v in g.biases[0])))
    model.zero_grad()
    obj = nn.losses.binary_cross_entropy
    import autograd_core as ag
    outs = model.forward_batch([tuple(r) for r in X.tolist()])
    loss = ag.sum([obj(o, int(t)) for o, t in zip(outs, y)]) * (1 / len(X))
    loss.backward()
    beta = [b.grad for b in model.layers[0].bn.beta]
    assert _rel(g.biases[0], beta) < 1e-10
    assert max(abs(n.b.grad) for n in model.layers[0].neurons) < 1e-12


def test_bad_input():
    model = _sigmoid_mlp([4, 3, 2], 0)
    X = np.zeros((5, 4))
    with pytest.raises(ValueError, match="5 samples but y has 4"):
        diag.learning_speeds(model, X, [0, 1, 0, 1], "binary_cross_entropy")
    with pytest.raises(ValueError, match="unknown loss"):
        diag.learning_speeds(model, X, [0] * 5, "nope")
    with pytest.raises(ValueError, match="chunk_size"):
        diag.layer_gradients(model, X, [0] * 5, "quadratic", chunk_size=0)
    with pytest.raises(ValueError, match="at least one example"):
        diag.learning_speeds(model, np.zeros((0, 4)), [], "quadratic")
    with pytest.raises(TypeError, match="nn.Module"):
        diag.learning_speeds("model", X, [0] * 5, "quadratic")
    with pytest.raises(ValueError, match="no nn.Layer"):
        diag.learning_speeds(nn.Sequential(nn.BatchNorm(4)), X, [0] * 5, "quadratic")
    tensor_model = nn.MLP(4, [3, 2], backend="tensor", seed=0)  # measured, not refused
    assert diag.learning_speeds(tensor_model, X, [0] * 5, "quadratic") == pytest.approx(
        diag.learning_speeds(nn.MLP(4, [3, 2], seed=0), X, [0] * 5, "quadratic"), rel=1e-10)
    with pytest.raises(ValueError, match="X has 5 samples but y has 4"):
        diag.learning_speeds(nn.MLP(4, [3, 2], seed=0), X, [0] * 4, "quadratic")


# ------------------------------------------------------------------ verdicts

def test_verdicts_and_thresholds():
    assert diag.verdict([0.001, 0.01, 0.2]) == "vanishing"       # ratio 0.005
    assert diag.verdict([0.01, 0.06, 0.3]) == "vanishing"        # ratio 1/30: 30x slower
    assert diag.verdict([0.2, 0.25, 0.3]) == "balanced"          # ratio 2/3
    assert diag.verdict([500.0, 2.0, 1.0]) == "exploding"        # ratio 500
    assert diag.verdict([0.0, 0.0]) == "no gradient"
    assert diag.verdict([0.0, 0.3, 0.0]) == "undefined"          # 0/0, but a layer learns
    assert diag.verdict([0.4]) == diag.verdict([1e-9]) == "one layer"   # nothing to compare
    assert diag.verdict([0.0]) == "no gradient"
    assert diag.verdict([]) == "no gradient"
    assert diag.verdict([1.0, 0.0]) == "exploding"               # x/0 = inf
    assert diag.verdict([0.01, 0.06, 0.3], vanishing=0.05) == "vanishing"
    assert diag.verdict([50.0, 1.0], exploding=10) == "exploding"
    assert diag.verdict([0.0999, 1.0]) == "vanishing" and diag.verdict([0.1, 1.0]) == "balanced"
    assert diag.verdict([10.0, 1.0]) == "balanced" and diag.verdict([10.01, 1.0]) == "exploding"
    assert diag.verdict([0.01, 0.06, 0.3], vanishing=0.01) == "balanced"
    assert "vanishing if r < 0.1" in diag.VERDICT_RULE and "exploding if r > 10" in diag.VERDICT_RULE
    assert "r < 0.05" in diag.verdict_rule(0.05, 20)
    assert diag.speed_ratio([2.0, 8.0]) == 0.25
    with pytest.raises(ValueError, match="below"):
        diag.verdict([1.0], vanishing=10, exploding=5)
    with pytest.raises(ValueError, match="positive"):
        diag.verdict([1.0], vanishing=-1)


def test_activity_notes():
    assert diag.activity_notes([0.2, 0.5, None], [None, None, 0.75]) == [
        "saturated: hidden 2", "dead units: hidden 3"]
    assert diag.activity_notes([0.49], [0.49]) == []
    assert diag.activity_notes([0.3], [], saturated_fraction=0.25) == ["saturated: hidden 1"]


# ------------------------------------------------------------------ activations

def _set(model, weights, biases):
    for layer, W, b in zip(model.layers, weights, biases):
        for n, row, bj in zip(layer.neurons, W, b):
            for w, v in zip(n.w, row):
                w.assign(v)
            n.b.assign(bj)


def test_saturated_sigmoid_and_tanh_units():
    for act in ("sigmoid", "tanh"):
        model = nn.MLP(2, [3, 1], activation=act, output_activation="sigmoid", seed=0)
        # unit 0: z = 10 x0 (saturated when |10 x0| > 4), unit 1: z = 0, unit 2: z = -5
        _set(model, [[[10, 0], [0, 0], [0, 0]], [[1, 1, 1]]], [[0, 0, -5], [0]])
        X = np.array([[1.0, 0.0], [0.1, 0.0]])       # unit 0: z = 10 and 1
        (st,) = diag.activation_stats(model, X)
        assert st.activation == act and st.units == 3 and st.dead is None
        assert st.saturated == pytest.approx(3 / 6)    # (10), (-5), (-5) of 6 pairs
        (st,) = diag.activation_stats(model, X, threshold=5.0)
        assert st.saturated == pytest.approx(1 / 6)    # only |10| > 5
        assert len(diag.activation_stats(model, X, include_output=True)) == 2


def test_dead_relus():
    model = nn.MLP(2, [4, 1], activation="relu", output_activation="sigmoid", seed=0)
    # units 0, 1 dead on both examples (z <= 0), unit 2 alive on one, unit 3 alive
    _set(model, [[[-1, 0], [0, -1], [1, -1], [1, 1]], [[1, 1, 1, 1]]], [[0, -1, 0, 0.5], [0]])
    X = np.array([[1.0, 1.0], [2.0, 0.5]])
    (st,) = diag.activation_stats(model, X)
    assert st.activation == "relu" and st.saturated is None
    assert st.dead == pytest.approx(2 / 4)
    with pytest.raises(ValueError, match="threshold"):
        diag.activation_stats(model, X, threshold=0)


# ------------------------------------------------------------------ monitor

def test_monitor_every_batch_full_batch_equals_measurement_before_each_step():
    X, y = synthetic_digits(16, seed=5, size=16, classes=3)
    model = _sigmoid_mlp([16, 6, 6, 6, 3], 1)
    W, B = model_params(model)
    mon = diag.GradientMonitor(every=1)
    nn.fit(model, X, y, loss="binary_cross_entropy", optimizer=nn.SGD(model.parameters(), lr=0.5),
           epochs=3, batch_size=16, l2=1.0, callbacks=[mon], progress=False, seed=0)
    assert [(r.epoch, r.batch) for r in mon.records] == [(0, 0), (1, 0), (2, 0)]
    from _gradnumpy import full_batch_step
    for r in mon.records:
        assert _rel(r.speeds, np_speeds(W, B, X, y)) < 1e-10
        W, B = full_batch_step(W, B, X, y, 0.5, 1.0)
        assert r.verdict == diag.verdict(r.speeds)
        assert r.ratio == r.speeds[0] / r.speeds[-1]
        assert len(r.weight_norms) == 4 and r.saturated == [] and r.dead == []
    assert mon.speeds_array().shape == (3, 3)


def test_monitor_epoch_mode_without_probe_is_the_mean_batch_gradient():
    X, y = synthetic_digits(12, seed=6, size=16, classes=3)
    model = _sigmoid_mlp([16, 5, 5, 3], 2)
    snapshot = model.state_dict()
    mon = diag.GradientMonitor()
    nn.fit(model, X, y, loss="binary_cross_entropy", optimizer=nn.SGD(model.parameters(), lr=1e-12),
           epochs=1, batch_size=5, callbacks=[mon], progress=False, seed=0)
    (rec,) = mon.records
    assert rec.batch is None
    # with a negligible learning rate the epoch's size-weighted mean of batch gradients
    # equals the full-data gradient at the initial parameters
    fresh = _sigmoid_mlp([16, 5, 5, 3], 2)
    fresh.load_state_dict(snapshot)
    assert _rel(rec.speeds, diag.learning_speeds(fresh, X, y, "binary_cross_entropy")) < 1e-9


def test_monitor_with_probe_records_activity_and_the_final_state():
    X, y = synthetic_digits(10, seed=7, size=16, classes=3)
    model = _sigmoid_mlp([16, 4, 4, 3], 3)
    initial = diag.learning_speeds(model, X, y, "binary_cross_entropy")
    mon = diag.GradientMonitor(probe=(X, y), loss="binary_cross_entropy", saturation=0.5,
                               vanishing=0.5, exploding=2.0)
    nn.fit(model, X, y, loss="binary_cross_entropy", optimizer="sgd", epochs=2, batch_size=5,
           callbacks=[mon], progress=False, seed=0)
    assert [r.epoch for r in mon.records] == [0, 1, 2]
    assert mon.records[0].speeds == initial
    assert mon.records[-1].speeds == diag.learning_speeds(model, X, y, "binary_cross_entropy")
    for r in mon.records:
        assert len(r.saturated) == 2 and all(0.0 <= s <= 1.0 for s in r.saturated)
        assert r.dead == [None, None]
        assert r.verdict == diag.verdict(r.speeds, vanishing=0.5, exploding=2.0)
    assert mon.epoch_verdicts() == [diag.verdict(s, vanishing=0.5, exploding=2.0)
                                    for s in mon.epoch_speeds()]
    d = mon.to_dict()
    assert d["vanishing"] == 0.5 and len(d["records"]) == 3


def test_monitor_every_k_batches_with_probe():
    X, y = synthetic_digits(12, seed=8, size=16, classes=3)
    model = _sigmoid_mlp([16, 4, 4, 3], 0)
    mon = diag.GradientMonitor(probe=(X[:4], y[:4]), loss="binary_cross_entropy", every=2)
    nn.fit(model, X, y, loss="binary_cross_entropy", optimizer="sgd", epochs=2, batch_size=3,
           callbacks=[mon], progress=False, seed=0)
    assert [(r.epoch, r.batch) for r in mon.records] == [(0, 1), (0, 3), (1, 1), (1, 3)]
    assert len(mon.epoch_speeds()) == 2


def test_monitor_bad_arguments():
    with pytest.raises(ValueError, match="every"):
        diag.GradientMonitor(every=0)
    with pytest.raises(ValueError, match="every"):
        diag.GradientMonitor(every="batch")
    with pytest.raises(ValueError, match="loss"):
        diag.GradientMonitor(probe=([[1.0]], [0]))
    with pytest.raises(ValueError, match="pair"):
        diag.GradientMonitor(probe=[1, 2, 3], loss="quadratic")
    with pytest.raises(ValueError, match="below"):
        diag.GradientMonitor(vanishing=1.0, exploding=0.5)
    with pytest.raises(ValueError, match="saturation"):
        diag.GradientMonitor(saturation=-1)


def test_sequential_and_single_layer_models():
    first = nn.Layer(2, 2, "relu", weights=[[-1.0, -1.0], [1.0, 0.0]], biases=[0.0, 0.0])
    model = nn.Sequential(first, nn.Layer(2, 2, "sigmoid", seed=1))
    X = np.array([[1.0, 2.0], [3.0, 0.5]])
    (st,) = diag.activation_stats(model, X)
    assert st.name == "layers.0" and st.dead == 0.5
    assert [n for n, _ in diag.hidden_layers(model)] == ["layers.0"]
    single = nn.Layer(2, 3, "tanh", weights=[[5.0, 0.0], [0.0, 0.0], [0.0, 0.0]], biases=[0, 0, 0])
    (st,) = diag.activation_stats(single, X, include_output=True)
    assert st.name == "" and st.saturated == pytest.approx(2 / 6)   # z = 5 and 15 > 4
    assert diag.learning_speeds(single, X, [0, 1], "quadratic") == []
