"""The safe expression parser: grammar, graph shape, errors, hostile input."""

from __future__ import annotations

import math
import re
import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autograd_core import Value, gradients, parse
from autograd_core.parser import FUNCTIONS, MAX_DEPTH, MAX_LENGTH
from expr_strategies import ENVS, EXPRESSIONS, reference


def val(expr: str, **values: float) -> float:
    return parse(expr, **values)[0].data


# ------------------------------------------------------------------ grammar

@pytest.mark.parametrize("expr, expected", [
    ("1", 1.0), ("1e-3", 0.001), ("1.5E+2", 150.0), (".5", 0.5), ("2.", 2.0),
    ("2 + 3 * 4", 14.0), ("(2 + 3) * 4", 20.0), ("2 - 3 - 4", -5.0), ("8 / 4 / 2", 1.0),
    ("2 ** 3 ** 2", 512.0), ("2 ^ 3 ^ 2", 512.0), ("(2 ** 3) ** 2", 64.0),
    ("-2 ** 2", -4.0), ("(-2) ** 2", 4.0), ("2 ** -1", 0.5), ("-x ** 2", -9.0),
    ("-x^2", -9.0), ("--x", 3.0), ("+x", 3.0), ("- - -x", -3.0), ("2*-x", -6.0),
    ("x ** 2 * 2", 18.0), ("2 * x ** 2", 18.0), ("1/(exp(-(x*w+b))+1)", 1 / (math.exp(-3.5) + 1)),
    ("sqrt(x*x)", 3.0), ("abs(-x)", 3.0), ("relu(-x)", 0.0), ("relu(x)", 3.0),
    ("exp(log(x))", math.exp(math.log(3.0))), ("sin(x)**2 + cos(x)**2", math.sin(3) ** 2 + math.cos(3) ** 2),
    ("tanh(w)", math.tanh(1.0)), ("sigmoid(0)", 0.5), ("softplus(0)", math.log(2)),
    ("expm1(0)", 0.0), ("log1p(0)", 0.0), ("erf(0)", 0.0), ("erfc(0)", 1.0),
    ("\tx\n+ 1 ", 4.0),
])
def test_values_follow_python_precedence(expr, expected):
    assert val(expr, x=3.0, w=1.0, b=0.5) == pytest.approx(expected, rel=1e-15, abs=1e-300)


def test_seed_expression_builds_the_seed_graph():
    out, inputs = parse("1/(exp(-(x*w+b))+1)", x=1, w=0, b=0)
    assert list(inputs) == ["x", "w", "b"]
    assert all(inputs[n].label == n and inputs[n].is_leaf for n in inputs)
    # walk down from the output: rdiv_const(1) <- add_const(1) <- exp <- neg <- add <- mul
    chain = []
    n = out
    while not n.is_leaf:
        chain.append((n.op, n.param))
        n = n.parents[0]
    assert chain == [("rdiv_const", 1.0), ("add_const", 1.0), ("exp", None), ("neg", None),
                     ("add", None), ("mul", None)]
    assert out.data == 0.5
    assert gradients(out, [inputs["w"], inputs["b"], inputs["x"]]) == [0.25, 0.25, 0.0]


def test_a_variable_is_one_leaf_however_often_it_is_used():
    out, inputs = parse("x*x", x=3)
    assert out.parents == (inputs["x"], inputs["x"])
    assert gradients(out, [inputs["x"]]) == [6.0]


def test_constants_fold_and_become_parameters():
    out, _ = parse("x * (2*3)", x=1)
    assert out.op == "mul_const" and out.param == 6.0
    out, _ = parse("2 - x", x=1)
    assert out.op == "rsub_const" and out.param == 2.0
    out, _ = parse("2 ** x", x=1)
    assert out.op == "rpow_const" and out.param == 2.0
    out, inputs = parse("2 + 3")
    assert out.is_leaf and out.data == 5.0 and inputs == {}


def test_unused_values_are_still_inputs_and_values_may_be_values():
    w = Value(2.0, "w")
    h = w * 3
    out, inputs = parse("h + y", h=h, y=1, unused=4)
    assert list(inputs) == ["h", "y", "unused"]
    assert inputs["h"] is h and inputs["unused"].label == "unused"
    assert gradients(out, [w]) == [3.0]


@pytest.mark.parametrize("expr, method", [
    ("leaky_relu(x, negative_slope=0.2)", lambda v: v.leaky_relu(0.2)),
    ("leaky_relu(x, 0.2)", lambda v: v.leaky_relu(0.2)),
    ("leaky_relu(x)", lambda v: v.leaky_relu()),
    ("elu(x, alpha=0.5)", lambda v: v.elu(0.5)),
    ("elu(x, alpha=1/2)", lambda v: v.elu(0.5)),
    ("swish(x, beta=2)", lambda v: v.swish(2.0)),
    ("swish(x)", lambda v: v.swish()),
    ("gelu(x)", lambda v: v.gelu()),
    ("gelu(x, approximate=tanh)", lambda v: v.gelu("tanh")),
    ("gelu(x, approximate='tanh')", lambda v: v.gelu("tanh")),
    ('gelu(x, approximate="sigmoid")', lambda v: v.gelu("sigmoid")),
    ("gelu(x, approximate=none)", lambda v: v.gelu("none")),
    ("sigmoid(x)", lambda v: v.sigmoid()),
    ("softplus(x)", lambda v: v.softplus()),
])
def test_functions_match_the_value_methods(expr, method):
    for x in (-1.3, 0.0, 0.7):
        out, inputs = parse(expr, x=x)
        ref = method(Value(x, "x"))
        assert out.op == ref.op and out.param == ref.param
        assert out.data == ref.data
        assert out.local_grads == ref.local_grads


def test_prelu_with_a_variable_slope_has_two_operands():
    out, inputs = parse("prelu(x, a)", x=-2, a=0.1)
    assert out.op == "prelu" and out.parents == (inputs["x"], inputs["a"])
    assert gradients(out, [inputs["x"], inputs["a"]]) == [0.1, -2.0]
    assert parse("prelu(x, alpha=0.3)", x=-1)[0].data == pytest.approx(-0.3)


def test_unicode_names_are_variables():
    assert val("α * 2", **{"α": 1.5}) == 3.0


# ------------------------------------------------------------------ against Python's math

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS, ENVS)
def test_random_expressions_match_python_math(expr, env):
    text, f = expr
    status, expected = reference(f, env)
    assume(status != "overflow")
    if status == "error":
        try:
            got = parse(text, **env)[0].data
        except ValueError:
            return
        # math raises for sin/cos of an infinity the engine turns into nan
        assume(not math.isfinite(got))
        return
    got = parse(text, **env)[0].data
    if math.isnan(expected):
        assert math.isnan(got), text
    else:
        assert got == expected, text  # the same float operations: bit for bit


def test_sigmoid_family_matches_python_math():
    for x in (-30.0, -2.5, -0.1, 0.0, 0.3, 4.0, 40.0):
        assert val("sigmoid(x)", x=x) == pytest.approx(1 / (1 + math.exp(-x)), rel=1e-14)
        assert val("softplus(x)", x=x) == pytest.approx(math.log1p(math.exp(x)), rel=1e-14)
        assert val("swish(x, beta=1.5)", x=x) == pytest.approx(x / (1 + math.exp(-1.5 * x)), rel=1e-14)


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("expr, what, column", [
    ("x + * y", "expected a number, a name or '('", 5),
    ("x y", "unexpected name 'y'", 3),
    ("2x", "unexpected name 'x'", 2),
    ("(x", "never closed", 1),
    ("x)", "unmatched ')'", 2),
    ("x + y", "no value given for 'y'", 5),
    ("foo(x)", "unknown function 'foo'", 1),
    ("exp", "'exp' is a function", 1),
    ("exp(x, x)", "takes 1 argument", 1),
    ("exp()", "takes 1 argument", 1),
    ("log(x - 3)", "logarithm of zero", 1),
    ("x / (x - 3)", "division by zero", 3),
    ("sqrt(-x)", "square root of a negative", 1),
    ("(-x) ** 0.5", "negative base", 6),
    ("x.real", "attribute access", 2),
    ("x[0]", "subscripts", 2),
    ("x = 1", "'=' is only allowed", 3),
    ("1e400", "too large", 1),
    ("leaky_relu(x, negative_slope=x)", "must be a constant", 15),
    ("leaky_relu(x, slope=0.1)", "no parameter slope=", 15),
    ("gelu(x, approximate=fast)", "must be one of none, tanh, sigmoid", 21),
    ("gelu(x, 'tanh')", "strings are only allowed", 9),
    ("x ++", "expected a number", 5),
])
def test_errors_say_what_and_where(expr, what, column):
    with pytest.raises(ValueError) as info:
        parse(expr, x=3)
    msg = str(info.value)
    assert type(info.value) is ValueError
    assert what in msg, msg
    assert msg.endswith(f"at column {column}"), msg


HOSTILE = [
    "__import__('os').system('id')", "__import__", "().__class__", "x.__dict__",
    "[x for x in y]", "lambda: 1", "'a'*10**9", '"a"*10**9', "exec('1')", "eval('1')",
    "open('/etc/passwd')", "globals()", "__builtins__", "x.__class__.__bases__", "x if x else x",
    "x; x", "x\\\nx", "x[0]", "{1: 2}", "{x}", "x @ x", "x % 2", "x // 2", "x == x", "x < 1",
    "not x", "x and x", "x or x", "f'{x}'", "b'x'", "0x10", "1_000", "x := 1", "*x", "**x",
    "x**", "()", "(,)", "exp(x,)", "exp(,x)", "exp(x=)", "getattr(x, 'y')", "import os",
    "sys.exit(0)", "x.y.z", "#x", "x # comment", "`x`", "x!", "~x", "x & 1", "x | 1",
    "$x", "?", "x\x00", "\x1b[31m", "..", "...", "1..2", "1.2.3", "1e", "1e+", "e1",
    "exp(exp(exp(", ")))", "((((((((((", "-" * 200 + "x", "x" + "**x" * 200,
    "(" * 10_000 + "x" + ")" * 10_000, "x+" * 50_000 + "x", "9" * 100_000, "9" * 40_000,
    "gelu(x, approximate=__import__)", "leaky_relu(x, negative_slope='0.1')",
    "exp(x, approximate=tanh)", "prelu(x)", "prelu(x, a, b)", "abs(x, x)",
    "\u202ex", "x\u200b", "x²", "ｘ", "None", "True", "print(x)", "type(x)",
]


@pytest.mark.parametrize("expr", HOSTILE, ids=lambda s: repr(s[:30]))
def test_hostile_input_only_raises_value_error_quickly(expr):
    t0 = time.perf_counter()
    with pytest.raises(ValueError) as info:
        parse(expr, x=1.5, y=2.0)
    assert type(info.value) is ValueError
    assert time.perf_counter() - t0 < 1.0  # a hang guard, not a speed target
    assert "\n" not in str(info.value)


def test_hostile_list_is_long_enough():
    assert len(HOSTILE) >= 30


def test_deep_nesting_and_length_limits():
    ok = "(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    assert parse(ok, x=2)[0].data == 2.0
    too_deep = "(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ValueError, match="nested too deeply"):
        parse(too_deep, x=2)
    with pytest.raises(ValueError, match="nested too deeply"):
        parse("(" * 10_000 + "x" + ")" * 10_000, x=2)
    with pytest.raises(ValueError, match="too long"):
        parse("x" * (MAX_LENGTH + 1), **{"x" * (MAX_LENGTH + 1): 1.0})
    with pytest.raises(ValueError, match="too long"):
        parse("x+" * 50_000 + "x", x=1)


def test_long_flat_expression_at_the_limit_parses():
    n = (MAX_LENGTH - 1) // 2
    text = "x+" * n + "x"
    assert len(text) <= MAX_LENGTH
    out, inputs = parse(text, x=1.0)
    assert out.data == n + 1
    assert gradients(out, [inputs["x"]]) == [float(n + 1)]


def test_deep_nesting_also_fails_cleanly_from_a_deep_call_stack():
    def recurse(k: int) -> None:
        if k:
            return recurse(k - 1)
        with pytest.raises(ValueError):
            parse("(" * 10_000 + "x" + ")" * 10_000, x=1)
        assert parse("(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH, x=1)[0].data == 1.0
    recurse(300)


ALPHABET = st.sampled_from(list("xyz0123456789.+-*/^()e,= _'\"[]{}:;@%<>!&|~#\\\n\t") +
                           ["**", "exp", "log", "sqrt", "gelu", "approximate", "__", "lambda",
                            "import", "os", "."])


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_random_strings_only_raise_value_error(text):
    try:
        out, _ = parse(text, x=0.5, y=-1.5, z=2.0)
    except ValueError:
        return
    assert isinstance(out, Value)


def test_type_errors_for_wrong_argument_types():
    with pytest.raises(TypeError):
        parse(b"x", x=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="value for 'x'"):
        parse("x", x="1")
    with pytest.raises(TypeError, match="value for 'x'"):
        parse("x", x=True)


def test_function_list_is_the_documented_one():
    for name in ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu",
                 "elu", "softplus", "swish", "gelu", "abs"):
        assert name in FUNCTIONS


# ------------------------------------------------------------------ names a value may not take

@pytest.mark.parametrize("name, what", [
    ("pi", "pi is a constant"), ("π", "π is a constant"), ("e", "e is a constant"),
    ("exp", "exp is a function"), ("sin", "sin is a function"), ("sigmoid", "sigmoid is a function"),
    ("leaky_relu", "leaky_relu is a function"), ("hypot", "hypot is a function"),
    ("clip", "clip is a function"), ("prelu", "prelu is a function"), ("σ", "σ is a function"),
    ("lambda", "lambda is a Python keyword"), ("if", "if is a Python keyword"),
    ("None", "None is a Python keyword"), ("match", "match is a Python keyword"),
])
@pytest.mark.parametrize("expr", ["{n}*x", "x", "{n}(x)"])
def test_a_value_may_not_shadow_a_constant_function_or_keyword(name, what, expr):
    """A value for pi used to replace the constant silently (pi*x with pi=1 gave x);
    a value named exp made exp*x a variable while exp(x) stayed the function."""
    with pytest.raises(ValueError) as e:
        parse(expr.format(n=name), x=2.0, **{name: 1.0})
    assert str(e.value) == f"{what}; name your variable differently"


@pytest.mark.parametrize("name, message", [
    ("a b", "'a b' is not a valid variable name"), ("1x", "'1x' is not a valid variable name"),
    ("__class__", "names starting with '__'"), ("", "'' is not a valid variable name"),
])
def test_value_names_must_be_names(name, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse("x", x=1.0, **{name: 1.0})


def test_names_near_constants_and_functions_are_still_variables():
    out, inputs = parse("pi2*x + E + Pi + exp_ + sin1 + e1", pi2=2, x=3, E=1, Pi=1, exp_=1,
                        sin1=1, e1=1)
    assert out.data == 11.0 and list(inputs) == ["pi2", "x", "E", "Pi", "exp_", "sin1", "e1"]
    assert parse("pi*x", x=2.0)[0].data == 2 * math.pi   # the constant, with no value given
