"""A suite of deliberately wrong primitive rules: each one is refused when it is
defined (naming the rule and, for a float escape, the offending call), and,
defined with ``validate=False``, caught by ``gradcheck`` of a composite
function with the culprit node named (primitive, operands, source line)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_core as ac
from autograd_core import PRIMITIVES, Value, gradcheck
from autograd_core import math as am
from autograd_core.primitives import primitive


@pytest.fixture(autouse=True)
def _clean_table():
    """Primitives registered by a test are removed after it (the table is global)."""
    before = set(PRIMITIVES)
    yield
    for name in set(PRIMITIVES) - before:
        del PRIMITIVES[name]


# ------------------------------------------------------------------ the wrong rules
# each: (name, rule, kwargs for primitive(), a point where a composite is checked, order)

def sign_flip(x):
    return am.sin(x), (-am.cos(x),)


def wrong_factor(x):
    return x * x * x, (2.0 * x * x,)


def math_exp_value(x):
    y = math.exp(x)
    return y, (y,)


def math_exp_derivative(x):
    return am.exp(x), (math.exp(x),)


def float_escape(x):
    return am.tanh(x), (1.0 - float(am.tanh(x)) ** 2,)


def wrong_second(x):
    # the first derivative is right at the point, its own derivative is off by 0.1
    x0 = am.value_of(x)
    return am.sin(x), (am.cos(x) + 0.1 * (x - x0),)


def partial_math_escape(x):
    # value right, derivative x*e^x + e^x with e^x escaped: the second derivative is wrong
    return x * am.exp(x), (x * math.exp(am.value_of(x)) + am.exp(x),)


def relu_conv_two(x):
    if x > 0.0:
        return x, (1.0,)
    if x < 0.0:
        return 0.0 * x, (0.0,)
    return 0.0 * x, (2.0,)       # relu'(0) = 2: not between the one-sided 0 and 1


def abs_conv_minus_two(x):
    if x > 0.0:
        return x, (1.0,)
    if x < 0.0:
        return -x, (-1.0,)
    return 0.0 * x, (-2.0,)      # outside [-1, 1]


def undeclared_kink(x):
    if x > 0.0:
        return x, (1.0,)
    return 0.0 * x, (0.0,)


def rel_error(rel):
    def rule(x):
        y = am.exp(x)
        return y, (y * (1.0 + rel),)
    rule.__name__ = rule.__qualname__ = f"exp_off_by_{rel:g}"
    return rule


RELS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)

WRONG = [
    ("sign_flip", sign_flip, {}, 0.7, 1),
    ("wrong_factor", wrong_factor, {}, 0.8, 1),
    ("math_exp_value", math_exp_value, {}, 0.3, 2),
    ("math_exp_derivative", math_exp_derivative, {}, 0.3, 2),
    ("float_escape", float_escape, {}, 0.4, 2),
    ("wrong_second", wrong_second, {}, 0.6, 2),
    ("partial_math_escape", partial_math_escape, {}, 0.5, 2),
    ("relu_conv_two", relu_conv_two, {"kinks": (0.0,), "convention": "relu'(0) = 2"}, 0.0, 1),
    ("abs_conv_minus_two", abs_conv_minus_two, {"kinks": (0.0,), "convention": "abs'(0) = -2"},
     0.0, 1),
] + [(f"rel_{i}", rel_error(r), {}, 0.4, 1) for i, r in enumerate(RELS)]

FLOAT_CALLS = {"math_exp_value": "math.exp(x)", "math_exp_derivative": "math.exp(x)",
               "float_escape": "float(am.tanh(x))",
               "partial_math_escape": "math.exp(am.value_of(x))"}


@pytest.mark.parametrize("name,rule,kw,point,order", WRONG, ids=[w[0] for w in WRONG])
def test_a_wrong_rule_is_refused_at_definition(name, rule, kw, point, order):
    with pytest.raises((TypeError, ValueError)) as info:
        primitive(name, **kw)(rule)
    msg = str(info.value)
    assert f"primitive {name!r}: rule {rule.__qualname__} (" in msg
    assert f"{__file__}:{rule.__code__.co_firstlineno})" in msg
    if name in FLOAT_CALLS:
        line = next(i for i, text in enumerate(open(__file__), 1)
                    if FLOAT_CALLS[name] in text and i > rule.__code__.co_firstlineno)
        assert f"`{FLOAT_CALLS[name]}` at line {line}" in msg
    assert name not in PRIMITIVES


def test_the_relative_errors_down_to_1e_6_are_all_refused():
    caught = 0
    for rel in RELS:
        with pytest.raises(ValueError, match="disagrees with finite differences at order 1"):
            primitive(f"off_{caught}")(rel_error(rel))
        caught += 1
    assert caught == 5


def test_an_undeclared_kink_is_refused():
    with pytest.raises(ValueError, match="not differentiable at x = 0 .* kinks= does not declare"):
        primitive("undeclared_kink")(undeclared_kink)
    with pytest.raises(ValueError, match="no convention="):
        primitive("no_convention", kinks=(0.0,))(undeclared_kink)
    ok = primitive("my_relu", kinks=(0.0,), convention="my_relu'(0) = 0")(undeclared_kink)
    assert ok(Value(2.0)).data == 2.0


@pytest.mark.parametrize("name,rule,kw,point,order", WRONG, ids=[w[0] for w in WRONG])
def test_a_wrong_rule_in_a_composite_is_named_by_gradcheck(name, rule, kw, point, order):
    prim = primitive(name, validate=False, **kw)(rule)

    def f(a, b):
        return prim(a * 1.0) * b + b.tanh()

    report = gradcheck(f, [point, 1.3], order=order, atol=1e-10, rtol=1e-8)
    assert not report
    first = report.culprits[0]
    assert first.primitive == name and first.operands == (point,)
    assert first.source.endswith(f"test_wrong_rules.py:{f.__code__.co_firstlineno + 1}")
    assert f"{name}({point:.12g}) at {first.source}" in str(report)
    assert first.order == order and first.got != pytest.approx(first.expected, rel=1e-9)


def test_a_correct_rule_passes_and_gives_no_culprit():
    @primitive("my_softsign")  # the table has its own softsign; names are unique
    def softsign(x):
        """x / (1 + |x|)"""
        d = 1.0 + abs(x)
        return am.div(x, d), (am.div(1.0, d * d),)

    assert PRIMITIVES["my_softsign"] is softsign and softsign.doc == "x / (1 + |x|)"
    report = gradcheck(lambda a, b: softsign(a * b), [0.7, -1.2], order=2)
    assert report and report.culprits == []
    x = Value(0.5)
    y = softsign(x)
    y.backward()
    assert y.data == pytest.approx(1 / 3) and x.grad == pytest.approx(1 / 2.25)
    assert ac.explain(y).to_text()  # runs on symbols too
    # and elementwise on Tensors (the rule run on arrays), with the same derivatives
    t = ac.Tensor(np.array([-1.0, 0.5, 2.0]))
    out = softsign(t)
    out.sum().backward()
    assert np.allclose(out.data, [-0.5, 1 / 3, 2 / 3]) and np.allclose(t.grad, [0.25, 1 / 2.25, 1 / 9])
    assert gradcheck(lambda a: softsign(a * 2.0).sum(), [np.array([-1.0, 0.3, 2.0])])


def test_the_culprit_is_not_blamed_on_a_correct_node_when_the_graph_is_cut():
    report = gradcheck(lambda a: Value(a.data) * a, [0.7])
    assert not report and report.culprits == []
    assert "graph itself is wrong" in str(report)


@pytest.mark.parametrize("bad", ["bad name", "1x", "a-b", "x;y", "é" * 2 + "<b>", "", "a" * 65])
def test_a_name_that_is_not_an_identifier_like_word_is_refused(bad):
    with pytest.raises(ValueError, match="not a plain identifier-like word"):
        primitive(bad)
    with pytest.raises(TypeError, match="must be a str"):
        primitive(3)


def test_a_parameter_needs_an_example_value_and_a_duplicate_is_refused():
    def scaled(x, c):
        return x * c, (c,)
    with pytest.raises(TypeError, match="example_param"):
        primitive("scaled", param="c")(scaled)
    prim = primitive("scaled", param="c", example_param=2.5)(scaled)
    assert prim(Value(2.0), param=3.0).data == 6.0
    with pytest.raises(ValueError, match="defined twice"):
        primitive("scaled", param="c", example_param=2.5)(scaled)
    with pytest.raises(ValueError, match="defined twice"):
        primitive("exp")(sign_flip)


def test_a_rule_that_disagrees_on_arrays_is_refused():
    def shaky(x):
        # on floats the branch is taken per number; on arrays `x.data` is the array itself,
        # so this type test takes the other branch for every element
        if isinstance(am.value_of(x), float):
            return am.sin(x), (am.cos(x),)
        return am.sin(x) * 1.0, (am.cos(x) * 1.5,)
    with pytest.raises(TypeError, match="gives .* on arrays but .* on floats for its derivative"):
        primitive("shaky", validate=True)(shaky)


def test_the_public_math_module_reexports_private_math():
    from autograd_core import _math
    assert "exp" in am.__all__ and "math" not in am.__all__ and am.exp is _math.exp
    assert am.log(-1.0) != am.log(-1.0) and am.exp(1000.0) == math.inf


@pytest.mark.parametrize(("name", "rule", "example"), [
    # the derivative uses 1/c where the value uses c: equal at c = 1 only
    ("wrong_inverse", lambda x, c: (x * c, (am.div(1.0, c),)), 1.0),
    # c² for c: equal at c = 1 (and 0)
    ("wrong_square", lambda x, c: (x * c, (c * c,)), 1.0),
    # the parameter left out of the derivative: right at c = 1 only
    ("wrong_missing", lambda x, c: (am.exp(x * c), (am.exp(x * c),)), 1.0),
    # c² + 1 for c + 1: equal at c = 0 and 1; with example 0 the others are 0.5 and 1.5
    ("wrong_at_zero", lambda x, c: (x * (c + 1.0), (c * c + 1.0,)), 0.0),
])
def test_a_rule_wrong_only_in_how_its_parameter_enters_is_refused(name, rule, example):
    """An example parameter where the wrong rule happens to agree (1.0 above all)
    does not hide it: the derivatives are also checked at two other values."""
    with pytest.raises(ValueError, match=f"parameter c = .* example_param = {example!r}"):
        primitive(name, param="c", example_param=example)(rule)
    assert name not in ac.PRIMITIVES


def test_a_right_rule_with_a_parameter_passes_at_every_value():
    def shifted_exp(x, c):
        e = am.exp(x * c)
        return e, (c * e,)
    prim = primitive("shifted_exp_ok", param="c", example_param=1.0)(shifted_exp)
    assert prim(Value(0.5), param=2.0).data == pytest.approx(math.exp(1.0))
