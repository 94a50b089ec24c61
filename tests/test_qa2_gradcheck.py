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

# x² with a derivative off by a relative 1e-7: caught by a strict rtol, not by 1e-5
_slightly_off = primitive("qa2_slightly_off_square", validate=False)(
    lambda x: (x * x, (2.0 * x * (1.0 + 1e-7),)))


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
