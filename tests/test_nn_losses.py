"""Costs: values by hand, gradients against finite differences, stability, regularisation, accuracy."""

from __future__ import annotations

import math

import pytest

import autograd_core as ag
import nn
from autograd_core import Value

try:
    from autograd_core import gradcheck as _gradcheck
except ImportError:  # pragma: no cover - the gradcheck issue may not have landed yet
    _gradcheck = None


def check_grad(f, xs, rtol=1e-6, atol=1e-8):
    """f(*Values) -> Value; every ∂f/∂x_i against finite differences."""
    if _gradcheck is not None:
        report = _gradcheck(f, xs, modes=("rev",), rtol=rtol, atol=atol)
        assert report, str(report)
        return
    leaves = [Value(x) for x in xs]
    grads = ag.gradients(f(*leaves), leaves)
    for i, x in enumerate(xs):
        h = 1e-6 * max(1.0, abs(x))
        up = [Value(v) for v in xs]
        dn = [Value(v) for v in xs]
        up[i] = Value(x + h)
        dn[i] = Value(x - h)
        fd = (f(*up).data - f(*dn).data) / (2 * h)
        assert abs(grads[i] - fd) <= atol + rtol * abs(fd), (i, grads[i], fd)


# ------------------------------------------------------------------ values by hand

def test_quadratic_value_and_gradient():
    a = [Value(0.2), Value(0.9)]
    c = nn.quadratic(a, [0.0, 1.0])
    assert math.isclose(c.data, 0.5 * (0.04 + 0.01), rel_tol=1e-15)
    c.backward()
    assert [v.grad for v in a] == pytest.approx([0.2, -0.1], rel=1e-14)
    assert nn.quadratic(a, 1).data == c.data            # integer label: one-hot


def test_binary_cross_entropy_value_and_nielsen_delta():
    z = [Value(0.3), Value(-1.2), Value(2.0)]
    a = [v.sigmoid() for v in z]
    y = [0.0, 1.0, 0.0]
    c = nn.binary_cross_entropy(a, y)
    p = [1 / (1 + math.exp(-v.data)) for v in z]
    expect = -sum(t * math.log(q) + (1 - t) * math.log(1 - q) for q, t in zip(p, y))
    assert math.isclose(c.data, expect, rel_tol=1e-14)
    c.backward()
    # Nielsen's cross-entropy delta: ∂C/∂z = a − y
    assert [v.grad for v in z] == pytest.approx([q - t for q, t in zip(p, y)], rel=1e-13)
    assert nn.binary_cross_entropy(a, 1).data == c.data


def test_binary_cross_entropy_fractional_targets():
    a = [Value(0.3)]
    c = nn.binary_cross_entropy(a, [0.25])
    assert math.isclose(c.data, -(0.25 * math.log(0.3) + 0.75 * math.log(0.7)), rel_tol=1e-15)
    with pytest.raises(ValueError, match=r"targets must be in \[0, 1\]"):
        nn.binary_cross_entropy(a, [1.5])


def test_cross_entropy_value_and_softmax_gradient():
    z = [Value(1.0), Value(2.0), Value(0.5)]
    c = nn.cross_entropy(z, 1)
    e = [math.exp(v.data) for v in z]
    s = [v / sum(e) for v in e]
    assert math.isclose(c.data, -math.log(s[1]), rel_tol=1e-14)
    c.backward()
    assert [v.grad for v in z] == pytest.approx([s[0], s[1] - 1, s[2]], rel=1e-13)
    # one-hot and probability targets
    assert math.isclose(nn.cross_entropy(z, [0, 1, 0]).data, c.data, rel_tol=1e-15)
    soft = nn.cross_entropy(z, [0.2, 0.8, 0.0]).data
    assert math.isclose(soft, -(0.2 * math.log(s[0]) + 0.8 * math.log(s[1])), rel_tol=1e-13)


def test_softmax_sums_to_one():
    s = nn.softmax([Value(3.0), Value(-1.0), 0.5])
    assert math.isclose(sum(v.data for v in s), 1.0, rel_tol=1e-15)


# ------------------------------------------------------------------ finite differences

CASES = [
    ("quadratic", lambda *v: nn.quadratic(list(v), [0.0, 1.0, 0.0]), [0.3, 0.7, -0.2]),
    ("bce_probabilities", lambda *v: nn.binary_cross_entropy(list(v), [0.0, 1.0, 0.3]),
     [0.2, 0.6, 0.9]),
    ("bce_sigmoid_outputs", lambda *v: nn.binary_cross_entropy([x.sigmoid() for x in v], [1, 0]),
     [0.4, -2.0]),
    ("bce_logits", lambda *v: nn.binary_cross_entropy_with_logits(list(v), [0.0, 1.0, 0.5]),
     [1.5, -0.7, 3.0]),
    ("cross_entropy", lambda *v: nn.cross_entropy(list(v), 2), [0.1, -1.3, 2.2, 0.4]),
    ("cross_entropy_soft", lambda *v: nn.cross_entropy(list(v), [0.1, 0.2, 0.7]), [1.0, 0.0, -2.0]),
    ("l2", lambda *v: nn.l2_penalty(list(v), 5.0, 7), [0.5, -1.5, 2.0]),
    ("l1", lambda *v: nn.l1_penalty(list(v), 5.0, 7), [0.5, -1.5, 2.0]),
]


@pytest.mark.parametrize("name, f, xs", CASES, ids=[c[0] for c in CASES])
def test_losses_against_finite_differences(name, f, xs):
    check_grad(f, xs)


def test_loss_of_a_network_against_finite_differences():
    m = nn.MLP(3, [4, 2], activation="tanh", output_activation="linear", seed=0)
    params = m.parameters()
    x = [0.2, -0.4, 0.9]
    # backprop through the model against central differences on every third parameter
    c = nn.cross_entropy(m(x), 1)
    c.backward()
    for p in params[::3]:
        old = p.data
        h = 1e-6
        p.assign(old + h)
        up = nn.cross_entropy(m(x), 1).data
        p.assign(old - h)
        dn = nn.cross_entropy(m(x), 1).data
        p.assign(old)
        assert math.isclose(p.grad, (up - dn) / (2 * h), rel_tol=1e-6, abs_tol=1e-9), p.label


# ------------------------------------------------------------------ stability

@pytest.mark.parametrize("label, loss", [(0, 0.0), (1, 2000.0), (2, 1000.0)])
def test_cross_entropy_stable_at_huge_logits(label, loss):
    z = [Value(1000.0), Value(-1000.0), Value(0.0)]
    c = nn.cross_entropy(z, label)
    assert c.data == loss
    c.backward()
    expect = [1.0, 0.0, 0.0]
    expect[label] -= 1.0
    assert [v.grad for v in z] == expect
    assert all(math.isfinite(v.grad) for v in z)


def test_binary_cross_entropy_stable_at_huge_logits():
    for z0, y, loss, grad in [(1000.0, 0, 1000.0, 1.0), (-1000.0, 1, 1000.0, -1.0),
                              (1000.0, 1, 0.0, 0.0), (-1000.0, 0, 0.0, 0.0)]:
        z = Value(z0)
        c = nn.binary_cross_entropy_with_logits([z], y)
        assert c.data == loss
        c.backward()
        assert z.grad == grad
        # on probabilities from a saturated sigmoid (σ(±1000) is exactly 1.0 or 0.0)
        z2 = Value(z0)
        c2 = nn.binary_cross_entropy([z2.sigmoid()], y)
        assert c2.data == loss and math.isfinite(c2.data)
        c2.backward()
        assert z2.grad == grad


def test_binary_cross_entropy_on_a_plain_zero_probability_raises():
    with pytest.raises(ValueError, match="infinite cost"):
        nn.binary_cross_entropy([Value(0.0)], [1.0])


# ------------------------------------------------------------------ targets, regularisation, accuracy

def test_target_errors():
    with pytest.raises(ValueError, match="label 3 out of range for 3 outputs"):
        nn.quadratic([Value(0.0)] * 3, 3)
    with pytest.raises(ValueError, match="the output has 2 entries but the target has 3"):
        nn.quadratic([Value(0.0)] * 2, [0, 0, 1.0])
    with pytest.raises(ValueError, match="single output needs the label 0 or 1"):
        nn.binary_cross_entropy([Value(0.5)], 2)
    with pytest.raises(ValueError, match="unknown loss 'mse2'"):
        nn.losses.get("mse2")


def test_l2_over_weights_only_with_nielsens_scaling():
    m = nn.MLP(2, [2, 1], seed=0)
    lam, n = 5.0, 10
    r = nn.l2_penalty(m, lam, n)
    ws = m.weights()
    assert math.isclose(r.data, lam / (2 * n) * sum(w.data ** 2 for w in ws), rel_tol=1e-14)
    r.backward()
    assert all(math.isclose(w.grad, lam / n * w.data, rel_tol=1e-14) for w in ws)
    assert all(p.grad == 0.0 for n_, p in m.named_parameters() if n_.endswith(".b"))
    rb = nn.l2_penalty(m, lam, n, include_biases=True)
    assert rb.data > r.data
    l1 = nn.l1_penalty(m, lam, n)
    assert math.isclose(l1.data, lam / n * sum(abs(w.data) for w in ws), rel_tol=1e-14)


def test_accuracy():
    outs = [[0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]
    assert nn.accuracy(outs, [1, 0, 0]) == pytest.approx(2 / 3)
    assert nn.accuracy(outs, [[0, 1, 0], [1, 0, 0], [0, 0, 1]]) == 1.0
    assert nn.accuracy([[Value(0.7)], [Value(0.2)]], [1, 1]) == 0.5
    assert nn.accuracy([[0.7], [-0.2]], [1, 0], threshold=0.0) == 1.0
