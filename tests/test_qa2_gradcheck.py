"""QA 2: gradcheck's options are honoured or refused, never silently dropped.

Class of bug: with array inputs, ``gradcheck`` handed only ``samples`` and
``allow_unused`` to the Tensor check, so ``atol``, ``rtol``, ``eps`` and
``method`` were silently replaced by the Tensor check's own (1e-6, 1e-5,
1e-6, central): ``gradcheck(f, [x], atol=0, rtol=1e-12)`` asked for a strict
check and PASSED a derivative off by 1e-7 (relative), and ``modes="sideways"``
was not even validated. Siblings: the same options through
``assert_gradients_match`` and the pytest fixture.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograd_core import Tensor, gradcheck, primitive, testing
from autograd_core import math as am
from autograd_core.derivatives.pytest_plugin import GradcheckFixture

from autograd_core import PRIMITIVES, apply


@pytest.fixture(autouse=True, scope="module")
def _rules():
    """Two wrong rules, registered only while this module runs (the package's
    own tests sweep every primitive of the table)."""
    before = set(PRIMITIVES)
    # x² with a derivative off by a relative 1e-7: caught by a strict rtol, not by 1e-5
    primitive("qa2_slightly_off_square", validate=False)(
        lambda x: (x * x, (2.0 * x * (1.0 + 1e-7),)))
    # x² whose rule forgot its derivative
    primitive("qa2_forgot_square", validate=False)(lambda x: (x * x, (0.0 * x,)))
    yield
    for name in set(PRIMITIVES) - before:
        del PRIMITIVES[name]


def _slightly_off(t):
    return PRIMITIVES["qa2_slightly_off_square"](t)


def _forgot(x):
    return PRIMITIVES["qa2_forgot_square"](x)


def _f(t):
    return _slightly_off(t).sum()


X = np.array([1.0, 2.0, -3.0])


def test_strict_tolerance_is_used_for_arrays():
    assert gradcheck(_f, [X])             # the Tensor defaults: 1e-7 relative passes
    rep = gradcheck(_f, [X], atol=0.0, rtol=1e-9)
    assert not rep, "a 1e-7 relative error passed a check with rtol=1e-9"


@pytest.mark.parametrize("check", [testing.assert_gradients_match, GradcheckFixture()],
                         ids=["assert_gradients_match", "fixture"])
def test_strict_tolerance_reaches_the_asserting_helpers(check):
    check(_f, [X])
    with pytest.raises(AssertionError):
        check(_f, [X], atol=0.0, rtol=1e-9)


def test_report_carries_the_tolerances_asked_for():
    rep = gradcheck(lambda t: (t * t).sum(), [X], atol=1e-3, rtol=1e-2)
    assert (rep.atol, rep.rtol) == (1e-3, 1e-2)


def test_eps_is_used_for_arrays():
    # a huge step makes the central difference of x³ wrong by eps²: it must show
    rep = gradcheck(lambda t: (t * t * t).sum(), [np.array([1.0])], eps=0.5)
    assert not rep
    assert rep.rows[0].numeric == pytest.approx(3.0 + 0.25)


@pytest.mark.parametrize(("kw", "match"), [
    ({"method": "richardson"}, "central"),
    ({"method": "forward"}, "central"),
    ({"modes": "sideways"}, "modes"),
    ({"modes": ()}, "modes"),
    ({"atol": -1.0}, "atol"),
    ({"rtol": float("nan")}, "rtol"),
    ({"eps": [1e-6, 1e-6]}, "eps"),
    ({"eps": 0.0}, "eps"),
])
def test_unsupported_or_bad_options_are_refused_for_arrays(kw, match):
    with pytest.raises(ValueError, match=match):
        gradcheck(lambda t: (t * t).sum(), [X], **kw)


def test_scalar_defaults_unchanged():
    rep = gradcheck(lambda x: x * x, [3.0])
    assert (rep.atol, rep.rtol, rep.method) == (1e-8, 1e-6, "richardson")
    rep = gradcheck(lambda t: (t * t).sum(), [Tensor(X)])
    assert (rep.atol, rep.rtol) == (1e-6, 1e-5)


# ---------------------------------------------------------------------------
# Class of bug: a relative tolerance of 1 or more swallows every derivative.
# A row passes when |analytic - numeric| <= atol + rtol·|numeric|; with rtol >= 1
# an analytic derivative of 0 (a rule that forgot the term) passes for every
# numeric value: ``gradcheck(lambda x: x * x, [3.0], rtol=1.5)`` PASSED a rule
# giving 0 -- and rtol=5 a rule off by a factor of 5 -- with no warning.

@pytest.mark.parametrize("rtol", [1.0, 1.5, 5.0, 1e6])
@pytest.mark.parametrize("check", [
    lambda rtol: gradcheck(lambda x: _forgot(x), [3.0], rtol=rtol),
    lambda rtol: gradcheck(lambda t: _forgot(t).sum(), [np.array([3.0])], rtol=rtol),
    lambda rtol: testing.check_grad(lambda x: x * x, lambda x: 0.0 * x, 3.0, rtol=rtol),
    lambda rtol: testing.assert_gradients_match(lambda x: _forgot(x), [3.0], rtol=rtol),
    lambda rtol: testing.gradients_match_everywhere(lambda x: _forgot(x), (1.0, 2.0),
                                                    examples=2, rtol=rtol),
], ids=["gradcheck", "gradcheck-array", "check_grad", "assert_gradients_match", "everywhere"])
def test_a_relative_tolerance_of_100_percent_or_more_is_refused(check, rtol):
    with pytest.raises(ValueError, match="rtol"):
        check(rtol)


def test_assert_module_gradients_refuses_rtol_of_one():
    import nn
    model = nn.MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match="rtol"):
        testing.assert_module_gradients(model, [[0.1, 0.2]], [1.0],
                                        loss=nn.quadratic,
                                        rtol=1.0)


def test_tensor_gradcheck_validates_its_tolerances():
    from autograd_core.tensor.check import tensor_gradcheck
    for kw in ({"rtol": 2.0}, {"rtol": -1.0}, {"atol": float("inf")}, {"atol": "1e-6"}):
        with pytest.raises(ValueError):
            tensor_gradcheck(lambda t: (t * t).sum(), [X], **kw)


def test_ordinary_relative_tolerances_still_work():
    assert gradcheck(lambda x: x * x, [3.0], rtol=0.5)
    assert not gradcheck(lambda x: _forgot(x), [3.0], rtol=0.5)


# ---------------------------------------------------------------------------
# Class of bug: an asserting helper PASSED a check in which every derivative,
# analytic and numeric, was exactly 0, so it compared nothing: a rule that
# forgot its derivative (returns 0) passed at x = 0 for x², and
# gradients_match_everywhere passed relu on (-5, -1). The report listed the
# inputs in ``zero`` but the assertion succeeded silently. Now the asserting
# helpers fail such a check (``allow_zero=True`` to accept it); gradcheck's
# report stays truthy but its summary says "vacuous".

def _square_forgot(x):
    return _forgot(x)


@pytest.mark.parametrize("check", [
    lambda **kw: testing.assert_gradients_match(_square_forgot, [0.0], **kw),
    lambda **kw: testing.assert_gradients_match(lambda x: x * 0.0, [1.5], **kw),
    lambda **kw: GradcheckFixture()(lambda x, y: (x * y) * 0.0, [1.0, 2.0], **kw),
    lambda **kw: testing.gradients_match_everywhere(lambda x: x.relu(), (-5.0, -1.0),
                                                    examples=5, **kw),
    lambda **kw: GradcheckFixture().everywhere(lambda x: x.floor(), (0.1, 0.9), examples=5, **kw),
    lambda **kw: GradcheckFixture().grad(lambda x: 1.0, lambda x: 0.0 * x,
                                         np.array([1.0, 2.0]), **kw),
    lambda **kw: testing.assert_gradients_match(lambda t: (t * 0.0).sum(), [X], **kw),
    lambda **kw: GradcheckFixture()(lambda t: (t.relu() * 2.0).sum(), [-X - 5.0], **kw),
], ids=["forgot-square-at-0", "times-0", "fixture", "everywhere-relu", "fixture-everywhere",
        "fixture-grad-constant", "array-times-0", "array-dead-relu"])
def test_a_check_where_every_derivative_is_zero_fails(check):
    with pytest.raises(AssertionError, match="vacuous"):
        check()
    check(allow_zero=True)  # when intended


def test_assert_module_gradients_with_every_gradient_zero_fails():
    import nn
    model = nn.MLP(2, [2, 1], activation="relu", seed=0)
    # a loss that multiplies the output by 0: every parameter is used, every gradient is 0
    with pytest.raises(AssertionError, match="vacuous"):
        testing.assert_module_gradients(model, [[0.1, 0.2]], [0.0],
                                        loss=lambda o, t: (o[0] if isinstance(o, list) else o) * 0.0)
    testing.assert_module_gradients(model, [[0.1, 0.2]], [0.0], allow_zero=True,
                                    loss=lambda o, t: (o[0] if isinstance(o, list) else o) * 0.0)


def test_zero_first_derivative_with_a_second_derivative_is_not_vacuous():
    testing.assert_gradients_match(lambda x: x * x, [0.0], order=2)
    with pytest.raises(AssertionError, match="vacuous"):
        testing.assert_gradients_match(lambda x: x * x, [0.0])


def test_gradcheck_report_says_vacuous_but_stays_a_report():
    rep = gradcheck(lambda x: x * 0.0, [1.0])
    assert rep and rep.vacuous
    assert "vacuous" in rep.summary()
    rep = gradcheck(lambda t: (t * 0.0).sum(), [X])
    assert rep and rep.vacuous and "vacuous" in rep.summary()
    rep = gradcheck(lambda t: (t * t).sum(), [X])
    assert rep and not rep.vacuous and "vacuous" not in rep.summary()
    rep = gradcheck(lambda x: x * 2.0, [1.0])
    assert rep and not rep.vacuous and "vacuous" not in rep.summary()


# ---------------------------------------------------------------------------
# Class of bug: where f jumps (floor at 1, sign at 0) or its slope diverges, the
# one-sided finite differences have no limit; gradcheck marked the rows "kink",
# passed them whatever the analytic value (nan included) and printed the
# non-converged estimates as one-sided derivatives with "analytic is outside
# them" next to "ok" (floor at 1: "one-sided 24 | 0"). Nothing was compared, yet
# the summary read "2 of 2 derivatives match". Now such rows say so ("no
# one-sided limit ... not compared"), the summary counts them apart, and a check
# that compared nothing at all is vacuous (asserting helpers fail unless
# allow_zero=True).

@pytest.mark.parametrize(("f", "x"), [(lambda x: x.floor(), 1.0), (lambda x: x.sign() * 3.0, 0.0),
                                      (lambda x: x.ceil() + x.floor(), 2.0)])
def test_rows_where_f_jumps_are_not_claimed_as_compared(f, x):
    rep = gradcheck(f, [x])
    text = str(rep)
    assert "outside them" not in text
    assert all(not r.compared and "not compared" in r.note for r in rep.rows)
    assert "0 of 2 derivatives match, 2 not compared (no one-sided limit)" in rep.summary()
    assert rep.vacuous
    with pytest.raises(AssertionError, match="vacuous"):
        testing.assert_gradients_match(f, [x])
    testing.assert_gradients_match(f, [x], allow_zero=True)


def test_nan_analytic_at_a_jump_is_not_reported_as_matching():
    import math as _m
    rule = primitive("qa2_nan_floor", validate=False)(
        lambda x: ((float(_m.floor(x)), (_m.nan,)) if isinstance(x, float)
                   else (x.floor(), (_m.nan,))))
    try:
        rep = gradcheck(lambda x: rule(x), [1.0])
        assert "0 of 2 derivatives match, 2 not compared" in rep.summary()
        assert all(not r.compared for r in rep.rows)
    finally:
        PRIMITIVES.pop("qa2_nan_floor", None)


def test_ordinary_kinks_are_still_compared_to_the_one_sided_limits():
    rep = gradcheck(lambda x: x.relu(), [0.0])
    assert rep and all(r.kink and r.compared for r in rep.rows)
    assert "one-sided 0 | 1" in str(rep)
    assert not rep.vacuous
