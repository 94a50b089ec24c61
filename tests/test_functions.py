"""Issue 13, sections 3 and 5: numerics at the edges (pow at (0, 0), 0-d Tensors,
huge and tiny inputs, numbers past the float range, bad operands, Value
equality) and the wider function set (tan ... softplus(beta)): values,
domain errors, kink conventions, every entry point (Tensor, parser, static
replay, forward mode), and an optional PyTorch float64 oracle."""

from __future__ import annotations

import math
import operator

import numpy as np
import pytest

import autograd_core as ac
from autograd_core import PRIMITIVES, Tensor, Value, gradients, push_tangents
from autograd_core import tensor as T
from autograd_core.testing import primitive_cases

NEW_UNARY = ["tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
             "log2", "log10", "sign", "floor", "ceil", "selu", "relu6", "hardsigmoid",
             "hardswish", "mish", "softsign", "logsigmoid"]
NEW_BINARY = ["arctan2", "hypot", "maximum", "minimum", "logaddexp"]
SCALE, ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717


# ------------------------------------------------------------------ x ** y at (0, 0)

def test_pow_at_zero_zero_takes_the_x_pow_0_rule_and_d_dy_0():
    x, y = Value(0.0), Value(0.0)
    z = x ** y
    assert z.data == 1.0 and z.local_grads == (0.0, 0.0)
    z.backward()
    assert (x.grad, y.grad) == (0.0, 0.0)
    c = Value(0.0)
    (c ** 0.0).backward()
    assert c.grad == 0.0  # the same as the x ** 0.0 rule
    # forward mode and create_graph read the same rule
    assert push_tangents(z, {x: 1.0, y: 1.0})[z] == 0.0
    gx, gy = gradients(x ** y, [x, y], create_graph=True)
    assert (float(gx), float(gy)) == (0.0, 0.0)
    # the reflected constant: 0 ** x at x = 0
    t = Value(0.0)
    r = 0.0 ** t
    assert r.data == 1.0 and r.local_grads == (0.0,)


@pytest.mark.parametrize("y0,dx,dy", [(2.0, 0.0, 0.0), (1.0, 1.0, 0.0), (3.0, 0.0, 0.0),
                                      (0.5, math.inf, 0.0)])
def test_pow_at_a_zero_base(y0, dx, dy):
    """0 ** y = 0 for y > 0: d/dy = 0; d/dx = y * 0 ** (y - 1)."""
    x, y = Value(0.0), Value(y0)
    assert (x ** y).local_grads == (dx, dy)


def test_pow_at_zero_zero_on_tensors():
    a, b = Tensor([0.0, 0.0, 2.0]), Tensor([0.0, 2.0, 0.0])
    (a ** b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(b.grad, [0.0, 0.0, math.log(2.0)])


# ------------------------------------------------------------------ 0-d Tensors

_PARAMS = {"leaky_relu": 0.1, "elu": 0.5, "swish": 1.3, "celu": 0.5, "softplus_beta": 2.0,
           "clip": (-0.5, 0.5), "hardtanh": (-0.3, 0.8), "add_const": 2.0, "sub_const": 2.0,
           "rsub_const": 2.0, "mul_const": 2.0, "div_const": 2.0, "rdiv_const": 2.0,
           "pow_const": 3.0, "rpow_const": 2.0}


def _point(name):
    return 1.4 if name == "arccosh" else 0.4


@pytest.mark.parametrize("name", sorted(n for n, p in PRIMITIVES.items() if p.arity in (1, 2)))
def test_every_elementwise_primitive_works_on_0d_tensors(name):
    prim = PRIMITIVES[name]
    param = _PARAMS.get(name)
    x0 = _point(name)
    xs = [x0, 0.7][:prim.arity]
    ts = [Tensor(np.array(v)) for v in xs]
    out = T._apply_ew(prim, tuple(ts), param)
    vs = [Value(v) for v in xs]
    ref = ac.apply(name, *vs, param=param)
    assert out.shape == () and out.data == pytest.approx(ref.data, rel=1e-14)
    out.backward()
    ref.backward()
    for t, v in zip(ts, vs):
        assert t.grad.shape == () and float(t.grad) == pytest.approx(v.grad, rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("call", [
    lambda t: t.erf(), lambda t: t.erfc(), lambda t: t.swish(), lambda t: t.swish(2.0),
    lambda t: t.gelu(), lambda t: t.gelu("tanh"), lambda t: t.gelu("sigmoid"),
    lambda t: t.softplus(beta=3.0), lambda t: t.celu(0.3), lambda t: t.hardtanh(),
    lambda t: t.clip(0.0, 0.1), lambda t: t.hypot(2.0), lambda t: t.arctan2(-1.0),
    lambda t: t.maximum(0.4), lambda t: t.minimum(1.0), lambda t: t.logaddexp(0.1),
] + [(lambda n: lambda t: getattr(t, n)())(n) for n in NEW_UNARY if n != "arccosh"])
def test_tensor_methods_on_0d_match_values_with_second_derivatives(call):
    """The issue's crash ('numpy.float64' object has no attribute 'exp'), every
    method, including create_graph (the rules run on 0-d Tensors)."""
    t = Tensor(np.array(0.4))
    out = call(t)
    v = Value(0.4)
    ref = call(v)
    assert out.shape == () and float(out.data) == pytest.approx(ref.data, rel=1e-14)
    (g,) = ac.gradients(ref, [v], create_graph=True)
    out.backward(create_graph=True)
    assert float(t.grad.data if isinstance(t.grad, Tensor) else t.grad) == pytest.approx(float(g), rel=1e-13)


# ------------------------------------------------------------------ huge and tiny inputs

# derivatives that are infinite in float64 (the math gives numbers past 1.8e308)
_INFINITE = {
    ("rdiv_const", 1e-300), ("rdiv_const", -1e-300),
    ("exp", 1e300), ("exp", 1e155), ("expm1", 1e300), ("expm1", 1e155),
    ("sinh", 1e300), ("sinh", -1e300), ("sinh", 1e155), ("sinh", -1e155),
    ("cosh", 1e300), ("cosh", -1e300), ("cosh", 1e155), ("cosh", -1e155),
    ("rpow_const", 1e300), ("rpow_const", 1e155), ("sqrt", 0.0),
}


def _infinite(case, x0):
    if case.name == "pow_const":  # c x^(c-1)
        c = float(case.label.split("=")[1].rstrip(")"))
        if x0 == 0.0:
            return c < 1
        return math.log(abs(c)) + (c - 1) * math.log(abs(x0)) >= math.log(1.79e308)
    if case.name == "rpow_const" and "0.5" in case.label:  # 0.5 ** x: huge for x -> -inf
        return x0 <= -1e155
    return (case.name, x0) in _INFINITE


def test_every_unary_primitive_has_finite_gradients_at_huge_and_tiny_inputs():
    points = (1e300, -1e300, 1e155, -1e155, 1e-300, -1e-300, 0.0)
    checked = 0
    for case in primitive_cases():
        if case.primitive.arity != 1:
            continue
        for x0 in points:
            x = Value(x0)
            try:
                y = case.fn(x)
            except (ValueError, ZeroDivisionError):  # outside the domain (log(-1e300), ...)
                continue
            y.backward()
            if _infinite(case, x0):
                assert not math.isfinite(x.grad) or abs(x.grad) > 1e300, (case.label, x0)
            else:
                assert math.isfinite(x.grad), (case.label, x0, y.data, x.grad)
            checked += 1
    assert checked > 400


@pytest.mark.parametrize("x0", [1e155, -1e155, 1e300, -1e300, 1.7e308, -1.7e308, 1e5, -1e5])
def test_gelu_tanh_is_exact_and_finite_at_huge_inputs(x0):
    x = Value(x0)
    y = x.gelu(approximate="tanh")
    assert y.data == (x0 if x0 > 0 else 0.0)
    (g,) = gradients(y, [x], create_graph=True)
    assert float(g) == (1.0 if x0 > 0 else 0.0)
    (g2,) = gradients(g, [x]) if isinstance(g, Value) else (0.0,)
    assert math.isfinite(g2)
    t = Tensor([x0, 0.5])
    t.gelu("tanh").sum().backward()
    assert np.all(np.isfinite(t.grad))


def test_gelu_tanh_is_continuous_at_the_switch():
    below, above = Value(1e5 * (1 - 1e-15)), Value(1e5 * (1 + 1e-15))
    for v in (below, above):
        y = v.gelu("tanh")
        assert y.data == v.data and y.local_grads == (1.0,)
    y = Value(-1e5 * (1 - 1e-15)).gelu("tanh")
    assert y.data == 0.0 and y.local_grads == (0.0,)


# ------------------------------------------------------------------ numbers past the float range

BIG = 10 ** 400


@pytest.mark.parametrize("op", [
    lambda v: v * BIG, lambda v: BIG * v, lambda v: v + BIG, lambda v: BIG + v,
    lambda v: v - BIG, lambda v: BIG - v, lambda v: v / BIG, lambda v: BIG / v,
    lambda v: v ** BIG, lambda v: BIG ** v, lambda v: v < BIG, lambda v: v.hypot(BIG),
    lambda v: ac.maximum(v, BIG), lambda v: v.clip(0, BIG), lambda v: v.leaky_relu(BIG),
    lambda v: v * -BIG, lambda v: v * np.longdouble("1e400"),
], ids=["mul", "rmul", "add", "radd", "sub", "rsub", "div", "rdiv", "pow", "rpow", "lt",
        "hypot", "maximum", "clip", "param", "neg", "longdouble"])
def test_numbers_too_large_for_a_float_are_a_value_error(op):
    with pytest.raises(ValueError, match="too large for a float"):
        op(Value(1.0))
    with pytest.raises(ValueError, match="too large for a float"):
        Value(BIG)


# ------------------------------------------------------------------ unsupported operands

BAD = ["a", [1.0], (1.0,), 1 + 2j, np.bool_(True), True, np.array([1.0, 2.0]), np.array(1.0),
       None, {1: 2}]
OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


@pytest.mark.parametrize("bad", BAD, ids=lambda b: type(b).__name__)
@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
def test_unsupported_operands_say_what_a_value_accepts(op, bad):
    v = Value(2.0)
    for a, b in ((v, bad), (bad, v)):
        with pytest.raises(TypeError, match="a Value combines with a Value or a real number"):
            op(a, b)


def test_unsupported_operand_hints():
    with pytest.raises(TypeError, match="for arrays use autograd_core.Tensor"):
        Value(1.0) * np.ones(3)
    with pytest.raises(TypeError, match="for arrays use autograd_core.Tensor"):
        np.ones(3) * Value(1.0)
    with pytest.raises(TypeError, match=r"bool is not a number here"):
        Value(1.0) + True
    with pytest.raises(TypeError, match="not str"):
        Value("1")
    with pytest.raises(TypeError, match="operand 1 of hypot must be a Value or a real number.*not complex"):
        ac.hypot(Value(1.0), 1j)
    with pytest.raises(TypeError, match="element 1 of sum must be a Value or a real number.*not str"):
        ac.sum([Value(1.0), "2"])
    with pytest.raises(TypeError, match=r"not list \(for arrays use autograd_core.Tensor\)"):
        ac.apply("exp", [1.0])


def test_numpy_real_scalars_and_other_numbers_are_accepted():
    from fractions import Fraction
    v = Value(2.0)
    for c in (np.float64(0.5), np.float32(0.5), np.int64(3), Fraction(1, 2), 3):
        assert (v * c).data == 2.0 * float(c) and (c * v).data == 2.0 * float(c)
        assert (v ** c).data == 2.0 ** float(c)


def test_tensors_still_take_over_from_values():
    """A Value operand is no reason for a TypeError when the other side knows
    what to do: the Value returns NotImplemented and Python asks the other side."""

    class Other:
        def __radd__(self, o):
            return "radd"

    assert Value(1.0) + Other() == "radd"


# ------------------------------------------------------------------ equality

def test_value_equality_is_node_identity_and_ordering_compares_numbers():
    a, b = Value(1.0, "a"), Value(1.0, "b")
    assert a == a and not (a == b) and a != b and not (a != a)
    assert a <= b and a >= b and not (a < b)         # ordering: the numbers
    assert len({a: 1, b: 2}) == 2 and len({a, b, a}) == 2 and hash(a) != hash(b)
    assert [b, a].index(a) == 1 and a in [b, a] and Value(1.0) not in [a, b]
    assert (a == "a") is False and a != None  # noqa: E711 - other objects: not equal


@pytest.mark.parametrize("num", [1.0, 1, np.float64(1.0), True, np.bool_(True)],
                         ids=lambda n: type(n).__name__)
def test_value_equals_number_is_a_type_error(num):
    a = Value(1.0)
    for f in (lambda: a == num, lambda: a != num, lambda: num == a, lambda: num != a):
        with pytest.raises(TypeError, match=r"compare x\.data"):
            f()
    assert a.data == num  # what the message asks for


def test_static_capture_still_records_value_comparisons():
    def f(x):
        return x * 2.0 if x > 0 else -x

    g = ac.static(f, 1.5)
    assert [(c.op, c.result) for c in g.comparisons] == [(">", True)]
    with pytest.raises(ac.StaticGraphBranchError):
        g(-1.0)


# ------------------------------------------------------------------ domain errors

@pytest.mark.parametrize("call,msg", [
    (lambda: Value(1.5).arcsin(), r"arcsin\(1.5\): argument must be in \[-1, 1\]"),
    (lambda: Value(-1.0001).arccos(), r"arccos\(-1.0001\): argument must be in \[-1, 1\]"),
    (lambda: Value(0.5).arccosh(), r"arccosh\(0.5\): argument must be >= 1"),
    (lambda: Value(1.0).arctanh(), r"arctanh\(1\): argument must be in \(-1, 1\)"),
    (lambda: Value(-1.0).arctanh(), r"arctanh\(-1\).*infinite"),
    (lambda: Value(0.0).log2(), r"log2\(0\): logarithm of zero"),
    (lambda: Value(-1.0).log10(), r"log10\(-1\): logarithm of a negative number"),
    (lambda: Value(1.0).celu(0.0), "celu alpha must not be 0"),
    (lambda: Value(1.0).softplus(beta=0), "softplus beta must not be 0"),
    (lambda: Value(1.0).clip(2.0, 1.0), "lower bound 2 must not exceed the upper bound 1"),
    (lambda: Value(1.0).hardtanh(1.0, -1.0), "lower bound 1 must not exceed"),
    (lambda: Value(1.0).clip(math.nan, 1.0), "lower bound nan must not exceed"),
    (lambda: ac.apply("clip", 1.0, param=(2.0, 1.0)), "must not exceed"),
    (lambda: ac.apply("celu", 1.0, param=0.0), "alpha must not be 0"),
    (lambda: Tensor([0.5, 2.0]).arcsin(), r"arcsin\(2\).*at index \(1,\)"),
])
def test_domain_errors(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


def test_domain_edges_that_are_allowed():
    for x0, name, value in ((1.0, "arcsin", math.pi / 2), (-1.0, "arccos", math.pi),
                            (1.0, "arccosh", 0.0)):
        y = getattr(Value(x0), name)()
        assert y.data == value and math.isinf(y.local_grads[0])
    assert Value(8.0).log2().data == 3.0 and Value(1000.0).log10().data == 3.0
    assert Value(1e300).arcsinh().local_grads[0] == pytest.approx(1e-300, rel=1e-15)
    assert Value(1e300).arccosh().local_grads[0] == pytest.approx(1e-300, rel=1e-15)


# ------------------------------------------------------------------ kink conventions

@pytest.mark.parametrize("make,value,derivs", [
    (lambda: ac.maximum(Value(1.0), Value(1.0)), 1.0, (0.5, 0.5)),
    (lambda: ac.minimum(Value(-2.0), Value(-2.0)), -2.0, (0.5, 0.5)),
    (lambda: ac.hypot(Value(0.0), Value(0.0)), 0.0, (0.0, 0.0)),
    (lambda: ac.arctan2(Value(0.0), Value(0.0)), 0.0, (0.0, 0.0)),
    (lambda: ac.arctan2(Value(0.0), Value(-0.0)), math.pi, (0.0, 0.0)),
    (lambda: Value(-1.0).clip(-1.0, 2.0), -1.0, (1.0,)),
    (lambda: Value(2.0).clip(-1.0, 2.0), 2.0, (1.0,)),
    (lambda: Value(-1.0).hardtanh(), -1.0, (0.0,)),
    (lambda: Value(1.0).hardtanh(), 1.0, (0.0,)),
    (lambda: Value(0.0).relu6(), 0.0, (0.0,)),
    (lambda: Value(6.0).relu6(), 6.0, (0.0,)),
    (lambda: Value(-3.0).hardsigmoid(), 0.0, (0.0,)),
    (lambda: Value(3.0).hardsigmoid(), 1.0, (0.0,)),
    (lambda: Value(-3.0).hardswish(), 0.0, (0.0,)),
    (lambda: Value(3.0).hardswish(), 3.0, (1.0,)),
    (lambda: Value(0.0).selu(), 0.0, (SCALE * ALPHA,)),
    (lambda: Value(0.0).celu(0.5), 0.0, (1.0,)),
    (lambda: Value(0.0).softsign(), 0.0, (1.0,)),
    (lambda: Value(0.0).sign(), 0.0, (0.0,)),
    (lambda: Value(2.0).floor(), 2.0, (0.0,)),
    (lambda: Value(-2.0).ceil(), -2.0, (0.0,)),
])
def test_kink_conventions(make, value, derivs):
    y = make()
    assert y.data == value and y.local_grads == derivs


def test_nan_and_infinite_operands():
    assert math.isnan(ac.maximum(Value(math.nan), Value(1.0)).data)
    assert math.isnan(ac.minimum(Value(1.0), Value(math.nan)).data)
    assert ac.logaddexp(Value(math.inf), Value(math.inf)).data == math.inf
    assert ac.logaddexp(Value(-math.inf), Value(-math.inf)).data == -math.inf
    y = ac.logaddexp(Value(-math.inf), Value(1.0))
    assert y.data == 1.0 and y.local_grads == (0.0, 1.0)
    y = ac.logaddexp(Value(1000.0), Value(-1000.0))
    assert y.data == 1000.0 and y.local_grads == (1.0, 0.0)
    assert ac.logaddexp(Value(0.5), Value(0.5)).data == 0.5 + math.log(2.0)
    assert math.isnan(Value(math.nan).clip(0.0, 1.0).data)
    assert Value(math.nan).relu6().local_grads == (0.0,)


def test_logaddexp_second_derivative_at_a_tie():
    """A tie is no kink for logaddexp: d²/dx² = σ(0)(1 - σ(0)) = 1/4 there."""
    x, y = Value(0.7), Value(0.7)
    (gx, _) = gradients(ac.logaddexp(x, y), [x, y], create_graph=True)
    assert gradients(gx, [x, y]) == [0.25, -0.25]


# ------------------------------------------------------------------ entry points

def test_module_functions_on_numbers_values_and_tensors():
    assert ac.hypot(3, 4) == 5.0 and type(ac.hypot(3, 4)) is float
    assert ac.arctan2(1.0, -1.0) == math.atan2(1.0, -1.0)
    assert ac.maximum(1, 2) == 2.0 and ac.minimum(1, 2) == 1.0 and ac.clip(5, 0, 1) == 1.0
    assert ac.logaddexp(0.0, 0.0) == math.log(2.0)
    y, x = Value(1.0), Value(2.0)
    out = ac.arctan2(y, x)
    assert isinstance(out, Value) and out.op == "arctan2" and out.parents == (y, x)
    t = Tensor([[3.0, 0.5], [-1.0, 2.0]])
    h = ac.hypot(t, 4.0)
    assert isinstance(h, Tensor) and h.op == "hypot"
    np.testing.assert_allclose(h.data, np.hypot(t.data, 4.0), rtol=1e-15)
    np.testing.assert_allclose(ac.arctan2(1.0, t).data, np.arctan2(1.0, t.data), rtol=1e-15)
    np.testing.assert_array_equal(ac.clip(t, 0.0, 1.0).data, np.clip(t.data, 0.0, 1.0))
    for name in NEW_BINARY + ["clip"]:
        assert name in ac.__all__ and callable(getattr(ac, name))


def test_every_new_function_has_a_value_method_tensor_method_and_parser_name():
    from autograd_core.parser import FUNCTIONS
    for name in NEW_UNARY + NEW_BINARY + ["clip", "hardtanh", "celu", "softplus"]:
        assert callable(getattr(Value, name)) and callable(getattr(Tensor, name)), name
        assert name in FUNCTIONS, name


@pytest.mark.parametrize("expr,f", [
    ("arctan2(y, x) * hypot(x, y)", lambda x, y: ac.arctan2(y, x) * ac.hypot(x, y)),
    ("maximum(x, y) - minimum(x, 2*y) + logaddexp(x, y)",
     lambda x, y: ac.maximum(x, y) - ac.minimum(x, 2 * y) + ac.logaddexp(x, y)),
    ("clip(x * y, -0.5, 0.5) + hardtanh(y, min_val=-2, max_val=0.9) + hardtanh(x)",
     lambda x, y: (x * y).clip(-0.5, 0.5) + y.hardtanh(-2, 0.9) + x.hardtanh()),
    ("softplus(x, beta=2) + celu(y, 0.5) + tan(x) * arcsinh(y) + log2(y) - log10(y)",
     lambda x, y: x.softplus(beta=2) + y.celu(0.5) + x.tan() * y.arcsinh() + y.log2() - y.log10()),
    ("selu(x) + relu6(y) + hardsigmoid(x) + hardswish(y) + mish(x) + softsign(y) + logsigmoid(x)",
     lambda x, y: (x.selu() + y.relu6() + x.hardsigmoid() + y.hardswish() + x.mish()
                   + y.softsign() + x.logsigmoid())),
])
def test_parser_builds_the_same_graph(expr, f):
    out, ins = ac.parse(expr, x=0.3, y=1.7)
    x, y = Value(0.3), Value(1.7)
    ref = f(x, y)
    assert out.data == ref.data
    assert gradients(out, [ins["x"], ins["y"]]) == gradients(ref, [x, y])


@pytest.mark.parametrize("backend", ["codegen", "loop"])
def test_static_replay_runs_the_new_primitives(backend):
    def f(x, y):
        return (ac.arctan2(y, x) * x.tan() + ac.logaddexp(x, y) + x.clip(-0.5, 0.5)
                + y.hardtanh(-1.0, 1.5) + x.selu() + y.softplus(beta=2.0) + ac.maximum(x, y)
                + y.arcsinh() * x.mish() + y.log2() + x.celu(0.7) + ac.hypot(x, y).sqrt())

    g = ac.static(f, 0.3, 1.2, backend=backend)
    for x0, y0 in ((0.3, 1.2), (-0.4, 0.9), (1.1, 2.5)):
        x, y = Value(x0), Value(y0)
        ref = f(x, y)
        res = g.grad(x0, y0)
        assert res.value == ref.data
        assert list(res.inputs) == gradients(ref, [x, y])
        assert g(x0, y0) == ref.data
        assert g.jvp([x0, y0], [1.0, -0.5])[1] == pytest.approx(
            push_tangents(ref, {x: 1.0, y: -0.5})[ref], rel=1e-15)


def test_explain_prints_the_new_derivatives():
    t = ac.explain(Value(0.5, "x").arcsin())
    (d,) = t.forward_rows[-1].derivatives
    assert "sqrt" in d.symbolic and d.value == pytest.approx(1 / math.sqrt(0.75), rel=1e-15)
    t = ac.explain(ac.hypot(Value(3.0, "x"), Value(4.0, "y")))
    assert [d.value for d in t.forward_rows[-1].derivatives] == [0.6, 0.8]


@pytest.mark.parametrize("name", NEW_BINARY)
def test_binary_tensor_functions_match_scalars_with_broadcasting(name):
    a = np.array([[0.5, -1.5, 2.0], [0.0, 3.0, -0.25]])
    b = np.array([2.0, -1.5, 0.0])  # ties in column 1 of row 0 and maybe others
    ta, tb = Tensor(a), Tensor(b)
    out = getattr(ta, name)(tb)
    out.sum().backward()
    ga, gb = np.zeros_like(a), np.zeros_like(b)
    for i in range(2):
        for j in range(3):
            va, vb = Value(a[i, j]), Value(b[j])
            s = getattr(va, name)(vb)
            assert out.data[i, j] == pytest.approx(s.data, rel=4e-16, abs=0)
            ga[i, j] += s.local_grads[0]
            gb[j] += s.local_grads[1]
    np.testing.assert_allclose(ta.grad, ga, rtol=4e-16, atol=0)  # numpy may round a last bit
    np.testing.assert_allclose(tb.grad, gb, rtol=4e-16, atol=0)


@pytest.mark.parametrize("name,points", [
    ("arcsin", [-1.0, -0.3, 0.0, 0.9, 1.0]), ("arccos", [-1.0, -0.3, 0.0, 0.9, 1.0]),
    ("arctanh", [-0.99, -0.3, 0.0, 0.9]), ("arccosh", [1.0, 1.5, 30.0, 1e300]),
    ("log2", [1e-300, 0.5, 8.0, 1e300]), ("log10", [1e-300, 0.5, 100.0, 1e300]),
])
def test_restricted_domain_tensor_functions_match_scalars(name, points):
    t = Tensor(points)
    out = getattr(t, name)()
    (local,) = out.local_grads
    for i, x in enumerate(points):
        s = getattr(Value(x), name)()
        np.testing.assert_allclose([out.data[i], np.broadcast_to(local, t.shape)[i]],
                                   [s.data, s.local_grads[0]], rtol=1e-15)


# ------------------------------------------------------------------ PyTorch float64 oracle

def _torch_cases():
    import torch
    F = torch.nn.functional
    return {
        "tan": (torch.tan, lambda v: v.tan(), [-1.2, 0.3, 1.4]),
        "sinh": (torch.sinh, lambda v: v.sinh(), [-3.0, 0.3, 20.0]),
        "cosh": (torch.cosh, lambda v: v.cosh(), [-3.0, 0.3, 20.0]),
        "arcsin": (torch.asin, lambda v: v.arcsin(), [-0.9, 0.3, 0.99]),
        "arccos": (torch.acos, lambda v: v.arccos(), [-0.9, 0.3, 0.99]),
        "arctan": (torch.atan, lambda v: v.arctan(), [-30.0, 0.3, 2.0]),
        "arcsinh": (torch.asinh, lambda v: v.arcsinh(), [-30.0, 0.3, 2.0]),
        "arccosh": (torch.acosh, lambda v: v.arccosh(), [1.01, 2.0, 30.0]),
        "arctanh": (torch.atanh, lambda v: v.arctanh(), [-0.9, 0.3, 0.99]),
        "log2": (torch.log2, lambda v: v.log2(), [1e-3, 0.7, 1024.0]),
        "log10": (torch.log10, lambda v: v.log10(), [1e-3, 0.7, 1000.0]),
        "sign": (torch.sign, lambda v: v.sign(), [-2.0, 0.0, 3.0]),
        "floor": (torch.floor, lambda v: v.floor(), [-2.5, 0.3, 7.0]),
        "ceil": (torch.ceil, lambda v: v.ceil(), [-2.5, 0.3, 7.0]),
        "selu": (F.selu, lambda v: v.selu(), [-2.0, 0.0, 1.5]),
        "celu": (lambda t: F.celu(t, alpha=0.5), lambda v: v.celu(0.5), [-2.0, 0.0, 1.5]),
        "relu6": (F.relu6, lambda v: v.relu6(), [-2.0, 0.0, 3.0, 6.0, 7.0]),
        "hardtanh": (lambda t: F.hardtanh(t, -0.5, 2.0), lambda v: v.hardtanh(-0.5, 2.0),
                     [-1.0, -0.5, 0.3, 2.0, 3.0]),
        "clip": (lambda t: torch.clamp(t, -0.5, 2.0), lambda v: v.clip(-0.5, 2.0),
                 [-1.0, -0.5, 0.3, 2.0, 3.0]),
        "hardsigmoid": (F.hardsigmoid, lambda v: v.hardsigmoid(), [-4.0, -3.0, 0.5, 3.0, 4.0]),
        "hardswish": (F.hardswish, lambda v: v.hardswish(), [-4.0, -3.0, 0.5, 3.0, 4.0]),
        "mish": (F.mish, lambda v: v.mish(), [-5.0, -0.5, 0.0, 1.3, 6.0]),
        "softsign": (F.softsign, lambda v: v.softsign(), [-3.0, 0.0, 0.7]),
        "logsigmoid": (F.logsigmoid, lambda v: v.logsigmoid(), [-30.0, -1.0, 0.0, 3.0, 30.0]),
        "softplus": (lambda t: F.softplus(t, beta=2.0, threshold=1000.0),
                     lambda v: v.softplus(beta=2.0), [-10.0, -1.0, 0.0, 3.0, 30.0]),
    }


def _torch_binary():
    import torch
    return {
        "arctan2": torch.atan2, "hypot": torch.hypot, "maximum": torch.maximum,
        "minimum": torch.minimum, "logaddexp": torch.logaddexp,
    }


@pytest.mark.parametrize("name", ["tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh",
                                  "arccosh", "arctanh", "log2", "log10", "sign", "floor", "ceil",
                                  "selu", "celu", "relu6", "hardtanh", "clip", "hardsigmoid",
                                  "hardswish", "mish", "softsign", "logsigmoid", "softplus"])
def test_unary_functions_match_pytorch_float64(name):
    """Values, first derivatives (kinks included: the conventions are PyTorch's)
    and second derivatives (away from kinks) against torch float64."""
    torch = pytest.importorskip("torch")
    tf, vf, points = _torch_cases()[name]
    for x0 in points:
        xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        yt = tf(xt)
        (gt,) = torch.autograd.grad(yt, xt, create_graph=True)
        x = Value(x0)
        y = vf(x)
        (g,) = gradients(y, [x], create_graph=True)
        assert y.data == pytest.approx(yt.item(), rel=1e-14, abs=1e-300), (name, x0)
        # torch's hardsigmoid slope is the float32 constant 1/6 even in float64
        rel = 1e-7 if name == "hardsigmoid" else 1e-13
        assert float(g) == pytest.approx(gt.item(), rel=rel, abs=1e-300), (name, x0)
        kink = x0 in (0.0, 6.0, -0.5, 2.0, -3.0, 3.0) and name not in (
            "tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arctanh", "mish",
            "logsigmoid", "softplus")
        if not kink and gt.requires_grad and name not in ("hardsigmoid",):  # no torch rule
            (g2t,) = torch.autograd.grad(gt, xt)
            g2 = gradients(g, [x])[0] if isinstance(g, Value) else 0.0
            assert g2 == pytest.approx(g2t.item(), rel=1e-12, abs=1e-15), (name, x0)


@pytest.mark.parametrize("name", NEW_BINARY)
def test_binary_functions_match_pytorch_float64(name):
    torch = pytest.importorskip("torch")
    tf = _torch_binary()[name]
    pairs = [(1.5, 2.0), (0.3, -1.7), (-2.5, 0.5), (-0.8, -0.25), (1.0, 1.0), (-3.0, 4.0)]
    for a0, b0 in pairs:
        at = torch.tensor(a0, dtype=torch.float64, requires_grad=True)
        bt = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
        yt = tf(at, bt)
        gat, gbt = torch.autograd.grad(yt, (at, bt))
        a, b = Value(a0), Value(b0)
        y = getattr(ac, name)(a, b)
        assert y.data == pytest.approx(yt.item(), rel=1e-15)
        ga, gb = gradients(y, [a, b])
        assert (ga, gb) == pytest.approx((gat.item(), gbt.item()), rel=1e-14), (name, a0, b0)


def test_pow_at_zero_zero_matches_pytorch():
    torch = pytest.importorskip("torch")
    xt = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    gxt, gyt = torch.autograd.grad(xt ** yt, (xt, yt))
    x, y = Value(0.0), Value(0.0)
    assert gradients(x ** y, [x, y]) == [gxt.item(), gyt.item()] == [0.0, 0.0]


def test_gelu_tanh_matches_pytorch_at_moderate_and_huge_inputs():
    # PyTorch computes 0.5·x·(1 + tanh u), which cancels in the negative tail (at
    # x = -4 its value and derivative are 1.4e-12 off the exact ones); the rule
    # computes x·σ(2u) there: tests/test_qa2_accuracy.py checks it against mpmath
    # at -4 (to 1e-13; it is 4e-16 off) and beyond. Here: the points where both are exact.
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for x0 in (-1.5, -0.5, 0.8, 3.0, 1e4, 2e5, -2e5):
        xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        yt = F.gelu(xt, approximate="tanh")
        (gt,) = torch.autograd.grad(yt, xt)
        x = Value(x0)
        y = x.gelu("tanh")
        y.backward()
        assert y.data == pytest.approx(yt.item(), rel=1e-14, abs=1e-300)
        assert x.grad == pytest.approx(gt.item(), rel=1e-13, abs=1e-300)


def test_drawing_shows_the_new_operations():
    pytest.importorskip("graphviz")
    from visualize.graph import draw_graph, op_label
    x, y = Value(0.3, "x"), Value(1.2, "y")
    z = (ac.hypot(x, y).clip(0.0, 1.0) + ac.maximum(x, y).arcsinh() * x.hardswish()).softplus(beta=3)
    z.backward()
    src = draw_graph(z).source
    for name in ("hypot", "clip", "maximum", "arcsinh", "hardswish", "softplus_beta"):
        assert name in src, name
    assert op_label(x.celu(0.5)) == "celu(0.5)"


_NEW_PRIMS = set(NEW_UNARY) | set(NEW_BINARY) | {"clip", "hardtanh", "celu", "softplus_beta"}


@pytest.mark.parametrize("case", [c for c in primitive_cases() if c.name in _NEW_PRIMS],
                         ids=lambda c: c.label)
def test_new_primitives_on_tensors_at_order_1_and_2_in_both_modes(case):
    """Each case's points as one array per operand: the elementwise primitive's
    derivatives (reverse and forward mode) against central differences, and the
    same for its gradient built with create_graph (order 2)."""
    from autograd_core.tensor_check import tensor_gradcheck
    prim = case.primitive
    param = None
    if prim.has_param:  # the case's parameter, read back from a node it makes
        param = case.fn(*[Value(x) for x in case.points[0]]).param
    arrays = [np.array([p[k] for p in case.points]) for k in range(prim.arity)]

    def f(*ts):
        return T._apply_ew(prim, ts, param)

    def grad_f(*ts):
        with ac.enable_grad():  # the finite differences run under no_grad
            out = f(*ts).sum()
            gs = T.gradients(out, list(ts), create_graph=True)
        total = None
        for g in gs:
            g = g if isinstance(g, Tensor) else Tensor(np.asarray(g))
            total = g if total is None else total + g
        return total

    assert tensor_gradcheck(f, arrays), case.label
    if case.name not in ("sign", "floor", "ceil"):  # constant derivatives: no graph to check
        assert tensor_gradcheck(grad_f, arrays), case.label


# ------------------------------------------------------------------ properties

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_finite = st.floats(-30.0, 30.0, allow_nan=False)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(x=st.floats(-1.5, 1.5), y=_finite)
def test_inverse_functions_compose_to_the_identity(x, y):
    """d/dx f⁻¹(f(x)) = 1 (the two rules multiply to one) on each domain."""
    for f, g, x0 in (("sin", "arcsin", x), ("tan", "arctan", x), ("tanh", "arctanh", x / 2),
                     ("sinh", "arcsinh", y / 10), ("cosh", "arccosh", abs(y) / 10 + 0.05)):
        v = Value(x0)
        out = getattr(getattr(v, f)(), g)()
        (d,) = gradients(out, [v])
        assert out.data == pytest.approx(x0, rel=1e-9, abs=1e-12)
        assert d == pytest.approx(1.0, rel=1e-8)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(x=_finite, y=_finite, tie=st.booleans())
def test_two_operand_identities(x, y, tie):
    if tie:
        y = x
    a, b = Value(x), Value(y)
    # max + min = x + y, and their gradients add up to (1, 1), ties included
    s = ac.maximum(a, b) + ac.minimum(a, b)
    assert s.data == x + y and gradients(s, [a, b]) == [1.0, 1.0]
    # logaddexp is log(e^x + e^y); its gradient is the softmax of (x, y)
    lse = ac.logaddexp(a, b)
    m = max(x, y)
    assert lse.data == pytest.approx(m + math.log(math.exp(x - m) + math.exp(y - m)), rel=1e-14)
    ga, gb = gradients(lse, [a, b])
    assert ga + gb == pytest.approx(1.0, rel=1e-14)
    assert ga == pytest.approx(math.exp(x - lse.data), rel=1e-12)
    # hypot and arctan2 are the polar coordinates of (x, y)
    if math.hypot(x, y) > 1e-100:  # (nearer 0 the derivative 1/r overflows, as the math does)
        r, th = ac.hypot(a, b), ac.arctan2(b, a)
        assert r.data * math.cos(th.data) == pytest.approx(x, rel=1e-12, abs=1e-12 * r.data)
        assert r.data * math.sin(th.data) == pytest.approx(y, rel=1e-12, abs=1e-12 * r.data)
        gx, gy = gradients(th, [a, b])
        assert gx * x + gy * y == pytest.approx(0.0, abs=1e-12 / r.data)  # θ is constant along rays


@settings(max_examples=60, deadline=None, derandomize=True)
@given(x=st.floats(-20.0, 20.0, allow_nan=False), beta=st.sampled_from([0.25, 0.5, 2.0, 5.0]))
def test_activation_identities(x, beta):
    v = Value(x)
    assert v.logsigmoid().data == pytest.approx(-math.log1p(math.exp(-x)), rel=1e-12)
    sp = v.softplus(beta=beta)
    assert sp.data == pytest.approx(math.log1p(math.exp(beta * x)) / beta, rel=1e-12)
    assert gradients(sp, [v])[0] == pytest.approx(1 / (1 + math.exp(-beta * x)), rel=1e-12)
    assert v.hardtanh(-2.0, 3.0).data == v.clip(-2.0, 3.0).data == min(max(x, -2.0), 3.0)
    assert v.relu6().data == v.hardtanh(0.0, 6.0).data
    assert v.hardswish().data == pytest.approx(x * v.hardsigmoid().data, rel=1e-15, abs=1e-300)
    assert v.selu().data == pytest.approx(SCALE * v.elu(ALPHA).data, rel=1e-15)
    assert v.celu(1.0).data == pytest.approx(v.elu(1.0).data, rel=1e-15)
