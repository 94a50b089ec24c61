"""numerical_grad, gradcheck, kinks, faulty primitives and assert_gradients_match."""

from __future__ import annotations

import dataclasses
import math

import pytest

import autograd_core as ag
from autograd_core import PRIMITIVES, Value, apply, gradcheck, gradients, numerical_grad
from autograd_core import _math as m
from autograd_core.gradcheck import GradcheckReport, GradcheckRow
from autograd_core.numerical import default_step
from autograd_core.testing import assert_gradients_match, primitive_cases

CASES = primitive_cases()
SMOOTH_POINTS = [(c, p) for c in CASES for p in c.points]


def _float_fn(case):
    return lambda *xs: case.fn(*[Value(x) for x in xs]).data


def _analytic(case, point):
    leaves = [Value(x) for x in point]
    return [float(g) for g in gradients(case.fn(*leaves), leaves)]


def _faulty(name: str, rule) -> ag.Primitive:
    """A test-only copy of a primitive with another rule; never registered."""
    prim = dataclasses.replace(PRIMITIVES[name], name=f"test_faulty_{name}", rule=rule)
    assert prim.name not in PRIMITIVES
    return prim


# ------------------------------------------------------------------ numerical_grad

@pytest.mark.parametrize("method,rtol", [("forward", 1e-6), ("central", 1e-9),
                                         ("richardson", 1e-12)])
def test_numerical_grad_hand_derivation(method, rtol):
    # f = x²y at (3, 5): ∂f/∂x = 2xy = 30, ∂f/∂y = x² = 9
    g = numerical_grad(lambda x, y: x * x * y, [3.0, 5.0], method=method)
    assert g == pytest.approx([30.0, 9.0], rel=rtol)
    assert all(type(v) is float for v in g)


def test_numerical_grad_accepts_functions_returning_values():
    assert numerical_grad(lambda x: Value(x).exp(), [1.0]) == pytest.approx([math.e], rel=1e-12)


def test_default_step_scales_with_magnitude():
    for method in ("forward", "central", "richardson"):
        assert default_step(1000.0, method) == 1000.0 * default_step(1.0, method)
        assert default_step(-1000.0, method) == default_step(1000.0, method)
        assert default_step(1e-3, method) == default_step(1.0, method)
    # x² at 1e8: the scaled step is accurate, a fixed tiny step drowns in rounding
    assert numerical_grad(lambda x: x * x, [1e8], method="central") == pytest.approx([2e8], rel=1e-7)
    fixed = numerical_grad(lambda x: x * x, [1e8], method="central", eps=1e-6)[0]
    assert abs(fixed - 2e8) > 1e-4 * 2e8


def test_richardson_shrinks_its_step_at_a_domain_edge():
    assert numerical_grad(math.log, [0.01]) == pytest.approx([100.0], rel=1e-9)
    assert numerical_grad(math.sqrt, [1e-3]) == pytest.approx([0.5 / math.sqrt(1e-3)], rel=1e-9)
    with pytest.raises(ValueError, match="smaller eps"):
        numerical_grad(math.log, [0.01], method="central", eps=0.1)


def test_numerical_grad_per_input_steps():
    g = numerical_grad(lambda x, y: x * y, [2.0, 3.0], method="forward", eps=[1e-7, 1e-6])
    assert g == pytest.approx([3.0, 2.0], rel=1e-7)


@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(method="backward"), ValueError, "method must be one of"),
    (dict(eps=-1.0), ValueError, "positive finite"),
    (dict(eps=0.0), ValueError, "positive finite"),
    (dict(eps=[1e-3]), ValueError, "1 steps for 2 inputs"),
    (dict(eps="1e-3"), TypeError, "eps must be"),
])
def test_numerical_grad_rejects_bad_options(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        numerical_grad(lambda x, y: x * y, [1.0, 2.0], **kwargs)


def test_numerical_grad_rejects_bad_inputs_and_results():
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a real number"):
        numerical_grad(lambda x, y: x, [1.0, "2"])
    with pytest.raises(TypeError, match="sequence of numbers"):
        numerical_grad(lambda x: x, 3.0)
    with pytest.raises(ValueError, match="finite point"):
        numerical_grad(lambda x: x, [math.nan])
    with pytest.raises(TypeError, match="f must return a number or a Value, not list"):
        numerical_grad(lambda x: [x], [1.0])
    with pytest.raises(TypeError, match="callable"):
        numerical_grad(3, [1.0])


def test_richardson_accuracy_over_all_primitives():
    """Acceptance: Richardson's worst relative error <= 1e-9 at moderate inputs."""
    worst = 0.0
    for case, point in SMOOTH_POINTS:
        analytic = _analytic(case, point)
        numeric = numerical_grad(_float_fn(case), point)
        for a, n in zip(analytic, numeric):
            err = abs(n - a) / abs(a) if a != 0.0 else abs(n - a)
            worst = max(worst, err)
            assert err <= 1e-9, (case.label, point, a, n)
    assert worst > 0.0  # the comparison really happened on inexact numbers


# ------------------------------------------------------------------ the report

def test_report_rows_truthiness_and_table():
    x, y = Value(0.3, "x"), Value(-1.2, "y")
    report = gradcheck(lambda a, b: (a * b).tanh() + a.exp() / b, [x, y], order=2)
    assert isinstance(report, GradcheckReport) and report and report.ok
    assert x.grad == 0.0 and y.grad == 0.0 and x.data == 0.3  # inputs untouched
    assert len(report.rows) == 2 * 2 + 4 * 2
    first = report.rows[0]
    assert isinstance(first, GradcheckRow)
    assert (first.input, first.name, first.mode, first.order) == (0, "x", "rev", 1)
    for field in ("input", "mode", "order", "analytic", "numeric", "abs_error", "rel_error",
                  "ok", "kink"):
        assert hasattr(first, field)
    assert {r.input for r in report.rows if r.order == 2} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert {r.mode for r in report.rows} == {"rev", "fwd"}
    # analytic: d/dx = (1 - tanh²(xy)) y + e^x / y
    t = math.tanh(0.3 * -1.2)
    assert first.analytic == pytest.approx((1 - t * t) * -1.2 + math.exp(0.3) / -1.2, rel=1e-14)
    assert all(r.rel_error < 1e-9 and not r.kink for r in report.rows)
    text = str(report)
    lines = text.splitlines()
    assert lines[0].startswith("gradcheck PASSED: 12 of 12 derivatives match")
    header = next(i for i, ln in enumerate(lines) if ln.startswith("input"))
    col = lines[header].index("mode")
    table = lines[header + 2:]
    assert len(table) == 12
    assert all(ln[col:col + 3] in ("rev", "fwd") for ln in table)  # aligned columns
    num_end = lines[header].index("numeric") + len("numeric")
    assert all(ln[num_end - 1].isdigit() for ln in table)          # numbers right-aligned
    assert "x,y" in text and "kink" in lines[header]
    assert "FAILED" not in text and "failed" not in repr(report).split(",")[0]


def test_modes_and_methods_options():
    f = lambda a, b: a * b.sin()  # noqa: E731
    rev = gradcheck(f, [1.5, 0.7], modes="rev")
    assert rev and {r.mode for r in rev.rows} == {"rev"} and len(rev.rows) == 2
    for method in ("forward", "central"):
        assert gradcheck(f, [1.5, 0.7], method=method, rtol=1e-4)
    # the forward difference is coarser than Richardson extrapolation
    worst = {meth: max(r.rel_error for r in gradcheck(f, [1.5, 0.7], method=meth).rows)
             for meth in ("forward", "central", "richardson")}
    assert worst["forward"] > 1e-9 > 1e-12 > worst["richardson"]
    assert worst["forward"] > worst["central"] > worst["richardson"]


@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(order=3), ValueError, "order must be 1 or 2"),
    (dict(order=True), ValueError, "order must be 1 or 2"),
    (dict(modes=()), ValueError, "modes must be"),
    (dict(modes=("rev", "sideways")), ValueError, "modes must be"),
    (dict(method="exact"), ValueError, "method must be one of"),
    (dict(atol=-1.0), ValueError, "atol must be"),
    (dict(rtol=math.nan), ValueError, "rtol must be"),
])
def test_gradcheck_rejects_bad_options(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        gradcheck(lambda a: a.exp(), [1.0], **kwargs)


def test_gradcheck_rejects_bad_functions_and_inputs():
    with pytest.raises(TypeError, match="callable"):
        gradcheck(None, [1.0])
    with pytest.raises(TypeError, match="f must return a number or a Value, not str"):
        gradcheck(lambda a: "a", [1.0])
    with pytest.raises(ValueError, match="at least one input"):
        gradcheck(lambda: Value(1.0), [])
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a real number"):
        gradcheck(lambda a: a, [None])


def test_constant_function_and_unused_input():
    assert gradcheck(lambda a, b: a.exp() * 2.0, [0.5, 3.0], order=2)   # b unused
    report = gradcheck(lambda a: 3.0, [0.5], order=2)                    # a constant
    assert report and all(r.analytic == 0.0 and r.numeric == 0.0 for r in report.rows)


# ------------------------------------------------------------------ every primitive

def test_every_primitive_has_a_case():
    covered = {c.name for c in CASES}
    assert covered == set(PRIMITIVES), f"no gradcheck case for {set(PRIMITIVES) - covered}"
    for name, prim in PRIMITIVES.items():
        if prim.kinks:
            kink_points = {p[0] for c in CASES if c.name == name for p in c.kink_points}
            assert set(prim.kinks) <= kink_points, name
    for c in CASES:  # parametrised primitives are tried with several parameters
        if c.primitive.has_param and c.name != "dot_const":
            assert sum(d.name == c.name for d in CASES) >= 2, c.name


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_every_primitive_passes_order_1_and_2_in_both_modes(case):
    for point in case.points:
        report = gradcheck(case.fn, point, order=2, modes=("rev", "fwd"))
        assert report, f"{case.label} at {point}\n{report}"
        assert not report.kinks, f"{case.label} at {point}: false kink\n{report}"
        n = len(point)
        assert len(report.rows) == 2 * (n + n * n)


@pytest.mark.parametrize("case", [c for c in CASES if c.kink_points], ids=lambda c: c.label)
def test_every_primitive_is_flagged_at_its_kinks(case):
    for point in case.kink_points:
        report = gradcheck(case.fn, point, order=2)
        assert report, str(report)           # kinks do not fail the check ...
        kinks = report.kinks                 # ... they are marked and reported
        assert kinks and all(r.ok for r in kinks)
        assert {r.order for r in kinks} >= {2}
        if case.kink_order == 1:
            first = [r for r in kinks if r.order == 1]
            assert {r.mode for r in first} == {"rev", "fwd"}
            assert first[0].input == 0  # the kink is in x, the first operand
            assert report.rows[0].kink and report.rows[0].ok
        else:
            assert not [r for r in kinks if r.order == 1]
        assert "at a kink" in str(report) and "one-sided" in str(report)


def test_kink_one_sided_values_are_reported():
    (row,) = gradcheck(lambda a: abs(a), [0.0], modes="rev").rows
    assert row.kink and row.ok and row.analytic == 0.0
    assert row.one_sided == pytest.approx((-1.0, 1.0), abs=1e-12)
    (row,) = gradcheck(lambda a: a.leaky_relu(0.2), [0.0], modes="fwd").rows
    assert row.kink and row.one_sided == pytest.approx((0.2, 1.0), abs=1e-12)
    assert row.analytic == 0.2  # the convention: the x <= 0 branch
    # a smooth point near (but not within a step of) the kink is checked normally
    (row,) = gradcheck(lambda a: a.relu(), [0.01], modes="rev").rows
    assert not row.kink and row.ok and row.abs_error < 1e-12


def test_a_wrong_convention_at_a_kink_is_marked_in_the_note():
    def bad_rule(x):
        v, _ = PRIMITIVES["relu"].rule(x)
        return v, (5.0,) if m.value_of(x) == 0.0 else PRIMITIVES["relu"].rule(x)[1]
    bad = _faulty("relu", bad_rule)
    (row,) = gradcheck(lambda a: apply(bad, a), [0.0], modes="rev").rows
    assert row.kink and "outside" in row.note


# ------------------------------------------------------------------ faulty derivatives

def test_wrong_derivative_is_caught_at_order_1():
    # d/dx sin x "= -cos x": a sign slip
    wrong = _faulty("sin", lambda x: (m.sin(x), (-m.cos(x),)))
    def f(a, b):
        return apply(wrong, a) * b
    report = gradcheck(f, [0.7, 1.3])
    assert not report
    assert {(r.input, r.mode) for r in report.failures} == {(0, "rev"), (0, "fwd")}
    text = str(report)
    assert text.startswith("gradcheck FAILED: 2 of 4") and "FAIL" in text
    (culprit,) = report.culprits  # the node, named with the line of f that made it
    assert culprit.primitive == "test_faulty_sin" and culprit.operands == (0.7,)
    assert culprit.got == pytest.approx(-math.cos(0.7)) and culprit.expected == pytest.approx(math.cos(0.7))
    assert culprit.source.endswith(f":{f.__code__.co_firstlineno + 1}")
    assert f"test_faulty_sin(0.7) at {culprit.source}" in text
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(f, [0.7, 1.3])
    assert str(info.value).endswith(text)
    assert "wrong" not in PRIMITIVES and all(not k.startswith("test_") for k in PRIMITIVES)


def _inject(name: str, k: int, rel: float) -> ag.Primitive:
    """``name`` with partial derivative ``k`` multiplied by (1 + rel)."""
    rule = PRIMITIVES[name].rule

    def faulty(*args):
        value, local = rule(*args)
        local = list(local)
        local[k] = local[k] * (1.0 + rel)
        return value, tuple(local)

    return _faulty(name, faulty)


def _with_prim(case, prim):
    """The case's function with its primitive swapped for ``prim``."""
    param = _case_param(case)
    if param is None:
        return lambda *xs: apply(prim, *xs)
    return lambda *xs: apply(prim, *xs, param=param)


def _case_param(case):
    point = case.points[0]
    node = case.fn(*[Value(x) for x in point])
    assert node.primitive is case.primitive
    return node.param


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_injected_relative_error_1e_5_in_any_partial_is_detected(case):
    """Acceptance: with the defaults, a 1e-5 relative error in one partial is caught."""
    checked = 0
    for point in case.points:
        analytic = _analytic(case, point)
        for k, a in enumerate(analytic):
            if abs(a) < 1e-2 or (case.name in ("dot", "sum") and abs(a) < 0.1):
                continue  # a zero partial has no relative error to inject
            fn = _with_prim(case, _inject(case.name, k, 1e-5))
            report = gradcheck(fn, point)
            assert not report, f"{case.label} at {point}, partial {k}\n{report}"
            assert {r.input for r in report.failures} == {k}
            assert {r.mode for r in report.failures} == {"rev", "fwd"}
            checked += 1
    assert checked > 0 or case.name in ("relu", "sign", "floor", "ceil")  # zero derivatives


def test_injected_error_in_a_multi_input_smooth_function():
    """One test-only primitive g(x, y, z) = e^x sin y + y z² + log(1 + z²)
    whose k-th partial is off by 1e-5 (relative) is caught for every k."""

    def rule_with(k: int, rel: float):
        def rule(x, y, z):
            ex, sy = m.exp(x), m.sin(y)
            value = ex * sy + y * z * z + m.log1p(z * z)
            local = [ex * sy, ex * m.cos(y) + z * z, 2.0 * y * z + m.div(2.0 * z, 1.0 + z * z)]
            local[k] = local[k] * (1.0 + rel)
            return value, tuple(local)
        return rule

    def make(k, rel):
        prim = dataclasses.replace(PRIMITIVES["add"], name="test_g", arity=3, rule=rule_with(k, rel))
        return lambda x, y, z: apply(prim, x, y, z)

    point = [0.4, -1.3, 0.8]
    assert gradcheck(make(0, 0.0), point, order=2)           # the correct one passes
    for k in range(3):
        report = gradcheck(make(k, 1e-5), point)
        assert not report and {r.input for r in report.failures} == {k}
        assert gradcheck(make(k, 1e-7), point)              # 1e-7 is below rtol = 1e-6
    assert "test_g" not in PRIMITIVES


def test_wrong_second_derivative_is_caught_at_order_2():
    """x³ with 3x² written as 3 * x * (x as a constant): right value, so order 1
    passes, but its own derivative is 3x instead of 6x."""

    def frozen(x, c):
        value, _ = PRIMITIVES["pow_const"].rule(x, c)
        return value, (c * x * m.value_of(x),)

    cube = _faulty("pow_const", frozen)
    f = lambda a, b: apply(cube, a, param=3.0) * b  # noqa: E731
    assert gradcheck(f, [1.3, 0.7], order=1)
    report = gradcheck(f, [1.3, 0.7], order=2)
    assert not report
    assert {(r.input, r.order) for r in report.failures} == {((0, 0), 2)}
    assert {r.mode for r in report.failures} == {"rev", "fwd"}
    bad = [r for r in report.failures if r.mode == "rev"][0]
    assert bad.analytic == pytest.approx(3 * 1.3 * 0.7, rel=1e-12)
    assert bad.numeric == pytest.approx(6 * 1.3 * 0.7, rel=1e-9)


def test_second_derivative_off_by_1e_5_is_caught_at_order_2():
    def off(x):
        value, (d,) = PRIMITIVES["tanh"].rule(x)
        if not isinstance(x, float):  # same value, derivative (1 + 1e-5) * tanh''
            x0 = m.value_of(x)
            t0 = math.tanh(x0)
            d = d + 1e-5 * (-2.0 * t0 * (1.0 - t0 * t0)) * (x - x0)
        return value, (d,)

    f = lambda a: apply(_faulty("tanh", off), a)  # noqa: E731
    assert gradcheck(f, [0.6], order=1)
    report = gradcheck(f, [0.6], order=2)
    assert not report and {r.order for r in report.failures} == {2}


def test_torch_style_tolerances_let_a_1e_3_error_through_and_gradcheck_does_not():
    """The bar from the issue: torch.autograd.gradcheck's eps=1e-6, atol=1e-5,
    rtol=1e-3 accept a derivative that is 0.1 % wrong; the defaults here do not."""
    wrong = _inject("mul", 0, 1e-3)
    f = lambda a, b: apply(wrong, a, b)  # noqa: E731
    point = [0.8, 1.7]
    leaves = [Value(0.8), Value(1.7)]
    analytic = [float(g) for g in gradients(f(*leaves), leaves)]
    numeric = numerical_grad(lambda a, b: a * b, point, method="central", eps=1e-6)
    torch_style_ok = all(abs(a - n) <= 1e-5 + 1e-3 * abs(n) for a, n in zip(analytic, numeric))
    assert torch_style_ok and analytic[0] != pytest.approx(numeric[0], rel=1e-4)
    report = gradcheck(f, point)
    assert not report and report.failures[0].rel_error == pytest.approx(1e-3, rel=1e-3)


def test_torch_gradcheck_itself_misses_the_1e_3_error():
    torch = pytest.importorskip("torch")
    wrong = _inject("mul", 0, 1e-3)

    class Mul(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            va, vb = Value(float(a)), Value(float(b))
            da, db = gradients(apply(wrong, va, vb), [va, vb])
            return g * da, g * db

    a = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(1.7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(Mul.apply, (a, b))       # torch lets it through
    assert not gradcheck(lambda x, y: apply(wrong, x, y), [0.8, 1.7])


# ------------------------------------------------------------------ assert_gradients_match

def test_assert_gradients_match_in_a_test_suite():
    report = assert_gradients_match(lambda w, x: (w * x).sigmoid(), [0.0, 1.0], order=2)
    assert report and isinstance(report, GradcheckReport)
    wrong = _inject("exp", 0, 1e-4)
    with pytest.raises(AssertionError, match="derivatives do not match") as info:
        assert_gradients_match(lambda x: apply(wrong, x), [0.5], modes=("rev",))
    msg = str(info.value)
    assert "gradcheck FAILED: 0 of 1" in msg and "\nx  " in msg and "FAIL" in msg  # f's parameter name
    with pytest.raises(ValueError, match="order"):
        assert_gradients_match(lambda x: x, [0.5], order=5)
