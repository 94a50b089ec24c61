"""Issue 13 §4: Tensors never detach silently.

T.concatenate / T.stack / T.split / T.where, the reductions max, min, prod,
var, std, logsumexp, cross-entropies with Tensor targets and a class axis,
and numpy interoperability (ufuncs run through the graph, other numpy
functions run the Tensor version or raise, np.asarray raises).

Each operation: values against numpy, reverse and forward mode against
central differences (``gradcheck`` on arrays runs ``tensor_gradcheck``),
second derivatives through ``create_graph`` (Hessian-vector products against
finite differences of gradients, and forward-over-reverse), 0-d operands,
error messages, and PyTorch float64 as an optional oracle.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ac
from autograd_core import Tensor, no_grad
from autograd_core import tensor as T

RNG = np.random.default_rng(1234)


def _check(f, *arrays, samples=None):
    """Reverse and forward mode of every element against central differences."""
    rep = ac.gradcheck(f, list(arrays), samples=samples)
    assert rep, str(rep)
    assert len(rep.rows) == sum(a.size if samples is None else min(samples, a.size)
                                for a in arrays)
    return rep


def _grad(f, arrays):
    ts = [Tensor(a) for a in arrays]
    return [np.asarray(g) for g in T.gradients(f(*ts), ts)]


def _check_hvp(f, *arrays, eps=1e-5, rtol=1e-6, atol=1e-7):
    """create_graph: H·v for every input against (∇f(x+εv) - ∇f(x-εv)) / 2ε,
    and the forward-over-reverse vᵀHv (T.jvp of the Tensor gradient)."""
    rng = np.random.default_rng(7)
    vs = [rng.standard_normal(a.shape) for a in arrays]
    ts = [Tensor(a) for a in arrays]
    out = f(*ts)
    gs = T.gradients(out, ts, create_graph=True)
    assert all(isinstance(g, Tensor) for g in gs)
    gv = T.sum_of_vdots(list(zip(gs, vs)))
    hv = T.gradients(gv, ts)
    plus = _grad(f, [a + eps * v for a, v in zip(arrays, vs)])
    minus = _grad(f, [a - eps * v for a, v in zip(arrays, vs)])
    for h, p, m in zip(hv, plus, minus):
        np.testing.assert_allclose(h, (p - m) / (2 * eps), rtol=rtol, atol=atol)
    vhv = float(T.jvp(gv, dict(zip(ts, vs))))
    assert vhv == pytest.approx(sum(float(np.sum(h * v)) for h, v in zip(hv, vs)),
                                rel=1e-9, abs=1e-9)
    return hv


# ------------------------------------------------------------------ concatenate / stack / split

def test_concatenate_values_and_gradients_for_every_operand():
    a, b, c = RNG.standard_normal((2, 3)), RNG.standard_normal((4, 3)), RNG.standard_normal((1, 3))
    out = T.concatenate([Tensor(a), Tensor(b), Tensor(c)])
    np.testing.assert_array_equal(out.data, np.concatenate([a, b, c]))
    assert out.op == "concatenate"
    w = RNG.standard_normal((7, 3))
    _check(lambda x, y, z: (T.concatenate([x, y, z]) * w).sum(), a, b, c)
    # along the last axis (negative axis), operands used twice, a constant array among them
    k = RNG.standard_normal((2, 3))
    w2 = RNG.standard_normal((2, 12))
    f = lambda x, y: (T.concatenate([x, k, y, x], axis=-1) * w2).sum()  # noqa: E731
    _check(f, a, RNG.standard_normal((2, 3)))
    ga, _ = _grad(f, [a, RNG.standard_normal((2, 3))])
    np.testing.assert_allclose(ga, w2[:, 0:3] + w2[:, 9:12], rtol=0, atol=0)
    # axis=None flattens first, as numpy does
    flat = T.concatenate([Tensor(a), Tensor(b)], axis=None)
    np.testing.assert_array_equal(flat.data, np.concatenate([a, b], axis=None))


def test_concatenate_second_derivatives_and_errors():
    a, b = RNG.standard_normal((2, 2)), RNG.standard_normal((2, 3))
    _check_hvp(lambda x, y: (T.concatenate([x * y[:, :2], y.sin()], axis=1) ** 3).sum(), a, b)
    with pytest.raises(ValueError, match=r"concatenate: shapes \(2, 2\) and \(2, 3\) "
                                         r"\(operand 1\) differ outside axis 0"):
        T.concatenate([Tensor(a), Tensor(b)])
    with pytest.raises(ValueError, match="operand 1 has 1 axes"):
        T.concatenate([Tensor(a), Tensor(np.ones(2))])
    with pytest.raises(ValueError, match="0-d tensors have no axis .*T.stack"):
        T.concatenate([Tensor(1.0), Tensor(2.0)])
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        T.concatenate([Tensor(a), Tensor(a)], axis=2)
    with pytest.raises(TypeError, match="list or tuple of Tensors, not Tensor"):
        T.concatenate(Tensor(a))
    with pytest.raises(TypeError, match="at least one Tensor"):
        T.concatenate([a, a])
    with pytest.raises(ValueError, match="at least one Tensor"):
        T.concatenate([])
    with pytest.raises(TypeError, match="concatenate operand 1 must hold real numbers"):
        T.concatenate([Tensor(a), np.array([["x", "y"]])])


def test_stack_values_gradients_second_derivatives_and_0d():
    xs = [RNG.standard_normal((2, 3)) for _ in range(3)]
    for axis in (0, 1, 2, -1, -3):
        out = T.stack([Tensor(x) for x in xs], axis=axis)
        np.testing.assert_array_equal(out.data, np.stack(xs, axis=axis))
    w = RNG.standard_normal((2, 3, 3))
    _check(lambda a, b, c: (T.stack([a, b, c], axis=-1) * w).sum(), *xs)
    _check_hvp(lambda a, b: (T.stack([a * b, a.exp()], axis=1) ** 2).sum(), xs[0], xs[1])
    # 0-d Tensors stack into a vector; the gradient of each is a 0-d array
    s = [np.array(0.3), np.array(-1.2)]
    _check(lambda a, b: (T.stack([a, b, a * b]) * np.array([1.0, 2.0, 3.0])).sum(), *s)
    p, q = Tensor(0.3), Tensor(-1.2)
    (T.stack([p, q]) ** 2).sum().backward()
    assert p.grad.shape == () and float(p.grad) == pytest.approx(0.6)
    with pytest.raises(ValueError, match=r"stack: all tensors need one shape; operand 0 has "
                                         r"\(2, 3\), operand 1 has \(3,\)"):
        T.stack([Tensor(xs[0]), Tensor(np.ones(3))])
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        T.stack([Tensor(xs[0])], axis=3)


def test_split_sections_and_indices():
    x = RNG.standard_normal((6, 4))
    parts = T.split(Tensor(x), 3)
    for got, want in zip(parts, np.split(x, 3)):
        np.testing.assert_array_equal(got.data, want)
    parts = T.split(Tensor(x), [1, 3], axis=1)
    assert [p.shape for p in parts] == [(6, 1), (6, 2), (6, 1)]
    for got, want in zip(parts, np.split(x, [1, 3], axis=1)):
        np.testing.assert_array_equal(got.data, want)
    w = [RNG.standard_normal((6, n)) for n in (1, 2, 1)]

    def f(t):
        a, b, c = T.split(t, [1, 3], axis=-1)
        return (a * w[0]).sum() + (b.tanh() * w[1]).sum() + (c * c * w[2]).sum()

    _check(f, x)
    _check_hvp(f, x)
    # split then concatenate is the identity, gradient included
    y = Tensor(x)
    back = T.concatenate(T.split(y, 2))
    np.testing.assert_array_equal(back.data, x)
    (back * 3.0).sum().backward()
    np.testing.assert_array_equal(y.grad, np.full(x.shape, 3.0))
    with pytest.raises(ValueError, match="axis 0 of length 6 does not divide into 4 equal"):
        T.split(Tensor(x), 4)
    with pytest.raises(ValueError, match="0-d tensor has no axis"):
        T.split(Tensor(1.0), 1)
    with pytest.raises(TypeError, match="indices must be ints"):
        T.split(Tensor(x), [1.5])
    with pytest.raises(ValueError, match="number of sections must be >= 1"):
        T.split(Tensor(x), 0)


def test_where_both_branches_forward_mode_create_graph_and_0d():
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4,))
    mask = a > 0.2
    out = T.where(mask, Tensor(a), Tensor(b))
    np.testing.assert_array_equal(out.data, np.where(mask, a, b))
    w = RNG.standard_normal((3, 4))
    _check(lambda x, y: (T.where(mask, x, y) * w).sum(), a, b)
    _check_hvp(lambda x, y: (T.where(mask, x * x, y.exp()) * w).sum(), a, b)
    # 0-d: both branches and the mask
    _check(lambda x, y: T.where(np.array(True), x * y, y) * 2.0, np.array(1.5), np.array(-0.5))
    # a Tensor mask is read as booleans (it has no derivative)
    m = Tensor([1.0, 0.0])
    np.testing.assert_array_equal(T.where(m, Tensor([1.0, 2.0]), 5.0).data, [1.0, 5.0])


# ------------------------------------------------------------------ reductions

_AXES = [None, 0, 1, -1, (0, 2), (2, 0, 1), ()]


@pytest.mark.parametrize("name", ["max", "min", "prod", "var", "std", "logsumexp"])
@pytest.mark.parametrize("axis", _AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_values_match_numpy(name, axis, keepdims):
    x = RNG.standard_normal((2, 3, 4))
    got = getattr(Tensor(x), name)(axis=axis, keepdims=keepdims)
    if name == "logsumexp":
        ax = axis if axis is not None else tuple(range(3))
        m = np.max(x, axis=ax, keepdims=True)
        want = np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True)) + m
        if not keepdims:
            want = np.squeeze(want, axis=ax)
    else:
        want = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert got.op == name and got.shape == np.shape(want)
    np.testing.assert_allclose(got.data, want, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", ["max", "min", "prod", "var", "std", "logsumexp"])
def test_reduction_gradients_both_modes(name):
    x = RNG.standard_normal((3, 4)) + 0.1
    for axis in (None, 0, -1, (1, 0)):
        r = RNG.standard_normal(np.shape(getattr(np, "max")(x, axis=axis, keepdims=True)))
        _check(lambda t: (getattr(t, name)(axis=axis, keepdims=True) * r).sum(), x)
    _check(lambda t: getattr(t, name)(axis=1).exp().sum(), x)


@pytest.mark.parametrize("name", ["prod", "var", "std", "logsumexp", "max"])
def test_reduction_second_derivatives_create_graph(name):
    x = RNG.standard_normal((3, 4)) + 0.1
    w = RNG.standard_normal(3)
    hv = _check_hvp(lambda t: (getattr(t, name)(axis=1) * w).sum() ** 2, x)
    assert np.abs(hv[0]).max() > 0


@pytest.mark.parametrize("name", ["max", "min", "prod", "var", "std", "logsumexp"])
def test_reductions_on_0d_tensors(name):
    x = Tensor(1.7)
    y = getattr(x, name)()
    assert y.shape == ()
    if name in ("var", "std"):
        assert float(y) == 0.0
    else:
        assert float(y) == pytest.approx(1.7)
    y.backward()
    assert x.grad.shape == ()
    assert float(x.grad) == (0.0 if name in ("var", "std") else 1.0)
    assert float(T.jvp(getattr(Tensor(2.0), name)(), {})) == 0.0


def test_max_min_ties_share_the_derivative_equally():
    x = Tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5, 0], [0.25, 0.25, 0.25, 0.25]])
    y = Tensor([[1.0, 3.0], [0.0, 0.0]])
    y.min().backward()
    np.testing.assert_array_equal(y.grad, [[0, 0], [0.5, 0.5]])
    # forward mode agrees with the same convention
    t = np.array([[1.0, 2.0, 4.0, 8.0], [1.0, 1.0, 1.0, 5.0]])
    np.testing.assert_allclose(T.jvp(x.max(axis=1), {x: t}), [3.0, 2.0])
    # a NaN in a group gives NaN (numpy's max is NaN there), other groups are unaffected
    z = Tensor([[np.nan, 1.0], [2.0, 1.0]])
    z.max(axis=1).sum().backward()
    assert np.isnan(z.grad[0]).all() and np.array_equal(z.grad[1], [1.0, 0.0])
    with pytest.raises(ValueError, match="max: cannot reduce over an empty axis"):
        Tensor(np.zeros((0, 3))).max(axis=0)
    assert Tensor(np.zeros((0, 3))).max(axis=1).shape == (0,)


def test_prod_with_zeros_is_exact():
    x = Tensor([2.0, 0.0, 3.0, 5.0])
    x.prod().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 30.0, 0.0, 0.0])
    y = Tensor([[0.0, 4.0, 0.0], [1.5, 2.0, 4.0]])
    y.prod(axis=1).sum().backward()
    np.testing.assert_array_equal(y.grad, [[0.0, 0.0, 0.0], [8.0, 6.0, 3.0]])
    # finite differences agree at a zero (the product is smooth there)
    _check(lambda t: t.prod(axis=0).sum(), np.array([[0.0, 1.0], [3.0, 0.0], [2.0, -1.0]]))
    # second derivatives with zeros: d²/dx0dx1 of x0·x1·x2·x3 at x1 = 0 is x2·x3
    a = np.array([2.0, 0.0, 3.0, 5.0])
    t = Tensor(a)
    (g,) = T.gradients(t.prod(), [t], create_graph=True)
    h = np.array([T.gradients(g[i], [t])[0] for i in range(4)])
    want = np.array([[0 if i == j else np.prod(np.delete(a, [i, j])) for j in range(4)]
                     for i in range(4)])
    np.testing.assert_allclose(h, want, rtol=0, atol=0)
    _check_hvp(lambda u: u.prod(axis=1).sum() * 1.0, np.array([[0.0, 2.0, 0.5], [1.0, 0.0, 0.0]]))


def test_var_std_ddof_correction_and_zero_variance():
    x = RNG.standard_normal((4, 5))
    for ddof in (0, 1, 2.5):
        np.testing.assert_allclose(Tensor(x).var(axis=0, ddof=ddof).data,
                                   np.var(x, axis=0, ddof=ddof), rtol=1e-14)
        np.testing.assert_allclose(Tensor(x).std(axis=1, ddof=ddof).data,
                                   np.std(x, axis=1, ddof=ddof), rtol=1e-14)
        _check(lambda t: t.std(axis=1, ddof=ddof).sum() + t.var(ddof=ddof), x)
    np.testing.assert_array_equal(Tensor(x).var(correction=1).data,
                                  Tensor(x).var(ddof=1).data)
    # std at zero variance: value 0, derivative 0 (a subgradient, as torch), no NaN
    c = Tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    s = c.std(axis=1)
    assert s.data[0] == 0.0
    s.sum().backward()
    assert np.array_equal(c.grad[0], [0.0, 0.0, 0.0]) and np.isfinite(c.grad).all()
    (g,) = T.gradients(c.std(axis=1).sum(), [c], create_graph=True)
    (h,) = T.gradients((g * g).sum(), [c])
    assert np.isfinite(h).all()
    with pytest.raises(ValueError, match=r"var: ddof=3 leaves no degrees of freedom for 3 "
                                         r"element\(s\) per group"):
        Tensor(np.ones((2, 3))).var(axis=1, ddof=3)
    with pytest.raises(TypeError, match="give ddof or correction"):
        Tensor(x).std(ddof=1, correction=1)
    with pytest.raises(TypeError, match="ddof must be a real number"):
        Tensor(x).var(ddof="1")


def test_logsumexp_is_stable_and_its_derivative_is_softmax():
    big = Tensor([[1000.0, 1000.0], [-1000.0, -1e4]])
    v = big.logsumexp(axis=1)
    np.testing.assert_allclose(v.data, [1000.0 + np.log(2.0), -1000.0], rtol=1e-15)
    v.sum().backward()
    np.testing.assert_allclose(big.grad, [[0.5, 0.5], [1.0, 0.0]], rtol=1e-15)
    x = RNG.standard_normal((3, 5))
    t = Tensor(x)
    (g,) = T.gradients(T.logsumexp(t, axis=-1).sum(), [t])
    np.testing.assert_allclose(g, T.softmax(Tensor(x), axis=-1).data, rtol=1e-14)
    # all -inf: -inf, derivative NaN (as torch)
    m = Tensor([-np.inf, -np.inf])
    assert m.logsumexp().data == -np.inf
    with pytest.raises(TypeError, match="logsumexp needs a Tensor"):
        T.logsumexp(x)


@settings(max_examples=25, derandomize=True, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=3),
       name=st.sampled_from(["max", "min", "prod", "var", "std", "logsumexp"]),
       data=st.data())
def test_reductions_property_values_and_gradients(shape, name, data):
    shape = tuple(shape)
    nd = len(shape)
    axes = data.draw(st.one_of(st.none(), st.lists(st.integers(0, max(nd - 1, 0)),
                                                   unique=True, max_size=nd).map(tuple)))
    if nd == 0:
        axes = None
    keepdims = data.draw(st.booleans())
    x = np.asarray(np.random.default_rng(len(shape) * 7 + (0 if axes is None else len(axes)))
                   .uniform(0.5, 2.0, shape) * np.random.default_rng(3).choice([-1, 1], shape))
    got = getattr(Tensor(x), name)(axis=axes, keepdims=keepdims)
    if name == "logsumexp":
        want = np.log(np.sum(np.exp(x), axis=axes, keepdims=keepdims))
    else:
        want = getattr(np, name)(x, axis=axes, keepdims=keepdims)
    np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-14)
    if name in ("var", "std") and np.size(x) // max(np.size(want), 1) < 2:
        return  # one element per group: var is 0 (std not differentiable there)
    r = np.random.default_rng(5).standard_normal(np.shape(want))
    _check(lambda t: (getattr(t, name)(axis=axes, keepdims=keepdims) * r).sum(), x)


# ------------------------------------------------------------------ cross-entropy

def test_cross_entropy_tensor_targets_are_differentiated():
    z, y = RNG.standard_normal((4, 3)), RNG.dirichlet(np.ones(3), size=4)
    zt, yt = Tensor(z), Tensor(y)
    loss = T.cross_entropy(zt, yt)
    assert loss.op == "cross_entropy_soft" and loss.parents == (zt, yt)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert float(loss) == pytest.approx(-np.sum(y * logp) / 4, rel=1e-14)
    loss.backward()
    np.testing.assert_allclose(yt.grad, -logp / 4, rtol=1e-14)
    _check(lambda a, b: T.cross_entropy(a, b, reduction="sum"), z, y)
    _check(lambda a, b: T.cross_entropy(a, b.softmax(axis=1)), z, RNG.standard_normal((4, 3)))
    _check_hvp(lambda a, b: T.cross_entropy(a * b, b.softmax(axis=1)), z, y)
    # the same number as the constant-target form, and the same logits gradient
    zc = Tensor(z)
    T.cross_entropy(zc, y).backward()
    np.testing.assert_allclose(zt.grad, zc.grad, rtol=1e-14)
    with pytest.raises(ValueError, match=r"a Tensor of targets holds probabilities of the "
                                         r"logits' shape \(4, 3\), got shape \(4,\)"):
        T.cross_entropy(zt, Tensor([0.0, 1.0, 2.0, 1.0]))


def test_cross_entropy_class_axis_follows_pytorch():
    z = RNG.standard_normal((2, 3, 5))         # (N, C, d1): classes on axis 1 by default
    labels = RNG.integers(0, 3, size=(2, 5))
    loss = T.cross_entropy(Tensor(z), labels)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    want = -np.mean(np.take_along_axis(logp, labels[:, None, :], axis=1))
    assert float(loss) == pytest.approx(want, rel=1e-14)
    # the same loss with the classes moved to the last axis and axis=-1
    moved = T.cross_entropy(Tensor(z.transpose(0, 2, 1)), labels, axis=-1)
    assert float(moved) == pytest.approx(want, rel=1e-14)
    _check(lambda a: T.cross_entropy(a, labels), z)
    _check(lambda a, p: T.cross_entropy(a, p.softmax(axis=1), axis=1, reduction="sum"),
           z, RNG.standard_normal(z.shape))
    _check_hvp(lambda a: T.cross_entropy(a * a, labels), z)
    # 1-D logits: one sample, the class axis is 0
    assert float(T.cross_entropy(Tensor([1.0, 2.0, 0.5]), np.array(1))) == pytest.approx(
        -(2.0 - np.log(np.exp([1.0, 2.0, 0.5]).sum())), rel=1e-14)
    with pytest.raises(ValueError, match=r"class labels of shape \(2, 3\) for logits of shape "
                                         r"\(2, 3, 5\) with class axis 1 \(expected \(2, 5\)\)"):
        T.cross_entropy(Tensor(z), np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        T.cross_entropy(Tensor(z), labels, axis=3)
    with pytest.raises(TypeError, match="axis must be an int"):
        T.cross_entropy(Tensor(z), labels, axis=(1,))


def test_binary_cross_entropy_tensor_targets_are_differentiated():
    z, y = RNG.standard_normal((3, 2)), RNG.uniform(0, 1, (3, 2))
    zt, yt = Tensor(z), Tensor(y)
    loss = T.binary_cross_entropy_with_logits(zt, yt)
    assert loss.parents == (zt, yt)
    assert float(loss) == pytest.approx(float(T.binary_cross_entropy_with_logits(Tensor(z), y)),
                                        rel=1e-15)
    loss.backward()
    np.testing.assert_allclose(yt.grad, -z / 3, rtol=1e-15)
    _check(lambda a, b: T.binary_cross_entropy_with_logits(a, b.sigmoid()), z, y)
    _check_hvp(lambda a, b: T.binary_cross_entropy_with_logits(a * b, b.sigmoid()), z, y)


# ------------------------------------------------------------------ numpy never detaches silently

def test_numpy_join_functions_run_the_tensor_versions():
    a, b = Tensor(RNG.standard_normal((2, 3))), Tensor(RNG.standard_normal((2, 3)))
    for out in (np.concatenate([a, b], axis=1), np.stack((a, b)), np.where(a > 0, a, b),
                np.sum(a, axis=0), np.mean(a), np.max(a, axis=1, keepdims=True), np.amin(a),
                np.prod(a), np.var(a, ddof=1), np.std(a, axis=0), np.reshape(a, (3, 2)),
                np.transpose(a), np.swapaxes(a, 0, 1), np.broadcast_to(a, (4, 2, 3)),
                np.matmul(a, b.T)):
        assert isinstance(out, Tensor) and out.parents, out
    pieces = np.split(a, 3, axis=1)
    assert all(isinstance(p, Tensor) for p in pieces)
    np.concatenate([a, b]).sum().backward()
    np.testing.assert_array_equal(a.grad, np.ones((2, 3)))
    np.testing.assert_array_equal(b.grad, np.ones((2, 3)))
    np.testing.assert_array_equal(np.var(a, ddof=1).data, np.var(a.data, ddof=1))
    # numpy's positional order: var(a, axis, dtype, out, ddof), max(a, axis, out, keepdims)
    np.testing.assert_array_equal(np.var(a, 0, None, None, 1).data, np.var(a.data, 0, ddof=1))
    assert np.max(a, 1, None, True).shape == (2, 1)
    with pytest.raises(TypeError, match="numpy.max on a Tensor: initial= is not supported"):
        np.max(a, initial=0.0)
    with pytest.raises(TypeError, match="numpy.concatenate on a Tensor: out= is not supported"):
        np.concatenate([a, b], out=np.zeros((4, 3)))
    with pytest.raises(TypeError, match="numpy.sum on a Tensor: dtype= is not supported"):
        np.sum(a, dtype=np.float32)


def test_numpy_ufuncs_run_through_the_graph():
    x = Tensor(RNG.uniform(0.5, 2.0, (2, 3)))
    arr = RNG.standard_normal((2, 3))
    y = np.exp(x) + np.log(x) * np.sin(x) - np.sqrt(x) / np.tanh(x) + np.abs(-x) ** 2
    assert isinstance(y, Tensor)
    want = (x.exp() + x.log() * x.sin() - x.sqrt() / x.tanh() + abs(-x) ** 2).data
    np.testing.assert_array_equal(y.data, want)
    # reflected forms keep the graph: arr + t, arr * t, arr ** t, arr @ t, numpy scalars
    for out in (arr + x, arr * x, arr - x, arr / x, 2.0 ** x, np.float64(3.0) * x,
                np.add(arr, x), np.power(np.abs(arr), 2.0 * x), np.square(x), np.negative(x),
                arr.T @ x, np.matmul(arr.T, x)):
        assert isinstance(out, Tensor) and out.parents
    _check(lambda t: (np.exp(t) * arr + np.multiply(arr, t) ** 2).sum(), x.data)
    # 0-d
    z = np.exp(Tensor(0.5))
    assert isinstance(z, Tensor) and z.shape == () and float(z) == pytest.approx(np.exp(0.5))
    # boolean-valued ufuncs and functions run on the data: there is no derivative to lose
    np.testing.assert_array_equal(arr < x, arr < x.data)
    np.testing.assert_array_equal(np.isfinite(x), np.ones((2, 3), dtype=bool))
    assert np.allclose(x, x.data) and np.shape(x) == (2, 3) and np.argmax(x) == np.argmax(x.data)


def test_numpy_ufuncs_use_tensor_methods_of_the_same_name(monkeypatch):
    # the elementwise methods of other work (t.maximum(o), t.arctan2(o), t.clip(lo, hi), t.tan())
    # are found by name; stand-ins here keep this test independent of them
    calls = []

    def arctan2(self, other):
        calls.append((self, other))
        return self * 1.0

    monkeypatch.setattr(Tensor, "arctan2", arctan2, raising=False)
    monkeypatch.setattr(Tensor, "clip", lambda self, lo, hi: self * 2.0, raising=False)
    monkeypatch.setattr(Tensor, "exp2", lambda self: self * 3.0, raising=False)
    x = Tensor([1.0, 2.0])
    arr = np.array([3.0, 4.0])
    out = np.arctan2(arr, x)          # the array is the first operand: a constant leaf
    (first, second), = calls
    assert isinstance(first, Tensor) and not first.parents and second is x
    np.testing.assert_array_equal(first.data, arr)
    assert isinstance(out, Tensor)
    np.arctan2(x, arr)
    assert calls[1][0] is x and calls[1][1] is arr
    np.testing.assert_array_equal(np.clip(x, 0.0, 1.0).data, [2.0, 4.0])
    np.testing.assert_array_equal(np.exp2(x).data, [3.0, 6.0])


def test_numpy_calls_that_would_detach_raise_naming_the_tensor_function():
    x = Tensor(RNG.standard_normal((2, 3)))
    cases = [
        (lambda: np.asarray(x), r"t\.data \(or t\.numpy\(\), a copy\)"),
        (lambda: np.array(x), "cut it from the graph"),
        (lambda: np.array([x, x]), "T.stack / T.concatenate"),
        (lambda: np.dot(x, x.T), r"numpy\.dot .*; use @ or T\.matmul"),
        (lambda: np.vstack([x, x]), r"numpy\.vstack .*; use T\.concatenate / T\.stack"),
        (lambda: np.hstack([x, x]), r"use T\.concatenate / T\.stack"),
        (lambda: np.linalg.norm(x), r"numpy\.linalg\.norm .*T\.vdot"),
        (lambda: np.squeeze(x), r"use t\.reshape"),
        (lambda: np.cumsum(x), r"numpy\.cumsum is not supported on a Tensor"),
        (lambda: np.add.reduce(x), r"numpy\.add\.reduce .*; use t\.sum\(axis\)"),
        (lambda: np.exp2(x), r"numpy\.exp2 has no Tensor version"),
        (lambda: np.exp(x, out=np.empty((2, 3))), "out="),
        (lambda: np.where(x), "numpy.where.cond. with one argument"),
    ]
    for call, pattern in cases:
        with pytest.raises(TypeError, match=pattern):
            call()
    # in-place arithmetic on a plain array cannot hold a Tensor
    acc = np.zeros((2, 3))
    with pytest.raises(TypeError, match=r"arr \+= t"):
        acc += x
    np.testing.assert_array_equal(acc, np.zeros((2, 3)))
    with pytest.raises(TypeError):
        acc[0] = x[0]
    # the explicit ways out of the graph still work
    assert x.data.shape == (2, 3) and x.numpy() is not x.data
    np.testing.assert_array_equal(np.asarray(x.detach().data), x.data)


def test_gradcheck_catches_a_numpy_detach_now_loudly():
    # before: np.concatenate returned an ndarray and the gradient of a was silently 0
    a = RNG.standard_normal(3)
    rep = ac.gradcheck(lambda t: (np.concatenate([t, t]) ** 2).sum(), [a])
    assert rep
    with no_grad():
        assert isinstance(np.concatenate([Tensor(a), Tensor(a)]), Tensor)


# ------------------------------------------------------------------ PyTorch float64 oracle

def test_against_torch_float64():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((3, 4, 2))
    x[0, 1, 0] = x[0, 2, 0] = 5.0          # a tie for max over axis 1
    x[1, :, 1] = 0.7                       # zero variance for std over axis 1
    x[2, 3, 0] = 0.0                       # a zero for prod
    r = RNG.standard_normal((3, 2))
    cases = {
        "max": (lambda t: t.max(axis=1), lambda u: u.amax(dim=1)),
        "min": (lambda t: t.min(axis=1), lambda u: u.amin(dim=1)),
        "prod": (lambda t: t.prod(axis=1), lambda u: u.prod(dim=1)),
        "var": (lambda t: t.var(axis=1, ddof=1), lambda u: u.var(dim=1, correction=1)),
        "std": (lambda t: t.std(axis=1, correction=1), lambda u: u.std(dim=1, correction=1)),
        "std0": (lambda t: t.std(axis=1), lambda u: u.std(dim=1, correction=0)),
        "logsumexp": (lambda t: t.logsumexp(axis=1), lambda u: torch.logsumexp(u, dim=1)),
    }
    for name, (ours, theirs) in cases.items():
        t = Tensor(x)
        out = ours(t)
        u = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        ref = theirs(u)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-13, atol=1e-15,
                                   err_msg=name)
        (out * r).sum().backward()
        (ref * torch.tensor(r)).sum().backward()
        np.testing.assert_allclose(t.grad, u.grad.numpy(), rtol=1e-12, atol=1e-14, err_msg=name)
    # cross-entropy: (N, C, d) logits with labels and with probability targets (both differentiated)
    z = RNG.standard_normal((2, 3, 4))
    lab = RNG.integers(0, 3, (2, 4))
    p = RNG.dirichlet(np.ones(3), size=(2, 4)).transpose(0, 2, 1)
    zt, pt = Tensor(z), Tensor(p)
    zu = torch.tensor(z, requires_grad=True)
    pu = torch.tensor(p, requires_grad=True)
    F = torch.nn.functional
    ours = T.cross_entropy(zt, lab) + T.cross_entropy(zt, pt, reduction="sum")
    ref = F.cross_entropy(zu, torch.tensor(lab)) + F.cross_entropy(zu, pu, reduction="sum")
    assert float(ours) == pytest.approx(float(ref), rel=1e-13)
    ours.backward()
    ref.backward()
    np.testing.assert_allclose(zt.grad, zu.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(pt.grad, pu.grad.numpy(), rtol=1e-12, atol=1e-14)
    # binary cross-entropy with logits and Tensor targets
    b, y = RNG.standard_normal((3, 2)), RNG.uniform(0, 1, (3, 2))
    bt, yt = Tensor(b), Tensor(y)
    bu, yu = torch.tensor(b, requires_grad=True), torch.tensor(y, requires_grad=True)
    T.binary_cross_entropy_with_logits(bt, yt, reduction="sum").backward()
    F.binary_cross_entropy_with_logits(bu, yu, reduction="sum").backward()
    np.testing.assert_allclose(bt.grad, bu.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(yt.grad, yu.grad.numpy(), rtol=1e-13)


def test_explain_shows_the_new_local_maps_and_the_engine_gradients():
    a, b = Tensor(RNG.standard_normal((2, 3)), "a"), Tensor(RNG.standard_normal((1, 3)), "b")
    out = T.concatenate([a, b]).max(axis=1).prod() + T.stack([a, a]).std()
    tr = ac.explain(out)
    kinds = {k for r in tr.forward_rows for k in r["local"]}
    assert {"PlaceMap", "ReduceAxesMap"} <= kinds
    ga, gb = T.gradients(out, [a, b])
    np.testing.assert_allclose(tr.gradients["a"], ga, rtol=1e-14)
    np.testing.assert_allclose(tr.gradients["b"], gb, rtol=1e-14)
    assert "PlaceMap" in tr.to_text()


def test_plot_decision_boundary_takes_a_callable_returning_a_tensor():
    pytest.importorskip("matplotlib")
    from visualize.training_plots import plot_decision_boundary

    w = Tensor([1.0, -1.0])
    X = RNG.standard_normal((20, 2))
    y = (X[:, 0] > X[:, 1]).astype(int)
    fig = plot_decision_boundary(lambda g: (g @ w).sigmoid(), X, y, resolution=10)
    assert fig.axes
