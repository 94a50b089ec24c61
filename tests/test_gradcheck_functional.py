"""jvp (forward mode), grad / value_and_grad / hessian, create_graph and
higher derivatives of every primitive against finite differences."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import (
    Value, grad, gradients, hessian, jvp, numerical_grad, topological_order, value_and_grad,
)
from autograd_core import engine, functional
from autograd_core.testing import primitive_cases

CASES = primitive_cases()


# ------------------------------------------------------------------ jvp

def test_jvp_hand_derivation():
    assert jvp(lambda x, y: x * y, [3.0, 5.0], [1.0, 0.0]) == (15.0, 5.0)
    assert jvp(lambda x, y: x * y, [3.0, 5.0], [0.0, 1.0]) == (15.0, 3.0)
    value, d = jvp(lambda x, y: x * x * y, [3.0, 5.0], [2.0, -1.0])  # 30*2 + 9*(-1)
    assert value == 45.0 and d == 51.0


def test_jvp_seed_chapter_sigmoid():
    # f = σ(w·x + b) at x=1, w=0, b=0 (seed: ∂f/∂w = 0.25, ∂f/∂b = 0.25, ∂f/∂x = 0)
    f = lambda x, w, b: 1 / ((-(x * w + b)).exp() + 1)  # noqa: E731
    assert jvp(f, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]) == (0.5, 0.25)
    assert jvp(f, [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]) == (0.5, 0.25)
    assert jvp(f, [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]) == (0.5, 0.0)


def test_jvp_is_forward_propagation_not_reverse_mode(monkeypatch):
    calls = []
    real_push = functional.push_tangents

    def spy(root, seeds, order=None):
        calls.append(root)
        return real_push(root, seeds, order)

    def no_reverse(*args, **kwargs):
        raise AssertionError("jvp must not run the backward driver")

    monkeypatch.setattr(functional, "push_tangents", spy)
    monkeypatch.setattr(engine, "_backprop", no_reverse)
    value, d = jvp(lambda x, y: (x * y).sin() + y.exp(), [0.5, 1.5], [1.0, 2.0])
    assert len(calls) == 1
    expected = math.cos(0.75) * 1.5 + (math.cos(0.75) * 0.5 + math.exp(1.5)) * 2.0
    assert d == pytest.approx(expected, rel=1e-14)
    with pytest.raises(AssertionError, match="backward driver"):
        gradients(Value(1.0) * 2, [Value(1.0)])  # the patch really blocks reverse mode


def test_jvp_errors_and_constants():
    with pytest.raises(ValueError, match="one tangent per primal"):
        jvp(lambda x, y: x * y, [1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match=r"tangents\[0\] must be a real number"):
        jvp(lambda x: x, [1.0], ["1"])
    with pytest.raises(TypeError, match="callable"):
        jvp("f", [1.0], [1.0])
    with pytest.raises(TypeError, match="f must return a Value"):
        jvp(lambda x: [x], [1.0], [1.0])
    assert jvp(lambda x: 4.0, [1.0], [1.0]) == (4.0, 0.0)


# random expression trees: jvp == reverse-mode gradient · tangent

UNARY = ["exp_t", "log_sq", "sqrt_sq", "sin", "cos", "tanh", "sigmoid", "softplus", "relu",
         "abs", "leaky", "elu", "swish", "gelu", "gelu_tanh", "erf", "erfc", "expm1_t", "neg",
         "log1p_sq", "cube", "recip_sq", "rpow"]
BINARY = ["add", "sub", "mul", "div_safe", "pow_safe", "prelu", "sum3", "dot2", "const_mix"]


def _unary(name, a):
    return {
        "exp_t": lambda: a.tanh().exp(), "log_sq": lambda: (a * a + 0.5).log(),
        "sqrt_sq": lambda: (a * a + 0.1).sqrt(), "sin": a.sin, "cos": a.cos,
        "tanh": a.tanh, "sigmoid": a.sigmoid, "softplus": a.softplus, "relu": a.relu,
        "abs": lambda: abs(a), "leaky": lambda: a.leaky_relu(0.1), "elu": lambda: a.elu(0.7),
        "swish": lambda: a.swish(1.3), "gelu": a.gelu, "gelu_tanh": lambda: a.gelu("tanh"),
        "erf": a.erf, "erfc": a.erfc, "expm1_t": lambda: a.tanh().expm1(), "neg": lambda: -a,
        "log1p_sq": lambda: (a * a).log1p(), "cube": lambda: a ** 3,
        "recip_sq": lambda: 1.0 / (a * a + 1.0), "rpow": lambda: 1.5 ** a.tanh(),
    }[name]()


def _binary(name, a, b):
    return {
        "add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
        "div_safe": lambda: a / (b * b + 1.0), "pow_safe": lambda: (a * a + 1.0) ** b.tanh(),
        "prelu": lambda: ag.prelu(a, b), "sum3": lambda: ag.sum([a, b, a * 0.5]),
        "dot2": lambda: ag.dot([a, b], [b, 2.0 - a]), "const_mix": lambda: 2.0 * a - b / 3.0 + 1.0,
    }[name]()


trees = st.recursive(
    st.integers(min_value=0, max_value=2),
    lambda kids: st.one_of(
        st.tuples(st.sampled_from(UNARY), kids),
        st.tuples(st.sampled_from(BINARY), kids, kids),
    ),
    max_leaves=12,
)


def _evaluate(tree, xs):
    if isinstance(tree, int):
        return xs[tree]
    if len(tree) == 2:
        return _unary(tree[0], _evaluate(tree[1], xs))
    return _binary(tree[0], _evaluate(tree[1], xs), _evaluate(tree[2], xs))


def _abs_gradient(out, leaves):
    """Σ over paths of |product of local derivatives|, per leaf."""
    acc = {out: 1.0}
    for n in reversed(topological_order(out)):
        g = acc.get(n, 0.0)
        for p, local in zip(n.parents, n.local_grads):
            acc[p] = acc.get(p, 0.0) + abs(local) * g
    return [acc.get(x, 0.0) for x in leaves]


reals = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, xs=st.lists(reals, min_size=3, max_size=3),
       ts=st.lists(reals, min_size=3, max_size=3))
def test_jvp_equals_gradient_dot_tangent(tree, xs, ts):
    f = lambda *v: _evaluate(tree, v)  # noqa: E731
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    if not isinstance(out, Value):
        return
    assume(math.isfinite(out.data))
    gs = gradients(out, leaves)
    assume(all(math.isfinite(g) for g in gs))
    value, d = jvp(f, xs, ts)
    assert value == out.data
    expected = math.fsum(g * t for g, t in zip(gs, ts))
    # both modes round; the error scale is the sum over all paths of
    # |products of local derivatives| · |tangent| (cancellation along paths
    # that add up to 0, like a·b + b·(2 - a) in a, is allowed its rounding)
    scale = math.fsum(a * abs(t) for a, t in zip(_abs_gradient(out, leaves), ts))
    assume(math.isfinite(scale))
    # plus a few of the smallest subnormal steps: below ~1e-308 no float sum is
    # exact to a relative 1e-12 (hypothesis found 5e-324 vs a scale of 5e-324)
    assert abs(d - expected) <= 1e-12 * scale + 4 * 5e-324


# ------------------------------------------------------------------ grad & co.

def test_grad_composes():
    cube = lambda x: x ** 3  # noqa: E731
    assert grad(cube)(2.0) == 12.0
    assert grad(grad(cube))(2.0) == 12.0
    assert grad(grad(grad(cube)))(2.0) == 6.0
    assert grad(grad(grad(grad(cube))))(2.0) == 0.0
    assert type(grad(grad(cube))(2.0)) is float
    d2 = grad(grad(lambda x: x.sin() * x))  # (x sin x)'' = 2 cos x - x sin x
    assert d2(0.7) == pytest.approx(2 * math.cos(0.7) - 0.7 * math.sin(0.7), rel=1e-14)


def test_grad_argnums_and_value_and_grad():
    f = lambda x, y: x * x * y  # noqa: E731
    assert grad(f)(3.0, 5.0) == (30.0, 9.0)
    assert grad(f, argnums=0)(3.0, 5.0) == 30.0
    assert grad(f, argnums=1)(3, 5) == 9.0
    assert grad(f, argnums=(1, 0))(3.0, 5.0) == (9.0, 30.0)
    assert grad(f, argnums=-1)(3.0, 5.0) == 9.0
    assert grad(grad(f, 0), 1)(3.0, 5.0) == 6.0       # ∂²f/∂y∂x = 2x
    assert grad(grad(f, 0), 0)(3.0, 5.0) == 10.0      # 2y
    assert value_and_grad(f)(3.0, 5.0) == (45.0, (30.0, 9.0))
    assert value_and_grad(f, argnums=0)(3.0, 5.0) == (45.0, 30.0)
    assert grad(lambda x: 7.0)(1.0) == 0.0
    assert grad(lambda x, y: x * 2.0, argnums=1)(1.0, 2.0) == 0.0


def test_grad_leaves_dot_grad_alone():
    x = Value(2.0)
    y = Value(3.0)
    g = grad(lambda a, b: a * b)(x, y)   # Values in: Values out (a traced call)
    assert isinstance(g[0], Value) and g[0].data == 3.0 and g[1].data == 2.0
    assert x.grad == 0.0 and y.grad == 0.0


def test_grad_errors():
    with pytest.raises(TypeError, match="callable"):
        grad(42)
    with pytest.raises(TypeError, match="argnums"):
        grad(lambda x: x, argnums="0")
    with pytest.raises(ValueError, match="out of range"):
        grad(lambda x: x, argnums=2)(1.0)
    with pytest.raises(ValueError, match="must not be empty"):
        grad(lambda x: x, argnums=())
    with pytest.raises(TypeError, match="at least one argument"):
        grad(lambda: Value(1.0))()
    with pytest.raises(TypeError, match="argument 0 must be a real number"):
        grad(lambda x: x)("1.0")
    with pytest.raises(TypeError, match="f must return a Value"):
        grad(lambda x: None)(1.0)


def test_hessian():
    assert hessian(lambda x, y: x * x * y, [3.0, 5.0]) == [[10.0, 6.0], [6.0, 0.0]]
    H = hessian(lambda x, y, z: (x * y).sin() + z.exp() * x, [0.3, -0.8, 0.5])
    c, s = math.cos(-0.24), math.sin(-0.24)
    expected = [[-0.64 * s, c + 0.24 * s, math.exp(0.5)],
                [c + 0.24 * s, -0.09 * s, 0.0],
                [math.exp(0.5), 0.0, 0.3 * math.exp(0.5)]]
    for row, exp_row in zip(H, expected):
        assert row == pytest.approx(exp_row, rel=1e-14, abs=1e-15)
    assert all(type(h) is float for row in H for h in row)
    assert hessian(lambda x, y: x + y, [1.0, 2.0]) == [[0.0, 0.0], [0.0, 0.0]]
    assert hessian(lambda x: 3.0, [1.0]) == [[0.0]]
    with pytest.raises(ValueError, match="at least one input"):
        hessian(lambda: Value(1.0), [])


# ------------------------------------------------------------------ create_graph

def test_backward_create_graph_gives_differentiable_grads():
    x = Value(2.0, "x")
    y = x ** 3
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 12.0 and not x.grad.is_leaf
    (d2,) = gradients(x.grad, [x])
    assert d2 == 12.0
    (d2v,) = gradients(x.grad, [x], create_graph=True)
    (d3,) = gradients(d2v, [x])
    assert d3 == 6.0


def test_backward_without_create_graph_builds_nothing():
    x = Value(2.0)
    w = Value(-0.5)
    y = (x * w).tanh() * x
    before = len(topological_order(y))
    y.backward()
    assert type(x.grad) is float and type(w.grad) is float
    assert len(topological_order(y)) == before
    t = math.tanh(-1.0)
    assert x.grad == pytest.approx((1 - t * t) * -0.5 * 2.0 + t, rel=1e-15)


def test_create_graph_agrees_with_gradients_and_hessian():
    f = lambda a, b: (a * b).sigmoid() * a.exp() + b ** 2  # noqa: E731
    a, b = Value(0.4), Value(-1.1)
    out = f(a, b)
    out.backward(create_graph=True)
    assert gradients(f(Value(0.4), Value(-1.1)), [Value(0.4)]) == [0.0]  # an unrelated leaf
    H = hessian(f, [0.4, -1.1])
    assert gradients(a.grad, [a, b]) == pytest.approx(H[0], rel=1e-14)
    assert gradients(b.grad, [a, b]) == pytest.approx(H[1], rel=1e-14)
    assert H[0][1] == pytest.approx(H[1][0], rel=1e-13)


# ------------------------------------------------------------------ higher order, every primitive

UNARY_CASES = [c for c in CASES if len(c.points[0]) == 1]


@pytest.mark.parametrize("case", UNARY_CASES, ids=lambda c: c.label)
def test_second_and_third_derivatives_of_every_unary_primitive(case):
    """grad(grad(f)) against finite differences of grad(f), and grad³ against
    finite differences of grad(grad(f)): the Value-valued rules of every
    primitive, differentiated twice more."""
    d1, d2, d3 = grad(case.fn), grad(grad(case.fn)), grad(grad(grad(case.fn)))
    for (x,) in case.points:
        for exact, lower in ((d2, d1), (d3, d2)):
            a = exact(x)
            (n,) = numerical_grad(lower, [x])
            assert abs(a - n) <= 1e-9 + 1e-7 * abs(n), (case.label, x, a, n)


@pytest.mark.parametrize("case", [c for c in CASES if len(c.points[0]) > 1], ids=lambda c: c.label)
def test_hessian_of_every_multi_operand_primitive(case):
    for point in case.points:
        H = hessian(case.fn, point)
        for i in range(len(point)):
            gi = lambda *xs, i=i: grad(case.fn, argnums=i)(*xs)  # noqa: E731
            numeric = numerical_grad(gi, point)
            assert H[i] == pytest.approx(numeric, rel=1e-7, abs=1e-9), (case.label, point, i)


SMOOTH_UNARY = [u for u in UNARY if u not in ("relu", "abs", "leaky", "elu")]
smooth_trees = st.recursive(
    st.integers(min_value=0, max_value=2),
    lambda kids: st.one_of(
        st.tuples(st.sampled_from(SMOOTH_UNARY), kids),
        st.tuples(st.sampled_from([b for b in BINARY if b != "prelu"]), kids, kids),
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=smooth_trees, xs=st.lists(st.floats(min_value=-2.0, max_value=2.0), min_size=3,
                                      max_size=3))
def test_gradcheck_passes_random_smooth_functions_without_false_kinks(tree, xs):
    f = lambda *v: _evaluate(tree, v)  # noqa: E731
    out = f(*[Value(x) for x in xs])
    assume(isinstance(out, Value) and math.isfinite(out.data) and abs(out.data) < 1e6)
    report = ag.gradcheck(f, xs)
    assert report, str(report)
    assert not report.kinks, str(report)
