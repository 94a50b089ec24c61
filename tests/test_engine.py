"""The scalar engine: values, local derivatives, backward, errors, grad mode."""

from __future__ import annotations

import asyncio
import gc
import math
import sys
import threading
import tracemalloc
from fractions import Fraction

import numpy as np
import pytest

import autograd_core as ac
from autograd_core import Value, no_grad, zero_grad
from autograd_core.core import engine


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def phi(x):  # standard normal CDF and pdf, written independently of the engine
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def pdf(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def sig(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


K = math.sqrt(2 / math.pi)

# name, engine call, value formula, hand-derived derivative, points (both sides of kinks)
UNARY = [
    ("neg", lambda v: -v, lambda x: -x, lambda x: -1.0, [-2.5, 0.3, 7.0]),
    ("abs", abs, abs, lambda x: math.copysign(1.0, x), [-3.0, -1e-3, 1e-3, 4.0]),
    ("exp", Value.exp, math.exp, math.exp, [-3.0, 0.0, 2.0, 30.0]),
    ("expm1", Value.expm1, math.expm1, math.exp, [-2.0, 1e-8, 1.5]),
    ("log", Value.log, math.log, lambda x: 1 / x, [1e-3, 0.5, 2.0, 1e6]),
    ("log1p", Value.log1p, math.log1p, lambda x: 1 / (1 + x), [-0.5, 1e-9, 3.0]),
    ("sqrt", Value.sqrt, math.sqrt, lambda x: 0.5 / math.sqrt(x), [1e-4, 0.25, 9.0, 1e8]),
    ("sin", Value.sin, math.sin, math.cos, [-2.0, 0.0, 1.0, 100.0]),
    ("cos", Value.cos, math.cos, lambda x: -math.sin(x), [-2.0, 0.0, 1.0, 100.0]),
    ("erf", Value.erf, math.erf, lambda x: 2 / math.sqrt(math.pi) * math.exp(-x * x), [-1.5, 0.0, 0.7]),
    ("tanh", Value.tanh, math.tanh, lambda x: 1 / math.cosh(x) ** 2, [-3.0, 0.0, 0.5, 5.0]),
    ("sigmoid", Value.sigmoid, sig, lambda x: sig(x) * (1 - sig(x)), [-30.0, -1.0, 0.0, 2.0, 30.0]),
    ("relu", Value.relu, lambda x: max(0.0, x), lambda x: 1.0 if x > 0 else 0.0, [-2.0, -1e-3, 1e-3, 3.0]),
    ("leaky_relu", lambda v: v.leaky_relu(0.1), lambda x: x if x > 0 else 0.1 * x,
     lambda x: 1.0 if x > 0 else 0.1, [-2.0, -1e-3, 1e-3, 3.0]),
    ("elu", lambda v: v.elu(0.7), lambda x: x if x > 0 else 0.7 * (math.exp(x) - 1),
     lambda x: 1.0 if x > 0 else 0.7 * math.exp(x), [-3.0, -1e-3, 1e-3, 2.0]),
    ("softplus", Value.softplus, lambda x: math.log1p(math.exp(x)), sig, [-20.0, -1.0, 0.0, 3.0, 20.0]),
    ("swish", lambda v: v.swish(2.0), lambda x: x * sig(2 * x),
     lambda x: sig(2 * x) + 2 * x * sig(2 * x) * (1 - sig(2 * x)), [-4.0, -0.5, 0.0, 1.3]),
    ("gelu", Value.gelu, lambda x: x * phi(x), lambda x: phi(x) + x * pdf(x), [-3.0, -0.5, 0.0, 0.8, 4.0]),
    ("gelu_tanh", lambda v: v.gelu("tanh"),
     lambda x: 0.5 * x * (1 + math.tanh(K * (x + 0.044715 * x ** 3))),
     lambda x: (0.5 * (1 + math.tanh(K * (x + 0.044715 * x ** 3)))
                + 0.5 * x * (1 - math.tanh(K * (x + 0.044715 * x ** 3)) ** 2) * K * (1 + 3 * 0.044715 * x * x)),
     [-3.0, -0.5, 0.0, 0.8, 4.0]),
    ("gelu_sigmoid", lambda v: v.gelu("sigmoid"), lambda x: x * sig(1.702 * x),
     lambda x: sig(1.702 * x) + 1.702 * x * sig(1.702 * x) * (1 - sig(1.702 * x)), [-3.0, 0.0, 2.0]),
    ("pow_const", lambda v: v ** 3, lambda x: x ** 3, lambda x: 3 * x * x, [-2.0, 0.5, 4.0]),
    ("pow_const_frac", lambda v: v ** 0.5, math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.25, 4.0]),
    ("rpow_const", lambda v: 2 ** v, lambda x: 2.0 ** x, lambda x: 2.0 ** x * math.log(2), [-3.0, 0.0, 5.5]),
    ("add_const", lambda v: v + 3, lambda x: x + 3, lambda x: 1.0, [-1.0, 2.0]),
    ("radd_const", lambda v: 3 + v, lambda x: 3 + x, lambda x: 1.0, [-1.0, 2.0]),
    ("sub_const", lambda v: v - 3, lambda x: x - 3, lambda x: 1.0, [-1.0, 2.0]),
    ("rsub_const", lambda v: 3 - v, lambda x: 3 - x, lambda x: -1.0, [-1.0, 2.0]),
    ("mul_const", lambda v: v * -2.5, lambda x: -2.5 * x, lambda x: -2.5, [-1.0, 2.0]),
    ("div_const", lambda v: v / 4, lambda x: x / 4, lambda x: 0.25, [-1.0, 2.0]),
    ("rdiv_const", lambda v: 3 / v, lambda x: 3 / x, lambda x: -3 / x ** 2, [-2.0, 0.5, 7.0]),
    # the wider function set: textbook derivatives
    ("tan", Value.tan, math.tan, lambda x: 1 / math.cos(x) ** 2, [-1.2, 0.0, 0.5, 1.5]),
    ("sinh", Value.sinh, math.sinh, math.cosh, [-3.0, 0.0, 0.5, 20.0]),
    ("cosh", Value.cosh, math.cosh, math.sinh, [-3.0, 0.0, 0.5, 20.0]),
    ("arcsin", Value.arcsin, math.asin, lambda x: 1 / math.sqrt(1 - x * x), [-0.9, 0.0, 0.5, 0.99]),
    ("arccos", Value.arccos, math.acos, lambda x: -1 / math.sqrt(1 - x * x), [-0.9, 0.0, 0.5, 0.99]),
    ("arctan", Value.arctan, math.atan, lambda x: 1 / (1 + x * x), [-3.0, 0.0, 0.5, 1e3]),
    ("arcsinh", Value.arcsinh, math.asinh, lambda x: 1 / math.sqrt(1 + x * x), [-3.0, 0.0, 0.5, 1e3]),
    ("arccosh", Value.arccosh, math.acosh, lambda x: 1 / math.sqrt(x * x - 1), [1.01, 1.5, 3.0, 1e3]),
    ("arctanh", Value.arctanh, math.atanh, lambda x: 1 / (1 - x * x), [-0.9, 0.0, 0.5]),
    ("log2", Value.log2, math.log2, lambda x: 1 / (x * math.log(2)), [1e-3, 0.5, 8.0, 1e6]),
    ("log10", Value.log10, math.log10, lambda x: 1 / (x * math.log(10)), [1e-3, 0.5, 100.0, 1e6]),
    ("sign", Value.sign, lambda x: math.copysign(1.0, x), lambda x: 0.0, [-2.0, -1e-3, 1e-3, 3.0]),
    ("floor", Value.floor, math.floor, lambda x: 0.0, [-2.5, 0.3, 7.2]),
    ("ceil", Value.ceil, math.ceil, lambda x: 0.0, [-2.5, 0.3, 7.2]),
    ("selu", Value.selu,
     lambda x: 1.0507009873554805 * (x if x > 0 else 1.6732632423543772 * (math.exp(x) - 1)),
     lambda x: 1.0507009873554805 * (1.0 if x > 0 else 1.6732632423543772 * math.exp(x)),
     [-2.0, -1e-3, 1e-3, 3.0]),
    ("celu", lambda v: v.celu(0.5), lambda x: x if x > 0 else 0.5 * (math.exp(2 * x) - 1),
     lambda x: 1.0 if x > 0 else math.exp(2 * x), [-2.0, -1e-3, 1e-3, 3.0]),
    ("relu6", Value.relu6, lambda x: min(max(0.0, x), 6.0), lambda x: 1.0 if 0 < x < 6 else 0.0,
     [-2.0, 3.0, 7.0]),
    ("hardtanh", lambda v: v.hardtanh(-0.5, 2.0), lambda x: min(max(-0.5, x), 2.0),
     lambda x: 1.0 if -0.5 < x < 2.0 else 0.0, [-1.0, 0.3, 3.0]),
    ("clip", lambda v: v.clip(-0.5, 2.0), lambda x: min(max(-0.5, x), 2.0),
     lambda x: 1.0 if -0.5 < x < 2.0 else 0.0, [-1.0, 0.3, 3.0]),
    ("hardsigmoid", Value.hardsigmoid, lambda x: min(max(0.0, x + 3), 6.0) / 6,
     lambda x: 1 / 6 if -3 < x < 3 else 0.0, [-4.0, -1.0, 2.0, 4.0]),
    ("hardswish", Value.hardswish, lambda x: x * min(max(0.0, x + 3), 6.0) / 6,
     lambda x: 0.0 if x < -3 else 1.0 if x > 3 else (2 * x + 3) / 6, [-4.0, -1.0, 2.0, 4.0]),
    ("mish", Value.mish, lambda x: x * math.tanh(math.log1p(math.exp(x))),
     lambda x: (math.tanh(math.log1p(math.exp(x)))
                + x * (1 - math.tanh(math.log1p(math.exp(x))) ** 2) * sig(x)),
     [-5.0, -0.5, 0.0, 1.3, 6.0]),
    ("softsign", Value.softsign, lambda x: x / (1 + abs(x)), lambda x: 1 / (1 + abs(x)) ** 2,
     [-3.0, -0.2, 0.0, 0.7, 5.0]),
    ("logsigmoid", Value.logsigmoid, lambda x: -math.log1p(math.exp(-x)), lambda x: 1 - sig(x),
     [-20.0, -1.0, 0.0, 3.0, 20.0]),
    ("softplus_beta", lambda v: v.softplus(beta=2.0), lambda x: math.log1p(math.exp(2 * x)) / 2,
     lambda x: sig(2 * x), [-10.0, -1.0, 0.0, 3.0, 10.0]),
]


@pytest.mark.parametrize("name,call,value,deriv,points", UNARY, ids=[u[0] for u in UNARY])
def test_unary_value_and_derivative(name, call, value, deriv, points):
    for x0 in points:
        x = Value(x0, "x")
        y = call(x)
        assert y.data == pytest.approx(value(x0), rel=1e-12, abs=1e-300)
        y.backward()
        # against the hand-derived formula
        assert x.grad == pytest.approx(deriv(x0), rel=1e-9, abs=1e-12), (name, x0)
        # the recorded local derivative is the same number
        assert y.local_grads == (x.grad,)
        # against a central finite difference of the engine's own forward pass
        h = 1e-6 * (abs(x0) if x0 else 1.0)
        fd = central(lambda t: call(Value(t)).data, x0, h)
        assert x.grad == pytest.approx(fd, rel=1e-5, abs=1e-7), (name, x0, fd)


BINARY = [
    ("add", lambda a, b: a + b, lambda x, y: (1.0, 1.0)),
    ("sub", lambda a, b: a - b, lambda x, y: (1.0, -1.0)),
    ("mul", lambda a, b: a * b, lambda x, y: (y, x)),
    ("div", lambda a, b: a / b, lambda x, y: (1 / y, -x / y ** 2)),
    ("pow", lambda a, b: a ** b, lambda x, y: (y * x ** (y - 1), x ** y * math.log(x))),
    ("prelu", ac.prelu, lambda x, y: (1.0, 0.0) if x > 0 else (y, x)),
    ("hypot", ac.hypot, lambda x, y: (x / math.sqrt(x * x + y * y), y / math.sqrt(x * x + y * y))),
    ("arctan2", ac.arctan2, lambda y, x: (x / (x * x + y * y), -y / (x * x + y * y))),
    ("maximum", ac.maximum, lambda x, y: (1.0, 0.0) if x > y else (0.0, 1.0)),
    ("minimum", ac.minimum, lambda x, y: (1.0, 0.0) if x < y else (0.0, 1.0)),
    ("logaddexp", ac.logaddexp,
     lambda x, y: (math.exp(x) / (math.exp(x) + math.exp(y)), math.exp(y) / (math.exp(x) + math.exp(y)))),
]


@pytest.mark.parametrize("name,call,derivs", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("x0,y0", [(1.5, 2.0), (0.3, -1.7), (2.5, 0.5), (-0.8, 0.25)])
def test_binary_derivatives(name, call, derivs, x0, y0):
    if name == "pow" and x0 < 0:
        x0 = -x0
    a, b = Value(x0, "a"), Value(y0, "b")
    out = call(a, b)
    assert out.op == name
    assert out.parents == (a, b)
    out.backward()
    da, db = derivs(x0, y0)
    assert a.grad == pytest.approx(da, rel=1e-12)
    assert b.grad == pytest.approx(db, rel=1e-12, abs=1e-15)
    for leaf, hand in ((0, da), (1, db)):
        def f(t, leaf=leaf):
            args = [x0, y0]
            args[leaf] = t
            return call(Value(args[0]), Value(args[1])).data
        fd = central(f, (x0, y0)[leaf])
        assert hand == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_dot_and_sum_are_single_nodes_with_exact_local_derivatives():
    ws = [Value(w, f"w{i}") for i, w in enumerate([0.5, -2.0, 3.0])]
    xs = [1.0, 4.0, -0.5]
    d = ac.dot(ws, xs)
    assert d.op == "dot_const" and d.parents == tuple(ws) and d.local_grads == (1.0, 4.0, -0.5)
    assert d.data == 0.5 - 8.0 - 1.5
    xv = [Value(x) for x in xs]
    d2 = ac.dot(ws, xv)
    assert d2.op == "dot" and d2.parents == (*ws, *xv)
    assert d2.local_grads == (1.0, 4.0, -0.5, 0.5, -2.0, 3.0)
    s = ac.sum(ws + [2.0])
    assert s.op == "sum" and len(s.parents) == 4 and s.data == 3.5
    (d2 * s).backward()
    assert ws[1].grad == pytest.approx(4.0 * 3.5 + (-9.0) * 1.0)
    assert xv[2].grad == pytest.approx(3.0 * 3.5)
    with pytest.raises(ValueError, match="same length.*3 and 2"):
        ac.dot(ws, [1.0, 2.0])


def test_seed_worked_example():
    """f(x; w, b) = 1 / (exp(-(w·x + b)) + 1) at x=1, w=0, b=0 (seed 003, 计算图)."""
    x, w, b = Value(1, "x"), Value(0, "w"), Value(0, "b")
    f = 1 / ((-(x * w + b)).exp() + 1)
    f.backward()
    assert f.data == 0.5
    assert (w.grad, b.grad, x.grad) == (0.25, 0.25, 0.0)
    # the six intermediates, in the seed's order, with the seed's local derivatives
    h6 = f
    h5, = h6.parents
    h4, = h5.parents
    h3, = h4.parents
    h2, = h3.parents
    h1, bb = h2.parents
    assert [n.op for n in (h1, h2, h3, h4, h5, h6)] == [
        "mul", "add", "neg", "exp", "add_const", "rdiv_const"]
    assert h1.parents == (x, w) and bb is b
    assert h1.local_grads == (0.0, 1.0)  # ∂h1/∂x = w, ∂h1/∂w = x
    assert h2.local_grads == (1.0, 1.0)
    assert h3.local_grads == (-1.0,)
    assert h4.local_grads == (1.0,)      # exp(h3) = exp(0)
    assert h5.local_grads == (1.0,)
    assert h6.local_grads == (-0.25,)    # -1/h5^2 with h5 = 2


def test_structure_and_read_only():
    x = Value(3, "x")
    assert type(x.data) is float and x.data == 3.0 and x.grad == 0.0 and x.op == "" and x.parents == ()
    y = x * x
    assert y.parents == (x, x) and y.local_grads == (3.0, 3.0)
    y.backward()
    assert x.grad == 6.0
    for attr in ("data", "op", "parents", "local_grads"):
        with pytest.raises(AttributeError):
            setattr(y, attr, 1.0)
    y.label = "y"
    y.grad = 5.0
    assert "y" in repr(y) and "9.0" in repr(y) and "5.0" in repr(y)
    with pytest.raises(ValueError, match="leaves only"):
        y.assign(2.0)
    x.assign(np.float32(2.5))
    assert x.data == 2.5


def test_constructor_types():
    for good in (3, 2.5, np.float64(1.5), np.float32(0.25), np.int64(7), np.int8(-3), Fraction(1, 4)):
        assert type(Value(good).data) is float
    for bad, name in ((True, "bool"), ("1", "str"), (None, "NoneType"), (1j, "complex"),
                      ([1.0], "list"), (np.array([1.0]), "ndarray"), (np.array(1.0), "ndarray"),
                      (np.bool_(True), "bool")):
        with pytest.raises(TypeError, match=name):
            Value(bad)
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)
    assert math.isnan(Value(float("nan")).data) and Value(float("inf")).data == math.inf
    with pytest.raises(ValueError, match="too large"):
        Value(10 ** 400)


def test_operators_reject_non_numbers_with_type_names():
    x = Value(1.0)
    for bad in ("a", None, [1.0], True, 1j):
        with pytest.raises(TypeError, match=type(bad).__name__):
            x + bad
        with pytest.raises(TypeError, match=type(bad).__name__):
            bad - x


def test_numpy_scalars_on_either_side():
    x = Value(2.0)
    for out in (np.float64(3.0) * x, x * np.float64(3.0), np.int64(3) * x, np.float32(3.0) * x):
        assert isinstance(out, Value) and out.data == 6.0


def test_ieee_nan_inf():
    x = Value(float("inf"))
    assert math.isnan((x - x).data)
    assert (x * 2).data == math.inf
    n = Value(float("nan"))
    assert math.isnan(n.relu().data) and math.isnan(abs(n).data) and math.isnan(n.sigmoid().data)
    assert Value(-math.inf).relu().data == 0.0 and Value(-math.inf).sigmoid().data == 0.0


def test_numerical_stability_at_extremes():
    s = Value(-1000).sigmoid()
    s.backward()
    assert s.data == 0.0 and s.parents[0].grad == 0.0
    s = Value(1000).sigmoid()
    assert s.data == 1.0
    sp = Value(1000).softplus()
    sp.backward()
    assert sp.data == 1000.0 and sp.parents[0].grad == 1.0
    assert Value(-1000).softplus().data == 0.0
    e = Value(1000).exp()
    e.backward()
    assert e.data == math.inf and e.parents[0].grad == math.inf
    assert (Value(10.0) ** 400).data == math.inf
    assert (Value(-10.0) ** 401).data == -math.inf
    assert (10 ** Value(400)).data == math.inf
    assert Value(1e300).tanh().data == 1.0
    assert Value(-40).gelu().data == pytest.approx(-40 * 0.5 * math.erfc(40 / math.sqrt(2)))
    assert Value(0.0).sqrt().local_grads == (math.inf,)


@pytest.mark.parametrize("make,exc,words", [
    (lambda: Value(0).log(), ValueError, ["log(0)", "zero"]),
    (lambda: Value(-1).log(), ValueError, ["log(-1)", "negative"]),
    (lambda: Value(-1).sqrt(), ValueError, ["sqrt(-1)", "negative"]),
    (lambda: Value(-8) ** 0.5, ValueError, ["(-8) ** 0.5", "non-integer"]),
    (lambda: Value(-8) ** Value(0.5), ValueError, ["(-8) ** 0.5"]),
    (lambda: (-8.0) ** Value(0.5), ValueError, ["(-8) ** 0.5"]),
    (lambda: Value(0) ** -1, ZeroDivisionError, ["0 ** -1", "division by zero"]),
    (lambda: Value(3) / 0, ZeroDivisionError, ["3 / 0", "division by zero"]),
    (lambda: Value(3) / Value(0), ZeroDivisionError, ["3 / 0"]),
    (lambda: 1 / Value(0), ZeroDivisionError, ["1 / 0"]),
    (lambda: Value(-2).log1p(), ValueError, ["log1p(-2)"]),
    (lambda: Value(1).gelu("fast"), ValueError, ["approximate", "fast"]),
])
def test_domain_errors_name_operation_and_operand(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    for word in words:
        assert word in str(info.value)


def test_no_node_when_op_raises():
    x = Value(0.0, "x")
    before = sys.getrefcount(x)
    with pytest.raises(ValueError):
        x.log()
    with pytest.raises(ZeroDivisionError):
        x ** -2
    gc.collect()
    assert sys.getrefcount(x) == before
    assert not [o for o in gc.get_objects() if isinstance(o, Value) and x in o.parents]


def test_kink_conventions():
    def grad_at(f, x0):
        x = Value(x0)
        f(x).backward()
        return x.grad
    assert grad_at(Value.relu, 0.0) == 0.0
    assert grad_at(abs, 0.0) == 0.0
    assert grad_at(lambda v: v.leaky_relu(0.2), 0.0) == 0.2
    assert grad_at(lambda v: v.elu(0.5), 0.0) == 0.5
    a = Value(0.3)
    x = Value(0.0)
    ac.prelu(x, a).backward()
    assert (x.grad, a.grad) == (0.3, 0.0)
    y = Value(2.0)
    (Value(0.0) ** y).backward()
    assert y.grad == 0.0


def test_diamond_and_shared_subexpressions():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0 and b.grad == 2.0
    x = Value(2.0)
    s = x * x
    out = s * s + s  # x^4 + x^2
    out.backward()
    assert x.grad == 4 * 8 + 2 * 2


def test_gradients_accumulate_and_zero_grad():
    x = Value(2.0)
    y = x * x * 3
    y.backward()
    y.backward()
    assert x.grad == 24.0          # accumulates, as in PyTorch
    assert y.grad == 2.0
    zero_grad([x, y])
    y.backward(grad=0.5)
    assert x.grad == 6.0
    with pytest.raises(TypeError):
        zero_grad([x, 3.0])
    with pytest.raises(TypeError, match="str"):
        y.backward(grad="1")


def test_million_deep_chain_under_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    x = Value(1.0, "x")
    y = Value(0.5)
    for _ in range(1_000_000):
        y = y * 1.0001 + x
    y.backward()
    expected = sum(1.0001 ** k for k in range(1_000_000))
    assert x.grad == pytest.approx(expected, rel=1e-9)
    del y  # freeing a million-deep chain must not crash either
    gc.collect()


def test_dropped_graphs_are_freed():
    def build():
        ws = [Value(0.01 * i) for i in range(200)]
        out = Value(0.0)
        for _ in range(50):
            out = out + ac.dot(ws, [1.0] * 200).tanh() * 0.5
        out.backward()
    build()
    build()  # the backward driver's reused buffers now fit this graph (see the next test)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(100):
        build()
    current = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert current - base < 200_000, f"{current - base} bytes kept after dropping 100 graphs"


def test_backward_keeps_only_bounded_scratch_memory():
    """The compiled driver keeps one set of walk buffers for the next backward
    (no fresh pages for every step of a training loop): about 240 bytes a node
    of the last graph, never more than 64 MiB, released on request."""
    sp = engine._speedups
    if sp is None:
        pytest.skip("the compiled driver is not built")
    sp.scratch(release=True)

    def chain(n):
        x = Value(1.0)
        y = x
        for _ in range(n):
            y = y * 1.0001 + x
        return y

    y = chain(50_000)  # 100,001 nodes
    y.backward()
    kept = sp.scratch()
    assert 0 < kept <= 400 * 100_001
    del y
    chain(100).backward()  # a small graph after a big one: buffers over 1 MiB and 4x its needs go
    assert sp.scratch() <= min(kept // 4, 6 << 20)
    y = chain(600_000)  # 1.2 million nodes: more than the cap, nothing is kept
    y.backward()
    assert sp.scratch() == 0
    chain(100).backward()
    assert sp.scratch(release=True) == 0
    assert sp.scratch() == 0


def test_no_grad_and_detach():
    x = Value(2.0)
    with no_grad():
        y = x * x
        assert not ac.is_grad_enabled()
        with ac.enable_grad():
            z = x * x
    assert ac.is_grad_enabled()
    assert y.parents == () and y.op == "" and y.data == 4.0
    assert z.parents == (x, x)
    d = (x * 3).detach()
    assert d.parents == () and d.data == 6.0

    @no_grad()
    def f(v):
        return v + 1
    assert f(x).parents == ()


def test_no_grad_is_per_thread_and_per_task():
    seen = {}
    barrier = threading.Barrier(2)

    def worker():
        barrier.wait()
        seen["thread"] = (Value(1.0) * 2).parents != ()

    t = threading.Thread(target=worker)
    t.start()
    with no_grad():
        barrier.wait()
        t.join()
        seen["main"] = (Value(1.0) * 2).parents != ()
    assert seen == {"thread": True, "main": False}

    async def inside():
        with no_grad():
            await asyncio.sleep(0.01)
            return (Value(1.0) * 2).parents != ()

    async def outside():
        await asyncio.sleep(0.005)
        return (Value(1.0) * 2).parents != ()

    async def both():
        return await asyncio.gather(inside(), outside())

    assert asyncio.run(both()) == [False, True]


def test_hash_by_identity():
    a, b = Value(1.0), Value(1.0)
    d = {a: "a", b: "b"}
    assert len(d) == 2 and d[a] == "a" and len({a, b, a}) == 2
    assert a < 2 and b >= 1.0 and not (a > b)


def test_create_graph_second_derivative():
    x = Value(2.0, "x")
    y = x ** 3
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value) and g.data == 12.0
    (gx,) = ac.gradients(g, [x])
    assert gx == 12.0
    z = Value(0.7)
    (dz,) = ac.gradients(z.sigmoid(), [z], create_graph=True)
    (ddz,) = ac.gradients(dz, [z])
    s = sig(0.7)
    assert ddz == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-12)
    # without create_graph nothing extra is built and grads stay floats
    w = Value(1.0)
    (w * w).backward()
    assert type(w.grad) is float


def test_gradients_does_not_touch_grad():
    x, y = Value(3.0), Value(5.0)
    f = x * x * y
    gx, gy = ac.gradients(f, [x, y])
    assert (gx, gy) == (30.0, 9.0) and x.grad == 0.0 and y.grad == 0.0
    assert ac.gradients(f, [Value(1.0)]) == [0.0]


def test_apply_by_name_and_errors():
    x = Value(0.5)
    assert ac.apply("tanh", x).data == math.tanh(0.5)
    assert ac.apply("leaky_relu", -2.0, param=0.5).data == -1.0
    with pytest.raises(ValueError, match="unknown primitive"):
        ac.apply("nope", x)
    with pytest.raises(TypeError, match="takes 2"):
        ac.apply("mul", x)
    with pytest.raises(TypeError, match="parameter"):
        ac.apply("elu", x)


def test_every_primitive_is_exercised():
    exercised = {u[0] for u in UNARY} | {b[0] for b in BINARY} | {"sum", "dot", "dot_const"}
    exercised |= {"gelu_tanh", "gelu_sigmoid"}
    names = set(ac.PRIMITIVES) - {"gelu_tanh"}
    assert names <= exercised | {"erfc"}
    x = Value(1.3)
    y = x.erfc()
    y.backward()
    assert y.data == pytest.approx(math.erfc(1.3)) and x.grad == pytest.approx(-2 / math.sqrt(math.pi) * math.exp(-1.69))


def test_structural_zeros_are_skipped_and_computed_zeros_are_not():
    """Forward mode and create_graph reverse mode leave out only what does not
    depend on the seeded inputs (structural zeros); a tangent or gradient that
    is computed to be 0 is multiplied like any other, so 0 * inf is nan in
    every mode, as in plain reverse mode and PyTorch."""
    from autograd_core import gradients, push_tangents
    x, y = Value(0.0, "x"), Value(0.0, "y")
    f = y.sqrt() + x * 2.0          # ∂sqrt(y)/∂y = inf, but f does not need it for x
    assert push_tangents(f, {x: 1.0})[f] == 2.0
    assert gradients(f, [x])[0] == 2.0
    g = gradients(f, [x], create_graph=True)[0]
    assert getattr(g, "data", g) == 2.0
    h = (x * x).sqrt()              # ∂h/∂x = inf · 0 at 0: nan in every mode
    assert math.isnan(gradients(h, [x])[0])
    assert math.isnan(push_tangents(h, {x: 1.0})[h])
    t = push_tangents(h, {x: Value(1.0)}, create_graph=True)[h]
    assert math.isnan(getattr(t, "data", t))
    k = x.sqrt() * 0.0
    gk = gradients(k, [x], create_graph=True)[0]
    assert math.isnan(getattr(gk, "data", gk))
    # a seed tangent of 0 is still a seed: the same nan
    assert math.isnan(push_tangents(h, {x: 0.0})[h])


def test_apply_checks_the_parameter():
    with pytest.raises(TypeError, match="exp takes no parameter"):
        ac.apply(ac.PRIMITIVES["exp"], Value(1.0), param=3.0)
    with pytest.raises(TypeError, match="leaky_relu: its parameter 'negative_slope' = '0.1'"):
        ac.apply(ac.PRIMITIVES["leaky_relu"], Value(-1.0), param="0.1")
    assert ac.apply(ac.PRIMITIVES["leaky_relu"], Value(-1.0), param=0.1).data == -0.1


def test_a_node_reached_only_through_a_zero_local_derivative_is_not_structural():
    """create_graph leaves out 0 · a finite gradient or tangent (no node made),
    but the node it reaches still counts as reached: below it, 0 · inf is nan
    as in plain reverse and forward mode (and PyTorch)."""
    from autograd_core import gradients, push_tangents
    u, w = Value(0.0, "u"), Value(2.0, "w")
    out = u.sqrt().relu() * w          # relu'(0) = 0, sqrt'(0) = inf
    assert math.isnan(gradients(out, [u])[0])
    g = gradients(out, [u], create_graph=True)[0]
    assert math.isnan(getattr(g, "data", g))
    v = Value(0.5, "v")
    out2 = (v - 1.0).relu().sqrt()     # relu' = 0 below 0, sqrt'(0) = inf
    assert math.isnan(push_tangents(out2, {v: 1.0})[out2])
    t = push_tangents(out2, {v: Value(1.0)}, create_graph=True)[out2]
    assert math.isnan(getattr(t, "data", t))
    # a seeded leaf keeps its seed as it is (-0.0 stays -0.0)
    x = Value(1.0)
    assert math.copysign(1.0, push_tangents(x, {x: -0.0})[x]) == -1.0
