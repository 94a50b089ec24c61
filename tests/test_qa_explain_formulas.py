"""QA: explain's simplified gradient formulas evaluate to the gradient.

Class of bug: the canonical form distributed powers over products and merged
exponents for any base, so ``sqrt(x^2)`` at x = -2 printed ``1`` (the gradient
is -1), ``(x^2)^1.5`` printed ``3·x^2`` (12, not -12) and ``sqrt(x·y)`` at
x, y < 0 printed ``0.5·sqrt(y)/sqrt(x)`` (undefined); and ``(y^y)^y`` printed
as ``y^y^y``, which reads ``y^(y^y)``. Oracle: each formula printed by
explain is parsed back and evaluated at the point and near it (same branch),
and compared with the engine's gradient there (the parser reads the printed
``·`` and ``σ``, so a formula can be pasted back into explain).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_core import explain, gradients, parse, topological_order
from expr_strategies import ENVS, EXPRESSIONS


def _sides(out) -> list[int]:
    """For each node with kinks (in graph order): which side of them its operand is on."""
    return [sum((p > k) - (p < k) for k in n.primitive.kinks)
            if (p := n.parents[0].data) not in n.primitive.kinks else 0
            for n in topological_order(out) if n.primitive is not None and n.primitive.kinks]


def _formula_mismatches(text: str, env: dict[str, float]) -> list[tuple]:
    try:
        out, ins = parse(text, **env)
    except (ValueError, ZeroDivisionError):
        return []
    if not math.isfinite(out.data):
        return []
    wrt = [k for k in sorted(env) if k in ins]
    # on a kink the formula is the convention's branch: check it at the point only
    sides = _sides(out)
    # conventions also live where an operand is exactly 0 (pow at a zero base)
    on_kink = 0 in sides or any(p.data == 0.0 for n in topological_order(out) for p in n.parents)
    formulas = explain(out, [ins[k] for k in wrt]).formulas
    bad = []
    for k in wrt:
        form = formulas.get(k)
        if form is None:
            continue
        ftext = form  # the parser reads explain's · and σ back
        for delta in (0.0,) if on_kink else (0.0, 1e-7):
            env2 = {n: v + (delta * (1.0 + abs(v)) if n == k else 0.0) for n, v in env.items()}
            try:
                o2, i2 = parse(text, **env2)
                g2 = gradients(o2, [i2[k]])[0]
            except (ValueError, ZeroDivisionError):
                break
            if _sides(o2) != sides:  # the nudge crossed a kink: another branch
                break
            if not math.isfinite(g2):
                break
            try:
                got = parse(ftext, **env2)[0].data
            except (ValueError, ZeroDivisionError) as e:  # a formula undefined where f is not
                bad.append((text, env2, k, form, str(e)))
                break
            if not abs(got - g2) <= 2e-5 * (1.0 + abs(g2)):  # numbers print with 6 digits
                bad.append((text, env2, k, form, got, g2))
                break
    return bad


@pytest.mark.parametrize("text,env,expected", [
    ("sqrt(x^2)", {"x": -2.0}, {"x": "x/sqrt(x^2)"}),
    ("sqrt(x^2)", {"x": 2.0}, {"x": "1"}),
    ("(x^2)^1.5", {"x": -2.0}, None),
    ("(x^4)^0.25", {"x": -2.0}, None),
    ("sqrt(x*y)", {"x": -2.0, "y": -3.0}, None),
    ("sqrt(x/y)", {"x": -2.0, "y": -3.0}, None),
    ("((y)^y)^y*x", {"x": -0.081, "y": 1.443}, None),
    ("(x+y)^y * exp(x)^y", {"x": 0.5, "y": 1.5}, None),
    ("x/sqrt(x^2+y^2)", {"x": 1.0, "y": 2.0}, None),
    ("sqrt(x*y)", {"x": 2.0, "y": 3.0}, {"x": "0.5·sqrt(y)/sqrt(x)", "y": "0.5·sqrt(x)/sqrt(y)"}),
])
def test_regressions(text, env, expected):
    assert _formula_mismatches(text, env) == []
    if expected is not None:
        out, ins = parse(text, **env)
        assert explain(out).formulas == expected


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(EXPRESSIONS, ENVS)
def test_every_printed_formula_evaluates_to_the_gradient(expr, env):
    text, _ = expr
    assert _formula_mismatches(text, env) == []


POWERS = st.sampled_from(["2", "3", "0.5", "1.5", "-1", "-0.5", "0.25", "4", "y"])


@settings(max_examples=200, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(["x", "y", "x*y", "x/y", "x^2", "(x+y)", "exp(x)",
                                           "abs(x)", "2*x"]), POWERS), min_size=1, max_size=3),
       st.floats(-3.0, 3.0).filter(lambda v: abs(v) > 0.05),
       st.floats(-3.0, 3.0).filter(lambda v: abs(v) > 0.05))
def test_nested_powers_of_products_at_negative_points(parts, x, y):
    text = "*".join(f"({b})^{p}" for b, p in parts)
    text = f"({text})^{parts[0][1]}"
    assert _formula_mismatches(text, {"x": x, "y": y}) == []


def test_a_printed_formula_pastes_back_into_the_parser():
    out, ins = parse("sigmoid(x*y) + x/sqrt(x^2+y^2)", x=0.3, y=-1.2)
    forms = explain(out).formulas
    assert "σ(x·y)" in forms["x"]
    got = [parse(forms[k], x=0.3, y=-1.2)[0].data for k in ("x", "y")]
    assert got == pytest.approx(gradients(out, [ins["x"], ins["y"]]), rel=1e-12)
