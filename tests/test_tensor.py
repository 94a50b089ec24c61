"""Tensor: the numpy-backed node on the same engine (issue 9, phase 1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import PRIMITIVES, Tensor, Value, no_grad, push_tangents, topological_order, zero_grad
from autograd_core import tensor as T
from autograd_core.engine import LocalMap, _backprop
from autograd_core.tensor_check import tensor_gradcheck

RNG = np.random.default_rng(1234)


def rand(*shape, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, size=shape)


# ---------------------------------------------------------------- elementwise = scalar rules

UNARY = ["neg", "abs", "exp", "expm1", "sin", "cos", "erf", "erfc", "tanh", "sigmoid",
         "softplus", "relu", "gelu", "gelu_tanh",
         "tan", "sinh", "cosh", "arctan", "arcsinh", "sign", "floor", "ceil", "selu", "relu6",
         "hardsigmoid", "hardswish", "mish", "softsign", "logsigmoid"]
PARAM = {"leaky_relu": 0.1, "elu": 1.5, "swish": 0.7, "add_const": 2.5, "sub_const": -1.0,
         "rsub_const": 3.0, "mul_const": -2.0, "div_const": 4.0, "pow_const": 3.0,
         "rpow_const": 2.0, "celu": 0.7, "softplus_beta": 2.0, "clip": (-0.5, 2.0),
         "hardtanh": (-1.0, 0.25)}
POINTS = np.array([-3.0, -1.0, -0.5, -1e-300, 0.0, 0.25, 1.0, 2.5, 40.0, -800.0, np.nan])


def _scalar(name, x, param=None):
    v = Value(float(x))
    out = ag.apply(name, v, param=param)
    return out.data, out.local_grads[0]


@pytest.mark.parametrize("name", UNARY + sorted(PARAM))
def test_elementwise_matches_scalar_rule_per_element(name):
    """Value and local derivative of every element equal the scalar engine's
    (same rule, kinks and NaN included), to the last ulps (numpy's exp/sin
    may round differently from math's)."""
    param = PARAM.get(name)
    xs = POINTS
    t = Tensor(xs)
    out = T._apply_ew(PRIMITIVES[name], (t,), param)
    (local,) = out.local_grads
    local = np.broadcast_to(local, xs.shape)
    for i, x in enumerate(xs):
        v, d = _scalar(name, x, param)
        np.testing.assert_allclose(out.data[i], v, rtol=1e-13, atol=1e-16, err_msg=f"{name} value at {x}")
        np.testing.assert_allclose(local[i], d, rtol=1e-13, atol=1e-16, err_msg=f"{name} derivative at {x}")
    assert out.op == name


def test_positive_domain_functions_match_scalar():
    xs = np.array([1e-8, 0.3, 1.0, 7.0, 1e300])
    for name in ["log", "sqrt", "log1p"]:
        out = T._apply_ew(PRIMITIVES[name], (Tensor(xs),))
        for i, x in enumerate(xs):
            v, d = _scalar(name, x)
            np.testing.assert_allclose([out.data[i], out.local_grads[0][i]], [v, d], rtol=4e-16)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "prelu", "hypot", "arctan2",
                                  "maximum", "minimum", "logaddexp"])
def test_binary_elementwise_matches_scalar(name):
    a = np.array([0.5, 1.5, 2.0, -1.0, 0.0, 3.0])
    b = np.array([2.0, -0.5, 3.0, 0.25, 2.0, 0.0]) if name != "div" else \
        np.array([2.0, -0.5, 3.0, 0.25, 2.0, 7.0])
    if name == "pow":
        a = np.abs(a) + (a == 0)  # positive bases (a zero base with b>0 is fine too)
        a[4] = 0.0
    out = T._apply_ew(PRIMITIVES[name], (Tensor(a), Tensor(b)))
    # numpy's arctan2 and exp (in σ) may round the last bit differently from math's
    rtol = 4e-16 if name in ("arctan2", "logaddexp") else 0.0
    for i in range(len(a)):
        s = ag.apply(name, Value(a[i]), Value(b[i]))
        np.testing.assert_allclose(out.data[i], s.data, rtol=rtol, atol=0)
        for k in range(2):
            np.testing.assert_allclose(np.broadcast_to(out.local_grads[k], a.shape)[i],
                                       s.local_grads[k], rtol=rtol, atol=0)


def test_kink_conventions_as_scalar():
    x = Tensor([0.0, 0.0, 0.0])
    for meth, expect in [("relu", 0.0), ("__abs__", 0.0)]:
        y = getattr(x, meth)()
        y.sum().backward()
        assert np.all(x.grad == expect)
        zero_grad([x])
    x.leaky_relu(0.2).sum().backward()
    assert np.all(x.grad == 0.2)
    alpha = Tensor([0.3])
    xx = Tensor([0.0, -2.0, 3.0])
    T.prelu(xx, alpha).sum().backward()
    np.testing.assert_array_equal(xx.grad, [0.3, 0.3, 1.0])
    assert alpha.grad.shape == (1,) and alpha.grad[0] == -2.0  # only x=-2 contributes


def test_any_table_rule_runs_on_arrays_unchanged():
    """Tensors hold no formulas: a rule written once with _math (branches
    included) runs elementwise as it is, and the array primitive keeps the
    scalar primitive's metadata."""
    from autograd_core import _math as m
    from autograd_core.primitives import Primitive

    def rule(x):
        if x > 1.0:
            return m.log(x), (m.div(1.0, x),)
        return x - 1.0, (1.0,)

    prim = Primitive(name="loglin", rule=rule, kinks=(1.0,), convention="left")
    ew = T.elementwise(prim)
    xs = np.array([0.0, 1.0, 2.0, 4.0])
    value, (d,) = ew.rule(xs)
    np.testing.assert_allclose(value, [-1.0, 0.0, math.log(2), math.log(4)])
    np.testing.assert_allclose(np.broadcast_to(d, 4), [1.0, 1.0, 0.5, 0.25])
    assert ew.kinks == (1.0,) and ew.convention == "left"
    relu = T.elementwise("relu")
    assert relu.convention == PRIMITIVES["relu"].convention and relu.check is PRIMITIVES["relu"].check


# ---------------------------------------------------------------- broadcasting

@pytest.mark.parametrize("sa,sb", [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)),
                                   ((), (2, 2)), ((5,), ())])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow"])
def test_broadcast_gradients_are_unbroadcast(sa, sb, op):
    a = rand(*sa, lo=0.5, hi=2.0)
    b = rand(*sb, lo=0.5, hi=2.0)
    f = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
         "div": lambda x, y: x / y, "pow": lambda x, y: x ** y}[op]
    rep = tensor_gradcheck(f, [a, b])
    assert rep.ok, rep.summary()
    ta, tb = Tensor(a), Tensor(b)
    out = f(ta, tb)
    out.backward(np.ones(out.shape))
    assert ta.grad.shape == sa and tb.grad.shape == sb


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=0, max_size=3), st.data())
def test_property_broadcast_add_grad_counts(shape, data):
    """∂Σ(a + b)/∂b = number of times each b element was broadcast."""
    shape = tuple(shape)
    bshape = tuple(data.draw(st.sampled_from([1, n])) for n in shape[len(shape) // 2:])
    a, b = Tensor(np.ones(shape)), Tensor(np.ones(bshape))
    (a + b).sum().backward()
    out = np.broadcast_shapes(shape, bshape)
    count = int(np.prod(out)) // max(int(np.prod(bshape)), 1)
    assert np.all(b.grad == count)
    assert np.all(a.grad == int(np.prod(out)) // max(int(np.prod(shape)), 1))


def test_constants_arrays_and_numbers():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    c = np.array([10.0, 20.0])
    y = (2 * x + c - 1) / 2 + 3 ** x * 0 + (1 - x) * 0 + x ** 2
    y.backward(np.ones((2, 2)))
    np.testing.assert_allclose(x.grad, 1 + 2 * x.data)
    assert y.parents  # constants are parameters, not leaves
    z = c * x  # ndarray on the left defers to Tensor
    assert isinstance(z, Tensor) and z.op == "mul_const"
    np.testing.assert_array_equal(z.param, c)


# ---------------------------------------------------------------- array operations

@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                                   ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul_gradcheck(sa, sb):
    rep = tensor_gradcheck(lambda a, b: a @ b, [rand(*sa), rand(*sb)])
    assert rep.ok, rep.summary()


def test_matmul_with_constants_and_linear():
    w, x, b = rand(3, 4), rand(5, 4), rand(3)
    rep = tensor_gradcheck(lambda W: x @ W.T, [w])
    assert rep.ok
    rep = tensor_gradcheck(lambda W: W @ x.T, [w])
    assert rep.ok
    rep = tensor_gradcheck(lambda W, B: T.linear(x, W, B), [w, b])
    assert rep.ok, rep.summary()
    rep = tensor_gradcheck(lambda X, W, B: T.linear(X, W, B).sigmoid(), [x, w, b])
    assert rep.ok, rep.summary()
    rep = tensor_gradcheck(lambda X, W, B: T.linear(X, W, B), [x[0], w, b])
    assert rep.ok, rep.summary()
    # fused linear equals the composite
    W, B = Tensor(w), Tensor(b)
    np.testing.assert_allclose(T.linear(x, W, B).data, (x @ W.T + B).data, rtol=1e-15)


@pytest.mark.parametrize("axis,keep", [(None, False), (0, False), (1, True), ((0, 2), False),
                                       (-1, True)])
def test_sum_mean_gradcheck(axis, keep):
    a = rand(2, 3, 4)
    assert tensor_gradcheck(lambda x: x.sum(axis=axis, keepdims=keep), [a]).ok
    assert tensor_gradcheck(lambda x: x.mean(axis=axis, keepdims=keep), [a]).ok
    np.testing.assert_allclose(Tensor(a).mean(axis=axis, keepdims=keep).data,
                               a.mean(axis=axis, keepdims=keep))


def test_reshape_transpose_index_gradcheck():
    a = rand(2, 3, 4)
    assert tensor_gradcheck(lambda x: x.reshape(4, 6) * np.arange(24.0).reshape(4, 6), [a]).ok
    assert tensor_gradcheck(lambda x: x.transpose(2, 0, 1) * np.arange(24.0).reshape(4, 2, 3), [a]).ok
    assert tensor_gradcheck(lambda x: x.T, [a]).ok
    assert tensor_gradcheck(lambda x: x[1, :, 1:3] ** 2, [a]).ok
    assert tensor_gradcheck(lambda x: x[..., -1], [a]).ok
    assert tensor_gradcheck(lambda x: x.broadcast_to((5, 2, 3, 4)), [a]).ok
    # fancy indexing with repeats: gradients add up
    x = Tensor([1.0, 2.0, 3.0])
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    assert tensor_gradcheck(lambda t: t[np.array([[0, 1], [1, 1]])] * 3.0, [rand(3)]).ok


def test_every_op_forward_mode_equals_reverse():
    a, b = Tensor(rand(3, 4)), Tensor(rand(4))
    out = ((a * b).tanh() @ b.reshape(4, 1)).log_softmax(axis=0)[1:].sum() + (a.mean(0) ** 2).sum()
    out.backward()
    ta, tb = rand(3, 4), rand(4)
    fwd = T.jvp(out, {a: ta, b: tb})
    np.testing.assert_allclose(fwd, np.sum(a.grad * ta) + np.sum(b.grad * tb), rtol=1e-12)
    # the engine's push_tangents is the driver (linear maps via LocalMap.jvp)
    tans = push_tangents(out, {a: ta, b: tb})
    np.testing.assert_allclose(tans[out], fwd)
    assert any(isinstance(l, LocalMap) for n in topological_order(out) for l in n.local_grads)


# ---------------------------------------------------------------- softmax & losses

def test_log_softmax_stable_and_correct():
    x = Tensor([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    y = x.log_softmax(axis=1)
    assert np.all(np.isfinite(y.data[1])) and y.data[0, 0] == 0.0 and y.data[0, 1] == -1000.0 and y.data[0, 2] == -2000.0
    ref = np.array([1.0, 2, 3]) - math.log(math.exp(1) + math.exp(2) + math.exp(3))
    np.testing.assert_allclose(y.data[1], ref, rtol=1e-15)
    assert tensor_gradcheck(lambda t: t.log_softmax(0), [rand(4, 3)]).ok
    np.testing.assert_allclose(x.softmax().data.sum(axis=-1), 1.0)


def test_cross_entropy_labels_probabilities_and_extremes():
    z = rand(5, 4)
    labels = np.array([0, 3, 1, 1, 2])
    ce = T.cross_entropy(Tensor(z), labels)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    assert ce.data == pytest.approx(-logp[np.arange(5), labels].mean(), rel=1e-14)
    rep = tensor_gradcheck(lambda t: T.cross_entropy(t, labels), [z])
    assert rep.ok, rep.summary()
    p = np.eye(4)[labels] * 0.7 + 0.075
    rep = tensor_gradcheck(lambda t: T.cross_entropy(t, p, reduction="sum"), [z])
    assert rep.ok
    big = Tensor([[1e4, -1e4], [-1e4, 1e4]])
    loss = T.cross_entropy(big, [1, 0])
    assert loss.data == pytest.approx(2e4) and np.isfinite(loss.data)
    loss.backward()
    np.testing.assert_allclose(big.grad, [[0.5, -0.5], [-0.5, 0.5]])
    with pytest.raises(ValueError, match="0..1"):
        T.cross_entropy(big, [2, 0])
    with pytest.raises(ValueError, match=r"\(3,\)"):
        T.cross_entropy(big, [1, 0, 0])


def test_binary_cross_entropy_matches_network2_formula():
    z = rand(6, 3, lo=-5, hi=5)
    y = (RNG.random((6, 3)) > 0.5).astype(float)
    a = 1 / (1 + np.exp(-z))
    ref = np.sum(-y * np.log(a) - (1 - y) * np.log(1 - a)) / 6
    loss = T.binary_cross_entropy_with_logits(Tensor(z), y)
    assert loss.data == pytest.approx(ref, rel=1e-12)
    t = Tensor(z)
    T.binary_cross_entropy_with_logits(t, y).backward()
    np.testing.assert_allclose(t.grad, (a - y) / 6, rtol=1e-12)  # network2's delta = a - y
    huge = Tensor([[800.0, -800.0]])
    assert T.binary_cross_entropy_with_logits(huge, [[0.0, 1.0]]).data == pytest.approx(1600.0)


# ---------------------------------------------------------------- errors

def test_shape_errors_name_both_shapes_and_op():
    a, b = Tensor(np.ones((3, 4))), Tensor(np.ones((5,)))
    with pytest.raises(ValueError, match=r"add \(\+\).*\(3, 4\).*\(5,\)"):
        a + b
    with pytest.raises(ValueError, match=r"mul_const \(\*\).*\(3, 4\).*\(2,\)"):
        a * np.ones(2)
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5,\)"):
        a @ b
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(3, 4\)"):
        a @ a
    with pytest.raises(ValueError, match=r"reshape.*\(3, 4\).*\(5, 2\)"):
        a.reshape(5, 2)
    with pytest.raises(ValueError, match=r"linear.*\(2, 3\).*\(4, 4\)"):
        T.linear(np.ones((2, 3)), Tensor(np.ones((4, 4))), Tensor(np.ones(4)))
    with pytest.raises(ValueError, match=r"backward.*\(3, 4\)"):
        a.sum(axis=0).backward() if False else (a * 2).backward()
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        a.sum(axis=2)


def test_type_and_domain_errors_make_no_node():
    with pytest.raises(TypeError, match="real numbers"):
        Tensor(["a", "b"])
    with pytest.raises(TypeError, match="real numbers"):
        Tensor([True, False])
    with pytest.raises(TypeError, match="Value"):
        Tensor(Value(1.0))
    with pytest.raises(TypeError, match="Value"):
        Tensor([1.0]) + Value(2.0)
    with pytest.raises(ValueError, match="float64 or float32"):
        Tensor([1.0], dtype="int32")
    with pytest.raises(TypeError):
        Tensor([1.0]) + "x"
    x = Tensor([[1.0, 2.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match=r"log\(0\).*index \(1, 0\)"):
        x.log()
    with pytest.raises(ValueError, match=r"sqrt\(-1\).*index \(1, 1\)"):
        x.sqrt()
    with pytest.raises(ZeroDivisionError, match=r"index \(1, 0\)"):
        1.0 / x
    with pytest.raises(ZeroDivisionError):
        Tensor([1.0, 2.0]) / Tensor([1.0, 0.0])
    with pytest.raises(ValueError, match="negative base"):
        Tensor([-8.0]) ** 0.5


# ---------------------------------------------------------------- dtype & engine machinery

def test_float32_on_request_is_kept():
    w = Tensor(rand(3, 4), dtype="float32")
    x = Tensor(rand(4), dtype=np.float32)
    y = ((w @ x).sigmoid() * 2.0 + 1.0).log_softmax().sum()
    assert y.dtype == np.float32
    y.backward()
    assert w.grad.dtype == np.float32 and x.grad.dtype == np.float32
    assert Tensor([1, 2]).dtype == np.float64
    assert Tensor(np.ones(2, dtype=np.float32)).dtype == np.float64  # float64 by default


def test_same_engine_machinery():
    x = Tensor(rand(3), "x")
    y = (x * x).exp().sum()
    order = topological_order(y)
    assert order[-1] is y and x in order
    y.backward()
    g1 = x.grad.copy()
    y.backward()  # accumulates like Value
    np.testing.assert_allclose(x.grad, 2 * g1)
    zero_grad([x])  # the engine's zero_grad
    assert np.all(x.grad == 0)
    with no_grad():
        z = x * 2
    assert z.is_leaf and z.op == ""
    d = y.detach()
    assert d.is_leaf and d.data is y.data
    np.testing.assert_allclose(T.gradients(y, [x])[0], g1)
    assert np.all(x.grad == 0)  # gradients() touches no .grad
    # the backward driver is the engine's own
    order, grads = _backprop(y, np.ones(()), False)
    assert x in order
    np.testing.assert_allclose(grads[x], g1)


def test_assign_and_grad_setter():
    w = Tensor(np.zeros((2, 2)))
    w.assign(np.ones((2, 2)))
    assert np.all(w.data == 1)
    with pytest.raises(ValueError, match="shape"):
        w.assign(np.ones(3))
    with pytest.raises(ValueError, match="leaves only"):
        (w * 2).assign(np.ones((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        w.grad = np.ones(3)


def test_create_graph_second_derivatives():
    x = Tensor([0.5, -1.0, 2.0])
    y = (x ** 3).sum()
    (g,) = T.gradients(y, [x], create_graph=True)
    assert isinstance(g, Tensor)
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)
    (gg,) = T.gradients(g.sum(), [x])
    np.testing.assert_allclose(gg, 6 * x.data)
    # through matmul, broadcasting, sigmoid and log_softmax: Hessian-vector product vs FD
    W = rand(3, 4)
    b = rand(3)
    v = rand(3, 4)

    def loss(w):
        return T.cross_entropy(((w @ np.ones(4)) * 0.3 + b).sigmoid().reshape(1, 3) @ w, [1])

    def grad_at(w):
        t = Tensor(w)
        return T.gradients(loss(t), [t])[0]

    t = Tensor(W)
    (gw,) = T.gradients(loss(t), [t], create_graph=True)
    (hv,) = T.gradients((gw * v).sum(), [t])
    eps = 1e-5
    fd = (grad_at(W + eps * v) - grad_at(W - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-8)


def test_create_graph_through_kinks():
    x = Tensor([-1.0, 0.5, 2.0])
    y = (x.relu() * x * x).sum()  # x^3 for x>0, 0 otherwise
    x.grad  # noqa: B018
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Tensor)
    np.testing.assert_allclose(g.data, [0.0, 0.75, 12.0])
    (gg,) = T.gradients(g.sum(), [x])
    np.testing.assert_allclose(gg, [0.0, 3.0, 12.0])


def test_gradcheck_samples_option_and_failure_report():
    rep = tensor_gradcheck(lambda a: (a * a).sum(), [rand(40, 30)], samples=15)
    assert len(rep.rows) == 15 and rep.ok
    rep = tensor_gradcheck(lambda a: a.sigmoid(), [rand(3, 2)])
    assert len(rep.rows) == 6 and rep.ok
    assert "6 elements checked, 0 failed" in rep.summary()


def test_describe_rows():
    t = Tensor(np.full((2, 3), 2.0), "w")
    assert T.describe(t) == "f64[2×3] ‖·‖=4.899"
    (t * t).sum().backward()
    assert T.describe(t, grad=True).startswith("f64[2×3] ‖·‖=9.798")
    assert T.describe(Tensor(3.0)) == "f64[] 3"


def test_tensor_rows_and_drawing():
    from autograd_core.tensor_view import draw_tensor_graph, format_rows, tensor_rows

    x = Tensor(np.ones((2, 3)), "x")
    w = Tensor(np.full((3, 4), 0.5), "w")
    y = (x @ w).sigmoid().sum()
    y.backward()
    rows = tensor_rows(y)
    byname = {r["name"]: r for r in rows}
    assert byname["x"]["shape"] == (2, 3) and byname["x"]["op"] == "leaf"
    assert rows[-1]["op"] == "sum_axes" and rows[-1]["shape"] == ()
    mm = next(r for r in rows if r["op"] == "matmul")
    assert mm["local"] == ["MatmulLeft", "MatmulRight"] and mm["parents"] == ["x", "w"]
    assert byname["w"]["grad_norm"] == pytest.approx(float(np.linalg.norm(w.grad)))
    text = format_rows(rows)
    assert "sigmoid" in text and "2×4" in text
    src = draw_tensor_graph(y).source
    assert "f64[2×3]" in src and "grad" in src and src.count("->") == 4


@pytest.mark.parametrize("name", ["bce-index-mean", "transpose-abs-vdot", "pow-div-log_softmax"])
def test_create_graph_hessian_vector_products(name):
    """Reverse-over-reverse Hv against finite differences of the gradient."""
    A = rand(3, 4, lo=0.3, hi=1.5)
    V = rand(3, 4)
    y01 = (RNG.random((2, 4)) > 0.5).astype(float)

    def f(a):
        if name == "bce-index-mean":
            return T.binary_cross_entropy_with_logits(a[[0, 2]] * a[1], y01) + a[:, 1:].mean() ** 2
        if name == "transpose-abs-vdot":
            return T.vdot(abs(a.T - 0.9) ** 3, a.T.tanh()) + T.sum_of_vdots([(a, a)], 0.25)
        return (a ** 1.5 / (1.0 + a)).log_softmax(0).sum(axis=1).mean() + (a ** a).sum()

    def grad(w):
        t = Tensor(w)
        return T.gradients(f(t), [t])[0]

    t = Tensor(A)
    (g,) = T.gradients(f(t), [t], create_graph=True)
    np.testing.assert_allclose(g.data, grad(A), rtol=1e-12)
    (hv,) = T.gradients((g * V).sum(), [t])
    eps = 1e-6
    fd = (grad(A + eps * V) - grad(A - eps * V)) / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=2e-5, atol=1e-7)
