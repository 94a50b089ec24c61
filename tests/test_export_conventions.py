"""Issue 20: the exported JAX function (and the generated torch file) follow
autograd-core's derivative conventions where the frameworks' own derivatives
are nan: ``pow`` at a zero base, ``hypot``/``arctan2`` at the origin. Value,
gradient and second derivative against autograd-core (backward and
``create_graph``), and near these points nothing changes."""

from __future__ import annotations

import importlib.util
import math

import pytest

import autograd_core as ag
from autograd_core import Value
from autograd_core.export import to_jax, to_torch_source
from autograd_core.primitives import PRIMITIVES

TOL = 1e-12

CASES = [("pow", (0.0, 0.0)), ("pow", (0.0, 2.5)), ("pow", (0.0, 1.0)), ("pow", (0.0, 0.5)),
         ("pow", (0.0, 3.0)), ("pow", (2.0, 3.0)), ("pow", (1e-3, 2.5)),
         ("hypot", (0.0, 0.0)), ("hypot", (-0.0, 0.0)), ("hypot", (1e-3, -2e-3)),
         ("hypot", (0.0, 1e-3)),
         ("arctan2", (0.0, 0.0)), ("arctan2", (0.0, -0.0)), ("arctan2", (-0.0, -0.0)),
         ("arctan2", (1e-3, -2e-3)), ("arctan2", (0.0, 1e-3)), ("arctan2", (1e-3, 0.0))]
IDS = [f"{n}{p}" for n, p in CASES]


def same(a: float, b: float) -> bool:
    if math.isnan(b) or math.isinf(b):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return abs(a - b) <= TOL * max(1.0, abs(b))


def _num(g) -> float:
    return float(getattr(g, "data", g))


def reference(name: str, args: tuple[float, float]):
    """autograd-core's value, gradient and Hessian (rows: d/d(arg i) of the gradient)."""
    xs = [Value(a, f"a{i}") for i, a in enumerate(args)]
    out = ag.apply(PRIMITIVES[name], *xs)
    out.backward()
    grad = [v.grad for v in xs]
    hess = []
    for i in range(2):
        xs2 = [Value(a, f"a{k}") for k, a in enumerate(args)]
        out2 = ag.apply(PRIMITIVES[name], *xs2)
        out2.backward(create_graph=True)
        gi = xs2[i].grad
        for v in xs2:
            v.grad = 0.0
        if isinstance(gi, Value):
            gi.backward()
        hess.append([_num(v.grad) for v in xs2])
    return out, xs, out.data, grad, hess


@pytest.mark.parametrize("name,args", CASES, ids=IDS)
def test_jax_value_gradient_and_second_derivative(name, args):
    jax = pytest.importorskip("jax")
    out, xs, value, grad, hess = reference(name, args)
    f = to_jax(out, {f"a{i}": v for i, v in enumerate(xs)})
    assert same(float(f(*args)), value)
    assert math.copysign(1.0, float(f(*args))) == math.copysign(1.0, value)  # arctan2(±0, -0)
    for fn in (f, jax.jit(f)):
        g = jax.grad(fn, argnums=(0, 1))(*args)
        assert all(same(float(a), b) for a, b in zip(g, grad)), (g, grad)
        for i in range(2):
            row = jax.grad(lambda *a, i=i: jax.grad(fn, argnums=(0, 1))(*a)[i],
                           argnums=(0, 1))(*args)
            assert all(same(float(a), b) for a, b in zip(row, hess[i])), (i, row, hess[i])


def test_jax_conventions_hand_values():
    """The documented conventions, written out: pow at (0, 0), (0, 2.5), (0, 1) and the
    origin for hypot/arctan2 (autograd-core's rules; JAX alone gives nan there)."""
    jax = pytest.importorskip("jax")
    want = [("pow", (0.0, 0.0), 1.0, [0.0, 0.0]), ("pow", (0.0, 2.5), 0.0, [0.0, 0.0]),
            ("pow", (0.0, 1.0), 0.0, [1.0, 0.0]), ("pow", (0.0, 0.5), 0.0, [math.inf, 0.0]),
            ("hypot", (0.0, 0.0), 0.0, [0.0, 0.0]), ("arctan2", (0.0, 0.0), 0.0, [0.0, 0.0]),
            ("arctan2", (0.0, -0.0), math.pi, [0.0, 0.0])]  # (a list: 0.0 == -0.0 as keys)
    for name, args, v, g in want:
        out, xs, *_ = reference(name, args)
        f = to_jax(out, {f"a{i}": x for i, x in enumerate(xs)})
        assert float(f(*args)) == v
        assert [float(t) for t in jax.grad(f, argnums=(0, 1))(*args)] == g, (name, args)
    # second derivatives at (0, 1): d/dy of d/dx is 0 ** 0 = 1; d/dy is the constant 0
    out, xs, *_ = reference("pow", (0.0, 1.0))
    f = to_jax(out, {"a0": xs[0], "a1": xs[1]})
    dx = jax.grad(f, argnums=0)
    assert [float(t) for t in jax.grad(dx, argnums=(0, 1))(0.0, 1.0)] == [0.0, 1.0]


def test_jax_vectorised_over_the_special_points():
    """Elementwise (a Tensor-like batch): the safe where keeps nan out of every element."""
    jax = pytest.importorskip("jax")
    import numpy as np
    for name in ("pow", "hypot", "arctan2"):
        pts = [args for n, args in CASES if n == name]
        out, xs, *_ = reference(name, pts[0])
        f = to_jax(out, {"a0": xs[0], "a1": xs[1]})
        cols = [np.array([p[k] for p in pts]) for k in range(2)]
        g = jax.grad(lambda a, b: f(a, b).sum(), argnums=(0, 1))(*cols)
        for j, p in enumerate(pts):
            want = reference(name, p)[3]
            assert all(same(float(g[k][j]), want[k]) for k in range(2)), (name, p)


def _load(src: str, path):
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # the generated file, written by the test itself
    return mod


@pytest.mark.parametrize("name,args", CASES, ids=IDS)
def test_torch_source_value_gradient_and_second_derivative(name, args, tmp_path):
    torch = pytest.importorskip("torch")
    out, xs, value, grad, hess = reference(name, args)
    mod = _load(to_torch_source(out, {f"a{i}": v for i, v in enumerate(xs)}),
                tmp_path / "gen_conv.py")
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    y = mod.Formula()(*ts)
    assert same(float(y.detach()), value)
    assert math.copysign(1.0, float(y.detach())) == math.copysign(1.0, value)
    g = torch.autograd.grad(y, ts, create_graph=True)
    assert all(same(float(a.detach()), b) for a, b in zip(g, grad)), (g, grad)
    for i in range(2):
        if not g[i].requires_grad:
            assert hess[i] == [0.0, 0.0]
            continue
        row = torch.autograd.grad(g[i], ts, allow_unused=True, retain_graph=True)
        row = [0.0 if r is None else float(r) for r in row]
        assert all(same(a, b) for a, b in zip(row, hess[i])), (i, row, hess[i])


@pytest.mark.parametrize("k", range(7))
def test_constant_powers_at_zero(k, tmp_path):
    """``x ** c`` and ``c ** x`` (pow_const, rpow_const) share the exported pow: their
    rules at a zero base, first and second derivative, in JAX and the torch file."""
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    make, a = [(lambda x: x ** 0.5, 0.0), (lambda x: x ** 0.0, 0.0), (lambda x: x ** 2.5, 0.0),
               (lambda x: x ** 1.0, 0.0), (lambda x: 0.0 ** x, 1.5), (lambda x: 2.0 ** x, 0.0),
               (lambda x: x ** 0.25, 0.0)][k]
    x = Value(a, "x")
    out = make(x)
    out.backward()
    x2 = Value(a, "x")
    make(x2).backward(create_graph=True)
    g1 = x2.grad
    x2.grad = 0.0
    if isinstance(g1, Value):
        g1.backward()
    second = _num(x2.grad)
    f = to_jax(out, {"x": x})
    assert same(float(f(a)), out.data)
    assert same(float(jax.grad(f)(a)), x.grad)
    assert same(float(jax.grad(jax.grad(f))(a)), second)
    mod = _load(to_torch_source(out, {"x": x}), tmp_path / "gen_const.py")
    t = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    y = mod.Formula()(t)
    assert same(float(y.detach()), out.data)
    (d,) = torch.autograd.grad(y, (t,), create_graph=True)
    assert same(float(d.detach()), x.grad)
    dd = torch.autograd.grad(d, (t,), allow_unused=True)[0] if d.requires_grad else None
    assert same(0.0 if dd is None else float(dd), second)


EDGES = [("sqrt", lambda x: x.sqrt(), 0.0, -math.inf), ("x**0.5", lambda x: x ** 0.5, 0.0, -math.inf),
         ("x**0.25", lambda x: x ** 0.25, 0.0, -math.inf),
         ("arcsin(1)", lambda x: x.arcsin(), 1.0, math.inf),
         ("arcsin(-1)", lambda x: x.arcsin(), -1.0, -math.inf),
         ("arccos(1)", lambda x: x.arccos(), 1.0, -math.inf),
         ("arccosh(1)", lambda x: x.arccosh(), 1.0, -math.inf)]


@pytest.mark.parametrize("name,make,a,second", EDGES, ids=[e[0] for e in EDGES])
def test_second_derivative_at_an_infinite_slope(name, make, a, second, tmp_path):
    """Where the first derivative is infinite, the exported functions' second derivative
    (reverse over reverse, and JAX's forward over reverse) is autograd-core's: the
    one-sided limit (tests/test_qa2_second_derivatives.py), not 0 or nan."""
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    x = Value(a, "x")
    out = make(x)
    out.backward()
    assert math.isinf(x.grad)
    assert _num(ag.hessian(make, [a])[0][0]) == second
    f = to_jax(out, {"x": x})
    assert float(jax.grad(f)(a)) == x.grad
    assert float(jax.grad(jax.grad(f))(a)) == second
    assert float(jax.jvp(jax.grad(f), (a,), (1.0,))[1]) == second
    mod = _load(to_torch_source(out, {"x": x}), tmp_path / "gen_edge.py")
    t = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    (d,) = torch.autograd.grad(mod.Formula()(t), (t,), create_graph=True)
    assert float(d.detach()) == x.grad
    assert float(torch.autograd.grad(d, (t,))[0]) == second
