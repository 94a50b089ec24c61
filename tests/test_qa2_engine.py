"""QA 2: defects found in autograd_core/core/engine.py, now fixed (they were
strict xfails until the engine changes were merged).

1. Forward mode and create_graph reverse mode drop a *computed* zero as if it
   were a structural one, so 0 · inf becomes 0 there while plain reverse mode
   (and PyTorch's backward, torch.func.jvp and create_graph) give nan. The
   same formula then gets two different derivatives from the two modes:
   ``explain "sqrt(x*x)" x=0 --mode both`` prints reverse nan and forward 0,
   with the forward row reading ``inf × 0`` and a tangent 0. Cause:
   ``push_tangents`` skips every parent whose tangent equals 0.0 (``if tp !=
   0.0``: right for nodes that do not depend on the seeded inputs, wrong for
   h1 = x·x whose tangent 0 was computed), and ``_backprop(create_graph=True)``
   skips every node whose gradient equals 0.0. static's ``jvp`` copies the
   forward skip (it promises to equal ``push_tangents`` bit for bit).
2. ``apply`` ignores a parameter given to a primitive that has none
   (``apply(exp, x, param=3.0)`` is exp(x)), and a parameter of the wrong type
   fails deep in the rule (``can't multiply sequence by non-int of type
   'float'``) instead of a TypeError naming the primitive and its parameter.
"""

from __future__ import annotations

import math

import pytest

import autograd_core as ac
from autograd_core import PRIMITIVES, Value, apply, explain, gradients, parse, push_tangents

def _sqrt_xx(x, y):
    return (x * x).sqrt()


def _sqrt_xy(x, y):
    return (x * y).sqrt()


def _sqrt_times_0(x, y):
    return x.sqrt() * 0.0


CASES = [(_sqrt_xx, 0), (_sqrt_xy, 1), (_sqrt_times_0, 0)]


@pytest.mark.parametrize(("f", "wrt"), CASES)
def test_plain_reverse_mode_is_ieee_as_torch(f, wrt):
    # the reference the other modes must agree with (passes today)
    x, y = Value(0.0, "x"), Value(1.0, "y")
    assert math.isnan(gradients(f(x, y), [x, y])[wrt])
    torch = pytest.importorskip("torch")
    tx = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    out = {_sqrt_xx: lambda: (tx * tx).sqrt(), _sqrt_xy: lambda: (tx * ty).sqrt(),
           _sqrt_times_0: lambda: tx.sqrt() * 0.0}[f]()
    assert math.isnan(torch.autograd.grad(out, [tx, ty], allow_unused=True)[wrt])


@pytest.mark.parametrize(("f", "wrt"), CASES[:2])
def test_forward_mode_agrees_with_reverse_mode(f, wrt):
    x, y = Value(0.0, "x"), Value(1.0, "y")
    out = f(x, y)
    seed = x if wrt == 0 else y
    assert math.isnan(push_tangents(out, {seed: 1.0})[out])


def test_create_graph_reverse_mode_agrees_with_plain_reverse_mode():
    x = Value(0.0, "x")
    g = gradients(x.sqrt() * 0.0, [x], create_graph=True)[0]
    assert math.isnan(getattr(g, "data", g))


def test_create_graph_forward_mode_agrees_with_plain_reverse_mode():
    x = Value(0.0, "x")
    out = x.sqrt() * 0.0
    t = push_tangents(out, {x: Value(1.0)}, create_graph=True)[out]
    assert math.isnan(getattr(t, "data", t))


def test_explain_forward_table_row_is_the_sum_of_its_printed_terms():
    out, _ = parse("sqrt(x*x)", x=0.0)
    table = explain(out).forward_mode("x")
    for row in table.rows:
        if row.terms:  # h2: "inf × 0" printed, tangent 0
            s = sum(t.local * t.tangent for t in row.terms)
            assert (math.isnan(s) and math.isnan(row.tangent)) or s == row.tangent, row


def test_static_jvp_agrees_with_reverse_mode():
    g = ac.static(lambda x: (x * x).sqrt(), 0.0)
    assert math.isnan(g.grad(0.0).inputs[0])
    assert math.isnan(g.jvp([0.0], [1.0])[1])


def test_apply_refuses_a_parameter_the_primitive_does_not_have():
    with pytest.raises(TypeError, match="exp"):
        apply(PRIMITIVES["exp"], Value(1.0), param=3.0)


def test_apply_names_a_parameter_of_the_wrong_type():
    with pytest.raises(TypeError, match="negative_slope"):
        apply(PRIMITIVES["leaky_relu"], Value(-1.0), param="0.1")
