"""QA: primitive validation refuses rules that are wrong in only part of their
domain, and does not refuse right ones.

Class of bug: ``validate_primitive`` checked 3 points of [-2.6, 2.3] and kinks
at 0 only, so a rule wrong for x > 2.5, for x < -2, in its second derivative
for |x| > 2, with an undeclared corner at x = 1 or a jump at x = 0.5 was
accepted; and a right rule with a domain edge at 0 (sqrt) was refused.
"""

from __future__ import annotations

import pytest

from autograd_core import PRIMITIVES, Value, gradients, primitive
from autograd_core import math as am


@pytest.fixture(autouse=True)
def _clean_table():
    before = set(PRIMITIVES)
    yield
    for name in set(PRIMITIVES) - before:
        del PRIMITIVES[name]


def wrong_far(x):
    if x > 2.5:
        return am.sin(x), (1.1 * am.cos(x),)
    return am.sin(x), (am.cos(x),)


def wrong_negative_tail(x):
    return am.exp(x), (am.exp(x) * (1.0 if x > -2.0 else 2.0),)


def wrong_second_far(x):
    x0 = am.value_of(x)
    k = 0.2 if x0 > 2.0 or x0 < -2.0 else 0.0
    return am.sin(x), (am.cos(x) + k * (x - x0),)


def wrong_between_grid_points(x):
    if 6.2 < x < 6.4:
        return am.sin(x), (am.cos(x) * 1.001,)
    return am.sin(x), (am.cos(x),)


def wrong_far_high_frequency(x):
    # 0.5 % off for x > 5 on a fast oscillation (plain central differences there are
    # noisier than that near |x| = 10: the scan must still find it)
    if x > 5.0:
        return am.sin(100.0 * x), (100.5 * am.cos(100.0 * x),)
    return am.sin(100.0 * x), (100.0 * am.cos(100.0 * x),)


def corner_at_one(x):
    if x > 1.0:
        return 2.0 * x - 1.0, (2.0,)
    return x, (1.0,)


def jump_at_half(x):
    if x > 0.5:
        return x + 1.0, (1.0,)
    return x, (1.0,)


def wrong_dy_for_negative_y(x, y):
    return x * y, (y, x if y > 0.0 else 1.01 * x)


@pytest.mark.parametrize("rule,kw,match", [
    (wrong_far, {}, "disagrees with finite differences"),
    (wrong_negative_tail, {}, "disagrees with finite differences"),
    (wrong_second_far, {}, "order 2"),
    (wrong_between_grid_points, {}, "disagrees with finite differences at x = 6.[23]"),
    (wrong_far_high_frequency, {}, "disagrees with finite differences at x = [5-9]"),
    (corner_at_one, {}, "not differentiable at x = 1 .*kinks= does not declare"),
    (jump_at_half, {}, "not differentiable at x = 0.5 .*kinks= does not declare"),
    (wrong_dy_for_negative_y, {"arity": 2}, "disagrees with finite differences"),
], ids=lambda v: getattr(v, "__name__", ""))
def test_a_rule_wrong_in_part_of_its_domain_is_refused(rule, kw, match):
    with pytest.raises(ValueError, match=match):
        primitive(rule.__name__, **kw)(rule)
    # and it really is wrong there: what validation protects users from
    prim = primitive(rule.__name__ + "_unchecked", validate=False, **kw)(rule)
    assert prim.name in PRIMITIVES


def my_sqrt(x):
    y = am.sqrt(x)
    return y, (am.div(0.5, y),)


def my_tan(x):
    t = am.tan(x)
    return t, (1.0 + t * t,)


def my_recip(x):
    q = am.div(1.0, x)
    return q, (-(q * q),)


def steep(x):
    t = am.tanh(30.0 * x)
    return t, (30.0 * (1.0 - t * t),)


def fast_oscillation(x):
    return am.sin(100.0 * x), (100.0 * am.cos(100.0 * x),)


def my_max(x, y):
    if x > y:
        return x, (1.0, 0.0)
    if x < y:
        return y, (0.0, 1.0)
    return x, (0.5, 0.5)


def my_clip(x, b):
    if x < b:
        return x, (1.0,)
    return 0.0 * x + b, (0.0,)


@pytest.mark.parametrize("rule,kw", [
    (my_sqrt, {"check": lambda x: ValueError("sqrt of a negative number") if x < 0 else None}),
    (my_tan, {}),
    (my_recip, {"check": lambda x: ZeroDivisionError("1/0") if x == 0 else None}),
    (steep, {}),
    (fast_oscillation, {}),
    (my_max, {"arity": 2}),
    (my_clip, {"param": "b", "example_param": 1.5}),
], ids=lambda v: getattr(v, "__name__", ""))
def test_right_rules_with_edges_poles_and_steep_parts_are_accepted(rule, kw):
    prim = primitive("ok_" + rule.__name__, **kw)(rule)
    x = Value(0.7)
    y = prim(x, Value(0.2)) if prim.arity == 2 else (
        prim(x, param=1.5) if prim.has_param else prim(x))
    assert gradients(y, [x])[0] == pytest.approx(rule(0.7, *([0.2] if prim.arity == 2 else [1.5]
                                                            if prim.has_param else []))[1][0])
