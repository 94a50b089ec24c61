"""QA 2: exported graphs (JAX, --torch file) give the rule's derivatives at large inputs.

Class of bug: the exported form leaves the derivative to the framework's
autodiff, which meets an overflow or a cancellation that the rule avoids:

* ``gelu_tanh`` past |x| = 1e5: x³ overflows, (1 - tanh²)·inf = nan in JAX
  and torch, while the rule (and the true derivative) is 1 or 0;
* ``logaddexp`` in JAX: its derivative is exp(x - out), and out = x + log 2
  rounds to x once log 2 is below x's ulp: at x = y = 1e10 the derivative was
  0.4999997606 (7 digits), from x = y = 1e17 on it was 1 and 1 (true 0.5 and
  0.5); torch's own formula is exact.

Oracle: the engine's rule (first derivatives also against the closed forms),
and second derivatives (JAX) against the rule's create_graph derivatives.
"""

from __future__ import annotations

import math

import pytest

from autograd_core import Value, gradients, logaddexp
from autograd_core.core.primitives import PRIMITIVES

jax = pytest.importorskip("jax")
from autograd_core.export import to_jax, to_torch_source  # noqa: E402


def _gelu_tanh(x):
    return PRIMITIVES["gelu_tanh"](x)


def _prim(name, param=None):
    p = PRIMITIVES[name]
    return (lambda x: p(x, param=param)) if param is not None else (lambda x: p(x))


CASES = [
    ("gelu_tanh", _gelu_tanh, (1e6,)),
    ("gelu_tanh", _gelu_tanh, (-1e6,)),
    ("gelu_tanh", _gelu_tanh, (1e200,)),
    ("gelu_tanh", _gelu_tanh, (-1e200,)),
    ("gelu_tanh", _gelu_tanh, (0.7,)),
    ("logaddexp", logaddexp, (1e10, 1e10)),
    ("logaddexp", logaddexp, (1e17, 1e17)),
    ("logaddexp", logaddexp, (-1e20, -1e20)),
    ("logaddexp", logaddexp, (1e10, 1e10 - 3.0)),
    ("logaddexp", logaddexp, (0.3, -1.2)),
    ("logaddexp", logaddexp, (math.inf, 2.0)),
    ("logaddexp", logaddexp, (2.0, -math.inf)),
    # expm1's derivative in JAX and torch is expm1(x) + 1: 2e-8 off at x = -20, 0 from
    # -37 on (exp(-40) = 4.2e-18); elu, selu and celu are written with expm1.
    *[(n, _prim(n, a), (x,)) for n, a in (("expm1", None), ("elu", 1.0), ("elu", 0.5),
                                          ("selu", None), ("celu", 0.5), ("celu", 2.0))
      for x in (-20.0, -40.0, -100.0, -1.5, -0.3, 0.2)],
    # softsign as x/(1 + |x|): its autodiff 1/(1+|x|) - |x|/(1+|x|)² cancels: 7e-7 off at
    # 1e10, 0 from 1e16 on (true 1e-40 at 1e20)
    *[("softsign", _prim("softsign"), (x,)) for x in (1e10, -1e10, 1e20, -1e20, 0.0, 0.5,
                                                      -0.5, 3.0, -3.0)],
]


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b))   # relative: a tiny value counts too


def _graph(f, xs):
    vs = [Value(x, f"x{i}") for i, x in enumerate(xs)]
    out = f(*vs)
    return out, vs, {f"x{i}": v for i, v in enumerate(vs)}


@pytest.mark.parametrize(("name", "f", "xs"), CASES, ids=[f"{n}{xs}" for n, _, xs in CASES])
def test_jax_value_and_gradient_equal_the_rule(name, f, xs):
    out, vs, names = _graph(f, xs)
    want = [float(g) for g in gradients(out, vs)]
    jf = to_jax(out, inputs=names)
    got = [float(g) for g in jax.grad(jf, argnums=tuple(range(len(xs))))(*xs)]
    assert _close(float(jf(*xs)), out.data)
    assert all(map(_close, got, want)), (got, want)


@pytest.mark.parametrize(("name", "f", "xs"), [c for c in CASES if math.isfinite(sum(c[2]))],
                         ids=[f"{n}{xs}" for n, _, xs in CASES if math.isfinite(sum(xs))])
def test_torch_file_value_and_gradient_equal_the_rule(name, f, xs):
    torch = pytest.importorskip("torch")
    out, vs, names = _graph(f, xs)
    want = [float(g) for g in gradients(out, vs)]
    ns: dict = {}
    exec(compile(to_torch_source(out, inputs=names), "<exported>", "exec"), ns)  # our own output
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    o = ns["formula"](*ts)
    got = [float(g) for g in torch.autograd.grad(o, ts)]
    assert _close(float(o.detach()), out.data)
    assert all(map(_close, got, want)), (got, want)


def test_logaddexp_ties_are_one_half_in_jax():
    jf = to_jax(*(lambda o, v, n: (o, n))(*_graph(logaddexp, (1e17, 1e17))))
    assert [float(g) for g in jax.grad(jf, argnums=(0, 1))(1e17, 1e17)] == [0.5, 0.5]


@pytest.mark.parametrize("xs", [(0.3, -1.2), (2.0, 2.0), (1e10, 1e10 - 3.0)])
def test_logaddexp_second_derivatives_in_jax_equal_create_graph(xs):
    out, vs, names = _graph(logaddexp, xs)
    g = gradients(out, vs, create_graph=True)
    want = [[float(getattr(h, "data", h)) for h in gradients(gi, vs)] for gi in g]
    jf = to_jax(out, inputs=names)
    H = jax.hessian(jf, argnums=(0, 1))(*xs)
    got = [[float(H[i][j]) for j in range(2)] for i in range(2)]
    for i in range(2):
        for j in range(2):
            assert abs(got[i][j] - want[i][j]) <= 1e-12 * max(1.0, abs(want[i][j])), (got, want)
