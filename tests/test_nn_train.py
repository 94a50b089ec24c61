"""nn.fit: accuracy on moons, the callback protocol, regularisation, clipping, reproducibility,
and the network against a plain numpy implementation of network2's equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn


def test_moons_reaches_97_percent_training_accuracy():
    X, y = nn.make_moons(200, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], activation="tanh", output_activation="sigmoid", seed=0)
    opt = nn.Adam(model.parameters(), lr=0.01)
    h = nn.fit(model, X, y, loss="binary_cross_entropy", optimizer=opt, epochs=25, batch_size=20,
               progress=False, seed=0)
    loss, acc = nn.evaluate(model, X, y, "binary_cross_entropy")
    assert acc >= 0.97, (acc, h.accuracy)
    assert h.epochs == 25 and len(h.loss) == 25 and h.loss[-1] < h.loss[0]
    assert math.isclose(loss, nn.evaluate(model, X, y, "binary_cross_entropy")[0])


def test_fit_is_reproducible_with_a_seed():
    X, y = nn.make_xor(40, seed=1)
    runs = []
    for _ in range(2):
        m = nn.MLP(2, [4, 1], seed=3)
        h = nn.fit(m, X, y, loss="quadratic", optimizer=nn.SGD(m.parameters(), lr=0.5), epochs=3,
                   batch_size=8, progress=False, seed=7)
        runs.append((h.batch_loss, m.state_dict()))
    assert runs[0] == runs[1]


class Recorder(nn.Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, model, history):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, model, history):
        self.calls.append(("epoch_begin", epoch))

    def on_after_backward(self, epoch, batch, model, history):
        self.calls.append(("after_backward", epoch, batch, any(p.grad != 0 for p in model.parameters())))

    def on_batch_end(self, epoch, batch, model, history, logs):
        self.calls.append(("batch_end", epoch, batch, logs["size"]))

    def on_epoch_end(self, epoch, model, history):
        self.calls.append(("epoch_end", epoch, len(history.loss)))

    def on_train_end(self, model, history):
        self.calls.append("train_end")


def test_callback_protocol_order_and_arguments():
    X, y = nn.make_moons(10, seed=0)
    m = nn.MLP(2, [3, 1], seed=0)
    rec = Recorder()
    seen = []
    nn.fit(m, X, y, loss="quadratic", optimizer="sgd", epochs=2, batch_size=4, progress=False,
           callbacks=[rec, lambda epoch, model, history: seen.append(epoch)])
    per_epoch = [("epoch_begin", 0), ("after_backward", 0, 0, True), ("batch_end", 0, 0, 4),
                 ("after_backward", 0, 1, True), ("batch_end", 0, 1, 4),
                 ("after_backward", 0, 2, True), ("batch_end", 0, 2, 2), ("epoch_end", 0, 1)]
    second = [(c[0], 1) + c[2:] if c[0] != "epoch_end" else ("epoch_end", 1, 2) for c in per_epoch]
    assert rec.calls == ["train_begin"] + per_epoch + second + ["train_end"]
    assert seen == [0, 1]


def test_gradients_seen_before_the_step_are_those_of_the_current_parameters():
    X, y = nn.make_moons(8, seed=0)
    m = nn.MLP(2, [3, 1], seed=0)
    snaps = []

    class Snap:
        def on_after_backward(self, epoch, batch, model, history):
            snaps.append(([p.data for p in model.parameters()], [p.grad for p in model.parameters()]))

    opt = nn.SGD(m.parameters(), lr=0.1)
    nn.fit(m, X, y, loss="quadratic", optimizer=opt, epochs=1, batch_size=8, progress=False,
           callbacks=[Snap()], seed=0)
    (data, grads), = snaps
    assert [p.data for p in m.parameters()] == [d - 0.1 * g for d, g in zip(data, grads)]


def test_early_stop_and_history():
    X, y = nn.make_moons(20, seed=0)
    m = nn.MLP(2, [3, 1], seed=0)

    class Stop(nn.Callback):
        def on_epoch_end(self, epoch, model, history):
            history.stop_training = epoch == 1

    h = nn.fit(m, X, y, loss="binary_cross_entropy", optimizer="adam", epochs=10, batch_size=5,
               validation=(X[:6], y[:6]), callbacks=[Stop()], progress=False)
    assert h.epochs == 2 and len(h.loss) == len(h.val_loss) == len(h.val_accuracy) == 2
    assert h["accuracy"] is h.accuracy and 0.0 <= h.accuracy[-1] <= 1.0
    assert set(h.to_dict()) == {"epochs", "loss", "accuracy", "val_loss", "val_accuracy"}


def test_l2_in_fit_is_nielsens_weight_decay():
    X = np.array([[0.5, -0.2]])
    y = np.array([1])
    lam, lr = 4.0, 0.1
    m = nn.MLP(2, [1], seed=0)
    w_before = [p.data for p in m.weights()]
    m2 = nn.MLP(2, [1], seed=0)
    nn.fit(m2, X, y, loss="quadratic", optimizer=nn.SGD(m2.parameters(), lr=lr), epochs=1,
           batch_size=1, progress=False)
    nn.fit(m, X, y, loss="quadratic", optimizer=nn.SGD(m.parameters(), lr=lr), epochs=1,
           batch_size=1, l2=lam, progress=False)
    # w ← (1 − ηλ/n) w − η ∂C/∂w  (n = 1 sample); biases are not decayed
    plain = [p.data for p in m2.weights()]
    for w0, w_plain, w in zip(w_before, plain, m.weights()):
        assert math.isclose(w.data, w_plain - lr * lam * w0, rel_tol=1e-13)
    assert m.layers[0].neurons[0].b.data == m2.layers[0].neurons[0].b.data


def test_clip_in_fit_limits_the_gradient_norm():
    X, y = nn.make_moons(10, seed=0)
    m = nn.MLP(2, [3, 1], activation="relu", init="standard_normal", seed=0)
    norms = []

    class Norm:
        def on_after_backward(self, epoch, batch, model, history):
            norms.append(math.sqrt(sum(p.grad ** 2 for p in model.parameters())))

        def on_batch_end(self, epoch, batch, model, history, logs):
            assert logs["grad_norm"] >= norms[-1] - 1e-12

    nn.fit(m, X, y, loss="quadratic", optimizer="sgd", epochs=1, batch_size=5, clip=0.01,
           callbacks=[Norm()], progress=False)
    assert norms and all(n <= 0.01 * (1 + 1e-12) for n in norms)


def test_fit_argument_errors():
    X, y = nn.make_moons(10, seed=0)
    m = nn.MLP(2, [1], seed=0)
    kw = dict(loss="quadratic", optimizer="sgd", epochs=1, batch_size=2, progress=False)
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        nn.fit(m, X, y[:9], **kw)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        nn.fit(m, X, y, **{**kw, "epochs": 0})
    with pytest.raises(ValueError, match="unknown loss"):
        nn.fit(m, X, y, **{**kw, "loss": "nope"})
    with pytest.raises(ValueError, match="clip"):
        nn.fit(m, X, y, **{**kw, "clip": {"max": 1}})
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        nn.fit(m, np.zeros((10, 3)), y, **kw)


def test_fit_prints_nothing_without_a_terminal(capsys):
    X, y = nn.make_moons(10, seed=0)
    nn.fit(nn.MLP(2, [1], seed=0), X, y, loss="quadratic", optimizer="sgd", epochs=1,
           batch_size=5, progress=True)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def network2_bias_gradients(weights, biases, X, Y):
    """Plain numpy backprop of network2's CrossEntropyCost, averaged over the examples."""
    nb = [np.zeros(b.shape) for b in biases]
    nw = [np.zeros(w.shape) for w in weights]
    for x, y in zip(X, Y):
        a = x.reshape(-1, 1)
        acts, zs = [a], []
        for w, b in zip(weights, biases):
            z = w @ a + b
            zs.append(z)
            a = 1 / (1 + np.exp(-z))
            acts.append(a)
        delta = acts[-1] - y.reshape(-1, 1)
        nb[-1] += delta
        nw[-1] += delta @ acts[-2].T
        for ll in range(2, len(weights) + 1):
            sp = acts[-ll] * (1 - acts[-ll])
            delta = (weights[-ll + 1].T @ delta) * sp
            nb[-ll] += delta
            nw[-ll] += delta @ acts[-ll - 1].T
    return [g / len(X) for g in nb], [g / len(X) for g in nw]


def test_gradients_equal_network2_equations_on_the_same_weights():
    sizes = [20, 8, 6, 4]
    m = nn.MLP(20, [8, 6, 4], activation="sigmoid", output_activation="sigmoid", init="nielsen", seed=4)
    np.random.seed(4)
    biases = [np.random.randn(y, 1) for y in sizes[1:]]
    weights = [np.random.randn(y, x) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
    rng = np.random.RandomState(0)
    X = rng.rand(5, 20)
    labels = rng.randint(0, 4, size=5)
    Y = np.eye(4)[labels]
    import autograd_core as ag
    C = ag.sum([nn.binary_cross_entropy(o, int(k)) for o, k in zip(m.forward_batch(X), labels)]) * (1 / 5)
    C.backward()
    nb, nw = network2_bias_gradients(weights, biases, X, Y)
    for layer, gb, gw in zip(m.layers, nb, nw):
        ours_b = np.array([n.b.grad for n in layer.neurons])
        ours_w = np.array([[w.grad for w in n.w] for n in layer.neurons])
        assert np.allclose(ours_b, gb[:, 0], rtol=1e-10, atol=0)
        assert np.allclose(ours_w, gw, rtol=1e-10, atol=1e-300)


def test_evaluate_handles_saturated_sigmoid_outputs():
    m = nn.MLP(1, [1], seed=0)
    m.layers[0].neurons[0].w[0].assign(1000.0)
    m.layers[0].neurons[0].b.assign(0.0)
    loss, acc = nn.evaluate(m, np.array([[1.0], [-1.0]]), np.array([0, 0]), "binary_cross_entropy")
    assert loss == 500.0 and acc == 0.5      # (1000 + 0) / 2, finite
