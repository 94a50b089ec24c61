"""QA: derivatives stay right at the ends of the float range.

Class of bug: a derivative formula with an intermediate that under- or
overflows while the true derivative is an ordinary float. ``-x/y²`` (div,
c/x) gave -inf for x = 1e-300, y = 1e-200 (true -1e100) and 0 for
x = y = 1e200 (true -1e-200), and so the second derivatives of hypot and
arctan2 near the origin; swish's derivative was nan past beta·x > 1e308
(inf · 0); softplus(beta=2) was inf at x = 1e200 (true 1e200).
Oracle: exact rational arithmetic (fractions) rounded once.
"""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_core import Value, gradients

WIDE = st.builds(lambda s, m, e: s * m * 2.0 ** e, st.sampled_from([-1.0, 1.0]),
                 st.floats(1.0, 2.0), st.integers(-990, 1000))


def _exact(q: Fraction) -> float:
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def _ulps_close(got: float, want: float, ulps: int = 4) -> bool:
    if math.isinf(want) or math.isinf(got):
        return got == want
    if abs(want) < 1e-300:  # near the subnormals: absolute
        return abs(got - want) <= 1e-300
    return abs(got - want) <= ulps * math.ulp(want)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(WIDE, WIDE)
def test_quotient_derivatives_are_the_rounded_exact_ones(x, y):
    X, Y = Value(x), Value(y)
    q = X / Y
    if math.isinf(q.data) or q.data == 0.0:
        return
    dx, dy = gradients(q, [X, Y])
    assert _ulps_close(dx, _exact(1 / Fraction(y)))
    assert _ulps_close(dy, _exact(-Fraction(x) / Fraction(y) ** 2)), (x, y, dy)
    (dc,) = gradients(3.0 / Y, [Y])
    assert _ulps_close(dc, _exact(-3 / Fraction(y) ** 2)), (y, dc)


def test_quotient_reproductions():
    x, y = Value(1e-300), Value(1e-200)
    assert gradients(x / y, [x, y]) == [1e200, -1e100]  # was [1e200, -inf]
    x, y = Value(1e200), Value(1e200)
    assert gradients(x / y, [x, y]) == [1e-200, -1e-200]  # was [1e-200, 0.0]
    z = Value(1e160)
    assert gradients(1e160 / z, [z]) == [-1e-160]


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.integers(-300, -150), st.floats(0.1, 1.0), st.floats(0.1, 1.0), st.booleans())
def test_hypot_and_arctan2_second_derivatives_near_the_origin(e, a, b, flip):
    # operands of comparable size (else 1/h - x²/h³ cancels, in any engine)
    x, y = a * 10.0 ** e, (-b if flip else b) * 10.0 ** e
    X, Y = Value(x), Value(y)
    gx, gy = gradients(X.hypot(Y), [X, Y], create_graph=True)
    (hxx, hxy), (_, hyy) = gradients(gx, [X, Y]), gradients(gy, [X, Y])
    h3 = Fraction(math.hypot(x, y)) ** 3  # d²h/dx² = y²/h³, d²h/dxdy = -xy/h³, d²h/dy² = x²/h³
    for got, want in ((hxx, Fraction(y) ** 2 / h3), (hxy, -Fraction(x) * Fraction(y) / h3),
                      (hyy, Fraction(x) ** 2 / h3)):
        assert math.isclose(got, _exact(want), rel_tol=1e-9), (x, y, got, float(want))
    ay, ax = gradients(Y.arctan2(X), [Y, X])
    r2 = Fraction(x) ** 2 + Fraction(y) ** 2
    assert math.isclose(ay, _exact(Fraction(x) / r2), rel_tol=1e-12)
    assert math.isclose(ax, _exact(-Fraction(y) / r2), rel_tol=1e-12)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.floats(1e5, 1.7e308), st.sampled_from([0.5, 1.0, 2.0, 1e10]))
def test_swish_and_softplus_beta_at_huge_inputs(x, beta):
    X = Value(x)
    (g,) = gradients(X.swish(beta), [X], create_graph=True)
    assert getattr(g, "data", g) == 1.0
    assert not isinstance(g, Value) or gradients(g, [X]) == [0.0]  # was nan
    s = X.softplus(beta=beta)
    assert math.isclose(s.data, x, rel_tol=4e-16) and gradients(s, [X]) == [1.0]
    (g,) = gradients((-X).swish(beta), [X])
    assert g == 0.0
