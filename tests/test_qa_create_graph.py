"""QA: backward(create_graph=True) never fails where plain backward works, and
gives the same first derivatives.

Class of bug: the rules re-run on Values for create_graph, where a Value
operation raises on a domain error that the float rule turns into nan: ``x ** y``
with a negative base (integer y) raised ``log(-1): logarithm of a negative
number`` in create_graph (so in hessian, grad of grad, Tensor second
derivatives) while plain backward gave d/dy = nan, as PyTorch; and an infinite
first derivative at a domain edge (sqrt at 0, arcsin at ±1, x ** 0.5 at 0)
raised ZeroDivisionError from ``0.5 / 0`` on Values and Tensors (now the IEEE
number, as on floats: ``autograd_core._math.div`` and the Tensor path's division
are total, and the printed formula stays ``0.5/sqrt(x)``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_core.tensor as T
from autograd_core import PRIMITIVES, Tensor, Value, apply, gradients

PARAMS = {"c": [2.0, -2.0, 0.5, 0.0, 3.0, -1.0], "negative_slope": [0.1], "alpha": [0.7, -0.6],
          "beta": [1.3, -0.5], "bounds": [(-0.5, 2.0)]}
GRID = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 6.0, 1e-8, 40.0, -40.0, 1e200]


def _same(a, b):
    return (a != a and b != b) or a == b


@pytest.mark.parametrize("name", sorted(n for n, p in PRIMITIVES.items() if p.arity in (1, 2)))
def test_create_graph_gives_the_first_order_derivatives_without_raising(name):
    prim = PRIMITIVES[name]
    params = PARAMS.get(prim.param, [None]) if prim.has_param else [None]
    pts = [(x,) for x in GRID] if prim.arity == 1 else [(x, y) for x in GRID for y in GRID]
    for param in params:
        for pt in pts:
            vs = [Value(x) for x in pt]
            try:
                out = apply(prim, *vs, param=param) if prim.has_param else apply(prim, *vs)
            except (ValueError, ZeroDivisionError):
                continue
            first = gradients(out, vs)
            second = gradients(out, vs, create_graph=True)  # must not raise
            got = [float(getattr(g, "data", g)) for g in second]
            assert all(_same(a, b) for a, b in zip(first, got)), (name, pt, param, first, got)


def test_pow_with_a_negative_base_and_a_value_exponent():
    x, y = Value(-1.0), Value(2.0)
    gx, gy = gradients(x ** y, [x, y], create_graph=True)
    assert gx.data == -2.0 and math.isnan(gy)
    assert gradients(gx, [x])[0] == 2.0
    a, b = Tensor([[-1.0], [2.0]]), Tensor([[2.0, 3.0]])
    ga, gb = T.gradients((a ** b).sum(), [a, b], create_graph=True)
    (h,) = T.gradients(ga.sum(), [a])
    np.testing.assert_allclose(h.data if isinstance(h, Tensor) else h, [[2.0 - 6.0], [2.0 + 6.0 * 2.0]])


@pytest.mark.parametrize("f,x", [
    (lambda t: t.sqrt(), [0.0, 4.0]), (lambda t: t.arcsin(), [1.0, -1.0, 0.5]),
    (lambda t: t.arccos(), [1.0, 0.5]), (lambda t: t.arccosh(), [1.0, 2.0]),
    (lambda t: t ** 0.5, [0.0, 4.0]), (lambda t: t ** Tensor([0.5, 0.25]), [0.0, 4.0]),
])
def test_tensor_create_graph_at_infinite_derivatives(f, x):
    t = Tensor(x)
    first = T.gradients(f(t).sum(), [t])[0]
    (g,) = T.gradients(f(t).sum(), [t], create_graph=True)  # must not raise
    np.testing.assert_array_equal(g.data if isinstance(g, Tensor) else g, first)
    T.gradients(g.sum(), [t])  # nor the second derivative


@pytest.mark.parametrize("name", sorted(n for n, p in PRIMITIVES.items() if p.arity in (1, 2)))
def test_tensor_create_graph_equals_plain_backward_over_the_grid(name):
    prim = PRIMITIVES[name]
    for param in (PARAMS.get(prim.param, [None]) if prim.has_param else [None]):
        pts = [(x,) for x in GRID] if prim.arity == 1 else [(x, y) for x in GRID for y in GRID]
        ok = []
        for pt in pts:
            try:
                apply(prim, *pt, param=param) if prim.has_param else apply(prim, *pt)
                ok.append(pt)
            except (ValueError, ZeroDivisionError):
                pass
        arrays = [np.array([p[i] for p in ok]) for i in range(prim.arity)]

        def run(create_graph):
            ts = [Tensor(a) for a in arrays]
            out = prim(*ts, param=param) if prim.has_param else prim(*ts)
            return ts, T.gradients(out.sum(), ts, create_graph=create_graph)

        _, first = run(False)
        ts, second = run(True)  # mixed-branch arrays: must not raise
        for a, b in zip(first, second):
            b = np.asarray(getattr(b, "data", b))
            np.testing.assert_array_equal(np.broadcast_to(np.asarray(getattr(a, "data", a)), b.shape), b)
        for s in second:
            if isinstance(s, Tensor):
                T.gradients(s.sum(), ts)


def test_the_formula_at_an_infinite_derivative_is_still_printed():
    from autograd_core import explain, parse
    out, _ = parse("sqrt(q)", q=0.0)
    (row,) = [r for r in explain(out).forward_rows if r.op == "sqrt"]
    assert row.derivatives[0].symbolic == "0.5/sqrt(q)"
    assert row.derivatives[0].value == math.inf
