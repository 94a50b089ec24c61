"""One nn API over both backends (issue 16 §1): nn.backends.Backend objects behind
nn.fit / evaluate / predict, the optimizers and clipping, and nn.diagnostics."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd_core import Tensor, Value
from nn import backends
from nn.backends import BACKENDS, Backend, backend_of, backend_of_params

ROOT = Path(__file__).resolve().parent.parent


def _moons(n=40):
    X, y = nn.make_moons(n, noise=0.1, seed=1)
    return X, y


def test_each_model_names_its_backend_object():
    s = nn.MLP(2, [3, 1], seed=0)
    t = nn.MLP(2, [3, 1], seed=0, backend="tensor")
    assert (s.backend, t.backend) == ("scalar", "tensor")
    assert type(t) is nn.TensorMLP and isinstance(t, nn.MLP)
    assert backend_of(s) is BACKENDS["scalar"] is backends.scalar.SCALAR
    assert backend_of(t) is BACKENDS["tensor"] is backends.tensor.TENSOR
    assert backend_of(nn.Linear(2, 3, seed=0)) is backends.tensor.TENSOR
    assert backend_of(nn.Sequential(nn.Layer(2, 3), nn.Layer(3, 1))) is backends.scalar.SCALAR
    # TensorMLP stays a TensorMLP whatever its default backend argument says
    assert type(nn.TensorMLP(2, [3, 1], seed=0)) is nn.TensorMLP
    # the registries the import-cycle fix introduced are these objects
    assert nn.train.BACKENDS is BACKENDS
    assert nn.layers.MLP_BACKENDS == {"scalar": nn.MLP, "tensor": nn.TensorMLP}


def test_old_module_paths_are_the_tensor_backend():
    import nn.tensor_optim
    import nn.tensor_train
    assert nn.tensor_train is nn.tensor_optim is backends.tensor
    from nn.tensor_optim import array_step, clip_grad_norm  # noqa: F401
    from nn.tensor_train import LearningSpeed, encode_targets, fit  # noqa: F401
    assert fit is backends.tensor.fit
    assert LearningSpeed is nn.diagnostics.LearningSpeed  # it serves both backends


def test_unknown_backends_and_non_models_are_refused():
    with pytest.raises(ValueError, match="MLP backend must be 'scalar' or 'tensor', not 'gpu'"):
        nn.MLP(2, [3, 1], backend="gpu")
    X, y = _moons(4)
    for call, who in ((lambda: nn.evaluate(object(), X, y), "evaluate"),
                      (lambda: nn.predict([1, 2], X), "predict")):
        with pytest.raises(TypeError, match=f"^{who}: model must be an nn.Module on a known backend"):
            call()

    class Odd(nn.Module):
        backend = "gpu"

    with pytest.raises(TypeError, match="Odd with backend='gpu'"):
        nn.predict(Odd(), X)
    with pytest.raises(TypeError, match="Odd"):
        nn.diagnostics.model_layers(Odd())


def test_parameters_pick_the_optimizer_backend():
    s = nn.MLP(2, [3, 1], seed=0)
    t = nn.MLP(2, [3, 1], seed=0, backend="tensor")
    assert backend_of_params(s.parameters()) is BACKENDS["scalar"]
    assert backend_of_params(t.parameters()) is BACKENDS["tensor"]
    assert backend_of_params([]) is BACKENDS["scalar"]
    with pytest.raises(TypeError, match="SGD: parameter 1 must be a Value or a Tensor, not str"):
        nn.SGD([s.parameters()[0], "w"])
    with pytest.raises(TypeError, match="Adam: mix of Value and Tensor parameters"):
        nn.Adam(s.parameters() + t.parameters())
    with pytest.raises(TypeError, match="clip_grad_norm: mix of Tensor and Value parameters"):
        nn.clip_grad_norm(t.parameters() + s.parameters(), 1.0)
    opt = nn.SGD(t.parameters(), momentum=0.5)
    assert all(isinstance(v, np.ndarray) and v.shape == p.shape for v, p in zip(opt.v, t.parameters()))
    opt = nn.SGD(s.parameters(), momentum=0.5)
    assert opt.v == [0.0] * len(s.parameters())


def test_same_calls_same_numbers_on_both_backends():
    X, y = _moons(40)
    out = {}
    for backend in ("scalar", "tensor"):
        m = nn.MLP(2, [6, 6, 1], activation="tanh", output_activation="sigmoid", seed=3, backend=backend)
        opt = nn.SGD(m.parameters(), lr=0.3, momentum=0.9, nesterov=True, weight_decay=1e-3)
        h = nn.fit(m, X, y, loss="binary_cross_entropy", optimizer=opt, epochs=3, batch_size=8,
                   clip={"value": 0.05}, l2=0.5, validation=(X[:10], y[:10]), seed=7, progress=False)
        g = nn.diagnostics.layer_gradients(m, X, y, "binary_cross_entropy")
        stats = nn.diagnostics.activation_stats(m, X, threshold=0.5)
        out[backend] = (h, nn.evaluate(m, X, y, "binary_cross_entropy"), nn.predict(m, X), g, stats,
                        m.state_dict(), opt.state_dict()["t"])
    (hs, es, ps, gs, ss, sds, ts), (ht, et, pt, gt, st, sdt, tt) = out["scalar"], out["tensor"]
    np.testing.assert_allclose(hs.loss, ht.loss, rtol=0, atol=1e-12)
    np.testing.assert_allclose(hs.val_loss, ht.val_loss, rtol=0, atol=1e-12)
    assert hs.accuracy == ht.accuracy and hs.val_accuracy == ht.val_accuracy
    assert es[1] == et[1] and abs(es[0] - et[0]) < 1e-12
    np.testing.assert_allclose(ps, pt, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gs.bias_norms(), gt.bias_norms(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(gs.weight_norms(), gt.weight_norms(), rtol=0, atol=1e-12)
    assert [(a.name, a.activation, a.units) for a in ss] == [(a.name, a.activation, a.units) for a in st]
    assert [a.activation for a in ss] == ["tanh", "tanh"] and all(a.saturated > 0 for a in ss)
    np.testing.assert_allclose([a.saturated for a in ss], [a.saturated for a in st], rtol=0, atol=1e-12)
    assert sds.keys() == sdt.keys()
    np.testing.assert_allclose([sds[k] for k in sds], [sdt[k] for k in sds], rtol=0, atol=1e-12)
    assert ts == tt == 15  # 3 epochs of 5 batches


def test_a_bad_validation_pair_is_refused_on_both_backends():
    X, y = _moons(8)
    for backend in ("scalar", "tensor"):
        m = nn.MLP(2, [3, 1], seed=0, backend=backend)
        with pytest.raises(ValueError, match="validation must be a pair"):
            nn.fit(m, X, y, loss="quadratic", optimizer="sgd", epochs=1, batch_size=4,
                   validation=(X, y, y), progress=False)


class _Recording(Backend):
    """A third backend that only records what the public functions hand it."""

    name = "recording"
    param_type = complex  # no real parameter is a complex number

    def __init__(self):
        self.calls = []

    def fit(self, model, X, y, **kw):
        self.calls.append(("fit", kw["clip"], kw["epochs"], kw["loss"]))
        return "history"

    def evaluate(self, model, X, y, loss="quadratic", *, batch_size, threshold=None):
        self.calls.append(("evaluate", loss, batch_size))
        return (0.5, None)

    def predict(self, model, X, *, batch_size):
        self.calls.append(("predict", batch_size))
        return np.zeros((len(X), 1))

    def model_layers(self, model):
        return [("only", model)]

    def activation_stats(self, model, X, threshold, include_output):
        self.calls.append(("activation_stats", threshold, include_output))
        return []


def test_the_public_functions_hand_work_to_the_registered_backend(monkeypatch):
    rec = _Recording()
    monkeypatch.setitem(BACKENDS, "recording", rec)

    class Model(nn.Module):
        backend = "recording"

    m = Model()
    X, y = _moons(4)
    assert nn.fit(m, X, y, loss="quadratic", optimizer="sgd", epochs=np.int64(2), batch_size=2,
                  clip={"value": 0.25}, progress=False) == "history"
    assert nn.evaluate(m, X, y, "cross_entropy") == (0.5, None)
    assert nn.predict(m, X, batch_size=3).shape == (4, 1)
    assert nn.diagnostics.model_layers(m) == [("only", m)]
    assert nn.diagnostics.activation_stats(m, X, threshold=2.0) == []
    assert rec.calls == [("fit", (None, 0.25), 2, "quadratic"), ("evaluate", "cross_entropy", 256),
                         ("predict", 3), ("activation_stats", 2.0, False)]
    with pytest.raises(NotImplementedError):  # the interface's default
        nn.diagnostics.layer_gradients(m, X, y, "quadratic")


def test_no_backend_branches_left_in_the_public_functions():
    """The public layer of nn names no backend: no `_tensor_backend` tests and no
    imports of the Tensor twins in fit/evaluate/predict, the optimizers or diagnostics."""
    pattern = re.compile(r"_tensor_backend|tensor_train|tensor_optim|isinstance\([^)]*, Tensor\)")
    for name in ("train.py", "optim.py", "diagnostics.py"):
        text = (ROOT / "nn" / name).read_text(encoding="utf-8")
        assert not pattern.search(text), (name, pattern.search(text))
    assert Tensor is backends.tensor.TENSOR.param_type and Value is backends.scalar.SCALAR.param_type
