"""QA 2: second derivatives at a domain edge where the first derivative is infinite.

Class of bug: where a rule's first derivative is infinite (sqrt and x ** c,
0 < c < 1, at 0; arcsin, arccos at ±1; arccosh at 1; x ** y, 0 < y < 1, at a
zero base), ``backward(create_graph=True)`` made that derivative a plain
constant inf (``_math.div`` on a Value holding 0 returned the IEEE number;
``pow``/``pow_const`` returned ``m.inf``), so everything above it --
``hessian``, ``grad(grad(f))``, ``gradcheck(order=2)``'s analytic side --
read a second derivative of exactly 0: ``hessian(sqrt, [0.0])`` was
``[[0.0]]``. The one-sided limit, and PyTorch's hessian, is -inf
(sqrt'' = -x^(-3/2)/4). Oracle: the sign of the one-sided limit of the
closed form (the same as torch.autograd.functional.hessian, checked when
torch is installed), and the unchanged values a step inside the domain.

The Tensor path (``create_graph`` on Tensors runs the same rules on arrays)
gives the same numbers: a rule's division by a Tensor with zero elements is
the IEEE division node there too (it was a constant: nan for sqrt'' at 0).
So do forward over reverse (``jvp`` of ``grad``), reverse over forward and
forward over forward.

arcsin, arccos and arccosh write their derivative 1/(sqrt(1 - x)·sqrt(1 + x))
for accuracy near ±1; the product's own derivative meets inf · 0 at the edge
(nan in reverse mode, ±inf in forward mode: the modes disagreed). At the edge
itself the rules write it 1/sqrt(1 - x²) (the same inf), whose derivative is
the one-sided limit in every mode, as PyTorch's.
"""

from __future__ import annotations

import math

import pytest

from autograd_core import Value, grad, gradients, hessian, jvp

# (name, f on Values, edge point, side of the domain (+1: above the edge),
#  closed-form second derivative, torch form)
CASES = [
    ("sqrt", lambda x: x.sqrt(), 0.0, 1, lambda x: -0.25 * x ** -1.5, "torch.sqrt(x)"),
    ("x**0.5", lambda x: x ** 0.5, 0.0, 1, lambda x: -0.25 * x ** -1.5, "x ** 0.5"),
    ("x**0.25", lambda x: x ** 0.25, 0.0, 1, lambda x: 0.25 * -0.75 * x ** -1.75, "x ** 0.25"),
    ("x**y", lambda x: x ** Value(0.5), 0.0, 1, lambda x: -0.25 * x ** -1.5, "x ** 0.5"),
    ("arcsin(1)", lambda x: x.arcsin(), 1.0, -1, lambda x: x / (1 - x * x) ** 1.5,
     "torch.asin(x)"),
    ("arcsin(-1)", lambda x: x.arcsin(), -1.0, 1, lambda x: x / (1 - x * x) ** 1.5,
     "torch.asin(x)"),
    ("arccos(1)", lambda x: x.arccos(), 1.0, -1, lambda x: -x / (1 - x * x) ** 1.5,
     "torch.acos(x)"),
    ("arccos(-1)", lambda x: x.arccos(), -1.0, 1, lambda x: -x / (1 - x * x) ** 1.5,
     "torch.acos(x)"),
    ("arccosh(1)", lambda x: x.arccosh(), 1.0, 1, lambda x: -x / (x * x - 1) ** 1.5,
     "torch.acosh(x)"),
]
IDS = [c[0] for c in CASES]


def _h(f, x):
    """hessian's one entry as a float (a Value when f closes over a Value)."""
    h = hessian(f, [x])[0][0]
    return float(getattr(h, "data", h))


def _limit(second, edge, side) -> float:
    """The one-sided limit of the second derivative at the edge: ±inf."""
    return math.copysign(math.inf, second(edge + side * 1e-12))


def _num(v) -> float:
    return float(getattr(v, "data", v))


@pytest.mark.parametrize(("name", "f", "edge", "side", "second", "_t"), CASES, ids=IDS)
def test_hessian_at_the_edge_is_the_one_sided_limit(name, f, edge, side, second, _t):
    want = _limit(second, edge, side)
    assert _h(f, edge) == want
    assert _num(grad(grad(f))(edge)) == want
    x = Value(edge, "x")
    (g,) = gradients(f(x), [x], create_graph=True)
    assert math.isinf(g.data)
    assert gradients(g, [x])[0] == want


@pytest.mark.parametrize(("name", "f", "edge", "side", "second", "_t"), CASES, ids=IDS)
def test_forward_and_mixed_modes_agree(name, f, edge, side, second, _t):
    want = _limit(second, edge, side)
    assert _num(jvp(grad(f), [edge], [1.0])[1]) == want
    assert _num(grad(lambda x: jvp(f, [x], [1.0])[1])(edge)) == want
    assert _num(jvp(lambda x: jvp(f, [x], [1.0])[1], [edge], [1.0])[1]) == want
    x0 = edge + side * 1e-3
    assert _num(jvp(grad(f), [x0], [1.0])[1]) == pytest.approx(second(x0), rel=1e-9)


@pytest.mark.parametrize(("name", "f", "edge", "side", "second", "_t"), CASES, ids=IDS)
def test_hessian_just_inside_is_unchanged(name, f, edge, side, second, _t):
    x0 = edge + side * 1e-3
    assert _h(f, x0) == pytest.approx(second(x0), rel=1e-9)


@pytest.mark.parametrize(("name", "f", "edge", "side", "second", "torch_form"), CASES, ids=IDS)
def test_matches_pytorch_hessian(name, f, edge, side, second, torch_form):
    torch = pytest.importorskip("torch")
    from torch.autograd.functional import hessian as th

    def tf(x):
        return eval(torch_form, {"torch": torch, "x": x})  # noqa: S307 - fixed test strings
    ref = float(th(tf, torch.tensor(edge, dtype=torch.float64)))
    assert _h(f, edge) == ref


def test_user_division_by_zero_is_still_refused():
    x = Value(0.0, "x")
    with pytest.raises(ZeroDivisionError):
        1.0 / x
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / x


def _tensor_form(name, f):
    from autograd_core import Tensor
    if name == "x**y":  # the exponent a Tensor (not differentiated), as Value(0.5) above
        return lambda t: t ** Tensor([0.5] * t.shape[0])
    return f


@pytest.mark.parametrize(("name", "f", "edge", "side", "second", "_t"), CASES, ids=IDS)
def test_tensor_second_derivatives_equal_the_scalar_ones(name, f, edge, side, second, _t):
    """Reverse over reverse and forward over reverse on a Tensor holding the edge and a
    point inside: the scalar engine's numbers (the one-sided limit at the edge)."""
    np = pytest.importorskip("numpy")
    from autograd_core import Tensor
    from autograd_core.tensor import gradients as tgrad, jvp as tjvp
    inside = edge + side * 0.25
    t = Tensor(np.array([edge, inside]))
    (g,) = tgrad(_tensor_form(name, f)(t).sum(), [t], create_graph=True)
    assert math.isinf(np.asarray(g.data)[0])
    (h,) = tgrad(g.sum(), [t])
    fwd = tjvp(g, {t: np.ones(2)})
    for got in (np.asarray(getattr(h, "data", h)), fwd):
        assert got[0] == _limit(second, edge, side) == _h(f, edge)
        assert got[1] == pytest.approx(second(inside), rel=1e-12)
        assert got[1] == pytest.approx(_h(f, inside), rel=1e-15)


def test_tensor_second_derivative_of_sqrt_at_zero():
    np = pytest.importorskip("numpy")
    from autograd_core import Tensor
    from autograd_core.tensor import gradients as tgrad
    t = Tensor(np.array([0.0, 0.25]))
    (g,) = tgrad(t.sqrt().sum(), [t], create_graph=True)
    (h,) = tgrad(g.sum(), [t])
    assert np.asarray(h)[1] == pytest.approx(-0.25 * 0.25 ** -1.5)
    assert np.asarray(h)[0] == -math.inf


def test_tensor_power_with_an_array_of_exponents_at_a_zero_base():
    """``t ** c`` with c an array (one exponent per column, broadcast over rows): each
    element's second derivative is the scalar engine's, at 0 and inside."""
    np = pytest.importorskip("numpy")
    from autograd_core import Tensor
    from autograd_core.tensor import gradients as tgrad
    c = np.array([0.5, 0.25, 1.0, 2.5, 0.0])
    base = np.array([[0.0] * 5, [0.25] * 5])
    t = Tensor(base)
    (g,) = tgrad((t ** c).sum(), [t], create_graph=True)
    (h,) = tgrad(g.sum(), [t])
    want = [[_h(lambda x, k=float(k): x ** k, float(b)) for k in c] for b in base[:, 0]]
    assert want[0] == [-math.inf, -math.inf, 0.0, 0.0, 0.0]
    np.testing.assert_array_equal(np.asarray(getattr(h, "data", h)), want)
