"""nn on Tensors: nn.Linear, nn.MLP(backend="tensor"), fit, state dicts (issue 9, phase 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import nn
from nn import losses as L
from nn.tensor_layers import Linear, TensorMLP
from nn.tensor_train import LearningSpeed, _output_and_loss, _penalties, encode_targets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIGS = [
    dict(activation="sigmoid", output_activation="sigmoid", loss="binary_cross_entropy", nout=3),
    dict(activation="tanh", output_activation="linear", loss="cross_entropy", nout=3),
    dict(activation="relu", output_activation="sigmoid", loss="quadratic", nout=1, batchnorm=True),
    dict(activation="prelu", output_activation="linear", loss="binary_cross_entropy_with_logits",
         nout=1, residual=True),
    dict(activation="gelu", output_activation="softplus", loss="quadratic", nout=2),
    dict(activation="elu", output_activation="linear", loss="cross_entropy", nout=2, batchnorm=True,
         residual=True),
]


def _pair(cfg, seed=3, nin=4, hidden=(5, 5)):
    kw = {k: v for k, v in cfg.items() if k in ("activation", "output_activation", "batchnorm",
                                                 "residual")}
    s = nn.MLP(nin, [*hidden, cfg["nout"]], seed=seed, **kw)
    t = nn.MLP(nin, [*hidden, cfg["nout"]], seed=seed, backend="tensor", **kw)
    return s, t


def _data(n=12, nin=4, nout=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, nin))
    y = rng.randint(0, max(nout, 2), size=n)
    return X, y


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c["activation"] + "-" + c["loss"])
def test_scalar_and_tensor_give_same_loss_and_gradients(cfg):
    s, t = _pair(cfg)
    X, y = _data(nout=cfg["nout"])
    # perturb the scalar model, move its state to the tensor model
    st = {k: v + 0.01 * np.sin(i) for i, (k, v) in enumerate(s.state_dict().items())}
    s.load_state_dict(st)
    t.load_state_dict(st)
    assert t.state_dict() == pytest.approx(st, abs=0, rel=0)
    lam, n = 0.3, 100
    # scalar objective (as nn.fit builds it)
    outs = s.forward_batch([tuple(x) for x in X])
    loss_fn = L.get(cfg["loss"])
    obj_s = nn.losses.l2_penalty(s, lam, n) + sum((loss_fn(o, int(c)) for o, c in zip(outs, y)),
                                                  start=0.0) * (1.0 / len(X))
    obj_s.backward()
    grads_s = {k: p.grad for k, p in s.named_parameters()}
    # tensor objective
    Y, _ = encode_targets(y, len(X), cfg["nout"], "test")
    _, obj_t = _output_and_loss(t, X, Y, cfg["loss"])
    obj_t = obj_t + _penalties(t.weights(), lam, 0.0, n)
    obj_t.backward()
    grads_t = t.scalar_grads()
    assert set(grads_t) == set(grads_s)
    assert float(obj_t.data) == pytest.approx(obj_s.data, abs=1e-12, rel=1e-12)
    for k in grads_s:
        assert grads_t[k] == pytest.approx(grads_s[k], abs=1e-12, rel=1e-10), k
    # and back: the tensor state loads into a fresh scalar model
    s2, _ = _pair(cfg, seed=99)
    s2.load_state_dict(t.state_dict())
    assert s2.state_dict() == t.state_dict()


@pytest.mark.parametrize("opt,kw", [("SGD", dict(lr=0.3, momentum=0.5, nesterov=True, weight_decay=0.01)),
                                    ("Adam", dict(lr=0.01)), ("RMSProp", dict(lr=0.01)),
                                    ("AdaGrad", dict(lr=0.1))])
@pytest.mark.parametrize("clip", [None, 0.5, {"value": 0.05}])
def test_fit_trains_identically(opt, kw, clip):
    # (no BatchNorm here: its bias gradients are sums that cancel to rounding
    # noise, which Adam/RMSProp normalise to full-size steps of random sign, so
    # two correct implementations drift apart there; see the SGD test below)
    cfg = CONFIGS[1] if clip != 0.5 else CONFIGS[4]
    s, t = _pair(cfg)
    X, y = _data(n=20, nout=cfg["nout"])
    hist = []
    for m in (s, t):
        o = getattr(nn.optim, opt)(m.parameters(), **kw)
        hist.append(nn.fit(m, X, y, loss=cfg["loss"], optimizer=o, epochs=2, batch_size=6,
                           l2=0.2, clip=clip, seed=4, progress=False, validation=(X[:5], y[:5])))
    hs, ht = hist
    np.testing.assert_allclose(ht.batch_loss, hs.batch_loss, rtol=1e-10, atol=1e-13)
    assert ht.accuracy == hs.accuracy and ht.val_accuracy == hs.val_accuracy
    np.testing.assert_allclose(ht.val_loss, hs.val_loss, rtol=1e-10)
    ss, ts = s.state_dict(), t.state_dict()
    assert max(abs(ss[k] - ts[k]) for k in ss) < 1e-12


@pytest.mark.parametrize("cfg", [CONFIGS[2], CONFIGS[5]], ids=["bn-relu", "bn-residual-elu"])
def test_fit_with_batchnorm_trains_identically(cfg):
    s, t = _pair(cfg)
    X, y = _data(n=24, nout=cfg["nout"])
    hs, ht = [nn.fit(m, X, y, loss=cfg["loss"], epochs=3, batch_size=8, seed=1, progress=False,
                     optimizer=nn.optim.SGD(m.parameters(), lr=0.2, momentum=0.9), l2=0.1)
              for m in (s, t)]
    np.testing.assert_allclose(ht.batch_loss, hs.batch_loss, rtol=1e-10, atol=1e-13)
    ss, ts = s.state_dict(), t.state_dict()
    assert max(abs(ss[k] - ts[k]) for k in ss) < 1e-12  # running averages included
    s.eval()
    t.eval()
    np.testing.assert_allclose(nn.predict(t, X), nn.predict(s, X), rtol=1e-12)


def test_tensor_mlp_equals_network2_after_an_epoch():
    """Same draws and the same batches: the Tensor MLP trained by nn.fit
    equals a per-sample implementation of network2's equations."""
    rng = np.random.RandomState(7)
    X = rng.rand(60, 12)
    y = rng.randint(0, 4, 60)
    sizes = [12, 6, 5, 4]
    m = nn.MLP(12, sizes[1:], seed=11, backend="tensor")
    # network2: biases first, then weights, from RandomState(seed)
    r = np.random.RandomState(11)
    bs = [r.randn(k, 1) for k in sizes[1:]]
    ws = [r.randn(k, j) / np.sqrt(j) for j, k in zip(sizes[:-1], sizes[1:])]
    np.testing.assert_array_equal(m.layers[0].weight.data, ws[0])
    eta, lmbda, n, B = 0.5, 5.0, len(X), 10
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    for epoch in range(2):
        order = np.random.RandomState(3).permutation(n) if epoch == 0 else None
        if epoch == 1:
            break
        for s0 in range(0, n, B):
            nb = [np.zeros_like(b) for b in bs]
            nw = [np.zeros_like(w) for w in ws]
            for i in order[s0:s0 + B]:
                a = X[i].reshape(-1, 1)
                acts, zs = [a], []
                for b, w in zip(bs, ws):
                    z = w @ a + b
                    zs.append(z)
                    a = sig(z)
                    acts.append(a)
                t = np.zeros((4, 1))
                t[y[i]] = 1.0
                delta = acts[-1] - t
                dbs, dws = [delta], [delta @ acts[-2].T]
                for l in range(2, len(sizes)):
                    sp = sig(zs[-l]) * (1 - sig(zs[-l]))
                    delta = (ws[-l + 1].T @ delta) * sp
                    dbs.insert(0, delta)
                    dws.insert(0, delta @ acts[-l - 1].T)
                nb = [a + d for a, d in zip(nb, dbs)]
                nw = [a + d for a, d in zip(nw, dws)]
            ws = [(1 - eta * lmbda / n) * w - eta / B * d for w, d in zip(ws, nw)]
            bs = [b - eta / B * d for b, d in zip(bs, nb)]
    nn.fit(m, X, y, loss="binary_cross_entropy", optimizer=nn.optim.SGD(m.parameters(), lr=eta),
           epochs=1, batch_size=B, l2=lmbda, seed=3, progress=False)
    for layer, w, b in zip(m.layers, ws, bs):
        np.testing.assert_allclose(layer.weight.data, w, rtol=0, atol=1e-13)
        np.testing.assert_allclose(layer.bias.data, b[:, 0], rtol=0, atol=1e-13)


def test_linear_layer():
    lin = nn.Linear(3, 2, seed=0)
    assert isinstance(lin, Linear) and lin.weight.shape == (2, 3) and lin.bias.shape == (2,)
    x = np.array([1.0, 2.0, 3.0])
    out = lin(x)
    np.testing.assert_allclose(out.data, lin.weight.data @ x + lin.bias.data)
    assert lin(np.stack([x, x])).shape == (2, 2)
    assert sorted(lin.state_dict()) == sorted(["neurons.0.w.0", "neurons.0.w.1", "neurons.0.w.2",
                                               "neurons.0.b", "neurons.1.w.0", "neurons.1.w.1",
                                               "neurons.1.w.2", "neurons.1.b"])
    layer = nn.Layer(3, 2, activation="linear", seed=0)
    assert layer.state_dict() == lin.state_dict()  # same draws, same names
    with pytest.raises(ValueError, match=r"\(B, 3\).*\(2, 4\)"):
        lin(np.ones((2, 4)))
    with pytest.raises(TypeError, match="Values"):
        lin([nn.layers.Value(1.0)] * 3)
    f32 = nn.Linear(3, 2, activation="tanh", dtype="float32", seed=1)
    assert f32(np.ones((4, 3))).dtype == np.float32


def test_mlp_backend_and_save_load(tmp_path):
    m = nn.MLP(4, [3, 2], activation="relu", backend="tensor", seed=1)
    assert isinstance(m, TensorMLP) and isinstance(m, nn.MLP)
    assert m.num_parameters() == 4 * 3 + 3 + 3 * 2 + 2 == len(m.state_dict())
    with pytest.raises(ValueError, match="backend"):
        nn.MLP(4, [3], backend="gpu")
    path = tmp_path / "m.json"
    m.save(path)
    again = nn.load(path)
    assert isinstance(again, TensorMLP) and again.state_dict() == m.state_dict()
    assert json.loads(path.read_text())["config"]["backend"] == "tensor"
    X = np.random.RandomState(0).rand(7, 4)
    np.testing.assert_allclose(nn.predict(again, X), nn.predict(m, X))
    loss, acc = nn.evaluate(m, X, np.array([0, 1, 0, 1, 1, 0, 1]), "cross_entropy")
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0
    with pytest.raises(ValueError, match="missing"):
        m.load_state_dict({"layers.0.neurons.0.b": 1.0})
    before = m.state_dict()
    with pytest.raises(TypeError):
        m.load_state_dict({**before, "layers.0.neurons.0.b": "x"})
    assert m.state_dict() == before  # nothing half-loaded


def test_learning_speed_monitor_same_on_both_backends():
    s, t = _pair(CONFIGS[0], hidden=(4, 4, 4))
    X, y = _data(n=30, nout=3)
    speeds = []
    for m in (s, t):
        mon = LearningSpeed()
        nn.fit(m, X, y, loss="binary_cross_entropy", optimizer=nn.optim.SGD(m.parameters(), lr=0.5),
               epochs=2, batch_size=10, seed=0, progress=False, callbacks=[mon])
        speeds.append(np.array(mon.speeds))
    assert speeds[0].shape == (2, 4)
    np.testing.assert_allclose(speeds[1], speeds[0], rtol=1e-10)


@pytest.mark.slow
def test_experiment_cli_smoke(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT}
    r = subprocess.run([sys.executable, "-m", "autograd_core", "experiment", "depth-accuracy",
                        "--dataset", "mnist", "--seeds", "1", "--epochs", "2", "--limit", "200",
                        "--out", str(tmp_path), "--format", "json", "--quiet"],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    if "MNIST IDX files not found" in r.stderr:
        pytest.skip("no MNIST files here")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [row["sizes"] for row in doc["summary"]] == [[784, 30, 10], [784, 30, 30, 10],
                                                       [784, 30, 30, 30, 10]]
    assert all(len(row["curve"]) == 2 for row in doc["summary"])
    assert (tmp_path / "depth-accuracy.png").stat().st_size > 1000
    assert json.loads((tmp_path / "results.json").read_text())["runs"]
    bad = subprocess.run([sys.executable, "-m", "autograd_core", "experiment", "depth-accuracy",
                          "--epochs", "0"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--epochs" in bad.stderr


def test_optimizer_state_dict_with_tensor_parameters():
    m = nn.MLP(3, [4, 2], backend="tensor", seed=0)
    X, y = _data(n=10, nin=3, nout=2)
    opt = nn.optim.Adam(m.parameters(), lr=0.01)
    nn.fit(m, X, y, loss="cross_entropy", optimizer=opt, epochs=1, batch_size=5, progress=False)
    state = json.loads(json.dumps(opt.state_dict()))  # JSON-able
    m2 = nn.MLP(3, [4, 2], backend="tensor", seed=0)
    m2.load_state_dict(m.state_dict())
    opt2 = nn.optim.Adam(m2.parameters(), lr=0.01)
    opt2.load_state_dict(state)
    assert opt2.t == opt.t
    for a, b in zip(opt.s + opt.r, opt2.s + opt2.r):
        np.testing.assert_array_equal(a, b)
    for mm, o in ((m, opt), (m2, opt2)):
        nn.fit(mm, X, y, loss="cross_entropy", optimizer=o, epochs=1, batch_size=5, progress=False,
               seed=1)
    assert m.state_dict() == m2.state_dict()
    bad = json.loads(json.dumps(state))
    bad["buffers"]["s"][0] = [1.0, 2.0]
    with pytest.raises(ValueError, match="shape"):
        opt2.load_state_dict(bad)
