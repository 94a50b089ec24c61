"""QA: a gradcheck PASS that holds only through atol says so.

Class of bug: |analytic - numeric| <= atol + rtol·|numeric| lets any
derivative below atol pass: a rule off by a factor of 2 in a function scaled
by 1e-9 printed "PASSED" (rel err 50 %) with no warning.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograd_core import PRIMITIVES, gradcheck, primitive, testing
from autograd_core import math as am


@pytest.fixture(autouse=True)
def _clean_table():
    before = set(PRIMITIVES)
    yield
    for name in set(PRIMITIVES) - before:
        del PRIMITIVES[name]


@pytest.fixture
def double_sin():
    def rule(x):
        return am.sin(x), (2.0 * am.cos(x),)
    return primitive("qa_double_sin", validate=False)(rule)


@pytest.mark.parametrize("order", [1, 2])
def test_a_pass_only_through_atol_is_flagged(double_sin, order):
    report = gradcheck(lambda x: double_sin(x) * 1e-9, [0.3], order=order)
    assert report.ok  # the tolerance lets it through ...
    assert report.weak and all(r.name.startswith("x") for r in report.weak)
    assert "pass only through atol=1e-08" in str(report)  # ... but the report says so
    assert "50%" in str(report) or order == 2
    # a tighter atol makes the same check fail
    assert not gradcheck(lambda x: double_sin(x) * 1e-9, [0.3], atol=0.0, order=order)


def test_right_small_derivatives_are_not_flagged():
    report = gradcheck(lambda x, y: (x * y).sin() * 1e-9 + y.exp() * 1e-12, [0.3, -1.2], order=2)
    assert report.ok and not report.weak
    assert "pass only through atol" not in str(report)


def test_check_grad_flags_a_tiny_wrong_gradient():
    report = testing.check_grad(lambda x: float(np.sum(x ** 2)) * 1e-10,
                                lambda x: 3.0 * x * 1e-10, np.array([1.0, 2.0]))
    assert report.ok and [r.name for r in report.weak] == ["x[0]", "x[1]"]
    assert "pass only through atol" in str(report)
