"""Issue 19 (Tensor part): the speed paths of ``nn.fit`` on Tensor models.

* ``plus_vdot`` (``T.sum_of_vdots(..., plus=loss)``): loss + L2 term in one
  node; derivatives against central differences (reverse and forward mode),
  second derivatives through ``create_graph``, values bit for bit those of the
  two-node form, errors.
* ``fit`` checks a plain Tensor MLP once and then builds each mini-batch's
  graph without the per-call checks: it trains bit for bit like the checked
  per-batch path (taken by any model that is not a plain MLP).
* the array optimizer step writes new arrays (no parameter array or gradient
  that a caller holds changes under it).
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ac
import nn
from autograd_core import Tensor
from autograd_core import tensor as T
from nn.backends.tensor import _checked_step, array_step, encode_targets
from nn.tensor_layers import TensorMLP

RNG = np.random.default_rng(19)


# ------------------------------------------------------------------ plus_vdot

def test_plus_vdot_is_one_node_with_the_value_of_loss_plus_l2_bit_for_bit():
    a, b = Tensor(RNG.standard_normal((3, 4))), Tensor(RNG.standard_normal(5))
    loss = (Tensor(RNG.standard_normal(6)) ** 2).sum()
    fused = T.sum_of_vdots([(a, a), (b, b)], 0.37, plus=loss)
    assert fused.op == "plus_vdot" and fused.parents == (loss, a, b) and fused.shape == ()
    two = loss + T.sum_of_vdots([(a, a), (b, b)], 0.37)
    assert fused.data.tobytes() == two.data.tobytes()
    ga, gb, gl = T.gradients(fused, [a, b, loss])
    ha, hb, hl = T.gradients(two, [a, b, loss])
    assert ga.tobytes() == ha.tobytes() and gb.tobytes() == hb.tobytes() and float(gl) == float(hl) == 1.0
    np.testing.assert_array_equal(ga, 2 * 0.37 * a.data)  # ∂/∂a = 2·scale·a, by hand


@pytest.mark.parametrize("squares", [True, False])
def test_plus_vdot_derivatives_against_finite_differences(squares):
    A, B, C = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3)), RNG.standard_normal(4)
    K = RNG.standard_normal((2, 3))  # a constant operand

    def f(a, b, c):
        pairs = [(a, a), (b, b)] if squares else [(a, b), (b, K), (a, a)]
        return T.sum_of_vdots(pairs, 0.6, plus=(c.tanh() * c).sum())

    rep = ac.gradcheck(f, [A, B, C])
    assert rep, str(rep)
    assert len(rep.rows) == A.size + B.size + C.size


def test_plus_vdot_second_derivatives_through_create_graph():
    A, C, V, U = (RNG.standard_normal((3, 2)) for _ in range(4))

    def f(a, c):
        return T.sum_of_vdots([(a, a.sin())], 0.8, plus=(c * a).exp().sum())

    def grads(a, c):
        ta, tc = Tensor(a), Tensor(c)
        return T.gradients(f(ta, tc), [ta, tc])

    ta, tc = Tensor(A), Tensor(C)
    ga, gc = T.gradients(f(ta, tc), [ta, tc], create_graph=True)
    np.testing.assert_allclose(ga.data, grads(A, C)[0], rtol=1e-13)
    hv = T.gradients((ga * V).sum() + (gc * U).sum(), [ta, tc])
    eps = 1e-6
    plus, minus = grads(A + eps * V, C + eps * U), grads(A - eps * V, C - eps * U)
    for h, p, m in zip(hv, plus, minus):
        np.testing.assert_allclose(h, (p - m) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_plus_vdot_errors_and_no_grad():
    a = Tensor(np.ones(3))
    with pytest.raises(TypeError, match="plus must be a Tensor"):
        T.sum_of_vdots([(a, a)], plus=1.0)
    with pytest.raises(ValueError, match="plus must be a 0-d Tensor, not shape \\(3,\\)"):
        T.sum_of_vdots([(a, a)], plus=a)
    with pytest.raises(ValueError, match="at least one pair"):
        T.sum_of_vdots([], plus=a.sum())
    with ac.no_grad():
        r = T.sum_of_vdots([(a, a)], 0.5, plus=a.sum())
    assert float(r) == 4.5 and r.parents == ()


# ------------------------------------------------------------------ fit's once-checked path

class CheckedMLP(TensorMLP):
    """The same MLP, but not a plain one: fit checks every mini-batch."""

    def __call__(self, x):
        return super().__call__(x)


CASES = [
    dict(activation="sigmoid", output_activation="sigmoid", loss="binary_cross_entropy", nout=3, l2=5.0),
    dict(activation="sigmoid", output_activation="sigmoid", loss="binary_cross_entropy", nout=3, l2=0.0),
    dict(activation="tanh", output_activation="linear", loss="cross_entropy", nout=3, l2=0.3),
    dict(activation="relu", output_activation="sigmoid", loss="quadratic", nout=1, l2=0.2,
         batchnorm=True),
    dict(activation="prelu", output_activation="linear", loss="binary_cross_entropy_with_logits",
         nout=1, l2=0.1, residual=True),
    dict(activation="sigmoid", output_activation="sigmoid", loss="binary_cross_entropy", nout=3,
         l2=1.0, dtype="float32"),
    dict(activation="sigmoid", output_activation="softplus", loss="quadratic", nout=2, l2=0.5, l1=0.1),
]


def _models(case):
    kw = {k: case[k] for k in ("batchnorm", "residual", "dtype") if k in case}
    sizes = [5, 5, case["nout"]]
    return [cls(5, sizes, case["activation"], case["output_activation"], seed=2, **kw)
            for cls in (TensorMLP, CheckedMLP)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['activation']}-{c['loss']}-{c.get('dtype', 'f64')}")
def test_fit_once_checked_trains_bit_for_bit_like_the_checked_path(case):
    rng = np.random.RandomState(5)
    X = rng.uniform(-1, 1, size=(23, 5))
    y = rng.randint(0, max(case["nout"], 2), size=23)
    fast, checked = _models(case)
    dtype = fast.layers[0].weight.dtype
    assert fast._checked_for(dtype) and not checked._checked_for(dtype)
    hist = [nn.fit(m, X, y, loss=case["loss"], optimizer=nn.optim.SGD(m.parameters(), lr=0.3),
                   epochs=2, batch_size=4, l2=case["l2"], l1=case.get("l1", 0.0), seed=7,
                   progress=False) for m in (fast, checked)]
    assert hist[0].batch_loss == hist[1].batch_loss
    assert hist[0].accuracy == hist[1].accuracy and hist[0].loss == hist[1].loss
    for a, b in zip(fast.parameters(), checked.parameters()):
        assert a.data.dtype == b.data.dtype == dtype
        assert a.data.tobytes() == b.data.tobytes()
        assert a.grad.tobytes() == b.grad.tobytes()  # the last batch's gradients


def test_checked_step_only_for_plain_mlps_of_the_data_dtype():
    m = TensorMLP(4, [3, 2], seed=0)
    Y, _ = encode_targets(np.array([0, 1]), 2, 2, "t")
    args = ("binary_cross_entropy", True, m.layers[0].weight.dtype, Y, m.weights())
    assert _checked_step(m, *args, 1.0, 0.0, 2) is not None
    assert _checked_step(m, *args, 1.0, 0.5, 2) is None  # l1: the checked path
    assert not m._checked_for(np.dtype("float32"))
    m.layers[1].weight = Tensor(np.zeros((2, 4)))  # shapes no longer chain
    assert not m._checked_for(m.layers[0].weight.dtype)
    # then fit runs the checked path, which says what is wrong
    with pytest.raises(ValueError, match="linear: input of shape"):
        nn.fit(m, np.zeros((2, 4)), [0, 1], loss="binary_cross_entropy", optimizer="SGD", epochs=1,
               batch_size=2, progress=False)


def test_fit_batch_graph_is_loss_plus_l2_in_one_node():
    m = nn.MLP(4, [3, 2], seed=0, backend="tensor")
    seen = []

    class Spy:
        def on_after_backward(self, epoch, bi, model, history):
            seen.append([p.grad.copy() for p in model.parameters()])

    X = np.random.RandomState(0).rand(4, 4)
    y = np.array([0, 1, 1, 0])
    ref = nn.MLP(4, [3, 2], seed=0, backend="tensor")
    nn.fit(m, X, y, loss="binary_cross_entropy", optimizer=nn.optim.SGD(m.parameters(), lr=0.1),
           epochs=1, batch_size=4, l2=2.0, seed=0, progress=False, callbacks=[Spy()])
    # the same objective built by hand from the public functions (4 samples, one batch)
    order = np.random.RandomState(0).permutation(4)
    Y, _ = encode_targets(y[order], 4, 2, "t")
    z = ref.logits(X[order])
    obj = T.sum_of_vdots([(W, W) for W in ref.weights()], 2.0 / (2.0 * 4),
                         plus=T.binary_cross_entropy_with_logits(z, Y))
    obj.backward()
    for g, p in zip(seen[0], ref.parameters()):
        assert g.tobytes() == p.grad.tobytes()


# ------------------------------------------------------------------ the optimizer step

def test_sgd_step_writes_new_arrays_and_leaves_grads_alone():
    m = nn.MLP(3, [4, 2], seed=1, backend="tensor")
    out = m(np.random.RandomState(1).rand(5, 3))
    (out * out).sum().backward()
    opt = nn.optim.SGD(m.parameters(), lr=0.25)
    before = [(p.data, p.data.copy(), p.grad, p.grad.copy()) for p in m.parameters()]
    array_step(opt)
    for p, (old, old_copy, g, g_copy) in zip(m.parameters(), before):
        assert p.data is not old and old.tobytes() == old_copy.tobytes()
        assert p.grad is g and g.tobytes() == g_copy.tobytes()
        assert p.data.tobytes() == (old_copy - 0.25 * g_copy).tobytes()


# ------------------------------------------------------------------ the in-place sigmoid / softplus kernels

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_and_softplus_kernels_bit_for_bit_the_plain_formulas(dtype):
    from autograd_core.tensor._vectorize import np_sigmoid, np_softplus

    def sigmoid(x):  # _math.sigmoid's formula on arrays
        e = np.exp(-np.abs(x))
        r = 1.0 / (1.0 + e)
        return np.where(x >= 0.0, r, e * r)

    def softplus(x):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))

    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e308, -1e308, 745.0, -745.0, 88.0, -88.0,
               36.7, -36.7, 1e-300, -5e-324, 17.0]
    from autograd_core.core.primitives import PRIMITIVES
    from autograd_core.tensor._vectorize import run_rule
    with np.errstate(all="ignore"):
        # softplus's scalar rule on an array: value softplus, derivative sigmoid (one exp(-|x|) shared)
        for x in (np.array(special, dtype=dtype), (RNG.standard_normal((3, 7)) * 40).astype(dtype)):
            v, (d,) = run_rule(PRIMITIVES["softplus"].rule, (x,), (), np.where)
            assert v.tobytes() == softplus(x).tobytes() and d.tobytes() == sigmoid(x).tobytes()
            v, (d,) = run_rule(PRIMITIVES["sigmoid"].rule, (x,), (), np.where)
            s = sigmoid(x)
            assert v.tobytes() == s.tobytes() and d.tobytes() == (s * (1.0 - s)).tobytes()
        for shape in [(4, 4), (10, 30), (3, 2, 5), (0,)]:
            x = (RNG.standard_normal(shape) * 30).astype(dtype)
            if x.size == 16:
                x = np.array(special, dtype=dtype).reshape(shape)
            for xs in (x, x.T, np.array(-1.5, dtype=dtype), dtype(0.25)):
                for fast, plain in ((np_sigmoid, sigmoid), (np_softplus, softplus)):
                    a, b = np.asarray(fast(xs)), np.asarray(plain(xs))
                    assert a.dtype == b.dtype and a.shape == b.shape
                    assert a.tobytes() == b.tobytes()  # nan bits included
