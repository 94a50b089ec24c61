"""Nested differentiation: grad, value_and_grad, jvp, hessian and
gradients(create_graph=True) composed in any order, each level
differentiating only its own variables (no perturbation confusion).

Expected numbers come from hand derivations, from an independent simulation
with the analytic force (charged particle), and from finite differences of
finite differences (property tests)."""

from __future__ import annotations

import math
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_core import (
    Tensor, Value, functional, gradcheck, grad, gradients, hessian, jvp, no_grad, numerical_grad,
    push_tangents, topological_order, value_and_grad,
)


# ------------------------------------------------------------------ the reproductions

def test_inner_grad_keeps_the_outer_variable():
    # d/dx [x · d/dy (x·y)] = d/dx x² = 2x
    assert grad(lambda x: x * grad(lambda y: x * y)(2.0))(1.0) == 2.0
    assert grad(lambda x: x * grad(lambda y: x * y)(2.0))(-3.5) == -7.0


def test_inner_grad_does_not_differentiate_the_outer_node():
    # d/dx [d/dy (x·y) at y = x] = d/dx x = 1
    assert grad(lambda x: grad(lambda y: x * y)(x))(3.0) == 1.0


def test_grad_of_jvp():
    # jvp of y² along 1 at x is 2x; d/dx 2x = 2
    assert grad(lambda x: jvp(lambda y: y * y, [x], [1.0])[1])(3.0) == 2.0


def test_hessian_inside_grad():
    # d²/dy² y³ = 6y; d/dx 6x = 6
    assert grad(lambda x: hessian(lambda y: y ** 3, [x])[0][0])(2.0) == 6.0


# ------------------------------------------------------------------ perturbation confusion

@pytest.mark.parametrize("x0", [-2.0, 0.0, 1.0, 7.5])
def test_siskind_pearlmutter_every_pairing(x0):
    """d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1 at any x (confusing the two
    perturbations gives 2), for every pairing of forward and reverse mode."""
    def inner_grad(x):
        return grad(lambda y: x + y)(x)

    def inner_jvp(x):
        return jvp(lambda y: x + y, [x], [1.0])[1]

    def inner_gradients(x):
        y = Value(float(x)) if not isinstance(x, Value) else x * 1.0
        return gradients(x + y, [y], create_graph=True)[0]

    for inner in (inner_grad, inner_jvp):
        outer_f = lambda x, inner=inner: x * inner(x)  # noqa: E731
        assert grad(outer_f)(x0) == 1.0
        assert jvp(outer_f, [x0], [1.0]) == (x0, 1.0)
        assert value_and_grad(outer_f)(x0) == (x0, 1.0)
    # the inner level evaluated at a different point of its own variable
    assert grad(lambda x: x * grad(lambda y: x + y)(5.0))(x0) == 1.0
    assert jvp(lambda x: x * jvp(lambda y: x + y, [5.0], [1.0])[1], [x0], [1.0])[1] == 1.0
    assert grad(lambda x: x * inner_gradients(x))(x0) == 1.0


def test_user_built_graph_around_an_inner_grad():
    # the outer level is plain reverse mode on a Value the inner call closes over
    x = Value(3.0)
    g = grad(lambda y: x * y)(x)          # ∂(x·y)/∂y at y = x: x itself
    assert isinstance(g, Value) and g.data == 3.0
    assert gradients(g, [x]) == [1.0]     # not 2.0: x·y is not x²
    x = Value(1.0)
    y = x * grad(lambda t: x * t)(2.0)    # x · x
    y.backward()
    assert x.grad == 2.0
    # nothing here depends on an outside Value: plain floats
    assert grad(lambda t: t * t + x)(2.0) == 4.0 and type(grad(lambda t: t * t + x)(2.0)) is float
    value, dv = value_and_grad(lambda t: t * t + x)(2.0)
    assert isinstance(value, Value) and value.data == 5.0 and gradients(value, [x]) == [1.0]
    assert type(dv) is float


def test_each_call_differentiates_its_own_arguments():
    # the same Value passed twice: two arguments, two partial derivatives
    x = Value(3.0)
    g = grad(lambda a, b: a * a * b)(x, x)   # (2ab, a²) at a = b = x
    assert [v.data for v in g] == [18.0, 9.0]
    assert gradients(g[0], [x]) == [12.0] and gradients(g[1], [x]) == [6.0]  # 4x, 2x
    assert x.grad == 0.0


# ------------------------------------------------------------------ every composition

def f2(x, y):
    return x * x * y + (x * y).sin()


def f2_hessian(x, y):
    s, c = math.sin(x * y), math.cos(x * y)
    return [[2 * y - y * y * s, 2 * x + c - x * y * s],
            [2 * x + c - x * y * s, -x * x * s]]


def test_grad_of_grad_of_a_closure():
    # inner: d/dy (x·y³) = 3xy²; at y = x: 3x³; outer: 9x²
    assert grad(lambda x: grad(lambda y: x * y ** 3)(x))(2.0) == 36.0
    # inner at a fixed point y = 2: 12x; outer: 12
    assert grad(lambda x: grad(lambda y: x * y ** 3)(2.0))(5.0) == 12.0
    # three levels: d/dz (x·y·z) = x·y; d/dy [y · x·y] = 2x·y, at y = x: 2x²;
    # d/dx [x · 2x²] = 6x²
    f = lambda x: x * grad(lambda y: y * grad(lambda z: x * y * z)(1.0))(x)  # noqa: E731
    assert grad(f)(2.0) == 24.0


def test_jvp_of_jvp_and_jvp_of_grad():
    cube = lambda y: y ** 3  # noqa: E731
    # second derivative of y³ by forward over forward, and forward over reverse: 6x
    assert jvp(lambda x: jvp(cube, [x], [1.0])[1], [2.0], [1.0]) == (12.0, 12.0)
    assert jvp(grad(cube), [2.0], [1.0]) == (12.0, 12.0)
    assert jvp(lambda x: grad(cube)(x), [2.0], [0.5]) == (12.0, 6.0)
    # a closure over the outer variable: d/dx [jvp of (x·y²) along 1 at y = 1] = d/dx 2x = 2
    assert jvp(lambda x: jvp(lambda y: x * y * y, [1.0], [1.0])[1], [4.0], [1.0]) == (8.0, 2.0)
    # tangents that are Values: jvp of y² at 2 along a², differentiated in a: 8a
    assert grad(lambda a: jvp(lambda y: y * y, [2.0], [a * a])[1])(3.0) == 24.0


def test_jacobian_of_a_gradient_is_the_hessian():
    x0, y0 = 0.7, -1.3
    expected = f2_hessian(x0, y0)
    by_grad = [list(grad(lambda x, y, i=i: grad(f2, argnums=i)(x, y))(x0, y0)) for i in range(2)]
    by_jvp = [[jvp(lambda x, y, i=i: grad(f2, argnums=i)(x, y), [x0, y0], e)[1]
               for e in ([1.0, 0.0], [0.0, 1.0])] for i in range(2)]
    by_gradients = []
    for i in range(2):
        x, y = Value(x0), Value(y0)
        gi = gradients(f2(x, y), [x, y], create_graph=True)[i]
        by_gradients.append(gradients(gi, [x, y]))
    for H in (by_grad, by_jvp, by_gradients, hessian(f2, [x0, y0])):
        for row, exp_row in zip(H, expected):
            assert row == pytest.approx(exp_row, rel=1e-14, abs=1e-15)


def test_hessian_of_a_closure_over_an_outer_variable():
    def h00(a):  # ∂²/∂x² [a·x²·y + sin(a·x)] = 2ay - a² sin(ax), at x = 1, y = 2
        return hessian(lambda x, y: a * x * x * y + (a * x).sin(), [1.0, 2.0])[0][0]

    a0 = 0.5
    assert h00(a0) == pytest.approx(2 * a0 * 2 - a0 * a0 * math.sin(a0), rel=1e-15)
    exact = 2 * 2 - 2 * a0 * math.sin(a0) - a0 * a0 * math.cos(a0)
    assert grad(h00)(a0) == pytest.approx(exact, rel=1e-14)
    assert jvp(h00, [a0], [1.0])[1] == pytest.approx(exact, rel=1e-14)
    # the Hessian's entries are Values when they depend on the outer variable
    a = Value(a0)
    H = hessian(lambda x, y: a * x * x * y, [1.0, 2.0])
    assert isinstance(H[0][0], Value) and H[0][0].data == 2 * a0 * 2
    assert gradients(H[0][1], [a]) == [2.0]    # ∂/∂a (2ax) at x = 1
    assert H[1][1] == 0.0 and type(H[1][1]) is float


def test_hessian_in_grad_and_grad_in_hessian():
    # hessian of x ↦ grad(y ↦ x²y³)(x) = 3x⁴ is 36x²
    assert hessian(lambda x: grad(lambda y: x * x * y ** 3)(x), [2.0]) == [[144.0]]
    # grad of the trace of a Hessian with a closure: tr ∇²(a·x²·y²) = 2a(y² + x²)
    tr = lambda a: sum(hessian(lambda x, y: a * x * x * y * y, [1.0, 3.0])[i][i]  # noqa: E731
                       for i in range(2))
    assert tr(2.0) == 40.0
    assert grad(tr)(2.0) == 20.0


def test_gradients_create_graph_inside_and_around_transforms():
    # gradients(create_graph=True) inside a transform, on the transform's variable
    assert grad(lambda x: gradients(x ** 3, [x], create_graph=True)[0])(2.0) == 12.0
    assert jvp(lambda x: gradients(x ** 3, [x], create_graph=True)[0], [2.0], [1.0]) == (12.0, 12.0)
    # gradients around a transform: ∂/∂x of grad_y (x·y²) at y = 3 = 2y = 6
    x = Value(2.0)
    g = grad(lambda y: x * y * y)(3.0)
    assert isinstance(g, Value) and g.data == 12.0
    (d,) = gradients(g, [x], create_graph=True)
    assert float(d) == 6.0


def test_value_and_grad_nested():
    # value: x·y² at y = x (x³), gradient 2xy (2x²); outer: d/dx (x³ + 2x²) = 3x² + 4x
    def f(x):
        v, g = value_and_grad(lambda y: x * y * y)(x)
        return v + g
    assert grad(f)(2.0) == 20.0
    assert value_and_grad(f)(2.0) == (16.0, 20.0)


# ------------------------------------------------------------------ return types

def test_top_level_results_stay_floats():
    assert type(grad(lambda x: x * x)(3.0)) is float
    assert type(grad(grad(lambda x: x ** 3))(3.0)) is float
    v, d = jvp(lambda x: x * x, [3.0], [1.0])
    assert type(v) is float and type(d) is float
    assert all(type(h) is float for row in hessian(f2, [0.3, 0.4]) for h in row)
    # a nested result that does not depend on the outer variable is a float too
    seen = []

    def outer(x):
        seen.append(grad(lambda y: y * y)(3.0))
        return x * x
    assert grad(outer)(1.0) == 2.0
    assert seen == [6.0] and type(seen[0]) is float


def test_input_nodes_are_fresh_and_leave_the_callers_graph_alone():
    x = Value(2.0, "x")
    seen = []

    def f(y):
        seen.append(y)
        return y * y

    g = grad(f)(x)
    assert seen[0] is not x and g.data == 4.0
    # after the call the input node is x * 1.0: an enclosing level sees x
    assert len(seen[0].parents) == 1 and seen[0].parents[0] is x and seen[0].op == "mul_const"
    assert x.is_leaf and x.grad == 0.0
    assert gradients(g, [x]) == [2.0]


def test_no_grad_call_site_and_no_leaking_state():
    x = Value(3.0)
    with no_grad():  # nothing is recorded at the call site: plain floats, x untouched
        g = grad(lambda y: y * y)(x)
        v, d = jvp(lambda y: y * x, [2.0], [1.0])
    assert g == 6.0 and type(g) is float
    assert (v, d) == (6.0, 3.0) and type(v) is float
    with pytest.raises(ZeroDivisionError):
        grad(lambda y: grad(lambda z: 1 / 0)(y))(1.0)
    assert functional._levels.get() == ()
    assert grad(lambda x: x * grad(lambda y: x * y)(2.0))(1.0) == 2.0


def test_nesting_from_several_threads():
    cases = [
        (lambda: grad(lambda x: x * grad(lambda y: x * y)(2.0))(1.5), 3.0),
        (lambda: grad(lambda x: grad(lambda y: x * y)(x))(3.0), 1.0),
        (lambda: grad(lambda x: jvp(lambda y: y * y, [x], [1.0])[1])(3.0), 2.0),
        (lambda: grad(lambda x: hessian(lambda y: y ** 3, [x])[0][0])(2.0), 6.0),
    ]
    errors = []

    def work(k):
        for r in range(60):
            run, expected = cases[(k + r) % len(cases)]
            got = run()
            if got != expected:
                errors.append((k, r, got, expected))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_gradcheck_and_numerical_grad_of_a_function_that_calls_grad():
    # f(x, w) = x · ∂/∂y (x·y² + w·y) at y = x = 2x³ + w·x
    def f(x, w):
        return x * grad(lambda y: x * y * y + w * y)(x)

    x0, w0 = 1.5, -0.7
    assert f(x0, w0) == pytest.approx(2 * x0 ** 3 + w0 * x0, rel=1e-15)
    assert numerical_grad(f, [x0, w0]) == pytest.approx([6 * x0 ** 2 + w0, x0], rel=1e-10)
    report = gradcheck(f, [x0, w0], order=2)
    assert report, str(report)
    exact = {0: 6 * x0 ** 2 + w0, 1: x0, (0, 0): 12 * x0, (0, 1): 1.0, (1, 0): 1.0, (1, 1): 0.0}
    assert len(report.rows) == 12
    for row in report.rows:
        assert row.analytic == pytest.approx(exact[row.input], rel=1e-14, abs=1e-14), row
    # jvp and hessian inside the checked function as well
    assert gradcheck(lambda x: jvp(lambda y: (x * y).sin(), [x], [x])[1], [0.8], order=2)
    assert gradcheck(lambda a, b: hessian(lambda x, y: a * x * x * y + (b * x * y).tanh(),
                                          [a, b])[0][1], [0.6, -0.4], order=2)


def test_a_level_does_not_run_through_the_callers_history(monkeypatch):
    """Each level's passes stop at its own input nodes: an inner derivative
    taken at a Value with a long history walks a few nodes, not the history."""
    v = Value(0.5)
    for _ in range(2000):
        v = (v * 0.999).sin() + 0.001
    sizes = []
    real_gradients, real_push = functional.gradients, functional.push_tangents

    def spy_gradients(output, inputs, **kw):
        sizes.append(len(topological_order(output)))
        return real_gradients(output, inputs, **kw)

    def spy_push(root, seeds, order=None, **kw):
        sizes.append(len(order))
        return real_push(root, seeds, order, **kw)

    monkeypatch.setattr(functional, "gradients", spy_gradients)
    monkeypatch.setattr(functional, "push_tangents", spy_push)
    g = grad(lambda y: y * y.sin())(v)
    h = hessian(lambda y: y ** 3, [v])[0][0]
    _, t = jvp(lambda y: y.exp(), [v], [1.0])
    assert sizes and max(sizes) < 20, sizes
    # and the results are connected to v's graph
    y0 = v.data
    assert gradients(g, [v]) == pytest.approx([2 * math.cos(y0) - y0 * math.sin(y0)], rel=1e-14)
    assert gradients(h, [v]) == [6.0]
    assert gradients(t, [v]) == pytest.approx([math.exp(y0)], rel=1e-15)


def test_static_capture_of_a_function_that_calls_grad():
    from autograd_core import static
    s = static(lambda x: x * grad(lambda y: x * y * y)(x), 1.5)   # 2x³
    assert s(1.5) == 6.75 and s(2.0) == 16.0
    g = s.grad(2.0)
    assert g.value == 16.0 and g.inputs == (24.0,)                # 6x²


# ------------------------------------------------------------------ forward mode with Values

def test_push_tangents_create_graph():
    x, w = Value(0.4), Value(-1.2)
    y = (x * w).tanh() * x + w.exp()
    flat = push_tangents(y, {x: 1.0})
    deep = push_tangents(y, {x: 1.0}, create_graph=True)
    assert isinstance(deep[y], Value) and deep[y].data == pytest.approx(flat[y], rel=1e-15)
    # the tangent ∂y/∂x is differentiable again: a row of the Hessian
    H = hessian(lambda a, b: (a * b).tanh() * a + b.exp(), [0.4, -1.2])
    assert gradients(deep[y], [x, w]) == pytest.approx(H[0], rel=1e-14)

    def d_cube(a):  # forward mode with create_graph inside a transform: 3a²
        out = a * a * a
        return push_tangents(out, {a: 1.0}, create_graph=True)[out]
    assert jvp(d_cube, [2.0], [1.0]) == (12.0, 12.0)
    assert grad(d_cube)(2.0) == 12.0
    # Value seeds: the tangent depends on them
    s = Value(3.0)
    deep = push_tangents(y, {x: s}, create_graph=True)
    assert gradients(deep[y], [s])[0] == pytest.approx(flat[y], rel=1e-15)


def test_push_tangents_create_graph_on_tensors():
    """Forward over reverse on Tensors: the tangent of a Tensor graph along a
    Tensor seed, differentiated again, is the Hessian-vector product that
    reverse over reverse gives."""
    np = pytest.importorskip("numpy")
    from autograd_core import tensor as tensor_module
    a = Tensor(np.array([[0.3, -0.2], [0.5, 0.1]]))
    b = Tensor(np.array([0.7, -1.1]))
    out = ((a @ b).tanh() * b).sum()
    v = np.array([1.0, -2.0])
    flat = push_tangents(out, {b: v})[out]
    deep = push_tangents(out, {b: Tensor(v)}, create_graph=True)[out]
    assert isinstance(deep, Tensor) and float(deep.data) == pytest.approx(float(flat), rel=1e-15)
    hv_forward = tensor_module.gradients(deep, [b])[0]
    g = tensor_module.gradients(out, [b], create_graph=True)[0]
    hv_reverse = tensor_module.gradients((g * Tensor(v)).sum(), [b])[0]
    assert hv_forward == pytest.approx(hv_reverse, rel=1e-14, abs=1e-15)


def test_push_tangents_value_seed_needs_create_graph():
    x = Value(1.0)
    with pytest.raises(TypeError, match="needs create_graph=True"):
        push_tangents(x * x, {x: Value(1.0)})


def test_unsupported_arguments_raise():
    with pytest.raises(TypeError, match="primals\\[0\\] must be a real number or a scalar Value"):
        jvp(lambda x: x, [Tensor([1.0, 2.0])], [1.0])
    with pytest.raises(TypeError, match="argument 0 must be a real number or a scalar Value"):
        grad(lambda x: x)(Tensor([1.0]))
    with pytest.raises(TypeError, match="inputs\\[1\\] must be a real number"):
        hessian(lambda x, y: x * y, [1.0, "2"])
    with pytest.raises(TypeError, match="tangents\\[0\\] must be a real number"):
        grad(lambda a: jvp(lambda y: y, [1.0], [[a]])[1])(1.0)


# ------------------------------------------------------------------ charged particle

# Siskind & Pearlmutter's nested-optimisation example ("Using programming
# language theory to make AD sound and efficient", 2008): a unit charge starts
# at (0, 8) with velocity (0.75, 0) and is pushed by two unit charges at
# (10, 10 - w) and (10, 0); its force is -∇p with p(x) = Σ 1/‖x - c‖, found by
# an inner derivative; naive Euler steps (dt = 0.1) until it crosses the
# x-axis, where the crossing point is interpolated linearly. The control w is
# chosen to make the particle hit the origin: argmin_w x(t_f)². The inner
# derivative closes over w, which the outer derivative differentiates.

def _charges_potential(x, y, w):
    return (((x - 10.0) ** 2 + (y - (10.0 - w)) ** 2) ** -0.5
            + ((x - 10.0) ** 2 + y ** 2) ** -0.5)


def _force_by_grad(x, y, w):
    gx, gy = grad(lambda a, b: _charges_potential(a, b, w))(x, y)
    return -gx, -gy


def _force_by_jvp(x, y, w):
    p = lambda a, b: _charges_potential(a, b, w)  # noqa: E731
    return -jvp(p, [x, y], [1.0, 0.0])[1], -jvp(p, [x, y], [0.0, 1.0])[1]


def _force_analytic(x, y, w):
    fx = fy = 0.0
    for cx, cy in ((10.0, 10.0 - w), (10.0, 0.0)):
        dx, dy = x - cx, y - cy
        r3 = (dx * dx + dy * dy) ** 1.5
        fx, fy = fx + dx / r3, fy + dy / r3
    return fx, fy


def _landing_x(w, force):
    """x at which the particle crosses the x-axis, and the number of steps."""
    x, y, vx, vy, dt, steps = 0.0, 8.0, 0.75, 0.0, 0.1, 0
    while True:
        fx, fy = force(x, y, w)
        nx, ny = x + dt * vx, y + dt * vy
        if not ny > 0.0:
            return x + (-y / vy) * vx, steps
        x, y, vx, vy, steps = nx, ny, vx + dt * fx, vy + dt * fy, steps + 1


def _miss(force):
    def objective(w):
        return _landing_x(w, force)[0] ** 2
    return objective


@pytest.mark.parametrize("w0", [0.0, 0.15])
def test_charged_particle_derivative_every_mode_pairing(w0):
    analytic = _miss(_force_analytic)
    # the step count is the same across the finite-difference stencil, so the
    # objective is smooth there and finite differences are a fair witness
    assert len({_landing_x(w0 + d, _force_analytic)[1] for d in (-1e-3, 0.0, 1e-3)}) == 1
    (expected,) = numerical_grad(analytic, [w0], eps=1e-3)
    assert _miss(_force_by_grad)(w0) == pytest.approx(analytic(w0), rel=1e-13)
    results = {
        "rr": grad(_miss(_force_by_grad))(w0),
        "rf": grad(_miss(_force_by_jvp))(w0),
        "fr": jvp(_miss(_force_by_grad), [w0], [1.0])[1],
        "ff": jvp(_miss(_force_by_jvp), [w0], [1.0])[1],
    }
    for mode, d in results.items():
        assert type(d) is float, mode
        assert d == pytest.approx(expected, rel=1e-8), mode
    # the confused answer (inner derivative blind to w) is far off
    blind = lambda w: _landing_x(w, lambda x, y, _w: _force_by_grad(x, y, w0))[0] ** 2  # noqa: E731
    assert abs(grad(blind)(w0) - expected) > 1.0


def test_charged_particle_nested_optimisation():
    """Gradient descent on w with the nested derivative reaches the w at which
    the particle lands on the origin, found independently by bisection on
    the landing point simulated with the analytic force."""
    lo, hi = 0.1, 0.3
    assert _landing_x(lo, _force_analytic)[0] > 0.0 > _landing_x(hi, _force_analytic)[0]
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _landing_x(mid, _force_analytic)[0] > 0.0:
            lo = mid
        else:
            hi = mid
    w_star = 0.5 * (lo + hi)
    assert w_star == pytest.approx(0.2071994601, abs=1e-10)
    d_miss = grad(_miss(_force_by_grad))
    w = 0.0  # the paper's starting point
    for _ in range(30):
        g = d_miss(w)
        if abs(g) < 1e-10:
            break
        w -= g / 300.0  # fixed step ≈ 1 / curvature at the optimum
    assert abs(g) < 1e-10
    assert w == pytest.approx(w_star, abs=1e-12)
    assert _miss(_force_analytic)(w) < 1e-20  # lands within 1e-10 of the origin


# ------------------------------------------------------------------ property tests

SMOOTH_UNARY = {
    "sin": lambda a: a.sin(),
    "cos": lambda a: a.cos(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "softplus": lambda a: a.softplus(),
    "exp_tanh": lambda a: a.tanh().exp(),
    "log_sq": lambda a: (a * a + 1.0).log(),
    "sqrt_sq": lambda a: (a * a + 0.5).sqrt(),
    "erf": lambda a: a.erf(),
    "gelu": lambda a: a.gelu(),
    "square": lambda a: a ** 2,
    "affine": lambda a: 0.5 * a - 0.25,
}
SMOOTH_BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "pow": lambda a, b: (a * a + 1.0) ** b.tanh(),
}

# programs of two variables x, y (leaves 0 and 1)
programs = st.recursive(
    st.integers(min_value=0, max_value=1),
    lambda kids: st.one_of(
        st.tuples(st.sampled_from(sorted(SMOOTH_UNARY)), kids),
        st.tuples(st.sampled_from(sorted(SMOOTH_BINARY)), kids, kids),
    ),
    max_leaves=6,
)
points = st.floats(min_value=-1.5, max_value=1.5, allow_nan=False)
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def _run(tree, x, y):
    if isinstance(tree, int):
        return (x, y)[tree]
    if len(tree) == 2:
        return SMOOTH_UNARY[tree[0]](_run(tree[1], x, y))
    return SMOOTH_BINARY[tree[0]](_run(tree[1], x, y), _run(tree[2], x, y))


def _program(tree):
    """f(x, y): the program plus x·y, so that both variables always matter."""
    def f(x, y):
        return _run(tree, x, y) + x * y
    return f


def _as_value(v):
    return v if isinstance(v, Value) else Value(v)


def _fd(f, x):
    return numerical_grad(f, [x])[0]


def _close(a, b, scale):
    """Agreement up to the rounding of nested finite differences (Richardson
    at both levels; over 300 random programs the largest error was 0.4 of a
    1e-10 absolute floor, relative errors stayed below 1e-11 of ``scale``,
    the size of the function being differentiated)."""
    assert abs(a - b) <= 1e-8 * (float(scale) + abs(b)) + 1e-9, (a, b)


INNER_POINTS = {"x": lambda x, c: x, "x+c": lambda x, c: x + c, "c": lambda x, c: c}


@PROPERTY
@given(tree=programs, x0=points, c=points, at=st.sampled_from(sorted(INNER_POINTS)))
def test_property_grad_of_closure_grad(tree, x0, c, at):
    """F(x) = x · ∂f/∂y (x, y) at y = x, x + c or c: nested reverse mode
    against finite differences of finite differences."""
    f = _program(tree)
    point = INNER_POINTS[at]

    def F(x):
        return x * grad(lambda y: f(x, y))(point(x, c))

    def F_fd(x):
        return x * _fd(lambda y: f(_as_value(x), _as_value(y)), point(x, c))

    exact = grad(F)(x0)
    _close(exact, _fd(F_fd, x0), abs(F_fd(x0)))
    assert jvp(F, [x0], [1.0])[1] == pytest.approx(exact, rel=1e-12, abs=1e-12)


@PROPERTY
@given(tree=programs, x0=points, c=points)
def test_property_grad_of_jvp_and_jvp_of_jvp(tree, x0, c):
    """G(x) = directional derivative of y ↦ f(x, y) at y = c·x along x:
    grad of jvp and jvp of jvp against finite differences of finite
    differences (x enters as primal, tangent and closure)."""
    f = _program(tree)

    def G(x):
        return jvp(lambda y: f(x, y), [c * x], [x])[1]

    def G_fd(x):
        return x * _fd(lambda y: f(_as_value(x), _as_value(y)), c * x)

    expected = _fd(G_fd, x0)
    _close(grad(G)(x0), expected, abs(G_fd(x0)))
    _close(jvp(G, [x0], [1.0])[1], expected, abs(G_fd(x0)))


@PROPERTY
@given(tree=programs, x0=points, y0=points)
def test_property_jvp_of_grad_is_the_hessian(tree, x0, y0):
    """The Jacobian of the gradient by forward over reverse and by reverse
    over reverse equals the Hessian, and finite differences of finite
    differences."""
    f = _program(tree)
    H = hessian(f, [x0, y0])
    for i in range(2):
        gi = lambda x, y, i=i: grad(f, argnums=i)(x, y)  # noqa: E731
        row_fwd = [jvp(gi, [x0, y0], e)[1] for e in ([1.0, 0.0], [0.0, 1.0])]
        row_rev = list(grad(gi)(x0, y0))
        assert row_fwd == pytest.approx(H[i], rel=1e-10, abs=1e-12)
        assert row_rev == pytest.approx(H[i], rel=1e-10, abs=1e-12)

        def gi_fd(x, y, i=i):
            return numerical_grad(lambda a, b: f(_as_value(a), _as_value(b)), [x, y])[i]
        numeric = numerical_grad(gi_fd, [x0, y0])
        for a, b in zip(H[i], numeric):
            _close(a, b, abs(gi_fd(x0, y0)))


@PROPERTY
@given(tree=programs, x0=points, y0=points)
def test_property_hessian_inside_grad(tree, x0, y0):
    """d/dx of the Hessian of y ↦ f(x, y) (a closure over x) at y = y0,
    against finite differences of the top-level (float) Hessian."""
    f = _program(tree)

    def K(x):
        return hessian(lambda y: f(_as_value(x), y), [y0])[0][0]

    exact = grad(K)(x0)
    numeric = _fd(K, x0)  # K on numbers: the top-level hessian
    _close(exact, numeric, abs(K(x0)))
    assert jvp(K, [x0], [1.0])[1] == pytest.approx(exact, rel=1e-12, abs=1e-12)
