"""nn.to_torch / nn.from_torch / nn.to_torch_optimizer (issue 20): outputs and
parameter gradients equal autograd-core's to 1e-12 for every layer, activation,
BatchNorm (train and eval) and residual block, on both backends."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import autograd_core as ag  # noqa: E402
import nn  # noqa: E402
from autograd_core import Tensor  # noqa: E402
from nn.tensor_layers import TensorBatchNorm  # noqa: E402

TOL = 1e-12
ACTS = ["sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "softplus", "swish", "gelu",
        "linear"]


def ours(model, X, C):
    """Outputs (B, k) and parameter gradients (by state-dict name) of Σ C ⊙ out."""
    model.zero_grad()
    if getattr(model, "_tensor_backend", False):
        out = model(X)
        o = out.data.reshape(len(X), -1)
        (out * Tensor(C[:, :o.shape[1]].reshape(out.shape))).sum().backward()
        return o, model.scalar_grads()
    outs = model.forward_batch([list(x) for x in X])
    rows = [r if isinstance(r, list) else [r] for r in outs]
    o = np.array([[v.data for v in r] for r in rows])
    ag.sum([v * float(c) for r, cr in zip(rows, C) for v, c in zip(r, cr)]).backward()
    return o, {n: p.grad for n, p in model.named_parameters()}


def theirs(tm, X, C):
    for p in tm.parameters():
        p.grad = None
    out = tm(torch.tensor(X))
    o = out.detach().numpy().reshape(len(X), -1)
    (out * torch.tensor(C[:, :o.shape[1]].reshape(out.shape))).sum().backward()
    names, _ = tm._autograd_core_names
    params = dict(tm.named_parameters())
    grads = {}
    for key, arr in names.items():
        if key in params:
            g = params[key].grad.numpy()
            for idx in np.ndindex(*arr.shape):
                grads[arr[idx]] = float(g[idx])
    return o, grads


def compare(model, X, seed=0):
    """Largest |difference| of outputs and of gradients (scaled by max(1, |ours|))."""
    C = np.random.default_rng(seed).normal(size=(len(X), 8))
    tm = nn.to_torch(model)
    assert tm.training == model.training
    o1, g1 = ours(model, X, C)
    o2, g2 = theirs(tm, X, C)
    assert o1.shape == o2.shape
    assert set(g1) == set(g2)
    dv = float(np.max(np.abs(o1 - o2) / np.maximum(1.0, np.abs(o1))))
    dg = max((abs(g1[n] - g2[n]) / max(1.0, abs(g1[n])) for n in g1), default=0.0)
    return dv, dg, tm


X = np.random.default_rng(42).normal(size=(6, 3)) * 1.5


@pytest.mark.parametrize("backend", ["scalar", "tensor"])
@pytest.mark.parametrize("act", ACTS)
def test_mlp_every_activation_with_batchnorm_and_residual(act, backend):
    for bn in (False, True):
        model = nn.MLP(3, [3, 3, 2], activation=act, output_activation=act, batchnorm=bn,
                       residual=True, seed=7, backend=backend)
        dv, dg, tm = compare(model, X)
        assert dv <= TOL and dg <= TOL, (act, backend, bn, dv, dg)
        if bn:  # the running averages moved the same way
            for i, layer in enumerate(model.layers[:-1]):
                rm = np.array([v for n, v in model.named_buffers()
                               if n.startswith(f"layers.{i}.bn.running_mean")])
                trm = tm[i].block.bn.running_mean.numpy()
                assert np.max(np.abs(rm - trm)) <= TOL


@pytest.mark.parametrize("backend", ["scalar", "tensor"])
def test_batchnorm_eval_mode_uses_running_averages(backend):
    model = nn.MLP(3, [4, 4, 1], activation="relu", output_activation="sigmoid",
                   batchnorm=True, seed=1, backend=backend)
    for k in range(3):  # move the running averages away from 0 / 1
        if backend == "tensor":
            model(X + k)
        else:
            model.forward_batch([list(x + k) for x in X])
    model.eval()
    dv, dg, tm = compare(model, X)
    assert not tm.training
    assert dv <= TOL and dg <= TOL


@pytest.mark.parametrize("act", ACTS)
def test_single_modules(act):
    modules = [
        nn.Neuron(3, act, seed=2),
        nn.Layer(3, 2, act, seed=2),
        nn.Layer(3, 3, act, seed=2, batchnorm=True, residual=True),
        nn.Linear(3, 2, act, seed=2),
        nn.Linear(3, 3, act, seed=2, batchnorm=True, residual=True),
        nn.Sequential(nn.Layer(3, 4, act, seed=3), nn.BatchNorm(4), nn.Residual(nn.Layer(4, 4, act, seed=4)),
                      nn.Layer(4, 2, "linear", seed=5)),
    ]
    for m in modules:
        dv, dg, _ = compare(m, X)
        assert dv <= TOL and dg <= TOL, (m, dv, dg)


@pytest.mark.parametrize("cls", [nn.BatchNorm, TensorBatchNorm])
def test_batchnorm_alone_train_and_eval(cls):
    bn = cls(3, eps=1e-3, momentum=0.2)
    dv, dg, _ = compare(bn, X)
    assert dv <= TOL and dg <= TOL
    bn.eval()
    dv, dg, tm = compare(bn, X)
    assert dv <= TOL and dg <= TOL and tm.eps == 1e-3 and tm.momentum == 0.2


def test_callable_activations_by_name_and_custom_refused():
    m = nn.MLP(3, [2], activation=ag.Value.tanh, seed=0)
    dv, dg, tm = compare(m, X)
    assert dv <= TOL and isinstance(tm[0].act, torch.nn.Tanh)
    custom = nn.MLP(3, [2], activation=lambda z: z * z, seed=0)
    with pytest.raises(TypeError, match="custom"):
        nn.to_torch(custom)


def test_float32_and_dtype_checks():
    m = nn.MLP(3, [2], seed=0)
    tm = nn.to_torch(m, dtype=torch.float32)
    assert next(tm.parameters()).dtype == torch.float32
    with pytest.raises(ValueError, match="dtype"):
        nn.to_torch(m, dtype=torch.int64)
    with pytest.raises(TypeError, match="nn Module"):
        nn.to_torch(object())


@pytest.mark.parametrize("backend", ["scalar", "tensor"])
def test_from_torch_loads_weights_back(backend):
    model = nn.MLP(3, [4, 2], activation="prelu", batchnorm=True, seed=3, backend=backend)
    tm = nn.to_torch(model)
    with torch.no_grad():
        for p in tm.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype, generator=torch.Generator().manual_seed(0)))
    tm(torch.tensor(X))  # running averages move too
    like = nn.MLP(3, [4, 2], activation="prelu", batchnorm=True, seed=99, backend=backend)
    assert nn.from_torch(tm, like=like) is like
    back = nn.to_torch(like).state_dict()
    for k, v in tm.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        assert torch.equal(back[k], v), k


def test_from_torch_checks_before_changing():
    model = nn.MLP(3, [4, 2], seed=3)
    before = model.state_dict()
    wrong = nn.to_torch(nn.MLP(3, [5, 2], seed=3))
    with pytest.raises(ValueError, match="shape"):
        nn.from_torch(wrong, like=model)
    assert model.state_dict() == before
    with pytest.raises(ValueError, match="has no"):
        nn.from_torch(torch.nn.Linear(3, 2), like=model)
    assert model.state_dict() == before


OPTS = {
    "sgd": lambda p: nn.SGD(p, lr=0.05),
    "momentum": lambda p: nn.SGD(p, lr=0.05, momentum=0.8, weight_decay=0.01),
    "nesterov": lambda p: nn.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    "adagrad": lambda p: nn.AdaGrad(p, lr=0.1, eps=1e-10),
    "rmsprop": lambda p: nn.RMSProp(p, lr=0.01, rho=0.9, eps=0.0),
    "adam": lambda p: nn.Adam(p, lr=0.01, weight_decay=0.001),
}


def _loss_ours(model, X, y):
    if getattr(model, "_tensor_backend", False):
        d = model(X).reshape(-1) - Tensor(y)
        return (d * d).sum() * (1.0 / len(y))
    outs = model.forward_batch([list(x) for x in X])
    return ag.sum([(o[0] - t) * (o[0] - t) for o, t in zip(outs, y)]) * (1.0 / len(y))


@pytest.mark.parametrize("backend", ["scalar", "tensor"])
@pytest.mark.parametrize("name", list(OPTS))
def test_training_continues_in_torch_with_the_same_steps(name, backend):
    rng = np.random.default_rng(5)
    Xs, y = rng.normal(size=(8, 3)), rng.normal(size=8)
    model = nn.MLP(3, [4, 1], activation="tanh", output_activation="linear", seed=4,
                   backend=backend)
    opt = OPTS[name](model.parameters())
    for _ in range(3):  # some steps here, so the optimizer has state
        model.zero_grad()
        _loss_ours(model, Xs, y).backward()
        opt.step()
    tm = nn.to_torch(model)
    topt = nn.to_torch_optimizer(opt, tm)
    worst = 0.0
    for _ in range(4):
        model.zero_grad()
        ours_loss = _loss_ours(model, Xs, y)
        ours_loss.backward()
        opt.step()
        topt.zero_grad()
        tl = ((tm(torch.tensor(Xs)).reshape(-1) - torch.tensor(y)) ** 2).mean()
        tl.backward()
        topt.step()
        lv = float(ours_loss.data)
        worst = max(worst, abs(lv - tl.item()) / max(1.0, abs(lv)))
    back = nn.to_torch(model).state_dict()
    for k, v in tm.state_dict().items():
        assert torch.allclose(back[k], v, rtol=TOL, atol=TOL), (k, back[k] - v)
    assert worst <= TOL


def test_rmsprop_eps_mismatch_is_said():
    model = nn.MLP(3, [1], seed=0)
    tm = nn.to_torch(model)
    with pytest.raises(ValueError, match="eps"):
        nn.to_torch_optimizer(nn.RMSProp(model.parameters(), lr=0.01), tm)
    assert isinstance(nn.to_torch_optimizer(nn.RMSProp(model.parameters(), lr=0.01), tm,
                                            exact=False), torch.optim.RMSprop)
    with pytest.raises(ValueError, match="part of"):
        nn.to_torch_optimizer(nn.SGD(model.parameters()[:2], lr=0.1), tm)
    with pytest.raises(ValueError, match="nn.to_torch"):
        nn.to_torch_optimizer(nn.SGD(model.parameters(), lr=0.1), torch.nn.Linear(3, 1))


def test_missing_torch_names_the_extra(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"pip install autograd-core\[export\]"):
        nn.to_torch(nn.MLP(2, [1], seed=0))
