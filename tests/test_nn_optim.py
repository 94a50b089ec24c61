"""Optimizers: the seed's update formulas step by step, torch.optim (optional), state, clipping."""

from __future__ import annotations

import json
import math

import pytest

import nn
from autograd_core import Value

# f(θ) = θ², θ0 = 1, lr 0.1: the first five iterates, computed by hand from the
# seed's formulas with 60-digit decimals (see the formulas in nn/optim.py).
HAND = {
    "sgd": (lambda p: nn.SGD(p, lr=0.1),
            [0.8, 0.64, 0.512, 0.4096, 0.32768]),
    # v ← 0.9v − 0.1g, θ ← θ + v:  v1 = −0.2, θ1 = 0.8; v2 = −0.18 − 0.16, θ2 = 0.46; ...
    "momentum": (lambda p: nn.SGD(p, lr=0.1, momentum=0.9),
                 [0.8, 0.46, 0.062, -0.3086, -0.58042]),
    # θ ← θ + 0.9v − 0.1g after v ← 0.9v − 0.1g:  θ1 = 1 − 0.18 − 0.2 = 0.62
    "nesterov": (lambda p: nn.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
                 [0.62, 0.2224, -0.108352, -0.32482304, -0.4157175808]),
    # g ← g + 0.5θ: g0 = 2.5, v1 = −0.25, θ1 = 0.75
    "weight_decay": (lambda p: nn.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.5),
                     [0.75, 0.3375, -0.118125, -0.49865625, -0.7164703125]),
    # r1 = 4, θ1 = 1 − 0.1·2/(1e-7 + 2)
    "adagrad": (lambda p: nn.AdaGrad(p, lr=0.1, eps=1e-7),
                [0.9000000049999998, 0.8331035341186127, 0.780456190054499, 0.7362231423643901,
                 0.6977148725142573]),
    # r1 = 0.1·4 = 0.4, θ1 = 1 − 0.2/√(1e-6 + 0.4)
    "rmsprop": (lambda p: nn.RMSProp(p, lr=0.1, rho=0.9, eps=1e-6),
                [0.6837726292671285, 0.49887110084339326, 0.3691810711712549, 0.27282539106997716,
                 0.19979562682275073]),
    # step 1: ŝ = g, r̂ = g², θ1 = 1 − 0.1·2/(2 + 1e-8)
    "adam": (lambda p: nn.Adam(p, lr=0.1, rho1=0.9, rho2=0.999, eps=1e-8),
             [0.9000000005, 0.8004122286917922, 0.7015862729460296, 0.6039390605737448,
              0.5079636592643407]),
}


def run(make, steps=5, theta0=1.0):
    th = Value(theta0, "theta")
    opt = make([th])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (th * th).backward()
        opt.step()
        out.append(th.data)
    return out


@pytest.mark.parametrize("name", list(HAND))
def test_first_five_steps_equal_hand_computed_values(name):
    make, expected = HAND[name]
    got = run(make)
    for g, e in zip(got, expected):
        assert math.isclose(g, e, rel_tol=1e-13, abs_tol=1e-15), (name, got, expected)


def test_adam_is_not_the_seeds_misprint():
    # the misprinted slide θ ← θ − ε ŝ/√s · g would give 1 − 0.1·2/√0.2·2 on step 1
    th = Value(1.0)
    opt = nn.Adam([th], lr=0.1, eps=0.0)
    (th * th).backward()
    opt.step()
    assert th.data == 0.9


# ------------------------------------------------------------------ torch (optional)

def _torch_pairs():
    return [
        ("sgd", lambda p: nn.SGD(p, lr=0.05), lambda t, p: t.optim.SGD(p, lr=0.05)),
        ("momentum", lambda p: nn.SGD(p, lr=0.05, momentum=0.8),
         lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.8)),
        ("nesterov", lambda p: nn.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
         lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
        ("weight_decay", lambda p: nn.SGD(p, lr=0.05, momentum=0.8, weight_decay=0.1),
         lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.8, weight_decay=0.1)),
        ("adagrad", lambda p: nn.AdaGrad(p, lr=0.1, eps=1e-10),
         lambda t, p: t.optim.Adagrad(p, lr=0.1, eps=1e-10)),
        # torch puts eps outside the square root; with eps = 0 the formulas coincide
        ("rmsprop", lambda p: nn.RMSProp(p, lr=0.01, rho=0.99, eps=0.0),
         lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=0.0)),
        ("adam", lambda p: nn.Adam(p, lr=0.1, rho1=0.9, rho2=0.999, eps=1e-8),
         lambda t, p: t.optim.Adam(p, lr=0.1, betas=(0.9, 0.999), eps=1e-8)),
    ]


@pytest.mark.parametrize("name, ours, theirs", _torch_pairs(), ids=[p[0] for p in _torch_pairs()])
def test_steps_equal_torch_optim(name, ours, theirs):
    torch = pytest.importorskip("torch")
    # f(x, y) = ½(3x² + 0.5y²) + xy, started at (1, −2.5)
    x, y = Value(1.0), Value(-2.5)
    opt = ours([x, y])
    tp = torch.tensor([1.0, -2.5], dtype=torch.float64, requires_grad=True)
    topt = theirs(torch, [tp])
    for _ in range(5):
        opt.zero_grad()
        (0.5 * (3 * x * x + 0.5 * y * y) + x * y).backward()
        opt.step()
        topt.zero_grad()
        f = 0.5 * (3 * tp[0] ** 2 + 0.5 * tp[1] ** 2) + tp[0] * tp[1]
        f.backward()
        topt.step()
        ref = tp.detach().tolist()
        assert math.isclose(x.data, ref[0], rel_tol=1e-12, abs_tol=1e-14), (name, x.data, ref)
        assert math.isclose(y.data, ref[1], rel_tol=1e-12, abs_tol=1e-14), (name, y.data, ref)


# ------------------------------------------------------------------ state

@pytest.mark.parametrize("name", ["momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_state_dict_round_trip_continues_exactly(name):
    make = HAND[name][0]
    straight = run(make, steps=5)
    th = Value(1.0)
    opt = make([th])
    for _ in range(3):
        opt.zero_grad()
        (th * th).backward()
        opt.step()
    saved = json.loads(json.dumps(opt.state_dict()))   # plain JSON data
    th2 = Value(th.data)
    opt2 = make([th2])
    opt2.load_state_dict(saved)
    assert opt2.t == 3
    for _ in range(2):
        opt2.zero_grad()
        (th2 * th2).backward()
        opt2.step()
    assert th2.data == straight[-1]


def test_load_state_dict_mismatches_raise():
    a, b = Value(1.0), Value(2.0)
    adam = nn.Adam([a, b])
    sd = adam.state_dict()
    with pytest.raises(ValueError, match="state is for 'Adam', not 'SGD'"):
        nn.SGD([a, b]).load_state_dict(sd)
    with pytest.raises(ValueError, match="state has 2 parameters, this optimizer has 1"):
        nn.Adam([a]).load_state_dict(sd)
    broken = json.loads(json.dumps(sd))
    broken["buffers"]["s"] = [0.0]
    fresh = nn.Adam([a, b])
    with pytest.raises(ValueError, match="buffer 's' must be a list of 2"):
        fresh.load_state_dict(broken)
    assert fresh.s == [0.0, 0.0] and fresh.t == 0   # unchanged


def test_optimizer_argument_checks():
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.SGD([])
    with pytest.raises(ValueError, match="lr must be a positive"):
        nn.SGD([Value(1.0)], lr=-1)
    x = Value(1.0)
    with pytest.raises(ValueError, match="not a leaf"):
        nn.Adam([x * 2])
    with pytest.raises(TypeError, match="parameter 0 must be a Value"):
        nn.Adam([1.0])
    with pytest.raises(ValueError, match="nesterov"):
        nn.SGD([x], nesterov=True)


def test_params_updated_with_assign_keep_identity():
    m = nn.MLP(2, [2], seed=0)
    ids = [id(p) for p in m.parameters()]
    opt = nn.SGD(m.parameters(), lr=0.5)
    nn.quadratic(m([1.0, 2.0]), [0.0, 1.0]).backward()
    before = [p.data for p in m.parameters()]
    opt.step()
    assert [id(p) for p in m.parameters()] == ids
    assert all(p.data == b - 0.5 * p.grad for p, b in zip(m.parameters(), before))


# ------------------------------------------------------------------ clipping

def test_clip_grad_norm_returns_norm_before_and_scales():
    ps = [Value(0.0) for _ in range(3)]
    for p, g in zip(ps, (3.0, 4.0, 0.0)):
        p.grad = g
    assert nn.clip_grad_norm(ps, 1.0) == 5.0
    assert [p.grad for p in ps] == pytest.approx([0.6, 0.8, 0.0], rel=1e-15)
    assert math.isclose(math.hypot(*[p.grad for p in ps]), 1.0, rel_tol=1e-15)
    assert nn.clip_grad_norm(ps, 2.0) == pytest.approx(1.0)   # below: unchanged
    assert [p.grad for p in ps] == pytest.approx([0.6, 0.8, 0.0], rel=1e-15)
    with pytest.raises(ValueError, match="max_norm"):
        nn.clip_grad_norm(ps, 0.0)


def test_clip_grad_value():
    ps = [Value(0.0) for _ in range(3)]
    for p, g in zip(ps, (3.0, -4.0, 0.25)):
        p.grad = g
    nn.clip_grad_value(ps, 0.5)
    assert [p.grad for p in ps] == [0.5, -0.5, 0.25]


def test_clip_matches_torch():
    torch = pytest.importorskip("torch")
    vals = [0.3, -2.0, 1.5, 0.01]
    ps = [Value(0.0) for _ in vals]
    for p, g in zip(ps, vals):
        p.grad = g
    t = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    t.grad = torch.tensor(vals, dtype=torch.float64)
    n_ours = nn.clip_grad_norm(ps, 1.0)
    n_torch = torch.nn.utils.clip_grad_norm_([t], 1.0)
    assert math.isclose(n_ours, float(n_torch), rel_tol=1e-15)
    # torch divides by (norm + 1e-6); ours by the norm exactly
    assert [p.grad for p in ps] == pytest.approx(t.grad.tolist(), rel=1e-6)
