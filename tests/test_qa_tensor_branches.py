"""QA: Tensor second derivatives (create_graph) of branching rules equal the scalar ones.

Class of bug: on Tensors, ``backward(create_graph=True)`` re-ran a branching
rule on *every* element for each branch, so (a) a branch's domain error was
raised for elements that never take it (softsign at -1, pow at a zero base,
hypot/arctan2 at the origin: ZeroDivisionError), and (b) inf/nan from the
untaken branch leaked into the join's derivative (0 · inf = nan: elu, selu,
celu at large x, (-2) ** x at very negative x). The scalar engine is the
oracle: the same points, one Value at a time.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core.tensor as T
from autograd_core import Tensor, Value, gradients

PTS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 6.0, 1e-8, -1e-8, 10.0, -10.0,
       40.0, -40.0, 710.0, -745.0, 1e5, -1e5, 1e155, -1e155, 1e300, -1e300]

UNARY = {
    "elu": lambda v: v.elu(0.7), "selu": lambda v: v.selu(), "celu": lambda v: v.celu(0.6),
    "softsign": lambda v: v.softsign(), "relu": lambda v: v.relu(), "abs": lambda v: abs(v),
    "leaky": lambda v: v.leaky_relu(0.1), "hardswish": lambda v: v.hardswish(),
    "gelu_tanh": lambda v: v.gelu("tanh"), "rpow_neg": lambda v: (-2.0) ** v,
    "rpow_zero": lambda v: 0.0 ** v, "relu6": lambda v: v.relu6(), "clip": lambda v: v.clip(-0.5, 2.0),
    "sq_pow_const": lambda v: v ** 2.0, "mish": lambda v: v.mish(), "swish": lambda v: v.swish(1.0),
}


def _scalar(f, xs):
    vs = [Value(x) for x in xs]
    y = f(*vs)
    g = gradients(y, vs, create_graph=True)
    h = [[float(getattr(d, "data", d)) for d in gradients(gi, vs)] if isinstance(gi, Value)
         else [0.0] * len(xs) for gi in g]
    return y.data, [float(getattr(gi, "data", gi)) for gi in g], h


def _tensor(f, arrays):
    ts = [Tensor(a) for a in arrays]
    y = f(*ts)
    g = T.gradients(y.sum(), ts, create_graph=True)
    h = [[np.asarray(getattr(d, "data", d)) for d in T.gradients(gi.sum(), ts)]
         if isinstance(gi, Tensor) else [np.zeros_like(a) for a in arrays] for gi in g]
    return y.data, [np.asarray(getattr(gi, "data", gi)) for gi in g], h


def _same(a, b):
    return (a != a and b != b) or a == b or abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))


def _compare(f, points):
    ok = []
    scal = []
    for p in points:
        try:
            scal.append(_scalar(f, p))
            ok.append(p)
        except (ValueError, ZeroDivisionError):
            pass
    arrays = [np.array([p[i] for p in ok]) for i in range(len(ok[0]))]
    val, g, h = _tensor(f, arrays)
    bad = []
    for k, p in enumerate(ok):
        sv, sg, sh = scal[k]
        pairs = [("value", sv, val[k])] + [(f"d{i}", sg[i], g[i][k]) for i in range(len(p))]
        pairs += [(f"d{i}{j}", sh[i][j], h[i][j][k]) for i in range(len(p)) for j in range(len(p))]
        bad += [(p, what, a, float(b)) for what, a, b in pairs if not _same(a, float(b))]
    assert not bad, bad[:5]


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_tensor_second_derivatives_equal_scalar_ones(name):
    _compare(UNARY[name], [(x,) for x in PTS])


BINARY = {
    "pow": lambda a, b: a ** b, "hypot": lambda a, b: a.hypot(b),
    "arctan2": lambda a, b: a.arctan2(b), "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b), "logaddexp": lambda a, b: a.logaddexp(b),
    "div": lambda a, b: a / b,
}
BPTS = [0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 3.0, -0.5, 1e-8, 1e200, -1e200, 1e-300, 700.0, -800.0]


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_tensor_second_derivatives_equal_scalar_ones(name):
    _compare(BINARY[name], [(x, y) for x in BPTS for y in BPTS])


def test_softsign_hessian_at_minus_one_does_not_raise():
    # the reproduction: the x >= 0 branch evaluated 1 / (1 + x)^2 at x = -1
    x = Tensor([-1.0, 2.0])
    (g,) = T.gradients(x.softsign().sum(), [x], create_graph=True)
    (h,) = T.gradients(g.sum(), [x])
    np.testing.assert_allclose(h.data, [2 / 8, -2 / 27])


def test_where_backward_selects_so_nan_from_the_other_branch_stays_out():
    x, y = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    out = T.where(np.array([True, False]), x, y) * np.array([1.0, np.inf])
    gx, gy = T.gradients(out.sum(), [x, y])
    np.testing.assert_array_equal(np.asarray(getattr(gx, "data", gx)), [1.0, 0.0])  # not nan
    np.testing.assert_array_equal(np.asarray(getattr(gy, "data", gy)), [0.0, np.inf])
